# SPDX-License-Identifier: GPL-2.0-or-later
"""deadlinectl on a PostgreSQL database (`database = "postgresql://…"`),
against a throw-away cluster started by tests/pg-cluster.sh: the commands
work, and a wrong address, a server that is down and a database of a newer
schema are each one line and a sysexits code, with nothing changed. Run by
`make check-pg`."""

import os
import shutil
import subprocess
import tempfile

import pytest

from conftest import AGENCIES, DEADLINED, SCHEDULE, SOURCE

pytestmark = pytest.mark.pg

CLUSTER = SOURCE / "tests" / "pg-cluster.sh"
EX_DATAERR, EX_UNAVAILABLE, EX_CONFIG = 65, 69, 78


@pytest.fixture(scope="module")
def cluster():
    d = tempfile.mkdtemp(prefix="deadlined-pg.")
    os.chmod(d, 0o755)
    try:
        uri = subprocess.run(["sh", str(CLUSTER), "start", d], check=True, capture_output=True,
                             text=True, timeout=120).stdout.strip()
        yield d, uri
    finally:
        subprocess.run(["sh", str(CLUSTER), "stop", d], timeout=60)
        shutil.rmtree(d, ignore_errors=True)


_count = [0]


def fresh_database(cluster):
    """A new, empty database in the cluster; its URI."""
    d, _ = cluster
    _count[0] += 1
    return subprocess.run(["sh", str(CLUSTER), "createdb", d, f"t{os.getpid()}_{_count[0]}"], check=True,
                          capture_output=True, text=True, timeout=60).stdout.strip()


def psql(uri, sql):
    return subprocess.run(["psql", "-X", "-A", "-t", "-q", uri, "-c", sql], check=True, capture_output=True,
                          text=True, timeout=60).stdout.strip()


def pg_config(env, uri):
    return env.write_config(f'database = "{uri}";\ntimezone = "Asia/Ho_Chi_Minh";\nlanguage = "vi";\n'
                            f'transport = "maildir:maildir";\n{SCHEDULE}\n{AGENCIES}\n')


def test_add_list_done_on_postgresql(env, cluster):
    uri = fresh_database(cluster)
    pg_config(env, uri)
    env.ctl("add", "Báo cáo quyết toán ngân sách", "--agency", "stc", "--support", "kbnn",
            "--due", "30/4/2099", check=True)
    [task] = env.ctl_json("list")
    assert task["title"] == "Báo cáo quyết toán ngân sách"
    assert task["status"] == "open"
    env.ctl("done", str(task["id"]), check=True)
    assert env.ctl_json("list") == []
    [done] = env.ctl_json("list", "--all")
    assert done["status"] == "done"
    # What the commands wrote is in PostgreSQL's tables, at the current schema.
    assert psql(uri, "SELECT status FROM tasks") == "done"
    assert psql(uri, "SELECT agency || ':' || role FROM task_agencies ORDER BY position") == "stc:lead\nkbnn:support"
    assert psql(uri, "SELECT count(*) FROM completions") == "1"
    assert psql(uri, "SELECT version FROM deadlined_schema") == "14"
    assert len(psql(uri, "SELECT value FROM meta WHERE key = 'instance_id'")) == 26
    # No SQLite file was made beside the configuration.
    assert not env.database.exists()


def test_a_wrong_address_is_one_line_and_ex_config(env):
    pg_config(env, "postgresql://deadlined@[::1/deadlined")
    p = env.ctl("list")
    assert p.returncode == EX_CONFIG, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "address" in p.stderr


def test_a_server_that_is_down_is_one_line_and_ex_unavailable(env, tmp_path):
    # A socket folder with no server in it.
    (tmp_path / "nosocket").mkdir()
    pg_config(env, f"postgresql://deadlined@/deadlined?host={tmp_path}/nosocket")
    p = env.ctl("add", "x", "--agency", "stc", "--due", "30/4/2099")
    assert p.returncode == EX_UNAVAILABLE, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "cannot be reached" in p.stderr
    assert "No such file or directory" in p.stderr  # libpq's reason


@pytest.mark.parametrize("uri", ["postgresql://deadlined:s3cretpw@db.example/deadlined",
                                 "postgres://db.example/deadlined?password=s3cretpw"])
def test_a_password_in_the_address_is_refused_and_never_shown(env, uri):
    pg_config(env, uri)
    p = env.ctl("list")
    assert p.returncode == EX_CONFIG, p.stderr
    assert "must not hold a password" in p.stderr
    assert "s3cretpw" not in p.stderr


def test_a_stopped_server_is_ex_unavailable(env):
    d = tempfile.mkdtemp(prefix="deadlined-pg.")
    os.chmod(d, 0o755)
    uri = subprocess.run(["sh", str(CLUSTER), "start", str(d)], check=True, capture_output=True, text=True,
                         timeout=120).stdout.strip()
    pg_config(env, uri)
    try:
        env.ctl("add", "x", "--agency", "stc", "--due", "30/4/2099", check=True)
        subprocess.run(["sh", str(CLUSTER), "stop", str(d)], timeout=60)
        p = env.ctl("list")
        assert p.returncode == EX_UNAVAILABLE, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    finally:
        subprocess.run(["sh", str(CLUSTER), "stop", str(d)], timeout=60)
        shutil.rmtree(d, ignore_errors=True)


def test_a_newer_schema_is_refused_unchanged(env, cluster):
    uri = fresh_database(cluster)
    pg_config(env, uri)
    env.ctl("add", "x", "--agency", "stc", "--due", "30/4/2099", check=True)
    psql(uri, "UPDATE deadlined_schema SET version = 99")
    before = psql(uri, "SELECT string_agg(id || title || status, ',') FROM tasks")
    p = env.ctl("add", "y", "--agency", "stc", "--due", "30/4/2099")
    assert p.returncode == EX_DATAERR, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "schema 99" in p.stderr
    assert psql(uri, "SELECT string_agg(id || title || status, ',') FROM tasks") == before
    assert psql(uri, "SELECT version FROM deadlined_schema") == "99"


def test_a_foreign_database_is_refused(env, cluster):
    uri = fresh_database(cluster)
    psql(uri, "CREATE TABLE theirs (x int)")
    pg_config(env, uri)
    p = env.ctl("list")
    assert p.returncode == EX_DATAERR, p.stderr
    assert "not a deadlined database" in p.stderr
    assert psql(uri, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "1"


def test_deadlined_once_delivers_a_reminder_from_postgresql(env, cluster):
    uri = fresh_database(cluster)
    pg_config(env, uri)
    env.ctl("--now", "2025-05-01T09:00", "add", "Việc A", "--agency", "stc", "--support", "kbnn",
            "--due", "2025-05-20", check=True)
    # 14 days before 20/5 is Tue 6/5 08:00.
    p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--once", "--now", "2025-05-06T08:00:30"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    [m] = env.messages()
    assert m["To"].addresses[0].addr_spec == "stc@sonha.gov.vn"
    assert "kbnn" in str(m["Cc"])
    assert "Việc A" in m.get_body(("plain",)).get_content()
    assert psql(uri, "SELECT state || ' ' || agency || ' ' || slot FROM deliveries ORDER BY agency") == \
        "sent kbnn before:14d@1747760399\nsent stc before:14d@1747760399"
    # The claim named its daemon; sent, its lease is over.
    assert psql(uri, "SELECT count(*) FROM deliveries WHERE claimed_by IS NOT NULL AND claimed_until IS NULL") == "2"
    # Nothing is due again: a second pass at the same moment sends nothing.
    p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--once", "--now", "2025-05-06T08:01"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert len(env.messages()) == 1
    # No lock file or SQLite file was made.
    assert not any(f.name.endswith(".lock") or f.name.endswith(".db") for f in env.path.iterdir())


def test_the_password_comes_from_database_password_file(env, cluster):
    d, _ = cluster
    uri = fresh_database(cluster)
    name = uri.split("///")[1].split("?")[0]
    psql(uri, "CREATE ROLE pwuser LOGIN PASSWORD 'Corr3ct-horse'; "
              f"GRANT ALL ON DATABASE {name} TO pwuser; ALTER DATABASE {name} OWNER TO pwuser")
    hba = os.path.join(d, "data", "pg_hba.conf")
    with open(hba) as f:
        rules = f.read()
    if "pwuser" not in rules:
        with open(hba, "w") as f:
            f.write("local all pwuser scram-sha-256\n" + rules)
        psql(uri, "SELECT pg_reload_conf()")
    pw_uri = uri.replace("user=deadlined", "user=pwuser")
    secret = env.path / "db.password"

    # No password anywhere: refused by the server, 77, one line.
    pg_config(env, pw_uri)
    p = env.ctl("list")
    assert p.returncode == 77, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "password" in p.stderr

    # A wrong one: refused, and never shown.
    secret.write_text("Wr0ng-horse\n")
    secret.chmod(0o600)
    env.write_config(f'database = "{pw_uri}";\ndatabase_password_file = "{secret}";\ntimezone = "Asia/Ho_Chi_Minh";\n'
                     f'transport = "maildir:maildir";\n{SCHEDULE}\n{AGENCIES}\n')
    p = env.ctl("list")
    assert p.returncode == 77, p.stderr
    assert "Wr0ng-horse" not in p.stderr

    # The right one.
    secret.write_text("Corr3ct-horse\n")
    env.ctl("add", "x", "--agency", "stc", "--due", "30/4/2099", check=True)
    assert psql(uri, "SELECT count(*) FROM tasks") == "1"


def test_database_password_file_is_for_postgresql_only(env, tmp_path):
    secret = tmp_path / "db.password"
    secret.write_text("x\n")
    secret.chmod(0o600)
    env.write_config(f'database = "deadlined.db";\ndatabase_password_file = "{secret}";\n'
                     f'timezone = "Asia/Ho_Chi_Minh";\ntransport = "maildir:maildir";\n{SCHEDULE}\n{AGENCIES}\n')
    p = env.ctl("list")
    assert p.returncode == EX_CONFIG, p.stderr
    assert "database_password_file" in p.stderr


def test_deadlined_with_the_server_down_is_one_line_and_69(env, tmp_path):
    (tmp_path / "nosocket").mkdir()
    pg_config(env, f"postgresql://deadlined@/deadlined?host={tmp_path}/nosocket")
    p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--once"], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == EX_UNAVAILABLE, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "cannot be reached" in p.stderr


def test_tls_is_required_over_tcp_unless_the_address_says_otherwise(env):
    """A server reached over TCP must offer TLS with a certificate that
    verifies (sslmode=verify-full by default): this one offers none, so the
    connection is refused in one line, 69; the address may lower it."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    d = tempfile.mkdtemp(prefix="deadlined-pg.")
    os.chmod(d, 0o755)
    e = dict(os.environ, PG_TCP_PORT=str(port))
    try:
        subprocess.run(["sh", str(CLUSTER), "start", d], check=True, capture_output=True, text=True,
                       timeout=120, env=e)
        pg_config(env, f"postgresql://deadlined@127.0.0.1:{port}/deadlined")
        p = env.ctl("list")
        assert p.returncode == EX_UNAVAILABLE, p.stderr
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
        assert "TLS with the database server did not verify" in p.stderr and "does not support SSL" in p.stderr
        pg_config(env, f"postgresql://deadlined@127.0.0.1:{port}/deadlined?sslmode=disable")
        env.ctl("add", "x", "--agency", "stc", "--due", "30/4/2099", check=True)
    finally:
        subprocess.run(["sh", str(CLUSTER), "stop", d], timeout=60, env=e)
        shutil.rmtree(d, ignore_errors=True)


def test_a_certificate_that_does_not_verify_is_one_line_and_69(env, test_ca):
    """A server with TLS whose certificate comes from a CA we were not
    told to trust, or names another host, is refused in one line, 69, and
    nothing is written; the right CA and name connect."""
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    d = tempfile.mkdtemp(prefix="deadlined-pg.")
    os.chmod(d, 0o755)
    e = dict(os.environ, PG_TCP_PORT=str(port), PG_TLS_CERT=str(test_ca.cert), PG_TLS_KEY=str(test_ca.key))
    base = f"postgresql://deadlined@localhost:{port}/deadlined"
    try:
        sock = subprocess.run(["sh", str(CLUSTER), "start", d], check=True, capture_output=True, text=True,
                              timeout=120, env=e).stdout.strip()
        for uri, says in [
                (f"{base}?sslrootcert={test_ca.other_ca_cert}", "certificate verify failed"),
                (f"postgresql://deadlined@db.sonha.gov.vn:{port}/deadlined?hostaddr=127.0.0.1"
                 f"&sslrootcert={test_ca.ca_cert}", "does not match host name"),
                (f"{base}?sslrootcert={d}/nothing-here.pem", "root certificate file"),
        ]:
            pg_config(env, uri)
            for p in (subprocess.run([str(DEADLINED), "-c", str(env.config), "--once"], capture_output=True,
                                     text=True, timeout=120),
                      env.ctl("add", "x", "--agency", "stc", "--due", "30/4/2099")):
                assert p.returncode == EX_UNAVAILABLE, (uri, p.stderr)
                assert len(p.stderr.strip().splitlines()) == 1, p.stderr
                assert "TLS with the database server did not verify" in p.stderr and says in p.stderr, p.stderr
        # Nothing was made: the database is as createdb left it.
        assert psql(sock, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == "0"
        pg_config(env, f"{base}?sslrootcert={test_ca.ca_cert}")
        env.ctl("add", "x", "--agency", "stc", "--due", "30/4/2099", check=True)
        assert psql(sock, "SELECT title FROM tasks") == "x"
    finally:
        subprocess.run(["sh", str(CLUSTER), "stop", d], timeout=60, env=e)
        shutil.rmtree(d, ignore_errors=True)


def test_a_running_daemon_hears_of_a_new_task_by_notify(env, cluster):
    """Started on an empty database, the daemon has no timer armed: only
    the change notice deadlinectl's commit sends (LISTEN/NOTIFY) makes it
    look, decide the new task and send its reminder when due."""
    import datetime
    import time
    from zoneinfo import ZoneInfo
    from daemon_helpers import maildir_count, start_daemon, stop, wait_until

    uri = fresh_database(cluster)
    due = int(time.time()) + 60
    due += 60 - due % 60
    due_text = datetime.datetime.fromtimestamp(due, ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m-%dT%H:%M")
    p = None
    try:
        env.write_config(f'database = "{uri}";\ntimezone = "Asia/Ho_Chi_Minh";\nlanguage = "vi";\n'
                         f'transport = "maildir:maildir";\n'
                         f'schedule = {{ remind_before = ["{due - int(time.time()) - 4}s"]; overdue_every = "0s"; '
                         f'send_at = "08:00"; notify_on_assign = false; }};\n{AGENCIES}\n')
        env.ctl("list", check=True)  # the schema, before the daemon
        p = start_daemon(env)
        time.sleep(1.0)
        assert p.poll() is None, (env.path / "daemon.log").read_text()
        env.ctl("add", "Việc mới", "--agency", "stc", "--due", due_text, check=True)
        slot = int(time.time()) + 3  # about when the reminder falls due
        assert wait_until(lambda: maildir_count(env) >= 1, timeout=20), (env.path / "daemon.log").read_text()
        assert time.time() - slot < 6
        [m] = env.messages()
        assert "stc@" in m["To"]
        # Decided once, sent once.
        assert psql(uri, "SELECT state FROM deliveries") == "sent"
    finally:
        if p:
            assert stop(p) == 0


def sqlite_world(env):
    """An SQLite database made by the real binaries: tasks added, one done,
    one extended, a reminder sent by deadlined --once, a reply in the inbox."""
    import sqlite3
    env.write_config()
    now = ("--now", "2025-05-01T09:00")
    env.ctl(*now, "add", "Việc A", "--agency", "stc", "--support", "kbnn", "--due", "2025-05-20", check=True)
    env.ctl(*now, "add", "Việc B", "--agency", "sxd", "--due", "2025-06-30", check=True)
    env.ctl(*now, "add", "Việc C", "--agency", "kbnn", "--due", "2025-07-31", check=True)
    env.ctl(*now, "done", "2", check=True)
    env.ctl(*now, "extend", "3", "--to", "2025-08-31", "--by", "123/UBND-VP", "--reason", "chờ số liệu",
            check=True)
    env.ctl(*now, "delete", "3", "--force", check=True)
    env.ctl(*now, "add", "Việc D", "--agency", "kbnn", "--due", "2025-07-31", check=True)
    env.ctl(*now, "extend", "4", "--to", "2025-08-31", "--by", "124/UBND-VP", check=True)
    p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--once", "--now", "2025-05-06T08:00:30"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert len(env.messages()) == 1
    con = sqlite3.connect(env.database)
    with con:
        con.execute("INSERT INTO inbox_messages (uidvalidity, uid, message_id, sender, subject, received_at, "
                    "task_id, agency, intent, text, state) VALUES (7, 42, '<r1@stc.sonha.gov.vn>', "
                    "'stc@sonha.gov.vn', 'Re: Việc A', 1746500000, 1, 'stc', 'done', 'Đã xong', 'pending')")
    con.close()


def views(env, now="2025-05-06T09:00"):
    """What people see of a database: every command's JSON."""
    out = {"list": env.ctl_json("--now", now, "list", "--all"),
           "history": env.ctl_json("--now", now, "history", "--limit", "100"),
           "inbox": env.ctl_json("--now", now, "inbox")}
    for t in out["list"]:
        out[f"show {t['id']}"] = env.ctl_json("--now", now, "show", str(t["id"]))
        out[f"history {t['id']}"] = env.ctl_json("--now", now, "history", str(t["id"]))
    return out


def test_migrate_to_copies_everything_and_sends_nothing_twice(env, cluster):
    sqlite_world(env)
    before = views(env)
    instance = env.query("SELECT value FROM meta WHERE key = 'instance_id'")[0][0]
    uri = fresh_database(cluster)
    p = env.ctl("migrate-to", uri)
    assert p.returncode == 0, p.stderr
    assert instance in p.stdout
    sqlite_config = env.config.read_text()
    pg_config(env, uri)
    assert views(env) == before
    assert psql(uri, "SELECT value FROM meta WHERE key = 'instance_id'") == instance
    assert psql(uri, "SELECT state, count(*) FROM deliveries GROUP BY state ORDER BY 1") == "sent|2"
    # The same moment again, now on PostgreSQL: nothing is due, nothing goes.
    p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--once", "--now", "2025-05-06T08:01"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    assert len(env.messages()) == 1
    # New rows continue past the ids used, a deleted task's id included.
    env.ctl("--now", "2025-05-06T09:00", "add", "Việc E", "--agency", "stc", "--due", "2025-09-30", check=True)
    assert psql(uri, "SELECT max(id) FROM tasks") == "5"
    # The next reminder goes once, from PostgreSQL, in the same thread.
    p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--once", "--now", "2025-05-13T08:00:30"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    msgs = env.messages()
    assert len(msgs) == 2
    assert instance in msgs[1]["Message-ID"]
    env.config.write_text(sqlite_config)


def test_migrate_to_refuses_a_database_that_is_not_empty(env, cluster):
    sqlite_world(env)
    uri = fresh_database(cluster)
    pg_config(env, uri)
    env.ctl("add", "Việc có sẵn", "--agency", "stc", "--due", "30/4/2099", check=True)
    dump = psql(uri, "SELECT * FROM tasks") + psql(uri, "SELECT * FROM meta ORDER BY key")
    env.write_config()
    p = env.ctl("migrate-to", uri)
    assert p.returncode == 73, p.stderr
    assert p.stderr.count("\n") == 1 and "not empty" in p.stderr
    assert psql(uri, "SELECT * FROM tasks") + psql(uri, "SELECT * FROM meta ORDER BY key") == dump
    assert psql(uri, "SELECT count(*) FROM deliveries") == "0"


def test_migrate_to_needs_an_sqlite_source_and_a_postgresql_uri(env, cluster):
    uri = fresh_database(cluster)
    pg_config(env, uri)
    p = env.ctl("migrate-to", fresh_database(cluster))
    assert p.returncode == 64 and "not an SQLite file" in p.stderr and p.stderr.count("\n") == 1
    env.write_config()
    env.ctl("list", check=True)
    p = env.ctl("migrate-to", "/tmp/other.db")
    assert p.returncode == 64 and "not a PostgreSQL URI" in p.stderr and p.stderr.count("\n") == 1


def reminder_in(env, uri, seconds):
    """A configuration on `uri` whose one reminder falls `seconds` from now
    for a task due (as the text returned) in a few minutes."""
    import datetime
    import time
    from zoneinfo import ZoneInfo

    due = int(time.time()) + 120
    due += 60 - due % 60
    fire = int(time.time()) + seconds
    env.write_config(f'database = "{uri}";\ntimezone = "Asia/Ho_Chi_Minh";\nlanguage = "vi";\n'
                     f'transport = "maildir:maildir";\n'
                     f'schedule = {{ remind_before = ["{due - fire}s"]; overdue_every = "0s"; '
                     f'send_at = "08:00"; notify_on_assign = false; }};\n{AGENCIES}\n')
    return datetime.datetime.fromtimestamp(due, ZoneInfo("Asia/Ho_Chi_Minh")).strftime("%Y-%m-%dT%H:%M")


def test_a_server_restarted_under_a_running_daemon_is_reconnected_to(env, tmp_path):
    """The server stops (immediate shutdown: connections cut) and comes
    back under a running daemon: its calls fail meanwhile and are retried
    with back-off while the watchdog keeps beating; then it connects again,
    listens again, and a task added after the restart is reminded."""
    import time
    from daemon_helpers import NotifySocket, maildir_count, start_daemon, stop, wait_until

    d = tempfile.mkdtemp(prefix="deadlined-pg-restart.")
    os.chmod(d, 0o755)
    n = NotifySocket(tmp_path / "notify")
    p = None
    try:
        uri = subprocess.run(["sh", str(CLUSTER), "start", d], check=True, capture_output=True, text=True,
                             timeout=120).stdout.strip()
        due_text = reminder_in(env, uri, 12)
        env.ctl("list", check=True)
        p = start_daemon(env, notify=n, watchdog_usec=2_000_000)
        n.wait_for("READY=1", timeout=20)
        subprocess.run(["sh", str(CLUSTER), "stop", d], check=True, timeout=60)
        t_down = time.monotonic()
        time.sleep(2.5)
        assert p.poll() is None, (env.path / "daemon.log").read_text()
        subprocess.run(["sh", str(CLUSTER), "restart", d], check=True, timeout=60)
        env.ctl("add", "Việc sau khi khởi động lại", "--agency", "stc", "--due", due_text, check=True)
        # Reminded about 12 s after it was added, by the same daemon.
        assert wait_until(lambda: maildir_count(env) >= 1, timeout=40), (env.path / "daemon.log").read_text()
        assert p.poll() is None
        [m] = env.messages()
        assert "stc@" in m["To"]
        log = (env.path / "daemon.log").read_text()
        assert "answers again" in log, log
        # The watchdog was fed while the server was away.
        beats = [t for t, line in n.fields() if line == "WATCHDOG=1" and t > t_down]
        assert beats and min(beats) < t_down + 2, beats
        assert stop(p) == 0
        p = None
    finally:
        if p:
            p.kill()
        n.close()
        subprocess.run(["sh", str(CLUSTER), "stop", d], timeout=60)
        shutil.rmtree(d, ignore_errors=True)


def test_the_loop_and_its_watchdog_go_on_while_the_server_does_not_answer(env, tmp_path):
    """The server freezes (SIGSTOP: connections open, nothing answered, as
    a server swapping or a network that drops packets) just as a reminder
    falls due: the pass waits on the store thread while the loop goes on
    feeding the watchdog; when the server answers again the reminder goes,
    once."""
    import signal
    import time
    from daemon_helpers import NotifySocket, maildir_count, start_daemon, stop, wait_until, watchdog_pings

    d = tempfile.mkdtemp(prefix="deadlined-pg-freeze.")
    os.chmod(d, 0o755)
    n = NotifySocket(tmp_path / "notify")
    p = None
    frozen = []
    try:
        uri = subprocess.run(["sh", str(CLUSTER), "start", d], check=True, capture_output=True, text=True,
                             timeout=120).stdout.strip()
        fire = time.time() + 15
        due_text = reminder_in(env, uri, 15)
        env.ctl("add", "Việc khi máy chủ treo", "--agency", "stc", "--due", due_text, check=True)
        p = start_daemon(env, notify=n, watchdog_usec=2_000_000)
        n.wait_for("READY=1", timeout=20)
        time.sleep(max(0.0, fire - 3 - time.time()))
        # Every process of this cluster: the postmaster and its children.
        with open(os.path.join(d, "data", "postmaster.pid")) as f:
            postmaster = int(f.readline())
        children = subprocess.run(["pgrep", "-P", str(postmaster)], capture_output=True, text=True).stdout.split()
        frozen = [postmaster, *map(int, children)]
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        t_frozen = time.monotonic()
        time.sleep(9)
        assert maildir_count(env) == 0
        assert p.poll() is None, (env.path / "daemon.log").read_text()
        pings, gap = watchdog_pings(n, after=t_frozen)
        # A loop stuck in a call has sent nothing since its last: that counts.
        gap = max(gap, time.monotonic() - (pings[-1] if pings else t_frozen))
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
        frozen = []
        # Fed at its half-interval (1 s) throughout, the due slot included.
        assert len(pings) >= 6 and gap < 1.6, (len(pings), gap)
        assert wait_until(lambda: maildir_count(env) >= 1, timeout=40), (env.path / "daemon.log").read_text()
        time.sleep(3)
        [m] = env.messages()
        assert "stc@" in m["To"]
        assert psql(uri, "SELECT state, count(*) FROM deliveries GROUP BY state") == "sent|1"
        assert stop(p) == 0
        p = None
    finally:
        for pid in frozen:
            os.kill(pid, signal.SIGCONT)
        if p:
            p.kill()
        n.close()
        subprocess.run(["sh", str(CLUSTER), "stop", d], timeout=60)
        shutil.rmtree(d, ignore_errors=True)
