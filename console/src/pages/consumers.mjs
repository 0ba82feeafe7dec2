// Consumers (the agents, operators and workflows named by bindings): each
// with its assembled tools and a copyable MCP client configuration. The
// configuration never carries the signed-in key: it holds a placeholder, or
// an agent key an admin mints here for that consumer (shown once).
import { html } from "../lib/h.mjs";
import { useState } from "preact/hooks";
import { all, seg } from "../lib/api.mjs";
import { href } from "../lib/router.mjs";
import { Badge, ErrorNote, SideEffect } from "../lib/format.mjs";
import { useAction, useLoad } from "../lib/load.mjs";

const PLACEHOLDER = "mk_YOUR_AGENT_KEY";

export function Consumers({ api }) {
  const bindings = useLoad(() => all(api, "/v1/bindings"), [api]);
  const by = new Map();
  for (const b of bindings.data || []) {
    if (!by.has(b.consumer)) by.set(b.consumer, []);
    by.get(b.consumer).push(b);
  }
  const names = [...by.keys()].sort((a, b) => a.localeCompare(b));
  return html`<section aria-labelledby="page-title">
    <h1 id="page-title" tabindex="-1">Consumers</h1>
    <p class="help">A consumer is an agent, operator or workflow; its bindings grant it capabilities, and its MCP endpoint shows the tools they assemble.</p>
    <${ErrorNote} error=${bindings.error} />
    ${bindings.loading ? html`<p role="status">Loading…</p>` : null}
    ${bindings.data && names.length === 0 ? html`<p>No binding yet: bind a consumer to a capability with <code>POST /v1/bindings</code>.</p>` : null}
    <ul class="plain list-links">
      ${names.map((n) => html`<li><a href=${href(["consumers", n])}>${n}</a> <span class="muted">${by.get(n).length} binding${by.get(n).length === 1 ? "" : "s"}: ${by.get(n).map((b) => b.capability).join(", ")}</span></li>`)}
    </ul>
  </section>`;
}

function snippets(url, key) {
  const k = key || PLACEHOLDER;
  return {
    "Claude Code": {
      file: "a terminal",
      text: `claude mcp add --transport http connectors ${url} --header "Authorization: Bearer ${k}"`,
    },
    "Claude Desktop": {
      file: "claude_desktop_config.json",
      text: JSON.stringify(
        { mcpServers: { connectors: { command: "npx", args: ["-y", "mcp-remote", url, "--header", "Authorization:${AGENT_KEY}"], env: { AGENT_KEY: `Bearer ${k}` } } } },
        null,
        2,
      ),
    },
    Cursor: {
      file: ".cursor/mcp.json (or ~/.cursor/mcp.json)",
      text: JSON.stringify({ mcpServers: { connectors: { url, headers: { Authorization: `Bearer ${k}` } } } }, null, 2),
    },
    "VS Code": {
      file: ".vscode/mcp.json (VS Code asks for the key and keeps it in its secret storage)",
      text: JSON.stringify(
        {
          inputs: [{ type: "promptString", id: "agent-key", description: "Agent key (mk_…)", password: true }],
          servers: { connectors: { type: "http", url, headers: { Authorization: "Bearer ${input:agent-key}" } } },
        },
        null,
        2,
      ),
    },
  };
}

function Copy({ text, label }) {
  const [done, setDone] = useState("");
  async function copy() {
    try {
      await navigator.clipboard.writeText(text);
      setDone("Copied.");
    } catch {
      setDone("Copying is not allowed here: select the text and copy it.");
    }
  }
  return html`<button type="button" class="secondary small" onClick=${copy}>Copy ${label}</button>
    <span role="status" class="muted small">${done}</span>`;
}

function McpConfig({ api, consumer, admin }) {
  const [client, setClient] = useState("Claude Code");
  const [minted, setMinted] = useState(null);
  const [act, busy, error] = useAction();
  const url = `${api.base}/v1/mcp`;
  const options = snippets(url, minted && minted.secret);
  const s = options[client];
  const mint = () =>
    !busy &&
    act(async () => {
      const k = await api.post("/v1/api-keys", { role: "agent", consumer, name: `MCP client for ${consumer}` });
      setMinted(k);
    });
  return html`<section aria-labelledby="mcp-title" class="mcp">
    <h2 id="mcp-title">Connect an MCP client</h2>
    <p>Endpoint (streamable HTTP): <code>${url}</code>, with an <strong>agent key</strong> of <code>${consumer}</code> as a Bearer token.</p>
    ${minted
      ? html`<div class="notice good" role="status">
          <p>Agent key <code>${minted.id}</code> for ${consumer}. Copy it now: it is shown only once.</p>
          <p><code class="secret" id="minted-secret">${minted.secret}</code> <${Copy} text=${minted.secret} label="the key" /></p>
        </div>`
      : html`<p class="help">Replace <code>${PLACEHOLDER}</code> with an agent key for this consumer. An admin mints one with
          <code>POST /v1/api-keys {"role": "agent", "consumer": ${JSON.stringify(consumer)}}</code>${admin ? " or with the button below" : ""}. Never use your own key here.</p>
          ${admin ? html`<p><button type="button" onClick=${mint} aria-disabled=${busy ? "true" : undefined}>Mint an agent key for ${consumer}</button></p>` : null}`}
    <${ErrorNote} error=${error} />
    <div class="field">
      <label for="mcp-client">Client</label>
      <select id="mcp-client" value=${client} onChange=${(ev) => setClient(ev.currentTarget.value)}>
        ${Object.keys(options).map((n) => html`<option value=${n}>${n}</option>`)}
      </select>
    </div>
    <p class="help">In ${s.file}:</p>
    <pre class="code" tabindex="0" aria-label=${`${client} configuration`}>${s.text}</pre>
    <p><${Copy} text=${s.text} label="configuration" /></p>
    <p class="help">Side-effecting tools need an idempotency key per action in <code>params._meta["dev.connector-marketplace/idempotency_key"]</code>; the bindings' policies decide whether a person approves them first.</p>
  </section>`;
}

export function Consumer({ api, consumer, admin }) {
  const tools = useLoad(() => all(api, `/v1/consumers/${seg(consumer)}/tools`), [api, consumer]);
  const extra = useLoad(() => api.get(`/v1/consumers/${seg(consumer)}/tools`, { limit: 1 }), [api, consumer]);
  const bindings = useLoad(() => all(api, "/v1/bindings"), [api]);
  const mine = (bindings.data || []).filter((b) => b.consumer === consumer);
  const withheld = (extra.data && extra.data.withheld) || [];
  const unserved = (extra.data && extra.data.unserved_bindings) || [];
  return html`<article aria-labelledby="page-title">
    <p class="crumbs"><a href=${href(["consumers"])}>Consumers</a> / ${consumer}</p>
    <h1 id="page-title" tabindex="-1">${consumer}</h1>

    <h2>Bindings</h2>
    <${ErrorNote} error=${bindings.error} />
    <div class="table-wrap" tabindex="0" role="region" aria-label="Bindings">
      <table>
        <thead><tr><th scope="col">Capability</th><th scope="col">Alias</th><th scope="col">Pinned to</th><th scope="col">Policy</th><th scope="col">Rate limit</th></tr></thead>
        <tbody>${mine.map((b) => html`<tr>
          <th scope="row"><code>${b.capability}</code>${unserved.includes(b.id) ? html` <${Badge} kind="warn">not served</${Badge}>` : null}</th>
          <td><code>${b.alias}</code></td>
          <td>${b.connector_id ? html`<a href=${href(["connectors", b.connector_id])}><code>${b.connector_id}</code></a>` : html`<span class="muted">any connected instance</span>`}</td>
          <td>${b.policy || html`<span class="muted">tenant default</span>`}</td>
          <td>${b.rate_limit ? `${b.rate_limit.per_minute} / min` : "—"}</td>
        </tr>`)}</tbody>
      </table>
    </div>

    <h2>Tools <span class="muted">(${tools.data ? tools.data.length : "…"})</span></h2>
    <${ErrorNote} error=${tools.error} />
    ${tools.data
      ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Assembled tools">
          <table>
            <thead><tr><th scope="col">Name</th><th scope="col">What it does</th><th scope="col">Effect</th><th scope="col">Served by</th></tr></thead>
            <tbody>${tools.data.map((t) => html`<tr>
              <th scope="row"><code>${t.name}</code></th>
              <td>${t.title}${t.description ? html`<br /><span class="muted small">${t.description}</span>` : null}</td>
              <td><${SideEffect} tool=${{ side_effect: t.side_effect, destructive: t.annotations && t.annotations.destructiveHint && t.side_effect }} /></td>
              <td>${t.listing} · <a href=${href(["connectors", t.connector_id])}><code>${t.connector_id}</code></a></td>
            </tr>`)}</tbody>
          </table>
        </div>`
      : null}
    ${withheld.length
      ? html`<h3>Withheld</h3><ul class="plain">${withheld.map((w) => html`<li><code>${w.name}</code>: ${w.reason}</li>`)}</ul>`
      : null}

    <${McpConfig} api=${api} consumer=${consumer} admin=${admin} />
  </article>`;
}
