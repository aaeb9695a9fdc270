# SPDX-License-Identifier: GPL-2.0-or-later
"""The README's source install, whole: `make`, then `make install
PREFIX=/usr` into a staging folder, installs programs that look for their
configuration under /etc (a full build twice: slow)."""

import os
import subprocess

import pytest

from conftest import SOURCE

# Not the flags of a `make check` this may run under.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


@pytest.mark.faults
def test_make_then_install_with_prefix_usr_installs_programs_that_read_etc(tmp_path):
    build, dest = tmp_path / "build", tmp_path / "dest"
    for args in ([], ["install", "PREFIX=/usr", f"DESTDIR={dest}"]):
        p = subprocess.run(["make", "-C", str(SOURCE), "-j2", f"BUILD={build}", *args], env=CLEAN_ENV, capture_output=True,
                           text=True, timeout=900)
        assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-2000:]
    for program in (dest / "usr/sbin/deadlined", dest / "usr/bin/deadlinectl"):
        data = program.read_bytes()
        assert b"/etc/deadlined/deadlined.conf" in data, program
        assert b"/usr/local/etc" not in data, program
    # The OCR helper is installed where the installed deadlinectl runs it
    # from (not staged there, it says so, naming the path).
    assert (dest / "usr/libexec/deadlined/deadlined-ocr").exists()
    conf = tmp_path / "d.conf"
    conf.write_text('database = "d.db";\nagencies = ( { id = "stc"; name = "Sở Tài chính"; email = ["a@b.vn"]; } );\n')
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4\n")
    env = {k: v for k, v in os.environ.items() if k != "DEADLINECTL_OCR_HELPER"}
    p = subprocess.run([str(dest / "usr/bin/deadlinectl"), "-c", str(conf), "import", "--dry-run", str(scan)],
                       capture_output=True, text=True, env=env)
    if not os.path.exists("/usr/libexec/deadlined/deadlined-ocr"):
        assert p.returncode == 69 and "the OCR helper /usr/libexec/deadlined/deadlined-ocr" in p.stderr, p.stderr
