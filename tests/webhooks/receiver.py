"""A webhook receiver for the e2e scenario tests/scenarios/webhooks.rs.

Listens on 127.0.0.1:<port>, verifies every POST with the Standard Webhooks
reference library (PyPI `standardwebhooks`, installed by
scripts/webhook-tools.sh), never with the worker's own code, and appends one
JSON line per request to <log>: the path, the Standard Webhooks headers, the
body, whether it verified (or why not) and the status it answered. What it
answers and which secret each path verifies with are read from <config>
(JSON `{"secrets": {path: "whsec_…"}, "status": {path: code}}`, re-read on
every request; 204 by default), so the test can switch a path to 500 or 410
while it runs. Prints READY once it listens.

    python receiver.py <port> <config> <log>
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PORT, CONFIG, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3]
lock = threading.Lock()


def config() -> dict:
    try:
        with open(CONFIG) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 (http.server's naming)
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        cfg = config()
        headers = {k.lower(): v for k, v in self.headers.items()}
        secret = cfg.get("secrets", {}).get(self.path)
        verified, error = False, None
        if secret is None:
            error = "no secret for this path"
        else:
            try:
                Webhook(secret).verify(body, headers)
                verified = True
            except WebhookVerificationError as e:
                error = str(e)
        status = int(cfg.get("status", {}).get(self.path, 204))
        record = {
            "path": self.path,
            "webhook_id": headers.get("webhook-id"),
            "webhook_timestamp": headers.get("webhook-timestamp"),
            "webhook_signature": headers.get("webhook-signature"),
            "content_type": headers.get("content-type"),
            "body": body.decode("utf-8", "replace"),
            "verified": verified,
            "error": error,
            "answered": status,
        }
        with lock, open(LOG, "a") as f:
            f.write(json.dumps(record) + "\n")
        self.send_response(status)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
print("READY", flush=True)
server.serve_forever()
