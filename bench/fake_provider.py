"""A fake provider for the benchmark: a real HTTP server on 127.0.0.1 that
answers 200 to a GET (201 to a POST) with `Authorization: Bearer <token>`
(argv[2]) and 401 otherwise.
Usage: fake_provider.py <port-file> <token>"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; with Nagle's algorithm on, the
    # body waits for the client's delayed ACK (~40 ms) and the fake, not the
    # worker, would set the pace.
    disable_nagle_algorithm = True

    def do_GET(self):
        ok = self.headers.get("Authorization") == f"Bearer {sys.argv[2]}"
        body = b'{"login":"bench"}' if ok else b'{"message":"Bad credentials"}'
        self.send_response(200 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        # GitHub's "create an issue" shape: 201 with the new issue.
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        ok = self.headers.get("Authorization") == f"Bearer {sys.argv[2]}"
        body = b'{"number":1,"state":"open"}' if ok else b'{"message":"Bad credentials"}'
        self.send_response(201 if ok else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass  # clients closing kept-alive connections are not errors here


server = Server(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
