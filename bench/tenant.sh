#!/usr/bin/env bash
# A tenant at scale (issue 16): starts the release worker like `make dev`
# (fresh state) and a fake provider (bench/fake_provider.py), and grows two
# tenants through the API: `small` to 10 instances, `large` to
# 10 + TENANT_SIZE (bench/tenant_fill.py, with one binding of another
# consumer per 10 instances past the first 10). In each, the consumer
# `bench-agent` has the same four bindings (two pinned to the oldest
# instance, two unpinned, served by the oldest connected instance). Measures
# with wrk, each route on both tenants back to back in every round
#   capabilities     GET /v1/capabilities?limit=20
#   connectors       GET /v1/connectors?limit=20 (10 items in the small
#                    tenant, 20 in the large: the page itself costs twice)
#   connectors ×10   GET /v1/connectors?limit=10 (a page as full in both)
#   connectors deep  GET /v1/connectors?limit=20&cursor=… (the oldest page)
#   events           GET /v1/events?limit=20
#   events deep      GET /v1/events?limit=20&cursor=… (the oldest page)
#   bindings         GET /v1/bindings?limit=20
#   consumer tools   GET /v1/consumers/bench-agent/tools
#   gateway list     POST /v1/mcp tools/list as bench-agent (2026-07-28)
# and the floor (GET /v1/ping) in every round. Prints req/s (the median of
# ROUNDS rounds) and the large tenant's ratio to the small one's in the same
# round (the median of the rounds; this 2-core VM drifts by ±20 % between
# minutes, so sizes measured minutes apart would mostly compare the drift),
# against the goal (≥ 0.8×); the fill's time and the workerd process's
# memory (bench/lib.sh) with the small tenant only and after the rounds.
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
trap 'bench_stop; kill "$BENCH_PROVIDER" 2>/dev/null || true; wait "$BENCH_PROVIDER" 2>/dev/null || true; rm -rf "$state"' EXIT
bench_provider "$state" "$provider_token"
provider_base=$PROVIDER_BASE
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
PROBE_ALLOW_HOSTS="127.0.0.1:$PROVIDER_PORT" bench_serve "$state" "$port" "$token"

json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v[k];console.log(v)})' "$1"; }
bind() { curl -fsS -X POST "$base/v1/bindings" -H "authorization: Bearer $1" -d "$2" >/dev/null; }

# tenant NAME: a tenant with manager, viewer and agent (bench-agent) keys,
# written to $state/NAME.keys as "manager viewer agent".
tenant() {
  local admin
  admin=$(curl -fsS -X POST "$base/v1/tenants" -H "authorization: Bearer $token" -d "{\"name\":\"$1\"}" | json api_key.secret)
  local k=()
  for body in '{"role":"manager"}' '{"role":"viewer"}' '{"role":"agent","consumer":"bench-agent"}'; do
    k+=("$(curl -fsS -X POST "$base/v1/api-keys" -H "authorization: Bearer $admin" -d "$body" | json secret)")
  done
  echo "${k[*]}" > "$state/$1.keys"
}
keys() { read -r manager viewer agent < "$state/$1.keys"; }
# fill NAME PREFIX FROM TO BIND_EVERY: installs (and other consumers' bindings).
fill() {
  keys "$1"
  python3 bench/tenant_fill.py "$base" "$manager" "$provider_base" "$provider_token" "$2" "$3" "$4" "$FILLERS" "$5"
}
# agent_bindings NAME: bench-agent's four bindings, pinned ones on the oldest instance.
agent_bindings() {
  keys "$1"
  local oldest
  oldest=$(curl -fsS "$base/v1/connectors?limit=100" -H "authorization: Bearer $viewer" \
    | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const d=JSON.parse(s).data;console.log(d[d.length-1].id)})')
  bind "$manager" "{\"consumer\":\"bench-agent\",\"capability\":\"user.read\",\"connector_id\":\"$oldest\"}"
  bind "$manager" "{\"consumer\":\"bench-agent\",\"capability\":\"repo.read\",\"connector_id\":\"$oldest\"}"
  bind "$manager" '{"consumer":"bench-agent","capability":"issue.read","alias":"issues"}'
  bind "$manager" '{"consumer":"bench-agent","capability":"issue.write","alias":"issues"}'
}
# tools NAME: how many tools bench-agent sees, by both routes (they must agree).
tools() {
  keys "$1"
  local rest mcp
  rest=$(curl -fsS "$base/v1/consumers/bench-agent/tools?limit=100" -H "authorization: Bearer $viewer" | json data.length)
  mcp=$(curl -fsS -X POST "$base/v1/mcp" -H "authorization: Bearer $agent" -H 'MCP-Protocol-Version: 2025-11-25' \
    -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' | json result.tools.length)
  [ "$rest" = "$mcp" ] || { echo "[bench] $1: bench-agent's tools: $rest by REST, $mcp by MCP" >&2; exit 1; }
  echo "$rest"
}
# oldest NAME PATH: the cursor of the last page of PATH walked 5 at a time, so
# a page of 20 from it holds the tenant's oldest 5 (or fewer).
oldest() {
  keys "$1"
  node - "$base$2" "$viewer" <<'JS'
const [url, key] = process.argv.slice(2);
const get = async (q) => (await fetch(url + q, { headers: { authorization: `Bearer ${key}` } })).json();
(async () => {
  let cursor = null, page;
  do {
    page = await get(`?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    if (page.has_more) cursor = page.next_cursor;
  } while (page.has_more);
  console.log(cursor ?? "");
})();
JS
}

large=$((SIZE + 10))
tenant small; tenant large
read -r _ _ secs < <(fill small small 0 10 0)
agent_bindings small
small_tools=$(tools small)
read -r a b < <(bench_workerd_mem "$BENCH_SERVE"); echo "small tenant only: $a $b" >> "$state/memory"
read -r _ _ secs < <(fill large first 0 10 0)
agent_bindings large
read -r installed bound secs < <(fill large more 10 "$large" 10)
echo "filled the large tenant with $installed more instances and $bound other consumers' bindings in ${secs}s ($(awk -v n="$installed" -v s="$secs" 'BEGIN { printf "%.0f", n / s }') installs/s, $FILLERS at a time)" >> "$state/fill"
large_tools=$(tools large)
[ "$large_tools" = "$small_tools" ] || { echo "[bench] bench-agent sees $large_tools tools at $large instances, $small_tools at 10" >&2; exit 1; }
echo "bench-agent sees $small_tools tools in both tenants" >> "$state/fill"
for t in small large; do
  echo "$t $(oldest "$t" /v1/connectors) $(oldest "$t" /v1/events)" >> "$state/cursors"
done
while read -r t c e; do
  [ -n "$c" ] && [ -n "$e" ] || { echo "[bench] $t: no second page to measure" >&2; exit 1; }
done < "$state/cursors"

results="$state/results"
# one ROUND NAME ROUTE PATH [wrk options…]: measures PATH on both tenants.
one() {
  local r=$1 route=$2 path=$3 t a b c; shift 3
  for t in small large; do
    keys "$t"
    local deep_cn deep_ev
    read -r _ deep_cn deep_ev < <(grep "^$t " "$state/cursors")
    local url="$base${path//@CN@/$deep_cn}"; url=${url//@EV@/$deep_ev}
    if [ "$route" = gateway-list ]; then
      read -r a b c < <(bench_wrk "$url" -s bench/mcp.lua -- "$agent" list)
    else
      read -r a b c < <(bench_wrk "$url" -H "authorization: Bearer $viewer")
    fi
    echo "$t $r $route $a $b $c" >> "$results"
  done
}
for r in $(seq 1 "$ROUNDS"); do
  read -r a b c < <(bench_wrk "$base/v1/ping"); echo "floor $r floor $a $b $c" >> "$results"
  one "$r" capabilities "/v1/capabilities?limit=20"
  one "$r" connectors "/v1/connectors?limit=20"
  one "$r" connectors-10 "/v1/connectors?limit=10"
  one "$r" connectors-deep "/v1/connectors?limit=20&cursor=@CN@"
  one "$r" events "/v1/events?limit=20"
  one "$r" events-deep "/v1/events?limit=20&cursor=@EV@"
  one "$r" bindings "/v1/bindings?limit=20"
  one "$r" consumer-tools "/v1/consumers/bench-agent/tools"
  one "$r" gateway-list "/v1/mcp"
done
read -r a b < <(bench_workerd_mem "$BENCH_SERVE"); echo "both tenants, after the rounds: $a $b" >> "$state/memory"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "tenant at scale: wrangler dev (workerd), ${THREADS:-2} wrk threads, ${CONNECTIONS:-16} connections, ${DURATION:-10s} per route and tenant, $ROUNDS rounds (median), $(nproc) cores"
echo "load average before $load_before, after $load_after"
cat "$state/fill"
python3 - "$results" "$state/memory" "$large" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
large = sys.argv[3]
routes = [("capabilities", "GET /v1/capabilities?limit=20"), ("connectors", "GET /v1/connectors?limit=20"),
          ("connectors-10", "  … limit=10 (both pages full)"), ("connectors-deep", "  … the oldest page (cursor)"), ("events", "GET /v1/events?limit=20"),
          ("events-deep", "  … the oldest page (cursor)"), ("bindings", "GET /v1/bindings?limit=20"),
          ("consumer-tools", "GET /v1/consumers/{c}/tools"), ("gateway-list", "MCP tools/list (bench-agent)")]
def med(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]
by = {(r[0], r[1], r[2]): r for r in rows}
rounds = sorted({r[1] for r in rows})
floor = med([float(by[("floor", k, "floor")][3]) for k in rounds])
print(f"floor GET /v1/ping: {floor:.0f} req/s (median of {len(rounds)} rounds)")
print(f"{'route':32} {'10 instances':>13} {large + ' instances':>16} {'×10 (per round)':>22}  goal")
for key, label in routes:
    s = [float(by[("small", k, key)][3]) for k in rounds]
    l = [float(by[("large", k, key)][3]) for k in rounds]
    ratios = [b / a for a, b in zip(s, l)]
    ratio = med(ratios)
    spread = " ".join(f"{x:.2f}" for x in ratios)
    print(f"{label:32} {med(s):9.0f} r/s {med(l):12.0f} r/s {ratio:6.2f} ({spread})  ≥0.8 {'ok' if ratio >= 0.8 else 'MISSED'}")
print("p50 (ms, the median round):")
for key, label in routes:
    p = lambda t: sorted((float(by[(t, k, key)][3]), by[(t, k, key)][4]) for k in rounds)[len(rounds) // 2][1]
    print(f"  {label:30} {p('small'):>9} {p('large'):>9}")
print("workerd memory (RSS / peak RSS, MiB; the whole local runtime: the worker's isolate and Wasm memory, the objects, local D1 and KV):")
for line in open(sys.argv[2]):
    *label, rss, peak = line.split()
    print(f"  {' '.join(label):32} {int(rss) / 1024:7.1f} / {int(peak) / 1024:7.1f}")
PY
