#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make bench-webhook: N webhook reminders (10,000 by default) delivered by
the real daemon (`deadlined --once`, from its start to its exit, which is
after the last delivery is recorded) to a local nginx that answers 204; in
the same run, the ceiling (wrk posting the same request to the same server),
the daemon's HTTP path with none of its own work (its curl_event and
libcurl's multi interface, 4 connections, the request prebuilt), and the
baseline (one curl process per request). Each figure is the median of
BENCH_RUNS runs (3 by default). Then the latency from a slot's time to the
request reaching the receiver (nginx logs each arrival's time), p50 and
p99, with 100 and with BENCH_LATENCY_N (10,000) reminders due at the same
second, the daemon running on the real clock (p50 and p99 each the median
of BENCH_RUNS runs). Also where the cores go while the daemon and the
libcurl multi client send: each one's CPU time (user + system) over its
wall time, nginx's, and how busy the machine was (/proc/stat), which says
whether a second core is there for transfers on a thread of their own.
The daemon's and libcurl multi's runs take turns, round by round, and the
ratio is also given per round (its median and range): on a shared machine
the speed drifts from one second to the next, and a ratio of two runs side
by side drifts far less than the rates. BENCH_BASE=DIR also runs the
deadlined of another build (a baseline, in its own database made by its
own deadlinectl) in each round, for a before-and-after in one run.
Prints the figures side by side; a benchmark, not a test: nothing here
fails on a slow machine."""

import base64
import datetime
import os
import pathlib
import shutil
import statistics
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time

BUILD = pathlib.Path(sys.argv[1]).resolve()
N = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
CURL_LOOP = int(os.environ.get("BENCH_CURL_REQUESTS", "300"))
WRK_SECONDS = int(os.environ.get("BENCH_WRK_SECONDS", "5"))
RUNS = max(3, int(os.environ.get("BENCH_RUNS", "3")))
BASE = pathlib.Path(os.environ["BENCH_BASE"]).resolve() if os.environ.get("BENCH_BASE") else None
LATENCY_N = [100, int(os.environ.get("BENCH_LATENCY_N", "10000"))]
AGENCIES = [f"a{i:02d}" for i in range(10)]
HANOI = datetime.timezone(datetime.timedelta(hours=7))

NGINX_CONF = """daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 1024; }}
http {{
    log_format arrival '$msec';
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location = /hook {{ if ($request_method != POST) {{ return 405; }} return 204; }}
        location = /timed {{ access_log {d}/arrivals.log arrival; if ($request_method != POST) {{ return 405; }}
                             return 204; }}
        location = /fail {{ return 503; }}
    }}
}}
"""


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=10):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"nginx did not listen on {port}")


def start_nginx(d):
    nd = d / "nginx"
    nd.mkdir()
    port = free_port()
    conf = nd / "nginx.conf"
    conf.write_text(NGINX_CONF.format(d=nd, port=port))
    p = subprocess.Popen(["nginx", "-c", str(conf), "-p", str(nd)], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_port(port)
    return p, port


def write_config(d, url, secret_file):
    hooks = ",\n".join(f'  {{ id = "{a}"; name = "Cơ quan {a}"; webhook = {{ url = "{url}"; format = "json"; '
                       f'secret_file = "{secret_file}"; }}; }}' for a in AGENCIES)
    (d / "bench.conf").write_text(f"""database = "bench.db";
timezone = "Asia/Ho_Chi_Minh";
transport = "maildir:maildir";
base_url = "https://nhacviec.example.gov.vn";
schedule = {{ remind_before = ["3600s"]; overdue_every = "0s"; }};
delivery = {{ retry_min = "1m"; }};
agencies = (
{hooks}
);
""")
    return d / "bench.conf"


def make_db(d, conf, n, now, build=BUILD):
    """n open tasks whose "1 hour before" reminder falls due at `now`, in
    the schema of `build`'s deadlinectl."""
    subprocess.run([build / "deadlinectl", "-c", conf, "list"], check=True, capture_output=True)
    due_at = now + 3600
    due = datetime.datetime.fromtimestamp(due_at, HANOI).strftime("%Y-%m-%dT%H:%M")
    created = now - 86400
    con = sqlite3.connect(d / "bench.db")
    with con:
        con.executemany("INSERT INTO tasks (title, due, due_at, status, created_at, updated_at, next_fire_at,"
                        " fired_through) VALUES (?, ?, ?, 'open', ?4, ?4, ?4, ?4)",
                        [(f"Báo cáo kết quả thực hiện nhiệm vụ số {i}", due, due_at, created) for i in range(n)])
        con.execute("INSERT INTO task_agencies (task_id, agency, role, position) "
                    f"SELECT id, CASE id % {len(AGENCIES)} " +
                    " ".join(f"WHEN {k} THEN '{a}'" for k, a in enumerate(AGENCIES)) +
                    " END, 'lead', 0 FROM tasks")
    con.close()


def median_cores(runs):
    """Each of (own, receiver, machine) the median over the runs."""
    return tuple(statistics.median(r[k] for r in runs) for k in range(3))


def median(f, runs=RUNS):
    return statistics.median(f() for _ in range(runs))


def fresh_db(d):
    """The database as make_db() left it, for the next run."""
    for suffix in ("", "-wal", "-shm"):
        (d / f"bench.db{suffix}").unlink(missing_ok=True)
    shutil.copy(d / "pristine.db", d / "bench.db")


def percentile(values, q):
    v = sorted(values)
    return v[min(len(v) - 1, int(q * len(v)))]


def run_latency(d, nginx_dir, port, secret, n):
    """n reminders whose slot is T, a few seconds ahead; the daemon runs on
    the real clock (not --once) from before T. Latency: each request's
    arrival at nginx ($msec, when it is logged) minus T, in ms."""
    ld = d / f"latency-{n}"
    shutil.rmtree(ld, ignore_errors=True)
    ld.mkdir()
    conf = write_config(ld, f"http://127.0.0.1:{port}/timed", secret)
    log = nginx_dir / "arrivals.log"
    log.write_text("")
    t = int(time.time()) + 4
    make_db(ld, conf, n, t)
    while time.time() < t - 2:
        time.sleep(0.05)
    p = subprocess.Popen([BUILD / "deadlined", "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=open(ld / "daemon.log", "wb"))
    try:
        end = time.time() + 60 + n / 100
        while time.time() < end and log.read_text().count("\n") < n:
            time.sleep(0.1)
    finally:
        p.terminate()
        p.wait(30)
    arrivals = [float(x) for x in log.read_text().split()]
    if len(arrivals) < n:
        raise SystemExit(f"latency run: {len(arrivals)} of {n} requests arrived")
    lat = [(a - t) * 1000 for a in arrivals]
    return percentile(lat, 0.5), percentile(lat, 0.99)


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def machine_ticks():
    """All CPU ticks since boot, and the idle ones (idle + iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[3] + v[4]


def process_cpu(pids):
    """Seconds of CPU (user + system) the processes used so far."""
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def nginx_pids(master):
    """The nginx master and its workers."""
    pids = [master]
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    if int(f.read().rsplit(")", 1)[1].split()[1]) == master:
                        pids.append(int(entry))
            except (OSError, ValueError):
                pass
    return pids


def run_counted(argv, receiver, **kw):
    """Runs argv to its end; its wall time, maxrss, exit code and cores:
    its own CPU / wall, the receiver's, and the machine's busy share of its
    cores."""
    receiver_pids = nginx_pids(receiver)
    n0, (m0, i0), t0 = process_cpu(receiver_pids), machine_ticks(), time.monotonic()
    p = subprocess.Popen(argv, **kw)
    _, status, usage = os.wait4(p.pid, 0)
    elapsed = time.monotonic() - t0
    n1, (m1, i1) = process_cpu(receiver_pids), machine_ticks()
    cores = (os.cpu_count() or 1) * (1 - (i1 - i0) / max(1, m1 - m0))
    own = (usage.ru_utime + usage.ru_stime) / elapsed
    return elapsed, usage.ru_maxrss, os.waitstatus_to_exitcode(status), (own, (n1 - n0) / elapsed, cores)


def run_daemon(d, conf, now, receiver, build=BUILD):
    return run_counted([build / "deadlined", "-c", conf, "--once", "--now", f"@{now}"], receiver,
                       stdout=subprocess.DEVNULL, stderr=open(d / "daemon.log", "wb"))


def daemon_round(d, conf, now, receiver, build=BUILD):
    """One `deadlined --once` from the pristine database: (elapsed, maxrss,
    cores); every reminder must have gone."""
    fresh_db(d)
    elapsed, rss_kb, code, cores = run_daemon(d, conf, now, receiver, build)
    con = sqlite3.connect(d / "bench.db")
    sent = con.execute("SELECT count(*) FROM deliveries WHERE state = 'sent'").fetchone()[0]
    con.close()
    if code != 0 or sent != N:
        sys.stderr.write((d / "daemon.log").read_text()[-2000:])
        raise SystemExit(f"{build}/deadlined exited {code} with {sent} of {N} deliveries sent")
    return elapsed, rss_kb, cores


def spread(values):
    """The median and range of per-round figures, as text."""
    return f"{statistics.median(values):.2f}x (rounds {min(values):.2f}-{max(values):.2f})"


def sample_request(d, secret_file, now):
    """One request exactly as the daemon sends it, caught by a tiny sink."""
    import http.server
    import threading
    caught = {}

    class Sink(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def do_POST(self):
            caught["headers"] = [(k, v) for k, v in self.headers.items()
                                 if k.lower() not in ("host", "content-length", "accept", "user-agent")]
            caught["body"] = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

    srv = http.server.HTTPServer(("127.0.0.1", 0), Sink)
    threading.Thread(target=srv.handle_request, daemon=True).start()
    sd = d / "sample"
    sd.mkdir()
    sconf = write_config(sd, f"http://127.0.0.1:{srv.server_address[1]}/hook", secret_file)
    make_db(sd, sconf, 1, now)
    p = subprocess.run([BUILD / "deadlined", "-c", sconf, "--once", "--now", f"@{now}"], capture_output=True,
                       text=True, timeout=60)
    srv.server_close()
    if "body" not in caught:
        raise SystemExit(f"no sample request:\n{p.stderr}")
    return caught["headers"], caught["body"]


def lua_string(b):
    return '"' + "".join(f"\\{c}" for c in b) + '"'


def run_wrk(d, url, headers, body):
    lines = ['wrk.method = "POST"', f"wrk.body = {lua_string(body)}"]
    for k, v in headers:
        lines.append(f"wrk.headers[{lua_string(k.encode())}] = {lua_string(v.encode())}")
    (d / "post.lua").write_text("\n".join(lines) + "\n")
    p = subprocess.run(["wrk", "-t1", "-c50", f"-d{WRK_SECONDS}s", "-s", str(d / "post.lua"), url],
                       capture_output=True, text=True, check=True)
    for line in p.stdout.splitlines():
        if line.startswith("Requests/sec:"):
            return float(line.split()[1])
    raise SystemExit(f"cannot read wrk's output:\n{p.stdout}")


def run_curl_loop(d, url, headers, body, n):
    (d / "body").write_bytes(body)
    args = ["curl", "-s", "-o", "/dev/null", "-X", "POST", "--data-binary", f"@{d / 'body'}"]
    for k, v in headers:
        args += ["-H", f"{k}: {v}"]
    t0 = time.monotonic()
    for _ in range(n):
        subprocess.run(args + [url], check=True)
    return n / (time.monotonic() - t0)


def run_curl_multi(d, url, headers, body, n, conns, receiver):
    """The daemon's HTTP path alone: its curl_event driving libcurl's
    multi interface, the same request prebuilt, `conns` connections. Its
    rate, and its cores as run_counted() gives them."""
    (d / "multi-body").write_bytes(body)
    (d / "multi-headers").write_text("".join(f"{k}: {v}\n" for k, v in headers))
    out = d / "multi-out"
    with open(out, "w") as f:
        _, _, code, cores = run_counted([BUILD / "tests" / "bench-curl-multi", url, d / "multi-body",
                                         d / "multi-headers", str(n), str(conns)], receiver, stdout=f)
    if code != 0:
        raise SystemExit(f"bench-curl-multi exited {code}")
    v = dict(kv.split("=") for kv in out.read_text().split())
    return int(v["requests"]) / float(v["seconds"]), cores


def main():
    for tool in ("nginx", "wrk", "curl"):
        if not shutil.which(tool) and not os.path.exists(f"/usr/sbin/{tool}"):
            raise SystemExit(f"bench-webhook needs {tool} (Debian: nginx-light, wrk, curl)")
    now = int(time.time()) // 60 * 60
    with tempfile.TemporaryDirectory() as tmp:
        d = pathlib.Path(tmp)
        secret = d / "secret"
        secret.write_text("whsec_" + base64.b64encode(os.urandom(32)).decode() + "\n")
        secret.chmod(0o600)
        nginx, port = start_nginx(d)
        try:
            url = f"http://127.0.0.1:{port}/hook"
            conf = write_config(d, url, secret)
            headers, body = sample_request(d, secret, now)
            make_db(d, conf, N, now)
            shutil.copy(d / "bench.db", d / "pristine.db")
            if BASE:
                bd = d / "base"
                bd.mkdir()
                base_conf = write_config(bd, url, secret)
                make_db(bd, base_conf, N, now, BASE)
                shutil.copy(bd / "bench.db", bd / "pristine.db")
            # Round by round: this build, the baseline, libcurl multi.
            runs, base_runs, multis = [], [], []
            for _ in range(RUNS):
                runs.append(daemon_round(d, conf, now, nginx.pid))
                if BASE:
                    base_runs.append(daemon_round(bd, base_conf, now, nginx.pid, BASE))
                multis.append(run_curl_multi(d, url, headers, body, N, 4, nginx.pid))
            elapsed = statistics.median(e for e, _, _ in runs)
            rss_kb = max(r for _, r, _ in runs)
            daemon_cores = median_cores([c for _, _, c in runs])
            multi = statistics.median(m for m, _ in multis)
            round_ratios = [(N / e) / m for (e, _, _), (m, _) in zip(runs, multis)]
            base_ratios = [(N / e) / m for (e, _, _), (m, _) in zip(base_runs, multis)]
            new_over_base = [b / e for (e, _, _), (b, _, _) in zip(runs, base_runs)]
            wrk = median(lambda: run_wrk(d, url, headers, body))
            multi_cores = median_cores([c for _, c in multis])
            curl = median(lambda: run_curl_loop(d, url, headers, body, CURL_LOOP))
            # Each of p50 and p99 the median of RUNS runs.
            latency = []
            for n in LATENCY_N:
                runs = [run_latency(d, d / "nginx", port, secret, n) for _ in range(RUNS)]
                latency.append((n, (statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs))))
        finally:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)

    rate = N / elapsed
    print(f"webhook delivery to nginx (return 204) on loopback, {len(body)}-byte signed JSON body; "
          f"medians of {RUNS} runs\n")
    print(f"{'client':<44} {'req/s':>10} {'vs deadlined':>13}")
    print(f"{f'deadlined --once, {N} reminders':<44} {rate:>10.0f} {'1':>13}")
    print(f"{'wrk -t1 -c50 (ceiling)':<44} {wrk:>10.0f} {rate / wrk:>12.2f}x")
    print(f"{'libcurl multi alone, 4 connections':<44} {multi:>10.0f} {rate / multi:>12.2f}x")
    print(f"{f'curl process per request, {CURL_LOOP} (baseline)':<44} {curl:>10.0f} {rate / curl:>12.0f}x")
    if BASE:
        base_rate = N / statistics.median(e for e, _, _ in base_runs)
        print(f"{'deadlined --once, BENCH_BASE build':<44} {base_rate:>10.0f} {rate / base_rate:>12.2f}x")
    print(f"\ndeadlined: {elapsed:.2f} s from start to exit, peak RSS {rss_kb / 1024:.1f} MB")
    print(f"deadlined / libcurl multi alone: {rate / multi:.2f}x (target >= 0.5x: {'yes' if rate >= multi / 2 else 'NO'}); "
          f"per round: {spread(round_ratios)}")
    if BASE:
        print(f"BENCH_BASE's deadlined / libcurl multi alone, per round: {spread(base_ratios)}")
        print(f"this build / BENCH_BASE, per round: {spread(new_over_base)} ({BASE})")
    print(f"deadlined / (wrk / 4): {rate / (wrk / 4):.2f}x (target >= 1: {'yes' if rate >= wrk / 4 else 'NO'}, "
          f"{wrk / 4:.0f}/s); >= 100x the curl loop ({100 * curl:.0f}/s): {'yes' if rate >= 100 * curl else 'NO'}")
    ncpu = os.cpu_count() or 1
    print(f"\ncores in use while sending (CPU time / wall time; medians of {RUNS} runs; the machine has {ncpu}):")
    print(f"{'':<28} {'itself':>7} {'nginx':>7} {'machine':>8}")
    for name, (own, receiver, machine) in (("deadlined --once", daemon_cores),
                                           ("libcurl multi alone", multi_cores)):
        print(f"{name:<28} {own:>7.2f} {receiver:>7.2f} {machine:>8.2f}")
    print(f"idle while deadlined sends: {ncpu - daemon_cores[2]:.2f} of {ncpu} cores")
    print(f"\nlatency from the slot's time to the request at the receiver (deadlined on the real clock; "
          f"medians of {RUNS} runs):")
    for n, (p50, p99) in latency:
        print(f"  {n:>6} due at once: p50 {p50:8.1f} ms   p99 {p99:8.1f} ms")


if __name__ == "__main__":
    main()
