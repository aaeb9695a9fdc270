# SPDX-License-Identifier: GPL-2.0-or-later
"""Exit statuses and messages when the database cannot be used: each is the
documented status (deadlined(8), deadlinectl(1)) with a message in words,
never a bare errno text like "Bad message" or "Input/output error"."""

import os
import pathlib
import shutil
import sqlite3
import subprocess

import pytest

from conftest import DEADLINED, DEADLINECTL, Env

RAW = ("Bad message", "Protocol not supported", "Input/output error", "Read-only file system")


def both(env, user=None):
    """deadlined --once and deadlinectl list: (status, message) of each."""
    prefix = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"] if user else []
    out = []
    for cmd in ([str(DEADLINED), "-c", str(env.config), "--once"], [str(DEADLINECTL), "-c", str(env.config), "list"]):
        p = subprocess.run(prefix + cmd, capture_output=True, text=True, timeout=60)
        out.append((p.returncode, p.stderr))
    return out


def check(results, status, words):
    for code, err in results:
        assert code == status, err
        assert words in err, err
        assert not any(raw in err for raw in RAW), err


@pytest.mark.sqlite_only("sets PRAGMA user_version; test_pg.py refuses a newer schema on PostgreSQL")
def test_a_newer_schema_is_65_with_both_versions(env):
    env.ctl("list", check=True)
    con = sqlite3.connect(env.database)
    con.execute("PRAGMA user_version = 99")
    con.close()
    before = env.dump()
    check(both(env), 65, "the database was made by a newer deadlined (schema 99, this one knows")
    assert env.dump() == before


@pytest.mark.sqlite_only("writes garbage into the database file")
def test_a_file_that_is_not_sqlite_is_65(env):
    env.database.write_bytes(b"name,title\n" * 1000)
    check(both(env), 65, "not an SQLite database")
    assert env.database.read_bytes() == b"name,title\n" * 1000


@pytest.mark.sqlite_only("the modes of the database file")
def test_a_folder_without_write_permission_is_77(tmp_path):
    if os.getuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root to run the programs as another user")
    # pytest's own folders are private to root: nobody must reach this one.
    import tempfile
    top = pathlib.Path(tempfile.mkdtemp(prefix="deadlined-perm-"))
    try:
        top.chmod(0o755)
        env = Env(top)
        env.write_config()
        env.ctl("list", check=True)
        for f in top.glob("deadlined.db-*"):
            f.unlink()
        for f in top.iterdir():
            f.chmod(0o644)
        check(both(env, user=65534), 77, "permission denied")
    finally:
        shutil.rmtree(top)


@pytest.mark.faults
def test_a_full_disk_at_start_is_74_and_says_so(env, tmp_path):
    if os.getuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        (mnt / "fill").write_bytes(b"\0" * 0)
        try:
            with open(mnt / "fill", "wb") as f:
                f.write(b"x" * (1 << 20))
        except OSError:
            pass
        env.write_config(env.config.read_text().replace('database = "deadlined.db";',
                                                        f'database = "{mnt}/deadlined.db";'))
        check(both(env), 74, "the disk is full")
    finally:
        subprocess.run(["umount", str(mnt)])


def test_the_unit_does_not_restart_what_a_restart_cannot_fix():
    from conftest import SOURCE
    unit = (SOURCE / "packaging/systemd/deadlined.service").read_text()
    [line] = [x for x in unit.splitlines() if x.startswith("RestartPreventExitStatus=")]
    codes = set(line.split("=", 1)[1].split())
    assert {"64", "65", "73", "77", "78"} <= codes and not codes & {"74", "75"}
