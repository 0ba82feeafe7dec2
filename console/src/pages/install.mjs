// Installing a listing through the generated form (lib/install.mjs).
import { html } from "../lib/h.mjs";
import { seg } from "../lib/api.mjs";
import { go, href } from "../lib/router.mjs";
import { ErrorNote } from "../lib/format.mjs";
import { useLoad } from "../lib/load.mjs";
import { InstallForm } from "../lib/install.mjs";

/** Where OAuth consent sends the user back: this console, its connectors page. */
export function consoleReturnUrl() {
  return `${location.origin}${location.pathname}#/connectors`;
}

export function Install({ api, id }) {
  const m = useLoad(() => api.get(`/v1/catalog/${seg(id)}`), [api, id]);
  if (m.loading) return html`<h1 id="page-title" tabindex="-1">Install</h1><p role="status">Loading…</p>`;
  if (m.error) return html`<h1 id="page-title" tabindex="-1">Install ${id}</h1><${ErrorNote} error=${m.error} />`;
  const l = m.data;
  return html`<section aria-labelledby="page-title">
    <p class="crumbs"><a href=${href(["catalog"])}>Catalog</a> / <a href=${href(["listing", l.id])}>${l.name}</a> / Install</p>
    <h1 id="page-title" tabindex="-1">Install ${l.name}</h1>
    <p class="help">Credentials are verified with the provider before anything is stored, then kept write-only: nobody can read them back.</p>
    <${InstallForm} api=${api} manifest=${l} prefix="install" returnUrl=${consoleReturnUrl()}
      onInstalled=${(c) => go(["connectors", c.id], { installed: 1 })} />
  </section>`;
}
