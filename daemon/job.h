/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A delivery job: one message (an e-mail, or a webhook request) and the
 * outbox rows it carries, with a result per row. The outbox claims rows as
 * jobs and writes their results back; compose fills in the message; the
 * dispatcher and the transports send it and set the results. They all use
 * this type from below: a job knows nothing of who drives it. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
        bool sign_pending;       /* to be signed when it leaves (webhook_stamp()) */
};

struct job_list {
        struct job **jobs;
        size_t n;
        size_t consumed;         /* outbox_claim(): rows taken off the queue, claimed or recorded as not to go */
};

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
