# SPDX-License-Identifier: GPL-2.0-or-later
"""How late a task is, counted once: `deadlinectl list` and `show` (and their
JSON), the messages the daemon sends and the escalation ladder agree; and a
message To the lead and Cc the cooperating agencies names each one's role."""

import datetime

from conftest import SCHEDULE
from daemon_helpers import run_once


def text_of(msg):
    return msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def left_column(env, now):
    p = env.ctl("--now", now, "list", check=True)
    header, *rows = p.stdout.splitlines()
    start = header.index("LEFT")
    end = header.index("STATUS")
    return [row[start:end].strip() for row in rows]


def escalations(env):
    return [m for m in env.messages() if "vanthu.vpub@sonha.gov.vn" in str(m["To"])]


def test_list_show_message_and_escalation_agree_on_days_overdue(env):
    # Due Friday 2/5/2025 (date only); the 3-day escalation goes out on
    # Monday 5/5 at 08:00, the third calendar day after the deadline's day.
    env.ctl("--now", "2025-04-28T09:00", "add", "Báo cáo quý", "--agency", "stc", "--due", "2025-05-02",
            check=True)
    now = "2025-05-05T08:00:30"
    p = run_once(env, "--now", now)
    assert p.returncode == 0, p.stderr

    [escalation] = escalations(env)
    assert "(quá hạn 3 ngày)" in text_of(escalation)
    [overdue] = [m for m in env.messages() if m["To"] and "stc@sonha.gov.vn" in str(m["To"])]
    assert overdue["Subject"].startswith("[Quá hạn] Quá hạn 3 ngày:")
    assert "(quá hạn 3 ngày)" in text_of(overdue)

    # 2 days and 8 hours after the deadline's last second, but the third day.
    assert left_column(env, now) == ["3 days overdue"]
    show = env.ctl("--now", now, "show", "1", check=True).stdout
    assert "  Deadline:   2/5/2025 (3 days overdue)\n" in show
    [task] = env.ctl_json("--now", now, "list")
    assert task["left"] == "3 days overdue"
    assert task["overdue"] is True
    assert task["days_overdue"] == 3
    assert task["seconds_left"] == -(2 * 86400 + 8 * 3600 + 31)
    assert env.ctl_json("--now", now, "show", "1")["days_overdue"] == 3


def test_list_json_carries_time_left(env):
    env.ctl("--now", "2025-04-28T09:00", "add", "Việc có giờ", "--agency", "stc", "--due", "2025-04-28T17:00",
            check=True)
    env.ctl("--now", "2025-04-28T09:00", "add", "Việc theo ngày", "--agency", "stc", "--due", "2025-05-02",
            check=True)
    env.ctl("--now", "2025-04-28T09:00", "add", "Việc xong", "--agency", "stc", "--due", "2025-05-03",
            check=True)
    env.ctl("--now", "2025-04-28T09:00", "done", "3", check=True)
    env.ctl("--now", "2025-04-28T09:00", "add", "Việc thường xuyên", "--agency", "stc", check=True)
    tasks = {t["title"]: t for t in env.ctl_json("--now", "2025-04-28T09:00", "list", "--all")}
    assert tasks["Việc có giờ"]["left"] == "8 hours left"
    assert tasks["Việc có giờ"]["seconds_left"] == 8 * 3600
    assert tasks["Việc có giờ"]["overdue"] is False
    assert tasks["Việc có giờ"]["days_overdue"] == 0
    assert tasks["Việc theo ngày"]["left"] == "4 days left"
    # As the table shows "-": nothing left for a task done or without a deadline.
    for title in ("Việc xong", "Việc thường xuyên"):
        assert "left" not in tasks[title] and "days_overdue" not in tasks[title]
    assert left_column(env, "2025-04-28T09:00") == ["8 hours left", "4 days left", "-"]
    # Past its time on its own day: hours; the next morning: one day.
    assert left_column(env, "2025-04-28T20:00")[0] == "3 hours overdue"
    assert left_column(env, "2025-04-29T08:00")[0] == "1 day overdue"
    [first] = [t for t in env.ctl_json("--now", "2025-04-29T08:00", "list") if t["id"] == 1]
    assert (first["days_overdue"], first["seconds_left"]) == (1, -15 * 3600)


def test_escalation_by_days_across_the_clock_change(env):
    # Berlin's clocks go back on Sunday 26/10/2025. A "3d" escalation of a
    # deadline at 00:30 on Friday 24/10 is due on Monday 27/10, the third
    # day; 72 real hours would be 23:30 on Sunday.
    schedule = SCHEDULE.replace('send_at = "08:00";', 'send_at = "none";') \
                       .replace('overdue_every = "1d";', 'overdue_every = "0";')
    env.write_config(text=None, schedule=schedule)
    env.config.write_text(env.config.read_text().replace("Asia/Ho_Chi_Minh", "Europe/Berlin"))
    env.ctl("--now", "2025-10-20T09:00", "add", "Báo cáo", "--agency", "stc", "--due", "2025-10-24T00:30",
            check=True)

    p = run_once(env, "--now", "2025-10-26T23:45")
    assert p.returncode == 0, p.stderr
    assert escalations(env) == []
    assert left_column(env, "2025-10-26T23:45") == ["2 days overdue"]

    p = run_once(env, "--now", "2025-10-27T00:31")
    assert p.returncode == 0, p.stderr
    [escalation] = escalations(env)
    assert "(quá hạn 3 ngày)" in text_of(escalation)
    assert left_column(env, "2025-10-27T00:31") == ["3 days overdue"]
    [(slot_at,)] = env.query("SELECT slot_at FROM deliveries WHERE slot LIKE 'escalate:%'")
    at = datetime.datetime(2025, 10, 26, 23, 30, tzinfo=datetime.timezone.utc).timestamp()
    assert slot_at == int(at)  # 00:30 CET on 27/10


def test_cc_message_names_each_agencys_role(env):
    env.ctl("--now", "2025-05-01T09:00", "add", "Việc A", "--agency", "stc", "--support", "kbnn,skhdt",
            "--due", "2025-05-20", check=True)
    # 14 days before 20/5 is Tuesday 6/5 at 08:00.
    p = run_once(env, "--now", "2025-05-06T08:00:30")
    assert p.returncode == 0, p.stderr
    [msg] = env.messages()
    assert "stc@sonha.gov.vn" in str(msg["To"])
    assert "kbnn@sonha.gov.vn" in str(msg["Cc"]) and "skhdt@sonha.gov.vn" in str(msg["Cc"])
    text = text_of(msg)
    [line] = [ln for ln in text.splitlines() if ln.startswith("- Vai trò")]
    assert line.startswith("- Vai trò của các cơ quan: chủ trì: Sở Tài chính; phối hợp: ")
    assert sorted(line.split("phối hợp: ")[1].split(", ")) == ["Kho bạc Nhà nước tỉnh", "Sở Kế hoạch và Đầu tư"]
    assert "Vai trò của Quý cơ quan" not in text
    html = msg.get_body(preferencelist=("html",)).get_content()
    assert "Vai trò của Quý cơ quan" not in html
    assert "chủ trì: Sở Tài chính; phối hợp: " in html


def test_message_to_one_role_keeps_its_role_line(env):
    env.ctl("--now", "2025-05-01T09:00", "add", "Việc B", "--agency", "stc", "--due", "2025-05-20", check=True)
    p = run_once(env, "--now", "2025-05-06T08:00:30")
    assert p.returncode == 0, p.stderr
    [msg] = env.messages()
    text = text_of(msg)
    assert "- Vai trò của Quý cơ quan: chủ trì\n" in text
    assert "Vai trò của các cơ quan" not in text
