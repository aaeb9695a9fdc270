# SPDX-License-Identifier: GPL-2.0-or-later
"""The real deadlined: systemd protocol, timing, crash safety, catch-up,
reload, idle cost."""

import datetime
import os
import signal
import time

import pytest

from conftest import AGENCIES, SANITIZE, SCHEDULE
from daemon_helpers import (NotifySocket, bulk_add, maildir_count, run_once, start_daemon, stop,
                            wait_until)

HANOI = datetime.timezone(datetime.timedelta(hours=7))


def second_schedule(offsets, extra=""):
    quoted = ", ".join(f'"{o}s"' for o in offsets)
    return (f'schedule = {{ remind_before = [{quoted}]; overdue_every = "0s"; send_at = "08:00"; '
            f'notify_on_assign = false; {extra} }};\n')


def next_minute(after):
    """A deadline on a whole minute at least `after` seconds away, as epoch
    seconds and as the local "YYYY-MM-DDTHH:MM" deadlinectl takes."""
    t = int(time.time()) + after
    t += 60 - t % 60
    return t, datetime.datetime.fromtimestamp(t, HANOI).strftime("%Y-%m-%dT%H:%M")


def test_notify_ready_status_watchdog_and_stop(env, tmp_path):
    env.ctl("add", "Việc A", "--agency", "stc", "--due", "+30d", check=True)
    n = NotifySocket(tmp_path / "notify")
    try:
        p = start_daemon(env, notify=n, watchdog_usec=1_000_000)
        t_ready, _ = n.wait_for("READY=1")
        n.wait_for("STATUS=")
        # sd-event pings between a quarter and half of the watchdog interval.
        time.sleep(3)
        pings = [t for t, line in n.fields() if line == "WATCHDOG=1" and t > t_ready]
        assert len(pings) >= 3, n.messages
        assert all(b - a < 1.0 for a, b in zip(pings, pings[1:])), pings
        status = [line for _, line in n.fields() if line.startswith("STATUS=Next")]
        assert status and "pending" in status[-1]
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 0
        assert time.monotonic() - t0 < 5
        n.wait_for("STOPPING=1")
    finally:
        n.close()


@pytest.mark.sqlite_only("a database file in a folder that does not exist")
def test_ready_only_after_database_opens(env, tmp_path):
    env.write_config(extra='database = "/nonexistent/dir/x.db";')
    env.config.write_text(env.config.read_text().replace('database = "deadlined.db";\n', ""))
    n = NotifySocket(tmp_path / "notify")
    try:
        p = start_daemon(env, notify=n)
        assert p.wait(10) != 0
        assert not any(line == "READY=1" for _, line in n.fields())
    finally:
        n.close()


def test_bad_config_exits_78(env):
    env.config.write_text('timezone = "Mars/Olympus";\n')
    p = start_daemon(env)
    assert p.wait(10) == 78
    assert "Mars/Olympus" in (env.path / "daemon.log").read_text()


def test_reminders_fire_on_time_with_right_recipients(env, tmp_path):
    due, due_text = next_minute(40)
    t0 = time.time()
    first, second = int(t0) + 4, int(t0) + 8
    env.write_config(schedule=second_schedule([due - first, due - second]))
    env.ctl("add", "Báo cáo đánh giá nguồn lực", "--agency", "stc", "--support", "skhdt,kbnn",
            "--due", due_text, "--ref", "5.c", check=True)
    p = start_daemon(env)
    try:
        got = []
        for want in (first, second):
            assert wait_until(lambda: maildir_count(env) > len(got), timeout=want - time.time() + 3)
            got.append(time.time())
            assert abs(got[-1] - want) <= 1.2, (got[-1] - want)
        msgs = env.messages()
        assert len(msgs) == 2
        m = msgs[0]
        assert "stc@sonha.gov.vn" in m["To"]
        assert "skhdt@sonha.gov.vn" in m["Cc"] and "kbnn@sonha.gov.vn" in m["Cc"]
        assert "Báo cáo đánh giá nguồn lực" in m["Subject"]
        assert m["Auto-Submitted"] == "auto-generated"
    finally:
        assert stop(p) == 0


def test_changes_are_picked_up_within_two_seconds(env):
    due, due_text = next_minute(40)
    env.write_config(schedule=second_schedule([due - int(time.time()) - 5]))
    p = start_daemon(env)
    try:
        time.sleep(0.5)
        env.ctl("add", "Việc mới", "--agency", "stc", "--due", due_text, check=True)
        env.ctl("add", "Việc đã xong", "--agency", "sxd", "--due", due_text, check=True)
        env.ctl("done", "2", check=True)
        assert wait_until(lambda: maildir_count(env) >= 1, timeout=8)
        time.sleep(1.5)
        msgs = env.messages()
        assert len(msgs) == 1 and "stc@" in msgs[0]["To"]
    finally:
        assert stop(p) == 0


def test_kill_9_loses_nothing_and_doubles_at_most_the_batch(env):
    """1,000 due deliveries; kill -9 in the middle; restart; every delivery
    made at least once, duplicates no more than were in flight."""
    now = int(time.time())
    env.write_config(schedule=second_schedule([3600]))
    due_at = now + 1800  # the "1h before" slot is 30 minutes past
    due = datetime.datetime.fromtimestamp(due_at, HANOI).strftime("%Y-%m-%dT%H:%M")
    agencies = ["stc", "skhdt", "kbnn", "sxd", "stttt"]
    bulk_add(env, [(f"Việc {i}", agencies[i % 5], due, due_at) for i in range(1000)], now - 7200)
    p = start_daemon(env)
    assert wait_until(lambda: maildir_count(env) >= 300, timeout=60)
    p.send_signal(signal.SIGKILL)
    p.wait(10)
    in_flight = env.query("SELECT count(*) FROM deliveries WHERE state = 'attempting'")[0][0]
    if env.pg_uri:
        # On PostgreSQL a dead daemon's claims go to another when their
        # lease runs out (PG_LEASE_SECONDS): let it run out now.
        env.execute("UPDATE deliveries SET claimed_until = 0 WHERE state = 'attempting'")
    if not env.pg_uri:
        assert env.query("PRAGMA integrity_check") == [("ok",)]
    p = start_daemon(env)
    try:
        assert wait_until(lambda: env.query("SELECT count(*) FROM deliveries WHERE state = 'sent'")[0][0] == 1000,
                          timeout=120)
    finally:
        assert stop(p) == 0
    ids = [m["X-Deadlined-Delivery"] for m in env.messages()]
    assert len(set(ids)) == 1000
    assert len(ids) - 1000 <= in_flight <= 64
    # A clean restart sends nothing twice.
    before = maildir_count(env)
    p = start_daemon(env)
    time.sleep(2)
    assert stop(p) == 0
    assert maildir_count(env) == before


def test_downtime_sends_one_catch_up_per_task_and_agency(env):
    env.write_config()  # the sample policy: 14d, 7d, 3d, 1d, 0d at 08:00, overdue daily, escalation
    env.ctl("--now", "2025-05-01T09:00", "add", "Việc A", "--agency", "stc", "--support", "kbnn",
            "--due", "2025-05-20", check=True)
    env.ctl("--now", "2025-05-01T09:00", "add", "Việc B", "--agency", "sxd", "--due", "2025-05-21", check=True)
    # 14d before 20/5 is Tue 6/5 08:00; 7d is Tue 13/5.
    p = run_once(env, "--now", "2025-05-06T08:00:30")
    assert p.returncode == 0, p.stderr
    # A's 14d reminder: one e-mail To stc, Cc kbnn. B's 14d is Wed 7/5: not yet.
    assert maildir_count(env) == 1
    # Down from 6/5 to 19/5 09:00: A missed 7d (13/5), 3d (16/5), 1d (19/5 08:00) -> one catch-up.
    p = run_once(env, "--now", "2025-05-19T09:00")
    assert p.returncode == 0, p.stderr
    subjects = [m["Subject"] for m in env.messages()]
    assert len(subjects) == 3, subjects  # A: 14d, then one catch-up; B: one catch-up
    rows = env.query("SELECT task_id, agency, slot FROM deliveries ORDER BY id")
    per_task_agency = {}
    for task, agency, slot in rows:
        per_task_agency.setdefault((task, agency), []).append(slot)
    # Task 1: the 14d slot, then one catch-up: the latest missed (1d).
    assert [s.split("@")[0] for s in per_task_agency[(1, "stc")]] == ["before:14d", "before:1d"]
    assert [s.split("@")[0] for s in per_task_agency[(1, "kbnn")]] == ["before:14d", "before:1d"]
    # Task 2 was never reminded before the downtime (its 14d is 7/5): one catch-up only.
    assert [s.split("@")[0] for s in per_task_agency[(2, "sxd")]] == ["before:3d"]


def test_a_changed_policy_reschedules_open_tasks(env):
    """Each task's next reminder was worked out with the policy of the day;
    a new policy works it out again (after READY, a slice at a time), and a
    slot it adds that falls due is sent, one that already passed is not."""
    def policy(before):
        return (f'schedule = {{ remind_before = [{before}]; overdue_every = "0s"; send_at = "08:00"; '
                'workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]; notify_on_assign = false; };\n')

    env.write_config(schedule=policy('"7d"'))
    for title in ("Việc A", "Việc B", "Việc C"):
        env.ctl("--now", "2025-05-01T09:00", "add", title, "--agency", "stc", "--due", "2025-05-20", check=True)
    env.ctl("--now", "2025-05-01T09:00", "add", "Việc xong", "--agency", "stc", "--due", "2025-05-20",
                   check=True)
    env.ctl("--now", "2025-05-01T09:00", "done", "4", check=True)
    assert run_once(env, "--now", "2025-05-06T08:00:30").returncode == 0
    assert maildir_count(env) == 0
    assert {r[0] for r in env.query("SELECT next_fire_at FROM tasks WHERE status = 'open'")} == \
        {int(datetime.datetime(2025, 5, 13, 8, 0, tzinfo=HANOI).timestamp())}

    # 10 days before is 10/5 08:00: due by the next run. 14 days (6/5) has passed.
    env.write_config(schedule=policy('"14d", "10d", "7d"'))
    p = run_once(env, "--now", "2025-05-10T08:00:30")
    assert p.returncode == 0, p.stderr
    assert "The reminder policy changed" in p.stderr
    slots = env.query("SELECT task_id, slot FROM deliveries ORDER BY task_id")
    assert [(t, s.split("@")[0]) for t, s in slots] == [(1, "before:10d"), (2, "before:10d"), (3, "before:10d")]
    assert maildir_count(env) == 3
    # The closed task stays closed, and the new policy is now the one on record.
    assert env.query("SELECT next_fire_at FROM tasks WHERE id = 4") == [(None,)]
    p = run_once(env, "--now", "2025-05-10T08:01")
    assert "The reminder policy changed" not in p.stderr and maildir_count(env) == 3


def test_a_reschedule_of_many_tasks_survives_a_kill_in_the_middle(env):
    """45,000 open tasks whose next reminder was worked out under another
    policy (here: a year away): the service reschedules them a slice at a
    time after READY; killed in the middle, the next run starts over and
    finishes, and only then records the policy."""
    env.write_config()
    now = int(datetime.datetime(2025, 5, 2, 9, 0, tzinfo=HANOI).timestamp())
    due_at = int(datetime.datetime(2025, 5, 20, 23, 59, 59, tzinfo=HANOI).timestamp())
    bulk_add(env, [(f"Việc {i}", "stc", "2025-05-20", due_at) for i in range(45000)], now - 86400)
    env.execute("UPDATE tasks SET next_fire_at = ?", now + 365 * 86400)

    notify = NotifySocket(env.path / "notify")
    try:
        d = start_daemon(env, "--now", f"@{now}", notify=notify)
        notify.wait_for("READY=1")
        # Some slices done, not all (where the kill lands does not matter
        # to what follows; seen here: a slice or two in).
        wait_until(lambda: env.query("SELECT count(*) FROM tasks WHERE next_fire_at < ?", now + 86400)[0][0] > 0,
                   timeout=10, interval=0.005)
        d.kill()
        d.wait(10)
    finally:
        notify.close()

    p = run_once(env, "--now", f"@{now}")
    assert p.returncode == 0, p.stderr
    assert env.query("SELECT count(*) FROM meta WHERE key = 'policy'") == [(1,)]
    # Every task's next reminder is the 14-day one, on Tue 6/5 at 08:00.
    first = int(datetime.datetime(2025, 5, 6, 8, 0, tzinfo=HANOI).timestamp())
    assert env.query("SELECT next_fire_at, count(*) FROM tasks GROUP BY next_fire_at") == [(first, 45000)]
    assert maildir_count(env) == 0


def test_tasks_naming_an_agency_the_configuration_lost_are_reported(env):
    """Each start (once, or as a service after READY) names the agency ids
    open tasks use that the configuration no longer has."""
    env.write_config()
    env.ctl("add", "Việc A", "--agency", "stc", "--due", "+30d", check=True)
    env.write_config(agencies=AGENCIES.replace('{ id = "stc";', '{ id = "stc-moi";')
                     .replace('"vpubnd", "stc",', '"vpubnd", "stc-moi",'))
    p = run_once(env)
    assert p.returncode == 0, p.stderr
    assert 'Open tasks name agency "stc"' in p.stderr and "not reminded" in p.stderr

    notify = NotifySocket(env.path / "notify")
    try:
        d = start_daemon(env, notify=notify)
        notify.wait_for("READY=1")
        assert wait_until(lambda: 'Open tasks name agency "stc"' in (env.path / "daemon.log").read_text())
        assert stop(d) == 0
    finally:
        notify.close()


def test_sighup_with_broken_config_keeps_old_one(env, tmp_path):
    env.ctl("add", "Việc A", "--agency", "stc", "--due", "+30d", check=True)
    n = NotifySocket(tmp_path / "notify")
    try:
        p = start_daemon(env, notify=n)
        n.wait_for("READY=1")
        good = env.config.read_text()
        env.config.write_text(good + "\nbogus_setting = 1;\n")
        t = time.monotonic()
        p.send_signal(signal.SIGHUP)
        n.wait_for("RELOADING=1", after=t)
        n.wait_for("READY=1", after=t)
        time.sleep(0.3)
        assert p.poll() is None
        log = (env.path / "daemon.log").read_text()
        assert "bogus_setting" in log and "previous configuration" in log
        env.config.write_text(good)
        t = time.monotonic()
        p.send_signal(signal.SIGHUP)
        n.wait_for("READY=1", after=t)
        assert "Reloaded" in (env.path / "daemon.log").read_text()
        assert stop(p) == 0
    finally:
        n.close()


def test_once_exit_status_and_nothing_due(env):
    env.ctl("add", "Việc A", "--agency", "stc", "--due", "+30d", check=True)
    p = run_once(env)
    assert p.returncode == 0 and maildir_count(env) == 0


def test_unwritable_maildir_defers_and_retries(env):
    env.config.write_text(env.config.read_text().replace('"maildir:maildir"', '"maildir:/proc/nope"'))
    env.ctl("--now", "2025-05-01T09:00", "add", "Việc A", "--agency", "stc", "--due", "2025-05-20", check=True)
    p = run_once(env, "--now", "2025-05-06T08:00:30")
    assert p.returncode == 75, p.stderr
    rows = env.query("SELECT state, attempts, last_error FROM deliveries")
    assert rows[0][0] == "pending" and rows[0][1] == 1 and "/proc/nope" in rows[0][2]


def read_switches(pid):
    v = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, rest = line.partition(":")
            v[k] = rest.strip()
    return (int(v["voluntary_ctxt_switches"]) + int(v["nonvoluntary_ctxt_switches"]),
            int(v["VmRSS"].split()[0]))


def test_idle_with_100k_tasks_makes_no_wakeups(env, tmp_path):
    now = int(time.time())
    due_at = now + 30 * 86400
    due = datetime.datetime.fromtimestamp(due_at, HANOI).strftime("%Y-%m-%d")
    env.write_config(schedule=second_schedule([86400 * 7]))  # nothing due for weeks
    bulk_add(env, [(f"Việc {i}", "stc", due, due_at + i) for i in range(100_000)], now)
    n = NotifySocket(tmp_path / "notify")
    try:
        p = start_daemon(env, notify=n, watchdog_usec=20_000_000)
        t, _ = n.wait_for("READY=1", timeout=60)
        # The first pass over the 100,000 new tasks ends with a STATUS.
        n.wait_for("STATUS=Next", timeout=120, after=t)
        time.sleep(0.5)
        s0, _ = read_switches(p.pid)
        time.sleep(10)
        s1, rss_kb = read_switches(p.pid)
        # A watchdog keep-alive every 10 s is the only reason to wake.
        assert s1 - s0 <= 3, s1 - s0
        if not SANITIZE:  # AddressSanitizer's shadow memory is not ours
            assert rss_kb < 20 * 1024, rss_kb
        assert stop(p) == 0
    finally:
        n.close()


def test_template_override_is_used_and_checked(env):
    tpl = env.path / "templates" / "vi"
    tpl.mkdir(parents=True)
    (tpl / "task-subject.txt").write_text("Nhắc {{ref}}: {{title_short}}\n", encoding="utf-8")
    env.write_config(extra='templates = "templates";')
    env.ctl("--now", "2025-05-01T09:00", "add", "Việc A", "--agency", "stc", "--ref", "5.c",
            "--due", "2025-05-20", check=True)
    p = run_once(env, "--now", "2025-05-06T08:00:30")
    assert p.returncode == 0, p.stderr
    assert [m["Subject"] for m in env.messages()] == ["Nhắc 5.c: Việc A [#1]"]
    # A placeholder the template language does not know is a configuration error.
    (tpl / "task-subject.txt").write_text("Nhắc {{bogus}}\n", encoding="utf-8")
    p = env.ctl("check-config")
    assert p.returncode == 78 and "bogus" in p.stderr and "task-subject.txt:1" in p.stderr
    assert run_once(env).returncode == 78
