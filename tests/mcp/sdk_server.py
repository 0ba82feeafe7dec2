"""Dev aid, not part of the test suite: a throwaway MCP server built on the
official Python SDK (low-level `mcp.server.Server`), used to check the client
scripts in this folder (client.py, client_legacy.mjs, client_modern.mjs)
against a real SDK server rather than our gateway.

    .state/venv/bin/python tests/mcp/sdk_server.py PORT TOKEN LOG [legacy-only]

Serves stateless Streamable HTTP with JSON responses at
http://127.0.0.1:PORT/mcp, both protocol eras (the `initialize` handshake of
2025-06-18/2025-11-25 and the per-request envelope of 2026-07-28). Answers 401
to any request whose `Authorization` is not `Bearer TOKEN`. Appends one JSON
line per HTTP request to LOG: the HTTP method, the `Mcp-*` headers
(MCP-Protocol-Version, and on 2026-07-28 Mcp-Method / Mcp-Name), the JSON-RPC
method, `params._meta["io.modelcontextprotocol/protocolVersion"]`, the
tools/call `_meta` and whether the bearer matched, so a check can tell which
revision a client spoke. With `legacy-only` it answers `server/discover` with
JSON-RPC -32601 (method not found), as a server of the handshake era does.

Tools, one per tools/list page (so listing all of them takes a nextCursor walk):
  - `get_weather` (read-only): structured `{"city", "temp_c"}`;
  - `echo_meta`: returns the `_meta` it received, in structuredContent and in
    the result's `_meta` (`dev.test/received_meta`);
  - any other name: a JSON-RPC error -32602.
tools/list carries a 60 s ttlMs hint, so a client that caches it would skip
the wire on a second list step; the log shows whether it did.
"""

import json
import sys
from typing import Any

import mcp_types as types
import uvicorn
from mcp.server import Server
from mcp.server.caching import CacheHint
from mcp.shared.exceptions import MCPError

PORT, TOKEN, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
LEGACY_ONLY = sys.argv[4:] == ["legacy-only"]

TOOLS = [
    types.Tool(
        name="get_weather",
        title="Get weather",
        description="Current temperature of a city.",
        input_schema={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        output_schema={
            "type": "object",
            "properties": {"city": {"type": "string"}, "temp_c": {"type": "number"}},
            "required": ["city", "temp_c"],
        },
        annotations=types.ToolAnnotations(read_only_hint=True, open_world_hint=False),
    ),
    types.Tool(
        name="echo_meta",
        title="Echo _meta",
        description="Returns the request's _meta.",
        input_schema={"type": "object", "properties": {"note": {"type": "string"}}},
        annotations=types.ToolAnnotations(read_only_hint=False, idempotent_hint=True),
    ),
]


async def list_tools(ctx: Any, params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    start = int(params.cursor) if params and params.cursor else 0
    nxt = str(start + 1) if start + 1 < len(TOOLS) else None
    return types.ListToolsResult(tools=TOOLS[start : start + 1], next_cursor=nxt)


async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
    args = params.arguments or {}
    if params.name == "get_weather":
        data = {"city": args.get("city", "?"), "temp_c": 21.5}
        return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(data))], structured_content=data)
    if params.name == "echo_meta":
        meta = dict(params.meta) if params.meta is not None else None
        return types.CallToolResult(
            content=[types.TextContent(type="text", text=json.dumps(meta))],
            structured_content={"received_meta": meta},
            _meta={"dev.test/received_meta": meta},
        )
    raise MCPError(code=types.INVALID_PARAMS, message=f"unknown tool: {params.name}")


server = Server(
    "sdk-test-server",
    version="0.0.1",
    on_list_tools=list_tools,
    on_call_tool=call_tool,
    cache_hints={"tools/list": CacheHint(ttl_ms=60_000, scope="private")},
)
inner = server.streamable_http_app(stateless_http=True, json_response=True)


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Checks the bearer and logs each request, then hands it to the SDK's app."""
    if scope["type"] != "http":
        return await inner(scope, receive, send)
    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
    chunks, more = [], True
    while more:
        msg = await receive()
        chunks.append(msg.get("body", b""))
        more = msg.get("more_body", False)
    body = b"".join(chunks)
    try:
        rpc = json.loads(body) if body else {}
    except ValueError:
        rpc = {}
    rpc = rpc if isinstance(rpc, dict) else {}
    meta = (rpc.get("params") or {}).get("_meta") or {}
    authorized = headers.get("authorization") == f"Bearer {TOKEN}"
    entry = {
        "http": scope["method"],
        "authorized": authorized,
        "header_protocol_version": headers.get("mcp-protocol-version"),
        "rpc_method": rpc.get("method"),
        "meta_protocol_version": meta.get("io.modelcontextprotocol/protocolVersion"),
        "initialize_protocol_version": (rpc.get("params") or {}).get("protocolVersion")
        if rpc.get("method") == "initialize"
        else None,
        "call_meta": meta if rpc.get("method") == "tools/call" else None,
        "mcp_headers": {k: v for k, v in headers.items() if k.startswith("mcp-")},
    }
    with open(LOG, "a") as f:
        f.write(json.dumps(entry) + "\n")
    if not authorized:
        await send({"type": "http.response.start", "status": 401, "headers": [(b"content-type", b"text/plain")]})
        return await send({"type": "http.response.body", "body": b"unauthorized"})
    if LEGACY_ONLY and rpc.get("method") == "server/discover":
        err = {"jsonrpc": "2.0", "id": rpc.get("id"), "error": {"code": -32601, "message": "Method not found"}}
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        return await send({"type": "http.response.body", "body": json.dumps(err).encode()})

    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    await inner(scope, replay, send)


if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="warning", lifespan="on")
