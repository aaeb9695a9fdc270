/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the schedule tests share: the sample province's policy, a policy
 * full of corner cases, a day-by-day reference for working days and the
 * overdue series, and helpers that list slots and compare them with the
 * expected local times and keys. */

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

static inline void use_tz(const char *tz) {
        setenv("TZ", tz, 1);
        tzset();
}

static inline int reset_tz(void **state) {
        use_tz("Asia/Ho_Chi_Minh");
        return 0;
}

static inline int64_t dur(const char *s) {
        int64_t v;
        assert_int_equal(parse_duration(s, &v), 0);
        return v;
}

static inline int32_t day_of(const char *s) {
        int32_t d;
        assert_int_equal(parse_iso_date(s, &d), 0);
        return d;
}

/* Local time "2025-05-15 17:00" in the process zone. */
static inline int64_t local(const char *s) {
        int64_t t;
        assert_int_equal(parse_instant(s, &t), 0);
        return t;
}

static inline int64_t date_due(const char *s) {
        struct due d = { .day = day_of(s), .minute = -1 };
        return due_instant(&d);
}

static inline const char *show(int64_t t) {
        static char buf[4][20];
        static unsigned i;
        char *b = buf[i++ % 4];
        format_local(t, b);
        return b;
}

/* The policy of the sample province (samples/sonha.conf). Tests change
 * their copy; the arrays behind it are rebuilt on every call. */
static inline struct policy sonha(void) {
        static int64_t sonha_before[5];
        static struct escalation sonha_escalation[2];
        static int32_t sonha_holidays[4], sonha_extra[1];
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
static inline size_t list_slots(const struct policy *p, int64_t due_at, bool date_only, int64_t from, int64_t to,
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

static inline void assert_slot(const struct slot *s, const struct expect *e, int64_t due_at) {
        char key[SLOT_KEY_MAX];

        snprintf(key, sizeof key, "%s@%" PRId64, e->key, due_at);
        assert_string_equal(s->key, key);
        assert_string_equal(show(s->at), e->at);
}

static inline void assert_schedule(const struct policy *p, int64_t due_at, bool date_only, int64_t from, int64_t to,
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
static inline bool ref_is_workday(const struct policy *p, int32_t day) {
        for (size_t i = 0; i < p->n_extra_workdays; i++)
                if (p->extra_workdays[i] == day)
                        return true;
        for (size_t i = 0; i < p->n_holidays; i++)
                if (p->holidays[i] == day)
                        return false;
        return p->workdays & (1u << weekday_from_days(day));
}

/* The instants of overdue slots 1.. up to day `last`, one day at a time. */
static inline size_t ref_overdue(const struct policy *p, int32_t due_day, int32_t last, int64_t *out, size_t max) {
        int64_t every = p->overdue_every / DAY, worked = 0;
        size_t n = 0;

        for (int32_t d = due_day + 1; d <= last && n < max; d++)
                if (ref_is_workday(p, d) && ++worked % every == 0)
                        out[n++] = local_to_instant(d, p->send_at * 60);
        return n;
}

/* A policy full of corner cases: holidays at weekends, duplicates, a
 * holiday that is also an extra working day, an extra working day on a
 * weekday that is worked anyway. */
static inline struct policy odd_policy(int32_t *holidays, size_t *n_holidays, int32_t *extra, size_t *n_extra) {
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

static inline double cpu_seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

