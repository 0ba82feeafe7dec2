// Shared by the browser scripts (tests/browser/*.mjs, bench/console.mjs):
// Debian's chromium (scripts/browser-tools.sh) driven by playwright-core,
// which never downloads a browser. Every request to anything but the server
// under test is refused, so a page can reach nothing outside 127.0.0.1.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

export const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";

export async function launch() {
  const args = ["--disable-dev-shm-usage", "--no-first-run", "--disable-background-networking"];
  // Chromium's sandbox needs user namespaces that root in a container lacks.
  if (typeof process.getuid === "function" && process.getuid() === 0) args.push("--no-sandbox");
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args });
}

/** A context whose pages may reach only `base`'s origin (others are aborted). */
export async function context(browser, base, { alsoAllow = [], ...options } = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const origin = new URL(base).origin;
  const allowed = new Set([origin, ...alsoAllow]);
  await ctx.route("**/*", (route) => {
    const u = new URL(route.request().url());
    if (u.protocol === "data:" || allowed.has(u.origin)) return route.continue();
    return route.abort("blockedbyclient");
  });
  return ctx;
}

/** Collects page errors and console errors, but not aborted third-party loads (icons). */
export function watch(page, base) {
  const problems = [];
  const origin = new URL(base).origin;
  page.on("pageerror", (e) => problems.push(`pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() !== "error") return;
    const where = (m.location() && m.location().url) || "";
    if (/Failed to load resource/.test(m.text()) && !where.startsWith(origin)) return;
    if (/Failed to load resource/.test(m.text()) && /the server responded with a status of 4\d\d/.test(m.text())) return; // API refusals shown in the page
    problems.push(`console: ${m.text()} (${where})`);
  });
  return problems;
}

export function screenshots(dir) {
  mkdirSync(dir, { recursive: true });
  const taken = [];
  return {
    taken,
    async shot(page, name, opts = {}) {
      const path = join(dir, `${name}.png`);
      await page.screenshot({ path, fullPage: true, ...opts });
      taken.push(path);
      return path;
    },
  };
}

export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

/** The text of the elements an input's aria-describedby names. */
export async function describedBy(page, selector) {
  return page.$eval(selector, (el) =>
    (el.getAttribute("aria-describedby") || "")
      .split(/\s+/)
      .filter(Boolean)
      .map((id) => document.getElementById(id)?.textContent || `<missing #${id}>`),
  );
}
