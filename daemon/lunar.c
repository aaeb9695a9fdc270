/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <math.h>
#include <stddef.h>

#include "lunar.h"
#include "timeutil.h"

#define SYNODIC_MONTH 29.530588861
#define JD_UNIX_EPOCH 2440587.5        /* 1970-01-01 00:00 UTC */
#define JD_J2000 2451545.0
#define DEG (M_PI / 180.0)

/* ΔT = TT − UT in days, for the decimal year y (Espenak and Meeus, NASA
 * eclipse pages, 2006). A minute or so in this era; it only matters for a
 * new moon within a minute of midnight. */
static double delta_t(double y) {
        double t, u = (y - 1820) / 100, s;

        if (y < 1941)
                s = -20 + 32 * u * u;
        else if (y < 1961) {
                t = y - 1950;
                s = 29.07 + 0.407 * t - t * t / 233 + t * t * t / 2547;
        } else if (y < 1986) {
                t = y - 1975;
                s = 45.45 + 1.067 * t - t * t / 260 - t * t * t / 718;
        } else if (y < 2005) {
                t = y - 2000;
                s = 63.86 + 0.3345 * t - 0.060374 * t * t + 0.0017275 * t * t * t + 0.000651814 * pow(t, 4) +
                    0.00002373599 * pow(t, 5);
        } else if (y < 2050) {
                t = y - 2000;
                s = 62.92 + 0.32217 * t + 0.005589 * t * t;
        } else if (y < 2150)
                s = -20 + 32 * u * u - 0.5628 * (2150 - y);
        else
                s = -20 + 32 * u * u;
        return s / 86400;
}

static double jd_year(double jd) {
        return 2000 + (jd - JD_J2000) / 365.25;
}

/* The instant (JD, TT) of new moon number k, k = 0 being 2000-01-06:
 * Meeus chapter 49, the periodic terms and the planetary arguments. */
static double new_moon_jde(int k) {
        /* A2–A14: argument at k = 0, degrees per lunation, amplitude in days. */
        static const double planetary[13][3] = {
                { 251.88, 0.016321, 0.000165 },  { 251.83, 26.651886, 0.000164 },
                { 349.42, 36.412478, 0.000126 }, { 84.66, 18.206239, 0.000110 },
                { 141.74, 53.303771, 0.000062 }, { 207.14, 2.453732, 0.000060 },
                { 154.84, 7.306860, 0.000056 },  { 34.52, 27.261239, 0.000047 },
                { 207.19, 0.121824, 0.000042 },  { 291.34, 1.844379, 0.000040 },
                { 161.72, 24.198154, 0.000037 }, { 239.56, 25.513099, 0.000035 },
                { 331.55, 3.592518, 0.000023 },
        };
        double T = k / 1236.85, T2 = T * T, T3 = T2 * T, T4 = T3 * T;
        double jde = 2451550.09766 + SYNODIC_MONTH * k + 0.00015437 * T2 - 0.000000150 * T3 + 0.00000000073 * T4;
        double E = 1 - 0.002516 * T - 0.0000074 * T2;
        double M = (2.5534 + 29.10535670 * k - 0.0000014 * T2 - 0.00000011 * T3) * DEG;
        double Mp = (201.5643 + 385.81693528 * k + 0.0107582 * T2 + 0.00001238 * T3 - 0.000000058 * T4) * DEG;
        double F = (160.7108 + 390.67050284 * k - 0.0016118 * T2 - 0.00000227 * T3 + 0.000000011 * T4) * DEG;
        double Om = (124.7746 - 1.56375588 * k + 0.0020672 * T2 + 0.00000215 * T3) * DEG;
        double c;

        c = -0.40720 * sin(Mp) + 0.17241 * E * sin(M) + 0.01608 * sin(2 * Mp) + 0.01039 * sin(2 * F) +
            0.00739 * E * sin(Mp - M) - 0.00514 * E * sin(Mp + M) + 0.00208 * E * E * sin(2 * M) -
            0.00111 * sin(Mp - 2 * F) - 0.00057 * sin(Mp + 2 * F) + 0.00056 * E * sin(2 * Mp + M) -
            0.00042 * sin(3 * Mp) + 0.00042 * E * sin(M + 2 * F) + 0.00038 * E * sin(M - 2 * F) -
            0.00024 * E * sin(2 * Mp - M) - 0.00017 * sin(Om) - 0.00007 * sin(Mp + 2 * M) +
            0.00004 * sin(2 * Mp - 2 * F) + 0.00004 * sin(3 * M) + 0.00003 * sin(Mp + M - 2 * F) +
            0.00003 * sin(2 * Mp + 2 * F) - 0.00003 * sin(Mp + M + 2 * F) + 0.00003 * sin(Mp - M + 2 * F) -
            0.00002 * sin(Mp - M - 2 * F) - 0.00002 * sin(3 * Mp + M) + 0.00002 * sin(4 * Mp);
        c += 0.000325 * sin((299.77 + 0.107408 * k - 0.009173 * T2) * DEG);
        for (size_t i = 0; i < 13; i++)
                c += planetary[i][2] * sin((planetary[i][0] + planetary[i][1] * k) * DEG);
        return jde + c;
}

/* The local day (days since 1970-01-01) on which new moon k falls. */
static int32_t new_moon_day(int k, int offset_min) {
        double jde = new_moon_jde(k);
        double jd = jde - delta_t(jd_year(jde));
        return (int32_t) floor(jd - JD_UNIX_EPOCH + offset_min / 1440.0);
}

/* The sun's apparent longitude in degrees, [0, 360), at JD (TT):
 * Meeus chapter 25, low accuracy. */
static double sun_longitude(double jde) {
        double T = (jde - JD_J2000) / 36525;
        double L0 = 280.46646 + 36000.76983 * T + 0.0003032 * T * T;
        double M = (357.52911 + 35999.05029 * T - 0.0001537 * T * T) * DEG;
        double C = (1.914602 - 0.004817 * T - 0.000014 * T * T) * sin(M) + (0.019993 - 0.000101 * T) * sin(2 * M) +
                   0.000289 * sin(3 * M);
        double Om = (125.04 - 1934.136 * T) * DEG;
        double l = fmod(L0 + C - 0.00569 - 0.00478 * sin(Om), 360);
        return l < 0 ? l + 360 : l;
}

/* Which 30° sector the sun is in at the start of a local day: a month
 * [s, e) holds a major term exactly when the sector at s differs from the
 * sector at e. */
static int sun_sector(int32_t day, int offset_min) {
        double jd = JD_UNIX_EPOCH + day - offset_min / 1440.0;
        return (int) (sun_longitude(jd + delta_t(jd_year(jd))) / 30);
}

/* The number k of the new moon that begins month 11 of `year`: the month
 * in which that December's winter solstice falls. */
static int month11(int year, int offset_min) {
        double jd = JD_UNIX_EPOCH + days_from_civil(year, 12, 31);
        int k = (int) floor((jd - 2451550.09766) / SYNODIC_MONTH);

        /* New moon k is the last one on or before 31 December. When the
         * sun has passed 270° at the start of its day, the solstice came
         * before it, in the month before. */
        if (new_moon_day(k, offset_min) > days_from_civil(year, 12, 31))
                k--;
        if (sun_sector(new_moon_day(k, offset_min), offset_min) >= 9)
                k--;
        return k;
}

/* From one month 11 to the next: its first new moon, its length in months
 * (12 or 13), and the index of its leap month (1–12), or 0. */
struct sui {
        int k11;
        int year11;          /* the December its month 11 holds */
        int months;
        int leap;
};

static void sui_of(int year11, int offset_min, struct sui *ret) {
        int k11 = month11(year11, offset_min);
        int n = month11(year11 + 1, offset_min) - k11;

        *ret = (struct sui) { .k11 = k11, .year11 = year11, .months = n };
        if (n < 13)
                return;
        /* The first month after month 11 without a major term. One always
         * exists in a 13-month span; the last month is the fallback all
         * the same. */
        ret->leap = n - 1;
        for (int i = 1; i < n; i++) {
                int32_t s = new_moon_day(k11 + i, offset_min), e = new_moon_day(k11 + i + 1, offset_min);
                if (sun_sector(s, offset_min) == sun_sector(e, offset_min)) {
                        ret->leap = i;
                        break;
                }
        }
}

/* Month index i of a suì (0 = month 11) -> its number and lunar year. */
static void sui_month(const struct sui *s, int i, struct lunar_date *ret) {
        int m = s->leap > 0 && i >= s->leap ? 11 + i - 1 : 11 + i;

        ret->leap = s->leap > 0 && i == s->leap;
        ret->year = s->year11 + (m > 12);
        ret->month = (m - 1) % 12 + 1;
}

/* Month number and leap flag -> index in the suì of the lunar year's
 * months 1–10 (the one that began the December before) or of its months
 * 11–12, or -1 when the suì has no such month. */
static int sui_index(const struct sui *s, int month, bool leap) {
        int pos = month >= 11 ? month - 11 : month + 1;

        if (leap)
                return s->leap > 0 && s->leap - 1 == pos ? s->leap : -1;
        return s->leap > 0 && pos >= s->leap ? pos + 1 : pos;
}

static bool year_in_range(int y) {
        return y >= LUNAR_YEAR_MIN && y <= LUNAR_YEAR_MAX;
}

int lunar_from_solar(int32_t day, int offset_min, struct lunar_date *ret) {
        struct sui s;
        int y, m, d, i;

        civil_from_days(day, &y, &m, &d);
        if (!year_in_range(y))
                return -ERANGE;
        if (new_moon_day(month11(y, offset_min), offset_min) > day)
                y--;
        sui_of(y, offset_min, &s);

        /* The month that holds `day`: estimated, then set right. */
        i = (int) ((day - new_moon_day(s.k11, offset_min)) / SYNODIC_MONTH);
        i = i < 0 ? 0 : i >= s.months ? s.months - 1 : i;
        while (i > 0 && new_moon_day(s.k11 + i, offset_min) > day)
                i--;
        while (i + 1 < s.months && new_moon_day(s.k11 + i + 1, offset_min) <= day)
                i++;
        sui_month(&s, i, ret);
        ret->day = day - new_moon_day(s.k11 + i, offset_min) + 1;
        return 0;
}

/* The suì and index of a lunar month, or a negative errno. */
static int find_month(int year, int month, bool leap, int offset_min, struct sui *ret_sui) {
        int i;

        if (!year_in_range(year))
                return -ERANGE;
        if (month < 1 || month > 12)
                return -EINVAL;
        sui_of(month >= 11 ? year : year - 1, offset_min, ret_sui);
        i = sui_index(ret_sui, month, leap);
        return i < 0 ? -EINVAL : i;
}

int lunar_to_solar(const struct lunar_date *d, int offset_min, int32_t *ret_day) {
        struct sui s;
        int i, len;
        int32_t start;

        i = find_month(d->year, d->month, d->leap, offset_min, &s);
        if (i < 0)
                return i;
        start = new_moon_day(s.k11 + i, offset_min);
        len = new_moon_day(s.k11 + i + 1, offset_min) - start;
        if (d->day < 1 || d->day > len)
                return -EINVAL;
        *ret_day = start + d->day - 1;
        return 0;
}

int lunar_leap_month(int year, int offset_min) {
        struct lunar_date d;
        struct sui s;

        if (!year_in_range(year))
                return -ERANGE;
        /* A leap month 1–10 is in the suì that began the December before,
         * a leap 11 or 12 in the one beginning this December. */
        sui_of(year - 1, offset_min, &s);
        if (s.leap > 0) {
                sui_month(&s, s.leap, &d);
                if (d.year == year)
                        return d.month;
        }
        sui_of(year, offset_min, &s);
        if (s.leap > 0) {
                sui_month(&s, s.leap, &d);
                if (d.year == year)
                        return d.month;
        }
        return 0;
}

int lunar_month_days(int year, int month, bool leap, int offset_min) {
        struct sui s;
        int i;

        i = find_month(year, month, leap, offset_min, &s);
        if (i < 0)
                return i;
        return new_moon_day(s.k11 + i + 1, offset_min) - new_moon_day(s.k11 + i, offset_min);
}
