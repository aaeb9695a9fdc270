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
 *  2. outbox_claim(): pending deliveries that are due are grouped into jobs
 *     (one e-mail per task and slot, or one per agency in digest mode; one
 *     webhook request per agency) and marked "attempting" in a committed
 *     transaction BEFORE any message leaves. After a crash, rows left
 *     "attempting" go back to pending: those, and only those, may go twice.
 *  3. outbox_settle(): the transports' results are written back in one
 *     transaction for many jobs: sent, retried later with exponential
 *     backoff, or failed for good. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

enum channel {
        CHANNEL_EMAIL,
        CHANNEL_WEBHOOK,
};

enum result_kind {
        RESULT_NONE,     /* not settled yet */
        RESULT_SENT,
        RESULT_RETRY,    /* temporary failure: try again after backoff */
        RESULT_FAIL,     /* permanent failure */
        RESULT_UNSENT,   /* claimed but never went out (a stop): put back as it was */
};

struct job_row {
        int64_t delivery_id;
        int64_t task_id;
        char *slot;
        int64_t slot_at;
        char *agency;
        enum role role;
        int attempts;            /* including the one under way */
        int64_t created_at;
        int64_t next_attempt_at; /* when it was due before this claim */
        int64_t first_attempt_at;/* its first attempt: this one, or an earlier one */
        enum result_kind result;
        int64_t retry_after;     /* RESULT_RETRY: a server's own delay (Retry-After), or 0 */
        char *error;
        char *delivered_to;      /* e-mail: the agency's addresses that have it already, one per line */
};

struct job {
        enum channel channel;
        size_t webhook_index;
        char *agency;            /* the agency whose channel this is (webhooks, digests) */
        /* The database's instance id, which every id the message carries
         * begins with (store_instance_id()); a job without one is not
         * composed. */
        char instance[STORE_INSTANCE_ID_MAX];
        char *subject;           /* the rendered subject line (for a preview), once composed */
        struct job_row *rows;
        size_t n_rows;

        /* E-mail: envelope and the complete RFC 5322 message. A recipient
         * belongs to the rows of the agencies that list its address
         * (job_rcpt_in_row()), so one the server refuses fails or defers
         * those rows only; rcpt_refused[k] says it was, and data_accepted
         * that the message went to the others. */
        char *mail_from;
        char **rcpt;
        bool *rcpt_in_row;       /* n_rcpt × n_rows: [k * n_rows + i] */
        bool *rcpt_refused;
        size_t n_rcpt;
        bool data_accepted;
        char *data;
        size_t size;

        /* Webhook: what to POST where. */
        char *url;
        char **headers;          /* "Name: value", NULL-terminated */
        char *body;
        size_t body_size;
};

struct job_list {
        struct job **jobs;
        size_t n;
        size_t consumed;         /* outbox_claim(): rows taken off the queue, claimed or recorded as not to go */
};

/* Decides the slots due at `now`; returns the number of delivery rows
 * created (0 or more) or a negative errno. */
int outbox_decide(struct store *s, const struct config *c, int64_t now);
/* The same, stopping after about `max_tasks` tasks (whole batches); *ret_more
 * tells whether due tasks remain. The daemon decides a large backlog (the
 * first start over a million tasks) a slice at a time, so its loop keeps
 * answering signals and the watchdog in between. */
int outbox_decide_some(struct store *s, const struct config *c, int64_t now, size_t max_tasks, bool *ret_more);
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
/* When the daemon next has something to do: the earliest slot of an open
 * task or attempt of a pending delivery (NO_TIME: nothing ever). */
int outbox_next_wakeup(struct store *s, int64_t *ret);

static inline bool job_rcpt_in_row(const struct job *j, size_t k, size_t row) {
        return j->rcpt_in_row && j->rcpt_in_row[k * j->n_rows + row];
}

/* Whether `address` (any case) has row's delivery already. */
bool job_row_delivered(const struct job_row *r, const char *address);
/* Marks every row of a job with one result. */
void job_set_result(struct job *j, enum result_kind kind, const char *error);
void job_set_row_result(struct job *j, size_t row, enum result_kind kind, const char *error);
struct job *job_free(struct job *j);
void job_list_done(struct job_list *l);

/* The delay before attempt n+1 after n failed attempts: retry_min doubling
 * to retry_max, with ±10% jitter so that many deferred deliveries do not
 * come back in one burst. `random` is a value in [0, 1). */
int64_t outbox_backoff(const struct delivery_policy *p, int attempts, double random);
