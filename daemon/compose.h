/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Builds a job's message from its tasks: the e-mail (RFC 5322, through
 * the render and mail modules) or the webhook request (webhook.c). tasks[i]
 * belongs to job->rows[i]. Pure: no I/O. */

#include <stdint.h>

#include "config.h"
#include "job.h"
#include "render.h"
#include "report.h"
#include "store.h"

int compose_email(const struct config *c, struct job *j, const struct task *const *tasks, int64_t now);
/* The message of `deadlinectl send-test`: the test text to one agency's
 * addresses (To: its e-mail, Cc: its cc), with `token` naming the message,
 * into j's envelope and data. -ENXIO if the agency has no address. */
int compose_test_email(const struct config *c, const struct agency *a, int64_t now, const char *token,
                       struct job *j);
int compose_webhook(const struct config *c, struct job *j, const struct task *const *tasks, int64_t now);
/* The message of a delivery about no one task (outbox_enqueue()), by the
 * kind its key begins with (an answer to a reply: compose_reply_answer()), filling in j's envelope and data for
 * j->agency. -EOPNOTSUPP for a kind (or a channel) that has none.
 *
 * "report:<agency>:<period>": the compliance report of the period, which
 * the caller computed (`report`; NULL for other kinds), by e-mail only:
 * multipart/mixed, the body a multipart/alternative of the report-*.txt
 * letter with the totals and the report's HTML page with the report.html
 * letter at its top; attached, the report as CSV, UTF-8 with a byte order
 * mark (so that spreadsheet programs read it as UTF-8), named
 * "bao-cao-<period>.csv" ("report-<period>.csv" in English). */
int compose_untasked(const struct config *c, struct job *j, const struct report *report, int64_t now);
/* "ack:<inbox id>" and "reject:<inbox id>": the answer to an agency's
 * reply (`reply`, from the store's inbox; `task` the task it names, or
 * NULL), by e-mail only, to the reply's sender alone, in the reply's own
 * thread (In-Reply-To and References its Message-ID, the subject its own
 * after "Re: ", with the task tag added when the reply lost it). An
 * acknowledgement says what was received (a report of completion awaiting
 * confirmation, or an extension asked for, awaiting a decision); a refusal
 * gives the officer's reason (reply->reason). The templates are
 * ack-*.{txt,html} and reject-*. -EOPNOTSUPP for another channel, -EINVAL
 * for a reply without a valid sender address. */
int compose_reply_answer(const struct config *c, struct job *j, const struct inbox_message *reply,
                         const struct task *task, int64_t now);

/* Appends the task tag " [#ID]" to a message's subject, which a reply
 * keeps ("Re: …") and the inbox reader finds the task by. Every e-mail
 * about one task carries it; a digest, about several, carries none (each
 * of its task lines shows its "#ID" instead). */
int compose_subject_tag(char **subject, int64_t task_id);

/* What the two composers share. */

/* What a slot is about, from its key ("before:…", "overdue:…",
 * "escalate:…", "notice:…"). */
enum render_kind compose_slot_kind(const char *slot);
/* An escalation slot's level's `after`, in seconds (0 if unknown). */
int64_t compose_escalation_after(const struct config *c, const char *slot);

/* The render input for a job's tasks: one render_task per distinct task,
 * in row order. */
#define COMPOSE_NAMES_PER_TASK 4
struct compose_parts {
        struct render_task *tasks;
        struct due *dues;       /* 2n: each task's deadline, then each one's original */
        /* Per task, to free: its leads and supports, then the agencies
         * addressed as leads and as supports. */
        const char ***names;
        size_t n;
};
int compose_collect_tasks(const struct config *c, const struct job *j, const struct task *const *tasks,
                          int64_t now, struct compose_parts *p);
void compose_parts_done(struct compose_parts *p);
