/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The outbox against a real SQLite file and a real configuration: slots
 * become delivery rows once, rows become jobs once, results are written
 * back with backoff. */

#include <ctype.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sqlite3.h>

#include "config.h"
#include "outbox.h"
#include "store.h"
#include "timeutil.h"

struct fx {
        char dir[128];
        struct config *c;
        struct store *s;
};

static const char *const CONFIG_TEXT =
        "database = \"t.db\";\n"
        "transport = \"maildir:mail\";\n"
        "from = \"Nhắc việc <nhacviec@sonha.gov.vn>\";\n"
        "schedule = { remind_before = [\"7d\", \"3d\", \"1d\"]; overdue_every = \"1d\"; send_at = \"08:00\";\n"
        "  escalation = ( { after = \"3d\"; to = [\"vpubnd\"]; } ); digest = %s; };\n"
        "delivery = { retry_min = \"5m\"; retry_max = \"1h\"; max_retry_age = \"2d\"; };\n"
        "agencies = (\n"
        "  { id = \"vpubnd\"; name = \"Văn phòng UBND tỉnh\"; email = [\"vp@sonha.gov.vn\"]; },\n"
        "  { id = \"stc\"; name = \"Sở Tài chính\"; email = [\"stc@sonha.gov.vn\"]; cc = [\"gd.stc@sonha.gov.vn\"]; },\n"
        "  { id = \"kbnn\"; name = \"Kho bạc Nhà nước tỉnh\"; email = [\"kbnn@sonha.gov.vn\"]; },\n"
        "  { id = \"sxd\"; name = \"Sở Xây dựng\"; email = [\"sxd@sonha.gov.vn\"]; }\n"
        ");\n"
        "groups = ( { id = \"cacso\"; name = \"Các sở\"; members = [\"stc\", \"sxd\"]; } );\n%s";

static int setup_config(void **state, const char *digest, const char *extra) {
        struct fx *f = calloc(1, sizeof *f);
        int r;
        char path[256];
        _cleanup_free_ char *errors = NULL;

        snprintf(f->dir, sizeof f->dir, "/tmp/test-outbox.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(path, sizeof path, "%s/deadlined.conf", f->dir);
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fprintf(fp, CONFIG_TEXT, digest, extra);
        fclose(fp);
        r = config_load(path, &f->c, &errors);
        if (r < 0)
                fprintf(stderr, "%s\n", strempty(errors));
        assert_int_equal(r, 0);
        assert_int_equal(config_apply_timezone(f->c), 0);
        assert_int_equal(store_open(f->c->database, STORE_CREATE, &f->s), 0);
        *state = f;
        return 0;
}

static int setup_with(void **state, const char *digest) {
        return setup_config(state, digest, "");
}

static int setup_en(void **state) {
        return setup_config(state, "false", "language = \"en\";\n");
}

static int setup_inbox(void **state) {
        char path[256];
        int r;

        /* The password file sits in a folder of its own, made first. */
        snprintf(path, sizeof path, "/tmp/test-outbox-imap.%d", (int) getpid());
        FILE *fp = fopen(path, "w");
        assert_non_null(fp);
        fputs("secret\n", fp);
        fclose(fp);
        assert_int_equal(chmod(path, 0600), 0);
        _cleanup_free_ char *extra = NULL;
        assert_true(asprintf(&extra, "inbox = { url = \"imaps://127.0.0.1:1/INBOX\"; username = \"u\"; "
                                     "password_file = \"%s\"; address = \"theodoi@sonha.gov.vn\"; };\n",
                             path) > 0);
        r = setup_config(state, "false", extra);
        unlink(path);
        return r;
}

static int setup(void **state) {
        return setup_with(state, "false");
}

static int setup_report(void **state) {
        return setup_with(state, "false; report_every = \"monthly\"; report_to = [\"vpubnd\"]");
}

static int setup_digest(void **state) {
        return setup_with(state, "true");
}

static int teardown(void **state) {
        struct fx *f = *state;
        char cmd[300];

        store_close(f->s);
        config_free(f->c);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

static int64_t at(int y, int m, int d, int hh, int mm) {
        return local_to_instant(days_from_civil(y, m, d), hh * 3600 + mm * 60);
}

/* A task due on a date, with a lead and supports, added at `now`. */
static int64_t add_task(struct fx *f, const char *title, const char *due, const char *lead,
                        const char *support, int64_t now) {
        struct task_agency ag[2] = { { (char *) lead, ROLE_LEAD, 0 }, { (char *) support, ROLE_SUPPORT, 0 } };
        struct due d;
        assert_int_equal(parse_due(due, 0, &d), 0);
        struct task t = {
                .title = (char *) title,
                .due = (char *) due,
                .due_at = due_instant(&d),
                .status = TASK_OPEN,
                .agencies = ag,
                .n_agencies = support ? 2 : 1,
        };
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_task_add(f->s, &t, now), 0);
        assert_int_equal(store_commit(f->s), 0);
        return t.id;
}

static int64_t count_state(struct fx *f, enum delivery_state st) {
        int64_t counts[_DELIVERY_STATE_MAX];
        assert_int_equal(store_delivery_counts(f->s, counts), 0);
        return counts[st];
}

static void test_decide_inserts_one_row_per_agency_once(void **state) {
        struct fx *f = *state;
        /* Due Thu 15/5/2025: 7d is Thu 8/5 08:00. */
        add_task(f, "Báo cáo", "2025-05-15", "stc", "kbnn", at(2025, 5, 1, 9, 0));
        assert_int_equal(outbox_decide(f->s, f->c, at(2025, 5, 8, 8, 0)), 2);
        /* The same moment again decides nothing new. */
        assert_int_equal(outbox_decide(f->s, f->c, at(2025, 5, 8, 8, 0)), 0);
        assert_int_equal(outbox_decide(f->s, f->c, at(2025, 5, 8, 9, 0)), 0);
        assert_int_equal(count_state(f, DELIVERY_PENDING), 2);

        struct delivery_list l = {};
        assert_int_equal(store_delivery_list_for_task(f->s, 1, &l), 2);
        for (size_t i = 0; i < l.n; i++) {
                assert_string_equal(l.items[i].channel, "email");
                assert_int_equal(strncmp(l.items[i].slot, "before:7d@", 10), 0);
        }
        delivery_list_done(&l);
}

static void test_groups_expand_to_members(void **state) {
        struct fx *f = *state;
        add_task(f, "Rà soát", "2025-05-15", "cacso", NULL, at(2025, 5, 1, 9, 0));
        assert_int_equal(outbox_decide(f->s, f->c, at(2025, 5, 8, 8, 0)), 2); /* stc, sxd */
}

static void test_downtime_collapses_to_latest_slot(void **state) {
        struct fx *f = *state;
        add_task(f, "Báo cáo", "2025-05-15", "stc", NULL, at(2025, 5, 1, 9, 0));
        /* Asleep from 1/5 to 14/5 09:00: 7d, 3d and 1d all passed. */
        assert_int_equal(outbox_decide(f->s, f->c, at(2025, 5, 14, 9, 0)), 1);
        struct delivery_list l = {};
        assert_int_equal(store_delivery_list_for_task(f->s, 1, &l), 1);
        assert_int_equal(strncmp(l.items[0].slot, "before:1d@", 10), 0);
        delivery_list_done(&l);
}

static void test_escalation_goes_to_supervisor_once(void **state) {
        struct fx *f = *state;
        add_task(f, "Báo cáo", "2025-05-15", "stc", NULL, at(2025, 5, 14, 9, 0));
        /* Mon 19/5 08:00: overdue (2nd working day) and the 3d escalation. */
        assert_int_equal(outbox_decide(f->s, f->c, at(2025, 5, 19, 8, 0)), 2);
        assert_int_equal(outbox_decide(f->s, f->c, at(2025, 5, 20, 8, 0)), 1); /* overdue only */
        struct delivery_list l = {};
        assert_int_equal(store_delivery_list_for_task(f->s, 1, &l), 3);
        int escalations = 0;
        for (size_t i = 0; i < l.n; i++)
                if (strncmp(l.items[i].slot, "escalate:", 9) == 0) {
                        escalations++;
                        assert_string_equal(l.items[i].agency, "vpubnd");
                }
        assert_int_equal(escalations, 1);
        delivery_list_done(&l);
}

static void test_claim_groups_task_mail_and_marks_attempting(void **state) {
        struct fx *f = *state;
        struct job_list jobs = {};
        add_task(f, "Báo cáo", "2025-05-15", "stc", "kbnn", at(2025, 5, 1, 9, 0));
        int64_t now = at(2025, 5, 8, 8, 0);
        assert_int_equal(outbox_decide(f->s, f->c, now), 2);
        assert_int_equal(outbox_claim(f->s, f->c, now, 100, NULL, &jobs), 1);
        struct job *j = jobs.jobs[0];
        assert_int_equal(j->n_rows, 2);
        assert_int_equal(j->channel, CHANNEL_EMAIL);
        /* Envelope: exactly To and Cc (with the agency's own cc). */
        assert_int_equal(j->n_rcpt, 3);
        assert_string_equal(j->mail_from, "nhacviec@sonha.gov.vn");
        assert_non_null(strstr(j->data, "\r\nAuto-Submitted: auto-generated\r\n"));
        assert_int_equal(count_state(f, DELIVERY_ATTEMPTING), 2);
        /* Claimed rows are not claimed again. */
        struct job_list again = {};
        assert_int_equal(outbox_claim(f->s, f->c, now, 100, NULL, &again), 0);
        job_list_done(&again);

        job_set_result(j, RESULT_SENT, NULL);
        assert_int_equal(outbox_settle(f->s, f->c, now, jobs.jobs, jobs.n), 0);
        assert_int_equal(count_state(f, DELIVERY_SENT), 2);
        job_list_done(&jobs);
}

static void test_digest_groups_by_agency(void **state) {
        struct fx *f = *state;
        struct job_list jobs = {};
        add_task(f, "Việc 1", "2025-05-15", "stc", NULL, at(2025, 5, 1, 9, 0));
        add_task(f, "Việc 2", "2025-05-15", "stc", "sxd", at(2025, 5, 1, 9, 0));
        int64_t now = at(2025, 5, 8, 8, 0);
        assert_int_equal(outbox_decide(f->s, f->c, now), 3);
        assert_int_equal(outbox_claim(f->s, f->c, now, 100, NULL, &jobs), 2);
        size_t rows = 0;
        for (size_t i = 0; i < jobs.n; i++) {
                rows += jobs.jobs[i]->n_rows;
                if (streq(jobs.jobs[i]->agency, "stc"))
                        assert_int_equal(jobs.jobs[i]->n_rows, 2);
        }
        assert_int_equal(rows, 3);
        job_list_done(&jobs);
}

static void test_retry_backs_off_then_gives_up(void **state) {
        struct fx *f = *state;
        struct job_list jobs = {};
        add_task(f, "Báo cáo", "2025-05-15", "stc", NULL, at(2025, 5, 1, 9, 0));
        int64_t now = at(2025, 5, 8, 8, 0);
        assert_int_equal(outbox_decide(f->s, f->c, now), 1);
        assert_int_equal(outbox_claim(f->s, f->c, now, 100, NULL, &jobs), 1);
        job_set_result(jobs.jobs[0], RESULT_RETRY, "451 try later");
        assert_int_equal(outbox_settle(f->s, f->c, now, jobs.jobs, jobs.n), 0);
        job_list_done(&jobs);

        int64_t next;
        assert_int_equal(store_next_delivery(f->s, &next), 0);
        /* 5 minutes ± 10 %. */
        assert_true(next >= now + 270 && next <= now + 330);
        assert_int_equal(outbox_claim(f->s, f->c, now + 60, 100, NULL, &jobs), 0);
        job_list_done(&jobs);

        /* Two days later the next failure is the last. */
        now += 2 * SEC_PER_DAY;
        assert_int_equal(outbox_claim(f->s, f->c, now, 100, NULL, &jobs), 1);
        assert_int_equal(jobs.jobs[0]->rows[0].attempts, 2);
        job_set_result(jobs.jobs[0], RESULT_RETRY, "451 try later");
        assert_int_equal(outbox_settle(f->s, f->c, now, jobs.jobs, jobs.n), 0);
        job_list_done(&jobs);
        assert_int_equal(count_state(f, DELIVERY_FAILED), 1);

        struct delivery_list l = {};
        assert_int_equal(store_delivery_list_for_task(f->s, 1, &l), 1);
        assert_non_null(strstr(l.items[0].last_error, "gave up after 2 attempts: 451 try later"));
        delivery_list_done(&l);
}

/* The age runs from the first attempt, not from when the reminder fell
 * due (here three days before, the daemon being down), and the last
 * attempt is made when it runs out rather than given up a back-off
 * early. */
static void test_retry_age_counts_from_the_first_attempt_and_ends_with_one(void **state) {
        struct fx *f = *state;
        struct job_list jobs = {};
        struct delivery_list l = {};
        add_task(f, "Báo cáo", "2025-05-15", "stc", NULL, at(2025, 5, 1, 9, 0));
        int64_t due = at(2025, 5, 8, 8, 0), first = due + 3 * SEC_PER_DAY, now = first, last = 0, next;
        int attempts = 0;

        assert_int_equal(outbox_decide(f->s, f->c, due), 1);
        while (count_state(f, DELIVERY_FAILED) == 0) {
                assert_int_equal(outbox_claim(f->s, f->c, now, 100, NULL, &jobs), 1);
                assert_int_equal(jobs.jobs[0]->rows[0].first_attempt_at, first);
                job_set_result(jobs.jobs[0], RESULT_RETRY, "451 try later");
                assert_int_equal(outbox_settle(f->s, f->c, now, jobs.jobs, jobs.n), 0);
                job_list_done(&jobs);
                last = now;
                attempts++;
                assert_true(attempts < 100);
                if (store_next_delivery(f->s, &next) == 0 && next != NO_TIME) {
                        /* Never a wait past the end of the age. */
                        assert_true(next <= first + 2 * SEC_PER_DAY);
                        now = next;
                }
        }
        assert_int_equal(last, first + 2 * SEC_PER_DAY);
        /* 5m, 10m, 20m, 40m, then every hour for two days. */
        assert_true(attempts > 45);
        assert_int_equal(store_delivery_list_for_task(f->s, 1, &l), 1);
        assert_int_equal(l.items[0].first_attempt_at, first);
        assert_int_equal(l.items[0].attempts, attempts);
        delivery_list_done(&l);
}

/* A transfer cut off under way may have reached its receiver: its
 * attempt counts, and it goes again at once. */
static void test_unsettled_rows_go_back_to_pending(void **state) {
        struct fx *f = *state;
        struct job_list jobs = {};
        struct delivery_list l = {};
        add_task(f, "Báo cáo", "2025-05-15", "stc", NULL, at(2025, 5, 1, 9, 0));
        int64_t now = at(2025, 5, 8, 8, 0);
        outbox_decide(f->s, f->c, now);
        assert_int_equal(outbox_claim(f->s, f->c, now, 100, NULL, &jobs), 1);
        assert_int_equal(outbox_settle(f->s, f->c, now + 30, jobs.jobs, jobs.n), 0);
        job_list_done(&jobs);
        assert_int_equal(count_state(f, DELIVERY_PENDING), 1);
        assert_int_equal(store_delivery_list_for_task(f->s, 1, &l), 1);
        assert_int_equal(l.items[0].attempts, 1);
        assert_int_equal(l.items[0].first_attempt_at, now);
        assert_int_equal(l.items[0].next_attempt_at, now + 30);
        delivery_list_done(&l);
}

/* Claimed but never started (a stop): back exactly as before the claim,
 * so the next start sends them in their old order, before newer rows. */
static void test_unsent_rows_go_back_as_they_were(void **state) {
        struct fx *f = *state;
        struct job_list jobs = {};
        struct delivery_list l = {};
        add_task(f, "Việc 1", "2025-05-15", "stc", NULL, at(2025, 5, 1, 9, 0));
        add_task(f, "Việc 2", "2025-05-15", "sxd", NULL, at(2025, 5, 1, 9, 0));
        int64_t now = at(2025, 5, 8, 8, 0), retry_at, first;

        assert_int_equal(outbox_decide(f->s, f->c, now), 2);
        /* Task 1's reminder failed once: it is a retry, due later. */
        assert_int_equal(outbox_claim(f->s, f->c, now, 1, NULL, &jobs), 1);
        assert_int_equal(jobs.jobs[0]->rows[0].task_id, 1);
        job_set_result(jobs.jobs[0], RESULT_RETRY, "451 try later");
        assert_int_equal(outbox_settle(f->s, f->c, now, jobs.jobs, jobs.n), 0);
        job_list_done(&jobs);
        first = now;
        assert_int_equal(store_delivery_list_for_task(f->s, 1, &l), 1);
        retry_at = l.items[0].next_attempt_at;
        delivery_list_done(&l);

        now = retry_at + 60;
        assert_int_equal(outbox_claim(f->s, f->c, now, 100, NULL, &jobs), 2);
        assert_int_equal(count_state(f, DELIVERY_ATTEMPTING), 2);
        for (size_t i = 0; i < jobs.n; i++)
                job_set_result(jobs.jobs[i], RESULT_UNSENT, NULL);
        assert_int_equal(outbox_settle(f->s, f->c, now + 5, jobs.jobs, jobs.n), 0);
        job_list_done(&jobs);

        assert_int_equal(store_delivery_list_for_task(f->s, 1, &l), 1);
        assert_int_equal(l.items[0].state, DELIVERY_PENDING);
        assert_int_equal(l.items[0].attempts, 1);
        assert_int_equal(l.items[0].next_attempt_at, retry_at);
        assert_int_equal(l.items[0].first_attempt_at, first);
        delivery_list_done(&l);
        assert_int_equal(store_delivery_list_for_task(f->s, 2, &l), 1);
        assert_int_equal(l.items[0].state, DELIVERY_PENDING);
        assert_int_equal(l.items[0].attempts, 0);
        assert_int_equal(l.items[0].next_attempt_at, at(2025, 5, 8, 8, 0));
        assert_int_equal(l.items[0].first_attempt_at, NO_TIME);
        delivery_list_done(&l);

        /* The same order again: task 2 (due first), then task 1. */
        assert_int_equal(outbox_claim(f->s, f->c, now + 10, 100, NULL, &jobs), 2);
        assert_int_equal(jobs.jobs[0]->rows[0].task_id, 2);
        assert_int_equal(jobs.jobs[1]->rows[0].task_id, 1);
        job_list_done(&jobs);
}

/* Closing a task takes its reminders not sent yet with it: nothing is
 * claimed, and nothing is counted as failed. */
static void test_closed_task_is_not_reminded(void **state) {
        struct fx *f = *state;
        struct job_list jobs = {};
        int64_t id = add_task(f, "Báo cáo", "2025-05-15", "stc", NULL, at(2025, 5, 1, 9, 0));
        int64_t now = at(2025, 5, 8, 8, 0);
        outbox_decide(f->s, f->c, now);
        assert_int_equal(count_state(f, DELIVERY_PENDING), 1);
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_task_set_status(f->s, id, TASK_DONE, now), 0);
        assert_int_equal(store_commit(f->s), 0);
        assert_int_equal(count_state(f, DELIVERY_PENDING), 0);
        assert_int_equal(outbox_claim(f->s, f->c, now, 100, NULL, &jobs), 0);
        job_list_done(&jobs);
        assert_int_equal(count_state(f, DELIVERY_FAILED), 0);
}

/* An edit keeps the reminders of the deadline it keeps (a deferred one
 * among them) and drops those of a deadline it changes. */
static void test_edit_drops_only_reminders_of_an_old_deadline(void **state) {
        struct fx *f = *state;
        _cleanup_(task_done) struct task t = {};
        int64_t id = add_task(f, "Báo cáo", "2025-05-15", "stc", "kbnn", at(2025, 5, 1, 9, 0));
        int64_t now = at(2025, 5, 8, 8, 0);
        struct due d;

        assert_int_equal(outbox_decide(f->s, f->c, now), 2);
        assert_int_equal(store_task_get(f->s, id, &t), 0);
        free(t.title);
        t.title = strdup("Báo cáo (sửa tên)");
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_task_update(f->s, &t, now), 0);
        assert_int_equal(store_commit(f->s), 0);
        assert_int_equal(count_state(f, DELIVERY_PENDING), 2);

        free(t.due);
        t.due = strdup("2025-05-20");
        assert_int_equal(parse_due(t.due, 0, &d), 0);
        t.due_at = due_instant(&d);
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_task_update(f->s, &t, now), 0);
        assert_int_equal(store_commit(f->s), 0);
        assert_int_equal(count_state(f, DELIVERY_PENDING), 0);
        assert_int_equal(count_state(f, DELIVERY_FAILED), 0);
}

/* Closed behind the store's back (another program's SQL): the claim still
 * does not send, and records why. */
static void test_task_closed_elsewhere_is_not_sent(void **state) {
        struct fx *f = *state;
        struct job_list jobs = {};
        int64_t id = add_task(f, "Báo cáo", "2025-05-15", "stc", NULL, at(2025, 5, 1, 9, 0));
        int64_t now = at(2025, 5, 8, 8, 0);
        _cleanup_free_ char *sql = NULL;
        sqlite3 *db;

        outbox_decide(f->s, f->c, now);
        assert_int_equal(sqlite3_open(f->c->database, &db), SQLITE_OK);
        assert_true(asprintf(&sql, "UPDATE tasks SET status = 'done' WHERE id = %lld", (long long) id) > 0);
        assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);
        assert_int_equal(outbox_claim(f->s, f->c, now, 100, NULL, &jobs), 0);
        job_list_done(&jobs);
        assert_int_equal(count_state(f, DELIVERY_FAILED), 1);

        struct delivery_list l = {};
        assert_int_equal(store_delivery_list_for_task(f->s, id, &l), 1);
        assert_non_null(strstr(l.items[0].last_error, "not sent: the task was closed"));
        delivery_list_done(&l);
}

/* A recurring task past its deadline moves on to the next one; the
 * reminders of the occurrence that is over are not made (nor kept, if
 * they were still waiting), and nothing is counted as failed. */
static void test_recurring_task_past_its_deadline_moves_on_quietly(void **state) {
        struct fx *f = *state;
        _cleanup_(task_done) struct task t = {};
        struct task_agency ag[] = { { (char *) "stc", ROLE_LEAD, 0 } };
        struct due d;

        assert_int_equal(parse_due("2025-05-15", 0, &d), 0);
        struct task n = { .title = (char *) "Báo cáo tháng", .due = (char *) "2025-05-15", .due_at = due_instant(&d),
                          .recurrence = (char *) "monthly:15", .status = TASK_OPEN, .agencies = ag, .n_agencies = 1 };
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_task_add(f->s, &n, at(2025, 5, 1, 9, 0)), 0);
        assert_int_equal(store_commit(f->s), 0);

        /* Wed 14/5: the 1-day reminder (the missed 7d and 3d collapse into
         * it); nothing moved on. */
        struct outbox_decided decided = { .rolled = 99 };
        assert_int_equal(outbox_decide_some(f->s, f->c, at(2025, 5, 14, 8, 0), SIZE_MAX, &decided), 1);
        assert_int_equal(decided.rolled, 0);
        assert_false(decided.more);
        assert_int_equal(count_state(f, DELIVERY_PENDING), 1);
        /* Fri 16/5, the deadline passed before it went: the task moves to
         * 15/6 (said, so that the daemon rewrites its calendars); no
         * overdue notice or escalation of May is made, and May's reminder
         * still waiting goes with it. */
        assert_int_equal(outbox_decide_some(f->s, f->c, at(2025, 5, 16, 8, 0), SIZE_MAX, &decided), 0);
        assert_int_equal(decided.rolled, 1);
        assert_int_equal(store_task_get(f->s, n.id, &t), 0);
        assert_string_equal(t.due, "2025-06-15");
        assert_true(t.next_fire_at != NO_TIME && t.next_fire_at > at(2025, 5, 16, 8, 0));
        assert_int_equal(count_state(f, DELIVERY_PENDING), 0);
        assert_int_equal(count_state(f, DELIVERY_FAILED), 0);
}

/* The addresses that have a delivery: whole lines, any case. */
static void test_row_delivered_matches_whole_addresses(void **state) {
        struct job_row r = { .delivered_to = (char *) "stc@sonha.gov.vn\nVanThu.STC@sonha.gov.vn" };
        struct job_row none = {};

        assert_true(job_row_delivered(&r, "stc@sonha.gov.vn"));
        assert_true(job_row_delivered(&r, "STC@SONHA.GOV.VN"));
        assert_true(job_row_delivered(&r, "vanthu.stc@sonha.gov.vn"));
        assert_false(job_row_delivered(&r, "c@sonha.gov.vn"));
        assert_false(job_row_delivered(&r, "stc@sonha.gov"));
        assert_false(job_row_delivered(&r, "stc@sonha.gov.vn\nVanThu.STC@sonha.gov.vn"));
        assert_false(job_row_delivered(&none, "stc@sonha.gov.vn"));
}

static void test_backoff_doubles_to_the_cap(void **state) {
        struct delivery_policy p = { .retry_min = 300, .retry_max = 3600, .max_retry_age = 2 * 86400 };
        assert_int_equal(outbox_backoff(&p, 1, 0.5), 300);
        assert_int_equal(outbox_backoff(&p, 2, 0.5), 600);
        assert_int_equal(outbox_backoff(&p, 4, 0.5), 2400);
        assert_int_equal(outbox_backoff(&p, 5, 0.5), 3600);
        assert_int_equal(outbox_backoff(&p, 40, 0.5), 3600);
        /* Jitter stays within ±10 %. */
        assert_int_equal(outbox_backoff(&p, 1, 0.0), 270);
        assert_true(outbox_backoff(&p, 1, 0.999) <= 330);
}

/* A task added with its agencies owed a notice: the decide step makes one
 * delivery per agency under "notice:<assigned_at>" and clears what was
 * owed, so a second pass (or a restart) makes none. */
static void test_notices_are_decided_once_and_cleared(void **state) {
        struct fx *f = *state;
        int64_t added = at(2025, 5, 5, 10, 0);
        struct task_agency ag[2] = { { "stc", ROLE_LEAD, added }, { "kbnn", ROLE_SUPPORT, added } };
        struct task t = { .title = "Báo cáo", .due = "2025-05-30", .status = TASK_OPEN, .agencies = ag,
                          .n_agencies = 2 };
        struct due d;
        char key[32];

        assert_int_equal(parse_due(t.due, 0, &d), 0);
        t.due_at = due_instant(&d);
        assert_int_equal(store_task_add(f->s, &t, added), 0);
        assert_int_equal(outbox_decide(f->s, f->c, added + 30), 2);
        assert_int_equal(outbox_decide(f->s, f->c, added + 60), 0);

        _cleanup_(task_done) struct task back = {};
        assert_int_equal(store_task_get(f->s, t.id, &back), 0);
        assert_int_equal(back.agencies[0].notice_at, 0);
        assert_int_equal(back.agencies[1].notice_at, 0);
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        assert_int_equal(store_delivery_list_for_task(f->s, t.id, &l), 2);
        snprintf(key, sizeof key, "notice:%lld", (long long) added);
        assert_string_equal(l.items[0].slot, key);
        assert_string_equal(l.items[1].slot, key);

        /* Both go in one message, To the lead and Cc the cooperating one. */
        struct job_list jobs = {};
        assert_int_equal(outbox_claim(f->s, f->c, added + 60, 100, NULL, &jobs), 1);
        assert_int_equal(jobs.jobs[0]->n_rows, 2);
        assert_non_null(strstr(jobs.jobs[0]->subject, "[Giao nhiệm vụ] Báo cáo (hạn 30/5/2025)"));
        job_list_done(&jobs);
}

/* A recurring task that moves on to its next deadline in the same pass
 * is written back owing no notice: none is made again. */
static void test_a_recurring_task_moving_on_owes_no_notice_again(void **state) {
        struct fx *f = *state;
        int64_t added = at(2025, 5, 5, 10, 0);
        struct task_agency ag[1] = { { "stc", ROLE_LEAD, added } };
        struct task t = { .title = "Báo cáo tháng", .due = "2025-04-25", .recurrence = "monthly:25",
                          .status = TASK_OPEN, .agencies = ag, .n_agencies = 1 };
        struct due d;
        _cleanup_(task_done) struct task back = {};

        assert_int_equal(parse_due(t.due, 0, &d), 0);
        t.due_at = due_instant(&d);
        assert_int_equal(store_task_add(f->s, &t, added), 0);
        assert_int_equal(outbox_decide(f->s, f->c, added + 30), 1);
        assert_int_equal(store_task_get(f->s, t.id, &back), 0);
        assert_string_equal(back.due, "2025-05-25");
        assert_int_equal(back.agencies[0].notice_at, 0);
}

/* In digest mode a notice waits for the next briefing (send_at on a
 * working day) unless the deadline comes first. */
static void test_digest_notices_wait_for_the_briefing(void **state) {
        struct fx *f = *state;
        int64_t added = at(2025, 5, 9, 14, 55); /* a Friday */
        struct task_agency ag[1] = { { "stc", ROLE_LEAD, added } };
        struct task later = { .title = "Kế hoạch", .due = "2025-05-30", .status = TASK_OPEN, .agencies = ag,
                              .n_agencies = 1 };
        struct task today = { .title = "Báo cáo nhanh", .due = "2025-05-09T17:00", .status = TASK_OPEN,
                              .agencies = ag, .n_agencies = 1 };
        struct due d;

        assert_int_equal(parse_due(later.due, 0, &d), 0);
        later.due_at = due_instant(&d);
        assert_int_equal(parse_due(today.due, 0, &d), 0);
        today.due_at = due_instant(&d);
        assert_int_equal(store_task_add(f->s, &later, added), 0);
        assert_int_equal(store_task_add(f->s, &today, added), 0);
        assert_int_equal(outbox_decide(f->s, f->c, added), 2);

        _cleanup_(delivery_list_done) struct delivery_list a = {}, b = {};
        assert_int_equal(store_delivery_list_for_task(f->s, later.id, &a), 1);
        assert_int_equal(a.items[0].next_attempt_at, at(2025, 5, 12, 8, 0)); /* Monday's briefing */
        assert_int_equal(store_delivery_list_for_task(f->s, today.id, &b), 1);
        assert_int_equal(b.items[0].next_attempt_at, added);
}

/* A delivery about no one task: once per key, agency and channel. */
static void test_enqueue_is_once_per_key_agency_and_channel(void **state) {
        struct fx *f = *state;
        int64_t now = at(2025, 6, 1, 8, 0);

        assert_int_equal(outbox_enqueue(f->s, f->c, "report:stc:2025-05", "stc", now, now), 1);
        assert_int_equal(outbox_enqueue(f->s, f->c, "report:stc:2025-05", "stc", now, now + 60), 0);
        assert_int_equal(outbox_enqueue(f->s, f->c, "report:stc:2025-05", "kbnn", now, now), 1);
        assert_int_equal(count_state(f, DELIVERY_PENDING), 2);

        assert_int_equal(outbox_enqueue(f->s, f->c, "report", "stc", now, now), -EINVAL);
        assert_int_equal(outbox_enqueue(f->s, f->c, ":x", "stc", now, now), -EINVAL);
        assert_int_equal(outbox_enqueue(f->s, f->c, "before:7d@1", "stc", now, now), -EINVAL);
        assert_int_equal(outbox_enqueue(f->s, f->c, "notice:1", "stc", now, now), -EINVAL);
        assert_int_equal(outbox_enqueue(f->s, f->c, "report:x:1", "nosuch", now, now), -ENOENT);
        assert_int_equal(count_state(f, DELIVERY_PENDING), 2);
}

/* Claimed like any delivery; a kind without a composer fails, saying so,
 * and is not tried again. */
static void test_untasked_delivery_without_a_composer_fails_with_its_reason(void **state) {
        struct fx *f = *state;
        int64_t now = at(2025, 6, 1, 8, 0);
        struct job_list jobs = {}, again = {};

        assert_int_equal(outbox_enqueue(f->s, f->c, "note:42", "stc", now, now), 1);
        assert_int_equal(outbox_claim(f->s, f->c, now, 100, NULL, &jobs), 1);
        assert_int_equal(jobs.jobs[0]->rows[0].task_id, 0);
        assert_int_equal(jobs.jobs[0]->rows[0].result, RESULT_FAIL);
        assert_int_equal(outbox_settle(f->s, f->c, now, jobs.jobs, jobs.n), 0);
        job_list_done(&jobs);
        assert_int_equal(count_state(f, DELIVERY_FAILED), 1);
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        assert_int_equal(store_deliveries_trouble(f->s, 10, &l), 1);
        assert_string_equal(l.items[0].last_error, "no message is made for this kind of delivery");
        assert_int_equal(outbox_claim(f->s, f->c, now + 3600, 100, NULL, &again), 0);
        job_list_done(&again);
}

/* Quoted-printable bodies decoded in place, for looking at the words. */
static void qp_decode(char *s) {
        char *w = s;

        for (const char *r = s; *r;) {
                if (r[0] == '=' && r[1] == '\r' && r[2] == '\n')
                        r += 3;
                else if (r[0] == '=' && isxdigit((unsigned char) r[1]) && isxdigit((unsigned char) r[2])) {
                        char hex[3] = { r[1], r[2], 0 };
                        *w++ = (char) strtol(hex, NULL, 16);
                        r += 3;
                } else
                        *w++ = *r++;
        }
        *w = 0;
}

/* Bodies decoded in place, for looking at the words: base64 ones (a
 * Vietnamese text goes so), then quoted-printable ones. */
static void bodies_decode(char *s) {
        static const char marker[] = "Content-Transfer-Encoding: base64\r\n\r\n";
        static const char digits[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

        for (char *p = s; (p = strstr(p, marker));) {
                char *body = p + strlen(marker), *end = strstr(body, "\r\n--"), *w = body;
                uint32_t acc = 0;
                int bits = 0;

                if (!end)
                        end = body + strlen(body);
                for (const char *r = body; r < end; r++) {
                        const char *d = *r ? strchr(digits, *r) : NULL;
                        if (!d)
                                continue;       /* line breaks, padding */
                        acc = acc << 6 | (uint32_t) (d - digits);
                        bits += 6;
                        if (bits >= 8) {
                                bits -= 8;
                                *w++ = (char) (acc >> bits & 255);
                        }
                }
                memmove(w, end, strlen(end) + 1);
                p = w;
        }
        qp_decode(s);
}

/* An agency's reply as the inbox reader records it. */
static int64_t add_reply(struct fx *f, int64_t task, enum inbox_intent intent, int32_t asked_day,
                         const char *subject) {
        struct inbox_message m = {
                .uidvalidity = 1,
                .uid = 7,
                .message_id = (char *) "CAF+r7=x@mail.stc.sonha.gov.vn",
                .sender = (char *) "vanthu@stc.sonha.gov.vn",
                .subject = (char *) subject,
                .received_at = at(2025, 5, 12, 9, 31),
                .sent_at = at(2025, 5, 12, 9, 30),
                .task_id = task,
                .agency = (char *) "stc",
                .intent = intent,
                .asked_day = asked_day,
                .text = (char *) "Đã hoàn thành.",
                .state = INBOX_PENDING,
        };
        assert_int_equal(store_inbox_add(f->s, &m), 1);
        return m.id;
}

/* The acknowledgement of a reply, made when claimed from the reply in the
 * store: to its sender alone, in its thread, saying what was received. */
static struct job *claim_ack(struct fx *f, int64_t reply, int64_t now, struct job_list *jobs) {
        char key[32];

        snprintf(key, sizeof key, "ack:%lld", (long long) reply);
        assert_int_equal(outbox_enqueue(f->s, f->c, key, "stc", now, now), 1);
        /* E-mail only, once. */
        assert_int_equal(outbox_enqueue(f->s, f->c, key, "stc", now, now), 0);
        assert_int_equal(outbox_claim(f->s, f->c, now, 100, NULL, jobs), 1);
        struct job *j = jobs->jobs[0];
        assert_int_equal(j->rows[0].result, RESULT_NONE);
        assert_non_null(j->data);
        assert_non_null(j->rcpt);
        assert_string_equal(j->rcpt[0], "vanthu@stc.sonha.gov.vn");
        assert_null(j->rcpt[1]);
        assert_non_null(strstr(j->data, "\r\nIn-Reply-To: <CAF+r7=x@mail.stc.sonha.gov.vn>\r\n"));
        assert_non_null(strstr(j->data, "\r\nReferences: <CAF+r7=x@mail.stc.sonha.gov.vn>\r\n"));
        assert_non_null(strstr(j->data, "<vanthu@stc.sonha.gov.vn>\r\n"));
        assert_null(strstr(j->data, "\r\nCc:"));
        bodies_decode(j->data);
        return j;
}

static void test_ack_of_a_report_of_completion(void **state) {
        struct fx *f = *state;
        struct job_list jobs = {};
        int64_t task = add_task(f, "Báo cáo quý", "2025-05-20", "stc", NULL, at(2025, 5, 1, 9, 0));
        int64_t reply = add_reply(f, task, INBOX_INTENT_DONE, INT32_MIN, "Re: [Nhắc việc] Báo cáo quý [#1]");

        struct job *j = claim_ack(f, reply, at(2025, 5, 12, 9, 35), &jobs);
        assert_string_equal(j->subject, "Re: [Nhắc việc] Báo cáo quý [#1]");
        assert_non_null(strstr(j->data, "Đã nhận báo cáo hoàn thành nhiệm vụ, đang chờ xác nhận."));
        assert_non_null(strstr(j->data, "nhiệm vụ [#1] Báo cáo quý"));
        assert_non_null(strstr(j->data, "gửi ngày 12/5/2025 (vanthu@stc.sonha.gov.vn)"));
        assert_null(strstr(j->data, "gia hạn"));
        job_list_done(&jobs);
}

static void test_ack_of_an_extension_request(void **state) {
        struct fx *f = *state;
        struct job_list jobs = {};
        int64_t task = add_task(f, "Báo cáo quý", "2025-05-20", "stc", NULL, at(2025, 5, 1, 9, 0));
        int64_t reply = add_reply(f, task, INBOX_INTENT_EXTENSION, days_from_civil(2025, 6, 15),
                                  "RE: Báo cáo quý");

        struct job *j = claim_ack(f, reply, at(2025, 5, 12, 9, 35), &jobs);
        /* One "Re: ", and the task tag the reply lost. */
        assert_string_equal(j->subject, "Re: Báo cáo quý [#1]");
        assert_non_null(strstr(j->data, "Đã nhận đề nghị gia hạn đến 15/6/2025, đang chờ xem xét."));
        assert_null(strstr(j->data, "báo cáo hoàn thành"));
        job_list_done(&jobs);
}

static void test_ack_in_english(void **state) {
        struct fx *f = *state;
        struct job_list jobs = {};
        int64_t task = add_task(f, "Quarterly report", "2025-05-20", "stc", NULL, at(2025, 5, 1, 9, 0));
        int64_t reply = add_reply(f, task, INBOX_INTENT_DONE, INT32_MIN, "Re: [Reminder] Quarterly report [#1]");

        struct job *j = claim_ack(f, reply, at(2025, 5, 12, 9, 35), &jobs);
        assert_string_equal(j->subject, "Re: [Reminder] Quarterly report [#1]");
        assert_non_null(strstr(j->data, "Your report that the task is completed has been received and is awaiting "
                                        "confirmation."));
        assert_non_null(strstr(j->data, "Dear Sở Tài chính,"));
        job_list_done(&jobs);
}

/* An acknowledgement of a reply the store does not have fails, with its
 * reason, and is not tried again. */
static void test_ack_of_a_missing_reply_fails(void **state) {
        struct fx *f = *state;
        int64_t now = at(2025, 6, 1, 8, 0);
        struct job_list jobs = {};

        assert_int_equal(outbox_enqueue(f->s, f->c, "ack:99", "stc", now, now), 1);
        assert_int_equal(outbox_claim(f->s, f->c, now, 100, NULL, &jobs), 1);
        assert_int_equal(jobs.jobs[0]->rows[0].result, RESULT_FAIL);
        assert_int_equal(outbox_settle(f->s, f->c, now, jobs.jobs, jobs.n), 0);
        job_list_done(&jobs);
        assert_int_equal(count_state(f, DELIVERY_FAILED), 1);
}

/* With an inbox, what goes to an agency says Reply-To: the inbox's
 * address; without one, nothing (or smtp.reply_to, when set). */
static void reply_to_of_claimed(struct fx *f, const char *want) {
        struct job_list jobs = {};
        int64_t now = at(2025, 5, 8, 8, 0);

        add_task(f, "Báo cáo", "2025-05-15", "stc", NULL, at(2025, 5, 1, 9, 0));
        assert_int_equal(outbox_decide(f->s, f->c, now), 1);
        assert_int_equal(outbox_claim(f->s, f->c, now, 100, NULL, &jobs), 1);
        assert_non_null(jobs.jobs[0]->data);
        const char *h = strstr(jobs.jobs[0]->data, "\r\nReply-To:");
        if (!want)
                assert_null(h);
        else {
                assert_non_null(h);
                assert_non_null(strstr(h, want));
                assert_true(strstr(h, want) < strstr(h + 2, "\r\n"));
        }
        job_list_done(&jobs);
}

static void test_reply_to_is_the_inbox(void **state) {
        reply_to_of_claimed(*state, "<theodoi@sonha.gov.vn>");
}

static void test_no_reply_to_without_an_inbox(void **state) {
        reply_to_of_claimed(*state, NULL);
}

/* Idle without a report configured: nothing to wake for. With one, the
 * next report's due time; once decided, the row's. */
static void test_next_wakeup_without_reports_is_never(void **state) {
        struct fx *f = *state;
        int64_t next;

        assert_int_equal(outbox_next_wakeup(f->s, f->c, at(2025, 6, 1, 12, 0), &next), 0);
        assert_int_equal(next, NO_TIME);
}

static void test_the_periodic_report_is_decided_once_and_woken_for(void **state) {
        struct fx *f = *state;
        struct job_list jobs = {};
        int64_t next;

        /* Sunday 1 June: May's report is due on Monday at 08:00. */
        assert_int_equal(outbox_next_wakeup(f->s, f->c, at(2025, 6, 1, 12, 0), &next), 0);
        assert_int_equal(next, at(2025, 6, 2, 8, 0));
        assert_int_equal(outbox_decide(f->s, f->c, at(2025, 6, 1, 12, 0)), 0);
        assert_int_equal(outbox_decide(f->s, f->c, at(2025, 6, 2, 8, 0)), 1);
        assert_int_equal(outbox_decide(f->s, f->c, at(2025, 6, 2, 8, 5)), 0);
        assert_int_equal(outbox_decide(f->s, f->c, at(2025, 6, 30, 8, 5)), 0);

        assert_int_equal(outbox_claim(f->s, f->c, at(2025, 6, 2, 8, 5), 100, NULL, &jobs), 1);
        struct job *j = jobs.jobs[0];
        assert_string_equal(j->rows[0].slot, "report:vpubnd:2025-05");
        assert_int_equal(j->rows[0].result, RESULT_NONE);
        assert_non_null(strstr(j->data, "Content-Type: multipart/mixed"));
        assert_non_null(strstr(j->data, "filename=\"bao-cao-2025-05.csv\""));
        assert_int_equal(j->n_rcpt, 1);
        assert_string_equal(j->rcpt[0], "vp@sonha.gov.vn");
        job_set_result(j, RESULT_SENT, NULL);
        assert_int_equal(outbox_settle(f->s, f->c, at(2025, 6, 2, 8, 5), jobs.jobs, jobs.n), 0);
        job_list_done(&jobs);
        /* Sent: the next is June's, on Tuesday 1 July. */
        assert_int_equal(outbox_next_wakeup(f->s, f->c, at(2025, 6, 2, 8, 5), &next), 0);
        assert_int_equal(next, at(2025, 7, 1, 8, 0));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_decide_inserts_one_row_per_agency_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_groups_expand_to_members, setup, teardown),
                cmocka_unit_test_setup_teardown(test_downtime_collapses_to_latest_slot, setup, teardown),
                cmocka_unit_test_setup_teardown(test_escalation_goes_to_supervisor_once, setup, teardown),
                cmocka_unit_test_setup_teardown(test_claim_groups_task_mail_and_marks_attempting, setup, teardown),
                cmocka_unit_test_setup_teardown(test_digest_groups_by_agency, setup_digest, teardown),
                cmocka_unit_test_setup_teardown(test_retry_backs_off_then_gives_up, setup, teardown),
                cmocka_unit_test_setup_teardown(test_unsettled_rows_go_back_to_pending, setup, teardown),
                cmocka_unit_test_setup_teardown(test_closed_task_is_not_reminded, setup, teardown),
                cmocka_unit_test_setup_teardown(test_edit_drops_only_reminders_of_an_old_deadline, setup, teardown),
                cmocka_unit_test_setup_teardown(test_task_closed_elsewhere_is_not_sent, setup, teardown),
                cmocka_unit_test_setup_teardown(test_recurring_task_past_its_deadline_moves_on_quietly, setup, teardown),
                cmocka_unit_test_setup_teardown(test_retry_age_counts_from_the_first_attempt_and_ends_with_one,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_unsent_rows_go_back_as_they_were, setup, teardown),
                cmocka_unit_test_setup_teardown(test_notices_are_decided_once_and_cleared, setup, teardown),
                cmocka_unit_test_setup_teardown(test_digest_notices_wait_for_the_briefing, setup_digest, teardown),
                cmocka_unit_test_setup_teardown(test_a_recurring_task_moving_on_owes_no_notice_again, setup, teardown),
                cmocka_unit_test_setup_teardown(test_enqueue_is_once_per_key_agency_and_channel, setup, teardown),
                cmocka_unit_test_setup_teardown(test_next_wakeup_without_reports_is_never, setup, teardown),
                cmocka_unit_test_setup_teardown(test_the_periodic_report_is_decided_once_and_woken_for,
                                                setup_report, teardown),
                cmocka_unit_test_setup_teardown(test_untasked_delivery_without_a_composer_fails_with_its_reason, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_ack_of_a_report_of_completion, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ack_of_an_extension_request, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ack_in_english, setup_en, teardown),
                cmocka_unit_test_setup_teardown(test_ack_of_a_missing_reply_fails, setup, teardown),
                cmocka_unit_test_setup_teardown(test_reply_to_is_the_inbox, setup_inbox, teardown),
                cmocka_unit_test_setup_teardown(test_no_reply_to_without_an_inbox, setup, teardown),
                cmocka_unit_test(test_row_delivered_matches_whole_addresses),
                cmocka_unit_test(test_backoff_doubles_to_the_cap),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
