#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make profile-webhook: where a webhook delivery's CPU goes, counted in
instructions rather than timed, so that the figures hold on a loaded or
virtual machine without hardware counters. The bench-webhook workload
(signed JSON reminders, 10 receivers, a local nginx answering 204) is run
by `deadlined --once` under callgrind twice, with N1 and N2 reminders; the
difference divided by N2 - N1 is the cost of one delivery, start-up left
out. Prints user-space instructions per delivery, whole and by part, and
leaves the callgrind files for callgrind_annotate (PROFILE_KEEP=DIR).
Kernel time is not counted here: `perf record -e cpu-clock -g` on the same
workload gives that share."""

import base64
import importlib.util
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BUILD = pathlib.Path(sys.argv[1]).resolve()
N1, N2 = (int(x) for x in (sys.argv[2:4] if len(sys.argv) > 3 else ("200", "2000")))
HERE = pathlib.Path(__file__).resolve().parent

spec = importlib.util.spec_from_file_location("bench_webhook", HERE / "bench-webhook.py")
bw = importlib.util.module_from_spec(spec)
sys.argv = [sys.argv[0], str(BUILD)]
spec.loader.exec_module(bw)

# (label, callgrind function names whose inclusive counts are added,
#  names whose counts are taken off)
PARTS = [
    ("whole run", ["PROGRAM TOTALS"], []),
    ("decide: deliveries from due tasks", ["outbox.c:outbox_decide_some"], []),
    ("claim: due rows and their tasks read", ["outbox.c:outbox_claim"], ["webhook.c:compose_webhook"]),
    ("compose: all of it", ["webhook.c:compose_webhook"], []),
    ("  the message's text (render_message)", ["render.c:render_message"], []),
    ("  the JSON payload, built and written", ["webhook-format.c:webhook_format_json"], []),
    ("signing, once, as the request leaves", ["webhook-secret.c:webhook_sign", "webhook-secret.c:webhook_key_sign"],
     []),
    ("curl and curl_event", ["curl-event.c:run_timeouts", "curl-event.c:on_io", "curl-event.c:on_defer"],
     ["dispatch.c:on_webhook_finished"]),
    ("settle: results recorded", ["manager.c:manager_settle"], []),
    ("SQLite statements (in all of the above)", ["sqlite3_step"], []),
]


def inclusive(path):
    out = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", str(path)],
                         capture_output=True, text=True, check=True).stdout
    d = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([^)]*\)\s+(\S.*)", line)
        if m:
            d.setdefault(m.group(2), int(m.group(1).replace(",", "")))
    return d


def lookup(d, name):
    for k, v in d.items():
        if k == name or name in k.split(" [")[0]:
            return v
    return 0


def run(d, n, now, port, secret):
    w = d / f"n{n}"
    w.mkdir()
    conf = bw.write_config(w, f"http://127.0.0.1:{port}/hook", secret)
    bw.make_db(w, conf, n, now)
    out = w / "callgrind.out"
    p = subprocess.run(["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", BUILD / "deadlined",
                        "-c", conf, "--once", "--now", f"@{now}"], cwd=w, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"deadlined under callgrind exited {p.returncode}:\n{p.stderr[-2000:]}")
    return inclusive(out)


def main():
    for tool in ("valgrind", "callgrind_annotate"):
        if not shutil.which(tool):
            raise SystemExit(f"profile-webhook needs {tool} (Debian: valgrind)")
    now = int(time.time()) // 60 * 60
    keep = os.environ.get("PROFILE_KEEP")
    tmp = tempfile.mkdtemp()
    d = pathlib.Path(tmp)
    try:
        secret = d / "secret"
        secret.write_text("whsec_" + base64.b64encode(os.urandom(32)).decode() + "\n")
        secret.chmod(0o600)
        nginx, port = bw.start_nginx(d)
        try:
            a = run(d, N1, now, port, secret)
            b = run(d, N2, now, port, secret)
        finally:
            nginx.send_signal(signal.SIGQUIT)
            nginx.wait(10)
        print(f"user-space instructions per webhook delivery (callgrind, ({N2} - {N1} reminders) / {N2 - N1})\n")
        for label, plus, minus in PARTS:
            v = sum(lookup(b, k) - lookup(a, k) for k in plus) - sum(lookup(b, k) - lookup(a, k) for k in minus)
            print(f"  {label:48} {v / (N2 - N1) / 1000:8.1f}k")
        print("\nthe parts overlap where noted and leave out the event loop's own; batching varies from run "
              "to run,\nso claim, curl and the whole move by a few percent; the compose figures do not")
    finally:
        if keep:
            shutil.rmtree(keep, ignore_errors=True)
            shutil.copytree(d, keep, ignore=shutil.ignore_patterns("nginx"))
            print(f"\ncallgrind files: {keep}/n*/callgrind.out")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
