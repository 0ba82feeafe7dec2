"""Dev aid: runs every client script in this folder against sdk_server.py and checks what they print
and what the server saw (bearer on every request, the protocol revision in the MCP-Protocol-Version
header and in `_meta`, one tools/list per page per list step, the caller's `_meta` on tools/call).

    scripts/mcp-clients.sh && source scripts/env.sh && .state/venv/bin/python tests/mcp/selftest.py

Prints one line per check and closes with "N passed, N failed"; exits 1 if any failed.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PY = os.path.join(ROOT, ".state", "venv", "bin", "python")
TOKEN = "selftest-token"
KEY = "dev.connector-marketplace/idempotency_key"
STEPS = [
    {"op": "list"},
    {"op": "list"},
    {"op": "call", "name": "get_weather", "arguments": {"city": "Oslo"}},
    {"op": "call", "name": "echo_meta", "arguments": {"note": "x"}, "meta": {KEY: "k1"}},
    {"op": "call", "name": "nope", "arguments": {}},
]
CLIENTS = [  # (label, command, env, expected revision)
    ("python auto", [PY, os.path.join(HERE, "client.py")], {}, "2026-07-28"),
    ("python legacy", [PY, os.path.join(HERE, "client.py")], {"MCP_CLIENT_MODE": "legacy"}, "2025-11-25"),
    ("ts sdk 1.x", ["node", os.path.join(HERE, "client_legacy.mjs")], {}, "2025-11-25"),
    ("ts client 2.x", ["node", os.path.join(HERE, "client_modern.mjs")], {}, "2026-07-28"),
]

passed = failed = 0


def check(label: str, ok: bool, detail: object = "") -> None:
    global passed, failed
    passed, failed = passed + ok, failed + (not ok)
    print(f"{'ok  ' if ok else 'FAIL'} {label}{'' if ok else f': {detail}'}")


def start_server(*extra: str) -> tuple[subprocess.Popen, str, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/mcp"
    log = tempfile.NamedTemporaryFile(prefix="mcp-selftest-", suffix=".jsonl", delete=False).name
    server = subprocess.Popen([PY, os.path.join(HERE, "sdk_server.py"), str(port), TOKEN, log, *extra])
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=1)
        except urllib.error.HTTPError:
            break  # any HTTP answer: it is up
        except OSError:
            time.sleep(0.1)
    return server, url, log


def stop_server(server: subprocess.Popen, log: str) -> None:
    server.terminate()
    server.wait(10)
    os.unlink(log)


def legacy_only() -> None:
    """Against a server without server/discover: auto modes fall back, the pinned TS 2.x fails."""
    server, url, log = start_server("legacy-only")
    try:
        for label, cmd, env, want in [
            ("python auto", CLIENTS[0][1], {}, "2025-11-25"),
            ("ts client 2.x auto", CLIENTS[3][1], {"MCP_CLIENT_MODE": "auto"}, "2025-11-25"),
            ("ts client 2.x pinned", CLIENTS[3][1], {}, None),
        ]:
            run = subprocess.run(
                [*cmd, url, TOKEN, json.dumps(STEPS[:1])], env={**os.environ, **env}, capture_output=True, text=True
            )
            if want is None:
                check(f"legacy-only server, {label}: connect fails (exit 1, nothing on stdout)",
                      run.returncode == 1 and not run.stdout and "connect failed" in run.stderr, run)
            else:
                got = json.loads(run.stdout)["protocol_version"] if run.returncode == 0 else run.stderr
                check(f"legacy-only server, {label}: falls back to {want}", got == want, got)
    finally:
        stop_server(server, log)


def main() -> None:
    server, url, log = start_server()
    try:
        for label, cmd, env, revision in CLIENTS:
            open(log, "w").close()
            run = subprocess.run(
                [*cmd, url, TOKEN, json.dumps(STEPS)], env={**os.environ, **env}, capture_output=True, text=True
            )
            seen = [json.loads(line) for line in open(log)]
            if run.returncode != 0:
                check(f"{label}: exit 0", False, run.stderr.strip())
                continue
            out = json.loads(run.stdout)
            steps = out["steps"]
            check(f"{label}: negotiated {revision} ({out['sdk']})", out["protocol_version"] == revision, out["protocol_version"])
            check(f"{label}: bearer on every request", seen and all(e["authorized"] for e in seen), seen)
            rpc = [e for e in seen if e["rpc_method"] not in (None, "initialize")]
            check(
                f"{label}: MCP-Protocol-Version header {revision} after the handshake",
                all(e["header_protocol_version"] == revision for e in rpc),
                [e["header_protocol_version"] for e in rpc],
            )
            modern = revision >= "2026-07-28"
            check(
                f"{label}: _meta protocolVersion {'set' if modern else 'absent'}",
                all(e["meta_protocol_version"] == (revision if modern else None) for e in rpc),
                [e["meta_protocol_version"] for e in rpc],
            )
            handshake = [e["initialize_protocol_version"] for e in seen if e["rpc_method"] == "initialize"]
            check(f"{label}: {'no initialize' if modern else 'initialize offers ' + revision}", handshake == ([] if modern else [revision]), handshake)
            lists = sum(e["rpc_method"] == "tools/list" for e in seen)
            check(f"{label}: each list step walks both pages on the wire", lists == 4, lists)
            for i in (0, 1):
                tools = steps[i].get("tools", [])
                names = [t["name"] for t in tools]
                check(f"{label}: list step {i} has both tools", names == ["get_weather", "echo_meta"], steps[i])
                check(
                    f"{label}: list step {i} keeps title/description/inputSchema/annotations",
                    all({"title", "description", "inputSchema", "annotations"} <= t.keys() for t in tools)
                    and tools[0]["annotations"].get("readOnlyHint") is True,
                    tools,
                )
            w = steps[2]
            check(f"{label}: read tool result", w.get("isError") is False and w.get("structuredContent") == {"city": "Oslo", "temp_c": 21.5}, w)
            e = steps[3]
            got = (e.get("_meta") or {}).get("dev.test/received_meta") or {}
            check(f"{label}: caller _meta reaches the server and result _meta comes back", got.get(KEY) == "k1", e)
            wire = [x["call_meta"] for x in seen if x["rpc_method"] == "tools/call"]
            check(f"{label}: _meta only on the call that set it", [KEY in (m or {}) for m in wire] == [False, True, False], wire)
            check(f"{label}: protocol error surfaces as error", steps[4].get("error", {}).get("code") == -32602, steps[4])
            bad = subprocess.run([*cmd, url, "wrong", "[]"], env={**os.environ, **env}, capture_output=True, text=True)
            check(f"{label}: a refused bearer fails the connect (exit 1)", bad.returncode == 1 and not bad.stdout, bad)
    finally:
        stop_server(server, log)
    legacy_only()
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
