#!/usr/bin/env bash
# Installs the official MCP client SDKs that tests/mcp/*.{py,mjs} drive
# (see tests/mcp/README.md), each pinned exactly:
#   - PyPI `mcp` into the private venv .state/venv (shared with fuzz.sh and
#     check-openapi.sh; created with `python3 -m venv` when missing);
#   - npm `@modelcontextprotocol/sdk` (1.x) and `@modelcontextprotocol/client`
#     (2.x) into the private folder .state/mcp-node, with its own package.json,
#     never into the repo's package.json.
# Idempotent: when everything is at its pinned version it only reads two
# version files and prints nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh   # node 22 from node_modules/.bin (scripts/tools.sh installs it)

MCP_PY_VERSION=2.3.0
MCP_SDK_VERSION=1.32.2
MCP_CLIENT_VERSION=2.4.0

venv=.state/venv
nodedir=.state/mcp-node
say() { printf '[mcp-clients] %s\n' "$*" >&2; }

# Python: read the installed version from its dist-info, without importing.
py_have=$(ls -d "$venv"/lib/python3*/site-packages/mcp-*.dist-info 2>/dev/null | sed -n 's/.*mcp-\(.*\)\.dist-info$/\1/p' | head -1 || true)
if [ "$py_have" != "$MCP_PY_VERSION" ]; then
  say "installing mcp $MCP_PY_VERSION into $venv"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "mcp==$MCP_PY_VERSION" >&2
fi

# Node: each package's own package.json tells its installed version.
node_version() { sed -n 's/^ *"version": "\([^"]*\)".*/\1/p' "$nodedir/node_modules/$1/package.json" 2>/dev/null | head -1; }
if [ "$(node_version @modelcontextprotocol/sdk)" != "$MCP_SDK_VERSION" ] \
   || [ "$(node_version @modelcontextprotocol/client)" != "$MCP_CLIENT_VERSION" ]; then
  [ -x node_modules/.bin/node ] || { echo "no node 22 in node_modules/.bin: run scripts/tools.sh (make tools) first" >&2; exit 1; }
  say "installing @modelcontextprotocol/sdk@$MCP_SDK_VERSION and @modelcontextprotocol/client@$MCP_CLIENT_VERSION into $nodedir"
  mkdir -p "$nodedir"
  cat > "$nodedir/package.json" <<JSON
{
  "name": "mcp-test-clients",
  "private": true,
  "type": "module",
  "dependencies": {
    "@modelcontextprotocol/sdk": "$MCP_SDK_VERSION",
    "@modelcontextprotocol/client": "$MCP_CLIENT_VERSION"
  }
}
JSON
  (cd "$nodedir" && npm install --no-audit --no-fund --loglevel=error >&2)
fi
