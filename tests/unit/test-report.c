/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The compliance report: periods, the four counts, days late, the
 * ranking, per-document totals, and what the renderings escape. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "macro.h"
#include "report-render.h"
#include "report.h"
#include "timeutil.h"

static int use_tz(void **state) {
        setenv("TZ", "Asia/Ho_Chi_Minh", 1);
        tzset();
        return 0;
}

static int64_t local(const char *s) {
        int64_t t;
        assert_int_equal(parse_instant(s, &t), 0);
        return t;
}

static int32_t day(const char *s) {
        int32_t d;
        assert_int_equal(parse_iso_date(s, &d), 0);
        return d;
}

/* The instant a date-only deadline ends. */
static int64_t due(const char *s) {
        struct due d;
        assert_int_equal(parse_due(s, 0, &d), 0);
        return due_instant(&d);
}

static void test_period_parse(void **state) {
        int32_t from, to;

        assert_int_equal(report_period_parse("2025-Q2", &from, &to), 0);
        assert_int_equal(from, day("2025-04-01"));
        assert_int_equal(to, day("2025-06-30"));
        assert_int_equal(report_period_parse("2024-02", &from, &to), 0);
        assert_int_equal(from, day("2024-02-01"));
        assert_int_equal(to, day("2024-02-29"));
        assert_int_equal(report_period_parse("2025", &from, &to), 0);
        assert_int_equal(from, day("2025-01-01"));
        assert_int_equal(to, day("2025-12-31"));
        assert_int_equal(report_period_parse("2025-Q4", &from, &to), 0);
        assert_int_equal(to, day("2025-12-31"));

        const char *bad[] = { "", "2025-Q5", "2025-Q0", "2025-13", "2025-00", "25", "2025-5", "2025-Q2x",
                              "2025-05-01", "+2025", " 2025", "Q2-2025", "abcd", "1969" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(report_period_parse(bad[i], &from, &to), -EINVAL);
}

static void test_iso_week_periods(void **state) {
        int32_t from, to;

        assert_int_equal(report_period_parse("2025-W19", &from, &to), 0);
        assert_int_equal(from, day("2025-05-05"));
        assert_int_equal(to, day("2025-05-11"));
        /* Week 1 holds 4 January, and may begin in December. */
        assert_int_equal(report_period_parse("2025-W01", &from, &to), 0);
        assert_int_equal(from, day("2024-12-30"));
        assert_int_equal(report_period_parse("2020-W53", &from, &to), 0);
        assert_int_equal(from, day("2020-12-28"));
        assert_int_equal(to, day("2021-01-03"));

        const char *bad[] = { "2025-W53", "2025-W00", "2025-W1", "2025-W+1", "2025-W019", "2025-w19" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_int_equal(report_period_parse(bad[i], &from, &to), -EINVAL);
}

static void assert_period_of(enum report_every e, const char *d, const char *name, const char *from,
                             const char *to) {
        struct report_period p;
        int32_t pf, pt;

        assert_int_equal(report_period_of(e, day(d), &p), 0);
        assert_string_equal(p.name, name);
        assert_int_equal(p.from_day, day(from));
        assert_int_equal(p.to_day, day(to));
        /* The name reads back as the same days. */
        assert_int_equal(report_period_parse(p.name, &pf, &pt), 0);
        assert_int_equal(pf, p.from_day);
        assert_int_equal(pt, p.to_day);
}

static void test_period_of_a_day(void **state) {
        struct report_period p;

        assert_period_of(REPORT_MONTHLY, "2025-05-17", "2025-05", "2025-05-01", "2025-05-31");
        assert_period_of(REPORT_MONTHLY, "2024-02-29", "2024-02", "2024-02-01", "2024-02-29");
        assert_period_of(REPORT_WEEKLY, "2025-05-11", "2025-W19", "2025-05-05", "2025-05-11");
        assert_period_of(REPORT_WEEKLY, "2025-05-05", "2025-W19", "2025-05-05", "2025-05-11");
        assert_period_of(REPORT_WEEKLY, "2024-12-31", "2025-W01", "2024-12-30", "2025-01-05");
        assert_period_of(REPORT_WEEKLY, "2021-01-02", "2020-W53", "2020-12-28", "2021-01-03");
        assert_int_equal(report_period_of(REPORT_NEVER, day("2025-05-17"), &p), -EINVAL);
}

static struct policy report_policy(enum report_every e, char **to) {
        static int32_t holidays[2];

        holidays[0] = day("2025-09-01");
        holidays[1] = day("2025-09-02");
        return (struct policy) {
                .send_at = 8 * 60,
                .workdays = 0x3e, /* Monday to Friday */
                .holidays = holidays,
                .n_holidays = 2,
                .report_every = e,
                .report_to = to,
        };
}

static void test_report_due_on_first_working_day_at_send_at(void **state) {
        char *to[] = { (char *) "vpubnd", NULL };
        struct policy pol = report_policy(REPORT_MONTHLY, to);
        struct report_period p;

        /* 1 June 2025 is a Sunday. */
        assert_int_equal(report_period_of(REPORT_MONTHLY, day("2025-05-01"), &p), 0);
        assert_int_equal(report_period_due(&pol, &p), local("2025-06-02 08:00"));
        /* 1 and 2 September are holidays. */
        assert_int_equal(report_period_of(REPORT_MONTHLY, day("2025-08-10"), &p), 0);
        assert_int_equal(report_period_due(&pol, &p), local("2025-09-03 08:00"));
        pol.send_at = 7 * 60 + 30;
        assert_int_equal(report_period_due(&pol, &p), local("2025-09-03 07:30"));
        /* send_at = "none": at the start of the office day. */
        pol.send_at = -1;
        assert_int_equal(report_period_due(&pol, &p), local("2025-09-03 08:00"));
        /* A week's report: the Monday after it. */
        assert_int_equal(report_period_of(REPORT_WEEKLY, day("2025-05-07"), &p), 0);
        assert_int_equal(report_period_due(&pol, &p), local("2025-05-12 08:00"));
}

static void test_report_owed_and_next(void **state) {
        char *to[] = { (char *) "vpubnd", NULL }, *none[] = { NULL };
        struct policy pol = report_policy(REPORT_MONTHLY, to);
        struct report_period p;
        int64_t next;

        /* Before the first working day's send time: nothing owed yet, the
         * timer for then. */
        assert_false(report_owed(&pol, local("2025-06-01 12:00"), &p, &next));
        assert_int_equal(next, local("2025-06-02 08:00"));
        assert_false(report_owed(&pol, local("2025-06-02 07:59:59"), &p, &next));
        assert_int_equal(next, local("2025-06-02 08:00"));
        /* From then on, May's, until June ends; next is June's. */
        assert_true(report_owed(&pol, local("2025-06-02 08:00"), &p, &next));
        assert_string_equal(p.name, "2025-05");
        assert_int_equal(next, local("2025-07-01 08:00"));
        assert_true(report_owed(&pol, local("2025-06-30 23:59:59"), &p, &next));
        assert_string_equal(p.name, "2025-05");
        /* Down through all of June and July: only July's is owed. */
        assert_true(report_owed(&pol, local("2025-08-04 10:00"), &p, &next));
        assert_string_equal(p.name, "2025-07");

        pol.report_every = REPORT_WEEKLY;
        assert_true(report_owed(&pol, local("2025-05-12 08:00"), &p, &next));
        assert_string_equal(p.name, "2025-W19");
        assert_int_equal(next, local("2025-05-19 08:00"));

        /* Off: nothing, and no wake-up. */
        pol.report_every = REPORT_NEVER;
        assert_false(report_owed(&pol, local("2025-06-02 08:00"), &p, &next));
        assert_int_equal(next, NO_TIME);
        pol = report_policy(REPORT_MONTHLY, none);
        assert_false(report_owed(&pol, local("2025-06-02 08:00"), &p, &next));
        assert_int_equal(next, NO_TIME);
        pol = report_policy(REPORT_MONTHLY, NULL);
        assert_false(report_owed(&pol, local("2025-06-02 08:00"), &p, &next));
        assert_int_equal(next, NO_TIME);
}

static void test_as_of_is_the_period_end_or_now(void **state) {
        assert_int_equal(report_as_of(day("2025-06-30"), local("2025-06-01 09:00")), local("2025-06-01 09:00"));
        assert_int_equal(report_as_of(day("2025-06-30"), local("2025-08-01 09:00")), local("2025-06-30 23:59:59"));
}

#define OCC(task, comp, doc, ag, due_, done, ext) \
        { .task_id = task, .completion_id = comp, .document_number = (char *) (doc), .agency = (char *) (ag), \
          .due_at = due_, .done_at = done, .extensions = ext }

static void test_four_counts_and_days_late(void **state) {
        struct task_occurrence o[] = {
                /* done on its deadline's last second: on time */
                OCC(1, 1, "1/UBND", "stc", due("2025-04-30"), local("2025-04-30 23:59:59"), 0),
                /* done the next morning: late, 1 day */
                OCC(2, 2, "1/UBND", "stc", due("2025-04-30"), local("2025-05-01 08:00"), 2),
                /* open, deadline passed as of: overdue, 3 days */
                OCC(3, 0, NULL, "stc", due("2025-05-10"), NO_TIME, 1),
                /* done after the as-of instant: still open then, within deadline */
                OCC(4, 4, NULL, "stc", due("2025-06-20"), local("2025-06-18 10:00"), 0),
        };
        struct report_input in = {
                .from_day = day("2025-04-01"),
                .to_day = day("2025-06-30"),
                .as_of = local("2025-05-13 09:00"),
                .items = o,
                .n = ELEMENTSOF(o),
        };
        _cleanup_(report_done) struct report r = {};
        double v;

        assert_int_equal(report_compute(&in, &r), 0);
        assert_int_equal(r.n_agencies, 1);
        assert_string_equal(r.agencies[0].id, "stc");
        assert_string_equal(r.agencies[0].name, "stc");
        assert_int_equal(r.agencies[0].counts.on_time, 1);
        assert_int_equal(r.agencies[0].counts.late, 1);
        assert_int_equal(r.agencies[0].counts.overdue, 1);
        assert_int_equal(r.agencies[0].counts.open, 1);
        assert_int_equal(r.agencies[0].counts.extensions, 3);
        assert_int_equal(r.agencies[0].counts.days_late, 1 + 3);
        assert_true(report_counts_avg_days_late(&r.agencies[0].counts, &v));
        assert_true(v == 2.0);
        assert_true(report_counts_rate(&r.agencies[0].counts, &v));
        assert_true(v * 3 == 1.0);
        assert_int_equal(report_counts_total(&r.total), 4);
        /* By document, the ones without a document last. */
        assert_int_equal(r.n_documents, 2);
        assert_string_equal(r.documents[0].number, "1/UBND");
        assert_null(r.documents[1].number);
        assert_int_equal(r.documents[1].counts.open, 1);
        assert_int_equal(r.documents[1].counts.overdue, 1);
}

static const char *names(const char *id, void *userdata) {
        return streq(id, "stc") ? "Sở Tài chính" : NULL;
}

/* An occurrence with two leads counts for each, and once in the totals. */
static void test_two_leads_count_once_in_totals(void **state) {
        struct task_occurrence o[] = {
                OCC(7, 0, "9/UBND", "stc", due("2025-05-30"), NO_TIME, 0),
                OCC(7, 0, "9/UBND", "skhdt", due("2025-05-30"), NO_TIME, 0),
        };
        struct report_input in = {
                .from_day = day("2025-05-01"),
                .to_day = day("2025-05-31"),
                .as_of = local("2025-05-13 09:00"),
                .items = o,
                .n = ELEMENTSOF(o),
                .agency_name = names,
        };
        _cleanup_(report_done) struct report r = {};

        assert_int_equal(report_compute(&in, &r), 0);
        assert_int_equal(r.n_agencies, 2);
        assert_int_equal(r.total.open, 1);
        assert_int_equal(r.documents[0].counts.open, 1);
        assert_string_equal(r.agencies[0].id, "skhdt");
        assert_string_equal(r.agencies[0].name, "skhdt");
        assert_string_equal(r.agencies[1].name, "Sở Tài chính");
}

/* Rate first, then volume; equal standing, equal rank; nothing decided
 * yet, last. */
static void test_ranking(void **state) {
        int64_t d = due("2025-04-30"), early = local("2025-04-29 10:00"), late = local("2025-05-03 10:00");
        struct task_occurrence o[] = {
                /* a: 1 of 2 on time */
                OCC(1, 1, NULL, "a", d, early, 0), OCC(2, 2, NULL, "a", d, late, 0),
                /* b: 2 of 4 on time, more volume than a */
                OCC(3, 3, NULL, "b", d, early, 0), OCC(4, 4, NULL, "b", d, late, 0),
                OCC(5, 5, NULL, "b", d, early, 0), OCC(6, 6, NULL, "b", d, late, 0),
                /* c: 1 of 1 */
                OCC(7, 7, NULL, "c", d, early, 0),
                /* d: nothing decided, though the most volume */
                OCC(8, 0, NULL, "d", due("2025-06-30"), NO_TIME, 0), OCC(9, 0, NULL, "d", due("2025-06-30"), NO_TIME, 0),
                OCC(10, 0, NULL, "d", due("2025-06-30"), NO_TIME, 0), OCC(11, 0, NULL, "d", due("2025-06-30"), NO_TIME, 0),
                OCC(12, 0, NULL, "d", due("2025-06-30"), NO_TIME, 0),
                /* e: same as a */
                OCC(13, 13, NULL, "e", d, late, 0), OCC(14, 14, NULL, "e", d, early, 0),
        };
        struct report_input in = {
                .from_day = day("2025-04-01"),
                .to_day = day("2025-06-30"),
                .as_of = local("2025-05-13 09:00"),
                .items = o,
                .n = ELEMENTSOF(o),
        };
        _cleanup_(report_done) struct report r = {};
        const char *order[] = { "c", "b", "a", "e", "d" };
        const unsigned rank[] = { 1, 2, 3, 3, 5 };

        assert_int_equal(report_compute(&in, &r), 0);
        assert_int_equal(r.n_agencies, 5);
        for (size_t i = 0; i < 5; i++) {
                assert_string_equal(r.agencies[i].id, order[i]);
                assert_int_equal(r.agencies[i].rank, rank[i]);
        }
}

static void test_empty_report(void **state) {
        struct report_input in = { .from_day = day("2025-04-01"), .to_day = day("2025-06-30"),
                                   .as_of = local("2025-05-13 09:00") };
        _cleanup_(report_done) struct report r = {};
        _cleanup_(strbuf_done) struct strbuf b = STRBUF_INIT(1 << 20);

        assert_int_equal(report_compute(&in, &r), 0);
        assert_int_equal(r.n_agencies, 0);
        assert_int_equal(report_render_html(&r, LANGUAGE_EN, &b), 0);
        strbuf_putc(&b, 0);
        assert_non_null(strstr(b.data, "No task has a deadline in this period."));
}

static void test_html_escapes_and_is_self_contained(void **state) {
        struct task_occurrence o[] = {
                OCC(1, 0, "<script>alert(1)</script> & \"x\"", "<b>", due("2025-05-30"), NO_TIME, 0),
        };
        struct report_input in = { .from_day = day("2025-05-01"), .to_day = day("2025-05-31"),
                                   .as_of = local("2025-05-13 09:00"), .items = o, .n = 1 };
        _cleanup_(report_done) struct report r = {};
        _cleanup_(strbuf_done) struct strbuf b = STRBUF_INIT(1 << 20);

        assert_int_equal(report_compute(&in, &r), 0);
        assert_int_equal(report_render_html(&r, LANGUAGE_VI, &b), 0);
        strbuf_putc(&b, 0);
        assert_null(strstr(b.data, "<script"));
        assert_null(strstr(b.data, "<b>"));
        assert_non_null(strstr(b.data, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;x&quot;"));
        assert_non_null(strstr(b.data, "&lt;b&gt;"));
        /* Nothing fetched from elsewhere: no src, no href, no @import, no url(). */
        assert_null(strstr(b.data, "src="));
        assert_null(strstr(b.data, "href="));
        assert_null(strstr(b.data, "@import"));
        assert_null(strstr(b.data, "url("));
        assert_non_null(strstr(b.data, "@page { size: A4;"));
        assert_non_null(strstr(b.data, "<svg"));
        assert_non_null(strstr(b.data, "Đang thực hiện trong hạn"));
}

static void test_csv_quotes_fields(void **state) {
        struct task_occurrence o[] = {
                OCC(1, 0, "12/UBND, \"mật\"", "stc", due("2025-05-30"), NO_TIME, 0),
        };
        struct report_input in = { .from_day = day("2025-05-01"), .to_day = day("2025-05-31"),
                                   .as_of = local("2025-05-13 09:00"), .items = o, .n = 1 };
        _cleanup_(report_done) struct report r = {};
        _cleanup_(strbuf_done) struct strbuf b = STRBUF_INIT(1 << 20);

        assert_int_equal(report_compute(&in, &r), 0);
        assert_int_equal(report_render_csv(&r, &b), 0);
        strbuf_putc(&b, 0);
        assert_non_null(strstr(b.data, "\r\ndocument,\"12/UBND, \"\"mật\"\"\",,,0,0,1,0,1,,0,\r\n"));
        assert_non_null(strstr(b.data, "\r\nagency,stc,stc,1,0,0,1,0,1,,0,\r\n"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_period_parse),
                cmocka_unit_test(test_iso_week_periods),
                cmocka_unit_test(test_period_of_a_day),
                cmocka_unit_test(test_report_due_on_first_working_day_at_send_at),
                cmocka_unit_test(test_report_owed_and_next),
                cmocka_unit_test(test_as_of_is_the_period_end_or_now),
                cmocka_unit_test(test_four_counts_and_days_late),
                cmocka_unit_test(test_two_leads_count_once_in_totals),
                cmocka_unit_test(test_ranking),
                cmocka_unit_test(test_empty_report),
                cmocka_unit_test(test_html_escapes_and_is_self_contained),
                cmocka_unit_test(test_csv_quotes_fields),
        };
        return cmocka_run_group_tests(tests, use_tz, NULL);
}
