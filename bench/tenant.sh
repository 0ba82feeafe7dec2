#!/usr/bin/env bash
# A tenant at scale (issue 16): starts the release worker like `make dev`
# (fresh state) and a fake provider (bench/fake_provider.py), grows one
# tenant to 10 instances, binds the consumer `bench-agent` (two bindings
# pinned to the first instance, two unpinned, served by the oldest connected
# instance), and measures with wrk
#   capabilities     GET /v1/capabilities?limit=20
#   connectors       GET /v1/connectors?limit=20
#   connectors deep  GET /v1/connectors?limit=20&cursor=… (the oldest page)
#   events           GET /v1/events?limit=20
#   events deep      GET /v1/events?limit=20&cursor=… (the oldest page)
#   bindings         GET /v1/bindings?limit=20
#   consumer tools   GET /v1/consumers/bench-agent/tools
#   gateway list     POST /v1/mcp tools/list as bench-agent (2026-07-28)
# and the floor (GET /v1/ping) in every round; then grows the tenant by
# TENANT_SIZE more instances through POST /v1/connectors (bench/tenant_fill.py,
# with one binding of another consumer per 10 instances) and measures again.
# Prints req/s (the median of ROUNDS rounds), the ratio to the small tenant's
# figure of the same run, raw and over the floor of the same round, against
# the goal (≥ 0.8×), the fill's time and the workerd process's memory
# (bench/lib.sh) after each size's rounds.
#
#   TENANT_SIZE (default 3000)  ROUNDS (default 3)  DURATION (10s)
#   CONNECTIONS (16)  THREADS (2)  FILLERS (concurrent installs, default 8)
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$ROOT"
source bench/lib.sh

SIZE="${TENANT_SIZE:-3000}"
ROUNDS="${ROUNDS:-3}"
FILLERS="${FILLERS:-8}"
[ -f build/index.js ] || make build >&2

port=$(bench_port)
state=$(mktemp -d /tmp/cm-tenant.XXXXXX)
token="bench-operator-$RANDOM$RANDOM"
base="http://127.0.0.1:$port"
provider_token="ghp_BenchToken0123456789abcdefghijklmnop"
python3 bench/fake_provider.py "$state/provider.port" "$provider_token" &
provider=$!
trap 'bench_stop; kill "$provider" 2>/dev/null || true; wait "$provider" 2>/dev/null || true; rm -rf "$state"' EXIT
for _ in $(seq 1 100); do [ -s "$state/provider.port" ] && break; sleep 0.05; done
provider_base="http://127.0.0.1:$(cat "$state/provider.port")"
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
PROBE_ALLOW_HOSTS="127.0.0.1:$(cat "$state/provider.port")" bench_serve "$state" "$port" "$token"

json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v[k];console.log(v)})' "$1"; }
admin=$(curl -fsS -X POST "$base/v1/tenants" -H "authorization: Bearer $token" -d '{"name":"tenant-scale"}' | json api_key.secret)
key() { curl -fsS -X POST "$base/v1/api-keys" -H "authorization: Bearer $admin" -d "$1" | json secret; }
manager=$(key '{"role":"manager"}')
viewer=$(key '{"role":"viewer"}')
agent=$(key '{"role":"agent","consumer":"bench-agent"}')
auth=(-H "authorization: Bearer $viewer")
fill() { python3 bench/tenant_fill.py "$base" "$manager" "$provider_base" "$provider_token" "$@" "$FILLERS"; }

read -r _ _ secs < <(fill small 0 10 0)
first=$(curl -fsS "$base/v1/connectors?limit=100" "${auth[@]}" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const d=JSON.parse(s).data;console.log(d[d.length-1].id)})')
bind() { curl -fsS -X POST "$base/v1/bindings" -H "authorization: Bearer $manager" -d "$1" >/dev/null; }
bind "{\"consumer\":\"bench-agent\",\"capability\":\"user.read\",\"connector_id\":\"$first\"}"
bind "{\"consumer\":\"bench-agent\",\"capability\":\"repo.read\",\"connector_id\":\"$first\"}"
bind '{"consumer":"bench-agent","capability":"issue.read","alias":"issues"}'
bind '{"consumer":"bench-agent","capability":"issue.write","alias":"issues"}'

# tools: the number of tools the consumer sees, by both routes (they must agree).
tools() {
  local rest mcp
  rest=$(curl -fsS "$base/v1/consumers/bench-agent/tools?limit=100" "${auth[@]}" | json data.length)
  mcp=$(curl -fsS -X POST "$base/v1/mcp" -H "authorization: Bearer $agent" -H 'MCP-Protocol-Version: 2025-11-25' \
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' | json result.tools.length)
  [ "$rest" = "$mcp" ] || { echo "[bench] the consumer's tools: $rest by REST, $mcp by MCP" >&2; exit 1; }
  echo "$rest"
}
# oldest PATH: the cursor of the last page of PATH (walked 20 at a time), so
# that page is the tenant's oldest.
oldest() {
  node - "$base$1" "$viewer" <<'JS'
const [url, key] = process.argv.slice(2);
const get = async (q) => (await fetch(url + q, { headers: { authorization: `Bearer ${key}` } })).json();
(async () => {
  let cursor = null, page;
  do {
    page = await get(`?limit=20${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    if (page.has_more) cursor = page.next_cursor;
  } while (page.has_more);
  console.log(cursor ?? "");
})();
JS
}

results="$state/results"
# measure LABEL: ROUNDS rounds of every route.
measure() {
  local r a b c deep_cn deep_ev
  deep_cn=$(oldest /v1/connectors); deep_ev=$(oldest /v1/events)
  [ -n "$deep_cn" ] && [ -n "$deep_ev" ] || { echo "[bench] no second page to measure" >&2; exit 1; }
  for r in $(seq 1 "$ROUNDS"); do
    read -r a b c < <(bench_wrk "$base/v1/ping"); echo "$1 $r floor $a $b $c" >> "$results"
    read -r a b c < <(bench_wrk "$base/v1/capabilities?limit=20" "${auth[@]}"); echo "$1 $r capabilities $a $b $c" >> "$results"
    read -r a b c < <(bench_wrk "$base/v1/connectors?limit=20" "${auth[@]}"); echo "$1 $r connectors $a $b $c" >> "$results"
    read -r a b c < <(bench_wrk "$base/v1/connectors?limit=20&cursor=$deep_cn" "${auth[@]}"); echo "$1 $r connectors-deep $a $b $c" >> "$results"
    read -r a b c < <(bench_wrk "$base/v1/events?limit=20" "${auth[@]}"); echo "$1 $r events $a $b $c" >> "$results"
    read -r a b c < <(bench_wrk "$base/v1/events?limit=20&cursor=$deep_ev" "${auth[@]}"); echo "$1 $r events-deep $a $b $c" >> "$results"
    read -r a b c < <(bench_wrk "$base/v1/bindings?limit=20" "${auth[@]}"); echo "$1 $r bindings $a $b $c" >> "$results"
    read -r a b c < <(bench_wrk "$base/v1/consumers/bench-agent/tools" "${auth[@]}"); echo "$1 $r consumer-tools $a $b $c" >> "$results"
    read -r a b c < <(bench_wrk "$base/v1/mcp" -s bench/mcp.lua -- "$agent" list); echo "$1 $r gateway-list $a $b $c" >> "$results"
  done
  read -r a b < <(bench_workerd_mem "$BENCH_SERVE"); echo "$1 mem $a $b" >> "$state/memory"
}

small_tools=$(tools)
echo "10 instances: installed in ${secs}s; bench-agent sees $small_tools tools" >> "$state/fill"
measure 10
read -r installed bound secs < <(fill big 10 $((SIZE + 10)) 10)
big=$((SIZE + 10))
echo "installed $installed more instances and $bound other consumers' bindings in ${secs}s ($(awk -v n="$installed" -v s="$secs" 'BEGIN { printf "%.0f", n / s }') installs/s, $FILLERS at a time)" >> "$state/fill"
big_tools=$(tools)
[ "$big_tools" = "$small_tools" ] || { echo "[bench] bench-agent sees $big_tools tools at $big instances, $small_tools at 10" >&2; exit 1; }
echo "$big instances: bench-agent sees $big_tools tools" >> "$state/fill"
measure "$big"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "tenant at scale: wrangler dev (workerd), ${THREADS:-2} wrk threads, ${CONNECTIONS:-16} connections, ${DURATION:-10s} per route, $ROUNDS rounds (median), $(nproc) cores"
echo "load average before $load_before, after $load_after"
cat "$state/fill"
python3 - "$results" "$state/memory" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
mem = [l.split() for l in open(sys.argv[2])]
sizes = list(dict.fromkeys(r[0] for r in rows))
small = sizes[0]
routes = [("capabilities", "GET /v1/capabilities?limit=20"), ("connectors", "GET /v1/connectors?limit=20"),
          ("connectors-deep", "  … the oldest page (cursor)"), ("events", "GET /v1/events?limit=20"),
          ("events-deep", "  … the oldest page (cursor)"), ("bindings", "GET /v1/bindings?limit=20"),
          ("consumer-tools", "GET /v1/consumers/{c}/tools"), ("gateway-list", "MCP tools/list (bench-agent)"),
          ("floor", "GET /v1/ping (floor)")]
def med(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]
def rps(size, route):
    return [float(r[3]) for r in rows if r[0] == size and r[2] == route]
def over_floor(size, route):
    floor = {r[1]: float(r[3]) for r in rows if r[0] == size and r[2] == "floor"}
    return [float(r[3]) / floor[r[1]] for r in rows if r[0] == size and r[2] == route]
def p50(size, route):
    mine = sorted((float(r[3]), r[4]) for r in rows if r[0] == size and r[2] == route)
    return mine[len(mine) // 2][1]
print(f"{'route':34} {'instances':>9} {'req/s':>8} {'rounds':>11} {'p50':>9} {'×small':>7} {'×small/floor':>13}  goal")
for key, label in routes:
    base_rps, base_fl = med(rps(small, key)), med(over_floor(small, key))
    for size in sizes:
        xs = rps(size, key)
        ratio = med(xs) / base_rps
        fl = med(over_floor(size, key)) / base_fl
        verdict = "" if size == small or key == "floor" else f"≥0.8 {'ok' if ratio >= 0.8 else 'MISSED'}"
        spread = f"{min(xs):.0f}–{max(xs):.0f}"
        print(f"{label:34} {size:>9} {med(xs):8.0f} {spread:>11} {p50(size, key):>9} {ratio:7.2f} {fl:13.2f}  {verdict}")
print("workerd memory (RSS / peak RSS, MiB; the whole local runtime: the worker's isolate and Wasm memory, the objects, local D1 and KV):")
for m in mem:
    print(f"  {m[0]:>8} instances: {int(m[2]) / 1024:7.1f} / {int(m[3]) / 1024:7.1f}")
PY
