#!/usr/bin/env bash
# Benchmark: starts the release worker like `make dev` (wrangler dev, local
# D1/KV/DO, fresh state), then measures with wrk, in one run:
#   floor      GET /v1/ping                (touches no storage, no auth)
#   by-id      GET /v1/catalog/github      (auth + catalog read)
#   search     GET /v1/catalog?q=…&limit=20
#   install    POST /v1/connectors (static credentials verified against a fake
#              provider on 127.0.0.1), one tenant, and spread over 20 tenants
#   pg         PostgreSQL verify (TLS + SCRAM login, SELECT 1) and the query
#              tool (a 10-row SELECT) against a real PostgreSQL (bench/pg.sh)
#   console    the web console's first page in headless chromium (bench/console.mjs):
#              bytes on the wire and time to its first render, signed out and
#              on the catalog signed in; goals ≤ 150 KiB gzip, ≤ 1 s
# each as requests/s, p50, p99 and a ratio to the floor's requests/s, and the
# release wasm size raw and gzip. Goals: by-id ≥ 0.8×, search ≥ 0.6×,
# install ≥ 0.3×, the whole upload (Wasm, JS bundle, bundled documents, as
# `wrangler deploy --dry-run` counts it) ≤ 1 MiB gzip. Then the health sweep over the instances
# the install runs created: instances swept per second (cron trigger to the
# last fresh check, polled every 200 ms) and outbound requests per invocation.
#
#   DURATION (default 10s)  CONNECTIONS (default 16)  THREADS (default 2)
#   ROUNDS (default 3): every route is measured once per round, in turn, and
#   reported from the round with its median ratio to that round's floor.
set -euo pipefail
source "$(dirname "$0")/../scripts/env.sh"
cd "$ROOT"

DURATION="${DURATION:-10s}"
CONNECTIONS="${CONNECTIONS:-16}"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-3}"

if ! command -v wrk >/dev/null; then
  echo "[bench] installing wrk" >&2
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >&2 || { apt-get update -qq >&2 && apt-get install -y -qq wrk >&2; }
  else sudo apt-get install -y -qq wrk >&2; fi
fi
{ [ -f build/index.js ] && [ -f console/dist/index.html ]; } || make build >&2
scripts/browser-tools.sh

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
state=$(mktemp -d /tmp/cm-bench.XXXXXX)
token="bench-operator-$RANDOM$RANDOM"
base="http://127.0.0.1:$port"

provider_token="ghp_BenchToken0123456789abcdefghijklmnop"
python3 bench/fake_provider.py "$state/provider.port" "$provider_token" &
provider=$!
for _ in $(seq 1 100); do [ -s "$state/provider.port" ] && break; sleep 0.05; done
provider_base="http://127.0.0.1:$(cat "$state/provider.port")"

# A real PostgreSQL with TLS from a CA made for this run (bench/pg.sh), in a
# folder the postgres user can enter.
scripts/db-servers.sh
pgdir=$(mktemp -d /tmp/cm-bench-pg.XXXXXX)
serve=""
cleanup() {
  [ -z "$serve" ] || { kill -TERM -- "-$serve" 2>/dev/null || true; wait "$serve" 2>/dev/null || true; }
  kill "$provider" 2>/dev/null || true; wait "$provider" 2>/dev/null || true
  bench/pg.sh stop "$pgdir"
  rm -rf "$state" "$pgdir"
}
trap cleanup EXIT
pg_port=$(bench/pg.sh "$pgdir")
pg_url="postgresql://bench:$(cat "$pgdir/password")@127.0.0.1:$pg_port/shop?sslmode=require"

NODE_EXTRA_CA_CERTS="$pgdir/ca-bundle.pem" PORT=$port PERSIST_DIR="$state/persist" OPERATOR_TOKEN="$token" WRANGLER_LOG_LEVEL="${WRANGLER_LOG_LEVEL:-log}" \
  PROBE_ALLOW_HOSTS="127.0.0.1:$(cat "$state/provider.port"),127.0.0.1:$pg_port" \
  setsid bash scripts/serve.sh > "$state/stdout" 2> "$state/serve.log" &
serve=$!
for _ in $(seq 1 600); do grep -q READY "$state/stdout" 2>/dev/null && break; sleep 0.2; done
grep -q READY "$state/stdout" || { cat "$state/serve.log" >&2; echo "[bench] server did not start" >&2; exit 1; }

admin=$(curl -fsS -X POST "$base/v1/tenants" -H "authorization: Bearer $token" -d '{"name":"bench"}' \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).api_key.secret))')
viewer=$(curl -fsS -X POST "$base/v1/api-keys" -H "authorization: Bearer $admin" -d '{"role":"viewer"}' \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).secret))')

secret_of() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const v=JSON.parse(s);console.log(v.secret??v.api_key.secret)})'; }
# Manager keys: one tenant, and twenty tenants.
one="$state/one-tenant.keys"; twenty="$state/twenty-tenants.keys"
curl -fsS -X POST "$base/v1/api-keys" -H "authorization: Bearer $admin" -d '{"role":"manager"}' | secret_of > "$one"
for i in $(seq 1 20); do
  a=$(curl -fsS -X POST "$base/v1/tenants" -H "authorization: Bearer $token" -d "{\"name\":\"bench-$i\"}" | secret_of)
  curl -fsS -X POST "$base/v1/api-keys" -H "authorization: Bearer $a" -d '{"role":"manager"}' | secret_of >> "$twenty"
done

# run NAME PATH [AUTH | @KEYFILE | %KEY | !KEY]: prints "rps p50 p99" after a
# short warm-up. With @KEYFILE the request is an install (bench/install.lua)
# spread over those keys; %KEY a tool call (bench/tool_call.lua), !KEY a
# side-effecting tool call with a fresh Idempotency-Key each time.
run() {
  local path=$2 auth=() script=()
  case "${3:-}" in
    "") ;;
    @*) script=(-s bench/install.lua) ;;
    %*|!*) script=(-s bench/tool_call.lua) ;;
    \&*) script=(-s bench/mcp.lua) ;;
    ^*) script=(-s bench/post.lua) ;;
    *) auth=(-H "Authorization: Bearer $3") ;;
  esac
  local args=()
  local warm=()
  case "${3:-}" in
    @*) args=(-- "${3#@}" "$provider_base" "$1-run"); warm=(-- "${3#@}" "$provider_base" "$1-warm") ;;
    %*) args=(-- "${3#%}"); warm=(-- "${3#%}") ;;
    !*) args=(-- "${3#!}" "$1-run"); warm=(-- "${3#!}" "$1-warm") ;;
    \&*) local spec=${3#&}; args=(-- "${spec%%|*}" "${spec#*|}"); warm=("${args[@]}") ;;
    ^*) local spec=${3#^}; args=(-- "${spec%%|*}" "${spec#*|}"); warm=("${args[@]}") ;;
  esac
  wrk -t1 -c4 -d2s "${auth[@]}" "${script[@]}" "$base$path" "${warm[@]}" >/dev/null
  local out
  out=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "${auth[@]}" "${script[@]}" "$base$path" "${args[@]}")
  if grep -q "Non-2xx" <<<"$out"; then echo "[bench] $1: non-2xx answers" >&2; echo "$out" >&2; exit 1; fi
  local rps p50 p99
  rps=$(awk '/^Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  echo "$rps $p50 $p99"
}

# One instance for the tool calls, installed before the rounds.
mkey=$(cat "$one")
tool_cn=$(curl -fsS -X POST "$base/v1/connectors" -H "authorization: Bearer $mkey" \
  -d "{\"listing\":\"github\",\"name\":\"bench-tools\",\"auth\":{\"type\":\"pat\",\"token\":\"$provider_token\"},\"config\":{\"base_url\":\"$provider_base\"}}" \
  | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).id))')
read_call="/v1/connectors/$tool_cn/tools/users_get_authenticated/call"
write_call="/v1/connectors/$tool_cn/tools/issues_create/call"

# The gateway (POST /v1/mcp, 2026-07-28): an agent of the same tenant bound
# (pinned) to that instance's user.read calls the same read tool; and
# tools/list of a consumer with 20 bindings over 5 instances (a tenant of
# its own, so the install runs do not grow it).
json_field() { node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s)[process.argv[1]]))' "$1"; }
agent_key=$(curl -fsS -X POST "$base/v1/api-keys" -H "authorization: Bearer $admin" -d '{"role":"agent","consumer":"bench-bot"}' | json_field secret)
curl -fsS -X POST "$base/v1/bindings" -H "authorization: Bearer $mkey" \
  -d "{\"consumer\":\"bench-bot\",\"capability\":\"user.read\",\"connector_id\":\"$tool_cn\"}" >/dev/null
mcp_tool=github_users_get_authenticated
probe=$(curl -fsS -X POST "$base/v1/mcp" -H "authorization: Bearer $agent_key" -H 'MCP-Protocol-Version: 2026-07-28' \
  -H 'Mcp-Method: tools/call' -H "Mcp-Name: $mcp_tool" \
  -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/call\",\"params\":{\"name\":\"$mcp_tool\",\"arguments\":{},\"_meta\":{\"io.modelcontextprotocol/protocolVersion\":\"2026-07-28\",\"io.modelcontextprotocol/clientCapabilities\":{}}}}")
grep -q '"isError":false' <<<"$probe" || { echo "[bench] the MCP call failed: $probe" >&2; exit 1; }
gw_admin=$(curl -fsS -X POST "$base/v1/tenants" -H "authorization: Bearer $token" -d '{"name":"bench-gateway"}' | secret_of)
gw_agent=$(curl -fsS -X POST "$base/v1/api-keys" -H "authorization: Bearer $gw_admin" -d '{"role":"agent","consumer":"wide-bot"}' | json_field secret)
for i in 1 2 3 4 5; do
  cn=$(curl -fsS -X POST "$base/v1/connectors" -H "authorization: Bearer $gw_admin" \
    -d "{\"listing\":\"github\",\"name\":\"gw-$i\",\"auth\":{\"type\":\"pat\",\"token\":\"$provider_token\"},\"config\":{\"base_url\":\"$provider_base\"}}" | json_field id)
  for cap in user.read repo.read issue.read issue.write; do
    curl -fsS -X POST "$base/v1/bindings" -H "authorization: Bearer $gw_admin" \
      -d "{\"consumer\":\"wide-bot\",\"capability\":\"$cap\",\"connector_id\":\"$cn\",\"alias\":\"gh$i\"}" >/dev/null
  done
done
listed=$(curl -fsS -X POST "$base/v1/mcp" -H "authorization: Bearer $gw_agent" -H 'MCP-Protocol-Version: 2025-11-25' \
  -d '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).result.tools.length))')
[ "$listed" = 30 ] || { echo "[bench] tools/list of wide-bot has $listed tools, expected 30" >&2; exit 1; }

# PostgreSQL: verify (a fresh TLS connection, SCRAM login, SELECT 1) and the
# query tool on an installed instance (connect, BEGIN READ ONLY, timeout, a
# 10-row SELECT, ROLLBACK), each call its own connection.
pg_verify_body="{\"auth\":{\"type\":\"conn_string\",\"value\":\"$pg_url\"}}"
pg_cn=$(curl -fsS -X POST "$base/v1/connectors" -H "authorization: Bearer $mkey" \
  -d "{\"listing\":\"postgresql\",\"name\":\"bench-pg\",\"auth\":{\"type\":\"conn_string\",\"value\":\"$pg_url\"}}" | json_field id)
pg_query_body='{"arguments":{"sql":"SELECT id, name, price FROM products WHERE id > $1 ORDER BY id LIMIT 10","params":[100]}}'
probe=$(curl -fsS -X POST "$base/v1/connectors/$pg_cn/tools/query/call" -H "authorization: Bearer $mkey" -d "$pg_query_body")
grep -q '"row_count":10' <<<"$probe" || { echo "[bench] the PostgreSQL query failed: $probe" >&2; exit 1; }

# ROUNDS rounds of every route in turn; each route's ratio is the median over
# rounds of its req/s over the floor's in the same round (this shared 2-core
# VM drifts by ±20 % between minutes), and its figures are from that round.
results="$state/rounds"
for r in $(seq 1 "$ROUNDS"); do
  read -r a b c < <(run floor /v1/ping); echo "floor $r $a $b $c" >> "$results"
  read -r a b c < <(run by-id /v1/catalog/github "$viewer"); echo "by-id $r $a $b $c" >> "$results"
  read -r a b c < <(run search "/v1/catalog?q=git&limit=20" "$viewer"); echo "search $r $a $b $c" >> "$results"
  read -r a b c < <(run "install-1-r$r" /v1/connectors "@$one"); echo "install-1 $r $a $b $c" >> "$results"
  read -r a b c < <(run "install-20-r$r" /v1/connectors "@$twenty"); echo "install-20 $r $a $b $c" >> "$results"
  read -r a b c < <(run verify /v1/catalog/github/verify "@$one"); echo "verify $r $a $b $c" >> "$results"
  read -r a b c < <(run tool-read "$read_call" "%$mkey"); echo "tool-read $r $a $b $c" >> "$results"
  read -r a b c < <(run "tool-write-r$r" "$write_call" "!$mkey"); echo "tool-write $r $a $b $c" >> "$results"
  read -r a b c < <(run mcp-call /v1/mcp "&$agent_key|$mcp_tool"); echo "mcp-call $r $a $b $c" >> "$results"
  read -r a b c < <(run mcp-list /v1/mcp "&$gw_agent|list"); echo "mcp-list $r $a $b $c" >> "$results"
  read -r a b c < <(run pg-verify /v1/catalog/postgresql/verify "^$mkey|$pg_verify_body"); echo "pg-verify $r $a $b $c" >> "$results"
  read -r a b c < <(run pg-query "/v1/connectors/$pg_cn/tools/query/call" "^$mkey|$pg_query_body"); echo "pg-query $r $a $b $c" >> "$results"
  # Unloaded (one connection): the service's own added time per call, with no
  # queue in front of it (under load p50 ≈ connections ÷ req/s, so the loaded
  # p50 difference is the req/s ratio again, multiplied by the queue depth).
  read -r a b c < <(THREADS=1 CONNECTIONS=1 run verify /v1/catalog/github/verify "@$one"); echo "verify-1 $r $a $b $c" >> "$results"
  read -r a b c < <(THREADS=1 CONNECTIONS=1 run tool-read "$read_call" "%$mkey"); echo "tool-read-1 $r $a $b $c" >> "$results"
  read -r a b c < <(THREADS=1 CONNECTIONS=1 run pg-verify /v1/catalog/postgresql/verify "^$mkey|$pg_verify_body"); echo "pg-verify-1 $r $a $b $c" >> "$results"
  read -r a b c < <(THREADS=1 CONNECTIONS=1 run pg-query "/v1/connectors/$pg_cn/tools/query/call" "^$mkey|$pg_query_body"); echo "pg-query-1 $r $a $b $c" >> "$results"
done
# median NAME: "rps p50 p99 ratio" of the round with the median ratio.
median() {
  python3 - "$results" "$1" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
floor = {r[1]: float(r[2]) for r in rows if r[0] == "floor"}
mine = sorted(((float(r[2]) / floor[r[1]], r) for r in rows if r[0] == sys.argv[2]), key=lambda x: x[0])
ratio, r = mine[len(mine) // 2]
print(r[2], r[3], r[4], f"{ratio:.2f}")
PY
}
read -r f_rps f_p50 f_p99 _ < <(median floor)
read -r i_rps i_p50 i_p99 ri < <(median by-id)
read -r s_rps s_p50 s_p99 rs < <(median search)
read -r n_rps n_p50 n_p99 rn < <(median install-1)
read -r m_rps m_p50 m_p99 rm_ < <(median install-20)
all_ratios=$(python3 - "$results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
floor = {r[1]: float(r[2]) for r in rows if r[0] == "floor"}
for name in ["install-1", "install-20"]:
    print(name, " ".join(f"{float(r[2]) / floor[r[1]]:.2f}" for r in rows if r[0] == name))
PY
)
read -r v_rps v_p50 v_p99 _ < <(median verify)
read -r t_rps t_p50 t_p99 _ < <(median tool-read)
read -r w_rps w_p50 w_p99 _ < <(median tool-write)
# The tool call against verify in each round (both one outbound GET): the
# median of the per-round req/s ratio and of the per-round p50 difference.
read -r tv_ratio tv_added tv_added1 v1_p50 t1_p50 < <(python3 - "$results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
by = {(r[0], r[1]): r for r in rows}
def ms(s):
    for unit, f in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if s.endswith(unit):
            return float(s[: -len(unit)]) * f
    return float(s)
rounds = sorted({r[1] for r in rows if r[0] == "tool-read"})
ratios = sorted(float(by[("tool-read", k)][2]) / float(by[("verify", k)][2]) for k in rounds)
added = sorted(ms(by[("tool-read", k)][3]) - ms(by[("verify", k)][3]) for k in rounds)
added1 = sorted((ms(by[("tool-read-1", k)][3]) - ms(by[("verify-1", k)][3]), k) for k in rounds)
mid = added1[len(added1)//2]
print(f"{ratios[len(ratios)//2]:.2f} {added[len(added)//2]:.2f} {mid[0]:.2f} {by[('verify-1', mid[1])][3]} {by[('tool-read-1', mid[1])][3]}")
PY
)
read -r l_rps l_p50 l_p99 rl < <(median mcp-list)
read -r pv_rps pv_p50 pv_p99 rpv < <(median pg-verify)
read -r pq_rps pq_p50 pq_p99 rpq < <(median pg-query)
read -r pv1_rps pv1_p50 _ _ < <(median pg-verify-1)
read -r pq1_rps pq1_p50 _ _ < <(median pg-query-1)
read -r mc_rps mc_p50 mc_p99 _ < <(median mcp-call)
# MCP tools/call against the REST tool call, per round (same tool, same instance).
mr_ratio=$(python3 - "$results" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1])]
by = {(r[0], r[1]): r for r in rows}
rounds = sorted({r[1] for r in rows if r[0] == "mcp-call"})
ratios = sorted(float(by[("mcp-call", k)][2]) / float(by[("tool-read", k)][2]) for k in rounds)
print(f"{ratios[len(ratios)//2]:.2f}")
PY
)
# Diagnostics (no goal): one instance read (D1 + object).
one_id=$(curl -fsS "$base/v1/connectors?limit=1" -H "authorization: Bearer $(cat "$one")" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).data[0].id))')
read -r g_rps g_p50 g_p99 < <(run get-one "/v1/connectors/$one_id" "$(cat "$one")")
installed=$(curl -fsS "$base/v1/connectors?limit=1" -H "authorization: Bearer $(cat "$one")" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).data.length))')
[ "$installed" = 1 ] || { echo "[bench] installs did not persist" >&2; exit 1; }

read -r swept sweep_s < <(python3 bench/sweep_wait.py "$base" "$twenty")
sweep_rate=$(awk -v n="$swept" -v s="$sweep_s" 'BEGIN { printf "%.0f", n / s }')
# Each alarm run logs its planned outbound requests (probes + possible token refreshes).
read -r runs out_max out_mean < <(grep -o 'outbound budget [0-9]*' "$state/serve.log" \
  | awk '{ n++; s += $3; if ($3 > m) m = $3 } END { printf "%d %d %.1f\n", n, m, (n ? s / n : 0) }')

wasm=build/index_bg.wasm
raw=$(stat -c %s "$wasm")
gz=$(gzip -9c "$wasm" | wc -c)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
verdict() { awk -v r="$1" -v g="$2" 'BEGIN { print (r >= g) ? "ok" : "MISSED" }'; }
rv=$(ratio "$v_rps" "$f_rps"); rg=$(ratio "$g_rps" "$f_rps")

echo
echo "wrangler dev (workerd), $THREADS wrk threads, $CONNECTIONS connections, $DURATION per route, $ROUNDS rounds (median ratio), $(nproc) cores"
printf '%-34s %10s %9s %9s %7s %s\n' route "req/s" p50 p99 "×floor" goal
printf '%-34s %10s %9s %9s %7s %s\n' "GET /v1/ping (floor)" "$f_rps" "$f_p50" "$f_p99" "1.00" ""
printf '%-34s %10s %9s %9s %7s %s\n' "GET /v1/catalog/github" "$i_rps" "$i_p50" "$i_p99" "$ri" "≥0.80 $(verdict "$ri" 0.8)"
printf '%-34s %10s %9s %9s %7s %s\n' "GET /v1/catalog?q=git&limit=20" "$s_rps" "$s_p50" "$s_p99" "$rs" "≥0.60 $(verdict "$rs" 0.6)"
printf '%-34s %10s %9s %9s %7s %s\n' "POST /v1/connectors (1 tenant)" "$n_rps" "$n_p50" "$n_p99" "$rn" "≥0.30 $(verdict "$rn" 0.3)"
printf '%-34s %10s %9s %9s %7s %s\n' "POST /v1/connectors (20 tenants)" "$m_rps" "$m_p50" "$m_p99" "$rm_" "≥0.30 $(verdict "$rm_" 0.3)"
printf '%-34s %10s %9s %9s %7s %s\n' "POST …/github/verify (probe only)" "$v_rps" "$v_p50" "$v_p99" "$rv" "(diagnostic)"
printf '%-34s %10s %9s %9s %7s %s\n' "GET /v1/connectors/{id}" "$g_rps" "$g_p50" "$g_p99" "$rg" "(diagnostic)"
printf '%-34s %10s %9s %9s %7s %s\n' "POST …/tools/{read}/call" "$t_rps" "$t_p50" "$t_p99" "$(ratio "$t_rps" "$f_rps")" ""
printf '%-34s %10s %9s %9s %7s %s\n' "POST …/tools/{write}/call + key" "$w_rps" "$w_p50" "$w_p99" "$(ratio "$w_rps" "$f_rps")" "(diagnostic)"
printf '%-34s %10s %9s %9s %7s %s\n' "MCP tools/call (read)" "$mc_rps" "$mc_p50" "$mc_p99" "$(ratio "$mc_rps" "$f_rps")" ""
printf '%-34s %10s %9s %9s %7s %s\n' "MCP tools/list (20 bindings)" "$l_rps" "$l_p50" "$l_p99" "$rl" "(reported)"
printf '%-34s %10s %9s %9s %7s %s\n' "POST …/postgresql/verify (TLS)" "$pv_rps" "$pv_p50" "$pv_p99" "$rpv" "(reported)"
printf '%-34s %10s %9s %9s %7s %s\n' "PostgreSQL query, 10 rows" "$pq_rps" "$pq_p50" "$pq_p99" "$rpq" "(reported)"
echo "PostgreSQL on one connection (each call its own TCP + TLS + SCRAM login): verify $pv1_rps req/s, p50 $pv1_p50; query $pq1_rps req/s, p50 $pq1_p50"
echo "MCP tools/call vs REST tool call (same round, median): req/s ×$mr_ratio (goal ≥0.90 $(verdict "$mr_ratio" 0.9))"
echo "tool call vs verify (same round, median): req/s ×$tv_ratio (goal ≥0.80 $(verdict "$tv_ratio" 0.8)), p50 added ${tv_added} ms at $CONNECTIONS connections (queueing)"
echo "  one connection (no queue): verify p50 $v1_p50, tool call p50 $t1_p50, added ${tv_added1} ms (goal ≤2 $(awk -v a="$tv_added1" 'BEGIN { print (a <= 2) ? "ok" : "MISSED" }'))"
echo "install ratios per round: $(tr '\n' ';' <<<"$all_ratios")"
printf 'sweep: %d instances in 20 tenants in %ss (%s instances/s); %d alarm runs, outbound requests per run max %d, mean %s (cap 50)\n' \
  "$swept" "$sweep_s" "$sweep_rate" "$runs" "$out_max" "$out_mean"
printf 'wasm: %d bytes raw (%.1f KiB), %d bytes gzip (%.1f KiB)\n' \
  "$raw" "$(awk -v n="$raw" 'BEGIN{print n/1024}')" "$gz" "$(awk -v n="$gz" 'BEGIN{print n/1024}')"
# The whole upload as wrangler counts it (no network: a dry run into a folder).
upload=$(wrangler deploy --dry-run --outdir "$state/upload" 2>&1 | sed -n 's/.*Total Upload: \(.*\)$/\1/p')
upload_gz=$(sed -n 's/.*gzip: \([0-9.]*\) KiB.*/\1/p' <<<"$upload")
printf 'upload: %s  goal ≤1024 KiB gzip %s\n' "$upload" \
  "$(awk -v n="${upload_gz:-99999}" 'BEGIN { print (n <= 1024) ? "ok" : "MISSED" }')"
# The console's first page in a real browser, on the same server.
node bench/console.mjs "$base" "$viewer" "${CONSOLE_RUNS:-9}"

# Catalog at scale (issue 16): a worker of its own, the shipped catalog, then
# 3,000 and 30,000 listings (bench/scale.sh; SKIP_SCALE=1 leaves it out).
[ "${SKIP_SCALE:-0}" = 1 ] || { echo; bench/scale.sh; }

# A tenant at scale (issue 16): 10 and 3,010 instances (bench/tenant.sh;
# SKIP_TENANT=1 leaves it out).
[ "${SKIP_TENANT:-0}" = 1 ] || { echo; bench/tenant.sh; }
