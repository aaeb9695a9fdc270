/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The task store: the only module that speaks SQL.
 *
 * Callers speak of documents, tasks, agencies and deliveries, never of
 * statements, so that a second backend could sit behind this header. The
 * database is opened in WAL mode with foreign keys on, a busy timeout and
 * synchronous=FULL; its schema is versioned with PRAGMA user_version and
 * migrated forward on open, one transaction per step; a database newer than
 * this program is refused.
 *
 * Every function returns 0 (or a positive count) on success and a negative
 * errno on failure: -ENOENT for a missing row, -EEXIST for a uniqueness
 * conflict, -EBUSY when the database stayed locked past the busy timeout,
 * -EIO for anything else; store_last_error() has SQLite's message. Writers
 * group their work between store_begin() (BEGIN IMMEDIATE) and
 * store_commit(), so a command that fails changes nothing. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define STORE_SCHEMA_VERSION 2
#define NO_TIME INT64_MIN

struct store;

enum store_flags {
        STORE_CREATE   = 1 << 0,  /* create the file if missing (else -ENOENT) */
        STORE_READONLY = 1 << 1,
};

enum task_status {
        TASK_OPEN,
        TASK_DONE,
        TASK_CANCELLED,
        _TASK_STATUS_MAX,
        _TASK_STATUS_INVALID = -1,
};

enum role {
        ROLE_LEAD,
        ROLE_SUPPORT,
        _ROLE_MAX,
        _ROLE_INVALID = -1,
};

enum delivery_state {
        DELIVERY_PENDING,
        DELIVERY_ATTEMPTING,
        DELIVERY_SENT,
        DELIVERY_FAILED,
        _DELIVERY_STATE_MAX,
        _DELIVERY_STATE_INVALID = -1,
};

struct document {
        int64_t id;
        char *number;             /* "2417/UBND-KTTH", unique */
        char *subject;
        char *issued_on;          /* "YYYY-MM-DD" or NULL */
        char *issuer;
        char *signer;
};

struct task_agency {
        char *agency;             /* agency or group id from the configuration */
        enum role role;
};

struct task {
        int64_t id;
        int64_t document_id;      /* 0: none */
        char *document_number;    /* filled by reads */
        char *ref;                /* "5.c", or NULL */
        char *title;
        char *detail;
        char *due;                /* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM" (local), NULL: ongoing */
        int64_t due_at;           /* the instant it ends, NO_TIME when no deadline */
        enum task_status status;
        char *recurrence;         /* "monthly:25" or NULL */
        int64_t created_at;
        int64_t updated_at;
        int64_t closed_at;        /* when done or cancelled, else NO_TIME */
        /* Scheduling state owned by the daemon: the next instant this task
         * needs looking at (NO_TIME: never), and the instant up to which its
         * reminder slots have been decided. */
        int64_t next_fire_at;
        int64_t fired_through;
        struct task_agency *agencies;
        size_t n_agencies;
};

struct task_list {
        struct task *tasks;
        size_t n;
};

struct task_filter {
        char *const *agencies;    /* agency or group ids as stored (the caller expands), NULL: any */
        int status;               /* enum task_status, or -1 for any */
        int64_t due_before;       /* NO_TIME: no bound; includes tasks due at or before */
        int64_t document_id;      /* 0: any */
        size_t limit;             /* 0: no limit */
};

struct delivery {
        int64_t id;
        int64_t task_id;
        char *slot;               /* "before:7d@<due_at>", "overdue:2025-05-02", "escalate:1@<due_at>" */
        int64_t slot_at;          /* when the slot fell due */
        char *agency;
        enum role role;
        char *channel;            /* "email", "webhook:0", … */
        enum delivery_state state;
        int attempts;
        int64_t next_attempt_at;
        char *last_error;
        int64_t created_at;
        int64_t sent_at;
};

struct delivery_list {
        struct delivery *items;
        size_t n;
};

int store_open(const char *path, int flags, struct store **ret);
struct store *store_close(struct store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct store *, store_close);
const char *store_last_error(const struct store *s);
int store_schema_version(struct store *s);

int store_begin(struct store *s);     /* BEGIN IMMEDIATE */
int store_commit(struct store *s);
int store_rollback(struct store *s);  /* safe to call when no transaction is open */

/* Documents. upsert inserts, or updates the row with the same number, and
 * sets d->id. */
int store_document_upsert(struct store *s, struct document *d);
int store_document_get(struct store *s, const char *number, struct document *ret);

/* Tasks. add inserts t and its agencies and sets t->id; created_at and
 * updated_at are `now`, next_fire_at and fired_through are `now` so that the
 * daemon looks at it at once and skips slots already past. */
int store_task_add(struct store *s, struct task *t, int64_t now);
/* Finds the task of a document by reference, for imports (-ENOENT). */
int store_task_find_ref(struct store *s, int64_t document_id, const char *ref, int64_t *ret_id);
/* Replaces title, detail, due, due_at, recurrence, ref and agencies of
 * t->id; rescheduled like a new task. */
int store_task_update(struct store *s, const struct task *t, int64_t now);
int store_task_get(struct store *s, int64_t id, struct task *ret);
int store_task_set_status(struct store *s, int64_t id, enum task_status status, int64_t now);
int store_task_list(struct store *s, const struct task_filter *f, struct task_list *ret);
/* The daemon's bookkeeping after deciding a task's slots. */
int store_task_set_schedule(struct store *s, int64_t id, int64_t next_fire_at, int64_t fired_through);

/* The scheduler's two indexed questions: the earliest next_fire_at among
 * open tasks (NO_TIME if none), and the open tasks whose next_fire_at is at
 * or before `now`, earliest first, at most `limit`. */
int store_next_fire(struct store *s, int64_t *ret);
int store_tasks_due(struct store *s, int64_t now, size_t limit, struct task_list *ret);

/* The outbox. insert ignores a row whose key (task, slot, agency, channel)
 * exists and returns 1 if it inserted, 0 if not. */
int store_delivery_insert(struct store *s, struct delivery *d);
/* Pending deliveries with next_attempt_at <= now, earliest first. */
int store_deliveries_due(struct store *s, int64_t now, size_t limit, struct delivery_list *ret);
/* Earliest next_attempt_at of a pending delivery (NO_TIME if none). */
int store_next_delivery(struct store *s, int64_t *ret);
int store_delivery_set_state(struct store *s, int64_t id, enum delivery_state state,
                             int64_t next_attempt_at, const char *error, int64_t now);
/* After a crash: deliveries left "attempting" go back to "pending". */
int store_deliveries_reset_attempting(struct store *s, int64_t now);
int store_delivery_list_for_task(struct store *s, int64_t task_id, struct delivery_list *ret);
/* Counts per state, indexed by enum delivery_state. */
int store_delivery_counts(struct store *s, int64_t counts[static _DELIVERY_STATE_MAX]);

void document_done(struct document *d);
void task_done(struct task *t);
void task_list_done(struct task_list *l);
void delivery_done(struct delivery *d);
void delivery_list_done(struct delivery_list *l);

const char *task_status_to_string(enum task_status s);
enum task_status task_status_from_string(const char *s);
const char *role_to_string(enum role r);
enum role role_from_string(const char *s);
const char *delivery_state_to_string(enum delivery_state s);
enum delivery_state delivery_state_from_string(const char *s);
