#!/usr/bin/env bash
# Installs whatever this machine lacks to build, serve and test the worker:
# the wasm target, wasm-bindgen-cli (the version Cargo.lock pins), worker-build,
# and node 22 + wrangler + binaryen (package.json / package-lock.json).
# Idempotent: a second run only checks versions and returns in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7

say() { printf '[tools] %s\n' "$*" >&2; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown >&2
fi

# wasm-bindgen-cli must equal the wasm-bindgen library in Cargo.lock exactly.
wbg_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/"/, "", $3); print $3; exit }' Cargo.lock)
if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$wbg_version" ]; then
  say "installing wasm-bindgen-cli $wbg_version"
  # Not --locked: one of its locked dependencies is no longer on the registry.
  cargo install wasm-bindgen-cli --version "$wbg_version" --force >&2
fi

if [ "$(worker-build --version 2>/dev/null)" != "$WORKER_BUILD_VERSION" ]; then
  say "installing worker-build $WORKER_BUILD_VERSION"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --force >&2
fi

# node_modules is current when npm's own record of it is newer than the lock file.
if [ ! -x node_modules/.bin/wrangler ] || [ ! -x node_modules/.bin/node ] || [ ! -x node_modules/.bin/wasm-opt ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing node tools from package-lock.json"
  # Not `npm ci`: this npm writes lock files without other platforms' optional
  # packages (workerd-darwin-*), which `npm ci` then calls out of sync.
  # `npm install` installs exactly the locked versions; `--no-save` keeps it
  # from rewriting the tracked lock file (some npm versions re-add other
  # platforms' optional packages), so a fresh clone stays clean.
  # Errors only: its EBADENGINE warnings compare wrangler's `node >= 22` with
  # the machine's own node, while the build runs the node 22 installed here.
  npm install --no-audit --no-fund --no-save --loglevel=error >&2
fi
