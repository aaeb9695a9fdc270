/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Pure date and time helpers. Instants are int64_t seconds since the epoch
 * (UTC). Civil dates are int32_t days since 1970-01-01 (proleptic
 * Gregorian), which makes "the previous working day" plain arithmetic.
 *
 * Conversions between local time and instants use the process time zone
 * (TZ), which config_apply_timezone() sets once from the configuration;
 * deadlines are local dates in that one zone. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SEC_PER_MIN  INT64_C(60)
#define SEC_PER_HOUR INT64_C(3600)
#define SEC_PER_DAY  INT64_C(86400)
#define SEC_PER_WEEK INT64_C(604800)

/* The span of dates we accept anywhere: a typo like year 20255 is an error,
 * not a deadline eighteen millennia away. */
#define YEAR_MIN 1970
#define YEAR_MAX 2999

/* A deadline as people write it: a local date, optionally with a time of
 * day. A date-only deadline ends at 23:59:59 local time. */
struct due {
        int32_t day;    /* days since 1970-01-01 */
        int minute;     /* minutes after local midnight, or -1 for date only */
};

int32_t days_from_civil(int y, int m, int d);
void civil_from_days(int32_t days, int *ret_y, int *ret_m, int *ret_d);
int weekday_from_days(int32_t days); /* 0 = Sunday, as struct tm's tm_wday */
bool civil_valid(int y, int m, int d);
int days_in_month(int y, int m);

/* "90s", "15m", "12h", "7d", "2w" (one number, one unit; "0d" is valid).
 * Returns 0 or -EINVAL / -ERANGE. */
int parse_duration(const char *s, int64_t *ret);
/* A reminder offset or escalation delay may be given in working days
 * ("5wd", 1 to WORKDAYS_MAX), counted on the configured calendar. It shares
 * the int64_t of a duration in seconds, marked by a bit no duration
 * parse_duration() reads can have, so that policies, keys and fingerprints
 * carry it unchanged. */
#define DURATION_WORKDAYS_FLAG ((int64_t) 1 << 62)
#define WORKDAYS_MAX 366
static inline bool duration_is_workdays(int64_t d) {
        return d >= DURATION_WORKDAYS_FLAG;
}
static inline int64_t duration_workdays(int64_t d) {
        return d - DURATION_WORKDAYS_FLAG;
}
static inline int64_t duration_from_workdays(int64_t n) {
        return DURATION_WORKDAYS_FLAG + n;
}
/* What parse_duration() reads, or "Nwd". "0wd" is -EDOM (no working day
 * comes zero working days before a deadline: "0d" is the day itself),
 * more than WORKDAYS_MAX -ERANGE. */
int parse_offset(const char *s, int64_t *ret);
/* Roughly how many seconds an offset spans, for ordering: a working day
 * counts 7/5 of a day. */
int64_t duration_approx_seconds(int64_t d);

/* Whether a duration is a whole number of days: such offsets are sent at
 * send_at on that day rather than at deadline − offset exactly. */
static inline bool duration_is_days(int64_t d) {
        return !duration_is_workdays(d) && d % SEC_PER_DAY == 0;
}
/* Shortest exact spelling that parse_offset() reads back ("7d", "90s", "5wd"). */
void format_duration(int64_t secs, char *buf, size_t size);

/* "HH:MM", 00:00–23:59, into minutes after midnight. */
int parse_hhmm(const char *s, int *ret_minutes);

/* ISO "YYYY-MM-DD" only (config holidays, imports). */
int parse_iso_date(const char *s, int32_t *ret_day);
void format_iso_date(int32_t day, char buf[static 11]);

/* Weekday names "mon".."sun" (also full English names), into 0..6 with
 * Sunday = 0. */
int parse_weekday(const char *s);

/* A deadline given on the command line: "2025-04-30", "30/4/2025",
 * "2025-04-30T17:00", "2025-04-30 17:00", or "+7d" (a duration from now,
 * which keeps the time of day only when the duration is not whole days).
 * `now` is needed for the relative form only. */
int parse_due(const char *s, int64_t now, struct due *ret);
/* "2025-04-30" or "2025-04-30T17:00": the form stored in the database. */
void format_due(const struct due *d, char buf[static 17]);
/* The instant a deadline ends, in the process time zone. */
int64_t due_instant(const struct due *d);
/* Local "30/4/2025" or "30/4/2025 17:00", as Vietnamese offices write it. */
void format_due_vn(const struct due *d, char buf[static 24]);

/* Local time <-> instant, in the process time zone. local_to_instant()
 * resolves a time in a DST gap with the offset from before the gap and a
 * repeated time to its first occurrence. */
int64_t local_to_instant(int32_t day, int64_t sec_of_day);
void instant_to_local(int64_t t, int32_t *ret_day, int64_t *ret_sec_of_day);

/* An instant as local "2025-04-28 08:00:00", for people and logs. */
void format_local(int64_t t, char buf[static 20]);
/* An instant as "2025-04-28T08:00:00+07:00". */
void format_rfc3339(int64_t t, char buf[static 26]);
/* Parses "2025-04-28T08:00", "2025-04-28 08:00:00" or "2025-04-28" as local
 * time, or a trailing "Z"/"+07:00" offset, or "@1714280000". */
int parse_instant(const char *s, int64_t *ret);

/* The process time zone must exist (a file under TZDIR or
 * /usr/share/zoneinfo); a name with ".." or a leading "/" is refused. */
bool timezone_exists(const char *name);
int timezone_set(const char *name);
