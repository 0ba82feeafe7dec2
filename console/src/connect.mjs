// The end-user connect page, /connect/{id}#{token} (or /connect/{token}): a manager created a connect
// session (POST /v1/connect-sessions) and sent its URL to a person, who
// connects an account here without any API key. The token from the path is
// the Bearer credential of every call; the page reuses the console's
// generated install form. It may be embedded in another site (framing is
// allowed for this page only), so its last navigation goes to the top window
// when the browser lets it.
import { html, render } from "./lib/h.mjs";
import { useEffect, useState } from "preact/hooks";
import { client, safeHttpUrl, seg } from "./lib/api.mjs";
import { Badge, ErrorNote, Icon, Time, price } from "./lib/format.mjs";
import { useLoad } from "./lib/load.mjs";
import { InstallForm } from "./lib/install.mjs";

const FRIENDLY = {
  connect_session_expired: "This link has expired. Ask whoever sent it for a new one.",
  connect_session_used: "This link has already been used to connect an account. Ask for a new link to connect another.",
  unauthenticated: "This link is not valid. Check that you copied all of it, or ask for a new one.",
};

/**
 * The token: the path's last segment (`/connect/cst_…`), or the fragment
 * (`/connect/#cst_…`), which browsers never send to a server and so never
 * reaches an access log.
 */
function tokenFromPath() {
  const frag = location.hash.replace(/^#/, "");
  if (/^cst_[0-9A-Za-z_]+$/.test(frag)) return frag;
  const rest = location.pathname.replace(/^\/connect\/?/, "");
  if (!rest || rest.includes("/")) return null;
  try {
    return decodeURIComponent(rest);
  } catch {
    return null;
  }
}

function navigateTop(url) {
  try {
    if (window.top && window.top !== window.self) {
      window.top.location.assign(url);
      return;
    }
  } catch {
    /* a frame that may not navigate its parent: navigate itself */
  }
  window.location.assign(url);
}

/** return_url with `connector_id` and `status` appended, its own query kept. */
export function returnTo(returnUrl, connector) {
  const u = new URL(returnUrl);
  u.searchParams.append("connector_id", connector.id);
  u.searchParams.append("status", connector.status);
  return safeHttpUrl(u.href);
}

function mark(name) {
  if (document.documentElement.dataset[name]) return;
  document.documentElement.dataset[name] = "1";
  performance.mark(`connect:${name}`);
}

function Problem({ title, text }) {
  useEffect(() => mark("ready"), []);
  return html`<main id="main"><h1 id="page-title">${title}</h1><p class="notice warn" role="alert">${text}</p></main>`;
}

function Picker({ api, onPick }) {
  const [q, setQ] = useState("");
  const [applied, setApplied] = useState("");
  const list = useLoad(() => api.get("/v1/catalog", { q: applied, limit: 24 }), [api, applied]);
  return html`<section aria-labelledby="pick-title">
    <h2 id="pick-title">Choose what to connect</h2>
    <form role="search" class="filters" onSubmit=${(ev) => { ev.preventDefault(); setApplied(q.trim()); }}>
      <div class="field grow"><label for="pick-q">Search</label>
        <input id="pick-q" type="search" value=${q} onInput=${(ev) => setQ(ev.currentTarget.value)} /></div>
      <div class="actions"><button type="submit">Search</button></div>
    </form>
    <${ErrorNote} error=${list.error} />
    <ul class="cards">
      ${((list.data && list.data.data) || []).map((l) => html`<li class="card" style=${{ "--brand": /^#[0-9a-fA-F]{6}$/.test(l.brand_color) ? l.brand_color : "#555555" }}>
        <div class="card-head"><${Icon} listing=${l} /><h3>${l.name}</h3></div>
        <p class="card-desc">${l.description}</p>
        <p><button type="button" class="secondary" onClick=${() => onPick(l.id)} disabled=${l.availability === "early_access"}>
          ${l.availability === "early_access" ? "Early access" : html`Connect ${l.name}`}</button></p>
      </li>`)}
    </ul>
  </section>`;
}

function Connect({ api, session }) {
  const [picked, setPicked] = useState(session.listing);
  const m = useLoad(() => (picked ? api.get(`/v1/catalog/${seg(picked)}`) : Promise.resolve(null)), [api, picked]);
  useEffect(() => {
    if (!picked || m.data || m.error) mark("ready");
  }, [picked, m.data, m.error]);
  const done = (c) => {
    const to = returnTo(session.return_url, c);
    if (to) navigateTop(to);
  };
  const l = m.data;
  return html`<main id="main">
    ${l
      ? html`<header class="connect-head"><${Icon} listing=${l} size=${48} /><h1 id="page-title">Connect ${l.name}</h1></header>`
      : html`<h1 id="page-title">Connect an account</h1>`}
    ${session.consumer ? html`<p>For <strong>${session.consumer}</strong>.</p>` : null}
    <p class="help">This link works once and expires <${Time} t=${session.expires_at} />. Your credentials are checked with the provider, then stored write-only: nobody can read them back.</p>
    <${ErrorNote} error=${m.error} />
    ${!picked ? html`<${Picker} api=${api} onPick=${setPicked} />` : null}
    ${picked && m.loading ? html`<p role="status">Loading…</p>` : null}
    ${l
      ? html`<p class="lead">${l.description}</p>
        <p class="badges">${l.pricing && l.pricing.model === "paid" ? html`<${Badge} kind="paid">${price(l.pricing)}</${Badge}>` : null}</p>
        <${InstallForm} key=${l.id} api=${api} manifest=${l} prefix="connect" onInstalled=${done} navigate=${navigateTop}
          nameLabel="A name for this connection"
          nameHelp=${`Optional: letters, digits, '-', '_' or '.'. Leave empty for "${l.id}".`} />
        ${!session.listing ? html`<p><button type="button" class="secondary" onClick=${() => setPicked(null)}>Choose something else</button></p>` : null}`
      : null}
  </main>`;
}

function Page() {
  const token = tokenFromPath();
  const api = token ? client({ base: location.origin, credential: token }) : null;
  const s = useLoad(() => (api ? api.get("/v1/connect/session") : Promise.resolve(null)), []);
  if (!token) return html`<${Problem} title="Connect an account" text="This link is incomplete. Open the full link you were sent." />`;
  if (s.loading) return html`<main id="main"><h1 id="page-title">Connect an account</h1><p role="status">Loading…</p></main>`;
  if (s.error) return html`<${Problem} title="Connect an account" text=${FRIENDLY[s.error.code] || s.error.message} />`;
  const session = s.data;
  if (session.status === "completed") return html`<${Problem} title="Already connected" text=${FRIENDLY.connect_session_used} />`;
  if (session.status === "expired") return html`<${Problem} title="Link expired" text=${FRIENDLY.connect_session_expired} />`;
  return html`<${Connect} api=${api} session=${session} />`;
}

render(html`<${Page} />`, document.getElementById("app"));
