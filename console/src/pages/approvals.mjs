// The approvals inbox (API §15): each side-effecting call waiting for a
// person, with its exact arguments; approve runs exactly that call once,
// deny (with an optional reason) never runs it.
import { html } from "../lib/h.mjs";
import { useState } from "preact/hooks";
import { seg } from "../lib/api.mjs";
import { go, href } from "../lib/router.mjs";
import { ErrorNote, Json, StatusBadge, Time } from "../lib/format.mjs";
import { useAction, useLoad } from "../lib/load.mjs";

function Approval({ api, a }) {
  const [reason, setReason] = useState("");
  const [outcome, setOutcome] = useState(null);
  const [act, busy, error] = useAction();
  const decide = (verb) =>
    !busy &&
    act(async () => {
      const body = verb === "deny" && reason.trim() ? { reason: reason.trim() } : {};
      const r = await api.post(`/v1/approvals/${seg(a.id)}/${verb}`, body);
      // The item stays (with its outcome) until the list is refreshed.
      setOutcome(r);
    });
  const shown = outcome || a;
  const tc = outcome && outcome.tool_call;
  return html`<li class="approval" data-approval=${a.id} aria-labelledby=${`ap-${a.id}`}>
    <h2 id=${`ap-${a.id}`}><code>${a.tool}</code> for <strong>${a.consumer}</strong> <${StatusBadge} status=${shown.status} /></h2>
    <dl class="facts">
      <dt>Connector</dt><dd><a href=${href(["connectors", a.connector_id])}><code>${a.connector_id}</code></a> · <code>${a.capability}</code></dd>
      <dt>Asked</dt><dd><${Time} t=${a.created_at} /></dd>
      <dt>${shown.status === "pending" ? "Expires" : "Decided"}</dt><dd><${Time} t=${shown.status === "pending" ? a.expires_at : shown.decided_at} /></dd>
      ${shown.reason ? html`<dt>Reason</dt><dd>${shown.reason}</dd>` : null}
      <dt>Arguments</dt><dd><${Json} value=${a.arguments} label=${`Arguments of ${a.tool}`} /><span class="muted small">SHA-256 <code>${a.arguments_sha256}</code></span></dd>
    </dl>
    ${a.status === "pending" && !outcome
      ? html`<div class="decide">
          <button type="button" onClick=${() => decide("approve")} aria-disabled=${busy ? "true" : undefined}>Approve and run</button>
          <div class="field">
            <label for=${`reason-${a.id}`}>Reason for denying (optional)</label>
            <textarea id=${`reason-${a.id}`} rows="2" maxlength="1000" value=${reason} onInput=${(ev) => setReason(ev.currentTarget.value)}></textarea>
          </div>
          <button type="button" class="danger" onClick=${() => decide("deny")} aria-disabled=${busy ? "true" : undefined}>Deny</button>
        </div>`
      : null}
    <${ErrorNote} error=${error} />
    ${tc
      ? html`<p class="outcome" role="status">The call is now <${StatusBadge} status=${tc.status} />${tc.error && tc.error.message ? `: ${tc.error.message}` : ""}
          ${typeof tc.latency_ms === "number" ? ` (${tc.latency_ms} ms)` : ""} — receipt <code>${tc.id}</code>.</p>`
      : null}
  </li>`;
}

export function Approvals({ api, params }) {
  const status = params.status === undefined ? "pending" : params.status;
  const list = useLoad(() => api.get("/v1/approvals", { status: status === "all" ? undefined : status, limit: 50 }), [api, status]);
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title" tabindex="-1">Approvals</h1>
    <form class="filters" onSubmit=${(ev) => ev.preventDefault()}>
      <div class="field">
        <label for="ap-status">Show</label>
        <select id="ap-status" value=${status} onChange=${(ev) => go(["approvals"], { status: ev.currentTarget.value || "all" })}>
          <option value="pending">Pending</option>
          <option value="approved">Approved</option>
          <option value="denied">Denied</option>
          <option value="expired">Expired</option>
          <option value="all">All</option>
        </select>
      </div>
      <div class="actions"><button type="button" class="secondary" onClick=${list.reload}>Refresh</button></div>
    </form>
    <${ErrorNote} error=${list.error} />
    ${list.loading && !list.data ? html`<p role="status">Loading…</p>` : null}
    ${list.data && list.data.data.length === 0 ? html`<p>Nothing ${status === "all" ? "here" : status} right now.</p>` : null}
    ${list.data
      ? html`<ul class="approvals plain">${list.data.data.map((a) => html`<${Approval} key=${a.id} api=${api} a=${a} />`)}</ul>`
      : null}
  </section>`;
}
