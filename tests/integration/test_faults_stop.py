# SPDX-License-Identifier: GPL-2.0-or-later
"""SIGTERM with 1,000 reminders in flight (a slow suite: `make
check-faults`): 500 e-mails to an SMTP server and 500 webhooks to a
receiver that, after twenty, holds four requests longer than the daemon's stop
timeout (10 s). The daemon stops within that timeout; what the receivers
took is recorded sent, the rest pending; a restart sends the rest.

The bound asserted: a reminder reaches a receiver twice only if it was in
flight at the stop and its answer never came back (here: the four held
webhook requests, put back at the stop timeout). Nothing is lost."""

import collections
import datetime
import signal
import threading
import time

import pytest

from conftest import AGENCIES
from daemon_helpers import bulk_add, delivery_state_counts, start_daemon, stop, wait_until
from httpserver import Server
from smtpserver import Script, smtp_server  # noqa: F401 (fixture)
from test_smtp import CREATED, DUE, FIRST, smtp_config

pytestmark = pytest.mark.faults

HANOI = datetime.timezone(datetime.timedelta(hours=7))
STOP_TIMEOUT = 10
HELD = 4          # the per-receiver bound of requests in progress


def test_sigterm_with_1000_in_flight_loses_nothing_and_doubles_only_what_was_in_flight(env, smtp_server):
    lock = threading.Lock()
    hooks = collections.defaultdict(list)       # webhook-id -> [task]
    held = []                                   # webhook-ids held past the stop timeout
    slow = {"on": True}

    def respond(req):
        wid = req.header("webhook-id")
        with lock:
            hooks[wid].append(req.json()["tasks"][0]["id"])
            # Twenty go through, then four are held.
            hold = slow["on"] and len(hooks) > 20 and len(held) < HELD
            if hold:
                held.append(wid)
        time.sleep(40 if hold else 0.02)
        return 204, {}, b""

    server = smtp_server(script=Script(data_delay=0.01), pipelining=True)
    with Server(respond) as receiver:
        agencies = AGENCIES.replace('email = ["sxd@sonha.gov.vn"];',
                                    f'webhook = {{ url = "{receiver.url()}"; format = "json"; }};')
        smtp_config(env, server, agencies=agencies, smtp_extra="max_connections = 2;",
                    delivery='retry_min = "1s"; retry_max = "2s"; max_retry_age = "1h";')
        created = int(datetime.datetime.fromisoformat(CREATED).replace(tzinfo=HANOI).timestamp())
        due_at = int(datetime.datetime(2025, 5, 20, 23, 59, 59, tzinfo=HANOI).timestamp())
        bulk_add(env, [(f"Việc {i}", "stc" if i % 2 else "sxd", DUE, due_at) for i in range(1000)], created)

        p = start_daemon(env, "--now", FIRST)
        try:
            assert wait_until(lambda: len(held) == HELD and len(server.received) >= 50, timeout=30), \
                (len(held), len(server.received))
            t0 = time.monotonic()
            p.send_signal(signal.SIGTERM)
            assert p.wait(STOP_TIMEOUT + 5) == 0
            stopping = time.monotonic() - t0
        finally:
            stop(p)
        log = (env.path / "daemon.log").read_text()
        # Within the stop timeout (and then some for a loaded machine),
        # having waited for the held requests as long as it may.
        assert STOP_TIMEOUT - 1 <= stopping <= STOP_TIMEOUT + 3, stopping
        assert f"{HELD} transfers still under way after {STOP_TIMEOUT}s" in log, log[-2000:]

        counts = delivery_state_counts(env)
        assert set(counts) <= {"sent", "pending"}, counts
        assert sum(counts.values()) == 1000
        # What the SMTP server took is exactly what is recorded sent.
        mailed = collections.Counter(int(r.message["X-Deadlined-Task"]) for r in server.received)
        sent_mail = {t for (t,) in env.query("SELECT task_id FROM deliveries WHERE channel = 'email' AND state = 'sent'")}
        assert set(mailed) == sent_mail and max(mailed.values()) == 1
        # Each webhook recorded sent was received; those received and not
        # recorded are the held ones only.
        sent_hook = {t for (t,) in env.query("SELECT task_id FROM deliveries WHERE channel LIKE 'webhook:%' "
                                             "AND state = 'sent'")}
        hooked = {t for ts in hooks.values() for t in ts}
        held_tasks = {hooks[w][0] for w in held}
        assert sent_hook <= hooked and hooked - sent_hook == held_tasks
        assert counts.get("pending", 0) == 1000 - len(sent_mail) - len(sent_hook) > 0
        first_run = (len(sent_mail), len(sent_hook))

        slow["on"] = False
        p = start_daemon(env, "--now", FIRST)
        try:
            assert wait_until(lambda: delivery_state_counts(env) == {"sent": 1000}, timeout=120), \
                delivery_state_counts(env)
        finally:
            assert stop(p) == 0

    mailed = collections.Counter(int(r.message["X-Deadlined-Task"]) for r in server.received)
    assert len(mailed) == 500 and set(mailed.values()) == {1}
    assert len({r.message["Message-ID"] for r in server.received}) == 500
    per_task = collections.Counter(t for ts in hooks.values() for t in ts)
    assert len(hooks) == 500 and len(per_task) == 500
    assert all(len(set(ts)) == 1 for ts in hooks.values())       # one id, one task
    doubled = {w for w, ts in hooks.items() if len(ts) > 1}
    # Duplicates: only those in flight at the stop, and each at most twice.
    assert doubled <= set(held) and max(len(ts) for ts in hooks.values()) <= 2
    print(f"first run: {first_run[0]} e-mails and {first_run[1]} webhooks sent, stop took {stopping:.1f}s; "
          f"webhook duplicates after the restart: {len(doubled)} of {HELD} held")
