# SPDX-License-Identifier: GPL-2.0-or-later
"""Secrets stay secret: a password written into a URL is never printed
back, and a webhook header can take its value from a file or a systemd
credential instead of the group-readable configuration file."""

import subprocess

from conftest import DEADLINED
from daemon_helpers import start_daemon

SMTP_SECRET = "S3cretPw"
HOOK_SECRET = "W3bh00kPw"


def all_outputs(env):
    """What every way of reading the configuration prints, and the exit codes."""
    out, codes = [], []
    for args in (["--check-config"], []):
        p = subprocess.run([str(DEADLINED), "-c", str(env.config), *args], capture_output=True, text=True,
                           timeout=30)
        out += [p.stdout, p.stderr]
        codes.append(p.returncode)
    for args in (["check-config"], ["agencies"], ["--json", "agencies"]):
        p = env.ctl(*args)
        out += [p.stdout, p.stderr]
        codes.append(p.returncode)
    return "\n".join(out), codes


def test_a_refused_smtp_url_is_shown_without_its_password(env):
    env.write_config(extra=f'smtp = {{ url = "smtp://user:{SMTP_SECRET}@127.0.0.1:2525"; }};')
    text, codes = all_outputs(env)
    assert SMTP_SECRET not in text
    assert "smtp://***@127.0.0.1:2525" in text and "must not contain a user name or password" in text
    assert set(codes) == {78}


def test_a_webhook_url_with_credentials_is_never_printed(env):
    agencies = f"""agencies = (
  {{ id = "stc"; name = "Sở Tài chính";
     webhook = {{ url = "https://hookuser:{HOOK_SECRET}@127.0.0.1:9/hook"; }}; }},
  {{ id = "skhdt"; name = "Sở KH&ĐT";
     webhook = {{ url = "https://u:{HOOK_SECRET}x@bad host/hook"; }}; }}
);"""
    env.write_config(agencies=agencies)
    text, codes = all_outputs(env)
    assert HOOK_SECRET not in text and "hookuser" not in text
    assert '"https://***@127.0.0.1:9/hook" must not contain a user name or password' in text
    assert '"https://***@bad host/hook" contains a space' in text
    assert set(codes) == {78}
    p = start_daemon(env)
    assert p.wait(10) == 78
    assert HOOK_SECRET not in (env.path / "daemon.log").read_text()
