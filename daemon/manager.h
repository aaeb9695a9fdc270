/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The daemon's state and its event loop: the configuration, the store,
 * one scheduler timer on the wall clock re-armed to the earliest thing to
 * do, a watch on the database's folder so deadlinectl's changes are seen at
 * once, the signals, and the systemd notification protocol. */

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "outbox.h"
#include "store.h"

struct dispatch;
struct imap_poll;
struct preview;

struct manager {
        sd_event *event;
        char *config_path;
        struct config *config;
        struct store *store;

        sd_event_source *timer;        /* CLOCK_REALTIME: the next slot or retry */
        sd_event_source *soon;         /* defer: a pass in the next iteration */
        sd_event_source *watch;        /* inotify on the database's folder */
        sd_event_source *settle;       /* CLOCK_MONOTONIC: write finished jobs back in one go */
        sd_event_source *settle_now;   /* defer: the same, in the next iteration */
        sd_event_source *stop_timer;   /* bound on a graceful stop */
        sd_event_source *retry;        /* CLOCK_MONOTONIC: work a busy or full database refused */
        uint64_t backoff_usec;         /* the next retry's delay; 0 while the database answers */
        sd_event_source *clock_watch;  /* timerfd cancelled when the wall clock is set */
        int64_t clock_base_usec;       /* CLOCK_REALTIME - CLOCK_MONOTONIC at the last look */
        int64_t clock_step;            /* seconds the clock was set back, not yet re-planned (<= 0) */
        uint64_t data_version;         /* the store's, to tell others' commits from ours */
        /* The tasks or the configuration changed since the calendar files
         * in calendar_dir were last brought up to date (ics-feed.h). */
        bool calendars_stale;

        /* The inbox (config inbox): a poll of the mailbox under way, and the
         * timer to the next one, armed only when an inbox is configured. */
        struct imap_poll *inbox_poll;
        sd_event_source *inbox_timer;

        struct dispatch *dispatch;     /* SMTP and webhook transfers under way */
        struct job **finished;         /* jobs done, waiting to be settled */
        size_t n_finished, allocated_finished;
        size_t in_flight;
        /* The last claim that found only rows of busy receivers (those
         * receivers, as the claim filter had them) and when: until the
         * list, the second or the outbox changes, another would find
         * nothing either, after reading a slow receiver's whole backlog
         * again. */
        struct delivery_receiver *dry_busy;
        size_t n_dry_busy;
        int64_t dry_at;

        /* The policy changed: open tasks are being rescheduled a slice at a
         * time (those with an id above reschedule_after are left), and the
         * new policy's fingerprint is stored once all are. */
        bool rescheduling;
        int64_t reschedule_after;
        int64_t reschedule_at;

        int64_t clock_offset;          /* --now: seconds added to the real clock */
        bool once;                     /* --once: one pass, then exit */
        /* The database's sender lock (lockfile.h), or -EBADF (a dry run):
         * only its holder resets the rows a previous sender left
         * "attempting", and a reload that names another database takes
         * that one's lock before it lets this one go. */
        int sender_lock;
        /* --dry-run (with a store opened STORE_DRY): the send step keeps
         * each composed job here instead of sending it, and nothing is
         * reset, prepared or written outside the store. */
        struct preview *preview;
        int pass_error;                /* --once: the last pass's failure (negative errno), or 0 */
        bool decide_skipped;           /* the last pass left deciding to another daemon */
        /* A server's database: the store thread (store-worker.h) that runs
         * passes and settles on its own connection, the work it has in
         * hand, and what waits for it to be free. NULL for a file database,
         * --once and --dry-run: the same work runs on the loop. */
        struct store_worker *worker;
        struct manager_work *work;
        bool want_pass, want_settle, want_reload;
        bool stopping;
        unsigned deferred, failed, sent; /* totals, for --once's exit status and STATUS= */
};

int manager_new(const char *config_path, struct config *config, struct store *store, struct manager **ret);
struct manager *manager_free(struct manager *m);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct manager *, manager_free);

int64_t manager_now(const struct manager *m);
/* Sets up the sources and runs the first pass; READY=1 follows. */
int manager_start(struct manager *m);
int manager_run(struct manager *m);

/* A job is done (its rows have results): queued to be written back. */
void manager_job_finished(struct manager *m, struct job *j);
