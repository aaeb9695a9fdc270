/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Public holidays of calendar "vn".
 *
 * Sources:
 * [BLLĐ] Bộ luật Lao động 2019 (45/2019/QH14), Article 112 (the days) and
 *        Article 111(3) (a holiday on the weekly rest day is made up on the
 *        next working day).
 * [HND]  Hồ Ngọc Đức's precomputed Vietnamese calendar (amlich-hnd.js, see
 *        test-lunar.c): Tết 2026 on 17 February, 10/3 on 26 April 2026,
 *        10/3 on 29 April 2023, Tết 2025 on 29 January.
 * [PH]   python-holidays (vacanza/holidays, commit 5c93ce70),
 *        tests/countries/test_vietnam.py, test_observed: the compensatory
 *        days ("nghỉ bù") of 2011–2023 listed below, under the same rule
 *        (a holiday on Saturday or Sunday moves to the next working day). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "holiday.h"
#include "macro.h"
#include "timeutil.h"

#define MON_FRI 0x3e

static struct holiday *year_of(const struct holiday_rules *r, int year, size_t *n) {
        struct holiday *h = NULL;

        assert_int_equal(holiday_year(r, year, &h, n), 0);
        return h;
}

static const struct holiday *find(const struct holiday *h, size_t n, int y, int m, int d) {
        int32_t day = days_from_civil(y, m, d);
        for (size_t i = 0; i < n; i++)
                if (h[i].day == day)
                        return &h[i];
        return NULL;
}

/* [BLLĐ] with [HND]'s dates: the year 2026 in full. */
static void test_vn_2026(void **state) {
        const struct holiday_rules r = { .calendar = HOLIDAY_CALENDAR_VN, .workdays = MON_FRI };
        static const struct {
                int m, d;
                enum holiday_kind kind;
        } want[] = {
                { 1, 1, HOLIDAY_NEW_YEAR },
                { 2, 16, HOLIDAY_TET },        { 2, 17, HOLIDAY_TET },   { 2, 18, HOLIDAY_TET },
                { 2, 19, HOLIDAY_TET },        { 2, 20, HOLIDAY_TET },
                { 4, 26, HOLIDAY_HUNG_KINGS }, { 4, 27, HOLIDAY_COMPENSATORY },
                { 4, 30, HOLIDAY_REUNIFICATION }, { 5, 1, HOLIDAY_LABOUR },
                { 9, 1, HOLIDAY_NATIONAL },    { 9, 2, HOLIDAY_NATIONAL },
        };
        size_t n;
        _cleanup_free_ struct holiday *h = year_of(&r, 2026, &n);
        char name[128];

        assert_int_equal(n, ELEMENTSOF(want));
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(h[i].day, days_from_civil(2026, want[i].m, want[i].d));
                assert_int_equal(h[i].kind, want[i].kind);
                assert_false(h[i].removed);
        }
        assert_int_equal(h[1].part, 0);
        assert_int_equal(h[2].part, 1);
        assert_int_equal(h[7].for_day, days_from_civil(2026, 4, 26));
        holiday_name(&h[7], true, name, sizeof name);
        assert_string_equal(name, "Nghỉ bù Giỗ Tổ Hùng Vương (26/4)");
        holiday_name(&h[2], true, name, sizeof name);
        assert_string_equal(name, "Tết Nguyên đán (mùng 1)");
        holiday_name(&h[6], true, name, sizeof name);
        assert_string_equal(name, "Giỗ Tổ Hùng Vương (10/3 âm lịch)");
        holiday_name(&h[7], false, name, sizeof name);
        assert_string_equal(name, "Day off in lieu for Hung Kings' Commemoration (26/4)");
        holiday_name(&h[1], false, name, sizeof name);
        assert_string_equal(name, "Lunar New Year (last day of the year)");
}

/* [PH]: every compensatory day it lists is one here too. */
static void test_compensatory_days_2011_2023(void **state) {
        static const struct {
                int y, m, d;
        } days[] = {
                { 2012, 1, 2 }, { 2017, 1, 2 }, { 2022, 1, 3 }, { 2012, 4, 2 }, { 2016, 4, 18 }, { 2019, 4, 15 },
                { 2022, 4, 11 }, { 2023, 5, 2 }, { 2011, 5, 2 }, { 2016, 5, 2 }, { 2017, 5, 2 }, { 2022, 5, 2 },
                { 2023, 5, 3 }, { 2011, 5, 3 }, { 2016, 5, 3 }, { 2021, 5, 3 }, { 2022, 5, 3 }, { 2012, 9, 3 },
                { 2017, 9, 4 }, { 2018, 9, 3 }, { 2023, 9, 4 },
        };
        const struct holiday_rules r = { .calendar = HOLIDAY_CALENDAR_VN, .workdays = MON_FRI };

        for (size_t i = 0; i < ELEMENTSOF(days); i++) {
                size_t n;
                _cleanup_free_ struct holiday *h = year_of(&r, days[i].y, &n);
                const struct holiday *c = find(h, n, days[i].y, days[i].m, days[i].d);
                assert_non_null(c);
                assert_int_equal(c->kind, HOLIDAY_COMPENSATORY);
        }
}

/* [HND]: Tết 2025 is Wednesday 29 January, so the block is Tuesday 28 to
 * Saturday 1 February; Saturday's day off is Monday 3 February. */
static void test_tet_over_a_weekend(void **state) {
        const struct holiday_rules r = { .calendar = HOLIDAY_CALENDAR_VN, .workdays = MON_FRI };
        size_t n;
        _cleanup_free_ struct holiday *h = year_of(&r, 2025, &n);
        const struct holiday *c = find(h, n, 2025, 2, 3);

        assert_non_null(find(h, n, 2025, 1, 28));
        assert_non_null(find(h, n, 2025, 2, 1));
        assert_non_null(c);
        assert_int_equal(c->kind, HOLIDAY_COMPENSATORY);
        assert_int_equal(c->for_day, days_from_civil(2025, 2, 1));
        assert_null(find(h, n, 2025, 2, 4));
}

static void test_configured_changes(void **state) {
        struct holiday_date add[2], rm[2];
        assert_int_equal(holiday_date_parse("2026-02-21", &add[0]), 0); /* the announced Tết block is longer */
        assert_int_equal(holiday_date_parse("*-11-20", &add[1]), 0);
        assert_int_equal(holiday_date_parse("2026-09-01", &rm[0]), 0);  /* the day beside 2/9 is the 3rd */
        assert_int_equal(holiday_date_parse("2026-04-26", &rm[1]), 0);
        const struct holiday_rules r = { .calendar = HOLIDAY_CALENDAR_VN, .workdays = MON_FRI,
                                         .add = add, .n_add = 2, .remove = rm, .n_remove = 2 };
        size_t n;
        _cleanup_free_ struct holiday *h = year_of(&r, 2026, &n);
        const struct holiday *x;

        x = find(h, n, 2026, 2, 21);
        assert_non_null(x);
        assert_int_equal(x->kind, HOLIDAY_CONFIGURED);
        x = find(h, n, 2026, 11, 20);
        assert_non_null(x);
        assert_false(x->removed);
        x = find(h, n, 2026, 9, 1);
        assert_non_null(x);
        assert_true(x->removed);
        /* A removed holiday gives no compensatory day. */
        x = find(h, n, 2026, 4, 26);
        assert_true(x->removed);
        assert_null(find(h, n, 2026, 4, 27));

        /* The recurring day, another year; the dated ones stay in theirs. */
        _cleanup_free_ struct holiday *h27 = year_of(&r, 2027, &n);
        assert_non_null(find(h27, n, 2027, 11, 20));
        assert_null(find(h27, n, 2027, 2, 21));
        assert_false(find(h27, n, 2027, 9, 1)->removed);
}

static void test_no_calendar_only_configured_days(void **state) {
        struct holiday_date add[1];
        assert_int_equal(holiday_date_parse("*-02-29", &add[0]), 0);
        const struct holiday_rules r = { .calendar = HOLIDAY_CALENDAR_NONE, .workdays = MON_FRI, .add = add, .n_add = 1 };
        size_t n;
        _cleanup_free_ struct holiday *h = year_of(&r, 2028, &n);
        _cleanup_free_ struct holiday *h27 = NULL;

        assert_int_equal(n, 1);
        assert_int_equal(h[0].day, days_from_civil(2028, 2, 29));
        /* No compensatory day for a configured holiday on a Tuesday, nor
         * for one on no day at all. */
        h27 = year_of(&r, 2027, &n);
        assert_int_equal(n, 0);
}

static void test_date_syntax(void **state) {
        struct holiday_date d;

        assert_int_equal(holiday_date_parse("*-04-30", &d), 0);
        assert_int_equal(d.year, 0);
        assert_int_equal(d.month, 4);
        assert_int_equal(d.day, 30);
        assert_int_equal(holiday_date_parse("2026-04-30", &d), 0);
        assert_int_equal(d.year, 2026);
        assert_int_equal(holiday_date_parse("*-02-30", &d), -EINVAL);
        assert_int_equal(holiday_date_parse("*-04-31", &d), -EINVAL);
        assert_int_equal(holiday_date_parse("*-13-01", &d), -EINVAL);
        assert_int_equal(holiday_date_parse("*-4-30", &d), -EINVAL);
        assert_int_equal(holiday_date_parse("04-30", &d), -EINVAL);
        assert_int_equal(holiday_date_parse("*-04-30x", &d), -EINVAL);
        assert_int_equal(holiday_date_parse("2026-02-29", &d), -EINVAL);
        assert_int_equal(holiday_calendar_from_string("vn"), HOLIDAY_CALENDAR_VN);
        assert_int_equal(holiday_calendar_from_string("none"), HOLIDAY_CALENDAR_NONE);
        assert_int_equal(holiday_calendar_from_string("xx"), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_vn_2026),
                cmocka_unit_test(test_compensatory_days_2011_2023),
                cmocka_unit_test(test_tet_over_a_weekend),
                cmocka_unit_test(test_configured_changes),
                cmocka_unit_test(test_no_calendar_only_configured_days),
                cmocka_unit_test(test_date_syntax),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
