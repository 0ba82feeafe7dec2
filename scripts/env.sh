# Sourced by the other scripts: the tool paths and the offline settings.
# worker-build would otherwise download wasm-bindgen, wasm-opt and esbuild.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$ROOT/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export WASM_BINDGEN_BIN="${WASM_BINDGEN_BIN:-$(command -v wasm-bindgen || true)}"
export WASM_OPT_BIN="${WASM_OPT_BIN:-$ROOT/node_modules/.bin/wasm-opt}"
export ESBUILD_BIN="${ESBUILD_BIN:-$ROOT/node_modules/.bin/esbuild}"
export WRANGLER_SEND_METRICS=false
export CLOUDFLARE_CF_FETCH_ENABLED=false
export WRANGLER_LOG_PATH="${WRANGLER_LOG_PATH:-$ROOT/.wrangler/logs}"

# wrangler's local trace collector (the local explorer's traces) records every
# invocation (the worker, each Durable Object and D1 call) into local SQLite,
# on workerd's one event-loop thread: measured at ~25 % of install throughput.
# Production tracing costs the worker nothing, so it is off for dev, tests and
# the benchmark alike; X_LOCAL_OBSERVABILITY=true turns it back on.
export X_LOCAL_OBSERVABILITY="${X_LOCAL_OBSERVABILITY:-false}"
