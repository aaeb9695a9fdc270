# SPDX-License-Identifier: GPL-2.0-or-later
"""A deadline counted in working days keeps the rule it came from: add
--due +15wd and the importer store it, show and --json give it, export
writes it and import reads it back, a deadline given as a date or extended
drops it, and edit --recompute counts it again on the calendar as it is
now (after a holiday was added), through the change log."""

import csv
import io

from conftest import AGENCIES
from test_workdays import DIRECTIVE  # 77/UBND-KTTH: 15 working days, and 15 days, from its signing

SCHEDULE = """
schedule = {
  remind_before = ["3d"];
  overdue_every = "0";
  notify_on_assign = false;
  send_at = "08:00";
%s};
"""

NOW = "2025-03-12T09:00"   # Wednesday


def write(env, holidays="", language="vi"):
    env.write_config(f'database = "deadlined.db";\ntimezone = "Asia/Ho_Chi_Minh";\nlanguage = "{language}";\n'
                     'transport = "maildir:maildir";\ncalendar = "vn";\n' + SCHEDULE % holidays + AGENCIES)


def add(env):
    env.ctl("--now", NOW, "add", "Rà soát hồ sơ", "--agency", "stc", "--due", "+15wd", check=True)


def test_add_in_working_days_keeps_the_rule_and_show_prints_it(env):
    # 15 working days from Wednesday 12/3/2025: 13-14, 17-21, 24-28, 31/3, 1/4, 2/4.
    write(env)
    add(env)
    assert env.query("SELECT due, due_rule_days, due_rule_from FROM tasks") == [("2025-04-02", 15, "2025-03-12")]
    p = env.ctl("--now", NOW, "show", "1", check=True)
    assert "Deadline:   2/4/2025, 15 ngày làm việc kể từ 12/3/2025 (" in p.stdout, p.stdout
    j = env.ctl_json("--now", NOW, "show", "1")
    assert j["due"] == "2025-04-02" and j["due_rule"] == {"days": 15, "from": "2025-03-12"}
    assert env.ctl_json("list")[0]["due_rule"] == {"days": 15, "from": "2025-03-12"}
    write(env, language="en")
    p = env.ctl("--now", NOW, "show", "1", check=True)
    assert "Deadline:   2/4/2025, 15 working days from 12/3/2025 (" in p.stdout, p.stdout


def test_a_date_or_an_extension_drops_the_rule(env):
    write(env)
    add(env)
    env.ctl("--now", NOW, "add", "Khác", "--agency", "stc", "--due", "+3wd", check=True)
    assert env.query("SELECT count(*) FROM tasks WHERE due_rule_days IS NOT NULL") == [(2,)]
    env.ctl("--now", NOW, "edit", "1", "--due", "2025-04-10", check=True)
    env.ctl("--now", NOW, "extend", "2", "--to", "2025-04-30", "--by", "Công văn số 1/UBND", check=True)
    assert env.query("SELECT due, due_rule_days, due_rule_from FROM tasks ORDER BY id") == [
        ("2025-04-10", None, None), ("2025-04-30", None, None)]
    assert env.ctl_json("show", "1")["due_rule"] is None
    p = env.ctl("--now", NOW, "show", "1", check=True)
    assert "ngày làm việc" not in p.stdout
    assert env.query("SELECT old, new FROM task_changes WHERE task_id = 1 AND field = 'due' "
                     "ORDER BY id") == [(None, "2025-04-02"), ("2025-04-02", "2025-04-10")]


def test_recompute_after_a_holiday_moves_the_deadline_through_the_change_log(env):
    write(env)
    add(env)
    # Nothing changed on the calendar: said so, nothing written.
    before = env.dump()
    p = env.ctl("--now", "2025-03-13T09:00", "edit", "1", "--recompute")
    assert p.returncode == 0, p.stderr
    assert p.stdout == ("Task 1: deadline 2/4/2025 unchanged "
                        "(15 ngày làm việc kể từ 12/3/2025 on the current calendar).\n"), p.stdout
    assert env.dump() == before
    # A day off added on Thursday 20/3: one working day fewer before 2/4.
    write(env, '  holidays = ["2025-03-20"];\n')
    p = env.ctl("--now", "2025-03-13T09:00", "edit", "1", "--recompute")
    assert p.returncode == 0, p.stderr
    assert "from 2/4/2025 to 3/4/2025" in p.stdout, p.stdout
    assert env.query("SELECT due, due_rule_days, due_rule_from, next_fire_at IS NOT NULL FROM tasks") == [
        ("2025-04-03", 15, "2025-03-12", 1)]
    changes = env.ctl_json("show", "1")["changes"]
    last = changes[-1]
    assert (last["field"], last["old"], last["new"]) == ("due", "2025-04-02", "2025-04-03"), last
    assert "--recompute" in (last.get("reason") or ""), last
    p = env.ctl("history", "1", check=True)
    assert "deadline changed  2/4/2025 → 3/4/2025: --recompute: 15 ngày làm việc kể từ 12/3/2025" in p.stdout, p.stdout
    # --json, unchanged now.
    j = env.ctl_json("--now", "2025-03-13T09:00", "edit", "1", "--recompute")
    assert j["changed"] is False and j["due"] == "2025-04-03"


def test_recompute_without_a_rule_is_refused_and_changes_nothing(env):
    write(env)
    env.ctl("--now", NOW, "add", "Có hạn", "--agency", "stc", "--due", "2025-04-30", check=True)
    before = env.dump()
    p = env.ctl("--now", NOW, "edit", "1", "--recompute")
    assert p.returncode == 65, p
    assert p.stderr.count("\n") == 1
    assert p.stderr.startswith("deadlinectl: edit: --recompute: task 1's deadline is not counted in working days")
    assert env.dump() == before
    p = env.ctl("--now", NOW, "edit", "1", "--recompute", "--due", "+3wd")
    assert p.returncode == 64, p
    assert env.dump() == before


def test_export_and_import_keep_the_rule(env, tmp_path):
    write(env)
    add(env)
    p = env.ctl("export", "--format", "csv", check=True)
    rows = list(csv.DictReader(io.StringIO(p.stdout)))
    assert rows[0]["due_rule"] == "15wd:2025-03-12" and rows[0]["due"] == "2025-04-02"
    j = env.ctl_json("export", "--format", "json")
    assert j["tasks"][0]["due_rule"] == {"days": 15, "from": "2025-03-12"}

    f = tmp_path / "t.csv"
    f.write_text("title,lead,due,due_rule\nTừ CSV,stc,2025-04-02,15wd:2025-03-12\n", encoding="utf-8")
    env.ctl("--now", NOW, "import", str(f), "--no-notify", check=True)
    g = tmp_path / "t.json"
    g.write_text('{"version": 1, "tasks": [{"title": "Từ JSON", "lead": ["stc"], "due": "2025-03-17", '
                 '"due_rule": {"days": 3, "from": "2025-03-12"}}]}', encoding="utf-8")
    env.ctl("--now", NOW, "import", str(g), "--no-notify", check=True)
    assert env.query("SELECT title, due, due_rule_days, due_rule_from FROM tasks ORDER BY id") == [
        ("Rà soát hồ sơ", "2025-04-02", 15, "2025-03-12"), ("Từ CSV", "2025-04-02", 15, "2025-03-12"),
        ("Từ JSON", "2025-03-17", 3, "2025-03-12")]


def test_import_of_a_bad_rule_is_refused_and_changes_nothing(env, tmp_path):
    write(env)
    add(env)
    before = env.dump()
    f = tmp_path / "t.csv"
    f.write_text("title,lead,due,due_rule\nA,stc,2025-04-02,15wd:2025-03-12\nB,stc,2025-04-02,15d:2025-03-12\n",
                 encoding="utf-8")
    p = env.ctl("--now", NOW, "import", str(f))
    assert p.returncode == 65, p
    assert p.stderr == (f'deadlinectl: import: {f}:3: due_rule: "15d:2025-03-12" is not a rule '
                        '(use 15wd:2025-03-12, 15 working days from that day)\n'), p.stderr
    f.write_text("title,lead,due_rule\nA,stc,15wd:2025-03-12\n", encoding="utf-8")
    p = env.ctl("--now", NOW, "import", str(f))
    assert p.returncode == 65 and "without a due date" in p.stderr, p.stderr
    assert env.dump() == before




def test_import_of_a_directive_keeps_the_rule(env, tmp_path):
    # Signed Tuesday 10/2/2026: 15 working days skip the weekends and Tết
    # (16-20/2): 10/3/2026. 15 calendar days carry no rule.
    write(env)
    f = tmp_path / "77.txt"
    f.write_text(DIRECTIVE, encoding="utf-8")
    env.ctl("--now", "2026-02-10T09:00", "import", str(f), "--no-notify", check=True)
    assert env.query("SELECT ref, due, due_rule_days, due_rule_from FROM tasks ORDER BY ref") == [
        ("1", "2026-03-10", 15, "2026-02-10"), ("2", "2026-02-25", None, None)]
    p = env.ctl("--now", "2026-02-10T09:00", "show", "1", check=True)
    assert "Deadline:   10/3/2026, 15 ngày làm việc kể từ 10/2/2026 (" in p.stdout, p.stdout
    # A provincial day off on Monday 9/3 moves it to Wednesday 11/3.
    write(env, '  holidays = ["2026-03-09"];\n')
    env.ctl("--now", "2026-02-11T09:00", "edit", "1", "--recompute", check=True)
    assert env.query("SELECT due FROM tasks WHERE ref = '1'") == [("2026-03-11",)]
