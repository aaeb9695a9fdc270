# SPDX-License-Identifier: GPL-2.0-or-later
"""deadlinectl against a real configuration and SQLite database."""

import json
import unicodedata

import pytest

from conftest import DEADLINECTL

NOW = "2025-04-20T09:00"


def display_width(s):
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 0 if unicodedata.combining(ch) else 1
               for ch in s)


def test_add_and_list_vietnamese_aligned(env):
    env.ctl("--now", NOW, "add", "Báo cáo đánh giá nguồn lực", "--agency", "stc", "--support", "skhdt,kbnn",
            "--due", "30/4/2025", "--ref", "5.c", check=True)
    env.ctl("--now", NOW, "add", "Kiểm tra chất lượng công trình trường học", "--agency", "sxd",
            "--support", "cachuyen", "--due", "2025-04-25", check=True)
    env.ctl("--now", NOW, "add", "Rà soát dữ liệu", "--agency", "cacso", check=True)
    p = env.ctl("--now", NOW, "list", check=True)
    lines = p.stdout.rstrip("\n").split("\n")
    assert lines[0].split()[:4] == ["ID", "REF", "DUE", "LEFT"]
    assert len(lines) == 4
    # Sorted by deadline, no deadline last.
    assert "Kiểm tra" in lines[1] and "Báo cáo" in lines[2] and "Rà soát" in lines[3]
    # Every row's TITLE column starts at the same display column.
    starts = [display_width(line[:line.index(t)]) for line, t in
              zip(lines, ["TITLE", "Kiểm tra", "Báo cáo", "Rà soát"])]
    assert len(set(starts)) == 1, (starts, lines)
    assert "25/4/2025" in lines[1] and "5 days left" in lines[1]


def test_list_json_and_filters(env):
    env.ctl("--now", NOW, "add", "A", "--agency", "stc", "--due", "2025-04-22", check=True)
    env.ctl("--now", NOW, "add", "B", "--agency", "sxd", "--due", "2025-05-30", check=True)
    env.ctl("--now", NOW, "add", "C", "--agency", "cacso", "--due", "2025-04-10", check=True)
    env.ctl("--now", NOW, "add", "D", "--agency", "h-anlac", "--support", "stc", check=True)
    titles = lambda *a: [t["title"] for t in env.ctl_json("--now", NOW, "list", *a)]
    assert titles() == ["C", "A", "B", "D"]
    assert titles("--overdue") == ["C"]
    assert titles("--due-within", "7d") == ["C", "A"]
    # An agency sees its own tasks and those of the groups it belongs to.
    assert titles("--agency", "stc") == ["C", "A", "D"]
    # A group sees its members' tasks.
    assert titles("--agency", "cachuyen") == ["D"]
    t = env.ctl_json("--now", NOW, "list", "--agency", "stc")[0]
    assert t["lead"] == ["cacso"] and t["status"] == "open" and t["due"] == "2025-04-10"
    assert t["due_at"] == "2025-04-10T23:59:59+07:00"


def test_due_forms(env):
    for due, want in [("2025-04-30", "2025-04-30"), ("30/4/2025", "2025-04-30"),
                      ("2025-04-30T17:00", "2025-04-30T17:00"), ("+7d", "2025-04-27"), ("+2h", "2025-04-20T11:00")]:
        t = env.ctl_json("--now", NOW, "add", "x", "--agency", "stc", "--due", due)
        assert t["due"] == want, due


def test_status_changes(env):
    env.ctl("add", "A", "--agency", "stc", check=True)
    assert env.ctl_json("show", "1")["status"] == "open"
    env.ctl("done", "1", check=True)
    assert env.ctl_json("show", "1")["status"] == "done"
    assert env.ctl_json("list") == []
    assert [t["title"] for t in env.ctl_json("list", "--status", "done")] == ["A"]
    p = env.ctl("done", "1")
    assert p.returncode == 65 and "already done" in p.stderr
    env.ctl("reopen", "1", check=True)
    env.ctl("cancel", "1", check=True)
    assert env.ctl_json("show", "1")["status"] == "cancelled"


def test_recurring_task_done_moves_to_next_deadline(env):
    t = env.ctl_json("--now", NOW, "add", "Báo cáo tháng", "--agency", "stttt", "--recurrence", "monthly:25")
    assert t["due"] == "2025-04-25" and t["recurrence"] == "monthly:25"
    env.ctl("done", str(t["id"]), check=True)
    t = env.ctl_json("show", str(t["id"]))
    assert t["due"] == "2025-05-25" and t["status"] == "open"


def test_edit(env):
    env.ctl("add", "A", "--agency", "stc", "--support", "kbnn", "--due", "2025-05-01", check=True)
    env.ctl("edit", "1", "--title", "Tiêu đề mới", "--due", "2025-06-01", check=True)
    t = env.ctl_json("show", "1")
    assert t["title"] == "Tiêu đề mới" and t["due"] == "2025-06-01" and t["support"] == ["kbnn"]
    env.ctl("edit", "1", "--agency", "sxd", check=True)
    t = env.ctl_json("show", "1")
    assert t["lead"] == ["sxd"] and t["support"] == ["kbnn"]
    env.ctl("edit", "1", "--due", "none", check=True)
    assert env.ctl_json("show", "1").get("due") is None


def test_a_task_names_up_to_256_agencies(env):
    # The store's bound on one task (TASK_AGENCIES_MAX): given on the
    # command line, and kept whole when an edit replaces the other role.
    ids = ["lanhdao", "vpubnd"] + [f"a{i:03}" for i in range(300)]
    env.write_config(agencies="agencies = (\n" + ",\n".join(
        f'  {{ id = "{i}"; name = "Cơ quan {i}"; email = ["{i}@sonha.gov.vn"]; }}' for i in ids) + "\n);\n")
    support = ",".join(ids[3:103])
    env.ctl("add", "A", "--agency", "a000", "--support", support, "--due", "2025-05-01", check=True)
    env.ctl("edit", "1", "--agency", "a200", check=True)
    t = env.ctl_json("show", "1")
    assert t["lead"] == ["a200"] and t["support"] == ids[3:103]

    before = env.dump()
    p = env.ctl("add", "B", "--agency", "a000", "--support", ",".join(ids[3:259]))
    assert p.returncode == 64 and "at most 256 agencies in all" in p.stderr
    p = env.ctl("add", "B", "--agency", "a000", "--support", ",".join(ids[3:260]))
    assert p.returncode == 64 and "--support: at most 256 agencies" in p.stderr
    assert env.dump() == before

def test_agencies_lists_groups(env):
    p = env.ctl("agencies", check=True)
    assert "Sở Tài chính" in p.stdout and "cacso" in p.stdout
    j = env.ctl_json("agencies")
    assert env.ctl("agencies", "--json", check=True).stdout == env.ctl("--json", "agencies", check=True).stdout
    stc = next(a for a in j["agencies"] if a["id"] == "stc")
    assert stc["groups"] == ["cacso"]
    assert next(g for g in j["groups"] if g["id"] == "cachuyen")["members"] == ["h-anlac", "tp-sonha"]


def test_check_config_ok(env):
    p = env.ctl("check-config")
    assert p.returncode == 0 and "configuration OK" in p.stdout


# Every bad input: a clear one-line error, a sysexits code, nothing changed.
BAD = [
    (["add", "x"], 64, "missing --agency"),
    (["add", "--agency", "stc"], 64, "missing TITLE"),
    (["add", "x", "--agency", "stcc"], 65, 'no agency or group "stcc"'),
    (["add", "x", "--agency", "stc", "--support", "nobody"], 65, 'no agency or group "nobody"'),
    (["add", "x", "--agency", "stc", "--due", "31/4/2025"], 65, '--due: "31/4/2025" is not a date'),
    (["add", "x", "--agency", "stc", "--due", "tomorrow"], 65, "is not a date"),
    (["add", "x", "--agency", "stc", "--due", "2025-02-30"], 65, "is not a date"),
    (["add", "x", "--agency", "stc", "--recurrence", "weekly"], 65, "is not a recurrence"),
    (["add", "", "--agency", "stc"], 65, "empty title"),
    (["add", "a\nb", "--agency", "stc"], 65, "control character"),
    (["add", "x", "--agency", "stc", "--support", "stc"], 65, "already the lead"),
    (["add", "x", "--agency", "stc", "--bogus"], 64, "--bogus"),
    (["list", "--due-within", "soon"], 64, "is not a duration"),
    (["list", "--status", "finished"], 64, "is not a status"),
    (["list", "--agency", "nope"], 65, "no agency or group"),
    (["show", "999"], 65, "no task 999"),
    (["show", "abc"], 64, "is not a task id"),
    (["show", "-5"], 64, ""),
    (["done", "999"], 65, "no task 999"),
    (["edit", "1"], 64, "nothing to change"),
    (["edit", "1", "--due", "soon"], 65, "is not a date"),
    (["edit", "1", "--agency", "ghost"], 65, "no agency or group"),
    (["frobnicate"], 64, "unknown command"),
    ([], 64, ""),
]


@pytest.mark.parametrize("args,code,message", BAD, ids=lambda v: str(v)[:40])
def test_bad_input_changes_nothing(env, args, code, message):
    env.ctl("add", "Existing", "--agency", "stc", "--due", "2025-05-01", check=True)
    before = env.dump()
    p = env.ctl(*args)
    assert p.returncode == code, p.stderr
    assert message in p.stderr
    err = p.stderr.strip()
    if args:
        assert err.count("\n") == 0, err
        assert err.startswith("deadlinectl: ")
    assert env.dump() == before


def test_invalid_utf8_title(env):
    import subprocess
    before = env.dump()
    p = subprocess.run([str(DEADLINECTL), "-c", str(env.config), "add", b"\xff\xfe", "--agency", "stc"],
                       capture_output=True)
    assert p.returncode == 65 and b"not valid UTF-8" in p.stderr
    assert env.dump() == before


def test_bad_config_exit_78(env):
    env.config.write_text('database = "x.db";\nremind_befor = 3;\n')
    p = env.ctl("list")
    assert p.returncode == 78
    assert f"{env.config}:2" in p.stderr and "remind_befor" in p.stderr
    assert not (env.path / "x.db").exists()


def test_missing_config(env):
    p = env.ctl("-c", str(env.path / "nope.conf"), "list")
    assert p.returncode == 78 and "nope.conf" in p.stderr


@pytest.mark.sqlite_only("sets PRAGMA user_version; test_pg.py refuses a newer schema on PostgreSQL")
def test_database_newer_than_program_is_refused(env):
    import sqlite3
    con = sqlite3.connect(env.database)
    con.execute("PRAGMA user_version = 99")
    con.close()
    p = env.ctl("list")
    assert p.returncode == 65 and "newer" in p.stderr


@pytest.mark.sqlite_only("writes garbage into the database file")
def test_garbage_database_is_refused_and_kept(env):
    env.database.write_bytes(b"this is not a database" * 100)
    p = env.ctl("add", "x", "--agency", "stc")
    assert p.returncode == 65 and "not a deadlined database" in p.stderr
    assert env.database.read_bytes() == b"this is not a database" * 100


@pytest.mark.sqlite_only("holds SQLite's write lock")
def test_locked_database_is_a_temporary_failure(env):
    import sqlite3
    env.ctl("add", "x", "--agency", "stc", check=True)
    con = sqlite3.connect(env.database, timeout=0)
    con.execute("BEGIN EXCLUSIVE")
    try:
        p = env.ctl("add", "y", "--agency", "stc")
    finally:
        con.rollback()
        con.close()
    assert p.returncode == 75, p.stderr
    assert len(env.ctl_json("list")) == 1


def test_check_config_reports_agencies_the_config_lost(env):
    env.ctl("add", "A", "--agency", "stc", "--support", "kbnn", check=True)
    env.write_config(agencies=AGENCIES_WITHOUT_KBNN)
    p = env.ctl("check-config")
    assert p.returncode == 78
    assert 'open tasks name agency "kbnn"' in p.stderr


AGENCIES_WITHOUT_KBNN = """
agencies = (
  { id = "lanhdao"; name = "Lãnh đạo UBND tỉnh"; email = ["lanhdao@sonha.gov.vn"]; },
  { id = "vpubnd";  name = "Văn phòng UBND tỉnh"; email = ["vanthu.vpub@sonha.gov.vn"]; },
  { id = "stc";     name = "Sở Tài chính"; email = ["stc@sonha.gov.vn"]; }
);
"""


@pytest.mark.sqlite_only("the modes of the database file")
def test_database_in_setgid_folder_is_group_writable(env):
    """The service's state folder is setgid and shared with the group that
    runs deadlinectl: whoever creates the database, the other can write it."""
    import os
    import stat
    shared = env.path / "state"
    shared.mkdir()
    shared.chmod(0o2770)
    env.write_config()
    env.config.write_text(env.config.read_text().replace('database = "deadlined.db"', 'database = "state/d.db"'))
    old = os.umask(0o022)
    try:
        env.ctl("add", "A", "--agency", "stc", check=True)
    finally:
        os.umask(old)
    for name in ("d.db", "d.db-wal", "d.db-shm"):
        f = shared / name
        if f.exists():
            assert stat.S_IMODE(f.stat().st_mode) & 0o060 == 0o060, (name, oct(f.stat().st_mode))


@pytest.mark.sqlite_only("the modes of the database file")
def test_database_elsewhere_follows_the_umask(env):
    import os
    import stat
    old = os.umask(0o077)
    try:
        env.ctl("add", "A", "--agency", "stc", check=True)
    finally:
        os.umask(old)
    assert stat.S_IMODE(env.database.stat().st_mode) == 0o600
