/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "holiday.h"
#include "lunar.h"
#include "macro.h"
#include "timeutil.h"

static const char *const calendar_table[_HOLIDAY_CALENDAR_MAX] = {
        [HOLIDAY_CALENDAR_NONE] = "none",
        [HOLIDAY_CALENDAR_VN] = "vn",
};

static const char *const kind_table[_HOLIDAY_KIND_MAX] = {
        [HOLIDAY_NEW_YEAR] = "new-year",         [HOLIDAY_TET] = "tet",
        [HOLIDAY_HUNG_KINGS] = "hung-kings",     [HOLIDAY_REUNIFICATION] = "reunification",
        [HOLIDAY_LABOUR] = "labour-day",         [HOLIDAY_NATIONAL] = "national-day",
        [HOLIDAY_COMPENSATORY] = "compensatory", [HOLIDAY_CONFIGURED] = "configured",
};

const char *holiday_calendar_to_string(enum holiday_calendar c) {
        return c >= 0 && c < _HOLIDAY_CALENDAR_MAX ? calendar_table[c] : NULL;
}

int holiday_calendar_from_string(const char *s) {
        for (int i = 0; s && i < _HOLIDAY_CALENDAR_MAX; i++)
                if (streq(calendar_table[i], s))
                        return i;
        return -EINVAL;
}

const char *holiday_kind_to_string(enum holiday_kind k) {
        return k >= 0 && k < _HOLIDAY_KIND_MAX ? kind_table[k] : NULL;
}

static int two_digits(const char *s) {
        if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
                return -1;
        return (s[0] - '0') * 10 + (s[1] - '0');
}

int holiday_date_parse(const char *s, struct holiday_date *ret) {
        int32_t day;
        int m, d;

        if (!s)
                return -EINVAL;
        if (s[0] != '*') {
                if (parse_iso_date(s, &day) < 0)
                        return -EINVAL;
                civil_from_days(day, &ret->year, &ret->month, &ret->day);
                return 0;
        }
        /* "*-MM-DD". 2000 is a leap year, so "*-02-29" passes: it means
         * leap years only. */
        if (strlen(s) != 7 || s[1] != '-' || s[4] != '-')
                return -EINVAL;
        m = two_digits(s + 2);
        d = two_digits(s + 5);
        if (m < 1 || m > 12 || d < 1 || d > days_in_month(2000, m))
                return -EINVAL;
        *ret = (struct holiday_date) { .year = 0, .month = m, .day = d };
        return 0;
}

bool holiday_date_in_year(const struct holiday_date *d, int year, int32_t *ret_day) {
        if (d->year != 0 && d->year != year)
                return false;
        if (d->day > days_in_month(year, d->month))
                return false;
        *ret_day = days_from_civil(year, d->month, d->day);
        return true;
}

struct list {
        struct holiday *v;
        size_t n, size;
};

static int list_add(struct list *l, const struct holiday *h) {
        if (l->n == l->size) {
                size_t size = l->size ? l->size * 2 : 16;
                struct holiday *v = reallocarray(l->v, size, sizeof *v);
                if (!v)
                        return -ENOMEM;
                l->v = v;
                l->size = size;
        }
        l->v[l->n++] = *h;
        return 0;
}

static struct holiday *list_find(const struct list *l, int32_t day) {
        for (size_t i = 0; i < l->n; i++)
                if (l->v[i].day == day)
                        return &l->v[i];
        return NULL;
}

static int cmp_holiday(const void *a, const void *b) {
        const struct holiday *x = a, *y = b;
        return x->day < y->day ? -1 : x->day > y->day;
}

/* Article 112's days for `year`, unsorted. */
static int add_law_holidays(struct list *l, int year) {
        struct lunar_date tet = { .year = year, .month = 1, .day = 1 }, hung = { .year = year, .month = 3, .day = 10 };
        int32_t tet_day, hung_day;
        int r;

        r = lunar_to_solar(&tet, LUNAR_OFFSET_VN, &tet_day);
        if (r < 0)
                return r;
        r = lunar_to_solar(&hung, LUNAR_OFFSET_VN, &hung_day);
        if (r < 0)
                return r;

        const struct holiday days[] = {
                { .day = days_from_civil(year, 1, 1), .kind = HOLIDAY_NEW_YEAR },
                { .day = tet_day - 1, .kind = HOLIDAY_TET, .part = 0 },
                { .day = tet_day, .kind = HOLIDAY_TET, .part = 1 },
                { .day = tet_day + 1, .kind = HOLIDAY_TET, .part = 2 },
                { .day = tet_day + 2, .kind = HOLIDAY_TET, .part = 3 },
                { .day = tet_day + 3, .kind = HOLIDAY_TET, .part = 4 },
                { .day = hung_day, .kind = HOLIDAY_HUNG_KINGS },
                { .day = days_from_civil(year, 4, 30), .kind = HOLIDAY_REUNIFICATION },
                { .day = days_from_civil(year, 5, 1), .kind = HOLIDAY_LABOUR },
                { .day = days_from_civil(year, 9, 1), .kind = HOLIDAY_NATIONAL, .part = 1 },
                { .day = days_from_civil(year, 9, 2), .kind = HOLIDAY_NATIONAL, .part = 0 },
        };
        for (size_t i = 0; i < ELEMENTSOF(days); i++) {
                r = list_add(l, &days[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}

static bool removed(const struct holiday_rules *r, int year, int32_t day) {
        int32_t d;

        for (size_t i = 0; i < r->n_remove; i++)
                if (holiday_date_in_year(&r->remove[i], year, &d) && d == day)
                        return true;
        return false;
}

/* A holiday on a weekly rest day is made up on the next day that is a
 * working weekday and no other holiday or compensatory day (Article 111),
 * taken in date order so that a Tết block over a weekend is followed by
 * as many days as it lost. */
static int add_compensatory_days(struct list *l, const struct holiday_rules *r) {
        size_t n = l->n;
        int k;

        if (n > 0)
                qsort(l->v, n, sizeof *l->v, cmp_holiday);
        for (size_t i = 0; i < n; i++) {
                const struct holiday h = l->v[i];
                int32_t day = h.day;

                if (h.removed || (r->workdays & (1u << weekday_from_days(h.day))))
                        continue;
                /* A week without a working day has no next working day. */
                if (!(r->workdays & 0x7f))
                        break;
                do
                        day++;
                while (!(r->workdays & (1u << weekday_from_days(day))) || list_find(l, day));
                k = list_add(l, &(struct holiday) {
                        .day = day,
                        .kind = HOLIDAY_COMPENSATORY,
                        .for_day = h.day,
                        .for_kind = h.kind,
                        .for_part = h.part,
                });
                if (k < 0)
                        return k;
        }
        return 0;
}

int holiday_year(const struct holiday_rules *r, int year, struct holiday **ret, size_t *ret_n) {
        struct list l = {};
        int k;

        if (r->calendar == HOLIDAY_CALENDAR_VN) {
                k = add_law_holidays(&l, year);
                if (k < 0)
                        goto fail;
                for (size_t i = 0; i < l.n; i++)
                        l.v[i].removed = removed(r, year, l.v[i].day);
                k = add_compensatory_days(&l, r);
                if (k < 0)
                        goto fail;
                for (size_t i = 0; i < l.n; i++)
                        if (l.v[i].kind == HOLIDAY_COMPENSATORY)
                                l.v[i].removed = removed(r, year, l.v[i].day);
        }
        for (size_t i = 0; i < r->n_add; i++) {
                int32_t day;
                if (!holiday_date_in_year(&r->add[i], year, &day))
                        continue;
                struct holiday *o = list_find(&l, day);
                if (o) {
                        /* Listed although computed: a holiday all the same. */
                        o->removed = false;
                        continue;
                }
                k = list_add(&l, &(struct holiday) { .day = day, .kind = HOLIDAY_CONFIGURED,
                                                      .removed = removed(r, year, day) });
                if (k < 0)
                        goto fail;
        }
        if (l.n > 0)
                qsort(l.v, l.n, sizeof *l.v, cmp_holiday);
        *ret = l.v;
        *ret_n = l.n;
        return 0;
fail:
        free(l.v);
        return k;
}

static const char *const names_vi[_HOLIDAY_KIND_MAX] = {
        [HOLIDAY_NEW_YEAR] = "Tết Dương lịch",
        [HOLIDAY_TET] = "Tết Nguyên đán",
        [HOLIDAY_HUNG_KINGS] = "Giỗ Tổ Hùng Vương",
        [HOLIDAY_REUNIFICATION] = "Ngày Chiến thắng",
        [HOLIDAY_LABOUR] = "Ngày Quốc tế Lao động",
        [HOLIDAY_NATIONAL] = "Quốc khánh",
        [HOLIDAY_COMPENSATORY] = "Nghỉ bù",
        [HOLIDAY_CONFIGURED] = "Ngày nghỉ (schedule.holidays)",
};

static const char *const names_en[_HOLIDAY_KIND_MAX] = {
        [HOLIDAY_NEW_YEAR] = "New Year's Day",
        [HOLIDAY_TET] = "Lunar New Year",
        [HOLIDAY_HUNG_KINGS] = "Hung Kings' Commemoration",
        [HOLIDAY_REUNIFICATION] = "Reunification Day",
        [HOLIDAY_LABOUR] = "International Labour Day",
        [HOLIDAY_NATIONAL] = "National Day",
        [HOLIDAY_COMPENSATORY] = "Day off in lieu",
        [HOLIDAY_CONFIGURED] = "Holiday (schedule.holidays)",
};

/* `brief`: as a compensatory day names it, with its date beside. */
static void base_name(enum holiday_kind kind, int part, bool vi, bool brief, char *buf, size_t size) {
        const char *name = (vi ? names_vi : names_en)[kind];

        if (kind == HOLIDAY_HUNG_KINGS && !brief)
                snprintf(buf, size, "%s (%s)", name, vi ? "10/3 âm lịch" : "10/3 lunar");
        else if (kind == HOLIDAY_TET && part == 0)
                snprintf(buf, size, "%s (%s)", name, vi ? "ngày cuối năm" : "last day of the year");
        else if (kind == HOLIDAY_TET)
                snprintf(buf, size, "%s (%s %d)", name, vi ? "mùng" : "day", part);
        else if (kind == HOLIDAY_NATIONAL && part == 1)
                snprintf(buf, size, "%s (%s)", name, vi ? "ngày liền kề" : "adjacent day");
        else
                snprintf(buf, size, "%s", name);
}

void holiday_name(const struct holiday *h, bool vietnamese, char *buf, size_t size) {
        char of[128];
        int y, m, d;

        if (h->kind < 0 || h->kind >= _HOLIDAY_KIND_MAX) {
                snprintf(buf, size, "?");
                return;
        }
        if (h->kind != HOLIDAY_COMPENSATORY) {
                base_name(h->kind, h->part, vietnamese, false, buf, size);
                return;
        }
        base_name(h->for_kind, h->for_part, vietnamese, true, of, sizeof of);
        civil_from_days(h->for_day, &y, &m, &d);
        snprintf(buf, size, "%s %s%s (%d/%d)", (vietnamese ? names_vi : names_en)[h->kind], vietnamese ? "" : "for ",
                 of, d, m);
}
