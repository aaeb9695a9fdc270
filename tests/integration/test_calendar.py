# SPDX-License-Identifier: GPL-2.0-or-later
"""calendar = "vn" and deadlinectl calendar: the year's public holidays
computed (Tết and Giỗ Tổ from the lunar calendar, compensatory days), the
configuration's changes, and bad input refused with file and line."""

import json
import subprocess

import pytest

from conftest import AGENCIES, DEADLINED

VN_SCHEDULE = """
schedule = {
  remind_before = ["1d"];
  overdue_every = "0";
  send_at = "08:00"; notify_on_assign = false;
%s
};
"""


def write(env, schedule_lines="", calendar='calendar = "vn";', language="vi"):
    text = (f'database = "deadlined.db";\ntimezone = "Asia/Ho_Chi_Minh";\nlanguage = "{language}";\n'
            f'transport = "maildir:maildir";\n{calendar}\n' + VN_SCHEDULE % schedule_lines + AGENCIES)
    env.write_config(text)


def days(doc):
    return {d["date"]: d for d in doc["days"]}


def test_calendar_2026_lists_tet_and_hung_kings(env):
    write(env)
    p = env.ctl("calendar", "2026", check=True)
    lines = p.stdout.splitlines()
    assert lines[0].split() == ["DATE", "DAY", "NAME"]
    for d, name in [("2026-02-16", "Tết Nguyên đán (ngày cuối năm)"), ("2026-02-17", "Tết Nguyên đán (mùng 1)"),
                    ("2026-02-20", "Tết Nguyên đán (mùng 4)"), ("2026-04-26", "Giỗ Tổ Hùng Vương (10/3 âm lịch)"),
                    ("2026-04-27", "Nghỉ bù Giỗ Tổ Hùng Vương (26/4)"), ("2026-09-01", "Quốc khánh (ngày liền kề)")]:
        assert any(line.startswith(d) and line.rstrip().endswith(name) for line in lines), (d, p.stdout)
    assert len(lines) == 1 + 12


def test_calendar_json(env):
    write(env)
    doc = env.ctl_json("calendar", "2026")
    assert doc["year"] == 2026 and doc["calendar"] == "vn"
    by_date = days(doc)
    assert [d for d in by_date if by_date[d]["kind"] == "tet"] == [
        "2026-02-16", "2026-02-17", "2026-02-18", "2026-02-19", "2026-02-20"]
    assert by_date["2026-04-26"]["kind"] == "hung-kings" and by_date["2026-04-26"]["weekday"] == "sun"
    assert by_date["2026-04-27"]["kind"] == "compensatory"
    assert not any(d["working"] for d in doc["days"])
    assert len(doc["days"]) == 12


def test_calendar_defaults_to_this_year(env):
    write(env)
    doc = json.loads(env.ctl("--now", "2030-06-01T08:00", "--json", "calendar", check=True).stdout)
    assert doc["year"] == 2030
    # Tết 2030 is 2 February in Vietnam (3 February in China).
    assert days(doc)["2030-02-02"]["kind"] == "tet"


def test_announcement_changes(env):
    # The day beside 2/9 moved to the 3rd, a Saturday worked for a bridge
    # day, a Tết day worked, and a provincial day every year.
    write(env, '  holidays = ["2026-09-03", "*-11-20"];\n'
               '  not_holidays = ["2026-09-01"];\n'
               '  extra_workdays = ["2026-02-14", "2026-02-20"];\n', language="en")
    by_date = days(env.ctl_json("calendar", "2026"))
    assert by_date["2026-09-01"]["working"] and by_date["2026-09-01"]["kind"] == "national-day"
    assert by_date["2026-09-03"]["kind"] == "configured" and not by_date["2026-09-03"]["working"]
    assert by_date["2026-11-20"]["kind"] == "configured"
    assert by_date["2026-02-14"]["kind"] == "workday" and by_date["2026-02-14"]["working"]
    assert by_date["2026-02-20"]["working"]
    text = env.ctl("calendar", "2026", check=True).stdout
    assert "National Day (adjacent day) — worked" in text
    assert "2027-11-20" in env.ctl("calendar", "2027", check=True).stdout


def test_without_calendar_only_configured_days(env):
    write(env, '  holidays = ["*-04-30"];\n', calendar="")
    doc = env.ctl_json("calendar", "2026")
    assert doc["calendar"] == "none"
    assert [d["date"] for d in doc["days"]] == ["2026-04-30"]


@pytest.mark.parametrize("calendar,lines,line,message", [
    ('calendar = "xx";', "", 5, 'calendar: "xx" is not a calendar'),
    ('calendar = "vn";', '  holidays = ["*-02-30"];\n', 11, 'schedule.holidays[0]: "*-02-30" is not a date'),
    ('calendar = "vn";', '  holidays = ["04-30"];\n', 11, 'schedule.holidays[0]: "04-30" is not a date'),
    ('calendar = "vn";', '  not_holidays = ["2026-03-03"];\n', 11,
     'schedule.not_holidays[0]: "2026-03-03" is not a holiday'),
])
def test_bad_calendar_config(env, calendar, lines, line, message):
    write(env, lines, calendar=calendar)
    for args in (["calendar", "2026"], ["check-config"]):
        p = env.ctl(*args)
        assert p.returncode == 78, p.stderr
        err = p.stderr.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(f"{env.config}:{line}: ") and message in err[0], p.stderr
    p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--check-config"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 78 and message in p.stderr


@pytest.mark.parametrize("year", ["20x", "1969", "3000", "-2026"])
def test_bad_year(env, year):
    write(env)
    p = env.ctl("calendar", "--", year) if year.startswith("-") else env.ctl("calendar", year)
    assert p.returncode == 64 and "is not a year" in p.stderr and len(p.stderr.splitlines()) == 1


def test_reminder_before_tet_moves_before_the_holidays(env):
    # Due Monday 23 February 2026: the 1-day reminder would be Sunday 22nd;
    # the previous working day is Friday 13th, before the Tết block
    # (16–20 February).
    write(env)
    env.ctl("--now", "2026-02-01T09:00", "add", "Báo cáo", "--agency", "stc", "--due", "2026-02-23", check=True)

    def preview(now):
        p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--once", "--dry-run", "--json", "--now", now],
                           capture_output=True, text=True, timeout=60)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)["deliveries"]

    assert preview("2026-02-13T07:59") == []
    sent = preview("2026-02-13T08:00")
    assert [d["slot"].split("@")[0] for d in sent] == ["before:1d"]
