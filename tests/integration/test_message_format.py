# SPDX-License-Identifier: GPL-2.0-or-later
"""The e-mail messages deadlined writes, read by an independent parser.

build/tests/test-mail, given DEADLINED_MAIL_DUMP=DIR, renders sample
reminders with the built-in Vietnamese templates and formats them with the
message builder, writing NAME.eml and, beside it, the subject and bodies
that went in. Python's email package (policy=default) must read them back
exactly, without defects. No network is used.
"""

import email
import email.policy
import email.quoprimime
import email.utils
import os
import pathlib
import subprocess
import unicodedata
from datetime import datetime, timedelta, timezone

import pytest

BUILD = pathlib.Path(os.environ.get("DEADLINED_BUILD", pathlib.Path(__file__).parents[2] / "build"))
STRICT = email.policy.default.clone(raise_on_defect=True)
HEADERS = [
    "Date", "From", "Reply-To", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References",
    "MIME-Version", "Content-Type", "Auto-Submitted", "X-Auto-Response-Suppress",
    "X-Deadlined-Task", "X-Deadlined-Delivery",
]


@pytest.fixture(scope="module")
def samples(tmp_path_factory):
    exe = BUILD / "tests" / "test-mail"
    assert exe.exists(), f"{exe} is missing: run make check-unit first"
    out = tmp_path_factory.mktemp("mail")
    env = dict(os.environ, TZ="Asia/Ho_Chi_Minh", DEADLINED_MAIL_DUMP=str(out))
    subprocess.run([str(exe)], env=env, check=True, timeout=60)
    return out


def load(samples, name):
    raw = (samples / f"{name}.eml").read_bytes()
    return raw, email.message_from_bytes(raw, policy=STRICT)


def source(samples, name, ext):
    return (samples / f"{name}.{ext}").read_text(encoding="utf-8")


def content(part):
    # The wire form has CRLF line ends, which the parser keeps.
    return part.get_content().replace("\r\n", "\n")


def expected_encoding(text):
    """base64 where more than one byte in six would be an "=XX" in
    quoted-printable (shorter so: most Vietnamese text), quoted-printable
    otherwise."""
    data = text.encode("utf-8")
    escaped = sum(1 for b in data if b >= 127 or b == ord("=") or (b < 32 and b not in b"\t\n\r"))
    return "base64" if escaped * 6 > len(data) else "quoted-printable"


def parts(msg):
    assert msg.get_content_type() == "multipart/alternative"
    plain, html = msg.iter_parts()
    return plain, html


def test_subject_decodes_to_the_exact_vietnamese_text(samples):
    _, msg = load(samples, "reminder")
    expected = "[Nhắc việc] Còn 3 ngày: 5.c — Báo cáo đánh giá nguồn lực (hạn 30/4/2024)"
    assert msg["Subject"] == expected
    assert source(samples, "reminder", "subject") == expected
    assert unicodedata.is_normalized("NFC", msg["Subject"])


def test_bodies_decode_to_exactly_what_was_rendered(samples):
    for name in ("reminder", "reminder-later", "injection", "digest"):
        _, msg = load(samples, name)
        plain, html = parts(msg)
        for part, ext, ctype in ((plain, "txt", "text/plain"), (html, "html", "text/html")):
            assert part.get_content_type() == ctype
            assert part.get_content_charset() == "utf-8"
            assert part["Content-Transfer-Encoding"] == expected_encoding(source(samples, name, ext))
            assert content(part) == source(samples, name, ext)
            assert unicodedata.is_normalized("NFC", content(part))


def test_a_vietnamese_reminder_goes_as_base64_and_is_shorter(samples):
    raw, msg = load(samples, "reminder")
    plain, html = parts(msg)
    assert plain["Content-Transfer-Encoding"] == "base64"
    for part in (plain, html):
        body = part.get_payload(decode=False)
        data = content(part).replace("\n", "\r\n").encode("utf-8")
        qp = email.quoprimime.body_encode(data.decode("latin-1"), maxlinelen=76)
        if part["Content-Transfer-Encoding"] == "base64":
            assert len(body) < len(qp), (len(body), len(qp))


def test_reminder_body_says_what_matters(samples):
    _, msg = load(samples, "reminder")
    text = content(parts(msg)[0])
    for line in (
        "Kính gửi:",
        "- Sở Tài chính (chủ trì);",
        "- Sở Kế hoạch và Đầu tư (phối hợp);",
        "- Kho bạc Nhà nước tỉnh (phối hợp).",
        "- Văn bản giao nhiệm vụ: số 2417/UBND-KTTH (V/v triển khai các nhiệm vụ trọng tâm quý II năm 2025)",
        "- Nhiệm vụ 5.c: Báo cáo đánh giá nguồn lực",
        "- Thời hạn hoàn thành: thứ Ba, ngày 30/4/2024 (còn 3 ngày)",
        "- Cơ quan chủ trì: Sở Tài chính",
        "- Cơ quan phối hợp: Sở Kế hoạch và Đầu tư, Kho bạc Nhà nước tỉnh",
        "- Xem chi tiết: https://nhacviec.sonha.gov.vn/tasks/42",
        "Trân trọng./.",
    ):
        assert line + "\n" in text, line


def test_headers_are_present_and_right(samples):
    _, msg = load(samples, "reminder")
    assert list(msg.keys()) == HEADERS
    assert msg["From"].addresses[0].display_name == "Hệ thống nhắc việc"
    assert msg["From"].addresses[0].addr_spec == "nhacviec@sonha.gov.vn"
    assert msg["Reply-To"].addresses[0].display_name == "Văn phòng UBND tỉnh"
    assert [(a.display_name, a.addr_spec) for a in msg["To"].addresses] == [
        ("Sở Tài chính", "stc@sonha.gov.vn")]
    assert [(a.display_name, a.addr_spec) for a in msg["Cc"].addresses] == [
        ("Sở Kế hoạch và Đầu tư", "skhdt@sonha.gov.vn"),
        ("Kho bạc Nhà nước tỉnh", "kbnn@sonha.gov.vn")]
    assert msg["Date"].datetime == datetime(2024, 4, 27, 8, 0, tzinfo=timezone(timedelta(hours=7)))
    assert msg["Message-ID"] == "<deadlined.k5ayrf3xq2mhzd7c6pwvbn4eju.d1001@sonha.gov.vn>"
    assert msg["MIME-Version"] == "1.0"
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Auto-Response-Suppress"] == "All"
    assert msg["X-Deadlined-Task"] == "42"
    assert msg["X-Deadlined-Delivery"] == "d1001"


def test_every_reminder_about_a_task_threads_together(samples):
    _, first = load(samples, "reminder")
    _, later = load(samples, "reminder-later")
    root = "<deadlined.k5ayrf3xq2mhzd7c6pwvbn4eju.task-42@sonha.gov.vn>"
    assert first["Message-ID"] != later["Message-ID"]
    for msg in (first, later):
        assert msg["In-Reply-To"] == root
        assert msg["References"] == root
    assert later["Subject"] == "[Nhắc việc] Còn 1 ngày: 5.c — Báo cáo đánh giá nguồn lực (hạn 30/4/2024)"


def test_digest_lists_tasks_with_their_numbers(samples):
    _, msg = load(samples, "digest")
    assert msg["Subject"] == "[Nhắc việc] 2 nhiệm vụ cần xử lý, 1 quá hạn — Sở Tài chính"
    # Several tasks name no task's thread (compose gives a digest its own:
    # test_outgoing.py).
    assert msg["In-Reply-To"] is None and msg["References"] is None
    assert msg["X-Deadlined-Task"] == "42, 43"
    assert msg["Cc"] is None
    text = content(parts(msg)[0])
    assert "1. [#42] Nhiệm vụ 5.c: Báo cáo đánh giá nguồn lực\n" in text
    assert "   - Vai trò của Quý cơ quan: chủ trì\n" in text
    assert "   - Vai trò của Quý cơ quan: phối hợp\n" in text
    assert "- Thời hạn hoàn thành: 17:00 thứ Sáu, ngày 26/4/2024 (quá hạn 1 ngày)\n" in text


def test_task_text_cannot_inject_anything(samples):
    raw, msg = load(samples, "injection")
    _, clean = load(samples, "reminder")
    # The same header fields, each once: nothing was added.
    assert list(msg.keys()) == list(clean.keys())
    assert msg["Bcc"] is None
    assert "Bcc: evil@x.vn" in msg["Subject"]
    assert "\r" not in msg["Subject"] and "\n" not in msg["Subject"]
    assert [a.addr_spec for a in msg["To"].addresses + msg["Cc"].addresses] == [
        "stc@sonha.gov.vn", "skhdt@sonha.gov.vn", "kbnn@sonha.gov.vn"]

    lines = raw.split(b"\r\n")
    assert lines[-1] == b""
    assert b"\n" not in b"".join(lines) and b"\r" not in b"".join(lines)
    assert b"." not in lines, "a lone '.' line would end the SMTP data"
    header_end = lines.index(b"")
    assert all(len(line) <= 78 for line in lines[:header_end])
    assert all(len(line) <= 76 for line in lines[header_end:])

    plain, html = parts(msg)
    text = content(plain)
    assert "\n.\nMAIL FROM:<evil@x.vn>\n.\n" in text
    assert "<script>" in text
    assert "<script>" not in content(html)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content(html)


def test_messages_have_no_defects_under_a_lenient_reader_either(samples):
    for path in sorted(samples.glob("*.eml")):
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        for part in msg.walk():
            assert not part.defects, (path.name, part.defects)
        assert email.utils.parsedate_to_datetime(msg["Date"]).utcoffset() == timedelta(hours=7)
