"""Grows one tenant through the API, CONCURRENCY requests at a time; prints
"<installed> <bound> <seconds>".

Installs instances of the `github` listing (a static token verified against
the fake provider, bench/fake_provider.py) named <prefix>-<i> for i in
[from, to), then binds one other consumer per BIND_EVERY instances
(`consumer-<i>` to `issue.read`, unpinned), so the tenant's bindings and
events grow with it while the measured consumer's own bindings stay the same.

Usage: tenant_fill.py <base> <manager key> <provider base> <provider token>
                      <prefix> <from> <to> [concurrency] [bind every]
"""
import http.client
import json
import sys
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

base, key, provider, provider_token, prefix = sys.argv[1:6]
first, last = int(sys.argv[6]), int(sys.argv[7])
concurrency = int(sys.argv[8]) if len(sys.argv) > 8 else 8
bind_every = int(sys.argv[9]) if len(sys.argv) > 9 else 10
url = urllib.parse.urlparse(base)
local = threading.local()


def post(path, body):
    conn = getattr(local, "conn", None)
    if conn is None:
        conn = local.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    for attempt in range(3):
        try:
            conn.request("POST", path, json.dumps(body),
                         {"authorization": f"Bearer {key}", "content-type": "application/json"})
            res = conn.getresponse()
            text = res.read().decode()
            if res.status != 201:
                raise SystemExit(f"[bench] POST {path}: {res.status} {text}")
            return json.loads(text)
        except (http.client.HTTPException, OSError):
            conn.close()
            conn = local.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            if attempt == 2:
                raise


def install(i):
    post("/v1/connectors", {
        "listing": "github", "name": f"{prefix}-{i}",
        "auth": {"type": "pat", "token": provider_token},
        "config": {"base_url": provider},
    })
    if bind_every and i % bind_every == 0:
        post("/v1/bindings", {"consumer": f"consumer-{i}", "capability": "issue.read"})
        return 1
    return 0


start = time.monotonic()
with ThreadPoolExecutor(concurrency) as pool:
    bound = sum(pool.map(install, range(first, last)))
print(last - first, bound, f"{time.monotonic() - start:.1f}")
