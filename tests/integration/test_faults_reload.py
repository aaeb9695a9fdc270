# SPDX-License-Identifier: GPL-2.0-or-later
"""A reload storm while reminders are being sent (a slow suite: `make
check-faults`): 50 SIGHUPs one after another, every fifth with a broken
configuration, then a burst of 10 at once, while 400 webhooks go to a
receiver that takes 0.1 s each. The daemon keeps running, answers each
reload with RELOADING=1 then READY=1, loses and doubles nothing, never
uses a broken configuration, and the last good one is the one in force."""

import collections
import signal
import threading
import time

import pytest

from daemon_helpers import (NotifySocket, bulk_add, delivery_state_counts, notify_lines, start_daemon, stop,
                            wait_until)
from httpserver import Server
from test_webhook import ADDED, DUE, DUE_AT, REMIND, SCHEDULE, at

pytestmark = pytest.mark.faults


def write_config(env, url, generation, broken=False):
    agencies = f"""agencies = (
  {{ id = "stc"; name = "Sở Tài chính";
     webhook = {{ url = "{url}"; format = "json"; headers = {{ X-Generation = "{generation}"; }}; }}; }},
  {{ id = "vpubnd"; name = "Văn phòng UBND tỉnh"; }}
);"""
    env.write_config(schedule=SCHEDULE % "false", agencies=agencies,
                     extra="bogus_setting = 1;" if broken else "")


def test_a_reload_storm_while_sending(env, tmp_path):
    lock = threading.Lock()
    by_id = collections.defaultdict(list)      # webhook-id -> [X-Generation]
    task_of = {}                               # webhook-id -> task

    def respond(req):
        with lock:
            by_id[req.header("webhook-id")].append(req.header("X-Generation"))
            task_of[req.header("webhook-id")] = req.json()["tasks"][0]["id"]
        time.sleep(0.1)
        return 204, {}, b""

    n = NotifySocket(tmp_path / "notify")
    with Server(respond) as server:
        write_config(env, server.url(), "g0")
        bulk_add(env, [(f"Việc {i}", "stc", DUE, DUE_AT) for i in range(400)], at("2025-05-01 09:00"))
        p = start_daemon(env, "--now", f"@{REMIND}", notify=n, watchdog_usec=5_000_000)
        try:
            t_ready, _ = n.wait_for("READY=1")
            assert wait_until(lambda: len(by_id) >= 10)
            good = []
            for i in range(1, 51):
                broken = i % 5 == 0
                write_config(env, server.url(), f"bad{i}" if broken else f"g{i}", broken=broken)
                if not broken:
                    good.append(f"g{i}")
                t = time.monotonic()
                p.send_signal(signal.SIGHUP)
                t_reloading, _ = n.wait_for("RELOADING=1", after=t, timeout=30)
                n.wait_for("READY=1", after=t_reloading, timeout=30)
            # Deliveries were under way all along.
            in_storm = len(by_id)
            assert 10 < in_storm < 400, in_storm

            # A burst: signals that arrive together may be read as one.
            write_config(env, server.url(), "g51")
            good.append("g51")
            t = time.monotonic()
            for _ in range(10):
                p.send_signal(signal.SIGHUP)
            n.wait_for("RELOADING=1", after=t, timeout=30)
            assert wait_until(lambda: notify_lines(n, t)[-1:] == ["READY=1"], timeout=30)
            time.sleep(1)

            assert wait_until(lambda: delivery_state_counts(env) == {"sent": 400}, timeout=120), \
                delivery_state_counts(env)
            # The configuration in force is the last good one.
            env.ctl("--now", ADDED, "add", "Việc cuối", "--agency", "stc", "--due", DUE, check=True)
            assert wait_until(lambda: delivery_state_counts(env) == {"sent": 401}, timeout=30)
            assert p.poll() is None
        finally:
            assert stop(p) == 0
            n.close()

    lines = notify_lines(n, t_ready - 0.001)
    assert lines[0] == "READY=1" and lines[-1] == "STOPPING=1", lines
    pairs = lines[1:-1]
    # Each reload, failed or not: RELOADING=1, then READY=1, never nested.
    assert pairs == ["RELOADING=1", "READY=1"] * (len(pairs) // 2), pairs
    assert 51 <= len(pairs) // 2 <= 60
    print(f"{len(pairs) // 2} reloads answered (50 paced, a burst of 10), {in_storm} webhooks sent during them")
    log = (env.path / "daemon.log").read_text()
    assert log.count("Reload failed; running on with the previous configuration") == 10
    assert log.count("bogus_setting") >= 10

    # Nothing lost, nothing doubled; a broken configuration never used.
    assert len(by_id) == 401 and all(len(g) == 1 for g in by_id.values())
    generations = [g[0] for g in by_id.values()]
    assert not [g for g in generations if g.startswith("bad")]
    assert set(generations) <= {"g0", *good}
    last = env.query("SELECT max(id) FROM tasks")[0][0]
    assert [g for wid, g in by_id.items() if task_of[wid] == last] == [["g51"]]
