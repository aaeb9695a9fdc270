/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Each task's change log: one row per field changed, with its value before
 * and after, who changed it (an import or a person, and the user) and,
 * for an approved change of deadline, the document and the reason. Which
 * fields changed is worked out in store.c, for any backend. And each
 * task's completions: what it was done with, and when. */
#include <limits.h>

#include "store-sqlite.h"

int sqlite_task_change_add(struct store *s, struct task_change *c) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!c || c->task_id <= 0 || !task_field_to_string(c->field) || !change_source_to_string(c->source))
                return -EINVAL;
        r = store_statement(s, STMT_TASK_CHANGE_INSERT, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, c->task_id) != SQLITE_OK ||
            sqlite3_bind_int64(st, 2, c->at) != SQLITE_OK ||
            store_bind_text(st, 3, task_field_to_string(c->field)) != SQLITE_OK ||
            store_bind_text(st, 4, c->old_value) != SQLITE_OK ||
            store_bind_text(st, 5, c->new_value) != SQLITE_OK ||
            store_bind_text(st, 6, change_source_to_string(c->source)) != SQLITE_OK ||
            store_bind_text(st, 7, c->note) != SQLITE_OK ||
            store_bind_text(st, 8, c->actor) != SQLITE_OK ||
            store_bind_text(st, 9, c->approved_by) != SQLITE_OK ||
            store_bind_text(st, 10, c->reason) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_run(s, st);
        if (r < 0)
                return r;
        c->id = sqlite3_last_insert_rowid(s->db);
        return 0;
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
        if (store_column_strdup(st, 4, &c.old_value) < 0 ||
            store_column_strdup(st, 5, &c.new_value) < 0 ||
            store_column_strdup(st, 7, &c.note) < 0 ||
            store_column_strdup(st, 8, &c.actor) < 0 ||
            store_column_strdup(st, 9, &c.approved_by) < 0 ||
            store_column_strdup(st, 10, &c.reason) < 0)
                return -ENOMEM;
        *ret = c;
        c = (struct task_change) {};
        return 0;
}

int sqlite_task_changes(struct store *s, int64_t task_id, struct task_change_list *ret) {
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

int sqlite_task_change_last(struct store *s, int64_t task_id, enum task_field field, int source,
                           struct task_change *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!ret || !task_field_to_string(field) || (source != -1 && !change_source_to_string(source)))
                return -EINVAL;
        r = store_statement(s, STMT_TASK_CHANGE_LAST, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, task_id) != SQLITE_OK ||
            store_bind_text(st, 2, task_field_to_string(field)) != SQLITE_OK ||
            store_bind_text(st, 3, source == -1 ? NULL : change_source_to_string(source)) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        return change_from_row(st, ret);
}

int sqlite_task_completion_add(struct store *s, struct task_completion *c) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!c || c->task_id <= 0 || c->done_at == NO_TIME || c->recorded_at == NO_TIME)
                return -EINVAL;
        r = store_statement(s, STMT_COMPLETION_INSERT, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, c->task_id) != SQLITE_OK ||
            store_bind_text(st, 2, c->due) != SQLITE_OK ||
            store_bind_time(st, 3, c->due_at) != SQLITE_OK ||
            store_bind_text(st, 4, c->done_on) != SQLITE_OK ||
            sqlite3_bind_int64(st, 5, c->done_at) != SQLITE_OK ||
            store_bind_text(st, 6, c->note) != SQLITE_OK ||
            sqlite3_bind_int64(st, 7, c->recorded_at) != SQLITE_OK ||
            store_bind_text(st, 8, c->actor) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_run(s, st);
        if (r < 0)
                return r;
        c->id = sqlite3_last_insert_rowid(s->db);
        c->reopened_at = NO_TIME;
        return 0;
}

static int completion_from_row(sqlite3_stmt *st, void *item) {
        _cleanup_(task_completion_done) struct task_completion c = {};
        struct task_completion *ret = item;

        c.id = sqlite3_column_int64(st, 0);
        c.task_id = sqlite3_column_int64(st, 1);
        c.due_at = store_column_time(st, 3);
        c.done_at = store_column_time(st, 5);
        c.recorded_at = store_column_time(st, 7);
        c.reopened_at = store_column_time(st, 9);
        if (store_column_strdup(st, 2, &c.due) < 0 ||
            store_column_strdup(st, 4, &c.done_on) < 0 ||
            store_column_strdup(st, 6, &c.note) < 0 ||
            store_column_strdup(st, 8, &c.actor) < 0)
                return -ENOMEM;
        *ret = c;
        c = (struct task_completion) {};
        return 0;
}

int sqlite_task_completions(struct store *s, int64_t task_id, struct task_completion_list *ret) {
        _cleanup_(task_completion_list_done) struct task_completion_list l = {};
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        void *items = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        r = store_statement(s, STMT_COMPLETIONS, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, task_id) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_read_rows(s, st, &items, &l.n, sizeof *l.items, completion_from_row);
        l.items = items;
        if (r < 0)
                return r;
        *ret = l;
        l = (struct task_completion_list) {};
        return (int) MIN(ret->n, (size_t) INT32_MAX);
}

int sqlite_task_completion_reopened(struct store *s, int64_t task_id, int64_t now) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        r = store_statement(s, STMT_COMPLETION_REOPENED, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, task_id) != SQLITE_OK || sqlite3_bind_int64(st, 2, now) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_run(s, st);
        if (r < 0)
                return r;
        return sqlite3_changes(s->db) > 0;
}

static int occurrence_from_row(sqlite3_stmt *st, void *item) {
        struct task_occurrence *o = item;

        *o = (struct task_occurrence) {
                .task_id = sqlite3_column_int64(st, 0),
                .completion_id = sqlite3_column_int64(st, 1),
                .due_at = store_column_time(st, 4),
                .done_at = store_column_time(st, 5),
                .extensions = (unsigned) MIN(sqlite3_column_int64(st, 6), (int64_t) UINT_MAX),
        };
        if (store_column_strdup(st, 2, &o->document_number) < 0 || store_column_strdup(st, 3, &o->agency) < 0) {
                free(o->document_number);
                *o = (struct task_occurrence) {};
                return -ENOMEM;
        }
        return 0;
}

int sqlite_task_occurrences(struct store *s, const struct occurrence_filter *f, struct task_occurrence_list *ret) {
        _cleanup_(task_occurrence_list_done) struct task_occurrence_list l = {};
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        void *items = NULL;
        int r;

        if (!f || !ret || f->due_from == NO_TIME || f->due_to == NO_TIME)
                return -EINVAL;
        r = store_statement(s, STMT_TASK_OCCURRENCES, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, f->due_from) != SQLITE_OK ||
            sqlite3_bind_int64(st, 2, f->due_to) != SQLITE_OK ||
            store_bind_id(st, 3, f->document_id) != SQLITE_OK ||
            store_bind_text(st, 4, f->agency) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_read_rows(s, st, &items, &l.n, sizeof *l.items, occurrence_from_row);
        l.items = items;
        if (r < 0)
                return r;
        *ret = l;
        l = (struct task_occurrence_list) {};
        return (int) MIN(ret->n, (size_t) INT32_MAX);
}
