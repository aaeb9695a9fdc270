# SPDX-License-Identifier: GPL-2.0-or-later
"""A real IMAP server for the inbox tests: Debian's dovecot with a
throw-away configuration in a temporary folder, implicit TLS on a loopback
port with a certificate from the test CA, one user with a Maildir. It is
started as root and drops to `nobody`, so its folder is world-readable and
the mail belongs to nobody."""

import imaplib
import os
import pathlib
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

DOVECOT = "/usr/sbin/dovecot"
USER = "theodoi"
PASSWORD = "mat-khau-imap"


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    def __init__(self, ca):
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="deadlined-imap-"))
        os.chmod(self.dir, 0o755)
        self.ca = ca
        self.port = _free_port()
        self.starttls_port = _free_port()
        nobody = pwd.getpwnam("nobody")
        self.uid, self.gid = nobody.pw_uid, nobody.pw_gid
        self.maildir = self.dir / "mail" / USER
        for sub in ("cur", "new", "tmp"):
            (self.maildir / sub).mkdir(parents=True)
        for p in [self.dir / "mail", self.maildir, *(self.maildir / s for s in ("cur", "new", "tmp"))]:
            os.chown(p, self.uid, self.gid)
        # The key is read by dovecot as root before it drops privileges.
        shutil.copy(ca.cert, self.dir / "server.pem")
        shutil.copy(ca.key, self.dir / "server.key")
        os.chmod(self.dir / "server.key", 0o600)
        (self.dir / "passwd").write_text(
            f"{USER}:{{PLAIN}}{PASSWORD}:{self.uid}:{self.gid}::{self.maildir}::\n")
        self.log = self.dir / "dovecot.log"
        self.conf = self.dir / "dovecot.conf"
        self.conf.write_text(f"""
base_dir = {self.dir}/run
state_dir = {self.dir}/state
log_path = {self.log}
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{self.dir}/server.pem
ssl_key = <{self.dir}/server.key
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain login
login_trusted_networks = 127.0.0.1
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
first_valid_uid = 1
mail_location = maildir:{self.maildir}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {self.dir}/passwd
}}
userdb {{
  driver = passwd-file
  args = {self.dir}/passwd
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.starttls_port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.port}
    ssl = yes
  }}
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
""")
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        end = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > end:
                    err = self.proc.stderr.read().decode() if self.proc.poll() is not None else ""
                    raise RuntimeError(f"dovecot did not start: {err} {self.log_text()}")
                time.sleep(0.1)

    @property
    def url(self):
        return f"imaps://127.0.0.1:{self.port}/INBOX"

    @property
    def starttls_url(self):
        """Plain IMAP that offers STARTTLS (and refuses LOGIN before it)."""
        return f"imap://127.0.0.1:{self.starttls_port}/INBOX"

    def log_text(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def client(self):
        ctx = ssl.create_default_context(cafile=str(self.ca.ca_cert))
        m = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=ctx)
        m.login(USER, PASSWORD)
        m.select("INBOX")
        return m

    def append(self, data: bytes, flags=""):
        """Puts a message in with IMAP APPEND; returns nothing."""
        m = self.client()
        try:
            typ, resp = m.append("INBOX", flags, None, data)
            assert typ == "OK", resp
        finally:
            m.logout()

    def drop(self, name, data: bytes):
        """Puts a (large) message in by writing it into the Maildir's new/."""
        path = self.maildir / "new" / f"{int(time.time())}.{name}.localhost"
        tmp = self.maildir / "tmp" / path.name
        tmp.write_bytes(data)
        os.chown(tmp, self.uid, self.gid)
        os.rename(tmp, path)

    def flags(self):
        """Every message's flags, by UID."""
        m = self.client()
        try:
            typ, data = m.uid("FETCH", "1:*", "(UID FLAGS)")
            out = {}
            for line in data:
                if not line:
                    continue
                text = line.decode() if isinstance(line, bytes) else line[0].decode()
                uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                # \Recent belongs to the session, not to the message.
                out[uid] = [f for f in text.split("FLAGS (")[1].split(")")[0].split() if f != "\\Recent"]
            return out
        finally:
            m.logout()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)
