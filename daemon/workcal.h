/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A working calendar: each year's days off and extra working days as the
 * configuration makes them (holiday.h's rules, then extra_workdays),
 * computed the first time a year is asked for and kept. Loading a
 * configuration then costs nothing for the thousand years the schedule
 * can reach; a process pays for the few years it looks at. Pure: no I/O,
 * no clock; the cache is the only state, and it never changes an answer.
 *
 * Not thread-safe: one thread asks (the schedule runs on the loop). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "holiday.h"
#include "macro.h"

struct workcal;

/* One year's exceptions to the weekly pattern, days since the epoch. */
struct workcal_year {
        const int32_t *holidays;       /* days off, sorted, each once (removed ones left out) */
        size_t n_holidays;
        const int32_t *extra_workdays; /* sorted, each once */
        size_t n_extra_workdays;
        int64_t delta;                 /* what the exceptions change in the year's count of working
                                        * days: − holidays on a worked weekday that are not extra
                                        * working days, + extra working days on a rest day */
};

/* `rules` and `extra` are referenced, not copied: they must outlive the
 * calendar (both belong to the configuration). */
int workcal_new(const struct holiday_rules *rules, const struct holiday_date *extra, size_t n_extra,
                struct workcal **ret);
struct workcal *workcal_free(struct workcal *w);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct workcal *, workcal_free);

/* The year's exceptions; a year outside YEAR_MIN–YEAR_MAX has none. A
 * year's days take a few hundred bytes; if even that cannot be had the
 * process aborts rather than schedule on a calendar with holidays missing. */
const struct workcal_year *workcal_year(struct workcal *w, int year);

/* Whether `day` is in the sorted days `a` (a year's holidays or extra
 * working days). */
bool workcal_days_contain(const int32_t *a, size_t n, int32_t day);

/* How many years have been computed (for tests and measurements). */
size_t workcal_years_computed(const struct workcal *w);
