# SPDX-License-Identifier: GPL-2.0-or-later
"""The inbox read from a real IMAP server: Debian's dovecot on a loopback
port with implicit TLS and a certificate from the test CA (imapserver.py),
holding the agencies' replies of tests/data/replies, their thread ids
pointed at the reminders the daemon really sent. Run by `make check-imap`
(marker `imap`), not by `make check`."""

import os
import re
import time

import pytest

from conftest import SCHEDULE, SOURCE
from daemon_helpers import run_once, start_daemon, stop, wait_until
from imapserver import PASSWORD, USER, Dovecot

pytestmark = pytest.mark.imap

CORPUS = SOURCE / "tests" / "data" / "replies"

AGENCIES = """
agencies = (
  { id = "stc"; name = "Sở Tài chính"; email = ["stc@sonha.gov.vn"]; cc = ["tranvannam.stc@gmail.com"]; },
  { id = "syt"; name = "Sở Y tế"; email = ["hoa.nt@syt.sonha.gov.vn"]; },
  { id = "snv"; name = "Sở Nội vụ"; email = ["lethib@sonoivu.sonha.gov.vn"]; },
  { id = "sxd"; name = "Sở Xây dựng"; email = ["sxd@sonha.gov.vn"]; },
  { id = "skhdt"; name = "Sở Kế hoạch và Đầu tư"; email = ["skhdt@sonha.gov.vn"]; },
  { id = "vpubnd"; name = "Văn phòng UBND tỉnh"; email = ["vanthu.vpub@sonha.gov.vn"]; },
  { id = "lanhdao"; name = "Lãnh đạo UBND tỉnh"; email = ["lanhdao@sonha.gov.vn"]; }
);
"""


@pytest.fixture
def dovecot(test_ca):
    d = Dovecot(test_ca)
    yield d
    d.stop()


def configure(env, dovecot, test_ca, *, poll_every="5m", ca=None, password=PASSWORD, url=None):
    secret = env.path / "imap-password"
    secret.write_text(password + "\n")
    os.chmod(secret, 0o600)
    inbox = (f'inbox = {{ url = "{url or dovecot.url}"; username = "{USER}"; password_file = "imap-password";\n'
             f'  ca_file = "{ca or test_ca.ca_cert}"; address = "theodoi@sonha.gov.vn";\n'
             f'  poll_every = "{poll_every}"; timeout = "20s"; }};\n')
    env.write_config(agencies=AGENCIES, extra=inbox, schedule=SCHEDULE)


def add(env, title, agency, *extra):
    return env.ctl_json("--now", "2025-06-01T09:00", "add", title, "--agency", agency, "--due", "2025-06-12",
                        *extra)["id"]


def reminders(env):
    """The Message-ID of the reminder each task got, by task id."""
    out = {}
    for m in env.messages():
        mid = m["Message-ID"]
        found = re.search(r"deadlined\.[^.]+\.(\d+)-", mid)
        if found:
            out[int(found.group(1))] = mid.strip()
    return out


def adjusted(name, env, tasks, sent):
    """A corpus reply as it would arrive here: its thread ids and tags name
    this database's instance and tasks, its In-Reply-To the reminder the
    task really got."""
    raw = (CORPUS / name).read_bytes().decode("latin-1")
    inst = env.instance_id()

    def thread(m):
        n = int(m.group(2))
        return f"deadlined.{inst}.{m.group(1) or ''}{tasks.get(n, n)}"
    raw = re.sub(r"deadlined\.7c1e9a4b2d\.(task-)?(\d+)", thread, raw)
    raw = re.sub(r"#(1[23]\d)\b", lambda m: f"#{tasks.get(int(m.group(1)), 9999)}", raw)
    found = re.search(r"^In-Reply-To: <deadlined\.[^.]+\.(\d+)-[^>]*>", raw, re.M)
    if found and int(found.group(1)) in sent:
        raw = raw[:found.start()] + "In-Reply-To: " + sent[int(found.group(1))] + raw[found.end():]
    return raw.encode("latin-1")


def inbox_rows(env):
    return {r[0]: r[1:] for r in env.query(
        "SELECT message_id, state, task_id, agency, intent, asked_day, evidence, note FROM inbox_messages")}


def tasks_table(env):
    return env.query("SELECT id, status, due, due_at, closed_at, updated_at FROM tasks ORDER BY id")


def test_corpus_replies_are_recognised_or_refused(env, dovecot, test_ca):
    configure(env, dovecot, test_ca)
    t = {
        123: add(env, "Rà soát", "stc", "--ref", "5.c"),
        124: add(env, "Kiểm tra an toàn thực phẩm", "syt"),
        125: add(env, "Báo cáo kết quả", "stc"),
        126: add(env, "Tuyển dụng viên chức", "snv"),
        128: add(env, "Quá hạn xây dựng", "sxd"),
    }
    p = run_once(env, "--now", "2025-06-09T09:00")
    assert p.returncode == 0, p.stderr
    sent = reminders(env)
    assert set(sent) == set(t.values())
    sent_by_old = {old: sent[new] for old, new in t.items()}

    files = ["outlook-html-received.eml", "outlook-plain-done.eml", "gmail-vao-da-viet.eml",
             "plain-no-diacritics.eml", "attachment-bao-cao.eml", "digest-reply-task-ref.eml", "forwarded.eml"]
    for f in files:
        dovecot.append(adjusted(f, env, t, sent_by_old))
    # A reply to a digest that names no task.
    digest = adjusted("digest-reply-task-ref.eml", env, t, sent_by_old).replace(
        "Nhiệm vụ 5.c đã hoàn thành, các nhiệm vụ khác đang thực hiện.".encode(),
        "Chúng tôi đang thực hiện các nhiệm vụ.".encode()).replace(
        b"<5d2c9e10.3b4a.4c1e@", b"<digest-none@")
    digest = re.sub(rb"\n> .*", b"", digest)
    dovecot.append(digest)
    # A forged References from an outside address.
    forged = adjusted("outlook-plain-done.eml", env, t, sent_by_old).replace(
        b'"Nguyen Thi Hoa (SYT)" <hoa.nt@syt.sonha.gov.vn>', b"Ke gia mao <hoa.nt@syt-sonha.example>").replace(
        b"$@syt.sonha.gov.vn>", b"$@forged.example>")
    dovecot.append(forged)

    before = tasks_table(env)
    p = run_once(env, "--now", "2025-06-10T09:00")
    rows = inbox_rows(env)
    assert p.returncode == 0, p.stderr
    assert len(rows) == 9, (rows, p.stderr)
    by = lambda needle: next(v for k, v in rows.items() if k and needle in k)

    outlook = by("SEYPR04MB6457A1B2C3D4E5F6")
    assert outlook[:3] == ("pending", t[123], "stc")          # From STC@…: any case
    plain = by("6a2b1c40$3e8154c0$@syt")
    assert plain[:4] == ("pending", t[124], "syt", "done")
    gmail = by("CAF8x3vQ")
    assert gmail[:3] == ("pending", t[125], "stc")           # a cc address of stc
    nodiac = by("4F2A1C0@mail.sonoivu")
    assert nodiac[:3] == ("pending", t[126], "snv")
    attach = by("b7e2c1d0")
    assert attach[:4] == ("pending", t[128], "sxd", "done") and attach[5]
    assert by("5d2c9e10")[:3] == ("pending", t[123], "stc")   # digest reply naming 5.c
    assert by("digest-none")[:3] == ("unassigned", None, "stc")
    fwd = by("CAB1x9kR7tq0")
    assert fwd[0] == "ignored" and fwd[1] is None and "ducvh1987@gmail.com" in fwd[6]
    forged_row = by("forged.example")
    assert forged_row[0] == "ignored" and "hoa.nt@syt-sonha.example" in forged_row[6]
    assert "ignored: from ducvh1987@gmail.com" in p.stderr

    # Nothing changed a task; each pending reply is acknowledged through the outbox.
    assert tasks_table(env) == before
    pending = [r for r in env.query("SELECT id FROM inbox_messages WHERE state = 'pending'")]
    acks = env.query("SELECT slot, agency, state FROM deliveries WHERE slot LIKE 'ack:%'")
    assert sorted(a[0] for a in acks) == sorted(f"ack:{i}" for (i,) in pending)
    assert {a[2] for a in acks} == {"sent"}
    # Each went to the reply's sender alone, in the reply's thread.
    replies = {r[0]: r[1:] for r in env.query(
        "SELECT message_id, sender, subject FROM inbox_messages WHERE state = 'pending'")}
    answered = [m for m in env.messages() if m["In-Reply-To"] and m["In-Reply-To"].strip("<>") in replies]
    assert len(answered) == len(pending), [m["Subject"] for m in env.messages()]
    for m in answered:
        sender, subject = replies[m["In-Reply-To"].strip("<>")]
        assert m["To"].addresses[0].addr_spec.lower() in sender.lower()
        assert m["Subject"].startswith("Re: ") and not m["Subject"].startswith("Re: Re:")
        assert m["In-Reply-To"].strip("<>") in m["References"]
    done_ack = next(m for m in answered if "6a2b1c40$3e8154c0$@syt" in m["In-Reply-To"])
    assert "Đã nhận báo cáo hoàn thành nhiệm vụ, đang chờ xác nhận." in done_ack.get_body(("plain",)).get_content()
    # The messages keep their flags: none was marked \Seen.
    flags = dovecot.flags()
    assert len(flags) == 9 and all("\\Seen" not in f for f in flags.values()), flags

    # The officer confirms the report with its attachment: the task is done
    # on the reply's date, the attachment its evidence, in its history.
    n = env.query("SELECT id FROM inbox_messages WHERE message_id LIKE '%b7e2c1d0%'")[0][0]
    assert env.ctl("--now", "2025-06-13T09:30", "confirm", n).returncode == 0
    [(status,)] = env.query("SELECT status FROM tasks WHERE id = ?", t[128])
    [(done_on, note)] = env.query("SELECT done_on, note FROM completions WHERE task_id = ?", t[128])
    assert status == "done" and done_on == "2025-06-12"  # its Date: 12 Jun 2025
    assert all(name in note for name in attach[5].split("\n"))
    assert any(e.get("field") == "status" for e in env.ctl_json("history", t[128])["changes"])

    # A second pass reads nothing again.
    dump = env.query("SELECT * FROM inbox_messages ORDER BY id")
    p = run_once(env, "--now", "2025-06-10T10:00")
    assert env.query("SELECT * FROM inbox_messages ORDER BY id") == dump
    assert "Inbox message" not in p.stderr


def reply(sender, subject, body, *, mid, in_reply_to=None, extra=b""):
    head = (f"From: {sender}\r\nTo: theodoi@sonha.gov.vn\r\nSubject: {subject}\r\n"
            f"Date: Tue, 10 Jun 2025 08:00:00 +0700\r\nMessage-ID: <{mid}>\r\n")
    if in_reply_to:
        head += f"In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n"
    head += "MIME-Version: 1.0\r\n"
    if not extra:
        head += "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
    return head.encode() + extra + b"\r\n" + body.encode() + b"\r\n"


def test_large_message_and_mime_bomb_are_logged_and_change_nothing(env, dovecot, test_ca):
    configure(env, dovecot, test_ca)
    task = add(env, "Báo cáo quý", "stc")
    assert run_once(env, "--now", "2025-06-09T09:00").returncode == 0
    # 50 MB, written straight into the Maildir.
    big = reply("stc@sonha.gov.vn", f"Re: [#{task}] Báo cáo", "Đã hoàn thành.", mid="big@stc.sonha.gov.vn")
    dovecot.drop("big", big + b"x" * (50 * 1024 * 1024) + b"\r\n")
    # Multipart nested 60 levels deep.
    bomb = b"".join(f"--b{i}\r\nContent-Type: multipart/mixed; boundary=b{i + 1}\r\n\r\n".encode()
                    for i in range(60)) + "--b60\r\nContent-Type: text/plain\r\n\r\nĐã hoàn thành.\r\n".encode()
    dovecot.append(reply("stc@sonha.gov.vn", f"Re: [#{task}] Báo cáo", "", mid="bomb@stc.sonha.gov.vn",
                         extra=b"Content-Type: multipart/mixed; boundary=b0\r\n") + bomb)
    # Many parts side by side.
    many = b"".join(b"--p\r\nContent-Type: text/plain\r\n\r\nx\r\n" for _ in range(5000)) + b"--p--\r\n"
    dovecot.append(reply("stc@sonha.gov.vn", f"Re: [#{task}] Báo cáo", "", mid="many@stc.sonha.gov.vn",
                         extra=b"Content-Type: multipart/mixed; boundary=p\r\n") + many)
    # And a good one after them, which is still read.
    dovecot.append(reply("stc@sonha.gov.vn", f"Re: [#{task}] Báo cáo", "Đã hoàn thành.", mid="ok@stc.sonha.gov.vn"))
    before = tasks_table(env)
    p = run_once(env, "--now", "2025-06-10T09:00", timeout=180)
    rows = env.query("SELECT uid, message_id, state, task_id, note FROM inbox_messages ORDER BY uid")
    states = [r[2] for r in rows]
    assert states.count("ignored") == 3 and states.count("pending") == 1, (rows, p.stderr)
    assert rows[-1][1] == "ok@stc.sonha.gov.vn" and rows[-1][3] == task
    assert any("too large" in (r[4] or "") for r in rows)
    assert sum("beyond the reader's limits" in (r[4] or "") for r in rows) == 2
    assert p.stderr.count("left unread: too large") == 1
    assert p.stderr.count("beyond the reader's limits") == 2
    assert tasks_table(env) == before
    assert all("\\Seen" not in f for f in dovecot.flags().values())


def test_reply_to_a_deleted_task_is_logged_and_changes_nothing(env, dovecot, test_ca):
    configure(env, dovecot, test_ca)
    task = add(env, "Báo cáo quý", "stc")
    assert run_once(env, "--now", "2025-06-09T09:00").returncode == 0
    [mid] = reminders(env).values()
    env.ctl("delete", "--force", task, check=True)
    dovecot.append(reply("stc@sonha.gov.vn", f"Re: [#{task}] Báo cáo", "Đã hoàn thành.",
                         mid="late@stc.sonha.gov.vn", in_reply_to=mid))
    p = run_once(env, "--now", "2025-06-10T09:00")
    assert p.returncode == 0, p.stderr
    assert f"about task {task}, which does not exist" in p.stderr
    assert env.query("SELECT state, task_id FROM inbox_messages") == [("ignored", None)]
    assert env.query("SELECT count(*) FROM deliveries WHERE slot LIKE 'ack:%'") == [(0,)]
    assert env.query("SELECT count(*) FROM tasks") == [(0,)]


def test_certificate_from_another_ca_is_refused(env, dovecot, test_ca):
    configure(env, dovecot, test_ca, ca=test_ca.other_ca_cert)
    task = add(env, "Báo cáo quý", "stc")
    dovecot.append(reply("stc@sonha.gov.vn", f"Re: [#{task}] Báo cáo", "Đã hoàn thành.", mid="a@stc.sonha.gov.vn"))
    p = run_once(env, "--now", "2025-06-10T09:00")
    lines = [line for line in p.stderr.splitlines() if "inbox" in line.lower()]
    assert len(lines) == 1 and "Cannot read the inbox" in lines[0], p.stderr
    assert "certificate" in lines[0].lower(), lines[0]
    assert env.query("SELECT count(*) FROM inbox_messages") == [(0,)]
    # The one login is the test's own APPEND: the daemon never sent the password.
    assert dovecot.log_text().count("Login: user=<theodoi>") == 1
    assert "unknown ca" in dovecot.log_text()


def test_wrong_password_is_one_line_a_poll_and_the_daemon_runs_on(env, dovecot, test_ca):
    configure(env, dovecot, test_ca, poll_every="2s", password="not-the-password")
    p = start_daemon(env)
    log = env.path / "daemon.log"
    try:
        assert wait_until(lambda: "Cannot read the inbox" in log.read_text(), timeout=20), log.read_text()
        assert wait_until(lambda: log.read_text().count("Cannot read the inbox") >= 2, timeout=20)
        assert p.poll() is None
        text = log.read_text()
        failing = [line for line in text.splitlines() if "Cannot read the inbox" in line]
        assert "not-the-password" not in text
        assert all("IMAP connection failed" in line for line in failing), failing
    finally:
        assert stop(p) == 0


def test_message_appended_while_running_is_read_within_poll_every(env, dovecot, test_ca):
    configure(env, dovecot, test_ca, poll_every="2s")
    task = add(env, "Báo cáo quý", "stc")
    p = start_daemon(env)
    log = env.path / "daemon.log"
    try:
        # The first poll at the start finds nothing.
        assert wait_until(lambda: "Started" in log.read_text(), timeout=20)
        time.sleep(1)
        dovecot.append(reply("stc@sonha.gov.vn", f"Re: [#{task}] Báo cáo", "Đã hoàn thành.",
                             mid="live@stc.sonha.gov.vn"))
        t0 = time.monotonic()
        assert wait_until(lambda: env.query("SELECT count(*) FROM inbox_messages") == [(1,)], timeout=20)
        # Within poll_every, with room for a loaded machine.
        assert time.monotonic() - t0 < 2 + 5
        assert env.query("SELECT state, task_id FROM inbox_messages") == [("pending", task)]
        assert p.poll() is None
    finally:
        assert stop(p) == 0
    assert all("\\Seen" not in f for f in dovecot.flags().values())


def test_new_uidvalidity_does_not_read_a_reply_twice(env, dovecot, test_ca):
    configure(env, dovecot, test_ca)
    task = add(env, "Báo cáo quý", "stc")
    dovecot.append(reply("stc@sonha.gov.vn", f"Re: [#{task}] Báo cáo", "Đã hoàn thành.", mid="once@stc.sonha.gov.vn"))
    dovecot.append(reply("stc@sonha.gov.vn", f"Re: [#{task}] Báo cáo", "Xong.", mid="seen@stc.sonha.gov.vn"),
                   flags="(\\Seen)")
    run_once(env, "--now", "2025-06-10T09:00")
    [(v1,)] = env.query("SELECT DISTINCT uidvalidity FROM inbox_messages")
    assert env.query("SELECT count(*) FROM inbox_messages") == [(2,)]
    # The server forgets its UIDs (a rebuilt mailbox): a new UIDVALIDITY.
    for f in dovecot.maildir.iterdir():
        if f.name.startswith("dovecot"):
            f.unlink()
    time.sleep(1.1)
    run_once(env, "--now", "2025-06-10T10:00")
    assert env.query("SELECT count(*) FROM inbox_messages") == [(2,)]
    flags = sorted(dovecot.flags().values())
    # The message that was \Seen stays so, the other stays unseen.
    assert flags == [[], ["\\Seen"]], flags
    m = dovecot.client()
    try:
        assert int(m.response("UIDVALIDITY")[1][0]) != v1
    finally:
        m.logout()


def test_imap_with_starttls(env, dovecot, test_ca):
    configure(env, dovecot, test_ca, url=dovecot.starttls_url)
    task = add(env, "Báo cáo quý", "stc")
    dovecot.append(reply("stc@sonha.gov.vn", f"Re: [#{task}] Báo cáo", "Đã hoàn thành.", mid="tls@stc.sonha.gov.vn"))
    p = run_once(env, "--now", "2025-06-10T09:00")
    assert env.query("SELECT state, task_id FROM inbox_messages") == [("pending", task)], p.stderr
    # Both logins (the test's APPEND and the daemon's, after STARTTLS) went over TLS.
    logins = [line for line in dovecot.log_text().splitlines() if "Login: user=<theodoi>" in line]
    assert len(logins) == 2 and all(", TLS," in line for line in logins), logins


def test_reload_while_reading_restarts_the_reading(env, dovecot, test_ca):
    import signal
    configure(env, dovecot, test_ca, poll_every="1s")
    task = add(env, "Báo cáo quý", "stc")
    p = start_daemon(env)
    log = env.path / "daemon.log"
    try:
        assert wait_until(lambda: "Started" in log.read_text(), timeout=20)
        for _ in range(10):
            p.send_signal(signal.SIGHUP)
            time.sleep(0.15)
        assert wait_until(lambda: log.read_text().count("Reloaded") >= 1, timeout=20)
        dovecot.append(reply("stc@sonha.gov.vn", f"Re: [#{task}] Báo cáo", "Đã hoàn thành.",
                             mid="reload@stc.sonha.gov.vn"))
        assert wait_until(lambda: env.query("SELECT count(*) FROM inbox_messages") == [(1,)], timeout=20)
        assert p.poll() is None
    finally:
        assert stop(p) == 0
    assert "Cannot read the inbox" not in log.read_text()


def test_many_messages_are_read_500_a_poll(env, dovecot, test_ca):
    configure(env, dovecot, test_ca)
    task = add(env, "Báo cáo quý", "stc")
    m = dovecot.client()
    try:
        for i in range(600):
            typ, _ = m.append("INBOX", "", None, reply("stc@sonha.gov.vn", f"Re: [#{task}] Báo cáo", f"Ý kiến {i}.",
                                                      mid=f"many{i}@stc.sonha.gov.vn"))
            assert typ == "OK"
    finally:
        m.logout()
    run_once(env, "--now", "2025-06-10T09:00", timeout=300)
    assert env.query("SELECT count(*), min(uid), max(uid) FROM inbox_messages") == [(500, 1, 500)]
    run_once(env, "--now", "2025-06-10T09:05", timeout=300)
    assert env.query("SELECT count(*), count(DISTINCT message_id) FROM inbox_messages") == [(600, 600)]
