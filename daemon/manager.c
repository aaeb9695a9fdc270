/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "manager.h"

#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "dispatch.h"
#include "lockfile.h"
#include "log.h"
#include "ics-feed.h"
#include "imap.h"
#include "inbox.h"
#include "maildir.h"
#include "preview.h"
#include "store-worker.h"
#include "timeutil.h"

/* Deliveries claimed per batch by a transport that finishes at once
 * (maildir), and at most in flight for the network ones. The batch bounds
 * how many can go twice after a kill -9. */
#define SYNC_BATCH 64
#define ASYNC_IN_FLIGHT_MAX 256
/* A network claim waits for this much room (while others are in flight):
 * fewer, larger claims cost fewer commits, and a message's recipients are
 * claimed together (outbox_claim() never splits a message unless it alone
 * fills a batch). */
#define ASYNC_CLAIM_MIN 64
/* Results of network deliveries are written back in batches of up to this
 * many jobs, or after this long. */
#define SETTLE_BATCH 128
#define SETTLE_DELAY_USEC (20 * 1000ULL)
/* How long a stop waits for transfers under way before putting them back. */
#define STOP_TIMEOUT_USEC (10 * 1000000ULL)
/* Work a busy (locked by another process) or full database refused is
 * tried again after a back-off: this long at first, doubling to the most. */
#define BACKOFF_MIN_USEC (100 * 1000ULL)
#define BACKOFF_MAX_USEC (3200 * 1000ULL)
/* Before READY (no watchdog yet, but systemd's start timeout) a lock held
 * by another process is waited for this long; then the start fails with
 * EX_TEMPFAIL and systemd tries again. */
#define START_BUSY_TIMEOUT_MS (20 * 1000)
/* A change of the wall clock against the monotonic one smaller than this
 * is the noise of reading two clocks, or a slew: not a step. */
#define CLOCK_STEP_MIN_USEC (1000 * 1000LL)
/* The clock watch's timer never expires: it is there to be cancelled. Far
 * off, yet far from time_t's end, so that adding an offset cannot wrap. */
#define CLOCK_WATCH_FAR ((time_t) (INT64_MAX / 4))
#define TIMER_ACCURACY_USEC (100 * 1000ULL)
/* The due timer's: a reminder leaves within a millisecond of its time, not
 * up to 100 ms later where sd-event would line timers up for the system
 * (0 would mean sd-event's default, 250 ms). It wakes once per slot; the
 * finer window costs no wake-up. */
#define DUE_TIMER_ACCURACY_USEC (1000ULL)
/* Tasks decided per pass before the loop gets its turn again. */
#define DECIDE_SLICE 5000
/* Open tasks rescheduled per pass after a policy change. */
#define RESCHEDULE_SLICE 20000

static int manager_sync_policy(struct manager *m);
static int manager_reschedule_some(struct manager *m);
static void manager_check_agencies(struct manager *m);
static int manager_on_due(struct manager *m);
static void manager_check_changes(struct manager *m);
static int manager_watch_database(struct manager *m);
static void manager_inbox_stop(struct manager *m);
static void manager_inbox_start(struct manager *m);
static void manager_reload(struct manager *m);
static int manager_settle_threaded(struct manager *m);

int64_t manager_now(const struct manager *m) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec + m->clock_offset;
}

static void manager_arm(struct manager *m, int64_t at) {
        uint64_t usec;
        int r;

        if (at == NO_TIME) {
                (void) sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
                return;
        }
        at -= m->clock_offset;
        usec = at <= 0 ? 1 : (uint64_t) at * 1000000ULL;
        r = sd_event_source_set_time(m->timer, usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->timer, SD_EVENT_ONESHOT);
        if (r < 0)
                log_error_errno(r, "Failed to arm the scheduler timer: %m");
}

/* A pass in the next iteration. A defer source, not the timer set in the
 * past: moving a timer reprograms a timerfd (a system call that is dear in
 * a VM) and un-pends a timer already due. */
static void manager_arm_soon(struct manager *m) {
        if (sd_event_source_set_enabled(m->soon, SD_EVENT_ONESHOT) < 0)
                manager_arm(m, manager_now(m) - 1);
}

/* A database call failed: locked by another process for longer than the
 * loop's short busy wait, the disk full, or worse. The first failure of an
 * episode is logged; the retries, until one succeeds, only in debug. */
static int manager_db_failed_because(struct manager *m, int r, const char *what, const char *detail) {
        if (m->backoff_usec == 0) {
                log_warning_errno(r, "Failed to %s: %s (%s); trying again until the database answers", what,
                                  store_strerror(r), detail);
                m->backoff_usec = BACKOFF_MIN_USEC;
        } else
                log_debug_errno(r, "Failed to %s, again: %s (%s)", what, store_strerror(r), detail);
        return r;
}

static int manager_db_failed(struct manager *m, int r, const char *what) {
        return manager_db_failed_because(m, r, what, store_last_error(m->store));
}

/* The refused work (a pass, results to write) waits on the retry timer,
 * the loop goes on: keep-alives, signals and transfers are not held up.
 * An armed retry is left as it is: each failure must not push it back. */
static void manager_defer(struct manager *m) {
        int enabled = SD_EVENT_OFF;
        uint64_t t;
        int r;

        if (m->backoff_usec == 0)
                m->backoff_usec = BACKOFF_MIN_USEC;
        (void) sd_event_source_get_enabled(m->retry, &enabled);
        if (enabled != SD_EVENT_OFF)
                return;
        if (sd_event_now(m->event, CLOCK_MONOTONIC, &t) < 0)
                t = 0;
        r = sd_event_source_set_time(m->retry, t + m->backoff_usec);
        if (r >= 0)
                r = sd_event_source_set_enabled(m->retry, SD_EVENT_ONESHOT);
        if (r < 0)
                log_error_errno(r, "Failed to arm the retry timer: %m");
        m->backoff_usec = MIN(m->backoff_usec * 2, BACKOFF_MAX_USEC);
}

/* A pass went through and no results wait: the episode is over. */
static void manager_db_ok(struct manager *m) {
        if (m->backoff_usec == 0)
                return;
        m->backoff_usec = 0;
        (void) sd_event_source_set_enabled(m->retry, SD_EVENT_OFF);
        log_info("The database answers again; deferred work is done");
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC: constant while nobody sets the clock. */
static int64_t clock_base_usec(void) {
        struct timespec rt, mono;

        (void) clock_gettime(CLOCK_REALTIME, &rt);
        (void) clock_gettime(CLOCK_MONOTONIC, &mono);
        return ((int64_t) rt.tv_sec - (int64_t) mono.tv_sec) * 1000000LL +
               ((int64_t) rt.tv_nsec - (int64_t) mono.tv_nsec) / 1000;
}

/* Slots are wall-clock moments and their timer follows a step of the
 * clock by itself. What a step back stretches is every wait worked out as
 * now + a back-off: the retry times stored with deliveries move back by the
 * step (in the next pass, which a busy database defers like any other),
 * and the timer is armed again. A step forward only shortens such waits. */
static void manager_check_clock(struct manager *m) {
        int64_t base = clock_base_usec(), step = base - m->clock_base_usec;

        m->clock_base_usec = base;
        if (step > -CLOCK_STEP_MIN_USEC && step < CLOCK_STEP_MIN_USEC)
                return;
        log_full_errno(step < 0 ? LOG_INFO : LOG_DEBUG, 0, "The wall clock was set %s by %llds; planning again",
                 step < 0 ? "back" : "forward", (long long) ((step < 0 ? -step : step) / 1000000LL));
        if (step < 0)
                m->clock_step -= -step / 1000000LL;
        manager_arm_soon(m);
}

static void manager_notify_status_with(struct manager *m, int64_t next, const int64_t *counts) {
        char when[20] = "none";

        if (next != NO_TIME)
                format_local(next, when);
        (void) sd_notifyf(false, "STATUS=Next: %s; %lld pending, %lld failed; %u sent since start", when,
                          (long long) (counts[DELIVERY_PENDING] + counts[DELIVERY_ATTEMPTING]),
                          (long long) counts[DELIVERY_FAILED], m->sent);
}

static void manager_notify_status(struct manager *m) {
        int64_t next = NO_TIME, counts[_DELIVERY_STATE_MAX] = {};

        (void) outbox_next_wakeup(m->store, m->config, manager_now(m), &next);
        (void) store_delivery_counts(m->store, counts);
        manager_notify_status_with(m, next, counts);
}

/* Arms the timer for `next`, what comes next after a pass; `counts` are
 * the deliveries by state, for STATUS=. */
static void manager_rearm_to(struct manager *m, int64_t next, const int64_t *counts) {
        if (m->n_finished == 0)
                manager_db_ok(m);
        else if (m->backoff_usec > 0)
                manager_defer(m);
        /* Deliveries due but not claimed (no room, or their receiver holds
         * its share) go when transfers finish and make room; until then a
         * look a second, not a busy loop. So too for tasks due that
         * another daemon is deciding (its commit notifies us sooner). */
        if ((m->in_flight > 0 || m->decide_skipped) && next != NO_TIME && next <= manager_now(m))
                next = manager_now(m) + 1;
        manager_arm(m, next);
        manager_notify_status_with(m, next, counts);
}

/* Arms the timer for whatever comes next, after any change. */
static void manager_rearm(struct manager *m) {
        int64_t next, counts[_DELIVERY_STATE_MAX] = {};
        int r = outbox_next_wakeup(m->store, m->config, manager_now(m), &next);

        if (r < 0) {
                manager_db_failed(m, r, "tell when to wake up next");
                manager_defer(m);
                return;
        }
        (void) store_delivery_counts(m->store, counts);
        manager_rearm_to(m, next, counts);
}

static void manager_maybe_exit(struct manager *m) {
        if (m->in_flight > 0 || m->n_finished > 0 || m->inbox_poll || store_worker_busy(m->worker))
                return;
        if (m->stopping || m->once)
                (void) sd_event_exit(m->event, 0);
}

static int manager_settle(struct manager *m) {
        int r;

        if (m->n_finished == 0)
                return 0;
        r = outbox_settle(m->store, m->config, manager_now(m), m->finished, m->n_finished);
        if (r < 0)
                /* Keep the results: the next settle writes them (the
                 * transaction that failed left nothing behind). Until then
                 * the rows stay "attempting", which a restart puts back. */
                return manager_db_failed(m, r, "record delivery results");
        for (size_t i = 0; i < m->n_finished; i++) {
                struct job *j = m->finished[i];
                for (size_t k = 0; k < j->n_rows; k++) {
                        m->sent += j->rows[k].result == RESULT_SENT;
                        m->deferred += j->rows[k].result == RESULT_RETRY;
                        m->failed += j->rows[k].result == RESULT_FAIL;
                }
                job_free(j);
        }
        m->n_finished = 0;
        return 0;
}

static void manager_schedule_settle(struct manager *m) {
        int enabled = SD_EVENT_OFF;
        uint64_t t;

        if (m->backoff_usec > 0) {
                /* The database refuses: the retry writes them. */
                manager_defer(m);
                return;
        }
        if (m->n_finished >= SETTLE_BATCH || m->in_flight == 0 || m->stopping) {
                /* Enabling is a no-op once enabled; setting a due timer's
                 * time again would un-pend it, each job pushing the
                 * settle back. */
                (void) sd_event_source_set_enabled(m->settle_now, SD_EVENT_ONESHOT);
                return;
        }
        (void) sd_event_source_get_enabled(m->settle, &enabled);
        if (enabled != SD_EVENT_OFF)
                return;         /* already due within SETTLE_DELAY */
        if (sd_event_now(m->event, CLOCK_MONOTONIC, &t) < 0)
                t = 0;
        (void) sd_event_source_set_time(m->settle, t + SETTLE_DELAY_USEC);
        (void) sd_event_source_set_enabled(m->settle, SD_EVENT_ONESHOT);
}

void manager_job_finished(struct manager *m, struct job *j) {
        if (m->n_finished == m->allocated_finished) {
                size_t n = m->allocated_finished ? m->allocated_finished * 2 : 64;
                struct job **f = realloc(m->finished, n * sizeof *f);
                if (!f) {
                        /* Dropping the result leaves the rows "attempting";
                         * a restart sends them again rather than lose them. */
                        log_error("Out of memory recording a delivery result");
                        job_free(j);
                        return;
                }
                m->finished = f;
                m->allocated_finished = n;
        }
        m->finished[m->n_finished++] = j;
        /* Results are written back together: one transaction, one fsync,
         * for many. A crash in between sends those again: a bounded
         * duplicate, as for any delivery under way. */
        manager_schedule_settle(m);
}

static void send_maildir(struct manager *m, struct job *j) {
        _cleanup_free_ char *name = NULL;
        int r = maildir_deliver(m->config->maildir, j->data, j->size, &name);

        if (r < 0) {
                char err[256];
                snprintf(err, sizeof err, "cannot write to %s: %s", m->config->maildir, strerror(-r));
                job_set_result(j, RESULT_RETRY, err);
        } else
                job_set_result(j, RESULT_SENT, NULL);
}

static void manager_send(struct manager *m, struct job *j) {
        bool done = true;

        if (m->preview) {
                /* A dry run: what would go is kept, and nothing goes. The
                 * rows stay "attempting" in the store's transaction, which
                 * is never committed. */
                int r = preview_add(m->preview, j);
                if (r < 0)
                        log_error_errno(r, "Failed to record what would be sent: %m");
                job_free(j);
                return;
        }
        for (size_t i = 0; i < j->n_rows; i++) {
                if (m->stopping && j->rows[i].result == RESULT_NONE)
                        /* Claimed by a pass on the store thread that was
                         * under way when the stop began: it has not
                         * started, so it waits for the next start. */
                        job_set_row_result(j, i, RESULT_UNSENT, NULL);
                done = done && j->rows[i].result != RESULT_NONE;
        }
        if (done) {
                /* Settled before it left: it could not be composed, or
                 * every address has it already. */
                manager_job_finished(m, j);
                return;
        }
        if (j->channel == CHANNEL_EMAIL && m->config->transport == TRANSPORT_MAILDIR) {
                send_maildir(m, j);
                manager_job_finished(m, j);
                return;
        }
        m->in_flight++;
        dispatch_submit(m->dispatch, j);
}

static void manager_forget_dry(struct manager *m) {
        m->dry_busy = mfree(m->dry_busy);
}

static bool manager_claim_is_dry(const struct manager *m, const struct claim_filter *f, int64_t now) {
        return f->busy && m->dry_busy && m->dry_at == now &&
                delivery_receivers_equal(f->busy, f->n_busy, m->dry_busy, m->n_dry_busy);
}

/* One claim of at most `room` deliveries, handed out at once. Returns
 * how many rows it took off the queue (claimed, or recorded as not to go:
 * both are progress), 0 when there is nothing to take now, or a negative
 * errno. */
static int manager_claim(struct manager *m, int64_t now, size_t room) {
        size_t limit = m->config->transport == TRANSPORT_MAILDIR ? MIN(room, SYNC_BATCH) : room;
        struct job_list jobs = {};
        struct claim_filter filter;
        int r;

        r = dispatch_claim_filter(m->dispatch, &filter);
        if (r < 0) {
                dispatch_claim_done(m->dispatch, &filter);
                return log_warning_errno(r, "Failed to work out which receivers have room: %m");
        }
        /* Small claims wait for more room, unless some receiver holds its
         * share: then what room there is goes to the others at once. */
        if (manager_claim_is_dry(m, &filter, now) ||
            (limit == room && room < ASYNC_CLAIM_MIN && m->in_flight > 0 && !filter.busy)) {
                dispatch_claim_done(m->dispatch, &filter);
                return 0;
        }
        r = outbox_claim(m->store, m->config, now, limit, &filter, &jobs);
        if (r < 0) {
                dispatch_claim_done(m->dispatch, &filter);
                return manager_db_failed(m, r, "claim due deliveries");
        }
        for (size_t i = 0; i < jobs.n; i++)
                manager_send(m, TAKE_PTR(jobs.jobs[i]));
        if (jobs.consumed == 0 && filter.busy) {
                free(m->dry_busy);
                m->dry_busy = TAKE_PTR(filter.busy);
                m->n_dry_busy = filter.n_busy;
                m->dry_at = now;
        }
        dispatch_claim_done(m->dispatch, &filter);
        size_t consumed = jobs.consumed;
        job_list_done(&jobs);
        return (int) MIN(consumed, (size_t) INT_MAX);
}

/* One pass: decide what fell due, then hand out what is ready to go.
 * *ret_more is set when due tasks are left for the next pass. */
static int manager_pass(struct manager *m, bool *ret_more) {
        int64_t now;
        int r;

        /* A step the clock watch did not report (or where there is none)
         * is seen at the next wake-up. */
        manager_check_clock(m);
        now = manager_now(m);
        if (m->clock_step < 0) {
                r = store_deliveries_clock_stepped(m->store, m->clock_step, now);
                if (r < 0)
                        return manager_db_failed(m, r, "move retry times back with the clock");
                if (r > 0)
                        log_info("%d retries moved %llds earlier, as the clock was set back", r,
                                 (long long) -m->clock_step);
                m->clock_step = 0;
        }

        if (m->rescheduling) {
                r = manager_reschedule_some(m);
                if (r < 0)
                        return manager_db_failed(m, r, "reschedule tasks for the new policy");
        }
        struct outbox_decided decided;
        r = outbox_decide_some(m->store, m->config, now, DECIDE_SLICE, &decided);
        *ret_more = decided.more || m->rescheduling;
        if (decided.skipped && !m->decide_skipped)
                log_debug("Another deadlined is deciding; sending only");
        m->decide_skipped = decided.skipped;
        if (r < 0)
                return manager_db_failed(m, r, "decide due reminders");
        /* A recurring task that moved on has a new calendar entry. */
        if (decided.rolled > 0)
                m->calendars_stale = true;
        if (r > 0) {
                log_debug("%d new deliveries", r);
                manager_forget_dry(m);
        }

        while (!m->stopping) {
                size_t room = ASYNC_IN_FLIGHT_MAX > m->in_flight ? ASYNC_IN_FLIGHT_MAX - m->in_flight : 0;

                if (room == 0)
                        break;
                r = manager_claim(m, now, room);
                if (r <= 0)
                        return MIN(r, 0);
                /* Maildir deliveries are already done: record them before
                 * claiming the next batch, so few are ever in doubt. */
                r = manager_settle(m);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Brings calendar_dir up to date after a change. It reads every open
 * task, so it runs only when something changed (a commit from outside, a
 * reload, the start), never on a timer; a busy database leaves it for the
 * next pass. */
static void manager_write_calendars(struct manager *m) {
        _cleanup_free_ char *path = NULL;
        int r;

        if (!m->calendars_stale || !m->config->calendar_dir || m->preview)
                return;
        r = ics_feed_update(m->config, m->store, &path);
        if (r == -EBUSY)
                return;
        m->calendars_stale = false;
        if (r < 0 && path)
                log_warning_errno(r, "Cannot write the calendar %s: %m", path);
        else if (r < 0)
                log_warning_errno(r, "Cannot read the tasks for the calendars in %s: %s (%s)", m->config->calendar_dir,
                                  store_strerror(r), store_last_error(m->store));
        else if (r > 0)
                log_debug("%d calendars rewritten in %s", r, m->config->calendar_dir);
}

/* What a pass on a store thread needs and gives back. The loop fills the
 * first part and does not touch the work again until the thread is done
 * with it (store-worker.h). */
enum work_kind { WORK_PASS, WORK_SETTLE };
struct manager_work {
        enum work_kind kind;
        const struct config *config;
        int64_t now;

        /* A pass: move retries back by clock_step, decide, claim at most
         * `limit` past `filter` (when `claim`), and tell when to wake up. */
        int64_t clock_step;
        bool claim;
        size_t limit;
        struct claim_filter filter;
        int moved;
        bool stepped;                  /* the retries were moved back */
        struct outbox_decided decided;
        int decided_r;
        struct job_list jobs;
        int64_t next;
        int64_t counts[_DELIVERY_STATE_MAX];

        /* A settle: these jobs' results written back. */
        struct job **settle;
        size_t n_settle;

        int r;                         /* the first failure, or 0 */
        const char *what;              /* what failed, for the log */
        char error[256];               /* the store's words for it */
};

static void manager_work_free(struct manager_work *w) {
        if (!w)
                return;
        job_list_done(&w->jobs);
        free(w->filter.busy);
        if (w->claim)
                free(w->filter.userdata);       /* the room snapshot, never handed back */
        for (size_t i = 0; i < w->n_settle; i++)
                job_free(w->settle[i]);
        free(w->settle);
        free(w);
}

/* On the store thread: the outbox code, unchanged, on the thread's own
 * connection. */
static void work_run(struct store *s, void *arg) {
        struct manager_work *w = arg;
        int r;

        if (w->kind == WORK_SETTLE) {
                r = outbox_settle(s, w->config, w->now, w->settle, w->n_settle);
                if (r < 0) {
                        w->r = r;
                        w->what = "record delivery results";
                }
                goto out;
        }
        if (w->clock_step < 0) {
                r = store_deliveries_clock_stepped(s, w->clock_step, w->now);
                if (r < 0) {
                        w->r = r;
                        w->what = "move retry times back with the clock";
                        goto out;
                }
                w->moved = r;
                w->stepped = true;
        }
        w->decided_r = outbox_decide_some(s, w->config, w->now, DECIDE_SLICE, &w->decided);
        if (w->decided_r < 0) {
                w->r = w->decided_r;
                w->what = "decide due reminders";
                goto out;
        }
        if (w->claim) {
                r = outbox_claim(s, w->config, w->now, w->limit, &w->filter, &w->jobs);
                if (r < 0) {
                        w->r = r;
                        w->what = "claim due deliveries";
                        goto out;
                }
        }
        r = outbox_next_wakeup(s, w->config, w->now, &w->next);
        if (r < 0) {
                w->r = r;
                w->what = "tell when to wake up next";
                goto out;
        }
        (void) store_delivery_counts(s, w->counts);
out:
        if (w->r < 0)
                snprintf(w->error, sizeof w->error, "%s", store_last_error(s));
}

/* After a pass, on the loop: the calendars, change notices, and the next
 * wake-up (`w`'s, from the store thread, or asked for here). */
static void manager_pass_ended(struct manager *m, int r, bool more, const struct manager_work *w) {
        if (r >= 0 && !more)
                manager_write_calendars(m);

        m->pass_error = MIN(r, 0);
        manager_check_changes(m);
        if (r >= 0 && more) {
                /* A backlog: the rest in the next iteration, after the
                 * watchdog and signals had their turn. */
                manager_arm_soon(m);
                return;
        }
        if (m->once) {
                manager_maybe_exit(m);
                return;
        }
        if (r < 0)
                /* A locked or full database is not a reason to stop: try
                 * again a little later. */
                manager_defer(m);
        else if (w)
                manager_rearm_to(m, w->next, w->counts);
        else
                manager_rearm(m);
}

static int manager_submit(struct manager *m, struct manager_work *w) {
        int r = store_worker_submit(m->worker, work_run, w);

        if (r < 0) {
                manager_work_free(w);
                return r;
        }
        m->work = w;
        return 0;
}

/* A pass on the store thread: what only the loop knows (the clock's step,
 * the receivers' room) is worked out here and handed over. */
static int manager_pass_threaded(struct manager *m) {
        struct manager_work *w;
        size_t room;
        int r;

        if (store_worker_busy(m->worker)) {
                m->want_pass = true;
                return 0;
        }
        if (m->n_finished > 0) {
                /* Results first, as on the loop. */
                m->want_pass = true;
                return manager_settle_threaded(m);
        }
        m->want_pass = false;
        manager_check_clock(m);
        if (m->rescheduling) {
                r = manager_reschedule_some(m);
                if (r < 0) {
                        manager_db_failed(m, r, "reschedule tasks for the new policy");
                        manager_pass_ended(m, r, false, NULL);
                        return 0;
                }
        }
        w = calloc(1, sizeof *w);
        if (!w)
                return log_error_errno(-ENOMEM, "Out of memory handing work to the store thread");
        w->kind = WORK_PASS;
        w->config = m->config;
        w->now = manager_now(m);
        w->clock_step = m->clock_step;
        m->clock_step = 0;
        room = ASYNC_IN_FLIGHT_MAX > m->in_flight ? ASYNC_IN_FLIGHT_MAX - m->in_flight : 0;
        w->limit = m->config->transport == TRANSPORT_MAILDIR ? MIN(room, SYNC_BATCH) : room;
        if (room > 0 && !m->stopping) {
                r = dispatch_claim_filter_detached(m->dispatch, &w->filter);
                if (r < 0)
                        log_warning_errno(r, "Failed to work out which receivers have room: %m");
                else
                        w->claim = !manager_claim_is_dry(m, &w->filter, w->now) &&
                                   !(w->limit == room && room < ASYNC_CLAIM_MIN && m->in_flight > 0 &&
                                     !w->filter.busy);
                if (!w->claim)
                        dispatch_claim_done(m->dispatch, &w->filter);
        }
        r = manager_submit(m, w);
        if (r < 0) {
                m->clock_step += w->clock_step;
                return log_error_errno(r, "Failed to hand a pass to the store thread: %m");
        }
        return 0;
}

/* The pass the store thread ran, back on the loop: send what it claimed. */
static void manager_pass_done(struct manager *m, struct manager_work *w) {
        bool more = w->decided.more || m->rescheduling;

        if (w->moved > 0)
                log_info("%d retries moved %llds earlier, as the clock was set back", w->moved,
                         (long long) -w->clock_step);
        if (!w->stepped)
                m->clock_step += w->clock_step;
        if (w->decided.skipped && !m->decide_skipped)
                log_debug("Another deadlined is deciding; sending only");
        m->decide_skipped = w->decided.skipped;
        if (w->decided.rolled > 0)
                m->calendars_stale = true;
        if (w->decided_r > 0) {
                log_debug("%d new deliveries", w->decided_r);
                manager_forget_dry(m);
        }
        if (w->claim) {
                for (size_t i = 0; i < w->jobs.n; i++)
                        manager_send(m, TAKE_PTR(w->jobs.jobs[i]));
                if (w->r >= 0 && w->jobs.consumed == 0 && w->filter.busy) {
                        free(m->dry_busy);
                        m->dry_busy = TAKE_PTR(w->filter.busy);
                        m->n_dry_busy = w->filter.n_busy;
                        m->dry_at = w->now;
                }
                dispatch_claim_done(m->dispatch, &w->filter);
                /* Room left after a claim that took something: the next
                 * claim at once, as the loop's own pass would. */
                if (w->jobs.consumed > 0 && m->in_flight < ASYNC_IN_FLIGHT_MAX)
                        more = true;
        }
        if (w->r < 0)
                manager_db_failed_because(m, w->r, w->what, w->error);
        manager_pass_ended(m, w->r, more && !m->stopping, w);
        if (m->stopping)
                manager_maybe_exit(m);
}

/* Results written back on the store thread. */
static int manager_settle_threaded(struct manager *m) {
        struct manager_work *w;
        int r;

        if (m->n_finished == 0)
                return 0;
        if (store_worker_busy(m->worker)) {
                m->want_settle = true;
                return 0;
        }
        m->want_settle = false;
        w = calloc(1, sizeof *w);
        if (!w)
                return log_error_errno(-ENOMEM, "Out of memory handing work to the store thread");
        w->kind = WORK_SETTLE;
        w->config = m->config;
        w->now = manager_now(m);
        w->settle = TAKE_PTR(m->finished);
        w->n_settle = m->n_finished;
        m->n_finished = m->allocated_finished = 0;
        r = manager_submit(m, w);
        if (r < 0)
                return log_error_errno(r, "Failed to hand results to the store thread: %m");
        return 0;
}

static void manager_settle_done(struct manager *m, struct manager_work *w) {
        if (w->r < 0) {
                /* Kept for the next settle, before any that came since. */
                for (size_t i = 0; i < w->n_settle; i++)
                        manager_job_finished(m, TAKE_PTR(w->settle[i]));
                w->n_settle = 0;
                manager_db_failed_because(m, w->r, w->what, w->error);
                manager_defer(m);
                return;
        }
        for (size_t i = 0; i < w->n_settle; i++) {
                struct job *j = w->settle[i];
                for (size_t k = 0; k < j->n_rows; k++) {
                        m->sent += j->rows[k].result == RESULT_SENT;
                        m->deferred += j->rows[k].result == RESULT_RETRY;
                        m->failed += j->rows[k].result == RESULT_FAIL;
                }
        }
        if (m->stopping) {
                manager_maybe_exit(m);
                return;
        }
        /* Room for more transfers, or retries now due. */
        m->want_pass = false;
        manager_arm_soon(m);
}

/* The store thread is done with its work: take it back, then whatever
 * waited for the thread. */
static void on_work_done(void *userdata) {
        struct manager *m = userdata;
        struct manager_work *w = TAKE_PTR(m->work);

        if (w->kind == WORK_PASS)
                manager_pass_done(m, w);
        else
                manager_settle_done(m, w);
        manager_work_free(w);

        if (m->want_reload) {
                m->want_reload = false;
                manager_reload(m);
        }
        if (store_worker_busy(m->worker))
                return;
        if (m->want_settle && m->n_finished > 0 && m->backoff_usec == 0)
                (void) manager_settle_threaded(m);
        else if (m->want_pass && !m->stopping)
                manager_arm_soon(m);
}

static int manager_on_due(struct manager *m) {
        bool more = false;
        int r;

        if (m->worker)
                return manager_pass_threaded(m);
        r = manager_pass(m, &more);
        manager_pass_ended(m, r, more, NULL);
        return 0;
}

static int on_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        return manager_on_due(userdata);
}

static int on_soon(sd_event_source *s, void *userdata) {
        return manager_on_due(userdata);
}

/* Writes finished jobs back, then a pass: at once (`pass_now`, the retry
 * of work a busy database refused) or in the next iteration. */
static int manager_settle_then_pass(struct manager *m, bool pass_now) {
        if (m->worker && m->n_finished > 0) {
                /* The pass follows the settle (on_work_done()). */
                m->want_pass = m->want_pass || pass_now;
                return manager_settle_threaded(m);
        }
        if (m->worker) {
                if (m->stopping)
                        manager_maybe_exit(m);
                else if (pass_now)
                        return manager_on_due(m);
                else
                        manager_arm_soon(m);
                return 0;
        }
        if (manager_settle(m) < 0) {
                manager_defer(m);
                return 0;
        }
        if (m->stopping) {
                manager_maybe_exit(m);
                return 0;
        }
        if (pass_now)
                return manager_on_due(m);
        /* Room for more transfers, or retries now due. With --once too:
         * everything due is sent before the exit, not one batch. */
        manager_arm_soon(m);
        return 0;
}

static int manager_on_settle(struct manager *m) {
        (void) sd_event_source_set_enabled(m->settle, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(m->settle_now, SD_EVENT_OFF);
        return manager_settle_then_pass(m, false);
}

static int on_settle(sd_event_source *s, uint64_t usec, void *userdata) {
        return manager_on_settle(userdata);
}

static int on_settle_now(sd_event_source *s, void *userdata) {
        return manager_on_settle(userdata);
}

/* Work a busy database refused: results first, then a pass. */
static int on_retry(sd_event_source *s, uint64_t usec, void *userdata) {
        return manager_settle_then_pass(userdata, true);
}

/* A job the dispatcher had in flight is back. */
static void on_transfer_done(struct job *j, void *userdata) {
        struct manager *m = userdata;

        if (m->in_flight > 0)
                m->in_flight--;
        manager_job_finished(m, j);
}

static int64_t on_dispatch_now(void *userdata) {
        return manager_now(userdata);
}

static const struct dispatch_ops dispatch_ops = {
        .done = on_transfer_done,
        .now = on_dispatch_now,
};

/* Another process changed the database: a pass, and the calendars. */
static void manager_database_changed(struct manager *m) {
        m->calendars_stale = true;
        manager_forget_dry(m);
        log_debug("The database changed, looking again");
        manager_arm_soon(m);
}

/* deadlinectl wrote to the database's folder. Our own writes land here
 * too; SQLite's data_version tells whether another connection committed,
 * so only real changes from outside cause a pass. */
static int on_watch(sd_event_source *s, const struct inotify_event *ev, void *userdata) {
        struct manager *m = userdata;
        uint64_t v;

        if (m->stopping)
                return 0;
        if (store_data_version(m->store, &v) < 0) {
                /* Cannot tell: look, as if it had changed. */
                manager_arm_soon(m);
                return 0;
        }
        if (v == m->data_version)
                return 0;
        m->data_version = v;
        manager_database_changed(m);
        return 0;
}

/* A server's database: the change notices other processes sent
 * (store_change_fd()). A notice read while a statement ran is held by the
 * store and never makes the socket readable: each pass ends by asking
 * (manager_check_changes()). */
static void manager_check_changes(struct manager *m) {
        bool server = store_database_is_server(m->config->database);
        int r;

        if (m->stopping || m->once || (!m->watch && !server))
                return;
        if (server && !m->watch) {
                /* Listening failed, or its connection was lost: again, once
                 * a pass found the server answering (with a store thread,
                 * the loop's own connection is made again here, and only
                 * then, so the loop does not wait on a server that is away). */
                if (m->pass_error < 0)
                        return;
                if (manager_watch_database(m) >= 0)
                        manager_database_changed(m);
                return;
        }
        r = store_change_consume(m->store);
        if (r == -ESTALE) {
                /* A new connection: listen there; what changed while there
                 * was none was not told, so look. */
                r = manager_watch_database(m);
                if (r < 0)
                        log_debug_errno(r, "Failed to listen on the new connection: %s",
                                        store_last_error(m->store));
                manager_database_changed(m);
        } else if (r < 0) {
                /* The connection is lost: its socket would wake us until
                 * the next store call connects again. A pass finds out (the
                 * back-off retries it while the server is away). */
                log_debug_errno(r, "Failed to read change notices: %s", store_last_error(m->store));
                m->watch = sd_event_source_disable_unref(m->watch);
                if (m->backoff_usec == 0)
                        manager_arm_soon(m);
        } else if (r > 0)
                manager_database_changed(m);
}

static int on_change_notice(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        manager_check_changes(userdata);
        return 0;
}

static int clock_watch_arm(int fd) {
        struct itimerspec its = { .it_value.tv_sec = CLOCK_WATCH_FAR };

        return timerfd_settime(fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL) < 0 ? -errno : 0;
}

/* The clock watch: a CLOCK_REALTIME timerfd whose read fails with
 * ECANCELED once the clock is set. */
static int on_clock_set(sd_event_source *s, int fd, uint32_t revents, void *userdata) {
        struct manager *m = userdata;
        uint64_t expirations;
        int r;

        if (read(fd, &expirations, sizeof expirations) < 0 && errno != ECANCELED && errno != EAGAIN)
                log_debug_errno(errno, "Failed to read the clock watch: %m");
        r = clock_watch_arm(fd);
        if (r < 0) {
                log_warning_errno(r, "Failed to watch the clock again, steps are seen at the next wake-up: %m");
                (void) sd_event_source_set_enabled(s, SD_EVENT_OFF);
        }
        manager_check_clock(m);
        return 0;
}

static int manager_watch_clock(struct manager *m) {
        int fd, r;

        fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK | TFD_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = clock_watch_arm(fd);
        if (r >= 0)
                r = sd_event_add_io(m->event, &m->clock_watch, fd, EPOLLIN, on_clock_set, m);
        if (r < 0) {
                close(fd);
                return r;
        }
        (void) sd_event_source_set_io_fd_own(m->clock_watch, true);
        (void) sd_event_source_set_description(m->clock_watch, "clock-watch");
        return 0;
}

static int on_stop_timeout(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;

        log_warning("%zu transfers still under way after %llus; putting them back for the next start",
                    m->in_flight, STOP_TIMEOUT_USEC / 1000000ULL);
        dispatch_abort_all(m->dispatch);
        /* The last chance to record the results: the loop ends here, so
         * a lock is waited for as a person would. */
        (void) store_set_busy_timeout(m->store, STORE_BUSY_MS);
        (void) manager_settle(m);
        (void) sd_event_exit(m->event, 0);
        return 0;
}

static int on_terminate(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct manager *m = userdata;

        if (m->stopping)
                return 0;
        m->stopping = true;
        (void) sd_notify(false, "STOPPING=1\nSTATUS=Stopping");
        log_info("Stopping on %s (%zu transfers under way)", strsignal((int) si->ssi_signo), m->in_flight);
        (void) sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
        (void) sd_event_source_set_enabled(m->soon, SD_EVENT_OFF);
        /* What has not started yet waits for the next start; what is under
         * way may finish. */
        dispatch_stop(m->dispatch);
        manager_inbox_stop(m);
        if (m->worker) {
                /* Results go through the store thread; the exit follows
                 * when it and the transfers are done (manager_maybe_exit()). */
                if (m->in_flight == 0)
                        (void) manager_settle_threaded(m);
                manager_maybe_exit(m);
        } else if (m->in_flight == 0) {
                if (manager_settle(m) >= 0) {
                        (void) sd_event_exit(m->event, 0);
                        return 0;
                }
                /* Results the database refused: retried until the stop
                 * timeout, like transfers under way. */
                manager_defer(m);
        }
        return sd_event_add_time_relative(m->event, &m->stop_timer, CLOCK_MONOTONIC, STOP_TIMEOUT_USEC, 0,
                                          on_stop_timeout, m) < 0
                       ? sd_event_exit(m->event, 0)
                       : 0;
}

static int manager_watch_database(struct manager *m) {
        _cleanup_free_ char *copy = NULL;
        int fd, r;

        m->watch = sd_event_source_disable_unref(m->watch);
        if (store_database_is_server(m->config->database)) {
                /* No folder: the server's change notices, on the store's
                 * own connection. */
                fd = store_change_fd(m->store);
                if (fd < 0)
                        return fd;
                r = sd_event_add_io(m->event, &m->watch, fd, EPOLLIN, on_change_notice, m);
                if (r < 0)
                        return r;
                (void) sd_event_source_set_description(m->watch, "database-notices");
                return 0;
        }
        copy = strdup(m->config->database);
        if (!copy)
                return -ENOMEM;
        r = sd_event_add_inotify(m->event, &m->watch, dirname(copy),
                                 IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR, on_watch, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_description(m->watch, "database-watch");
        return store_data_version(m->store, &m->data_version);
}

/* A reload that names another database: it opens that one and, for a
 * sender, takes its sender lock, or says why not. Deliveries under way
 * belong to the current database, so the switch waits until none are. */
static int manager_open_other_database(struct manager *m, const char *database, const char *password,
                                       struct store **ret, int *ret_lock) {
        _cleanup_(store_closep) struct store *st = NULL;
        struct lock_holder h = {};
        int r;

        if (m->in_flight > 0 || m->n_finished > 0) {
                log_error("Cannot move to database %s while %zu deliveries from %s are under way; reload "
                          "again in a moment", database, m->in_flight + m->n_finished, m->config->database);
                return -EBUSY;
        }
        r = store_open_password(database, password, STORE_CREATE | STORE_NOWAIT, &st);
        if (r < 0) {
                log_error("Failed to open the new database %s: %s (%s)%s", database, store_strerror(r),
                          store_last_error(NULL), r == -EBUSY ? "; reload again later" : "");
                return r;
        }
        if (m->sender_lock >= 0) {
                r = lockfile_take(database, manager_now(m), &h);
                if (r == -EBUSY)
                        return log_error_errno(r, "Cannot move to database %s: another deadlined (PID %d) is "
                                               "sending from it", database, (int) h.pid);
                if (r < 0)
                        return log_error_errno(r, "Cannot move to database %s: failed to lock %s.lock: %s",
                                               database, database, store_strerror(r));
                *ret_lock = r;
        }
        *ret = TAKE_PTR(st);
        return 0;
}

/* A server's database gets a store thread with a connection of its own
 * for passes and settles; a file database, --once and --dry-run run them
 * on the loop. */
static int manager_start_worker(struct manager *m) {
        struct store *s;
        int r;

        m->worker = store_worker_free(m->worker);
        if (m->once || m->preview || !store_database_is_server(m->config->database))
                return 0;
        r = store_open_password(m->config->database, m->config->database_password, STORE_NOWAIT, &s);
        if (r < 0)
                return r;
        return store_worker_new(m->event, s, on_work_done, m, &m->worker);
}

/* SIGHUP: read the configuration again. The new one must be valid as a
 * whole, and its database must open, or the old one stays. */
static int on_reload(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata) {
        struct manager *m = userdata;

        /* The store thread reads the configuration while it works: the
         * new one comes in when it is done. */
        if (store_worker_busy(m->worker)) {
                (void) sd_notifyf(false, "RELOADING=1\nSTATUS=Reloading %s", m->config_path);
                m->want_reload = true;
                return 0;
        }
        manager_reload(m);
        return 0;
}

static void manager_reload(struct manager *m) {
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_(store_closep) struct store *st = NULL;
        _cleanup_close_ int lock = -EBADF;
        _cleanup_free_ char *errors = NULL;
        bool st_changed;
        int r;

        (void) sd_notifyf(false, "RELOADING=1\nSTATUS=Reloading %s", m->config_path);
        r = config_load(m->config_path, &c, &errors);
        if (r < 0) {
                if (errors)
                        for (char *line = strtok(errors, "\n"); line; line = strtok(NULL, "\n"))
                                log_error("%s", line);
                else
                        log_error_errno(r, "Failed to read %s: %m", m->config_path);
                log_error("Reload failed; running on with the previous configuration");
                (void) sd_notify(false, "READY=1");
                manager_notify_status(m);
                return;
        }
        if (!streq(c->database, m->config->database)) {
                r = manager_open_other_database(m, c->database, c->database_password, &st, &lock);
                if (r < 0) {
                        log_error("Reload failed; running on with the previous configuration and database %s",
                                  m->config->database);
                        (void) sd_notify(false, "READY=1");
                        return;
                }
        }
        r = config_apply_timezone(c);
        if (r < 0)
                log_warning_errno(r, "Failed to set time zone %s: %m", c->timezone);
        /* A poll under way reads the old configuration's inbox settings. */
        manager_inbox_stop(m);
        config_free(m->config);
        m->config = TAKE_PTR(c);
        st_changed = st;
        if (st) {
                store_close(m->store);
                m->store = TAKE_PTR(st);
                if (m->sender_lock >= 0) {
                        (void) safe_close(m->sender_lock);
                        m->sender_lock = TAKE_FD(lock);
                        r = store_deliveries_reset_attempting(m->store, manager_now(m));
                        if (r > 0)
                                log_warning("%d deliveries were under way when %s was last used; sending them "
                                            "again", r, m->config->database);
                }
                (void) manager_watch_database(m);
        }
        /* The store thread: on the new database (idle here, see on_reload()),
         * or none; and the configuration it reads is the new one. */
        if (st_changed && (r = manager_start_worker(m)) < 0)
                log_error_errno(r, "Failed to start the store thread for %s: %s; passes run on the loop",
                                m->config->database, store_strerror(r));
        /* The policy may have changed: every open task's next slot is
         * worked out again; what already went out stays sent. */
        r = manager_sync_policy(m);
        if (r < 0) {
                /* Cannot compare: reschedule anyway, which an unchanged
                 * policy leaves as it was, rather than miss a change. */
                log_warning_errno(r, "Failed to check the reminder policy after reload: %s (%s); rescheduling",
                                  store_strerror(r), store_last_error(m->store));
                m->rescheduling = true;
                m->reschedule_after = 0;
                m->reschedule_at = manager_now(m);
        }
        dispatch_reconfigure(m->dispatch, m->config);
        manager_inbox_start(m);
        manager_check_agencies(m);
        if (m->config->calendar_dir && !m->preview && (r = ics_feed_prepare(m->config->calendar_dir)) < 0)
                log_warning_errno(r, "calendar_dir %s: cannot write calendars there: %m", m->config->calendar_dir);
        m->calendars_stale = true;
        log_info("Reloaded %s: %zu agencies, %zu groups", m->config_path, m->config->n_agencies, m->config->n_groups);
        (void) sd_notify(false, "READY=1");
        manager_arm_soon(m);
}

/* Signals go before any other work: a long backlog is worked through
 * a pass at a time, each pass asking for the next, and a stop or reload
 * waiting behind them would wait for the whole backlog. */
static int add_signal(struct manager *m, int sig, sd_event_signal_handler_t handler) {
        sd_event_source *s;
        int r = sd_event_add_signal(m->event, &s, sig, handler, m);

        if (r < 0)
                return r;
        r = sd_event_source_set_priority(s, SD_EVENT_PRIORITY_IMPORTANT);
        if (r >= 0)
                r = sd_event_source_set_floating(s, true);
        sd_event_source_unref(s);
        return r;
}

/* The inbox: a poll of the mailbox at the start (and in --once's pass),
 * then every inbox.poll_every after the last one ended; no timer without
 * an inbox. Not in a dry run, which writes nothing. */
static void manager_inbox_stop(struct manager *m) {
        m->inbox_poll = imap_poll_free(m->inbox_poll);
        m->inbox_timer = sd_event_source_disable_unref(m->inbox_timer);
}

static int inbox_last_uid(uint64_t uidvalidity, uint64_t *ret, void *userdata) {
        struct manager *m = userdata;
        int64_t last = 0;
        int r = store_inbox_last_uid(m->store, (int64_t) uidvalidity, &last);

        if (r < 0)
                return r;
        *ret = (uint64_t) MAX(last, 0);
        return 0;
}

static int inbox_message(uint64_t uidvalidity, uint64_t uid, const char *data, size_t size, void *userdata) {
        struct manager *m = userdata;
        int r = inbox_receive(m->store, m->config, (int64_t) uidvalidity, (int64_t) uid, data, size, manager_now(m));

        if (r < 0)
                log_warning("Cannot record inbox message UID %" PRIu64 ": %s (%s); it is read again at the next poll",
                            uid, store_strerror(r), store_last_error(m->store));
        return MIN(r, 0);
}

static int inbox_too_large(uint64_t uidvalidity, uint64_t uid, uint64_t size, void *userdata) {
        struct manager *m = userdata;
        int r = inbox_receive_too_large(m->store, m->config, (int64_t) uidvalidity, (int64_t) uid, size,
                                        manager_now(m));

        if (r < 0)
                log_warning("Cannot record inbox message UID %" PRIu64 ": %s (%s); it is read again at the next poll",
                            uid, store_strerror(r), store_last_error(m->store));
        return MIN(r, 0);
}

static int on_inbox_timer(sd_event_source *s, uint64_t usec, void *userdata);

static void inbox_done(int r, const char *detail, size_t n, void *userdata) {
        struct manager *m = userdata;

        /* `detail` is the poll's own: logged before the poll is freed. */
        if (r < 0)
                log_warning("Cannot read the inbox %s: %s", m->config->inbox.url, detail);
        else
                log_debug("Inbox read: %zu new messages", n);
        m->inbox_poll = imap_poll_free(m->inbox_poll);
        if (!m->once && !m->stopping) {
                int k = sd_event_add_time_relative(m->event, &m->inbox_timer, CLOCK_MONOTONIC,
                                                   (uint64_t) m->config->inbox.poll_every * 1000000ULL,
                                                   TIMER_ACCURACY_USEC, on_inbox_timer, m);
                if (k < 0)
                        log_error_errno(k, "Failed to set the inbox timer, the inbox is no longer read: %m");
                else
                        (void) sd_event_source_set_description(m->inbox_timer, "inbox-timer");
        }
        /* Acknowledgements were enqueued: a pass sends them (and ends --once). */
        if (n > 0 || m->once)
                manager_arm_soon(m);
}

static const struct imap_ops inbox_ops = {
        .last_uid = inbox_last_uid,
        .message = inbox_message,
        .too_large = inbox_too_large,
        .done = inbox_done,
};

static void manager_inbox_poll(struct manager *m) {
        int r;

        if (m->inbox_poll || m->stopping)
                return;
        r = imap_poll_start(m->event, &m->config->inbox, &inbox_ops, m, &m->inbox_poll);
        if (r < 0)
                log_error_errno(r, "Failed to start reading the inbox: %m");
}

static int on_inbox_timer(sd_event_source *s, uint64_t usec, void *userdata) {
        struct manager *m = userdata;

        m->inbox_timer = sd_event_source_disable_unref(m->inbox_timer);
        manager_inbox_poll(m);
        return 0;
}

static void manager_inbox_start(struct manager *m) {
        manager_inbox_stop(m);
        if (m->config->has_inbox && !m->preview)
                manager_inbox_poll(m);
}

int manager_new(const char *config_path, struct config *config, struct store *store, struct manager **ret) {
        _cleanup_(manager_freep) struct manager *m = calloc(1, sizeof *m);
        sigset_t mask;
        int r;

        if (!m)
                return -ENOMEM;
        m->config_path = strdup(config_path);
        if (!m->config_path)
                return -ENOMEM;
        m->config = config;
        m->store = store;
        m->sender_lock = -EBADF;
        m->clock_base_usec = clock_base_usec();

        r = sd_event_default(&m->event);
        if (r < 0)
                return r;
        /* libsystemd 252 wants the signals blocked before it watches them. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        sigaddset(&mask, SIGHUP);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return -errno;
        r = add_signal(m, SIGTERM, on_terminate);
        if (r >= 0)
                r = add_signal(m, SIGINT, on_terminate);
        if (r >= 0)
                r = add_signal(m, SIGHUP, on_reload);
        if (r < 0)
                return r;
        r = sd_event_set_watchdog(m->event, true);
        if (r < 0)
                return r;

        /* Deadlines are wall-clock times: the scheduler timer runs on
         * CLOCK_REALTIME, so a clock set forward (or a suspend) fires it at
         * the right moment rather than after so many seconds of uptime. */
        r = sd_event_add_time(m->event, &m->timer, CLOCK_REALTIME, 0, DUE_TIMER_ACCURACY_USEC, on_timer, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(m->timer, SD_EVENT_OFF);
        (void) sd_event_source_set_description(m->timer, "scheduler");
        r = sd_event_add_time_relative(m->event, &m->settle, CLOCK_MONOTONIC, 0, 1000, on_settle, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(m->settle, SD_EVENT_OFF);
        (void) sd_event_source_set_description(m->settle, "settle");
        r = sd_event_add_defer(m->event, &m->settle_now, on_settle_now, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(m->settle_now, SD_EVENT_OFF);
        (void) sd_event_source_set_description(m->settle_now, "settle-now");
        r = sd_event_add_defer(m->event, &m->soon, on_soon, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(m->soon, SD_EVENT_OFF);
        (void) sd_event_source_set_description(m->soon, "scheduler-soon");
        r = sd_event_add_time_relative(m->event, &m->retry, CLOCK_MONOTONIC, 0, 1000, on_retry, m);
        if (r < 0)
                return r;
        (void) sd_event_source_set_enabled(m->retry, SD_EVENT_OFF);
        (void) sd_event_source_set_description(m->retry, "database-retry");

        r = dispatch_new(m->event, &dispatch_ops, m, &m->dispatch);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

struct manager *manager_free(struct manager *m) {
        if (!m)
                return NULL;
        /* The store thread ends with the work it has in hand, which the
         * loop no longer takes back: claimed rows stay "attempting" until
         * their lease runs out. */
        m->worker = store_worker_free(m->worker);
        manager_work_free(TAKE_PTR(m->work));
        /* Transfers first: curl may still call back into the sources. */
        manager_inbox_stop(m);
        m->dispatch = dispatch_free(m->dispatch);
        for (size_t i = 0; i < m->n_finished; i++)
                job_free(m->finished[i]);
        free(m->finished);
        free(m->dry_busy);
        sd_event_source_disable_unref(m->timer);
        sd_event_source_disable_unref(m->watch);
        sd_event_source_disable_unref(m->settle);
        sd_event_source_disable_unref(m->settle_now);
        sd_event_source_disable_unref(m->soon);
        sd_event_source_disable_unref(m->retry);
        sd_event_source_disable_unref(m->clock_watch);
        sd_event_source_disable_unref(m->stop_timer);
        sd_event_unref(m->event);
        store_close(m->store);
        (void) safe_close(m->sender_lock);
        config_free(m->config);
        free(m->config_path);
        free(m);
        return NULL;
}

/* A fingerprint of everything the schedule is worked out from. When it
 * differs from the one stored with the data, every open task's next slot is
 * worked out again: a policy edited while the daemon was down must not go
 * unnoticed, and an unchanged one must not cost a pass over every task. */
static void policy_fingerprint(const struct config *c, char buf[static 17]) {
        const struct policy *p = &c->policy;
        uint64_t h = 0xcbf29ce484222325ULL;

#define MIX(ptr, len)                                                    \
        do {                                                             \
                const unsigned char *_b = (const void *) (ptr);          \
                for (size_t _i = 0; _i < (size_t) (len); _i++)           \
                        h = (h ^ _b[_i]) * 0x100000001b3ULL;             \
        } while (0)
        MIX(c->timezone, strlen(c->timezone) + 1);
        MIX(p->remind_before, p->n_remind_before * sizeof *p->remind_before);
        MIX(&p->send_at, sizeof p->send_at);
        MIX(&p->overdue_every, sizeof p->overdue_every);
        MIX(&p->workdays, sizeof p->workdays);
        /* The calendar by its rules: its days are computed year by year. */
        MIX(&c->calendar, sizeof c->calendar);
        MIX(c->holidays_added, c->n_holidays_added * sizeof *c->holidays_added);
        MIX(c->holidays_removed, c->n_holidays_removed * sizeof *c->holidays_removed);
        MIX(c->workdays_added, c->n_workdays_added * sizeof *c->workdays_added);
        for (size_t i = 0; i < p->n_escalation; i++)
                MIX(&p->escalation[i].after, sizeof p->escalation[i].after);
#undef MIX
        snprintf(buf, 17, "%016llx", (unsigned long long) h);
}

/* Compares the policy the schedule was worked out with to the
 * configuration's; a change starts a reschedule, done by the passes a
 * slice at a time so that neither READY nor the watchdog waits for a
 * million tasks. */
static int manager_sync_policy(struct manager *m) {
        _cleanup_free_ char *stored = NULL;
        char now[17];
        int r;

        policy_fingerprint(m->config, now);
        r = store_meta_get(m->store, "policy", &stored);
        if (r < 0 && r != -ENOENT)
                return r;
        if (stored && streq(stored, now)) {
                m->rescheduling = false;
                return 0;
        }
        if (stored)
                log_info("The reminder policy changed: working out the next reminder of every open task");
        m->rescheduling = true;
        m->reschedule_after = 0;
        m->reschedule_at = manager_now(m);
        return 0;
}

/* One slice of a reschedule; the fingerprint goes in with the last. */
static int manager_reschedule_some(struct manager *m) {
        char fingerprint[17];
        int64_t last = m->reschedule_after;
        bool done;
        int n, r;

        r = store_begin(m->store);
        if (r < 0)
                return r;
        r = n = store_tasks_reschedule(m->store, m->reschedule_at, m->reschedule_after, RESCHEDULE_SLICE, &last);
        done = n >= 0 && (size_t) n < RESCHEDULE_SLICE;
        if (done) {
                policy_fingerprint(m->config, fingerprint);
                r = store_meta_set(m->store, "policy", fingerprint);
        }
        if (r >= 0)
                r = store_commit(m->store);
        if (r < 0) {
                (void) store_rollback(m->store);
                return r;
        }
        m->reschedule_after = last;
        m->rescheduling = !done;
        return 0;
}

/* Tasks name agencies by id; one the configuration lost is reported at
 * every start and reload, never silently dropped. */
static void manager_check_agencies(struct manager *m) {
        _cleanup_strv_free_ char **ids = NULL;

        if (store_agency_ids(m->store, &ids) < 0)
                return;
        for (char **id = ids; *id; id++)
                if (!config_id_exists(m->config, *id))
                        log_warning("Open tasks name agency \"%s\", which %s does not have: they are not reminded",
                                    *id, m->config_path);
}

static int manager_maildir_prepare(struct manager *m) {
        int r;

        if (m->config->transport != TRANSPORT_MAILDIR || m->preview)
                return 0;
        r = maildir_prepare(m->config->maildir);
        if (r < 0)
                /* Not fatal: deliveries wait (and retry) until it is fixed. */
                log_warning_errno(r, "Cannot use the maildir %s: %m", m->config->maildir);
        return 0;
}

static int on_check_agencies(sd_event_source *s, void *userdata) {
        manager_check_agencies(userdata);
        return 0;
}

/* Start-up writes to the database before READY. A lock another process
 * holds is reported (a probe with the loop's short wait), then waited for
 * at most START_BUSY_TIMEOUT_MS. */
static void manager_wait_for_database(struct manager *m) {
        int r;

        (void) store_set_busy_timeout(m->store, STORE_NOWAIT_BUSY_MS);
        r = store_begin(m->store);
        if (r >= 0)
                (void) store_rollback(m->store);
        else if (r == -EBUSY) {
                log_warning("The database %s is locked by another process; waiting up to %ds for it",
                            m->config->database, START_BUSY_TIMEOUT_MS / 1000);
                (void) sd_notifyf(false, "STATUS=Waiting for the database %s, locked by another process",
                                  m->config->database);
        }
        (void) store_set_busy_timeout(m->store, START_BUSY_TIMEOUT_MS);
}

int manager_start(struct manager *m) {
        sd_event_source *s = NULL;
        int r;

        manager_wait_for_database(m);
        /* Rows left "attempting" are a dead sender's only when no other
         * one is alive: under the lock, which a dry run does not take (it
         * leaves another sender's deliveries under way as they are: they
         * are not due, and not shown). */
        /* On a server's database, only this daemon's own claims and those
         * whose lease ran out go back (store-pg.h). */
        r = m->sender_lock >= 0 || store_database_is_server(m->config->database)
                    ? store_deliveries_reset_attempting(m->store, manager_now(m)) : 0;
        if (r < 0)
                return log_error_errno(r, "Failed to recover deliveries: %s (%s)", store_strerror(r),
                                       store_last_error(m->store));
        if (r > 0)
                log_warning("%d deliveries were under way when the daemon last stopped; sending them again", r);

        /* Reads every open task's agencies: for the service after READY,
         * when the loop is idle, not before (3 s with a million tasks). */
        r = m->once ? -EAGAIN : sd_event_add_defer(m->event, &s, on_check_agencies, m);
        if (r >= 0)
                r = sd_event_source_set_priority(s, SD_EVENT_PRIORITY_IDLE);
        if (r >= 0)
                r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r >= 0)
                r = sd_event_source_set_floating(s, true);
        sd_event_source_unref(s);
        if (r < 0)
                manager_check_agencies(m);
        r = manager_sync_policy(m);
        if (r < 0)
                return log_error_errno(r, "Failed to check the reminder policy against the database: %s (%s)",
                                       store_strerror(r), store_last_error(m->store));

        /* A file database's folder is watched; a server's database
         * notifies (LISTEN/NOTIFY on PostgreSQL). */
        if (!m->once) {
                r = manager_watch_database(m);
                if (r < 0 && store_database_is_server(m->config->database))
                        return log_error_errno(r, "Failed to listen for changes to the database: %s (%s)",
                                               store_strerror(r), store_last_error(m->store));
                if (r < 0)
                        return log_error_errno(r, "Failed to watch the database's folder: %m");
                r = manager_watch_clock(m);
                if (r < 0)
                        log_warning_errno(r, "Failed to watch the clock, steps are seen at the next wake-up: %m");
        }
        dispatch_reconfigure(m->dispatch, m->config);
        manager_inbox_start(m);
        r = manager_maildir_prepare(m);
        if (r < 0)
                return r;
        if (m->config->calendar_dir && !m->preview) {
                r = ics_feed_prepare(m->config->calendar_dir);
                if (r < 0)
                        return log_error_errno(r, "calendar_dir %s: cannot write calendars there: %m",
                                               m->config->calendar_dir);
                m->calendars_stale = true;
        }
        /* From here on the loop never waits for a lock: it defers the work
         * (--once, with no watchdog, waits as a person would). */
        (void) store_set_busy_timeout(m->store, m->once ? STORE_BUSY_MS : STORE_NOWAIT_BUSY_MS);
        r = manager_start_worker(m);
        if (r < 0)
                return log_error_errno(r, "Failed to start the store thread for %s: %s (%s)", m->config->database,
                                       store_strerror(r), store_last_error(NULL));
        manager_arm_soon(m);
        return 0;
}

int manager_run(struct manager *m) {
        int r;

        (void) sd_notifyf(false, "READY=1\nSTATUS=Started, database %s", m->config->database);
        r = sd_event_loop(m->event);
        if (r < 0)
                return log_error_errno(r, "Event loop failed: %m");
        return r;
}
