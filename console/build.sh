#!/usr/bin/env bash
# Builds the console and the connect page into console/dist (git-ignored),
# the folder wrangler.toml's [assets] serves: both entry points bundled and
# minified by the repo's esbuild (Preact and htm from package-lock.json),
# the stylesheet minified, the HTML and the _headers file copied. Writes a
# fresh folder and swaps it in, so a failed build never leaves half a dist.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh

src=console/src
out=console/dist
tmp=$(mktemp -d console/.dist.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

"$ESBUILD_BIN" "$src/app.mjs" "$src/connect.mjs" --bundle --minify --format=esm --target=es2020 \
  --outdir="$tmp" --entry-names='[name]' --legal-comments=none --log-level=warning
"$ESBUILD_BIN" "$src/styles.css" --minify --outfile="$tmp/styles.css" --log-level=warning
cp "$src/index.html" "$src/connect.html" "$src/_headers" "$tmp/"
chmod 755 "$tmp"

rm -rf "$out.old"
[ -d "$out" ] && mv "$out" "$out.old"
mv "$tmp" "$out"
rm -rf "$out.old"
trap - EXIT
printf '[console] built %s: %s\n' "$out" "$(cd "$out" && for f in app.js connect.js styles.css; do printf '%s %s B (gzip %s B)  ' "$f" "$(wc -c < "$f")" "$(gzip -9c "$f" | wc -c)"; done)" >&2
