# SPDX-License-Identifier: GPL-2.0-or-later
"""A full disk under a running deadlined (a slow suite: `make
check-faults`): the database's folder is a 2 MB tmpfs, filled up just
before 300 reminders fall due. The daemon keeps running and its watchdog
beating, says in its log that the disk is full, sends nothing it could not
record first, and once space is freed sends every reminder, once."""

import collections
import datetime
import errno
import os
import subprocess
import time

import pytest

from daemon_helpers import (NotifySocket, bulk_add, delivery_state_counts, maildir_count, start_daemon, stop,
                            wait_until, watchdog_pings)

pytestmark = pytest.mark.faults

HANOI = datetime.timezone(datetime.timedelta(hours=7))
WATCHDOG_USEC = 4_000_000
# sd-event sends a keep-alive every ½ to ¾ of the period; the rest is room
# for a loaded machine, well short of the period.
MAX_GAP = 4 * 0.75 + 0.75


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MB tmpfs. Mounting one needs root (as in CI); elsewhere the test
    is skipped."""
    path = tmp_path / "small"
    path.mkdir()
    p = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0755", "tmpfs", str(path)],
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip(f"cannot mount a 2 MB tmpfs here (needs root): {p.stderr.strip()}")
    yield path
    # Lazily: should the test fail with a daemon still running there.
    subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path):
    """Writes a file until the disk is full; returns it."""
    filler = path / "filler"
    with open(filler, "wb", buffering=0) as f:
        while True:
            try:
                f.write(b"\0" * 4096)
            except OSError as e:
                assert e.errno == errno.ENOSPC, e
                break
    return filler


def test_a_full_disk_loses_nothing_and_sends_everything_once_space_is_freed(env, small_disk, tmp_path):
    now = int(time.time())
    due_at = now + 3600
    lead = 20           # the reminders fall due this many seconds after the start
    env.write_config(extra=f'database = "{small_disk}/deadlined.db";',
                     schedule=f'schedule = {{ remind_before = ["{3600 - lead}s"]; overdue_every = "0s"; '
                              f'send_at = "08:00"; notify_on_assign = false; }};\n')
    env.config.write_text(env.config.read_text().replace('database = "deadlined.db";\n', "", 1))
    env.database = small_disk / "deadlined.db"
    due = datetime.datetime.fromtimestamp(due_at, HANOI).strftime("%Y-%m-%dT%H:%M")
    agencies = ["stc", "skhdt", "kbnn", "sxd", "stttt"]
    bulk_add(env, [(f"Việc {i} " + "nội dung dài " * 20, agencies[i % 5], due, due_at) for i in range(300)], now)

    n = NotifySocket(tmp_path / "notify")
    p = start_daemon(env, notify=n, watchdog_usec=WATCHDOG_USEC)
    try:
        n.wait_for("READY=1")
        n.wait_for("STATUS=Next", timeout=30)
        filler = fill(small_disk)
        t_full = time.monotonic()
        # The reminders fall due, and cannot be recorded.
        # In words: "Failed to decide due reminders: the disk is full (…)".
        assert wait_until(lambda: ": the disk is full (" in (env.path / "daemon.log").read_text(),
                          timeout=now + lead + 30 - time.time()), (env.path / "daemon.log").read_text()[-2000:]
        time.sleep(6)       # at least one more try, on the full disk
        assert p.poll() is None
        counts = delivery_state_counts(env)
        # Nothing went out that is not recorded as going (at most the last
        # batch, recorded attempting until its result can be written).
        assert maildir_count(env) <= counts.get("sent", 0) + counts.get("attempting", 0), counts
        pings, gap = watchdog_pings(n, after=t_full)
        assert len(pings) >= 5 and gap < MAX_GAP, [round(b - a, 2) for a, b in zip([t_full] + pings, pings)]
        full_for = time.monotonic() - t_full

        os.unlink(filler)
        assert wait_until(lambda: delivery_state_counts(env) == {"sent": 300}, timeout=60), \
            (delivery_state_counts(env), (env.path / "daemon.log").read_text()[-2000:])
        pings, gap = watchdog_pings(n, after=t_full)
        assert gap < MAX_GAP, pings
    finally:
        assert stop(p) == 0
        n.close()
    ids = collections.Counter(m["X-Deadlined-Delivery"] for m in env.messages())
    assert len(ids) == 300 and set(ids.values()) == {1}
    assert env.query("PRAGMA integrity_check") == [("ok",)]
    log = (env.path / "daemon.log").read_text()
    print(f"largest keep-alive gap {gap:.2f}s; disk full for {full_for:.1f}s; {log.count(': the disk is full (')} 'the disk is full' lines in the log")
