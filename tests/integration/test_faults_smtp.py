# SPDX-License-Identifier: GPL-2.0-or-later
"""SMTP faults against a running deadlined (a slow suite: `make
check-faults`). A real aiosmtpd server refuses the greeting with 421,
defers messages with 451, refuses them for good with 552, hangs up right
after the final "." or says nothing at all; the daemon, retrying every
second or two, must end with every reminder delivered once (one that the
server may have taken before hanging up at most twice), the refused ones
recorded failed, and the watchdog beating throughout."""

import collections
import email
import email.policy
import time

import pytest

from daemon_helpers import (NotifySocket, delivery_state_counts, start_daemon, stop, wait_until,
                            watchdog_pings)
from smtpserver import Script, _Handler, smtp_server, wait_for  # noqa: F401 (fixture)
from test_smtp import FIRST, add_many, add_task, deliveries, smtp_config, states

pytestmark = pytest.mark.faults

FAST_RETRY = 'retry_min = "1s"; retry_max = "2s"; max_retry_age = "1h";'


class FaultHandler(_Handler):
    """The test server's handler, answering each message at the end of DATA
    as `decide(task, attempt)` says: None (accept), an SMTP reply, or
    "drop" (take the message whole, then hang up without a word). Every
    attempt is recorded per task."""

    def __init__(self, owner, decide):
        super().__init__(owner)
        self.decide = decide
        self.attempts = collections.defaultdict(list)   # task -> [reply, ...]
        self.message_ids = collections.defaultdict(set)  # task -> {Message-ID}

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(bytes(envelope.original_content), policy=email.policy.default)
        task = int(msg["X-Deadlined-Task"])
        self.message_ids[task].add(msg["Message-ID"])
        reply = self.decide(task, len(self.attempts[task]))
        self.attempts[task].append(reply or "250")
        if reply == "drop":
            self.owner.dropped.append(bytes(envelope.original_content))
            server.transport.close()
            return "250 OK (never sent)"
        if reply:
            self.owner.data_attempts += 1
            return reply
        return await super().handle_DATA(server, session, envelope)


def received_per_task(server):
    return collections.Counter(int(r.message["X-Deadlined-Task"]) for r in server.received)


def test_421_451_552_and_a_hang_up_after_the_dot_lose_nothing_and_double_nothing(env, smtp_server, tmp_path):
    """60 reminders, one e-mail each. The first two connections are refused
    at the greeting (421); of the tasks, every fifth is deferred once at
    DATA (451), every fifth fails for good (552), every fifth is taken and
    then the connection drops before the server's answer. In the end: the
    552 ones failed, never accepted and tried once; the others accepted
    exactly once each, the 451 ones on their second attempt; a dropped one
    reached the server at most twice, with one Message-ID."""
    def decide(task, attempt):
        kind = task % 5
        if kind == 1 and attempt == 0:
            return "451 4.3.0 Mail server temporarily rejected message"
        if kind == 2:
            return "552 5.3.4 Message size exceeds fixed maximum message size"
        if kind == 3 and attempt == 0:
            return "drop"
        return None

    server = smtp_server(script=Script(greeting=["421 4.3.2 Service not available, try later"] * 2))
    handler = server.controller.handler = FaultHandler(server, decide)
    smtp_config(env, server, smtp_extra="max_connections = 2;", delivery=FAST_RETRY)
    add_many(env, 60)
    n = NotifySocket(tmp_path / "notify")
    p = start_daemon(env, "--now", FIRST, notify=n, watchdog_usec=2_000_000)
    try:
        n.wait_for("READY=1")
        t0 = time.monotonic()
        settled = wait_until(lambda: set(delivery_state_counts(env)) <= {"sent", "failed"}
                             and sum(delivery_state_counts(env).values()) == 60, timeout=90)
        assert settled, (delivery_state_counts(env), (env.path / "daemon.log").read_text()[-3000:])
        assert p.poll() is None
        pings, gap = watchdog_pings(n, after=t0)
        assert len(pings) >= 2 and gap < 2 * 0.75 + 0.5, pings
    finally:
        assert stop(p) == 0
        n.close()

    rows = {int(task): (state, attempts, error) for task, state, attempts, error in
            env.query("SELECT task_id, state, attempts, last_error FROM deliveries")}
    got = received_per_task(server)
    assert len(rows) == 60
    # The two refused greetings were seen, and cost the daemon nothing but a retry.
    assert server.connections >= 3
    for task, (state, attempts, error) in rows.items():
        kind = task % 5
        if kind == 2:
            assert (state, got[task], handler.attempts[task]) == ("failed", 0, [handler.attempts[task][0]]), task
            assert "552 5.3.4" in error
        else:
            assert state == "sent" and got[task] == 1, (task, state, got[task], handler.attempts[task])
        if kind == 1:
            assert handler.attempts[task] == ["451 4.3.0 Mail server temporarily rejected message", "250"]
        if kind == 3:
            # Taken once before the hang-up, once after: the one duplicate
            # the design allows for a message in flight, with one Message-ID.
            assert handler.attempts[task] == ["drop", "250"]
        assert len(handler.message_ids[task]) == 1
        # Each attempt counted: those at DATA, and at most the two refused greetings.
        assert len(handler.attempts[task]) <= attempts <= len(handler.attempts[task]) + 2, task
    assert not any(len(a) > 2 for a in handler.attempts.values())
    assert len(server.dropped) == 12 and sum(got.values()) == 48


@pytest.mark.parametrize("where", ["greeting", "data"])
def test_a_stalled_server_times_out_while_the_watchdog_beats(env, smtp_server, tmp_path, where):
    """A server that says nothing (at the greeting, or after the message's
    data): the daemon gives up after smtp.timeout, the watchdog keeps
    beating meanwhile, the reminders stay pending and go, once each, when
    the server answers again."""
    server = smtp_server(script=Script(stall=where))
    smtp_config(env, server, smtp_extra='timeout = "4s"; max_connections = 1;', delivery=FAST_RETRY)
    add_task(env)
    n = NotifySocket(tmp_path / "notify")
    p = start_daemon(env, "--now", FIRST, notify=n, watchdog_usec=1_000_000)
    try:
        n.wait_for("READY=1")
        assert wait_for(lambda: server.connections == 1 and (where == "greeting" or server.data_attempts == 1))
        t0 = time.monotonic()
        time.sleep(3)
        pings, gap = watchdog_pings(n, after=t0)
        assert len(pings) >= 3 and gap < 0.75 + 0.25, pings
        assert states(env) == {"stc": "attempting", "skhdt": "attempting", "kbnn": "attempting"}
        # Given up after smtp.timeout, to be tried again later.
        assert wait_until(lambda: set(states(env).values()) == {"pending"}, timeout=10)
        assert time.monotonic() - t0 < 4 + 3
        errors = [e for *_, e, _ in deliveries(env)]
        # At the greeting libcurl's words ("Operation timed out after 4010
        # milliseconds"), after the data the daemon's own.
        assert all("no answer from the server within 4s" in e or "timed out after 4" in e for e in errors), errors
        assert p.poll() is None
        # The server comes back: the reminder goes, once.
        server.script.stall = None
        assert wait_until(lambda: set(states(env).values()) == {"sent"}, timeout=20)
        pings, gap = watchdog_pings(n, after=t0)
        assert gap < 0.75 + 0.25, pings
    finally:
        assert stop(p) == 0
        n.close()
    assert len(server.received) == 1
    assert server.received[0].rcpt_tos == ["stc@sonha.gov.vn", "skhdt@sonha.gov.vn", "kbnn@sonha.gov.vn"]
