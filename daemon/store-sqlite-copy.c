/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The SQLite side of store_copy(): a table's rows, whatever its columns,
 * each value as text. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "store-sqlite.h"

#define COPY_COLUMNS_MAX 64

int sqlite_rows_read(struct store *s, const char *table, store_row_cb cb, void *userdata) {
        _cleanup_free_ char *sql = NULL;
        sqlite3_stmt *st = NULL;
        const char *names[COPY_COLUMNS_MAX], *values[COPY_COLUMNS_MAX];
        int rc, r = 0, n;

        /* A name from store-copy.c's table, never from outside. In the
         * order of their first column (the id where there is one). */
        if (asprintf(&sql, "SELECT * FROM \"%s\" ORDER BY 1", table) < 0)
                return -ENOMEM;
        rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return store_error(s, rc);
        n = sqlite3_column_count(st);
        if (n > COPY_COLUMNS_MAX) {
                sqlite3_finalize(st);
                return -E2BIG;
        }
        for (int i = 0; i < n; i++)
                names[i] = sqlite3_column_name(st, i);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
                for (int i = 0; i < n; i++)
                        values[i] = sqlite3_column_type(st, i) == SQLITE_NULL
                                ? NULL : (const char *) sqlite3_column_text(st, i);
                r = cb(userdata, (size_t) n, names, values);
                if (r < 0)
                        break;
        }
        if (r >= 0 && rc != SQLITE_DONE)
                r = store_error(s, rc);
        sqlite3_finalize(st);
        return r < 0 ? r : 0;
}
