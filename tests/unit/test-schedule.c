/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reminder slots: where each falls for the sample policy and its variants. */

#include "schedule-fixtures.h"

static void test_workday_rules(void **state) {
        struct policy p = sonha();

        assert_true(schedule_is_workday(&p, day_of("2025-05-15")));   /* Thursday */
        assert_false(schedule_is_workday(&p, day_of("2025-05-17")));  /* Saturday */
        assert_false(schedule_is_workday(&p, day_of("2025-05-18")));  /* Sunday */
        assert_false(schedule_is_workday(&p, day_of("2025-04-30")));  /* holiday */
        assert_true(schedule_is_workday(&p, day_of("2025-04-26")));   /* Saturday worked */
        assert_false(schedule_is_workday(&p, day_of("2025-04-19")));  /* an ordinary Saturday */

        /* A day that is both a holiday and an extra working day is worked. */
        int32_t both = day_of("2025-09-01");
        p.extra_workdays = &both;
        assert_true(schedule_is_workday(&p, both));
}

static void test_every_slot_of_a_date_deadline(void **state) {
        struct policy p = sonha();
        int64_t due = date_due("2025-05-15");

        /* 14d is Thursday 1/5, a holiday, and so is Wednesday 30/4. The
         * 3-day escalation lands on Sunday 18/5 and moves to Monday, where
         * it meets the second overdue reminder; the 10-day one likewise. */
        ASSERT_SCHEDULE(&p, due, true, local("2025-04-01 00:00"), local("2025-05-27 00:00"),
                        { "2025-04-29 08:00:00", "before:14d" },
                        { "2025-05-08 08:00:00", "before:7d" },
                        { "2025-05-12 08:00:00", "before:3d" },
                        { "2025-05-14 08:00:00", "before:1d" },
                        { "2025-05-15 08:00:00", "before:0d" },
                        { "2025-05-16 08:00:00", "overdue:1" },
                        { "2025-05-19 08:00:00", "overdue:2" },
                        { "2025-05-19 08:00:00", "escalate:1:3d" },
                        { "2025-05-20 08:00:00", "overdue:3" },
                        { "2025-05-21 08:00:00", "overdue:4" },
                        { "2025-05-22 08:00:00", "overdue:5" },
                        { "2025-05-23 08:00:00", "overdue:6" },
                        { "2025-05-26 08:00:00", "overdue:7" },
                        { "2025-05-26 08:00:00", "escalate:2:10d" });
}

static void test_slot_fields(void **state) {
        struct policy p = sonha();
        int64_t due = date_due("2025-05-15");
        struct slot s;

        assert_true(schedule_next(&p, due, true, local("2025-05-12 08:00"), &s));
        assert_int_equal(s.kind, SLOT_BEFORE);
        assert_int_equal(s.offset, DAY);
        assert_int_equal(s.level, -1);
        assert_true(schedule_next(&p, due, true, local("2025-05-19 07:00"), &s));
        assert_int_equal(s.kind, SLOT_OVERDUE);
        assert_int_equal(s.offset, 2);
        assert_int_equal(s.level, -1);
        assert_true(schedule_next(&p, due, true, local("2025-05-23 08:00"), &s));
        assert_int_equal(s.kind, SLOT_OVERDUE);
        assert_int_equal(s.offset, 7);
        p.overdue_every = 0;
        assert_true(schedule_next(&p, due, true, local("2025-05-23 08:00"), &s));
        assert_int_equal(s.kind, SLOT_ESCALATE);
        assert_int_equal(s.offset, 10 * DAY);
        assert_int_equal(s.level, 1);
        assert_string_equal(slot_kind_to_string(SLOT_BEFORE), "before");
        assert_string_equal(slot_kind_to_string(SLOT_OVERDUE), "overdue");
        assert_string_equal(slot_kind_to_string(SLOT_ESCALATE), "escalate");
        assert_null(slot_kind_to_string(_SLOT_KIND_MAX));
}

static void test_datetime_deadline(void **state) {
        struct policy p = sonha();
        int64_t due = local("2025-05-15 17:00");
        int64_t before[] = { dur("1d"), dur("1h"), dur("0d") };

        p.remind_before = before;
        p.n_remind_before = ELEMENTSOF(before);
        p.overdue_every = 0;
        p.n_escalation = 0;
        /* "0d" is the morning of the day; "1h" is exact. */
        ASSERT_SCHEDULE(&p, due, false, local("2025-05-01 00:00"), local("2025-06-01 00:00"),
                        { "2025-05-14 08:00:00", "before:1d" },
                        { "2025-05-15 08:00:00", "before:0d" },
                        { "2025-05-15 16:00:00", "before:1h" });
}

static void test_before_slot_after_deadline_is_dropped(void **state) {
        struct policy p = sonha();
        int64_t due = local("2025-05-15 07:00");

        p.n_escalation = 0;
        /* 08:00 on the day is after a 07:00 deadline: no "0d" reminder, the
         * next is the first overdue one. */
        ASSERT_SCHEDULE(&p, due, false, local("2025-05-13 00:00"), local("2025-05-16 23:00"),
                        { "2025-05-14 08:00:00", "before:1d" },
                        { "2025-05-16 08:00:00", "overdue:1" });
}

static void test_month_end(void **state) {
        struct policy p = sonha();
        int64_t due = date_due("2025-03-31");

        /* 1d is Sunday 30/3, moved to Friday 28/3 where 3d already is: one
         * reminder, the one with the time really left. */
        ASSERT_SCHEDULE(&p, due, true, local("2025-03-01 00:00"), local("2025-04-01 23:00"),
                        { "2025-03-17 08:00:00", "before:14d" },
                        { "2025-03-24 08:00:00", "before:7d" },
                        { "2025-03-28 08:00:00", "before:1d" },
                        { "2025-03-31 08:00:00", "before:0d" },
                        { "2025-04-01 08:00:00", "overdue:1" });
}

static void test_deadline_on_holiday_across_month(void **state) {
        struct policy p = sonha();
        int64_t due = date_due("2025-05-01");

        /* Due on a holiday: "0d" and "1d" both go back over 1/5 and 30/4
         * to Tuesday 29/4; the first overdue day is Friday 2/5. */
        ASSERT_SCHEDULE(&p, due, true, local("2025-04-01 00:00"), local("2025-05-05 23:00"),
                        { "2025-04-17 08:00:00", "before:14d" },
                        { "2025-04-24 08:00:00", "before:7d" },
                        { "2025-04-28 08:00:00", "before:3d" },
                        { "2025-04-29 08:00:00", "before:0d" },
                        { "2025-05-02 08:00:00", "overdue:1" },
                        { "2025-05-05 08:00:00", "overdue:2" },
                        { "2025-05-05 08:00:00", "escalate:1:3d" });
}

static void test_holiday_run_moves_back(void **state) {
        struct policy p = sonha();
        int64_t due = date_due("2025-05-02");

        /* 1d: Thursday 1/5 holiday, Wednesday 30/4 holiday, so Tuesday
         * 29/4 — where 3d falls too. */
        ASSERT_SCHEDULE(&p, due, true, local("2025-04-01 00:00"), local("2025-05-02 23:00"),
                        { "2025-04-18 08:00:00", "before:14d" },
                        { "2025-04-25 08:00:00", "before:7d" },
                        { "2025-04-29 08:00:00", "before:1d" },
                        { "2025-05-02 08:00:00", "before:0d" });
}

static void test_tet_holidays(void **state) {
        struct policy p = sonha();
        int32_t tet[9];
        int64_t due = date_due("2025-02-03");

        for (size_t i = 0; i < ELEMENTSOF(tet); i++)
                tet[i] = day_of("2025-01-25") + (int32_t) i;
        assert_int_equal(tet[8], day_of("2025-02-02"));
        p.holidays = tet;
        p.n_holidays = ELEMENTSOF(tet);
        /* 7d, 3d and 1d all fall in Tết and go back to Friday 24/1. */
        ASSERT_SCHEDULE(&p, due, true, local("2025-01-01 00:00"), local("2025-02-04 23:00"),
                        { "2025-01-20 08:00:00", "before:14d" },
                        { "2025-01-24 08:00:00", "before:1d" },
                        { "2025-02-03 08:00:00", "before:0d" },
                        { "2025-02-04 08:00:00", "overdue:1" });
}

static void test_leap_day(void **state) {
        struct policy p = sonha();

        p.n_escalation = 0;
        ASSERT_SCHEDULE(&p, date_due("2024-02-29"), true, local("2024-02-01 00:00"), local("2024-03-01 23:00"),
                        { "2024-02-15 08:00:00", "before:14d" },
                        { "2024-02-22 08:00:00", "before:7d" },
                        { "2024-02-26 08:00:00", "before:3d" },
                        { "2024-02-28 08:00:00", "before:1d" },
                        { "2024-02-29 08:00:00", "before:0d" },
                        { "2024-03-01 08:00:00", "overdue:1" });
        ASSERT_SCHEDULE(&p, date_due("2024-03-01"), true, local("2024-02-25 00:00"), local("2024-03-01 23:00"),
                        { "2024-02-27 08:00:00", "before:3d" },
                        { "2024-02-29 08:00:00", "before:1d" },
                        { "2024-03-01 08:00:00", "before:0d" });
}

static void test_extra_saturday_is_used(void **state) {
        struct policy p = sonha();
        int64_t due = date_due("2025-04-27");
        struct slot s;

        /* Due on Sunday 27/4: back to the Saturday worked, not to Friday. */
        assert_true(schedule_next(&p, due, true, local("2025-04-25 09:00"), &s));
        assert_string_equal(show(s.at), "2025-04-26 08:00:00");
        assert_int_equal(s.offset, 0);
        /* 3d before Tuesday 29/4 is that Saturday too. */
        due = date_due("2025-04-29");
        assert_true(schedule_next(&p, due, true, local("2025-04-25 09:00"), &s));
        assert_string_equal(show(s.at), "2025-04-26 08:00:00");
        assert_int_equal(s.offset, dur("3d"));
}

static void test_overdue_skips_weekends_and_holidays(void **state) {
        struct policy p = sonha();

        p.n_escalation = 0;
        /* Friday 25/4: the Saturday worked, Monday, Tuesday, then over the
         * 30/4–1/5 holidays and nothing at the weekend. */
        ASSERT_SCHEDULE(&p, date_due("2025-04-25"), true, local("2025-04-25 09:00"), local("2025-05-06 23:00"),
                        { "2025-04-26 08:00:00", "overdue:1" },
                        { "2025-04-28 08:00:00", "overdue:2" },
                        { "2025-04-29 08:00:00", "overdue:3" },
                        { "2025-05-02 08:00:00", "overdue:4" },
                        { "2025-05-05 08:00:00", "overdue:5" },
                        { "2025-05-06 08:00:00", "overdue:6" });
        /* National Day: 1/9 and 2/9 are holidays; the ladder waits too. */
        p = sonha();
        ASSERT_SCHEDULE(&p, date_due("2025-08-29"), true, local("2025-08-29 09:00"), local("2025-09-08 23:00"),
                        { "2025-09-03 08:00:00", "overdue:1" },
                        { "2025-09-03 08:00:00", "escalate:1:3d" },
                        { "2025-09-04 08:00:00", "overdue:2" },
                        { "2025-09-05 08:00:00", "overdue:3" },
                        { "2025-09-08 08:00:00", "overdue:4" },
                        { "2025-09-08 08:00:00", "escalate:2:10d" });
}

static void test_overdue_every_few_working_days(void **state) {
        struct policy p = sonha();

        p.overdue_every = dur("2d");
        p.n_escalation = 0;
        ASSERT_SCHEDULE(&p, date_due("2025-04-25"), true, local("2025-04-25 09:00"), local("2025-05-09 23:00"),
                        { "2025-04-28 08:00:00", "overdue:1" },
                        { "2025-05-02 08:00:00", "overdue:2" },
                        { "2025-05-06 08:00:00", "overdue:3" },
                        { "2025-05-08 08:00:00", "overdue:4" });
        /* Days count working days: "1w" is every seventh working day. */
        p.overdue_every = dur("1w");
        ASSERT_SCHEDULE(&p, date_due("2025-05-15"), true, local("2025-05-15 09:00"), local("2025-06-13 23:00"),
                        { "2025-05-26 08:00:00", "overdue:1" },
                        { "2025-06-04 08:00:00", "overdue:2" },
                        { "2025-06-13 08:00:00", "overdue:3" });
}

static void test_exact_offsets_without_send_at(void **state) {
        struct policy p = sonha();
        int64_t due = date_due("2025-05-15");

        /* No send_at: deadline − offset to the second, holidays and
         * weekends included; the ladder too. */
        p.send_at = -1;
        ASSERT_SCHEDULE(&p, due, true, local("2025-04-01 00:00"), local("2025-05-18 23:59:59"),
                        { "2025-05-01 23:59:59", "before:14d" },
                        { "2025-05-08 23:59:59", "before:7d" },
                        { "2025-05-12 23:59:59", "before:3d" },
                        { "2025-05-14 23:59:59", "before:1d" },
                        { "2025-05-15 23:59:59", "before:0d" },
                        { "2025-05-16 23:59:59", "overdue:1" },
                        { "2025-05-17 23:59:59", "overdue:2" },
                        { "2025-05-18 23:59:59", "overdue:3" },
                        { "2025-05-18 23:59:59", "escalate:1:3d" });
        /* With send_at, offsets that are not whole days stay exact. */
        p = sonha();
        int64_t before[] = { dur("36h"), dur("90m") };
        p.remind_before = before;
        p.n_remind_before = ELEMENTSOF(before);
        p.overdue_every = dur("12h");
        p.n_escalation = 0;
        ASSERT_SCHEDULE(&p, local("2025-05-17 10:00"), false, local("2025-05-01 00:00"), local("2025-05-18 12:00"),
                        { "2025-05-15 22:00:00", "before:36h" },
                        { "2025-05-17 08:30:00", "before:90m" },
                        { "2025-05-17 22:00:00", "overdue:1" },
                        { "2025-05-18 10:00:00", "overdue:2" });
}

static void test_second_sized_offset(void **state) {
        struct policy p = sonha();
        int64_t before[] = { dur("30s") };
        int64_t now = local("2025-05-15 16:59"), due = now + 60;
        struct slot s;

        p.remind_before = before;
        p.n_remind_before = 1;
        p.overdue_every = 0;
        p.n_escalation = 0;
        assert_true(schedule_next(&p, due, false, now, &s));
        assert_int_equal(s.at, due - 30);
        assert_true(schedule_next(&p, due, false, due - 31, &s));
        assert_int_equal(s.at, due - 30);
        assert_false(schedule_next(&p, due, false, due - 30, &s));
        assert_int_equal(schedule_due(&p, due, false, now, due + 3600, (struct slot[1]) {}), 1);
}

static void test_local_send_time_across_dst(void **state) {
        struct policy p = sonha();
        struct slot s[8];
        size_t n;

        p.n_escalation = 0;
        p.overdue_every = 0;
        /* Berlin moves to summer time on 30/3: 08:00 is 07:00 UTC before
         * and 06:00 UTC after. */
        use_tz("Europe/Berlin");
        n = list_slots(&p, date_due("2025-04-03"), true, local("2025-03-01 00:00"), local("2025-04-04 00:00"), s, 8);
        assert_int_equal(n, 5);
        assert_string_equal(show(s[0].at), "2025-03-20 08:00:00");
        assert_string_equal(show(s[1].at), "2025-03-27 08:00:00");
        assert_string_equal(show(s[2].at), "2025-03-31 08:00:00");
        assert_string_equal(show(s[3].at), "2025-04-02 08:00:00");
        assert_string_equal(show(s[4].at), "2025-04-03 08:00:00");
        assert_int_equal(s[1].at % DAY, 7 * 3600);
        assert_int_equal(s[2].at % DAY, 6 * 3600);
        assert_int_equal(s[2].at - s[1].at, 4 * DAY - 3600);

        /* The same policy in Viet Nam: 08:00 is 01:00 UTC every day. */
        use_tz("Asia/Ho_Chi_Minh");
        n = list_slots(&p, date_due("2025-04-03"), true, local("2025-03-01 00:00"), local("2025-04-04 00:00"), s, 8);
        assert_int_equal(n, 5);
        assert_string_equal(show(s[1].at), "2025-03-27 08:00:00");
        assert_string_equal(show(s[2].at), "2025-03-31 08:00:00");
        assert_int_equal(s[1].at % DAY, 1 * 3600);
        assert_int_equal(s[2].at - s[1].at, 4 * DAY);
}

static void test_exact_offset_across_dst(void **state) {
        struct policy p = sonha();
        int64_t before[] = { dur("12h") };
        struct slot s;

        p.remind_before = before;
        p.n_remind_before = 1;
        use_tz("Europe/Berlin");
        /* Twelve real hours before noon on the day the clocks go forward
         * is 23:00 the evening before. */
        int64_t due = local("2025-03-30 12:00");
        assert_true(schedule_next(&p, due, false, local("2025-03-29 00:00"), &s));
        assert_int_equal(s.at, due - 12 * 3600);
        assert_string_equal(show(s.at), "2025-03-29 23:00:00");
}

/* An escalation "3d" without send_at is on the third calendar day after
 * the deadline's day, at the deadline's time of day: 72 real hours after
 * 00:30 on Friday 24/10 are 23:30 on Sunday, the day the clocks go back,
 * which would be the second day. */
static void test_escalation_days_across_dst(void **state) {
        struct policy p = sonha();
        struct escalation ladder[] = { { .after = dur("3d") }, { .after = dur("12h") } };
        struct slot s;

        p.send_at = -1;
        p.n_remind_before = 0;
        p.overdue_every = 0;
        p.escalation = ladder;
        p.n_escalation = 1;
        use_tz("Europe/Berlin");
        int64_t due = local("2025-10-24 00:30");
        assert_true(schedule_next(&p, due, false, due, &s));
        assert_int_equal(s.kind, SLOT_ESCALATE);
        assert_string_equal(show(s.at), "2025-10-27 00:30:00");
        /* Going forward (30/3), never the day after. */
        due = date_due("2025-03-28");
        assert_true(schedule_next(&p, due, true, due, &s));
        assert_string_equal(show(s.at), "2025-03-31 23:59:59");
        /* "12h" counts real hours from the deadline's instant. */
        ladder[0] = ladder[1];
        due = local("2025-10-25 20:00");
        assert_true(schedule_next(&p, due, false, due, &s));
        assert_int_equal(s.at, due + 12 * 3600);
        assert_string_equal(show(s.at), "2025-10-26 07:00:00");
}

static void test_no_further_slot(void **state) {
        struct policy p = sonha();
        int64_t due = date_due("2025-05-15");
        struct slot s = { .at = 42 };

        p.overdue_every = 0;
        p.n_escalation = 0;
        assert_true(schedule_next(&p, due, true, local("2025-05-14 08:00"), &s));
        assert_false(schedule_next(&p, due, true, local("2025-05-15 08:00"), &s));
        assert_string_equal(show(s.at), "2025-05-15 08:00:00");
        /* The ladder alone still has a step. */
        p.n_escalation = 2;
        assert_true(schedule_next(&p, due, true, local("2025-05-15 08:00"), &s));
        assert_int_equal(s.kind, SLOT_ESCALATE);
        assert_false(schedule_next(&p, due, true, local("2025-05-26 08:00"), &s));
        /* No policy at all. */
        p = (struct policy) { .send_at = -1, .workdays = MON_FRI };
        assert_false(schedule_next(&p, due, true, 0, &s));
        assert_int_equal(schedule_due(&p, due, true, 0, INT64_MAX, &s), 0);
}

static void test_same_instant_order(void **state) {
        struct policy p = sonha();
        int64_t due = date_due("2025-05-15"), at = local("2025-05-19 08:00");
        struct slot s, out[3];

        assert_true(schedule_next(&p, due, true, at - 1, &s));
        assert_int_equal(s.kind, SLOT_OVERDUE);
        assert_int_equal(s.at, at);
        assert_int_equal(schedule_due(&p, due, true, at - 1, at, out), 2);
        assert_int_equal(out[0].kind, SLOT_OVERDUE);
        assert_int_equal(out[1].kind, SLOT_ESCALATE);
        assert_int_equal(out[1].level, 0);
}

static void test_keys_stable_when_send_at_changes(void **state) {
        struct policy p = sonha();
        int64_t due = date_due("2025-05-15");
        struct slot a[32], b[32];
        size_t n, m;

        n = list_slots(&p, due, true, 0, local("2025-05-27 00:00"), a, ELEMENTSOF(a));
        p.send_at = 14 * 60 + 30;
        m = list_slots(&p, due, true, 0, local("2025-05-27 00:00"), b, ELEMENTSOF(b));
        assert_int_equal(n, 14);
        assert_int_equal(m, n);
        for (size_t i = 0; i < n; i++) {
                assert_string_equal(a[i].key, b[i].key);
                assert_int_equal(b[i].at - a[i].at, 6 * 3600 + 1800);
        }
        /* Exact offsets: the same keys again. */
        p.send_at = -1;
        assert_true(schedule_next(&p, due, true, local("2025-05-14 00:00"), &b[0]));
        assert_string_equal(b[0].key, a[3].key);
        /* Another deadline is another series. */
        assert_true(schedule_next(&p, due + DAY, true, local("2025-05-14 00:00"), &b[0]));
        assert_string_not_equal(b[0].key, a[3].key);
}

static void test_escalation_never_before_deadline(void **state) {
        struct policy p = sonha();
        struct escalation ladder[] = { { .after = 0 }, { .after = dur("1d") } };
        struct slot s, out[3];

        p.escalation = ladder;
        p.n_escalation = ELEMENTSOF(ladder);
        p.overdue_every = 0;
        /* "0d" after a deadline at 17:00: not the morning of that day, but
         * the next working morning, with "1d". */
        int64_t due = local("2025-05-16 17:00");
        assert_true(schedule_next(&p, due, false, local("2025-05-16 08:00"), &s));
        assert_int_equal(s.kind, SLOT_ESCALATE);
        assert_string_equal(show(s.at), "2025-05-19 08:00:00");
        assert_int_equal(schedule_due(&p, due, false, due, local("2025-05-19 08:00"), out), 2);
        assert_string_equal(show(out[1].at), "2025-05-19 08:00:00");
        /* Exact: the second after the deadline. */
        p.send_at = -1;
        assert_true(schedule_next(&p, due, false, due, &s));
        assert_int_equal(s.kind, SLOT_ESCALATE);
        assert_int_equal(s.at, due + 1);
}

static void test_date_only_ends_the_day(void **state) {
        struct policy p = sonha();
        int64_t midnight = local("2025-05-15 00:00"), end = date_due("2025-05-15");
        struct slot a, b;

        /* A date-only deadline stored at the start of its day is still due
         * at 23:59:59: exact offsets count from there. */
        p.send_at = -1;
        assert_true(schedule_next(&p, midnight, true, local("2025-05-14 12:00"), &a));
        assert_true(schedule_next(&p, end, true, local("2025-05-14 12:00"), &b));
        assert_int_equal(a.at, b.at);
        assert_string_equal(show(a.at), "2025-05-14 23:59:59");
        /* Given as a moment, it is that moment. */
        assert_true(schedule_next(&p, midnight, false, local("2025-05-13 12:00"), &a));
        assert_string_equal(show(a.at), "2025-05-14 00:00:00");
}

/* An assignment notice goes at once, or in digest mode at the next
 * briefing: send_at on a working day, today's if still to come, skipping
 * weekends and holidays; at once when the deadline comes first. */
static void test_notice_time(void **state) {
        struct policy p = sonha();
        int64_t due = date_due("2025-05-30");

        p.digest = false;
        assert_int_equal(schedule_notice_at(&p, due, local("2025-05-05 10:00")), local("2025-05-05 10:00"));
        p.digest = true;
        assert_int_equal(schedule_notice_at(&p, due, local("2025-05-05 10:00")), local("2025-05-06 08:00"));
        assert_int_equal(schedule_notice_at(&p, due, local("2025-05-05 07:00")), local("2025-05-05 08:00"));
        assert_int_equal(schedule_notice_at(&p, due, local("2025-05-05 08:00")), local("2025-05-05 08:00"));
        assert_int_equal(schedule_notice_at(&p, due, local("2025-05-09 14:55")), local("2025-05-12 08:00"));
        /* Tuesday 29/4, before the holidays of 30/4 and 1/5: Friday 2/5. */
        assert_int_equal(schedule_notice_at(&p, due, local("2025-04-29 10:00")), local("2025-05-02 08:00"));
        /* Due before the briefing, or at it: at once. */
        int64_t friday = local("2025-05-09 17:00");
        assert_int_equal(schedule_notice_at(&p, friday, local("2025-05-09 14:55")), local("2025-05-09 14:55"));
        assert_int_equal(schedule_notice_at(&p, local("2025-05-12 08:00"), local("2025-05-09 14:55")),
                         local("2025-05-09 14:55"));
        p.send_at = -1;
        assert_int_equal(schedule_notice_at(&p, due, local("2025-05-05 10:00")), local("2025-05-05 10:00"));
}

/* Whether a reminder before the deadline is still to come. */
static void test_reminder_left(void **state) {
        struct policy p = sonha();

        assert_true(schedule_reminder_left(&p, date_due("2025-05-30"), true, local("2025-05-05 10:00")));
        /* The day's own reminder (0d, at 08:00) is still to come, then not. */
        assert_true(schedule_reminder_left(&p, date_due("2025-05-15"), true, local("2025-05-15 07:00")));
        assert_false(schedule_reminder_left(&p, date_due("2025-05-15"), true, local("2025-05-15 08:00")));
        /* Friday 14:55, due at 17:00: the day's reminder went at 08:00. */
        assert_false(schedule_reminder_left(&p, local("2025-05-09 17:00"), false, local("2025-05-09 14:55")));
        /* Past the deadline: none. */
        assert_false(schedule_reminder_left(&p, date_due("2025-05-01"), true, local("2025-05-05 10:00")));
        /* Without send_at, 0d falls at the deadline's instant: not before it. */
        p.send_at = -1;
        assert_false(schedule_reminder_left(&p, local("2025-05-09 17:00"), false, local("2025-05-09 16:00")));
        assert_true(schedule_reminder_left(&p, local("2025-05-09 17:00"), false, local("2025-05-08 16:00")));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_workday_rules),
                cmocka_unit_test(test_notice_time),
                cmocka_unit_test(test_reminder_left),
                cmocka_unit_test(test_every_slot_of_a_date_deadline),
                cmocka_unit_test(test_slot_fields),
                cmocka_unit_test(test_datetime_deadline),
                cmocka_unit_test(test_before_slot_after_deadline_is_dropped),
                cmocka_unit_test(test_month_end),
                cmocka_unit_test(test_deadline_on_holiday_across_month),
                cmocka_unit_test(test_holiday_run_moves_back),
                cmocka_unit_test(test_tet_holidays),
                cmocka_unit_test(test_leap_day),
                cmocka_unit_test(test_extra_saturday_is_used),
                cmocka_unit_test(test_overdue_skips_weekends_and_holidays),
                cmocka_unit_test(test_overdue_every_few_working_days),
                cmocka_unit_test(test_exact_offsets_without_send_at),
                cmocka_unit_test(test_second_sized_offset),
                cmocka_unit_test_teardown(test_local_send_time_across_dst, reset_tz),
                cmocka_unit_test_teardown(test_exact_offset_across_dst, reset_tz),
                cmocka_unit_test_teardown(test_escalation_days_across_dst, reset_tz),
                cmocka_unit_test(test_no_further_slot),
                cmocka_unit_test(test_same_instant_order),
                cmocka_unit_test(test_keys_stable_when_send_at_changes),
                cmocka_unit_test(test_escalation_never_before_deadline),
                cmocka_unit_test(test_date_only_ends_the_day),
        };
        return cmocka_run_group_tests(tests, reset_tz, NULL);
}
