/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "lateness.h"

static int32_t local_day(int64_t t) {
        int32_t day;
        int64_t sec;

        instant_to_local(t, &day, &sec);
        return day;
}

int64_t lateness_days_overdue(int64_t due_at, int32_t due_day, int64_t now) {
        /* Days on the calendar, not 86,400-second spans: a day of 23 or 25
         * hours at a change of the clocks is one day all the same. */
        if (now <= due_at)
                return 0;
        return (int64_t) local_day(now) - due_day;
}

void lateness_at(int64_t due_at, int32_t due_day, bool date_only, int64_t now, struct lateness *ret) {
        int64_t s = due_at - now, a = s < 0 ? -s : s;
        int64_t days = (int64_t) due_day - local_day(now);

        *ret = (struct lateness) {
                .unit = LATENESS_DAYS,
                .seconds_left = s,
                .days_overdue = lateness_days_overdue(due_at, due_day, now),
        };

        if (s < 0 && days < 0) {
                /* Past the deadline's day: the office counts days. */
                ret->state = LATENESS_OVERDUE;
                ret->n = -days;
                return;
        }
        if (date_only && s >= 0) {
                ret->state = days == 0 ? LATENESS_TODAY : LATENESS_LEFT;
                ret->n = days;
                return;
        }
        if (a < SEC_PER_MIN) {
                ret->state = LATENESS_NOW;
                return;
        }
        ret->state = s >= 0 ? LATENESS_LEFT : LATENESS_OVERDUE;
        if (a < SEC_PER_HOUR) {
                ret->unit = LATENESS_MINUTES;
                ret->n = a / SEC_PER_MIN;
        } else if (a < SEC_PER_DAY || days == 0) {
                ret->unit = LATENESS_HOURS;
                ret->n = a / SEC_PER_HOUR;
        } else
                /* A day or more left: calendar days, as for dates. */
                ret->n = days;
}

void lateness_of(const struct due *due, int64_t now, struct lateness *ret) {
        lateness_at(due_instant(due), due->day, due->minute < 0, now, ret);
}

bool lateness_reached(int64_t due_at, int32_t due_day, int64_t now, int64_t after) {
        if (now <= due_at)
                return false;
        if (after > 0 && duration_is_days(after))
                return lateness_days_overdue(due_at, due_day, now) >= after / SEC_PER_DAY;
        return after <= 0 || now - due_at >= after;
}

void lateness_format(const struct lateness *l, char buf[static LATENESS_TEXT_MAX]) {
        static const char *const units[][2] = {
                [LATENESS_MINUTES] = { "minute", "minutes" },
                [LATENESS_HOURS] = { "hour", "hours" },
                [LATENESS_DAYS] = { "day", "days" },
        };
        const char *unit = units[l->unit][l->n != 1];

        switch (l->state) {
        case LATENESS_TODAY:
                snprintf(buf, LATENESS_TEXT_MAX, "due today");
                return;
        case LATENESS_NOW:
                snprintf(buf, LATENESS_TEXT_MAX, "due now");
                return;
        case LATENESS_LEFT:
                snprintf(buf, LATENESS_TEXT_MAX, "%lld %s left", (long long) l->n, unit);
                return;
        case LATENESS_OVERDUE:
                snprintf(buf, LATENESS_TEXT_MAX, "%lld %s overdue", (long long) l->n, unit);
                return;
        }
        buf[0] = 0;
}
