"""MCP test client on the official Python SDK (PyPI `mcp` 2.x), over Streamable HTTP.

    .state/venv/bin/python tests/mcp/client.py URL BEARER_TOKEN COMMANDS_JSON

COMMANDS_JSON is a JSON array of steps:
    {"op": "list"}                                   every tool, all nextCursor pages
    {"op": "call", "name": "...", "arguments": {...}, "meta": {...}}   meta optional: the call's params._meta

Prints one JSON line: {"sdk": "mcp@<version>", "protocol_version": "<negotiated>", "steps": [...]},
a list step as {"tools": [...]}, a call step as {"isError", "content", "structuredContent", "_meta"},
or {"error": {"code", "message"}} when the SDK raised. Exits 1 (error on stderr) if connecting fails.

`mcp.Client` negotiates with mode="auto": a `server/discover` probe at 2026-07-28, falling back to the
`initialize` handshake when the server does not speak it. MCP_CLIENT_MODE=legacy forces the handshake,
MCP_CLIENT_MODE=2026-07-28 pins the modern revision without a probe.
The SDK's response cache (SEP-2549 ttlMs) is disabled (cache=None), so every list step reaches the server.
"""

import asyncio
import json
import logging
import os
import sys
from importlib.metadata import version
from typing import Any

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError


def dump(model: Any) -> Any:
    """A result model as the server sent it: wire names, fields it did not send left out."""
    return model.model_dump(mode="json", by_alias=True, exclude_unset=True)


def leaf(exc: BaseException) -> BaseException:
    """The first real error inside anyio's task-group exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def error_of(exc: BaseException) -> dict[str, Any]:
    if isinstance(exc, MCPError):
        err: dict[str, Any] = {"code": exc.code, "message": exc.message}
        if exc.data is not None:
            err["data"] = exc.data
        return {"error": err}
    # Not a JSON-RPC error: the SDK itself refused the result (e.g. output-schema validation).
    return {"error": {"code": None, "message": f"{type(exc).__name__}: {exc}"}}


async def run(url: str, token: str, commands: list[dict[str, Any]]) -> dict[str, Any]:
    mode = os.environ.get("MCP_CLIENT_MODE", "auto")
    async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
        transport = streamable_http_client(url, http_client=http)
        try:
            client = Client(transport, mode=mode, cache=None)
            await client.__aenter__()
        except Exception as exc:  # connect failed: no steps to report
            raise SystemExit(f"connect failed: {leaf(exc)!r}") from None
        try:
            steps = []
            for cmd in commands:
                try:
                    if cmd["op"] == "list":
                        tools, cursor = [], None
                        while True:
                            page = await client.list_tools(cursor=cursor, cache_mode="bypass")
                            tools += [dump(t) for t in page.tools]
                            cursor = page.next_cursor
                            if not cursor:
                                break
                        steps.append({"tools": tools})
                    elif cmd["op"] == "call":
                        result = await client.call_tool(cmd["name"], cmd.get("arguments", {}), meta=cmd.get("meta"))
                        raw = dump(result)
                        steps.append(
                            {
                                "isError": result.is_error,
                                "content": raw.get("content", []),
                                "structuredContent": raw.get("structuredContent"),
                                "_meta": raw.get("_meta"),
                            }
                        )
                    else:
                        raise SystemExit(f"unknown op: {cmd['op']!r}")
                except Exception as exc:
                    steps.append(error_of(leaf(exc)))
            return {"sdk": f"mcp@{version('mcp')}", "protocol_version": client.protocol_version, "steps": steps}
        finally:
            await client.__aexit__(None, None, None)


def main() -> None:
    # Quiet the SDK's warnings (e.g. "Tool ... not listed by server, cannot validate"): stderr is for failures.
    logging.getLogger("mcp").setLevel(logging.ERROR)
    if len(sys.argv) != 4:
        raise SystemExit(f"usage: {sys.argv[0]} URL BEARER_TOKEN COMMANDS_JSON")
    out = asyncio.run(run(sys.argv[1], sys.argv[2], json.loads(sys.argv[3])))
    print(json.dumps(out))


if __name__ == "__main__":
    main()
