/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The Vietnamese lunar calendar against published tables.
 *
 * Sources (the expected dates below were written from them by hand):
 *
 * [HND] Hồ Ngọc Đức, "Âm lịch Việt Nam", amlich-hnd.js: the precomputed
 *       Vietnamese calendar (UTC+7) for 1800–2199, arrays TK20 (1900–1999)
 *       and TK21 (2000–2099), one code k per lunar year: Tết is 1 January
 *       + (k >> 17) days, month m has 29 + bit (16 − m) days, the leap
 *       month is k & 0xf (29 + bit 16 days). The table as copied into many
 *       projects (e.g. the TypeScript port quoting "Dựa trên thuật toán của
 *       Hồ Ngọc Đức (amlich-hnd.js)"), originally
 *       http://www.informatik.uni-leipzig.de/~duc/amlich/JavaScript/amlich-hnd.js
 * [HND-rules] Hồ Ngọc Đức, "Vietnamese calendar rules",
 *       https://www.informatik.uni-leipzig.de/~duc/amlich/calrules_en.html:
 *       Tết 1985 on 21/1 in Vietnam against 20/2 in China; in the 21st
 *       century the New Years differ in 2007 (17/2 against 18/2), 2030 (2/2
 *       against 3/2) and 2053.
 * [PH]  python-holidays (vacanza/holidays, commit 5c93ce70),
 *       holidays/calendars/chinese.py, LUNAR_NEW_YEAR_DATES (the Chinese
 *       calendar, UTC+8): 1985 → 20 February, 2007 → 18 February,
 *       2030 → 3 February.
 *
 * Tết 1990–2050 and Giỗ Tổ Hùng Vương (10/3) 2000–2050 are [HND]'s. They
 * agree with [PH]'s Chinese New Year dates in every year but 2007 and 2030,
 * as [HND-rules] says they should; Giỗ Tổ differs from [PH]'s Chinese 10/3
 * in 2009, 2037 and 2038 (the third month begins a day earlier in Vietnam). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>

#include "lunar.h"
#include "macro.h"
#include "timeutil.h"

struct ymd {
        int y, m, d;
};

/* [HND]: the first day of the lunar year, 1990–2050. */
static const struct ymd tet[] = {
        { 1990, 1, 27 }, { 1991, 2, 15 }, { 1992, 2, 4 },  { 1993, 1, 23 }, { 1994, 2, 10 }, { 1995, 1, 31 },
        { 1996, 2, 19 }, { 1997, 2, 7 },  { 1998, 1, 28 }, { 1999, 2, 16 }, { 2000, 2, 5 },  { 2001, 1, 24 },
        { 2002, 2, 12 }, { 2003, 2, 1 },  { 2004, 1, 22 }, { 2005, 2, 9 },  { 2006, 1, 29 }, { 2007, 2, 17 },
        { 2008, 2, 7 },  { 2009, 1, 26 }, { 2010, 2, 14 }, { 2011, 2, 3 },  { 2012, 1, 23 }, { 2013, 2, 10 },
        { 2014, 1, 31 }, { 2015, 2, 19 }, { 2016, 2, 8 },  { 2017, 1, 28 }, { 2018, 2, 16 }, { 2019, 2, 5 },
        { 2020, 1, 25 }, { 2021, 2, 12 }, { 2022, 2, 1 },  { 2023, 1, 22 }, { 2024, 2, 10 }, { 2025, 1, 29 },
        { 2026, 2, 17 }, { 2027, 2, 6 },  { 2028, 1, 26 }, { 2029, 2, 13 }, { 2030, 2, 2 },  { 2031, 1, 23 },
        { 2032, 2, 11 }, { 2033, 1, 31 }, { 2034, 2, 19 }, { 2035, 2, 8 },  { 2036, 1, 28 }, { 2037, 2, 15 },
        { 2038, 2, 4 },  { 2039, 1, 24 }, { 2040, 2, 12 }, { 2041, 2, 1 },  { 2042, 1, 22 }, { 2043, 2, 10 },
        { 2044, 1, 30 }, { 2045, 2, 17 }, { 2046, 2, 6 },  { 2047, 1, 26 }, { 2048, 2, 14 }, { 2049, 2, 2 },
        { 2050, 1, 23 },
};

/* [HND]: 10/3, Giỗ Tổ Hùng Vương, 2000–2050. */
static const struct ymd hung_kings[] = {
        { 2000, 4, 14 }, { 2001, 4, 3 },  { 2002, 4, 22 }, { 2003, 4, 11 }, { 2004, 4, 28 }, { 2005, 4, 18 },
        { 2006, 4, 7 },  { 2007, 4, 26 }, { 2008, 4, 15 }, { 2009, 4, 4 },  { 2010, 4, 23 }, { 2011, 4, 12 },
        { 2012, 3, 31 }, { 2013, 4, 19 }, { 2014, 4, 9 },  { 2015, 4, 28 }, { 2016, 4, 16 }, { 2017, 4, 6 },
        { 2018, 4, 25 }, { 2019, 4, 14 }, { 2020, 4, 2 },  { 2021, 4, 21 }, { 2022, 4, 10 }, { 2023, 4, 29 },
        { 2024, 4, 18 }, { 2025, 4, 7 },  { 2026, 4, 26 }, { 2027, 4, 16 }, { 2028, 4, 4 },  { 2029, 4, 23 },
        { 2030, 4, 12 }, { 2031, 4, 1 },  { 2032, 4, 19 }, { 2033, 4, 9 },  { 2034, 4, 28 }, { 2035, 4, 17 },
        { 2036, 4, 6 },  { 2037, 4, 24 }, { 2038, 4, 13 }, { 2039, 4, 3 },  { 2040, 4, 20 }, { 2041, 4, 10 },
        { 2042, 4, 29 }, { 2043, 4, 19 }, { 2044, 4, 7 },  { 2045, 4, 26 }, { 2046, 4, 15 }, { 2047, 4, 4 },
        { 2048, 4, 22 }, { 2049, 4, 11 }, { 2050, 4, 1 },
};

/* [HND]: the leap months of 1990–2050; every other year has none. */
static const struct {
        int year, month;
} leap_months[] = {
        { 1990, 5 }, { 1993, 3 }, { 1995, 8 }, { 1998, 5 }, { 2001, 4 }, { 2004, 2 },  { 2006, 7 }, { 2009, 5 },
        { 2012, 4 }, { 2014, 9 }, { 2017, 6 }, { 2020, 4 }, { 2023, 2 }, { 2025, 6 },  { 2028, 5 }, { 2031, 3 },
        { 2033, 11 }, { 2036, 6 }, { 2039, 5 }, { 2042, 2 }, { 2044, 7 }, { 2047, 5 }, { 2050, 3 },
};

static int32_t day_of(const struct ymd *d) {
        return days_from_civil(d->y, d->m, d->d);
}

static void assert_lunar(int32_t day, int offset, int y, int m, int d, bool leap) {
        struct lunar_date l;

        assert_int_equal(lunar_from_solar(day, offset, &l), 0);
        assert_int_equal(l.year, y);
        assert_int_equal(l.month, m);
        assert_int_equal(l.day, d);
        assert_int_equal(l.leap, leap);
}

static void test_tet_1990_2050(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(tet); i++) {
                struct lunar_date l = { .year = tet[i].y, .month = 1, .day = 1 };
                int32_t day;

                assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_VN, &day), 0);
                assert_int_equal(day, day_of(&tet[i]));
                assert_lunar(day_of(&tet[i]), LUNAR_OFFSET_VN, tet[i].y, 1, 1, false);
                /* The day before is the last of the old year, month 12. */
                struct lunar_date eve;
                assert_int_equal(lunar_from_solar(day - 1, LUNAR_OFFSET_VN, &eve), 0);
                assert_int_equal(eve.year, tet[i].y - 1);
                assert_int_equal(eve.month, 12);
                assert_false(eve.leap);
                assert_true(eve.day == 29 || eve.day == 30);
        }
}

static void test_hung_kings_2000_2050(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(hung_kings); i++) {
                struct lunar_date l = { .year = hung_kings[i].y, .month = 3, .day = 10 };
                int32_t day;

                assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_VN, &day), 0);
                assert_int_equal(day, day_of(&hung_kings[i]));
                assert_lunar(day, LUNAR_OFFSET_VN, hung_kings[i].y, 3, 10, false);
        }
}

static void test_leap_months_1990_2050(void **state) {
        size_t j = 0;

        for (int y = 1990; y <= 2050; y++) {
                int want = 0;
                if (j < ELEMENTSOF(leap_months) && leap_months[j].year == y)
                        want = leap_months[j++].month;
                assert_int_equal(lunar_leap_month(y, LUNAR_OFFSET_VN), want);
        }
        assert_int_equal(j, ELEMENTSOF(leap_months));
}

/* [HND-rules] and [PH]: the same rules on UTC+7 and on UTC+8. */
static void test_vietnam_and_china_differ(void **state) {
        struct lunar_date l = { .year = 1985, .month = 1, .day = 1 };
        int32_t day;

        assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_VN, &day), 0);
        assert_int_equal(day, days_from_civil(1985, 1, 21));
        assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_CN, &day), 0);
        assert_int_equal(day, days_from_civil(1985, 2, 20));

        l.year = 2007;
        assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_VN, &day), 0);
        assert_int_equal(day, days_from_civil(2007, 2, 17));
        assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_CN, &day), 0);
        assert_int_equal(day, days_from_civil(2007, 2, 18));
        /* 17 February 2007 is still the year before in China. */
        assert_lunar(days_from_civil(2007, 2, 17), LUNAR_OFFSET_CN, 2006, 12, 30, false);

        l.year = 2030;
        assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_VN, &day), 0);
        assert_int_equal(day, days_from_civil(2030, 2, 2));
        assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_CN, &day), 0);
        assert_int_equal(day, days_from_civil(2030, 2, 3));
}

/* [HND]: 2023 (code 0x2a5b52) has a leap second month: Tết on 22 January,
 * month 1 of 29 days, month 2 of 30, the leap month 2 of 29 from 22 March. */
static void test_leap_month_dates(void **state) {
        struct lunar_date l = { .year = 2023, .month = 2, .day = 1, .leap = true };
        int32_t day;

        assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_VN, &day), 0);
        assert_int_equal(day, days_from_civil(2023, 3, 22));
        assert_lunar(day, LUNAR_OFFSET_VN, 2023, 2, 1, true);
        assert_lunar(day - 1, LUNAR_OFFSET_VN, 2023, 2, 30, false);
        assert_lunar(days_from_civil(2023, 4, 19), LUNAR_OFFSET_VN, 2023, 2, 29, true);
        assert_lunar(days_from_civil(2023, 4, 20), LUNAR_OFFSET_VN, 2023, 3, 1, false);
        assert_int_equal(lunar_month_days(2023, 1, false, LUNAR_OFFSET_VN), 29);
        assert_int_equal(lunar_month_days(2023, 2, false, LUNAR_OFFSET_VN), 30);
        assert_int_equal(lunar_month_days(2023, 2, true, LUNAR_OFFSET_VN), 29);
}

static void test_dates_that_do_not_exist(void **state) {
        struct lunar_date l = { .year = 2026, .month = 3, .day = 1, .leap = true };
        int32_t day;

        /* 2026 has no leap month. */
        assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_VN, &day), -EINVAL);
        assert_int_equal(lunar_month_days(2026, 3, true, LUNAR_OFFSET_VN), -EINVAL);
        /* [HND]: month 2 of 2026 has 29 days. */
        l = (struct lunar_date) { .year = 2026, .month = 2, .day = 30 };
        assert_int_equal(lunar_month_days(2026, 2, false, LUNAR_OFFSET_VN), 29);
        assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_VN, &day), -EINVAL);
        l.day = 0;
        assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_VN, &day), -EINVAL);
        l = (struct lunar_date) { .year = 2026, .month = 13, .day = 1 };
        assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_VN, &day), -EINVAL);
        l = (struct lunar_date) { .year = 3001, .month = 1, .day = 1 };
        assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_VN, &day), -ERANGE);
        assert_int_equal(lunar_from_solar(days_from_civil(3001, 6, 1), LUNAR_OFFSET_VN, &l), -ERANGE);
}

/* Every day from 1970 to 2200 converts both ways, and the lunar days run
 * 1, 2, … within a month of 29 or 30 days. */
static void test_round_trip(void **state) {
        struct lunar_date prev = {};

        for (int32_t day = days_from_civil(1970, 1, 1); day < days_from_civil(2200, 1, 1); day++) {
                struct lunar_date l;
                int32_t back;

                assert_int_equal(lunar_from_solar(day, LUNAR_OFFSET_VN, &l), 0);
                assert_int_equal(lunar_to_solar(&l, LUNAR_OFFSET_VN, &back), 0);
                assert_int_equal(back, day);
                if (prev.day > 0 && l.day != 1) {
                        assert_int_equal(l.day, prev.day + 1);
                        assert_int_equal(l.month, prev.month);
                        assert_int_equal(l.leap, prev.leap);
                } else if (prev.day > 0) {
                        assert_true(prev.day == 29 || prev.day == 30);
                        assert_int_equal(lunar_month_days(prev.year, prev.month, prev.leap, LUNAR_OFFSET_VN),
                                         prev.day);
                }
                prev = l;
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tet_1990_2050),
                cmocka_unit_test(test_hung_kings_2000_2050),
                cmocka_unit_test(test_leap_months_1990_2050),
                cmocka_unit_test(test_vietnam_and_china_differ),
                cmocka_unit_test(test_leap_month_dates),
                cmocka_unit_test(test_dates_that_do_not_exist),
                cmocka_unit_test(test_round_trip),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
