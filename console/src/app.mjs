// The console: sign in with an API key (kept in this tab's sessionStorage
// only), then the catalog, installs, connectors, consumers, approvals and
// webhooks, each page built from the public API alone.
import { html, render } from "./lib/h.mjs";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { ApiError, client, normaliseBase } from "./lib/api.mjs";
import { href, parse, useRoute } from "./lib/router.mjs";
import * as session from "./lib/session.mjs";
import { Catalog } from "./pages/catalog.mjs";
import { Listing } from "./pages/listing.mjs";
import { Install } from "./pages/install.mjs";
import { Connector, Connectors } from "./pages/connectors.mjs";
import { Consumer, Consumers } from "./pages/consumers.mjs";
import { Approvals } from "./pages/approvals.mjs";
import { Webhook, Webhooks } from "./pages/webhooks.mjs";

/** Marks for the benchmark and the browser tests: the first view rendered. */
function mark(name) {
  if (document.documentElement.dataset[name]) return;
  document.documentElement.dataset[name] = "1";
  performance.mark(`console:${name}`);
}

function SignIn({ onSignedIn }) {
  const [base, setBase] = useState(location.origin);
  const [key, setKey] = useState("");
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const keyRef = useRef(null);
  useEffect(() => mark("signedOut"), []);
  async function submit(ev) {
    ev.preventDefault();
    if (busy) return;
    setError(null);
    let root;
    try {
      root = normaliseBase(base, location.origin);
    } catch (e) {
      setError({ field: "base", message: e.message });
      return;
    }
    const secret = key.trim();
    if (!secret) {
      setError({ field: "key", message: "Paste an API key." });
      keyRef.current && keyRef.current.focus();
      return;
    }
    setBusy(true);
    const api = client({ base: root, credential: secret });
    try {
      await api.get("/v1/catalog", { limit: 1 });
      // Admin-only pages (webhooks, minting agent keys) show when the key may use them.
      let admin = false;
      try {
        await api.get("/v1/api-keys", { limit: 1 });
        admin = true;
      } catch (e) {
        if (!(e instanceof ApiError) || e.status !== 403) throw e;
      }
      session.save({ base: root, key: secret, admin });
      onSignedIn(session.load());
    } catch (e) {
      setError({ field: e.status === 0 ? "base" : "key", message: e.message });
      setBusy(false);
    }
  }
  const err = (f) => (error && error.field === f ? error.message : null);
  return html`<main id="main" class="signin">
    <h1 id="page-title" tabindex="-1">Connector marketplace</h1>
    <p class="lead">Sign in with an API key of your workspace. It stays in this tab only and is forgotten when you sign out or close the tab.</p>
    <form novalidate onSubmit=${submit} aria-busy=${busy ? "true" : "false"}>
      <div class=${`field${err("key") ? " invalid" : ""}`}>
        <label for="signin-key">API key</label>
        <input id="signin-key" ref=${keyRef} type="password" autocomplete="off" spellcheck="false" required
          value=${key} onInput=${(ev) => setKey(ev.currentTarget.value)}
          aria-invalid=${err("key") ? "true" : undefined} aria-describedby=${err("key") ? "signin-key-error signin-key-help" : "signin-key-help"} />
        ${err("key") ? html`<p class="field-error" id="signin-key-error">${err("key")}</p>` : null}
        <p class="help" id="signin-key-help">mk_…, as created by POST /v1/tenants or POST /v1/api-keys. Agent keys cannot sign in.</p>
      </div>
      <div class=${`field${err("base") ? " invalid" : ""}`}>
        <label for="signin-base">API base URL</label>
        <input id="signin-base" type="url" spellcheck="false" autocapitalize="off" value=${base}
          onInput=${(ev) => setBase(ev.currentTarget.value)}
          aria-invalid=${err("base") ? "true" : undefined} aria-describedby=${err("base") ? "signin-base-error" : undefined} />
        ${err("base") ? html`<p class="field-error" id="signin-base-error">${err("base")}</p>` : null}
      </div>
      <div class="actions"><button type="submit">${busy ? "Signing in…" : "Sign in"}</button></div>
    </form>
  </main>`;
}

const NAV = [
  ["catalog", "Catalog"],
  ["connectors", "Connectors"],
  ["consumers", "Consumers"],
  ["approvals", "Approvals"],
  ["webhooks", "Webhooks"],
];

function Page({ route, api, s }) {
  const [top, a] = route.parts;
  const p = route.params;
  switch (top) {
    case undefined:
    case "catalog":
      return html`<${Catalog} api=${api} params=${p} onReady=${() => mark("catalogReady")} />`;
    case "listing":
      return html`<${Listing} api=${api} id=${a} />`;
    case "install":
      return html`<${Install} api=${api} id=${a} />`;
    case "connectors":
      return a ? html`<${Connector} key=${a} api=${api} id=${a} params=${p} />` : html`<${Connectors} api=${api} params=${p} />`;
    case "consumers":
      return a ? html`<${Consumer} key=${a} api=${api} consumer=${a} admin=${s.admin} />` : html`<${Consumers} api=${api} />`;
    case "approvals":
      return html`<${Approvals} api=${api} params=${p} />`;
    case "webhooks":
      return a ? html`<${Webhook} key=${a} api=${api} id=${a} />` : html`<${Webhooks} api=${api} />`;
    default:
      return html`<h1 id="page-title" tabindex="-1">Not found</h1><p>No such page. <a href=${href(["catalog"])}>Go to the catalog</a>.</p>`;
  }
}

/**
 * Focuses the new page's heading (screen readers announce it, Tab goes on
 * from there). A page that renders "Loading…" first replaces its heading
 * when its data arrives, which drops the focus to <body>: for a few
 * seconds, until the person does something, the new heading takes it back.
 */
function focusTitle() {
  const main = document.getElementById("main");
  const put = () => {
    const h = document.getElementById("page-title");
    if (h && (document.activeElement === document.body || document.activeElement === null || document.activeElement === main)) h.focus();
  };
  const first = requestAnimationFrame(() => {
    const h = document.getElementById("page-title");
    if (h) h.focus();
  });
  const watch = new MutationObserver(put);
  if (main) watch.observe(main, { childList: true, subtree: true });
  const stop = () => {
    cancelAnimationFrame(first);
    watch.disconnect();
    clearTimeout(timer);
    window.removeEventListener("keydown", stop, true);
    window.removeEventListener("pointerdown", stop, true);
  };
  const timer = setTimeout(stop, 3000);
  window.addEventListener("keydown", stop, true);
  window.addEventListener("pointerdown", stop, true);
  return stop;
}

function Shell({ s, onSignOut }) {
  const route = useRoute();
  const api = useMemo(() => client({ base: s.base, credential: s.key }), [s.base, s.key]);
  const first = useRef(true);
  const top = route.parts[0] || "catalog";
  useEffect(() => {
    const label = (NAV.find(([k]) => k === top) || [, "Console"])[1];
    document.title = `${label} · Connector marketplace`;
    // A new page: focus its heading (announced by screen readers), except on first load.
    if (first.current) {
      first.current = false;
      return;
    }
    return focusTitle();
  }, [route]);
  const skip = (ev) => {
    ev.preventDefault();
    const m = document.getElementById("page-title") || document.getElementById("main");
    if (m) m.focus();
  };
  return html`
    <a class="skip" href="#main" onClick=${skip}>Skip to content</a>
    <header class="top">
      <a class="brand" href=${href(["catalog"])}>Connector marketplace</a>
      <nav aria-label="Main">
        <ul>
          ${NAV.map(([k, label]) => html`<li><a href=${href([k])} aria-current=${top === k || (top === "listing" && k === "catalog") || (top === "install" && k === "catalog") ? "page" : undefined}>${label}</a></li>`)}
        </ul>
      </nav>
      <div class="who">
        <span class="muted small" title=${s.base}>${new URL(s.base).host}${s.admin ? " · admin" : ""}</span>
        <button type="button" class="secondary small" onClick=${onSignOut}>Sign out</button>
      </div>
    </header>
    <main id="main" tabindex="-1">
      <${Page} route=${route} api=${api} s=${s} />
    </main>
  `;
}

/** Back from an OAuth consent: `?connector_id=…&status=…` on the console's URL. */
function oauthReturn() {
  const q = new URLSearchParams(location.search);
  const id = q.get("connector_id");
  if (!id) return;
  const status = q.get("status") || "";
  const to = href(["connectors", id], { returned: status });
  history.replaceState(null, "", `${location.pathname}${to}`);
}

function App() {
  const [s, setS] = useState(() => session.load());
  if (!s) return html`<${SignIn} onSignedIn=${(x) => { setS(x); if (!parse(location.hash).parts.length) location.hash = href(["catalog"]); }} />`;
  return html`<${Shell} s=${s} onSignOut=${() => { session.clear(); setS(null); history.replaceState(null, "", location.pathname); }} />`;
}

oauthReturn();
render(html`<${App} />`, document.getElementById("app"));
