/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What a backend of store.h provides, seen by store.c and the backends
 * only. store.c chooses the backend when the store is opened (by the
 * database's name: store_database_is_server(), store.h) and its public
 * store_* functions call through the table the backend put in its store.
 *
 * Each backend defines struct store as it needs it, with the table as its
 * first member: store.c never sees a backend's struct, only that first
 * member (a pointer to a struct points to its first member, C11 6.7.2.1). */

#include <stdbool.h>

#include "store.h"

typedef int (*store_row_cb)(void *userdata, size_t n, const char *const *names, const char *const *values);

struct store_ops {
        const char *name;                 /* "sqlite", "postgresql" */
        struct store *(*close)(struct store *s);
        const char *(*last_error)(const struct store *s);
        int (*schema_version)(struct store *s);
        int (*set_busy_timeout)(struct store *s, int ms);
        int (*begin)(struct store *s);
        int (*commit)(struct store *s);
        int (*rollback)(struct store *s);
        int (*document_upsert)(struct store *s, struct document *d);
        int (*document_get)(struct store *s, const char *number, struct document *ret);
        int (*task_add)(struct store *s, struct task *t, int64_t now);
        int (*task_find_ref)(struct store *s, int64_t document_id, const char *ref, int64_t *ret_id);
        int (*task_update)(struct store *s, const struct task *t, int64_t now);
        int (*task_get)(struct store *s, int64_t id, struct task *ret);
        int (*task_notices_clear)(struct store *s, int64_t task_id);
        int (*tasks_get)(struct store *s, const int64_t *ids, size_t n, struct task_list *ret);
        int (*task_set_status)(struct store *s, int64_t id, enum task_status status, int64_t now);
        int (*task_change_add)(struct store *s, struct task_change *c);
        int (*task_changes)(struct store *s, int64_t task_id, struct task_change_list *ret);
        int (*task_change_last)(struct store *s, int64_t task_id, enum task_field field, int source, struct task_change *ret);
        int (*task_completion_add)(struct store *s, struct task_completion *c);
        int (*task_completions)(struct store *s, int64_t task_id, struct task_completion_list *ret);
        int (*task_completion_reopened)(struct store *s, int64_t task_id, int64_t now);
        int (*task_list)(struct store *s, const struct task_filter *f, struct task_list *ret);
        int (*task_set_schedule)(struct store *s, int64_t id, int64_t next_fire_at, int64_t fired_through);
        int (*tasks_set_schedule)(struct store *s, const int64_t *ids, const int64_t *next_fire_at, size_t n, int64_t fired_through);
        int (*tasks_reschedule)(struct store *s, int64_t now, int64_t after_id, size_t limit, int64_t *ret_last_id);
        int (*task_occurrences)(struct store *s, const struct occurrence_filter *f, struct task_occurrence_list *ret);
        int (*agency_ids)(struct store *s, char ***ret);
        int (*meta_get)(struct store *s, const char *key, char **ret);
        int (*meta_set)(struct store *s, const char *key, const char *value);
        const char *(*instance_id)(const struct store *s);
        int (*instance_id_renew)(struct store *s);
        int (*data_version)(struct store *s, uint64_t *ret);
        int (*next_fire)(struct store *s, int64_t *ret);
        int (*tasks_due)(struct store *s, int64_t now, size_t limit, struct task_list *ret);
        int (*delivery_insert)(struct store *s, struct delivery *d);
        int (*deliveries_insert)(struct store *s, const struct delivery *d, size_t n);
        int (*deliveries_due)(struct store *s, int64_t now, const struct delivery_filter *f, struct delivery_list *ret);
        int (*next_delivery)(struct store *s, int64_t *ret);
        int (*delivery_set_state)(struct store *s, int64_t id, enum delivery_state state, int64_t next_attempt_at, const char *error, int64_t now);
        int (*deliveries_set_state)(struct store *s, const int64_t *ids, size_t n, enum delivery_state state, int64_t now);
        int (*delivery_put_back)(struct store *s, int64_t id, int64_t next_attempt_at);
        int (*delivery_set_delivered_to)(struct store *s, int64_t id, const char *addresses);
        int (*deliveries_clock_stepped)(struct store *s, int64_t step, int64_t now);
        int (*deliveries_reset_attempting)(struct store *s, int64_t now);
        int (*delivery_list_for_task)(struct store *s, int64_t task_id, struct delivery_list *ret);
        int (*deliveries_trouble)(struct store *s, size_t limit, struct delivery_list *ret);
        int (*deliveries_recent)(struct store *s, size_t limit, struct delivery_list *ret);
        int (*delivery_get)(struct store *s, int64_t id, struct delivery *ret);
        int (*deliveries_retry)(struct store *s, const struct delivery_retry_filter *f, const char *actor, int64_t now, int64_t **ret_ids);
        int (*task_delete)(struct store *s, int64_t id);
        int (*delivery_counts)(struct store *s, int64_t counts[static _DELIVERY_STATE_MAX]);
        int (*inbox_add)(struct store *s, struct inbox_message *m);
        int (*inbox_last_uid)(struct store *s, int64_t uidvalidity, int64_t *ret);
        int (*inbox_get)(struct store *s, int64_t id, struct inbox_message *ret);
        int (*inbox_list)(struct store *s, int64_t task_id, struct inbox_message_list *ret);
        int (*inbox_agency_waiting)(struct store *s, const char *agency, bool *ret);
        int (*inbox_decide)(struct store *s, int64_t id, enum inbox_state state, int64_t task_id, const char *by, int64_t at, const char *reason);
        int (*inbox_reports_waiting)(struct store *s, struct inbox_wait_list *ret);
        /* Optional (NULL: what a file database does, store.c). */
        int (*decide_lock)(struct store *s);
        int (*change_fd)(struct store *s);
        int (*change_consume)(struct store *s);
        /* The bulk copy of store_copy() (store-copy.c), optional: a
         * table's rows with their column names, every value as text (NULL:
         * SQL NULL), read from one backend and written to another. */
        int (*rows_read)(struct store *s, const char *table, store_row_cb cb, void *userdata);
        int (*copy_begin)(struct store *s);
        int (*rows_insert)(struct store *s, const char *table, size_t n, const char *const *names,
                           const char *const *values);
        int (*copy_finish)(struct store *s);
};

/* Whether a task may be written: a title, a known status, a due rule
 * with both its parts or neither, each agency named with a known role. */
bool store_task_valid(const struct task *t);

/* An inbox message's attachment names (struct inbox_message.evidence) as
 * the backends keep them, one a line (-EINVAL for a name with a line
 * break), and back; NULL for none. */
int store_evidence_join(char *const *names, char **ret);
int store_evidence_split(const char *s, char ***ret);

/* The first member of every backend's struct store. */
static inline const struct store_ops *store_ops(const struct store *s) {
        return *(const struct store_ops *const *) (const void *) s;
}

/* The backends' store_open(): set *ret's table, or return a negative errno
 * with the message kept by store_open_error_set(). */
int sqlite_open(const char *path, int flags, struct store **ret);
int pg_open(const char *conninfo, const char *password, int flags, struct store **ret);

/* The message store_last_error(NULL) gives after a failed open (this
 * thread's). */
void store_open_error_set(const char *message);

/* A database's instance id (store.h): made of 16 random bytes, 26
 * letters a-z and digits; valid: what may be kept as one. */
int store_instance_id_make(char buf[static STORE_INSTANCE_ID_MAX]);
bool store_instance_id_valid(const char *id);
