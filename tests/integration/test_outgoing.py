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
