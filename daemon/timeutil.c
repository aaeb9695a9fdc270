/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "timeutil.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>
#include <threads.h>
#include <sys/stat.h>
#include <time.h>

#include "macro.h"

/* Howard Hinnant's days_from_civil/civil_from_days: exact for the whole
 * proleptic Gregorian calendar, no tables, no time zone. */
int32_t days_from_civil(int y, int m, int d) {
        y -= m <= 2;
        const int era = (y >= 0 ? y : y - 399) / 400;
        const unsigned yoe = (unsigned) (y - era * 400);
        const unsigned doy = (153u * (unsigned) (m + (m > 2 ? -3 : 9)) + 2) / 5 + (unsigned) d - 1;
        const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + (int32_t) doe - 719468;
}

void civil_from_days(int32_t z, int *ret_y, int *ret_m, int *ret_d) {
        z += 719468;
        const int32_t era = (z >= 0 ? z : z - 146096) / 146097;
        const unsigned doe = (unsigned) (z - era * 146097);
        const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        const unsigned mp = (5 * doy + 2) / 153;
        const unsigned d = doy - (153 * mp + 2) / 5 + 1;
        const unsigned m = mp < 10 ? mp + 3 : mp - 9;
        *ret_y = (int) yoe + era * 400 + (m <= 2);
        *ret_m = (int) m;
        *ret_d = (int) d;
}

int weekday_from_days(int32_t days) {
        /* 1970-01-01 was a Thursday (4). */
        int w = (int) ((days % 7 + 7 + 4) % 7);
        return w;
}

int days_in_month(int y, int m) {
        static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
        if (m < 1 || m > 12)
                return 0;
        if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
                return 29;
        return dim[m - 1];
}

bool civil_valid(int y, int m, int d) {
        return y >= YEAR_MIN && y <= YEAR_MAX && m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

/* Reads an unsigned decimal of at most `maxdigits` digits, at least one. */
static int parse_uint(const char **p, int maxdigits, int64_t *ret) {
        int64_t v = 0;
        int n = 0;

        while (isdigit((unsigned char) **p)) {
                if (++n > maxdigits)
                        return -ERANGE;
                v = v * 10 + (**p - '0');
                (*p)++;
        }
        if (n == 0)
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_duration(const char *s, int64_t *ret) {
        const char *p = s;
        int64_t v, unit;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_uint(&p, 9, &v);
        if (r < 0)
                return r;
        switch (*p) {
        case 's': unit = 1; break;
        case 'm': unit = SEC_PER_MIN; break;
        case 'h': unit = SEC_PER_HOUR; break;
        case 'd': unit = SEC_PER_DAY; break;
        case 'w': unit = SEC_PER_WEEK; break;
        default: return -EINVAL;
        }
        if (p[1] != 0)
                return -EINVAL;
        /* Ten years is more than any reminder policy means. */
        if (v * unit > 3660 * SEC_PER_DAY)
                return -ERANGE;
        *ret = v * unit;
        return 0;
}

int parse_offset(const char *s, int64_t *ret) {
        const char *p = s;
        int64_t v;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_uint(&p, 9, &v);
        if (r < 0 || strcmp(p, "wd") != 0)
                return parse_duration(s, ret);
        if (v == 0)
                return -EDOM;
        if (v > WORKDAYS_MAX)
                return -ERANGE;
        *ret = duration_from_workdays(v);
        return 0;
}

int64_t duration_approx_seconds(int64_t d) {
        return duration_is_workdays(d) ? duration_workdays(d) * SEC_PER_DAY * 7 / 5 : d;
}

void format_duration(int64_t secs, char *buf, size_t size) {
        static const struct {
                int64_t unit;
                char c;
        } units[] = { { SEC_PER_WEEK, 'w' }, { SEC_PER_DAY, 'd' }, { SEC_PER_HOUR, 'h' }, { SEC_PER_MIN, 'm' } };

        if (duration_is_workdays(secs)) {
                snprintf(buf, size, "%" PRId64 "wd", duration_workdays(secs));
                return;
        }
        /* Prefer days over weeks: people write "14d", not "2w". */
        for (size_t i = 1; i < ELEMENTSOF(units); i++)
                if (secs != 0 && secs % units[i].unit == 0) {
                        snprintf(buf, size, "%" PRId64 "%c", secs / units[i].unit, units[i].c);
                        return;
                }
        if (secs == 0) {
                snprintf(buf, size, "0d");
                return;
        }
        snprintf(buf, size, "%" PRId64 "s", secs);
}

int parse_hhmm(const char *s, int *ret_minutes) {
        const char *p = s;
        int64_t h, m;

        if (!s || parse_uint(&p, 2, &h) < 0 || *p++ != ':')
                return -EINVAL;
        if (!isdigit((unsigned char) p[0]) || !isdigit((unsigned char) p[1]) || p[2] != 0)
                return -EINVAL;
        if (parse_uint(&p, 2, &m) < 0)
                return -EINVAL;
        if (h > 23 || m > 59)
                return -ERANGE;
        *ret_minutes = (int) (h * 60 + m);
        return 0;
}

/* "YYYY-MM-DD" at *p, advancing it. */
static int parse_iso_date_prefix(const char **p, int32_t *ret_day) {
        const char *q = *p;
        int64_t y, m, d;

        if (parse_uint(&q, 4, &y) < 0 || q - *p != 4 || *q++ != '-')
                return -EINVAL;
        const char *mstart = q;
        if (parse_uint(&q, 2, &m) < 0 || q - mstart != 2 || *q++ != '-')
                return -EINVAL;
        const char *dstart = q;
        if (parse_uint(&q, 2, &d) < 0 || q - dstart != 2)
                return -EINVAL;
        if (!civil_valid((int) y, (int) m, (int) d))
                return -ERANGE;
        *ret_day = days_from_civil((int) y, (int) m, (int) d);
        *p = q;
        return 0;
}

int parse_iso_date(const char *s, int32_t *ret_day) {
        const char *p = s;
        int32_t day;
        int r;

        if (!s)
                return -EINVAL;
        r = parse_iso_date_prefix(&p, &day);
        if (r < 0)
                return r;
        if (*p != 0)
                return -EINVAL;
        *ret_day = day;
        return 0;
}

void format_iso_date(int32_t day, char buf[static 11]) {
        int y, m, d;
        civil_from_days(day, &y, &m, &d);
        snprintf(buf, 11, "%04u-%02u-%02u", (unsigned) y % 10000u, (unsigned) m % 100u, (unsigned) d % 100u);
}

int parse_weekday(const char *s) {
        static const char *const names[] = { "sunday", "monday", "tuesday", "wednesday",
                                             "thursday", "friday", "saturday" };
        size_t len;

        if (!s)
                return -EINVAL;
        len = strlen(s);
        for (int i = 0; i < 7; i++)
                if ((len == 3 || len == strlen(names[i])) && strncasecmp(s, names[i], len) == 0)
                        return i;
        return -EINVAL;
}

/* "HH:MM" after a date, separated by 'T' or one space. */
static int parse_time_suffix(const char *p, int *ret_minute) {
        if (*p == 0) {
                *ret_minute = -1;
                return 0;
        }
        if (*p != 'T' && *p != ' ')
                return -EINVAL;
        return parse_hhmm(p + 1, ret_minute);
}

int parse_due(const char *s, int64_t now, struct due *ret) {
        const char *p = s;
        int32_t day;
        int minute, r;

        if (!s || !*s)
                return -EINVAL;

        if (*s == '+') {
                int64_t d;
                r = parse_duration(s + 1, &d);
                if (r < 0)
                        return r;
                int64_t t = now + d, sec;
                instant_to_local(t, &day, &sec);
                *ret = (struct due) {
                        .day = day,
                        /* "+7d" means a date a week away; "+90m" means a moment. */
                        .minute = duration_is_days(d) ? -1 : (int) (sec / 60),
                };
                return 0;
        }

        if (isdigit((unsigned char) s[0]) && isdigit((unsigned char) s[1]) &&
            isdigit((unsigned char) s[2]) && isdigit((unsigned char) s[3]) && s[4] == '-') {
                r = parse_iso_date_prefix(&p, &day);
                if (r < 0)
                        return r;
        } else {
                /* The Vietnamese order: day/month/year, "30/4/2025". */
                int64_t d, m, y;
                if (parse_uint(&p, 2, &d) < 0 || *p++ != '/' ||
                    parse_uint(&p, 2, &m) < 0 || *p++ != '/' ||
                    parse_uint(&p, 4, &y) < 0)
                        return -EINVAL;
                if (!civil_valid((int) y, (int) m, (int) d))
                        return -ERANGE;
                day = days_from_civil((int) y, (int) m, (int) d);
        }
        r = parse_time_suffix(p, &minute);
        if (r < 0)
                return r;
        *ret = (struct due) { .day = day, .minute = minute };
        return 0;
}

void format_due(const struct due *d, char buf[static 17]) {
        format_iso_date(d->day, buf);
        if (d->minute >= 0)
                snprintf(buf + 10, 7, "T%02u:%02u", (unsigned) d->minute / 60 % 100u, (unsigned) d->minute % 60);
}

int64_t due_instant(const struct due *d) {
        if (d->minute < 0)
                return local_to_instant(d->day, SEC_PER_DAY - 1);
        return local_to_instant(d->day, (int64_t) d->minute * 60);
}

void format_due_vn(const struct due *d, char buf[static 24]) {
        int y, m, dd;
        civil_from_days(d->day, &y, &m, &dd);
        if (d->minute >= 0)
                snprintf(buf, 24, "%d/%d/%d %02d:%02d", dd, m, y % 10000, d->minute / 60, d->minute % 60);
        else
                snprintf(buf, 24, "%d/%d/%d", dd, m, y % 10000);
}

static long gmtoff_at(int64_t t) {
        time_t tt = (time_t) t;
        struct tm tm;

        if (!localtime_r(&tt, &tm))
                return 0;
        return tm.tm_gmtoff;
}

/* local_to_instant() asks the zone four times (about 5,000 instructions),
 * and deciding asks it for the same few days and times over and over: the
 * tasks due at one wake-up share their deadlines' days, and every slot is
 * at send_at. So the last answers are kept, per thread, for as long as TZ
 * names the same zone (tzset() reads the zone again only when TZ changes;
 * the tests change it between cases without going through
 * timezone_set()). */
#define LOCAL_MEMO_SIZE 256
struct local_answer {
        int64_t sec_of_day, instant;
        int32_t day;
        bool set;
};
struct local_memo {
        /* TZ as it was, and whether it was set at all: unset is the
         * system's zone, "" is UTC. Zeroed, the memo is an empty one for
         * an unset TZ. */
        char tz[64];
        bool tz_set;
        struct local_answer e[LOCAL_MEMO_SIZE];
};
static thread_local struct local_memo local_memo;

static int64_t local_to_instant_uncached(int32_t day, int64_t sec_of_day) {
        /* The wall-clock time as if it were UTC; the instant is that minus
         * the offset in force at the instant. Offsets change at most once in
         * two days, so the offsets a day before and a day after are the only
         * candidates. A time repeated by a fold reads back under both: take
         * the first occurrence. A time in a gap reads back under neither:
         * RFC 5545 reads it with the offset from before the gap. */
        int64_t naive = (int64_t) day * SEC_PER_DAY + sec_of_day;
        long before = gmtoff_at(naive - SEC_PER_DAY), after = gmtoff_at(naive + SEC_PER_DAY);
        int64_t best = INT64_MAX;

        if (gmtoff_at(naive - before) == before)
                best = naive - before;
        if (gmtoff_at(naive - after) == after && naive - after < best)
                best = naive - after;
        if (best == INT64_MAX)
                best = naive - before;
        return best;
}

int64_t local_to_instant(int32_t day, int64_t sec_of_day) {
        struct local_memo *m = &local_memo;
        const char *tz = getenv("TZ");

        if (m->tz_set != !!tz || !streq(m->tz, strempty(tz))) {
                if (tz && strlen(tz) >= sizeof m->tz)
                        return local_to_instant_uncached(day, sec_of_day);
                memset(m, 0, sizeof *m);
                strcpy(m->tz, strempty(tz));
                m->tz_set = tz;
        }
        uint32_t h = ((uint32_t) day * 2654435761u) ^ (uint32_t) ((uint64_t) sec_of_day * 40503u);
        struct local_answer *e = &m->e[(h >> 8) % LOCAL_MEMO_SIZE];
        if (e->set && e->day == day && e->sec_of_day == sec_of_day)
                return e->instant;
        e->instant = local_to_instant_uncached(day, sec_of_day);
        e->day = day;
        e->sec_of_day = sec_of_day;
        e->set = true;
        return e->instant;
}

void instant_to_local(int64_t t, int32_t *ret_day, int64_t *ret_sec_of_day) {
        time_t tt = (time_t) t;
        struct tm tm;

        if (!localtime_r(&tt, &tm)) {
                /* Out of the range struct tm can hold: read it as UTC. */
                *ret_day = (int32_t) (t / SEC_PER_DAY - (t % SEC_PER_DAY < 0));
                *ret_sec_of_day = t - (int64_t) *ret_day * SEC_PER_DAY;
                return;
        }
        *ret_day = days_from_civil(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        *ret_sec_of_day = tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
}

void format_local(int64_t t, char buf[static 20]) {
        time_t tt = (time_t) t;
        struct tm tm;

        localtime_r(&tt, &tm);
        strftime(buf, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

void format_rfc3339(int64_t t, char buf[static 26]) {
        time_t tt = (time_t) t;
        struct tm tm;
        long off;

        localtime_r(&tt, &tm);
        off = labs(tm.tm_gmtoff / 60) % (24 * 60);
        strftime(buf, 20, "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf + 19, 7, "%c%02u:%02u", tm.tm_gmtoff < 0 ? '-' : '+', (unsigned) (off / 60), (unsigned) (off % 60));
}

int parse_instant(const char *s, int64_t *ret) {
        const char *p = s;
        int32_t day;
        int64_t sec = 0, v;
        int r;

        if (!s)
                return -EINVAL;
        if (*s == '@') {
                p++;
                r = parse_uint(&p, 12, &v);
                if (r < 0 || *p)
                        return -EINVAL;
                *ret = v;
                return 0;
        }
        r = parse_iso_date_prefix(&p, &day);
        if (r < 0)
                return r;
        if (*p == 'T' || *p == ' ') {
                int64_t h, m, ss = 0;
                p++;
                if (parse_uint(&p, 2, &h) < 0 || *p++ != ':' || parse_uint(&p, 2, &m) < 0)
                        return -EINVAL;
                if (*p == ':') {
                        p++;
                        if (parse_uint(&p, 2, &ss) < 0)
                                return -EINVAL;
                }
                if (h > 23 || m > 59 || ss > 60)
                        return -ERANGE;
                sec = h * 3600 + m * 60 + ss;
        }
        if (*p == 0) {
                *ret = local_to_instant(day, sec);
                return 0;
        }
        int64_t off;
        if (*p == 'Z' && p[1] == 0)
                off = 0;
        else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
                int64_t oh, om;
                const char *q = p + 1;
                if (parse_uint(&q, 2, &oh) < 0 || *q++ != ':' || parse_uint(&q, 2, &om) < 0 || *q)
                        return -EINVAL;
                off = (oh * 3600 + om * 60) * (*p == '-' ? -1 : 1);
        } else
                return -EINVAL;
        *ret = (int64_t) day * SEC_PER_DAY + sec - off;
        return 0;
}

bool timezone_exists(const char *name) {
        const char *dir = getenv("TZDIR");
        char path[PATH_MAX];
        struct stat st;

        if (!name || !*name || name[0] == '/' || strstr(name, "..") || strlen(name) > 255)
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char) *p) && !strchr("/_+-", *p))
                        return false;
        if (streq(name, "UTC"))
                return true;
        snprintf(path, sizeof path, "%s/%s", dir && *dir ? dir : "/usr/share/zoneinfo", name);
        return stat(path, &st) >= 0 && S_ISREG(st.st_mode);
}

int timezone_set(const char *name) {
        if (!timezone_exists(name))
                return -ENOENT;
        if (setenv("TZ", name, 1) < 0)
                return -errno;
        tzset();
        return 0;
}
