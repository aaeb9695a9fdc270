# SPDX-License-Identifier: GPL-2.0-or-later
"""The webhook status matrix against a running deadlined (a slow suite:
`make check-faults`), as doc/webhook.md promises it: any 2xx is delivered;
408, 429, any 5xx and no answer (a connection reset, a receiver slower
than the 15 s a request may take) are tried again with the same
webhook-id, a Retry-After honoured; any other 4xx and every 3xx fail at
once, and a redirect is never followed. Counted per webhook-id at the
receiver and per row in the database: nothing lost, nothing doubled."""

import collections
import socket
import struct
import threading
import time

import pytest

from daemon_helpers import bulk_add, delivery_state_counts, start_daemon, stop, wait_until
from httpserver import Server
from test_webhook import DUE, DUE_AT, REMIND, SCHEDULE, at

pytestmark = pytest.mark.faults

SENT = ["200", "201", "204"]
RETRIED = ["408", "429", "500", "502", "503", "reset"]
FAILED = ["400", "401", "403", "404", "410", "422", "301", "302", "307", "308"]
RETRY_AFTER = {"429": "3", "503": "3"}


class Receiver:
    """Answers each path as its case says, the first request of each
    webhook-id only for the retried cases; counts requests per webhook-id."""

    def __init__(self):
        self.lock = threading.Lock()
        self.by_id = collections.defaultdict(list)   # webhook-id -> [(case, monotonic time)]

    def seen(self, req):
        case = req.path.strip("/")
        with self.lock:
            self.by_id[req.header("webhook-id")].append((case, time.monotonic()))
            return case, len(self.by_id[req.header("webhook-id")])

    def respond(self, req):
        case, n = self.seen(req)
        if case in SENT:
            return int(case), {}, b""
        if case in RETRIED and n == 1:
            return int(case), ({"Retry-After": RETRY_AFTER[case]} if case in RETRY_AFTER else {}), b"later"
        if case in FAILED:
            return int(case), {"Location": "/elsewhere"} if case.startswith("3") else {}, b"no"
        if case == "slow" and n == 1:
            time.sleep(20)
        return 204, {}, b""


def reset_on_first(server, receiver, path):
    """Makes `server` reset the connection (RST, no answer) on the first
    request of each webhook-id to `path`."""
    base = server.httpd.RequestHandlerClass

    class Handler(base):
        def _reset_or_handle(self):
            if self.path == path:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                from httpserver import Request
                req = Request(self.command, self.path, self.headers, body)
                case, n = receiver.seen(req)
                if n == 1:
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                    return
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            base._handle(self)

        do_POST = _reset_or_handle

    server.httpd.RequestHandlerClass = Handler


def agencies_for(cases, url_of):
    rows = [f'{{ id = "c{c}"; name = "Cơ quan {c}"; webhook = {{ url = "{url_of(c)}"; format = "json"; }}; }}'
            for c in cases]
    rows.append('{ id = "vpubnd"; name = "Văn phòng UBND tỉnh"; }')   # the schedule's escalation
    return "agencies = (\n  " + ",\n  ".join(rows) + "\n);"


def test_the_status_matrix_as_documented(env):
    receiver = Receiver()
    with Server(receiver.respond) as server, Server(receiver.respond) as slow_server:
        reset_on_first(server, receiver, "/reset")
        cases = SENT + RETRIED + FAILED
        env.write_config(schedule=SCHEDULE % "false",
                         agencies=agencies_for(cases + ["slow"],
                                               lambda c: (slow_server if c == "slow" else server).url(f"/{c}")),
                         extra='delivery = { retry_min = "1s"; retry_max = "5s"; max_retry_age = "1h"; };')
        tasks = [(f"Việc {c} {i}", f"c{c}", DUE, DUE_AT) for c in cases for i in range(2)]
        bulk_add(env, tasks + [("Việc chậm", "cslow", DUE, DUE_AT)], at("2025-05-01 09:00"))
        p = start_daemon(env, "--now", f"@{REMIND}")
        try:
            # The slow one: 15 s for the first request, then a retry.
            done = wait_until(lambda: set(delivery_state_counts(env)) <= {"sent", "failed"}
                              and sum(delivery_state_counts(env).values()) == len(tasks) + 1, timeout=60)
            assert done, (delivery_state_counts(env), (env.path / "daemon.log").read_text()[-3000:])
            assert p.poll() is None
        finally:
            assert stop(p) == 0
        elsewhere = server.received("/elsewhere")

    # Redirects are not followed: nothing ever reached the Location.
    assert elsewhere == []
    rows = env.query("SELECT a.agency, d.state, d.attempts, d.last_error FROM deliveries d "
                     "JOIN task_agencies a ON a.task_id = d.task_id ORDER BY d.id")
    by_case = collections.defaultdict(list)
    for agency, state, attempts, error in rows:
        by_case[agency[1:]].append((state, attempts, error))
    per_id = {wid: [c for c, _ in reqs] for wid, reqs in receiver.by_id.items()}
    ids_by_case = collections.defaultdict(list)
    for wid, reqs in per_id.items():
        assert len(set(reqs)) == 1      # one webhook-id, one delivery, one receiver
        ids_by_case[reqs[0]].append(wid)

    for case in SENT:
        assert by_case[case] == [("sent", 1, None)] * 2, case
        assert [len(per_id[w]) for w in ids_by_case[case]] == [1, 1], case
    for case in RETRIED + ["slow"]:
        n = 1 if case == "slow" else 2
        # A reset on a kept-alive connection libcurl tries again itself,
        # at once, on a new one (the same request, the same webhook-id): one
        # attempt to the daemon; on a new connection the daemon's retry.
        allowed = {1, 2} if case == "reset" else {2}
        assert all(s == "sent" and a in allowed for s, a, _ in by_case[case]), (case, by_case[case])
        assert len(by_case[case]) == n
        # Tried again with the same webhook-id, once.
        assert [len(per_id[w]) for w in ids_by_case[case]] == [2] * n, case
    for case in FAILED:
        assert [(s, a) for s, a, _ in by_case[case]] == [("failed", 1)] * 2, (case, by_case[case])
        assert all(e.startswith(f"HTTP {case}") for _, _, e in by_case[case]), by_case[case]
        assert [len(per_id[w]) for w in ids_by_case[case]] == [1, 1], case

    # Retry-After: 3 was waited for; a plain 500 came back within the
    # back-off (retry_min 1 s, ±10 %).
    def gap(wid):
        (_, t1), (_, t2) = receiver.by_id[wid]
        return t2 - t1
    for case in RETRY_AFTER:
        assert all(gap(w) >= 2.0 for w in ids_by_case[case]), [gap(w) for w in ids_by_case[case]]
    assert all(gap(w) < 2.0 for w in ids_by_case["500"]), [gap(w) for w in ids_by_case["500"]]
    # The slow receiver was given 15 s, then tried again.
    assert 14.0 <= gap(ids_by_case["slow"][0]) < 25, gap(ids_by_case["slow"][0])
