/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdbool.h>
#include <stdlib.h>

#include "timeutil.h"
#include "workcal.h"

#define YEARS (YEAR_MAX - YEAR_MIN + 1)

struct cached_year {
        bool done;
        int32_t *days;                 /* the holidays, then the extra working days */
        struct workcal_year y;
};

struct workcal {
        struct holiday_rules rules;
        const struct holiday_date *extra;
        size_t n_extra;
        size_t n_computed;
        struct cached_year years[YEARS];
};

static const struct workcal_year empty_year = {};

int workcal_new(const struct holiday_rules *rules, const struct holiday_date *extra, size_t n_extra,
                struct workcal **ret) {
        struct workcal *w;

        /* calloc: the pages of years never asked for are never touched. */
        w = calloc(1, sizeof *w);
        if (!w)
                return -ENOMEM;
        w->rules = *rules;
        w->extra = extra;
        w->n_extra = n_extra;
        *ret = w;
        return 0;
}

struct workcal *workcal_free(struct workcal *w) {
        if (!w)
                return NULL;
        for (size_t i = 0; i < YEARS; i++)
                free(w->years[i].days);
        free(w);
        return NULL;
}

static int cmp_int32(const void *a, const void *b) {
        int32_t x = *(const int32_t *) a, y = *(const int32_t *) b;
        return x < y ? -1 : x > y;
}

static size_t sort_unique(int32_t *v, size_t n) {
        size_t j = 0;

        qsort(v, n, sizeof *v, cmp_int32);
        for (size_t i = 0; i < n; i++)
                if (j == 0 || v[j - 1] != v[i])
                        v[j++] = v[i];
        return j;
}

bool workcal_days_contain(const int32_t *a, size_t n, int32_t day) {
        size_t lo = 0, hi = n;

        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (a[mid] == day)
                        return true;
                if (a[mid] < day)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return false;
}

static int compute(struct workcal *w, int year, struct cached_year *c) {
        _cleanup_free_ struct holiday *h = NULL;
        int32_t *days, *extra;
        size_t n = 0, nh = 0, ne = 0;
        unsigned mask = w->rules.workdays;
        int r;

        r = holiday_year(&w->rules, year, &h, &n);
        if (r == -ERANGE)
                n = 0;          /* a year the lunar calendar does not cover: no days off */
        else if (r < 0)
                return r;

        days = malloc((n + w->n_extra + 1) * sizeof *days);
        if (!days)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                if (!h[i].removed)
                        days[nh++] = h[i].day;
        nh = sort_unique(days, nh);
        extra = days + nh;
        for (size_t i = 0; i < w->n_extra; i++)
                if (holiday_date_in_year(&w->extra[i], year, &extra[ne]))
                        ne++;
        ne = sort_unique(extra, ne);

        c->days = days;
        c->y = (struct workcal_year) {
                .holidays = days,
                .n_holidays = nh,
                .extra_workdays = extra,
                .n_extra_workdays = ne,
        };
        for (size_t i = 0; i < nh; i++)
                if ((mask & (1u << weekday_from_days(days[i]))) && !workcal_days_contain(extra, ne, days[i]))
                        c->y.delta--;
        for (size_t i = 0; i < ne; i++)
                if (!(mask & (1u << weekday_from_days(extra[i]))))
                        c->y.delta++;
        return 0;
}

const struct workcal_year *workcal_year(struct workcal *w, int year) {
        struct cached_year *c;

        if (year < YEAR_MIN || year > YEAR_MAX)
                return &empty_year;
        c = &w->years[year - YEAR_MIN];
        if (!c->done) {
                /* The schedule's answers are bools and instants with no
                 * room for an error, and a wrong calendar would send
                 * reminders on the wrong days: give up instead. */
                if (compute(w, year, c) < 0)
                        abort();
                c->done = true;
                w->n_computed++;
        }
        return &c->y;
}

size_t workcal_years_computed(const struct workcal *w) {
        return w ? w->n_computed : 0;
}
