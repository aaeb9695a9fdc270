#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make bench-scale: databases of 10,000, 100,000 and 1,000,000 open tasks
spread over two years; for each, the time to find the next due slot and to
decide and claim one run's deliveries, the daemon's start-up time to READY,
its resident memory, `deadlinectl list --due-within 7d`, and a year's
compliance report (`deadlinectl report`, CSV and HTML) once a third of the
tasks are done, half of those late."""

import os
import pathlib
import random
import shutil
import statistics
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

BUILD = pathlib.Path(sys.argv[1])
SIZES = [int(x) for x in (sys.argv[2:] or ["10000", "100000", "1000000"])]
RUNS = max(3, int(os.environ.get("BENCH_RUNS", "3")))
AGENCIES = ["stc", "skhdt", "kbnn", "sxd", "stttt", "snv", "syt", "stnmt"]

CONFIG = """database = "bench.db";
timezone = "Asia/Ho_Chi_Minh";
transport = "maildir:maildir";
schedule = { remind_before = ["14d", "7d", "3d", "1d", "0d"]; overdue_every = "1d"; send_at = "08:00";
             workdays = ["mon", "tue", "wed", "thu", "fri"]; digest = true; };
agencies = (
""" + ",\n".join(f'  {{ id = "{a}"; name = "Agency {a}"; email = ["{a}@example.test"]; }}' for a in AGENCIES) + "\n);\n"


def make_db(path, n, now):
    subprocess.run([BUILD / "deadlinectl", "-c", path.parent / "bench.conf", "list"], check=True,
                   capture_output=True)
    con = sqlite3.connect(path)
    rnd = random.Random(n)
    rows = []
    for i in range(n):
        day = now // 86400 + 1 + rnd.randrange(730)
        due_at = day * 86400 + 16 * 3600 + 59 * 60 + 59  # 23:59:59 at UTC+7
        rows.append((f"Task {i}", time.strftime("%Y-%m-%d", time.gmtime(day * 86400)), due_at, now))
    with con:
        con.executemany("INSERT INTO tasks (title, due, due_at, status, created_at, updated_at, next_fire_at,"
                        " fired_through) VALUES (?, ?, ?, 'open', ?4, ?4, ?4, ?4)", rows)
        con.execute("INSERT INTO task_agencies (task_id, agency, role, position) "
                    f"SELECT id, CASE id % {len(AGENCIES)} " +
                    " ".join(f"WHEN {k} THEN '{a}'" for k, a in enumerate(AGENCIES)) +
                    " END, 'lead', 0 FROM tasks")
    con.close()


def complete_some(path, now):
    """A third of the tasks done, half of them after their deadline: what
    a report reads besides the open tasks."""
    con = sqlite3.connect(path)
    with con:
        con.execute("INSERT INTO completions (task_id, due, due_at, done_at, recorded_at) "
                    "SELECT id, due, due_at, due_at + CASE WHEN id % 2 = 0 THEN -86400 ELSE 3 * 86400 END, ?1 "
                    "FROM tasks WHERE id % 3 = 0", (now,))
        con.execute("UPDATE tasks SET status = 'done', closed_at = ?1, next_fire_at = NULL WHERE id % 3 = 0",
                    (now,))
    con.close()


def report(conf, now, fmt):
    """A year's report, as of its end: seconds."""
    first = time.strftime("%Y-%m-%d", time.localtime(now + 86400))
    last = time.strftime("%Y-%m-%d", time.localtime(now + 365 * 86400))
    end = time.strftime("%Y-%m-%dT%H:%M", time.localtime(now + 366 * 86400))
    t0 = time.monotonic()
    subprocess.run([BUILD / "deadlinectl", "-c", conf, "--now", end, "report", "--from", first, "--to", last,
                    "--format", fmt], check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - t0


def startup(conf, workdir):
    sock_path = str(workdir / "notify")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(sock_path)
    s.settimeout(120)
    env = dict(os.environ, NOTIFY_SOCKET=sock_path)
    t0 = time.monotonic()
    p = subprocess.Popen([BUILD / "deadlined", "-c", conf], env=env, stderr=subprocess.DEVNULL)
    while b"READY=1" not in s.recv(4096):
        pass
    ready = time.monotonic() - t0
    time.sleep(1.0)
    rss = 0
    with open(f"/proc/{p.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                rss = int(line.split()[1])
    p.terminate()
    p.wait(30)
    s.close()
    os.unlink(sock_path)
    return ready, rss


def main():
    now = int(time.time())
    print(f"medians of {RUNS} runs of the decide and claim figures; target: deciding <= 20 µs each at 1M tasks")
    print(f"{'tasks':>9} {'prime s':>8} {'next due µs':>12} {'decide ms':>10} {'claim ms':>9} "
          f"{'deliveries':>10} {'decide µs each':>14} {'1st READY s':>11} {'READY s':>8} {'peak RSS MB':>11} {'list 7d s':>10} "
          f"{'report 1y csv s':>15} {'html s':>7}")
    for n in SIZES:
        with tempfile.TemporaryDirectory() as d:
            d = pathlib.Path(d)
            conf = d / "bench.conf"
            conf.write_text(CONFIG)
            make_db(d / "bench.db", n, now)
            shutil.copy(d / "bench.db", d / "pristine.db")
            runs = []
            for i in range(RUNS):
                # Each run from the same database: deciding writes the
                # deliveries it decides.
                for suffix in ("", "-wal", "-shm"):
                    (d / f"bench.db{suffix}").unlink(missing_ok=True)
                shutil.copy(d / "pristine.db", d / "bench.db")
                out = subprocess.run([BUILD / "tests" / "bench-scale", conf, str(now), "prime"], check=True,
                                     capture_output=True, text=True).stdout
                runs.append(dict(line.split("=", 1) for line in out.replace(" ", "\n").split() if "=" in line))
            (d / "pristine.db").unlink()
            v = {k: statistics.median(float(r[k]) for r in runs) for k in ("prime_ms", "next_due_us", "decide_ms",
                                                                         "claim_ms", "deliveries")}
            # The first start after the bench's own priming records the
            # policy's fingerprint; the second is an ordinary start.
            first_ready, _ = startup(conf, d)
            ready, rss = startup(conf, d)
            t0 = time.monotonic()
            subprocess.run([BUILD / "deadlinectl", "-c", conf, "list", "--due-within", "7d"], check=True,
                           stdout=subprocess.DEVNULL)
            listing = time.monotonic() - t0
            complete_some(d / "bench.db", now)
            report_csv = report(conf, now, "csv")
            report_html = report(conf, now, "html")
            print(f"{n:>9} {float(v['prime_ms']) / 1000:>8.2f} {float(v['next_due_us']):>12.1f} "
                  f"{float(v['decide_ms']):>10.2f} {float(v['claim_ms']):>9.2f} {v['deliveries']:>10.0f} "
                  f"{1000 * v['decide_ms'] / max(v['deliveries'], 1):>14.1f} "
                  f"{first_ready:>11.3f} {ready:>8.3f} {rss / 1024:>11.1f} {listing:>10.3f} "
                  f"{report_csv:>15.3f} {report_html:>7.3f}", flush=True)


main()
