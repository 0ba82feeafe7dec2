// The catalog: search (`q`) and every filter of GET /v1/catalog, kept in the
// URL's hash so a filtered view can be linked and the Back button works;
// cards with icon and brand colour; cursor pagination ("Load more").
import { html } from "../lib/h.mjs";
import { useEffect, useRef, useState } from "preact/hooks";
import { go, href } from "../lib/router.mjs";
import { Badge, ErrorNote, Icon, price } from "../lib/format.mjs";
import { useLoad } from "../lib/load.mjs";

const KINDS = ["saas", "database", "mcp_server", "infrastructure", "agent", "hardware"];
const AUTH_MODES = [
  ["pat", "Personal access token"],
  ["api_key", "API key"],
  ["basic", "Username and password"],
  ["conn_string", "Connection string"],
  ["oauth2", "OAuth (your app)"],
  ["mcp_oauth", "MCP OAuth"],
  ["none", "No credentials"],
];
const FILTERS = ["q", "category", "kind", "auth_mode", "capability", "tag", "featured"];
const PAGE = 12;

function Card({ l }) {
  return html`<li class="card" style=${{ "--brand": /^#[0-9a-fA-F]{6}$/.test(l.brand_color) ? l.brand_color : "#555555" }}>
    <div class="card-head">
      <${Icon} listing=${l} />
      <h3><a href=${href(["listing", l.id])}>${l.name}</a></h3>
    </div>
    <p class="card-desc">${l.description}</p>
    <p class="badges">
      ${l.featured ? html`<${Badge} kind="featured">Featured</${Badge}>` : null}
      ${l.availability === "early_access" ? html`<${Badge} kind="warn">Early access</${Badge}>` : null}
      <${Badge} kind=${l.pricing && l.pricing.model === "paid" ? "paid" : ""}>${price(l.pricing)}</${Badge}>
      <${Badge}>${l.kind}</${Badge}>
      <${Badge}>${l.auth_mode.replace(/_/g, " ")}</${Badge}>
      ${l.visibility === "private" ? html`<${Badge} kind="warn">private</${Badge}>` : null}
    </p>
  </li>`;
}

export function Catalog({ api, params, onReady }) {
  const filters = Object.fromEntries(FILTERS.map((k) => [k, params[k] || ""]));
  const [draft, setDraft] = useState(filters);
  const [pages, setPages] = useState({ items: [], next: null, total: null, more: false, busy: false, error: null, for: null });
  const key = JSON.stringify(filters);
  const categories = useLoad(() => api.get("/v1/catalog/categories"), [api]);
  const ready = useRef(false);
  // The filters fold away on a phone unless one is in use.
  const [open, setOpen] = useState(
    () => window.matchMedia("(min-width: 40rem)").matches || FILTERS.slice(1).some((k) => filters[k]),
  );

  useEffect(() => setDraft(filters), [key]);

  useEffect(() => {
    let live = true;
    setPages({ items: [], next: null, total: null, more: false, busy: true, error: null, for: null });
    api.get("/v1/catalog", { ...filters, limit: PAGE }).then(
      (v) => {
        if (!live) return;
        setPages({ items: v.data, next: v.next_cursor, total: v.total, more: v.has_more, busy: false, error: null, for: key });
      },
      (e) => live && setPages({ items: [], next: null, total: null, more: false, busy: false, error: e, for: key }),
    );
    return () => (live = false);
  }, [api, key]);

  // The first page of listings is on screen (an effect runs after the commit).
  useEffect(() => {
    if (pages.for !== null && !ready.current) {
      ready.current = true;
      if (onReady) onReady();
    }
  }, [pages.for]);

  async function more() {
    if (pages.busy) return;
    const firstNew = pages.items.length;
    setPages((p) => ({ ...p, busy: true, error: null }));
    try {
      const v = await api.get("/v1/catalog", { ...filters, limit: PAGE, cursor: pages.next });
      setPages((p) => ({ ...p, items: [...p.items, ...v.data], next: v.next_cursor, total: v.total, more: v.has_more, busy: false, error: null }));
      // Keyboard users continue from the first new card.
      requestAnimationFrame(() => {
        const a = document.querySelectorAll(".cards .card h3 a")[firstNew];
        if (a) a.focus();
      });
    } catch (e) {
      setPages((p) => ({ ...p, busy: false, error: e }));
    }
  }

  function apply(ev) {
    ev.preventDefault();
    go(["catalog"], draft);
  }
  const set = (k) => (ev) => setDraft((d) => ({ ...d, [k]: ev.currentTarget.value }));
  const cats = (categories.data && categories.data.data) || [];

  return html`<section aria-labelledby="page-title">
    <h1 id="page-title" tabindex="-1">Catalog</h1>
    <form class="filters" role="search" aria-label="Catalog search and filters" onSubmit=${apply}>
      <div class="field grow">
        <label for="cat-q">Search</label>
        <input id="cat-q" type="search" value=${draft.q} onInput=${set("q")} placeholder="Name, description or tag" maxlength="200" />
      </div>
      <details open=${open} onToggle=${(ev) => setOpen(ev.currentTarget.open)}>
      <summary>Filters${FILTERS.slice(1).some((k) => filters[k]) ? " (in use)" : ""}</summary>
      <div class="more-filters">
      <div class="field">
        <label for="cat-category">Category</label>
        <select id="cat-category" value=${draft.category} onChange=${set("category")}>
          <option value="">Any category</option>
          ${cats.map((c) => html`<option value=${c.id}>${c.id} (${c.count})</option>`)}
          ${draft.category && !cats.some((c) => c.id === draft.category) ? html`<option value=${draft.category}>${draft.category}</option>` : null}
        </select>
      </div>
      <div class="field">
        <label for="cat-kind">Kind</label>
        <select id="cat-kind" value=${draft.kind} onChange=${set("kind")}>
          <option value="">Any kind</option>
          ${KINDS.map((k) => html`<option value=${k}>${k.replace(/_/g, " ")}</option>`)}
          ${draft.kind && !KINDS.includes(draft.kind) ? html`<option value=${draft.kind}>${draft.kind}</option>` : null}
        </select>
      </div>
      <div class="field">
        <label for="cat-auth">Authentication</label>
        <select id="cat-auth" value=${draft.auth_mode} onChange=${set("auth_mode")}>
          <option value="">Any</option>
          ${AUTH_MODES.map(([k, label]) => html`<option value=${k}>${label}</option>`)}
        </select>
      </div>
      <div class="field">
        <label for="cat-capability">Capability</label>
        <input id="cat-capability" value=${draft.capability} onInput=${set("capability")} placeholder="e.g. issue.read" spellcheck="false" autocapitalize="off" />
      </div>
      <div class="field">
        <label for="cat-tag">Tag</label>
        <input id="cat-tag" value=${draft.tag} onInput=${set("tag")} placeholder="e.g. git" spellcheck="false" autocapitalize="off" />
      </div>
      <div class="field">
        <label for="cat-featured">Featured</label>
        <select id="cat-featured" value=${draft.featured} onChange=${set("featured")}>
          <option value="">All listings</option>
          <option value="true">Featured only</option>
          <option value="false">Not featured</option>
        </select>
      </div>
      </div>
      </details>
      <div class="actions">
        <button type="submit">Search</button>
        ${FILTERS.some((k) => filters[k]) ? html`<a class="button secondary" href=${href(["catalog"])}>Clear filters</a>` : null}
      </div>
    </form>
    <${ErrorNote} error=${categories.error} />
    <p class="count" role="status" aria-live="polite">
      ${pages.total === null ? (pages.busy ? "Loading…" : "") : `${pages.items.length} of ${pages.total} listing${pages.total === 1 ? "" : "s"}`}
    </p>
    <${ErrorNote} error=${pages.error} />
    ${pages.total === 0 ? html`<p>No listing matches. <a href=${href(["catalog"])}>Clear the filters</a>.</p>` : null}
    <ul class="cards" aria-label="Listings" aria-busy=${pages.busy ? "true" : "false"} data-filters=${pages.for || undefined}>
      ${pages.items.map((l) => html`<${Card} key=${l.id} l=${l} />`)}
    </ul>
    ${pages.more
      ? html`<p class="more"><button type="button" class="secondary" onClick=${more} aria-disabled=${pages.busy ? "true" : undefined}>
          ${pages.busy ? "Loading…" : "Load more"}</button></p>`
      : null}
  </section>`;
}
