#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make bench-smtp: how fast the real daemon hands reminders to an SMTP
server, against what the server can take and what one curl process per
message manages.

2,000 reminders (distinct tasks, each with a lead and a cooperating agency
among 50, so two recipients per message) are all due in one database.
`deadlined --once` sends them to Postfix's smtp-sink on loopback; the time
runs from its start to its exit, which follows the last delivery recorded
in the database. In the same run: the ceiling (smtp-source into the same
sink, the same message, as many sessions as deadlined has connections, and
20) and the baseline (a loop of one curl process per message). The
daemon's and smtp-source's runs take turns, round by round, and the share
of the ceiling is also given per round (its median and range): on a shared
machine the speed drifts, and a ratio of runs side by side drifts less.
BENCH_BASE=DIR also runs the deadlined of another build (a baseline, in a
database made by its own deadlinectl) in each round, for a before-and-after
in one run. A figure, not a pass/fail test."""

import datetime
import os
import pathlib
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = pathlib.Path(sys.argv[1])
MESSAGES = int(os.environ.get("BENCH_SMTP_MESSAGES", "2000"))
CURL_MESSAGES = int(os.environ.get("BENCH_SMTP_CURL_MESSAGES", "300"))
CONNECTIONS = int(os.environ.get("BENCH_SMTP_CONNECTIONS", "4"))
SOURCE_MESSAGES = int(os.environ.get("BENCH_SMTP_SOURCE_MESSAGES", "20000"))
RUNS = max(3, int(os.environ.get("BENCH_RUNS", "3")))
BASE = pathlib.Path(os.environ["BENCH_BASE"]).resolve() if os.environ.get("BENCH_BASE") else None
N_AGENCIES = 50
HANOI = datetime.timezone(datetime.timedelta(hours=7))
NOW = "2025-05-13T09:00"
CREATED = datetime.datetime(2025, 5, 12, 9, 0, tzinfo=HANOI)
DUE = datetime.date(2025, 5, 20)          # the 7-day reminder falls on 2025-05-13 08:00
SINK = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
SOURCE = shutil.which("smtp-source") or "/usr/sbin/smtp-source"
CURL = shutil.which("curl") or "/usr/bin/curl"
AGENCIES = [f"a{i:02d}" for i in range(N_AGENCIES)]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink(port):
    args = [SINK]
    if os.getuid() == 0:
        args += ["-u", "nobody"]
    p = subprocess.Popen(args + [f"127.0.0.1:{port}", "1024"], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            return p
        except OSError:
            time.sleep(0.02)
    raise SystemExit("smtp-sink did not start")


def write_config(d, transport):
    agencies = ",\n".join(f'  {{ id = "{a}"; name = "Sở số {a[1:]} tỉnh Sơn Hà"; email = ["{a}@sonha.gov.vn"]; }}'
                          for a in AGENCIES)
    (d / "bench.conf").write_text(
        f'database = "bench.db";\ntimezone = "Asia/Ho_Chi_Minh";\nlanguage = "vi";\n{transport}\n'
        'schedule = { remind_before = ["7d"]; overdue_every = "0"; send_at = "08:00"; digest = false; };\n'
        f"agencies = (\n{agencies}\n);\n", encoding="utf-8")
    return d / "bench.conf"


def make_db(conf, n, build=BUILD):
    subprocess.run([build / "deadlinectl", "-c", conf, "list"], check=True, capture_output=True)
    created = int(CREATED.timestamp())
    due_at = int(datetime.datetime.combine(DUE, datetime.time(23, 59, 59), HANOI).timestamp())
    con = sqlite3.connect(conf.parent / "bench.db")
    with con:
        for i in range(n):
            cur = con.execute(
                "INSERT INTO tasks (ref, title, detail, due, due_at, status, created_at, updated_at, next_fire_at,"
                " fired_through) VALUES (?, ?, ?, ?, ?, 'open', ?6, ?6, ?6, ?6)",
                (f"{i // 10 + 1}.{i % 10}", f"Báo cáo tiến độ thực hiện nhiệm vụ số {i} về chuyển đổi số",
                 "Tổng hợp kết quả, khó khăn, vướng mắc và đề xuất giải pháp; gửi Văn phòng UBND tỉnh.",
                 DUE.isoformat(), due_at, created))
            con.execute("INSERT INTO task_agencies (task_id, agency, role, position) VALUES (?, ?, 'lead', 0)",
                        (cur.lastrowid, AGENCIES[i % N_AGENCIES]))
            con.execute("INSERT INTO task_agencies (task_id, agency, role, position) VALUES (?, ?, 'support', 1)",
                        (cur.lastrowid, AGENCIES[(i + 7) % N_AGENCIES]))
    con.close()


def run_daemon(conf, build=BUILD):
    t0 = time.monotonic()
    p = subprocess.Popen([build / "deadlined", "-c", conf, "--once", "--now", NOW], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
    err = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss, p.returncode, err


def sample_message(work):
    """One reminder as deadlined writes it, through the maildir transport."""
    d = work / "sample"
    d.mkdir()
    conf = write_config(d, 'transport = "maildir:maildir";\nfrom = "Nhắc việc <nhacviec@sonha.gov.vn>";')
    make_db(conf, 1)
    _, _, rc, err = run_daemon(conf)
    if rc != 0:
        raise SystemExit(f"sample run failed: {err}")
    (f,) = (d / "maildir" / "new").iterdir()
    return f


def daemon_round(conf, build=BUILD):
    """One `deadlined --once` from the pristine database: (elapsed, maxrss,
    stderr); every reminder must have gone to both recipients."""
    d = conf.parent
    for suffix in ("", "-wal", "-shm"):
        (d / f"bench.db{suffix}").unlink(missing_ok=True)
    shutil.copy(d / "pristine.db", d / "bench.db")
    elapsed, rss_kb, rc, err = run_daemon(conf, build)
    con = sqlite3.connect(d / "bench.db")
    sent = dict(con.execute("SELECT state, count(*) FROM deliveries GROUP BY state").fetchall())
    con.close()
    if rc != 0 or sent.get("sent") != 2 * MESSAGES:
        print(err[-2000:], file=sys.stderr)
        raise SystemExit(f"{build}/deadlined exited {rc}; deliveries: {sent}")
    return elapsed, rss_kb, err


def spread(values, unit="%"):
    """The median and range of per-round figures, as text: shares in per
    cent, ratios ("x") as they are."""
    scale, digits = (100, 1) if unit == "%" else (1, 2)
    return (f"{scale * statistics.median(values):.{digits}f}{unit} "
            f"(rounds {scale * min(values):.{digits}f}-{scale * max(values):.{digits}f})")


def smtp_source(port, message, count, sessions):
    t0 = time.monotonic()
    subprocess.run([SOURCE, "-s", str(sessions), "-d", "-m", str(count), "-r", "2", "-F", message,
                    "-f", "nhacviec@sonha.gov.vn", "-t", "a00@sonha.gov.vn", f"127.0.0.1:{port}"], check=True,
                   stdout=subprocess.DEVNULL)
    return count / (time.monotonic() - t0)


def curl_loop(port, message, count):
    t0 = time.monotonic()
    for _ in range(count):
        subprocess.run([CURL, "-sS", "--url", f"smtp://127.0.0.1:{port}", "--mail-from", "nhacviec@sonha.gov.vn",
                        "--mail-rcpt", "a00@sonha.gov.vn", "--mail-rcpt", "a07@sonha.gov.vn",
                        "--upload-file", message], check=True, stdout=subprocess.DEVNULL)
    return count / (time.monotonic() - t0)


def main():
    for exe in (SINK, SOURCE):
        if not os.access(exe, os.X_OK):
            raise SystemExit(f"{exe} is missing: install postfix (see mk/bench-smtp.mk)")
    with tempfile.TemporaryDirectory(prefix="bench-smtp.") as tmp:
        work = pathlib.Path(tmp)
        os.chmod(work, 0o755)
        port = free_port()
        sink = start_sink(port)
        try:
            message = sample_message(work)
            size = message.stat().st_size

            d = work / "daemon"
            d.mkdir()
            smtp = (f'smtp = {{ url = "smtp://127.0.0.1:{port}"; allow_plaintext = true; '
                    f'from = "Nhắc việc <nhacviec@sonha.gov.vn>"; max_connections = {CONNECTIONS}; }};')
            conf = write_config(d, smtp)
            make_db(conf, MESSAGES)
            shutil.copy(d / "bench.db", d / "pristine.db")
            if BASE:
                bd = work / "base"
                bd.mkdir()
                base_conf = write_config(bd, smtp)
                make_db(base_conf, MESSAGES, BASE)
                shutil.copy(bd / "bench.db", bd / "pristine.db")
            # Round by round: this build, the baseline, the two ceilings.
            rates, base_rates, sames, twenties = [], [], [], []
            for _ in range(RUNS):
                elapsed, rss_kb, err = daemon_round(conf)
                rates.append(MESSAGES / elapsed)
                if BASE:
                    base_rates.append(MESSAGES / daemon_round(base_conf, BASE)[0])
                sames.append(smtp_source(port, message, SOURCE_MESSAGES, CONNECTIONS))
                twenties.append(smtp_source(port, message, SOURCE_MESSAGES, 20))
            summary = [line for line in err.splitlines() if "messages sent over" in line]
            daemon_rate = statistics.median(rates)
            source_same = statistics.median(sames)
            source_20 = statistics.median(twenties)
            round_shares = [r / max(a, b) for r, a, b in zip(rates, sames, twenties)]
            base_shares = [r / max(a, b) for r, a, b in zip(base_rates, sames, twenties)]
            new_over_base = [r / b for r, b in zip(rates, base_rates)]
            curl_rate = statistics.median(curl_loop(port, message, CURL_MESSAGES) for _ in range(RUNS))
        finally:
            sink.terminate()
            sink.wait()

    ceiling = max(source_same, source_20)
    print(f"\nbench-smtp: {MESSAGES} reminders (distinct tasks, {N_AGENCIES} agencies, 2 recipients each, "
          f"{size} bytes) to smtp-sink on loopback\n")
    print(f"  {'client':56} {'msg/s':>9}")
    print(f"  {'deadlined --once (' + str(CONNECTIONS) + ' connections), start to exit':56} {daemon_rate:9.0f}"
          f"   {elapsed:.2f} s, peak RSS {rss_kb / 1024:.1f} MiB")
    print(f"  {'smtp-source -s ' + str(CONNECTIONS) + ' -d (ceiling, same sessions)':56} {source_same:9.0f}")
    print(f"  {'smtp-source -s 20 -d (ceiling)':56} {source_20:9.0f}")
    print(f"  {'one curl process per message (' + str(CURL_MESSAGES) + ' messages)':56} {curl_rate:9.0f}")
    if BASE:
        print(f"  {'deadlined --once, BENCH_BASE build':56} {statistics.median(base_rates):9.0f}")
    print()
    print(f"  deadlined / curl loop:   {daemon_rate / curl_rate:6.1f}x   (target >= 20x)")
    print(f"  deadlined / smtp-source: {100 * daemon_rate / ceiling:6.1f}%   (target >= 80%, of the better ceiling); "
          f"per round: {spread(round_shares)}")
    if BASE:
        print(f"  BENCH_BASE's deadlined / smtp-source, per round: {spread(base_shares)}")
        print(f"  this build / BENCH_BASE, per round: {spread(new_over_base, 'x')} ({BASE})")
    print(f"  (medians of {RUNS} runs each)")
    for line in summary:
        print("  " + line.lstrip("<0123456789>"))


if __name__ == "__main__":
    main()
