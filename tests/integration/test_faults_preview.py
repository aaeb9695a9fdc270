# SPDX-License-Identifier: GPL-2.0-or-later
"""deadlined --once --dry-run against a database another process keeps
locked: it says so and exits 75 after the busy timeout, instead of hanging."""

import sqlite3
import subprocess
import time

import pytest

from conftest import DEADLINED


@pytest.mark.faults
def test_a_dry_run_on_a_locked_database_exits_75(env):
    env.ctl("--now", "2025-05-01T09:00", "add", "Việc A", "--agency", "stc", "--due", "2025-05-20", check=True)
    before = env.dump()
    con = sqlite3.connect(env.database, isolation_level=None)
    con.execute("BEGIN IMMEDIATE")
    try:
        started = time.monotonic()
        p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--once", "--dry-run", "--now",
                            "2025-05-19T09:00"], capture_output=True, text=True, timeout=60)
        took = time.monotonic() - started
    finally:
        con.execute("ROLLBACK")
        con.close()
    assert p.returncode == 75, p.stderr
    assert "write lock" in p.stderr and p.stdout == ""
    assert took < 20
    assert env.dump() == before
