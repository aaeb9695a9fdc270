/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A compliance report: for a period, how each agency stands with the tasks
 * it leads, in the four counts follow-up reports use, with totals per
 * document and overall. Pure: the occurrences come in (store.h's
 * store_task_occurrences()), the aggregates go out; local days use the
 * process time zone (TZ), as timeutil does.
 *
 * What a period covers: every occurrence whose deadline (the one in force:
 * after extensions, and for a recurring task each occurrence's own) falls
 * on a day of the period. The report stands "as of" the end of the
 * period, or now when that is earlier. An occurrence is
 *   - done on time: done at or before its deadline's instant;
 *   - done late: done after it;
 *   - open within deadline: not done as of, deadline not passed;
 *   - open overdue: not done as of, deadline passed.
 * A completion after the as-of instant counts as not done yet. Days late
 * are lateness.h's whole calendar days after the deadline's day (at the
 * completion, or as of for an open task), as list and show count them;
 * the average is over the late and the overdue ones.
 *
 * The ranking: by on-time rate, done on time over the occurrences already
 * decided (done, or open overdue), highest first; then by volume (all
 * occurrences), largest first. Agencies with the same rate and volume
 * share a rank; those with nothing decided yet come last. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "store.h"

/* "2025" (the year), "2025-05" (a month), "2025-Q2" (a quarter),
 * "2025-W19" (an ISO week, Monday to Sunday): the first and last local
 * day. -EINVAL when it does not parse. */
int report_period_parse(const char *s, int32_t *ret_from, int32_t *ret_to);

/* The periodic report (schedule.report_every, report_to), e-mailed once a
 * period under the outbox key "report:<agency>:<period>".
 *
 * A period's report is due on the first working day after the period
 * (schedule.h's working days: workdays, holidays, extra_workdays) at
 * send_at, or at 08:00 when send_at is "none". It is owed from then until
 * the end of the period that follows: a daemon that was down at the due
 * time sends it when it starts, but only for the period just ended; the
 * reports of periods before it, missed in a longer downtime, are not made
 * (no flood, as for reminders). */
#define REPORT_PERIOD_NAME_MAX 32
struct report_period {
        int32_t from_day, to_day;
        char name[REPORT_PERIOD_NAME_MAX];  /* "2025-05", "2025-W19" */
};

/* The period of `every` (weekly or monthly) that holds local day `day`.
 * -EINVAL for REPORT_NEVER. */
int report_period_of(enum report_every every, int32_t day, struct report_period *ret);
/* When the report of `period` is due (above); NO_TIME when the policy has
 * no working day within a year after it. */
int64_t report_period_due(const struct policy *p, const struct report_period *period);
/* The report owed at `now`: true with the period just ended, once its due
 * time has come. *ret_next (if not NULL) is when the next report falls due
 * after `now` (NO_TIME: never), for arming the timer. */
bool report_owed(const struct policy *p, int64_t now, struct report_period *ret, int64_t *ret_next);

struct report_counts {
        uint64_t on_time;
        uint64_t late;
        uint64_t open;          /* open within deadline */
        uint64_t overdue;       /* open overdue */
        uint64_t extensions;
        uint64_t days_late;     /* summed over the late and overdue ones */
};

uint64_t report_counts_total(const struct report_counts *c);
/* The on-time rate, false when nothing is decided yet. */
bool report_counts_rate(const struct report_counts *c, double *ret);
/* Average days late over the late and overdue ones, false when none. */
bool report_counts_avg_days_late(const struct report_counts *c, double *ret);

struct report_agency {
        char *id;
        char *name;             /* the configuration's name, or the id */
        unsigned rank;          /* from 1 */
        struct report_counts counts;
};

struct report_document {
        char *number;           /* NULL: tasks without a document */
        struct report_counts counts;
};

struct report {
        int32_t from_day, to_day;
        int64_t as_of;
        struct report_agency *agencies;   /* by rank, then id */
        size_t n_agencies;
        struct report_document *documents;/* by number, tasks without one last */
        size_t n_documents;
        struct report_counts total;       /* each occurrence once, whatever its leads */
};

struct report_input {
        int32_t from_day, to_day;         /* the period, local days */
        int64_t as_of;
        const struct task_occurrence *items;
        size_t n;
        /* The name to show for an agency id, NULL for the id itself. */
        const char *(*agency_name)(const char *id, void *userdata);
        void *userdata;
};

/* The as-of instant of a period ending on local day to_day: its last
 * second, or now when earlier. */
int64_t report_as_of(int32_t to_day, int64_t now);
int report_compute(const struct report_input *in, struct report *ret);
void report_done(struct report *r);
