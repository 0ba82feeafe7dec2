#!/usr/bin/env bash
# Installs what the webhooks end-to-end scenario's receiver verifies with:
# the Standard Webhooks reference library for Python (PyPI `standardwebhooks`,
# pinned exactly) into the private venv .state/venv (shared with
# mcp-clients.sh, fuzz.sh and check-openapi.sh; created when missing).
# Idempotent: when it is at its pinned version it reads one folder name and
# prints nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

STANDARDWEBHOOKS_VERSION=1.1.0

venv=.state/venv
have=$(ls -d "$venv"/lib/python3*/site-packages/standardwebhooks-*.dist-info 2>/dev/null | sed -n 's/.*standardwebhooks-\(.*\)\.dist-info$/\1/p' | head -1 || true)
if [ "$have" != "$STANDARDWEBHOOKS_VERSION" ]; then
  printf '[webhook-tools] installing standardwebhooks %s into %s\n' "$STANDARDWEBHOOKS_VERSION" "$venv" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "standardwebhooks==$STANDARDWEBHOOKS_VERSION" >&2
fi
