/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PostgreSQL side of store_copy(): an empty database receives another
 * backend's rows, ids kept, in one transaction; then its identity
 * sequences continue past the highest ids copied. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store-pg.h"
#include "strbuf.h"

/* The tables that hold data; meta holds only what opening the database
 * wrote (the instance id), which the copy replaces. */
static const char *const data_tables[] = {
        "documents", "tasks", "task_agencies", "task_changes", "completions", "deliveries", "inbox_messages",
};

int pg_copy_begin(struct store *s) {
        int r;

        r = pg_exec(s, "BEGIN");
        if (r < 0)
                return r;
        /* Nobody writes while we look and copy. */
        r = pg_exec(s, "LOCK TABLE documents, tasks, task_agencies, task_changes, completions, deliveries, "
                       "inbox_messages, meta IN EXCLUSIVE MODE");
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(data_tables); i++) {
                _cleanup_free_ char *sql = NULL;
                _cleanup_pgresult_ PGresult *res = NULL;

                if (asprintf(&sql, "SELECT EXISTS (SELECT 1 FROM %s)", data_tables[i]) < 0) {
                        r = -ENOMEM;
                        break;
                }
                res = PQexec(s->conn, sql);
                if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                        pg_set_error(s, "%s", PQresultErrorMessage(res));
                        r = -EIO;
                } else if (streq(PQgetvalue(res, 0, 0), "t")) {
                        pg_set_error(s, "the database already holds %s", data_tables[i]);
                        r = -ENOTEMPTY;
                }
        }
        if (r >= 0)
                r = pg_exec(s, "DELETE FROM meta");
        if (r < 0)
                (void) pg_exec(s, "ROLLBACK");
        s->copy_table[0] = 0;
        return r;
}

static bool identifier_ok(const char *name) {
        if (!name || !*name || strlen(name) >= 64)
                return false;
        for (const char *p = name; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        return false;
        return true;
}

int pg_rows_insert(struct store *s, const char *table, size_t n, const char *const *names,
                   const char *const *values) {
        _cleanup_pgresult_ PGresult *res = NULL;

        if (!identifier_ok(table) || n == 0 || n > 64)
                return -EINVAL;
        if (!streq(s->copy_table, table)) {
                _cleanup_(strbuf_done) struct strbuf sql = STRBUF_INIT(8192);

                strbuf_printf(&sql, "INSERT INTO %s (", table);
                for (size_t i = 0; i < n; i++) {
                        if (!identifier_ok(names[i]))
                                return -EINVAL;
                        strbuf_printf(&sql, "%s%s", i ? ", " : "", names[i]);
                }
                strbuf_puts(&sql, ") VALUES (");
                for (size_t i = 0; i < n; i++)
                        strbuf_printf(&sql, "%s$%zu", i ? ", " : "", i + 1);
                strbuf_puts(&sql, ")");
                if (sql.error < 0)
                        return sql.error;
                /* The unnamed statement: replaced by the next table's. */
                res = PQprepare(s->conn, "", sql.data, 0, NULL);
                if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                        pg_set_error(s, "%s: %s", table, PQresultErrorMessage(res));
                        return -EIO;
                }
                PQclear(TAKE_PTR(res));
                snprintf(s->copy_table, sizeof s->copy_table, "%s", table);
        }
        res = PQexecPrepared(s->conn, "", (int) n, values, NULL, NULL, 0);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                pg_set_error(s, "%s: %s", table, PQresultErrorMessage(res));
                return PQstatus(s->conn) == CONNECTION_BAD ? -ECONNRESET : -EINVAL;
        }
        return 0;
}

/* Each identity sequence past the highest id copied, and past the highest
 * ever used where meta remembers it (ids of deleted tasks and deliveries
 * are never given again); then the commit, with a change notice. */
int pg_copy_finish(struct store *s) {
        static const char *const sql =
                "SELECT setval(pg_get_serial_sequence('documents', 'id'), "
                "  greatest((SELECT max(id) FROM documents), 1), (SELECT max(id) FROM documents) IS NOT NULL);"
                "SELECT setval(pg_get_serial_sequence('tasks', 'id'), greatest((SELECT max(id) FROM tasks), "
                "  (SELECT value::bigint FROM meta WHERE key = 'task_id_used'), 1), "
                "  greatest((SELECT max(id) FROM tasks), "
                "  (SELECT value::bigint FROM meta WHERE key = 'task_id_used'), 0) > 0);"
                "SELECT setval(pg_get_serial_sequence('deliveries', 'id'), greatest((SELECT max(id) FROM deliveries), "
                "  (SELECT value::bigint FROM meta WHERE key = 'delivery_id_used'), 1), "
                "  greatest((SELECT max(id) FROM deliveries), "
                "  (SELECT value::bigint FROM meta WHERE key = 'delivery_id_used'), 0) > 0);"
                "SELECT setval(pg_get_serial_sequence('task_changes', 'id'), "
                "  greatest((SELECT max(id) FROM task_changes), 1), (SELECT max(id) FROM task_changes) IS NOT NULL);"
                "SELECT setval(pg_get_serial_sequence('completions', 'id'), "
                "  greatest((SELECT max(id) FROM completions), 1), (SELECT max(id) FROM completions) IS NOT NULL);"
                "SELECT setval(pg_get_serial_sequence('inbox_messages', 'id'), "
                "  greatest((SELECT max(id) FROM inbox_messages), 1), (SELECT max(id) FROM inbox_messages) IS NOT NULL);"
                "NOTIFY " PG_CHANNEL ";"
                "COMMIT";
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        s->copy_table[0] = 0;
        res = PQexec(s->conn, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                pg_set_error(s, "%s", PQresultErrorMessage(res) ?: PQerrorMessage(s->conn));
                r = PQstatus(s->conn) == CONNECTION_BAD ? -ECONNRESET : -EIO;
                (void) pg_exec(s, "ROLLBACK");
                return r;
        }
        return 0;
}
