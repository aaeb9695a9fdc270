/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The Vietnamese lunisolar calendar (âm lịch), computed: solar dates <->
 * lunar dates, leap months included. Pure: no I/O, no tables, no clock.
 *
 * The rules are the Chinese calendar's, applied on a given meridian:
 *  1. a month begins on the local day of a new moon;
 *  2. the winter solstice falls in month 11;
 *  3. when 13 new moons begin between one month 11 and the next, the first
 *     month after month 11 that holds no major solar term (the sun's
 *     longitude reaching a multiple of 30°) is a leap month, numbered as
 *     the month before it;
 *  4. the year of months 1–10 is the solar year Tết falls in.
 * Vietnam has computed its calendar for UTC+7 since 1968 (the whole country
 * since 1976); China uses UTC+8. The hour between them moves a new moon or
 * a solstice across midnight now and then, so the two calendars part in
 * some years: Tết 1985 was 21 January in Vietnam, 20 February in China.
 *
 * New moons follow Meeus, Astronomical Algorithms (2nd ed.), chapter 49,
 * the sun's longitude chapter 25 (low accuracy, about 0.01°), ΔT the
 * Espenak–Meeus polynomials. That is exact to the day except for a new moon
 * or a term within minutes of local midnight, which no year of the modern
 * era has near a month that matters here (see tests/unit/test-lunar.c). */

#include <stdbool.h>
#include <stdint.h>

/* The meridian of the calendar, as minutes east of UTC. */
#define LUNAR_OFFSET_VN (7 * 60)
#define LUNAR_OFFSET_CN (8 * 60)

/* The lunar years computed. Dates outside are -ERANGE. */
#define LUNAR_YEAR_MIN 1900
#define LUNAR_YEAR_MAX 3000

struct lunar_date {
        int year;       /* the solar year its Tết falls in */
        int month;      /* 1–12 */
        int day;        /* 1–30 */
        bool leap;      /* the leap month (tháng nhuận) after `month` */
};

/* The lunar date of a solar day (days since 1970-01-01). 0 or -ERANGE. */
int lunar_from_solar(int32_t day, int offset_min, struct lunar_date *ret);

/* The solar day of a lunar date: 0, -EINVAL when the date does not exist
 * (month outside 1–12, a leap month the year does not have, day 30 of a
 * 29-day month), or -ERANGE. */
int lunar_to_solar(const struct lunar_date *d, int offset_min, int32_t *ret_day);

/* The year's leap month (1–12), 0 when it has none, or -ERANGE. */
int lunar_leap_month(int year, int offset_min);

/* The days of a month: 29 or 30, -EINVAL for a leap month the year does
 * not have, or -ERANGE. */
int lunar_month_days(int year, int month, bool leap, int offset_min);
