/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PostgreSQL backend's tasks and outbox, and its table of calls
 * (pg_ops). Deliveries are claimed with a lease: claimed_by names the
 * claiming process ("<host>:<pid>"), claimed_until ends its claim
 * (PG_LEASE_SECONDS after the claim); a row still attempting after that is
 * due again for any daemon. Due rows are read FOR UPDATE SKIP LOCKED, so
 * that daemons claiming at the same time each take other rows. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-pg.h"
#include "strbuf.h"

/* Array literals, {"a","b"} and {1,NULL}, built an element at a time
 * (`first`: no comma before it); a text element quoted and escaped, a
 * NULL text element NULL. Bound as parameters, never put into SQL. */
static void array_text(struct strbuf *b, bool first, const char *v) {
        if (!first)
                strbuf_putc(b, ',');
        if (!v) {
                strbuf_puts(b, "NULL");
                return;
        }
        strbuf_putc(b, '"');
        for (const char *p = v; *p; p++) {
                if (*p == '"' || *p == '\\')
                        strbuf_putc(b, '\\');
                strbuf_putc(b, *p);
        }
        strbuf_putc(b, '"');
}

static void array_int(struct strbuf *b, bool first, int64_t v, bool null) {
        if (!first)
                strbuf_putc(b, ',');
        if (null)
                strbuf_puts(b, "NULL");
        else
                strbuf_printf(b, "%lld", (long long) v);
}

static int array_steal(struct strbuf *b, char **ret) {
        strbuf_putc(b, '}');
        return strbuf_steal(b, ret, NULL);
}

/* n array literals built side by side, a column each: begun, then bound
 * to `a` in order (the first failure returned), then freed. */
static void arrays_begin(struct strbuf *b, size_t n) {
        for (size_t k = 0; k < n; k++) {
                b[k] = STRBUF_INIT(SIZE_MAX);
                strbuf_putc(&b[k], '{');
        }
}

static int arrays_bind(struct strbuf *b, char **v, size_t n, struct pg_args *a) {
        int r = 0;

        for (size_t k = 0; k < n; k++) {
                int q = array_steal(&b[k], &v[k]);
                if (q < 0 && r >= 0)
                        r = q;
                pg_arg_text(a, v[k]);
        }
        return r;
}

static void arrays_free(char **v, size_t n) {
        for (size_t k = 0; k < n; k++)
                free(v[k]);
}

static int text_array(char *const *v, size_t n, char **ret) {
        struct strbuf b = STRBUF_INIT(SIZE_MAX);

        strbuf_putc(&b, '{');
        for (size_t i = 0; i < n; i++)
                array_text(&b, i == 0, v[i]);
        return array_steal(&b, ret);
}

static int ids_array(const int64_t *ids, size_t n, char **ret) {
        struct strbuf b = STRBUF_INIT(SIZE_MAX);

        strbuf_putc(&b, '{');
        for (size_t i = 0; i < n; i++)
                array_int(&b, i == 0, ids[i], false);
        return array_steal(&b, ret);
}

/* Leads first, then supports, each in the order given. */
static int insert_agencies(struct store *s, int64_t id, const struct task_agency *a, size_t n) {
        static const enum role order[] = { ROLE_LEAD, ROLE_SUPPORT };
        int64_t position = 0;
        int r;

        for (size_t k = 0; k < ELEMENTSOF(order); k++)
                for (size_t i = 0; i < n; i++) {
                        struct pg_args args = {};

                        if (a[i].role != order[k])
                                continue;
                        pg_arg_int(&args, id);
                        pg_arg_text(&args, a[i].agency);
                        pg_arg_text(&args, role_to_string(a[i].role));
                        pg_arg_int(&args, position++);
                        pg_arg_id(&args, a[i].notice_at);
                        r = pg_run(s, PG_TASK_AGENCY_INSERT, &args);
                        if (r < 0)
                                return r;
                }
        return 0;
}

static int pg_task_add(struct store *s, struct task *t, int64_t now) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct pg_args a = {};
        bool open;
        int64_t id;
        int r;

        if (t && t->n_agencies > TASK_AGENCIES_MAX)
                return -E2BIG;
        if (!store_task_valid(t))
                return -EINVAL;
        open = t->status == TASK_OPEN;

        pg_arg_id(&a, t->document_id);
        pg_arg_text(&a, t->ref);
        pg_arg_text(&a, t->title);
        pg_arg_text(&a, t->detail);
        pg_arg_text(&a, t->due);
        pg_arg_time(&a, t->due_at);
        pg_arg_text(&a, task_status_to_string(t->status));
        pg_arg_text(&a, t->recurrence);
        pg_arg_int(&a, now);
        pg_arg_time(&a, open ? NO_TIME : now);
        pg_arg_time(&a, open ? now : NO_TIME);
        pg_arg_text(&a, t->original_due ?: t->due);
        pg_arg_id(&a, t->due_rule_days);
        pg_arg_text(&a, t->due_rule_days > 0 ? t->due_rule_from : NULL);
        r = pg_query(s, PG_TASK_INSERT, &a, &res);
        if (r < 0)
                return r;
        id = pg_get_int(res, 0, 0);

        r = insert_agencies(s, id, t->agencies, t->n_agencies);
        if (r < 0)
                return r;
        t->id = id;
        t->created_at = t->updated_at = now;
        t->closed_at = open ? NO_TIME : now;
        t->next_fire_at = open ? now : NO_TIME;
        t->fired_through = now;
        return 0;
}

static int task_from_row(const PGresult *res, int i, void *item) {
        struct task *ret = item;
        _cleanup_(task_done) struct task t = {};

        t.id = pg_get_int(res, i, 0);
        t.document_id = pg_get_int(res, i, 1);
        t.due_at = pg_get_time(res, i, 7);
        t.status = task_status_from_string(PQgetvalue(res, i, 8));
        t.created_at = pg_get_time(res, i, 10);
        t.updated_at = pg_get_time(res, i, 11);
        t.closed_at = pg_get_time(res, i, 12);
        t.next_fire_at = pg_get_time(res, i, 13);
        t.fired_through = pg_get_time(res, i, 14);
        t.revision = pg_get_int(res, i, 16);
        t.due_rule_days = (int) pg_get_int(res, i, 17);
        if (pg_get_strdup(res, i, 2, &t.document_number) < 0 ||
            pg_get_strdup(res, i, 3, &t.ref) < 0 ||
            pg_get_strdup(res, i, 4, &t.title) < 0 ||
            pg_get_strdup(res, i, 5, &t.detail) < 0 ||
            pg_get_strdup(res, i, 6, &t.due) < 0 ||
            pg_get_strdup(res, i, 9, &t.recurrence) < 0 ||
            pg_get_strdup(res, i, 15, &t.original_due) < 0 ||
            pg_get_strdup(res, i, 18, &t.due_rule_from) < 0)
                return -ENOMEM;
        if (t.status < 0)
                return -EBADMSG;
        *ret = t;
        t = (struct task) {};
        return 0;
}

static int task_read_agencies(struct store *s, struct task *t) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct pg_args a = {};
        int r, n;

        pg_arg_int(&a, t->id);
        r = pg_query(s, PG_TASK_GET_AGENCIES, &a, &res);
        if (r < 0)
                return r;
        n = PQntuples(res);
        if (n == 0)
                return 0;
        t->agencies = calloc(n, sizeof *t->agencies);
        if (!t->agencies)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                struct task_agency *g = &t->agencies[i];

                if (pg_get_strdup(res, i, 1, &g->agency) < 0)
                        return -ENOMEM;
                t->n_agencies++;
                g->role = role_from_string(PQgetvalue(res, i, 2));
                g->notice_at = pg_get_int(res, i, 3);
        }
        return 0;
}

/* The tasks a statement gives, each with its agencies. */
static int tasks_read(struct store *s, enum pg_statement id, const struct pg_args *a, struct task_list *ret) {
        _cleanup_(task_list_done) struct task_list l = {};
        int r, n;

        n = pg_read_rows(s, id, a, (void **) &l.tasks, &l.n, sizeof *l.tasks, task_from_row);
        if (n < 0)
                return n;
        for (size_t i = 0; i < l.n; i++) {
                r = task_read_agencies(s, &l.tasks[i]);
                if (r < 0)
                        return r;
        }
        *ret = l;
        l = (struct task_list) {};
        return n;
}

static int pg_task_get(struct store *s, int64_t id, struct task *ret) {
        _cleanup_(task_list_done) struct task_list l = {};
        struct pg_args a = {};
        int r;

        pg_arg_int(&a, id);
        r = tasks_read(s, PG_TASK_GET, &a, &l);
        if (r < 0)
                return r;
        if (l.n == 0)
                return -ENOENT;
        *ret = l.tasks[0];
        l.tasks[0] = (struct task) {};
        return 0;
}

/* Reminders not sent yet that no longer have a reason: all of a closed
 * task's (due_at NO_TIME), or those of a deadline since changed. */
static int drop_stale(struct store *s, int64_t task_id, int64_t due_at) {
        struct pg_args a = {};
        int r;

        pg_arg_int(&a, task_id);
        pg_arg_time(&a, due_at);
        r = pg_run(s, PG_DELIVERIES_DROP_STALE, &a);
        return r < 0 ? r : 0;
}

static int pg_task_set_status(struct store *s, int64_t id, enum task_status status, int64_t now) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct pg_args a = {};
        int r;

        if (!task_status_to_string(status))
                return -EINVAL;
        pg_arg_int(&a, id);
        r = pg_query(s, PG_TASK_STATUS, &a, &res);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return -ENOENT;
        if (task_status_from_string(PQgetvalue(res, 0, 0)) == status)
                return -EALREADY;

        a = (struct pg_args) {};
        pg_arg_int(&a, id);
        if (status == TASK_OPEN) {
                pg_arg_int(&a, now);
                r = pg_run(s, PG_TASK_REOPEN, &a);
                return r < 0 ? r : 0;
        }
        pg_arg_text(&a, task_status_to_string(status));
        pg_arg_int(&a, now);
        r = pg_run(s, PG_TASK_CLOSE, &a);
        if (r < 0)
                return r;
        return drop_stale(s, id, NO_TIME);
}

static int pg_task_update(struct store *s, const struct task *t, int64_t now) {
        struct pg_args a = {};
        int r;

        if (t && t->n_agencies > TASK_AGENCIES_MAX)
                return -E2BIG;
        if (!store_task_valid(t))
                return -EINVAL;
        pg_arg_int(&a, t->id);
        pg_arg_text(&a, t->ref);
        pg_arg_text(&a, t->title);
        pg_arg_text(&a, t->detail);
        pg_arg_text(&a, t->due);
        pg_arg_time(&a, t->due_at);
        pg_arg_text(&a, t->recurrence);
        pg_arg_int(&a, now);
        pg_arg_text(&a, t->original_due);
        pg_arg_id(&a, t->due_rule_days);
        pg_arg_text(&a, t->due_rule_days > 0 ? t->due_rule_from : NULL);
        r = pg_run(s, PG_TASK_UPDATE, &a);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        r = drop_stale(s, t->id, t->due_at);
        if (r < 0)
                return r;
        a = (struct pg_args) {};
        pg_arg_int(&a, t->id);
        r = pg_run(s, PG_TASK_AGENCIES_DELETE, &a);
        if (r < 0)
                return r;
        return insert_agencies(s, t->id, t->agencies, t->n_agencies);
}

static int pg_tasks_get(struct store *s, const int64_t *ids, size_t n, struct task_list *ret) {
        _cleanup_free_ char *array = NULL;
        struct pg_args a = {};
        int r;

        if (!ret || (n > 0 && !ids))
                return -EINVAL;
        r = ids_array(ids, n, &array);
        if (r < 0)
                return r;
        pg_arg_text(&a, array);
        return tasks_read(s, PG_TASKS_GET, &a, ret);
}

static int pg_task_delete(struct store *s, int64_t id) {
        struct pg_args a = {};
        int r;

        pg_arg_int(&a, id);
        r = pg_run(s, PG_TASK_DELETE, &a);
        if (r < 0)
                return r;
        return r > 0 ? 0 : -ENOENT;
}

static int pg_tasks_reschedule(struct store *s, int64_t now, int64_t after_id, size_t limit, int64_t *ret_last_id) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct pg_args a = {};
        int64_t last = after_id;
        int r, n;

        pg_arg_time(&a, now);
        pg_arg_int(&a, after_id);
        if (limit > 0)
                pg_arg_int(&a, (int64_t) MIN(limit, (size_t) INT64_MAX));
        else
                pg_arg_text(&a, NULL);
        r = pg_query(s, PG_TASKS_RESCHEDULE, &a, &res);
        if (r < 0)
                return r;
        n = PQntuples(res);
        for (int i = 0; i < n; i++)
                last = MAX(last, pg_get_int(res, i, 0));
        if (ret_last_id)
                *ret_last_id = last;
        return n;
}

static int pg_task_list(struct store *s, const struct task_filter *f, struct task_list *ret) {
        struct task_filter all = TASK_FILTER_INIT;
        _cleanup_free_ char *agencies = NULL;
        struct pg_args a = {};
        int r;

        if (!f)
                f = &all;
        if (f->status != -1 && !task_status_to_string(f->status))
                return -EINVAL;
        if (f->agencies) {
                if (strv_length(f->agencies) > TASK_FILTER_AGENCIES_MAX)
                        return -E2BIG;
                r = text_array(f->agencies, strv_length(f->agencies), &agencies);
                if (r < 0)
                        return r;
        }
        pg_arg_text(&a, f->status >= 0 ? task_status_to_string(f->status) : NULL);
        pg_arg_time(&a, f->due_before);
        pg_arg_id(&a, f->document_id);
        pg_arg_text(&a, agencies);
        if (f->limit > 0)
                pg_arg_int(&a, (int64_t) MIN(f->limit, (size_t) INT64_MAX));
        else
                pg_arg_text(&a, NULL);
        return tasks_read(s, PG_TASK_LIST, &a, ret);
}

static int pg_task_set_schedule(struct store *s, int64_t id, int64_t next_fire_at, int64_t fired_through) {
        struct pg_args a = {};
        int r;

        pg_arg_int(&a, id);
        pg_arg_time(&a, next_fire_at);
        pg_arg_time(&a, fired_through);
        r = pg_run(s, PG_TASK_SET_SCHEDULE, &a);
        if (r < 0)
                return r;
        return r == 0 ? -ENOENT : 0;
}

static int pg_tasks_set_schedule(struct store *s, const int64_t *ids, const int64_t *next_fire_at, size_t n,
                                 int64_t fired_through) {
        enum { ID, NEXT, _COLUMNS };
        struct strbuf b[_COLUMNS];
        char *v[_COLUMNS] = {};
        struct pg_args a = {};
        int r;

        arrays_begin(b, _COLUMNS);
        for (size_t i = 0; i < n; i++) {
                array_int(&b[ID], i == 0, ids[i], false);
                array_int(&b[NEXT], i == 0, next_fire_at[i], next_fire_at[i] == NO_TIME);
        }
        r = arrays_bind(b, v, _COLUMNS, &a);
        pg_arg_time(&a, fired_through);
        if (r >= 0)
                r = pg_run(s, PG_TASKS_SET_SCHEDULE, &a);
        arrays_free(v, _COLUMNS);
        if (r < 0)
                return r;
        return (size_t) r == n ? 0 : -ENOENT;
}

static int query_time(struct store *s, enum pg_statement id, int64_t *ret) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r = pg_query(s, id, NULL, &res);

        if (r < 0)
                return r;
        *ret = pg_get_time(res, 0, 0);
        return 0;
}

static int pg_next_fire(struct store *s, int64_t *ret) {
        return query_time(s, PG_NEXT_FIRE, ret);
}

static int pg_tasks_due(struct store *s, int64_t now, size_t limit, struct task_list *ret) {
        struct pg_args a = {};

        pg_arg_int(&a, now);
        if (limit > 0)
                pg_arg_int(&a, (int64_t) MIN(limit, (size_t) INT64_MAX));
        else
                pg_arg_text(&a, NULL);
        return tasks_read(s, PG_TASKS_DUE, &a, ret);
}

static int pg_agency_ids(struct store *s, char ***ret) {
        _cleanup_pgresult_ PGresult *res = NULL;
        _cleanup_strv_free_ char **l = NULL;
        int r, n;

        r = pg_query(s, PG_AGENCY_IDS, NULL, &res);
        if (r < 0)
                return r;
        n = PQntuples(res);
        l = calloc(n + 1, sizeof *l);
        if (!l)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                l[i] = strdup(PQgetvalue(res, i, 0));
                if (!l[i])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return n;
}

static int pg_delivery_insert(struct store *s, struct delivery *d) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct pg_args a = {};
        int r;

        if (!d || !d->slot || !d->agency || !d->channel || !delivery_state_to_string(d->state))
                return -EINVAL;
        pg_arg_id(&a, d->task_id);
        pg_arg_text(&a, d->slot);
        pg_arg_int(&a, d->slot_at);
        pg_arg_text(&a, d->agency);
        pg_arg_text(&a, d->role >= 0 ? role_to_string(d->role) : NULL);
        pg_arg_text(&a, d->channel);
        pg_arg_text(&a, delivery_state_to_string(d->state));
        pg_arg_int(&a, d->attempts);
        pg_arg_time(&a, d->next_attempt_at);
        pg_arg_text(&a, d->last_error);
        pg_arg_time(&a, d->created_at);
        r = pg_query(s, PG_DELIVERY_INSERT, &a, &res);
        if (r < 0)
                return r;
        if (PQntuples(res) == 1) {
                d->id = pg_get_int(res, 0, 0);
                return 1;
        }
        PQclear(TAKE_PTR(res));
        a = (struct pg_args) {};
        pg_arg_id(&a, d->task_id);
        pg_arg_text(&a, d->slot);
        pg_arg_text(&a, d->agency);
        pg_arg_text(&a, d->channel);
        r = pg_query(s, PG_DELIVERY_FIND, &a, &res);
        if (r < 0)
                return r;
        if (PQntuples(res) != 1)
                return -EIO;
        d->id = pg_get_int(res, 0, 0);
        return 0;
}

/* The deliveries as seven arrays, one statement. */
static int pg_deliveries_insert(struct store *s, const struct delivery *d, size_t n) {
        enum { TASK, SLOT, SLOT_AT, AGENCY, ROLE, CHANNEL, NEXT, _COLUMNS };
        struct strbuf b[_COLUMNS];
        char *v[_COLUMNS] = {};
        struct pg_args a = {};
        int r;

        arrays_begin(b, _COLUMNS);
        for (size_t i = 0; i < n; i++) {
                array_int(&b[TASK], i == 0, d[i].task_id, d[i].task_id == 0);
                array_text(&b[SLOT], i == 0, d[i].slot);
                array_int(&b[SLOT_AT], i == 0, d[i].slot_at, false);
                array_text(&b[AGENCY], i == 0, d[i].agency);
                array_text(&b[ROLE], i == 0, d[i].role >= 0 ? role_to_string(d[i].role) : NULL);
                array_text(&b[CHANNEL], i == 0, d[i].channel);
                array_int(&b[NEXT], i == 0, d[i].next_attempt_at, d[i].next_attempt_at == NO_TIME);
        }
        r = arrays_bind(b, v, _COLUMNS, &a);
        /* One created_at for the lot: they were decided together. */
        pg_arg_time(&a, d[0].created_at);
        if (r >= 0)
                r = pg_run(s, PG_DELIVERIES_INSERT, &a);
        arrays_free(v, _COLUMNS);
        return r;
}

static int delivery_from_row(const PGresult *res, int i, void *item) {
        struct delivery *ret = item;
        _cleanup_(delivery_done) struct delivery d = {};

        d.id = pg_get_int(res, i, 0);
        d.task_id = pg_get_int(res, i, 1);
        d.slot_at = pg_get_int(res, i, 3);
        d.attempts = (int) pg_get_int(res, i, 8);
        d.next_attempt_at = pg_get_time(res, i, 9);
        d.created_at = pg_get_time(res, i, 11);
        d.sent_at = pg_get_time(res, i, 12);
        d.first_attempt_at = pg_get_time(res, i, 14);
        d.retried_at = pg_get_time(res, i, 15);
        d.retries = (int) pg_get_int(res, i, 17);
        d.claimed_until = pg_get_time(res, i, 18);
        if (pg_get_strdup(res, i, 2, &d.slot) < 0 ||
            pg_get_strdup(res, i, 4, &d.agency) < 0 ||
            pg_get_strdup(res, i, 6, &d.channel) < 0 ||
            pg_get_strdup(res, i, 10, &d.last_error) < 0 ||
            pg_get_strdup(res, i, 13, &d.delivered_to) < 0 ||
            pg_get_strdup(res, i, 16, &d.retried_by) < 0)
                return -ENOMEM;
        d.role = PQgetisnull(res, i, 5) ? _ROLE_INVALID : role_from_string(PQgetvalue(res, i, 5));
        d.state = delivery_state_from_string(PQgetvalue(res, i, 7));
        if (d.state < 0)
                return -EBADMSG;
        *ret = d;
        d = (struct delivery) {};
        return 0;
}

static int deliveries_read(struct store *s, enum pg_statement id, const struct pg_args *a,
                           struct delivery_list *ret) {
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        int n;

        n = pg_read_rows(s, id, a, (void **) &l.items, &l.n, sizeof *l.items, delivery_from_row);
        if (n < 0)
                return n;
        *ret = l;
        l = (struct delivery_list) {};
        return n;
}

static int pg_deliveries_due(struct store *s, int64_t now, const struct delivery_filter *f,
                             struct delivery_list *ret) {
        _cleanup_strv_free_ char **keys = NULL;
        _cleanup_free_ char *skip = NULL;
        struct pg_args a = {};
        int r;

        if (f && f->n_skip > 0) {
                keys = calloc(f->n_skip + 1, sizeof *keys);
                if (!keys)
                        return -ENOMEM;
                for (size_t i = 0; i < f->n_skip; i++) {
                        if (!f->skip[i].agency || !f->skip[i].channel)
                                return -EINVAL;
                        if (asprintf(&keys[i], "%s|%s", f->skip[i].agency, f->skip[i].channel) < 0)
                                return -ENOMEM;
                }
                r = text_array(keys, f->n_skip, &skip);
                if (r < 0)
                        return r;
        }
        pg_arg_int(&a, now);
        if (f && f->limit > 0)
                pg_arg_int(&a, (int64_t) MIN(f->limit, (size_t) INT64_MAX));
        else
                pg_arg_text(&a, NULL);
        pg_arg_text(&a, skip);
        return deliveries_read(s, PG_DELIVERIES_DUE, &a, ret);
}

static int pg_next_delivery(struct store *s, int64_t *ret) {
        return query_time(s, PG_NEXT_DELIVERY, ret);
}

static int pg_delivery_set_state(struct store *s, int64_t id, enum delivery_state state,
                                 int64_t next_attempt_at, const char *error, int64_t now) {
        struct pg_args a = {};
        int r;

        pg_arg_int(&a, id);
        switch (state) {
        case DELIVERY_PENDING:
                pg_arg_int(&a, next_attempt_at == NO_TIME ? now : next_attempt_at);
                pg_arg_text(&a, error);
                r = pg_run(s, PG_DELIVERY_PENDING, &a);
                break;
        case DELIVERY_ATTEMPTING:
                pg_arg_int(&a, now);
                pg_arg_text(&a, s->claimer);
                pg_arg_int(&a, PG_LEASE_SECONDS);
                r = pg_run(s, PG_DELIVERY_ATTEMPTING, &a);
                if (r == 0) {
                        struct pg_args b = {};
                        _cleanup_pgresult_ PGresult *res = NULL;

                        pg_arg_int(&b, id);
                        r = pg_query(s, PG_DELIVERY_STATE, &b, &res);
                        if (r < 0)
                                return r;
                        return PQntuples(res) == 0 ? -ENOENT : -EALREADY;
                }
                break;
        case DELIVERY_SENT:
                pg_arg_int(&a, now);
                pg_arg_text(&a, error);
                r = pg_run(s, PG_DELIVERY_SENT, &a);
                break;
        case DELIVERY_FAILED:
                pg_arg_text(&a, error);
                r = pg_run(s, PG_DELIVERY_FAILED, &a);
                break;
        default:
                return -EINVAL;
        }
        if (r < 0)
                return r;
        return r == 0 ? -ENOENT : 0;
}

static int pg_deliveries_set_state(struct store *s, const int64_t *ids, size_t n, enum delivery_state state,
                                   int64_t now) {
        _cleanup_free_ char *array = NULL;
        struct pg_args a = {};
        int r;

        if (state != DELIVERY_ATTEMPTING && state != DELIVERY_SENT)
                return -EINVAL;
        if (n == 0)
                return 0;
        r = ids_array(ids, n, &array);
        if (r < 0)
                return r;
        pg_arg_text(&a, array);
        pg_arg_int(&a, now);
        if (state == DELIVERY_ATTEMPTING) {
                pg_arg_text(&a, s->claimer);
                pg_arg_int(&a, PG_LEASE_SECONDS);
                r = pg_run(s, PG_DELIVERIES_ATTEMPTING, &a);
                if (r >= 0 && (size_t) r != n)
                        return -EALREADY;
        } else
                r = pg_run(s, PG_DELIVERIES_SENT, &a);
        return r < 0 ? r : 0;
}

static int pg_deliveries_reset_attempting(struct store *s, int64_t now) {
        struct pg_args a = {};

        pg_arg_int(&a, now);
        pg_arg_text(&a, s->claimer);
        return pg_run(s, PG_DELIVERIES_RESET, &a);
}

static int pg_delivery_get(struct store *s, int64_t id, struct delivery *ret) {
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        struct pg_args a = {};
        int r;

        pg_arg_int(&a, id);
        r = deliveries_read(s, PG_DELIVERY_GET, &a, &l);
        if (r < 0)
                return r;
        if (l.n == 0)
                return -ENOENT;
        *ret = l.items[0];
        l.items[0] = (struct delivery) {};
        return 0;
}

static int pg_delivery_list_for_task(struct store *s, int64_t task_id, struct delivery_list *ret) {
        struct pg_args a = {};

        pg_arg_int(&a, task_id);
        return deliveries_read(s, PG_DELIVERY_LIST_TASK, &a, ret);
}

static void arg_limit(struct pg_args *a, size_t limit) {
        if (limit > 0)
                pg_arg_int(a, (int64_t) MIN(limit, (size_t) INT64_MAX));
        else
                pg_arg_text(a, NULL);
}

static int pg_deliveries_trouble(struct store *s, size_t limit, struct delivery_list *ret) {
        struct pg_args a = {};

        arg_limit(&a, limit);
        return deliveries_read(s, PG_DELIVERIES_TROUBLE, &a, ret);
}

static int pg_deliveries_recent(struct store *s, size_t limit, struct delivery_list *ret) {
        struct pg_args a = {};

        arg_limit(&a, limit);
        return deliveries_read(s, PG_DELIVERIES_RECENT, &a, ret);
}

static int pg_delivery_put_back(struct store *s, int64_t id, int64_t next_attempt_at) {
        struct pg_args a = {};
        int r;

        pg_arg_int(&a, id);
        pg_arg_time(&a, next_attempt_at);
        r = pg_run(s, PG_DELIVERY_PUT_BACK, &a);
        if (r < 0)
                return r;
        return r == 0 ? -ENOENT : 0;
}

static int pg_delivery_set_delivered_to(struct store *s, int64_t id, const char *addresses) {
        struct pg_args a = {};
        int r;

        pg_arg_int(&a, id);
        pg_arg_text(&a, addresses);
        r = pg_run(s, PG_DELIVERY_DELIVERED_TO, &a);
        if (r < 0)
                return r;
        return r == 0 ? -ENOENT : 0;
}

static int pg_deliveries_clock_stepped(struct store *s, int64_t step, int64_t now) {
        struct pg_args a = {};

        if (step >= 0)
                return 0;
        pg_arg_int(&a, step);
        pg_arg_int(&a, now);
        return pg_run(s, PG_DELIVERIES_CLOCK_STEP, &a);
}

static int pg_deliveries_retry(struct store *s, const struct delivery_retry_filter *f, const char *actor,
                               int64_t now, int64_t **ret_ids) {
        _cleanup_pgresult_ PGresult *res = NULL;
        _cleanup_free_ char *agencies = NULL;
        _cleanup_free_ int64_t *ids = NULL;
        struct pg_args a = {};
        int r, n;

        if (!f)
                return -EINVAL;
        if (f->agencies) {
                r = text_array(f->agencies, strv_length(f->agencies), &agencies);
                if (r < 0)
                        return r;
        }
        pg_arg_id(&a, f->id);
        pg_arg_id(&a, f->task_id);
        pg_arg_text(&a, agencies);
        pg_arg_int(&a, now);
        pg_arg_text(&a, actor);
        r = pg_query(s, PG_DELIVERIES_RETRY, &a, &res);
        if (r < 0)
                return r;
        n = PQntuples(res);
        if (n > 0 && !(ids = calloc(n, sizeof *ids)))
                return -ENOMEM;
        for (int i = 0; i < n; i++)
                ids[i] = pg_get_int(res, i, 0);
        if (ret_ids)
                *ret_ids = TAKE_PTR(ids);
        return n;
}

static int pg_delivery_counts(struct store *s, int64_t counts[static _DELIVERY_STATE_MAX]) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        for (size_t i = 0; i < _DELIVERY_STATE_MAX; i++)
                counts[i] = 0;
        r = pg_query(s, PG_DELIVERY_COUNTS, NULL, &res);
        if (r < 0)
                return r;
        for (int i = 0; i < PQntuples(res); i++) {
                enum delivery_state st = delivery_state_from_string(PQgetvalue(res, i, 0));

                if (st >= 0)
                        counts[st] = pg_get_int(res, i, 1);
        }
        return 0;
}


const struct store_ops pg_ops = {
        .name = "postgresql",
        .close = pg_close,
        .last_error = pg_last_error,
        .schema_version = pg_schema_version,
        .set_busy_timeout = pg_set_busy_timeout,
        .begin = pg_begin,
        .commit = pg_commit,
        .rollback = pg_rollback,
        .document_upsert = pg_document_upsert,
        .document_get = pg_document_get,
        .task_add = pg_task_add,
        .task_find_ref = pg_task_find_ref,
        .task_update = pg_task_update,
        .task_get = pg_task_get,
        .task_notices_clear = pg_task_notices_clear,
        .tasks_get = pg_tasks_get,
        .task_set_status = pg_task_set_status,
        .task_change_add = pg_task_change_add,
        .task_changes = pg_task_changes,
        .task_change_last = pg_task_change_last,
        .task_completion_add = pg_task_completion_add,
        .task_completions = pg_task_completions,
        .task_completion_reopened = pg_task_completion_reopened,
        .task_list = pg_task_list,
        .task_set_schedule = pg_task_set_schedule,
        .tasks_set_schedule = pg_tasks_set_schedule,
        .tasks_reschedule = pg_tasks_reschedule,
        .task_occurrences = pg_task_occurrences,
        .agency_ids = pg_agency_ids,
        .meta_get = pg_meta_get,
        .meta_set = pg_meta_set,
        .instance_id = pg_instance_id,
        .instance_id_renew = pg_instance_id_renew,
        .data_version = pg_data_version,
        .next_fire = pg_next_fire,
        .tasks_due = pg_tasks_due,
        .delivery_insert = pg_delivery_insert,
        .deliveries_insert = pg_deliveries_insert,
        .deliveries_due = pg_deliveries_due,
        .next_delivery = pg_next_delivery,
        .delivery_set_state = pg_delivery_set_state,
        .deliveries_set_state = pg_deliveries_set_state,
        .delivery_put_back = pg_delivery_put_back,
        .delivery_set_delivered_to = pg_delivery_set_delivered_to,
        .deliveries_clock_stepped = pg_deliveries_clock_stepped,
        .deliveries_reset_attempting = pg_deliveries_reset_attempting,
        .delivery_list_for_task = pg_delivery_list_for_task,
        .deliveries_trouble = pg_deliveries_trouble,
        .deliveries_recent = pg_deliveries_recent,
        .delivery_get = pg_delivery_get,
        .deliveries_retry = pg_deliveries_retry,
        .task_delete = pg_task_delete,
        .delivery_counts = pg_delivery_counts,
        .inbox_add = pg_inbox_add,
        .inbox_last_uid = pg_inbox_last_uid,
        .inbox_get = pg_inbox_get,
        .inbox_list = pg_inbox_list,
        .inbox_agency_waiting = pg_inbox_agency_waiting,
        .inbox_decide = pg_inbox_decide,
        .inbox_reports_waiting = pg_inbox_reports_waiting,
        .decide_lock = pg_decide_lock,
        .change_fd = pg_change_fd,
        .change_consume = pg_change_consume,
        .copy_begin = pg_copy_begin,
        .rows_insert = pg_rows_insert,
        .copy_finish = pg_copy_finish,
};
