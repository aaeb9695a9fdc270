/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Offsets in working days ("5wd", "3wd") on the Vietnamese calendar, and
 * the working calendar computed year by year. Tết 2026 is Monday 16 to
 * Friday 20 February (the last day of Ất Tỵ and the first four of Bính
 * Ngọ); the first working day after it is Monday 23 February. */

#include "holiday.h"
#include "schedule-fixtures.h"
#include "workcal.h"

static const struct holiday_rules vn = {
        .calendar = HOLIDAY_CALENDAR_VN,
        .workdays = MON_FRI,
};

static int64_t wd(const char *s) {
        int64_t v;
        assert_int_equal(parse_offset(s, &v), 0);
        return v;
}

static struct policy vn_policy(struct workcal **cal, const struct holiday_date *extra, size_t n_extra) {
        static int64_t before[2];
        struct policy p = {
                .remind_before = before,
                .n_remind_before = 2,
                .send_at = 8 * 60,
                .workdays = MON_FRI,
        };

        before[0] = wd("5wd");
        before[1] = wd("1wd");
        assert_int_equal(workcal_new(&vn, extra, n_extra, cal), 0);
        p.calendar = *cal;
        return p;
}

static void test_parse_offset(void **state) {
        int64_t v;
        char buf[32];

        assert_int_equal(parse_offset("5wd", &v), 0);
        assert_true(duration_is_workdays(v));
        assert_false(duration_is_days(v));
        assert_int_equal(duration_workdays(v), 5);
        format_duration(v, buf, sizeof buf);
        assert_string_equal(buf, "5wd");
        assert_int_equal(parse_offset("7d", &v), 0);
        assert_int_equal(v, 7 * DAY);
        assert_int_equal(parse_offset("0wd", &v), -EDOM);
        assert_int_equal(parse_offset("367wd", &v), -ERANGE);
        assert_int_equal(parse_offset("3wdx", &v), -EINVAL);
        assert_int_equal(parse_offset("-3wd", &v), -EINVAL);
        assert_int_equal(parse_offset("wd", &v), -EINVAL);
        /* Durations elsewhere (overdue_every, retries) take no working days. */
        assert_int_equal(parse_duration("5wd", &v), -EINVAL);
}

/* A deadline on the Monday after Tết: "1wd" is the Friday before it,
 * 13 February, and "5wd" Monday 9 February; the week of Tết and the two
 * weekends around it are skipped. */
static void test_reminder_before_tet(void **state) {
        _cleanup_(workcal_freep) struct workcal *cal = NULL;
        struct policy p = vn_policy(&cal, NULL, 0);
        int64_t due = date_due("2026-02-23");

        ASSERT_SCHEDULE(&p, due, true, local("2026-01-01 00:00"), local("2026-02-24 00:00"),
                        { "2026-02-09 08:00:00", "before:5wd" },
                        { "2026-02-13 08:00:00", "before:1wd" });

        /* Without send_at, at the deadline's time of day. */
        p.send_at = -1;
        ASSERT_SCHEDULE(&p, local("2026-02-23 17:00"), false, local("2026-01-01 00:00"),
                        local("2026-02-24 00:00"),
                        { "2026-02-09 17:00:00", "before:5wd" },
                        { "2026-02-13 17:00:00", "before:1wd" });
}

/* A Saturday worked to make up a bridge day is a working day: "1wd"
 * before the Monday after Tết is that Saturday. */
static void test_extra_workday_counts(void **state) {
        static const struct holiday_date extra[] = { { 2026, 2, 14 } };
        _cleanup_(workcal_freep) struct workcal *cal = NULL;
        struct policy p = vn_policy(&cal, extra, ELEMENTSOF(extra));

        ASSERT_SCHEDULE(&p, date_due("2026-02-23"), true, local("2026-01-01 00:00"), local("2026-02-24 00:00"),
                        { "2026-02-10 08:00:00", "before:5wd" },
                        { "2026-02-14 08:00:00", "before:1wd" });
}

/* "3wd" late: the third working day after the due day. Due on the
 * Friday before Tết, that is Wednesday 25 February, not Monday 16. */
static void test_escalation_in_workdays(void **state) {
        _cleanup_(workcal_freep) struct workcal *cal = NULL;
        struct policy p = vn_policy(&cal, NULL, 0);
        struct escalation esc[] = { { .after = wd("3wd") } };

        p.n_remind_before = 0;
        p.escalation = esc;
        p.n_escalation = 1;
        ASSERT_SCHEDULE(&p, date_due("2026-02-13"), true, local("2026-02-01 00:00"), local("2026-03-31 00:00"),
                        { "2026-02-25 08:00:00", "escalate:1:3wd" });
}

/* Counting by years with each year's total gives what counting day by
 * day gives, for spans inside a year, across years and over decades, and
 * the n-th working day before a day is found backwards likewise. */
static void test_count_matches_day_by_day(void **state) {
        static const struct holiday_date extra[] = { { 0, 2, 28 }, { 2027, 9, 4 } };
        _cleanup_(workcal_freep) struct workcal *cal = NULL;
        struct policy p = vn_policy(&cal, extra, ELEMENTSOF(extra));
        int32_t start = day_of("2024-12-20"), end = day_of("2036-01-10");
        int64_t running = 0;

        for (int32_t d = start + 1; d <= end; d++) {
                running += schedule_is_workday(&p, d);
                if ((d - start) % 97 == 0 || d == end)
                        assert_int_equal(schedule_count_workdays(&p, start, d), running);
        }
        assert_int_equal(schedule_count_workdays(&p, day_of("2026-02-13"), day_of("2026-02-23")), 1);

        for (int32_t d = day_of("2025-12-01"); d <= day_of("2027-03-01"); d += 5)
                for (int64_t n = 1; n <= 30; n += 7) {
                        int32_t got, ref = d;
                        for (int64_t k = 0; k < n; k++)
                                do
                                        ref--;
                                while (!schedule_is_workday(&p, ref));
                        assert_true(schedule_sub_workdays(&p, d, n, &got));
                        assert_int_equal(got, ref);
                }
}

/* Only the years asked for are computed. */
static void test_years_on_demand(void **state) {
        _cleanup_(workcal_freep) struct workcal *cal = NULL;
        struct policy p = vn_policy(&cal, NULL, 0);

        assert_int_equal(workcal_years_computed(cal), 0);
        assert_false(schedule_is_workday(&p, day_of("2026-02-17")));
        assert_int_equal(workcal_years_computed(cal), 1);
        assert_true(schedule_is_workday(&p, day_of("2026-02-23")));
        assert_int_equal(workcal_years_computed(cal), 1);
        assert_int_equal(workcal_year(cal, YEAR_MAX + 1)->n_holidays, 0);
        assert_int_equal(workcal_years_computed(cal), 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_offset),
                cmocka_unit_test(test_reminder_before_tet),
                cmocka_unit_test(test_extra_workday_counts),
                cmocka_unit_test(test_escalation_in_workdays),
                cmocka_unit_test(test_count_matches_day_by_day),
                cmocka_unit_test(test_years_on_demand),
        };

        reset_tz(NULL);
        return cmocka_run_group_tests(tests, NULL, NULL);
}
