#!/usr/bin/env bash
# Installs what the Amazon Connect end-to-end scenario's fake endpoint checks
# signatures with: botocore (PyPI, pinned exactly), AWS's own Python signer
# (`botocore.auth.SigV4Auth`), an implementation independent of the worker's,
# into the private venv .state/venv (shared with mcp-clients.sh,
# webhook-tools.sh, fuzz.sh and check-openapi.sh; created when missing).
# Idempotent (scripts/venv-pin.sh): prints nothing when it is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

BOTOCORE_VERSION=1.44.5

exec scripts/venv-pin.sh aws-tools botocore "$BOTOCORE_VERSION"
