# SPDX-License-Identifier: GPL-2.0-or-later
"""Deadlines with their history (deadlinectl extend, edit --due) and
completions with their evidence (done --note --on, reopen), as show,
history, export and the messages tell them."""

import csv
import io
import json
import pwd
import os

import pytest

from daemon_helpers import run_once

ADDED = "2025-04-09T09:00"
DOC = "Công văn số 123/UBND-KTTH"
USER = pwd.getpwuid(os.getuid()).pw_name


def add(env, *extra, due="2025-04-30"):
    p = env.ctl("--now", ADDED, "--json", "add", "Báo cáo quý", "--agency", "stc", "--support", "kbnn",
                "--due", due, *extra, check=True)
    return json.loads(p.stdout)["id"]


def test_extend_keeps_the_original_and_records_who_why_and_on_what(env):
    task = add(env)
    p = env.ctl("--now", "2025-04-20T10:00", "extend", task, "--to", "30/5/2025", "--by", DOC,
                "--reason", "chờ số liệu quyết toán", check=True)
    assert "30/5/2025" in p.stdout and "30/4/2025" in p.stdout
    t = env.ctl_json("show", task)
    assert t["due"] == "2025-05-30" and t["original_due"] == "2025-04-30"
    (change,) = [c for c in t["changes"] if c["field"] == "due" and c["old"]]
    assert change == {"at": change["at"], "field": "due", "old": "2025-04-30", "new": "2025-05-30",
                      "source": "person", "note": "deadlinectl extend", "user": USER, "approved_by": DOC,
                      "reason": "chờ số liệu quyết toán"}
    assert change["at"].startswith("2025-04-20T10:00")
    text = env.ctl("show", task, check=True).stdout
    assert "Original:   30/4/2025" in text
    assert f"deadline extended 30/4/2025 → 30/5/2025, on {DOC}: chờ số liệu quyết toán" in text
    assert f"(deadlinectl extend, {USER})" in text


def test_edit_due_is_recorded_the_same_way_without_a_document(env):
    task = add(env)
    env.ctl("--now", "2025-04-20T10:00", "extend", task, "--to", "2025-05-30", "--by", DOC, check=True)
    env.ctl("--now", "2025-04-21T10:00", "edit", task, "--due", "2025-06-02", check=True)
    t = env.ctl_json("show", task)
    assert t["original_due"] == "2025-04-30"
    due = [c for c in t["changes"] if c["field"] == "due" and c["old"]]
    assert [(c["old"], c["new"], c["approved_by"], c["note"], c["user"]) for c in due] == [
        ("2025-04-30", "2025-05-30", DOC, "deadlinectl extend", USER),
        ("2025-05-30", "2025-06-02", None, "deadlinectl edit", USER)]


@pytest.mark.parametrize("args, code, message", [
    (["999", "--to", "2025-05-30", "--by", DOC], 65, "no task 999"),
    (["1", "--to", "2025-04-30", "--by", DOC], 65, "is not later than task 1's deadline, 30/4/2025"),
    (["1", "--to", "2025-04-01", "--by", DOC], 65, "is not later than"),
    (["1", "--to", "2025-05-30"], 64, "missing --by"),
    (["1", "--to", "2025-05-30", "--by", ""], 64, "--by: empty"),
    (["1", "--by", DOC], 64, "missing --to"),
    (["1", "--to", "mai", "--by", DOC], 65, "--to: \"mai\" is not a date"),
])
def test_bad_extensions_change_nothing(env, args, code, message):
    add(env)
    before = env.dump()
    p = env.ctl("--now", "2025-04-20T10:00", "extend", *args)
    assert p.returncode == code, p.stderr
    assert message in p.stderr and p.stderr.count("\n") == 1 and p.stderr.startswith("deadlinectl: extend: ")
    assert env.dump() == before


@pytest.mark.parametrize("status", ["done", "cancel"])
def test_a_closed_task_is_not_extended(env, status):
    task = add(env)
    env.ctl("--now", "2025-04-10T10:00", status, task, check=True)
    before = env.dump()
    p = env.ctl("--now", "2025-04-20T10:00", "extend", task, "--to", "2025-05-30", "--by", DOC)
    assert p.returncode == 65 and "reopen" in p.stderr and p.stderr.count("\n") == 1
    assert env.dump() == before


def test_reminders_follow_the_extended_deadline(env):
    task = add(env)
    # The 14-day reminder of 30/4 goes out; the 7-day one waits.
    assert run_once(env, "--now", "2025-04-16T08:00:30").returncode == 0
    slots = lambda: sorted((s, st) for s, st in env.query("SELECT slot, state FROM deliveries WHERE task_id = ?", task))
    env.ctl("--now", "2025-04-20T10:00", "extend", task, "--to", "2025-05-30", "--by", DOC, check=True)
    # What was sent stays; nothing pending of the old deadline is left.
    rows = slots()
    assert rows and all(st == "sent" for s, st in rows), rows
    assert run_once(env, "--now", "2025-04-23T08:00:30").returncode == 0  # was 7d before 30/4
    assert [s for s, st in slots() if st != "sent"] == []
    seen = {m["Message-ID"] for m in env.messages()}
    assert run_once(env, "--now", "2025-05-16T08:00:30").returncode == 0  # 14d before 30/5
    # The maildir's file names do not sort by time: the new ones by their ids.
    msgs = [m for m in env.messages() if m["Message-ID"] not in seen]
    assert msgs, "no reminder for the extended deadline"
    body = msgs[0].get_body(("plain",)).get_content()
    assert "Hạn đã gia hạn đến 30/5/2025 (hạn ban đầu: 30/4/2025)" in body
    html = msgs[0].get_body(("html",)).get_content()
    assert "Hạn đã gia hạn đến 30/5/2025 (hạn ban đầu: 30/4/2025)" in html


def test_a_task_never_extended_says_nothing_of_it(env):
    add(env)
    assert run_once(env, "--now", "2025-04-16T08:00:30").returncode == 0
    (m,) = env.messages()
    assert "gia hạn" not in m.get_body(("plain",)).get_content()


def test_english_messages_say_extended_to(env):
    env.config.write_text(env.config.read_text(encoding="utf-8").replace('language = "vi";', 'language = "en";'),
                          encoding="utf-8")
    task = add(env)
    env.ctl("--now", "2025-04-20T10:00", "extend", task, "--to", "2025-05-30", "--by", DOC, check=True)
    assert run_once(env, "--now", "2025-05-16T08:00:30").returncode == 0
    (m,) = env.messages()
    assert "Deadline extended to 30/5/2025 (originally 30/4/2025)" in m.get_body(("plain",)).get_content()


def test_done_records_the_evidence_and_the_real_date(env):
    task = add(env)
    p = env.ctl("--now", "2025-05-14T09:00", "done", task, "--note", "Báo cáo số 45/BC-STC ngày 12/5/2025",
                "--on", "12/5/2025")
    assert p.returncode == 0, p.stderr
    (k,) = env.ctl_json("show", task)["completions"]
    assert k["due"] == "2025-04-30" and k["done_on"] == "2025-05-12"
    assert k["done_at"].startswith("2025-05-12T00:00") and k["recorded_at"].startswith("2025-05-14T09:00")
    assert k["note"] == "Báo cáo số 45/BC-STC ngày 12/5/2025" and k["user"] == USER and k["reopened_at"] is None
    text = env.ctl("show", task, check=True).stdout
    assert "done on 12/5/2025, for the deadline 30/4/2025: Báo cáo số 45/BC-STC ngày 12/5/2025" in text


def test_done_without_a_date_is_done_when_recorded(env):
    task = add(env)
    env.ctl("--now", "2025-04-28T15:30", "done", task, check=True)
    (k,) = env.ctl_json("show", task)["completions"]
    assert k["done_on"] is None and k["done_at"].startswith("2025-04-28T15:30") and k["note"] is None


@pytest.mark.parametrize("on", ["2025-05-15", "2025-05-14T09:30", "15/5/2025"])
def test_done_on_a_future_date_is_refused_and_changes_nothing(env, on):
    task = add(env)
    before = env.dump()
    p = env.ctl("--now", "2025-05-14T09:00", "done", task, "--on", on)
    assert p.returncode == 65 and "in the future" in p.stderr and p.stderr.count("\n") == 1
    assert env.dump() == before


def test_done_on_a_bad_date_or_an_unknown_task_changes_nothing(env):
    add(env)
    before = env.dump()
    p = env.ctl("done", "1", "--on", "hôm qua")
    assert p.returncode == 65 and "--on" in p.stderr
    p = env.ctl("done", "7", "--note", "x")
    assert p.returncode == 65 and "no task 7" in p.stderr
    assert env.dump() == before


def test_reopen_keeps_the_completion_in_the_history(env):
    task = add(env)
    env.ctl("--now", "2025-04-28T15:30", "done", task, "--note", "Báo cáo 1", check=True)
    env.ctl("--now", "2025-04-29T08:00", "reopen", task, check=True)
    env.ctl("--now", "2025-04-30T10:00", "done", task, "--note", "Báo cáo 2", check=True)
    ks = env.ctl_json("show", task)["completions"]
    assert [k["note"] for k in ks] == ["Báo cáo 1", "Báo cáo 2"]
    assert ks[0]["reopened_at"].startswith("2025-04-29T08:00") and ks[1]["reopened_at"] is None
    assert "reopened 2025-04-29 08:00" in env.ctl("history", task, "--changes", check=True).stdout


def test_a_recurring_task_records_each_occurrence(env):
    task = add(env, "--recurrence", "monthly:25", due="2025-04-25")
    env.ctl("--now", "2025-04-20T10:00", "extend", task, "--to", "2025-04-28", "--by", DOC, check=True)
    env.ctl("--now", "2025-04-27T10:00", "done", task, "--note", "Báo cáo tháng 4", check=True)
    t = env.ctl_json("show", task)
    # The next occurrence follows the original 25th, and is its own original.
    assert t["due"] == "2025-05-25" and t["original_due"] == "2025-05-25" and t["status"] == "open"
    env.ctl("--now", "2025-05-26T10:00", "done", task, "--on", "2025-05-24", check=True)
    ks = env.ctl_json("show", task)["completions"]
    assert [(k["due"], k["done_on"], k["note"]) for k in ks] == [
        ("2025-04-28", None, "Báo cáo tháng 4"), ("2025-05-25", "2025-05-24", None)]


def test_history_merges_changes_and_deliveries_by_time_or_filters(env):
    task = add(env)
    assert run_once(env, "--now", "2025-04-16T08:00:30").returncode == 0
    env.ctl("--now", "2025-04-20T10:00", "extend", task, "--to", "2025-05-30", "--by", DOC, check=True)
    text = env.ctl("history", task, check=True).stdout.splitlines()
    assert text[0] == f"Task {task}: Báo cáo quý" and text[1].split() == ["WHEN", "WHAT", "DETAIL"]
    what = [line[18:37].strip() for line in text[2:]]
    assert what[0] == "created" and what[-1] == "deadline extended"
    assert {w for w in what[1:-1]} == {"reminder before:14d"} and len(what) == 4  # stc and kbnn
    only_changes = env.ctl("history", task, "--changes", check=True).stdout
    assert "reminder" not in only_changes and "deadline extended" in only_changes
    only_deliveries = env.ctl("history", task, "--deliveries", check=True).stdout
    assert "extended" not in only_deliveries and "SLOT TIME" in only_deliveries
    j = env.ctl_json("history", task)
    assert len(j["deliveries"]) == 2 and j["changes"][-1]["approved_by"] == DOC and j["completions"] == []
    assert set(env.ctl_json("history", task, "--changes")) == {"task", "title", "changes", "completions", "replies"}
    assert set(env.ctl_json("history", task, "--deliveries")) == {"task", "title", "deliveries"}


def test_history_filters_are_checked(env):
    add(env)
    p = env.ctl("history", "1", "--changes", "--deliveries")
    assert p.returncode == 64 and p.stderr.count("\n") == 1
    p = env.ctl("history", "--changes")
    assert p.returncode == 64 and "name a TASK" in p.stderr


def test_export_carries_the_original_and_the_current_deadline_and_reads_back(env, tmp_path):
    extended = add(env)
    add(env, due="2025-06-30")
    env.ctl("--now", "2025-04-20T10:00", "extend", extended, "--to", "2025-05-30", "--by", DOC, check=True)
    env.ctl("--now", ADDED, "add", "Không thời hạn", "--agency", "stc", check=True)
    out = env.ctl("export", check=True).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["due"], r["original_due"]) for r in rows] == [
        ("2025-05-30", "2025-04-30"), ("2025-06-30", "2025-06-30"), ("", "")]
    j = env.ctl_json("export", "--format", "json")["tasks"]
    assert [(t["due"], t["original_due"]) for t in j] == [
        ("2025-05-30", "2025-04-30"), ("2025-06-30", "2025-06-30"), (None, None)]
    for fmt, text in (("csv", out), ("json", env.ctl("export", "--format", "json", check=True).stdout)):
        f = tmp_path / f"t.{fmt}"
        f.write_text(text, encoding="utf-8")
        env.remove_database()
        env.ctl("import", f, check=True)
        assert env.ctl("export", "--format", fmt, check=True).stdout == text, fmt
        assert env.ctl_json("show", "1")["original_due"] == "2025-04-30"


def test_a_csv_without_original_due_takes_the_deadline(env, tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("title,lead,due\nBáo cáo,stc,2025-06-30\n", encoding="utf-8")
    env.ctl("import", f, check=True)
    assert env.ctl_json("show", "1")["original_due"] == "2025-06-30"
    f.write_text("title,lead,due,original_due\nKhác,stc,2025-06-30,30/2/2025\n", encoding="utf-8")
    before = env.dump()
    p = env.ctl("import", f)
    assert p.returncode == 65 and "original_due" in p.stderr
    assert env.dump() == before
