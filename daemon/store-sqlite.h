/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The SQLite backend of store.h, store-sqlite*.c: what its parts share and
 * nobody else sees, the connection, the statement table and the helpers
 * that bind and read columns. The unit tests include it too, to ask SQLite
 * how the scheduler's queries run. */

#include <sqlite3.h>

#include "store.h"
#include "store-backend.h"
#include "strbuf.h"

/* The scheduler's queries must stay indexed whatever the planner guesses
 * about the data: without statistics it prefers tasks(status, due_at), whose
 * cost grows with the number of open tasks. INDEXED BY pins the partial
 * indexes, and makes a schema without them an error rather than slow. */
#define SQL_NEXT_FIRE                                                           \
        "SELECT min(next_fire_at) FROM tasks INDEXED BY tasks_next_fire "       \
        "WHERE status = 'open' AND next_fire_at IS NOT NULL"

#define SQL_TASK_COLUMNS                                                        \
        "t.id, t.document_id, d.number, t.ref, t.title, t.detail, t.due, "      \
        "t.due_at, t.status, t.recurrence, t.created_at, t.updated_at, "        \
        "t.closed_at, t.next_fire_at, t.fired_through, t.original_due, t.revision, " \
        "t.due_rule_days, t.due_rule_from"

#define SQL_TASKS_DUE                                                           \
        "SELECT " SQL_TASK_COLUMNS " FROM tasks AS t INDEXED BY tasks_next_fire " \
        "LEFT JOIN documents AS d ON d.id = t.document_id "                     \
        "WHERE t.status = 'open' AND t.next_fire_at IS NOT NULL "               \
        "AND t.next_fire_at <= ?1 ORDER BY t.next_fire_at, t.id LIMIT ?2"

#define SQL_DELIVERY_COLUMNS                                                    \
        "id, task_id, slot, slot_at, agency, role, channel, state, attempts, "  \
        "next_attempt_at, last_error, created_at, sent_at, delivered_to, "     \
        "first_attempt_at, retried_at, retried_by, retries"

/* ?3: the receivers left out, a JSON array of "agency|channel" keys that
 * json_each() reads whole once (an agency id has no '|'), or NULL. */
#define SQL_DELIVERIES_DUE                                                      \
        "SELECT " SQL_DELIVERY_COLUMNS " FROM deliveries INDEXED BY deliveries_due " \
        "WHERE state = 'pending' AND next_attempt_at <= ?1 "                    \
        "AND (?3 IS NULL OR agency || '|' || channel NOT IN "                   \
        "(SELECT value FROM json_each(?3))) "                                   \
        "ORDER BY next_attempt_at, id LIMIT ?2"

#define SQL_NEXT_DELIVERY                                                       \
        "SELECT min(next_attempt_at) FROM deliveries INDEXED BY deliveries_due " \
        "WHERE state = 'pending' AND next_attempt_at IS NOT NULL"

enum store_statement {
        STMT_BEGIN,
        STMT_COMMIT,
        STMT_ROLLBACK,
        STMT_READ_BEGIN,
        STMT_READ_END,
        STMT_STEP_BEGIN,
        STMT_STEP_END,
        STMT_STEP_UNDO,
        STMT_USER_VERSION,

        STMT_DOCUMENT_UPSERT,
        STMT_DOCUMENT_GET,

        STMT_TASK_INSERT,
        STMT_TASK_AGENCY_INSERT,
        STMT_TASK_AGENCIES_DELETE,
        STMT_TASK_NOTICES_CLEAR,
        STMT_TASK_FIND_REF,
        STMT_TASK_UPDATE,
        STMT_TASK_GET,
        STMT_TASKS_GET,
        STMT_TASK_GET_AGENCIES,
        STMT_TASK_STATUS,
        STMT_TASK_CLOSE,
        STMT_DELIVERIES_DROP_STALE,
        STMT_TASK_REOPEN,
        STMT_TASK_LIST,
        STMT_TASK_AGENCIES_RANGE,
        STMT_TASK_SET_SCHEDULE,
        STMT_TASK_CHANGE_INSERT,
        STMT_TASK_CHANGES,
        STMT_TASK_CHANGE_LAST,
        STMT_COMPLETION_INSERT,
        STMT_COMPLETIONS,
        STMT_COMPLETION_REOPENED,
        STMT_TASK_OCCURRENCES,
        STMT_NEXT_FIRE,
        STMT_TASKS_DUE,

        STMT_DELIVERY_INSERT,
        STMT_DELIVERY_FIND,
        STMT_DELIVERIES_DUE,
        STMT_NEXT_DELIVERY,
        STMT_DELIVERY_STATE,
        STMT_DELIVERY_PENDING,
        STMT_DELIVERY_ATTEMPTING,
        STMT_DELIVERY_SENT,
        STMT_DELIVERY_FAILED,
        STMT_DELIVERIES_ATTEMPTING,
        STMT_DELIVERY_PUT_BACK,
        STMT_DELIVERIES_SENT,
        STMT_DELIVERY_DELIVERED_TO,
        STMT_DELIVERIES_CLOCK_STEP,
        STMT_DELIVERIES_RESET,
        STMT_DELIVERY_LIST_TASK,
        STMT_DELIVERY_COUNTS,
        STMT_DELIVERIES_TROUBLE,
        STMT_DELIVERIES_RECENT,

        STMT_TASKS_RESCHEDULE,
        STMT_META_GET,
        STMT_META_SET,
        STMT_DATA_VERSION,
        STMT_AGENCY_IDS,

        STMT_DELIVERY_GET,
        STMT_DELIVERIES_RETRY,
        STMT_TASK_DELETE,
        STMT_IDS_USED,

        STMT_INBOX_ADD,
        STMT_INBOX_LAST_UID,
        STMT_INBOX_GET,
        STMT_INBOX_OPEN,
        STMT_INBOX_TASK,
        STMT_INBOX_AGENCY_WAITING,
        STMT_INBOX_DECIDE,
        STMT_INBOX_REPORTS_WAITING,
        _STMT_MAX,
};

struct store {
        const struct store_ops *ops;  /* first: store-backend.h */
        sqlite3 *db;
        int flags;
        sqlite3_stmt *stmts[_STMT_MAX];
        char error[512];
        char instance_id[STORE_INSTANCE_ID_MAX];  /* "" until read or made */
        /* STORE_DRY: whether the outer transaction is open, and how many
         * store_begin()s are open inside it (as savepoints). */
        bool dry_open;
        unsigned steps;
};

/* The statement `id`, prepared on first use and reset with its bindings
 * cleared on every later one. Callers reset it when done (stmt_resetp), so
 * that no statement holds a read snapshot open between calls. */
int store_statement(struct store *s, enum store_statement id, sqlite3_stmt **ret);

/* Reads the database's instance id, and on an open for writing makes it
 * when the database has none (a new one, or one older than ids). */
int store_instance_setup(struct store *s);

static inline void stmt_resetp(sqlite3_stmt **st) {
        if (*st)
                (void) sqlite3_reset(*st);
}
#define _cleanup_reset_ _cleanup_(stmt_resetp)

/* Translates an SQLite result code to a negative errno and keeps SQLite's
 * message for store_last_error(). */
int store_error(struct store *s, int rc);
void store_set_error(struct store *s, const char *format, ...) _printf_(2, 3);

/* One step: 1 for a row, 0 when done, or a negative errno. */
int store_step(struct store *s, sqlite3_stmt *st);
/* Steps through a statement's rows into a growing array of `size`-byte
 * items, each filled by from_row(). *items and *n always describe what was
 * read, so the caller's list cleanup frees it after a failure too. */
int store_read_rows(struct store *s, sqlite3_stmt *st, void **items, size_t *n, size_t size,
                    int (*from_row)(sqlite3_stmt *st, void *item));
/* Steps a statement that returns no rows. */
int store_run(struct store *s, sqlite3_stmt *st);

/* Several reads that must see one snapshot run between these: a savepoint,
 * so that they work inside a caller's transaction and outside one. */
int store_read_begin(struct store *s);
void store_read_end(struct store *s);

int store_migrate(struct store *s);

/* NULL <-> SQL NULL for strings, NO_TIME <-> SQL NULL for instants, 0 <->
 * SQL NULL for optional row ids. Strings are bound SQLITE_STATIC: they must
 * outlive the step. */
int store_bind_text(sqlite3_stmt *st, int i, const char *v);
int store_bind_time(sqlite3_stmt *st, int i, int64_t v);
int store_bind_id(sqlite3_stmt *st, int i, int64_t v);
int store_bind_limit(sqlite3_stmt *st, int i, size_t limit);
int64_t store_column_time(sqlite3_stmt *st, int i);
/* The one value a statement without parameters gives (a PRAGMA, a min()),
 * read as store_column_time() reads it; -EIO if it gives no row. */
int store_query_value(struct store *s, enum store_statement id, int64_t *ret);
int store_column_strdup(sqlite3_stmt *st, int i, char **ret);

/* Lists reach a statement as one parameter, a JSON array that json_each()
 * reads: one prepared statement serves any number of items. store_ids_json()
 * makes one of integers; store_json_escape() appends a string's contents
 * to b, escaped to go between a JSON string's quotes. */
int store_ids_json(const int64_t *ids, size_t n, char **ret);
void store_json_escape(struct strbuf *b, const char *s);

/* The backend's side of store.h, in sqlite_ops (store-sqlite.c): each as
 * the store_* function of the same name. */
extern const struct store_ops sqlite_ops;
struct store *sqlite_close(struct store *s);
const char *sqlite_last_error(const struct store *s);
int sqlite_schema_version(struct store *s);
int sqlite_set_busy_timeout(struct store *s, int ms);
int sqlite_begin(struct store *s);
int sqlite_commit(struct store *s);
int sqlite_rollback(struct store *s);
int sqlite_document_upsert(struct store *s, struct document *d);
int sqlite_document_get(struct store *s, const char *number, struct document *ret);
int sqlite_task_add(struct store *s, struct task *t, int64_t now);
int sqlite_task_find_ref(struct store *s, int64_t document_id, const char *ref, int64_t *ret_id);
int sqlite_task_update(struct store *s, const struct task *t, int64_t now);
int sqlite_task_get(struct store *s, int64_t id, struct task *ret);
int sqlite_task_notices_clear(struct store *s, int64_t task_id);
int sqlite_tasks_get(struct store *s, const int64_t *ids, size_t n, struct task_list *ret);
int sqlite_task_set_status(struct store *s, int64_t id, enum task_status status, int64_t now);
int sqlite_task_change_add(struct store *s, struct task_change *c);
int sqlite_task_changes(struct store *s, int64_t task_id, struct task_change_list *ret);
int sqlite_task_change_last(struct store *s, int64_t task_id, enum task_field field, int source, struct task_change *ret);
int sqlite_task_completion_add(struct store *s, struct task_completion *c);
int sqlite_task_completions(struct store *s, int64_t task_id, struct task_completion_list *ret);
int sqlite_task_completion_reopened(struct store *s, int64_t task_id, int64_t now);
int sqlite_task_list(struct store *s, const struct task_filter *f, struct task_list *ret);
int sqlite_task_set_schedule(struct store *s, int64_t id, int64_t next_fire_at, int64_t fired_through);
int sqlite_tasks_set_schedule(struct store *s, const int64_t *ids, const int64_t *next_fire_at, size_t n,
                              int64_t fired_through);
int sqlite_tasks_reschedule(struct store *s, int64_t now, int64_t after_id, size_t limit, int64_t *ret_last_id);
int sqlite_task_occurrences(struct store *s, const struct occurrence_filter *f, struct task_occurrence_list *ret);
int sqlite_agency_ids(struct store *s, char ***ret);
int sqlite_meta_get(struct store *s, const char *key, char **ret);
int sqlite_meta_set(struct store *s, const char *key, const char *value);
const char *sqlite_instance_id(const struct store *s);
int sqlite_instance_id_renew(struct store *s);
int sqlite_data_version(struct store *s, uint64_t *ret);
int sqlite_next_fire(struct store *s, int64_t *ret);
int sqlite_tasks_due(struct store *s, int64_t now, size_t limit, struct task_list *ret);
int sqlite_delivery_insert(struct store *s, struct delivery *d);
int sqlite_deliveries_insert(struct store *s, const struct delivery *d, size_t n);
int sqlite_deliveries_due(struct store *s, int64_t now, const struct delivery_filter *f, struct delivery_list *ret);
int sqlite_next_delivery(struct store *s, int64_t *ret);
int sqlite_delivery_set_state(struct store *s, int64_t id, enum delivery_state state, int64_t next_attempt_at, const char *error, int64_t now);
int sqlite_deliveries_set_state(struct store *s, const int64_t *ids, size_t n, enum delivery_state state, int64_t now);
int sqlite_delivery_put_back(struct store *s, int64_t id, int64_t next_attempt_at);
int sqlite_delivery_set_delivered_to(struct store *s, int64_t id, const char *addresses);
int sqlite_deliveries_clock_stepped(struct store *s, int64_t step, int64_t now);
int sqlite_deliveries_reset_attempting(struct store *s, int64_t now);
int sqlite_delivery_list_for_task(struct store *s, int64_t task_id, struct delivery_list *ret);
int sqlite_deliveries_trouble(struct store *s, size_t limit, struct delivery_list *ret);
int sqlite_deliveries_recent(struct store *s, size_t limit, struct delivery_list *ret);
int sqlite_delivery_get(struct store *s, int64_t id, struct delivery *ret);
int sqlite_deliveries_retry(struct store *s, const struct delivery_retry_filter *f, const char *actor, int64_t now, int64_t **ret_ids);
int sqlite_task_delete(struct store *s, int64_t id);
int sqlite_delivery_counts(struct store *s, int64_t counts[static _DELIVERY_STATE_MAX]);
int sqlite_inbox_add(struct store *s, struct inbox_message *m);
int sqlite_inbox_last_uid(struct store *s, int64_t uidvalidity, int64_t *ret);
int sqlite_inbox_get(struct store *s, int64_t id, struct inbox_message *ret);
int sqlite_inbox_list(struct store *s, int64_t task_id, struct inbox_message_list *ret);
int sqlite_inbox_agency_waiting(struct store *s, const char *agency, bool *ret);
int sqlite_inbox_decide(struct store *s, int64_t id, enum inbox_state state, int64_t task_id, const char *by, int64_t at, const char *reason);
int sqlite_inbox_reports_waiting(struct store *s, struct inbox_wait_list *ret);

/* store-sqlite-copy.c: a table's rows for store_copy(). */
int sqlite_rows_read(struct store *s, const char *table, store_row_cb cb, void *userdata);
