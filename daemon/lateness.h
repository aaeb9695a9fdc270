/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* How late a task is, counted the way the office that follows directives
 * up counts it. Everything that tells a person how late a task is, or acts
 * on it, asks here: `deadlinectl list` and `show` (and their JSON), the
 * messages' "quá hạn N ngày", and the escalation ladder. Pure: no I/O; local
 * days use the process time zone (TZ), as timeutil does.
 *
 * Days overdue are whole calendar days after the deadline's day: a task
 * due on 30/4 is 1 day overdue all through 1/5 and 3 days overdue from the
 * first minute of 3/5, whatever the time of day of its deadline, the
 * weekends in between or a change of the clocks. On the deadline's own day
 * a task with a time of day is overdue once that time has passed, by hours
 * (0 days). Durations that are not whole days ("12h") count from the
 * deadline's instant. */

#include <stdbool.h>
#include <stdint.h>

#include "timeutil.h"

enum lateness_state {
        LATENESS_LEFT,     /* before the deadline: n units left */
        LATENESS_TODAY,    /* a date-only deadline, on its day */
        LATENESS_NOW,      /* a deadline with a time of day, within a minute of it */
        LATENESS_OVERDUE,  /* past the deadline: n units */
};

enum lateness_unit {
        LATENESS_MINUTES,
        LATENESS_HOURS,
        LATENESS_DAYS,
};

struct lateness {
        enum lateness_state state;
        enum lateness_unit unit;
        int64_t n;              /* how many units left or overdue */
        int64_t days_overdue;   /* whole calendar days after the deadline's day; 0 unless overdue */
        int64_t seconds_left;   /* the deadline's instant − now: negative once it has passed */
};

/* Where `now` stands against a deadline that ends at the instant `due_at`
 * on the local day `due_day` (a date-only deadline: at the day's last
 * second, and `date_only` set). The unit is what a person is told: before
 * the deadline, calendar days from a day away (a date-only deadline: always
 * days, "today" on its day), hours under a day, minutes under an hour;
 * after it, calendar days once its day is over, and hours or minutes
 * since its instant on its own day. */
void lateness_at(int64_t due_at, int32_t due_day, bool date_only, int64_t now, struct lateness *ret);
/* The same for a deadline as people write it (its instant: due_instant()). */
void lateness_of(const struct due *due, int64_t now, struct lateness *ret);

/* Whole calendar days after the deadline's day, 0 until the deadline has
 * passed. */
int64_t lateness_days_overdue(int64_t due_at, int32_t due_day, int64_t now);

/* Whether a task is at least `after` late at `now`: for a whole number of
 * days, the deadline has passed and that many calendar days have begun
 * since its day ("3d": from the start of the third day after it); for any
 * other duration, `after` seconds have gone since the deadline's instant
 * (and at least one second, for 0). */
bool lateness_reached(int64_t due_at, int32_t due_day, int64_t now, int64_t after);

/* "3 days overdue", "5 hours left", "due today", "due now": the short
 * English form deadlinectl prints. */
#define LATENESS_TEXT_MAX 48
void lateness_format(const struct lateness *l, char buf[static LATENESS_TEXT_MAX]);
