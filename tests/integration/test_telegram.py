# SPDX-License-Identifier: GPL-2.0-or-later
"""format = "telegram": reminders through the Bot API's sendMessage, checked
by a local mimic of the service (httpserver.TelegramBot) that refuses what
Telegram refuses; the bot token, which is part of the URL, never shown."""

import json

from daemon_helpers import run_once
from httpserver import Server, TelegramBot
from test_webhook import ADDED, DUE, REMIND, SCHEDULE, BASE_URL, webhook_rows

TOKEN = "7012345678:AAHq-x_Secr3tT0kenV4lueF0rTheTestsOnly"
CHAT = "-1001234567890"
TITLE = 'Báo cáo "quý" \\ <script>alert(1)</script> & </b> nguồn lực'


def token_file(env, value=TOKEN):
    path = env.path / "telegram-token"
    path.write_text(value + "\n")
    path.chmod(0o600)
    return path


def configure(env, api_url, token_setting=None, extra_webhook="", digest=False, chat=CHAT):
    if token_setting is None:
        token_setting = f'token_file = "{token_file(env)}";'
    chat_setting = f'chat_id = "{chat}";' if chat else ""
    agencies = f"""agencies = (
  {{ id = "stc"; name = "Sở Tài chính";
     webhook = {{ format = "telegram"; api_url = "{api_url}"; {chat_setting} {token_setting} {extra_webhook} }}; }},
  {{ id = "vpubnd"; name = "Văn phòng UBND tỉnh"; email = ["vanthu.vpub@sonha.gov.vn"]; }}
);"""
    env.write_config(schedule=SCHEDULE % ("true" if digest else "false"), agencies=agencies, extra=BASE_URL)


def add_task(env, title=TITLE, ref="5.c"):
    p = env.ctl("--now", ADDED, "add", title, "--agency", "stc", "--due", DUE, "--ref", ref, check=True)
    return int(p.stdout.split()[2].rstrip(","))


def once(env, t):
    p = run_once(env, "--now", f"@{t}")
    assert p.returncode in (0, 69, 75), p.stderr
    return p


def assert_token_nowhere(env, *outputs):
    for out in outputs:
        assert TOKEN not in out
        assert TOKEN.split(":")[1] not in out
    dump = env.dump() or ""
    assert TOKEN.split(":")[1] not in (dump if isinstance(dump, str) else "\n".join(map(str, dump)))


def test_reminder_is_a_bot_api_message_the_service_accepts(env):
    bot = TelegramBot(TOKEN)
    with Server(bot) as server:
        configure(env, server.url(""))
        task = add_task(env)
        p = once(env, REMIND)
        server.wait_for(1)
    assert bot.errors == []
    [msg] = bot.messages
    assert msg["chat_id"] == int(CHAT)
    # The task's text is shown as typed, and added no tag of its own.
    assert 'Báo cáo "quý" \\ <script>alert(1)</script> & </b>' in msg["visible"]
    assert "&lt;script&gt;" in msg["text"] and msg["text"].startswith("<b>")
    [(_, state, attempts, _, error)] = webhook_rows(env)
    assert (state, attempts, error) == ("sent", 1, None)
    [req] = server.received()
    body = req.json()
    assert body["parse_mode"] == "HTML" and body["disable_web_page_preview"] is True
    status = env.ctl("status")
    history = env.ctl("history", task)
    dry = run_once(env, "--now", f"@{REMIND + 86400 * 4}", "--dry-run")
    outputs = [p.stdout, p.stderr, status.stdout, status.stderr, history.stdout, history.stderr,
               dry.stdout, dry.stderr]
    assert_token_nowhere(env, *outputs)


def test_a_429_waits_for_the_retry_after_in_the_reply(env):
    bot = TelegramBot(TOKEN, throttle=1, retry_after=3000)
    with Server(bot) as server:
        configure(env, server.url(""))
        add_task(env)
        once(env, REMIND)
        [(_, state, _, next_at, error)] = webhook_rows(env)
        assert state == "pending" and error.startswith("HTTP 429")
        # The service's 50 minutes (from the body: no Retry-After header),
        # not the 5-minute backoff.
        assert REMIND + 3000 <= next_at <= REMIND + 3000 + 5
        once(env, REMIND + 1800)
        assert len(server.received()) == 1
        once(env, REMIND + 3010)
        server.wait_for(2)
    assert len(bot.messages) == 1 and bot.errors == []
    assert webhook_rows(env)[0][1] == "sent"


def test_a_blocked_bot_fails_for_good(env):
    bot = TelegramBot(TOKEN, blocked={int(CHAT)})
    with Server(bot) as server:
        configure(env, server.url(""))
        add_task(env)
        once(env, REMIND)
        [(_, state, attempts, _, error)] = webhook_rows(env)
        assert (state, attempts) == ("failed", 1)
        assert error.startswith("HTTP 403") and "blocked" in error
        once(env, REMIND + 86400)
    assert len(server.received()) == 1


def test_a_long_digest_is_cut_within_telegrams_4096(env):
    bot = TelegramBot(TOKEN)
    with Server(bot) as server:
        configure(env, server.url(""), digest=True, chat="@sotaichinh_nhacviec")
        for i in range(60):
            add_task(env, title=f"Nhiệm vụ {i} <&> " + "rà soát, đánh giá 📅 " * 8, ref=f"{i + 1}")
        once(env, REMIND)
        server.wait_for(1)
    assert bot.errors == []
    [msg] = bot.messages
    assert msg["chat_id"] == "@sotaichinh_nhacviec"
    assert len(msg["visible"].encode("utf-16-le")) // 2 <= 4096
    assert msg["visible"].endswith("…")


def test_the_token_comes_from_a_systemd_credential(env, monkeypatch):
    creds = env.path / "creds"
    creds.mkdir()
    (creds / "telegram-stc").write_text(TOKEN + "\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    bot = TelegramBot(TOKEN)
    with Server(bot) as server:
        configure(env, server.url(""), token_setting='token_credential = "telegram-stc";')
        add_task(env)
        once(env, REMIND)
        server.wait_for(1)
    assert bot.errors == [] and len(bot.messages) == 1


def test_send_test_shows_the_url_without_the_token(env):
    bot = TelegramBot(TOKEN)
    with Server(bot) as server:
        configure(env, server.url(""))
        p = env.ctl("send-test", "stc", "--channel", "webhook")
        j = env.ctl("--json", "send-test", "stc", "--channel", "webhook")
    assert p.returncode == 0, p.stderr
    assert f"{server.url('')}/bot***/sendMessage" in p.stdout
    assert json.loads(j.stdout)["results"][0]["url"] == f"{server.url('')}/bot***/sendMessage"
    assert len(bot.messages) == 2 and bot.errors == []
    assert_token_nowhere(env, p.stdout, p.stderr, j.stdout)


def test_an_unreachable_api_url_says_why_without_the_token(env):
    with Server() as server:
        url = server.url("")
    configure(env, url)          # nothing listens there any more
    add_task(env)
    p = once(env, REMIND)
    [(_, state, _, _, error)] = webhook_rows(env)
    assert state == "pending" and error
    s = env.ctl("send-test", "stc", "--channel", "webhook")
    assert s.returncode == 69 and "not sent:" in s.stdout
    assert_token_nowhere(env, p.stdout, p.stderr, s.stdout, s.stderr, error)


def check_config_fails(env, *expected):
    before = env.config.read_text()
    p = env.ctl("check-config")
    assert p.returncode == 78, p.stderr
    lines = [line for line in p.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, p.stderr
    for e in expected:
        assert e in lines[0], lines[0]
    assert TOKEN not in p.stderr and TOKEN.split(":")[1] not in p.stderr
    assert env.config.read_text() == before
    return lines[0]


def test_configuration_errors_name_the_setting(env):
    configure(env, "https://api.telegram.org", token_setting="")
    check_config_fails(env, "webhook.token_file", "token_credential")
    configure(env, "https://api.telegram.org", chat="")
    check_config_fails(env, "webhook.chat_id", "missing")
    configure(env, "https://api.telegram.org", chat="sotaichinh")
    check_config_fails(env, "webhook.chat_id", "Telegram chat")
    configure(env, "https://api.telegram.org", extra_webhook='url = "https://x.example/hook";')
    check_config_fails(env, "webhook.url", "api_url")
    # A file whose text is not a token: said so, the text not shown.
    configure(env, "https://api.telegram.org", token_setting=f'token_file = "{token_file(env, "x/" + TOKEN)}";')
    check_config_fails(env, "webhook.token_file", "bot token", str(env.path / "telegram-token"))
    configure(env, "http://192.0.2.10")
    check_config_fails(env, "webhook.api_url", "https://")
    env.write_config(schedule=SCHEDULE % "false", agencies="""agencies = ( { id = "stc"; name = "Sở Tài chính";
       webhook = { url = "https://hooks.example/x"; format = "json"; chat_id = "1"; }; },
       { id = "vpubnd"; name = "Văn phòng UBND tỉnh"; email = ["vanthu.vpub@sonha.gov.vn"]; } );""")
    check_config_fails(env, "webhook.chat_id", "telegram")
    configure(env, "https://api.telegram.org")
    assert env.ctl("check-config").returncode == 0
