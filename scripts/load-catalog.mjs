// Publishes every catalog/*.json manifest through the operator route
// `PUT /v1/catalog/{id}`: the worker validates it against the schema and the
// semantic checks, writes D1 (the source of truth) and invalidates the KV
// cache. A refused manifest is reported with its file and field, and fails
// the load. A listing the catalog already holds at a higher version (an
// approved submission) or has de-listed answers 409 and is kept as it is:
// loading from disk never moves a listing back or re-lists it.
//
//   node scripts/load-catalog.mjs <base url> <operator token>
import { readdir, readFile } from "node:fs/promises";
import { join, dirname } from "node:path";
import { fileURLToPath } from "node:url";

const [base, token] = process.argv.slice(2);
if (!base || !token) {
  console.error("usage: load-catalog.mjs <base url> <operator token>");
  process.exit(2);
}
const dir = join(dirname(fileURLToPath(import.meta.url)), "..", "catalog");
const files = (await readdir(dir)).filter((f) => f.endsWith(".json") && f !== "manifest.schema.json").sort();
let failed = 0;
let changed = 0;
let kept = 0;
for (const file of files) {
  const id = file.slice(0, -".json".length);
  const body = await readFile(join(dir, file));
  const res = await fetch(`${base}/v1/catalog/${encodeURIComponent(id)}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body,
  });
  const answer = await res.json().catch(() => ({}));
  if (res.status === 409) {
    kept++;
    console.error(`catalog/${file}: kept as published: ${answer.error?.message ?? ""}`);
  } else if (res.status !== 200) {
    failed++;
    const e = answer.error ?? {};
    console.error(`catalog/${file}: refused (${res.status} ${e.code ?? "?"}) at ${e.param ?? "?"}: ${e.message ?? ""}`);
  } else if (answer.changed) {
    changed++;
  }
}
console.error(
  `catalog: ${files.length - failed - kept} of ${files.length} manifests loaded (${changed} changed, ${kept} kept as published)`,
);
process.exit(failed ? 1 : 0);
