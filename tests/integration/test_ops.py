# SPDX-License-Identifier: GPL-2.0-or-later
"""The operator's tools: deadlinectl retry (failed deliveries back into the
outbox), deadlinectl delete (a task and its history, in one transaction),
and --json on every command that prints."""

import fcntl
import json
import os
import pwd
import sqlite3

import pytest

from daemon_helpers import run_once
from smtpserver import Script, smtp_server  # noqa: F401 (fixture)
from test_smtp import FIRST, add_task, later, smtp_config

USER = pwd.getpwuid(os.getuid()).pw_name
REFUSED = "550 5.1.1 <kbnn@sonha.gov.vn>: Recipient address rejected: User unknown"


def rows(env, task=None):
    sql = "SELECT id, agency, state, attempts, first_attempt_at, retried_at, retried_by, retries FROM deliveries"
    return env.query(sql + (" WHERE task_id = ?" if task else "") + " ORDER BY id", *([task] if task else []))


def failed_ids(env):
    return [i for i, _, state, *_ in rows(env) if state == "failed"]


def one_line_error(p, code, words):
    assert p.returncode == code, (p.returncode, p.stderr)
    assert p.stdout == ""
    assert p.stderr.count("\n") == 1 and words in p.stderr, p.stderr


# --- retry --------------------------------------------------------------------------------------------


def test_retry_puts_a_failed_delivery_back_and_it_is_sent(env, smtp_server):
    # kbnn's address is refused once, for good: the delivery is given up.
    server = smtp_server(script=Script(rcpt={"kbnn@sonha.gov.vn": [REFUSED]}))
    smtp_config(env, server)
    task = add_task(env)
    assert run_once(env, "--now", FIRST).returncode == 69
    (failed,) = failed_ids(env)
    status = env.ctl("status", check=True).stdout
    assert any(line.split()[:2] == [str(failed), str(task)] for line in status.splitlines()), status

    retried = later(FIRST, hours=2)
    p = env.ctl("--now", retried, "retry", failed, check=True)
    assert p.stdout == f"Delivery {failed} is queued again, due now.\n"
    ((_, agency, state, attempts, first, at, by, retries),) = [r for r in rows(env) if r[0] == failed]
    assert (agency, state, attempts, first, by, retries) == ("kbnn", "pending", 0, None, USER, 1)
    due, = env.query("SELECT next_attempt_at FROM deliveries WHERE id = ?", failed)[0]
    assert at == due  # due at the moment of the retry, recorded as its time
    hist = {d["id"]: d for d in env.ctl_json("history", task)["deliveries"]}
    assert hist[failed]["retried_by"] == USER and hist[failed]["retries"] == 1
    assert hist[failed]["retried_at"].startswith(retried[:16])
    assert f"retried by {USER}" in env.ctl("history", task, check=True).stdout

    # The daemon sends it on its next pass, to kbnn alone.
    assert run_once(env, "--now", later(retried, minutes=1)).returncode == 0, env.ctl("status").stdout
    assert [r for r in rows(env) if r[0] == failed][0][2] == "sent"
    assert server.received[-1].rcpt_tos == ["kbnn@sonha.gov.vn"]


@pytest.fixture
def all_failed(env, smtp_server):
    """Two tasks whose every delivery (stc, skhdt, kbnn) was refused at DATA."""
    server = smtp_server(script=Script(data=["550 5.7.1 Message content rejected"] * 2))
    smtp_config(env, server)
    tasks = [add_task(env, ref="5.c"), add_task(env, ref="5.d")]
    assert run_once(env, "--now", FIRST).returncode == 69
    assert len(failed_ids(env)) == 6
    return tasks


def test_retry_failed_by_task_and_agency_with_json(env, all_failed):
    first, second = all_failed
    p = env.ctl("--json", "retry", "--failed", "--task", first, "--agency", "kbnn", check=True)
    j = json.loads(p.stdout)
    (kbnn,) = [i for i, agency, _, *_ in rows(env, first) if agency == "kbnn"]
    assert j["requeued"] == 1 and j["deliveries"] == [kbnn] and j["user"] == USER
    # A group stands for its members: skhdt and stc, in either task.
    j = env.ctl_json("retry", "--failed", "--agency", "cacso")
    assert j["requeued"] == 4
    assert env.ctl("retry", "--failed", check=True).stdout == "1 failed delivery queued again, due now.\n"
    assert failed_ids(env) == []
    assert {s for _, _, s, *_ in rows(env)} == {"pending"}


def test_retry_leaves_a_withdrawn_delivery_alone(env, all_failed):
    first, second = all_failed
    env.ctl("cancel", first, check=True)
    env.ctl("--now", FIRST, "extend", second, "--to", "2025-06-30", "--by", "Công văn số 1/UBND", check=True)
    before = env.dump()
    one_line_error(env.ctl("retry", failed_ids(env)[0]), 65, "withdrawn: its task 1 is cancelled")
    one_line_error(env.ctl("retry", failed_ids(env)[-1]), 65, "an earlier deadline of task 2")
    assert env.ctl("retry", "--failed", check=True).stdout == "0 failed deliveries queued again, due now.\n"
    assert env.dump() == before


def test_retry_refuses_what_is_not_failed(env, smtp_server):
    server = smtp_server(script=Script(rcpt={"kbnn@sonha.gov.vn": [REFUSED]}))
    smtp_config(env, server)
    task = add_task(env)
    assert run_once(env, "--now", FIRST).returncode == 69
    sent = [i for i, _, state, *_ in rows(env) if state == "sent"][0]
    (failed,) = failed_ids(env)
    before = env.dump()
    one_line_error(env.ctl("retry", sent), 65, f"delivery {sent} was sent at 2025-05-06 08:00")
    one_line_error(env.ctl("retry", 999), 65, "no delivery 999")
    one_line_error(env.ctl("retry", "x"), 64, '"x" is not a delivery id')
    one_line_error(env.ctl("retry"), 64, "missing DELIVERY id or --failed")
    one_line_error(env.ctl("retry", failed, "--failed"), 64, "not both")
    one_line_error(env.ctl("retry", failed, "--task", task), 64, "go with --failed")
    one_line_error(env.ctl("retry", "--failed", "--task", 999), 65, "no task 999")
    one_line_error(env.ctl("retry", "--failed", "--agency", "kbnm"), 65, 'did you mean "kbnn"')
    assert env.dump() == before
    env.ctl("retry", failed, check=True)
    after = env.dump()
    one_line_error(env.ctl("retry", failed), 65, f"delivery {failed} is pending")
    assert env.dump() == after


# --- delete -------------------------------------------------------------------------------------------


def counts(env, task):
    return {table: env.query(f"SELECT count(*) FROM {table} WHERE task_id = ?", task)[0][0]
            for table in ("task_agencies", "deliveries", "task_changes", "completions")}


@pytest.mark.parametrize("recurrence", [None, "monthly:25"])
def test_delete_removes_the_task_and_all_it_has(env, recurrence):
    extra = ["--recurrence", recurrence] if recurrence else []
    keep = env.ctl_json("--now", "2025-05-01T09:00", "add", "Giữ lại", "--agency", "stc", "--due", "2025-05-20")
    t = env.ctl_json("--now", "2025-05-01T09:00", "add", "Xoá", "--agency", "stc", "--support", "kbnn",
                     "--due", "2025-05-25", *extra)
    env.ctl("--now", "2025-05-02T09:00", "done", t["id"], "--note", "Báo cáo số 1", check=True)
    if not recurrence:
        env.ctl("--now", "2025-05-03T09:00", "reopen", t["id"], check=True)
    # A reminder decided and not sent yet.
    env.execute("INSERT INTO deliveries (task_id, slot, slot_at, agency, channel, created_at, next_attempt_at) "
                "VALUES (?, 'before:14d@1', 1, 'stc', 'email', 1, 1)", t["id"])
    assert all(counts(env, t["id"]).values())
    keep_before = counts(env, keep["id"])

    p = env.ctl("delete", t["id"], check=True)
    assert p.stdout == f"Deleted task {t['id']}.\n"
    assert env.query("SELECT id FROM tasks") == [(keep["id"],)]
    assert set(counts(env, t["id"]).values()) == {0}
    assert counts(env, keep["id"]) == keep_before
    one_line_error(env.ctl("show", t["id"]), 65, f"no task {t['id']}")


def test_delete_is_refused_for_sent_reminders_unless_forced(env):
    task = env.ctl_json("--now", "2025-05-01T09:00", "add", "Báo cáo", "--agency", "stc", "--due", "2025-05-20")["id"]
    assert run_once(env, "--now", FIRST).returncode == 0
    assert env.query("SELECT state FROM deliveries") == [("sent",)]
    before = env.dump()
    one_line_error(env.ctl("delete", task), 65, f"task {task} has 1 sent reminder")
    assert "--force" in env.ctl("delete", task).stderr
    assert env.dump() == before
    p = env.ctl("delete", task, "--force", check=True)
    assert p.stdout.startswith(f"Deleted task {task} with its history: 1 sent reminder")
    assert "are gone" in p.stdout
    assert env.query("SELECT count(*) FROM tasks") == [(0,)]
    assert env.query("SELECT count(*) FROM deliveries") == [(0,)]


@pytest.mark.sqlite_only("a sender's lock file beside the database")
def test_delete_refuses_a_reminder_being_sent(env):
    task = env.ctl_json("--now", "2025-05-01T09:00", "add", "Báo cáo", "--agency", "stc", "--due", "2025-05-20")["id"]
    con = sqlite3.connect(env.database)
    with con:
        con.execute("INSERT INTO deliveries (task_id, slot, slot_at, agency, channel, state, attempts, created_at) "
                    "VALUES (?, 'before:14d@1', 1, 'stc', 'email', 'attempting', 1, 1)", (task,))
    con.close()
    # A running sender holds the lock beside the database while it sends.
    with open(str(env.database) + ".lock", "w") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        before = env.dump()
        one_line_error(env.ctl("delete", task, "--force"), 75, "has a reminder being sent now")
        assert env.dump() == before
        fcntl.lockf(lock, fcntl.LOCK_UN)
    # No sender: a claim left by one that stopped may have gone out.
    one_line_error(env.ctl("delete", task), 65, "1 sent reminder")
    env.ctl("delete", task, "--force", check=True)
    assert env.query("SELECT count(*) FROM deliveries") == [(0,)]


def test_delete_refuses_a_reminder_a_daemon_holds_under_lease(env):
    """PostgreSQL: a delivery claimed by a daemon (on another machine) whose
    lease has not run out is being sent now."""
    if not env.pg_uri:
        pytest.skip("claims with a lease are PostgreSQL's")
    task = env.ctl_json("--now", "2025-05-01T09:00", "add", "Báo cáo", "--agency", "stc", "--due", "2025-05-20")["id"]
    env.execute("INSERT INTO deliveries (task_id, slot, slot_at, agency, channel, state, attempts, created_at, "
                "claimed_by, claimed_until) VALUES (?, 'before:14d@1', 1, 'stc', 'email', 'attempting', 1, 1, "
                "'db2.sonha.gov.vn:4242', 4102444800)", task)
    before = env.dump()
    one_line_error(env.ctl("delete", task, "--force"), 75, "has a reminder being sent now")
    assert env.dump() == before
    # Its lease run out (the daemon died): it may have gone, so it counts as sent.
    env.execute("UPDATE deliveries SET claimed_until = 1 WHERE task_id = ?", task)
    before = env.dump()
    one_line_error(env.ctl("delete", task), 65, "has 1 sent reminder")
    assert env.dump() == before
    env.ctl("delete", task, "--force", check=True)
    assert env.query("SELECT count(*) FROM deliveries") == [(0,)]


def test_delete_bad_input(env):
    env.ctl("add", "Báo cáo", "--agency", "stc", check=True)
    before = env.dump()
    one_line_error(env.ctl("delete", 999), 65, "no task 999")
    one_line_error(env.ctl("delete", "x"), 64, '"x" is not a task id')
    one_line_error(env.ctl("delete"), 64, "missing task ID")
    assert env.dump() == before


def test_delete_frees_the_reference_and_cancel_does_not(env, tmp_path):
    doc = {"document": {"number": "99/UBND-KTTH"},
           "tasks": [{"ref": "1", "title": "Báo cáo", "lead": ["stc"], "due": "2025-05-20"}]}
    f = tmp_path / "doc.json"
    f.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    env.ctl("import", f, check=True)
    (first,) = env.ctl_json("list", "--all")
    env.ctl("cancel", first["id"], check=True)
    env.ctl("import", f, check=True)
    assert [(t["id"], t["status"]) for t in env.ctl_json("list", "--all")] == [(first["id"], "cancelled")]

    env.ctl("delete", first["id"], check=True)
    j = env.ctl_json("import", f)
    assert (j["added"], j["updated"]) == (1, 0)
    (again,) = env.ctl_json("list", "--all")
    assert again["id"] != first["id"] and again["status"] == "open" and again["ref"] == "1"


# --- the schema ---------------------------------------------------------------------------------------


@pytest.mark.sqlite_only("SQLite's migrations from an old schema")
def test_a_schema_6_database_migrates_with_its_deliveries(env):
    task = env.ctl_json("--now", "2025-05-01T09:00", "add", "Báo cáo", "--agency", "stc", "--due", "2025-05-20")["id"]
    assert run_once(env, "--now", FIRST).returncode == 0
    con = sqlite3.connect(env.database)
    con.executescript("ALTER TABLE tasks DROP COLUMN due_rule_days; ALTER TABLE tasks DROP COLUMN due_rule_from; ALTER TABLE tasks DROP COLUMN revision; ALTER TABLE deliveries DROP COLUMN retried_at; ALTER TABLE deliveries DROP COLUMN retried_by;"
                      "ALTER TABLE deliveries DROP COLUMN retries; DROP INDEX deliveries_untasked; "
                      "ALTER TABLE task_agencies DROP COLUMN notice_at; DROP INDEX completions_due; "
                      "DROP TABLE inbox_messages; CREATE INDEX deliveries_task ON deliveries(task_id); PRAGMA user_version = 6;")
    con.close()
    (d,) = env.ctl_json("history", task)["deliveries"]
    assert env.query("PRAGMA user_version") == [(14,)]
    assert d["state"] == "sent" and d["retries"] == 0 and d["retried_by"] is None


# --- --json everywhere --------------------------------------------------------------------------------


def test_every_printing_command_speaks_json(env, tmp_path):
    j = env.ctl_json("--now", "2025-05-01T09:00", "add", "Báo cáo", "--agency", "stc", "--due", "2025-05-20")
    task = j["id"]
    assert j["title"] == "Báo cáo"
    assert env.ctl_json("edit", task, "--title", "Báo cáo quý")["title"] == "Báo cáo quý"
    assert env.ctl_json("--now", "2025-05-02T09:00", "extend", task, "--to", "2025-05-30", "--by", "CV 1")["due"] \
        == "2025-05-30"
    assert env.ctl_json("done", task, "--note", "BC 45")["status"] == "done"
    assert env.ctl_json("reopen", task)["status"] == "open"
    assert env.ctl_json("cancel", task)["status"] == "cancelled"
    rec = env.ctl_json("add", "Định kỳ", "--agency", "stc", "--due", "2025-05-25", "--recurrence", "monthly:25")
    assert env.ctl_json("done", rec["id"])["due"] == "2025-06-25"
    left = env.ctl_json("--now", "2025-05-28T09:00", "list")
    assert left[0]["id"] == rec["id"] and "seconds_left" in left[0] and "days_overdue" in left[0]
    assert env.ctl_json("show", task)["status"] == "cancelled"
    assert env.ctl_json("history", task)["task"] == task
    assert "deliveries" in env.ctl_json("history")
    assert env.ctl_json("status")["sender"]["running"] is False
    cfg = env.ctl_json("check-config")
    assert cfg["ok"] is True and cfg["agencies"] == 9 and cfg["timezone"] == "Asia/Ho_Chi_Minh"
    assert env.ctl_json("calendar", "2025")["year"] == 2025
    assert env.ctl_json("agencies")["agencies"][0]["id"] == "lanhdao"
    assert env.ctl_json("export", "--format", "json")["version"] == 1
    assert env.ctl_json("new-instance-id")["new"] != env.ctl_json("new-instance-id")["new"]
    assert env.ctl_json("send-test", "stc")["agency"] == "stc"
    f = tmp_path / "doc.json"
    f.write_text(json.dumps({"document": {"number": "7/UBND"},
                             "tasks": [{"ref": "1", "title": "Việc", "lead": ["stc"]}]}), encoding="utf-8")
    assert env.ctl_json("import", f, "--dry-run")["document"]["number"] == "7/UBND"
    assert env.ctl_json("import", f)["added"] == 1
    assert env.ctl_json("retry", "--failed")["requeued"] == 0
    assert env.ctl_json("delete", rec["id"])["deleted"] == rec["id"]
    # Errors stay one line on stderr, not JSON, with their codes.
    one_line_error(env.ctl("--json", "done", 999), 65, "no task 999")
