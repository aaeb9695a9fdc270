# SPDX-License-Identifier: GPL-2.0-or-later
"""Secrets stay secret: a password written into a URL is never printed
back, and a webhook header can take its value from a file or a systemd
credential instead of the group-readable configuration file."""

import os
import subprocess

from conftest import AGENCIES, DEADLINED
from daemon_helpers import start_daemon
from httpserver import Server

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


TOKEN = "Bearer tok-8f2e41c9d7"


def hook_config(env, url, header):
    stc = 'name = "Sở Tài chính"; email = ["stc@sonha.gov.vn"];'
    assert stc in AGENCIES
    env.write_config(agencies=AGENCIES.replace(stc, f"""name = "Sở Tài chính";
     webhook = {{ url = "{url}"; headers = {{ Title = "Nhac viec"; Authorization = {header}; }}; }};"""))


def token_file(env, mode=0o600):
    path = env.path / "stc.token"
    path.write_text(TOKEN + "\n")
    path.chmod(mode)
    return path


def test_a_header_value_from_a_file_reaches_the_receiver_and_is_never_printed(env):
    path = token_file(env)
    with Server() as server:
        hook_config(env, server.url(), f'{{ file = "{path}"; }}')
        env.ctl("--now", "2025-05-01T09:00", "add", "Báo cáo", "--agency", "stc", "--due", "2025-05-10",
                check=True)
        sent = env.ctl("send-test", "stc", "--channel", "webhook")
        once = subprocess.run([str(DEADLINED), "-c", str(env.config), "--once", "--now", "2025-05-07T08:00"],
                              capture_output=True, text=True, timeout=60)
        reqs = server.wait_for(2)
    assert sent.returncode == 0 and once.returncode == 0, sent.stderr + once.stderr
    assert len(reqs) == 2
    assert [(r.header("Authorization"), r.header("Title")) for r in reqs] == [(TOKEN, "Nhac viec")] * 2
    checks = [env.ctl("check-config"), env.ctl("agencies"), env.ctl("--json", "agencies"),
              subprocess.run([str(DEADLINED), "-c", str(env.config), "--check-config"], capture_output=True,
                             text=True, timeout=30)]
    assert [c.returncode for c in checks] == [0, 0, 0, 0], [c.stderr for c in checks]
    text = "".join(c.stdout + c.stderr for c in [sent, once, *checks])
    assert "tok-8f2e41c9d7" not in text


def test_a_header_value_from_a_systemd_credential(env, tmp_path):
    creds = tmp_path / "creds"
    creds.mkdir()
    (creds / "stc-token").write_text(TOKEN + "\n")
    with Server() as server:
        hook_config(env, server.url(), '{ credential = "stc-token"; }')
        e = dict(os.environ, CREDENTIALS_DIRECTORY=str(creds))
        p = env.ctl("send-test", "stc", "--channel", "webhook", env=e)
        [req] = server.wait_for(1)
    assert p.returncode == 0, p.stderr
    assert req.header("Authorization") == TOKEN
    # In the service, a credential the unit does not pass is an error.
    (creds / "stc-token").unlink()
    p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--check-config"], capture_output=True, text=True,
                       env=e, timeout=30)
    assert p.returncode == 78
    assert "webhook.headers.Authorization.credential: credential stc-token was not passed" in p.stderr


def test_a_missing_or_readable_header_file_is_a_config_error_naming_file_and_setting(env):
    missing = env.path / "nope.token"
    hook_config(env, "https://hooks.sonha.gov.vn/x", f'{{ file = "{missing}"; }}')
    p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--check-config"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 78
    assert f"agencies[2].webhook.headers.Authorization.file: {missing}: No such file" in p.stderr
    assert p.stderr.count("\n") == 1

    path = token_file(env, mode=0o640)
    hook_config(env, "https://hooks.sonha.gov.vn/x", f'{{ file = "{path}"; }}')
    for p in (env.ctl("check-config"), start_daemon(env)):
        if isinstance(p, subprocess.Popen):
            assert p.wait(10) == 78
            err = (env.path / "daemon.log").read_text()
        else:
            assert p.returncode == 78
            err = p.stdout + p.stderr
        assert f"Authorization.file: {path} is readable by group or others" in err
        assert "tok-8f2e41c9d7" not in err
