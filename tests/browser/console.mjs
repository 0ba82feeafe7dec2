// The console in a real browser (headless Debian chromium): sign in, browse
// and filter the catalog, open a listing, install a connector through the
// generated form (first refused by the server, the errors at their fields),
// run its test, approve a pending call, mint an agent key, create a webhook
// endpoint and send it a test, a keyboard-only pass, a 375 px view, sign out.
// Then, when CONSOLE_CONNECT_URL is set, the end-user connect page with no
// API key at all. Prints one JSON line of what it did (ids, never secrets);
// tests/scenarios/console.rs reads the state back through the API.
//
// Environment: CONSOLE_BASE, CONSOLE_KEY (an admin key), CONSOLE_PROVIDER
// (the fake provider's base URL), CONSOLE_GOOD_TOKEN, CONSOLE_BAD_TOKEN,
// CONSOLE_APPROVAL (a pending approval id), CONSOLE_CONSUMER (a consumer
// with bindings), SCREENSHOT_DIR; optionally CONSOLE_CONNECT_URL and
// CONSOLE_CONNECT_RETURN (the session's return_url).
import { check, context, describedBy, launch, screenshots, watch } from "./lib.mjs";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const BASE = env("CONSOLE_BASE");
const KEY = env("CONSOLE_KEY");
const PROVIDER = env("CONSOLE_PROVIDER");
const GOOD = env("CONSOLE_GOOD_TOKEN");
const BAD = env("CONSOLE_BAD_TOKEN");
const APPROVAL = env("CONSOLE_APPROVAL");
const CONSUMER = env("CONSOLE_CONSUMER");
const shots = screenshots(process.env.SCREENSHOT_DIR || ".state/screenshots");
const out = { steps: [] };
const step = (name) => {
  out.steps.push(name);
  process.stderr.write(`[console.mjs] ${name}\n`);
};

async function cardNames(page) {
  return page.$$eval(".cards .card h3", (hs) => hs.map((h) => h.textContent.trim()));
}

/** The filters a catalog hash names, as the page keys its results. */
const FILTERS = ["q", "category", "kind", "auth_mode", "capability", "tag", "featured"];
function filtersOf(hash) {
  const q = new URLSearchParams(hash.split("?")[1] || "");
  return JSON.stringify(Object.fromEntries(FILTERS.map((k) => [k, q.get(k) || ""])));
}

/** Waits until the cards on screen are the answer for the hash's filters. */
async function settled(page) {
  const want = filtersOf(await page.evaluate(() => location.hash));
  await page.waitForFunction((w) => {
    const ul = document.querySelector(".cards");
    return ul && ul.dataset.filters === w && ul.getAttribute("aria-busy") === "false";
  }, want);
}

/** Submits the catalog filters and waits for their results. */
async function search(page, fill) {
  await fill();
  const before = await page.evaluate(() => location.hash);
  await page.click(".filters button[type=submit]");
  await page.waitForFunction((h) => location.hash !== h, before);
  await settled(page);
}

async function signIn(page) {
  step("sign in");
  await page.goto(`${BASE}/`);
  await page.waitForSelector("#signin-key");
  check((await page.evaluate(() => sessionStorage.length)) === 0, "nothing stored before signing in");
  await shots.shot(page, "01-signed-out");
  // A refused key: the API's message at the key field.
  await page.fill("#signin-key", "mk_not_a_real_key");
  await page.click("form button[type=submit]");
  await page.waitForSelector("#signin-key[aria-invalid=true]");
  const why = await describedBy(page, "#signin-key");
  check(why.some((t) => /key|credential|auth/i.test(t)), `the refusal is described at the key field: ${why}`);
  await page.fill("#signin-key", KEY);
  await page.click("form button[type=submit]");
  await page.waitForSelector(".cards .card");
  const stored = await page.evaluate(() => ({
    session: Object.keys(sessionStorage),
    local: localStorage.length,
    cookies: document.cookie,
    inUrl: location.href,
  }));
  check(stored.local === 0 && stored.cookies === "", "the key is not in localStorage or a cookie");
  check(!stored.inUrl.includes(KEY), "the key is not in the URL");
  check(stored.session.includes("cm.console.session"), "the session is in sessionStorage");
}

async function catalog(page) {
  step("catalog: browse, filter, page");
  await settled(page);
  const first = await cardNames(page);
  const total = Number((await page.textContent(".count")).match(/of (\d+)/)[1]);
  check(first.length === Math.min(12, total) && total >= 20, `first page: ${first.length} of ${total}`);
  check(await page.$(".cards .card .badge.featured"), "featured listings carry a badge");
  // Load more: the next page appends, the count grows, nothing repeats.
  await page.click("text=Load more");
  await page.waitForFunction((n) => document.querySelectorAll(".cards .card").length > n, first.length);
  const more = await cardNames(page);
  check(new Set(more).size === more.length && more.length > first.length, "Load more appends new listings");
  check(await page.evaluate(() => document.activeElement?.closest(".card") !== null), "focus moves to the first new card");
  await shots.shot(page, "02-catalog");
  // Search.
  await search(page, () => page.fill("#cat-q", "git"));
  let names = await cardNames(page);
  check(names.includes("GitHub") && names.includes("GitLab") && !names.includes("Stripe"), `q=git: ${names}`);
  check((await page.evaluate(() => location.hash)).includes("q=git"), "the search is in the URL");
  // Filters: auth mode, featured, category, kind, capability, tag.
  await search(page, async () => {
    await page.fill("#cat-q", "");
    await page.selectOption("#cat-auth", "oauth2");
  });
  names = await cardNames(page);
  check(names.some((n) => /Google Drive/.test(n)) && !names.includes("GitHub"), `auth_mode=oauth2: ${names}`);
  await search(page, async () => {
    await page.selectOption("#cat-auth", "");
    await page.selectOption("#cat-featured", "true");
  });
  const featured = await page.$$eval(".cards .card", (cs) => cs.map((c) => !!c.querySelector(".badge.featured")));
  check(featured.length >= 3 && featured.every(Boolean), "featured=true shows featured listings only");
  await search(page, async () => {
    await page.selectOption("#cat-featured", "");
    await page.selectOption("#cat-category", "developer-tools");
  });
  names = await cardNames(page);
  check(names.includes("GitHub") && !names.includes("Stripe"), `category: ${names}`);
  await search(page, async () => {
    await page.selectOption("#cat-category", "");
    await page.selectOption("#cat-kind", "database");
  });
  names = await cardNames(page);
  check(names.some((n) => /PostgreSQL/.test(n)) && !names.includes("Slack"), `kind=database: ${names}`);
  await search(page, async () => {
    await page.selectOption("#cat-kind", "");
    await page.fill("#cat-capability", "order.hold");
  });
  names = await cardNames(page);
  check(names.some((n) => /Magento/.test(n)) && !names.includes("GitHub"), `capability=order.hold: ${names}`);
  await search(page, async () => {
    await page.fill("#cat-capability", "");
    await page.fill("#cat-tag", "no-such-tag-anywhere");
  });
  check((await page.textContent(".count")).includes("0 of 0"), "a filter nothing matches says so");
  await page.click("text=Clear filters");
  await settled(page);
}

async function listing(page) {
  step("listing: magento");
  await search(page, () => page.fill("#cat-q", "magento"));
  await page.click(".cards .card h3 a");
  await page.waitForSelector("h1#page-title:text('Magento')");
  await page.waitForSelector("text=latest");
  const badges = await page.$$eval("table tbody tr", (rows) => rows.map((r) => r.querySelector(".badge")?.textContent));
  check(badges.includes("read only") && badges.some((b) => /side effect/.test(b || "")), `tool badges: ${badges}`);
  check((await page.textContent("article")).includes("order.hold"), "capabilities listed");
  check((await page.textContent("article")).includes("API key"), "the auth mode is shown");
  await shots.shot(page, "03-listing");
}

async function install(page) {
  step("install through the generated form");
  await page.click("a.button:text('Install')");
  await page.waitForSelector("#install-config-base_url");
  const ids = await page.$$eval("form.install-form input, form.install-form select, form.install-form textarea", (xs) => xs.map((x) => [x.id, x.type, x.required]));
  check(JSON.stringify(ids) === JSON.stringify([["install-name-name", "text", false], ["install-config-base_url", "url", true], ["install-auth-key", "password", true]]), `generated fields: ${JSON.stringify(ids)}`);
  // Client-side: a required field left empty is caught at its field, nothing sent.
  await page.click("form.install-form button[type=submit]");
  await page.waitForSelector("#install-config-base_url[aria-invalid=true]");
  check((await page.evaluate(() => document.activeElement.id)) === "install-config-base_url", "focus moves to the first invalid field");
  // 1. A name the server refuses (400, param "name").
  await page.fill("#install-name-name", "bad name!");
  await page.fill("#install-config-base_url", PROVIDER);
  await page.fill("#install-auth-key", BAD);
  await page.click("form.install-form button[type=submit]");
  await page.waitForSelector("#install-name-name[aria-invalid=true]");
  let why = await describedBy(page, "#install-name-name");
  check(/Invalid name/.test(why[0]), `the server's 400 is at the name field: ${why}`);
  check(!(await page.$("#install-auth-key[aria-invalid=true]")), "only the refused field is marked");
  out.name_error = why[0];
  // 2. Verify with the wrong key: the provider's rejection, nothing stored.
  await page.fill("#install-name-name", "console-store");
  check(!(await page.$("#install-name-name[aria-invalid=true]")), "editing a field clears its error");
  await page.click("text=Verify credentials");
  await page.waitForSelector(".verdict.bad");
  check(/Rejected/.test(await page.textContent(".verdict")), "verify says rejected");
  // 3. Install with the wrong key: 422 auth_failed (param "auth") at the key field.
  await page.click("form.install-form button[type=submit]");
  await page.waitForSelector("#install-auth-key[aria-invalid=true]");
  why = await describedBy(page, "#install-auth-key");
  check(/rejected the credentials/.test(why[0]), `the server's 422 is at the key field: ${why}`);
  check((await page.evaluate(() => document.activeElement.id)) === "install-auth-key", "focus moves to the refused field");
  out.auth_error = why[0];
  await shots.shot(page, "04-install-refused");
  // 4. The right key: verified, installed.
  await page.fill("#install-auth-key", GOOD);
  await page.click("text=Verify credentials");
  await page.waitForSelector(".verdict.ok");
  await page.click("form.install-form button[type=submit]");
  await page.waitForFunction(() => /^#\/connectors\/cn_/.test(location.hash));
  out.connector_id = (await page.evaluate(() => location.hash)).match(/cn_[0-9A-Za-z]+/)[0];
  await page.waitForSelector("h1#page-title:text('console-store')");
  check((await page.textContent("article")).includes(PROVIDER), "the config is shown");
}

async function connector(page) {
  step("connector: test and health");
  await page.click("button:text('Run test')");
  await page.waitForSelector(".test-results .test-row");
  const rows = await page.$$eval(".test-results .test-row", (rs) =>
    rs.map((r) => ({ tool: r.dataset.tool, mode: r.children[1].textContent, result: r.children[2].textContent })),
  );
  check(rows.length >= 5, `per-tool results: ${rows.length}`);
  check(rows.every((r) => ["ok", "failed", "not run"].includes(r.result)), "every tool has a result");
  check(rows.some((r) => r.mode === "live") && rows.some((r) => r.mode === "dry run"), "live reads and dry-run side effects");
  out.test_rows = rows.length;
  out.test_ok = rows.filter((r) => r.result === "ok").length;
  // The latency history is the API's (GET …/health-checks): each check adds a point.
  const checks = () => page.$eval(".health-history", (d) => d.dataset.checks);
  await page.waitForLoadState("networkidle");
  await page.waitForFunction(() => document.querySelector(".health-history")?.dataset.checks !== undefined);
  const before = Number(await checks());
  for (const n of [1, 2]) {
    await page.click("button:text('Check health now')");
    await page.waitForFunction((want) => Number(document.querySelector(".health-history")?.dataset.checks) === want, before + n);
  }
  out.health_checks = before + 2;
  check((await page.$$(".chart .s-health circle")).length === before + 2, "one point per recorded check");
  check(await page.$(".chart svg[role=img][aria-label*='measurements']"), "the chart has a text alternative");
  await page.waitForSelector(".events li code:text('connector.tested')");
  await shots.shot(page, "05-connector");
  await page.click("nav a:text('Connectors')");
  await page.waitForSelector("table a:text('console-store')");
  await shots.shot(page, "06-connectors");
}

async function approvals(page) {
  step("approvals: approve the pending call");
  await page.click("nav a:text('Approvals')");
  const item = `li[data-approval="${APPROVAL}"]`;
  await page.waitForSelector(item);
  check((await page.textContent(`${item} pre.json`)).includes('"order_id"'), "the exact arguments are shown");
  await shots.shot(page, "07-approvals");
  await page.click(`${item} button:text('Approve and run')`);
  await page.waitForSelector(`${item} .outcome`);
  const outcome = await page.textContent(`${item} .outcome`);
  // The call ran once, server-side; against the suite's fake it succeeds.
  check(new RegExp(process.env.CONSOLE_APPROVED_STATUS || "succeeded").test(outcome), `the approved call ran: ${outcome}`);
  out.approved_tool_call = outcome.match(/tc_[0-9A-Za-z]+/)[0];
}

async function consumers(page) {
  step("consumers: tools and MCP configuration");
  await page.click("nav a:text('Consumers')");
  await page.click(`a:text('${CONSUMER}')`);
  await page.waitForSelector("table[aria-label], .table-wrap[aria-label='Assembled tools'] tbody tr");
  const cfg = () => page.textContent("pre.code");
  let text = await cfg();
  check(text.includes(`${BASE}/v1/mcp`) && text.includes("mk_YOUR_AGENT_KEY") && !text.includes(KEY), "a placeholder, never the signed-in key");
  for (const client of ["Claude Desktop", "Cursor", "VS Code"]) {
    await page.selectOption("#mcp-client", client);
    text = await cfg();
    check(text.includes(`${BASE}/v1/mcp`) && !text.includes(KEY), `${client} config`);
  }
  await page.selectOption("#mcp-client", "Cursor");
  await page.click(`button:text('Mint an agent key for ${CONSUMER}')`);
  await page.waitForSelector("#minted-secret");
  const minted = (await page.textContent("#minted-secret")).trim();
  text = await cfg();
  check(/^mk_/.test(minted) && text.includes(minted) && !text.includes(KEY), "the minted agent key fills the config");
  out.minted_key_id = (await page.textContent(".mcp .notice code")).trim();
  await shots.shot(page, "08-consumer");
}

async function webhooks(page) {
  step("webhooks: create, test, deliveries");
  await page.click("nav a:text('Webhooks')");
  await page.waitForSelector("#wh-url");
  await page.fill("#wh-url", "https://127.0.0.2/hook");
  await page.click("button:text('Create endpoint')");
  await page.waitForSelector("#wh-url[aria-invalid=true]");
  check((await describedBy(page, "#wh-url"))[0].length > 0, "a refused target is shown at the URL field");
  await page.fill("#wh-url", `${PROVIDER}/console-hook`);
  await page.fill("#wh-desc", "from the console test");
  await page.click("button:text('Create endpoint')");
  await page.waitForSelector(".card-form .notice.good code.secret");
  await page.click(`table a:text('${PROVIDER}/console-hook')`);
  await page.waitForSelector("button:text('Send a test event')");
  out.webhook_endpoint_id = (await page.evaluate(() => location.hash)).match(/we_[0-9A-Za-z]+/)[0];
  await page.click("button:text('Send a test event')");
  await page.waitForSelector(".deliveries li code:text('webhook.test')");
  await shots.shot(page, "09-webhook");
}

/** Keyboard only, from a fresh load of the catalog: skip link, nav, search, a result. */
async function keyboard(page) {
  step("keyboard-only pass over the catalog");
  await page.goto(`${BASE}/#/catalog`);
  await page.reload();
  await settled(page);
  const seen = [];
  const focused = () =>
    page.evaluate(() => {
      const el = document.activeElement;
      const st = getComputedStyle(el);
      return {
        tag: el.tagName.toLowerCase(),
        id: el.id,
        text: (el.getAttribute("aria-label") || el.textContent || el.value || "").trim().slice(0, 40),
        visible: st.outlineStyle !== "none" && parseFloat(st.outlineWidth) >= 2,
      };
    });
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press("Tab");
    seen.push(await focused());
  }
  out.keyboard_order = seen.map((s) => s.id || `${s.tag}:${s.text}`);
  check(seen[0].text === "Skip to content", `first stop is the skip link: ${JSON.stringify(seen[0])}`);
  const order = ["Catalog", "Connectors", "Consumers", "Approvals", "Webhooks"].map((n) => seen.findIndex((s) => s.tag === "a" && s.text === n));
  check(order.every((x, i) => x > 0 && (i === 0 || x > order[i - 1])), `nav in order: ${order}`);
  const q = seen.findIndex((s) => s.id === "cat-q");
  const signOut = seen.findIndex((s) => s.text === "Sign out");
  check(signOut > order[4] && q > signOut, "header, then the search");
  check(seen.every((s) => s.visible), `every stop shows a focus ring: ${JSON.stringify(seen.filter((s) => !s.visible))}`);
  check(seen.every((s) => ["a", "button", "input", "select", "textarea", "summary"].includes(s.tag)), "only real controls take focus");
  // Back to the search field by keyboard, search, open the first result.
  await page.keyboard.press("Shift+Tab");
  for (let i = 0; i < 40 && (await focused()).id !== "cat-q"; i++) await page.keyboard.press("Shift+Tab");
  check((await focused()).id === "cat-q", "Shift+Tab reaches the search field");
  await page.keyboard.type("slack");
  await page.keyboard.press("Enter");
  await page.waitForFunction(() => location.hash.includes("q=slack"));
  await settled(page);
  check((await cardNames(page)).join() === "Slack", "the keyboard search found Slack");
  for (let i = 0; i < 30 && !(await page.evaluate(() => !!document.activeElement.closest(".card"))); i++) await page.keyboard.press("Tab");
  check((await focused()).text === "Slack", "Tab reaches the result");
  await page.keyboard.press("Enter");
  await page.waitForSelector("h1#page-title:text('Slack')");
  await page.waitForFunction(() => document.activeElement?.id === "page-title");
  await shots.shot(page, "10-keyboard-listing");
}

async function phone(browser) {
  step("375 px");
  const ctx = await context(browser, BASE, { viewport: { width: 375, height: 812 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await ctx.newPage();
  const problems = watch(page, BASE);
  await page.goto(`${BASE}/`);
  await page.fill("#signin-key", KEY);
  await page.click("form button[type=submit]");
  await page.waitForSelector(".cards .card");
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  check(overflow <= 0, `no sideways scrolling at 375 px (${overflow} px over)`);
  await shots.shot(page, "11-catalog-375px");
  await page.goto(`${BASE}/#/install/magento`);
  await page.waitForSelector("#install-config-base_url");
  check((await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)) <= 0, "the form fits at 375 px");
  await shots.shot(page, "12-install-375px");
  check(problems.length === 0, `no page errors at 375 px: ${problems}`);
  await ctx.close();
}

async function signOut(page) {
  step("sign out");
  await page.click("button:text('Sign out')");
  await page.waitForSelector("#signin-key");
  const left = await page.evaluate(() => ({ session: sessionStorage.length, local: localStorage.length }));
  check(left.session === 0 && left.local === 0, "signing out clears the tab's storage");
}

async function connectPage(browser) {
  const url = process.env.CONSOLE_CONNECT_URL;
  if (!url) return;
  step("connect page, no API key");
  const back = process.env.CONSOLE_CONNECT_RETURN;
  const ctx = await context(browser, BASE, { alsoAllow: [new URL(back).origin] });
  const page = await ctx.newPage();
  const problems = watch(page, BASE);
  let headers;
  // The request carries no fragment (the token's place): compare without it.
  const served = url.split("#")[0];
  page.on("response", (r) => {
    if (r.url() === served) headers = r.headers();
  });
  await page.goto(url);
  check((await page.evaluate(() => sessionStorage.length + localStorage.length)) === 0, "no API key in this browser");
  check(headers && headers["referrer-policy"] === "no-referrer" && /no-store/.test(headers["cache-control"]) && !headers["x-frame-options"], `connect page headers: ${JSON.stringify(headers)}`);
  await page.waitForSelector("#connect-config-base_url");
  await page.fill("#connect-config-base_url", PROVIDER);
  await page.fill("#connect-auth-key", BAD);
  await page.click("form.install-form button[type=submit]");
  await page.waitForSelector("#connect-auth-key[aria-invalid=true]");
  check(/rejected the credentials/.test((await describedBy(page, "#connect-auth-key"))[0]), "the refusal is at the key field");
  await shots.shot(page, "13-connect-refused");
  await page.fill("#connect-name-name", "connected-by-link");
  await page.fill("#connect-auth-key", GOOD);
  await page.click("form.install-form button[type=submit]");
  await page.waitForURL((u) => u.href.startsWith(back) && u.searchParams.has("connector_id"));
  const landed = new URL(page.url());
  out.connect = { connector_id: landed.searchParams.get("connector_id"), status: landed.searchParams.get("status"), landed: landed.href };
  await shots.shot(page, "14-connect-returned");
  // The link works once.
  await page.goto(url);
  await page.waitForSelector("[role=alert]");
  out.connect.reused = (await page.textContent("[role=alert]")).trim();
  await shots.shot(page, "15-connect-used");
  check(problems.length === 0, `no page errors on the connect page: ${problems}`);
  await ctx.close();
}

const browser = await launch();
try {
  const ctx = await context(browser, BASE);
  const page = await ctx.newPage();
  const problems = watch(page, BASE);
  await signIn(page);
  await catalog(page);
  await listing(page);
  await install(page);
  await connector(page);
  await approvals(page);
  await consumers(page);
  await webhooks(page);
  await keyboard(page);
  await signOut(page);
  check(problems.length === 0, `no page errors: ${problems.join("; ")}`);
  await ctx.close();
  await phone(browser);
  await connectPage(browser);
  out.screenshots = shots.taken;
  console.log(JSON.stringify(out));
} catch (e) {
  process.stderr.write(`[console.mjs] FAILED: ${e.stack || e}\n`);
  process.exitCode = 1;
} finally {
  await browser.close();
}
