/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Working-day arithmetic against a day-by-day reference, tasks overdue for
 * years, and catch-up after downtime. */

#include "schedule-fixtures.h"

static void test_count_and_add_workdays_match_reference(void **state) {
        int32_t holidays[32], extra[16];
        size_t nh, ne;
        struct policy p = odd_policy(holidays, &nh, extra, &ne);
        int32_t first = day_of("2023-12-20"), last = day_of("2026-01-10");
        unsigned patterns[] = { MON_FRI, MON_FRI | 0x40, 0x01, 0x7f };

        for (size_t w = 0; w < ELEMENTSOF(patterns); w++) {
                p.workdays = patterns[w];
                for (int32_t from = first; from <= last; from += 3) {
                        int64_t c = 0;
                        for (int32_t to = from; to <= last; to += 1) {
                                if (to > from && ref_is_workday(&p, to))
                                        c++;
                                if ((to - from) % 11 == 0 || to - from < 15)
                                        assert_int_equal(schedule_count_workdays(&p, from, to), c);
                        }
                        assert_int_equal(schedule_count_workdays(&p, from, from - 5), 0);
                }
                for (int32_t from = first; from <= last - 60; from += 5) {
                        int32_t d = from, got;
                        for (int64_t n = 1; n <= 40; n++) {
                                do
                                        d++;
                                while (!ref_is_workday(&p, d));
                                assert_true(schedule_add_workdays(&p, from, n, &got));
                                assert_int_equal(got, d);
                        }
                }
        }
}

static void test_add_workdays_refuses_bad_input(void **state) {
        struct policy p = sonha();
        int32_t got = 42;

        assert_false(schedule_add_workdays(&p, day_of("2025-05-15"), 0, &got));
        assert_false(schedule_add_workdays(&p, day_of("2025-05-15"), -3, &got));
        assert_int_equal(got, 42);
        /* Nothing is ever worked: the search gives up instead of running
         * to the end of time. */
        p.workdays = 0;
        p.n_extra_workdays = 0;
        assert_false(schedule_add_workdays(&p, day_of("2025-05-15"), 1, &got));
        assert_false(schedule_add_workdays(&p, day_of("2025-05-15"), INT64_MAX, &got));
        /* Only the extra days are worked: they are found. */
        p.n_extra_workdays = 1;
        assert_true(schedule_add_workdays(&p, day_of("2025-01-01"), 1, &got));
        assert_int_equal(got, day_of("2025-04-26"));
        assert_false(schedule_add_workdays(&p, day_of("2025-01-01"), 2, &got));
}

static void test_overdue_matches_reference(void **state) {
        int32_t holidays[32], extra[16];
        size_t nh, ne;
        struct policy p = odd_policy(holidays, &nh, extra, &ne);
        int64_t ref[800];
        int64_t every[] = { DAY, 2 * DAY, 3 * DAY, 7 * DAY };
        const int64_t times[] = { 0, 8 * 3600 - 1, 8 * 3600, 12 * 3600 };

        for (size_t e = 0; e < ELEMENTSOF(every); e++) {
                int64_t due = local("2024-01-31 17:00");
                int32_t due_day = day_of("2024-01-31"), last = day_of("2025-12-31");
                size_t n;

                p.overdue_every = every[e];
                n = ref_overdue(&p, due_day, last + 40, ref, ELEMENTSOF(ref));
                assert_true(n > 20);
                for (int32_t d = due_day - 2; d <= last; d++)
                        for (size_t t = 0; t < ELEMENTSOF(times); t++) {
                                int64_t now = local_to_instant(d, times[t]);
                                size_t i = 0, j = 0;
                                struct slot s, out[1];

                                /* The first reference slot after now, and
                                 * the last one at or before it. */
                                while (i < n && ref[i] <= now)
                                        i++;
                                assert_true(i < n);
                                assert_true(schedule_next(&p, due, false, now, &s));
                                assert_int_equal(s.at, ref[i]);
                                assert_int_equal(s.offset, (int64_t) i + 1);
                                while (j < n && ref[j] <= now - 3 * DAY)
                                        j++;
                                if (i > j) {
                                        assert_int_equal(schedule_due(&p, due, false, now - 3 * DAY, now, out), 1);
                                        assert_int_equal(out[0].at, ref[i - 1]);
                                        assert_int_equal(out[0].offset, (int64_t) i);
                                } else
                                        assert_int_equal(schedule_due(&p, due, false, now - 3 * DAY, now, out), 0);
                        }
        }
}

static void test_years_overdue(void **state) {
        struct policy p = sonha();
        int32_t holidays[6 * 4];
        int64_t due = date_due("2020-01-15"), now = local("2025-01-15 12:00");
        int32_t due_day = day_of("2020-01-15");
        static int64_t ref[2000];
        struct slot s, out[3];
        size_t n;

        /* New Year, Reunification Day, Labour Day, National Day each year. */
        for (int y = 2020; y <= 2025; y++) {
                int32_t *h = &holidays[(y - 2020) * 4];
                h[0] = days_from_civil(y, 1, 1);
                h[1] = days_from_civil(y, 4, 30);
                h[2] = days_from_civil(y, 5, 1);
                h[3] = days_from_civil(y, 9, 2);
        }
        p.holidays = holidays;
        p.n_holidays = ELEMENTSOF(holidays);

        n = ref_overdue(&p, due_day, day_of("2025-01-16"), ref, ELEMENTSOF(ref));
        assert_string_equal(show(ref[n - 1]), "2025-01-16 08:00:00");
        assert_true(schedule_next(&p, due, true, now, &s));
        assert_int_equal(s.kind, SLOT_OVERDUE);
        assert_int_equal(s.offset, (int64_t) n);
        assert_int_equal(s.at, ref[n - 1]);

        /* Back after a week away: the reminder of this morning only. */
        assert_int_equal(schedule_due(&p, due, true, now - 7 * DAY, now, out), 1);
        assert_int_equal(out[0].offset, (int64_t) n - 1);
        assert_string_equal(show(out[0].at), "2025-01-15 08:00:00");
        /* Down the whole time since before the deadline: one reminder and
         * both levels of the ladder. */
        assert_int_equal(schedule_due(&p, due, true, due - 30 * DAY, now, out), 3);
        assert_int_equal(out[0].offset, (int64_t) n - 1);
        assert_int_equal(out[1].kind, SLOT_ESCALATE);
        assert_string_equal(show(out[1].at), "2020-01-20 08:00:00");
        assert_string_equal(show(out[2].at), "2020-01-27 08:00:00");

        /* Nine centuries overdue costs no more: a walk over the days would
         * take hundreds of thousands of steps per call. */
        double start = cpu_seconds();
        int64_t far = local("2990-06-04 12:00");
        for (int i = 0; i < 2000; i++) {
                assert_true(schedule_next(&p, due, true, far + i * 3600, &s));
                assert_int_equal(s.kind, SLOT_OVERDUE);
        }
        assert_true(cpu_seconds() - start < 2.0);
        /* 2990-06-04 is a Friday: the next reminder is at 08:00 on Monday,
         * and its number counts every working day since the deadline. */
        assert_true(schedule_next(&p, due, true, far, &s));
        assert_string_equal(show(s.at), "2990-06-07 08:00:00");
        int64_t weekdays = 0;
        for (int32_t d = due_day + 1; d <= day_of("2990-06-07"); d++)
                if (ref_is_workday(&p, d))
                        weekdays++;
        assert_int_equal(s.offset, weekdays);
}

static void test_catch_up_collapses_to_latest(void **state) {
        struct policy p = sonha();
        int64_t due = date_due("2025-05-15");
        struct slot out[3];

        /* Down from after the "0d" reminder until Tuesday noon: three
         * overdue reminders missed, one sent — the latest — plus the first
         * level of the ladder, which fell in the gap. */
        assert_int_equal(schedule_due(&p, due, true, local("2025-05-15 09:00"), local("2025-05-20 12:00"), out), 2);
        assert_slot(&out[0], &(struct expect) { "2025-05-20 08:00:00", "overdue:3" }, due);
        assert_slot(&out[1], &(struct expect) { "2025-05-19 08:00:00", "escalate:1:3d" }, due);
        /* Down over the deadline: the overdue reminder wins over "1d" and "0d". */
        assert_int_equal(schedule_due(&p, due, true, local("2025-05-13 00:00"), local("2025-05-16 09:00"), out), 1);
        assert_slot(&out[0], &(struct expect) { "2025-05-16 08:00:00", "overdue:1" }, due);
        /* Down for two weeks before: only the latest early reminder. */
        assert_int_equal(schedule_due(&p, due, true, local("2025-04-28 00:00"), local("2025-05-13 09:00"), out), 1);
        assert_slot(&out[0], &(struct expect) { "2025-05-12 08:00:00", "before:3d" }, due);
        /* Down for weeks after: both levels are told, once each. */
        assert_int_equal(schedule_due(&p, due, true, local("2025-05-15 09:00"), local("2025-06-01 00:00"), out), 3);
        assert_slot(&out[0], &(struct expect) { "2025-05-30 08:00:00", "overdue:11" }, due);
        assert_slot(&out[1], &(struct expect) { "2025-05-19 08:00:00", "escalate:1:3d" }, due);
        assert_slot(&out[2], &(struct expect) { "2025-05-26 08:00:00", "escalate:2:10d" }, due);
}

static void test_catch_up_window_edges(void **state) {
        struct policy p = sonha();
        int64_t due = date_due("2025-05-15"), at = local("2025-05-14 08:00");
        struct slot out[3];

        /* (from, to]: a slot at `from` was the previous window's. */
        assert_int_equal(schedule_due(&p, due, true, at, at + 3600, out), 0);
        assert_int_equal(schedule_due(&p, due, true, at - 3600, at, out), 1);
        assert_int_equal(out[0].at, at);
        assert_int_equal(schedule_due(&p, due, true, at, at, out), 0);
        assert_int_equal(schedule_due(&p, due, true, at + 1, at - 1, out), 0);
        /* Nothing between two reminders. */
        assert_int_equal(schedule_due(&p, due, true, local("2025-05-12 09:00"), local("2025-05-13 20:00"), out), 0);
        assert_int_equal(schedule_due(&p, due, true, local("2025-05-16 08:00"), local("2025-05-19 07:59:59"), out), 0);
}

static void test_slots_past_at_creation_are_skipped(void **state) {
        struct policy p = sonha();
        int64_t due = date_due("2025-05-15"), created = local("2025-05-13 10:00");
        struct slot s, out[3];

        /* The caller passes the creation time as `from`: 14d, 7d and 3d,
         * already past, are never sent. */
        assert_int_equal(schedule_due(&p, due, true, created, created + 60, out), 0);
        assert_true(schedule_next(&p, due, true, created, &s));
        assert_string_equal(s.key, "before:1d@1747328399");
        assert_string_equal(show(s.at), "2025-05-14 08:00:00");
}

static void test_broken_policy_gives_up(void **state) {
        struct policy p = sonha();
        struct slot s, out[3];
        double start = cpu_seconds();

        /* No working day ever: no slot that needs one, and quickly. */
        p.workdays = 0;
        p.n_extra_workdays = 0;
        assert_false(schedule_next(&p, date_due("2025-05-15"), true, 0, &s));
        assert_int_equal(schedule_due(&p, date_due("2025-05-15"), true, 0, local("2999-01-01 00:00"), out), 0);
        assert_true(cpu_seconds() - start < 1.0);
        /* Deadlines far outside any calendar have no slots. */
        p = sonha();
        assert_false(schedule_next(&p, INT64_MAX, true, 0, &s));
        assert_false(schedule_next(&p, INT64_MIN, false, INT64_MIN, &s));
        assert_int_equal(schedule_due(&p, INT64_MAX - 1, false, 0, INT64_MAX, out), 0);
        /* The overdue series ends instead of overflowing. */
        assert_false(schedule_next(&p, date_due("2025-05-15"), true, INT64_MAX, &s));
        assert_false(schedule_next(&p, date_due("2025-05-15"), true, local("2999-12-31 12:00") + 100 * 366 * DAY, &s));
        p.send_at = -1;
        assert_false(schedule_next(&p, date_due("2025-05-15"), true, INT64_MAX, &s));
        assert_int_equal(schedule_due(&p, date_due("2025-05-15"), true, INT64_MAX - 10, INT64_MAX, out), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_count_and_add_workdays_match_reference),
                cmocka_unit_test(test_add_workdays_refuses_bad_input),
                cmocka_unit_test(test_overdue_matches_reference),
                cmocka_unit_test(test_years_overdue),
                cmocka_unit_test(test_catch_up_collapses_to_latest),
                cmocka_unit_test(test_catch_up_window_edges),
                cmocka_unit_test(test_slots_past_at_creation_are_skipped),
                cmocka_unit_test(test_broken_policy_gives_up),
        };
        return cmocka_run_group_tests(tests, reset_tz, NULL);
}
