# SPDX-License-Identifier: GPL-2.0-or-later
"""Importing a document again never undoes what people did since: done stays
done, a deadline changed by hand stays, and so on; the document changes only
what nobody touched. Each task keeps a log of what changed, and who changed
it."""

import datetime
import json

import pytest

from conftest import SOURCE

DATA = SOURCE / "tests" / "data" / "directives"
SONHA = SOURCE / "tests" / "data" / "config" / "sonha.conf"
CLEAN = DATA / "directive-2417.txt"
SCANNED = DATA / "directive-2417.ocr.txt"

IMPORTED = "2025-04-09T09:00"   # the first import
BY_HAND = "2025-05-02T10:00"    # people at work
AGAIN = "2025-05-10T09:00"      # the document imported again


def configure(env):
    """The sample province's configuration, as shipped in the samples."""
    text = SONHA.read_text(encoding="utf-8")
    env.config.write_text(text.replace('database = "sonha.db";', 'database = "deadlined.db";'), encoding="utf-8")
    for name, secret in [("smtp.secret", "mật khẩu\n"), ("skhdt.hook.secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")]:
        f = env.path / name
        f.write_text(secret, encoding="utf-8")
        f.chmod(0o600)


@pytest.fixture
def sonha(env):
    """The sample province, with directive 2417 imported."""
    configure(env)
    p = env.ctl("--now", IMPORTED, "import", CLEAN)
    assert p.returncode == 0, p.stderr
    return env


def task(env, ref):
    return next(t for t in env.ctl_json("list", "--all") if t["ref"] == ref)


def by_hand(env, *args):
    p = env.ctl("--now", BY_HAND, *args)
    assert p.returncode == 0, p.stderr


def reimport(env, path=CLEAN):
    p = env.ctl("--now", AGAIN, "import", path)
    assert p.returncode == 0, p.stderr
    assert "0 tasks added, 10 updated" in p.stdout
    return p


def changed_text(tmp_path, old, new):
    """Directive 2417 with one phrase changed: the document's next version."""
    text = CLEAN.read_text(encoding="utf-8")
    assert old in text
    f = tmp_path / "directive-2417-v2.txt"
    f.write_text(text.replace(old, new), encoding="utf-8")
    return f


def test_reimport_keeps_done(sonha):
    t = task(sonha, "1")
    by_hand(sonha, "done", t["id"])
    p = reimport(sonha)
    assert task(sonha, "1")["status"] == "done"
    assert f"task {t['id']}: done since 2025-05-02; the document still lists it — kept done" in p.stderr


def test_reimport_keeps_cancelled(sonha):
    t = task(sonha, "3.a")
    by_hand(sonha, "cancel", t["id"])
    p = reimport(sonha)
    assert task(sonha, "3.a")["status"] == "cancelled"
    assert f"task {t['id']}: cancelled since 2025-05-02; the document still lists it — kept cancelled" in p.stderr


def test_reimport_keeps_a_deadline_changed_by_hand(sonha):
    t = task(sonha, "1")
    assert t["due"] == "2025-05-15"
    by_hand(sonha, "edit", t["id"], "--due", "2025-06-30")
    p = reimport(sonha)
    assert task(sonha, "1")["due"] == "2025-06-30"
    assert (f"task {t['id']}: deadline changed by hand to 2025-06-30 on 2025-05-02; "
            "the document says 2025-05-15 — kept 2025-06-30") in p.stderr


def test_a_task_added_by_hand_keeps_what_was_set(env):
    """A task entered by hand before its directive arrived: the import finds
    it by document and reference and keeps what the person set."""
    configure(env)
    p = env.ctl("--now", IMPORTED, "add", "Rà soát vốn đầu tư công", "--agency", "stc",
                "--due", "2025-05-20", "--ref", "1", "--document", "2417/UBND-KTTH")
    assert p.returncode == 0, p.stderr
    p = env.ctl("--now", AGAIN, "import", CLEAN)
    assert p.returncode == 0, p.stderr
    assert "9 tasks added, 1 updated" in p.stdout
    t = task(env, "1")
    assert (t["title"], t["due"]) == ("Rà soát vốn đầu tư công", "2025-05-20")
    assert (f"task {t['id']}: deadline set by hand to 2025-05-20 on 2025-04-09; "
            "the document says 2025-05-15 — kept 2025-05-20") in p.stderr


def test_reimport_keeps_agencies_changed_by_hand(sonha):
    t = task(sonha, "2")
    assert (t["lead"], t["support"]) == (["sxd"], ["cachuyen"])
    by_hand(sonha, "edit", t["id"], "--agency", "skhdt", "--support", "sxd")
    p = reimport(sonha)
    t = task(sonha, "2")
    assert (t["lead"], t["support"]) == (["skhdt"], ["sxd"])
    assert (f"task {t['id']}: agencies changed by hand to lead skhdt; support sxd on 2025-05-02; "
            "the document says lead sxd; support cachuyen — kept lead skhdt; support sxd") in p.stderr


def test_reimport_keeps_a_title_and_text_changed_by_hand(sonha):
    t = task(sonha, "5")
    by_hand(sonha, "edit", t["id"], "--title", "Trình Bảng giá đất 2025-2029", "--detail", "Đã gia hạn theo Công văn 88.")
    p = reimport(sonha)
    t = task(sonha, "5")
    assert (t["title"], t["detail"]) == ("Trình Bảng giá đất 2025-2029", "Đã gia hạn theo Công văn 88.")
    assert f"task {t['id']}: title changed by hand on 2025-05-02; the document says \"Sở Tài nguyên" in p.stderr
    assert f"task {t['id']}: text changed by hand on 2025-05-02; the document's differs — kept the task's" in p.stderr


def test_scanned_copy_does_not_replace_clean_titles(sonha):
    before = {t["ref"]: (t["title"], t["detail"]) for t in sonha.ctl_json("list", "--all")}
    p = reimport(sonha, SCANNED)
    after = {t["ref"]: (t["title"], t["detail"]) for t in sonha.ctl_json("list", "--all")}
    assert after == before
    # The same text up to OCR damage is no conflict either.
    assert "kept" not in p.stderr


def test_a_really_different_title_is_the_documents_change(sonha, tmp_path):
    t = task(sonha, "7")
    f = changed_text(tmp_path, "tham mưu UBND tỉnh\nban hành Kế hoạch tinh giản biên chế năm 2026",
                     "xây dựng\nĐề án vị trí việc làm của các cơ quan hành chính tỉnh")
    p = reimport(sonha, f)
    assert task(sonha, "7")["title"] != t["title"]
    assert "Đề án vị trí việc làm" in task(sonha, "7")["title"]
    assert "kept" not in p.stderr


def test_a_deadline_the_document_moved_and_nobody_touched_is_updated(sonha, tmp_path):
    t = task(sonha, "1")
    f = changed_text(tmp_path, "hoàn thành trước ngày 15/5/2025", "hoàn thành trước ngày 31/5/2025")
    p = reimport(sonha, f)
    assert task(sonha, "1")["due"] == "2025-05-31"
    assert "kept" not in p.stderr
    # The log says the import moved it.
    rows = sonha.query("SELECT old, new, source, note FROM task_changes WHERE task_id = ? AND field = 'due' "
                       "ORDER BY id", t["id"])
    assert rows == [(None, "2025-05-15", "import", "import 2417/UBND-KTTH"),
                    ("2025-05-15", "2025-05-31", "import", "import 2417/UBND-KTTH")]


def test_a_field_changed_by_hand_does_not_stop_the_others(sonha, tmp_path):
    t = task(sonha, "1")
    by_hand(sonha, "edit", t["id"], "--agency", "stc", "--support", "kbnn")
    f = changed_text(tmp_path, "hoàn thành trước ngày 15/5/2025", "hoàn thành trước ngày 31/5/2025")
    reimport(sonha, f)
    t = task(sonha, "1")
    assert t["due"] == "2025-05-31" and t["support"] == ["kbnn"]


def test_reimport_keeps_a_recurring_tasks_next_period(sonha):
    t = task(sonha, "3.c")
    assert (t["due"], t["recurrence"]) == ("2025-04-25", "monthly:25")
    p = sonha.ctl("--now", "2025-04-20T10:00", "done", t["id"])  # done for April, ahead of time
    assert p.returncode == 0, p.stderr
    assert task(sonha, "3.c")["due"] == "2025-05-25"
    p = sonha.ctl("--now", "2025-04-21T09:00", "import", CLEAN)
    assert p.returncode == 0, p.stderr
    t = task(sonha, "3.c")
    assert (t["due"], t["status"]) == ("2025-05-25", "open")
    assert "kept" not in p.stderr


def test_dry_run_lists_the_conflicts_and_changes_nothing(sonha):
    one, two = task(sonha, "1"), task(sonha, "2")
    p = sonha.ctl("--now", "2025-05-03T10:00", "done", one["id"])
    assert p.returncode == 0, p.stderr
    by_hand(sonha, "edit", two["id"], "--due", "2025-06-30")
    before = sonha.dump()

    p = sonha.ctl("--now", AGAIN, "import", "--dry-run", CLEAN)
    assert p.returncode == 0, p.stderr
    lines = [l for l in p.stdout.splitlines() if l.startswith("task ")]
    assert lines == [
        f"task {one['id']}: done since 2025-05-03; the document still lists it — kept done",
        f"task {two['id']}: deadline changed by hand to 2025-06-30 on 2025-05-02; "
        "the document says 2025-06-20 — kept 2025-06-30",
    ]
    p = sonha.ctl("--json", "--now", AGAIN, "import", "--dry-run", CLEAN)
    assert p.returncode == 0, p.stderr
    conflicts = json.loads(p.stdout)["conflicts"]
    assert [(c["task"], c["ref"], c["field"], c["kept"], c["document"]) for c in conflicts] == [
        (one["id"], "1", "status", "done", "open"),
        (two["id"], "2", "due", "2025-06-30", "2025-06-20"),
    ]
    assert conflicts[1]["changed_at"].startswith("2025-05-02T10:00:00")
    assert [c["message"] for c in conflicts] == lines
    assert sonha.dump() == before


def test_dry_run_without_a_database_makes_none(env):
    configure(env)
    p = env.ctl("--json", "import", "--dry-run", CLEAN)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["conflicts"] == []
    assert not env.database.exists()


def test_change_log_records_imports_and_peoples_commands(sonha):
    t = task(sonha, "1")
    by_hand(sonha, "edit", t["id"], "--due", "2025-06-30", "--title", "Điều chuyển vốn đầu tư công 2025")
    p = sonha.ctl("--now", "2025-05-03T10:00", "done", t["id"])
    assert p.returncode == 0, p.stderr
    p = sonha.ctl("--now", "2025-05-04T10:00", "reopen", t["id"])
    assert p.returncode == 0, p.stderr
    reimport(sonha)
    hanoi = datetime.timezone(datetime.timedelta(hours=7))
    rows = [(datetime.datetime.fromtimestamp(r[0], hanoi).strftime("%Y-%m-%d %H:%M:%S"), *r[1:])
            for r in sonha.query("SELECT at, field, old, new, source, note "
                                 "FROM task_changes WHERE task_id = ? ORDER BY id", t["id"])]
    created = [r for r in rows if r[2] is None and r[4] == "import"]
    assert {r[1] for r in created} == {"status", "due", "title", "detail", "agencies", "recurrence", "ref"}
    assert all(r[0] == "2025-04-09 09:00:00" and r[5] == "import 2417/UBND-KTTH" for r in created)
    assert ("agencies", "lead stc; support skhdt,kbnn") in [(r[1], r[3]) for r in created]
    rest = [r for r in rows if r not in created]
    assert rest == [
        ("2025-05-02 10:00:00", "due", "2025-05-15", "2025-06-30", "person", "deadlinectl edit"),
        ("2025-05-02 10:00:00", "title", t["title"], "Điều chuyển vốn đầu tư công 2025", "person",
         "deadlinectl edit"),
        ("2025-05-03 10:00:00", "status", "open", "done", "person", "deadlinectl done"),
        ("2025-05-04 10:00:00", "status", "done", "open", "person", "deadlinectl reopen"),
    ]
    # The import changed nothing people had changed, so logged nothing.
    t = task(sonha, "1")
    assert (t["due"], t["title"], t["status"]) == ("2025-06-30", "Điều chuyển vốn đầu tư công 2025", "open")


@pytest.mark.sqlite_only("SQLite's migrations from an old schema")
def test_tasks_from_before_the_change_log_are_kept_as_they_are(sonha, tmp_path):
    """A database upgraded from schema 3: where its values came from is
    not known, so the document does not overwrite them."""
    t = task(sonha, "1")
    by_hand(sonha, "done", t["id"])
    by_hand(sonha, "edit", task(sonha, "2")["id"], "--due", "2025-06-30")
    import sqlite3
    con = sqlite3.connect(sonha.database)
    con.executescript("ALTER TABLE tasks DROP COLUMN due_rule_days; ALTER TABLE tasks DROP COLUMN due_rule_from; ALTER TABLE tasks DROP COLUMN revision; DROP INDEX deliveries_untasked; ALTER TABLE task_agencies DROP COLUMN notice_at; "
                      "DROP TABLE completions; ALTER TABLE tasks DROP COLUMN original_due; "
                      "DROP TABLE task_changes; ALTER TABLE deliveries DROP COLUMN first_attempt_at; "
                      "ALTER TABLE deliveries DROP COLUMN retried_at; ALTER TABLE deliveries DROP COLUMN retried_by; "
                      "ALTER TABLE deliveries DROP COLUMN retries; "
                      "DROP TABLE inbox_messages; CREATE INDEX deliveries_task ON deliveries(task_id); PRAGMA user_version = 3;")
    con.close()
    f = changed_text(tmp_path, "hoàn thành trước ngày 15/5/2025", "hoàn thành trước ngày 31/5/2025")
    p = reimport(sonha, f)
    assert sonha.query("PRAGMA user_version") == [(14,)]
    assert task(sonha, "1")["status"] == "done"
    assert task(sonha, "1")["due"] == "2025-05-15"
    assert task(sonha, "2")["due"] == "2025-06-30"
    assert f"task {t['id']}: done since 2025-05-02; the document still lists it — kept done" in p.stderr
    assert (f"task {t['id']}: deadline is 2025-05-15, set before changes were logged; "
            "the document says 2025-05-31 — kept 2025-05-15") in p.stderr
