// Small display helpers shared by the pages.
import { html } from "./h.mjs";
import { useState } from "preact/hooks";

export function price(p) {
  if (!p || p.model !== "paid") return "Free";
  const amount = (p.amount_cents || 0) / 100;
  let money;
  try {
    money = new Intl.NumberFormat(undefined, { style: "currency", currency: (p.currency || "usd").toUpperCase() }).format(amount);
  } catch {
    money = `${amount.toFixed(2)} ${(p.currency || "").toUpperCase()}`;
  }
  const per = { month: " / month", year: " / year", one_time: " once" }[p.interval] || "";
  return `${money}${per}`;
}

export function when(t) {
  if (!t) return "never";
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

export function Time({ t }) {
  return t ? html`<time datetime=${t}>${when(t)}</time>` : html`<span class="muted">never</span>`;
}

export function Badge({ kind = "", children }) {
  return html`<span class=${`badge ${kind}`}>${children}</span>`;
}

export function StatusBadge({ status }) {
  const kind =
    { connected: "good", succeeded: "good", passed: "good", approved: "good", enabled: "good",
      pending_auth: "warn", pending: "warn", pending_approval: "warn", unverified: "warn",
      error: "bad", failed: "bad", denied: "bad", expired: "bad", disabled: "bad", canceled: "bad" }[status] || "";
  return html`<${Badge} kind=${kind}>${String(status).replace(/_/g, " ")}</${Badge}>`;
}

export function Health({ health }) {
  if (!health || health.healthy === null || health.healthy === undefined)
    return html`<${Badge} kind="">not checked</${Badge}>`;
  return health.healthy
    ? html`<${Badge} kind="good">healthy</${Badge}>`
    : html`<${Badge} kind="bad">unhealthy</${Badge}>`;
}

export function SideEffect({ tool }) {
  if (!tool.side_effect) return html`<${Badge} kind="read">read only</${Badge}>`;
  return tool.destructive
    ? html`<${Badge} kind="bad">side effect · destructive</${Badge}>`
    : html`<${Badge} kind="warn">side effect</${Badge}>`;
}

/** A JSON value shown as text (escaped like every other text). */
export function Json({ value, label }) {
  return html`<pre class="json" tabindex="0" aria-label=${label || "JSON"}>${JSON.stringify(value, null, 2)}</pre>`;
}

export function ErrorNote({ error }) {
  if (!error) return null;
  return html`<p class="form-error" role="alert">${error.message}${error.requestId
    ? html` <span class="muted">(request ${error.requestId})</span>`
    : null}</p>`;
}

/** An icon from the catalog, or the listing's initial on its brand colour. */
export function Icon({ listing, size = 40 }) {
  const [state, setState] = useState("loading");
  const color = /^#[0-9a-fA-F]{6}$/.test(listing.brand_color || "") ? listing.brand_color : "#555555";
  const url = typeof listing.icon === "string" && /^https:\/\//.test(listing.icon) ? listing.icon : null;
  return html`<span class="icon" style=${{ "--brand": color, width: `${size}px`, height: `${size}px` }} aria-hidden="true">
    <span class="icon-letter">${(listing.name || listing.id || "?").charAt(0).toUpperCase()}</span>
    ${url && state !== "failed"
      ? html`<img src=${url} alt="" width=${size} height=${size} loading="lazy" referrerpolicy="no-referrer"
          class=${state === "loaded" ? "loaded" : undefined}
          onLoad=${() => setState("loaded")} onError=${() => setState("failed")} />`
      : null}
  </span>`;
}
