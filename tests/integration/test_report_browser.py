# SPDX-License-Identifier: GPL-2.0-or-later
"""The HTML compliance report as a person gets it on paper: printed on A4
by headless Chromium, its figures read back from the PDF with pdftotext.
A screenshot and the PDF are kept under the build folder for a person to
look at. Run by `make check-browser`."""

import os
import re
import shutil
import subprocess

import pytest

from conftest import BUILD
from test_report import NOW, build_fixture

pytestmark = pytest.mark.browser


def chromium(tmp, url, *args):
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "chromium is not installed (make browser-test-deps)"
    cmd = [exe, "--headless", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
           f"--user-data-dir={tmp / 'chromium'}", *args, url]
    # Chromium's sandbox cannot run as root; it is kept for everyone else.
    if os.geteuid() == 0:
        cmd.insert(1, "--no-sandbox")
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=180, env=dict(os.environ, HOME=str(tmp)))
    assert p.returncode == 0, p.stderr


def print_pdf(env, html, pdf):
    chromium(env.path, html.as_uri(), "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    info = subprocess.run(["pdfinfo", pdf], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    return info, pages


def text_of(pdf, page=None):
    args = ["pdftotext", "-layout"] + (["-f", str(page), "-l", str(page)] if page else []) + [str(pdf), "-"]
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def test_printed_report_shows_the_figures_on_a4(env):
    build_fixture(env)
    html = env.path / "report.html"
    env.ctl("--now", NOW, "report", "--period", "2025-Q2", "--format", "html", "--output", html, check=True)
    pdf = BUILD / "report.pdf"
    info, pages = print_pdf(env, html, pdf)
    assert re.search(r"Page size:\s+595\.\d+ x 841\.\d+ pts \(A4\)|Page size:\s+.*\(A4\)", info), info
    assert pages == 1
    text = text_of(pdf)
    assert "Báo cáo tình hình thực hiện nhiệm vụ" in text
    assert "Kỳ báo cáo: từ ngày 01/04/2025 đến ngày 30/06/2025" in text
    rows = [" ".join(line.split()) for line in text.splitlines()]
    # Rank, agency, the four counts, total, on-time rate, extensions, average days late.
    assert "1 Sở Xây dựng 1 1 1 0 3 50,0 0 2,0" in rows
    assert "2 Sở Tài chính 1 1 1 1 4 33,3 1 12,5" in rows
    assert "3 Sở Kế hoạch và Đầu tư 0 0 2 1 3 0,0 0 12,0" in rows
    assert "2417/UBND-KTTH 1 1 0 0 2 50,0 1 3,0" in rows
    assert "Tổng cộng 2 2 3 2 9 33,3 1 9,8" in rows

    shot = BUILD / "report-screenshot.png"
    shot.unlink(missing_ok=True)
    chromium(env.path, html.as_uri(), "--window-size=1000,900", f"--screenshot={shot}")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_table_headers_repeat_on_every_printed_page(env):
    for i in range(1, 91):
        env.ctl("--now", "2025-04-01T09:00", "add", f"Nhiệm vụ {i}", "--agency", "stc", "--due", "2025-05-30",
                "--document", f"{i:03d}/UBND-VX", check=True)
    html = env.path / "long.html"
    env.ctl("--now", NOW, "report", "--period", "2025-Q2", "--format", "html", "--output", html, check=True)
    pdf = env.path / "long.pdf"
    _, pages = print_pdf(env, html, pdf)
    assert pages >= 3
    for page in range(2, pages + 1):
        t = text_of(pdf, page)
        assert "Văn bản" in t and "đúng hạn" in t, f"page {page} has no table header:\n{t}"
    assert "090/UBND-VX 0 0 0 1 1 0,0 0 2,0" in [" ".join(l.split()) for l in text_of(pdf).splitlines()]
