# SPDX-License-Identifier: GPL-2.0-or-later
"""One sender per database, and ids that no other database sends: the
sender lock beside the database (a second deadlined exits 75, a killed
one's lock does not outlive it, deadlinectl status names the holder), the
instance id in every Message-ID, thread root and webhook-id, and
deadlinectl new-instance-id for a copy of a database."""

import re
import threading
import time

import pytest

from conftest import Env
from daemon_helpers import NotifySocket, run_once, start_daemon, stop, wait_until
from httpserver import Server
from test_webhook import REMIND, add_task, configure, webhook_rows

NO_SENDER = "Sender: no deadlined is sending\n"


def stalling(release):
    """A receiver that holds every request until `release` is set."""
    def respond(request):
        release.wait(20)
        return 204, {}, b""
    return respond


def all_sent(env, n):
    return wait_until(lambda: [r[1] for r in webhook_rows(env)] == ["sent"] * n, timeout=20)


@pytest.mark.sqlite_only("one sender per SQLite file (its lock); on PostgreSQL several send, by design")
def test_second_once_while_a_daemon_sends_exits_75_and_changes_nothing(env):
    release = threading.Event()
    with Server(stalling(release)) as server:
        configure(env, server.url())
        for i in range(3):
            add_task(env, title=f"Việc {i}", ref=str(i), support=None)
        p = start_daemon(env, "--now", f"@{REMIND}")
        try:
            assert len(server.wait_for(3)) == 3, (env.path / "daemon.log").read_text()
            assert [r[1] for r in webhook_rows(env)] == ["attempting"] * 3
            before = env.dump()
            # Were the second pass to send, it would wait for the receiver.
            threading.Timer(5, release.set).start()
            second = run_once(env, "--now", f"@{REMIND}")
            after = env.dump()
        finally:
            release.set()
        assert second.returncode == 75, second.stderr
        assert f"another deadlined (PID {p.pid}) is sending from {env.database}" in second.stderr
        # The rows the live daemon has under way stay its own.
        assert after == before
        assert all_sent(env, 3)
        assert stop(p) == 0
        ids = [r.header("webhook-id") for r in server.received()]
    assert len(ids) == 3 and len(set(ids)) == 3


@pytest.mark.sqlite_only("a sender's lock file beside the database")
def test_a_killed_daemons_lock_does_not_block_the_next(env):
    release = threading.Event()
    with Server(stalling(release)) as server:
        configure(env, server.url())
        for i in range(2):
            add_task(env, title=f"Việc {i}", ref=str(i), support=None)
        p = start_daemon(env, "--now", f"@{REMIND}")
        assert len(server.wait_for(2)) == 2, (env.path / "daemon.log").read_text()
        p.kill()
        p.wait(10)
        release.set()
        # Its PID is still in the file; the lock went with it.
        assert (env.path / "deadlined.db.lock").read_text().split()[0] == str(p.pid)
        assert env.ctl("status", check=True).stdout.startswith(NO_SENDER)
        q = start_daemon(env, "--now", f"@{REMIND}")
        assert all_sent(env, 2), (env.path / "daemon.log").read_text()
        assert stop(q) == 0
        # The two in flight at the kill went again: the only duplicates
        # the outbox allows.
        assert len(server.received()) == 4


@pytest.mark.pg_differs("status reads the sender lock file: \"no deadlined is sending\" while daemons send from PostgreSQL")
def test_status_names_the_sender_and_none_after_it_stops(env, tmp_path):
    env.ctl("list", check=True)
    assert env.ctl("status", check=True).stdout.startswith(NO_SENDER)
    assert env.ctl_json("status")["sender"] == {"running": False}
    notify = NotifySocket(tmp_path / "notify")
    try:
        p = start_daemon(env, notify=notify)
        notify.wait_for("READY=1")
        out = env.ctl("status", check=True).stdout
        assert re.match(rf"Sender: deadlined PID {p.pid} has held the database since "
                        r"\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?\n", out), out
        sender = env.ctl_json("status")["sender"]
        assert sender["running"] is True and sender["pid"] == p.pid
        assert abs(int(sender["since"][:4]) - time.gmtime().tm_year) <= 1
        # Asking does not take it: the daemon still holds it, and a second
        # one is still refused.
        assert run_once(env).returncode == 75
        assert stop(p) == 0
    finally:
        notify.close()
    assert env.ctl("status", check=True).stdout.startswith(NO_SENDER)
    assert env.ctl_json("status")["sender"] == {"running": False}


def two_databases(tmp_path, url):
    envs = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        e = Env(tmp_path / name)
        configure(e, url)
        envs.append(e)
    return envs


def ids_sent(env, server, t=REMIND):
    """The webhook-ids and Message-IDs of one pass at t."""
    before = len(server.received())
    assert run_once(env, "--now", f"@{t}").returncode == 0
    hooks = [r.header("webhook-id") for r in server.received()[before:]]
    mails = [m["Message-ID"] for m in env.messages()]
    return hooks, mails


def test_two_databases_send_different_ids_for_the_same_task(tmp_path):
    with Server() as server:
        a, b = two_databases(tmp_path, server.url())
        for e in (a, b):
            assert add_task(e) == 1
        assert a.instance_id() != b.instance_id()
        hooks_a, mails_a = ids_sent(a, server)
        hooks_b, mails_b = ids_sent(b, server)
    assert len(hooks_a) == len(hooks_b) == 1 and len(mails_a) == len(mails_b) == 1
    assert hooks_a != hooks_b and mails_a != mails_b
    assert hooks_a == [f"deadlined-{a.instance_id()}-1"]
    assert mails_a[0].startswith(f"<deadlined.{a.instance_id()}.1-before-3d.")
    [msg] = a.messages()
    assert msg["In-Reply-To"] == f"<deadlined.{a.instance_id()}.task-1@sonha.gov.vn>"


def test_the_id_is_the_same_on_a_retry_after_a_restart(env):
    answers = [503, 204]
    with Server(lambda r: (answers.pop(0), {}, b"")) as server:
        configure(env, server.url())
        add_task(env, support=None)
        p = start_daemon(env, "--now", f"@{REMIND}")
        assert wait_until(lambda: [r[4] is not None for r in webhook_rows(env)] == [True]), \
            (env.path / "daemon.log").read_text()
        assert stop(p) == 0
        # A pass well after the retry is due, in another process.
        assert run_once(env, "--now", f"@{REMIND + 86400}").returncode == 0
        first, second = server.received()
    assert webhook_rows(env)[0][1] == "sent"
    assert first.header("webhook-id") == second.header("webhook-id") == f"deadlined-{env.instance_id()}-1"


def test_new_instance_id_gives_a_copy_ids_of_its_own(tmp_path):
    with Server() as server:
        a, b = two_databases(tmp_path, server.url())
        add_task(a)
        # The backup restored elsewhere: the same database, the same id.
        a.copy_database_to(b, config=False)
        assert b.instance_id() == a.instance_id()
        old = a.instance_id()
        p = b.ctl("new-instance-id")
        assert p.returncode == 0, p.stderr
        new = b.instance_id()
        assert new != old and re.fullmatch(r"[a-z2-7]{26}", new)
        assert p.stdout == f"{b.pg_uri or b.database}: instance id {new} (was {old})\n"
        assert a.instance_id() == old
        hooks_a, mails_a = ids_sent(a, server)
        hooks_b, mails_b = ids_sent(b, server)
    assert hooks_a == [f"deadlined-{old}-1"] and hooks_b == [f"deadlined-{new}-1"]
    assert mails_a != mails_b and new in mails_b[0]


@pytest.mark.pg_differs("a daemon that sends from PostgreSQL holds no lock file: new-instance-id refuses only while "
                        "deliveries are under way, not beside an idle daemon")
def test_new_instance_id_refuses_while_a_deadlined_sends(env, tmp_path):
    env.ctl("list", check=True)
    old = env.instance_id()
    notify = NotifySocket(tmp_path / "notify")
    try:
        p = start_daemon(env, notify=notify)
        notify.wait_for("READY=1")
        r = env.ctl("new-instance-id")
        assert r.returncode == 75
        assert r.stderr == (f"deadlinectl: new-instance-id: deadlined (PID {p.pid}) is sending from "
                            f"{env.database}; stop it first\n")
        assert env.instance_id() == old
        assert stop(p) == 0
    finally:
        notify.close()
    assert env.ctl("new-instance-id").returncode == 0
    assert env.instance_id() != old


@pytest.mark.sqlite_only("a missing database file")
def test_new_instance_id_bad_usage(env):
    before = env.dump()
    r = env.ctl("new-instance-id", "now")
    assert r.returncode == 64 and r.stderr == 'deadlinectl: new-instance-id: unexpected argument "now"\n'
    r = env.ctl("new-instance-id", "--force")
    assert r.returncode == 64 and "--force" in r.stderr
    assert env.dump() == before is None
    r = env.ctl("new-instance-id")
    assert r.returncode == 66 and r.stderr == f"deadlinectl: new-instance-id: no database at {env.database}\n"
    assert not env.database.exists()


@pytest.mark.sqlite_only("a sender's lock file beside the database")
def test_a_reload_to_another_database_moves_the_lock_or_keeps_the_old(env):
    """A reload that names another database takes that one's lock and lets
    the old one go; when another deadlined sends from the new one, the
    reload is refused and both locks stay where they were."""
    import os
    import signal
    other = Env(env.path / "other")
    other.path.mkdir()
    other.write_config()
    third = Env(env.path / "third")
    third.path.mkdir()
    third.write_config()
    # The first database, seen through a configuration that stays on it.
    home = Env(env.path)
    home.config = env.path / "home.conf"
    home.config.write_text(env.config.read_text())
    notify = NotifySocket(env.path / "notify")
    p = start_daemon(env, notify=notify)
    try:
        assert notify.wait_for("READY=1")
        holder = f"Sender: deadlined PID {p.pid} "
        assert home.ctl("status", check=True).stdout.startswith(holder)

        # The third database has a sender of its own: the reload to it
        # is refused, and this daemon keeps its database and lock.
        # Made first: two processes creating one database at the same
        # moment race for the switch to WAL, which is not this test's.
        assert run_once(third).returncode == 0
        q = start_daemon(third, notify=NotifySocket(third.path / "notify"))
        try:
            assert wait_until(lambda: third.ctl("status", check=True).stdout.startswith(
                f"Sender: deadlined PID {q.pid} "))
            env.config.write_text(env.config.read_text().replace(
                'database = "deadlined.db"', f'database = "{third.database}"'))
            os.kill(p.pid, signal.SIGHUP)
            assert wait_until(lambda: "is sending from it" in (env.path / "daemon.log").read_text())
            assert home.ctl("status", check=True).stdout.startswith(holder)
        finally:
            assert stop(q) == 0

        env.config.write_text(env.config.read_text().replace(str(third.database), str(other.database)))
        os.kill(p.pid, signal.SIGHUP)
        assert wait_until(lambda: other.ctl("status", check=True).stdout.startswith(holder))
        assert home.ctl("status", check=True).stdout.startswith(NO_SENDER)
        # The first database is free for another sender now.
        assert run_once(home).returncode == 0
    finally:
        assert stop(p) == 0


def test_a_stop_puts_back_what_never_went_out_as_it_was(env):
    """Deliveries the daemon took but never started (waiting for one of
    the receiver's connections) go back untouched at a stop: attempt not
    counted, due when they were due, no first attempt recorded; the next
    start sends each of them once (their order in the queue: the outbox's
    unit test)."""
    import signal
    release = threading.Event()
    with Server(stalling(release)) as server:
        configure(env, server.url())
        for i in range(12):
            add_task(env, title=f"Việc {i}", ref=str(i), support=None)
        p = start_daemon(env, "--now", f"@{REMIND}")
        # Four connections to the receiver, each held: the other eight wait.
        assert len(server.wait_for(4)) == 4, (env.path / "daemon.log").read_text()
        assert wait_until(lambda: [r[1] for r in webhook_rows(env)] == ["attempting"] * 12)
        [(due,)] = env.query("SELECT DISTINCT next_attempt_at FROM deliveries")
        p.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        release.set()
        assert p.wait(20) == 0
        on_wire = {r.json()["tasks"][0]["id"] for r in server.received()}
        assert len(on_wire) == 4
        rows = env.query("SELECT task_id, state, attempts, next_attempt_at, first_attempt_at FROM deliveries "
                         "ORDER BY id")
        for task, state, attempts, next_at, first in rows:
            if task in on_wire:
                assert (state, attempts) == ("sent", 1)
            else:
                assert (state, attempts, next_at, first) == ("pending", 0, due, None), rows
        waiting = [r[0] for r in rows if r[0] not in on_wire]

        q = start_daemon(env, "--now", f"@{REMIND + 60}")
        assert all_sent(env, 12), (env.path / "daemon.log").read_text()
        assert stop(q) == 0
        again = [r.json()["tasks"][0]["id"] for r in server.received()][4:]
    assert sorted(again) == waiting
