# SPDX-License-Identifier: GPL-2.0-or-later
"""deadlinectl import of a PDF or an image: what is refused, and how. Each
bad file gets one line naming it and what is wrong, a sysexits code, a
bounded time and memory, and the database is left as it was. These need
the OCR helper but no OCR model (except the one test that says so) and no
real scan: the files are made by scanfiles.py. The real scans are read in
test_ocr.py (`make check-ocr`)."""

import os
import subprocess

import pytest

from conftest import BUILD, DEADLINECTL, SANITIZE, SOURCE
import scanfiles

HELPER = BUILD / "deadlined-ocr"


def run(env, *args, stdin=None, extra_env=None, timeout=60):
    cmd = [str(DEADLINECTL), "-c", str(env.config), *map(str, args)]
    e = dict(os.environ, **(extra_env or {}))
    p = subprocess.run(cmd, stdin=stdin or subprocess.DEVNULL, capture_output=True, env=e, text=True,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def peak_mib(env, *args):
    """Exit code, and the peak memory of deadlinectl and its helper in MiB
    (wait4's rusage covers the children it waited for)."""
    cmd = [str(DEADLINECTL), "-c", str(env.config), *map(str, args)]
    pid = os.fork()
    if pid == 0:
        try:
            fd = os.open(os.devnull, os.O_RDWR)
            os.dup2(fd, 0), os.dup2(fd, 1), os.dup2(fd, 2)
            os.execv(cmd[0], cmd)
        finally:
            os._exit(127)
    _, status, usage = os.wait4(pid, 0)
    return os.waitstatus_to_exitcode(status), usage.ru_maxrss / 1024


def refused(env, path, code, *words, args=(), **kw):
    rc, out, err = run(env, "import", "--dry-run", *args, path, **kw)
    assert rc == code, err
    lines = err.strip().split("\n")
    assert len(lines) == 1, err
    assert lines[0].startswith(f"deadlinectl: import: {path}: "), err
    for w in words:
        assert w in lines[0], err
    return lines[0]


def untouched(env):
    p = env.ctl("--json", "list", "--all", check=True)
    assert p.stdout.strip() == "[]"


def test_random_binary_named_pdf(env, tmp_path):
    f = tmp_path / "scan.pdf"
    f.write_bytes(os.urandom(5000).replace(b"%PDF", b"%pdf"))
    refused(env, f, 65, "not a PDF file")
    untouched(env)


def test_empty_png(env, tmp_path):
    f = tmp_path / "page.png"
    f.write_bytes(b"")
    refused(env, f, 65, "an empty file, not a PNG")


def test_20000_pixel_square_is_refused_from_its_header(env, tmp_path):
    f = tmp_path / "huge.png"
    f.write_bytes(scanfiles.png(20000, 20000))
    refused(env, f, 65, "page 1: 20000 × 20000 pixels", "--max-pixels")
    # Decoded, it would take 400 MB (8-bit grey): it is refused before.
    rc, peak = peak_mib(env, "import", "--dry-run", f)
    assert rc == 65 and peak < 200, peak
    untouched(env)


def test_pdf_image_too_large_is_refused_before_it_is_decoded(env, tmp_path):
    f = tmp_path / "bomb.pdf"
    f.write_bytes(scanfiles.pdf_with_image(20000, 20000))
    refused(env, f, 65, "an image of 20000 × 20000 pixels, more than a page may have")
    rc, peak = peak_mib(env, "import", "--dry-run", f)
    assert rc == 65 and peak < 200, peak


@pytest.mark.skipif(SANITIZE, reason="the helper limits its memory only outside AddressSanitizer")
def test_pdf_image_of_unknown_size_stays_within_the_helpers_memory(env, tmp_path):
    """Decoded, this image takes 1.6 GB; the helper's address space is
    limited (768 MiB and 768 MiB a page at once), so poppler gives up on it
    and the page reads empty."""
    f = tmp_path / "bomb.pdf"
    f.write_bytes(scanfiles.pdf_with_image(20000, 20000, width_by_reference=True))
    rc, peak = peak_mib(env, "import", "--dry-run", f)
    assert rc == 65 and peak < 1600, peak


def test_pixel_limit_is_settable(env, tmp_path):
    f = tmp_path / "small.png"
    f.write_bytes(scanfiles.png(400, 300, dpi=300))
    refused(env, f, 65, "page 1: 400 × 300 pixels", "(100000;", args=("--max-pixels", "100000"))


def test_pdf_page_too_large_to_render(env, tmp_path):
    # 200 × 200 inches: 60,000 pixels a side at 300 dpi.
    f = tmp_path / "poster.pdf"
    f.write_bytes(scanfiles.pdf(1, 14400, 14400))
    refused(env, f, 65, "page 1: 60000 × 60000 pixels")


def test_pdf_of_5000_pages(env, tmp_path):
    f = tmp_path / "long.pdf"
    f.write_bytes(scanfiles.pdf(5000))
    refused(env, f, 65, "5000 pages, more than an import reads (at most 200; see --max-pages)")
    rc, peak = peak_mib(env, "import", "--dry-run", f)
    assert rc == 65 and peak < 200, peak
    refused(env, f, 65, "(at most 4999;", args=("--max-pages", "4999"))
    untouched(env)


def test_scan_on_standard_input_is_told_by_its_content(env, tmp_path):
    f = tmp_path / "long.pdf"
    f.write_bytes(scanfiles.pdf(300))
    with open(f, "rb") as fh:
        rc, out, err = run(env, "import", "--dry-run", "-", stdin=fh)
    assert rc == 65 and err.strip() == ("deadlinectl: import: -: 300 pages, more than an import reads "
                                        "(at most 200; see --max-pages)"), err


def test_damaged_pdf(env, tmp_path):
    f = tmp_path / "damaged.pdf"
    f.write_bytes(b"%PDF-1.4\n" + os.urandom(3000))
    refused(env, f, 65, "not a readable PDF")


def test_truncated_png(env, tmp_path):
    f = tmp_path / "cut.png"
    f.write_bytes(scanfiles.png(2000, 2000, grey=0)[:600])
    refused(env, f, 65, "the PNG image is damaged")


def test_bad_options(env, tmp_path):
    f = tmp_path / "a.pdf"
    f.write_bytes(scanfiles.pdf(1))
    for args, words in [(("--max-pages", "0"), "--max-pages: \"0\" is not a number from 1 to 100000"),
                        (("--max-pixels", "-5"), "--max-pixels: \"-5\""),
                        (("--ocr-language", "../vie"), "--ocr-language: \"../vie\" is not a tesseract model name")]:
        rc, out, err = run(env, "import", "--dry-run", *args, f)
        assert rc == 64 and words in err and err.count("\n") == 1, err
    text = SOURCE / "tests" / "data" / "directives" / "directive-2417.txt"
    rc, out, err = run(env, "import", "--dry-run", "--ocr-text", tmp_path / "o.txt", text)
    assert rc == 64 and "is not a scan" in err, err
    assert not (tmp_path / "o.txt").exists()


def test_helper_not_installed_names_the_package(env, tmp_path):
    f = tmp_path / "a.pdf"
    f.write_bytes(scanfiles.pdf(1))
    refused(env, f, 69, "needs the OCR helper", "install the package deadlined-ocr",
            extra_env={"DEADLINECTL_OCR_HELPER": str(tmp_path / "no-such-helper")})


def test_model_not_installed_names_the_package(env, tmp_path):
    f = tmp_path / "page.png"
    f.write_bytes(scanfiles.png(600, 800, dpi=100))
    empty = tmp_path / "tessdata"
    empty.mkdir()
    refused(env, f, 69, "the OCR model \"vie\" is not installed (install tesseract-ocr-vie)",
            extra_env={"TESSDATA_PREFIX": str(empty)})


def test_a_helper_that_dies_is_reported_not_shared(env, tmp_path):
    """A decoder that crashes on a hostile file takes the helper down,
    never deadlinectl: one line, exit 70, what the helper said last."""
    helper = tmp_path / "crashing-helper"
    helper.write_text("#!/bin/sh\necho 'poppler: Syntax Error: something deep' >&2\nkill -SEGV $$\n")
    helper.chmod(0o755)
    f = tmp_path / "a.pdf"
    f.write_bytes(scanfiles.pdf(1))
    refused(env, f, 70, "the OCR helper died of signal 11", "it said: poppler: Syntax Error: something deep",
                   extra_env={"DEADLINECTL_OCR_HELPER": str(helper)})
    untouched(env)


def test_helper_by_itself(tmp_path):
    """deadlined-ocr run by hand: usage errors, and its own one-line error."""
    p = subprocess.run([str(HELPER), "--jobs", "0", "x"], capture_output=True, text=True)
    assert p.returncode == 64 and "--jobs: \"0\" is not a number from 1 to 256" in p.stderr
    f = tmp_path / "long.pdf"
    f.write_bytes(scanfiles.pdf(3))
    p = subprocess.run([str(HELPER), "--max-pages", "2", str(f)], capture_output=True, text=True)
    assert p.returncode == 65 and p.stdout == ""
    assert p.stderr == f"deadlined-ocr: {f}: 3 pages, more than an import reads (at most 2; see --max-pages)\n"
    p = subprocess.run([str(HELPER), "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("deadlined-ocr ")


def test_deadlined_and_deadlinectl_do_not_load_the_ocr_libraries():
    for prog in ("deadlined", "deadlinectl"):
        p = subprocess.run(["ldd", str(BUILD / prog)], capture_output=True, text=True, check=True)
        for lib in ("libtesseract", "libpoppler", "liblept", "libcairo"):
            assert lib not in p.stdout, (prog, lib)
    p = subprocess.run(["ldd", str(HELPER)], capture_output=True, text=True, check=True)
    assert "libtesseract" in p.stdout and "libpoppler-glib" in p.stdout
