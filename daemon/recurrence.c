/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "recurrence.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "macro.h"
#include "timeutil.h"

int recurrence_parse(const char *s, struct recurrence *ret) {
        unsigned d;
        int n = 0;

        if (!s || sscanf(s, "monthly:%2u%n", &d, &n) != 1 || s[n] != 0 || strncmp(s, "monthly:", 8) != 0 ||
            s[8] < '0' || s[8] > '9')
                return -EINVAL;
        if (d < 1 || d > 31)
                return -ERANGE;
        ret->day_of_month = (int) d;
        return 0;
}

int32_t recurrence_next(const struct recurrence *r, int32_t after) {
        int y, m, d;

        civil_from_days(after, &y, &m, &d);
        for (int i = 0; i < 2; i++) {
                int dd = MIN(r->day_of_month, days_in_month(y, m));
                int32_t candidate = days_from_civil(y, m, dd);
                if (candidate > after)
                        return candidate;
                if (++m > 12) {
                        m = 1;
                        y++;
                }
        }
        /* Unreachable: the next month always has a later day. */
        return after + 28;
}

struct due recurrence_first(const struct recurrence *r, int64_t now) {
        int32_t today;
        int64_t sec;

        instant_to_local(now, &today, &sec);
        return (struct due) { .day = recurrence_next(r, today - 1), .minute = -1 };
}
