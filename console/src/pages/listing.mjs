// One listing: description, capabilities, tools with their side-effect
// badges, the auth mode and its fields, every published version.
import { html } from "../lib/h.mjs";
import { seg } from "../lib/api.mjs";
import { href } from "../lib/router.mjs";
import { Badge, ErrorNote, Icon, price, SideEffect, Time } from "../lib/format.mjs";
import { useLoad } from "../lib/load.mjs";

const MODES = {
  pat: "Personal access token",
  api_key: "API key",
  basic: "Username and password",
  conn_string: "Connection string",
  oauth2: "OAuth 2.0 (bring your own app)",
  mcp_oauth: "MCP OAuth (discovered, registered dynamically)",
  none: "No credentials",
};

export function Listing({ api, id }) {
  const m = useLoad(() => api.get(`/v1/catalog/${seg(id)}`), [api, id]);
  const versions = useLoad(() => api.get(`/v1/catalog/${seg(id)}/versions`), [api, id]);
  if (m.loading) return html`<h1 id="page-title" tabindex="-1">Listing</h1><p role="status">Loading…</p>`;
  if (m.error) return html`<h1 id="page-title" tabindex="-1">Listing ${id}</h1><${ErrorNote} error=${m.error} />`;
  const l = m.data;
  const auth = l.auth || {};
  const tools = Array.isArray(l.tools) ? l.tools : [];
  return html`<article aria-labelledby="page-title" class="listing" style=${{ "--brand": /^#[0-9a-fA-F]{6}$/.test(l.brand_color) ? l.brand_color : "#555555" }}>
    <p class="crumbs"><a href=${href(["catalog"])}>Catalog</a> / ${l.name}</p>
    <header class="listing-head">
      <${Icon} listing=${l} size=${56} />
      <div>
        <h1 id="page-title" tabindex="-1">${l.name}</h1>
        <p class="badges">
          ${l.featured ? html`<${Badge} kind="featured">Featured</${Badge}>` : null}
          ${l.availability === "early_access" ? html`<${Badge} kind="warn">Early access</${Badge}>` : null}
          <${Badge} kind=${l.pricing && l.pricing.model === "paid" ? "paid" : ""}>${price(l.pricing)}</${Badge}>
          <${Badge}>${l.category}</${Badge}> <${Badge}>${l.kind}</${Badge}> <${Badge}>${l.transport}</${Badge}>
          <${Badge}>v${l.version}</${Badge}>
        </p>
      </div>
    </header>
    <p class="lead">${l.description}</p>
    <p class="actions">
      ${l.availability === "early_access"
        ? html`<span class="notice warn">Early access: not installable yet.</span>`
        : html`<a class="button" href=${href(["install", l.id])}>Install ${l.name}</a>`}
      ${typeof l.docs_url === "string" && /^https:\/\//.test(l.docs_url)
        ? html`<a class="button secondary" href=${l.docs_url} rel="noopener noreferrer" target="_blank">Provider docs<span class="sr-only"> (opens a new tab)</span></a>`
        : null}
    </p>

    <h2>Authentication</h2>
    <p>${MODES[auth.mode] || auth.mode}</p>
    ${Array.isArray(auth.fields) && auth.fields.length
      ? html`<ul class="plain">${auth.fields.map((f) => html`<li><strong>${f.label}</strong>${f.required ? "" : " (optional)"}${f.secret ? html` <${Badge}>secret</${Badge}>` : null}</li>`)}</ul>`
      : null}

    <h2>Capabilities</h2>
    <ul class="chips">${(l.capabilities || []).map((c) => html`<li><code>${c}</code></li>`)}</ul>

    <h2>Tools <span class="muted">(${tools.length})</span></h2>
    <div class="table-wrap" tabindex="0" role="region" aria-label="Tools">
      <table>
        <thead><tr><th scope="col">Tool</th><th scope="col">What it does</th><th scope="col">Capability</th><th scope="col">Effect</th></tr></thead>
        <tbody>
          ${tools.map((t) => html`<tr>
            <th scope="row"><code>${t.name}</code>${t.title ? html`<br /><span class="muted">${t.title}</span>` : null}</th>
            <td>${t.description}</td>
            <td><code>${t.capability}</code></td>
            <td><${SideEffect} tool=${t} /></td>
          </tr>`)}
        </tbody>
      </table>
    </div>

    <h2>Versions</h2>
    <${ErrorNote} error=${versions.error} />
    ${versions.data
      ? html`<ul class="plain">${versions.data.data.map((v) => html`<li><strong>${v.version}</strong>${v.latest ? html` <${Badge} kind="good">latest</${Badge}>` : null} — published <${Time} t=${v.published_at} /></li>`)}</ul>`
      : versions.loading ? html`<p role="status">Loading…</p>` : null}
  </article>`;
}
