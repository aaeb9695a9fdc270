/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The outbox's deliveries in SQLite: insert under the unique key, the due
 * ones (a claim's read), state changes one at a time or in a batch. */
#include "store-sqlite.h"

/* 1 if it inserted the row, 0 if its key was there. */
static int insert_one(struct store *s, const struct delivery *d) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        r = store_statement(s, STMT_DELIVERY_INSERT, &st);
        if (r < 0)
                return r;
        if ((d->task_id != 0 ? sqlite3_bind_int64(st, 1, d->task_id) : sqlite3_bind_null(st, 1)) != SQLITE_OK ||
            store_bind_text(st, 2, d->slot) != SQLITE_OK ||
            sqlite3_bind_int64(st, 3, d->slot_at) != SQLITE_OK ||
            store_bind_text(st, 4, d->agency) != SQLITE_OK ||
            store_bind_text(st, 5, role_to_string(d->role)) != SQLITE_OK ||
            store_bind_text(st, 6, d->channel) != SQLITE_OK ||
            store_bind_text(st, 7, delivery_state_to_string(d->state)) != SQLITE_OK ||
            sqlite3_bind_int(st, 8, d->attempts) != SQLITE_OK ||
            store_bind_time(st, 9, d->next_attempt_at) != SQLITE_OK ||
            store_bind_text(st, 10, d->last_error) != SQLITE_OK ||
            store_bind_time(st, 11, d->created_at) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_run(s, st);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db) > 0;
}

int sqlite_deliveries_insert(struct store *s, const struct delivery *d, size_t n) {
        int created = 0;

        for (size_t i = 0; i < n; i++) {
                int r = insert_one(s, &d[i]);
                if (r < 0)
                        return r;
                created += r;
        }
        return created;
}

int sqlite_delivery_insert(struct store *s, struct delivery *d) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!d || d->task_id < 0 || !d->slot || !d->agency || !d->channel || d->attempts < 0)
                return -EINVAL;
        if (!delivery_state_to_string(d->state))
                return -EINVAL;
        if (d->role != _ROLE_INVALID && !role_to_string(d->role))
                return -EINVAL;

        r = insert_one(s, d);
        if (r != 0) {
                if (r > 0)
                        d->id = sqlite3_last_insert_rowid(s->db);
                return r;
        }

        /* The key exists: hand back the row that holds it. */
        r = store_statement(s, STMT_DELIVERY_FIND, &st);
        if (r < 0)
                return r;
        if ((d->task_id != 0 ? sqlite3_bind_int64(st, 1, d->task_id) : sqlite3_bind_null(st, 1)) != SQLITE_OK ||
            store_bind_text(st, 2, d->slot) != SQLITE_OK ||
            store_bind_text(st, 3, d->agency) != SQLITE_OK ||
            store_bind_text(st, 4, d->channel) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -EIO;
        d->id = sqlite3_column_int64(st, 0);
        return 0;
}

static int delivery_from_row(sqlite3_stmt *st, void *item) {
        _cleanup_(delivery_done) struct delivery d = {};
        struct delivery *ret = item;

        d.id = sqlite3_column_int64(st, 0);
        d.task_id = sqlite3_column_int64(st, 1);
        d.slot_at = sqlite3_column_int64(st, 3);
        d.attempts = sqlite3_column_int(st, 8);
        d.next_attempt_at = store_column_time(st, 9);
        d.created_at = store_column_time(st, 11);
        d.sent_at = store_column_time(st, 12);
        d.first_attempt_at = store_column_time(st, 14);
        d.retried_at = store_column_time(st, 15);
        d.retries = sqlite3_column_int(st, 17);
        d.claimed_until = NO_TIME;
        if (store_column_strdup(st, 2, &d.slot) < 0 ||
            store_column_strdup(st, 4, &d.agency) < 0 ||
            store_column_strdup(st, 6, &d.channel) < 0 ||
            store_column_strdup(st, 10, &d.last_error) < 0 ||
            store_column_strdup(st, 13, &d.delivered_to) < 0 ||
            store_column_strdup(st, 16, &d.retried_by) < 0)
                return -ENOMEM;
        d.role = sqlite3_column_type(st, 5) == SQLITE_NULL ? _ROLE_INVALID
                 : role_from_string((const char *) sqlite3_column_text(st, 5));
        d.state = delivery_state_from_string((const char *) sqlite3_column_text(st, 7));
        if (d.state < 0)
                return -EBADMSG;

        *ret = d;
        d = (struct delivery) {};
        return 0;
}

static int deliveries_read(struct store *s, sqlite3_stmt *st, struct delivery_list *ret) {
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        void *items = NULL;
        int r = store_read_rows(s, st, &items, &l.n, sizeof *l.items, delivery_from_row);

        l.items = items;
        if (r < 0)
                return r;
        *ret = l;
        l = (struct delivery_list) {};
        return (int) MIN(ret->n, (size_t) INT32_MAX);
}

/* The receivers left out as a JSON array of "agency|channel" keys, which
 * the statement compares with each row's own; NULL when there are none. */
static int receivers_to_json(const struct delivery_receiver *r, size_t n, char **ret) {
        struct strbuf b = STRBUF_INIT(SIZE_MAX);

        if (n == 0) {
                *ret = NULL;
                return 0;
        }
        strbuf_putc(&b, '[');
        for (size_t i = 0; i < n; i++) {
                if (!r[i].agency || !r[i].channel) {
                        strbuf_done(&b);
                        return -EINVAL;
                }
                strbuf_puts(&b, i > 0 ? ",\"" : "\"");
                store_json_escape(&b, r[i].agency);
                strbuf_putc(&b, '|');
                store_json_escape(&b, r[i].channel);
                strbuf_putc(&b, '"');
        }
        strbuf_putc(&b, ']');
        return strbuf_steal(&b, ret, NULL);
}

int sqlite_deliveries_due(struct store *s, int64_t now, const struct delivery_filter *f,
                         struct delivery_list *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *skip = NULL;
        struct delivery_filter all = {};
        int r;

        if (!ret)
                return -EINVAL;
        if (!f)
                f = &all;
        r = receivers_to_json(f->skip, f->n_skip, &skip);
        if (r < 0)
                return r;

        r = store_statement(s, STMT_DELIVERIES_DUE, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK ||
            store_bind_limit(st, 2, f->limit) != SQLITE_OK ||
            store_bind_text(st, 3, skip) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        return deliveries_read(s, st, ret);
}

int sqlite_next_delivery(struct store *s, int64_t *ret) {
        /* min() gives one row, NULL when there is nothing. */
        return ret ? store_query_value(s, STMT_NEXT_DELIVERY, ret) : -EINVAL;
}

/* After an update that changed nothing: -ENOENT if the delivery does not
 * exist, -EALREADY if it exists but was not in a state to be changed. */
static int delivery_unchanged(struct store *s, int64_t id) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        r = store_statement(s, STMT_DELIVERY_STATE, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_step(s, st);
        if (r < 0)
                return r;
        return r > 0 ? -EALREADY : -ENOENT;
}

int sqlite_delivery_set_state(struct store *s, int64_t id, enum delivery_state state,
                             int64_t next_attempt_at, const char *error, int64_t now) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int rc, r;

        switch (state) {
        case DELIVERY_PENDING:
                r = store_statement(s, STMT_DELIVERY_PENDING, &st);
                if (r < 0)
                        return r;
                rc = store_bind_time(st, 2, next_attempt_at != NO_TIME ? next_attempt_at : now);
                if (rc == SQLITE_OK)
                        rc = store_bind_text(st, 3, error);
                break;
        case DELIVERY_ATTEMPTING:
                r = store_statement(s, STMT_DELIVERY_ATTEMPTING, &st);
                if (r < 0)
                        return r;
                rc = sqlite3_bind_int64(st, 2, now);
                break;
        case DELIVERY_SENT:
                r = store_statement(s, STMT_DELIVERY_SENT, &st);
                if (r < 0)
                        return r;
                rc = sqlite3_bind_int64(st, 2, now);
                if (rc == SQLITE_OK)
                        rc = store_bind_text(st, 3, error);
                break;
        case DELIVERY_FAILED:
                r = store_statement(s, STMT_DELIVERY_FAILED, &st);
                if (r < 0)
                        return r;
                rc = store_bind_text(st, 2, error);
                break;
        default:
                return -EINVAL;
        }
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_int64(st, 1, id);
        if (rc != SQLITE_OK)
                return store_error(s, rc);

        r = store_run(s, st);
        if (r < 0)
                return r;
        if (sqlite3_changes(s->db) == 0)
                return delivery_unchanged(s, id);
        return 0;
}

int sqlite_deliveries_set_state(struct store *s, const int64_t *ids, size_t n, enum delivery_state state,
                               int64_t now) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *list = NULL;
        int rc, r;

        if (n == 0)
                return 0;
        r = store_ids_json(ids, n, &list);
        if (r < 0)
                return r;

        switch (state) {
        case DELIVERY_ATTEMPTING:
                r = store_statement(s, STMT_DELIVERIES_ATTEMPTING, &st);
                if (r < 0)
                        return r;
                rc = sqlite3_bind_int64(st, 2, now);
                break;
        case DELIVERY_SENT:
                r = store_statement(s, STMT_DELIVERIES_SENT, &st);
                if (r < 0)
                        return r;
                rc = sqlite3_bind_int64(st, 2, now);
                break;
        default:
                return -EINVAL;
        }
        if (rc == SQLITE_OK)
                rc = sqlite3_bind_text(st, 1, list, -1, SQLITE_STATIC);
        if (rc != SQLITE_OK)
                return store_error(s, rc);
        r = store_run(s, st);
        if (r < 0)
                return r;
        /* A claim must get every row; a sent delivery that is gone has
         * nothing left to record. */
        if (state == DELIVERY_ATTEMPTING && (size_t) sqlite3_changes(s->db) != n)
                return -EALREADY;
        return 0;
}

int sqlite_delivery_put_back(struct store *s, int64_t id, int64_t next_attempt_at) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r = store_statement(s, STMT_DELIVERY_PUT_BACK, &st);

        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || store_bind_time(st, 2, next_attempt_at) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        return store_run(s, st);
}

int sqlite_delivery_set_delivered_to(struct store *s, int64_t id, const char *addresses) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r = store_statement(s, STMT_DELIVERY_DELIVERED_TO, &st);

        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK || store_bind_text(st, 2, addresses) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        return store_run(s, st);
}

int sqlite_deliveries_clock_stepped(struct store *s, int64_t step, int64_t now) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (step >= 0)
                return 0;
        r = store_statement(s, STMT_DELIVERIES_CLOCK_STEP, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, step) != SQLITE_OK || sqlite3_bind_int64(st, 2, now) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_run(s, st);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db);
}

int sqlite_deliveries_reset_attempting(struct store *s, int64_t now) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        r = store_statement(s, STMT_DELIVERIES_RESET, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, now) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_run(s, st);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db);
}

int sqlite_delivery_list_for_task(struct store *s, int64_t task_id, struct delivery_list *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!ret)
                return -EINVAL;

        r = store_statement(s, STMT_DELIVERY_LIST_TASK, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, task_id) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        return deliveries_read(s, st, ret);
}

int sqlite_deliveries_trouble(struct store *s, size_t limit, struct delivery_list *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!ret)
                return -EINVAL;

        r = store_statement(s, STMT_DELIVERIES_TROUBLE, &st);
        if (r < 0)
                return r;
        if (store_bind_limit(st, 1, limit) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        return deliveries_read(s, st, ret);
}

int sqlite_deliveries_recent(struct store *s, size_t limit, struct delivery_list *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!ret)
                return -EINVAL;

        r = store_statement(s, STMT_DELIVERIES_RECENT, &st);
        if (r < 0)
                return r;
        if (store_bind_limit(st, 1, limit) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        return deliveries_read(s, st, ret);
}

int sqlite_delivery_counts(struct store *s, int64_t counts[static _DELIVERY_STATE_MAX]) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int64_t c[_DELIVERY_STATE_MAX] = {};
        int r;

        r = store_statement(s, STMT_DELIVERY_COUNTS, &st);
        if (r < 0)
                return r;
        for (;;) {
                enum delivery_state state;

                r = store_step(s, st);
                if (r < 0)
                        return r;
                if (r == 0)
                        break;
                state = delivery_state_from_string((const char *) sqlite3_column_text(st, 0));
                if (state < 0)
                        return -EBADMSG;
                c[state] = sqlite3_column_int64(st, 1);
        }
        memcpy(counts, c, sizeof c);
        return 0;
}

int sqlite_delivery_get(struct store *s, int64_t id, struct delivery *ret) {
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        r = store_statement(s, STMT_DELIVERY_GET, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = deliveries_read(s, st, &l);
        if (r < 0)
                return r;
        if (l.n == 0)
                return -ENOENT;
        *ret = l.items[0];
        l.items[0] = (struct delivery) {};
        return 0;
}

static int agencies_to_json(char *const *agencies, char **ret) {
        struct strbuf b = STRBUF_INIT(SIZE_MAX);

        if (!agencies) {
                *ret = NULL;
                return 0;
        }
        strbuf_putc(&b, '[');
        for (char *const *a = agencies; *a; a++) {
                strbuf_puts(&b, a == agencies ? "\"" : ",\"");
                store_json_escape(&b, *a);
                strbuf_putc(&b, '"');
        }
        strbuf_putc(&b, ']');
        return strbuf_steal(&b, ret, NULL);
}

int sqlite_deliveries_retry(struct store *s, const struct delivery_retry_filter *f, const char *actor, int64_t now,
                           int64_t **ret_ids) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *agencies = NULL;
        _cleanup_free_ int64_t *ids = NULL;
        size_t n = 0, cap = 0;
        int r;

        if (!f)
                return -EINVAL;
        r = agencies_to_json(f->agencies, &agencies);
        if (r < 0)
                return r;
        r = store_statement(s, STMT_DELIVERIES_RETRY, &st);
        if (r < 0)
                return r;
        if (store_bind_id(st, 1, f->id) != SQLITE_OK ||
            store_bind_id(st, 2, f->task_id) != SQLITE_OK ||
            store_bind_text(st, 3, agencies) != SQLITE_OK ||
            sqlite3_bind_int64(st, 4, now) != SQLITE_OK ||
            store_bind_text(st, 5, actor) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        while ((r = store_step(s, st)) > 0) {
                if (n == cap) {
                        int64_t *m = reallocarray(ids, cap ? cap * 2 : 16, sizeof *ids);
                        if (!m)
                                return -ENOMEM;
                        ids = m;
                        cap = cap ? cap * 2 : 16;
                }
                ids[n++] = sqlite3_column_int64(st, 0);
        }
        if (r < 0)
                return r;
        if (ret_ids)
                *ret_ids = TAKE_PTR(ids);
        return (int) MIN(n, (size_t) INT32_MAX);
}
