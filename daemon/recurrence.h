/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Recurring deadlines ("định kỳ hằng tháng, trước ngày 25"). The stored
 * form is "monthly:25"; a day past a month's end means its last day. */

#include <stdbool.h>
#include <stdint.h>

#include "timeutil.h"

struct recurrence {
        int day_of_month; /* 1..31 */
};

int recurrence_parse(const char *s, struct recurrence *ret);
/* The first deadline day strictly after `after` (days since the epoch). */
int32_t recurrence_next(const struct recurrence *r, int32_t after);
/* The first deadline of a recurring task that has none yet: its next
 * occurrence on or after the local day of `now` (date only). */
struct due recurrence_first(const struct recurrence *r, int64_t now);
