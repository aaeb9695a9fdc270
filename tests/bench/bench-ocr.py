#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make bench-ocr: how long `deadlinectl import` takes to read a scanned
directive, and how much memory it needs, against the tesseract program
alone on the same pages.

A 2-page and a 10-page scan at 300 dpi (grey) and at 150 dpi (binarised),
made from the project's directives by tools/make-scans.py, as image-only
PDFs. For each: `deadlinectl import --dry-run` (the OCR helper with a page
a CPU, tesseract single-threaded in each) and the helper with one page at
a time; beside them, in the same run, `tesseract PAGE - -l vie` on the same
page images one after another, single-threaded (OMP_THREAD_LIMIT=1) and
with its default OpenMP threads. Wall time, time per page and the peak
memory (the largest resident set of the process and its children, from
wait4), median of BENCH_OCR_RUNS runs (default 3). A figure, not a
pass/fail test."""

import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = pathlib.Path(sys.argv[1])
SOURCE = pathlib.Path(__file__).resolve().parents[2]
RUNS = int(os.environ.get("BENCH_OCR_RUNS", "3"))
CONFIG = SOURCE / "tests" / "data" / "config" / "sonha.conf"


def measure(argv, env=None):
    """Wall seconds and peak RSS in MiB of argv and its children."""
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        fd = os.open(os.devnull, os.O_RDWR)
        os.dup2(fd, 0), os.dup2(fd, 1), os.dup2(fd, 2)
        try:
            os.execve(argv[0], argv, env or os.environ)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    seconds = time.monotonic() - start
    if os.waitstatus_to_exitcode(status) not in (0, 65):
        sys.exit(f"bench-ocr: {argv} exited {os.waitstatus_to_exitcode(status)}")
    return seconds, usage.ru_maxrss / 1024


def sequence(argvs, env=None):
    """argvs one after another: total seconds, largest peak."""
    total, peak = 0.0, 0.0
    for argv in argvs:
        s, m = measure(argv, env)
        total, peak = total + s, max(peak, m)
    return total, peak


def median_of(fn):
    runs = [fn() for _ in range(RUNS)]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    try:
        names = ["congvan-518", "chithi-07", "chithi-12", "thongbao-356", "congvan-1045", "directive-2417"]
        subprocess.run(["/usr/bin/python3", str(SOURCE / "tools" / "make-scans.py"), "--no-ocr", "--build",
                        str(work), "--fixtures", str(SOURCE / "tests" / "data" / "directives"),
                        "--quality", "300", "--quality", "150", *names], check=True, stdout=subprocess.DEVNULL)
        conf = work / "bench.conf"
        # The sample province; its files are found beside the configuration.
        conf.write_text(CONFIG.read_text(encoding="utf-8").replace('"sonha.db"', '"bench.db"'), encoding="utf-8")
        for name, secret in [("smtp.secret", "x\n"), ("skhdt.hook.secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")]:
            (work / name).write_text(secret)
            (work / name).chmod(0o600)

        def pages(quality):
            out = []
            for n in names:
                out += sorted((work / n).glob(f"q{quality}-p*.png"), key=lambda p: int(p.stem.split("-p")[1]))
            return [str(p) for p in out]

        cpus = len(os.sched_getaffinity(0))
        env1 = dict(os.environ, OMP_THREAD_LIMIT="1")
        env_default = {k: v for k, v in os.environ.items() if k != "OMP_THREAD_LIMIT"}
        print(f"bench-ocr: {cpus} CPUs, median of {RUNS} runs; time per page = wall time / pages")
        print(f"{'scan':<16} {'reader':<44} {'wall s':>7} {'s/page':>7} {'peak MiB':>9}")
        for quality in ("300", "150"):
            for count in (2, 10):
                pngs = pages(quality)[:count]
                pdf = work / f"scan-{quality}-{count}.pdf"
                subprocess.run(["img2pdf", "-o", str(pdf), *pngs], check=True)
                label = f"{count} p @ {quality} dpi"
                rows = [
                    (f"deadlinectl import --dry-run ({cpus} at once)",
                     lambda: measure([str(BUILD / "deadlinectl"), "-c", str(conf), "import", "--dry-run",
                                      str(pdf)])),
                    ("deadlined-ocr --jobs 1",
                     lambda: measure([str(BUILD / "deadlined-ocr"), "--jobs", "1", str(pdf)])),
                    ("tesseract, a page at a time, 1 thread",
                     lambda: sequence([[shutil.which("tesseract"), p, "-", "-l", "vie"] for p in pngs], env1)),
                    ("tesseract, a page at a time, OpenMP",
                     lambda: sequence([[shutil.which("tesseract"), p, "-", "-l", "vie"] for p in pngs],
                                      env_default)),
                ]
                for what, fn in rows:
                    wall, peak = median_of(fn)
                    print(f"{label:<16} {what:<44} {wall:7.2f} {wall / count:7.2f} {peak:9.0f}", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
