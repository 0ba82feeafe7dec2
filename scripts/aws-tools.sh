#!/usr/bin/env bash
# Installs what the Amazon Connect end-to-end scenario's fake endpoint checks
# signatures with: botocore (PyPI, pinned exactly), AWS's own Python signer
# (`botocore.auth.SigV4Auth`), an implementation independent of the worker's,
# into the private venv .state/venv (shared with mcp-clients.sh,
# webhook-tools.sh, fuzz.sh and check-openapi.sh; created when missing).
# Idempotent: when it is at its pinned version it reads one folder name and
# prints nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

BOTOCORE_VERSION=1.44.5

venv=.state/venv
have=$(ls -d "$venv"/lib/python3*/site-packages/botocore-*.dist-info 2>/dev/null | sed -n 's/.*botocore-\(.*\)\.dist-info$/\1/p' | head -1 || true)
if [ "$have" != "$BOTOCORE_VERSION" ]; then
  printf '[aws-tools] installing botocore %s into %s\n' "$BOTOCORE_VERSION" "$venv" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "botocore==$BOTOCORE_VERSION" >&2
fi
