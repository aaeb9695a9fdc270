# SPDX-License-Identifier: GPL-2.0-or-later
"""A real SMTP server for the tests: Debian's aiosmtpd, run in this process
on a thread (aiosmtpd.controller.Controller), on a free loopback port.

It can speak plain text, offer STARTTLS (with the test CA's certificate) and
require it, require AUTH PLAIN or LOGIN over TLS, leave STARTTLS out of its
EHLO or answer it with 454, and follow a script: a reply for the greeting,
per recipient at RCPT TO and per message at DATA (421, 451, 550, ...), or a
stall. It records what crossed the wire: every byte received before TLS,
every command with whether TLS was on, and every message it accepted, parsed
with Python's email package (policy=default)."""

import asyncio
import collections
import email
import email.policy
import socket
import ssl
import threading
import time

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

Received = collections.namedtuple("Received", "mail_from rcpt_tos data message tls auth")


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Script:
    """What the server answers instead of "250 OK". Lists are consumed one
    item per use (then the normal reply follows); a string always applies."""

    def __init__(self, greeting=(), mail=(), rcpt=None, data=(), stall=None, drop_after_data=0, data_delay=0):
        self.greeting = list(greeting)      # e.g. ["421 4.3.2 Try later"], one per connection
        self.mail = list(mail)              # one reply per MAIL FROM
        self.rcpt = dict(rcpt or {})        # address -> reply (str: always; list: consumed)
        self.data = list(data)              # one reply per message at the end of DATA
        self.stall = stall                  # None, "greeting" or "data": answer nothing, ever
        self.drop_after_data = drop_after_data  # hang up after that many messages' data, unanswered
        self.data_delay = data_delay        # seconds to think before answering each message

    def take_rcpt(self, address):
        r = self.rcpt.get(address.lower())
        if isinstance(r, list):
            return r.pop(0) if r else None
        return r


class _SMTP(SMTP):
    """aiosmtpd's protocol, recording what arrives and following the script."""

    def __init__(self, owner, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner

    def data_received(self, data):
        # Before STARTTLS the bytes arrive here as they crossed the wire;
        # after it, SSLProtocol hands over what it decrypted.
        if self._tls_protocol is None and not self.owner.implicit_tls:
            self.owner.cleartext.extend(data)
            self.owner.chunks.append(bytes(data))
        super().data_received(data)

    async def _handle_client(self):
        # Read before counting: start() swaps the script in once it has
        # seen its own trigger connection counted.
        script = self.owner.script
        self.owner.connections += 1
        self.owner.active += 1
        self.owner.max_sessions = max(self.owner.max_sessions, self.owner.active)
        if script.stall == "greeting":
            await asyncio.sleep(3600)
        if script.greeting:
            await self.push(script.greeting.pop(0))
            self.transport.close()
            return
        await super()._handle_client()

    async def smtp_STARTTLS(self, arg):
        self.owner.commands.append(("STARTTLS", self._tls_protocol is not None))
        if self.owner.starttls == "454":
            await self.push("454 4.7.0 TLS not available due to temporary reason")
            return
        await super().smtp_STARTTLS(arg)

    async def smtp_EHLO(self, hostname):
        self.owner.commands.append(("EHLO", self._tls_protocol is not None))
        await super().smtp_EHLO(hostname)

    async def smtp_AUTH(self, arg):
        self.owner.commands.append(("AUTH", self._tls_protocol is not None))
        await super().smtp_AUTH(arg)

    async def smtp_MAIL(self, arg):
        self.owner.commands.append(("MAIL", self._tls_protocol is not None))
        await super().smtp_MAIL(arg)

    async def smtp_RCPT(self, arg):
        self.owner.commands.append(("RCPT", self._tls_protocol is not None))
        await super().smtp_RCPT(arg)

    async def smtp_DATA(self, arg):
        self.owner.commands.append(("DATA", self._tls_protocol is not None))
        await super().smtp_DATA(arg)

    async def smtp_RSET(self, arg):
        self.owner.commands.append(("RSET", self._tls_protocol is not None))
        await super().smtp_RSET(arg)

    async def smtp_QUIT(self, arg):
        self.owner.commands.append(("QUIT", self._tls_protocol is not None))
        await super().smtp_QUIT(arg)


    def connection_lost(self, error):
        if self.session is not None and not getattr(self, "_counted_lost", False):
            self._counted_lost = True
            self.owner.active -= 1
        super().connection_lost(error)


class _Handler:
    def __init__(self, owner):
        self.owner = owner

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if self.owner.starttls == "none":
            responses = [r for r in responses if "STARTTLS" not in r]
        if self.owner.pipelining:
            # aiosmtpd reads commands one line at a time from a stream,
            # so it can take them pipelined (RFC 2920) as they are.
            responses.insert(1, "250-PIPELINING")
        return responses

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.owner.script.mail:
            return self.owner.script.mail.pop(0)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.owner.script.take_rcpt(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        o = self.owner
        o.data_attempts += 1
        if o.script.stall == "data":
            await asyncio.sleep(3600)
        if o.script.data_delay:
            await asyncio.sleep(o.script.data_delay)
        if o.script.drop_after_data > 0:
            # The message arrived whole, but its sender never hears so.
            o.script.drop_after_data -= 1
            o.dropped.append(bytes(envelope.original_content))
            server.transport.close()
            return "250 OK (never sent)"
        reply = o.script.data.pop(0) if o.script.data else "250 2.0.0 OK: queued"
        if reply.startswith("250"):
            raw = bytes(envelope.original_content)
            o.received.append(Received(
                envelope.mail_from, list(envelope.rcpt_tos), raw,
                email.message_from_bytes(raw, policy=email.policy.default),
                session.ssl is not None, session.authenticated))
        return reply


class SMTPServer:
    """One aiosmtpd server on 127.0.0.1:<free port>.

    tls: a TestCA whose server certificate to offer (None: no TLS at all);
    starttls: "offer" (the default when tls is given), "none" (left out of
    EHLO) or "454" (offered, then refused); require_tls: refuse MAIL before
    STARTTLS; auth: (user, password) to require AUTH over TLS; mechanisms:
    the AUTH mechanisms to offer ("PLAIN", "LOGIN"); implicit_tls: speak TLS
    from the first byte (smtps://) instead of offering STARTTLS; pipelining:
    offer PIPELINING in EHLO; host: the address to listen on."""

    def __init__(self, *, tls=None, starttls=None, require_tls=False, auth=None, mechanisms=("PLAIN", "LOGIN"),
                 script=None, implicit_tls=False, pipelining=False, host="127.0.0.1"):
        self.host = host
        self.port = free_port(host)
        self.implicit_tls = implicit_tls
        self.pipelining = pipelining
        self.starttls = starttls or ("offer" if tls and not implicit_tls else "none")
        self.script = Script()
        self._script = script or Script()
        self.auth = auth
        self.cleartext = bytearray()
        self.chunks = []
        self.commands = []
        self.received = []
        self.dropped = []
        self.logins = []
        self.data_attempts = 0
        self.connections = 0
        self.active = self.max_sessions = 0
        kwargs = {"server_hostname": "localhost", "timeout": 60}
        ctx = None
        if tls:
            ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ctx.load_cert_chain(str(tls.cert), str(tls.key))
            if implicit_tls:
                kwargs.update(ssl_context=ctx)
            else:
                kwargs.update(tls_context=ctx, require_starttls=require_tls)
        if auth:
            # aiosmtpd's auth_require_tls knows only STARTTLS; with
            # implicit TLS every byte is encrypted anyway.
            kwargs.update(authenticator=self._authenticate, auth_required=True,
                          auth_require_tls=not implicit_tls,
                          auth_exclude_mechanism=[m for m in ("PLAIN", "LOGIN") if m not in mechanisms])
        owner = self

        class _Controller(Controller):
            def factory(self):
                return _SMTP(owner, self.handler, **self.SMTP_kwargs)

            def _trigger_server(self):
                # The stock trigger reads the greeting, which a stalling
                # or scripted server may never send: connect (through TLS
                # for smtps, so that a session starts) and leave.
                with socket.create_connection((owner.host, owner.port), 1.0) as sock:
                    if owner.implicit_tls:
                        c = ssl.create_default_context()
                        c.check_hostname = False
                        c.verify_mode = ssl.CERT_NONE
                        with c.wrap_socket(sock) as tls_sock:
                            tls_sock.recv(1024)

        self.controller = _Controller(_Handler(self), hostname=self.host, port=self.port, **kwargs)

    def _authenticate(self, server, session, envelope, mechanism, data):
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == self.auth
        self.logins.append((mechanism, ok, session.ssl is not None or self.implicit_tls))
        return AuthResult(success=ok, handled=False)

    @property
    def url(self):
        return f"smtp://{self.host}:{self.port}"

    def start(self):
        self.controller.start()
        # The controller's own trigger connection is served without the
        # script and counts as none of ours.
        deadline = time.monotonic() + 5
        while self.connections == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        self.connections = 0
        self.script = self._script
        return self

    def stop(self):
        self.controller.stop(no_assert=True)

    def verbs(self, tls=None):
        return [v for v, t in self.commands if tls is None or t == tls]


@pytest.fixture
def smtp_server():
    """A factory: smtp_server(**options) starts an SMTPServer, stopped at the
    end of the test."""
    servers = []

    def start(**kwargs):
        s = SMTPServer(**kwargs).start()
        servers.append(s)
        return s

    yield start
    for s in servers:
        s.stop()


def wait_for(predicate, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = predicate()
        if v:
            return v
        time.sleep(0.02)
    return predicate()
