#!/usr/bin/env bash
# Property-based run of src/openapi.json against the built worker: installs
# schemathesis (pinned) into the private venv .state/venv that
# scripts/check-openapi.sh also uses (once; later runs only check the
# version), then scripts/fuzz/run.py starts its own worker, seeds it and fuzzes.
set -euo pipefail
cd "$(dirname "$0")/.."
SCHEMATHESIS_VERSION=4.32.5
venv=.state/venv
[ -f build/index.js ] || { echo "no build: run 'make build' first" >&2; exit 1; }
if [ "$("$venv/bin/schemathesis" --version 2>/dev/null | awk '{print $3}')" != "$SCHEMATHESIS_VERSION" ]; then
  echo "[fuzz] installing schemathesis $SCHEMATHESIS_VERSION into $venv" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION" >&2
fi
exec "$venv/bin/python" scripts/fuzz/run.py
