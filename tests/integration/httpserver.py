# SPDX-License-Identifier: GPL-2.0-or-later
"""A recording HTTP(S) server for the webhook tests: Python's
ThreadingHTTPServer in a thread, HTTP/1.1 with keep-alive, optionally TLS
with the test CA's certificate. Every request is recorded (method, path,
headers, exact body bytes); what it answers is up to a `respond` function."""

import http.server
import ssl
import threading
import time


class Request:
    def __init__(self, method, path, headers, body):
        self.method = method
        self.path = path
        self.headers = headers      # an email.message.Message: case-insensitive, keeps repeats
        self.body = body            # bytes, exactly as received
        self.time = time.monotonic()

    def header(self, name):
        return self.headers.get(name)

    def json(self):
        import json
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return f"<Request {self.method} {self.path} {len(self.body)} bytes>"


def answer_204(request):
    return 204, {}, b""


class Server:
    """Use as a context manager. `respond(request)` returns
    (status, {header: value}, body bytes); it may sleep to play a slow
    receiver. `tls` is (certificate file, key file)."""

    def __init__(self, respond=answer_204, tls=None, host="127.0.0.1"):
        self.respond = respond
        self.requests = []
        self.lock = threading.Lock()
        self.active = 0            # requests being answered right now
        self.max_active = 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                req = Request(self.command, self.path, self.headers, body)
                with outer.lock:
                    outer.requests.append(req)
                    outer.active += 1
                    outer.max_active = max(outer.max_active, outer.active)
                try:
                    status, headers, reply = outer.respond(req)
                finally:
                    with outer.lock:
                        outer.active -= 1
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                if reply:
                    self.wfile.write(reply)

            do_POST = do_GET = do_PUT = _handle

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.scheme = "http"
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            ctx.load_cert_chain(*map(str, tls))
            self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
            self.scheme = "https"
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def url(self, path="/hook", host="127.0.0.1"):
        return f"{self.scheme}://{host}:{self.port}{path}"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()

    def received(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r.path == path]

    def wait_for(self, n, timeout=10, path=None):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if len(self.received(path)) >= n:
                return self.received(path)
            time.sleep(0.02)
        return self.received(path)
