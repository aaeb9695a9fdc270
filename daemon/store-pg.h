/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The PostgreSQL backend of store.h, store-pg*.c: what its parts share and
 * nobody else sees. One libpq connection per store, blocking calls bounded
 * by timeouts (connect_timeout, statement_timeout, tcp_user_timeout), every
 * statement prepared once per connection from the table in store-pg.c and
 * run with its values bound as parameters (text format). */

#include <libpq-fe.h>

#include "store.h"
#include "store-backend.h"

/* How long a claim is held: a delivery marked attempting with a lease that
 * ran out (its daemon died or lost the database) may be claimed again. A
 * sender finishes or gives back a claim well within it: the SMTP and
 * webhook timeouts are shorter; a daemon renews nothing, it settles. */
#define PG_LEASE_SECONDS 300

/* A call is never held longer than this by a lost or stuck server. */
#define PG_CONNECT_TIMEOUT_S "5"
#define PG_STATEMENT_TIMEOUT_MS 5000
#define PG_TCP_USER_TIMEOUT_MS "5000"

/* The advisory lock keys of deadlined (the migration's is 7432001, in
 * store-pg-schema.c): who decides. */
#define PG_DECIDE_LOCK_KEY "7432002"
/* The LISTEN/NOTIFY channel of changes. */
#define PG_CHANNEL "deadlined"

enum pg_statement {
        PG_BEGIN,
        PG_COMMIT,
        PG_ROLLBACK,
        PG_SCHEMA_VERSION,

        PG_META_GET,
        PG_META_SET,

        PG_DOCUMENT_UPSERT,
        PG_DOCUMENT_GET,

        PG_TASK_INSERT,
        PG_TASK_AGENCY_INSERT,
        PG_TASK_GET,
        PG_TASK_GET_AGENCIES,
        PG_TASK_STATUS,
        PG_TASK_CLOSE,
        PG_TASK_REOPEN,
        PG_DELIVERIES_DROP_STALE,
        PG_TASK_LIST,
        PG_TASK_SET_SCHEDULE,
        PG_TASKS_SET_SCHEDULE,
        PG_NEXT_FIRE,
        PG_TASKS_DUE,
        PG_AGENCY_IDS,

        PG_DELIVERY_INSERT,
        PG_DELIVERIES_INSERT,
        PG_DELIVERY_FIND,
        PG_DELIVERIES_DUE,
        PG_NEXT_DELIVERY,
        PG_DELIVERY_STATE,
        PG_DELIVERY_PENDING,
        PG_DELIVERY_ATTEMPTING,
        PG_DELIVERY_SENT,
        PG_DELIVERY_FAILED,
        PG_DELIVERIES_ATTEMPTING,
        PG_DELIVERIES_SENT,
        PG_DELIVERIES_RESET,
        PG_DELIVERY_COUNTS,
        PG_DELIVERY_GET,
        PG_DELIVERY_LIST_TASK,
        PG_DELIVERIES_TROUBLE,
        PG_DELIVERIES_RECENT,
        PG_DELIVERY_PUT_BACK,
        PG_DELIVERY_DELIVERED_TO,
        PG_DELIVERIES_CLOCK_STEP,

        PG_TASK_FIND_REF,
        PG_TASK_NOTICES_CLEAR,
        PG_TASK_CHANGE_INSERT,
        PG_TASK_CHANGES,
        PG_TASK_CHANGE_LAST,
        PG_COMPLETION_INSERT,
        PG_COMPLETIONS,
        PG_COMPLETION_REOPENED,
        PG_TASK_UPDATE,
        PG_TASK_AGENCIES_DELETE,
        PG_TASKS_GET,
        PG_TASK_DELETE,
        PG_TASKS_RESCHEDULE,
        PG_TASK_OCCURRENCES,
        PG_DELIVERIES_RETRY,

        PG_INBOX_ADD,
        PG_INBOX_LAST_UID,
        PG_INBOX_GET,
        PG_INBOX_OPEN,
        PG_INBOX_TASK,
        PG_INBOX_AGENCY_WAITING,
        PG_INBOX_DECIDE,
        PG_INBOX_REPORTS_WAITING,

        PG_DECIDE_LOCK,
        _PG_STATEMENT_MAX,
};

struct store {
        const struct store_ops *ops;  /* first: store-backend.h */
        PGconn *conn;
        int flags;
        bool prepared[_PG_STATEMENT_MAX];
        /* Who holds a claim: "<host>:<pid>" (claimed_by). */
        char claimer[128];
        char error[512];
        char instance_id[STORE_INSTANCE_ID_MAX];
        /* STORE_DRY: the outer transaction is open, with this many
         * store_begin()s inside it as savepoints. */
        bool dry_open;
        unsigned steps;
        /* This transaction changed tasks or the outbox: store_commit()
         * notifies the listeners (store-pg-cluster.c). */
        bool notify;
        bool listening;
        /* store_copy(): the table whose insert is prepared (unnamed). */
        char copy_table[64];
        /* A lost connection is made again at the next call (pg_reconnect()),
         * with these settings; change_consume() then says -ESTALE once. */
        int busy_ms;
        bool reconnected;
};

#define PG_ARGS_MAX 16

/* A statement's parameters, as text: NULL is SQL NULL. */
struct pg_args {
        int n;
        const char *v[PG_ARGS_MAX];
        char buf[PG_ARGS_MAX][24];
};

void pg_arg_text(struct pg_args *a, const char *v);
void pg_arg_int(struct pg_args *a, int64_t v);
void pg_arg_time(struct pg_args *a, int64_t v);  /* NO_TIME: NULL */
void pg_arg_id(struct pg_args *a, int64_t v);    /* 0: NULL */

/* Runs statement `id` (prepared on its first use on this connection) and
 * gives its result, or a negative errno with the server's message kept. */
int pg_query(struct store *s, enum pg_statement id, const struct pg_args *a, PGresult **ret);
/* Runs statement `id` and reads its rows into *items, an array of
 * elements of `size` bytes, zeroed, which from_row() fills from row i. An
 * element counts in *n before it is filled, so the list's destructor
 * frees what a failing from_row() left. Returns the number of rows. The
 * twin of store-sqlite.c's store_read_rows(). */
int pg_read_rows(struct store *s, enum pg_statement id, const struct pg_args *a, void **items, size_t *n,
                 size_t size, int (*from_row)(const PGresult *res, int i, void *item));
/* Runs a statement that returns no rows; the number of rows it changed. */
int pg_run(struct store *s, enum pg_statement id, const struct pg_args *a);
/* Runs SQL without parameters (schema steps, SET). */
int pg_exec(struct store *s, const char *sql);
void pg_set_error(struct store *s, const char *format, ...) _printf_(2, 3);

int64_t pg_get_time(const PGresult *res, int row, int col);   /* NULL: NO_TIME */
int64_t pg_get_int(const PGresult *res, int row, int col);    /* NULL: 0 */
int pg_get_strdup(const PGresult *res, int row, int col, char **ret);  /* NULL: NULL */

static inline void pg_clearp(PGresult **res) {
        if (*res)
                PQclear(*res);
}
#define _cleanup_pgresult_ _cleanup_(pg_clearp)

int pg_migrate(struct store *s);
int pg_schema_version(struct store *s);

/* The backend's side of store.h, in pg_ops (store-pg-task.c): each as the
 * store_* function of the same name. */
extern const struct store_ops pg_ops;
struct store *pg_close(struct store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct store *, pg_close);
const char *pg_last_error(const struct store *s);
int pg_set_busy_timeout(struct store *s, int ms);
int pg_begin(struct store *s);
int pg_commit(struct store *s);
int pg_rollback(struct store *s);
int pg_meta_get(struct store *s, const char *key, char **ret);
int pg_meta_set(struct store *s, const char *key, const char *value);
const char *pg_instance_id(const struct store *s);
int pg_instance_id_renew(struct store *s);
int pg_data_version(struct store *s, uint64_t *ret);
int pg_document_upsert(struct store *s, struct document *d);
int pg_document_get(struct store *s, const char *number, struct document *ret);
/* store-pg-change.c */
int pg_task_find_ref(struct store *s, int64_t document_id, const char *ref, int64_t *ret_id);
int pg_task_notices_clear(struct store *s, int64_t task_id);
int pg_task_change_add(struct store *s, struct task_change *c);
int pg_task_changes(struct store *s, int64_t task_id, struct task_change_list *ret);
int pg_task_change_last(struct store *s, int64_t task_id, enum task_field field, int source,
                        struct task_change *ret);
int pg_task_completion_add(struct store *s, struct task_completion *c);
int pg_task_completions(struct store *s, int64_t task_id, struct task_completion_list *ret);
int pg_task_completion_reopened(struct store *s, int64_t task_id, int64_t now);
int pg_task_occurrences(struct store *s, const struct occurrence_filter *f, struct task_occurrence_list *ret);

/* store-pg-inbox.c */
int pg_inbox_add(struct store *s, struct inbox_message *m);
int pg_inbox_last_uid(struct store *s, int64_t uidvalidity, int64_t *ret);
int pg_inbox_get(struct store *s, int64_t id, struct inbox_message *ret);
int pg_inbox_list(struct store *s, int64_t task_id, struct inbox_message_list *ret);
int pg_inbox_agency_waiting(struct store *s, const char *agency, bool *ret);
int pg_inbox_decide(struct store *s, int64_t id, enum inbox_state state, int64_t task_id, const char *by,
                    int64_t at, const char *reason);
int pg_inbox_reports_waiting(struct store *s, struct inbox_wait_list *ret);

/* store-pg-cluster.c: several daemons on one database. */
int pg_decide_lock(struct store *s);
int pg_change_fd(struct store *s);
int pg_change_consume(struct store *s);
/* A statement changed what another daemon acts on: NOTIFY at the commit
 * (at once outside a transaction). */
int pg_changed(struct store *s);
/* NOTIFY now (in a transaction: at its commit), naming this process
 * (`claimer`), whose own listeners leave it out: a daemon's store thread
 * and its loop have a connection each. */
int pg_notify(struct store *s);

/* store-pg-copy.c: the receiving side of store_copy(). */
int pg_copy_begin(struct store *s);
int pg_rows_insert(struct store *s, const char *table, size_t n, const char *const *names,
                   const char *const *values);
int pg_copy_finish(struct store *s);

