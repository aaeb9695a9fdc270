/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tasks and their agencies in SQLite, and the scheduler's questions. */
#include "store-sqlite.h"

/* Leads first, then supports, each in the order given: the order in which
 * a directive names them and in which a letter addresses them. */
static int task_insert_agencies(struct store *s, int64_t id, const struct task_agency *a, size_t n) {
        static const enum role order[] = { ROLE_LEAD, ROLE_SUPPORT };
        int64_t position = 0;
        int r;

        for (size_t k = 0; k < ELEMENTSOF(order); k++)
                for (size_t i = 0; i < n; i++) {
                        _cleanup_reset_ sqlite3_stmt *st = NULL;

                        if (a[i].role != order[k])
                                continue;
                        r = store_statement(s, STMT_TASK_AGENCY_INSERT, &st);
                        if (r < 0)
                                return r;
                        if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
                            store_bind_text(st, 2, a[i].agency) != SQLITE_OK ||
                            store_bind_text(st, 3, role_to_string(a[i].role)) != SQLITE_OK ||
                            sqlite3_bind_int64(st, 4, position++) != SQLITE_OK ||
                            (a[i].notice_at != 0 ? sqlite3_bind_int64(st, 5, a[i].notice_at)
                                                 : sqlite3_bind_null(st, 5)) != SQLITE_OK)
                                return store_error(s, sqlite3_errcode(s->db));
                        r = store_run(s, st);
                        if (r < 0)
                                return r;
                }
        return 0;
}

/* The due rule at `i` (days, NULL when none) and `i` + 1 (from). */
static int bind_rule(sqlite3_stmt *st, int i, const struct task *t) {
        int rc = t->due_rule_days > 0 ? sqlite3_bind_int(st, i, t->due_rule_days) : sqlite3_bind_null(st, i);
        return rc != SQLITE_OK ? rc : store_bind_text(st, i + 1, t->due_rule_days > 0 ? t->due_rule_from : NULL);
}

int sqlite_task_add(struct store *s, struct task *t, int64_t now) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        bool open;
        int64_t id;
        int r;

        if (t && t->n_agencies > TASK_AGENCIES_MAX)
                return -E2BIG;
        if (!store_task_valid(t))
                return -EINVAL;
        open = t->status == TASK_OPEN;

        r = store_statement(s, STMT_TASK_INSERT, &st);
        if (r < 0)
                return r;
        if (store_bind_id(st, 1, t->document_id) != SQLITE_OK ||
            store_bind_text(st, 2, t->ref) != SQLITE_OK ||
            store_bind_text(st, 3, t->title) != SQLITE_OK ||
            store_bind_text(st, 4, t->detail) != SQLITE_OK ||
            store_bind_text(st, 5, t->due) != SQLITE_OK ||
            store_bind_time(st, 6, t->due_at) != SQLITE_OK ||
            store_bind_text(st, 7, task_status_to_string(t->status)) != SQLITE_OK ||
            store_bind_text(st, 8, t->recurrence) != SQLITE_OK ||
            sqlite3_bind_int64(st, 9, now) != SQLITE_OK ||
            store_bind_time(st, 10, open ? NO_TIME : now) != SQLITE_OK ||
            store_bind_time(st, 11, open ? now : NO_TIME) != SQLITE_OK ||
            store_bind_text(st, 12, t->original_due) != SQLITE_OK ||
            bind_rule(st, 13, t) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_run(s, st);
        if (r < 0)
                return r;
        id = sqlite3_last_insert_rowid(s->db);

        r = task_insert_agencies(s, id, t->agencies, t->n_agencies);
        if (r < 0)
                return r;

        t->id = id;
        t->created_at = t->updated_at = now;
        t->closed_at = open ? NO_TIME : now;
        t->next_fire_at = open ? now : NO_TIME;
        t->fired_through = now;
        return 0;
}

int sqlite_task_find_ref(struct store *s, int64_t document_id, const char *ref, int64_t *ret_id) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!ref || document_id < 0)
                return -EINVAL;

        r = store_statement(s, STMT_TASK_FIND_REF, &st);
        if (r < 0)
                return r;
        if (store_bind_id(st, 1, document_id) != SQLITE_OK ||
            store_bind_text(st, 2, ref) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        if (ret_id)
                *ret_id = sqlite3_column_int64(st, 0);
        return 0;
}

/* Pending reminders that lost their reason go with it, in the same
 * transaction, rather than being claimed later only to be recorded as not
 * sent (which status would count among the failures). */
static int drop_stale_deliveries(struct store *s, int64_t task_id, int64_t due_at) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r = store_statement(s, STMT_DELIVERIES_DROP_STALE, &st);

        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, task_id) != SQLITE_OK || store_bind_time(st, 2, due_at) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        return store_run(s, st);
}

int sqlite_task_update(struct store *s, const struct task *t, int64_t now) {
        int r;

        if (t && t->n_agencies > TASK_AGENCIES_MAX)
                return -E2BIG;
        if (!store_task_valid(t))
                return -EINVAL;

        {
                _cleanup_reset_ sqlite3_stmt *st = NULL;

                r = store_statement(s, STMT_TASK_UPDATE, &st);
                if (r < 0)
                        return r;
                if (sqlite3_bind_int64(st, 1, t->id) != SQLITE_OK ||
                    store_bind_text(st, 2, t->ref) != SQLITE_OK ||
                    store_bind_text(st, 3, t->title) != SQLITE_OK ||
                    store_bind_text(st, 4, t->detail) != SQLITE_OK ||
                    store_bind_text(st, 5, t->due) != SQLITE_OK ||
                    store_bind_time(st, 6, t->due_at) != SQLITE_OK ||
                    store_bind_text(st, 7, t->recurrence) != SQLITE_OK ||
                    sqlite3_bind_int64(st, 8, now) != SQLITE_OK ||
                    store_bind_text(st, 9, t->original_due) != SQLITE_OK ||
                    bind_rule(st, 10, t) != SQLITE_OK)
                        return store_error(s, sqlite3_errcode(s->db));
                r = store_run(s, st);
                if (r < 0)
                        return r;
                if (sqlite3_changes(s->db) == 0)
                        return -ENOENT;
        }
        r = drop_stale_deliveries(s, t->id, t->due_at);
        if (r < 0)
                return r;
        {
                _cleanup_reset_ sqlite3_stmt *st = NULL;

                r = store_statement(s, STMT_TASK_AGENCIES_DELETE, &st);
                if (r < 0)
                        return r;
                if (sqlite3_bind_int64(st, 1, t->id) != SQLITE_OK)
                        return store_error(s, sqlite3_errcode(s->db));
                r = store_run(s, st);
                if (r < 0)
                        return r;
        }
        return task_insert_agencies(s, t->id, t->agencies, t->n_agencies);
}

static int task_from_row(sqlite3_stmt *st, void *item) {
        _cleanup_(task_done) struct task t = {};
        struct task *ret = item;

        t.id = sqlite3_column_int64(st, 0);
        t.document_id = sqlite3_column_int64(st, 1); /* NULL reads as 0 */
        if (store_column_strdup(st, 2, &t.document_number) < 0 ||
            store_column_strdup(st, 3, &t.ref) < 0 ||
            store_column_strdup(st, 4, &t.title) < 0 ||
            store_column_strdup(st, 5, &t.detail) < 0 ||
            store_column_strdup(st, 6, &t.due) < 0 ||
            store_column_strdup(st, 9, &t.recurrence) < 0 ||
            store_column_strdup(st, 15, &t.original_due) < 0 ||
            store_column_strdup(st, 18, &t.due_rule_from) < 0)
                return -ENOMEM;
        t.due_at = store_column_time(st, 7);
        t.status = task_status_from_string((const char *) sqlite3_column_text(st, 8));
        if (t.status < 0)
                return -EBADMSG;
        t.created_at = store_column_time(st, 10);
        t.updated_at = store_column_time(st, 11);
        t.closed_at = store_column_time(st, 12);
        t.next_fire_at = store_column_time(st, 13);
        t.fired_through = store_column_time(st, 14);
        t.revision = sqlite3_column_int64(st, 16);
        t.due_rule_days = sqlite3_column_int(st, 17); /* NULL reads as 0 */

        *ret = t;
        t = (struct task) {};
        return 0;
}

/* Reads the rows of a task query into a list. */
static int tasks_read(struct store *s, sqlite3_stmt *st, struct task_list *ret) {
        _cleanup_(task_list_done) struct task_list l = {};
        void *items = NULL;
        int r = store_read_rows(s, st, &items, &l.n, sizeof *l.tasks, task_from_row);

        l.tasks = items;
        if (r < 0)
                return r;
        *ret = l;
        l = (struct task_list) {};
        return 0;
}

struct task_index {
        int64_t id;
        size_t i;
};

static int task_index_compare(const void *a, const void *b) {
        const struct task_index *x = a, *y = b;
        return x->id < y->id ? -1 : x->id > y->id;
}

static int task_agency_append(struct task *t, sqlite3_stmt *st) {
        struct task_agency *a;
        size_t n = t->n_agencies;
        int r;

        /* The array's size is always the next power of two, so it needs no
         * field of its own. */
        if ((n & (n - 1)) == 0) {
                a = reallocarray(t->agencies, n == 0 ? 1 : n * 2, sizeof *a);
                if (!a)
                        return -ENOMEM;
                t->agencies = a;
        }
        a = &t->agencies[n];
        *a = (struct task_agency) { .role = role_from_string((const char *) sqlite3_column_text(st, 2)) };
        if (a->role < 0)
                return -EBADMSG;
        a->notice_at = sqlite3_column_type(st, 3) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 3);
        r = store_column_strdup(st, 1, &a->agency);
        if (r < 0)
                return r;
        t->n_agencies++;
        return 0;
}

/* Appends the rows (task_id, agency, role) of st, which come by task id and
 * position, to the tasks they belong to. The tasks may be in any order:
 * they are found through index, sorted by id. Rows of other tasks are
 * skipped. */
static int agencies_merge(struct store *s, sqlite3_stmt *st, struct task *tasks,
                          const struct task_index *index, size_t n) {
        size_t k = 0;
        int r;

        for (;;) {
                int64_t id;

                r = store_step(s, st);
                if (r <= 0)
                        return r;
                id = sqlite3_column_int64(st, 0);
                while (k < n && index[k].id < id)
                        k++;
                if (k == n)
                        return 0;
                if (index[k].id != id)
                        continue;
                r = task_agency_append(&tasks[index[k].i], st);
                if (r < 0)
                        return r;
        }
}

/* Fills in the agencies of n tasks. When their ids are dense (a long list)
 * one scan over the range of ids reads them all; when they are sparse (a
 * few tasks, or the ones due this week among many) a lookup per task reads
 * far fewer rows. Either way 100000 tasks are not 100000 queries. */
static int tasks_load_agencies(struct store *s, struct task *tasks, size_t n) {
        _cleanup_free_ struct task_index *index = NULL;
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (n == 0)
                return 0;
        index = reallocarray(NULL, n, sizeof *index);
        if (!index)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++)
                index[i] = (struct task_index) { tasks[i].id, i };
        qsort(index, n, sizeof *index, task_index_compare);

        /* The scan reads the rows of every id between the first and the
         * last; lookups cost less once fewer than one id in eight is ours. */
        if ((uint64_t) (index[n - 1].id - index[0].id) / 8 > n) {
                for (size_t i = 0; i < n; i++) {
                        struct task_index one = { tasks[i].id, i };

                        r = store_statement(s, STMT_TASK_GET_AGENCIES, &st);
                        if (r < 0)
                                return r;
                        if (sqlite3_bind_int64(st, 1, tasks[i].id) != SQLITE_OK)
                                return store_error(s, sqlite3_errcode(s->db));
                        r = agencies_merge(s, st, tasks, &one, 1);
                        if (r < 0)
                                return r;
                }
                return 0;
        }

        r = store_statement(s, STMT_TASK_AGENCIES_RANGE, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, index[0].id) != SQLITE_OK ||
            sqlite3_bind_int64(st, 2, index[n - 1].id) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        return agencies_merge(s, st, tasks, index, n);
}

/* Runs a task query whose parameters are bound, in one read transaction:
 * its rows, sorted with `order` if given, then their agencies. */
static int tasks_fetch(struct store *s, sqlite3_stmt *st, int (*order)(const void *, const void *),
                       struct task_list *ret) {
        _cleanup_(task_list_done) struct task_list l = {};
        int r = store_read_begin(s);

        if (r < 0)
                return r;
        r = tasks_read(s, st, &l);
        sqlite3_reset(st);
        if (r >= 0 && order && l.n > 1)
                qsort(l.tasks, l.n, sizeof *l.tasks, order);
        if (r >= 0)
                r = tasks_load_agencies(s, l.tasks, l.n);
        store_read_end(s);
        if (r < 0)
                return r;
        *ret = l;
        l = (struct task_list) {};
        return (int) MIN(ret->n, (size_t) INT32_MAX);
}

int sqlite_task_get(struct store *s, int64_t id, struct task *ret) {
        _cleanup_(task_list_done) struct task_list l = {};
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        r = store_statement(s, STMT_TASK_GET, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = tasks_fetch(s, st, NULL, &l);
        if (r < 0)
                return r;
        if (l.n == 0)
                return -ENOENT;
        *ret = l.tasks[0];
        l.tasks[0] = l.tasks[--l.n];
        return 0;
}

int sqlite_tasks_get(struct store *s, const int64_t *ids, size_t n, struct task_list *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *list = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        r = store_ids_json(ids, n, &list);
        if (r < 0)
                return r;
        r = store_statement(s, STMT_TASKS_GET, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        return tasks_fetch(s, st, NULL, ret);
}

int sqlite_task_set_status(struct store *s, int64_t id, enum task_status status, int64_t now) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        enum task_status current;
        int r;

        if (!task_status_to_string(status))
                return -EINVAL;

        r = store_statement(s, STMT_TASK_STATUS, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        current = task_status_from_string((const char *) sqlite3_column_text(st, 0));
        sqlite3_reset(st);
        if (current == status)
                return -EALREADY;

        if (status == TASK_OPEN) {
                r = store_statement(s, STMT_TASK_REOPEN, &st);
                if (r < 0)
                        return r;
                if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
                    sqlite3_bind_int64(st, 2, now) != SQLITE_OK)
                        return store_error(s, sqlite3_errcode(s->db));
        } else {
                r = store_statement(s, STMT_TASK_CLOSE, &st);
                if (r < 0)
                        return r;
                if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
                    store_bind_text(st, 2, task_status_to_string(status)) != SQLITE_OK ||
                    sqlite3_bind_int64(st, 3, now) != SQLITE_OK)
                        return store_error(s, sqlite3_errcode(s->db));
        }
        r = store_run(s, st);
        if (r < 0 || status == TASK_OPEN)
                return r;
        return drop_stale_deliveries(s, id, NO_TIME);
}

/* The agency filter as a JSON array for json_each(): one statement serves
 * any number of agencies. */
static int agencies_to_json(char *const *agencies, char **ret) {
        struct strbuf b = STRBUF_INIT(SIZE_MAX);

        strbuf_putc(&b, '[');
        for (size_t i = 0; agencies[i]; i++) {
                strbuf_puts(&b, i > 0 ? ",\"" : "\"");
                store_json_escape(&b, agencies[i]);
                strbuf_putc(&b, '"');
        }
        strbuf_putc(&b, ']');
        return strbuf_steal(&b, ret, NULL);
}

/* By deadline, those without one last, then by id. */
static int task_due_compare(const void *a, const void *b) {
        const struct task *x = a, *y = b;

        if ((x->due_at == NO_TIME) != (y->due_at == NO_TIME))
                return x->due_at == NO_TIME ? 1 : -1;
        if (x->due_at != y->due_at)
                return x->due_at < y->due_at ? -1 : 1;
        return x->id < y->id ? -1 : x->id > y->id;
}

static int bind_filter(struct store *s, sqlite3_stmt *st, const struct task_filter *f, const char *json) {
        if ((f->status >= 0 ? store_bind_text(st, 1, task_status_to_string(f->status))
                            : sqlite3_bind_null(st, 1)) != SQLITE_OK ||
            store_bind_time(st, 2, f->due_before) != SQLITE_OK ||
            store_bind_id(st, 3, f->document_id) != SQLITE_OK ||
            store_bind_text(st, 4, json) != SQLITE_OK ||
            store_bind_limit(st, 5, f->limit) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        return 0;
}

int sqlite_task_list(struct store *s, const struct task_filter *f, struct task_list *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *json = NULL;
        struct task_filter any = TASK_FILTER_INIT;
        int r;

        if (!ret)
                return -EINVAL;
        if (!f)
                f = &any;
        if (f->status < -1 || f->status >= _TASK_STATUS_MAX || f->document_id < 0)
                return -EINVAL;
        if (f->agencies) {
                if (strv_length(f->agencies) > TASK_FILTER_AGENCIES_MAX)
                        return -E2BIG;
                r = agencies_to_json(f->agencies, &json);
                if (r < 0)
                        return r;
        }

        r = store_statement(s, STMT_TASK_LIST, &st);
        if (r < 0)
                return r;
        r = bind_filter(s, st, f, json);
        if (r < 0)
                return r;
        /* SQL promises no order for the rows of a join, even one with a
         * sorted subquery (SQLite drops such an ORDER BY when it sees fit):
         * the subquery chooses the rows under the limit, the order is made
         * here. */
        return tasks_fetch(s, st, task_due_compare, ret);
}

int sqlite_task_notices_clear(struct store *s, int64_t task_id) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        r = store_statement(s, STMT_TASK_NOTICES_CLEAR, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, task_id) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        return store_run(s, st);
}

int sqlite_task_set_schedule(struct store *s, int64_t id, int64_t next_fire_at, int64_t fired_through) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        r = store_statement(s, STMT_TASK_SET_SCHEDULE, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
            store_bind_time(st, 2, next_fire_at) != SQLITE_OK ||
            store_bind_time(st, 3, fired_through) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_run(s, st);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

int sqlite_tasks_set_schedule(struct store *s, const int64_t *ids, const int64_t *next_fire_at, size_t n,
                              int64_t fired_through) {
        for (size_t i = 0; i < n; i++) {
                int r = sqlite_task_set_schedule(s, ids[i], next_fire_at[i], fired_through);
                if (r < 0)
                        return r;
        }
        return 0;
}

int sqlite_tasks_reschedule(struct store *s, int64_t now, int64_t after_id, size_t limit, int64_t *ret_last_id) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int64_t last = after_id;
        int n = 0, r;

        r = store_statement(s, STMT_TASKS_RESCHEDULE, &st);
        if (r < 0)
                return r;
        if (store_bind_time(st, 1, now) != SQLITE_OK || sqlite3_bind_int64(st, 2, after_id) != SQLITE_OK ||
            store_bind_limit(st, 3, limit) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        while ((r = store_step(s, st)) > 0) {
                last = MAX(last, sqlite3_column_int64(st, 0));
                n++;
        }
        if (r < 0)
                return r;
        if (ret_last_id)
                *ret_last_id = last;
        return n;
}

int sqlite_next_fire(struct store *s, int64_t *ret) {
        /* min() gives one row, NULL when there is nothing. */
        return ret ? store_query_value(s, STMT_NEXT_FIRE, ret) : -EINVAL;
}

int sqlite_tasks_due(struct store *s, int64_t now, size_t limit, struct task_list *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!ret)
                return -EINVAL;

        r = store_statement(s, STMT_TASKS_DUE, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK || store_bind_limit(st, 2, limit) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        return tasks_fetch(s, st, NULL, ret);
}

int sqlite_task_delete(struct store *s, int64_t id) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        /* Its id and its deliveries' are never given again. */
        r = store_statement(s, STMT_IDS_USED, &st);
        if (r < 0)
                return r;
        r = store_run(s, st);
        if (r < 0)
                return r;
        (void) sqlite3_reset(st);
        r = store_statement(s, STMT_TASK_DELETE, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_run(s, st);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}
