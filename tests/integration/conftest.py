# SPDX-License-Identifier: GPL-2.0-or-later
"""Fixtures that run the real deadlined and deadlinectl binaries against a
temporary configuration and a real SQLite database."""

import json
import os
import pathlib
import sqlite3
import subprocess

import pytest

BUILD = pathlib.Path(os.environ.get("DEADLINED_BUILD", pathlib.Path(__file__).parents[2] / "build"))
SOURCE = pathlib.Path(os.environ.get("DEADLINED_SOURCE", pathlib.Path(__file__).parents[2]))
SANITIZE = os.environ.get("DEADLINED_SANITIZE") == "1"
DEADLINED = BUILD / "deadlined"
DEADLINECTL = BUILD / "deadlinectl"

AGENCIES = """
agencies = (
  { id = "lanhdao"; name = "Lãnh đạo UBND tỉnh"; email = ["lanhdao@sonha.gov.vn"]; },
  { id = "vpubnd";  name = "Văn phòng UBND tỉnh"; aliases = ["VPUB"]; email = ["vanthu.vpub@sonha.gov.vn"]; },
  { id = "stc";     name = "Sở Tài chính"; email = ["stc@sonha.gov.vn"]; },
  { id = "skhdt";   name = "Sở Kế hoạch và Đầu tư"; aliases = ["Sở KH&ĐT"]; email = ["skhdt@sonha.gov.vn"]; },
  { id = "kbnn";    name = "Kho bạc Nhà nước tỉnh"; email = ["kbnn@sonha.gov.vn"]; },
  { id = "sxd";     name = "Sở Xây dựng"; email = ["sxd@sonha.gov.vn"]; },
  { id = "stttt";   name = "Sở Thông tin và Truyền thông"; email = ["stttt@sonha.gov.vn"]; },
  { id = "h-anlac"; name = "UBND huyện An Lạc"; email = ["ubnd@anlac.sonha.gov.vn"]; },
  { id = "tp-sonha"; name = "UBND thành phố Sơn Hà"; email = ["ubnd@tp.sonha.gov.vn"]; }
);
groups = (
  { id = "cacso"; name = "Các sở, ban, ngành"; members = ["vpubnd", "stc", "skhdt", "sxd", "stttt"]; },
  { id = "cachuyen"; name = "UBND các huyện, thị xã, thành phố"; members = ["h-anlac", "tp-sonha"]; }
);
"""

SCHEDULE = """
schedule = {
  remind_before = ["14d", "7d", "3d", "1d", "0d"];
  overdue_every = "1d";
  escalation = ( { after = "3d"; to = ["vpubnd"]; }, { after = "10d"; to = ["lanhdao"]; } );
  send_at = "08:00";
  workdays = ["mon", "tue", "wed", "thu", "fri"];
  holidays = ["2025-04-30", "2025-05-01", "2025-09-01", "2025-09-02"];
  extra_workdays = ["2025-04-26"];
  digest = false;
  # The tests of reminders count their messages; the notices of new tasks
  # have their own tests (test_notice.py), which turn them on.
  notify_on_assign = false;
};
"""


class Env:
    """A temporary deadlined installation: a config file, its database and
    a maildir, and helpers to run the programs against them."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        self.config = path / "deadlined.conf"
        self.database = path / "deadlined.db"
        self.maildir = path / "maildir"

    def write_config(self, text=None, *, schedule=SCHEDULE, agencies=AGENCIES, extra=""):
        if text is None:
            text = (f'database = "deadlined.db";\ntimezone = "Asia/Ho_Chi_Minh";\nlanguage = "vi";\n'
                    f'transport = "maildir:maildir";\nfrom = "Nhắc việc <nhacviec@sonha.gov.vn>";\n'
                    f'{extra}\n{schedule}\n{agencies}\n')
        self.config.write_text(text, encoding="utf-8")
        return self.config

    def ctl(self, *args, check=False, input=None, env=None):
        cmd = [str(DEADLINECTL), "-c", str(self.config), *map(str, args)]
        e = dict(os.environ, **(env or {}))
        p = subprocess.run(cmd, capture_output=True, text=True, input=input, env=e, timeout=60)
        if check and p.returncode != 0:
            raise AssertionError(f"{cmd} exited {p.returncode}: {p.stderr}")
        return p

    def ctl_json(self, *args):
        p = self.ctl("--json", *args, check=True)
        return json.loads(p.stdout)

    def dump(self):
        """The whole database as SQL text: equal dumps mean nothing changed."""
        if not self.database.exists():
            return None
        con = sqlite3.connect(self.database)
        try:
            return "\n".join(con.iterdump())
        finally:
            con.close()

    def query(self, sql, *params):
        con = sqlite3.connect(self.database)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    def instance_id(self):
        """The database's instance id, which every Message-ID, thread root
        and webhook-id carries."""
        [(value,)] = self.query("SELECT value FROM meta WHERE key = 'instance_id'")
        return value

    def messages(self):
        """Parsed e-mails the maildir transport delivered."""
        import email
        import email.policy
        new = self.maildir / "new"
        if not new.exists():
            return []
        out = []
        # In delivery order: the name starts "SECONDS.MMICROSECONDS", the
        # microseconds unpadded, as Maildir writers do, so sort them as numbers.
        def order(f):
            sec, _, rest = f.name.partition(".M")
            return int(sec), int(rest.split("P", 1)[0]), f.name
        for f in sorted(new.iterdir(), key=order):
            with open(f, "rb") as fh:
                out.append(email.message_from_binary_file(fh, policy=email.policy.default))
        return out


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "faults: a slow fault scenario, run by `make check-faults` and not by `make check`")
    config.addinivalue_line(
        "markers", "ocr: reads real scans with tesseract, run by `make check-ocr` and not by `make check`")
    config.addinivalue_line(
        "markers", "browser: prints the HTML report with headless Chromium, run by `make check-browser` and not "
        "by `make check`")
    config.addinivalue_line(
        "markers", "imap: reads replies from a real IMAP server (dovecot), run by `make check-imap` and not by "
        "`make check`")
    config.addinivalue_line(
        "markers", "pg: runs against a throw-away PostgreSQL cluster, run by `make check-pg` and not by `make check`")


@pytest.fixture(autouse=True)
def no_daemon_left_behind():
    yield
    from daemon_helpers import kill_started
    kill_started()


@pytest.fixture
def env(tmp_path):
    e = Env(tmp_path)
    e.write_config()
    return e


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory):
    from testca import TestCA
    return TestCA(tmp_path_factory.mktemp("ca"))
