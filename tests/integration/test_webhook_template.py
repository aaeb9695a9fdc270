# SPDX-License-Identifier: GPL-2.0-or-later
"""format = "template": a webhook body written by the site in the message
template language, every value escaped as the inside of a JSON string. The
templates of contrib/webhook-templates are sent to local receivers that
check what Microsoft Teams (a Workflows webhook taking an Adaptive Card),
Google Chat, Mattermost and a Zalo relay accept, with their size limits."""

import json
import shutil

from conftest import SOURCE
from httpserver import Request, Server
from test_webhook import ADDED, DUE, NASTY, REMIND, SCHEDULE, BASE_URL, sql, webhook_rows

CONTRIB = SOURCE / "contrib" / "webhook-templates"


def reply(status, obj=None):
    return status, {"Content-Type": "application/json"}, json.dumps(obj or {}).encode()


def json_body(request: Request):
    if not (request.header("Content-Type") or "").startswith("application/json"):
        raise ValueError("not application/json")
    return json.loads(request.body.decode("utf-8"))


def teams(request):
    """A Teams Workflows webhook: a message whose attachments are Adaptive
    Cards, 28 KB at most."""
    if len(request.body) > 28 * 1024:
        return reply(413, {"error": "RequestEntityTooLarge"})
    try:
        m = json_body(request)
        assert m["type"] == "message"
        [a] = m["attachments"]
        assert a["contentType"] == "application/vnd.microsoft.card.adaptive"
        card = a["content"]
        assert card["type"] == "AdaptiveCard" and isinstance(card["version"], str)
        assert card["body"] and all(b["type"] == "TextBlock" and isinstance(b["text"], str) for b in card["body"])
    except (ValueError, KeyError, AssertionError, TypeError) as e:
        return reply(400, {"error": f"BadRequest: {e!r}"})
    return 202, {}, b""


def text_limit(limit, status=400):
    """Google Chat (4,096), Mattermost (16,383), Zalo (2,000): a JSON body
    whose "text" is a string of at most `limit` characters."""
    def check(request):
        try:
            m = json_body(request)
            text = m["text"]
            assert isinstance(text, str) and text.strip()
        except (ValueError, KeyError, AssertionError, TypeError) as e:
            return reply(400, {"error": f"bad request: {e!r}"})
        if len(text) > limit:
            return reply(status, {"error": f"text is {len(text)} characters, more than {limit}"})
        return reply(200, {"ok": True})
    return check


def configure(env, url, template, extra="", digest=False):
    path = env.path / template
    if not path.exists():
        shutil.copy(CONTRIB / template, path)
    agencies = f"""agencies = (
  {{ id = "stc"; name = "Sở Tài chính";
     webhook = {{ url = "{url}"; format = "template"; template = "{path}"; {extra} }}; }},
  {{ id = "vpubnd"; name = "Văn phòng UBND tỉnh"; email = ["vanthu.vpub@sonha.gov.vn"]; }}
);"""
    env.write_config(schedule=SCHEDULE % ("true" if digest else "false"), agencies=agencies, extra=BASE_URL)


def add(env, title="Báo cáo đánh giá nguồn lực", ref="5.c"):
    p = env.ctl("--now", ADDED, "add", title, "--agency", "stc", "--due", DUE, "--ref", ref, check=True)
    return int(p.stdout.split()[2].rstrip(","))


def once(env):
    from daemon_helpers import run_once
    p = run_once(env, "--now", f"@{REMIND}")
    assert p.returncode in (0, 69, 75), p.stderr
    return p


def test_teams_card_carries_any_title_as_valid_json(env):
    with Server(teams) as server:
        configure(env, server.url(), "teams.json", "text_max = 8000;")
        assert env.ctl("check-config").returncode == 0
        task = add(env, "placeholder")
        # Quotes, backslashes and control characters cannot break the JSON.
        sql(env, "UPDATE tasks SET title = ? WHERE id = ?", NASTY, task)
        once(env)
        [req] = server.wait_for(1)
    assert req.header("Content-Type") == "application/json"
    assert req.header("webhook-id")
    card = req.json()["attachments"][0]["content"]
    subject, text = card["body"][0]["text"], card["body"][1]["text"]
    assert 'Trả lời "gấp" \\ C:\\dữ liệu\\' in subject
    assert "Sở Tài chính" in text and "10/5/2025" in text
    assert "\x1b" not in text and "\x01" not in subject
    assert [r[1] for r in webhook_rows(env)] == ["sent"]


def test_google_chat_text_is_cut_to_text_max_and_refused_without_it(env):
    # A digest of many tasks makes a long text.
    with Server(text_limit(4096)) as server:
        configure(env, server.url(), "google-chat.json", "text_max = 3800;", digest=True)
        for i in range(60):
            add(env, f"Nhiệm vụ số {i}: rà soát, đánh giá việc thực hiện quy hoạch sử dụng đất cấp huyện", f"{i}")
        once(env)
        [req] = server.wait_for(1)
        text = req.json()["text"]
        assert len(text) <= 4096 and text.endswith("…")
        assert text.startswith("*") and "Sở Tài chính" in text
    # One request; a row per task of the digest.
    assert {r[1] for r in webhook_rows(env)} == {"sent"} and len(webhook_rows(env)) == 60


def test_without_text_max_the_receiver_refuses_the_long_text_and_the_delivery_fails(env):
    with Server(text_limit(4096)) as server:
        configure(env, server.url(), "google-chat.json", digest=True)
        for i in range(60):
            add(env, f"Nhiệm vụ số {i}: rà soát, đánh giá việc thực hiện quy hoạch sử dụng đất cấp huyện", f"{i}")
        once(env)
        [req] = server.wait_for(1)
        assert len(req.json()["text"]) > 4096
    rows = webhook_rows(env)
    assert len(rows) == 60 and all(r[1] == "failed" and "400" in r[4] for r in rows)


def test_mattermost_post(env):
    with Server(text_limit(16383)) as server:
        configure(env, server.url(), "mattermost.json", "text_max = 16000;")
        add(env)
        once(env)
        [req] = server.wait_for(1)
    m = req.json()
    assert m["username"] == "deadlined" and m["text"].startswith("#### ")
    assert "Báo cáo đánh giá nguồn lực" in m["text"]


def test_zalo_relay_digest_lists_every_task_as_json(env):
    with Server(text_limit(2000)) as server:
        configure(env, server.url(), "zalo-relay.json", "text_max = 1800;", digest=True)
        ids = [add(env, f'Nhiệm vụ "{i}"', f"{i}") for i in range(3)]
        once(env)
        [req] = server.wait_for(1)
    m = req.json()
    assert m["kind"] == "reminder" and m["agency"] == "Sở Tài chính"
    assert m["event_id"] == req.header("webhook-id")
    assert [t["id"] for t in m["tasks"]] == [str(i) for i in ids]
    assert [t["title"] for t in m["tasks"]] == ['Nhiệm vụ "0"', 'Nhiệm vụ "1"', 'Nhiệm vụ "2"']
    assert {t["role"] for t in m["tasks"]} == {"chủ trì"}
    assert len(m["text"]) <= 2000


def config_error(env, *expected):
    p = env.ctl("check-config")
    assert p.returncode == 78, p.stderr
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, p.stderr
    for e in expected:
        assert e in lines[0], lines[0]
    return lines[0]


def test_bad_templates_are_configuration_errors(env):
    url = "http://127.0.0.1:9/hook"
    bad = env.path / "bad.json"

    bad.write_text('{ "text": "{{subjekt}}" }\n')
    configure(env, url, "bad.json")
    config_error(env, "deadlined.conf", "template", "bad.json:1", "subjekt")

    bad.write_text('{\n  "text": "{{subject}}",\n}\n')
    config_error(env, "deadlined.conf", "bad.json", "does not make JSON", "line 3")

    # A value outside quotes is not JSON once it holds words.
    bad.write_text('{ "text": {{subject}} }\n')
    config_error(env, "bad.json", "does not make JSON")

    bad.unlink()
    config_error(env, "bad.json", "No such file")


def test_template_settings_belong_to_the_template_format(env):
    agencies = """agencies = (
  { id = "stc"; name = "Sở Tài chính";
    webhook = { url = "http://127.0.0.1:9/hook"; format = "json"; template = "x.json"; }; },
  { id = "vpubnd"; name = "Văn phòng UBND tỉnh"; email = ["vanthu.vpub@sonha.gov.vn"]; }
);"""
    env.write_config(schedule=SCHEDULE % "false", agencies=agencies)
    config_error(env, "template", 'is only used with format = "template"')

    agencies = """agencies = (
  { id = "stc"; name = "Sở Tài chính";
    webhook = { url = "http://127.0.0.1:9/hook"; format = "template"; }; },
  { id = "vpubnd"; name = "Văn phòng UBND tỉnh"; email = ["vanthu.vpub@sonha.gov.vn"]; }
);"""
    env.write_config(schedule=SCHEDULE % "false", agencies=agencies)
    config_error(env, "template", "missing")


def test_text_max_and_content_type_are_checked(env):
    configure(env, "http://127.0.0.1:9/hook", "mattermost.json", "text_max = 0;")
    config_error(env, "text_max")
    configure(env, "http://127.0.0.1:9/hook", "mattermost.json", 'content_type = "json";')
    config_error(env, "content_type", "media type")


def test_a_list_without_separators_fails_the_delivery_with_a_reason(env):
    # The test message at load time has no tasks, so the mistake shows only
    # when two tasks meet in one digest: that delivery fails, saying why.
    bad = env.path / "list.json"
    bad.write_text('{ "text": "{{subject}}", "ids": [{{#tasks}}"{{id}}"{{/tasks}}] }\n')
    with Server(text_limit(4096)) as server:
        configure(env, server.url(), "list.json", digest=True)
        assert env.ctl("check-config").returncode == 0
        add(env, "Một", "1")
        add(env, "Hai", "2")
        p = once(env)
        assert server.received() == []
    rows = webhook_rows(env)
    assert len(rows) == 2 and all(r[1] == "failed" and "did not make JSON" in r[4] for r in rows)


def test_google_chat_rate_limit_is_waited_out(env):
    # Google Chat answers 429 beyond its rate per space, with Retry-After.
    chat = text_limit(4096)
    answers = [lambda r: (429, {"Retry-After": "600", "Content-Type": "application/json"},
                          b'{"error": {"code": 429, "status": "RESOURCE_EXHAUSTED"}}'), chat]
    with Server(lambda r: answers.pop(0)(r) if len(answers) > 1 else chat(r)) as server:
        configure(env, server.url(), "google-chat.json", "text_max = 3800;")
        add(env)
        once(env)
        [(_, state, _, next_at, error)] = webhook_rows(env)
        assert state == "pending" and error.startswith("HTTP 429")
        assert REMIND + 600 <= next_at <= REMIND + 605
        from daemon_helpers import run_once
        assert run_once(env, "--now", f"@{REMIND + 610}").returncode == 0
        reqs = server.wait_for(2)
    assert reqs[0].body == reqs[1].body
    assert reqs[0].header("webhook-id") == reqs[1].header("webhook-id")
    assert webhook_rows(env)[0][1] == "sent"
