// The console's first page in headless chromium (bench/run.sh calls it;
// alone: node bench/console.mjs <base URL> <api key> [runs]), each run in a
// fresh browser context (empty cache):
//   signed out  GET / until the sign-in view has rendered
//   catalog     GET /#/catalog with a session in the tab until the first
//               page of listings (GET /v1/catalog, /v1/catalog/categories)
//               has rendered
// Bytes: what crossed the wire for every request of the view, headers
// included, as the browser counted them (wrangler dev gzips text answers
// when the browser asks, so bodies are counted gzip as served); the bodies'
// own gzip -9 sizes are printed too. Time: navigation start to the app's
// render mark (performance.mark when the view's first render is committed:
// its handlers are attached, so the view takes input), and to
// DOMContentLoaded. Medians of N runs, next to the goals (≤ 150 KiB gzip,
// ≤ 1 s). Listing icons (third-party https URLs) are refused by the harness,
// as offline, and are not counted.
import { gzipSync } from "node:zlib";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { context, launch } from "../tests/browser/lib.mjs";

const [base, key, runsArg] = process.argv.slice(2);
if (!base || !key) {
  console.error("usage: node bench/console.mjs <base URL> <api key> [runs]");
  process.exit(2);
}
const RUNS = Number(runsArg || process.env.CONSOLE_RUNS || 9);
const GOAL_BYTES = 150 * 1024;
const GOAL_MS = 1000;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function measure(browser, view) {
  const ctx = await context(browser, base);
  if (view === "catalog") {
    await ctx.addInitScript(
      ([b, k]) => sessionStorage.setItem("cm.console.session", JSON.stringify({ base: b, key: k, admin: false })),
      [base, key],
    );
  }
  const page = await ctx.newPage();
  const done = [];
  page.on("requestfinished", (r) => done.push(r));
  const url = view === "catalog" ? `${base}/#/catalog` : `${base}/`;
  const markName = view === "catalog" ? "console:catalogReady" : "console:signedOut";
  await page.goto(url);
  await page.waitForFunction((m) => performance.getEntriesByName(m).length > 0, markName);
  const t = await page.evaluate((m) => {
    const nav = performance.getEntriesByType("navigation")[0];
    const res = performance.getEntriesByType("resource");
    const find = (re) => res.find((r) => re.test(new URL(r.name).pathname));
    const js = find(/^\/app\.js$/);
    const api = find(/^\/v1\/catalog$/);
    return {
      mark: performance.getEntriesByName(m)[0].startTime,
      dcl: nav.domContentLoadedEventEnd,
      html: nav.responseEnd,
      js: js ? js.responseEnd : null,
      apiStart: api ? api.startTime : null,
      apiEnd: api ? api.responseEnd : null,
    };
  }, markName);
  // Let late requests of the view finish before counting.
  await page.waitForLoadState("networkidle").catch(() => {});
  let wire = 0;
  let bodies = 0;
  let gz = 0;
  const parts = [];
  for (const r of done) {
    const u = new URL(r.url());
    if (u.origin !== new URL(base).origin) continue;
    const sizes = await r.sizes();
    const res = await r.response();
    const body = res ? await res.body().catch(() => Buffer.alloc(0)) : Buffer.alloc(0);
    wire += sizes.responseBodySize + sizes.responseHeadersSize + sizes.requestHeadersSize + sizes.requestBodySize;
    bodies += body.length;
    gz += gzipSync(body, { level: 9 }).length;
    parts.push(`${u.pathname}${u.search ? "?…" : ""} ${sizes.responseBodySize}`);
  }
  await ctx.close();
  return { ms: t.mark, dcl: t.dcl, t, wire, bodies, gz, requests: parts.length, parts };
}

const browser = await launch();
const results = {};
try {
  for (const view of ["signed-out", "catalog"]) {
    await measure(browser, view); // warm the server, not the browser
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await measure(browser, view));
    results[view] = runs;
  }
} finally {
  await browser.close();
}

const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(`\nconsole (headless chromium ${RUNS} runs per view, fresh context each, median)`);
console.log(`${"view".padEnd(12)} ${"requests".padStart(8)} ${"on the wire".padStart(12)} ${"bodies".padStart(11)} ${"gzip -9".padStart(10)} ${"render".padStart(9)} ${"DCL".padStart(8)}  goal`);
for (const [view, runs] of Object.entries(results)) {
  const wire = median(runs.map((r) => r.wire));
  const ms = median(runs.map((r) => r.ms));
  const ok = wire <= GOAL_BYTES && ms <= GOAL_MS;
  console.log(
    `${view.padEnd(12)} ${String(runs[0].requests).padStart(8)} ${kib(wire).padStart(12)} ${kib(median(runs.map((r) => r.bodies))).padStart(11)} ${kib(median(runs.map((r) => r.gz))).padStart(10)} ${`${ms.toFixed(0)} ms`.padStart(9)} ${`${median(runs.map((r) => r.dcl)).toFixed(0)} ms`.padStart(8)}  ≤150 KiB, ≤1 s ${ok ? "ok" : "MISSED"}`,
  );
  console.log(`  ${view} requests (body bytes as served): ${runs[0].parts.join(", ")}`);
  console.log(`  ${view} render ms per run: ${runs.map((r) => r.ms.toFixed(0)).join(" ")}`);
  const med = (k) => median(runs.map((r) => r.t[k]).filter((x) => x !== null)).toFixed(0);
  console.log(
    `  ${view} timeline (median ms from navigation start): HTML received ${med("html")}, app.js received ${med("js")}` +
      (view === "catalog" ? `, GET /v1/catalog sent ${med("apiStart")} and answered ${med("apiEnd")}` : "") +
      `, rendered ${ms.toFixed(0)}`,
  );
}
const dist = new URL("../console/dist/", import.meta.url).pathname;
const files = readdirSync(dist).filter((f) => statSync(join(dist, f)).isFile());
console.log(
  `console assets (console/dist): ${files
    .map((f) => {
      const b = readFileSync(join(dist, f));
      return `${f} ${b.length} B (gzip ${gzipSync(b, { level: 9 }).length} B)`;
    })
    .join(", ")}`,
);
