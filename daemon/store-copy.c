/* SPDX-License-Identifier: GPL-2.0-or-later */
/* store_copy(): a database moved to another backend, table by table in
 * the order their references go, through the backends' generic row calls
 * (store-backend.h). Columns are copied by name, so a column both schemas
 * gained at a version is copied without a change here. */
#include <errno.h>

#include "log.h"
#include "store-backend.h"

/* Referenced tables before those that refer to them. */
static const char *const copy_tables[] = {
        "documents", "tasks", "task_agencies", "task_changes", "completions", "deliveries",
        "inbox_messages", "meta",
};

struct copy_state {
        struct store *to;
        const char *table;
        size_t rows;
};

static int copy_row(void *userdata, size_t n, const char *const *names, const char *const *values) {
        struct copy_state *c = userdata;

        c->rows++;
        return store_ops(c->to)->rows_insert(c->to, c->table, n, names, values);
}

int store_copy(struct store *from, struct store *to) {
        const struct store_ops *f = store_ops(from), *t = store_ops(to);
        struct copy_state c = { .to = to };
        int vf, vt, r;

        if (!f->rows_read || !t->copy_begin || !t->rows_insert || !t->copy_finish)
                return -EOPNOTSUPP;
        vf = store_schema_version(from);
        vt = store_schema_version(to);
        if (vf < 0 || vt < 0)
                return vf < 0 ? vf : vt;
        if (vf != vt)
                return -EPROTO;
        /* The source holds still: its write lock for the copy's length. */
        r = store_begin(from);
        if (r < 0)
                return r;
        r = t->copy_begin(to);
        if (r < 0) {
                (void) store_rollback(from);
                return r;
        }
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(copy_tables); i++) {
                c.table = copy_tables[i];
                c.rows = 0;
                r = f->rows_read(from, c.table, copy_row, &c);
                if (r >= 0)
                        log_debug("Copied %zu rows of %s", c.rows, c.table);
        }
        if (r >= 0)
                r = t->copy_finish(to);
        else
                (void) store_rollback(to);
        (void) store_rollback(from);
        return r;
}
