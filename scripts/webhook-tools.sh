#!/usr/bin/env bash
# Installs what the webhooks end-to-end scenario's receiver verifies with:
# the Standard Webhooks reference library for Python (PyPI `standardwebhooks`,
# pinned exactly) into the private venv .state/venv (shared with
# mcp-clients.sh, fuzz.sh and check-openapi.sh; created when missing).
# Idempotent (scripts/venv-pin.sh): prints nothing when it is in place.
set -euo pipefail
cd "$(dirname "$0")/.."

STANDARDWEBHOOKS_VERSION=1.1.0

exec scripts/venv-pin.sh webhook-tools standardwebhooks "$STANDARDWEBHOOKS_VERSION"
