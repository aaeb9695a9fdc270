/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The outbox: how due reminder slots become deliveries, and deliveries
 * become messages, without ever losing or doubling one.
 *
 *  1. outbox_decide(): for every open task whose next_fire_at has come, the
 *     slots that fell due since it was last looked at become one delivery
 *     row per (task, slot, agency, channel), inserted under that unique key
 *     in the same transaction that advances the task's schedule. A crash
 *     before the commit decides nothing; after it, the rows are there.
 *     The notices owed to the agencies a task was given to become rows in
 *     the same way, keyed "notice:<assigned_at>", and stop being owed in
 *     that transaction: each assignment is told of once.
 *  2. outbox_claim(): pending deliveries that are due are grouped into jobs
 *     (job.h: one e-mail per task and slot, or one per agency in digest
 *     mode; one webhook request per agency) and marked "attempting" in a
 *     committed transaction BEFORE any message leaves. After a crash, rows left
 *     "attempting" go back to pending: those, and only those, may go twice.
 *  3. outbox_settle(): the transports' results are written back in one
 *     transaction for many jobs: sent, retried later with exponential
 *     backoff, or failed for good. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "job.h"
#include "store.h"

/* Deliveries that are about no one task (a report for an agency and a
 * period, later an acknowledgement of an agency's reply) go through the
 * same table under the same rules: a row per (key, agency, channel) with no
 * task, inserted once whatever happens, claimed, sent, settled and retried
 * like a reminder. The key begins with its kind and says what the delivery
 * is about: "report:<agency>:<period>", "ack:<message>". enqueue inserts a
 * pending row for each channel of `agency`, due at `at` (now if past), and
 * returns how many it inserted (0: the key is there already), -ENOENT for
 * an agency the configuration does not have, -EINVAL for a key that is not
 * "<kind>:<what>". What such a delivery says is made when it is claimed,
 * by compose_untasked() for its kind; a kind that no composer knows fails
 * with that reason. A report ("report:…") is e-mail only: an agency's
 * webhooks get no row for it. Call it in the caller's transaction or alone
 * (it then takes its own).
 *
 * outbox_decide() enqueues the periodic report (schedule.report_every,
 * report_to; report.h says when one is owed) for each agency of report_to,
 * due at its due time; outbox_claim() computes a report's figures from the
 * store when it composes it. */
int outbox_enqueue(struct store *s, const struct config *c, const char *key, const char *agency, int64_t at,
                   int64_t now);

/* Decides the slots due at `now`; returns the number of delivery rows
 * created (0 or more) or a negative errno. */
int outbox_decide(struct store *s, const struct config *c, int64_t now);
/* What one outbox_decide_some() did besides creating deliveries. */
struct outbox_decided {
        bool more;              /* due tasks remain */
        size_t rolled;          /* recurring tasks moved to their next deadline */
        bool skipped;           /* another daemon decides (store_decide_lock()): nothing was */
};
/* The same, stopping after about `max_tasks` tasks (whole batches); *ret
 * (optional) tells whether due tasks remain and how many recurring tasks
 * moved on (a change to their calendar entries). The daemon decides a large
 * backlog (the first start over a million tasks) a slice at a time, so its
 * loop keeps answering signals and the watchdog in between. */
int outbox_decide_some(struct store *s, const struct config *c, int64_t now, size_t max_tasks,
                       struct outbox_decided *ret);
/* What a claim may take now, in the transport's say (NULL: everything due).
 * busy: the n_busy receivers whose deliveries stay pending (they are
 * full), or NULL; one allocation with its strings (delivery_receivers_dup()),
 * freed with free() by whoever made the filter. admit(): asked once per
 * message about to be claimed (its first row's agency and channel); false
 * leaves all of the message's rows pending. */
struct claim_filter {
        struct delivery_receiver *busy;
        size_t n_busy;
        bool (*admit)(void *userdata, const char *agency, const char *channel);
        void *userdata;
};

/* Claims up to `limit` due deliveries as jobs, marked attempting. */
int outbox_claim(struct store *s, const struct config *c, int64_t now, size_t limit, const struct claim_filter *f,
                 struct job_list *ret);
/* Writes back the results of `n` jobs in one transaction; jobs with rows
 * still RESULT_NONE are put back to pending. */
int outbox_settle(struct store *s, const struct config *c, int64_t now, struct job **jobs, size_t n);
/* When the daemon next has something to do after `now`: the earliest slot
 * of an open task, attempt of a pending delivery, or periodic report of
 * `c` (report.h; NULL: reports left out), NO_TIME for nothing ever. */
int outbox_next_wakeup(struct store *s, const struct config *c, int64_t now, int64_t *ret);

/* The delay before attempt n+1 after n failed attempts: retry_min doubling
 * to retry_max, with ±10% jitter so that many deferred deliveries do not
 * come back in one burst. `random` is a value in [0, 1). */
int64_t outbox_backoff(const struct delivery_policy *p, int attempts, double random);
