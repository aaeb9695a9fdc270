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


class TelegramBot:
    """A mimic of the Telegram Bot API's sendMessage, checking a request as
    the real service does: the path /bot<token>/sendMessage, a JSON body with
    chat_id (a number or "@channel"), text, parse_mode "HTML" and only
    Telegram's HTML subset (b, i, a, code, pre; tags balanced; &lt; &gt; &amp;
    &quot; the only entities), the text at most 4096 UTF-16 units once the
    entities are parsed. It answers as the service would: 200
    {"ok": true, …}, 400 with a description, 404 for another token, 403 for
    a chat in `blocked`, and 429 with parameters.retry_after the first
    `throttle` times. Problems found are kept in `errors`."""

    TAGS = {"b", "strong", "i", "em", "a", "code", "pre"}
    ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}

    def __init__(self, token, throttle=0, retry_after=30, blocked=()):
        self.token = token
        self.throttle = throttle
        self.retry_after = retry_after
        self.blocked = set(blocked)
        self.errors = []
        self.messages = []

    @staticmethod
    def _reply(status, obj):
        import json
        return status, {"Content-Type": "application/json"}, json.dumps(obj).encode()

    def _bad(self, description, status=400):
        self.errors.append(description)
        return self._reply(status, {"ok": False, "error_code": status, "description": description})

    def parse_html(self, text):
        """The visible text of a message, or raises ValueError as the
        service's entity parser would refuse it."""
        import re
        out, stack, pos = [], [], 0
        for m in re.finditer(r"<(/?)([a-zA-Z0-9-]*)([^<>]*)>|&([a-zA-Z]+|#[0-9]+);|[<>&]", text):
            out.append(text[pos:m.start()])
            pos = m.end()
            tok = m.group(0)
            if tok in "<>&":
                raise ValueError(f"can't parse entities: unescaped {tok!r} at byte offset {m.start()}")
            if m.group(4) is not None:
                name = m.group(4)
                if name.startswith("#"):
                    out.append(chr(int(name[1:])))
                elif name in self.ENTITIES:
                    out.append(self.ENTITIES[name])
                else:
                    raise ValueError(f"can't parse entities: unsupported entity &{name};")
                continue
            closing, tag = m.group(1) == "/", m.group(2).lower()
            if tag not in self.TAGS:
                raise ValueError(f"can't parse entities: unsupported start tag \"{tag}\"")
            if closing:
                if not stack or stack.pop() != tag:
                    raise ValueError(f"can't parse entities: unexpected end tag \"{tag}\"")
            else:
                stack.append(tag)
        out.append(text[pos:])
        if stack:
            raise ValueError(f"can't parse entities: unclosed start tag \"{stack[-1]}\"")
        return "".join(out)

    def __call__(self, request):
        import json
        if request.method != "POST" or not request.path.startswith("/bot"):
            return self._bad("Not Found", 404)
        if request.path != f"/bot{self.token}/sendMessage":
            return self._bad("Not Found: wrong token or method", 404)
        if not (request.header("Content-Type") or "").startswith("application/json"):
            return self._bad("Bad Request: not JSON")
        try:
            body = json.loads(request.body.decode("utf-8"))
        except ValueError:
            return self._bad("Bad Request: body is not valid JSON")
        chat = body.get("chat_id")
        if not (isinstance(chat, int) and not isinstance(chat, bool)) and not (
                isinstance(chat, str) and chat.startswith("@")):
            return self._bad("Bad Request: chat_id is empty or not a number or @channel")
        if body.get("parse_mode") != "HTML":
            return self._bad("Bad Request: parse_mode is not HTML")
        if not isinstance(body.get("disable_web_page_preview"), bool):
            return self._bad("Bad Request: disable_web_page_preview is not a boolean")
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            return self._bad("Bad Request: message text is empty")
        try:
            visible = self.parse_html(text)
        except ValueError as e:
            return self._bad(f"Bad Request: {e}")
        if len(visible.encode("utf-16-le")) // 2 > 4096:
            return self._bad("Bad Request: message is too long")
        if self.throttle > 0:
            self.throttle -= 1
            return self._reply(429, {"ok": False, "error_code": 429,
                                     "description": f"Too Many Requests: retry after {self.retry_after}",
                                     "parameters": {"retry_after": self.retry_after}})
        if chat in self.blocked:
            return self._bad("Forbidden: bot was blocked by the user", 403)
        self.messages.append({"chat_id": chat, "text": text, "visible": visible})
        return self._reply(200, {"ok": True, "result": {"message_id": len(self.messages),
                                                        "chat": {"id": chat}, "text": visible}})
