# SPDX-License-Identifier: GPL-2.0-or-later
"""Webhook reminders against real HTTP(S) servers: the payload formats and
the documented schema, Standard Webhooks signatures checked by an
independent implementation, retries, redirects, TLS, and exact text."""

import base64
import datetime
import email.header
import hashlib
import hmac
import json
import os
import pathlib
import shutil
import subprocess
import time

import pytest

from conftest import SOURCE
from daemon_helpers import bulk_add, run_once, start_daemon, stop, wait_until
from httpserver import Server

HANOI = datetime.timezone(datetime.timedelta(hours=7))
SCHEMA = SOURCE / "doc" / "webhook-payload.schema.json"

SCHEDULE = """schedule = {
  remind_before = ["3d"]; overdue_every = "1d"; send_at = "08:00";
  workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  escalation = ( { after = "2d"; to = ["vpubnd"]; } );
  digest = %s;
  notify_on_assign = false;
};"""
BASE_URL = 'base_url = "https://nhacviec.sonha.gov.vn";'

ADDED = "2025-05-01T09:00"
DUE = "2025-05-10"


def at(text):
    """Local Hanoi time "YYYY-MM-DD HH:MM[:SS]" as epoch seconds."""
    fmt = "%Y-%m-%d %H:%M:%S" if text.count(":") == 2 else "%Y-%m-%d %H:%M"
    return int(datetime.datetime.strptime(text, fmt).replace(tzinfo=HANOI).timestamp())


REMIND = at("2025-05-07 08:00")     # the "3d" slot of a task due 2025-05-10
DUE_AT = at("2025-05-10 23:59:59")


def sql(env, statement, *params):
    """Writes to the database behind deadlinectl's back."""
    env.execute(statement, *params)


def make_secret(env, name="secret"):
    secret = "whsec_" + base64.b64encode(os.urandom(32)).decode()
    path = env.path / name
    path.write_text(secret + "\n")
    path.chmod(0o600)
    return secret, path


def configure(env, url, fmt="json", secret_path=None, webhook_extra="", vpubnd_url=None, digest=False,
          extra=BASE_URL):
    secret = f'secret_file = "{secret_path}";' if secret_path else ""
    vp = (f'webhook = {{ url = "{vpubnd_url}"; format = "json"; }};' if vpubnd_url
          else 'email = ["vanthu.vpub@sonha.gov.vn"];')
    agencies = f"""agencies = (
  {{ id = "stc"; name = "Sở Tài chính";
     webhook = {{ url = "{url}"; format = "{fmt}"; {secret} {webhook_extra} }}; }},
  {{ id = "vpubnd"; name = "Văn phòng UBND tỉnh"; {vp} }},
  {{ id = "skhdt"; name = "Sở Kế hoạch và Đầu tư"; email = ["skhdt@sonha.gov.vn"]; }}
);"""
    env.write_config(schedule=SCHEDULE % ("true" if digest else "false"), agencies=agencies, extra=extra)


def add_task(env, title="Báo cáo đánh giá nguồn lực", due=DUE, ref="5.c", support="skhdt"):
    p = env.ctl("--now", ADDED, "add", title, "--agency", "stc", *(["--support", support] if support else []),
                "--due", due, "--ref", ref, check=True)
    return int(p.stdout.split()[2].rstrip(","))


def once(env, t):
    p = run_once(env, "--now", f"@{t}")
    # 0: all sent; 75: some deferred; 69: some failed for good.
    assert p.returncode in (0, 69, 75), p.stderr
    return p


def webhook_rows(env):
    return env.query("SELECT id, state, attempts, next_attempt_at, last_error FROM deliveries "
                     "WHERE channel LIKE 'webhook:%' ORDER BY id")


def signature_valid(request, secret):
    """The Standard Webhooks check, written from the specification: HMAC-
    SHA256 over "id.timestamp.body" with the base64-decoded secret, compared
    in constant time with each "v1," signature of the header."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f'{request.header("webhook-id")}.{request.header("webhook-timestamp")}.'.encode() + request.body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(s.startswith("v1,") and hmac.compare_digest(s[3:], expected)
               for s in request.header("webhook-signature").split(" "))


def validate(payload):
    import jsonschema
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(payload)


def test_json_payload_is_signed_and_follows_the_documented_schema(env):
    secret, path = make_secret(env)
    with Server() as server:
        configure(env, server.url(), secret_path=path, webhook_extra='headers = { Authorization = "Bearer t0k"; };')
        task = add_task(env)
        once(env, REMIND)
        [req] = server.wait_for(1)

    assert req.method == "POST" and req.path == "/hook"
    assert req.header("Content-Type") == "application/json"
    assert req.header("Authorization") == "Bearer t0k"
    assert req.header("User-Agent").startswith("deadlined/")
    assert signature_valid(req, secret)
    assert abs(int(req.header("webhook-timestamp")) - REMIND) <= 5
    [(delivery, state, _, _, _)] = webhook_rows(env)
    assert state == "sent"
    assert req.header("webhook-id") == f"deadlined-{env.instance_id()}-{delivery}"

    payload = req.json()
    validate(payload)
    assert payload["version"] == 1
    assert payload["type"] == "reminder"
    assert payload["id"] == req.header("webhook-id")
    assert payload["timestamp"] == "2025-05-07T08:00:00+07:00"
    assert payload["language"] == "vi" and payload["digest"] is False
    assert payload["agency"] == {"id": "stc", "name": "Sở Tài chính", "role": "lead"}
    assert payload["escalation"] is None
    assert "Báo cáo đánh giá nguồn lực" in payload["subject"]
    assert "Báo cáo đánh giá nguồn lực" in payload["text"]
    [t] = payload["tasks"]
    assert t["id"] == task and t["ref"] == "5.c" and t["title"] == "Báo cáo đánh giá nguồn lực"
    assert t["due"] == DUE and t["due_at"] == "2025-05-10T23:59:59+07:00" and t["status"] == "open"
    assert t["url"] == f"https://nhacviec.sonha.gov.vn/tasks/{task}"
    ts = int(req.header("webhook-timestamp"))
    assert t["time_left"]["seconds"] == DUE_AT - ts
    assert t["time_left"]["text"] == "còn 3 ngày"
    assert t["role"] == "lead"
    assert t["agencies"] == [{"id": "stc", "name": "Sở Tài chính", "role": "lead"},
                             {"id": "skhdt", "name": "Sở Kế hoạch và Đầu tư", "role": "support"}]


def test_a_changed_body_or_a_wrong_secret_does_not_verify(env):
    """The check above can fail: the signature covers the body and needs
    the secret."""
    secret, path = make_secret(env)
    with Server() as server:
        configure(env, server.url(), secret_path=path)
        add_task(env)
        once(env, REMIND)
        [req] = server.wait_for(1)
    assert signature_valid(req, secret)
    req.body = req.body.replace(b'"reminder"', b'"overdue"')
    assert not signature_valid(req, secret)
    req.body = req.body.replace(b'"overdue"', b'"reminder"')
    assert not signature_valid(req, "whsec_" + base64.b64encode(os.urandom(32)).decode())


def test_the_reference_library_accepts_the_request(env):
    """The specification's own TypeScript library (npm standardwebhooks),
    when `make check-webhook-reference` has installed it."""
    modules = os.environ.get("DEADLINED_STANDARDWEBHOOKS")
    if not modules or not (pathlib.Path(modules) / "standardwebhooks").is_dir() or not shutil.which("node"):
        pytest.skip("npm standardwebhooks not installed (make check-webhook-reference)")
    secret, path = make_secret(env)
    with Server() as server:
        configure(env, server.url(), secret_path=path)
        add_task(env)
        once(env, REMIND)
        [req] = server.wait_for(1)
    script = """
const { Webhook } = require("standardwebhooks");
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const wh = new Webhook(input.secret.replace(/^whsec_/, ""));
// The library checks the timestamp against the clock; the request was
// made at the daemon's --now, so the clock is set to it.
Date.now = () => Number(input.headers["webhook-timestamp"]) * 1000;
const payload = wh.verify(Buffer.from(input.body, "base64").toString("utf8"), input.headers);
process.stdout.write(JSON.stringify(payload));
"""
    data = json.dumps({"secret": secret, "body": base64.b64encode(req.body).decode(),
                       "headers": {k: req.header(k) for k in ("webhook-id", "webhook-timestamp",
                                                              "webhook-signature")}})
    p = subprocess.run(["node", "-e", script], input=data, capture_output=True, text=True,
                       env=dict(os.environ, NODE_PATH=modules), timeout=60)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == req.json()


def test_500_is_retried_with_the_same_webhook_id(env):
    secret, path = make_secret(env)
    answers = [(500, {}, b"busy"), (204, {}, b"")]
    with Server(lambda r: answers.pop(0)) as server:
        configure(env, server.url(), secret_path=path)
        add_task(env)
        once(env, REMIND)
        [(_, state, attempts, next_at, error)] = webhook_rows(env)
        assert state == "pending" and attempts == 1
        assert error == "HTTP 500: busy"
        # delivery.retry_min is 5 minutes, with ±10% jitter.
        assert REMIND + 270 <= next_at <= REMIND + 330 + 5
        once(env, REMIND + 600)
        first, second = server.wait_for(2)
    assert webhook_rows(env)[0][1] == "sent"
    assert first.header("webhook-id") == second.header("webhook-id")
    assert int(second.header("webhook-timestamp")) >= REMIND + 600
    assert signature_valid(first, secret) and signature_valid(second, secret)
    assert first.json()["id"] == second.json()["id"]


def test_429_waits_for_retry_after(env):
    answers = [(429, {"Retry-After": "3000"}, b"slow down"), (204, {}, b"")]
    with Server(lambda r: answers.pop(0)) as server:
        configure(env, server.url())
        add_task(env)
        once(env, REMIND)
        [(_, state, _, next_at, error)] = webhook_rows(env)
        assert state == "pending" and error.startswith("HTTP 429")
        # The server's 50 minutes, not the 5-minute backoff.
        assert REMIND + 3000 <= next_at <= REMIND + 3000 + 5
        once(env, REMIND + 1800)
        assert len(server.received()) == 1
        once(env, REMIND + 3010)
        assert len(server.wait_for(2)) == 2
    assert webhook_rows(env)[0][1] == "sent"


def test_400_fails_at_once_with_the_start_of_the_reply(env):
    reply = ("invalid payload: " + "x" * 300).encode()
    with Server(lambda r: (400, {"Content-Type": "text/plain"}, reply)) as server:
        configure(env, server.url())
        add_task(env)
        once(env, REMIND)
        [(_, state, attempts, _, error)] = webhook_rows(env)
        assert state == "failed" and attempts == 1
        assert error == "HTTP 400: " + reply[:200].decode()
        once(env, REMIND + 86400)
        assert len(server.received()) == 1


def test_redirect_is_not_followed(env):
    with Server(lambda r: (301, {"Location": "/elsewhere"}, b"") if r.path == "/hook" else (204, {}, b"")) as server:
        configure(env, server.url())
        add_task(env)
        once(env, REMIND)
        time.sleep(0.2)
        assert [r.path for r in server.received()] == ["/hook"]
    [(_, state, _, _, error)] = webhook_rows(env)
    assert state == "failed" and error.startswith("HTTP 301")


def test_untrusted_certificate_is_refused(env, test_ca):
    with Server(tls=(test_ca.cert, test_ca.key)) as server:
        configure(env, server.url(host="localhost"))
        add_task(env)
        once(env, REMIND)
        [(_, state, _, _, error)] = webhook_rows(env)
        assert state == "pending"
        assert "certificate" in error.lower()
        assert server.received() == []

        # A CA file that does not sign the server's certificate is no better.
        configure(env, server.url(host="localhost"), webhook_extra=f'ca_file = "{test_ca.other_ca_cert}";')
        once(env, REMIND + 3600)
        assert server.received() == []
        assert webhook_rows(env)[0][1] == "pending"

        # With the CA that signed it, the same reminder goes through.
        configure(env, server.url(host="localhost"), webhook_extra=f'ca_file = "{test_ca.ca_cert}";')
        once(env, REMIND + 7200)
        assert len(server.wait_for(1)) == 1
    assert webhook_rows(env)[0][1] == "sent"


NASTY = 'Trả lời "gấp" \\ C:\\dữ liệu\\ \x01\x07\x1b[31m\tđỏ\x7f — Tiếng Việt có dấu: ỗ ữ ặ; 𝔘 ✓'


def test_title_with_quotes_backslashes_and_control_characters_round_trips(env):
    with Server() as server:
        configure(env, server.url())
        task = add_task(env, title="placeholder")
        # deadlinectl refuses control characters; another writer might not.
        sql(env, "UPDATE tasks SET title = ?, detail = ? WHERE id = ?", NASTY, NASTY + "\nline 2", task)
        con_check = env.query("SELECT title FROM tasks WHERE id = ?", task)
        assert con_check == [(NASTY,)]
        once(env, REMIND)
        [req] = server.wait_for(1)
    payload = req.json()
    validate(payload)
    assert payload["tasks"][0]["title"] == NASTY
    assert payload["tasks"][0]["detail"] == NASTY + "\nline 2"
    # The rendered text drops the control characters, keeps the rest.
    assert "\x1b" not in payload["text"] and "\x01" not in payload["subject"]
    assert 'Trả lời "gấp" \\ C:\\dữ liệu\\' in payload["subject"]


def test_ntfy_title_cannot_add_a_header(env):
    with Server() as server:
        configure(env, server.url(), fmt="ntfy")
        task = add_task(env, title="placeholder")
        sql(env, "UPDATE tasks SET title = ? WHERE id = ?", "Việc A\r\nX-Injected: 1\r\n\r\nbody", task)
        once(env, REMIND)
        [req] = server.wait_for(1)
    assert req.header("X-Injected") is None
    title = str(email.header.make_header(email.header.decode_header(req.header("Title"))))
    assert "\r" not in title and "\n" not in title
    assert "Việc A X-Injected: 1" in title


def test_ntfy_message_is_text_with_title_priority_and_tags(env):
    with Server() as server:
        configure(env, server.url(), fmt="ntfy")
        task = add_task(env)
        once(env, REMIND)
        [req] = server.wait_for(1)
    assert req.header("Content-Type") == "text/plain; charset=utf-8"
    title = str(email.header.make_header(email.header.decode_header(req.header("Title"))))
    assert title.startswith("[Nhắc việc] Còn 3 ngày: 5.c — Báo cáo đánh giá nguồn lực")
    assert all(len(w) <= 75 for w in req.header("Title").split(" "))
    assert req.header("Priority") == "3"
    assert req.header("Tags") == "alarm_clock"
    assert req.header("Click") == f"https://nhacviec.sonha.gov.vn/tasks/{task}"
    text = req.body.decode("utf-8")
    assert text.startswith("Kính gửi: Sở Tài chính.")
    assert "Báo cáo đánh giá nguồn lực" in text and "còn 3 ngày" in text


def test_slack_message_has_text_and_blocks_with_mrkdwn_escaped(env):
    with Server() as server:
        configure(env, server.url(), fmt="slack")
        task = add_task(env, title="placeholder")
        sql(env, "UPDATE tasks SET title = ? WHERE id = ?", "Họp <!channel> & <https://x.test|bấm>", task)
        once(env, REMIND)
        [req] = server.wait_for(1)
    assert req.header("Content-Type") == "application/json"
    msg = req.json()
    assert set(msg) == {"text", "blocks"}
    assert "<!channel>" not in msg["text"] and "<https://" not in msg["text"]
    assert "Họp &lt;!channel&gt; &amp; &lt;https://x.test|bấm&gt;" in msg["text"]
    header, *sections = msg["blocks"]
    assert header["type"] == "header" and header["text"]["type"] == "plain_text"
    assert "Họp <!channel> & <https://x.test|bấm>" in header["text"]["text"]
    assert len(header["text"]["text"]) <= 150
    assert sections and all(b["type"] == "section" and b["text"]["type"] == "mrkdwn" for b in sections)
    assert all(len(b["text"]["text"]) <= 3000 for b in sections)
    joined = "".join(b["text"]["text"] for b in sections)
    assert "Họp &lt;!channel&gt; &amp; &lt;https://x.test|bấm&gt;" in joined
    assert "<!channel>" not in joined


def test_slack_long_digest_is_cut_into_sections_within_limits(env):
    with Server() as server:
        configure(env, server.url(), fmt="slack", digest=True)
        for i in range(60):
            add_task(env, title=f"Nhiệm vụ số {i} " + "rất dài " * 20, ref=f"{i}", support=None)
        once(env, REMIND)
        [req] = server.wait_for(1)
    msg = req.json()
    assert len(msg["blocks"]) <= 50
    assert len(msg["text"]) <= 4000
    sections = msg["blocks"][1:]
    assert len(sections) >= 3
    assert all(0 < len(b["text"]["text"]) <= 3000 for b in sections)
    assert "Nhiệm vụ số 59" in "".join(b["text"]["text"] for b in sections)


def test_digest_is_one_payload_listing_its_tasks(env):
    secret, path = make_secret(env)
    with Server() as server:
        configure(env, server.url(), secret_path=path, digest=True)
        ids = [add_task(env, title=f"Việc {i}", ref=f"{i}") for i in range(3)]
        once(env, REMIND)
        [req] = server.wait_for(1)
        time.sleep(0.2)
        assert len(server.received()) == 1
    payload = req.json()
    validate(payload)
    assert payload["digest"] is True
    assert payload["agency"]["role"] is None
    assert [t["id"] for t in payload["tasks"]] == ids
    assert [t["title"] for t in payload["tasks"]] == ["Việc 0", "Việc 1", "Việc 2"]
    assert all(t["role"] == "lead" for t in payload["tasks"])
    rows = webhook_rows(env)
    assert len(rows) == 3 and all(r[1] == "sent" for r in rows)
    assert payload["id"].startswith(f"deadlined-{env.instance_id()}-{rows[0][0]}-")
    assert signature_valid(req, secret)


def test_escalation_payload_names_the_level(env):
    with Server() as stc, Server() as vp:
        configure(env, stc.url(), vpubnd_url=vp.url())
        add_task(env)
        # Overdue from 2025-05-11; the "2d" escalation falls due on the 12th.
        once(env, at("2025-05-12 08:00"))
        [req] = vp.wait_for(1)
    payload = req.json()
    validate(payload)
    assert payload["type"] == "escalation"
    assert payload["escalation"] == {"level": 1, "after": 2 * 86400}
    assert payload["agency"] == {"id": "vpubnd", "name": "Văn phòng UBND tỉnh", "role": None}
    [t] = payload["tasks"]
    assert t["role"] is None and t["time_left"]["seconds"] < 0
    assert "quá hạn" in t["time_left"]["text"]


def test_plain_http_to_another_host_is_refused_by_the_configuration(env):
    configure(env, "http://192.0.2.10/hook")
    p = env.ctl("check-config")
    assert p.returncode == 78
    assert "agencies.[0].webhook.url" in p.stderr or "webhook.url" in p.stderr
    assert "https://" in p.stderr and "allow_plaintext_remote" in p.stderr
    configure(env, "http://192.0.2.10/hook", webhook_extra="allow_plaintext_remote = true;")
    assert env.ctl("check-config").returncode == 0
    configure(env, "http://localhost:8080/hook")
    assert env.ctl("check-config").returncode == 0
    configure(env, "http://[::1]:8080/hook")
    assert env.ctl("check-config").returncode == 0


def test_a_secret_that_is_not_whsec_base64_is_refused(env):
    path = env.path / "secret"
    for bad in ["not base64!", "whsec_" + base64.b64encode(b"short").decode(), "whsec_" + "A" * 10]:
        path.write_text(bad + "\n")
        path.chmod(0o600)
        configure(env, "https://hooks.example.test/x", secret_path=path)
        p = env.ctl("check-config")
        assert p.returncode == 78, bad
        assert "secret_file" in p.stderr and "whsec_" in p.stderr
    make_secret(env)
    configure(env, "https://hooks.example.test/x", secret_path=path)
    assert env.ctl("check-config").returncode == 0


def test_a_slow_receiver_gets_four_at_a_time_and_another_goes_past_it(env):
    """The per-host bound: a receiver that takes a second per request has at
    most 4 requests at once, the others wait their turn (and are stamped
    when they go), and another receiver's reminder claimed with them does
    not wait behind them."""
    def slow(r):
        time.sleep(1.0)
        return 204, {}, b""

    secret, path = make_secret(env)
    with Server(slow) as slow_server, Server() as fast_server:
        configure(env, slow_server.url(), secret_path=path, vpubnd_url=fast_server.url(), extra="")
        for i in range(12):
            add_task(env, title=f"Việc {i}", ref=f"{i}")
        # One task of vpubnd's own, due the same day.
        sql(env, "UPDATE task_agencies SET agency = 'vpubnd' WHERE task_id = 12 AND role = 'lead'")
        t0 = time.monotonic()
        once(env, REMIND)
        elapsed = time.monotonic() - t0
        fast = fast_server.received()
        slow_reqs = slow_server.received()
    assert len(fast) == 1 and len(slow_reqs) == 11
    assert slow_server.max_active <= 4
    # 11 requests of a second, 4 at a time: three rounds.
    assert elapsed >= 2.9
    assert fast[0].time - t0 < 1.0
    # Those that waited their turn were stamped and signed when they went.
    stamps = sorted(int(r.header("webhook-timestamp")) for r in slow_reqs)
    assert stamps[-1] - stamps[0] >= 2
    assert all(signature_valid(r, secret) for r in slow_reqs)
    assert all(row[1] == "sent" for row in webhook_rows(env))


def test_a_slow_receivers_backlog_does_not_starve_another(env):
    """A receiver that takes its time holds at most its share of the
    transfers in flight (in progress and waiting); the claim goes past the
    rest of its backlog, so another agency's reminder decided after 400 of
    its ones still goes at once rather than after all of them."""
    def slow(r):
        time.sleep(0.3)
        return 204, {}, b""

    with Server(slow) as slow_server, Server() as fast_server:
        configure(env, slow_server.url(), vpubnd_url=fast_server.url(), extra="")
        added = at("2025-05-01 09:00")
        bulk_add(env, [(f"Việc {i}", "stc", DUE, DUE_AT) for i in range(400)] +
                 [("Việc của Văn phòng", "vpubnd", DUE, DUE_AT)], added)
        p = start_daemon(env, "--now", f"@{REMIND}")
        t0 = time.monotonic()
        assert fast_server.wait_for(1, timeout=20), (env.path / "daemon.log").read_text()[-2000:]
        waited = time.monotonic() - t0
        counts = dict(env.query("SELECT state, count(*) FROM deliveries GROUP BY state"))
        t1 = time.monotonic()
        assert stop(p) == 0
        stopping = time.monotonic() - t1
        slow_reqs = slow_server.received()
    # 400 requests of 0.3 s, 4 at a time, would be 30 s.
    assert waited < 5, waited
    assert len(slow_reqs) < 100
    # A stop lets the 4 under way finish; those waiting their turn wait for
    # the next start instead.
    assert stopping < 2, stopping
    assert slow_server.max_active <= 4
    # Claimed and not settled: at most the slow receiver's share and the
    # other's one.
    assert counts.get("attempting", 0) <= 192 + 1, counts
    # A graceful stop puts back what had not gone; nothing is lost.
    rows = dict(env.query("SELECT state, count(*) FROM deliveries GROUP BY state"))
    assert rows.get("attempting", 0) == 0 and rows.get("failed", 0) == 0, rows
    assert sum(rows.values()) == 401


def test_two_slow_receivers_backlogs_do_not_starve_a_third(env):
    """Two slow receivers share the room for transfers with whoever comes
    next: a third agency's reminder, decided after 300 of each of theirs,
    goes within a second or two, not after their backlogs."""
    def slow(r):
        time.sleep(0.3)
        return 204, {}, b""

    with Server(slow) as one, Server(slow) as two, Server() as fast_server:
        env.write_config(schedule=SCHEDULE % "false", agencies=f"""agencies = (
  {{ id = "stc"; name = "Sở Tài chính"; webhook = {{ url = "{one.url()}"; format = "json"; }}; }},
  {{ id = "skhdt"; name = "Sở Kế hoạch và Đầu tư"; webhook = {{ url = "{two.url()}"; format = "json"; }}; }},
  {{ id = "vpubnd"; name = "Văn phòng UBND tỉnh"; webhook = {{ url = "{fast_server.url()}"; format = "json"; }}; }}
);""")
        added = at("2025-05-01 09:00")
        bulk_add(env, [(f"Việc {i}", "stc" if i % 2 else "skhdt", DUE, DUE_AT) for i in range(600)] +
                 [("Việc của Văn phòng", "vpubnd", DUE, DUE_AT)], added)
        p = start_daemon(env, "--now", f"@{REMIND}")
        t0 = time.monotonic()
        assert fast_server.wait_for(1, timeout=30), (env.path / "daemon.log").read_text()[-2000:]
        waited = time.monotonic() - t0
        assert stop(p) == 0
    # 600 requests of 0.3 s, 4 at a time per receiver, would be 23 s.
    assert waited < 5, waited
    assert one.max_active <= 4 and two.max_active <= 4


def test_reminders_that_lost_their_reason_do_not_hold_up_the_others(env):
    """Rows the claim records as not to go (here 2,000 of a deadline since
    changed, due before anything else) are progress: the claim goes on past
    them at once, even while a slow transfer is under way, rather than a
    batch a second."""
    def slow(r):
        time.sleep(5)
        return 204, {}, b""

    with Server(slow) as slow_server, Server() as fast_server:
        configure(env, slow_server.url(), vpubnd_url=fast_server.url(), extra="")
        add_task(env, title="Việc chậm", ref="1", support=None)
        p = start_daemon(env, "--now", f"@{REMIND}")
        assert slow_server.wait_for(1, timeout=10), (env.path / "daemon.log").read_text()
        sql(env, "INSERT INTO deliveries (task_id, slot, slot_at, agency, channel, state, attempts, "
                 "next_attempt_at, created_at) WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n "
                 "WHERE x < 2000) SELECT 1, 'before:3d@' || x, ?, 'stc', 'webhook:0', 'pending', 0, ?, ? "
                 "FROM n", REMIND, REMIND - 60, REMIND)
        t0 = time.monotonic()
        env.ctl("--now", ADDED, "add", "Việc mới", "--agency", "vpubnd", "--due", DUE, "--ref", "2", check=True)
        assert fast_server.wait_for(1, timeout=20)
        waited = time.monotonic() - t0
        assert stop(p) == 0
    assert waited < 2.5, waited
    assert env.query("SELECT count(*) FROM deliveries WHERE last_error LIKE 'not sent: the deadline was changed'") \
        == [(2000,)]


def test_send_test_posts_a_signed_test_message_to_each_webhook(env):
    secret, path = make_secret(env)
    with Server() as json_server, Server() as ntfy_server:
        url = json_server.url()
        configure(env, url, secret_path=path,
                  webhook_extra=f'}}, {{ url = "{ntfy_server.url()}"; format = "ntfy";')
        env.config.write_text(env.config.read_text().replace("webhook = {", "webhook = ( {", 1)
                              .replace('format = "ntfy"; }; }', 'format = "ntfy"; } ); }', 1))
        p = env.ctl("send-test", "stc", "--channel", "webhook")
        [req] = json_server.received()
        [note] = ntfy_server.received()
    assert p.returncode == 0, p.stderr
    assert p.stdout.count("sent, HTTP 204") == 2
    assert signature_valid(req, secret)
    assert req.header("webhook-id").startswith("deadlined-test-")
    payload = req.json()
    validate(payload)
    assert payload["type"] == "test" and payload["tasks"] == []
    assert payload["agency"] == {"id": "stc", "name": "Sở Tài chính", "role": None}
    # It says what it tests: the webhook, not an e-mail address.
    assert "webhook đã được cấu hình đúng" in payload["text"]
    assert "thư điện tử" not in payload["text"].lower() and "thư" not in payload["subject"]
    assert note.header("Tags") == "white_check_mark"
    assert note.header("webhook-id") != req.header("webhook-id")


def test_send_test_reports_what_the_receiver_answered(env):
    with Server(lambda r: (404, {}, b"no such hook\n")) as server:
        configure(env, server.url())
        p = env.ctl("send-test", "stc", "--channel", "webhook")
        assert p.returncode == 69
        assert "not sent: HTTP 404: no such hook" in p.stdout
        out = json.loads(env.ctl("--json", "send-test", "stc", "--channel", "webhook").stdout)
    [result] = out["results"]
    assert result["ok"] is False and result["status"] == 404
    assert result["error"] == "HTTP 404: no such hook "
    assert len(server.received()) == 2


def test_send_test_to_an_unreachable_webhook_says_why(env):
    with Server() as server:
        url = server.url()
    configure(env, url)        # nothing listens there any more
    p = env.ctl("send-test", "stc", "--channel", "webhook")
    assert p.returncode == 69
    assert "not sent:" in p.stdout and "onnect" in p.stdout
