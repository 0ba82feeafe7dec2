// Webhook endpoints (API §16, admin): create (the signing secret shown
// once), list, test, delete, and each endpoint's deliveries with every
// attempt.
import { html } from "../lib/h.mjs";
import { useState } from "preact/hooks";
import { seg } from "../lib/api.mjs";
import { go, href } from "../lib/router.mjs";
import { ErrorNote, StatusBadge, Time } from "../lib/format.mjs";
import { useAction, useLoad } from "../lib/load.mjs";

const EVENTS = [
  "connector.installed", "connector.verified", "connector.authorized", "connector.updated", "connector.uninstalled",
  "connector.upgraded", "connector.health_changed", "connector.tested", "connector.tools_accepted",
  "binding.created", "binding.updated", "binding.deleted", "api_key.created", "api_key.revoked",
  "submission.created", "submission.approved", "submission.rejected",
  "approval.requested", "approval.approved", "approval.denied", "approval.expired", "tool_call.failed",
  "settings.updated", "webhook_endpoint.created", "webhook_endpoint.deleted", "webhook_endpoint.disabled",
];

function Create({ api, onCreated }) {
  const [url, setUrl] = useState("");
  const [description, setDescription] = useState("");
  const [every, setEvery] = useState(true);
  const [chosen, setChosen] = useState([]);
  const [created, setCreated] = useState(null);
  const [act, busy, error] = useAction();
  const param = error && error.param;
  const submit = (ev) => {
    ev.preventDefault();
    if (busy) return;
    act(async () => {
      const body = { url: url.trim(), events: every ? ["*"] : chosen };
      if (description.trim()) body.description = description.trim();
      const r = await api.post("/v1/webhook-endpoints", body);
      setCreated(r);
      setUrl("");
      setDescription("");
      onCreated();
    });
  };
  const toggle = (e) => setChosen((xs) => (xs.includes(e) ? xs.filter((x) => x !== e) : [...xs, e]));
  return html`<form class="card-form" novalidate onSubmit=${submit} aria-labelledby="wh-new">
    <h2 id="wh-new">New endpoint</h2>
    <div class=${`field${param === "url" ? " invalid" : ""}`}>
      <label for="wh-url">URL <span class="req" aria-hidden="true">*</span></label>
      <input id="wh-url" type="url" required value=${url} onInput=${(ev) => setUrl(ev.currentTarget.value)}
        aria-invalid=${param === "url" ? "true" : undefined} aria-describedby=${param === "url" ? "wh-url-error" : "wh-url-help"} placeholder="https://hooks.example.com/connectors" />
      ${param === "url" ? html`<p class="field-error" id="wh-url-error">${error.message}</p>` : null}
      <p class="help" id="wh-url-help">https; deliveries are signed the Standard Webhooks way.</p>
    </div>
    <div class="field">
      <label for="wh-desc">Description</label>
      <input id="wh-desc" value=${description} maxlength="500" onInput=${(ev) => setDescription(ev.currentTarget.value)} />
    </div>
    <fieldset class="group" aria-describedby=${param === "events" ? "wh-events-error" : undefined}>
      <legend>Events</legend>
      ${param === "events" ? html`<p class="field-error" id="wh-events-error">${error.message}</p>` : null}
      <div class="field field-check"><input id="wh-all" type="checkbox" checked=${every} onChange=${(ev) => setEvery(ev.currentTarget.checked)} /><label for="wh-all">Every event</label></div>
      ${every
        ? null
        : html`<div class="checks">${EVENTS.map((e) => html`<div class="field field-check">
            <input id=${`wh-e-${e}`} type="checkbox" checked=${chosen.includes(e)} onChange=${() => toggle(e)} />
            <label for=${`wh-e-${e}`}><code>${e}</code></label></div>`)}</div>`}
    </fieldset>
    ${error && param !== "url" && param !== "events" ? html`<${ErrorNote} error=${error} />` : null}
    <div class="actions"><button type="submit" aria-disabled=${busy ? "true" : undefined}>Create endpoint</button></div>
    ${created
      ? html`<div class="notice good" role="status"><p>Endpoint <code>${created.id}</code> created. Its signing secret, shown only now:</p>
          <p><code class="secret">${created.secret}</code></p></div>`
      : null}
  </form>`;
}

export function Webhooks({ api }) {
  const list = useLoad(() => api.get("/v1/webhook-endpoints", { limit: 100 }), [api]);
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title" tabindex="-1">Webhooks</h1>
    <${ErrorNote} error=${list.error} />
    ${list.error && list.error.status === 403 ? html`<p class="help">Webhook endpoints are managed with an admin key.</p>` : null}
    ${list.data && list.data.data.length === 0 ? html`<p>No endpoint yet.</p>` : null}
    ${list.data && list.data.data.length
      ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Webhook endpoints">
          <table>
            <thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Status</th><th scope="col">Created</th></tr></thead>
            <tbody>${list.data.data.map((w) => html`<tr>
              <th scope="row"><a href=${href(["webhooks", w.id])}>${w.url}</a>${w.description ? html`<br /><span class="muted small">${w.description}</span>` : null}</th>
              <td>${w.events.join(", ")}</td>
              <td><${StatusBadge} status=${w.status} /></td>
              <td><${Time} t=${w.created_at} /></td>
            </tr>`)}</tbody>
          </table>
        </div>`
      : null}
    ${list.error && list.error.status === 403 ? null : html`<${Create} api=${api} onCreated=${list.reload} />`}
  </section>`;
}

export function Webhook({ api, id }) {
  const w = useLoad(() => api.get(`/v1/webhook-endpoints/${seg(id)}`), [api, id]);
  const deliveries = useLoad(() => api.get(`/v1/webhook-endpoints/${seg(id)}/deliveries`, { limit: 50 }), [api, id]);
  const [confirming, setConfirming] = useState(false);
  const [sent, setSent] = useState(null);
  const [act, busy, error] = useAction();
  if (w.loading && !w.data) return html`<h1 id="page-title" tabindex="-1">Webhook endpoint</h1><p role="status">Loading…</p>`;
  if (w.error) return html`<h1 id="page-title" tabindex="-1">Webhook endpoint</h1><${ErrorNote} error=${w.error} />`;
  const e = w.data;
  const test = () => !busy && act(async () => { setSent(await api.post(`/v1/webhook-endpoints/${seg(id)}/test`)); deliveries.reload(); });
  const remove = () => !busy && act(async () => { await api.del(`/v1/webhook-endpoints/${seg(id)}`); go(["webhooks"], {}); });
  return html`<article aria-labelledby="page-title">
    <p class="crumbs"><a href=${href(["webhooks"])}>Webhooks</a> / ${e.id}</p>
    <h1 id="page-title" tabindex="-1">${e.url}</h1>
    <p class="badges"><${StatusBadge} status=${e.status} /> ${e.disabled_reason ? html`<span class="muted">${e.disabled_reason}</span>` : null}</p>
    <dl class="facts">
      <dt>Events</dt><dd>${e.events.join(", ")}</dd>
      ${e.description ? html`<dt>Description</dt><dd>${e.description}</dd>` : null}
      <dt>Created</dt><dd><${Time} t=${e.created_at} /></dd>
    </dl>
    <div class="actions">
      <button type="button" onClick=${test} aria-disabled=${busy ? "true" : undefined}>Send a test event</button>
      <button type="button" class="secondary" onClick=${deliveries.reload}>Refresh deliveries</button>
      ${confirming
        ? html`<button type="button" class="danger" onClick=${remove}>Confirm delete</button> <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Keep it</button>`
        : html`<button type="button" class="secondary" onClick=${() => setConfirming(true)}>Delete…</button>`}
    </div>
    <${ErrorNote} error=${error} />
    ${sent ? html`<p class="notice" role="status">Test delivery <code>${sent.id}</code>: <${StatusBadge} status=${sent.status} /></p>` : null}
    <h2>Deliveries</h2>
    <${ErrorNote} error=${deliveries.error} />
    ${deliveries.data && deliveries.data.data.length === 0 ? html`<p class="muted">No delivery yet.</p>` : null}
    ${deliveries.data
      ? html`<ol class="deliveries plain">${deliveries.data.data.map((d) => html`<li>
          <h3><code>${d.event_type}</code> <${StatusBadge} status=${d.status} /> <span class="muted small"><${Time} t=${d.created_at} /></span></h3>
          ${d.next_attempt_at ? html`<p class="muted small">Next attempt <${Time} t=${d.next_attempt_at} /></p>` : null}
          <div class="table-wrap" tabindex="0" role="region" aria-label=${`Attempts of ${d.id}`}>
            <table>
              <thead><tr><th scope="col">Attempted</th><th scope="col">Answer</th><th scope="col">Latency</th></tr></thead>
              <tbody>${d.attempts.map((a) => html`<tr><td><${Time} t=${a.attempted_at} /></td><td>${a.status_code !== null ? `HTTP ${a.status_code}` : a.error || "no answer"}</td><td>${a.latency_ms} ms</td></tr>`)}</tbody>
            </table>
          </div>
        </li>`)}</ol>`
      : null}
  </article>`;
}
