#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make bench-pg: PostgreSQL beside SQLite, in one run, on a throw-away
cluster (tests/pg-cluster.sh).

1. Deliveries per second: N webhook reminders (5,000 by default) due at
   once, sent to the same local nginx (bench-webhook's) by one daemon on
   SQLite, one daemon on PostgreSQL, and two daemons on one PostgreSQL
   database; from the daemons' start until the database says every
   delivery is sent. Each the median of BENCH_RUNS runs (3 by default).
2. The cost of finding what is due (outbox_next_wakeup(), the query the
   daemon asks after every change) at 10,000, 100,000 and 1,000,000 open
   tasks (BENCH_PG_SIZES), the same rows on each backend, measured by
   tests/bench/bench-scale (the same program, given each database).

Prints the figures; a benchmark, not a test."""

import importlib.util
import os
import pathlib
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = pathlib.Path(sys.argv[1]).resolve()
N = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
SOURCE = pathlib.Path(__file__).resolve().parents[2]
CLUSTER = SOURCE / "tests" / "pg-cluster.sh"
RUNS = max(3, int(os.environ.get("BENCH_RUNS", "3")))
SIZES = [int(x) for x in os.environ.get("BENCH_PG_SIZES", "10000 100000 1000000").split()]

# bench-webhook's receiver, configuration and tasks.
_spec = importlib.util.spec_from_file_location("bench_webhook", SOURCE / "tests" / "bench" / "bench-webhook.py")
bw = importlib.util.module_from_spec(_spec)
_argv, sys.argv = sys.argv, [sys.argv[0], str(BUILD), str(N)]
_spec.loader.exec_module(bw)
sys.argv = _argv

_dbs = [0]


def psql(uri, sql):
    return subprocess.run(["psql", "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", uri, "-c", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def createdb(cluster):
    _dbs[0] += 1
    return subprocess.run(["sh", str(CLUSTER), "createdb", cluster, f"bench{_dbs[0]}"], check=True,
                          capture_output=True, text=True).stdout.strip()


def pg_webhook_tasks(uri, conf, n, now):
    """bench-webhook's tasks, on PostgreSQL: n open tasks whose "1 hour
    before" reminder falls due at `now`, spread over its ten agencies."""
    subprocess.run([BUILD / "deadlinectl", "-c", conf, "list"], check=True, capture_output=True)
    due_at = now + 3600
    due = time.strftime("%Y-%m-%dT%H:%M", time.gmtime(due_at + 7 * 3600))
    created = now - 86400
    cases = " ".join(f"WHEN {k} THEN '{a}'" for k, a in enumerate(bw.AGENCIES))
    psql(uri, f"""BEGIN;
        INSERT INTO tasks (title, due, due_at, status, created_at, updated_at, next_fire_at, fired_through)
          SELECT 'Báo cáo kết quả thực hiện nhiệm vụ số ' || i, '{due}', {due_at}, 'open',
                 {created}, {created}, {created}, {created} FROM generate_series(0, {n - 1}) AS i;
        INSERT INTO task_agencies (task_id, agency, role, position)
          SELECT id, CASE id % {len(bw.AGENCIES)} {cases} END, 'lead', 0 FROM tasks;
        COMMIT; ANALYZE;""")


def sent_sqlite(db):
    con = sqlite3.connect(db, timeout=5)
    try:
        return con.execute("SELECT count(*) FROM deliveries WHERE state = 'sent'").fetchone()[0]
    finally:
        con.close()


def run_daemons(conf, count, now, sent, d):
    """`count` daemons started at once; seconds until `sent()` says all N."""
    t0 = time.monotonic()
    procs = [subprocess.Popen([BUILD / "deadlined", "-c", conf, "--now", f"@{now}"], stdout=subprocess.DEVNULL,
                              stderr=open(d / f"daemon{i}.log", "wb")) for i in range(count)]
    try:
        while True:
            k = sent()
            if k >= N:
                return time.monotonic() - t0
            if any(p.poll() is not None for p in procs) or time.monotonic() - t0 > 600:
                raise SystemExit(f"{count} daemon(s): {k} of {N} sent\n" + (d / "daemon0.log").read_text()[-2000:])
            time.sleep(0.02)
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            p.wait(30)


def with_database(conf_path, database):
    text = conf_path.read_text().replace('database = "bench.db";', f'database = "{database}";')
    out = conf_path.with_name("pg.conf")
    out.write_text(text)
    return out


def throughput(cluster, d, now):
    nginx, port = bw.start_nginx(d)
    secret = d / "secret"
    secret.write_text("whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=" + "\n")
    secret.chmod(0o600)
    try:
        conf = bw.write_config(d, f"http://127.0.0.1:{port}/hook", secret)
        bw.make_db(d, conf, N, now)
        shutil.copy(d / "bench.db", d / "pristine.db")
        rates = {}

        def sqlite_run():
            bw.fresh_db(d)
            return N / run_daemons(conf, 1, now, lambda: sent_sqlite(d / "bench.db"), d)
        rates["1 daemon, SQLite"] = statistics.median(sqlite_run() for _ in range(RUNS))
        for count in (1, 2):
            def pg_run():
                uri = createdb(cluster)
                pconf = with_database(conf, uri)
                pg_webhook_tasks(uri, pconf, N, now)
                return N / run_daemons(pconf, count, now,
                                       lambda: int(psql(uri, "SELECT count(*) FROM deliveries WHERE state = 'sent'")), d)
            rates[f"{count} daemon{'s' if count > 1 else ''}, PostgreSQL"] = \
                statistics.median(pg_run() for _ in range(RUNS))
        return rates
    finally:
        nginx.send_signal(signal.SIGQUIT)
        nginx.wait(10)


SCALE_CONFIG = """database = "{db}";
timezone = "Asia/Ho_Chi_Minh";
transport = "maildir:maildir";
schedule = {{ remind_before = ["14d", "7d", "3d", "1d", "0d"]; overdue_every = "1d"; send_at = "08:00";
             workdays = ["mon", "tue", "wed", "thu", "fri"]; digest = true; }};
agencies = (
{agencies}
);
"""
SCALE_AGENCIES = ",\n".join(f'  {{ id = "a{i}"; name = "Agency {i}"; email = ["a{i}@example.test"]; }}'
                            for i in range(8))

# n open tasks with deadlines over two years and their next slots already
# planned, spread from an hour ahead: the same rows on both backends.
SCALE_TASKS = """INSERT INTO tasks (title, due, due_at, status, created_at, updated_at, next_fire_at, fired_through)
  SELECT 'Task ' || i, '2027-01-01', {now} + 86400 * (1 + (i * 7919) % 730) + 61199, 'open', {now}, {now},
         {now} + 3600 + (i * 7919) % (730 * 86400), {now} FROM {series};
INSERT INTO task_agencies (task_id, agency, role, position) SELECT id, 'a' || (id % 8), 'lead', 0 FROM tasks;"""


def scale_one(conf, now):
    out = subprocess.run([BUILD / "tests" / "bench-scale", conf, str(now)], check=True, capture_output=True,
                         text=True).stdout
    return dict(line.split("=", 1) for line in out.replace(" ", "\n").split() if "=" in line)


def scale(cluster, d, now):
    rows = []
    for n in SIZES:
        sq = d / f"scale{n}.db"
        conf = d / f"scale{n}.conf"
        conf.write_text(SCALE_CONFIG.format(db=sq, agencies=SCALE_AGENCIES))
        subprocess.run([BUILD / "deadlinectl", "-c", conf, "list"], check=True, capture_output=True)
        con = sqlite3.connect(sq)
        with con:
            con.executescript(SCALE_TASKS.format(
                now=now, series=f"(WITH RECURSIVE s(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM s WHERE i < {n - 1}) "
                                "SELECT i FROM s)"))
        con.close()
        uri = createdb(cluster)
        pconf = d / f"scale{n}-pg.conf"
        pconf.write_text(SCALE_CONFIG.format(db=uri, agencies=SCALE_AGENCIES))
        subprocess.run([BUILD / "deadlinectl", "-c", pconf, "list"], check=True, capture_output=True)
        psql(uri, "BEGIN; " + SCALE_TASKS.format(now=now, series=f"generate_series(0::bigint, {n - 1}) AS i") +
             " COMMIT; ANALYZE;")
        for backend, c in (("SQLite", conf), ("PostgreSQL", pconf)):
            v = [scale_one(c, now) for _ in range(RUNS)]
            med = statistics.median(float(x["next_due_us"]) for x in v)
            rows.append((n, backend, med))
            print(f"{n:>9} {backend:<11} {med:>12.1f}", flush=True)
        sq.unlink()
    return rows


def main():
    if not shutil.which("nginx") and not os.path.exists("/usr/sbin/nginx"):
        raise SystemExit("bench-pg needs nginx (Debian: nginx-light)")
    now = int(time.time()) // 60 * 60
    with tempfile.TemporaryDirectory(prefix="bench-pg.") as tmp:
        d = pathlib.Path(tmp)
        os.chmod(d, 0o755)
        cluster = d / "cluster"
        subprocess.run(["sh", str(CLUSTER), "start", cluster], check=True, capture_output=True, text=True)
        try:
            print(f"webhook reminders to nginx (204) on loopback, {N} due at once; medians of {RUNS} runs")
            rates = throughput(str(cluster), d, now)
            base = rates["1 daemon, SQLite"]
            print(f"\n{'daemons':<28} {'deliveries/s':>13} {'vs SQLite':>10}")
            for k, v in rates.items():
                print(f"{k:<28} {v:>13.0f} {v / base:>9.2f}x")
            print(f"\nfinding what is due (outbox_next_wakeup(), µs a call over 2,000 calls); medians of {RUNS} runs")
            print(f"{'tasks':>9} {'backend':<11} {'next due µs':>12}")
            scale(str(cluster), d, now)
        finally:
            subprocess.run(["sh", str(CLUSTER), "stop", cluster], capture_output=True)


if __name__ == "__main__":
    main()
