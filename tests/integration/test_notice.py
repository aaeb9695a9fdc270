# SPDX-License-Identifier: GPL-2.0-or-later
"""Assignment notices: an agency given a task (add, import, edit handing
it over) hears of it once, from the daemon, with its deadline, the time
left and its role; in digest mode an agency's new tasks of a day come as
one message at the morning briefing."""

import json
import sqlite3

import pytest

from conftest import SCHEDULE
from daemon_helpers import run_once

# The shared schedule turns notices off for the reminder tests; these use
# the default (on).
NOTIFY = SCHEDULE.replace("  notify_on_assign = false;\n", "")
assert NOTIFY != SCHEDULE
MONDAY = "2025-05-05T09:00"


def configure(env, *, digest=False, notify=None, language="vi"):
    schedule = NOTIFY.replace("digest = false", "digest = true") if digest else NOTIFY
    if notify is not None:
        schedule = schedule.replace("digest =", f"notify_on_assign = {str(notify).lower()};\n  digest =")
    env.write_config(schedule=schedule)
    if language != "vi":
        env.config.write_text(env.config.read_text(encoding="utf-8").replace('language = "vi";',
                                                                                f'language = "{language}";'),
                              encoding="utf-8")


def add(env, title="Báo cáo quý", *extra, now=MONDAY, due="2025-05-30", lead="stc", support="kbnn"):
    args = ["--now", now, "--json", "add", title, "--agency", lead, "--due", due, *extra]
    if support:
        args += ["--support", support]
    p = env.ctl(*args, check=True)
    return json.loads(p.stdout)["id"]


def once(env, now):
    p = run_once(env, "--now", now)
    assert p.returncode == 0, p.stderr


def new_messages(env, seen):
    out = [m for m in env.messages() if m["Message-ID"] not in seen]
    seen.update(m["Message-ID"] for m in out)
    return out


def body(m):
    return m.get_body(("plain",)).get_content()


def owed(env):
    return env.query("SELECT task_id, agency FROM task_agencies WHERE notice_at IS NOT NULL ORDER BY 1, 2")


def test_a_new_task_sends_one_notice_to_its_agencies_with_deadline_time_left_and_roles(env):
    configure(env)
    task = add(env)
    assert owed(env) == [(task, "kbnn"), (task, "stc")]
    once(env, "2025-05-05T09:00:30")
    (m,) = env.messages()
    assert m["Subject"].startswith("[Giao nhiệm vụ] Báo cáo quý (hạn 30/5/2025)")
    assert "stc@sonha.gov.vn" in m["To"] and "kbnn@sonha.gov.vn" in m["Cc"]
    text = body(m)
    assert "Quý cơ quan được giao thực hiện nhiệm vụ sau" in text
    assert "Thời hạn hoàn thành: thứ Sáu, ngày 30/5/2025 (còn 25 ngày)" in text
    assert "Vai trò của các cơ quan: chủ trì: Sở Tài chính; phối hợp: Kho bạc Nhà nước tỉnh" in text
    assert "không còn lượt nhắc" not in text
    assert "Sở Tài chính" in m.get_body(("html",)).get_content()
    assert owed(env) == []
    assert env.query("SELECT slot, agency, state FROM deliveries ORDER BY agency") == [
        (f"notice:{env.query('SELECT created_at FROM tasks')[0][0]}", "kbnn", "sent"),
        (f"notice:{env.query('SELECT created_at FROM tasks')[0][0]}", "stc", "sent")]


def test_the_notice_goes_exactly_once_across_runs(env):
    configure(env)
    add(env)
    seen = set()
    once(env, "2025-05-05T09:00:30")
    assert len(new_messages(env, seen)) == 1
    once(env, "2025-05-05T09:05")
    once(env, "2025-05-06T09:00")
    assert new_messages(env, seen) == []
    assert env.query("SELECT count(*) FROM deliveries") == [(2,)]


def test_a_task_added_friday_afternoon_due_that_evening_is_told_at_once_that_no_reminder_is_left(env):
    configure(env)
    add(env, "Báo cáo nhanh", now="2025-05-09T14:55", due="2025-05-09T17:00", support=None)
    once(env, "2025-05-09T14:55:30")
    (m,) = env.messages()
    assert m["Subject"].startswith("[Giao nhiệm vụ] Báo cáo nhanh (hạn 9/5/2025 17:00)")
    text = body(m)
    assert "không còn lượt nhắc nào trước hạn" in text
    assert "còn 2 giờ" in text
    assert "Vai trò của Quý cơ quan: chủ trì" in text
    assert "không còn lượt nhắc nào trước hạn" in m.get_body(("html",)).get_content().replace("Không", "không")


def test_english_notice_says_no_reminder_is_left(env):
    configure(env, language="en")
    add(env, "Quick report", now="2025-05-09T14:55", due="2025-05-09T17:00", support=None)
    once(env, "2025-05-09T14:56")
    (m,) = env.messages()
    assert m["Subject"].startswith("[New task] Quick report (due 9/5/2025 17:00)")
    assert "no reminder is left before the deadline" in body(m)
    assert "Your role: lead" in body(m)


def test_import_notifies_each_agency(env, tmp_path):
    configure(env)
    f = tmp_path / "t.csv"
    f.write_text("document,ref,title,due,lead,support\n"
                 "12/KH,1,Lập kế hoạch,30/6/2025,stc,skhdt\n"
                 "12/KH,2,Kiểm tra,30/6/2025,sxd,\n", encoding="utf-8")
    env.ctl("--now", MONDAY, "import", f, check=True)
    once(env, "2025-05-05T09:01")
    msgs = env.messages()
    assert sorted(m["Subject"] for m in msgs) == [
        "[Giao nhiệm vụ] 1 — Lập kế hoạch (hạn 30/6/2025) [#1]", "[Giao nhiệm vụ] 2 — Kiểm tra (hạn 30/6/2025) [#2]"]
    kh = next(m for m in msgs if "Lập kế hoạch" in m["Subject"])
    assert "stc@sonha.gov.vn" in kh["To"] and "skhdt@sonha.gov.vn" in kh["Cc"]
    assert "Văn bản giao nhiệm vụ: số 12/KH" in body(kh)


def test_no_notify_records_tasks_as_notified(env, tmp_path):
    configure(env)
    f = tmp_path / "t.csv"
    f.write_text("document,ref,title,due,lead\n12/KH,1,Lập kế hoạch,30/6/2025,stc\n", encoding="utf-8")
    env.ctl("--now", MONDAY, "import", "--no-notify", f, check=True)
    add(env, "Việc cũ", "--no-notify")
    assert owed(env) == []
    once(env, "2025-05-05T09:01")
    assert env.messages() == []
    assert env.query("SELECT count(*) FROM deliveries") == [(0,)]


def test_edit_handing_the_task_over_notifies_only_the_new_agencies(env):
    configure(env)
    task = add(env)
    seen = set()
    once(env, "2025-05-05T09:00:30")
    assert len(new_messages(env, seen)) == 1
    env.ctl("--now", "2025-05-06T10:00", "edit", task, "--agency", "skhdt", check=True)
    assert owed(env) == [(task, "skhdt")]
    once(env, "2025-05-06T10:00:30")
    (m,) = new_messages(env, seen)
    assert m["To"].addresses[0].addr_spec == "skhdt@sonha.gov.vn" and not m["Cc"]
    assert "Vai trò của Quý cơ quan: chủ trì" in body(m)
    # Adding a cooperating agency tells that agency alone.
    env.ctl("--now", "2025-05-06T11:00", "edit", task, "--support", "kbnn", "--support", "sxd", check=True)
    once(env, "2025-05-06T11:00:30")
    (m,) = new_messages(env, seen)
    assert [a.addr_spec for a in m["To"].addresses] == ["sxd@sonha.gov.vn"]
    assert "Vai trò của Quý cơ quan: phối hợp" in body(m)
    # A change of title hands nothing over.
    env.ctl("--now", "2025-05-06T12:00", "edit", task, "--title", "Báo cáo quý II", check=True)
    once(env, "2025-05-06T12:00:30")
    assert new_messages(env, seen) == []


def test_a_notice_not_yet_sent_follows_an_extended_deadline(env):
    configure(env, digest=True)
    task = add(env, now="2025-05-05T10:00")
    once(env, "2025-05-05T10:00:30")
    assert env.messages() == []
    env.ctl("--now", "2025-05-05T11:00", "extend", task, "--to", "2025-06-30", "--by", "CV 1/UBND", check=True)
    once(env, "2025-05-06T08:00:30")
    msgs = [m for m in env.messages() if m["Subject"].startswith("[Giao nhiệm vụ]")]
    assert len(msgs) == 2  # stc and kbnn, each its own digest
    assert all("30/6/2025" in body(m) for m in msgs)


def test_digest_mode_sends_an_agencys_new_tasks_of_a_day_as_one_message_at_the_briefing(env):
    configure(env, digest=True)
    add(env, "Việc một", now="2025-05-05T10:00", support=None)
    add(env, "Việc hai", now="2025-05-05T15:00", support=None)
    once(env, "2025-05-05T15:00:30")
    assert env.messages() == []  # the briefing is tomorrow at send_at
    once(env, "2025-05-06T08:00:30")
    (m,) = env.messages()
    assert m["Subject"].startswith("[Giao nhiệm vụ] 2 nhiệm vụ mới — Sở Tài chính")
    text = body(m)
    assert "1. Việc một" in text and "2. Việc hai" in text
    assert "Vai trò của Quý cơ quan: chủ trì" in text
    once(env, "2025-05-06T08:05")
    assert len(env.messages()) == 1


def test_digest_mode_tells_at_once_of_a_task_due_before_the_briefing(env):
    configure(env, digest=True)
    add(env, "Báo cáo nhanh", now="2025-05-09T14:55", due="2025-05-09T17:00", support=None)
    once(env, "2025-05-09T14:55:30")
    (m,) = env.messages()
    assert m["Subject"].startswith("[Giao nhiệm vụ] Báo cáo nhanh")
    assert "không còn lượt nhắc nào trước hạn" in body(m)


def test_notify_on_assign_false_sends_nothing_and_owes_nothing(env):
    configure(env, notify=False)
    add(env)
    once(env, "2025-05-05T09:00:30")
    assert env.messages() == []
    assert owed(env) == []
    assert env.query("SELECT count(*) FROM deliveries") == [(0,)]


def test_check_config_rejects_a_non_boolean_notify_on_assign(env):
    env.write_config(schedule=NOTIFY.replace("digest =", 'notify_on_assign = "yes";\n  digest ='))
    p = env.ctl("check-config")
    assert p.returncode == 78, p.stderr
    assert "notify_on_assign" in p.stderr


@pytest.mark.sqlite_only("SQLite's migrations from an old schema")
def test_a_schema_6_database_migrates_with_its_tasks_notified_and_sends_nothing(env):
    configure(env)
    task = add(env)
    env.ctl("--now", MONDAY, "done", add(env, "Đã xong"), check=True)
    # Take the database back to schema 6: what versions 7 to 10 added, undone.
    con = sqlite3.connect(env.database)
    con.executescript("ALTER TABLE tasks DROP COLUMN due_rule_days; ALTER TABLE tasks DROP COLUMN due_rule_from; ALTER TABLE tasks DROP COLUMN revision; DROP INDEX deliveries_untasked; ALTER TABLE task_agencies DROP COLUMN notice_at; "
                      "ALTER TABLE deliveries DROP COLUMN retried_at; ALTER TABLE deliveries DROP COLUMN retried_by; "
                      "ALTER TABLE deliveries DROP COLUMN retries; "
                      "DROP INDEX completions_due; DROP TABLE inbox_messages; CREATE INDEX deliveries_task ON deliveries(task_id); PRAGMA user_version = 6;")
    con.close()
    before = env.query("SELECT id, title, due, status FROM tasks ORDER BY id")
    once(env, "2025-05-05T09:00:30")
    assert env.query("PRAGMA user_version") == [(14,)]
    assert env.query("SELECT id, title, due, status FROM tasks ORDER BY id") == before
    assert env.query("SELECT agency, role FROM task_agencies WHERE task_id = ? ORDER BY position", task) == [
        ("stc", "lead"), ("kbnn", "support")]
    assert owed(env) == []
    assert env.messages() == []
    # A task added after the migration is told of as usual.
    add(env, "Việc mới", now="2025-05-05T10:00", support=None)
    once(env, "2025-05-05T10:00:30")
    (m,) = env.messages()
    assert "Việc mới" in m["Subject"]


def test_a_webhook_gets_an_assignment_event_that_follows_the_schema(env):
    from httpserver import Server
    import test_webhook as wh
    with Server() as server:
        wh.configure(env, server.url())
        env.config.write_text(env.config.read_text(encoding="utf-8").replace("notify_on_assign = false;", ""),
                              encoding="utf-8")
        task = wh.add_task(env)
        wh.once(env, wh.at("2025-05-01 09:00:30"))
        [req] = server.wait_for(1)
    payload = req.json()
    wh.validate(payload)
    assert payload["type"] == "assignment" and payload["agency"]["role"] == "lead"
    assert payload["subject"].startswith("[Giao nhiệm vụ] 5.c — Báo cáo đánh giá nguồn lực")
    assert [t["id"] for t in payload["tasks"]] == [task]
    # skhdt, the cooperating agency, has e-mail: one message for it too.
    (m,) = env.messages()
    assert m["Subject"].startswith("[Giao nhiệm vụ]") and "skhdt@sonha.gov.vn" in m["To"]


def test_a_reimport_handing_the_task_to_another_lead_notifies_it_alone(env, tmp_path):
    configure(env)
    f = tmp_path / "t.csv"
    f.write_text("document,ref,title,due,lead\n12/KH,1,Lập kế hoạch,30/6/2025,stc\n", encoding="utf-8")
    env.ctl("--now", MONDAY, "import", f, check=True)
    seen = set()
    once(env, "2025-05-05T09:01")
    assert len(new_messages(env, seen)) == 1
    f.write_text("document,ref,title,due,lead\n12/KH,1,Lập kế hoạch,30/6/2025,sxd\n", encoding="utf-8")
    env.ctl("--now", "2025-05-06T09:00", "import", f, check=True)
    once(env, "2025-05-06T09:01")
    (m,) = new_messages(env, seen)
    assert [a.addr_spec for a in m["To"].addresses] == ["sxd@sonha.gov.vn"]
    # Quietly: the next hand-over is recorded as told.
    f.write_text("document,ref,title,due,lead\n12/KH,1,Lập kế hoạch,30/6/2025,skhdt\n", encoding="utf-8")
    env.ctl("--now", "2025-05-07T09:00", "import", "--no-notify", f, check=True)
    assert owed(env) == []
    once(env, "2025-05-07T09:01")
    assert new_messages(env, seen) == []
