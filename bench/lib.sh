# Helpers for the benchmark scripts (sourced, not run): a free port, the
# release worker under `wrangler dev` (scripts/serve.sh, its own session,
# fresh state), one wrk measurement, and the workerd process's memory.
#
#   source bench/lib.sh
#   bench_serve "$state" "$port" "$token"   # sets BENCH_SERVE (its pid); waits for READY
#   read -r rps p50 p99 < <(bench_wrk "$url" -H "authorization: Bearer $key")
#   read -r rps p50 p99 < <(bench_wrk "$url" -s bench/mcp.lua -- "$agent_key" list)
#   read -r rss hwm < <(bench_workerd_mem "$BENCH_SERVE")
#   bench_stop                              # ends the server's whole process group
#   bench_provider "$state" "$token"        # the fake provider: sets BENCH_PROVIDER (pid), PROVIDER_BASE

bench_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# bench_serve STATE PORT TOKEN: the worker like `make dev`, with its state in
# STATE/persist and its output in STATE/stdout and STATE/serve.log. Any other
# setting (PROBE_ALLOW_HOSTS, …) comes from the caller's environment.
BENCH_SERVE=""
bench_serve() {
  local state=$1 port=$2 token=$3
  PORT=$port PERSIST_DIR="$state/persist" OPERATOR_TOKEN="$token" WRANGLER_LOG_LEVEL="${WRANGLER_LOG_LEVEL:-log}" \
    setsid bash scripts/serve.sh > "$state/stdout" 2> "$state/serve.log" &
  BENCH_SERVE=$!
  for _ in $(seq 1 600); do grep -q READY "$state/stdout" 2>/dev/null && break; sleep 0.2; done
  grep -q READY "$state/stdout" || { cat "$state/serve.log" >&2; echo "[bench] server did not start" >&2; return 1; }
}

bench_stop() {
  [ -z "$BENCH_SERVE" ] || { kill -TERM -- "-$BENCH_SERVE" 2>/dev/null || true; wait "$BENCH_SERVE" 2>/dev/null || true; }
  BENCH_SERVE=""
}

# bench_wrk URL [wrk options…] [-- script arguments…]: "rps p50 p99" after a
# 2 s warm-up, with THREADS, CONNECTIONS and DURATION (defaults 2, 16, 10s);
# a non-2xx answer fails the run.
bench_wrk() {
  local url=$1; shift
  local opts=() extra=()
  while [ $# -gt 0 ]; do
    if [ "$1" = -- ]; then extra=("$@"); break; fi
    opts+=("$1"); shift
  done
  wrk -t1 -c4 -d2s "${opts[@]}" "$url" "${extra[@]}" >/dev/null
  local out
  out=$(wrk -t"${THREADS:-2}" -c"${CONNECTIONS:-16}" -d"${DURATION:-10s}" --latency "${opts[@]}" "$url" "${extra[@]}")
  if grep -q "Non-2xx" <<<"$out"; then echo "[bench] $url: non-2xx answers" >&2; echo "$out" >&2; return 1; fi
  awk '/^Requests\/sec/ {r=$2} $1=="50%" {a=$2} $1=="99%" {b=$2} END {print r, a, b}' <<<"$out"
}

# bench_workerd_mem PID: "rss_kib peak_kib" summed over the workerd processes
# below PID (wrangler dev runs one: the worker's isolate, the Durable Objects,
# the local D1 and KV with SQLite's page caches, and the Wasm linear memory,
# which never shrinks).
bench_workerd_mem() {
  python3 - "$1" <<'PY'
import os, sys
root = int(sys.argv[1])
kids = {}
for p in os.listdir("/proc"):
    if p.isdigit():
        try:
            stat = open(f"/proc/{p}/stat").read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        kids.setdefault(ppid, []).append(int(p))
todo, rss, hwm = [root], 0, 0
while todo:
    pid = todo.pop()
    todo += kids.get(pid, [])
    try:
        status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/status") if ":" in l)
    except OSError:
        continue
    if status.get("Name", "").strip() == "workerd":
        rss += int(status["VmRSS"].split()[0])
        hwm += int(status["VmHWM"].split()[0])
print(rss, hwm)
PY
}

# bench_provider STATE TOKEN: the fake provider (bench/fake_provider.py) on a
# free port, answering 200 to `Bearer TOKEN`; sets BENCH_PROVIDER (its pid),
# PROVIDER_PORT and PROVIDER_BASE.
BENCH_PROVIDER=""
bench_provider() {
  python3 bench/fake_provider.py "$1/provider.port" "$2" &
  BENCH_PROVIDER=$!
  for _ in $(seq 1 100); do [ -s "$1/provider.port" ] && break; sleep 0.05; done
  PROVIDER_PORT=$(cat "$1/provider.port")
  PROVIDER_BASE="http://127.0.0.1:$PROVIDER_PORT"
}
