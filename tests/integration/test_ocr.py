# SPDX-License-Identifier: GPL-2.0-or-later
"""deadlinectl import of real scans, read by tesseract through the OCR
helper: `make check-ocr`, not `make check` (a few minutes of OCR).

The scans are made here, from the project's own directives, by the scan
generator (tools/make-scans.py --no-ocr: typeset on A4, degraded to 300,
200 and 150 dpi, one image-only PDF per quality); the targets: at 300 and
200 dpi the same tasks as the clean text (reference, deadline, lead and
cooperating agencies), at 150 dpi at least 90 % of deadlines and leads.
Needs tesseract-ocr-vie/-osd (make deps) and, for making and turning the
scans, python3-pil, fonts-dejavu-core, img2pdf, imagemagick, qpdf and
tesseract-ocr-eng (make check-ocr installs them)."""

import json
import os
import pathlib
import pty
import select
import shutil
import subprocess
import time

import pytest

from conftest import BUILD, DEADLINECTL, SOURCE

pytestmark = pytest.mark.ocr

DATA = SOURCE / "tests" / "data" / "directives"
SONHA = SOURCE / "tests" / "data" / "config" / "sonha.conf"
NAMES = ["chithi-07", "chithi-12", "congvan-1045", "congvan-518", "directive-2417", "thongbao-356"]
QUALITIES = ["300", "200", "150"]
NOW = "2025-04-09T09:00"
# OCR of a multi-page scan takes seconds a page; on a loaded machine more.
TIMEOUT = 600


@pytest.fixture(scope="session")
def scans(tmp_path_factory):
    """build/NAME-qQ.pdf and build/NAME/qQ-pN.png for every directive."""
    out = tmp_path_factory.mktemp("scans")
    gen = [str(SOURCE / "tools" / "make-scans.py"), "--no-ocr", "--build", str(out), "--fixtures", str(DATA)]
    gen += [a for q in QUALITIES for a in ("--quality", q)]
    # Two generators, one a core.
    procs = [subprocess.Popen(["/usr/bin/python3", *gen, *NAMES[i::2]], stdout=subprocess.DEVNULL)
             for i in range(2)]
    for p in procs:
        assert p.wait(timeout=TIMEOUT) == 0
    return out


@pytest.fixture
def sonha(env):
    text = SONHA.read_text(encoding="utf-8").replace('database = "sonha.db";', 'database = "deadlined.db";')
    env.config.write_text(text, encoding="utf-8")
    for name, secret in [("smtp.secret", "x\n"), ("skhdt.hook.secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n")]:
        f = env.path / name
        f.write_text(secret, encoding="utf-8")
        f.chmod(0o600)
    return env


def ctl(env, *args, timeout=TIMEOUT):
    return subprocess.run([str(DEADLINECTL), "-c", str(env.config), "--now", NOW, *map(str, args)],
                          capture_output=True, text=True, timeout=timeout)


def dry_run(env, path, *args):
    p = ctl(env, "--json", "import", "--dry-run", *args, path)
    # 65: a general item without a lead blocks the import, as for the text
    assert p.returncode in (0, 65), p.stderr
    return p.returncode, json.loads(p.stdout)


def tasks(d):
    return [(t["ref"], t["due"], t["lead"], sorted(t["support"])) for t in d["tasks"]]


@pytest.fixture(scope="session")
def clean():
    """The clean texts' dry runs, made once."""
    return {}


def clean_run(env, clean, name):
    if name not in clean:
        clean[name] = dry_run(env, DATA / f"{name}.txt")
    return clean[name]


# Deadlines tesseract's text of a scan no longer holds ("Quý III/2025" read
# "Quý II/2025", "2025" read "2U20"): the fixtures' list, made from the same
# pages read by the tesseract program. Only these may differ, and only
# when the text deadlinectl got says what the list quotes.
MISREADS = json.loads((DATA / "scan-misreads.expected.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("quality", ["300", "200"])
@pytest.mark.parametrize("name", NAMES)
def test_scan_gives_the_tasks_of_the_clean_text(sonha, scans, clean, tmp_path, name, quality):
    rc, want = clean_run(sonha, clean, name)
    text = tmp_path / "ocr.txt"
    got_rc, got = dry_run(sonha, scans / f"{name}-q{quality}.pdf", "--ocr-text", text)
    assert got_rc == rc
    assert got["document"]["number"] == want["document"]["number"]
    misread = MISREADS.get(f"{name}.scan-{quality}-vie.txt", {})
    ocr = text.read_text(encoding="utf-8")
    for g, w in zip(got["tasks"], want["tasks"]):
        if w["ref"] in misread and g["due"] != w["due"]:
            assert misread[w["ref"]] in ocr, (w["ref"], misread[w["ref"]])
            g["due"] = w["due"]
    assert tasks(got) == tasks(want)


def test_cheap_scan_keeps_nine_deadlines_and_leads_in_ten(sonha, scans, clean):
    n = dues = leads = 0
    for name in NAMES:
        _, want = clean_run(sonha, clean, name)
        _, got = dry_run(sonha, scans / f"{name}-q150.pdf")
        by_ref = {t["ref"]: t for t in got["tasks"]}
        d = sum(1 for t in want["tasks"] if by_ref.get(t["ref"], {}).get("due", "?") == t["due"])
        l = sum(1 for t in want["tasks"] if by_ref.get(t["ref"], {}).get("lead") == t["lead"])
        print(f"{name} q150: {d}/{len(want['tasks'])} deadlines, {l}/{len(want['tasks'])} leads")
        n, dues, leads = n + len(want["tasks"]), dues + d, leads + l
    print(f"q150: {dues}/{n} deadlines, {leads}/{n} leads")
    assert dues >= 0.9 * n and leads >= 0.9 * n, (dues, leads, n)


def turned_pdf(scans, tmp_path, name, quality, turns):
    """The scan with page N turned by turns[N] degrees (clockwise)."""
    from PIL import Image
    pages = sorted((scans / name).glob(f"q{quality}-p*.png"), key=lambda p: int(p.stem.split("-p")[1]))
    out = []
    for i, page in enumerate(pages):
        img = Image.open(page)
        if turns.get(i + 1):
            # PIL turns counter-clockwise
            img = img.rotate(-turns[i + 1], expand=True)
        f = tmp_path / f"turned-{i + 1}.png"
        img.save(f, dpi=img.info.get("dpi", (300, 300)))
        out.append(str(f))
    pdf = tmp_path / f"{name}-turned.pdf"
    subprocess.run(["img2pdf", "-o", str(pdf), *out], check=True)
    return pdf


@pytest.mark.parametrize("degrees", [90, 180])
def test_page_scanned_turned_still_reads(sonha, scans, clean, tmp_path, degrees):
    rc, want = clean_run(sonha, clean, "congvan-518")
    pdf = turned_pdf(scans, tmp_path, "congvan-518", "300", {1: degrees})
    got_rc, got = dry_run(sonha, pdf)
    assert got_rc == rc
    assert tasks(got) == tasks(want)
    p = subprocess.run([str(BUILD / "deadlined-ocr"), "--verbose", str(pdf)], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 0
    assert f"page 1/3: read" in p.stderr and f", turned {360 - degrees}°" in p.stderr.split("\n")[[
        i for i, l in enumerate(p.stderr.split("\n")) if "page 1/3" in l][0]], p.stderr


def test_ocr_text_and_page_references_point_into_the_pdf(sonha, scans, tmp_path):
    pdf = scans / "congvan-518-q300.pdf"
    text = tmp_path / "congvan-518.txt"
    rc, got = dry_run(sonha, pdf, "--ocr-text", text)
    pages = text.read_text(encoding="utf-8").split("\f")
    assert len(pages) == 3
    # Every item starts on the PDF page and line the dry run names.
    for t in got["tasks"]:
        line = pages[t["page"] - 1].split("\n")[t["line"] - 1]
        marker = t["ref"].split(".")[-1]
        assert line.lstrip().startswith((marker + ".", marker + ")")), (t["ref"], t["page"], t["line"], line)
    assert {t["page"] for t in got["tasks"]} == {1, 2}
    # The text, corrected or not, imports as the scan did.
    rc2, again = dry_run(sonha, text)
    assert (rc2, tasks(again)) == (rc, tasks(got))


def test_scan_imports_and_the_clean_text_updates_it(sonha, scans):
    p = ctl(sonha, "import", DATA / "directive-2417.scan-150.pdf")
    assert p.returncode == 0, p.stderr
    assert "Imported 2417/UBND-KTTH: 10 tasks added, 0 updated." in p.stdout
    p = ctl(sonha, "import", DATA / "directive-2417.txt")
    assert p.returncode == 0, p.stderr
    assert "0 tasks added" in p.stdout


def read_pty(argv, timeout=TIMEOUT):
    """Runs argv with a terminal on its stderr; returns what it wrote there."""
    master, slave = pty.openpty()
    p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    out = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r, _, _ = select.select([master], [], [], 1)
        if r:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        elif p.poll() is not None:
            break
    os.close(master)
    assert p.wait(timeout=60) == 0
    return out.decode("utf-8")


@pytest.mark.parametrize("language,word", [("vi", "trang"), ("en", "page")])
def test_progress_on_a_terminal(sonha, language, word):
    text = sonha.config.read_text(encoding="utf-8")
    sonha.config.write_text(text.replace('language = "vi";', f'language = "{language}";'), encoding="utf-8")
    assert f'language = "{language}";' in sonha.config.read_text(encoding="utf-8")
    out = read_pty([str(DEADLINECTL), "-c", str(sonha.config), "--now", NOW, "import", "--dry-run",
                    str(DATA / "directive-2417.scan-150.pdf")])
    for k in (1, 2, 3):
        assert f"\r{word} {k}/3 …" in out, out
    assert out.endswith("\r\x1b[K"), repr(out[-40:])


def test_no_progress_when_not_a_terminal(sonha):
    p = ctl(sonha, "import", "--dry-run", DATA / "directive-2417.scan-150.pdf")
    assert p.returncode == 0 and "trang" not in p.stderr and "\r" not in p.stderr, p.stderr


def test_text_layer_is_taken_without_ocr(sonha, scans, clean, tmp_path):
    """A PDF with a text layer (here tesseract's own searchable PDF) is read
    through poppler: no page is OCRed again."""
    rc, want = clean_run(sonha, clean, "directive-2417")
    parts = []
    for page in sorted((scans / "directive-2417").glob("q300-p*.png")):
        base = tmp_path / page.stem
        subprocess.run(["tesseract", str(page), str(base), "-l", "vie", "pdf"], check=True,
                       capture_output=True, env=dict(os.environ, OMP_THREAD_LIMIT="1"))
        parts.append(str(base) + ".pdf")
    pdf = tmp_path / "searchable.pdf"
    subprocess.run(["qpdf", "--empty", "--pages", *parts, "--", str(pdf)], check=True)
    p = subprocess.run([str(BUILD / "deadlined-ocr"), "--verbose", str(pdf)], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert p.returncode == 0, p.stderr
    assert p.stderr.count(": text layer ") == len(parts) and ": read " not in p.stderr, p.stderr
    got_rc, got = dry_run(sonha, pdf)
    assert got_rc == rc
    assert [(t[0], t[1], t[2]) for t in tasks(got)] == [(t[0], t[1], t[2]) for t in tasks(want)]


def test_tiff_jpeg_and_png_pages(sonha, scans, clean, tmp_path):
    rc, want = clean_run(sonha, clean, "directive-2417")
    pages = sorted(str(p) for p in (scans / "directive-2417").glob("q200-p*.png"))
    tif = tmp_path / "scan.tif"
    subprocess.run(["convert", *pages, str(tif)], check=True)
    got_rc, got = dry_run(sonha, tif)
    assert (got_rc, tasks(got)) == (rc, tasks(want))
    # One page alone: the document's header is on it.
    jpg = tmp_path / "page1.jpg"
    subprocess.run(["convert", pages[0], "-quality", "85", str(jpg)], check=True)
    for f in (jpg, pathlib.Path(pages[0])):
        _, got = dry_run(sonha, f)
        assert got["document"]["number"] == "2417/UBND-KTTH"
        assert tasks(got)[:3] == tasks(want)[:3]


def test_english_model_keeps_nine_deadlines_and_leads_in_ten(sonha, scans, clean):
    _, want = clean_run(sonha, clean, "directive-2417")
    _, got = dry_run(sonha, scans / "directive-2417-q300.pdf", "--ocr-language", "eng")
    by_ref = {t["ref"]: t for t in got["tasks"]}
    n = len(want["tasks"])
    dues = sum(1 for t in want["tasks"] if by_ref.get(t["ref"], {}).get("due", "?") == t["due"])
    leads = sum(1 for t in want["tasks"] if by_ref.get(t["ref"], {}).get("lead") == t["lead"])
    assert dues >= 0.9 * n and leads >= 0.9 * n, (dues, leads, n)


def test_encrypted_pdf(sonha, tmp_path):
    pdf = tmp_path / "locked.pdf"
    subprocess.run(["qpdf", "--encrypt", "user-pw", "owner-pw", "256", "--", str(DATA / "directive-2417.scan-150.pdf"),
                    str(pdf)], check=True)
    p = ctl(sonha, "import", "--dry-run", pdf)
    assert p.returncode == 65
    assert p.stderr == (f"deadlinectl: import: {pdf}: the PDF is encrypted with a password "
                        "(save a copy without one, or print it to PDF)\n")
