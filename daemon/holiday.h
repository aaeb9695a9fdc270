/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Public holidays: a year's days off under a calendar, with the changes the
 * configuration makes. Pure: no I/O, no clock.
 *
 * Calendar "vn" is the Labour Code 2019 (Bộ luật Lao động 45/2019/QH14),
 * Article 112, for every year:
 *   1/1 (Tết Dương lịch); Tết Nguyên đán, five days: the last day of the
 *   lunar year and the first four of the new one; Giỗ Tổ Hùng Vương (10/3
 *   lunar); 30/4; 1/5; Quốc khánh 2/9 and the day before it (1/9).
 * and Article 111: a holiday on a weekly rest day (a weekday not in
 * `workdays`) gives a compensatory day off (nghỉ bù) on the next working
 * day that is not a holiday or another compensatory day. Before 2021 the
 * law gave 2/9 alone, before 2007 no Giỗ Tổ; those years are not
 * distinguished.
 *
 * What the government announces for a year (another Tết block, the day
 * beside 2/9, swapped days) is written in the configuration: `add` gives
 * more days off, `remove` takes computed ones away (a removed holiday gives
 * no compensatory day). Days worked although they are rest days
 * (extra_workdays) are the schedule's business, not this module's. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum holiday_calendar {
        HOLIDAY_CALENDAR_NONE,  /* only the configured days */
        HOLIDAY_CALENDAR_VN,
        _HOLIDAY_CALENDAR_MAX,
};

enum holiday_kind {
        HOLIDAY_NEW_YEAR,
        HOLIDAY_TET,
        HOLIDAY_HUNG_KINGS,
        HOLIDAY_REUNIFICATION,  /* 30/4 */
        HOLIDAY_LABOUR,         /* 1/5 */
        HOLIDAY_NATIONAL,       /* 2/9 and the day beside it */
        HOLIDAY_COMPENSATORY,
        HOLIDAY_CONFIGURED,     /* listed in the configuration's holidays */
        _HOLIDAY_KIND_MAX,
};

/* A date as the configuration writes it: "2026-02-21", or "*-04-30" for
 * every year (year 0). 29 February every year means leap years only. */
struct holiday_date {
        int year;
        int month;
        int day;
};

struct holiday_rules {
        enum holiday_calendar calendar;
        unsigned workdays;                   /* bit (1 << tm_wday), as struct policy */
        const struct holiday_date *add;
        size_t n_add;
        const struct holiday_date *remove;
        size_t n_remove;
};

struct holiday {
        int32_t day;                         /* days since 1970-01-01 */
        enum holiday_kind kind;
        int part;                            /* TET: 0 the last day of the old year, 1–4 its first days;
                                              * NATIONAL: 0 for 2/9, 1 for the day beside it */
        int32_t for_day;                     /* COMPENSATORY: the holiday it makes up for */
        enum holiday_kind for_kind;
        int for_part;
        bool removed;                        /* in `remove`: worked after all */
};

/* At most this many entries a year beyond the configured ones. */
#define HOLIDAY_COMPUTED_MAX 32

const char *holiday_calendar_to_string(enum holiday_calendar c);
int holiday_calendar_from_string(const char *s);
/* "new-year", "tet", "hung-kings", "reunification", "labour-day",
 * "national-day", "compensatory", "configured". */
const char *holiday_kind_to_string(enum holiday_kind k);

/* Parses "YYYY-MM-DD" or "*-MM-DD" (a day some year has). 0 or -EINVAL. */
int holiday_date_parse(const char *s, struct holiday_date *ret);
/* Whether the date falls in `year`, and on which day. */
bool holiday_date_in_year(const struct holiday_date *d, int year, int32_t *ret_day);

/* The year's days off, sorted by day (a removed day is listed, marked), in
 * a malloc'd array. 0, -ENOMEM, or -ERANGE for a year the lunar calendar
 * does not cover. */
int holiday_year(const struct holiday_rules *r, int year, struct holiday **ret, size_t *ret_n);

/* A holiday's name, in Vietnamese or English: "Tết Nguyên đán (mùng 1)",
 * "Nghỉ bù Giỗ Tổ Hùng Vương (26/4)". */
void holiday_name(const struct holiday *h, bool vietnamese, char *buf, size_t size);
