# SPDX-License-Identifier: GPL-2.0-or-later
"""deadlinectl export --format ics and the daemon's calendar_dir: RFC 5545
that libical and Python's icalendar read back with the right local times,
stable UIDs, an alarm per reminder offset, VTODO on request, one file per
agency kept up to date; and bad input refused in one line."""

import ctypes
import ctypes.util
import datetime
import json
import os
import zoneinfo

import pytest
from icalendar import Calendar

from conftest import AGENCIES
from daemon_helpers import start_daemon, stop, wait_until

SCHEDULE = """
schedule = {
  remind_before = ["7d", "1d", "2h"];
  overdue_every = "0";
  send_at = "08:00";
};
"""


def write(env, timezone="Asia/Ho_Chi_Minh", extra="", language="vi"):
    env.write_config(f'database = "deadlined.db";\ntimezone = "{timezone}";\nlanguage = "{language}";\n'
                     f'transport = "maildir:maildir";\n{extra}\n{SCHEDULE}\n{AGENCIES}\n')


def export(env, *args):
    p = env.ctl("--now", "2025-04-01T08:00", "export", "--format", "ics", *args, check=True)
    return p.stdout


def components(text, kind="VEVENT"):
    return [c for c in Calendar.from_ical(text).walk() if c.name == kind]


def libical_errors(text):
    """Parses with libical itself: the number of errors it finds (X-LIC-ERROR
    properties after its restriction check), or None if it cannot parse."""
    lib = ctypes.CDLL(ctypes.util.find_library("ical") or "libical.so.3")
    lib.icalparser_parse_string.restype = ctypes.c_void_p
    lib.icalparser_parse_string.argtypes = [ctypes.c_char_p]
    lib.icalrestriction_check.argtypes = [ctypes.c_void_p]
    lib.icalcomponent_count_errors.argtypes = [ctypes.c_void_p]
    lib.icalcomponent_free.argtypes = [ctypes.c_void_p]
    comp = lib.icalparser_parse_string(text.encode())
    if not comp:
        return None
    lib.icalrestriction_check(comp)
    n = lib.icalcomponent_count_errors(comp)
    lib.icalcomponent_free(comp)
    return n


def add(env, *args):
    doc = json.loads(env.ctl("--now", "2025-04-01T08:00", "--json", "add", *args, check=True).stdout)
    return doc["id"]


def due_at(env, task_id):
    return env.query("SELECT due_at FROM tasks WHERE id = ?", task_id)[0][0]


@pytest.mark.parametrize("zone", ["Asia/Ho_Chi_Minh", "Europe/Berlin"])
def test_export_reads_back_with_the_right_local_times(env, zone, tmp_path):
    write(env, timezone=zone)
    day = add(env, "Báo cáo quý", "--agency", "stc", "--due", "2025-04-30")
    summer = add(env, "Họp mùa hè", "--agency", "stc", "--due", "2025-07-01T09:00")
    winter = add(env, "Họp mùa đông", "--agency", "stc", "--due", "2025-10-27T17:00")
    env.ctl("export", "--format", "ics", "--output", tmp_path / "all.ics", check=True)
    raw = (tmp_path / "all.ics").read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")   # RFC 5545's CRLF line ends
    text = raw.decode()
    assert libical_errors(text) == 0

    cal = Calendar.from_ical(text)
    assert [c["TZID"] for c in cal.walk("VTIMEZONE")] == [zone]
    events = {str(e["UID"]).split("@")[0]: e for e in components(text)}
    tz = zoneinfo.ZoneInfo(zone)
    # A date-only deadline is an all-day event on its day.
    e = events[f"task-{day}"]
    assert e.decoded("DTSTART") == datetime.date(2025, 4, 30)
    assert e.decoded("DTEND") == datetime.date(2025, 5, 1)
    # A deadline with a time starts at that local time, in the zone's
    # offset of that day (Berlin: +2 in July, +1 after the October change).
    for task_id, local in [(summer, datetime.datetime(2025, 7, 1, 9, 0)),
                           (winter, datetime.datetime(2025, 10, 27, 17, 0))]:
        start = events[f"task-{task_id}"].decoded("DTSTART")
        assert start.replace(tzinfo=None) == local
        assert start.utcoffset() == local.replace(tzinfo=tz).utcoffset()
        assert int(start.timestamp()) == due_at(env, task_id)
    if zone == "Europe/Berlin":
        assert events[f"task-{summer}"].decoded("DTSTART").utcoffset() == datetime.timedelta(hours=2)
        assert events[f"task-{winter}"].decoded("DTSTART").utcoffset() == datetime.timedelta(hours=1)


def test_uid_is_stable_and_sequence_follows_changes(env):
    write(env)
    t = add(env, "Báo cáo quý", "--agency", "stc", "--due", "2025-04-30")
    first = export(env)
    assert export(env) == first
    (e,) = components(first)
    instance = env.query("SELECT value FROM meta WHERE key = 'instance_id'")[0][0]
    assert str(e["UID"]) == f"task-{t}@{instance}.deadlined"
    assert int(e["SEQUENCE"]) == 0

    env.ctl("--now", "2025-04-02T08:00", "edit", t, "--title", "Báo cáo quý II", check=True)
    (e2,) = components(export(env))
    assert str(e2["UID"]) == str(e["UID"])
    assert int(e2["SEQUENCE"]) == 1
    assert e2.decoded("LAST-MODIFIED") > e.decoded("LAST-MODIFIED")
    assert "Báo cáo quý II" in str(e2["SUMMARY"])


def test_an_alarm_per_reminder_offset(env):
    write(env)
    add(env, "Báo cáo quý", "--agency", "stc", "--due", "2025-04-30")
    add(env, "Họp", "--agency", "stc", "--due", "2025-04-30T17:00")
    timed, day = components(export(env))   # by deadline: 17:00 comes before the day's end
    trig = lambda e: [a.decoded("TRIGGER") for a in e.walk("VALARM")]  # noqa: E731
    # Whole days go out at send_at (08:00) that many days before; "2h" is
    # two hours before the deadline (23:59:59 for a date-only one).
    assert trig(day) == [datetime.timedelta(days=-7, hours=8), datetime.timedelta(days=-1, hours=8),
                         datetime.timedelta(hours=21, minutes=59, seconds=59)]
    assert trig(timed) == [datetime.timedelta(days=-7, hours=-9), datetime.timedelta(days=-1, hours=-9),
                           datetime.timedelta(hours=-2)]
    assert all(str(a["ACTION"]) == "DISPLAY" for a in day.walk("VALARM"))


def test_ics_as_todo_gives_vtodo_with_due(env):
    write(env)
    t = add(env, "Họp", "--agency", "stc", "--due", "2025-04-30T17:00")
    text = export(env, "--ics-as", "todo")
    assert components(text, "VEVENT") == [] and libical_errors(text) == 0
    (todo,) = components(text, "VTODO")
    assert int(todo.decoded("DUE").timestamp()) == due_at(env, t)
    assert "DTSTART" not in todo
    assert all(a["TRIGGER"].params.get("RELATED") == "END" for a in todo.walk("VALARM"))


def test_agency_feed_has_its_tasks_and_its_role(env):
    write(env)
    add(env, "Chủ trì", "--agency", "stc", "--due", "2025-04-30")
    add(env, "Qua nhóm", "--agency", "sxd", "--support", "cacso", "--due", "2025-05-30")
    add(env, "Không liên quan", "--agency", "kbnn", "--due", "2025-05-30")
    done = add(env, "Đã xong", "--agency", "stc", "--due", "2025-05-30")
    env.ctl("done", done, check=True)
    events = components(export(env, "--agency", "stc"))
    assert [str(e["SUMMARY"]) for e in events] == ["Chủ trì", "Qua nhóm"]
    assert "Vai trò của Sở Tài chính: chủ trì" in str(events[0]["DESCRIPTION"])
    assert "Vai trò của Sở Tài chính: phối hợp" in str(events[1]["DESCRIPTION"])


def test_text_from_users_is_escaped(env):
    write(env)
    add(env, "A; B, C\\D", "--agency", "stc", "--due", "2025-04-30", "--detail", "dòng 1\nBEGIN:VEVENT")
    text = export(env)
    assert "SUMMARY:A\\; B\\, C\\\\D" in text
    (e,) = components(text)
    assert str(e["SUMMARY"]) == "A; B, C\\D"
    assert "dòng 1\nBEGIN:VEVENT" in str(e["DESCRIPTION"])


def test_output_file(env, tmp_path):
    write(env)
    add(env, "Họp", "--agency", "stc", "--due", "2025-04-30T17:00")
    out = tmp_path / "out.ics"
    p = env.ctl("export", "--format", "ics", "--output", out, check=True)
    assert p.stdout == "" and len(components(out.read_text())) == 1


@pytest.mark.parametrize("args, code, words", [
    (["--agency", "nope"], 65, 'no agency or group "nope"'),
    (["--agency", "cacso"], 65, '"cacso" is a group'),
    (["--ics-as", "journal"], 64, '--ics-as: "journal" is not event or todo'),
])
def test_bad_input_is_one_line(env, args, code, words):
    write(env)
    add(env, "Họp", "--agency", "stc", "--due", "2025-04-30T17:00")
    before = env.dump()
    p = env.ctl("export", "--format", "ics", *args)
    assert p.returncode == code and p.stdout == ""
    assert p.stderr.count("\n") == 1 and words in p.stderr
    assert env.dump() == before


def test_ics_options_need_format_ics(env):
    write(env)
    p = env.ctl("export", "--agency", "stc")
    assert p.returncode == 64 and p.stderr.count("\n") == 1 and "--format ics" in p.stderr


def test_output_that_cannot_be_written_is_73(env, tmp_path):
    write(env)
    (tmp_path / "file").write_text("x")
    p = env.ctl("export", "--format", "ics", "--output", tmp_path / "file" / "out.ics")
    assert p.returncode == 73 and p.stderr.count("\n") == 1 and "file/out.ics" in p.stderr
    assert (tmp_path / "file").read_text() == "x"


def test_daemon_keeps_a_file_per_agency(env):
    write(env, extra='calendar_dir = "ics";')
    t = add(env, "Báo cáo quý", "--agency", "stc", "--due", "2030-04-30")
    d = start_daemon(env)
    try:
        folder = env.path / "ics"
        stc, sxd, kbnn = folder / "stc.ics", folder / "sxd.ics", folder / "kbnn.ics"
        assert wait_until(lambda: stc.exists() and sxd.exists(), timeout=30), (env.path / "daemon.log").read_text()
        assert [str(e["SUMMARY"]) for e in components(stc.read_text())] == ["Báo cáo quý"]
        assert components(sxd.read_text()) == []
        assert libical_errors(stc.read_text()) == 0
        assert not [f for f in os.listdir(folder) if f.startswith(".")]

        # An edit is in the file soon after; an unrelated agency's file is
        # not touched (same mtime) when its calendar did not change.
        kbnn_mtime = kbnn.stat().st_mtime_ns
        env.ctl("edit", t, "--title", "Báo cáo quý II", check=True)
        assert wait_until(lambda: "Báo cáo quý II" in stc.read_text(), timeout=30)
        (e,) = components(stc.read_text())
        assert int(e["SEQUENCE"]) == 1
        stc_mtime = stc.stat().st_mtime_ns
        add(env, "Việc của Sở Xây dựng", "--agency", "sxd", "--due", "2030-05-30")
        assert wait_until(lambda: [str(e["SUMMARY"]) for e in components(sxd.read_text())]
                          == ["Việc của Sở Xây dựng"], timeout=30)
        assert stc.stat().st_mtime_ns == stc_mtime
        assert kbnn.stat().st_mtime_ns == kbnn_mtime
    finally:
        assert stop(d) == 0


def test_daemon_refuses_a_calendar_dir_it_cannot_write(env):
    (env.path / "file").write_text("x")
    write(env, extra='calendar_dir = "file/ics";')
    d = start_daemon(env)
    assert d.wait(30) == 73
    log = (env.path / "daemon.log").read_text()
    lines = [line for line in log.splitlines() if "calendar_dir" in line]
    assert len(lines) == 1 and "file/ics" in lines[0], log
