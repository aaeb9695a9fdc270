# SPDX-License-Identifier: GPL-2.0-or-later
"""valgrind over a pass that sends 50 messages (a slow suite: `make
check-faults`): `deadlined --once` sends 25 e-mails over SMTP and 25
signed webhooks, and meets a deferred recipient (451) and a failing
receiver (500) on the way. memcheck must find no error and no definite
leak. Skipped under the sanitizer build (ASan and valgrind do not mix)."""

import datetime
import shutil
import subprocess

import pytest

from conftest import AGENCIES, DEADLINED, SANITIZE
from daemon_helpers import bulk_add, delivery_state_counts
from httpserver import Server
from smtpserver import Script, smtp_server  # noqa: F401 (fixture)
from test_smtp import CREATED, DUE, FIRST, smtp_config
from test_webhook import make_secret

pytestmark = [pytest.mark.faults,
              pytest.mark.skipif(SANITIZE, reason="valgrind cannot run a program built with AddressSanitizer"),
              pytest.mark.skipif(not shutil.which("valgrind"), reason="valgrind is not installed (make deps)")]

HANOI = datetime.timezone(datetime.timedelta(hours=7))


def test_a_50_message_pass_is_clean_under_valgrind(env, smtp_server):
    def respond(req):
        return (500, {}, b"busy") if req.json()["agency"]["id"] == "kbnn" else (204, {}, b"")

    server = smtp_server(script=Script(rcpt={"kbnn@sonha.gov.vn": "451 4.2.0 Mailbox busy"}), pipelining=True)
    with Server(respond) as receiver:
        _, secret = make_secret(env)
        hook = f'webhook = {{ url = "{receiver.url()}"; format = "json"; secret_file = "{secret}"; }};'
        agencies = (AGENCIES.replace('email = ["stc@sonha.gov.vn"];', f'email = ["stc@sonha.gov.vn"]; {hook}')
                    .replace('email = ["kbnn@sonha.gov.vn"];', f'email = ["kbnn@sonha.gov.vn"]; {hook}'))
        smtp_config(env, server, agencies=agencies)
        created = int(datetime.datetime.fromisoformat(CREATED).replace(tzinfo=HANOI).timestamp())
        due_at = int(datetime.datetime(2025, 5, 20, 23, 59, 59, tzinfo=HANOI).timestamp())
        bulk_add(env, [(f"Việc {i}", "stc", DUE, due_at) for i in range(25)] + [("Việc hoãn", "kbnn", DUE, due_at)],
                 created)
        log = env.path / "valgrind.log"
        p = subprocess.run(["valgrind", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
                            f"--log-file={log}", str(DEADLINED), "-c", str(env.config), "--once", "--now", FIRST],
                           capture_output=True, text=True, timeout=600)
        webhooks = receiver.received()
    report = log.read_text()
    # 75: the deferred ones wait for a retry; 99 would be valgrind's.
    assert p.returncode == 75, (p.returncode, report[-4000:], p.stderr[-2000:])
    assert "ERROR SUMMARY: 0 errors" in report, report[-4000:]
    assert "definitely lost: 0 bytes" in report or "All heap blocks were freed" in report, report[-4000:]
    assert len(server.received) == 25 and len(webhooks) == 26
    assert delivery_state_counts(env) == {"sent": 50, "pending": 2}


def test_a_daemon_that_sends_reloads_and_stops_is_clean_under_valgrind(env, smtp_server, tmp_path):
    """The resident daemon's own paths: sending, a reload (one broken, one
    good) and a stop with transfers under way."""
    import os
    import signal
    import time

    from daemon_helpers import STARTED, NotifySocket, wait_until

    server = smtp_server(script=Script(data_delay=0.05))
    smtp_config(env, server, smtp_extra="max_connections = 2;")
    created = int(datetime.datetime.fromisoformat(CREATED).replace(tzinfo=HANOI).timestamp())
    due_at = int(datetime.datetime(2025, 5, 20, 23, 59, 59, tzinfo=HANOI).timestamp())
    bulk_add(env, [(f"Việc {i}", ["stc", "sxd"][i % 2], DUE, due_at) for i in range(200)], created)
    n = NotifySocket(tmp_path / "notify")
    log = env.path / "valgrind.log"
    e = dict(os.environ, NOTIFY_SOCKET=n.path)
    p = subprocess.Popen(["valgrind", "--error-exitcode=99", "--leak-check=full", "--errors-for-leak-kinds=definite",
                          f"--log-file={log}", str(DEADLINED), "-c", str(env.config), "--now", FIRST],
                         env=e, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    STARTED.append(p)
    try:
        n.wait_for("READY=1", timeout=60)
        assert wait_until(lambda: len(server.received) >= 20, timeout=60)
        good = env.config.read_text()
        env.config.write_text(good + "\nbogus_setting = 1;\n")
        t = time.monotonic()
        p.send_signal(signal.SIGHUP)
        n.wait_for("READY=1", after=n.wait_for("RELOADING=1", after=t, timeout=60)[0], timeout=60)
        env.config.write_text(good)
        t = time.monotonic()
        p.send_signal(signal.SIGHUP)
        n.wait_for("READY=1", after=n.wait_for("RELOADING=1", after=t, timeout=60)[0], timeout=60)
        p.send_signal(signal.SIGTERM)
        rc = p.wait(120)
    finally:
        n.close()
    report = log.read_text()
    assert rc == 0, (rc, report[-4000:])
    assert "ERROR SUMMARY: 0 errors" in report, report[-4000:]
    counts = delivery_state_counts(env)
    assert set(counts) <= {"sent", "pending"} and counts["sent"] == len(server.received), counts
