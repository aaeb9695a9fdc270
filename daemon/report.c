/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A compliance report's aggregates from a period's occurrences. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lateness.h"
#include "macro.h"
#include "report.h"
#include "schedule.h"
#include "timeutil.h"

/* The Monday of ISO week 1 of year y: the week that holds 4 January. */
static int32_t iso_week1_monday(int y) {
        int32_t jan4 = days_from_civil(y, 1, 4);
        return jan4 - (weekday_from_days(jan4) + 6) % 7;
}

/* 52 or 53: a year has week 53 when its last week's Thursday is in it. */
static int iso_weeks(int y) {
        return (iso_week1_monday(y + 1) - iso_week1_monday(y)) / 7;
}

int report_period_of(enum report_every every, int32_t day, struct report_period *ret) {
        int y, m, d;

        if (every == REPORT_MONTHLY) {
                civil_from_days(day, &y, &m, &d);
                ret->from_day = days_from_civil(y, m, 1);
                ret->to_day = days_from_civil(y, m, days_in_month(y, m));
                snprintf(ret->name, sizeof ret->name, "%04d-%02d", y, m);
                return 0;
        }
        if (every == REPORT_WEEKLY) {
                ret->from_day = day - (weekday_from_days(day) + 6) % 7;
                ret->to_day = ret->from_day + 6;
                /* The ISO year is the year of the week's Thursday. */
                civil_from_days(ret->from_day + 3, &y, &m, &d);
                snprintf(ret->name, sizeof ret->name, "%04d-W%02d", y,
                         (ret->from_day - iso_week1_monday(y)) / 7 + 1);
                return 0;
        }
        return -EINVAL;
}

int64_t report_period_due(const struct policy *p, const struct report_period *period) {
        int32_t day;

        if (!schedule_add_workdays(p, period->to_day, 1, &day) || day > period->to_day + 366)
                return NO_TIME;
        return local_to_instant(day, (int64_t) (p->send_at >= 0 ? p->send_at : 8 * 60) * 60);
}

bool report_owed(const struct policy *p, int64_t now, struct report_period *ret, int64_t *ret_next) {
        struct report_period cur, prev;
        int64_t sec, prev_due;
        int32_t today;

        if (ret_next)
                *ret_next = NO_TIME;
        instant_to_local(now, &today, &sec);
        if (report_period_of(p->report_every, today, &cur) < 0 || !p->report_to || !p->report_to[0])
                return false;
        (void) report_period_of(p->report_every, cur.from_day - 1, &prev);
        prev_due = report_period_due(p, &prev);
        if (prev_due != NO_TIME && prev_due > now) {
                /* The period just ended is not due yet (the first working
                 * day of this one has not come). */
                if (ret_next)
                        *ret_next = prev_due;
                return false;
        }
        if (ret_next)
                *ret_next = report_period_due(p, &cur);
        if (prev_due == NO_TIME)
                return false;
        *ret = prev;
        return true;
}

int report_period_parse(const char *s, int32_t *ret_from, int32_t *ret_to) {
        int y, m = 0, q = 0, w = 0, n = 0;

        if (!s)
                return -EINVAL;
        if (sscanf(s, "%4d-Q%1d%n", &y, &q, &n) == 2 && (size_t) n == strlen(s) && n == 7) {
                if (q < 1 || q > 4)
                        return -EINVAL;
                m = 3 * q - 2;
                *ret_from = days_from_civil(y, m, 1);
                *ret_to = days_from_civil(y, m + 2, days_in_month(y, m + 2));
        } else if (sscanf(s, "%4d-%2d%n", &y, &m, &n) == 2 && (size_t) n == strlen(s) && n == 7) {
                if (m < 1 || m > 12)
                        return -EINVAL;
                *ret_from = days_from_civil(y, m, 1);
                *ret_to = days_from_civil(y, m, days_in_month(y, m));
        } else if (sscanf(s, "%4d-W%2d%n", &y, &w, &n) == 2 && (size_t) n == strlen(s) && n == 8) {
                if (!isdigit((unsigned char) s[6]) || !isdigit((unsigned char) s[7]) || w < 1 || w > iso_weeks(y))
                        return -EINVAL;
                *ret_from = iso_week1_monday(y) + 7 * (w - 1);
                *ret_to = *ret_from + 6;
        } else if (sscanf(s, "%4d%n", &y, &n) == 1 && (size_t) n == strlen(s) && n == 4) {
                *ret_from = days_from_civil(y, 1, 1);
                *ret_to = days_from_civil(y, 12, 31);
        } else
                return -EINVAL;
        /* sscanf lets a sign or spaces through: only digits make a year. */
        for (int i = 0; i < 4; i++)
                if (s[i] < '0' || s[i] > '9')
                        return -EINVAL;
        if (y < 1970)
                return -EINVAL;
        return 0;
}

uint64_t report_counts_total(const struct report_counts *c) {
        return c->on_time + c->late + c->open + c->overdue;
}

bool report_counts_rate(const struct report_counts *c, double *ret) {
        uint64_t decided = c->on_time + c->late + c->overdue;

        if (decided == 0)
                return false;
        *ret = (double) c->on_time / (double) decided;
        return true;
}

bool report_counts_avg_days_late(const struct report_counts *c, double *ret) {
        uint64_t n = c->late + c->overdue;

        if (n == 0)
                return false;
        *ret = (double) c->days_late / (double) n;
        return true;
}

int64_t report_as_of(int32_t to_day, int64_t now) {
        int64_t end = local_to_instant(to_day + 1, 0) - 1;

        return MIN(end, now);
}

static void count(struct report_counts *c, const struct task_occurrence *o, int64_t as_of) {
        int32_t due_day;
        int64_t sec;

        instant_to_local(o->due_at, &due_day, &sec);
        c->extensions += o->extensions;
        if (o->done_at != NO_TIME && o->done_at <= as_of) {
                if (o->done_at <= o->due_at)
                        c->on_time++;
                else {
                        c->late++;
                        c->days_late += (uint64_t) lateness_days_overdue(o->due_at, due_day, o->done_at);
                }
        } else if (as_of <= o->due_at)
                c->open++;
        else {
                c->overdue++;
                c->days_late += (uint64_t) lateness_days_overdue(o->due_at, due_day, as_of);
        }
}

static int cmp_str(const char *a, const char *b) {
        /* NULL (no document) sorts last. */
        if (!a || !b)
                return (a == NULL) - (b == NULL);
        return strcmp(a, b);
}

static int cmp_by_agency(const void *x, const void *y) {
        const struct task_occurrence *a = *(const struct task_occurrence *const *) x;
        const struct task_occurrence *b = *(const struct task_occurrence *const *) y;

        return cmp_str(a->agency, b->agency);
}

/* By document, then occurrence: the rows of one occurrence (one per lead
 * agency) come together, so that it is counted once. */
static int cmp_by_document(const void *x, const void *y) {
        const struct task_occurrence *a = *(const struct task_occurrence *const *) x;
        const struct task_occurrence *b = *(const struct task_occurrence *const *) y;
        int r = cmp_str(a->document_number, b->document_number);

        if (r != 0)
                return r;
        if (a->task_id != b->task_id)
                return a->task_id < b->task_id ? -1 : 1;
        if (a->completion_id != b->completion_id)
                return a->completion_id < b->completion_id ? -1 : 1;
        return 0;
}

/* Compares on-time rates a_on/a_dec and b_on/b_dec exactly (no rounding
 * may break a tie or make one). */
static int cmp_rate(const struct report_counts *a, const struct report_counts *b) {
        uint64_t ad = a->on_time + a->late + a->overdue, bd = b->on_time + b->late + b->overdue;
        unsigned __int128 l, r;

        if ((ad == 0) != (bd == 0))
                return ad == 0 ? 1 : -1;
        if (ad == 0)
                return 0;
        l = (unsigned __int128) a->on_time * bd;
        r = (unsigned __int128) b->on_time * ad;
        return l > r ? -1 : l < r ? 1 : 0;
}

static int cmp_standing(const struct report_agency *a, const struct report_agency *b) {
        int r = cmp_rate(&a->counts, &b->counts);
        uint64_t at = report_counts_total(&a->counts), bt = report_counts_total(&b->counts);

        if (r != 0)
                return r;
        return at > bt ? -1 : at < bt ? 1 : 0;
}

static int cmp_rank(const void *x, const void *y) {
        const struct report_agency *a = x, *b = y;
        int r = cmp_standing(a, b);

        return r != 0 ? r : strcmp(a->id, b->id);
}

void report_done(struct report *r) {
        if (!r)
                return;
        for (size_t i = 0; i < r->n_agencies; i++) {
                free(r->agencies[i].id);
                free(r->agencies[i].name);
        }
        free(r->agencies);
        for (size_t i = 0; i < r->n_documents; i++)
                free(r->documents[i].number);
        free(r->documents);
        *r = (struct report) {};
}

int report_compute(const struct report_input *in, struct report *ret) {
        _cleanup_(report_done) struct report rep = {
                .from_day = in->from_day,
                .to_day = in->to_day,
                .as_of = in->as_of,
        };
        _cleanup_free_ const struct task_occurrence **v = NULL;

        if (in->n > 0) {
                v = malloc(in->n * sizeof *v);
                if (!v)
                        return -ENOMEM;
        }
        for (size_t i = 0; i < in->n; i++)
                v[i] = &in->items[i];

        /* Per agency. */
        if (in->n > 0)
                qsort(v, in->n, sizeof *v, cmp_by_agency);
        for (size_t i = 0; i < in->n;) {
                struct report_agency *a;
                const char *name;
                size_t j;

                for (j = i; j < in->n && cmp_str(v[j]->agency, v[i]->agency) == 0; j++)
                        ;
                a = reallocarray(rep.agencies, rep.n_agencies + 1, sizeof *rep.agencies);
                if (!a)
                        return -ENOMEM;
                rep.agencies = a;
                a = &rep.agencies[rep.n_agencies];
                *a = (struct report_agency) {};
                rep.n_agencies++;
                name = in->agency_name ? in->agency_name(v[i]->agency ?: "", in->userdata) : NULL;
                a->id = strdup(v[i]->agency ?: "");
                a->name = strdup(name ?: v[i]->agency ?: "");
                if (!a->id || !a->name)
                        return -ENOMEM;
                for (; i < j; i++)
                        count(&a->counts, v[i], in->as_of);
        }
        if (rep.n_agencies > 0)
                qsort(rep.agencies, rep.n_agencies, sizeof *rep.agencies, cmp_rank);
        for (size_t i = 0; i < rep.n_agencies; i++)
                rep.agencies[i].rank = i > 0 && cmp_standing(&rep.agencies[i - 1], &rep.agencies[i]) == 0
                                               ? rep.agencies[i - 1].rank
                                               : (unsigned) i + 1;

        /* Per document, and overall: an occurrence once, however many
         * agencies lead it. */
        if (in->n > 0)
                qsort(v, in->n, sizeof *v, cmp_by_document);
        for (size_t i = 0; i < in->n;) {
                struct report_document *d;
                size_t j;

                for (j = i; j < in->n && cmp_str(v[j]->document_number, v[i]->document_number) == 0; j++)
                        ;
                d = reallocarray(rep.documents, rep.n_documents + 1, sizeof *rep.documents);
                if (!d)
                        return -ENOMEM;
                rep.documents = d;
                d = &rep.documents[rep.n_documents];
                *d = (struct report_document) {};
                rep.n_documents++;
                if (v[i]->document_number) {
                        d->number = strdup(v[i]->document_number);
                        if (!d->number)
                                return -ENOMEM;
                }
                for (size_t k = i; k < j; k++) {
                        if (k > i && cmp_by_document(&v[k - 1], &v[k]) == 0)
                                continue;
                        count(&d->counts, v[k], in->as_of);
                        count(&rep.total, v[k], in->as_of);
                }
                i = j;
        }

        *ret = rep;
        rep = (struct report) {};
        return 0;
}
