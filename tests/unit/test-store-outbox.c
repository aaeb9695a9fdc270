/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store's scheduler queries and the outbox, including how SQLite runs
 * them: finding what is due must be an index search, never a scan. */
#include <sys/wait.h>
#include <unistd.h>

#include "store-fixture.h"

static struct delivery delivery(int64_t task_id, const char *slot, const char *agency,
                                const char *channel, int64_t next_attempt_at) {
        return (struct delivery) {
                .task_id = task_id, .slot = (char *) slot, .slot_at = NOW - 3600,
                .agency = (char *) agency, .role = ROLE_LEAD, .channel = (char *) channel,
                .state = DELIVERY_PENDING, .next_attempt_at = next_attempt_at, .created_at = NOW,
        };
}

static int64_t insert(struct store *s, struct delivery d) {
        assert_int_equal(store_delivery_insert(s, &d), 1);
        return d.id;
}

static void test_next_fire_is_the_earliest_open_task(void **state) {
        struct fixture *f = *state;
        int64_t a, b, c, next = 0;

        assert_int_equal(store_next_fire(f->s, &next), 0);
        assert_int_equal(next, NO_TIME);

        a = add_task(f->s, "a", NOW + 900, NULL, 0);
        b = add_task(f->s, "b", NOW + 900, NULL, 0);
        c = add_task(f->s, "c", NOW + 900, NULL, 0);
        assert_int_equal(store_task_set_schedule(f->s, a, NOW + 300, NOW), 0);
        assert_int_equal(store_task_set_schedule(f->s, b, NOW + 100, NOW), 0);
        assert_int_equal(store_task_set_schedule(f->s, c, NO_TIME, NOW + 900), 0);
        assert_int_equal(store_next_fire(f->s, &next), 0);
        assert_int_equal(next, NOW + 100);

        /* A closed task is never looked at, and stays so when rescheduled. */
        assert_int_equal(store_task_set_status(f->s, b, TASK_DONE, NOW), 0);
        assert_int_equal(store_task_set_schedule(f->s, b, NOW + 50, NOW), 0);
        assert_int_equal(store_next_fire(f->s, &next), 0);
        assert_int_equal(next, NOW + 300);

        assert_int_equal(store_task_set_schedule(f->s, 999, NOW, NOW), -ENOENT);
}

/* Schedules set together: each its own time, a closed task left without
 * one, and a missing task refused. */
static void test_tasks_set_schedule_sets_several(void **state) {
        struct fixture *f = *state;
        int64_t a = add_task(f->s, "a", NOW + 900, NULL, 0);
        int64_t b = add_task(f->s, "b", NOW + 900, NULL, 0);
        int64_t c = add_task(f->s, "c", NOW + 900, NULL, 0);
        int64_t next = 0;

        assert_int_equal(store_task_set_status(f->s, a, TASK_DONE, NOW), 0);
        assert_int_equal(store_tasks_set_schedule(f->s, (int64_t[]) { a, b, c },
                                                  (int64_t[]) { NOW + 10, NOW + 300, NO_TIME }, 3, NOW),
                         0);
        assert_int_equal(store_next_fire(f->s, &next), 0);
        assert_int_equal(next, NOW + 300);
        assert_int_equal(store_tasks_set_schedule(f->s, (int64_t[]) { c, b }, (int64_t[]) { NOW + 20, NO_TIME },
                                                  2, NOW + 1),
                         0);
        assert_int_equal(store_next_fire(f->s, &next), 0);
        assert_int_equal(next, NOW + 20);
        assert_int_equal(store_tasks_set_schedule(f->s, (int64_t[]) { c, 999 }, (int64_t[]) { NOW, NOW }, 2, NOW),
                         -ENOENT);
        assert_int_equal(store_tasks_set_schedule(f->s, NULL, NULL, 0, NOW), 0);
}

static void test_tasks_due_are_open_tasks_at_or_before_now_earliest_first(void **state) {
        struct fixture *f = *state;
        _cleanup_(task_list_done) struct task_list l = {}, one = {}, none = {};
        struct task_agency ag[] = { { "stc", ROLE_SUPPORT, 0 }, { "sxd", ROLE_LEAD, 0 } };
        int64_t a, b, c, d;

        a = add_task(f->s, "a", NOW + 900, ag, 2);
        b = add_task(f->s, "b", NOW + 900, NULL, 0);
        c = add_task(f->s, "c", NOW + 900, NULL, 0);
        d = add_task(f->s, "d", NOW + 900, NULL, 0);
        assert_int_equal(store_task_set_schedule(f->s, a, NOW + 200, NOW), 0);
        assert_int_equal(store_task_set_schedule(f->s, b, NOW + 100, NOW), 0);
        assert_int_equal(store_task_set_schedule(f->s, c, NOW + 201, NOW), 0);
        assert_int_equal(store_task_set_status(f->s, d, TASK_CANCELLED, NOW), 0);

        assert_int_equal(store_tasks_due(f->s, NOW + 200, 0, &l), 2);
        assert_int_equal(l.tasks[0].id, b);
        assert_int_equal(l.tasks[1].id, a);
        assert_int_equal(l.tasks[1].n_agencies, 2);
        assert_string_equal(l.tasks[1].agencies[0].agency, "sxd");
        assert_int_equal(l.tasks[1].next_fire_at, NOW + 200);

        assert_int_equal(store_tasks_due(f->s, NOW + 1000, 1, &one), 1);
        assert_int_equal(one.tasks[0].id, b);
        assert_int_equal(store_tasks_due(f->s, NOW + 99, 10, &none), 0);
}

/* The plan of a query as one string, one line per step. */
static char *query_plan(sqlite3 *db, const char *sql) {
        _cleanup_free_ char *q = NULL;
        char *buf = NULL;
        size_t size = 0;
        sqlite3_stmt *st = NULL;
        FILE *out;

        assert_true(asprintf(&q, "EXPLAIN QUERY PLAN %s", sql) > 0);
        assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
        out = open_memstream(&buf, &size);
        assert_non_null(out);
        while (sqlite3_step(st) == SQLITE_ROW)
                fprintf(out, "%s\n", (const char *) sqlite3_column_text(st, 3));
        sqlite3_finalize(st);
        fclose(out);
        return buf;
}

/* The query finds its rows through `index` and no step scans a table
 * without one. */
static void assert_uses_index(sqlite3 *db, const char *sql, const char *index, bool sorted) {
        _cleanup_free_ char *plan = query_plan(db, sql);
        char want[128];

        snprintf(want, sizeof want, "USING INDEX %s", index);
        if (!strstr(plan, want)) {
                snprintf(want, sizeof want, "USING COVERING INDEX %s", index);
                if (!strstr(plan, want))
                        fail_msg("%s does not use %s:\n%s", sql, index, plan);
        }
        for (char *line = plan, *end; *line; line = end + 1) {
                end = strchr(line, '\n');
                *end = 0;
                /* A json_each() list of parameters is read whole, as it
                 * should be; a table is not. */
                if (strncmp(line, "SCAN ", 5) == 0 && !strstr(line, "USING") &&
                    !strstr(line, "json_each VIRTUAL TABLE"))
                        fail_msg("%s scans without an index: %s", sql, line);
                /* Earliest first must come from the index's own order. */
                if (sorted && strstr(line, "TEMP B-TREE FOR ORDER BY"))
                        fail_msg("%s sorts: %s", sql, line);
        }
}

static void test_scheduler_queries_use_the_partial_indexes(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        sqlite3 *db;

        /* Enough rows, most of them closed or sent, for the planner to have
         * a choice, and statistics that favour the other indexes. */
        assert_int_equal(store_begin(f->s), 0);
        for (int i = 0; i < 500; i++) {
                int64_t id = add_task(f->s, "x", NOW + i, NULL, 0);
                char slot[32];

                if (i % 10)
                        assert_int_equal(store_task_set_status(f->s, id, TASK_DONE, NOW), 0);
                snprintf(slot, sizeof slot, "before:%dd", i);
                insert(f->s, delivery(id, slot, "sxd", "email", NOW + i));
        }
        assert_int_equal(store_commit(f->s), 0);

        db = raw_open(f->path);
        raw_exec(db, "UPDATE deliveries SET state = 'sent' WHERE id % 10 != 0; ANALYZE;");

        assert_uses_index(db, SQL_NEXT_FIRE, "tasks_next_fire", false);
        assert_uses_index(db, SQL_TASKS_DUE, "tasks_next_fire", true);
        assert_uses_index(db, SQL_DELIVERIES_DUE, "deliveries_due", true);
        assert_uses_index(db, SQL_NEXT_DELIVERY, "deliveries_due", false);
        sqlite3_close(db);
}

static void test_delivery_insert_is_idempotent(void **state) {
        struct fixture *f = *state;
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        struct delivery d = delivery(task, "before:7d@1746032399", "sxd", "email", NOW);
        struct delivery again = d, other = delivery(task, "before:7d@1746032399", "sxd", "webhook:0", NOW);
        int64_t counts[_DELIVERY_STATE_MAX];

        assert_int_equal(store_delivery_insert(f->s, &d), 1);
        assert_true(d.id > 0);
        again.id = 0;
        assert_int_equal(store_delivery_insert(f->s, &again), 0);
        assert_int_equal(again.id, d.id);
        assert_int_equal(store_delivery_insert(f->s, &other), 1);
        assert_true(other.id != d.id);

        assert_int_equal(store_delivery_counts(f->s, counts), 0);
        assert_int_equal(counts[DELIVERY_PENDING], 2);
}

/* A delivery about no one task (task_id 0, stored as none) is unique by
 * slot, agency and channel: the same key is inserted once, and a task's
 * delivery with the same slot is another. */
static void test_untasked_delivery_insert_is_idempotent(void **state) {
        struct fixture *f = *state;
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        struct delivery d = delivery(0, "report:sxd:2025-05", "sxd", "email", NOW);
        struct delivery again = d, other = delivery(0, "report:sxd:2025-05", "stc", "email", NOW);
        struct delivery tasked = delivery(task, "report:sxd:2025-05", "sxd", "email", NOW);
        _cleanup_(delivery_list_done) struct delivery_list l = {};

        assert_int_equal(store_delivery_insert(f->s, &d), 1);
        again.id = 0;
        assert_int_equal(store_delivery_insert(f->s, &again), 0);
        assert_int_equal(again.id, d.id);
        assert_int_equal(store_delivery_insert(f->s, &other), 1);
        assert_int_equal(store_delivery_insert(f->s, &tasked), 1);
        assert_true(tasked.id != d.id);
        assert_int_equal(store_deliveries_due(f->s, NOW, NULL, &l), 3);
        assert_int_equal(l.items[0].task_id, 0);
        assert_string_equal(l.items[0].slot, "report:sxd:2025-05");
        d.task_id = -1;
        assert_int_equal(store_delivery_insert(f->s, &d), -EINVAL);
}

/* Several inserted in one call: a key already there, or twice in the
 * call, is inserted once; the rows are as store_delivery_insert() makes
 * them. */
static void test_deliveries_insert_several_at_once(void **state) {
        struct fixture *f = *state;
        _cleanup_(delivery_list_done) struct delivery_list l = {}, due = {};
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        int64_t counts[_DELIVERY_STATE_MAX];
        int64_t old = insert(f->s, delivery(task, "before:1d", "sxd", "email", NOW));
        struct delivery d[] = {
                delivery(task, "before:1d", "sxd", "email", NOW + 5),      /* there already */
                delivery(task, "before:1d", "sxd", "webhook:0", NOW + 7),
                delivery(task, "before:1d", "stc", "email", NO_TIME),
                delivery(task, "before:1d", "sxd", "webhook:0", NOW + 9),  /* twice in the call */
                delivery(0, "report:sxd:2025-05", "sxd", "email", NOW + 1),
                delivery(0, "report:sxd:2025-05", "sxd", "email", NOW + 2),
        };

        d[2].role = _ROLE_INVALID;
        d[2].slot_at = NOW - 60;
        assert_int_equal(store_deliveries_insert(f->s, d, ELEMENTSOF(d)), 3);
        assert_int_equal(store_deliveries_insert(f->s, d, ELEMENTSOF(d)), 0);
        assert_int_equal(store_delivery_counts(f->s, counts), 0);
        assert_int_equal(counts[DELIVERY_PENDING], 4);

        assert_int_equal(store_delivery_list_for_task(f->s, task, &l), 3);
        for (size_t i = 0; i < l.n; i++) {
                const struct delivery *x = &l.items[i];
                assert_int_equal(x->state, DELIVERY_PENDING);
                assert_int_equal(x->attempts, 0);
                assert_null(x->last_error);
                assert_int_equal(x->created_at, NOW);
                if (x->id == old)
                        assert_int_equal(x->next_attempt_at, NOW);
                else if (streq(x->agency, "stc")) {
                        assert_string_equal(x->channel, "email");
                        assert_int_equal(x->role, _ROLE_INVALID);
                        assert_int_equal(x->slot_at, NOW - 60);
                        /* Pending without a time: due when created. */
                        assert_int_equal(x->next_attempt_at, NOW);
                } else {
                        assert_string_equal(x->channel, "webhook:0");
                        assert_int_equal(x->role, ROLE_LEAD);
                        assert_int_equal(x->slot_at, NOW - 3600);
                        assert_int_equal(x->next_attempt_at, NOW + 7);
                }
        }
        assert_int_equal(store_deliveries_due(f->s, NOW + 1, NULL, &due), 3);
        assert_int_equal(due.items[2].task_id, 0);
        assert_string_equal(due.items[2].slot, "report:sxd:2025-05");
}

/* Only fresh pending rows, all created at once; a bad one refuses the
 * call before anything is written. */
static void test_deliveries_insert_refuses_bad_input(void **state) {
        struct fixture *f = *state;
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        int64_t counts[_DELIVERY_STATE_MAX] = {};
        struct delivery d[2];

        for (int k = 0; k < 6; k++) {
                d[0] = delivery(task, "s", "sxd", "email", NOW);
                d[1] = delivery(task, "s", "stc", "email", NOW);
                switch (k) {
                case 0: d[1].state = DELIVERY_SENT; break;
                case 1: d[1].attempts = 1; break;
                case 2: d[1].last_error = (char *) "x"; break;
                case 3: d[1].created_at = NOW + 1; break;
                case 4: d[1].channel = NULL; break;
                case 5: d[1].task_id = -1; break;
                }
                assert_int_equal(store_deliveries_insert(f->s, d, 2), -EINVAL);
        }
        assert_int_equal(store_deliveries_insert(f->s, NULL, 1), -EINVAL);
        assert_int_equal(store_deliveries_insert(f->s, NULL, 0), 0);
        assert_int_equal(store_delivery_counts(f->s, counts), 0);
        assert_int_equal(counts[DELIVERY_PENDING], 0);
}

static void test_delivery_insert_refuses_bad_input(void **state) {
        struct fixture *f = *state;
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        struct delivery d = delivery(task, "s", "sxd", NULL, NOW);

        assert_int_equal(store_delivery_insert(f->s, &d), -EINVAL);
        d = delivery(task, "s", "sxd", "email", NOW);
        d.state = 9;
        assert_int_equal(store_delivery_insert(f->s, &d), -EINVAL);
}

static void test_delivery_round_trip_and_defaults(void **state) {
        struct fixture *f = *state;
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        struct delivery d = delivery(task, "overdue:2025-05-02", "stc", "webhook:1", NO_TIME);

        d.role = _ROLE_INVALID;
        assert_int_equal(store_delivery_insert(f->s, &d), 1);

        assert_int_equal(store_delivery_list_for_task(f->s, task, &l), 1);
        assert_int_equal(l.items[0].id, d.id);
        assert_int_equal(l.items[0].task_id, task);
        assert_string_equal(l.items[0].slot, "overdue:2025-05-02");
        assert_int_equal(l.items[0].slot_at, NOW - 3600);
        assert_string_equal(l.items[0].agency, "stc");
        assert_int_equal(l.items[0].role, _ROLE_INVALID);
        assert_string_equal(l.items[0].channel, "webhook:1");
        assert_int_equal(l.items[0].state, DELIVERY_PENDING);
        assert_int_equal(l.items[0].attempts, 0);
        /* Pending without a time: due when created. */
        assert_int_equal(l.items[0].next_attempt_at, NOW);
        assert_null(l.items[0].last_error);
        assert_int_equal(l.items[0].created_at, NOW);
        assert_int_equal(l.items[0].sent_at, NO_TIME);
}

static void test_deliveries_due_pending_earliest_first_with_limit(void **state) {
        struct fixture *f = *state;
        _cleanup_(delivery_list_done) struct delivery_list l = {}, two = {};
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        int64_t a, b, c, d, next;

        assert_int_equal(store_next_delivery(f->s, &next), 0);
        assert_int_equal(next, NO_TIME);

        a = insert(f->s, delivery(task, "s1", "sxd", "email", NOW + 30));
        b = insert(f->s, delivery(task, "s2", "sxd", "email", NOW + 10));
        c = insert(f->s, delivery(task, "s3", "sxd", "email", NOW + 20));
        d = insert(f->s, delivery(task, "s4", "sxd", "email", NOW + 5));
        insert(f->s, delivery(task, "s5", "sxd", "email", NOW + 31));
        assert_int_equal(store_delivery_set_state(f->s, d, DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW), 0);

        assert_int_equal(store_next_delivery(f->s, &next), 0);
        assert_int_equal(next, NOW + 10);
        assert_int_equal(store_deliveries_due(f->s, NOW + 30, NULL, &l), 3);
        assert_int_equal(l.items[0].id, b);
        assert_int_equal(l.items[1].id, c);
        assert_int_equal(l.items[2].id, a);
        assert_int_equal(store_deliveries_due(f->s, NOW + 100, &(struct delivery_filter) { .limit = 2 }, &two), 2);
        assert_int_equal(two.items[0].id, b);
        assert_int_equal(two.items[1].id, c);

        /* A busy receiver's deliveries are left out, whatever their age. */
        _cleanup_(delivery_list_done) struct delivery_list rest = {}, none = {};
        int64_t w = insert(f->s, delivery(task, "s6", "sxd", "webhook:0", NOW + 40));
        const struct delivery_receiver busy[] = { { "sxd", "email" }, { "sxd", "webhook:0" } };
        struct delivery_filter filter = { .skip = busy, .n_skip = 1 };
        assert_int_equal(store_deliveries_due(f->s, NOW + 100, &filter, &rest), 1);
        assert_int_equal(rest.items[0].id, w);
        filter.n_skip = 2;
        assert_int_equal(store_deliveries_due(f->s, NOW + 100, &filter, &none), 0);
}

/* The filter leaves out exactly the receivers it names, an agency's other
 * channels and other agencies' same channel included, whatever characters
 * the names hold; the limit counts what is read, not what is left out. */
static void test_deliveries_due_filter_skips_receivers_then_limits(void **state) {
        struct fixture *f = *state;
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        int64_t a, b, c, d;

        insert(f->s, delivery(task, "s1", "sxd", "webhook:0", NOW + 1));
        a = insert(f->s, delivery(task, "s2", "sxd", "email", NOW + 2));
        insert(f->s, delivery(task, "s3", "q\"uo\\te", "email", NOW + 3));
        b = insert(f->s, delivery(task, "s4", "stc", "webhook:0", NOW + 4));
        insert(f->s, delivery(task, "s5", "sxd", "webhook:0", NOW + 5));
        c = insert(f->s, delivery(task, "s6", "sxd", "webhook:1", NOW + 6));
        d = insert(f->s, delivery(task, "s7", "stc", "email", NOW + 7));

        const struct delivery_receiver skip[] = { { "sxd", "webhook:0" }, { "q\"uo\\te", "email" } };
        struct delivery_filter filter = { .skip = skip, .n_skip = ELEMENTSOF(skip) };
        _cleanup_(delivery_list_done) struct delivery_list all = {}, first = {}, none = {};
        assert_int_equal(store_deliveries_due(f->s, NOW + 100, &filter, &all), 4);
        assert_int_equal(all.items[0].id, a);
        assert_int_equal(all.items[1].id, b);
        assert_int_equal(all.items[2].id, c);
        assert_int_equal(all.items[3].id, d);
        filter.limit = 2;
        assert_int_equal(store_deliveries_due(f->s, NOW + 100, &filter, &first), 2);
        assert_int_equal(first.items[0].id, a);
        assert_int_equal(first.items[1].id, b);
        /* Nothing due yet: the filter changes nothing about when. */
        filter.limit = 0;
        assert_int_equal(store_deliveries_due(f->s, NOW, &filter, &none), 0);
}

/* A copy of a filter's receivers is one allocation that outlives what it
 * was copied from; equal means the same receivers in the same order. */
static void test_delivery_receivers_copy_and_compare(void **state) {
        char agency[] = "sxd", channel[] = "webhook:0";
        const struct delivery_receiver r[] = { { agency, channel }, { "stc", "email" } };
        const struct delivery_receiver swapped[] = { r[1], r[0] };
        struct delivery_receiver *copy = (void *) 1;

        assert_int_equal(delivery_receivers_dup(r, 0, &copy), 0);
        assert_null(copy);
        assert_true(delivery_receivers_equal(NULL, 0, r, 0));

        assert_int_equal(delivery_receivers_dup(r, 2, &copy), 0);
        strcpy(agency, "xxx");
        strcpy(channel, "webhook:9");
        assert_string_equal(copy[0].agency, "sxd");
        assert_string_equal(copy[0].channel, "webhook:0");
        assert_string_equal(copy[1].agency, "stc");
        assert_string_equal(copy[1].channel, "email");
        assert_false(delivery_receivers_equal(copy, 2, r, 2));
        strcpy(agency, "sxd");
        strcpy(channel, "webhook:0");
        assert_true(delivery_receivers_equal(copy, 2, r, 2));
        assert_false(delivery_receivers_equal(copy, 2, r, 1));
        assert_false(delivery_receivers_equal(copy, 2, swapped, 2));
        free(copy);
}

static void assert_delivery(struct store *s, int64_t task, int64_t id, enum delivery_state state,
                            int attempts, int64_t next_attempt_at, const char *error, int64_t sent_at) {
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        size_t i;

        assert_true(store_delivery_list_for_task(s, task, &l) > 0);
        for (i = 0; i < l.n && l.items[i].id != id; i++)
                ;
        assert_true(i < l.n);
        assert_int_equal(l.items[i].state, state);
        assert_int_equal(l.items[i].attempts, attempts);
        assert_int_equal(l.items[i].next_attempt_at, next_attempt_at);
        if (error)
                assert_string_equal(l.items[i].last_error, error);
        else
                assert_null(l.items[i].last_error);
        assert_int_equal(l.items[i].sent_at, sent_at);
}

static void test_delivery_state_transitions(void **state) {
        struct fixture *f = *state;
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        int64_t id = insert(f->s, delivery(task, "s", "sxd", "email", NOW));

        assert_int_equal(store_delivery_set_state(f->s, id, DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW), 0);
        assert_delivery(f->s, task, id, DELIVERY_ATTEMPTING, 1, NOW, NULL, NO_TIME);
        /* Claimed once: a second sender must not claim it too. */
        assert_int_equal(store_delivery_set_state(f->s, id, DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW),
                         -EALREADY);

        assert_int_equal(store_delivery_set_state(f->s, id, DELIVERY_PENDING, NOW + 60,
                                                  "451 4.7.1 try later", NOW), 0);
        assert_delivery(f->s, task, id, DELIVERY_PENDING, 1, NOW + 60, "451 4.7.1 try later", NO_TIME);

        assert_int_equal(store_delivery_set_state(f->s, id, DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW + 60), 0);
        assert_delivery(f->s, task, id, DELIVERY_ATTEMPTING, 2, NOW + 60, "451 4.7.1 try later", NO_TIME);

        assert_int_equal(store_delivery_set_state(f->s, id, DELIVERY_SENT, NO_TIME, NULL, NOW + 61), 0);
        assert_delivery(f->s, task, id, DELIVERY_SENT, 2, NO_TIME, NULL, NOW + 61);

        id = insert(f->s, delivery(task, "t", "sxd", "email", NOW));
        assert_int_equal(store_delivery_set_state(f->s, id, DELIVERY_FAILED, NO_TIME,
                                                  "550 5.1.1 no such user", NOW), 0);
        assert_delivery(f->s, task, id, DELIVERY_FAILED, 0, NO_TIME, "550 5.1.1 no such user", NO_TIME);

        /* Back to pending without a time: due now. */
        assert_int_equal(store_delivery_set_state(f->s, id, DELIVERY_PENDING, NO_TIME, NULL, NOW + 5), 0);
        assert_delivery(f->s, task, id, DELIVERY_PENDING, 0, NOW + 5, NULL, NO_TIME);

        assert_int_equal(store_delivery_set_state(f->s, 999, DELIVERY_SENT, NO_TIME, NULL, NOW), -ENOENT);
        assert_int_equal(store_delivery_set_state(f->s, 999, DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW),
                         -ENOENT);
        assert_int_equal(store_delivery_set_state(f->s, id, 7, NO_TIME, NULL, NOW), -EINVAL);
}

static void test_batch_state_changes(void **state) {
        struct fixture *f = *state;
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        int64_t ids[3];

        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                char slot[8];
                snprintf(slot, sizeof slot, "s%zu", i);
                ids[i] = insert(f->s, delivery(task, slot, "sxd", "email", NOW));
        }
        assert_int_equal(store_deliveries_set_state(f->s, ids, 0, DELIVERY_ATTEMPTING, NOW), 0);
        assert_int_equal(store_deliveries_set_state(f->s, ids, 2, DELIVERY_ATTEMPTING, NOW), 0);
        assert_delivery(f->s, task, ids[0], DELIVERY_ATTEMPTING, 1, NOW, NULL, NO_TIME);
        assert_delivery(f->s, task, ids[1], DELIVERY_ATTEMPTING, 1, NOW, NULL, NO_TIME);
        assert_delivery(f->s, task, ids[2], DELIVERY_PENDING, 0, NOW, NULL, NO_TIME);

        /* A claim that finds one row already claimed says so; the caller's
         * transaction rolls the others back. */
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_deliveries_set_state(f->s, ids, 3, DELIVERY_ATTEMPTING, NOW), -EALREADY);
        assert_int_equal(store_rollback(f->s), 0);
        assert_delivery(f->s, task, ids[2], DELIVERY_PENDING, 0, NOW, NULL, NO_TIME);
        assert_delivery(f->s, task, ids[0], DELIVERY_ATTEMPTING, 1, NOW, NULL, NO_TIME);

        /* Sent clears the error and the next attempt; an id that is gone
         * has nothing to record. */
        assert_int_equal(store_delivery_set_state(f->s, ids[1], DELIVERY_PENDING, NOW + 60, "451 later", NOW), 0);
        int64_t sent[] = { ids[0], ids[1], 999 };
        assert_int_equal(store_deliveries_set_state(f->s, sent, 3, DELIVERY_SENT, NOW + 61), 0);
        assert_delivery(f->s, task, ids[0], DELIVERY_SENT, 1, NO_TIME, NULL, NOW + 61);
        assert_delivery(f->s, task, ids[1], DELIVERY_SENT, 1, NO_TIME, NULL, NOW + 61);
        assert_delivery(f->s, task, ids[2], DELIVERY_PENDING, 0, NOW, NULL, NO_TIME);

        assert_int_equal(store_deliveries_set_state(f->s, ids, 1, DELIVERY_FAILED, NOW), -EINVAL);
}

static void test_reset_attempting_makes_them_pending_again(void **state) {
        struct fixture *f = *state;
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        int64_t a = insert(f->s, delivery(task, "a", "sxd", "email", NOW));
        int64_t b = insert(f->s, delivery(task, "b", "sxd", "email", NOW));
        int64_t c = insert(f->s, delivery(task, "c", "sxd", "email", NOW));

        assert_int_equal(store_delivery_set_state(f->s, a, DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW), 0);
        assert_int_equal(store_delivery_set_state(f->s, b, DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW), 0);
        assert_int_equal(store_delivery_set_state(f->s, c, DELIVERY_SENT, NO_TIME, NULL, NOW), 0);

        assert_int_equal(store_deliveries_reset_attempting(f->s, NOW + 500), 2);
        assert_int_equal(store_deliveries_reset_attempting(f->s, NOW + 600), 0);
        assert_delivery(f->s, task, a, DELIVERY_PENDING, 1, NOW + 500, NULL, NO_TIME);
        assert_delivery(f->s, task, c, DELIVERY_SENT, 0, NO_TIME, NULL, NOW);
        assert_int_equal(store_deliveries_due(f->s, NOW + 500, NULL, &l), 2);
}

/* PostgreSQL: several daemons share the outbox, each claim under a lease
 * of PG_LEASE_SECONDS. Another daemon's live claim is neither due, nor
 * claimable, nor put back by our start; an expired one is all three. */
static void test_pg_claims_have_leases(void **state) {
        PG_ONLY();
        struct fixture *f = *state;
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        char sql[256];
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        int64_t ours = insert(f->s, delivery(task, "a", "sxd", "email", NOW));
        int64_t live = insert(f->s, delivery(task, "b", "sxd", "email", NOW));
        int64_t expired = insert(f->s, delivery(task, "c", "sxd", "email", NOW));

        assert_int_equal(store_delivery_set_state(f->s, ours, DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW), 0);
        snprintf(sql, sizeof sql, "UPDATE deliveries SET state = 'attempting', attempts = 1, "
                 "claimed_by = 'other:1', claimed_until = %lld WHERE id = %lld",
                 (long long) (NOW + 300), (long long) live);
        pg_raw_exec(sql);
        snprintf(sql, sizeof sql, "UPDATE deliveries SET state = 'attempting', attempts = 1, "
                 "claimed_by = 'other:2', claimed_until = %lld WHERE id = %lld",
                 (long long) (NOW - 1), (long long) expired);
        pg_raw_exec(sql);

        /* Only the expired claim is due again, and may be claimed. */
        assert_int_equal(store_deliveries_due(f->s, NOW + 100, NULL, &l), 1);
        assert_int_equal(l.items[0].id, expired);
        assert_int_equal(store_delivery_set_state(f->s, live, DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW + 100),
                         -EALREADY);
        assert_int_equal(store_deliveries_set_state(f->s, (int64_t[]) { live }, 1, DELIVERY_ATTEMPTING,
                                                    NOW + 100), -EALREADY);
        /* At start, our own claim and the expired one go back; the other
         * daemon's live claim stays its own. */
        assert_int_equal(store_deliveries_reset_attempting(f->s, NOW + 100), 2);
        assert_delivery(f->s, task, ours, DELIVERY_PENDING, 1, NOW + 100, NULL, NO_TIME);
        assert_delivery(f->s, task, live, DELIVERY_ATTEMPTING, 1, NOW, NULL, NO_TIME);
        /* Its lease runs out: anyone may claim it. */
        assert_int_equal(store_delivery_set_state(f->s, live, DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW + 301), 0);
        assert_delivery(f->s, task, live, DELIVERY_ATTEMPTING, 2, NOW, NULL, NO_TIME);
}

/* PostgreSQL: one daemon decides at a time. The decide lock lasts as long
 * as the transaction that took it: another store (another daemon) is
 * refused it meanwhile, and gets it once that transaction ended, whether
 * by a commit or a rollback. A dry run takes none. */
static void test_pg_decide_lock_one_daemon_at_a_time(void **state) {
        PG_ONLY();
        struct fixture *f = *state;
        _cleanup_(store_closep) struct store *other = NULL, *dry = NULL;

        assert_int_equal(store_open(test_database(), 0, &other), 0);
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_decide_lock(f->s), 1);
        /* Taken again in the same transaction: still ours. */
        assert_int_equal(store_decide_lock(f->s), 1);

        assert_int_equal(store_begin(other), 0);
        assert_int_equal(store_decide_lock(other), 0);
        assert_int_equal(store_rollback(other), 0);

        /* A dry run writes nothing: it is never held up, nor holds up. */
        assert_int_equal(store_open(test_database(), STORE_DRY, &dry), 0);
        assert_int_equal(store_begin(dry), 0);
        assert_int_equal(store_decide_lock(dry), 1);
        assert_int_equal(store_commit(dry), 0);

        assert_int_equal(store_commit(f->s), 0);
        assert_int_equal(store_begin(other), 0);
        assert_int_equal(store_decide_lock(other), 1);
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_decide_lock(f->s), 0);
        assert_int_equal(store_rollback(f->s), 0);
        assert_int_equal(store_rollback(other), 0);
        /* Released by the rollback too. */
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_decide_lock(f->s), 1);
        assert_int_equal(store_commit(f->s), 0);
}

/* A task added by another process (as deadlinectl would), with a
 * connection of its own, committed at once or in a transaction. */
static void add_task_elsewhere(const char *title, bool in_transaction) {
        int status;
        pid_t pid = fork();

        assert_true(pid >= 0);
        if (pid == 0) {
                struct store *s = NULL;
                if (store_open(test_database(), 0, &s) < 0 || (in_transaction && store_begin(s) < 0))
                        _exit(1);
                add_task(s, title, NOW, NULL, 0);
                if (in_transaction && store_commit(s) < 0)
                        _exit(1);
                store_close(s);
                _exit(0);
        }
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* PostgreSQL: a commit that changed tasks or the outbox tells the other
 * processes that listen; this process's own connections (a daemon's loop
 * and its store thread), a rollback and a read tell nobody. */
static void test_pg_change_notices(void **state) {
        PG_ONLY();
        struct fixture *f = *state;
        _cleanup_(store_closep) struct store *other = NULL;
        int64_t due = NO_TIME;

        assert_int_equal(store_open(test_database(), 0, &other), 0);
        assert_true(store_change_fd(f->s) >= 0);
        assert_int_equal(store_change_consume(f->s), 0);

        add_task_elsewhere("a", false);               /* outside a transaction */
        usleep(200 * 1000);
        assert_int_equal(store_change_consume(f->s), 1);
        assert_int_equal(store_change_consume(f->s), 0);

        assert_int_equal(store_begin(other), 0);
        add_task(other, "b", NOW, NULL, 0);
        assert_int_equal(store_rollback(other), 0);
        assert_int_equal(store_begin(other), 0);
        assert_int_equal(store_next_fire(other, &due), 0);
        assert_int_equal(store_commit(other), 0);
        add_task(f->s, "ours", NOW, NULL, 0);
        add_task(other, "this process's other connection", NOW, NULL, 0);
        usleep(200 * 1000);
        assert_int_equal(store_change_consume(f->s), 0);

        add_task_elsewhere("c", true);
        usleep(200 * 1000);
        assert_int_equal(store_change_consume(f->s), 1);
}

/* A file database has no notices: its folder is watched. */
static void test_sqlite_has_no_change_notices(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;

        assert_int_equal(store_change_fd(f->s), -EOPNOTSUPP);
        assert_int_equal(store_change_consume(f->s), 0);
}

/* A file database has one sender (its sender lock): always taken. */
static void test_sqlite_decide_lock_is_always_taken(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_(store_closep) struct store *other = NULL;

        assert_int_equal(store_open(f->path, 0, &other), 0);
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_decide_lock(f->s), 1);
        assert_int_equal(store_commit(f->s), 0);
        assert_int_equal(store_decide_lock(other), 1);
}

/* Retry back-offs are stored as the wall clock's now plus the back-off: a
 * clock set back an hour moves those still ahead back an hour, and nothing
 * else. */
static void test_clock_set_back_moves_retry_times_by_the_step(void **state) {
        struct fixture *f = *state;
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        int64_t after = NOW - 3600;     /* what the clock reads after the step */
        int64_t retry = insert(f->s, delivery(task, "a", "sxd", "email", NOW));
        int64_t far = insert(f->s, delivery(task, "b", "sxd", "email", NOW));
        int64_t fresh = insert(f->s, delivery(task, "c", "sxd", "email", NOW));
        int64_t due = insert(f->s, delivery(task, "d", "sxd", "email", NOW));
        int64_t sent = insert(f->s, delivery(task, "e", "sxd", "email", NOW));

        /* Tried once each, then put back with a back-off from NOW. */
        assert_int_equal(store_delivery_set_state(f->s, retry, DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW), 0);
        assert_int_equal(store_delivery_set_state(f->s, retry, DELIVERY_PENDING, NOW + 600, "451", NOW), 0);
        assert_int_equal(store_delivery_set_state(f->s, far, DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW), 0);
        assert_int_equal(store_delivery_set_state(f->s, far, DELIVERY_PENDING, NOW + 7200, "451", NOW), 0);
        assert_int_equal(store_delivery_set_state(f->s, due, DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW), 0);
        assert_int_equal(store_delivery_set_state(f->s, due, DELIVERY_PENDING, after - 100, "451", NOW), 0);
        assert_int_equal(store_delivery_set_state(f->s, sent, DELIVERY_SENT, NO_TIME, NULL, NOW), 0);

        /* A step forward only shortens waits: nothing to do. */
        assert_int_equal(store_deliveries_clock_stepped(f->s, 3600, NOW + 3600), 0);
        assert_delivery(f->s, task, retry, DELIVERY_PENDING, 1, NOW + 600, "451", NO_TIME);

        assert_int_equal(store_deliveries_clock_stepped(f->s, -3600, after), 2);
        /* 600 s from the new now, as the back-off said; not 4,200. */
        assert_delivery(f->s, task, retry, DELIVERY_PENDING, 1, after + 600, "451", NO_TIME);
        assert_delivery(f->s, task, far, DELIVERY_PENDING, 1, after + 7200, "451", NO_TIME);
        /* Never tried: due since it was decided, and stays so. */
        assert_delivery(f->s, task, fresh, DELIVERY_PENDING, 0, NOW, NULL, NO_TIME);
        /* Already due: untouched. */
        assert_delivery(f->s, task, due, DELIVERY_PENDING, 1, after - 100, "451", NO_TIME);
        assert_delivery(f->s, task, sent, DELIVERY_SENT, 0, NO_TIME, NULL, NOW);

        /* A second step back, of 20 minutes: the first retry is due at once
         * (it would have been, with its wait done), never before now. */
        assert_int_equal(store_deliveries_clock_stepped(f->s, -1200, after - 600), 3);
        assert_delivery(f->s, task, retry, DELIVERY_PENDING, 1, after - 600, "451", NO_TIME);
        assert_delivery(f->s, task, due, DELIVERY_PENDING, 1, after - 600, "451", NO_TIME);
        assert_delivery(f->s, task, far, DELIVERY_PENDING, 1, after + 6000, "451", NO_TIME);
}

static void test_delivery_counts_by_state(void **state) {
        struct fixture *f = *state;
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        int64_t counts[_DELIVERY_STATE_MAX] = { 9, 9, 9, 9 };
        int64_t ids[6];

        assert_int_equal(store_delivery_counts(f->s, counts), 0);
        for (size_t i = 0; i < _DELIVERY_STATE_MAX; i++)
                assert_int_equal(counts[i], 0);

        for (int i = 0; i < 6; i++) {
                char slot[8];
                snprintf(slot, sizeof slot, "s%d", i);
                ids[i] = insert(f->s, delivery(task, slot, "sxd", "email", NOW));
        }
        assert_int_equal(store_delivery_set_state(f->s, ids[0], DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW), 0);
        assert_int_equal(store_delivery_set_state(f->s, ids[1], DELIVERY_SENT, NO_TIME, NULL, NOW), 0);
        assert_int_equal(store_delivery_set_state(f->s, ids[2], DELIVERY_SENT, NO_TIME, NULL, NOW), 0);
        assert_int_equal(store_delivery_set_state(f->s, ids[3], DELIVERY_FAILED, NO_TIME, "x", NOW), 0);

        assert_int_equal(store_delivery_counts(f->s, counts), 0);
        assert_int_equal(counts[DELIVERY_PENDING], 2);
        assert_int_equal(counts[DELIVERY_ATTEMPTING], 1);
        assert_int_equal(counts[DELIVERY_SENT], 2);
        assert_int_equal(counts[DELIVERY_FAILED], 1);
}

static void test_delivery_list_for_task_by_slot_time(void **state) {
        struct fixture *f = *state;
        _cleanup_(delivery_list_done) struct delivery_list l = {}, none = {};
        int64_t task = add_task(f->s, "x", NOW, NULL, 0);
        int64_t other = add_task(f->s, "y", NOW, NULL, 0);
        struct delivery d1 = delivery(task, "late", "sxd", "email", NOW);
        struct delivery d2 = delivery(task, "early", "sxd", "email", NOW);

        d1.slot_at = NOW - 10;
        d2.slot_at = NOW - 20;
        assert_int_equal(store_delivery_insert(f->s, &d1), 1);
        assert_int_equal(store_delivery_insert(f->s, &d2), 1);
        insert(f->s, delivery(other, "late", "sxd", "email", NOW));

        assert_int_equal(store_delivery_list_for_task(f->s, task, &l), 2);
        assert_string_equal(l.items[0].slot, "early");
        assert_string_equal(l.items[1].slot, "late");
        assert_int_equal(store_delivery_list_for_task(f->s, 999, &none), 0);
}

static void test_deleting_a_task_deletes_its_deliveries(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        int64_t task = add_task(f->s, "x", NOW, (struct task_agency[]) { { "sxd", ROLE_LEAD, 0 } }, 1);
        char sql[64];
        sqlite3 *db;

        insert(f->s, delivery(task, "s", "sxd", "email", NOW));
        db = raw_open(f->path);
        snprintf(sql, sizeof sql, "PRAGMA foreign_keys = ON; DELETE FROM tasks WHERE id = %lld",
                 (long long) task);
        raw_exec(db, sql);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM task_agencies"), 0);
        sqlite3_close(db);
        assert_int_equal(store_delivery_list_for_task(f->s, task, &l), 0);
}

static int64_t failed(struct store *s, int64_t task, const char *slot, const char *agency, int64_t slot_at) {
        struct delivery d = delivery(task, slot, agency, "email", NOW);

        d.slot_at = slot_at;
        d.state = DELIVERY_FAILED;
        d.attempts = 5;
        d.last_error = (char *) "550 no";
        assert_int_equal(store_delivery_insert(s, &d), 1);
        assert_int_equal(store_delivery_set_state(s, d.id, DELIVERY_ATTEMPTING, NO_TIME, NULL, NOW), -EALREADY);
        return d.id;
}

static void test_retry_puts_back_failed_deliveries_that_have_a_reason_to_go(void **state) {
        struct fixture *f = *state;
        _cleanup_(delivery_done) struct delivery back = {}, left = {};
        _cleanup_free_ int64_t *ids = NULL, *none = NULL;
        char *stc[] = { (char *) "stc", NULL };
        int64_t open = add_task(f->s, "open", NOW + 900, NULL, 0);
        int64_t closed = add_task(f->s, "closed", NOW + 900, NULL, 0);
        char current[64], old[64];
        int64_t a, b, c, d, e, sent;

        snprintf(current, sizeof current, "before:7d@%lld", (long long) (NOW + 900));
        snprintf(old, sizeof old, "before:7d@%lld", (long long) (NOW + 100));
        a = failed(f->s, open, current, "stc", NOW);
        b = failed(f->s, open, current, "sxd", NOW);
        c = failed(f->s, open, old, "stc", NOW);                  /* an earlier deadline */
        d = failed(f->s, open, "overdue:2025-04-01", "stc", NOW);  /* before the deadline */
        e = failed(f->s, closed, current, "stc", NOW);
        assert_int_equal(store_task_set_status(f->s, closed, TASK_CANCELLED, NOW), 0);
        sent = insert(f->s, delivery(open, "before:14d@1", "stc", "email", NOW));
        assert_int_equal(store_delivery_set_state(f->s, sent, DELIVERY_SENT, NO_TIME, NULL, NOW), 0);

        /* One agency's, then the rest. */
        assert_int_equal(store_deliveries_retry(f->s, &(struct delivery_retry_filter) { .agencies = stc }, "alice",
                                                NOW + 60, &ids), 1);
        assert_int_equal(ids[0], a);
        assert_int_equal(store_delivery_get(f->s, a, &back), 0);
        assert_int_equal(back.state, DELIVERY_PENDING);
        assert_int_equal(back.attempts, 0);
        assert_int_equal(back.first_attempt_at, NO_TIME);
        assert_int_equal(back.next_attempt_at, NOW + 60);
        assert_int_equal(back.retried_at, NOW + 60);
        assert_string_equal(back.retried_by, "alice");
        assert_int_equal(back.retries, 1);
        assert_string_equal(back.last_error, "550 no");
        assert_int_equal(store_deliveries_retry(f->s, &(struct delivery_retry_filter) { .task_id = open }, "bob",
                                                NOW + 60, &none), 1);
        assert_int_equal(none[0], b);
        /* Withdrawn ones stay failed, whatever is asked. */
        assert_int_equal(store_deliveries_retry(f->s, &(struct delivery_retry_filter) {}, "bob", NOW, NULL), 0);
        assert_int_equal(store_deliveries_retry(f->s, &(struct delivery_retry_filter) { .id = e }, "bob", NOW, NULL), 0);
        assert_int_equal(store_deliveries_retry(f->s, &(struct delivery_retry_filter) { .id = sent }, "bob", NOW, NULL), 0);
        assert_int_equal(store_delivery_get(f->s, c, &left), 0);
        assert_int_equal(left.state, DELIVERY_FAILED);
        assert_int_equal(left.retries, 0);
        assert_int_equal(left.retried_at, NO_TIME);
        (void) d;
        /* A notice goes while its task is open, whatever its deadline; a
         * delivery about no one task (a report) always. */
        int64_t notice = failed(f->s, open, "notice:1746000000", "stc", NOW);
        int64_t closed_notice = failed(f->s, closed, "notice:1746000000", "stc", NOW);
        int64_t report = failed(f->s, 0, "report:stc:2025-05", "stc", NOW);
        free(ids);
        ids = NULL;
        assert_int_equal(store_deliveries_retry(f->s, &(struct delivery_retry_filter) {}, "carol", NOW + 90, &ids), 2);
        assert_true((ids[0] == notice && ids[1] == report) || (ids[0] == report && ids[1] == notice));
        assert_int_equal(store_deliveries_retry(f->s, &(struct delivery_retry_filter) { .id = closed_notice }, "carol",
                                                NOW, NULL), 0);
        assert_int_equal(store_delivery_get(f->s, 999, &left), -ENOENT);
}

static void test_task_delete_never_gives_its_ids_again(void **state) {
        struct fixture *f = *state;
        int64_t keep = add_task(f->s, "keep", NOW, NULL, 0);
        int64_t gone = add_task(f->s, "gone", NOW, (struct task_agency[]) { { .agency = "sxd", .role = ROLE_LEAD } }, 1);
        int64_t d = insert(f->s, delivery(gone, "s", "sxd", "email", NOW));
        _cleanup_(task_done) struct task t = {};

        assert_int_equal(store_task_delete(f->s, gone), 0);
        assert_int_equal(store_task_get(f->s, gone, &t), -ENOENT);
        assert_int_equal(store_task_delete(f->s, gone), -ENOENT);
        assert_true(add_task(f->s, "new", NOW, NULL, 0) > gone);
        assert_true(insert(f->s, delivery(keep, "s", "sxd", "email", NOW)) > d);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
        const struct CMUnitTest tests[] = {
                T(test_next_fire_is_the_earliest_open_task),
                T(test_tasks_due_are_open_tasks_at_or_before_now_earliest_first),
                T(test_scheduler_queries_use_the_partial_indexes),
                T(test_delivery_insert_is_idempotent),
                T(test_delivery_insert_refuses_bad_input),
                T(test_deliveries_insert_several_at_once),
                T(test_deliveries_insert_refuses_bad_input),
                T(test_tasks_set_schedule_sets_several),
                T(test_untasked_delivery_insert_is_idempotent),
                T(test_delivery_round_trip_and_defaults),
                T(test_deliveries_due_pending_earliest_first_with_limit),
                T(test_deliveries_due_filter_skips_receivers_then_limits),
                cmocka_unit_test(test_delivery_receivers_copy_and_compare),
                T(test_delivery_state_transitions),
                T(test_batch_state_changes),
                T(test_reset_attempting_makes_them_pending_again),
                T(test_pg_claims_have_leases),
                T(test_pg_decide_lock_one_daemon_at_a_time),
                T(test_sqlite_decide_lock_is_always_taken),
                T(test_pg_change_notices),
                T(test_sqlite_has_no_change_notices),
                T(test_clock_set_back_moves_retry_times_by_the_step),
                T(test_delivery_counts_by_state),
                T(test_delivery_list_for_task_by_slot_time),
                T(test_deleting_a_task_deletes_its_deliveries),
                T(test_retry_puts_back_failed_deliveries_that_have_a_reason_to_go),
                T(test_task_delete_never_gives_its_ids_again),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}
