# SPDX-License-Identifier: GPL-2.0-or-later
"""E-mail reminders over SMTP, sent by the real deadlined to a real SMTP
server (aiosmtpd, see smtpserver.py) on loopback, and read back with
Python's email package (policy=default). No mocks: what is checked is what
crossed the socket."""

import datetime
import email
import email.policy
import json
import os
import signal
import subprocess
import time
import unicodedata

import pytest

from conftest import AGENCIES, DEADLINED, SCHEDULE
from daemon_helpers import insert_tasks, start_daemon, stop
from smtpserver import Script, smtp_server, wait_for  # noqa: F401 (fixture)

HANOI = datetime.timezone(datetime.timedelta(hours=7))
CREATED = "2025-05-01T09:00"
# 2025-05-20 (a Tuesday) less 14 days: the first reminder, on Tuesday
# 2025-05-06 at 08:00.
DUE = "2025-05-20"
FIRST = "2025-05-06T08:00:30"
SECOND = "2025-05-13T08:00:30"   # 7 days before
TITLE = "Báo cáo đánh giá nguồn lực"
SUBJECT = "[Nhắc việc] Còn 14 ngày: 5.c — Báo cáo đánh giá nguồn lực (hạn 20/5/2025)"
USER, PASSWORD = "nhacviec", "mật-khẩu bí mật 42"
# Servers that offer PIPELINING get each transaction in one write.
PIPELINING = pytest.mark.parametrize("pipelining", [False, True], ids=["one-by-one", "pipelined"])


def smtp_config(env, server, *, tls=None, ca=None, auth=False, password_file=True, plaintext=None,
                smtp_extra="", delivery='retry_min = "1m"; retry_max = "1h"; max_retry_age = "2d";',
                schedule=SCHEDULE, agencies=AGENCIES, url=None):
    """Writes a configuration that sends through `server`. Without tls the
    server is plain text on loopback and allow_plaintext is set."""
    lines = [f'url = "{url or server.url}";', 'from = "Nhắc việc <nhacviec@sonha.gov.vn>";',
             'reply_to = "Văn phòng UBND tỉnh <vanthu.vpub@sonha.gov.vn>";']
    if plaintext is None:
        plaintext = tls is None
    if plaintext:
        lines.append("allow_plaintext = true;")
    if ca:
        lines.append(f'ca_file = "{ca}";')
    if auth:
        lines.append(f'username = "{USER}";')
        if password_file:
            pw = env.path / "smtp-password"
            pw.write_text(PASSWORD + "\n", encoding="utf-8")
            pw.chmod(0o600)
            lines.append(f'password_file = "{pw}";')
    lines.append(smtp_extra)
    text = (f'database = "deadlined.db";\ntimezone = "Asia/Ho_Chi_Minh";\nlanguage = "vi";\n'
            f'smtp = {{\n  ' + "\n  ".join(lines) + "\n};\n"
            f"delivery = {{ {delivery} }};\n{schedule}\n{agencies}\n")
    env.write_config(text)


def add_task(env, title=TITLE, lead="stc", support="skhdt,kbnn", due=DUE, ref="5.c", *extra):
    args = ["--now", CREATED, "add", title, "--agency", lead, "--due", due]
    if support:
        args += ["--support", support]
    if ref:
        args += ["--ref", ref]
    p = env.ctl(*args, *extra, check=True)
    return int(env.query("SELECT max(id) FROM tasks")[0][0])


def run_once(env, now, *, extra_env=None, timeout=120):
    e = dict(os.environ)
    e.update(extra_env or {})
    return subprocess.run([str(DEADLINED), "-c", str(env.config), "--once", "--now", now],
                          capture_output=True, text=True, timeout=timeout, env=e)


def later(now, **delta):
    t = datetime.datetime.fromisoformat(now) + datetime.timedelta(**delta)
    return t.strftime("%Y-%m-%dT%H:%M:%S")


def deliveries(env, task=None):
    sql = "SELECT agency, state, attempts, last_error, slot FROM deliveries"
    rows = env.query(sql + (" WHERE task_id = ?" if task else "") + " ORDER BY id", *([task] if task else []))
    return rows


def states(env):
    return {agency: state for agency, state, *_ in deliveries(env)}


def text_of(msg):
    return msg.get_body(("plain",)).get_content().replace("\r\n", "\n")


def addresses(msg, header):
    return [a.addr_spec for a in msg[header].addresses] if msg[header] else []


# --- The message as it arrives ---------------------------------------------------------------------------


def test_reminder_through_starttls_and_auth_arrives_decoded(env, smtp_server, test_ca):
    server = smtp_server(tls=test_ca, require_tls=True, auth=(USER, PASSWORD))
    smtp_config(env, server, tls=test_ca, ca=test_ca.ca_cert, auth=True)
    task = add_task(env)
    p = run_once(env, FIRST)
    assert p.returncode == 0, p.stderr
    assert len(server.received) == 1
    r = server.received[0]
    assert r.tls and r.auth
    assert server.logins == [("PLAIN", True, True)]
    # Nothing but the greeting's answer and STARTTLS went in clear text.
    assert server.verbs(tls=False) == ["EHLO", "STARTTLS"]
    assert bytes(server.cleartext).split(b"\r\n")[1:] == [b"STARTTLS", b""]

    msg = r.message
    assert msg.defects == []
    assert msg["Subject"] == f"{SUBJECT} [#{task}]"
    assert unicodedata.is_normalized("NFC", msg["Subject"])
    text = text_of(msg)
    for line in ("Kính gửi:", "- Sở Tài chính (chủ trì);", "- Sở Kế hoạch và Đầu tư (phối hợp);",
                 "- Kho bạc Nhà nước tỉnh (phối hợp).", "- Nhiệm vụ 5.c: Báo cáo đánh giá nguồn lực",
                 "- Thời hạn hoàn thành: thứ Ba, ngày 20/5/2025 (còn 14 ngày)",
                 "- Cơ quan chủ trì: Sở Tài chính",
                 "- Cơ quan phối hợp: Sở Kế hoạch và Đầu tư, Kho bạc Nhà nước tỉnh"):
        assert line + "\n" in text, line
    html = msg.get_body(("html",)).get_content()
    assert "Báo cáo đánh giá nguồn lực" in html
    assert msg["From"].addresses[0].display_name == "Nhắc việc"
    assert msg["From"].addresses[0].addr_spec == "nhacviec@sonha.gov.vn"
    assert msg["Reply-To"].addresses[0].display_name == "Văn phòng UBND tỉnh"
    assert [(a.display_name, a.addr_spec) for a in msg["To"].addresses] == [("Sở Tài chính", "stc@sonha.gov.vn")]
    assert [(a.display_name, a.addr_spec) for a in msg["Cc"].addresses] == [
        ("Sở Kế hoạch và Đầu tư", "skhdt@sonha.gov.vn"), ("Kho bạc Nhà nước tỉnh", "kbnn@sonha.gov.vn")]
    # The envelope is exactly To and Cc: no one else, no one left out.
    assert r.mail_from == "nhacviec@sonha.gov.vn"
    assert r.rcpt_tos == addresses(msg, "To") + addresses(msg, "Cc")
    # --now's clock runs on from the start, past the second on a loaded machine.
    sent = datetime.datetime(2025, 5, 6, 8, 0, 30, tzinfo=HANOI)
    assert datetime.timedelta(0) <= msg["Date"].datetime - sent < datetime.timedelta(seconds=5), msg["Date"]
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Deadlined-Task"] == str(task)
    # Named by the task and the reminder slot: the same on every retry.
    assert msg["X-Deadlined-Delivery"] == f"{task}-before-14d.{int(datetime.datetime(2025, 5, 20, 23, 59, 59, tzinfo=HANOI).timestamp())}"
    inst = env.instance_id()
    assert msg["Message-ID"] == f"<deadlined.{inst}.{msg['X-Deadlined-Delivery']}@sonha.gov.vn>"
    assert msg["In-Reply-To"] == f"<deadlined.{inst}.task-{task}@sonha.gov.vn>"
    assert set(states(env).values()) == {"sent"}


def test_auth_login_when_the_server_offers_only_login(env, smtp_server, test_ca):
    server = smtp_server(tls=test_ca, require_tls=True, auth=(USER, PASSWORD), mechanisms=("LOGIN",))
    smtp_config(env, server, tls=test_ca, ca=test_ca.ca_cert, auth=True)
    add_task(env)
    p = run_once(env, FIRST)
    assert p.returncode == 0, p.stderr
    assert server.logins == [("LOGIN", True, True)]
    assert len(server.received) == 1 and server.received[0].auth


def test_password_from_the_systemd_credential(env, smtp_server, test_ca, tmp_path, monkeypatch):
    server = smtp_server(tls=test_ca, require_tls=True, auth=(USER, PASSWORD))
    smtp_config(env, server, tls=test_ca, ca=test_ca.ca_cert, auth=True, password_file=False)
    creds = tmp_path / "credentials"
    creds.mkdir()
    (creds / "smtp-password").write_text(PASSWORD, encoding="utf-8")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    add_task(env)
    p = run_once(env, FIRST)
    assert p.returncode == 0, p.stderr
    assert server.logins == [("PLAIN", True, True)]
    assert len(server.received) == 1


def test_a_wrong_password_is_retried_and_sends_nothing(env, smtp_server, test_ca):
    server = smtp_server(tls=test_ca, require_tls=True, auth=(USER, "something else"))
    smtp_config(env, server, tls=test_ca, ca=test_ca.ca_cert, auth=True)
    add_task(env)
    p = run_once(env, FIRST)
    assert p.returncode == 75, p.stderr
    assert server.logins == [("PLAIN", False, True)]
    assert "MAIL" not in server.verbs() and server.received == []
    assert {s for s in states(env).values()} == {"pending"}
    assert all("Login denied" in e for *_, e, _ in deliveries(env))


def test_implicit_tls_on_smtps(env, smtp_server, test_ca):
    server = smtp_server(tls=test_ca, implicit_tls=True, auth=(USER, PASSWORD))
    smtp_config(env, server, tls=test_ca, ca=test_ca.ca_cert, auth=True, url=f"smtps://localhost:{server.port}")
    add_task(env)
    p = run_once(env, FIRST)
    assert p.returncode == 0, p.stderr
    assert len(server.received) == 1 and server.logins == [("PLAIN", True, True)]
    assert server.cleartext == bytearray()


def test_every_reminder_about_a_task_threads_together(env, smtp_server):
    server = smtp_server()
    smtp_config(env, server)
    task = add_task(env)
    other = add_task(env, "Việc khác", "sxd", None, "2025-05-20", None)
    assert run_once(env, FIRST).returncode == 0
    assert run_once(env, SECOND).returncode == 0
    assert run_once(env, "2025-05-21T08:00:30").returncode == 0   # overdue
    mine = [r.message for r in server.received if r.message["X-Deadlined-Task"] == str(task)]
    theirs = [r.message for r in server.received if r.message["X-Deadlined-Task"] == str(other)]
    assert len(mine) == 3 and len(theirs) == 3
    inst = env.instance_id()
    root = f"<deadlined.{inst}.task-{task}@sonha.gov.vn>"
    for m in mine:
        assert m["In-Reply-To"] == root
        assert m["References"].split()[0] == root
    assert len({m["Message-ID"] for m in mine + theirs}) == 6
    assert all(m["References"].split()[0] == f"<deadlined.{inst}.task-{other}@sonha.gov.vn>" for m in theirs)
    assert mine[2]["Subject"].startswith("[Quá hạn] Quá hạn 1 ngày: 5.c")
    assert mine[0]["Subject"] != mine[1]["Subject"] != mine[2]["Subject"]


def test_agency_cc_addresses_are_on_the_envelope(env, smtp_server):
    server = smtp_server()
    agencies = AGENCIES.replace('email = ["stc@sonha.gov.vn"];',
                                'email = ["stc@sonha.gov.vn", "giamdoc.stc@sonha.gov.vn"]; '
                                'cc = ["vanthu.stc@sonha.gov.vn"];')
    smtp_config(env, server, agencies=agencies)
    add_task(env, support=None)
    assert run_once(env, FIRST).returncode == 0
    (r,) = server.received
    assert addresses(r.message, "To") == ["stc@sonha.gov.vn", "giamdoc.stc@sonha.gov.vn"]
    assert addresses(r.message, "Cc") == ["vanthu.stc@sonha.gov.vn"]
    assert r.rcpt_tos == ["stc@sonha.gov.vn", "giamdoc.stc@sonha.gov.vn", "vanthu.stc@sonha.gov.vn"]


def test_task_text_cannot_inject_a_header_or_end_the_message(env, smtp_server):
    server = smtp_server()
    smtp_config(env, server)
    detail = "Dòng đầu\n.\nDòng sau dấu chấm\n..\nRCPT TO:<x@evil.test>\nhết."
    task = add_task(env, "Việc tạm", "stc", None, DUE, "5.c", "--detail", detail)
    # deadlinectl refuses control characters in a title; a database
    # written by something else must still be harmless.
    evil = "Báo cáo\r\nBcc: x@evil.test\r\n\r\nthân giả\r\n.\r\nMAIL FROM:<x@evil.test>"
    env.execute("UPDATE tasks SET title = ? WHERE id = ?", evil, task)
    assert env.query("SELECT title FROM tasks WHERE id = ?", task)[0][0] == evil
    p = run_once(env, FIRST)
    assert p.returncode == 0, p.stderr
    (r,) = server.received
    msg = r.message
    assert r.rcpt_tos == ["stc@sonha.gov.vn"]
    assert "evil" not in " ".join(server.verbs())
    assert msg["Bcc"] is None
    assert msg.defects == []
    assert "\n" not in msg["Subject"] and "Bcc: x@evil.test" in msg["Subject"]
    text = text_of(msg)
    assert "Bcc: x@evil.test" in text and "MAIL FROM:<x@evil.test>" in text
    assert "\n.\nDòng sau dấu chấm\n..\nRCPT TO:<x@evil.test>\nhết." in text
    # The message arrived whole: its text ends as the templates end it.
    assert text.rstrip().endswith("Trân trọng./.") or "Trân trọng./." in text
    assert server.data_attempts == 1
    env.query("SELECT 1")


# --- Refusing clear text and bad certificates --------------------------------------------------------------


def assert_nothing_in_clear(server):
    clear = bytes(server.cleartext)
    assert b"AUTH" not in clear and b"MAIL FROM" not in clear and b"RCPT" not in clear
    assert b"Subject" not in clear and b"DATA" not in clear
    assert not {"AUTH", "MAIL", "RCPT", "DATA"} & set(server.verbs())
    assert server.received == [] and server.data_attempts == 0


def test_server_without_starttls_is_refused(env, smtp_server):
    server = smtp_server()          # plain text only, no STARTTLS in EHLO
    smtp_config(env, server, tls="required", auth=True)
    add_task(env)
    p = run_once(env, FIRST)
    assert p.returncode == 75, p.stderr
    assert_nothing_in_clear(server)
    assert server.verbs() == ["EHLO", "QUIT"] or server.verbs() == ["EHLO"]
    assert {s for s in states(env).values()} == {"pending"}
    assert all("SSL" in e or "TLS" in e for *_, e, _ in deliveries(env))


def test_server_answering_454_to_starttls_is_refused(env, smtp_server, test_ca):
    server = smtp_server(tls=test_ca, starttls="454", auth=(USER, PASSWORD))
    smtp_config(env, server, tls=test_ca, ca=test_ca.ca_cert, auth=True)
    add_task(env)
    p = run_once(env, FIRST)
    assert p.returncode == 75, p.stderr
    assert "STARTTLS" in server.verbs()
    assert_nothing_in_clear(server)
    assert {s for s in states(env).values()} == {"pending"}


def non_loopback_address():
    out = subprocess.run(["hostname", "-I"], capture_output=True, text=True).stdout.split()
    return next((a for a in out if "." in a and not a.startswith("127.")), None)


def test_plain_text_to_another_host_needs_allow_plaintext_remote(env, smtp_server):
    address = non_loopback_address()
    if not address:
        pytest.skip("no address but loopback here")
    server = smtp_server(host=address)
    smtp_config(env, server)                 # allow_plaintext = true, and nothing more
    add_task(env)
    assert run_once(env, FIRST).returncode == 75
    assert_nothing_in_clear(server)
    smtp_config(env, server, smtp_extra="allow_plaintext_remote = true;")
    assert run_once(env, later(FIRST, minutes=2)).returncode == 0
    assert len(server.received) == 1 and not server.received[0].tls


def test_a_certificate_for_another_name_is_refused(env, smtp_server, test_ca):
    # The certificate names localhost and 127.0.0.1; 127.0.0.2 is the same
    # machine by another name.
    server = smtp_server(tls=test_ca, require_tls=True, auth=(USER, PASSWORD), host="127.0.0.2")
    smtp_config(env, server, tls=test_ca, ca=test_ca.ca_cert, auth=True)
    add_task(env)
    assert run_once(env, FIRST).returncode == 75
    assert_nothing_in_clear(server)
    assert all("certificate" in e.lower() or "SSL" in e for *_, e, _ in deliveries(env))


def test_a_certificate_from_another_ca_is_refused(env, smtp_server, test_ca):
    server = smtp_server(tls=test_ca, require_tls=True, auth=(USER, PASSWORD))
    smtp_config(env, server, tls=test_ca, ca=test_ca.other_ca_cert, auth=True)
    add_task(env)
    p = run_once(env, FIRST)
    assert p.returncode == 75, p.stderr
    assert_nothing_in_clear(server)
    assert server.logins == []
    assert all("certificate" in e.lower() or "SSL" in e for *_, e, _ in deliveries(env))


def test_a_certificate_without_ca_file_is_refused(env, smtp_server, test_ca):
    server = smtp_server(tls=test_ca, require_tls=True, auth=(USER, PASSWORD))
    smtp_config(env, server, tls=test_ca, auth=True)
    add_task(env)
    assert run_once(env, FIRST).returncode == 75
    assert_nothing_in_clear(server)


# --- Failures: retry, fail, give up -----------------------------------------------------------------------


@PIPELINING
def test_451_at_data_is_retried_after_backoff_and_then_sent(env, smtp_server, pipelining):
    server = smtp_server(script=Script(data=["451 4.3.0 Mail server temporarily rejected message"]),
                         pipelining=pipelining)
    smtp_config(env, server)
    task = add_task(env)
    p = run_once(env, FIRST)
    assert p.returncode == 75, p.stderr
    assert server.data_attempts == 1 and server.received == []
    rows = deliveries(env)
    assert {s for _, s, *_ in rows} == {"pending"}
    assert all(a == 1 and "451 4.3.0" in e for _, _, a, e, _ in rows)
    # Not before retry_min (1 minute, less 10% jitter).
    assert run_once(env, later(FIRST, seconds=50)).returncode == 0
    assert server.data_attempts == 1
    p = run_once(env, later(FIRST, seconds=70))
    assert p.returncode == 0, p.stderr
    assert server.data_attempts == 2 and len(server.received) == 1
    assert set(states(env).values()) == {"sent"}
    assert [a for _, _, a, _, _ in deliveries(env)] == [2, 2, 2]
    hist = env.ctl_json("history", task)
    assert all(d["state"] == "sent" and d["attempts"] == 2 and d["sent_at"] for d in hist["deliveries"])


def test_a_connection_lost_after_the_data_is_retried_as_the_same_message(env, smtp_server):
    # The server took the message and hung up before saying so: the
    # reminder goes again (one duplicate, the Postfix stance), with the same
    # Message-ID, so that a receiver can tell.
    server = smtp_server(script=Script(drop_after_data=1))
    smtp_config(env, server)
    add_task(env)
    p = run_once(env, FIRST)
    assert p.returncode == 75, p.stderr
    assert len(server.dropped) == 1 and server.received == []
    assert all("closed the connection" in e for *_, e, _ in deliveries(env))
    assert run_once(env, later(FIRST, minutes=2)).returncode == 0
    (r,) = server.received
    first = email.message_from_bytes(server.dropped[0], policy=email.policy.default)
    assert first["Message-ID"] == r.message["Message-ID"]
    assert set(states(env).values()) == {"sent"}


def test_421_at_greeting_is_retried(env, smtp_server):
    server = smtp_server(script=Script(greeting=["421 4.3.2 Service not available, try later"]))
    smtp_config(env, server)
    add_task(env)
    p = run_once(env, FIRST)
    assert p.returncode == 75, p.stderr
    assert all("421" in e for *_, e, _ in deliveries(env))
    assert run_once(env, later(FIRST, minutes=2)).returncode == 0
    assert len(server.received) == 1


@PIPELINING
def test_550_for_one_recipient_fails_that_agency_only(env, smtp_server, pipelining):
    reply = "550 5.1.1 <kbnn@sonha.gov.vn>: Recipient address rejected: User unknown"
    server = smtp_server(script=Script(rcpt={"kbnn@sonha.gov.vn": reply}), pipelining=pipelining)
    smtp_config(env, server)
    task = add_task(env)
    p = run_once(env, FIRST)
    assert p.returncode == 69, p.stderr      # something failed for good
    (r,) = server.received
    assert r.rcpt_tos == ["stc@sonha.gov.vn", "skhdt@sonha.gov.vn"]
    assert states(env) == {"stc": "sent", "skhdt": "sent", "kbnn": "failed"}
    assert "kbnn@sonha.gov.vn" in p.stderr and "User unknown" in p.stderr
    # Not retried.
    assert run_once(env, later(FIRST, hours=3)).returncode == 0
    assert server.data_attempts == 1

    status = env.ctl_json("status")
    assert status["deliveries"]["failed"] == 1 and status["deliveries"]["sent"] == 2
    (f,) = status["failed"]
    assert f["agency"] == "kbnn" and f["task"] == task and reply in f["last_error"]
    text = env.ctl("status", check=True).stdout
    assert "1 failed" in text and "kbnn" in text and "User unknown" in text

    hist = env.ctl_json("history", task)
    by_agency = {d["agency"]: d for d in hist["deliveries"]}
    assert by_agency["kbnn"]["state"] == "failed" and reply in by_agency["kbnn"]["last_error"]
    assert by_agency["kbnn"]["attempts"] == 1
    assert by_agency["stc"]["state"] == "sent" and by_agency["stc"]["sent_at"].startswith("2025-05-06T08:00")
    text = env.ctl("history", task, check=True).stdout
    assert "kbnn" in text and "failed" in text and "User unknown" in text and "before:14d" in text


@PIPELINING
def test_550_at_data_fails_the_message_without_retry(env, smtp_server, pipelining):
    server = smtp_server(script=Script(data=["550 5.7.1 Message content rejected"]), pipelining=pipelining)
    smtp_config(env, server)
    add_task(env)
    p = run_once(env, FIRST)
    assert p.returncode == 69, p.stderr
    assert set(states(env).values()) == {"failed"}
    assert all("550 5.7.1" in e for *_, e, _ in deliveries(env))
    assert run_once(env, later(FIRST, hours=3)).returncode == 0
    assert server.data_attempts == 1


@PIPELINING
def test_451_for_one_recipient_defers_that_agency_only(env, smtp_server, pipelining):
    server = smtp_server(script=Script(rcpt={"skhdt@sonha.gov.vn": ["451 4.7.1 Greylisted, try again"]}),
                         pipelining=pipelining)
    smtp_config(env, server)
    add_task(env)
    assert run_once(env, FIRST).returncode == 75
    assert states(env) == {"stc": "sent", "skhdt": "pending", "kbnn": "sent"}
    assert run_once(env, later(FIRST, minutes=2)).returncode == 0
    assert [r.rcpt_tos for r in server.received] == [["stc@sonha.gov.vn", "kbnn@sonha.gov.vn"],
                                                     ["skhdt@sonha.gov.vn"]]
    # The resend is the same message: a receiver can tell it is not new.
    a, b = (r.message for r in server.received)
    assert a["Message-ID"] == b["Message-ID"]
    assert set(states(env).values()) == {"sent"}


@PIPELINING
def test_an_agencys_second_address_deferred_gets_the_retry_alone(env, smtp_server, pipelining):
    """An agency with two addresses, one refused for a while: the retry goes
    to that one only; the address that took the message does not get it
    twice. The same with a permanent refusal: failed, but recorded as
    delivered to the other, and not sent again."""
    agencies = AGENCIES.replace('email = ["stc@sonha.gov.vn"]',
                                'email = ["stc@sonha.gov.vn"]; cc = ["VanThu.STC@sonha.gov.vn"]')
    server = smtp_server(script=Script(rcpt={"vanthu.stc@sonha.gov.vn": ["452 4.2.2 Mailbox full"]}),
                         pipelining=pipelining)
    smtp_config(env, server, agencies=agencies)
    add_task(env, support=None)
    assert run_once(env, FIRST).returncode == 75
    assert states(env) == {"stc": "pending"}
    assert env.query("SELECT delivered_to FROM deliveries") == [("stc@sonha.gov.vn",)]
    (d,) = env.ctl_json("history")["deliveries"]
    assert d["delivered_to"] == ["stc@sonha.gov.vn"] and "452 4.2.2" in d["last_error"]
    p = run_once(env, later(FIRST, minutes=2))
    assert p.returncode == 0, p.stderr
    assert [r.rcpt_tos for r in server.received] == [["stc@sonha.gov.vn"], ["VanThu.STC@sonha.gov.vn"]]
    # Both copies are the one message, addressed to both.
    a, b = (r.message for r in server.received)
    assert a["Message-ID"] == b["Message-ID"] and "VanThu.STC@sonha.gov.vn" in a["Cc"]
    assert states(env) == {"stc": "sent"}
    assert run_once(env, later(FIRST, hours=3)).returncode == 0
    assert len(server.received) == 2


def test_a_retry_whose_addresses_all_have_it_is_not_sent_again(env, smtp_server):
    """The deferred address is taken out of the configuration before the
    retry: every address left has the reminder, so it is recorded as sent
    without sending anything."""
    agencies = AGENCIES.replace('email = ["stc@sonha.gov.vn"]',
                                'email = ["stc@sonha.gov.vn"]; cc = ["VanThu.STC@sonha.gov.vn"]')
    server = smtp_server(script=Script(rcpt={"vanthu.stc@sonha.gov.vn": ["452 4.2.2 Mailbox full"]}))
    smtp_config(env, server, agencies=agencies)
    add_task(env, support=None)
    assert run_once(env, FIRST).returncode == 75
    smtp_config(env, server)
    p = run_once(env, later(FIRST, minutes=2))
    assert p.returncode == 0, p.stderr
    assert [r.rcpt_tos for r in server.received] == [["stc@sonha.gov.vn"]]
    assert states(env) == {"stc": "sent"}


def test_a_digest_retry_and_a_new_digest_reach_each_address_once(env, smtp_server):
    """Digests: an agency's retry (one address deferred) and its next
    digest do not share a message; each address gets each task once."""
    agencies = AGENCIES.replace('email = ["stc@sonha.gov.vn"]',
                                'email = ["stc@sonha.gov.vn"]; cc = ["VanThu.STC@sonha.gov.vn"]')
    schedule = ('schedule = { remind_before = ["14d"]; overdue_every = "0s"; send_at = "08:00"; '
                'workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]; digest = true; '
                'notify_on_assign = false; };')
    server = smtp_server(script=Script(rcpt={"vanthu.stc@sonha.gov.vn": ["452 4.2.2 Mailbox full"]}))
    smtp_config(env, server, agencies=agencies, schedule=schedule)
    add_task(env, title="Việc A", support=None, due="2025-05-20", ref="1")
    add_task(env, title="Việc B", support=None, due="2025-05-21", ref="2")
    # 6/5: A's 14-day reminder; the cc address defers it.
    assert run_once(env, "2025-05-06T08:00:30").returncode == 75
    # 7/5: A's retry and B's reminder, claimed together.
    p = run_once(env, "2025-05-07T08:00:30")
    assert p.returncode == 0, p.stderr
    got = {}
    for r in server.received:
        text = text_of(r.message)
        for a in r.rcpt_tos:
            got.setdefault(a.lower(), []).extend(t for t in ("Việc A", "Việc B") if t in text)
    assert sorted(got["stc@sonha.gov.vn"]) == ["Việc A", "Việc B"], got
    assert sorted(got["vanthu.stc@sonha.gov.vn"]) == ["Việc A", "Việc B"], got
    assert set(states(env).values()) == {"sent"}


@PIPELINING
def test_an_agencys_address_refused_for_good_fails_the_row_once(env, smtp_server, pipelining):
    agencies = AGENCIES.replace('email = ["stc@sonha.gov.vn"]',
                                'email = ["stc@sonha.gov.vn", "cu.stc@sonha.gov.vn"]')
    server = smtp_server(script=Script(rcpt={"cu.stc@sonha.gov.vn": "550 5.1.1 User unknown"}),
                         pipelining=pipelining)
    smtp_config(env, server, agencies=agencies)
    add_task(env, support=None)
    assert run_once(env, FIRST).returncode == 69
    assert [r.rcpt_tos for r in server.received] == [["stc@sonha.gov.vn"]]
    assert env.query("SELECT state, delivered_to FROM deliveries") == [("failed", "stc@sonha.gov.vn")]
    assert run_once(env, later(FIRST, hours=3)).returncode == 0
    assert len(server.received) == 1


@PIPELINING
def test_all_recipients_refused_fails_them_and_the_connection_goes_on(env, smtp_server, pipelining):
    refuse = "550 5.1.1 Recipient address rejected: User unknown"
    server = smtp_server(script=Script(rcpt={a: refuse for a in ("stc@sonha.gov.vn", "skhdt@sonha.gov.vn",
                                                                 "kbnn@sonha.gov.vn")}), pipelining=pipelining)
    smtp_config(env, server, smtp_extra="max_connections = 1;")
    first = add_task(env)
    second = add_task(env, "Việc khác", "sxd", None, DUE, None)
    assert run_once(env, FIRST).returncode == 69
    assert {a: s for a, s, *_ in deliveries(env, first)} == {"stc": "failed", "skhdt": "failed", "kbnn": "failed"}
    assert [s for _, s, *_ in deliveries(env, second)] == ["sent"]
    (r,) = server.received
    assert r.rcpt_tos == ["sxd@sonha.gov.vn"]
    # One connection: the refused transaction was reset, not the session.
    assert server.connections == 1
    assert "RSET" in server.verbs()


@PIPELINING
def test_mail_from_refused_with_4xx_is_retried(env, smtp_server, pipelining):
    server = smtp_server(script=Script(mail=["451 4.3.2 System not accepting network messages"]),
                         pipelining=pipelining)
    smtp_config(env, server)
    add_task(env)
    assert run_once(env, FIRST).returncode == 75
    assert set(states(env).values()) == {"pending"}
    assert all("MAIL FROM refused: 451 4.3.2" in e for *_, e, _ in deliveries(env))
    assert run_once(env, later(FIRST, minutes=2)).returncode == 0
    assert len(server.received) == 1


def test_commands_are_pipelined_when_the_server_offers_it(env, smtp_server):
    server = smtp_server(pipelining=True)
    smtp_config(env, server)
    add_task(env)
    assert run_once(env, FIRST).returncode == 0
    assert len(server.received) == 1
    envelope = b"MAIL FROM:<nhacviec@sonha.gov.vn>\r\nRCPT TO:<stc@sonha.gov.vn>\r\n" \
               b"RCPT TO:<skhdt@sonha.gov.vn>\r\nRCPT TO:<kbnn@sonha.gov.vn>\r\nDATA\r\n"
    assert any(c.startswith(envelope) for c in server.chunks), server.chunks


def test_given_up_after_max_retry_age_is_an_error_and_shown_failed(env, smtp_server):
    server = smtp_server(script=Script(rcpt={"stc@sonha.gov.vn": "451 4.3.0 Try again later"}))
    smtp_config(env, server, delivery='retry_min = "10m"; retry_max = "1h"; max_retry_age = "30m";')
    task = add_task(env, support=None)
    assert run_once(env, FIRST).returncode == 75
    assert states(env) == {"stc": "pending"}
    p = run_once(env, later(FIRST, minutes=12))
    # The next wait (20 minutes) would end past 30 minutes after the first
    # attempt: it is cut short to end there, for a last attempt.
    assert p.returncode == 75, p.stderr
    assert states(env) == {"stc": "pending"}
    [(first, nxt)] = env.query("SELECT first_attempt_at, next_attempt_at FROM deliveries")
    assert nxt == first + 30 * 60
    p = run_once(env, later(FIRST, minutes=30))
    assert p.returncode == 69, p.stderr
    assert states(env) == {"stc": "failed"}
    err = [line for line in p.stderr.splitlines() if "gave up" in line]
    assert err and err[0].startswith("<3>"), p.stderr   # logged at error priority
    hist = env.ctl_json("history", task)
    (d,) = hist["deliveries"]
    assert d["state"] == "failed" and d["attempts"] == 3 and "451 4.3.0" in d["last_error"]
    assert d["first_attempt_at"].startswith(FIRST)
    assert env.ctl_json("status")["failed"][0]["agency"] == "stc"


def test_max_retry_age_counts_from_the_first_attempt_not_the_rows_creation(env, smtp_server):
    """A delivery made long before it is first tried (here: made three days
    before, as after a long stop) still gets its whole max_retry_age."""
    server = smtp_server(script=Script(rcpt={"stc@sonha.gov.vn": "451 4.3.0 Try again later"}))
    smtp_config(env, server, delivery='retry_min = "5m"; retry_max = "1h"; max_retry_age = "30m";')
    task = add_task(env, support=None)
    assert run_once(env, FIRST).returncode == 75
    env.execute("UPDATE deliveries SET created_at = created_at - 3 * 86400")
    p = run_once(env, later(FIRST, minutes=6))
    assert p.returncode == 75, p.stderr
    assert states(env) == {"stc": "pending"}
    (d,) = env.ctl_json("history", task)["deliveries"]
    assert d["created_at"].startswith("2025-05-03T08:00:")
    assert d["first_attempt_at"].startswith("2025-05-06T08:00:")


@PIPELINING
def test_many_reminders_each_arrive_once_and_whole(env, smtp_server, pipelining):
    """More deliveries than the daemon claims at a time: no message is split
    between claims, none goes twice, all go over a few kept connections."""
    server = smtp_server(pipelining=pipelining)
    smtp_config(env, server, smtp_extra="max_connections = 3;")
    bulk = [(f"Việc số {i}", ["stc", "sxd", "kbnn", "stttt"][i % 4], ["skhdt", "h-anlac"][i % 2]) for i in range(400)]
    created = int(datetime.datetime(2025, 5, 1, 9, 0, tzinfo=HANOI).timestamp())
    due_at = int(datetime.datetime(2025, 5, 20, 23, 59, 59, tzinfo=HANOI).timestamp())
    insert_tasks(env, [(title, DUE, due_at, created, [(lead, "lead"), (support, "support")])
                       for title, lead, support in bulk])
    p = run_once(env, FIRST)
    assert p.returncode == 0, p.stderr
    assert len(server.received) == 400
    tasks = [r.message["X-Deadlined-Task"] for r in server.received]
    assert len(set(tasks)) == 400
    assert all(len(r.rcpt_tos) == 2 for r in server.received)
    assert server.connections <= 3
    assert env.query("SELECT count(*) FROM deliveries WHERE state = 'sent'")[0][0] == 800


def add_many(env, n):
    created = int(datetime.datetime(2025, 5, 1, 9, 0, tzinfo=HANOI).timestamp())
    due_at = int(datetime.datetime(2025, 5, 20, 23, 59, 59, tzinfo=HANOI).timestamp())
    insert_tasks(env, [(f"Việc số {i}", DUE, due_at, created, [(["stc", "sxd", "kbnn", "stttt"][i % 4], "lead")])
                       for i in range(n)])


def test_sigterm_during_sends_loses_nothing_and_doubles_nothing(env, smtp_server):
    server = smtp_server(script=Script(data_delay=0.2), pipelining=True)
    smtp_config(env, server, smtp_extra="max_connections = 2;")
    add_many(env, 60)
    p = start_daemon(env, "--now", FIRST)
    try:
        assert wait_for(lambda: len(server.received) >= 4)
        t0 = time.monotonic()
        p.send_signal(signal.SIGTERM)
        assert p.wait(10) == 0
        # Only the two transactions under way were waited for.
        assert time.monotonic() - t0 < 2
    finally:
        stop(p)
    by_state = dict(env.query("SELECT state, count(*) FROM deliveries GROUP BY state"))
    assert "attempting" not in by_state
    assert by_state["sent"] == len(server.received) < 60
    assert by_state["pending"] == 60 - len(server.received)
    assert run_once(env, later(FIRST, minutes=1)).returncode == 0
    tasks = [r.message["X-Deadlined-Task"] for r in server.received]
    assert len(tasks) == 60 and len(set(tasks)) == 60


def test_failed_connections_leave_no_file_descriptor_behind(env, smtp_server, test_ca):
    server = smtp_server(tls=test_ca, require_tls=True)
    smtp_config(env, server, tls=test_ca, ca=test_ca.other_ca_cert,
                delivery='retry_min = "1s"; retry_max = "1s"; max_retry_age = "1h";')
    add_task(env)
    p = start_daemon(env, "--now", FIRST)
    try:
        def fds():
            return len(os.listdir(f"/proc/{p.pid}/fd"))
        assert wait_for(lambda: server.connections >= 2, timeout=15)
        before = fds()
        assert wait_for(lambda: server.connections >= 4, timeout=15)
        time.sleep(0.3)
        assert fds() <= before
        assert server.received == [] and p.poll() is None
    finally:
        stop(p)


def test_connections_are_bounded_and_reused(env, smtp_server):
    server = smtp_server()
    smtp_config(env, server, smtp_extra="max_connections = 2;")
    for i in range(12):
        add_task(env, f"Việc số {i}", ["stc", "sxd", "kbnn"][i % 3], None, DUE, None)
    p = run_once(env, FIRST)
    assert p.returncode == 0, p.stderr
    assert len(server.received) == 12
    assert server.connections <= 2
    assert server.max_sessions <= 2


def test_status_counts_deliveries_and_tells_the_next_reminder(env, smtp_server):
    server = smtp_server(script=Script(rcpt={"kbnn@sonha.gov.vn": "451 4.2.0 Mailbox busy"}))
    smtp_config(env, server)
    empty = env.ctl_json("status")
    assert empty["deliveries"] == {"pending": 0, "attempting": 0, "sent": 0, "failed": 0}
    assert empty["failed"] == [] and empty["retrying"] == []
    task = add_task(env)
    assert run_once(env, FIRST).returncode == 75
    st = env.ctl_json("--now", FIRST, "status")
    assert st["deliveries"] == {"pending": 1, "attempting": 0, "sent": 2, "failed": 0}
    assert st["next_reminder"] == "2025-05-13T08:00:00+07:00"      # the 7-day one
    (r,) = st["retrying"]
    assert r["agency"] == "kbnn" and r["task"] == task and "451 4.2.0 Mailbox busy" in r["last_error"]
    assert r["next_attempt_at"] > "2025-05-06T08:01" and r["attempts"] == 1
    assert st["next_attempt"] == r["next_attempt_at"]
    text = env.ctl("--now", FIRST, "status", check=True).stdout
    assert "2 sent, 1 pending, 0 attempting, 0 failed" in text
    assert "Next reminder: 2025-05-13 08:00:00 (in 6d 23h)" in text
    assert "kbnn" in text and "Mailbox busy" in text and "before:14d" in text
    hist = env.ctl("history", task, check=True).stdout
    assert hist.startswith(f"Task {task}: {TITLE}\n")
    assert len([line for line in hist.splitlines() if "before:14d" in line]) == 3
    assert env.ctl("history", "999").returncode == 65
    assert env.ctl("history", "x").returncode == 64
    # Without a task: the newest deliveries of all.
    recent = env.ctl_json("history", "--limit", "2")["deliveries"]
    assert [d["agency"] for d in recent] == ["kbnn", "skhdt"]
    assert "TASK" in env.ctl("history", check=True).stdout.splitlines()[0]


# --- deadlinectl send-test ---------------------------------------------------------------------------------


def test_send_test_prints_the_servers_reply(env, smtp_server, test_ca):
    server = smtp_server(tls=test_ca, require_tls=True, auth=(USER, PASSWORD))
    smtp_config(env, server, tls=test_ca, ca=test_ca.ca_cert, auth=True)
    p = env.ctl("send-test", "stc")
    assert p.returncode == 0, p.stderr
    assert "250 2.0.0 OK: queued" in p.stdout and "stc@sonha.gov.vn" in p.stdout
    (r,) = server.received
    assert r.tls and r.auth and r.rcpt_tos == ["stc@sonha.gov.vn"]
    assert r.message["Subject"] and r.message.defects == []
    assert r.message["X-Deadlined-Task"] is None


def test_send_test_reports_a_refusal(env, smtp_server):
    server = smtp_server(script=Script(data=["554 5.7.1 Rejected by policy"]))
    smtp_config(env, server)
    p = env.ctl("--json", "send-test", "kbnn")
    assert p.returncode == 69
    out = json.loads(p.stdout)
    assert out["result"] == "failed" and "554 5.7.1 Rejected by policy" in out["reply"]
    assert "554 5.7.1" in p.stderr


def test_send_test_refuses_unknown_agency_and_channel(env, smtp_server):
    server = smtp_server()
    smtp_config(env, server)
    assert env.ctl("send-test", "nope").returncode == 65
    assert env.ctl("send-test", "cacso").returncode == 65
    assert env.ctl("send-test", "--channel", "pigeon", "stc").returncode == 64
    assert server.connections == 0
