/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "timeutil.h"

static void use_tz(const char *tz) {
        setenv("TZ", tz, 1);
        tzset();
}

static int reset_tz(void **state) {
        use_tz("Asia/Ho_Chi_Minh");
        return 0;
}

static void test_civil_round_trip(void **state) {
        for (int32_t d = days_from_civil(1970, 1, 1); d < days_from_civil(2101, 1, 1); d++) {
                int y, m, dd;
                civil_from_days(d, &y, &m, &dd);
                assert_true(civil_valid(y, m, dd));
                assert_int_equal(days_from_civil(y, m, dd), d);
        }
        assert_int_equal(days_from_civil(1970, 1, 1), 0);
        assert_int_equal(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28), 2);
        assert_int_equal(days_from_civil(2100, 3, 1) - days_from_civil(2100, 2, 28), 1);
}

static void test_weekday(void **state) {
        assert_int_equal(weekday_from_days(0), 4);                                /* Thursday */
        assert_int_equal(weekday_from_days(days_from_civil(2025, 4, 30)), 3);     /* Wednesday */
        assert_int_equal(weekday_from_days(days_from_civil(2025, 4, 26)), 6);     /* Saturday */
        assert_int_equal(weekday_from_days(days_from_civil(1969, 12, 31)), 3);
}

static void test_leap_years(void **state) {
        assert_int_equal(days_in_month(2024, 2), 29);
        assert_int_equal(days_in_month(2025, 2), 28);
        assert_int_equal(days_in_month(2000, 2), 29);
        assert_int_equal(days_in_month(2100, 2), 28);
        assert_true(civil_valid(2024, 2, 29));
        assert_false(civil_valid(2025, 2, 29));
        assert_false(civil_valid(2025, 4, 31));
        assert_false(civil_valid(2025, 13, 1));
        assert_false(civil_valid(20255, 1, 1));
}

static void test_parse_duration_units(void **state) {
        int64_t d;
        assert_int_equal(parse_duration("90s", &d), 0), assert_int_equal(d, 90);
        assert_int_equal(parse_duration("15m", &d), 0), assert_int_equal(d, 900);
        assert_int_equal(parse_duration("12h", &d), 0), assert_int_equal(d, 43200);
        assert_int_equal(parse_duration("7d", &d), 0), assert_int_equal(d, 604800);
        assert_int_equal(parse_duration("2w", &d), 0), assert_int_equal(d, 1209600);
        assert_int_equal(parse_duration("0d", &d), 0), assert_int_equal(d, 0);
}

static void test_parse_duration_rejects(void **state) {
        int64_t d = 42;
        const char *bad[] = { "", "d", "7", "7x", "7 d", " 7d", "7d ", "-7d", "+7d", "7dd", "1.5h", "7D" };
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
                assert_int_equal(parse_duration(bad[i], &d), -EINVAL);
        assert_int_equal(parse_duration("99999999999d", &d), -ERANGE);
        assert_int_equal(parse_duration("5000d", &d), -ERANGE);
        assert_int_equal(d, 42);
}

static void test_format_duration_round_trips(void **state) {
        const int64_t v[] = { 0, 1, 59, 60, 90, 3600, 86400, 7 * 86400, 14 * 86400, 86400 + 1 };
        char buf[32];
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
                int64_t back;
                format_duration(v[i], buf, sizeof buf);
                assert_int_equal(parse_duration(buf, &back), 0);
                assert_int_equal(back, v[i]);
        }
        format_duration(14 * 86400, buf, sizeof buf);
        assert_string_equal(buf, "14d");
}

static void test_parse_hhmm(void **state) {
        int m;
        assert_int_equal(parse_hhmm("08:00", &m), 0), assert_int_equal(m, 480);
        assert_int_equal(parse_hhmm("8:05", &m), 0), assert_int_equal(m, 485);
        assert_int_equal(parse_hhmm("23:59", &m), 0), assert_int_equal(m, 1439);
        assert_int_equal(parse_hhmm("24:00", &m), -ERANGE);
        assert_int_equal(parse_hhmm("12:60", &m), -ERANGE);
        assert_int_equal(parse_hhmm("12:5", &m), -EINVAL);
        assert_int_equal(parse_hhmm("noon", &m), -EINVAL);
        assert_int_equal(parse_hhmm("08:00:00", &m), -EINVAL);
}

static void test_parse_iso_date(void **state) {
        int32_t d;
        char buf[11];
        assert_int_equal(parse_iso_date("2025-04-30", &d), 0);
        format_iso_date(d, buf);
        assert_string_equal(buf, "2025-04-30");
        assert_int_equal(parse_iso_date("2025-02-29", &d), -ERANGE);
        assert_int_equal(parse_iso_date("2025-4-30", &d), -EINVAL);
        assert_int_equal(parse_iso_date("2025-04-30x", &d), -EINVAL);
        assert_int_equal(parse_iso_date("30/4/2025", &d), -EINVAL);
}

static void test_parse_weekday(void **state) {
        assert_int_equal(parse_weekday("mon"), 1);
        assert_int_equal(parse_weekday("Sunday"), 0);
        assert_int_equal(parse_weekday("sat"), 6);
        assert_int_equal(parse_weekday("mo"), -EINVAL);
        assert_int_equal(parse_weekday("funday"), -EINVAL);
}

static void test_parse_due_forms(void **state) {
        struct due d;
        char buf[17];

        assert_int_equal(parse_due("2025-04-30", 0, &d), 0);
        format_due(&d, buf);
        assert_string_equal(buf, "2025-04-30");
        assert_int_equal(d.minute, -1);

        assert_int_equal(parse_due("30/4/2025", 0, &d), 0);
        format_due(&d, buf);
        assert_string_equal(buf, "2025-04-30");

        assert_int_equal(parse_due("2025-04-30T17:00", 0, &d), 0);
        format_due(&d, buf);
        assert_string_equal(buf, "2025-04-30T17:00");

        assert_int_equal(parse_due("30/04/2025 09:30", 0, &d), 0);
        format_due(&d, buf);
        assert_string_equal(buf, "2025-04-30T09:30");
}

static void test_parse_due_relative(void **state) {
        struct due d;
        char buf[17];
        int64_t now = local_to_instant(days_from_civil(2025, 4, 28), 10 * 3600);

        assert_int_equal(parse_due("+7d", now, &d), 0);
        format_due(&d, buf);
        assert_string_equal(buf, "2025-05-05");

        assert_int_equal(parse_due("+90m", now, &d), 0);
        format_due(&d, buf);
        assert_string_equal(buf, "2025-04-28T11:30");
}

static void test_parse_due_rejects(void **state) {
        struct due d;
        assert_int_equal(parse_due("31/4/2025", 0, &d), -ERANGE);
        assert_int_equal(parse_due("2025-02-30", 0, &d), -ERANGE);
        assert_int_equal(parse_due("tomorrow", 0, &d), -EINVAL);
        assert_int_equal(parse_due("", 0, &d), -EINVAL);
        assert_int_equal(parse_due("+7", 0, &d), -EINVAL);
        assert_int_equal(parse_due("2025-04-30T25:00", 0, &d), -ERANGE);
        assert_int_equal(parse_due("30/4/2025x", 0, &d), -EINVAL);
        assert_int_equal(parse_due("1/1/1969", 0, &d), -ERANGE);
}

static void test_due_instant_end_of_day(void **state) {
        struct due d = { .day = days_from_civil(2025, 4, 30), .minute = -1 };
        /* 23:59:59 in Hanoi (UTC+7) is 16:59:59 UTC. */
        assert_int_equal(due_instant(&d), (int64_t) d.day * 86400 + 16 * 3600 + 59 * 60 + 59);
        d.minute = 17 * 60;
        assert_int_equal(due_instant(&d), (int64_t) d.day * 86400 + 10 * 3600);
}

static void test_format_due_vn(void **state) {
        struct due d = { .day = days_from_civil(2024, 4, 30), .minute = -1 };
        char buf[24];
        format_due_vn(&d, buf);
        assert_string_equal(buf, "30/4/2024");
        d.minute = 17 * 60 + 5;
        format_due_vn(&d, buf);
        assert_string_equal(buf, "30/4/2024 17:05");
}

static void test_local_time_in_dst_zone(void **state) {
        int32_t day;
        int64_t sec;

        use_tz("Europe/Berlin");
        /* 2025-03-30 02:30 does not exist in Berlin: read with the offset
         * before the gap (+01:00), it is 01:30 UTC. */
        int32_t gap = days_from_civil(2025, 3, 30);
        assert_int_equal(local_to_instant(gap, 2 * 3600 + 1800), (int64_t) gap * 86400 + 3600 + 1800);
        /* 2025-10-26 02:30 happens twice: the first is 00:30 UTC. */
        int32_t fold = days_from_civil(2025, 10, 26);
        assert_int_equal(local_to_instant(fold, 2 * 3600 + 1800), (int64_t) fold * 86400 + 1800);
        /* Ordinary times read back. */
        int64_t t = local_to_instant(days_from_civil(2025, 7, 1), 8 * 3600);
        instant_to_local(t, &day, &sec);
        assert_int_equal(day, days_from_civil(2025, 7, 1));
        assert_int_equal(sec, 8 * 3600);
        reset_tz(NULL);
}

/* local_to_instant() keeps its last answers: a time asked again after TZ
 * names another zone is read in that zone, and answers evicted and made
 * again (more keys than it keeps, in another order) are the same. */
static void test_local_to_instant_follows_tz(void **state) {
        int32_t d = days_from_civil(2025, 7, 1);
        static int64_t first[366][3];
        const int64_t secs[3] = { 8 * 3600, 2 * 3600 + 1800, 86399 };

        use_tz("Asia/Ho_Chi_Minh");
        assert_int_equal(local_to_instant(d, 8 * 3600), (int64_t) d * 86400 + 3600);
        use_tz("Europe/Berlin");
        assert_int_equal(local_to_instant(d, 8 * 3600), (int64_t) d * 86400 + 6 * 3600);
        use_tz("Asia/Ho_Chi_Minh");
        assert_int_equal(local_to_instant(d, 8 * 3600), (int64_t) d * 86400 + 3600);

        use_tz("Europe/Berlin");
        int32_t jan1 = days_from_civil(2025, 1, 1), gap = days_from_civil(2025, 3, 30);
        for (int i = 0; i < 365; i++)
                for (int k = 0; k < 3; k++) {
                        int32_t day;
                        int64_t sec;

                        first[i][k] = local_to_instant(jan1 + i, secs[k]);
                        instant_to_local(first[i][k], &day, &sec);
                        if (jan1 + i == gap && k == 1)
                                continue;       /* 02:30 that day does not exist */
                        assert_int_equal(day, jan1 + i);
                        assert_int_equal(sec, secs[k]);
                }
        for (int i = 364; i >= 0; i--)
                for (int k = 2; k >= 0; k--)
                        assert_int_equal(local_to_instant(jan1 + i, secs[k]), first[i][k]);
        reset_tz(NULL);
}

static void test_parse_instant(void **state) {
        int64_t t;
        char buf[26];
        assert_int_equal(parse_instant("2025-04-28T08:00", &t), 0);
        format_rfc3339(t, buf);
        assert_string_equal(buf, "2025-04-28T08:00:00+07:00");
        assert_int_equal(parse_instant("2025-04-28T01:00:00Z", &t), 0);
        format_local(t, buf);
        assert_string_equal(buf, "2025-04-28 08:00:00");
        assert_int_equal(parse_instant("2025-04-28T08:00+07:00", &t), 0);
        format_local(t, buf);
        assert_string_equal(buf, "2025-04-28 08:00:00");
        assert_int_equal(parse_instant("@86400", &t), 0), assert_int_equal(t, 86400);
        assert_int_equal(parse_instant("yesterday", &t), -EINVAL);
        assert_int_equal(parse_instant("2025-04-28T08", &t), -EINVAL);
}

static void test_timezone_exists(void **state) {
        assert_true(timezone_exists("Asia/Ho_Chi_Minh"));
        assert_true(timezone_exists("UTC"));
        assert_false(timezone_exists("Mars/Olympus"));
        assert_false(timezone_exists("../../etc/passwd"));
        assert_false(timezone_exists("/etc/localtime"));
        assert_false(timezone_exists(""));
        assert_int_equal(timezone_set("Mars/Olympus"), -ENOENT);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_civil_round_trip),
                cmocka_unit_test(test_weekday),
                cmocka_unit_test(test_leap_years),
                cmocka_unit_test(test_parse_duration_units),
                cmocka_unit_test(test_parse_duration_rejects),
                cmocka_unit_test(test_format_duration_round_trips),
                cmocka_unit_test(test_parse_hhmm),
                cmocka_unit_test(test_parse_iso_date),
                cmocka_unit_test(test_parse_weekday),
                cmocka_unit_test(test_parse_due_forms),
                cmocka_unit_test(test_parse_due_relative),
                cmocka_unit_test(test_parse_due_rejects),
                cmocka_unit_test(test_due_instant_end_of_day),
                cmocka_unit_test(test_format_due_vn),
                cmocka_unit_test(test_local_time_in_dst_zone),
                cmocka_unit_test(test_local_to_instant_follows_tz),
                cmocka_unit_test(test_parse_instant),
                cmocka_unit_test(test_timezone_exists),
        };
        return cmocka_run_group_tests(tests, reset_tz, NULL);
}
