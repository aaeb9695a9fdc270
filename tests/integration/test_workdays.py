# SPDX-License-Identifier: GPL-2.0-or-later
"""Offsets in working days on calendar = "vn": a "1wd" reminder for a
deadline on the Monday after Tết 2026 (16-20 February) goes out on Friday
13 February, the last working day before Tết; a "3wd" escalation skips
the weekend; bad offsets are refused with file, line and setting."""

from conftest import AGENCIES
from daemon_helpers import run_once

SCHEDULE = """
schedule = {
  remind_before = [%s];
  overdue_every = "0";
  notify_on_assign = false;
  send_at = "08:00";
  escalation = ( { after = "3wd"; to = ["vpubnd"]; } );
};
"""


def write(env, remind_before='"5wd", "1wd"'):
    text = ('database = "deadlined.db";\ntimezone = "Asia/Ho_Chi_Minh";\nlanguage = "vi";\n'
            'transport = "maildir:maildir";\ncalendar = "vn";\n' + SCHEDULE % remind_before + AGENCIES)
    env.write_config(text)


def slots(env):
    return sorted(s for (s,) in env.query("SELECT slot FROM deliveries"))


def test_one_working_day_reminder_comes_before_tet(env):
    write(env)
    env.ctl("--now", "2026-01-05T09:00", "add", "Báo cáo sau Tết", "--agency", "stc", "--due", "2026-02-23",
            check=True)
    p = run_once(env, "--now", "2026-02-09T08:00:30")
    assert p.returncode == 0, p.stderr
    assert [s.split("@")[0] for s in slots(env)] == ["before:5wd"]
    # Thursday 12 February: nothing new since the "5wd" of Monday 9/2.
    p = run_once(env, "--now", "2026-02-12T08:00:30")
    assert p.returncode == 0, p.stderr
    assert [s.split("@")[0] for s in slots(env)] == ["before:5wd"]
    # Friday 13 February, 08:00: the last working day before Tết.
    p = run_once(env, "--now", "2026-02-13T08:00:30")
    assert p.returncode == 0, p.stderr
    assert [s.split("@")[0] for s in slots(env)] == ["before:1wd", "before:5wd"]
    assert len(env.messages()) == 2
    # Nothing during Tết or on the day itself: "1wd" is not "1d".
    p = run_once(env, "--now", "2026-02-23T08:00:30")
    assert p.returncode == 0, p.stderr
    assert len(env.messages()) == 2


def test_escalation_after_three_working_days(env):
    write(env, '"1d"')
    env.ctl("--now", "2026-02-02T09:00", "add", "Việc trước Tết", "--agency", "stc", "--due", "2026-02-13",
            check=True)
    # Due Friday 13/2: the third working day after is Wednesday 25/2.
    p = run_once(env, "--now", "2026-02-24T12:00")
    assert p.returncode == 0, p.stderr
    assert not [s for s in slots(env) if s.startswith("escalate:")]
    p = run_once(env, "--now", "2026-02-25T08:00:30")
    assert p.returncode == 0, p.stderr
    [esc] = [s for s in slots(env) if s.startswith("escalate:")]
    assert esc.startswith("escalate:1:3wd@")
    texts = ["\n".join(part.get_content() for part in m.walk() if part.get_content_type() == "text/plain")
             for m in env.messages()]
    assert any("3 ngày làm việc" in t for t in texts), texts


def test_bad_working_day_offsets_are_refused(env):
    for value, what in [('"0wd"', '"0wd" counts no working day (use 0d'),
                        ('"3wdx"', '"3wdx" is not a duration'),
                        ('"-3wd"', '"-3wd" is not a duration'),
                        ('"400wd"', '"400wd" is too long')]:
        write(env, value)
        p = env.ctl("check-config")
        assert p.returncode == 78, p.stderr
        [line] = p.stderr.strip().splitlines()
        assert line.startswith(f"{env.config}:8: schedule.remind_before[0]: {what}"), line


def test_working_days_with_no_calendar_count_weekends_only(env):
    write(env, '"1wd"')
    env.write_config(env.config.read_text().replace('calendar = "vn";', 'calendar = "none";'))
    env.ctl("--now", "2026-01-05T09:00", "add", "Báo cáo", "--agency", "stc", "--due", "2026-02-23", check=True)
    p = run_once(env, "--now", "2026-02-20T08:00:30")
    assert p.returncode == 0, p.stderr
    assert [s.split("@")[0] for s in slots(env)] == ["before:1wd"]


def test_add_due_in_working_days_skips_tet(env):
    write(env)
    # From Thursday 5/2/2026, 15 working days: 6, 9-13 February, Tết and
    # two weekends skipped, 23-27 February, 2-5 March.
    env.ctl("--now", "2026-02-05T09:00", "add", "Báo cáo", "--agency", "stc", "--due", "+15wd", check=True)
    assert env.ctl_json("--now", "2026-02-05T09:00", "show", "1")["due"] == "2026-03-05"
    env.ctl("--now", "2026-02-05T09:00", "edit", "1", "--due", "+1wd", check=True)
    assert env.ctl_json("--now", "2026-02-05T09:00", "show", "1")["due"] == "2026-02-06"


def test_add_due_zero_working_days_is_refused(env):
    write(env)
    env.ctl("--now", "2026-02-05T09:00", "list", check=True)
    for value, what in [("+0wd", '"+0wd" counts no working day'), ("+3wdx", '"+3wdx" is not a date'),
                        ("-3wd", '"-3wd" is not a date'), ("+400wd", '"+400wd" is too far')]:
        p = env.ctl("--now", "2026-02-05T09:00", "add", "Báo cáo", "--agency", "stc", "--due", value)
        assert p.returncode == 65, p.stderr
        [line] = p.stderr.strip().splitlines()
        assert line.startswith(f"deadlinectl: add: --due: {what}"), line
    db = env.config.parent / "deadlined.db"
    assert not db.exists() or env.query("SELECT count(*) FROM tasks") == [(0,)]


DIRECTIVE = """ỦY BAN NHÂN DÂN                    CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM
  TỈNH SƠN HÀ                          Độc lập - Tự do - Hạnh phúc

Số: 77/UBND-KTTH                   Sơn Hà, ngày 10 tháng 02 năm 2026
V/v rà soát hồ sơ đầu tư

Kính gửi: Sở Tài chính.

Chủ tịch UBND tỉnh yêu cầu:

1. Sở Tài chính rà soát hồ sơ, báo cáo UBND tỉnh trong thời hạn 15 ngày
làm việc kể từ ngày ký văn bản này.

2. Sở Tài chính tổng hợp số liệu trong thời hạn 15 ngày kể từ ngày ký.

Nơi nhận:                                      KT. CHỦ TỊCH
- Như trên;                                    PHÓ CHỦ TỊCH
- Lưu: VT.

                                               Lê Văn Nam
"""


def test_import_counts_working_days_on_the_calendar(env, tmp_path):
    # Signed Tuesday 10/2/2026: 15 working days skip the weekends and Tết
    # (16-20/2), so 10/3/2026; Monday to Friday alone would give 3/3. 15
    # calendar days are 25/2, holidays or not.
    write(env)
    f = tmp_path / "77.txt"
    f.write_text(DIRECTIVE, encoding="utf-8")
    env.ctl("--now", "2026-02-10T09:00", "import", str(f), "--no-notify", check=True)
    assert env.query("SELECT ref, due FROM tasks ORDER BY ref") == [("1", "2026-03-10"), ("2", "2026-02-25")]


def test_import_in_working_days_without_a_calendar_skips_weekends(env, tmp_path):
    text = ('database = "deadlined.db";\ntimezone = "Asia/Ho_Chi_Minh";\nlanguage = "vi";\n'
            'transport = "maildir:maildir";\n' + SCHEDULE % '"5wd"' + AGENCIES)
    env.write_config(text)
    f = tmp_path / "77.txt"
    f.write_text(DIRECTIVE, encoding="utf-8")
    env.ctl("--now", "2026-02-10T09:00", "import", str(f), "--no-notify", check=True)
    assert env.query("SELECT due FROM tasks WHERE ref = '1'") == [("2026-03-03",)]
