# SPDX-License-Identifier: GPL-2.0-or-later
"""Two senders on one database, under load: a second deadlined started
while the first is sending, and a deadlined --once run by hand beside the
service. The sender lock makes the second one leave at once (75), so no
reminder goes twice: counted at a real HTTP receiver by webhook-id, and at
a real SMTP server by Message-ID."""

import collections
import time

import pytest

from daemon_helpers import bulk_add, run_once, start_daemon, stop, wait_until
from httpserver import Server
from smtpserver import Script, smtp_server  # noqa: F401 (fixture)
from test_smtp import smtp_config
from test_webhook import DUE, DUE_AT, REMIND, at, configure

pytestmark = pytest.mark.faults


def duplicates(ids):
    counts = collections.Counter(ids)
    return sum(n - 1 for n in counts.values())


def test_two_daemons_on_one_database_send_each_webhook_once(env):
    def slow(request):
        time.sleep(0.05)
        return 204, {}, b""

    with Server(slow) as server:
        configure(env, server.url(), extra="")
        bulk_add(env, [(f"Việc {i}", "stc", DUE, DUE_AT) for i in range(300)], at("2025-05-01 09:00"))
        first = start_daemon(env, "--now", f"@{REMIND}")
        assert server.wait_for(8, timeout=20), (env.path / "daemon.log").read_text()[-2000:]
        second = start_daemon(env, "--now", f"@{REMIND}")
        done = wait_until(lambda: env.query("SELECT count(*) FROM deliveries WHERE state = 'sent'")[0][0] == 300,
                          timeout=120)
        time.sleep(0.5)
        ids = [r.header("webhook-id") for r in server.received()]
        # The second left at once, without a word on the wire.
        wait_until(lambda: second.poll() is not None, timeout=10)
        second_status = second.poll()
        stop(first)
        stop(second)
    print(f"\n300 webhook reminders, two daemons: {len(ids)} requests, {duplicates(ids)} duplicates")
    assert done, (env.path / "daemon.log").read_text()[-2000:]
    assert duplicates(ids) == 0
    assert len(set(ids)) == 300
    assert second_status == 75


def test_a_once_beside_the_service_sends_each_message_once(env, smtp_server):
    server = smtp_server(script=Script(data_delay=0.1))
    smtp_config(env, server)
    bulk_add(env, [(f"Việc {i}", "stc", "2025-05-20", at("2025-05-20 23:59:59")) for i in range(40)],
             at("2025-05-01 09:00"))
    now = "2025-05-06T08:00:30"
    service = start_daemon(env, "--now", now)
    assert wait_until(lambda: len(server.received) >= 2, timeout=20), (env.path / "daemon.log").read_text()
    manual = run_once(env, "--now", now)
    done = wait_until(lambda: env.query("SELECT count(*) FROM deliveries WHERE state = 'sent'")[0][0] == 40,
                      timeout=60)
    time.sleep(0.5)
    stop(service)
    ids = [r.message["Message-ID"] for r in server.received]
    print(f"\n40 tasks, the service and a --once: {len(ids)} messages, {duplicates(ids)} Message-IDs twice")
    assert done
    assert duplicates(ids) == 0 and len(set(ids)) == 40
    assert manual.returncode == 75, manual.stderr
    assert f"another deadlined (PID {service.pid}) is sending from {env.database}" in manual.stderr
