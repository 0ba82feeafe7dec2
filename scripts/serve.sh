#!/usr/bin/env bash
# Serves the prebuilt worker under `wrangler dev` (workerd) with local D1, KV
# and Durable Objects kept in $PERSIST_DIR: applies the D1 migrations, starts
# wrangler, waits until it answers, loads the catalog, then stays in the
# foreground until stopped. Stopping it (SIGINT/SIGTERM) ends wrangler's whole
# process group.
#
#   PORT               listen port on 127.0.0.1 (default 8787)
#   PERSIST_DIR        local state folder (default .state/dev, kept between runs)
#   OPERATOR_TOKEN     operator token (default dev-operator-token)
#   PROBE_ALLOW_HOSTS  host:port pairs plain-http probes may reach (default empty)
#   ENVIRONMENT        development (default) accepts loopback return_urls and a
#                      short OPERATOR_TOKEN; anything else does not
#   RETURN_URL_ORIGINS https origins a consent may return to (default empty)
#   ENABLE_TEST_ROUTES true turns on /v1/_test/panic (the e2e suite's panic probe)
#   VAULT_KEY          base64 of 32 bytes sealing stored credentials (default: one
#                      generated once into $PERSIST_DIR/vault.key and kept there)
#   WEBHOOK_RETRY_SCALE  tests only: multiplies the webhook retry schedule (unset: 1)
set -euo pipefail
source "$(dirname "$0")/env.sh"
cd "$ROOT"

PORT="${PORT:-8787}"
PERSIST_DIR="${PERSIST_DIR:-$ROOT/.state/dev}"
OPERATOR_TOKEN="${OPERATOR_TOKEN:-dev-operator-token}"
PROBE_ALLOW_HOSTS="${PROBE_ALLOW_HOSTS:-}"
ENVIRONMENT="${ENVIRONMENT:-development}"
RETURN_URL_ORIGINS="${RETURN_URL_ORIGINS:-}"

[ -f build/index.js ] || { echo "no build: run 'make build' first" >&2; exit 1; }
mkdir -p "$PERSIST_DIR"
PERSIST_DIR="$(cd "$PERSIST_DIR" && pwd)"

# Secrets go through an env file, never the command line.
envfile="$PERSIST_DIR/dev.env"
umask 077
if [ -z "${VAULT_KEY:-}" ]; then
  # The local vault key lives with the local state it decrypts.
  [ -s "$PERSIST_DIR/vault.key" ] || head -c 32 /dev/urandom | base64 > "$PERSIST_DIR/vault.key"
  VAULT_KEY="$(cat "$PERSIST_DIR/vault.key")"
fi
printf 'OPERATOR_TOKEN=%s\nPROBE_ALLOW_HOSTS=%s\nENABLE_TEST_ROUTES=%s\nVAULT_KEY=%s\nENVIRONMENT=%s\nRETURN_URL_ORIGINS=%s\n' \
  "$OPERATOR_TOKEN" "$PROBE_ALLOW_HOSTS" "${ENABLE_TEST_ROUTES:-false}" "$VAULT_KEY" \
  "$ENVIRONMENT" "$RETURN_URL_ORIGINS" > "$envfile"
# Tests only: shrinks the webhook retry schedule (README, configuration).
[ -z "${WEBHOOK_RETRY_SCALE:-}" ] || printf 'WEBHOOK_RETRY_SCALE=%s\n' "$WEBHOOK_RETRY_SCALE" >> "$envfile"

wrangler d1 migrations apply DB --local --persist-to "$PERSIST_DIR" >&2

# Its own process group, so one signal ends workerd and every helper.
setsid wrangler dev --ip 127.0.0.1 --port "$PORT" --inspector-port 0 \
  --persist-to "$PERSIST_DIR" --env-file "$envfile" \
  --show-interactive-dev-session=false --log-level "${WRANGLER_LOG_LEVEL:-log}" >&2 &
pid=$!
stop() { kill -TERM -- "-$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
trap 'stop; exit 0' INT TERM
trap stop EXIT

for _ in $(seq 1 300); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/v1/ping" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || { echo "wrangler dev exited" >&2; exit 1; }
  sleep 0.1
done

node scripts/load-catalog.mjs "http://127.0.0.1:$PORT" "$OPERATOR_TOKEN" >&2
echo "READY http://127.0.0.1:$PORT"
wait "$pid"
