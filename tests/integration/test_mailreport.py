# SPDX-License-Identifier: GPL-2.0-or-later
"""The compliance report e-mailed on a schedule (schedule.report_every,
report_to): the report of the period just ended goes on the first working
day of the next one at send_at, once, as HTML with its CSV attached, by the
real daemon through the maildir and the SMTP transports."""

import json
import subprocess

from conftest import AGENCIES, DEADLINECTL, DEADLINED, SCHEDULE
from daemon_helpers import run_once
from smtpserver import smtp_server  # noqa: F401 (fixture)
from test_report import build_fixture

BOM = b"\xef\xbb\xbf"
# 1 June 2025 is a Sunday: May's report is due on Monday 2 June at 08:00.
DUE = "2025-06-02T08:00:30"


def schedule(every="monthly", to='["vpubnd"]'):
    extra = f'  report_every = "{every}";\n' if every else ""
    if to is not None:
        extra += f"  report_to = {to};\n"
    return SCHEDULE.replace("  digest = false;\n", "  digest = false;\n" + extra)


def configure(env, **kw):
    env.write_config(schedule=schedule(**kw))


def once(env, now):
    p = run_once(env, "--now", now)
    assert p.returncode == 0, p.stderr
    return p


def reports(env):
    return [m for m in env.messages() if m["X-Deadlined-Delivery"].startswith("report-")]


def report_rows(env):
    return env.query("SELECT slot, agency, channel, state FROM deliveries WHERE task_id IS NULL ORDER BY id")


def ctl_bytes(env, *args):
    p = subprocess.run([str(DEADLINECTL), "-c", str(env.config), *args], capture_output=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout


def parts(msg):
    """The HTML body, the plain-text body and the one attachment."""
    (att,) = list(msg.iter_attachments())
    # A message read off the wire keeps its CRLF line ends.
    return tuple(msg.get_body((kind,)).get_content().replace("\r\n", "\n") for kind in ("html", "plain")) + (att,)


def assert_report_of(env, msg, period, filename):
    assert msg.get_content_type() == "multipart/mixed"
    body, alternative_att = msg.get_payload()[0], msg.get_payload()[1]
    assert body.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in body.get_payload()] == ["text/plain", "text/html"]
    html, text, att = parts(msg)
    assert att is alternative_att

    # The HTML part is the report's page, with the letter at its top.
    page = ctl_bytes(env, "report", "--period", period, "--format", "html").decode()
    head, rest = page.split("<body>\n", 1)
    assert html.startswith(head + "<body>\n")
    letter = html[len(head) + len("<body>\n"):-len(rest)]
    assert html.endswith(rest) and "Kính gửi: <strong>Văn phòng UBND tỉnh</strong>" in letter

    # The text part has the totals of the JSON report.
    total = json.loads(ctl_bytes(env, "report", "--period", period, "--format", "json"))["total"]
    for label, key in (("Tổng số nhiệm vụ", "total"), ("Hoàn thành đúng hạn", "done_on_time"),
                       ("Hoàn thành quá hạn", "done_late"), ("Đang thực hiện, trong hạn", "open"),
                       ("Đang thực hiện, quá hạn", "overdue")):
        assert f"{label}: {total[key]}\n" in text, (label, text)

    # The CSV attached is the command's CSV, UTF-8 with a byte order mark.
    assert att.get_content_type() == "text/csv"
    assert att.get_filename() == filename
    assert att.get_content_disposition() == "attachment"
    assert att["Content-Transfer-Encoding"] == "base64"
    data = att.get_payload(decode=True)
    assert data == BOM + ctl_bytes(env, "report", "--period", period, "--format", "csv")


def test_monthly_report_goes_to_vpubnd_on_the_first_working_day_with_html_and_csv(env):
    configure(env)
    build_fixture(env)
    once(env, DUE)
    (msg,) = reports(env)
    assert msg["To"] == "Văn phòng UBND tỉnh <vanthu.vpub@sonha.gov.vn>"
    assert msg["Subject"] == "[Báo cáo] Tình hình thực hiện nhiệm vụ tháng 5/2025"
    assert msg["X-Deadlined-Delivery"] == "report-vpubnd-2025-05"
    assert msg["Message-ID"] == f"<deadlined.{env.instance_id()}.report-vpubnd-2025-05@sonha.gov.vn>"
    assert msg["X-Deadlined-Task"] is None
    assert_report_of(env, msg, "2025-05", "bao-cao-2025-05.csv")
    # The figures are May's: the JSON report of May has tasks in it.
    total = json.loads(ctl_bytes(env, "report", "--period", "2025-05", "--format", "json"))["total"]
    assert total["total"] > 0
    assert report_rows(env) == [("report:vpubnd:2025-05", "vpubnd", "email", "sent")]


def test_the_report_goes_once_across_runs(env):
    configure(env)
    build_fixture(env)
    once(env, DUE)
    once(env, "2025-06-02T08:05")
    once(env, "2025-06-20T10:00")
    assert len(reports(env)) == 1
    assert len(report_rows(env)) == 1


def test_not_before_the_due_time(env):
    configure(env)
    build_fixture(env)
    once(env, "2025-06-01T10:00")       # Sunday
    once(env, "2025-06-02T07:59")
    assert reports(env) == [] and report_rows(env) == []
    once(env, DUE)
    assert len(reports(env)) == 1


def test_a_weekly_report_covers_the_iso_week(env):
    configure(env, every="weekly")
    build_fixture(env)
    # Sunday: week 19 is not over; week 18's report (due Monday 5 May)
    # is the one owed.
    once(env, "2025-05-11T12:00")
    assert [m["X-Deadlined-Delivery"] for m in reports(env)] == ["report-vpubnd-2025-W18"]
    once(env, "2025-05-12T08:00:30")
    (msg,) = [m for m in reports(env) if m["X-Deadlined-Delivery"] == "report-vpubnd-2025-W19"]
    assert msg["Subject"] == "[Báo cáo] Tình hình thực hiện nhiệm vụ tuần 19/2025"
    assert report_rows(env) == [("report:vpubnd:2025-W18", "vpubnd", "email", "sent"),
                                ("report:vpubnd:2025-W19", "vpubnd", "email", "sent")]
    assert_report_of(env, msg, "2025-W19", "bao-cao-2025-W19.csv")


def test_english_report_subject_and_file_name(env):
    configure(env)
    env.config.write_text(env.config.read_text(encoding="utf-8").replace('language = "vi";', 'language = "en";'),
                          encoding="utf-8")
    build_fixture(env)
    once(env, DUE)
    (msg,) = reports(env)
    assert msg["Subject"] == "[Report] Progress of assigned tasks, May 2025"
    html, text, att = parts(msg)
    assert att.get_filename() == "report-2025-05.csv"
    assert "Done on time: " in text


def test_no_report_to_sends_no_report(env):
    configure(env, to=None)
    build_fixture(env)
    once(env, DUE)
    assert reports(env) == [] and report_rows(env) == []


def test_report_every_never_or_absent_sends_no_report(env):
    for every in ("never", None):
        configure(env, every=every)
        build_fixture(env) if every == "never" else None
        once(env, DUE)
        assert reports(env) == [] and report_rows(env) == []


def test_after_downtime_only_the_last_ended_period_is_sent(env):
    configure(env)
    build_fixture(env)
    once(env, "2025-04-01T08:00:30")    # March's report, due that morning
    # Down from April to July: April's and May's are not made; June's is.
    once(env, "2025-07-03T09:00")
    assert [r[0] for r in report_rows(env)] == ["report:vpubnd:2025-03", "report:vpubnd:2025-06"]
    assert sorted(m["X-Deadlined-Delivery"] for m in reports(env)) == ["report-vpubnd-2025-03",
                                                                        "report-vpubnd-2025-06"]


def test_a_webhook_of_the_agency_gets_no_report(env):
    agencies = AGENCIES.replace('email = ["vanthu.vpub@sonha.gov.vn"];',
                                'email = ["vanthu.vpub@sonha.gov.vn"]; '
                                'webhook = { url = "http://127.0.0.1:9/hook"; format = "json"; };')
    assert agencies != AGENCIES
    env.write_config(schedule=schedule(), agencies=agencies)
    assert env.ctl("check-config").returncode == 0, env.ctl("check-config").stderr
    build_fixture(env)
    # The escalations to the webhook cannot go (nothing listens): 75.
    assert run_once(env, "--now", DUE).returncode in (0, 75)
    assert report_rows(env) == [("report:vpubnd:2025-05", "vpubnd", "email", "sent")]
    assert len(reports(env)) == 1


def test_dry_run_lists_the_due_report_and_changes_nothing(env):
    configure(env)
    build_fixture(env)
    before = env.dump()
    p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--once", "--dry-run", "--now", DUE, "--json"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    out = json.loads(p.stdout)
    listed = [d for d in out["deliveries"] if d.get("slot", "").startswith("report:")]
    assert [(d["slot"], d["agency"], d["channel"]) for d in listed] == [("report:vpubnd:2025-05", "vpubnd",
                                                                        "email")]
    assert any("[Báo cáo]" in (d.get("subject") or "") for d in listed)
    assert env.dump() == before
    assert reports(env) == []


def check_config_fails(env, setting, text):
    before = env.dump()
    p = env.ctl("check-config")
    assert p.returncode == 78, p.stderr
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1, p.stderr
    assert str(env.config) in lines[0] and setting in lines[0] and text in lines[0], lines[0]
    assert env.dump() == before


def test_bad_report_every_is_refused_in_one_line(env):
    configure(env, every="daily")
    check_config_fails(env, "schedule.report_every", "monthly")


def test_unknown_agency_in_report_to_is_refused_in_one_line(env):
    configure(env, to='["vpubnd", "nosuch"]')
    check_config_fails(env, "schedule.report_to[1]", '"nosuch" is not an agency id')


def test_report_to_a_group_is_refused(env):
    configure(env, to='["cacso"]')
    check_config_fails(env, "schedule.report_to[0]", "is not an agency id")


def test_the_daemon_refuses_a_bad_report_setting(env):
    configure(env, every="daily")
    p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--check-config"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 78 and "schedule.report_every" in p.stderr


def test_the_report_through_smtp(env, smtp_server):  # noqa: F811
    from test_smtp import smtp_config
    server = smtp_server()
    smtp_config(env, server, schedule=schedule())
    build_fixture(env)
    p = subprocess.run([str(DEADLINED), "-c", str(env.config), "--once", "--now", DUE], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    (r,) = [r for r in server.received if r.message["X-Deadlined-Delivery"] == "report-vpubnd-2025-05"]
    assert r.rcpt_tos == ["vanthu.vpub@sonha.gov.vn"]
    assert_report_of(env, r.message, "2025-05", "bao-cao-2025-05.csv")
    assert report_rows(env) == [("report:vpubnd:2025-05", "vpubnd", "email", "sent")]
