#!/usr/bin/env bash
# Installs Debian's chromium for the console's browser tests and its benchmark
# (tests/browser/*.mjs and bench/console.mjs drive it through playwright-core,
# which never downloads a browser of its own). Idempotent: when
# /usr/bin/chromium is there, it prints nothing and returns at once.
set -euo pipefail

say() { printf '[browser-tools] %s\n' "$*" >&2; }

[ -x /usr/bin/chromium ] && exit 0
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo"
say "installing chromium from Debian"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends --no-upgrade chromium >&2; then
  # A machine whose package lists are stale or absent: refresh once, retry.
  $SUDO apt-get update >&2
  $SUDO apt-get install -y --no-install-recommends --no-upgrade chromium >&2
fi
/usr/bin/chromium --version >&2
