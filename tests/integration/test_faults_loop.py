# SPDX-License-Identifier: GPL-2.0-or-later
"""The event loop under a database another process holds locked: the
watchdog keeps beating, the work waits and is done once after the lock goes;
a lock at start-up is waited for a bounded time."""

import datetime
import sqlite3
import threading
import time

import pytest

from daemon_helpers import NotifySocket, maildir_count, start_daemon, stop, wait_until
from httpserver import Server

pytestmark = pytest.mark.faults

HANOI = datetime.timezone(datetime.timedelta(hours=7))
WATCHDOG_USEC = 2_000_000
# sd-event pings between a half and three quarters of the period after the
# last; a gap past three quarters (plus slack for a loaded machine) is a
# loop that waited.
MAX_GAP = 0.75 * WATCHDOG_USEC / 1e6 + 0.25


def deadline_after(seconds):
    t = int(time.time()) + seconds
    t += 60 - t % 60
    return t, datetime.datetime.fromtimestamp(t, HANOI).strftime("%Y-%m-%dT%H:%M")


def schedule_at(due, when):
    """A policy whose one reminder falls at `when` (epoch seconds)."""
    return (f'schedule = {{ remind_before = ["{due - when}s"]; overdue_every = "0s"; '
            f'send_at = "08:00"; notify_on_assign = false; }};\n')


class Lock:
    """An external write lock on the database, as a long deadlinectl
    transaction or a maintenance script would hold it."""

    def __init__(self, path):
        self.con = sqlite3.connect(str(path), isolation_level=None, timeout=10)
        self.con.execute("BEGIN IMMEDIATE")

    def release(self):
        self.con.execute("ROLLBACK")
        self.con.close()


def pings(n, after):
    return [t for t, line in n.fields() if line == "WATCHDOG=1" and t >= after]


def largest_gap(times):
    return max((b - a for a, b in zip(times, times[1:])), default=0.0)


def test_a_lock_over_the_due_moment_keeps_the_watchdog_and_sends_once(env, tmp_path):
    due, due_text = deadline_after(60)
    when = int(time.time()) + 6
    env.write_config(schedule=schedule_at(due, when))
    for i in range(6):
        env.ctl("add", f"Việc {i}", "--agency", "stc", "--due", due_text, check=True)
    n = NotifySocket(tmp_path / "notify")
    try:
        p = start_daemon(env, notify=n, watchdog_usec=WATCHDOG_USEC)
        t_ready, _ = n.wait_for("READY=1")
        # The lock spans the due moment by well over the old 5 s busy wait.
        wait_until(lambda: time.time() >= when - 3, timeout=10)
        lock = Lock(env.database)
        t_locked = time.monotonic()
        time.sleep(20)
        assert maildir_count(env) == 0  # nothing could be recorded as claimed
        lock.release()
        t_free = time.monotonic()
        assert wait_until(lambda: maildir_count(env) >= 6, timeout=10), maildir_count(env)
        time.sleep(2)
        gap = largest_gap(pings(n, t_ready))
        print(f"largest watchdog gap: {gap:.3f}s")
        assert gap < MAX_GAP, gap
        assert pings(n, t_free), "no keep-alive after the lock went"
        assert len(pings(n, t_locked)) >= 20 / (WATCHDOG_USEC / 1e6 / 2) - 2
        assert maildir_count(env) == 6
        rows = env.query("SELECT state, attempts FROM deliveries")
        assert sorted(rows) == [("sent", 1)] * 6, rows
        log = (env.path / "daemon.log").read_text()
        # One line for the busy episode, not one per retry.
        assert log.count("locked") <= 2, log
        assert stop(p) == 0
    finally:
        n.close()


def test_a_lock_while_transfers_are_under_way_loses_and_doubles_nothing(env, tmp_path):
    release = threading.Event()

    def slow(request):
        release.wait(10)
        return 204, {}, b""

    with Server(respond=slow) as server:
        due, due_text = deadline_after(60)
        when = int(time.time()) + 4
        agencies = f"""agencies = (
  {{ id = "stc"; name = "Sở Tài chính"; webhook = {{ url = "{server.url()}"; format = "json"; }}; }},
  {{ id = "sxd"; name = "Sở Xây dựng"; webhook = {{ url = "{server.url('/sxd')}"; format = "json"; }}; }}
);"""
        env.write_config(schedule=schedule_at(due, when), agencies=agencies)
        for i in range(4):
            env.ctl("add", f"Việc {i}", "--agency", "stc" if i % 2 else "sxd", "--due", due_text, check=True)
        n = NotifySocket(tmp_path / "notify")
        try:
            p = start_daemon(env, notify=n, watchdog_usec=WATCHDOG_USEC)
            t_ready, _ = n.wait_for("READY=1")
            # Transfers under way (their rows claimed): now the lock.
            assert len(server.wait_for(1, timeout=15)) >= 1
            lock = Lock(env.database)
            release.set()           # the receivers answer; results wait in memory
            time.sleep(12)
            assert env.query("SELECT count(*) FROM deliveries WHERE state = 'sent'") == [(0,)]
            lock.release()
            assert wait_until(lambda: env.query("SELECT count(*) FROM deliveries WHERE state = 'sent'")
                              == [(4,)], timeout=10)
            time.sleep(1.5)
            gap = largest_gap(pings(n, t_ready))
            print(f"largest watchdog gap: {gap:.3f}s")
            assert gap < MAX_GAP, gap
            assert len(server.received()) == 4, server.received()
            ids = [r.header("webhook-id") for r in server.received()]
            assert len(set(ids)) == 4
            assert env.query("SELECT DISTINCT state, attempts FROM deliveries") == [("sent", 1)]
            status = [line for _, line in n.fields() if line.startswith("STATUS=Next")]
            assert "0 pending" in status[-1] and "4 sent" in status[-1], status[-1]
            assert stop(p) == 0
        finally:
            n.close()


def test_a_lock_at_start_is_waited_for(env, tmp_path):
    due, due_text = deadline_after(60)
    when = int(time.time()) + 2
    env.write_config(schedule=schedule_at(due, when))
    env.ctl("add", "Việc A", "--agency", "stc", "--due", due_text, check=True)
    lock = Lock(env.database)
    n = NotifySocket(tmp_path / "notify")
    try:
        p = start_daemon(env, notify=n, watchdog_usec=WATCHDOG_USEC)
        time.sleep(6)
        assert p.poll() is None, "gave up on a lock held for a few seconds"
        assert not any(line == "READY=1" for _, line in n.fields())
        assert any(line.startswith("STATUS=") and "locked" in line for _, line in n.fields()), n.messages
        lock.release()
        n.wait_for("READY=1", timeout=5)
        assert wait_until(lambda: maildir_count(env) == 1, timeout=10)
        assert stop(p) == 0
    finally:
        n.close()


def test_a_lock_at_start_held_too_long_exits_75(env, tmp_path):
    env.ctl("add", "Việc A", "--agency", "stc", "--due", "+30d", check=True)
    lock = Lock(env.database)
    try:
        t0 = time.monotonic()
        p = start_daemon(env)
        rc = p.wait(60)
        waited = time.monotonic() - t0
    finally:
        lock.release()
    assert rc == 75, rc
    assert 15 < waited < 40, waited
    log = (env.path / "daemon.log").read_text()
    assert "locked by another process" in log, log
