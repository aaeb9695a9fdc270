/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The SQLite backend of store.h: the connection and its set-up, the
 * transactions (a dry run's among them), errors, the statement table,
 * documents and meta. Tasks, the change log, the outbox, the schema and
 * the instance id have files of their own (store-sqlite-*.c). */
#include "store.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <stdio.h>

#include "store-sqlite.h"
#include "strbuf.h"

/* The filter of sqlite_task_list(): ?1 status, ?2 due at or before, ?3
 * document, ?4 a JSON array of agency ids, ?5 the limit; NULL lets
 * everything through. Tasks without a deadline sort last. */
#define SQL_CHANGE_COLUMNS                                                      \
        "id, task_id, at, field, old, new, source, note, actor, approved_by, reason"

#define SQL_TASK_FILTER                                                         \
        "WHERE (?1 IS NULL OR t.status = ?1) "                                  \
        "AND (?2 IS NULL OR t.due_at <= ?2) "                                   \
        "AND (?3 IS NULL OR t.document_id = ?3) "                               \
        "AND (?4 IS NULL OR EXISTS (SELECT 1 FROM task_agencies AS f "          \
        "WHERE f.task_id = t.id AND f.agency IN (SELECT value FROM json_each(?4)))) " \
        "ORDER BY t.due_at IS NULL, t.due_at, t.id LIMIT ?5"

/* A new row's id: above every id the table has had. SQLite would give a
 * deleted task's or delivery's id to the next row (max(id) + 1), and ids
 * make Message-IDs; sqlite_task_delete() keeps the highest in meta. */
#define SQL_NEXT_ID(table, key)                                                 \
        "(SELECT max(coalesce((SELECT max(id) FROM " table "), 0), "            \
        "coalesce((SELECT CAST(value AS INTEGER) FROM meta WHERE key = '" key "'), 0)) + 1)"

#define SQL_INBOX_COLUMNS \
        "id, uidvalidity, uid, message_id, sender, subject, received_at, sent_at, task_id, agency, intent, " \
        "asked_day, evidence, text, state, note, decided_by, decided_at, reason"

/* Every statement the store runs, prepared on first use and kept until
 * close. Tasks and deliveries have their own files; their SQL is here so
 * that the whole vocabulary can be read at once. */
static const char *const store_sql[_STMT_MAX] = {
        [STMT_BEGIN]        = "BEGIN IMMEDIATE",
        [STMT_COMMIT]       = "COMMIT",
        [STMT_ROLLBACK]     = "ROLLBACK",
        [STMT_READ_BEGIN]   = "SAVEPOINT store_read",
        [STMT_READ_END]     = "RELEASE store_read",
        [STMT_STEP_BEGIN]   = "SAVEPOINT store_step",
        [STMT_STEP_END]     = "RELEASE store_step",
        [STMT_STEP_UNDO]    = "ROLLBACK TO store_step",
        [STMT_USER_VERSION] = "PRAGMA user_version",

        [STMT_DOCUMENT_UPSERT] =
                "INSERT INTO documents (number, subject, issued_on, issuer, signer, created_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5, CAST(strftime('%s', 'now') AS INTEGER)) "
                "ON CONFLICT (number) DO UPDATE SET subject = excluded.subject, "
                "issued_on = excluded.issued_on, issuer = excluded.issuer, "
                "signer = excluded.signer "
                "RETURNING id",
        [STMT_DOCUMENT_GET] =
                "SELECT id, number, subject, issued_on, issuer, signer FROM documents "
                "WHERE number = ?1",

        [STMT_TASK_INSERT] =
                "INSERT INTO tasks (id, document_id, ref, title, detail, due, due_at, status, "
                "recurrence, created_at, updated_at, closed_at, next_fire_at, fired_through, original_due, "
                "due_rule_days, due_rule_from) "
                "VALUES (" SQL_NEXT_ID("tasks", "task_id_used") ", ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9, ?10, ?11, ?9, ?12, "
                "?13, ?14)",
        [STMT_TASK_AGENCY_INSERT] =
                "INSERT INTO task_agencies (task_id, agency, role, position, notice_at) "
                "VALUES (?1, ?2, ?3, ?4, ?5)",
        [STMT_TASK_NOTICES_CLEAR] =
                "UPDATE task_agencies SET notice_at = NULL "
                "WHERE task_id = ?1 AND notice_at IS NOT NULL",
        [STMT_TASK_AGENCIES_DELETE] =
                "DELETE FROM task_agencies WHERE task_id = ?1",
        [STMT_TASK_FIND_REF] =
                "SELECT id FROM tasks WHERE document_id IS ?1 AND ref = ?2",
        [STMT_TASK_UPDATE] =
                "UPDATE tasks SET ref = ?2, title = ?3, detail = ?4, due = ?5, due_at = ?6, "
                "recurrence = ?7, updated_at = ?8, original_due = ?9, due_rule_days = ?10, due_rule_from = ?11, "
                "revision = revision + 1, "
                "next_fire_at = CASE WHEN status = 'open' THEN ?8 ELSE next_fire_at END, "
                "fired_through = CASE WHEN status = 'open' THEN ?8 ELSE fired_through END "
                "WHERE id = ?1",
        [STMT_TASK_GET] =
                "SELECT " SQL_TASK_COLUMNS " FROM tasks AS t "
                "LEFT JOIN documents AS d ON d.id = t.document_id WHERE t.id = ?1",
        [STMT_TASKS_GET] =
                "SELECT " SQL_TASK_COLUMNS " FROM tasks AS t "
                "LEFT JOIN documents AS d ON d.id = t.document_id "
                "WHERE t.id IN (SELECT value FROM json_each(?1)) ORDER BY t.id",
        [STMT_TASK_GET_AGENCIES] =
                "SELECT task_id, agency, role, notice_at FROM task_agencies WHERE task_id = ?1 "
                "ORDER BY position",
        [STMT_TASK_STATUS] =
                "SELECT status FROM tasks WHERE id = ?1",
        [STMT_TASK_CLOSE] =
                "UPDATE tasks SET status = ?2, closed_at = ?3, updated_at = ?3, revision = revision + 1, "
                "next_fire_at = NULL WHERE id = ?1",
        /* Reminders not sent yet that no longer have a reason: all of a
         * closed task's (?2 NULL), or those of a deadline since changed
         * (slot keys end in "@<due_at>"; a notice of an assignment,
         * "notice:<assigned_at>", tells of the deadline as it is then). */
        [STMT_DELIVERIES_DROP_STALE] =
                "DELETE FROM deliveries WHERE task_id = ?1 AND state = 'pending' "
                "AND (?2 IS NULL OR (slot NOT LIKE '%@' || ?2 AND slot NOT LIKE 'notice:%'))",
        [STMT_TASK_REOPEN] =
                "UPDATE tasks SET status = 'open', closed_at = NULL, updated_at = ?2, revision = revision + 1, "
                "next_fire_at = ?2, fired_through = ?2 WHERE id = ?1",
        /* The subquery picks the rows and sorts only their ids; sorting
         * whole rows made SQLite spill them to temporary files and took
         * three times as long for 100000 tasks. */
        [STMT_TASK_LIST] =
                "SELECT " SQL_TASK_COLUMNS " FROM (SELECT t.id FROM tasks AS t "
                SQL_TASK_FILTER ") AS k CROSS JOIN tasks AS t ON t.id = k.id "
                "LEFT JOIN documents AS d ON d.id = t.document_id",
        [STMT_TASK_AGENCIES_RANGE] =
                "SELECT task_id, agency, role, notice_at FROM task_agencies "
                "WHERE task_id BETWEEN ?1 AND ?2 ORDER BY task_id, position",
        [STMT_TASK_SET_SCHEDULE] =
                "UPDATE tasks SET next_fire_at = CASE WHEN status = 'open' THEN ?2 END, "
                "fired_through = ?3 WHERE id = ?1",
        [STMT_TASK_CHANGE_INSERT] =
                "INSERT INTO task_changes (task_id, at, field, old, new, source, note, actor, "
                "approved_by, reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        [STMT_TASK_CHANGES] =
                "SELECT " SQL_CHANGE_COLUMNS " FROM task_changes "
                "WHERE task_id = ?1 ORDER BY id",
        [STMT_TASK_CHANGE_LAST] =
                "SELECT " SQL_CHANGE_COLUMNS " FROM task_changes "
                "WHERE task_id = ?1 AND field = ?2 AND (?3 IS NULL OR source = ?3) "
                "ORDER BY id DESC LIMIT 1",
        [STMT_COMPLETION_INSERT] =
                "INSERT INTO completions (task_id, due, due_at, done_on, done_at, note, recorded_at, actor) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        [STMT_COMPLETIONS] =
                "SELECT id, task_id, due, due_at, done_on, done_at, note, recorded_at, actor, reopened_at "
                "FROM completions WHERE task_id = ?1 ORDER BY id",
        [STMT_COMPLETION_REOPENED] =
                "UPDATE completions SET reopened_at = ?2 WHERE id = (SELECT max(id) FROM completions "
                "WHERE task_id = ?1 AND reopened_at IS NULL)",
        /* A report's occurrences: completions not reopened, then open
         * tasks, each by the index on its deadline. An occurrence's
         * extensions are the approved deadline changes after the task's
         * previous completion that stands (a recurring task's earlier
         * occurrence), up to its own (or now, for an open task). */
        [STMT_TASK_OCCURRENCES] =
                "SELECT k.task_id, k.id, d.number, a.agency, k.due_at, k.done_at, "
                "(SELECT count(*) FROM task_changes AS c WHERE c.task_id = k.task_id AND c.field = 'due' "
                "AND c.approved_by IS NOT NULL AND c.at <= k.recorded_at AND c.at > coalesce("
                "(SELECT max(p.recorded_at) FROM completions AS p WHERE p.task_id = k.task_id "
                "AND p.id < k.id AND p.reopened_at IS NULL), -9223372036854775807)) "
                "FROM completions AS k INDEXED BY completions_due "
                "JOIN tasks AS t ON t.id = k.task_id "
                "JOIN task_agencies AS a ON a.task_id = k.task_id AND a.role = 'lead' "
                "LEFT JOIN documents AS d ON d.id = t.document_id "
                "WHERE k.reopened_at IS NULL AND k.due_at BETWEEN ?1 AND ?2 AND t.status <> 'cancelled' "
                "AND (?3 IS NULL OR t.document_id = ?3) AND (?4 IS NULL OR a.agency = ?4) "
                "UNION ALL "
                "SELECT t.id, 0, d.number, a.agency, t.due_at, NULL, "
                "(SELECT count(*) FROM task_changes AS c WHERE c.task_id = t.id AND c.field = 'due' "
                "AND c.approved_by IS NOT NULL AND c.at > coalesce("
                "(SELECT max(p.recorded_at) FROM completions AS p WHERE p.task_id = t.id "
                "AND p.reopened_at IS NULL), -9223372036854775807)) "
                "FROM tasks AS t INDEXED BY tasks_status_due "
                "JOIN task_agencies AS a ON a.task_id = t.id AND a.role = 'lead' "
                "LEFT JOIN documents AS d ON d.id = t.document_id "
                "WHERE t.status = 'open' AND t.due_at BETWEEN ?1 AND ?2 "
                "AND (?3 IS NULL OR t.document_id = ?3) AND (?4 IS NULL OR a.agency = ?4)",
        [STMT_NEXT_FIRE]          = SQL_NEXT_FIRE,
        [STMT_TASKS_DUE]          = SQL_TASKS_DUE,

        /* A pending delivery inserted without next_attempt_at is due when
         * it was created, or it would never come due. ON CONFLICT applies
         * to the keys alone (task, slot, agency, channel; or slot, agency,
         * channel for a delivery about no one task, whose task_id is NULL),
         * where INSERT OR IGNORE would also swallow a NOT NULL or CHECK
         * violation. */
        [STMT_DELIVERY_INSERT] =
                "INSERT INTO deliveries (id, task_id, slot, slot_at, agency, role, channel, state, "
                "attempts, next_attempt_at, last_error, created_at) "
                "VALUES (" SQL_NEXT_ID("deliveries", "delivery_id_used") ", ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, "
                "coalesce(?9, CASE WHEN ?7 = 'pending' "
                "THEN coalesce(?11, CAST(strftime('%s', 'now') AS INTEGER)) END), "
                "?10, coalesce(?11, CAST(strftime('%s', 'now') AS INTEGER))) "
                "ON CONFLICT DO NOTHING",
        [STMT_DELIVERY_FIND] =
                "SELECT id FROM deliveries "
                "WHERE task_id IS ?1 AND slot = ?2 AND agency = ?3 AND channel = ?4",
        [STMT_DELIVERIES_DUE] = SQL_DELIVERIES_DUE,
        [STMT_NEXT_DELIVERY]  = SQL_NEXT_DELIVERY,
        [STMT_DELIVERY_STATE] =
                "SELECT state FROM deliveries WHERE id = ?1",
        [STMT_DELIVERY_PENDING] =
                "UPDATE deliveries SET state = 'pending', next_attempt_at = ?2, last_error = ?3 "
                "WHERE id = ?1",
        [STMT_DELIVERY_ATTEMPTING] =
                "UPDATE deliveries SET state = 'attempting', attempts = attempts + 1, "
                "first_attempt_at = coalesce(first_attempt_at, ?2) "
                "WHERE id = ?1 AND state = 'pending'",
        [STMT_DELIVERY_SENT] =
                "UPDATE deliveries SET state = 'sent', sent_at = ?2, next_attempt_at = NULL, "
                "last_error = ?3 WHERE id = ?1",
        [STMT_DELIVERY_FAILED] =
                "UPDATE deliveries SET state = 'failed', next_attempt_at = NULL, last_error = ?2 "
                "WHERE id = ?1",
        /* The same for a batch: ?1 is a JSON array of ids. */
        [STMT_DELIVERIES_ATTEMPTING] =
                "UPDATE deliveries SET state = 'attempting', attempts = attempts + 1, "
                "first_attempt_at = coalesce(first_attempt_at, ?2) "
                "WHERE state = 'pending' AND id IN (SELECT value FROM json_each(?1))",
        /* A claimed delivery that never went out goes back as it was: its
         * attempt uncounted, due when it was due, its age not started if
         * this was to be its first attempt. (The right-hand sides read the
         * row as it was.) */
        [STMT_DELIVERY_PUT_BACK] =
                "UPDATE deliveries SET state = 'pending', attempts = max(attempts - 1, 0), "
                "next_attempt_at = ?2, "
                "first_attempt_at = CASE WHEN attempts <= 1 THEN NULL ELSE first_attempt_at END "
                "WHERE id = ?1 AND state = 'attempting'",
        [STMT_DELIVERIES_SENT] =
                "UPDATE deliveries SET state = 'sent', sent_at = ?2, next_attempt_at = NULL, "
                "last_error = NULL WHERE id IN (SELECT value FROM json_each(?1))",
        [STMT_DELIVERY_DELIVERED_TO] =
                "UPDATE deliveries SET delivered_to = ?2 WHERE id = ?1",
        /* ?1: the clock's step back (negative seconds), ?2: now, after it.
         * Retry times still ahead were worked out as the old now plus a
         * back-off: moved by the step, each wait is its back-off again.
         * Deliveries never tried are due since they were decided. */
        [STMT_DELIVERIES_CLOCK_STEP] =
                "UPDATE deliveries SET next_attempt_at = MAX(next_attempt_at + ?1, ?2) "
                "WHERE state = 'pending' AND next_attempt_at > ?2 AND attempts > 0",
        [STMT_DELIVERIES_RESET] =
                "UPDATE deliveries SET state = 'pending', next_attempt_at = ?1 "
                "WHERE state = 'attempting'",
        [STMT_DELIVERY_LIST_TASK] =
                "SELECT " SQL_DELIVERY_COLUMNS " FROM deliveries WHERE task_id = ?1 "
                "ORDER BY slot_at, id",
        [STMT_DELIVERY_COUNTS] =
                "SELECT state, count(*) FROM deliveries GROUP BY state",
        [STMT_DELIVERIES_TROUBLE] =
                "SELECT " SQL_DELIVERY_COLUMNS " FROM deliveries "
                "WHERE state = 'failed' OR (state = 'pending' AND last_error IS NOT NULL) "
                "ORDER BY id DESC LIMIT ?1",
        [STMT_DELIVERIES_RECENT] =
                "SELECT " SQL_DELIVERY_COLUMNS " FROM deliveries ORDER BY id DESC LIMIT ?1",

        [STMT_TASKS_RESCHEDULE] =
                "UPDATE tasks SET next_fire_at = ?1 WHERE id IN "
                "(SELECT id FROM tasks NOT INDEXED WHERE status = 'open' AND id > ?2 ORDER BY id LIMIT ?3) "
                "RETURNING id",
        [STMT_META_GET]     = "SELECT value FROM meta WHERE key = ?1",
        [STMT_META_SET]     = "INSERT INTO meta (key, value) VALUES (?1, ?2) "
                              "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [STMT_DATA_VERSION] = "PRAGMA data_version",
        [STMT_AGENCY_IDS]   = "SELECT DISTINCT a.agency FROM task_agencies AS a "
                              "JOIN tasks AS t ON t.id = a.task_id WHERE t.status = 'open' ORDER BY a.agency",

        /* An operator's tools. A failed delivery is put back only while it
         * has a reason to go: its task open and, for a reminder, its slot of
         * the current deadline (as STMT_DELIVERIES_DROP_STALE keeps pending
         * ones); a notice while its task is open; a delivery about no one
         * task (a report) always.
         * ?1 delivery, ?2 task, ?3 a JSON array of agencies (NULL: any),
         * ?4 now, ?5 the operator. */
        [STMT_DELIVERY_GET] =
                "SELECT " SQL_DELIVERY_COLUMNS " FROM deliveries WHERE id = ?1",
        [STMT_DELIVERIES_RETRY] =
                "UPDATE deliveries SET state = 'pending', next_attempt_at = ?4, attempts = 0, "
                "first_attempt_at = NULL, retried_at = ?4, retried_by = ?5, retries = retries + 1 "
                "WHERE state = 'failed' AND (?1 IS NULL OR id = ?1) AND (?2 IS NULL OR task_id = ?2) "
                "AND (?3 IS NULL OR agency IN (SELECT value FROM json_each(?3))) "
                "AND (deliveries.task_id IS NULL OR EXISTS (SELECT 1 FROM tasks AS t "
                "WHERE t.id = deliveries.task_id AND t.status = 'open' "
                "AND (deliveries.slot LIKE 'notice:%' OR (t.due_at IS NOT NULL "
                "AND (deliveries.slot LIKE '%@' || t.due_at "
                "OR (deliveries.slot LIKE 'overdue:%' AND deliveries.slot_at > t.due_at)))))) "
                "RETURNING id",
        /* The task's agencies, deliveries, changes and completions go with
         * it (ON DELETE CASCADE). */
        [STMT_TASK_DELETE] = "DELETE FROM tasks WHERE id = ?1",
        [STMT_IDS_USED] =
                "INSERT INTO meta (key, value) VALUES "
                "('task_id_used', (SELECT coalesce(max(id), 0) FROM tasks)), "
                "('delivery_id_used', (SELECT coalesce(max(id), 0) FROM deliveries)) "
                "ON CONFLICT (key) DO UPDATE SET value = "
                "max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",

        /* The inbox. A message already read, under either key, is left
         * as it was (ON CONFLICT DO NOTHING covers both). */
        [STMT_INBOX_ADD] =
                "INSERT INTO inbox_messages (uidvalidity, uid, message_id, sender, subject, received_at, sent_at, "
                "task_id, agency, intent, asked_day, evidence, text, state, note) "
                "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) "
                "ON CONFLICT DO NOTHING RETURNING id",
        [STMT_INBOX_LAST_UID] =
                "SELECT coalesce(max(uid), 0) FROM inbox_messages WHERE uidvalidity = ?1",
        [STMT_INBOX_GET] =
                "SELECT " SQL_INBOX_COLUMNS " FROM inbox_messages WHERE id = ?1",
        [STMT_INBOX_OPEN] =
                "SELECT " SQL_INBOX_COLUMNS " FROM inbox_messages "
                "WHERE state IN ('pending', 'unassigned') ORDER BY id",
        [STMT_INBOX_TASK] =
                "SELECT " SQL_INBOX_COLUMNS " FROM inbox_messages WHERE task_id = ?1 ORDER BY id",
        [STMT_INBOX_AGENCY_WAITING] =
                "SELECT EXISTS (SELECT 1 FROM inbox_messages "
                "WHERE state = 'pending' AND agency = ?1 AND intent = 'done')",
        [STMT_INBOX_DECIDE] =
                "UPDATE inbox_messages SET state = ?2, task_id = coalesce(?3, task_id), decided_by = ?4, "
                "decided_at = ?5, reason = ?6 WHERE id = ?1 AND state IN ('pending', 'unassigned') "
                "RETURNING id",
        [STMT_INBOX_REPORTS_WAITING] =
                "SELECT task_id, agency, received_at FROM inbox_messages "
                "WHERE state = 'pending' AND intent = 'done' AND task_id IS NOT NULL AND agency IS NOT NULL "
                "ORDER BY task_id, agency",
};

int store_error(struct store *s, int rc) {
        snprintf(s->error, sizeof s->error, "%s", sqlite3_errmsg(s->db));

        switch (rc) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
                return -EEXIST;
        case SQLITE_TOOBIG:
                return -E2BIG;
        }
        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_CONSTRAINT:
        case SQLITE_RANGE:
        case SQLITE_MISMATCH:
                return -EINVAL;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_FULL:
                return -ENOSPC;
        case SQLITE_NOTADB:
        case SQLITE_CORRUPT:
                return -EBADMSG;
        }
        /* What the operating system said is the better account: a full
         * disk reaches SQLite as a failed write or a -shm that cannot grow
         * (SQLITE_IOERR_*), a folder without write permission as a database
         * that cannot be written (SQLITE_READONLY_*) or opened. */
        int e = sqlite3_system_errno(s->db);
        switch (rc & 0xff) {
        case SQLITE_READONLY:
                /* A write through a read-only open is the caller's own
                 * doing; otherwise the file or its folder is not ours to
                 * write. */
                return (s->flags & STORE_READONLY) || e == EROFS ? -EROFS : -EACCES;
        case SQLITE_CANTOPEN:
        case SQLITE_IOERR:
                if (e == ENOSPC || e == EDQUOT)
                        return -ENOSPC;
                if (e == EACCES || e == EPERM || e == EROFS)
                        return -e;
                return (rc & 0xff) == SQLITE_CANTOPEN && e > 0 ? -e : -EIO;
        default:
                return -EIO;
        }
}

void store_set_error(struct store *s, const char *format, ...) {
        va_list ap;

        va_start(ap, format);
        vsnprintf(s->error, sizeof s->error, format, ap);
        va_end(ap);
}

const char *sqlite_last_error(const struct store *s) {
        return s->error;
}

int store_statement(struct store *s, enum store_statement id, sqlite3_stmt **ret) {
        sqlite3_stmt *st = s->stmts[id];

        if (!st) {
                int rc = sqlite3_prepare_v3(s->db, store_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                            &st, NULL);
                if (rc != SQLITE_OK)
                        return store_error(s, rc);
                s->stmts[id] = st;
        } else {
                (void) sqlite3_reset(st);
                (void) sqlite3_clear_bindings(st);
        }
        *ret = st;
        return 0;
}

int store_step(struct store *s, sqlite3_stmt *st) {
        int rc = sqlite3_step(st);

        if (rc == SQLITE_ROW)
                return 1;
        if (rc == SQLITE_DONE)
                return 0;
        return store_error(s, rc);
}

int store_read_rows(struct store *s, sqlite3_stmt *st, void **items, size_t *n, size_t size,
                    int (*from_row)(sqlite3_stmt *st, void *item)) {
        size_t allocated = *n;

        for (;;) {
                int r = store_step(s, st);
                if (r <= 0)
                        return r;
                if (*n == allocated) {
                        size_t m = MAX(allocated * 2, (size_t) 16);
                        void *p = reallocarray(*items, m, size);
                        if (!p)
                                return -ENOMEM;
                        *items = p;
                        allocated = m;
                }
                r = from_row(st, (char *) *items + *n * size);
                if (r < 0)
                        return r;
                (*n)++;
        }
}

int store_run(struct store *s, sqlite3_stmt *st) {
        int r = store_step(s, st);
        return r > 0 ? 0 : r;
}

static int store_run_statement(struct store *s, enum store_statement id) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        r = store_statement(s, id, &st);
        if (r < 0)
                return r;
        return store_run(s, st);
}

int store_read_begin(struct store *s) {
        return store_run_statement(s, STMT_READ_BEGIN);
}

void store_read_end(struct store *s) {
        /* Releasing a savepoint that only read cannot fail for want of a
         * lock, and a failure here would leave nothing to undo. */
        (void) store_run_statement(s, STMT_READ_END);
}

int store_bind_text(sqlite3_stmt *st, int i, const char *v) {
        return v ? sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

int store_bind_time(sqlite3_stmt *st, int i, int64_t v) {
        return v != NO_TIME ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
}

int store_bind_id(sqlite3_stmt *st, int i, int64_t v) {
        return v != 0 ? sqlite3_bind_int64(st, i, v) : sqlite3_bind_null(st, i);
}

int store_bind_limit(sqlite3_stmt *st, int i, size_t limit) {
        /* A negative LIMIT is no limit in SQLite. */
        return sqlite3_bind_int64(st, i, limit == 0 || limit > INT64_MAX ? -1 : (int64_t) limit);
}

int64_t store_column_time(sqlite3_stmt *st, int i) {
        return sqlite3_column_type(st, i) == SQLITE_NULL ? NO_TIME : sqlite3_column_int64(st, i);
}

int store_column_strdup(sqlite3_stmt *st, int i, char **ret) {
        const unsigned char *v = sqlite3_column_text(st, i);
        char *p = NULL;

        if (v) {
                p = strdup((const char *) v);
                if (!p)
                        return -ENOMEM;
        } else if (sqlite3_column_type(st, i) != SQLITE_NULL)
                return -ENOMEM; /* the conversion to text failed */
        *ret = p;
        return 0;
}

/* Runs a PRAGMA that returns one value, as text, into buf. */
static int store_pragma(struct store *s, const char *sql, char *buf, size_t size) {
        sqlite3_stmt *st = NULL;
        int rc, r = 0;

        rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK)
                return store_error(s, rc);
        rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
                snprintf(buf, size, "%s", strempty((const char *) sqlite3_column_text(st, 0)));
        else if (rc == SQLITE_DONE)
                buf[0] = 0;
        else
                r = store_error(s, rc);
        (void) sqlite3_finalize(st);
        return r;
}

int store_query_value(struct store *s, enum store_statement id, int64_t *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        r = store_statement(s, id, &st);
        if (r < 0)
                return r;
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -EIO;
        *ret = store_column_time(st, 0);
        return 0;
}

int sqlite_schema_version(struct store *s) {
        int64_t v;
        int r = store_query_value(s, STMT_USER_VERSION, &v);

        return r < 0 ? r : (int) v;
}

int sqlite_data_version(struct store *s, uint64_t *ret) {
        int64_t v;
        int r = store_query_value(s, STMT_DATA_VERSION, &v);

        if (r < 0)
                return r;
        *ret = (uint64_t) v;
        return 0;
}

int sqlite_agency_ids(struct store *s, char ***ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        char **l = calloc(1, sizeof *l);
        int r;

        if (!l)
                return -ENOMEM;
        r = store_statement(s, STMT_AGENCY_IDS, &st);
        while (r >= 0 && (r = store_step(s, st)) > 0) {
                const char *id = (const char *) sqlite3_column_text(st, 0);
                if (id && strv_push(&l, id) < 0)
                        r = -ENOMEM;
        }
        if (r < 0) {
                strv_free(l);
                return r;
        }
        *ret = l;
        return (int) strv_length(l);
}

int sqlite_meta_get(struct store *s, const char *key, char **ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        r = store_statement(s, STMT_META_GET, &st);
        if (r < 0)
                return r;
        if (store_bind_text(st, 1, key) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;
        return store_column_strdup(st, 0, ret);
}

int sqlite_meta_set(struct store *s, const char *key, const char *value) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        r = store_statement(s, STMT_META_SET, &st);
        if (r < 0)
                return r;
        if (store_bind_text(st, 1, key) != SQLITE_OK || store_bind_text(st, 2, value) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        return store_run(s, st);
}

int sqlite_set_busy_timeout(struct store *s, int ms) {
        int rc = sqlite3_busy_timeout(s->db, ms);
        return rc == SQLITE_OK ? 0 : store_error(s, rc);
}

/* A dry run's connection never commits: should its outer transaction
 * end early (SQLite rolls back on some errors), a later savepoint would
 * start a real transaction, and its release would commit. */
static int refuse_commit(void *userdata) {
        return 1;
}

/* STORE_DRY: one transaction around everything, never committed. The
 * write lock is taken at once rather than at the first write, so that a
 * busy database is reported before any work, and the work sees one
 * snapshot. */
static int store_dry_setup(struct store *s) {
        int r;

        sqlite3_commit_hook(s->db, refuse_commit, NULL);
        /* Closing the last connection would checkpoint the WAL into the
         * database file: the same content, but a file written to. */
        (void) sqlite3_db_config(s->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        r = store_run_statement(s, STMT_BEGIN);
        if (r < 0)
                return r;
        s->dry_open = true;
        return 0;
}

/* STORE_DRY: whether the outer transaction still holds. */
static int store_dry_check(struct store *s) {
        if (!s->dry_open || !sqlite3_get_autocommit(s->db))
                return 0;
        store_set_error(s, "the dry run's transaction was rolled back by SQLite; stopping");
        return -EIO;
}

/* Sets up the connection: everything that must precede migration. The
 * schema version is read before anything is written, so that a database we
 * refuse (newer, or not a database at all) is left exactly as it was;
 * switching to WAL would rewrite its header. */
static int store_setup(struct store *s) {
        char buf[32];
        int r, version;

        (void) sqlite3_extended_result_codes(s->db, 1);
        r = sqlite_set_busy_timeout(s, s->flags & STORE_NOWAIT ? STORE_NOWAIT_BUSY_MS : STORE_BUSY_MS);
        if (r < 0)
                return r;

        version = sqlite_schema_version(s);
        if (version < 0)
                return version;
        if (version > STORE_SCHEMA_VERSION) {
                store_set_error(s, "schema %d, this one knows %d", version, STORE_SCHEMA_VERSION);
                return -EPROTONOSUPPORT;
        }

        if (!(s->flags & (STORE_READONLY | STORE_DRY))) {
                r = store_pragma(s, "PRAGMA journal_mode = WAL", buf, sizeof buf);
                if (r < 0)
                        return r;
                /* An in-memory database reports "memory" and has no WAL;
                 * anything else means this file system cannot do WAL. */
                if (!streq(buf, "wal") && !streq(buf, "memory")) {
                        store_set_error(s, "cannot use WAL journal mode (got \"%s\")", buf);
                        return -EIO;
                }
                r = store_pragma(s, "PRAGMA synchronous = FULL", buf, sizeof buf);
                if (r < 0)
                        return r;
        }
        r = store_pragma(s, "PRAGMA foreign_keys = ON", buf, sizeof buf);
        if (r < 0)
                return r;
        if (s->flags & STORE_DRY) {
                r = store_dry_setup(s);
                if (r < 0)
                        return r;
        }

        r = store_migrate(s);
        if (r < 0)
                return r;
        return store_instance_setup(s);
}

/* The database is shared by the daemon and the people who run deadlinectl
 * (root, or members of the daemon's group), in a setgid folder that gives
 * every file the daemon's group. SQLite creates files 0644 less the umask,
 * which would lock out whoever did not create it; and it gives -wal and
 * -shm the database's own mode. So in a setgid folder the database is
 * created group-writable, whatever the umask. Elsewhere the umask rules. */
static int create_shared(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        struct stat st;

        if (!copy)
                return -ENOMEM;
        if (stat(dirname(copy), &st) < 0 || !(st.st_mode & S_ISGID))
                return 0;
        _cleanup_close_ int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0660);
        if (fd < 0)
                return errno == EEXIST ? 0 : -errno;
        return fchmod(fd, 0660) < 0 ? -errno : 0;
}

/* SQLite's memory statistics take a global mutex on every allocation, a
 * few dozen per statement; nothing here reads them. Set before SQLite
 * starts (the first open), and left alone if something started it first. */
static void sqlite_configure(void) {
        (void) sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

int sqlite_open(const char *path, int flags, struct store **ret) {
        static pthread_once_t configured = PTHREAD_ONCE_INIT;
        _cleanup_(store_closep) struct store *s = NULL;
        int oflags, rc, r;

        if (!path || !ret)
                return -EINVAL;
        (void) pthread_once(&configured, sqlite_configure);
        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->ops = &sqlite_ops;
        s->flags = flags;

        if (flags & STORE_CREATE) {
                r = create_shared(path);
                if (r < 0)
                        return r;
        }
        if (flags & STORE_READONLY)
                oflags = SQLITE_OPEN_READONLY;
        else if (flags & STORE_CREATE)
                oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        else
                oflags = SQLITE_OPEN_READWRITE;
        /* A connection is used by one thread at a time (the loop's, or a
         * store thread's own), so it needs no mutex of its own around every
         * call. */
        oflags |= SQLITE_OPEN_EXRESCODE | SQLITE_OPEN_NOMUTEX;

        rc = sqlite3_open_v2(path, &s->db, oflags, NULL);
        if (!s->db)
                return -ENOMEM;
        if (rc != SQLITE_OK)
                r = store_error(s, rc);
        else
                r = store_setup(s);
        if (r < 0) {
                store_open_error_set(s->error);
                return r;
        }

        *ret = TAKE_PTR(s);
        return 0;
}

struct store *sqlite_close(struct store *s) {
        if (!s)
                return NULL;
        for (size_t i = 0; i < _STMT_MAX; i++)
                (void) sqlite3_finalize(s->stmts[i]);
        /* With every statement finalized close cannot fail for being busy; an
         * open transaction is rolled back (a dry run's among them). */
        (void) sqlite3_close(s->db);
        free(s);
        return NULL;
}

int sqlite_begin(struct store *s) {
        int r;

        if (!s->dry_open)
                return store_run_statement(s, STMT_BEGIN);
        r = store_dry_check(s);
        if (r >= 0)
                r = store_run_statement(s, STMT_STEP_BEGIN);
        if (r >= 0)
                s->steps++;
        return r;
}

int sqlite_commit(struct store *s) {
        int r;

        if (!s->dry_open)
                return store_run_statement(s, STMT_COMMIT);
        r = store_dry_check(s);
        if (r >= 0 && s->steps == 0)
                r = -EINVAL;
        if (r >= 0)
                r = store_run_statement(s, STMT_STEP_END);
        if (r >= 0)
                s->steps--;
        return r;
}

int sqlite_rollback(struct store *s) {
        int r;

        if (!s->dry_open) {
                if (sqlite3_get_autocommit(s->db))
                        return 0;
                return store_run_statement(s, STMT_ROLLBACK);
        }
        if (s->steps == 0 || sqlite3_get_autocommit(s->db))
                return 0;
        /* ROLLBACK TO undoes the step and leaves its savepoint open. */
        r = store_run_statement(s, STMT_STEP_UNDO);
        if (r >= 0)
                r = store_run_statement(s, STMT_STEP_END);
        if (r >= 0)
                s->steps--;
        return r;
}

int sqlite_document_upsert(struct store *s, struct document *d) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!d || !d->number)
                return -EINVAL;

        r = store_statement(s, STMT_DOCUMENT_UPSERT, &st);
        if (r < 0)
                return r;
        if (store_bind_text(st, 1, d->number) != SQLITE_OK ||
            store_bind_text(st, 2, d->subject) != SQLITE_OK ||
            store_bind_text(st, 3, d->issued_on) != SQLITE_OK ||
            store_bind_text(st, 4, d->issuer) != SQLITE_OK ||
            store_bind_text(st, 5, d->signer) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -EIO;
        d->id = sqlite3_column_int64(st, 0);
        return store_run(s, st);
}

int sqlite_document_get(struct store *s, const char *number, struct document *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        _cleanup_(document_done) struct document d = {};
        int r;

        if (!number || !ret)
                return -EINVAL;

        r = store_statement(s, STMT_DOCUMENT_GET, &st);
        if (r < 0)
                return r;
        if (store_bind_text(st, 1, number) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_step(s, st);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENOENT;

        d.id = sqlite3_column_int64(st, 0);
        if (store_column_strdup(st, 1, &d.number) < 0 ||
            store_column_strdup(st, 2, &d.subject) < 0 ||
            store_column_strdup(st, 3, &d.issued_on) < 0 ||
            store_column_strdup(st, 4, &d.issuer) < 0 ||
            store_column_strdup(st, 5, &d.signer) < 0)
                return -ENOMEM;

        *ret = d;
        d = (struct document) {};
        return 0;
}

int store_ids_json(const int64_t *ids, size_t n, char **ret) {
        struct strbuf b = STRBUF_INIT(SIZE_MAX);

        strbuf_putc(&b, '[');
        for (size_t i = 0; i < n; i++)
                strbuf_printf(&b, i ? ",%lld" : "%lld", (long long) ids[i]);
        strbuf_putc(&b, ']');
        return strbuf_steal(&b, ret, NULL);
}

void store_json_escape(struct strbuf *b, const char *s) {
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if (*p == '"' || *p == '\\')
                        strbuf_printf(b, "\\%c", *p);
                else if (*p < 0x20)
                        strbuf_printf(b, "\\u%04x", *p);
                else
                        strbuf_putc(b, (char) *p);
}

const struct store_ops sqlite_ops = {
        .name = "sqlite",
        .close = sqlite_close,
        .last_error = sqlite_last_error,
        .schema_version = sqlite_schema_version,
        .set_busy_timeout = sqlite_set_busy_timeout,
        .begin = sqlite_begin,
        .commit = sqlite_commit,
        .rollback = sqlite_rollback,
        .document_upsert = sqlite_document_upsert,
        .document_get = sqlite_document_get,
        .task_add = sqlite_task_add,
        .task_find_ref = sqlite_task_find_ref,
        .task_update = sqlite_task_update,
        .task_get = sqlite_task_get,
        .task_notices_clear = sqlite_task_notices_clear,
        .tasks_get = sqlite_tasks_get,
        .task_set_status = sqlite_task_set_status,
        .task_change_add = sqlite_task_change_add,
        .task_changes = sqlite_task_changes,
        .task_change_last = sqlite_task_change_last,
        .task_completion_add = sqlite_task_completion_add,
        .task_completions = sqlite_task_completions,
        .task_completion_reopened = sqlite_task_completion_reopened,
        .task_list = sqlite_task_list,
        .task_set_schedule = sqlite_task_set_schedule,
        .tasks_set_schedule = sqlite_tasks_set_schedule,
        .tasks_reschedule = sqlite_tasks_reschedule,
        .task_occurrences = sqlite_task_occurrences,
        .agency_ids = sqlite_agency_ids,
        .meta_get = sqlite_meta_get,
        .meta_set = sqlite_meta_set,
        .instance_id = sqlite_instance_id,
        .instance_id_renew = sqlite_instance_id_renew,
        .data_version = sqlite_data_version,
        .next_fire = sqlite_next_fire,
        .tasks_due = sqlite_tasks_due,
        .delivery_insert = sqlite_delivery_insert,
        .deliveries_insert = sqlite_deliveries_insert,
        .deliveries_due = sqlite_deliveries_due,
        .next_delivery = sqlite_next_delivery,
        .delivery_set_state = sqlite_delivery_set_state,
        .deliveries_set_state = sqlite_deliveries_set_state,
        .delivery_put_back = sqlite_delivery_put_back,
        .delivery_set_delivered_to = sqlite_delivery_set_delivered_to,
        .deliveries_clock_stepped = sqlite_deliveries_clock_stepped,
        .deliveries_reset_attempting = sqlite_deliveries_reset_attempting,
        .delivery_list_for_task = sqlite_delivery_list_for_task,
        .deliveries_trouble = sqlite_deliveries_trouble,
        .deliveries_recent = sqlite_deliveries_recent,
        .delivery_get = sqlite_delivery_get,
        .deliveries_retry = sqlite_deliveries_retry,
        .task_delete = sqlite_task_delete,
        .delivery_counts = sqlite_delivery_counts,
        .inbox_add = sqlite_inbox_add,
        .inbox_last_uid = sqlite_inbox_last_uid,
        .inbox_get = sqlite_inbox_get,
        .inbox_list = sqlite_inbox_list,
        .inbox_agency_waiting = sqlite_inbox_agency_waiting,
        .inbox_decide = sqlite_inbox_decide,
        .inbox_reports_waiting = sqlite_inbox_reports_waiting,
        .rows_read = sqlite_rows_read,
};
