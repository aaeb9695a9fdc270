# SPDX-License-Identifier: GPL-2.0-or-later
"""What deadlined's messages carry so that an agency can answer them: the
task tag "[#ID]" in every subject about one task (and "#ID" on each task
line of a digest), thread ids for digests, Reply-To the inbox, the
acknowledgement of a reply and the answer to a rejected one in the reply's
own thread, and reminders paused while a report of completion waits."""

from conftest import SCHEDULE
from daemon_helpers import run_once


def english(env, **kw):
    env.write_config(**kw)
    env.config.write_text(env.config.read_text(encoding="utf-8").replace('language = "vi"', 'language = "en"'),
                          encoding="utf-8")


def add(env, title, *args):
    return env.ctl_json("--now", "2025-05-01T09:00", "add", title, *args)["id"]


def test_every_message_about_one_task_carries_its_tag(env):
    a = add(env, "Báo cáo quý", "--agency", "stc", "--support", "kbnn", "--ref", "5.c", "--due", "2025-05-20")
    b = add(env, "Kế hoạch năm", "--agency", "skhdt", "--due", "2025-05-20")
    p = run_once(env, "--now", "2025-05-06T08:00:30")
    assert p.returncode == 0, p.stderr
    subjects = sorted(m["Subject"] for m in env.messages())
    assert subjects == [
        f"[Nhắc việc] Còn 14 ngày: 5.c — Báo cáo quý (hạn 20/5/2025) [#{a}]",
        f"[Nhắc việc] Còn 14 ngày: Kế hoạch năm (hạn 20/5/2025) [#{b}]",
    ], subjects


def test_english_subject_carries_the_tag(env):
    english(env)
    a = add(env, "Quarterly report", "--agency", "stc", "--due", "2025-05-20")
    assert run_once(env, "--now", "2025-05-06T08:00:30").returncode == 0
    [m] = env.messages()
    assert m["Subject"].startswith("[Reminder]") and m["Subject"].endswith(f" [#{a}]")


def test_a_digest_subject_has_no_tag_but_each_task_line_shows_its_number(env):
    env.write_config(schedule=SCHEDULE.replace("digest = false", "digest = true"))
    a = add(env, "Báo cáo quý", "--agency", "stc", "--ref", "5.c", "--due", "2025-05-20")
    b = add(env, "Kế hoạch năm", "--agency", "stc", "--due", "2025-05-20")
    assert run_once(env, "--now", "2025-05-06T08:00:30").returncode == 0
    [m] = env.messages()
    assert "[#" not in m["Subject"]
    plain = m.get_body(("plain",)).get_content()
    html = m.get_body(("html",)).get_content()
    assert f"1. [#{a}] Nhiệm vụ 5.c: Báo cáo quý" in plain
    assert f"2. [#{b}] Kế hoạch năm" in plain
    assert f"[#{a}]" in html and f"[#{b}]" in html


def test_digests_of_an_agency_on_one_day_thread_together_and_name_it(env):
    env.write_config(schedule=SCHEDULE.replace("digest = false", "digest = true"))
    add(env, "Báo cáo quý", "--agency", "stc", "--due", "2025-05-20")
    add(env, "Kế hoạch năm", "--agency", "stc", "--support", "kbnn", "--due", "2025-05-20")
    assert run_once(env, "--now", "2025-05-06T08:00:30").returncode == 0
    # A task added later that day is due at once: a second digest to stc.
    add(env, "Việc gấp", "--agency", "stc", "--due", "2025-05-06T17:00")
    assert run_once(env, "--now", "2025-05-06T16:00:30").returncode == 0
    inst = env.instance_id()
    stc = [m for m in env.messages() if m["To"].addresses[0].addr_spec == "stc@sonha.gov.vn"]
    kbnn = [m for m in env.messages() if m["To"].addresses[0].addr_spec == "kbnn@sonha.gov.vn"]
    assert len(stc) == 2 and len(kbnn) == 1
    root = f"<deadlined.{inst}.digest.stc.2025-05-06@sonha.gov.vn>"
    for m in stc:
        assert m["In-Reply-To"] == root and m["References"] == root
        assert m["Message-ID"].startswith(f"<deadlined.{inst}.digest.stc.2025-05-06.")
    assert stc[0]["Message-ID"] != stc[1]["Message-ID"]
    assert kbnn[0]["In-Reply-To"] == f"<deadlined.{inst}.digest.kbnn.2025-05-06@sonha.gov.vn>"


def record_reply(env, task, intent, *, uid=1, asked_day=None, subject=None, sender="vanthu@stc.sonha.gov.vn",
                 agency="stc", state="pending"):
    """An agency's reply, as the daemon's inbox reader records it."""
    subject = subject if subject is not None else f"Re: [Nhắc việc] Báo cáo quý [#{task}]"
    [(row_id,)] = env.execute(
        "INSERT INTO inbox_messages (uidvalidity, uid, message_id, sender, subject, received_at, sent_at, task_id,"
        " agency, intent, asked_day, evidence, text, state) VALUES (1, ?, ?, ?, ?, 1747017060, 1747017000, ?, ?,"
        " ?, ?, NULL, 'Đã hoàn thành.', ?) RETURNING id",
        uid, f"CAF+r{uid}=x@mail.stc.sonha.gov.vn", sender, subject, task, agency, intent, asked_day, state)
    return row_id


def answers(env, kind):
    """The messages answering an agency's reply ("ack", "reject"), not
    the task's own reminders."""
    return [m for m in env.messages() if m["X-Deadlined-Delivery"].startswith(f"{kind}-")]


def test_reject_tells_the_agency_why_in_its_replys_thread(env):
    task = add(env, "Báo cáo quý", "--agency", "stc", "--ref", "5.c", "--due", "2025-05-20")
    n = record_reply(env, task, "done")
    p = env.ctl("--now", "2025-05-13T08:00", "reject", n, "--reason", "Chưa kèm báo cáo\nđề nghị bổ sung")
    assert p.returncode == 0, p.stderr
    assert "vanthu@stc.sonha.gov.vn" in p.stdout
    assert env.query("SELECT slot, agency, channel, state FROM deliveries WHERE task_id IS NULL") == [
        (f"reject:{n}", "stc", "email", "pending")]
    assert run_once(env, "--now", "2025-05-13T08:00:30").returncode == 0
    [m] = answers(env, "reject")
    assert m["To"].addresses[0].addr_spec == "vanthu@stc.sonha.gov.vn" and len(m["To"].addresses) == 1
    assert m["Cc"] is None
    assert m["In-Reply-To"] == "<CAF+r1=x@mail.stc.sonha.gov.vn>"
    assert m["References"] == "<CAF+r1=x@mail.stc.sonha.gov.vn>"
    assert m["Subject"] == f"Re: [Nhắc việc] Báo cáo quý [#{task}]"
    plain = m.get_body(("plain",)).get_content()
    assert "Chưa kèm báo cáo" in plain and "đề nghị bổ sung" in plain
    assert f"[#{task}] 5.c — Báo cáo quý" in plain and "báo cáo hoàn thành nhiệm vụ" in plain
    assert "Chưa kèm báo cáo" in m.get_body(("html",)).get_content()
    assert env.query("SELECT state FROM deliveries WHERE task_id IS NULL") == [("sent",)]


def test_reject_in_english_names_the_extension_asked_for(env):
    english(env)
    task = add(env, "Quarterly report", "--agency", "stc", "--due", "2025-05-20")
    # 2025-06-15 as days since 1970-01-01.
    n = record_reply(env, task, "extension", asked_day=20254, subject="RE: Re: Quarterly report")
    assert env.ctl("--now", "2025-05-13T08:00", "reject", n, "--reason", "No grounds given").returncode == 0
    assert run_once(env, "--now", "2025-05-13T08:00:30").returncode == 0
    [m] = answers(env, "reject")
    # The reply lost the tag: the answer has it again, and one "Re: ".
    assert m["Subject"] == f"Re: Quarterly report [#{task}]"
    assert m["In-Reply-To"] == "<CAF+r1=x@mail.stc.sonha.gov.vn>"
    plain = m.get_body(("plain",)).get_content()
    assert "asking for an extension to 15/6/2025" in plain and "No grounds given" in plain
    assert "Dear Sở Tài chính" in plain


def test_reject_that_cannot_be_recorded_queues_no_answer(env):
    task = add(env, "Báo cáo quý", "--agency", "stc", "--due", "2025-05-20")
    n = record_reply(env, task, "done", state="confirmed")
    before = env.dump()
    p = env.ctl("reject", n, "--reason", "x")
    assert p.returncode == 65, p.stderr
    assert p.stderr.count("\n") == 1 and str(n) in p.stderr
    assert env.dump() == before


def test_reject_of_a_reply_from_no_configured_agency_sends_nothing(env):
    task = add(env, "Báo cáo quý", "--agency", "stc", "--due", "2025-05-20")
    n = record_reply(env, task, "done", agency="dagone")
    p = env.ctl("reject", n, "--reason", "Không rõ cơ quan")
    assert p.returncode == 0, p.stderr and "no answer" in p.stdout
    assert env.query("SELECT count(*) FROM deliveries WHERE task_id IS NULL") == [(0,)]
    assert env.query("SELECT state FROM inbox_messages WHERE id = ?", n) == [("rejected",)]


def with_inbox(env, tmp_path, **kw):
    pw = tmp_path / "imap-password"
    pw.write_text("secret\n")
    pw.chmod(0o600)
    env.write_config(extra=f'inbox = {{ url = "imaps://127.0.0.1:1/INBOX"; username = "theodoi"; '
                           f'password_file = "{pw}"; address = "theodoi@sonha.gov.vn"; }};', **kw)


def test_with_an_inbox_every_reminder_notice_and_digest_says_reply_to_it(env, tmp_path):
    with_inbox(env, tmp_path, schedule=SCHEDULE.replace("notify_on_assign = false", "notify_on_assign = true"))
    add(env, "Báo cáo quý", "--agency", "stc", "--support", "kbnn", "--due", "2025-05-20")
    assert run_once(env, "--now", "2025-05-01T09:00:30").returncode == 0     # the notices
    assert run_once(env, "--now", "2025-05-06T08:00:30").returncode == 0     # the 14d reminder
    with_inbox(env, tmp_path, schedule=SCHEDULE.replace("digest = false", "digest = true"))
    assert run_once(env, "--now", "2025-05-13T08:00:30").returncode == 0     # the 7d one, as a digest
    msgs = env.messages()
    assert {m["Subject"].split("]")[0] for m in msgs} == {"[Giao nhiệm vụ", "[Nhắc việc"}
    assert sum(".digest." in m["Message-ID"] for m in msgs) == 2                # stc's and kbnn's
    assert len(msgs) == 4
    for m in msgs:
        assert [a.addr_spec for a in m["Reply-To"].addresses] == ["theodoi@sonha.gov.vn"]


def test_without_an_inbox_there_is_no_reply_to(env):
    add(env, "Báo cáo quý", "--agency", "stc", "--due", "2025-05-20")
    assert run_once(env, "--now", "2025-05-06T08:00:30").returncode == 0
    [m] = env.messages()
    assert m["Reply-To"] is None


def recipients(m):
    return sorted(a.addr_spec for h in ("To", "Cc") if m[h] for a in m[h].addresses)


def test_reminders_to_an_agency_wait_while_its_report_does_and_resume_on_reject(env, tmp_path):
    with_inbox(env, tmp_path)
    task = add(env, "Báo cáo quý", "--agency", "stc", "--support", "kbnn", "--due", "2025-05-30")
    # stc reports it done on 12/5; the officer has not confirmed it.
    n = record_reply(env, task, "done")
    # The 14d reminder (Fri 16/5): kbnn alone.
    p = run_once(env, "--now", "2025-05-16T08:00:30")
    assert p.returncode == 0, p.stderr
    [m] = env.messages()
    assert recipients(m) == ["kbnn@sonha.gov.vn"]
    assert env.query("SELECT agency FROM deliveries WHERE task_id = ?", task) == [("kbnn",)]
    assert run_once(env, "--now", "2025-05-16T09:00:30").returncode == 0
    assert len(env.messages()) == 1

    # Refused on Mon 19/5: stc gets the reminder it missed, with the time
    # left now; kbnn nothing twice.
    assert env.ctl("--now", "2025-05-19T09:00", "reject", n, "--reason", "Chưa đủ hồ sơ").returncode == 0
    assert run_once(env, "--now", "2025-05-19T09:00:30").returncode == 0
    reminders = [m for m in env.messages() if not m["X-Deadlined-Delivery"].startswith("reject-")]
    assert len(reminders) == 2
    assert recipients(reminders[1]) == ["stc@sonha.gov.vn"]
    assert reminders[1]["Subject"].startswith("[Nhắc việc] Còn 11 ngày:")
    assert sorted(env.query("SELECT agency, slot LIKE 'before:14d@%' FROM deliveries WHERE task_id = ?", task)) == [
        ("kbnn", 1), ("stc", 1)]
    # And the next slot goes to both, as one message.
    assert run_once(env, "--now", "2025-05-23T08:00:30").returncode == 0
    last = [m for m in env.messages() if not m["X-Deadlined-Delivery"].startswith("reject-")][-1]
    assert recipients(last) == ["kbnn@sonha.gov.vn", "stc@sonha.gov.vn"]


def test_pause_reminders_false_sends_them_as_before(env, tmp_path):
    pw = tmp_path / "imap-password"
    pw.write_text("secret\n")
    pw.chmod(0o600)
    env.write_config(extra=f'inbox = {{ url = "imaps://127.0.0.1:1/INBOX"; username = "theodoi"; '
                           f'password_file = "{pw}"; address = "theodoi@sonha.gov.vn"; pause_reminders = false; }};')
    task = add(env, "Báo cáo quý", "--agency", "stc", "--support", "kbnn", "--due", "2025-05-30")
    record_reply(env, task, "done")
    assert run_once(env, "--now", "2025-05-16T08:00:30").returncode == 0
    [m] = env.messages()
    assert recipients(m) == ["kbnn@sonha.gov.vn", "stc@sonha.gov.vn"]


def test_only_a_waiting_report_of_completion_holds_reminders(env, tmp_path):
    with_inbox(env, tmp_path)
    task = add(env, "Báo cáo quý", "--agency", "stc", "--due", "2025-05-30")
    other = add(env, "Kế hoạch năm", "--agency", "stc", "--due", "2025-05-30")
    record_reply(env, task, "extension", uid=1, asked_day=20254)    # a request, not a report
    record_reply(env, task, "done", uid=2, state="rejected")         # decided already
    record_reply(env, other, "done", uid=3, agency="kbnn")           # another agency's
    assert run_once(env, "--now", "2025-05-16T08:00:30").returncode == 0
    assert sorted(m["Subject"][-5:] for m in env.messages()) == [f" [#{task}]", f" [#{other}]"]
