/* SPDX-License-Identifier: GPL-2.0-or-later */
/* How late a task is: whole calendar days after the deadline's day. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lateness.h"
#include "macro.h"

static void use_tz(const char *tz) {
        setenv("TZ", tz, 1);
        tzset();
}

static int reset_tz(void **state) {
        use_tz("Asia/Ho_Chi_Minh");
        return 0;
}

static int64_t local(const char *s) {
        int64_t t;
        assert_int_equal(parse_instant(s, &t), 0);
        return t;
}

/* "2025-05-02" or "2025-05-02T17:00". */
static struct due due_of(const char *s) {
        struct due d;
        assert_int_equal(parse_due(s, 0, &d), 0);
        return d;
}

static const char *text(const char *due, const char *now) {
        static char buf[LATENESS_TEXT_MAX];
        struct due d = due_of(due);
        struct lateness l;

        lateness_of(&d, local(now), &l);
        lateness_format(&l, buf);
        return buf;
}

static int64_t days_overdue(const char *due, const char *now) {
        struct due d = due_of(due);
        struct lateness l;

        lateness_of(&d, local(now), &l);
        assert_int_equal(l.days_overdue, lateness_days_overdue(due_instant(&d), d.day, local(now)));
        return l.days_overdue;
}

static bool reached(const char *due, const char *now, const char *after) {
        struct due d = due_of(due);
        int64_t a;

        assert_int_equal(parse_duration(after, &a), 0);
        return lateness_reached(due_instant(&d), d.day, local(now), a);
}

static void test_date_only_deadline(void **state) {
        /* Due Wednesday 30/4: the whole day is "today", the next is day 1. */
        assert_string_equal(text("2025-04-27", "2025-04-24 08:00"), "3 days left");
        assert_string_equal(text("2025-04-30", "2025-04-29 23:59"), "1 day left");
        assert_string_equal(text("2025-04-30", "2025-04-30 00:00"), "due today");
        assert_string_equal(text("2025-04-30", "2025-04-30 23:59:59"), "due today");
        assert_int_equal(days_overdue("2025-04-30", "2025-04-30 23:59:59"), 0);
        assert_string_equal(text("2025-04-30", "2025-05-01 00:00"), "1 day overdue");
        assert_int_equal(days_overdue("2025-04-30", "2025-05-01 00:00"), 1);
        assert_int_equal(days_overdue("2025-04-30", "2025-05-01 23:59"), 1);
        /* 3 days and 14 hours after its instant, 4 calendar days after its
         * day: the office says 4. */
        assert_string_equal(text("2025-04-30", "2025-05-04 14:00"), "4 days overdue");
        assert_int_equal(days_overdue("2025-04-30", "2025-05-04 14:00"), 4);
}

static void test_deadline_with_a_time(void **state) {
        assert_string_equal(text("2025-04-30T17:00", "2025-04-30 12:00"), "5 hours left");
        assert_string_equal(text("2025-04-30T17:00", "2025-04-30 16:15"), "45 minutes left");
        assert_string_equal(text("2025-04-30T17:00", "2025-04-30 17:00:30"), "due now");
        assert_string_equal(text("2025-04-30T17:00", "2025-04-28 20:00"), "2 days left");
        /* Past its time on its own day: hours, and 0 days overdue. */
        assert_string_equal(text("2025-04-30T17:00", "2025-04-30 20:30"), "3 hours overdue");
        assert_int_equal(days_overdue("2025-04-30T17:00", "2025-04-30 20:30"), 0);
        assert_string_equal(text("2025-04-30T17:00", "2025-04-30 17:05"), "5 minutes overdue");
        /* The next morning is the first day after its day, 16 hours on. */
        assert_string_equal(text("2025-04-30T17:00", "2025-05-01 09:00"), "1 day overdue");
        assert_int_equal(days_overdue("2025-04-30T17:00", "2025-05-01 09:00"), 1);
        assert_string_equal(text("2025-04-30T23:30", "2025-05-01 00:10"), "1 day overdue");
        assert_int_equal(days_overdue("2025-04-30T17:00", "2025-05-02 09:00"), 2);
}

static void test_across_a_weekend(void **state) {
        /* Due Friday 2/5: Saturday, Sunday and Monday are days 1, 2 and 3
         * (calendar days, not working days). */
        assert_int_equal(days_overdue("2025-05-02", "2025-05-03 08:00"), 1);
        assert_int_equal(days_overdue("2025-05-02", "2025-05-04 08:00"), 2);
        assert_int_equal(days_overdue("2025-05-02", "2025-05-05 08:00"), 3);
        assert_string_equal(text("2025-05-02", "2025-05-05 08:00"), "3 days overdue");
        assert_false(reached("2025-05-02", "2025-05-04 23:59:59", "3d"));
        assert_true(reached("2025-05-02", "2025-05-05 00:00", "3d"));
        assert_true(reached("2025-05-02T17:00", "2025-05-05 00:00", "3d"));
}

static void test_across_dst(void **state) {
        use_tz("Europe/Berlin");
        /* The clocks go forward on Sunday 30/3/2025: from the end of Friday
         * 28/3 to half past midnight on Monday are 47.5 hours, yet Monday is
         * the third day. */
        assert_int_equal(days_overdue("2025-03-28", "2025-03-31 00:30"), 3);
        assert_string_equal(text("2025-03-28", "2025-03-31 00:30"), "3 days overdue");
        assert_true(reached("2025-03-28", "2025-03-31 00:30", "3d"));
        /* They go back on Sunday 26/10: 72 hours after 00:30 on Friday 24/10
         * is still Sunday evening, the second day. */
        assert_int_equal(days_overdue("2025-10-24T00:30", "2025-10-26 23:45"), 2);
        assert_false(reached("2025-10-24T00:30", "2025-10-26 23:45", "3d"));
        assert_true(reached("2025-10-24T00:30", "2025-10-27 00:00", "3d"));
        /* Hours are real hours: 12 after 20:00 on 25/10 are 07:00. */
        assert_false(reached("2025-10-25T20:00", "2025-10-26 06:59", "12h"));
        assert_true(reached("2025-10-25T20:00", "2025-10-26 07:00", "12h"));
}

static void test_reached_needs_the_deadline_passed(void **state) {
        assert_false(reached("2025-04-30T17:00", "2025-04-30 17:00", "0d"));
        assert_true(reached("2025-04-30T17:00", "2025-04-30 17:00:01", "0d"));
        assert_false(reached("2025-04-30T17:00", "2025-04-30 16:00", "1d"));
        assert_true(reached("2025-04-30T17:00", "2025-05-01 00:00", "1d"));
        assert_false(reached("2025-04-30T17:00", "2025-05-01 04:59", "12h"));
        assert_true(reached("2025-04-30T17:00", "2025-05-01 05:00", "12h"));
        /* Before the deadline nothing is overdue, whatever the day. */
        assert_int_equal(days_overdue("2025-05-02", "2025-04-01 08:00"), 0);
}

static void test_seconds_left(void **state) {
        struct due d = due_of("2025-04-30T17:00");
        struct lateness l;

        lateness_of(&d, local("2025-04-30 18:00"), &l);
        assert_int_equal(l.seconds_left, -3600);
        assert_int_equal(l.state, LATENESS_OVERDUE);
        assert_int_equal(l.unit, LATENESS_HOURS);
        assert_int_equal(l.n, 1);
        assert_string_equal(text("2025-04-30T17:00", "2025-04-30 18:00"), "1 hour overdue");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_date_only_deadline),
                cmocka_unit_test(test_deadline_with_a_time),
                cmocka_unit_test(test_across_a_weekend),
                cmocka_unit_test_teardown(test_across_dst, reset_tz),
                cmocka_unit_test(test_reached_needs_the_deadline_passed),
                cmocka_unit_test(test_seconds_left),
        };
        return cmocka_run_group_tests(tests, reset_tz, NULL);
}
