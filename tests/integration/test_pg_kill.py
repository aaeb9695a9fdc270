# SPDX-License-Identifier: GPL-2.0-or-later
"""Several deadlined on one PostgreSQL database, one of them kill -9ed about
every second and started again: 2,000 webhook reminders due at once reach a
local receiver with none lost, and no more duplicates than the rows the
killed daemons held (deliveries still 'attempting' under their claimed_by,
"<host>:<pid>"). Run by `make check-pg` (marker pg).

The lease of a claim is PG_LEASE_SECONDS (300 s), a compile-time constant.
A restarted daemon has a new pid, so it cannot take back the claims of the
one that was killed; they come back when their lease runs out (any daemon
that starts puts back the claims whose lease has run out). The test does not
wait five minutes for that: right after a kill it counts the dead daemon's
rows and then moves their claimed_until into the past, which is what the
clock would do; the daemons' own code does the rest."""

import datetime
import os
import random
import signal
import socket
import time

import pytest

from daemon_helpers import start_daemon, stop, wait_until
from httpserver import Server
from test_pg import cluster, fresh_database, psql  # noqa: F401 (the cluster fixture)

pytestmark = pytest.mark.pg

HANOI = datetime.timezone(datetime.timedelta(hours=7))
TASKS = 2000


def configure(env, uri, url):
    env.write_config(
        f'database = "{uri}";\ntimezone = "Asia/Ho_Chi_Minh";\nlanguage = "vi";\n'
        f'transport = "maildir:maildir";\nfrom = "Nhắc việc <nhacviec@sonha.gov.vn>";\n'
        f'schedule = {{ remind_before = ["3600s"]; overdue_every = "0s"; send_at = "08:00"; '
        f'notify_on_assign = false; }};\n'
        f'agencies = ( {{ id = "stc"; name = "Sở Tài chính"; '
        f'webhook = {{ url = "{url}"; format = "json"; }}; }} );\n')


def add_tasks(env, uri, n):
    """n tasks whose "1h before" slot passed 30 minutes ago, in one
    transaction (a deadlinectl add each would take minutes)."""
    now = int(time.time())
    due_at = now + 1800
    due = datetime.datetime.fromtimestamp(due_at, HANOI).strftime("%Y-%m-%dT%H:%M")
    env.ctl("list", check=True)  # creates the schema
    psql(uri, f"""BEGIN;
        INSERT INTO tasks (title, due, due_at, status, created_at, updated_at, next_fire_at, fired_through)
          SELECT 'Việc ' || i, '{due}', {due_at}, 'open', {now - 7200}, {now - 7200}, {now - 7200}, {now - 7200}
          FROM generate_series(1, {n}) AS i;
        INSERT INTO task_agencies (task_id, agency, role, position) SELECT id, 'stc', 'lead', 0 FROM tasks;
        COMMIT;""")


def slow_204(request):
    # A receiver slow enough that the daemons are still sending when the
    # kills come (about 2,000 x 25 ms over the daemons' connections).
    time.sleep(0.025)
    return 204, {}, b""


def claimer(proc):
    return f"{socket.gethostname()}:{proc.pid}"


@pytest.mark.parametrize("daemons", [2, 3])
def test_kill_9_among_several_daemons_loses_nothing(env, cluster, daemons):  # noqa: F811
    uri = fresh_database(cluster)
    seed = int(os.environ.get("DEADLINED_KILL_SEED", time.time_ns() % 1_000_000))
    rnd = random.Random(seed)
    print(f"\nseed {seed} (DEADLINED_KILL_SEED={seed} repeats this run)")
    with Server(respond=slow_204) as server:
        configure(env, uri, server.url())
        add_tasks(env, uri, TASKS)
        procs = [start_daemon(env) for _ in range(daemons)]
        kills = held = 0
        start = time.monotonic()

        def sent():
            return int(psql(uri, "SELECT count(*) FROM deliveries WHERE state = 'sent'"))

        try:
            # Kill one about every second while deliveries remain; stop
            # killing after 60 kills so that a slow machine still ends.
            while sent() < TASKS and kills < 60 and time.monotonic() - start < 240:
                time.sleep(1)
                i = rnd.randrange(daemons)
                victim = procs[i]
                victim.send_signal(signal.SIGKILL)
                victim.wait(10)
                kills += 1
                who = claimer(victim)
                held += int(psql(uri, "SELECT count(*) FROM deliveries WHERE state = 'attempting' "
                                      f"AND claimed_by = '{who}'"))
                # The lease of a dead daemon's claims runs out.
                psql(uri, f"UPDATE deliveries SET claimed_until = 0 WHERE state = 'attempting' "
                          f"AND claimed_by = '{who}'")
                procs[i] = start_daemon(env)
            assert wait_until(lambda: sent() == TASKS, timeout=240, interval=0.5), \
                psql(uri, "SELECT state, count(*) FROM deliveries GROUP BY state")
        finally:
            for p in procs:
                stop(p)
        seconds = time.monotonic() - start
        requests = list(server.requests)

    ids = [r.header("webhook-id") for r in requests]
    assert None not in ids
    rows = int(psql(uri, "SELECT count(*) FROM deliveries"))
    keys = set(psql(uri, "SELECT id FROM deliveries").split())
    received = {i.rsplit("-", 1)[1] for i in ids}
    duplicates = len(ids) - len(set(ids))
    print(f"{daemons} daemons: {rows} deliveries, {len(set(ids))} received, {duplicates} duplicates, "
          f"{held} held by killed daemons, {kills} kills, {seconds:.1f} s")
    assert rows == TASKS
    assert received == keys, "a delivery never reached the receiver"
    assert psql(uri, "SELECT count(*) FROM deliveries WHERE state <> 'sent'") == "0"
    assert duplicates <= held
    assert kills >= 3, "the daemons finished before three kills: the test proved little"
