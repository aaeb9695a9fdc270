/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PostgreSQL backend's change log and completions, finding a task by
 * its reference and clearing the notices a task owes. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>

#include "store-pg.h"

int pg_task_find_ref(struct store *s, int64_t document_id, const char *ref, int64_t *ret_id) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct pg_args a = {};
        int r;

        if (!ref || document_id < 0)
                return -EINVAL;
        pg_arg_id(&a, document_id);
        pg_arg_text(&a, ref);
        r = pg_query(s, PG_TASK_FIND_REF, &a, &res);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return -ENOENT;
        *ret_id = pg_get_int(res, 0, 0);
        return 0;
}

int pg_task_notices_clear(struct store *s, int64_t task_id) {
        struct pg_args a = {};
        int r;

        pg_arg_int(&a, task_id);
        r = pg_run(s, PG_TASK_NOTICES_CLEAR, &a);
        return r < 0 ? r : 0;
}

int pg_task_change_add(struct store *s, struct task_change *c) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct pg_args a = {};
        int r;

        if (!c || c->task_id <= 0 || !task_field_to_string(c->field) || !change_source_to_string(c->source))
                return -EINVAL;
        pg_arg_int(&a, c->task_id);
        pg_arg_int(&a, c->at);
        pg_arg_text(&a, task_field_to_string(c->field));
        pg_arg_text(&a, c->old_value);
        pg_arg_text(&a, c->new_value);
        pg_arg_text(&a, change_source_to_string(c->source));
        pg_arg_text(&a, c->note);
        pg_arg_text(&a, c->actor);
        pg_arg_text(&a, c->approved_by);
        pg_arg_text(&a, c->reason);
        r = pg_query(s, PG_TASK_CHANGE_INSERT, &a, &res);
        if (r < 0)
                return r;
        c->id = pg_get_int(res, 0, 0);
        return 0;
}

static int change_from_row(const PGresult *res, int i, void *item) {
        struct task_change *ret = item;
        _cleanup_(task_change_done) struct task_change c = {};

        c.id = pg_get_int(res, i, 0);
        c.task_id = pg_get_int(res, i, 1);
        c.at = pg_get_int(res, i, 2);
        /* A kind of change a newer program logged reads as invalid rather
         * than failing the whole log. */
        c.field = task_field_from_string(PQgetvalue(res, i, 3));
        c.source = change_source_from_string(PQgetvalue(res, i, 6));
        if (pg_get_strdup(res, i, 4, &c.old_value) < 0 ||
            pg_get_strdup(res, i, 5, &c.new_value) < 0 ||
            pg_get_strdup(res, i, 7, &c.note) < 0 ||
            pg_get_strdup(res, i, 8, &c.actor) < 0 ||
            pg_get_strdup(res, i, 9, &c.approved_by) < 0 ||
            pg_get_strdup(res, i, 10, &c.reason) < 0)
                return -ENOMEM;
        *ret = c;
        c = (struct task_change) {};
        return 0;
}

int pg_task_changes(struct store *s, int64_t task_id, struct task_change_list *ret) {
        _cleanup_(task_change_list_done) struct task_change_list l = {};
        struct pg_args a = {};
        int n;

        if (!ret)
                return -EINVAL;
        pg_arg_int(&a, task_id);
        n = pg_read_rows(s, PG_TASK_CHANGES, &a, (void **) &l.items, &l.n, sizeof *l.items, change_from_row);
        if (n < 0)
                return n;
        *ret = l;
        l = (struct task_change_list) {};
        return n;
}

int pg_task_change_last(struct store *s, int64_t task_id, enum task_field field, int source,
                        struct task_change *ret) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct pg_args a = {};
        int r;

        if (!ret || !task_field_to_string(field) || (source >= 0 && !change_source_to_string(source)))
                return -EINVAL;
        pg_arg_int(&a, task_id);
        pg_arg_text(&a, task_field_to_string(field));
        pg_arg_text(&a, source >= 0 ? change_source_to_string(source) : NULL);
        r = pg_query(s, PG_TASK_CHANGE_LAST, &a, &res);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return -ENOENT;
        return change_from_row(res, 0, ret);
}

int pg_task_completion_add(struct store *s, struct task_completion *c) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct pg_args a = {};
        int r;

        if (!c || c->task_id <= 0 || c->done_at == NO_TIME || c->recorded_at == NO_TIME)
                return -EINVAL;
        pg_arg_int(&a, c->task_id);
        pg_arg_text(&a, c->due);
        pg_arg_time(&a, c->due_at);
        pg_arg_text(&a, c->done_on);
        pg_arg_int(&a, c->done_at);
        pg_arg_text(&a, c->note);
        pg_arg_int(&a, c->recorded_at);
        pg_arg_text(&a, c->actor);
        r = pg_query(s, PG_COMPLETION_INSERT, &a, &res);
        if (r < 0)
                return r;
        c->id = pg_get_int(res, 0, 0);
        c->reopened_at = NO_TIME;
        return 0;
}

static int completion_from_row(const PGresult *res, int i, void *item) {
        struct task_completion *c = item;

        c->id = pg_get_int(res, i, 0);
        c->task_id = pg_get_int(res, i, 1);
        c->due_at = pg_get_time(res, i, 3);
        c->done_at = pg_get_time(res, i, 5);
        c->recorded_at = pg_get_time(res, i, 7);
        c->reopened_at = pg_get_time(res, i, 9);
        if (pg_get_strdup(res, i, 2, &c->due) < 0 ||
            pg_get_strdup(res, i, 4, &c->done_on) < 0 ||
            pg_get_strdup(res, i, 6, &c->note) < 0 ||
            pg_get_strdup(res, i, 8, &c->actor) < 0)
                return -ENOMEM;
        return 0;
}

int pg_task_completions(struct store *s, int64_t task_id, struct task_completion_list *ret) {
        _cleanup_(task_completion_list_done) struct task_completion_list l = {};
        struct pg_args a = {};
        int n;

        if (!ret)
                return -EINVAL;
        pg_arg_int(&a, task_id);
        n = pg_read_rows(s, PG_COMPLETIONS, &a, (void **) &l.items, &l.n, sizeof *l.items, completion_from_row);
        if (n < 0)
                return n;
        *ret = l;
        l = (struct task_completion_list) {};
        return n;
}

int pg_task_completion_reopened(struct store *s, int64_t task_id, int64_t now) {
        struct pg_args a = {};

        pg_arg_int(&a, task_id);
        pg_arg_int(&a, now);
        return pg_run(s, PG_COMPLETION_REOPENED, &a);
}

static int occurrence_from_row(const PGresult *res, int i, void *item) {
        struct task_occurrence *o = item;

        o->task_id = pg_get_int(res, i, 0);
        o->completion_id = pg_get_int(res, i, 1);
        o->due_at = pg_get_time(res, i, 4);
        o->done_at = pg_get_time(res, i, 5);
        o->extensions = (unsigned) MIN(pg_get_int(res, i, 6), (int64_t) UINT_MAX);
        if (pg_get_strdup(res, i, 2, &o->document_number) < 0 || pg_get_strdup(res, i, 3, &o->agency) < 0)
                return -ENOMEM;
        return 0;
}

int pg_task_occurrences(struct store *s, const struct occurrence_filter *f, struct task_occurrence_list *ret) {
        _cleanup_(task_occurrence_list_done) struct task_occurrence_list l = {};
        struct pg_args a = {};
        int n;

        if (!f || !ret || f->due_from == NO_TIME || f->due_to == NO_TIME)
                return -EINVAL;
        pg_arg_int(&a, f->due_from);
        pg_arg_int(&a, f->due_to);
        pg_arg_id(&a, f->document_id);
        pg_arg_text(&a, f->agency);
        n = pg_read_rows(s, PG_TASK_OCCURRENCES, &a, (void **) &l.items, &l.n, sizeof *l.items,
                         occurrence_from_row);
        if (n < 0)
                return n;
        *ret = l;
        l = (struct task_occurrence_list) {};
        return n;
}
