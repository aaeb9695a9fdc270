# SPDX-License-Identifier: GPL-2.0-or-later
"""The build notices a changed installation prefix: the paths compiled into
the programs follow PREFIX and SYSCONFDIR, so `make && make install
PREFIX=/usr` installs a daemon that reads /etc/deadlined/deadlined.conf."""

import os
import subprocess

from conftest import SOURCE

# Not the flags of a `make check` this may run under.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}


def make(build, *args):
    p = subprocess.run(["make", "-C", str(SOURCE), f"BUILD={build}", *args], env=CLEAN_ENV, capture_output=True, text=True,
                       timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def test_a_changed_prefix_rebuilds_what_compiles_it_in(tmp_path):
    build = tmp_path / "build"
    obj = build / "obj" / "deadlined.o"
    make(build, str(obj))
    assert b"/usr/local/etc/deadlined/deadlined.conf" in obj.read_bytes()

    out = make(build, "PREFIX=/usr", str(obj))
    assert "deadlined.c" in out, out
    data = obj.read_bytes()
    assert b"/etc/deadlined/deadlined.conf" in data and b"/usr/local/etc" not in data

    mtime = obj.stat().st_mtime_ns
    out = make(build, "PREFIX=/usr", str(obj))
    assert "deadlined.c" not in out and obj.stat().st_mtime_ns == mtime

    make(build, "SYSCONFDIR=/opt/etc", str(obj))
    assert b"/opt/etc/deadlined/deadlined.conf" in obj.read_bytes()
