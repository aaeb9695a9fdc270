# SPDX-License-Identifier: GPL-2.0-or-later
"""The officer's inbox: deadlinectl inbox lists the agencies' replies that
wait, confirm applies one (done with the reply's date and evidence, or an
extension to the day asked for, the reply as the approving document), and
reject refuses one with a reason. Nothing in a reply changes a task until
then. The replies are put in the store as the daemon's inbox reader records
them (table inbox_messages, schema 12)."""

import calendar
import datetime


def one_line_error(p, code, words):
    assert p.returncode == code, (p.returncode, p.stderr)
    assert p.stdout == ""
    assert p.stderr.count("\n") == 1 and words in p.stderr, p.stderr


def record(env, uid, task, intent, state="pending", asked=None, evidence=None, sender="vanthu@stc.sonha.gov.vn",
           sent="2025-05-12T09:30:00+07:00"):
    sent_at = int(datetime.datetime.fromisoformat(sent).timestamp())
    asked_day = None
    if asked:
        asked_day = calendar.timegm(datetime.date.fromisoformat(asked).timetuple()) // 86400
    [(row_id,)] = env.execute(
        "INSERT INTO inbox_messages (uidvalidity, uid, message_id, sender, subject, received_at, sent_at, task_id,"
        " agency, intent, asked_day, evidence, text, state) VALUES (1, ?, ?, ?, 'Re: [#1] Nhắc', ?, ?, ?, 'stc',"
        " ?, ?, ?, 'Đã hoàn thành.', ?) RETURNING id",
        uid, f"r{uid}@stc.sonha.gov.vn", sender, sent_at + 60, sent_at, task, intent, asked_day, evidence, state)
    return row_id


def add(env):
    return env.ctl_json("--now", "2025-05-01T09:00", "add", "Báo cáo quý", "--agency", "stc",
                        "--due", "2025-05-20")["id"]


def test_inbox_lists_what_waits_and_nothing_changed_the_task(env):
    task = add(env)
    done = record(env, 1, task, "done", evidence="bao-cao-45.pdf\nphu-luc.xlsx")
    stray = record(env, 2, None, "unknown", state="unassigned")
    record(env, 3, None, "unknown", state="ignored", sender="spam@example.com")
    items = env.ctl_json("inbox")
    assert [i["id"] for i in items] == [done, stray]
    assert items[0]["task"] == task and items[0]["intent"] == "done"
    assert items[0]["evidence"] == ["bao-cao-45.pdf", "phu-luc.xlsx"]
    assert items[1]["state"] == "unassigned" and items[1]["task"] is None
    text = env.ctl("inbox", check=True).stdout
    assert "reported done" in text and "unassigned" in text and "spam@" not in text
    assert env.ctl_json("show", task)["status"] == "open"


def test_confirm_done_uses_the_replys_date_and_evidence(env):
    task = add(env)
    n = record(env, 1, task, "done", evidence="bao-cao-45.pdf")
    assert env.ctl("--now", "2025-05-13T08:00", "confirm", n).returncode == 0
    assert env.query("SELECT status FROM tasks WHERE id = ?", task) == [("done",)]
    [(done_on, note)] = env.query("SELECT done_on, note FROM completions WHERE task_id = ?", task)
    assert done_on == "2025-05-12"
    assert note == "Reply from vanthu@stc.sonha.gov.vn of 12/5/2025: bao-cao-45.pdf"
    assert env.query("SELECT state, decided_at IS NOT NULL FROM inbox_messages WHERE id = ?", n) == [("confirmed", 1)]
    assert env.ctl_json("inbox") == []


def test_confirm_extension_takes_the_day_asked_for_and_the_reply_as_document(env):
    task = add(env)
    n = record(env, 1, task, "extension", asked="2025-06-15")
    assert env.ctl("--now", "2025-05-13T08:00", "confirm", n).returncode == 0
    assert env.query("SELECT due FROM tasks WHERE id = ?", task) == [("2025-06-15",)]
    [(by,)] = env.query("SELECT approved_by FROM task_changes WHERE task_id = ? AND approved_by IS NOT NULL", task)
    assert "r1@stc.sonha.gov.vn" in by and "vanthu@stc.sonha.gov.vn" in by
    m = record(env, 2, task, "extension", asked="2025-07-01")
    assert env.ctl("--now", "2025-05-14T08:00", "confirm", m, "--by", "Công văn 77/UBND").returncode == 0
    assert env.query("SELECT approved_by FROM task_changes WHERE task_id = ? AND field = 'due' ORDER BY id DESC "
                     "LIMIT 1", task) == [("Công văn 77/UBND",)]


def test_reject_records_the_reason_and_leaves_the_task(env):
    task = add(env)
    n = record(env, 1, task, "done")
    before = env.query("SELECT * FROM tasks")
    assert env.ctl("reject", n, "--reason", "Chưa kèm báo cáo").returncode == 0
    assert env.query("SELECT state, reason FROM inbox_messages WHERE id = ?", n) == [("rejected", "Chưa kèm báo cáo")]
    assert env.query("SELECT * FROM tasks") == before


def test_refusals_are_one_line_and_change_nothing(env):
    task = add(env)
    n = record(env, 1, task, "done")
    stray = record(env, 2, None, "unknown", state="unassigned")
    vague = record(env, 3, task, "extension")
    before = env.dump()
    one_line_error(env.ctl("confirm", 99), 65, "no inbox message 99")
    one_line_error(env.ctl("confirm", "x"), 64, "is not an inbox message id")
    one_line_error(env.ctl("confirm", stray), 65, "names no task")
    one_line_error(env.ctl("confirm", vague), 65, "without a date")
    one_line_error(env.ctl("reject", n), 64, "missing --reason")
    assert env.dump() == before
    assert env.ctl("--now", "2025-05-13T08:00", "confirm", n).returncode == 0
    after = env.dump()
    one_line_error(env.ctl("confirm", n), 65, "is confirmed already")
    one_line_error(env.ctl("reject", n, "--reason", "x"), 65, "is confirmed already")
    assert env.dump() == after


def test_a_task_closed_meanwhile_keeps_the_reply_waiting(env):
    task = add(env)
    n = record(env, 1, task, "done")
    env.ctl("done", task, check=True)
    before = env.dump()
    p = env.ctl("confirm", n)
    assert p.returncode == 65 and "already done" in p.stderr
    assert env.dump() == before


def test_the_tasks_history_shows_each_reply_and_the_officers_decision(env):
    task = add(env)
    done = record(env, 1, task, "done", evidence="bao-cao-45.pdf")
    ask = record(env, 2, task, "extension", asked="2025-06-15")
    assert env.ctl("--now", "2025-05-13T08:00", "reject", done, "--reason", "Chưa kèm báo cáo").returncode == 0
    assert env.ctl("--now", "2025-05-13T09:00", "confirm", ask).returncode == 0

    text = env.ctl("history", task, check=True).stdout
    assert f"reply {done}: reported done" in text and "from vanthu@stc.sonha.gov.vn (stc), rejected" in text
    assert f"reply {done} rejected" in text and ": Chưa kèm báo cáo" in text
    assert f"reply {ask}: extension to 15/6/2025" in text and f"reply {ask} confirmed" in text
    # In time order: the replies came on 12/5, the decisions on 13/5.
    lines = [line for line in text.splitlines() if "reply " in line]
    assert [line.split()[0] for line in lines] == sorted(line.split()[0] for line in lines)

    replies = env.ctl_json("history", task)["replies"]
    assert [(r["id"], r["state"]) for r in replies] == [(done, "rejected"), (ask, "confirmed")]
    assert replies[0]["reason"] == "Chưa kèm báo cáo" and replies[1]["asked_for"] == "2025-06-15"
    # --deliveries leaves them out, as it leaves out the changes.
    assert "reply " not in env.ctl("history", task, "--deliveries", check=True).stdout
