#!/usr/bin/env bash
# Installs the LangGraph server the langgraph end-to-end scenario runs
# (`langgraph dev`: PyPI langgraph-cli[inmem] and everything it pulls in,
# each pinned exactly in tests/langgraph/requirements.txt) into its own
# private venv .state/langgraph-venv, apart from .state/venv: its ~80
# packages (pydantic, grpcio, opentelemetry…) must not move what the other
# test tools resolved. Idempotent: when the venv holds exactly that file's
# set it compares one checksum and prints nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=.state/langgraph-venv
req=tests/langgraph/requirements.txt
want=$(sha256sum "$req" | cut -d' ' -f1)
have=$(cat "$venv/requirements.sha256" 2>/dev/null || true)
if [ "$have" != "$want" ] || [ ! -x "$venv/bin/langgraph" ]; then
  printf '[langgraph-tools] installing %s into %s\n' "$(sed -n 's/^\(langgraph-cli[^=]*==.*\)$/\1/p' "$req")" "$venv" >&2
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$req" >&2
  printf '%s\n' "$want" > "$venv/requirements.sha256"
fi
