# SPDX-License-Identifier: GPL-2.0-or-later
"""Retries as documented, against a real webhook receiver: the last attempt
is made max_retry_age after the first, and a stop puts deliveries claimed
but not yet sent back as they were, so that a restart sends them in their
turn."""

import threading
import time

import pytest

from daemon_helpers import bulk_add, run_once, start_daemon, stop, wait_until
from httpserver import Server
from test_webhook import BASE_URL, DUE, DUE_AT, REMIND, configure


RETRY_1M = 'delivery = { retry_min = "1m"; retry_max = "1h"; max_retry_age = "2d"; };'


def answer_503(request):
    return 503, {}, b"busy"


def add_tasks(env, n):
    bulk_add(env, [(f"Báo cáo {i}", "stc", DUE, DUE_AT) for i in range(n)], REMIND - 86400)


def task_of(request):
    return request.json()["tasks"][0]["id"]


def rows(env):
    return {i: (state, attempts, next_at, first_at) for i, state, attempts, next_at, first_at in env.query(
        "SELECT task_id, state, attempts, next_attempt_at, first_attempt_at FROM deliveries")}


@pytest.mark.faults
def test_the_last_attempt_is_made_at_max_retry_age(env):
    """retry_min 5s doubling: attempts at about 0, 5, 15 and 35 s; the next
    wait (40 s) would pass the minute, so the last attempt is at 60 s, and
    only its failure gives the delivery up."""
    with Server(answer_503) as server:
        configure(env, server.url(), extra=BASE_URL +
                  'delivery = { retry_min = "5s"; retry_max = "1h"; max_retry_age = "1m"; };')
        add_tasks(env, 1)
        p = start_daemon(env, "--now", f"@{REMIND}")
        try:
            assert wait_until(lambda: rows(env).get(1, ("",))[0] == "failed", timeout=90), rows(env)
            failed = time.monotonic()
        finally:
            stop(p)
        times = [r.time for r in server.received()]
    last = times[-1] - times[0]
    assert 58.5 <= last <= 62, f"last attempt {last:.1f}s after the first; attempts at " + \
        ", ".join(f"{t - times[0]:.1f}" for t in times)
    assert len(times) == 5
    assert failed >= times[-1]
    (state, attempts, _, _), = rows(env).values()
    assert (state, attempts) == ("failed", 5)


def stop_with_claims_waiting(env, n, stop_timeout):
    """n deliveries, each tried once and due again; a daemon that claims
    them while its receiver holds every request, and is stopped. Returns
    the rows before the claim, the tasks whose requests had reached the
    receiver, and the rows after the stop."""
    with Server(answer_503) as server:
        configure(env, server.url(), extra=BASE_URL + RETRY_1M)
        add_tasks(env, n)
        assert run_once(env, "--now", f"@{REMIND}").returncode == 75
    before = rows(env)
    assert len(before) == n and all(r[:2] == ("pending", 1) for r in before.values())

    release = threading.Event()

    def stall(request):
        release.wait(60)
        return 204, {}, b""

    with Server(stall) as server:
        configure(env, server.url(), extra=BASE_URL + RETRY_1M)
        p = start_daemon(env, "--now", f"@{REMIND + 120}")
        try:
            assert wait_until(lambda: server.active == 4, timeout=20)
            claimed = env.query("SELECT count(*) FROM deliveries WHERE state = 'attempting'")[0][0]
            assert claimed > 4 and claimed < n, claimed
            p.terminate()
            if not stop_timeout:
                time.sleep(0.3)
                release.set()
            assert p.wait(30) == 0
        finally:
            release.set()
            stop(p)
        on_the_wire = {task_of(r) for r in server.received()}
    assert len(on_the_wire) == 4
    return before, on_the_wire, rows(env)


def restart_order(env, before, skip):
    """Restarts and returns the tasks in the order their requests came,
    those in `skip` left out, and where each was expected: by next_attempt_at
    and id as they were before the stop."""
    with Server() as server:
        configure(env, server.url(), extra=BASE_URL + RETRY_1M)
        assert run_once(env, "--now", f"@{REMIND + 180}").returncode == 0
        got = [task_of(r) for r in server.received() if task_of(r) not in skip]
    expected = sorted((t for t in before if t not in skip), key=lambda t: (before[t][2], t))
    return got, expected


def assert_put_back_as_before(before, after, on_the_wire, wire_state):
    changed = {t: (before[t], after[t]) for t in before
               if t not in on_the_wire and after[t] != ("pending",) + before[t][1:]}
    assert not changed, f"{len(changed)} of {len(before) - len(on_the_wire)} rows not sent changed, e.g. " + \
        str(sorted(changed.items())[:3])
    for t in on_the_wire:
        assert after[t][:2] == wire_state, (t, after[t])
        assert after[t][3] == before[t][3]


def assert_in_order(got, expected):
    assert sorted(got) == sorted(expected)
    place = {t: i for i, t in enumerate(expected)}
    off = [abs(i - place[t]) for i, t in enumerate(got)]
    # Four requests are under way at once, each on its own connection and
    # server thread: one may be recorded a few places late, seldom more.
    late = sum(d > 8 for d in off)
    assert late <= len(got) // 20 and max(off) <= 60, \
        f"{late} of {len(got)} deliveries more than 8 places from their turn, one {max(off)}; " \
        f"(task, expected place, place): {[(t, place[t], i) for i, t in enumerate(got) if off[i] > 8]}"


@pytest.mark.faults
def test_a_stop_puts_unsent_claims_back_and_a_restart_keeps_their_turn(env):
    """SIGTERM with 300 deliveries due, about 190 claimed, four of them on
    the wire to a receiver that does not answer until the stop timeout
    (10 s) ends them. The claims not sent go back with their attempt count
    and retry time; the four keep the attempt they made."""
    before, on_the_wire, after = stop_with_claims_waiting(env, 300, stop_timeout=True)
    assert_put_back_as_before(before, after, on_the_wire, ("pending", 2))
    got, expected = restart_order(env, before, on_the_wire)
    assert_in_order(got, expected)


def test_a_stop_puts_claims_waiting_their_receiver_back(env):
    """The same, with the receiver answering the four under way as soon as
    the stop begins: they are sent, the others go back untouched."""
    before, on_the_wire, after = stop_with_claims_waiting(env, 300, stop_timeout=False)
    assert_put_back_as_before(before, after, on_the_wire, ("sent", 2))
    got, expected = restart_order(env, before, on_the_wire)
    assert_in_order(got, expected)

