# SPDX-License-Identifier: GPL-2.0-or-later
"""deadlined --once --dry-run: what a pass at a given moment would send,
worked out by the real pass, with nothing sent and nothing changed."""

import json
import sqlite3
import subprocess
import threading
import time

import pytest

from conftest import AGENCIES, DEADLINED, SCHEDULE, Env
from daemon_helpers import maildir_count, start_daemon, stop, wait_until
from httpserver import Server
from smtpserver import smtp_server  # noqa: F401 (fixture)

CREATED = "2025-05-01T09:00"
# Task 1 is due on Tuesday 2025-05-20: its 14-, 7- and 3-day reminders
# (2025-05-06, -13, -16) and the 1-day one (Monday 2025-05-19 08:00) have
# all passed at AFTER_DOWNTIME; only the 1-day one is to go.
AFTER_DOWNTIME = "2025-05-19T09:00"


def dry_run(env, *args, now=AFTER_DOWNTIME, timeout=60):
    cmd = [str(DEADLINED), "-c", str(env.config), "--once", "--dry-run", *(["--now", now] if now else []), *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def real_once(env, now=AFTER_DOWNTIME):
    return subprocess.run([str(DEADLINED), "-c", str(env.config), "--once", "--now", now],
                          capture_output=True, text=True, timeout=120)


def preview_json(env, now=AFTER_DOWNTIME):
    p = dry_run(env, "--json", now=now)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def keys(doc):
    return {(d["task"], d["agency"], d["channel"], d["slot"]) for d in doc["deliveries"]}


def sent_keys(env):
    return set(env.query("SELECT task_id, agency, channel, slot FROM deliveries WHERE state = 'sent'"))


def copy_of(env, tmp_path, name="copy"):
    """The same configuration and a copy of the database (with what is in
    SQLite's WAL) in a folder of its own."""
    other = Env(tmp_path / name)
    other.path.mkdir()
    env.copy_database_to(other)
    return other


def add_tasks(env):
    env.ctl("--now", CREATED, "add", "Báo cáo đánh giá nguồn lực", "--agency", "stc", "--support", "skhdt,kbnn",
            "--due", "2025-05-20", "--ref", "5.c", check=True)
    env.ctl("--now", CREATED, "add", "Kiểm tra công trình", "--agency", "sxd", "--due", "2025-05-23",
            check=True)
    env.ctl("--now", CREATED, "add", "Kết nối trục liên thông", "--agency", "stttt", "--due", "2025-05-12",
            check=True)


def test_preview_after_downtime_lists_what_the_real_pass_then_sends(env, tmp_path):
    add_tasks(env)
    before = env.dump()

    doc = preview_json(env)
    assert env.dump() == before
    assert not env.maildir.exists()
    # --now's clock runs on from the start: a loaded machine, or opening a
    # database on a server, may take it past the second.
    assert doc["at"].startswith("2025-05-19T09:00:0") and doc["at"].endswith("+07:00"), doc["at"]
    # Catch-up: task 1 missed four slots, and each agency hears of the
    # latest only; the overdue task 3 gets its overdue reminder and the
    # escalation to vpubnd, once each.
    task1 = {(d["agency"], d["slot"].split("@")[0]) for d in doc["deliveries"] if d["task"] == 1}
    assert task1 == {("stc", "before:1d"), ("skhdt", "before:1d"), ("kbnn", "before:1d")}
    assert {d["agency"] for d in doc["deliveries"] if d["task"] == 3} == {"stttt", "vpubnd"}
    lead = next(d for d in doc["deliveries"] if d["task"] == 1 and d["agency"] == "stc")
    assert lead["role"] == "lead" and lead["recipients"] == ["stc@sonha.gov.vn"]
    assert lead["subject"].startswith("[Nhắc việc] Còn 1 ngày: 5.c — Báo cáo đánh giá nguồn lực")

    # The same pass for real, on a copy: it sends exactly that.
    copy = copy_of(env, tmp_path)
    p = real_once(copy)
    assert p.returncode == 0, p.stderr
    assert sent_keys(copy) == keys(doc)
    assert maildir_count(copy) == doc["messages"]
    # A preview can be run again and says the same; the real pass used
    # those reminders up.
    again = preview_json(env)
    assert again["at"].startswith("2025-05-19T09:00:0")
    assert {**again, "at": doc["at"]} == doc
    assert preview_json(copy)["deliveries"] == []


def test_text_shows_one_line_per_delivery_and_matches_the_json(env):
    add_tasks(env)
    doc = preview_json(env)
    p = dry_run(env)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == (f"At 2025-05-19 09:00:00, deadlined would send {doc['messages']} messages "
                        f"({len(doc['deliveries'])} deliveries):")
    assert lines[1].split()[:6] == ["MSG", "TASK", "AGENCY", "ROLE", "CHANNEL", "SLOT"]
    rows = [line.split() for line in lines[2:]]
    assert len(rows) == len(doc["deliveries"])
    for row, d in zip(rows, doc["deliveries"]):
        assert row[:6] == [str(d["message"]), str(d["task"]), d["agency"], d["role"], d["channel"], d["slot"]]
        assert d["subject"] in " ".join(row)


def test_nothing_due_is_said_and_exits_0(env):
    add_tasks(env)
    p = dry_run(env, now="2025-05-02T09:00")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "Nothing would be sent at 2025-05-02 09:00:00.\n"
    doc = preview_json(env, now="2025-05-02T09:00")
    assert doc == {"at": "2025-05-02T09:00:00+07:00", "messages": 0, "deliveries": []}


def test_digest_preview_groups_an_agencys_tasks_into_one_message(env, tmp_path):
    env.write_config(schedule=SCHEDULE.replace("digest = false", "digest = true"))
    env.ctl("--now", CREATED, "add", "Việc A", "--agency", "stc", "--support", "kbnn", "--due", "2025-05-20",
            check=True)
    env.ctl("--now", CREATED, "add", "Việc B", "--agency", "stc", "--due", "2025-05-20", check=True)
    before = env.dump()

    doc = preview_json(env)
    assert env.dump() == before
    stc = [d for d in doc["deliveries"] if d["agency"] == "stc"]
    assert sorted(d["task"] for d in stc) == [1, 2]
    assert len({d["message"] for d in stc}) == 1
    assert doc["messages"] == 2          # stc's digest, and kbnn's

    copy = copy_of(env, tmp_path)
    assert real_once(copy).returncode == 0
    assert sent_keys(copy) == keys(doc)
    assert maildir_count(copy) == doc["messages"]
    subjects = {m["Subject"] for m in copy.messages()}
    assert {d["subject"] for d in doc["deliveries"]} == subjects


def network_config(env, smtp_url, hook_url):
    agencies = AGENCIES.replace(
        '{ id = "stc";     name = "Sở Tài chính"; email = ["stc@sonha.gov.vn"]; },',
        f'{{ id = "stc"; name = "Sở Tài chính"; email = ["stc@sonha.gov.vn"]; '
        f'webhook = {{ url = "{hook_url}"; format = "json"; }}; }},')
    assert agencies != AGENCIES
    env.write_config(
        'database = "deadlined.db";\ntimezone = "Asia/Ho_Chi_Minh";\nlanguage = "vi";\n'
        f'smtp = {{ url = "{smtp_url}"; allow_plaintext = true; from = "Nhắc việc <nhacviec@sonha.gov.vn>"; }};\n'
        'delivery = { retry_min = "1m"; retry_max = "1h"; max_retry_age = "2d"; };\n'
        f'{SCHEDULE}\n{agencies}\n')


def test_preview_sends_no_mail_and_calls_no_webhook(env, smtp_server, tmp_path):
    server = smtp_server()
    with Server() as hook:
        network_config(env, server.url, hook.url())
        add_tasks(env)
        before = env.dump()

        doc = preview_json(env)
        assert dry_run(env).returncode == 0
        assert env.dump() == before
        time.sleep(0.2)
        assert server.connections == 0 and server.received == []
        assert hook.received() == []
        hooks = [d for d in doc["deliveries"] if d["channel"] == "webhook:0"]
        assert [(d["task"], d["agency"]) for d in hooks] == [(1, "stc")]
        assert hooks[0]["recipients"] is None and hooks[0]["subject"]

        # The real pass at the same moment sends what the preview showed.
        p = real_once(env)
        assert p.returncode == 0, p.stderr
        assert sent_keys(env) == keys(doc)
        assert len(hook.received()) == 1
        assert len(server.received) == doc["messages"] - 1


def test_an_unparsable_now_is_a_usage_error_naming_it(env):
    add_tasks(env)
    before = env.dump()
    for args in (["--once", "--dry-run", "--now", "2025-13-45T08:00"], ["--once", "--now", "2025-13-45T08:00"],
                 ["--now", "2025-13-45T08:00"]):
        p = subprocess.run([str(DEADLINED), "-c", str(env.config), *args], capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 64, (args, p.stderr)
        assert p.stdout == ""
        assert len(p.stderr.strip().splitlines()) == 1 and '"2025-13-45T08:00"' in p.stderr
    assert env.dump() == before
    assert not env.maildir.exists()


def test_json_without_dry_run_and_dry_run_without_once_are_usage_errors(env):
    add_tasks(env)
    before = env.dump()
    for args, words in ((["--once", "--json"], "--json prints a dry run"),
                        (["--dry-run"], "--dry-run shows what one pass would send"),
                        (["--dry-run", "--json", "--now", AFTER_DOWNTIME], "--dry-run shows")):
        p = subprocess.run([str(DEADLINED), "-c", str(env.config), *args], capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 64, (args, p.stderr)
        assert words in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert env.dump() == before
    assert not env.maildir.exists()


@pytest.mark.pg_differs("a lease is judged by the caller's clock: a dry run --now past the resident daemon's lease lists its claims as due")
def test_preview_beside_a_resident_daemon_leaves_its_deliveries_alone(env):
    release = threading.Event()

    def slow(request):
        release.wait(30)
        return 204, {}, b""

    with Server(respond=slow) as hook:
        agencies = AGENCIES.replace(
            '{ id = "stc";     name = "Sở Tài chính"; email = ["stc@sonha.gov.vn"]; },',
            f'{{ id = "stc"; name = "Sở Tài chính"; webhook = {{ url = "{hook.url()}"; format = "json"; }}; }},')
        env.write_config(agencies=agencies)
        add_tasks(env)
        daemon = start_daemon(env, "--now", AFTER_DOWNTIME)
        try:
            # The daemon has claimed everything due; the webhook waits.
            assert hook.wait_for(1, timeout=20)
            busy = env.query("SELECT id, task_id, agency, channel, slot, state, attempts, next_attempt_at "
                             "FROM deliveries WHERE state = 'attempting' ORDER BY id")
            assert [(r[1], r[2], r[3]) for r in busy] == [(1, "stc", "webhook:0")]

            started = time.monotonic()
            p = dry_run(env, "--json", now="2025-05-20T09:00")
            assert p.returncode == 0, p.stderr
            assert time.monotonic() - started < 10
            doc = json.loads(p.stdout)
            assert doc["deliveries"], "the next day's reminders"
            assert not any(d["slot"] == busy[0][4] and d["channel"] == "webhook:0" for d in doc["deliveries"])
            assert env.query("SELECT id, task_id, agency, channel, slot, state, attempts, next_attempt_at "
                             "FROM deliveries WHERE state = 'attempting' ORDER BY id") == busy
            assert daemon.poll() is None
        finally:
            release.set()
        assert wait_until(lambda: env.query("SELECT state FROM deliveries WHERE id = ?", busy[0][0])
                          == [("sent",)], timeout=20)
        assert len(hook.received()) == 1
        assert stop(daemon) == 0


@pytest.mark.sqlite_only("SQLite's migrations from an old schema")
def test_preview_of_a_database_that_needs_migrating_leaves_it_at_its_version(env, tmp_path):
    add_tasks(env)
    con = sqlite3.connect(env.database)
    con.executescript("ALTER TABLE tasks DROP COLUMN due_rule_days; ALTER TABLE tasks DROP COLUMN due_rule_from; ALTER TABLE tasks DROP COLUMN revision; DROP INDEX deliveries_untasked; ALTER TABLE task_agencies DROP COLUMN notice_at; "
                      "DROP TABLE completions; ALTER TABLE tasks DROP COLUMN original_due; "
                      "DROP TABLE task_changes; ALTER TABLE deliveries DROP COLUMN first_attempt_at; "
                      "ALTER TABLE deliveries DROP COLUMN retried_at; ALTER TABLE deliveries DROP COLUMN retried_by; "
                      "ALTER TABLE deliveries DROP COLUMN retries; DROP TABLE inbox_messages; CREATE INDEX deliveries_task ON deliveries(task_id); PRAGMA user_version = 3;")
    con.close()
    before = env.dump()

    doc = preview_json(env)
    assert env.dump() == before
    assert env.query("PRAGMA user_version") == [(3,)]
    copy = copy_of(env, tmp_path)
    assert real_once(copy).returncode == 0
    assert sent_keys(copy) == keys(doc)


@pytest.mark.sqlite_only("a missing database file")
def test_preview_of_a_missing_database_is_no_input_and_creates_nothing(env):
    p = dry_run(env)
    assert p.returncode == 66, p.stderr
    assert "deadlined.db" in p.stderr
    assert not env.database.exists()


@pytest.mark.sqlite_only("sets PRAGMA user_version; test_pg.py refuses a newer schema on PostgreSQL")
def test_preview_of_a_newer_database_is_refused_unchanged(env):
    add_tasks(env)
    con = sqlite3.connect(env.database)
    con.execute("PRAGMA user_version = 99")
    con.close()
    before = env.dump()
    p = dry_run(env)
    assert p.returncode == 65, p.stderr
    assert "newer" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    assert env.dump() == before
