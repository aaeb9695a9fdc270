# SPDX-License-Identifier: GPL-2.0-or-later
"""Running the real deadlined: a NOTIFY_SOCKET receiver, process helpers and
bulk set-up of tasks."""

import os
import socket
import sqlite3
import subprocess
import threading
import time

from conftest import DEADLINED


class NotifySocket:
    """A systemd-style notification socket: records every datagram the
    daemon sends, with the time it arrived."""

    def __init__(self, path):
        self.path = str(path)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages = []
        self.stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            try:
                data, ancdata, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
            except socket.timeout:
                continue
            except OSError:
                return
            for level, kind, payload in ancdata:
                if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                    for i in range(0, len(payload) - len(payload) % 4, 4):
                        os.close(int.from_bytes(payload[i:i + 4], "little"))
            self.messages.append((time.monotonic(), data.decode()))

    def fields(self):
        out = []
        for t, m in self.messages:
            for line in m.split("\n"):
                if line:
                    out.append((t, line))
        return out

    def wait_for(self, prefix, timeout=10, after=0.0):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            for t, line in self.fields():
                if t >= after and line.startswith(prefix):
                    return t, line
            time.sleep(0.02)
        raise AssertionError(f"no {prefix!r} notification within {timeout}s: {self.messages}")

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


# Every daemon a test starts, so that none outlives its test (a failed
# assertion must not leave one running).
STARTED = []


def kill_started():
    while STARTED:
        p = STARTED.pop()
        if p.poll() is None:
            p.kill()
            p.wait(10)


def start_daemon(env, *args, notify=None, watchdog_usec=None, extra_env=None):
    e = dict(os.environ)
    e.pop("NOTIFY_SOCKET", None)
    e.pop("WATCHDOG_USEC", None)
    e.pop("WATCHDOG_PID", None)
    if notify:
        e["NOTIFY_SOCKET"] = notify.path
    if watchdog_usec:
        e["WATCHDOG_USEC"] = str(watchdog_usec)
    e.update(extra_env or {})
    log = open(env.path / "daemon.log", "ab")
    p = subprocess.Popen([str(DEADLINED), "-c", str(env.config), *map(str, args)], env=e,
                         stdout=log, stderr=subprocess.STDOUT)
    STARTED.append(p)
    return p


def run_once(env, *args, timeout=120):
    p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--once", *map(str, args)],
                       capture_output=True, text=True, timeout=timeout)
    return p


def stop(proc, timeout=15):
    if proc.poll() is None:
        proc.terminate()
    return proc.wait(timeout)


def wait_until(predicate, timeout=10, interval=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = predicate()
        if v:
            return v
        time.sleep(interval)
    return predicate()


def bulk_add(env, tasks, now):
    """Adds many tasks at once, as deadlinectl add would (created and first
    looked at `now`). Used only where a thousand processes would be slow."""
    insert_tasks(env, [(title, due, due_at, now, [(lead, "lead")]) for title, lead, due, due_at in tasks])


def insert_tasks(env, tasks):
    """Writes open tasks straight into the database (made and migrated
    first), on either backend, in one transaction: (title, due, due_at,
    created_at, [(agency, role), ...]) each."""
    env.ctl("list", check=True)  # creates and migrates the database
    if env.pg_uri:
        from conftest import pg_connect, pg_sql
        con = pg_connect(env.pg_uri)
        con.autocommit = False
        fix = pg_sql
    else:
        con = sqlite3.connect(env.database)
        fix = str
    try:
        with con:
            cur = con.cursor()
            for title, due, due_at, created, agencies in tasks:
                cur.execute(fix("INSERT INTO tasks (title, due, due_at, status, created_at, updated_at, next_fire_at,"
                                " fired_through) VALUES (?, ?, ?, 'open', ?, ?, ?, ?) RETURNING id"),
                            (title, due, due_at, created, created, created, created))
                [(task_id,)] = cur.fetchall()
                for position, (agency, role) in enumerate(agencies):
                    cur.execute(fix("INSERT INTO task_agencies (task_id, agency, role, position) VALUES (?, ?, ?, ?)"),
                                (task_id, agency, role, position))
    finally:
        con.close()


def maildir_count(env):
    new = env.maildir / "new"
    return len(os.listdir(new)) if new.exists() else 0


# --- For the fault scenarios (test_faults_*.py) ----------------------------------------------------------


def watchdog_pings(notify, after=0.0):
    """The WATCHDOG=1 keep-alives since `after`, and the largest gap between
    two of them (or from `after` to the first), in seconds."""
    pings = [t for t, line in notify.fields() if line == "WATCHDOG=1" and t > after]
    edges = ([after] if after else []) + pings
    return pings, max((b - a for a, b in zip(edges, edges[1:])), default=float("inf"))


def delivery_state_counts(env):
    """{state: number of deliveries} in the database."""
    return dict(env.query("SELECT state, count(*) FROM deliveries GROUP BY state"))


def notify_lines(notify, after=0.0, keys=("READY=1", "RELOADING=1", "STOPPING=1")):
    """The protocol lines among `keys` the daemon sent since `after`, in order."""
    return [line for t, line in notify.fields() if t > after and line in keys]
