# SPDX-License-Identifier: GPL-2.0-or-later
"""A step of the wall clock, as the daemon sees it: its CLOCK_REALTIME is
moved by libfaketime (CLOCK_MONOTONIC left alone), the machine's clock is
never touched. Retry times worked out as now + a back-off move with a step
back, so that no retry waits longer than its back-off."""

import datetime
import os
import time

import pytest

from daemon_helpers import start_daemon, stop, wait_until
from httpserver import Server

pytestmark = pytest.mark.faults

HANOI = datetime.timezone(datetime.timedelta(hours=7))
LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1"


def deadline_after(seconds):
    t = int(time.time()) + seconds
    t += 60 - t % 60
    return t, datetime.datetime.fromtimestamp(t, HANOI).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.skipif(not os.path.exists(LIBFAKETIME), reason="libfaketime (package faketime) not installed")
def test_a_clock_set_back_moves_retry_times_back(env, tmp_path):
    with Server(respond=lambda request: (503, {}, b"")) as server:
        due, due_text = deadline_after(60)
        when = int(time.time()) + 2
        agencies = f"""agencies = (
  {{ id = "stc"; name = "Sở Tài chính"; webhook = {{ url = "{server.url()}"; format = "json"; }}; }}
);"""
        env.write_config(schedule=(f'schedule = {{ remind_before = ["{due - when}s"]; overdue_every = "0s"; '
                                   f'send_at = "08:00"; notify_on_assign = false; }};\n'),
                         agencies=agencies,
                         extra='delivery = { retry_min = "10m"; retry_max = "1h"; max_retry_age = "2d"; };')
        env.ctl("add", "Việc A", "--agency", "stc", "--due", due_text, check=True)
        clock = tmp_path / "faketime"
        clock.write_text("+0\n")
        p = start_daemon(env, extra_env={"LD_PRELOAD": LIBFAKETIME, "FAKETIME_TIMESTAMP_FILE": str(clock),
                                         "FAKETIME_NO_CACHE": "1", "DONT_FAKE_MONOTONIC": "1"})
        try:
            assert wait_until(lambda: env.query("SELECT attempts, state FROM deliveries") == [(1, "pending")],
                              timeout=15), env.query("SELECT * FROM deliveries")
            [(before,)] = env.query("SELECT next_attempt_at FROM deliveries")
            assert 500 < before - time.time() < 700   # retry_min, less jitter
            # The clock is set back an hour; the daemon looks at its next
            # wake-up (here: a change to the database).
            clock.write_text("-3600\n")
            time.sleep(0.3)
            env.ctl("add", "Việc B", "--agency", "stc", "--due", "+30d", check=True)
            assert wait_until(lambda: env.query("SELECT next_attempt_at FROM deliveries WHERE id = 1")
                              != [(before,)], timeout=5)
            [(after,)] = env.query("SELECT next_attempt_at FROM deliveries WHERE id = 1")
            assert abs(after - (before - 3600)) <= 1, (before, after)
            assert len(server.received()) == 1
            log = (env.path / "daemon.log").read_text()
            assert "clock was set back by 3600s" in log or "clock was set back by 3599s" in log, log
            assert stop(p) == 0
        finally:
            if p.poll() is None:
                p.kill()
