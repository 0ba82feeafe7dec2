#!/usr/bin/env bash
# Catalog at scale (issue 16): starts the release worker like `make dev`
# (fresh state, the shipped catalog), measures with wrk
#   search   GET /v1/catalog?q=data&limit=20
#   browse   GET /v1/catalog?limit=100
#   by-id    GET /v1/catalog/github
# (and the floor, GET /v1/ping, in every round), then publishes generated
# listings (bench/scale_listings.py) through the operator's PUT until the
# catalog holds SCALE_SIZES more than it shipped with, and measures again at
# each size. Prints req/s (the median of ROUNDS rounds) and the ratio to the
# shipped catalog's figure of the same run, raw and over the floor of the
# same round, against the goals (≥ 0.8× at 3,000, ≥ 0.5× at 30,000); the
# publishing time. Before measuring a size the worker is restarted on the
# same state, so its first catalog request loads the index from D1: that
# request's time, the worker's own log line of the load (listings, reads,
# time, the index's size, the Wasm linear memory) and the workerd process's
# memory after the rounds (RSS and peak, /proc: the whole local runtime, see
# bench/lib.sh) are printed per size.
#
#   SCALE_SIZES (default "3000 30000")  ROUNDS (default 3)  DURATION (10s)
#   CONNECTIONS (16)  THREADS (2)  PUBLISHERS (concurrent PUTs, default 8)
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$ROOT"
source bench/lib.sh

SIZES="${SCALE_SIZES:-3000 30000}"
ROUNDS="${ROUNDS:-3}"
PUBLISHERS="${PUBLISHERS:-8}"
[ -f build/index.js ] || make build >&2

port=$(bench_port)
state=$(mktemp -d /tmp/cm-scale.XXXXXX)
token="bench-operator-$RANDOM$RANDOM"
base="http://127.0.0.1:$port"
trap 'bench_stop; rm -rf "$state"' EXIT
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
bench_serve "$state" "$port" "$token"

json() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{let v=JSON.parse(s);for(const k of process.argv[1].split("."))v=v[k];console.log(v)})' "$1"; }
admin=$(curl -fsS -X POST "$base/v1/tenants" -H "authorization: Bearer $token" -d '{"name":"scale"}' | json api_key.secret)
viewer=$(curl -fsS -X POST "$base/v1/api-keys" -H "authorization: Bearer $admin" -d '{"role":"viewer"}' | json secret)
auth=(-H "authorization: Bearer $viewer")
total() { curl -fsS "$base/v1/catalog?limit=1" "${auth[@]}" | json total; }
shipped=$(total)

results="$state/results"
# restart: the same state, a fresh isolate; then its first catalog request.
restart() {
  bench_stop
  bench_serve "$state" "$port" "$token"
  local t
  t=$(curl -fsS -o /dev/null -w '%{time_total}' "$base/v1/catalog?limit=1" "${auth[@]}")
  # wrangler writes the worker's log a moment later.
  for _ in $(seq 1 50); do grep -aq 'catalog index: ' "$state/serve.log" && break; sleep 0.1; done
  echo "$1 first request ${t}s; $(grep -a -o 'catalog index: .*' "$state/serve.log" | tail -1 | sed 's/\x1b\[[0-9;]*m//g')" >> "$state/loads"
}
# measure LABEL: ROUNDS rounds of floor, search, browse, by-id.
measure() {
  local r a b c
  for r in $(seq 1 "$ROUNDS"); do
    read -r a b c < <(bench_wrk "$base/v1/ping"); echo "$1 $r floor $a $b $c" >> "$results"
    read -r a b c < <(bench_wrk "$base/v1/catalog?q=data&limit=20" "${auth[@]}"); echo "$1 $r search $a $b $c" >> "$results"
    read -r a b c < <(bench_wrk "$base/v1/catalog?limit=100" "${auth[@]}"); echo "$1 $r browse $a $b $c" >> "$results"
    read -r a b c < <(bench_wrk "$base/v1/catalog/github" "${auth[@]}"); echo "$1 $r by-id $a $b $c" >> "$results"
  done
  read -r a b < <(bench_workerd_mem "$BENCH_SERVE"); echo "$1 mem $a $b" >> "$state/memory"
}

read -r a b < <(bench_workerd_mem "$BENCH_SERVE"); echo "start mem $a $b" >> "$state/memory"
restart "$shipped"
measure "$shipped"
published=0
for n in $SIZES; do
  read -r count secs < <(python3 bench/scale_listings.py "$base" "$token" "$published" "$n" "$PUBLISHERS")
  echo "published $count listings in ${secs}s ($(awk -v n="$count" -v s="$secs" 'BEGIN { printf "%.0f", n / s }')/s, $PUBLISHERS at a time)" >> "$state/publish"
  published=$n
  now=$(total)
  [ "$now" = $((shipped + n)) ] || { echo "[bench] the catalog holds $now listings, expected $((shipped + n))" >&2; exit 1; }
  hits=$(curl -fsS "$base/v1/catalog?q=data&limit=20" "${auth[@]}" | json total)
  echo "at $now listings: q=data matches $hits" >> "$state/publish"
  restart "$now"
  measure "$now"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

echo
echo "catalog at scale: wrangler dev (workerd), ${THREADS:-2} wrk threads, ${CONNECTIONS:-16} connections, ${DURATION:-10s} per route, $ROUNDS rounds (median), $(nproc) cores"
echo "load average before $load_before, after $load_after"
cat "$state/publish"
cat "$state/loads"
python3 - "$results" "$state/memory" "$shipped" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
mem = [l.split() for l in open(sys.argv[2])]
shipped = sys.argv[3]
sizes = list(dict.fromkeys(r[0] for r in rows))
routes = [("search", "GET /v1/catalog?q=data&limit=20"), ("browse", "GET /v1/catalog?limit=100"),
          ("by-id", "GET /v1/catalog/github"), ("floor", "GET /v1/ping (floor)")]
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
print(f"{'route':34} {'listings':>8} {'req/s':>8} {'rounds':>17} {'p50':>9} {'×shipped':>9} {'×shipped/floor':>15}  goal")
for key, label in routes:
    base_rps, base_fl = med(rps(shipped, key)), med(over_floor(shipped, key))
    for size in sizes:
        xs = rps(size, key)
        ratio = med(xs) / base_rps
        fl = med(over_floor(size, key)) / base_fl
        n = int(size) - int(shipped)
        goal = 0.8 if n <= 3000 else 0.5
        verdict = "" if size == shipped or key == "floor" else f"≥{goal:.1f} {'ok' if ratio >= goal else 'MISSED'}"
        spread = f"{min(xs):.0f}–{max(xs):.0f}"
        print(f"{label:34} {size:>8} {med(xs):8.0f} {spread:>17} {p50(size, key):>9} {ratio:9.2f} {fl:15.2f}  {verdict}")
print("workerd memory (RSS / peak RSS, MiB; the whole local runtime: the worker's isolate and Wasm memory, the objects, local D1 and KV):")
for m in mem:
    print(f"  {m[0]:>8}: {int(m[2]) / 1024:7.1f} / {int(m[3]) / 1024:7.1f}")
PY
