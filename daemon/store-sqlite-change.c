/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Each task's change log: one row per field changed, with its value before
 * and after and who changed it (an import or a person). */
#include <stdio.h>

#include "store-sqlite.h"
#include "strbuf.h"

char *task_agencies_format(const struct task_agency *a, size_t n) {
        struct strbuf b = STRBUF_INIT(SIZE_MAX);
        bool first = true;
        char *ret;

        strbuf_puts(&b, "lead ");
        for (size_t i = 0; i < n; i++)
                if (a[i].role == ROLE_LEAD) {
                        strbuf_printf(&b, "%s%s", first ? "" : ",", a[i].agency);
                        first = false;
                }
        first = true;
        for (size_t i = 0; i < n; i++)
                if (a[i].role == ROLE_SUPPORT) {
                        strbuf_printf(&b, "%s%s", first ? "; support " : ",", a[i].agency);
                        first = false;
                }
        if (strbuf_steal(&b, &ret, NULL) < 0)
                return NULL;
        return ret;
}

int store_task_change_add(struct store *s, struct task_change *c) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!c || c->task_id <= 0 || !task_field_to_string(c->field) || !change_source_to_string(c->source))
                return -EINVAL;
        r = store_statement(s, STMT_TASK_CHANGE_INSERT, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, c->task_id) != SQLITE_OK ||
            sqlite3_bind_int64(st, 2, c->at) != SQLITE_OK ||
            bind_text(st, 3, task_field_to_string(c->field)) != SQLITE_OK ||
            bind_text(st, 4, c->old_value) != SQLITE_OK ||
            bind_text(st, 5, c->new_value) != SQLITE_OK ||
            bind_text(st, 6, change_source_to_string(c->source)) != SQLITE_OK ||
            bind_text(st, 7, c->note) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_run(s, st);
        if (r < 0)
                return r;
        c->id = sqlite3_last_insert_rowid(s->db);
        return 0;
}

/* Appends one entry if the values differ (or the task is new); returns 1
 * if it did. */
static int record_field(struct store *s, const struct task *after, enum task_field field, bool created,
                        const char *old_value, const char *new_value, enum change_source source,
                        const char *note, int64_t now) {
        struct task_change c = {
                .task_id = after->id,
                .at = now,
                .field = field,
                .old_value = created ? NULL : (char *) old_value,
                .new_value = (char *) new_value,
                .source = source,
                .note = (char *) note,
        };
        int r;

        if (!created && streq_ptr(old_value, new_value))
                return 0;
        r = store_task_change_add(s, &c);
        return r < 0 ? r : 1;
}

int store_task_changes_record(struct store *s, const struct task *before, const struct task *after,
                              enum change_source source, const char *note, int64_t now) {
        _cleanup_free_ char *old_agencies = NULL, *new_agencies = NULL;
        bool created = !before;
        int n = 0, r;

        if (!after || after->id <= 0 || (before && before->id != after->id))
                return -EINVAL;
        new_agencies = task_agencies_format(after->agencies, after->n_agencies);
        if (before)
                old_agencies = task_agencies_format(before->agencies, before->n_agencies);
        if (!new_agencies || (before && !old_agencies))
                return -ENOMEM;

        const struct {
                enum task_field field;
                const char *old_value, *new_value;
        } fields[] = {
                { TASK_FIELD_STATUS, before ? task_status_to_string(before->status) : NULL,
                  task_status_to_string(after->status) },
                { TASK_FIELD_DUE, before ? before->due : NULL, after->due },
                { TASK_FIELD_TITLE, before ? before->title : NULL, after->title },
                { TASK_FIELD_DETAIL, before ? before->detail : NULL, after->detail },
                { TASK_FIELD_AGENCIES, old_agencies, new_agencies },
                { TASK_FIELD_RECURRENCE, before ? before->recurrence : NULL, after->recurrence },
                { TASK_FIELD_REF, before ? before->ref : NULL, after->ref },
        };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                r = record_field(s, after, fields[i].field, created, fields[i].old_value, fields[i].new_value,
                                 source, note, now);
                if (r < 0)
                        return r;
                n += r;
        }
        return n;
}

static int change_from_row(sqlite3_stmt *st, void *item) {
        _cleanup_(task_change_done) struct task_change c = {};
        struct task_change *ret = item;

        c.id = sqlite3_column_int64(st, 0);
        c.task_id = sqlite3_column_int64(st, 1);
        c.at = sqlite3_column_int64(st, 2);
        c.field = task_field_from_string((const char *) sqlite3_column_text(st, 3));
        c.source = change_source_from_string((const char *) sqlite3_column_text(st, 6));
        /* A kind of change a newer program logged reads as invalid rather
         * than failing the whole log. */
        if (column_strdup(st, 4, &c.old_value) < 0 ||
            column_strdup(st, 5, &c.new_value) < 0 ||
            column_strdup(st, 7, &c.note) < 0)
                return -ENOMEM;
        *ret = c;
        c = (struct task_change) {};
        return 0;
}

int store_task_changes(struct store *s, int64_t task_id, struct task_change_list *ret) {
        _cleanup_(task_change_list_done) struct task_change_list l = {};
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        void *items = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        r = store_statement(s, STMT_TASK_CHANGES, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, task_id) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_read_rows(s, st, &items, &l.n, sizeof *l.items, change_from_row);
        l.items = items;
        if (r < 0)
                return r;
        *ret = l;
        l = (struct task_change_list) {};
        return (int) MIN(ret->n, (size_t) INT32_MAX);
}

int store_task_change_last(struct store *s, int64_t task_id, enum task_field field, int source,
                           struct task_change *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!ret || !task_field_to_string(field) || (source != -1 && !change_source_to_string(source)))
                return -EINVAL;
        r = store_statement(s, STMT_TASK_CHANGE_LAST, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, task_id) != SQLITE_OK ||
            bind_text(st, 2, task_field_to_string(field)) != SQLITE_OK ||
            bind_text(st, 3, source == -1 ? NULL : change_source_to_string(source)) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        return change_from_row(st, ret);
}

void task_change_done(struct task_change *c) {
        if (!c)
                return;
        free(c->old_value);
        free(c->new_value);
        free(c->note);
        *c = (struct task_change) {};
}

void task_change_list_done(struct task_change_list *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                task_change_done(&l->items[i]);
        free(l->items);
        *l = (struct task_change_list) {};
}
