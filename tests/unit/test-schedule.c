/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "schedule.h"
#include "timeutil.h"

#define DAY SEC_PER_DAY
#define MON_FRI 0x3e /* bits 1..5 */

static void use_tz(const char *tz) {
        setenv("TZ", tz, 1);
        tzset();
}

static int reset_tz(void **state) {
        use_tz("Asia/Ho_Chi_Minh");
        return 0;
}

static int64_t dur(const char *s) {
        int64_t v;
        assert_int_equal(parse_duration(s, &v), 0);
        return v;
}

static int32_t day_of(const char *s) {
        int32_t d;
        assert_int_equal(parse_iso_date(s, &d), 0);
        return d;
}

/* Local time "2025-05-15 17:00" in the process zone. */
static int64_t local(const char *s) {
        int64_t t;
        assert_int_equal(parse_instant(s, &t), 0);
        return t;
}

static int64_t date_due(const char *s) {
        struct due d = { .day = day_of(s), .minute = -1 };
        return due_instant(&d);
}

static const char *show(int64_t t) {
        static char buf[4][20];
        static unsigned i;
        char *b = buf[i++ % 4];
        format_local(t, b);
        return b;
}

/* The policy of the sample province (samples/sonha.conf). Tests change
 * their copy; the arrays behind it are rebuilt on every call. */
static int64_t sonha_before[5];
static struct escalation sonha_escalation[2];
static int32_t sonha_holidays[4], sonha_extra[1];

static struct policy sonha(void) {
        const char *before[] = { "14d", "7d", "3d", "1d", "0d" };
        const char *holidays[] = { "2025-04-30", "2025-05-01", "2025-09-01", "2025-09-02" };

        for (size_t i = 0; i < ELEMENTSOF(before); i++)
                sonha_before[i] = dur(before[i]);
        sonha_escalation[0] = (struct escalation) { .after = dur("3d") };
        sonha_escalation[1] = (struct escalation) { .after = dur("10d") };
        for (size_t i = 0; i < ELEMENTSOF(holidays); i++)
                sonha_holidays[i] = day_of(holidays[i]);
        sonha_extra[0] = day_of("2025-04-26");
        return (struct policy) {
                .remind_before = sonha_before,
                .n_remind_before = ELEMENTSOF(sonha_before),
                .send_at = 8 * 60,
                .overdue_every = dur("1d"),
                .escalation = sonha_escalation,
                .n_escalation = ELEMENTSOF(sonha_escalation),
                .workdays = MON_FRI,
                .holidays = sonha_holidays,
                .n_holidays = ELEMENTSOF(sonha_holidays),
                .extra_workdays = sonha_extra,
                .n_extra_workdays = ELEMENTSOF(sonha_extra),
                .digest = true,
        };
}

struct expect {
        const char *at;  /* local time */
        const char *key; /* without "@<due_at>" */
};

/* Every slot in (from, to], in order: schedule_next() for each instant,
 * schedule_due() for everything at that instant. */
static size_t list_slots(const struct policy *p, int64_t due_at, bool date_only, int64_t from, int64_t to,
                         struct slot *out, size_t max) {
        size_t n = 0;
        int64_t t = from;
        struct slot s;

        while (schedule_next(p, due_at, date_only, t, &s) && s.at <= to) {
                struct slot batch[8];
                size_t m;

                assert_true(SCHEDULE_DUE_MAX(p) <= ELEMENTSOF(batch));
                m = schedule_due(p, due_at, date_only, s.at - 1, s.at, batch);
                assert_true(m >= 1);
                assert_string_equal(batch[0].key, s.key);
                for (size_t i = 0; i < m; i++) {
                        assert_int_equal(batch[i].at, s.at);
                        assert_true(n < max);
                        out[n++] = batch[i];
                }
                assert_true(s.at > t);
                t = s.at;
        }
        return n;
}

static void assert_slot(const struct slot *s, const struct expect *e, int64_t due_at) {
        char key[SLOT_KEY_MAX];

        snprintf(key, sizeof key, "%s@%" PRId64, e->key, due_at);
        assert_string_equal(s->key, key);
        assert_string_equal(show(s->at), e->at);
}

static void assert_schedule(const struct policy *p, int64_t due_at, bool date_only, int64_t from, int64_t to,
                            const struct expect *e, size_t n) {
        struct slot got[64];
        size_t m = list_slots(p, due_at, date_only, from, to, got, ELEMENTSOF(got));

        for (size_t i = 0; i < MIN(n, m); i++)
                assert_slot(&got[i], &e[i], due_at);
        assert_int_equal(m, n);
}

#define ASSERT_SCHEDULE(p, due_at, date_only, from, to, ...)                         \
        do {                                                                          \
                const struct expect _e[] = { __VA_ARGS__ };                           \
                assert_schedule(p, due_at, date_only, from, to, _e, ELEMENTSOF(_e)); \
        } while (0)

/* The reference: working days one by one, by linear search. */
static bool ref_is_workday(const struct policy *p, int32_t day) {
        for (size_t i = 0; i < p->n_extra_workdays; i++)
                if (p->extra_workdays[i] == day)
                        return true;
        for (size_t i = 0; i < p->n_holidays; i++)
                if (p->holidays[i] == day)
                        return false;
        return p->workdays & (1u << weekday_from_days(day));
}

/* The instants of overdue slots 1.. up to day `last`, one day at a time. */
static size_t ref_overdue(const struct policy *p, int32_t due_day, int32_t last, int64_t *out, size_t max) {
        int64_t every = p->overdue_every / DAY, worked = 0;
        size_t n = 0;

        for (int32_t d = due_day + 1; d <= last && n < max; d++)
                if (ref_is_workday(p, d) && ++worked % every == 0)
                        out[n++] = local_to_instant(d, p->send_at * 60);
        return n;
}

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

/* A policy full of corner cases: holidays at weekends, duplicates, a
 * holiday that is also an extra working day, an extra working day on a
 * weekday that is worked anyway. */
static struct policy odd_policy(int32_t *holidays, size_t *n_holidays, int32_t *extra, size_t *n_extra) {
        const char *h[] = { "2024-01-01", "2024-02-08", "2024-02-09", "2024-02-10", "2024-02-12",
                            "2024-02-13", "2024-02-14", "2024-04-29", "2024-04-30", "2024-05-01",
                            "2024-09-02", "2024-09-03", "2025-01-01", "2025-01-27", "2025-01-27",
                            "2025-01-28", "2025-01-29", "2025-01-30", "2025-01-31", "2025-04-30",
                            "2025-05-01", "2025-05-02", "2025-09-01", "2025-09-02", "2026-01-01" };
        const char *e[] = { "2024-02-10", "2024-02-17", "2024-05-04", "2025-01-29", "2025-02-08",
                            "2025-04-26", "2025-04-26", "2025-05-05" };

        for (size_t i = 0; i < ELEMENTSOF(h); i++)
                holidays[i] = day_of(h[i]);
        for (size_t i = 0; i < ELEMENTSOF(e); i++)
                extra[i] = day_of(e[i]);
        *n_holidays = ELEMENTSOF(h);
        *n_extra = ELEMENTSOF(e);
        return (struct policy) {
                .send_at = 8 * 60,
                .overdue_every = DAY,
                .workdays = MON_FRI,
                .holidays = holidays,
                .n_holidays = *n_holidays,
                .extra_workdays = extra,
                .n_extra_workdays = *n_extra,
        };
}

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

static double cpu_seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
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
                cmocka_unit_test(test_workday_rules),
                cmocka_unit_test(test_count_and_add_workdays_match_reference),
                cmocka_unit_test(test_add_workdays_refuses_bad_input),
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
                cmocka_unit_test(test_overdue_matches_reference),
                cmocka_unit_test(test_years_overdue),
                cmocka_unit_test(test_catch_up_collapses_to_latest),
                cmocka_unit_test(test_catch_up_window_edges),
                cmocka_unit_test(test_slots_past_at_creation_are_skipped),
                cmocka_unit_test(test_no_further_slot),
                cmocka_unit_test(test_same_instant_order),
                cmocka_unit_test(test_keys_stable_when_send_at_changes),
                cmocka_unit_test(test_escalation_never_before_deadline),
                cmocka_unit_test(test_date_only_ends_the_day),
                cmocka_unit_test(test_broken_policy_gives_up),
        };
        return cmocka_run_group_tests(tests, reset_tz, NULL);
}
