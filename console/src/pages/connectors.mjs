// Installed connectors: the list (status, health, last check) and one
// connector's page (config, health with a latency chart, Test with per-tool
// results, its tool calls and events).
import { html } from "../lib/h.mjs";
import { useEffect, useState } from "preact/hooks";
import { safeHttpUrl, seg } from "../lib/api.mjs";
import { go, href } from "../lib/router.mjs";
import { Badge, ErrorNote, Health, Json, SideEffect, StatusBadge, Time } from "../lib/format.mjs";
import { useAction, useLoad } from "../lib/load.mjs";
import { LatencyChart } from "../lib/chart.mjs";

export function Connectors({ api, params }) {
  const status = params.status || "";
  const [cursor, setCursor] = useState(null);
  const [items, setItems] = useState([]);
  const list = useLoad(() => api.get("/v1/connectors", { status, limit: 50, cursor }), [api, status, cursor]);
  useEffect(() => setItems([]), [status]);
  useEffect(() => {
    if (list.data) setItems((xs) => (cursor ? [...xs, ...list.data.data] : list.data.data));
  }, [list.data]);
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title" tabindex="-1">Connectors</h1>
    <form class="filters" onSubmit=${(ev) => ev.preventDefault()}>
      <div class="field">
        <label for="cn-status">Status</label>
        <select id="cn-status" value=${status} onChange=${(ev) => { setCursor(null); go(["connectors"], { status: ev.currentTarget.value }); }}>
          <option value="">Any status</option>
          <option value="connected">connected</option>
          <option value="pending_auth">pending auth</option>
          <option value="error">error</option>
        </select>
      </div>
      <div class="actions"><a class="button" href=${href(["catalog"])}>Install from the catalog</a></div>
    </form>
    <${ErrorNote} error=${list.error} />
    ${list.loading && items.length === 0 ? html`<p role="status">Loading…</p>` : null}
    ${!list.loading && items.length === 0 && !list.error ? html`<p>No connector installed yet. <a href=${href(["catalog"])}>Browse the catalog</a>.</p>` : null}
    ${items.length
      ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Installed connectors">
          <table>
            <thead><tr><th scope="col">Name</th><th scope="col">Listing</th><th scope="col">Status</th><th scope="col">Health</th><th scope="col">Last check</th><th scope="col">Latency</th></tr></thead>
            <tbody>
              ${items.map((c) => html`<tr key=${c.id}>
                <th scope="row"><a href=${href(["connectors", c.id])}>${c.name}</a></th>
                <td>${c.listing} <span class="muted">v${c.listing_version}</span></td>
                <td><${StatusBadge} status=${c.status} /></td>
                <td><${Health} health=${c.health} />${c.health && c.health.message ? html`<br /><span class="muted small">${c.health.message}</span>` : null}</td>
                <td><${Time} t=${c.health && c.health.last_check} /></td>
                <td>${c.health && typeof c.health.latency_ms === "number" ? `${c.health.latency_ms} ms` : "—"}</td>
              </tr>`)}
            </tbody>
          </table>
        </div>`
      : null}
    ${list.data && list.data.has_more
      ? html`<p class="more"><button type="button" class="secondary" onClick=${() => setCursor(list.data.next_cursor)}>Load more</button></p>`
      : null}
  </section>`;
}

function TestResults({ result }) {
  if (!result) return null;
  return html`<div class="test-results" aria-labelledby="test-title">
    <h3 id="test-title" tabindex="-1">Test: <${StatusBadge} status=${result.status} /></h3>
    <div class="table-wrap" tabindex="0" role="region" aria-label="Per-tool results">
      <table>
        <thead><tr><th scope="col">Tool</th><th scope="col">Mode</th><th scope="col">Result</th><th scope="col">Latency</th><th scope="col">Details</th></tr></thead>
        <tbody>
          ${result.results.map((r) => html`<tr class="test-row" data-tool=${r.tool}>
            <th scope="row"><code>${r.tool}</code></th>
            <td>${r.mode === "live" ? "live" : "dry run"}</td>
            <td>${r.ok === true ? html`<${Badge} kind="good">ok</${Badge}>` : r.ok === false ? html`<${Badge} kind="bad">failed</${Badge}>` : html`<${Badge} kind="warn">not run</${Badge}>`}</td>
            <td>${typeof r.latency_ms === "number" ? `${r.latency_ms} ms` : "—"}</td>
            <td>${r.error || r.output || ""}</td>
          </tr>`)}
        </tbody>
      </table>
    </div>
  </div>`;
}

export function Connector({ api, id, params }) {
  const c = useLoad(() => api.get(`/v1/connectors/${seg(id)}`), [api, id]);
  const calls = useLoad(() => api.get("/v1/tool-calls", { connector_id: id, limit: 50 }), [api, id]);
  const events = useLoad(() => api.get("/v1/events", { connector_id: id, limit: 50 }), [api, id]);
  const checks = useLoad(() => api.get(`/v1/connectors/${seg(id)}/health-checks`, { limit: 100 }), [api, id]);
  const [health, setHealth] = useState(null);
  const [test, setTest] = useState(null);
  const [confirming, setConfirming] = useState(false);
  const [act, busy, error] = useAction();

  if (c.loading && !c.data) return html`<h1 id="page-title" tabindex="-1">Connector</h1><p role="status">Loading…</p>`;
  if (c.error) return html`<h1 id="page-title" tabindex="-1">Connector ${id}</h1><${ErrorNote} error=${c.error} />`;
  const cn = c.data;
  const h = health || cn.health || {};
  const oauth = cn.auth && (cn.auth.type === "oauth2" || cn.auth.type === "mcp_oauth");

  const checkNow = () =>
    !busy &&
    act(async () => {
      const r = await api.get(`/v1/connectors/${seg(id)}/health`);
      setHealth(r);
      checks.reload();
      events.reload();
    });
  const runTest = () =>
    !busy &&
    act(async () => {
      setTest(null);
      const r = await api.post(`/v1/connectors/${seg(id)}/test`, {});
      setTest(r);
      events.reload();
      calls.reload();
      checks.reload();
      requestAnimationFrame(() => document.getElementById("test-title")?.focus());
    });
  const consent = () =>
    !busy &&
    act(async () => {
      const r = await api.post(`/v1/connectors/${seg(id)}/authorize`);
      const to = safeHttpUrl(r.authorize_url);
      if (to) window.location.assign(to);
    });
  const uninstall = () =>
    !busy &&
    act(async () => {
      await api.del(`/v1/connectors/${seg(id)}`);
      go(["connectors"], {});
    });

  const checkPoints = ((checks.data && checks.data.data) || [])
    .filter((x) => typeof x.latency_ms === "number")
    .map((x) => ({ t: Date.parse(x.checked_at), ms: x.latency_ms, bad: x.healthy === false }));
  const callPoints = ((calls.data && calls.data.data) || [])
    .filter((x) => typeof x.latency_ms === "number")
    .map((x) => ({ t: Date.parse(x.created_at), ms: x.latency_ms, bad: x.status === "failed" }));

  return html`<article aria-labelledby="page-title">
    <p class="crumbs"><a href=${href(["connectors"])}>Connectors</a> / ${cn.name}</p>
    <h1 id="page-title" tabindex="-1">${cn.name}</h1>
    ${params.returned ? html`<p class="notice" role="status">Back from the provider's consent: status ${params.returned}.</p>` : null}
    ${params.installed ? html`<p class="notice good" role="status">Installed.</p>` : null}
    <p class="badges">
      <${StatusBadge} status=${cn.status} /> <${Health} health=${h} />
      <a href=${href(["listing", cn.listing])}>${cn.listing}</a> <span class="muted">v${cn.listing_version}${cn.listing_status === "delisted" ? " (de-listed)" : ""}</span>
    </p>
    <div class="actions">
      <button type="button" onClick=${runTest} aria-disabled=${busy ? "true" : undefined}>Run test</button>
      <button type="button" class="secondary" onClick=${checkNow} aria-disabled=${busy ? "true" : undefined}>Check health now</button>
      ${oauth && cn.status !== "connected" ? html`<button type="button" class="secondary" onClick=${consent}>Connect again (consent)</button>` : null}
      ${confirming
        ? html`<button type="button" class="danger" onClick=${uninstall}>Confirm uninstall</button>
               <button type="button" class="secondary" onClick=${() => setConfirming(false)}>Keep it</button>`
        : html`<button type="button" class="secondary" onClick=${() => setConfirming(true)}>Uninstall…</button>`}
    </div>
    <p role="status" aria-live="polite" class="muted">${busy ? "Working…" : ""}</p>
    <${ErrorNote} error=${error} />
    <${TestResults} result=${test} />

    <h2>Health</h2>
    <dl class="facts">
      <dt>Last check</dt><dd><${Time} t=${h.last_check} /></dd>
      <dt>Latency</dt><dd>${typeof h.latency_ms === "number" ? `${h.latency_ms} ms` : "—"}</dd>
      ${h.message ? html`<dt>Message</dt><dd>${h.message}</dd>` : null}
    </dl>
    <${ErrorNote} error=${checks.error} />
    <div class="health-history" data-checks=${checks.data ? checks.data.data.length : undefined}>
      <${LatencyChart} title="Latency" series=${[
        { label: "Health checks", className: "s-health", points: checkPoints },
        { label: "Tool calls", className: "s-calls", points: callPoints },
      ]} />
    </div>
    <p class="help">Health checks: every check the API recorded (on demand, tests, the sweep; the newest 100). Tool calls: each receipt's latency. Failed ones are drawn hollow.</p>

    <h2>Configuration</h2>
    <dl class="facts">
      ${Object.entries(cn.config || {}).map(([k, v]) => html`<dt>${k}</dt><dd>${typeof v === "object" ? html`<${Json} value=${v} label=${k} />` : String(v)}</dd>`)}
      <dt>Credential</dt><dd>${cn.auth.type}${cn.auth.hint ? html` · <code>${cn.auth.hint}</code>` : null}</dd>
      ${cn.crew_id ? html`<dt>Crew</dt><dd>${cn.crew_id}</dd>` : null}
      <dt>Installed</dt><dd><${Time} t=${cn.created_at} /></dd>
      <dt>Id</dt><dd><code>${cn.id}</code></dd>
    </dl>

    <h2>Tools</h2>
    <ul class="plain">${cn.tools.map((t) => html`<li><code>${t.name}</code> <${SideEffect} tool=${t} /> <span class="muted">${t.capability}</span></li>`)}</ul>

    <h2>Tool calls</h2>
    <${ErrorNote} error=${calls.error} />
    ${calls.data && calls.data.data.length === 0 ? html`<p class="muted">No tool call yet.</p>` : null}
    ${calls.data && calls.data.data.length
      ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Tool calls">
          <table>
            <thead><tr><th scope="col">When</th><th scope="col">Tool</th><th scope="col">Mode</th><th scope="col">Status</th><th scope="col">Consumer</th><th scope="col">Latency</th></tr></thead>
            <tbody>${calls.data.data.map((x) => html`<tr>
              <td><${Time} t=${x.created_at} /></td><td><code>${x.tool}</code></td><td>${x.mode}</td>
              <td><${StatusBadge} status=${x.status} />${x.error && x.error.message ? html`<br /><span class="muted small">${x.error.message}</span>` : null}</td>
              <td>${x.consumer || html`<span class="muted">manager</span>`}</td>
              <td>${typeof x.latency_ms === "number" ? `${x.latency_ms} ms` : "—"}</td>
            </tr>`)}</tbody>
          </table>
        </div>`
      : null}

    <h2>Events</h2>
    <${ErrorNote} error=${events.error} />
    ${events.data
      ? html`<ol class="events">${events.data.data.map((e) => html`<li>
          <${Time} t=${e.created_at} /> <code>${e.type}</code>${" "}
          <span class="muted small">${Object.entries(e.data || {}).filter(([, v]) => v !== null && typeof v !== "object").map(([k, v]) => `${k}: ${v}`).join(" · ")}</span>
        </li>`)}</ol>`
      : null}
  </article>`;
}
