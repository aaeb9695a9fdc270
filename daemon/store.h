/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The task store: documents, tasks, their change log, the outbox's
 * deliveries and a few named values, kept in a database.
 *
 * Callers speak of these in C values, never of statements: a backend sits
 * behind this header and is the only code that speaks to the database.
 * store.c holds what every backend shares (names, destructors, the change
 * log's comparison) and chooses the backend at store_open() by the
 * database's name: a libpq URI ("postgresql://…", "postgres://…") is
 * PostgreSQL (store-pg*.c), anything else an SQLite file (store-sqlite*.c).
 * SQLite's database is opened
 * in WAL mode with foreign keys on, a busy timeout and synchronous=FULL; its
 * schema is versioned and migrated forward on open, one transaction per
 * step; a database newer than this program is refused.
 *
 * Every function returns 0 (or a positive count) on success and a negative
 * errno on failure: -ENOENT for a missing row, -EEXIST for a uniqueness
 * conflict, -EBUSY when the database stayed locked past the busy timeout,
 * -EIO for anything else; store_last_error() has the database's message.
 * Writers group their work between store_begin() (which takes the write
 * lock at once) and store_commit(), so a command that fails changes nothing.
 *
 * The other codes: -EINVAL for an argument the store cannot take (a NULL
 * title, an unknown status or role) and for a constraint other than
 * uniqueness, chiefly a reference to a document or task that does not
 * exist; -EALREADY for a change that is already in place; -ENOSPC when the
 * disk is full; -EROFS for a write on a read-only open or file system;
 * -EACCES when the file or its folder may not be written; -ENOMEM;
 * -EBADMSG when the file is not a database, is corrupt, or is some other
 * program's database; -EPROTONOSUPPORT when its schema is newer than
 * STORE_SCHEMA_VERSION. A database server (PostgreSQL) adds -EADDRNOTAVAIL
 * for an address it cannot read, -ECONNREFUSED when it cannot be reached
 * (-ECONNRESET when the connection was lost), -EKEYREJECTED when its
 * certificate does not verify. List functions return the number of items.
 *
 * The daemon's event loop never waits (STORE_NOWAIT): it makes only the
 * calls marked "Loop:" below, short transactions on indexed rows whose cost
 * does not grow with the number of tasks, and reads due work with a limit.
 * Calls marked "Slow:" read or write a whole table, or as much of it as
 * the caller asks: deadlinectl makes them, and the daemon only where it
 * says (at start, at a reload, a slice at a time). Unmarked calls are
 * short too (one document or task), and made by deadlinectl. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "macro.h"

#define STORE_SCHEMA_VERSION 14
#define NO_TIME INT64_MIN

/* What one task or one filter may carry (-E2BIG beyond). */
#define TASK_AGENCIES_MAX 256
#define TASK_FILTER_AGENCIES_MAX 1024

/* How long a statement waits for another process's lock before -EBUSY: a
 * person can wait a few seconds; the daemon's event loop cannot, and
 * defers the work instead (STORE_NOWAIT). */
#define STORE_BUSY_MS 5000
#define STORE_NOWAIT_BUSY_MS 20

struct store;

enum store_flags {
        STORE_CREATE   = 1 << 0,  /* create the file if missing (else -ENOENT) */
        STORE_READONLY = 1 << 1,
        STORE_NOWAIT   = 1 << 2,  /* wait STORE_NOWAIT_BUSY_MS, not STORE_BUSY_MS, for a lock */
        /* A dry run: everything done through this store is undone at
         * store_close(), and the database is left exactly as it was.
         * store_open() takes the write lock (BEGIN IMMEDIATE, -EBUSY after
         * the busy timeout) and keeps it until store_close(); migration and
         * each store_begin() ... store_commit() run inside that transaction
         * as savepoints, and nothing can commit (a commit hook refuses).
         * The file must exist and be writable; it is not switched to WAL. */
        STORE_DRY      = 1 << 3,
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
        /* When a notice of this assignment became owed (the task was
         * created, or handed to this agency in this role); 0: none is owed,
         * it was made into deliveries or was not to be sent. The daemon's
         * decide step turns it into deliveries and clears it. */
        int64_t notice_at;
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
        /* The deadline as first set (for a recurring task, as its current
         * occurrence's was), which changes and extensions leave be: as due,
         * NULL when it had none. store_task_add() takes due when this is
         * NULL; store_task_update() writes it as given. */
        char *original_due;
        /* A deadline counted in working days keeps the rule it came from:
         * due is the due_rule_days-th working day after due_rule_from
         * ("YYYY-MM-DD"), on the calendar in force when it was counted.
         * 0 and NULL: due was given as it is. Writes take both as given;
         * a rule needs a from day, and days in 1..WORKDAYS_MAX. */
        int due_rule_days;
        char *due_rule_from;
        enum task_status status;
        char *recurrence;         /* "monthly:25" or NULL */
        int64_t created_at;
        int64_t updated_at;
        int64_t closed_at;        /* when done or cancelled, else NO_TIME */
        /* How many times the task was changed since it was made (0 for a
         * new task): each store_task_update() and status change adds one. */
        int64_t revision;
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

/* What a task's change log names. */
enum task_field {
        TASK_FIELD_STATUS,
        TASK_FIELD_DUE,
        TASK_FIELD_TITLE,
        TASK_FIELD_DETAIL,
        TASK_FIELD_AGENCIES,
        TASK_FIELD_RECURRENCE,
        TASK_FIELD_REF,
        _TASK_FIELD_MAX,
        _TASK_FIELD_INVALID = -1,
};

/* Who made a change: an import of a document, or a person's command. */
enum change_source {
        CHANGE_IMPORT,
        CHANGE_PERSON,
        _CHANGE_SOURCE_MAX,
        _CHANGE_SOURCE_INVALID = -1,
};

/* One entry of a task's change log: a field's value before and after, as
 * text. Status is "open", "done" or "cancelled"; due is as in struct task;
 * agencies are task_agencies_format()'s text. A NULL value is no value (no
 * deadline; old is NULL when the task was created). */
struct task_change {
        int64_t id;
        int64_t task_id;
        int64_t at;
        enum task_field field;
        char *old_value;
        char *new_value;
        enum change_source source;
        char *note;               /* what it came with: "import 2417/UBND-KTTH", "deadlinectl edit", or NULL */
        char *actor;              /* the user who made it ("alice"), or NULL when not known */
        char *approved_by;        /* the document that approved it ("Công văn số 123/UBND-KTTH"), or NULL */
        char *reason;             /* why, as given, or NULL */
};

struct task_change_list {
        struct task_change *items;
        size_t n;
};

/* A task reported done: which deadline it answered (a recurring task's
 * occurrence, one entry each), when it was done and with what. */
struct task_completion {
        int64_t id;
        int64_t task_id;
        char *due;                /* the occurrence's deadline as in struct task, NULL: none */
        int64_t due_at;           /* its instant, NO_TIME when none */
        char *done_on;            /* the date (or date and time) reported, as due; NULL: when recorded */
        int64_t done_at;          /* when it was done: done_on's first instant, or recorded_at */
        char *note;               /* the evidence: "Báo cáo số 45/BC-STC ngày 12/5/2025", or NULL */
        int64_t recorded_at;      /* when it was recorded */
        char *actor;              /* who recorded it, or NULL */
        int64_t reopened_at;      /* when the task was reopened after it, NO_TIME if it was not */
};

struct task_completion_list {
        struct task_completion *items;
        size_t n;
};

struct task_filter {
        char *const *agencies;    /* agency or group ids as stored (the caller expands), NULL: any */
        int status;               /* enum task_status, or -1 for any */
        int64_t due_before;       /* NO_TIME: no bound; includes tasks due at or before */
        int64_t document_id;      /* 0: any */
        size_t limit;             /* 0: no limit */
};

/* A filter that lets every task through; note that a zeroed filter would ask
 * for open tasks due before 1970. */
#define TASK_FILTER_INIT                                                \
        ((struct task_filter) { .status = -1, .due_before = NO_TIME })

/* A delivery's key is (task, slot, agency, channel). The slot's first word
 * is its kind: a reminder's ("before:7d@<due_at>", "overdue:…",
 * "escalate:…"), an assignment notice's ("notice:<assigned_at>"), or, for
 * a delivery about no one task (task_id 0, stored as none; unique by slot,
 * agency and channel), its own ("report:<agency>:<period>"). */
struct delivery {
        int64_t id;
        int64_t task_id;          /* 0: about no one task */
        char *slot;               /* "before:7d@<due_at>", "overdue:2025-05-02", "escalate:1@<due_at>", "notice:<at>" */
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
        char *delivered_to;       /* e-mail: addresses that accepted it already, one per line, or NULL */
        int64_t first_attempt_at; /* when it was first claimed to be sent, NO_TIME if never */
        /* An operator's retries after it was given up: the latest one's
         * time (NO_TIME: never) and user, and how many. */
        int64_t retried_at;
        char *retried_by;
        int retries;
        /* A server's database: when the lease of the daemon's claim on it
         * runs out (NO_TIME: not claimed). A file database has none
         * (NO_TIME): its sender lock tells whether a daemon sends. */
        int64_t claimed_until;
};

struct delivery_list {
        struct delivery *items;
        size_t n;
};

/* Who a delivery goes to: one agency's channel. */
struct delivery_receiver {
        const char *agency;
        const char *channel;      /* "email", "webhook:0", … as in struct delivery */
};

/* Which due deliveries store_deliveries_due() reads. A zeroed filter lets
 * every due delivery through. */
struct delivery_filter {
        const struct delivery_receiver *skip;  /* n_skip receivers whose deliveries are left out */
        size_t n_skip;
        size_t limit;                          /* at most this many (0: no limit) */
};

/* Opens (STORE_CREATE: creates, with the process umask) and migrates the
 * database. A read-only open of a database that needs migrating fails with
 * -EROFS. Slow: a migration may rewrite every table (the daemon opens at
 * start and when a reload names another database). */
int store_open(const char *path, int flags, struct store **ret);
/* The same, with the password of a database on a server (NULL: none, or
 * what libpq finds in ~/.pgpass); a file database takes none. */
int store_open_password(const char *database, const char *password, int flags, struct store **ret);
/* Whether a database setting names a database on a server (PostgreSQL: a
 * "postgresql://" or "postgres://" URI) rather than a file. Such a
 * database has no folder to watch and no sender lock: several daemons may
 * share it, each claim of a delivery held under a lease. */
bool store_database_is_server(const char *database);
struct store *store_close(struct store *s);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct store *, store_close);
/* The message behind the last failure on s, "" if none. With s == NULL, the
 * message behind the last failed store_open() of this thread, which has no
 * store to ask ("schema 7, this one knows 5" for a newer database). */
const char *store_last_error(const struct store *s);
/* What a store error means, in words for a person ("the disk is full",
 * "permission denied", "the database was made by a newer deadlined"), to
 * go before store_last_error()'s detail. */
const char *store_strerror(int r);
/* The sysexits(3) status for a store error when the database cannot be
 * opened, locked or written: 65 newer or not a database, 75 locked, 77
 * permission, 74 a full disk or an I/O error, 78 an address that is not
 * valid, 69 a server that cannot be reached or whose certificate does not
 * verify, 73 otherwise (deadlined(8), EXIT STATUS). */
int store_exit_status(int r);
int store_schema_version(struct store *s);
/* How long a statement waits for another process's lock before -EBUSY
 * (STORE_BUSY_MS after store_open(), STORE_NOWAIT_BUSY_MS with STORE_NOWAIT). */
int store_set_busy_timeout(struct store *s, int ms);

/* Loop: a transaction, holding the write lock from the start (SQLite: BEGIN
 * IMMEDIATE; STORE_DRY: a savepoint), -EBUSY after the busy timeout. On a
 * failed commit the transaction stays open: call store_rollback(). */
int store_begin(struct store *s);
int store_commit(struct store *s);
int store_rollback(struct store *s);  /* safe to call when no transaction is open */

/* Documents. upsert inserts, or updates the row with the same number, and
 * sets d->id. */
int store_document_upsert(struct store *s, struct document *d);
int store_document_get(struct store *s, const char *number, struct document *ret);

/* Tasks. add inserts t and its agencies and sets t->id; created_at and
 * updated_at are `now`, next_fire_at and fired_through are `now` so that the
 * daemon looks at it at once and skips slots already past. It also sets
 * those fields in t. A task added already closed gets closed_at = now and no
 * next_fire_at. Agencies are stored leads first, each role in the order
 * given, and read back in that order; an agency named twice is -EEXIST, a
 * document_id that does not exist -EINVAL. */
int store_task_add(struct store *s, struct task *t, int64_t now);
/* Finds the task of a document by reference, for imports (-ENOENT). */
int store_task_find_ref(struct store *s, int64_t document_id, const char *ref, int64_t *ret_id);
/* Replaces title, detail, due, due_at, the due rule, recurrence, ref and agencies of
 * t->id; rescheduled like a new task. Loop (a recurring task's next
 * deadline). */
int store_task_update(struct store *s, const struct task *t, int64_t now);
int store_task_get(struct store *s, int64_t id, struct task *ret);
/* Clears the notices owed for a task's agencies (notice_at = 0): they were
 * made into deliveries, or are not to be sent. Loop. */
int store_task_notices_clear(struct store *s, int64_t task_id);
/* The tasks of `ids` that exist, by id, with their agencies, in one read;
 * returns how many. Loop. */
int store_tasks_get(struct store *s, const int64_t *ids, size_t n, struct task_list *ret);
/* Closing (done, cancelled) sets closed_at = now and clears next_fire_at;
 * reopening clears closed_at and sets next_fire_at = fired_through = now.
 * -ENOENT for a missing task, -EALREADY if it already has that status. */
int store_task_set_status(struct store *s, int64_t id, enum task_status status, int64_t now);
/* The change log. add appends one entry and sets c->id (a task_id that
 * does not exist: -EINVAL). record appends one entry for each field that
 * differs between `before` and `after` (before NULL: every field of a task
 * just created, old values NULL), and returns how many; each entry takes
 * `how`'s at, source, note, actor, approved_by and reason. A
 * task's entries come back in the order they were made (which `at` need
 * not follow: a command may be given another time with --now); last gives
 * the latest entry of one field, from one source or from either (source
 * -1), -ENOENT if none. Entries go with their task. */
int store_task_change_add(struct store *s, struct task_change *c);
int store_task_changes_record(struct store *s, const struct task *before, const struct task *after,
                              const struct task_change *how);
int store_task_changes(struct store *s, int64_t task_id, struct task_change_list *ret);
int store_task_change_last(struct store *s, int64_t task_id, enum task_field field, int source,
                           struct task_change *ret);
/* Completions. add records one and sets c->id (a task_id that does not
 * exist: -EINVAL). A task's come back in the order they were recorded.
 * reopened marks the task's latest completion not yet marked as undone at
 * `now` (the task was reopened: its history stays); returns 1, or 0 when
 * it had none. Entries go with their task. */
int store_task_completion_add(struct store *s, struct task_completion *c);
int store_task_completions(struct store *s, int64_t task_id, struct task_completion_list *ret);
int store_task_completion_reopened(struct store *s, int64_t task_id, int64_t now);
/* A task's agencies as one line, "lead stc,skhdt; support kbnn" (leads and
 * supports each in their order; "; support …" only when it has some): the
 * form the change log keeps them in. NULL when out of memory. */
char *task_agencies_format(const struct task_agency *a, size_t n);

/* Tasks matching f (NULL: all), by due_at with the ones without a deadline
 * last, then by id; with document number and agencies filled in. Slow:
 * reads every task the filter lets through, and sorts them. */
int store_task_list(struct store *s, const struct task_filter *f, struct task_list *ret);
/* The daemon's bookkeeping after deciding a task's slots. A closed task
 * keeps no next_fire_at. Loop. */
int store_task_set_schedule(struct store *s, int64_t id, int64_t next_fire_at, int64_t fired_through);
/* The same for n tasks in one statement, each its own next_fire_at, all
 * the same fired_through; -ENOENT if any of them is missing. */
int store_tasks_set_schedule(struct store *s, const int64_t *ids, const int64_t *next_fire_at, size_t n,
                             int64_t fired_through);

/* Open tasks are looked at again at `now` (after the reminder policy
 * changed); what was already decided stays. A slice at a time: the first
 * `limit` (0: all) with an id above `after_id`; returns how many, and the
 * last id in *ret_last_id for the next slice. Slow: walks the tasks by id;
 * the daemon takes small slices, between which its loop runs. */
int store_tasks_reschedule(struct store *s, int64_t now, int64_t after_id, size_t limit, int64_t *ret_last_id);

/* What a compliance report counts: one occurrence of a task with a
 * deadline, once for each of its lead agencies. An occurrence is either a
 * completion (a task, or one occurrence of a recurring task, reported done
 * and not reopened since), with the deadline it answered, or an open
 * task's current deadline. Cancelled tasks and tasks without a deadline
 * have none. */
struct task_occurrence {
        int64_t task_id;
        int64_t completion_id;    /* 0: an open task's current deadline */
        char *document_number;    /* NULL: the task has no document */
        char *agency;             /* one of its lead agencies, as stored */
        int64_t due_at;           /* the deadline in force */
        int64_t done_at;          /* when it was done, NO_TIME when open */
        /* Approved deadline changes (extend, which names a document) made
         * to this occurrence: after the task's previous completion, up to
         * this one's recording. */
        unsigned extensions;
};

struct task_occurrence_list {
        struct task_occurrence *items;
        size_t n;
};

struct occurrence_filter {
        int64_t due_from, due_to; /* deadlines at or after from and at or before to */
        int64_t document_id;      /* 0: any */
        const char *agency;       /* a lead agency or group id as stored, NULL: any */
};

/* The occurrences whose deadline falls in the filter's range, in no
 * particular order. Slow: reads every one of them (indexed by deadline). */
int store_task_occurrences(struct store *s, const struct occurrence_filter *f, struct task_occurrence_list *ret);

/* The agency and group ids open tasks name, sorted, NULL-terminated: for
 * telling which ones the configuration no longer has. Slow: reads every
 * open task's agencies (the daemon asks at start and at each reload). */
int store_agency_ids(struct store *s, char ***ret);

/* Small named values the daemon keeps with the data (the fingerprint of
 * the policy the schedule was worked out with). -ENOENT if unset. Loop. */
int store_meta_get(struct store *s, const char *key, char **ret);
int store_meta_set(struct store *s, const char *key, const char *value);
/* The database's instance id: 26 random letters and digits, made once
 * per database (by the first open for writing, old databases included) and
 * kept in meta. Every Message-ID, thread root and webhook-id carries it, so
 * that two databases never send the same id. NULL only on a read-only open
 * of a database that has none yet. renew gives the database a new one (a
 * copy that is to send on its own): ids made after it differ from those
 * before, so a receiver sees new messages and new threads. */
#define STORE_INSTANCE_ID_MAX 64
const char *store_instance_id(const struct store *s);
int store_instance_id_renew(struct store *s);
/* Changes whenever another connection commits (SQLite: PRAGMA
 * data_version): how the daemon tells deadlinectl's writes from its own.
 * Loop. */
int store_data_version(struct store *s, uint64_t *ret);

/* Several daemons on one database (PostgreSQL). decide_lock, inside a
 * transaction: 1 when this connection may turn due tasks into deliveries
 * until the transaction ends, 0 when another daemon is deciding (skip
 * deciding this pass; claim and send as usual). A file database has one
 * sender (its sender lock), so always 1 there. Loop. */
int store_decide_lock(struct store *s);
/* Changes made by other processes, on a server's database (PostgreSQL:
 * LISTEN/NOTIFY; a commit that changed tasks or the outbox notifies). The
 * first change_fd() starts listening and gives the descriptor to watch for
 * reading (-EOPNOTSUPP for a file database: watch its folder and
 * store_data_version()); change_consume() reads what came, also what the
 * store read while a statement ran: 1 when another connection told of a
 * change since the last call, 0 if not, -ECONNRESET when the connection is
 * lost (the next store call makes it again; stop watching the descriptor
 * until then), -ESTALE once after it was made again (ask change_fd()
 * anew; what changed meanwhile was not told). Loop. */
int store_change_fd(struct store *s);
int store_change_consume(struct store *s);

/* Moving a database to another backend (deadlinectl migrate-to): every
 * row of `from` (documents, tasks and their agencies, changes, completions,
 * deliveries with their states and attempts, the inbox, meta with the
 * instance id and the highest ids used) into `to`, ids kept, in one
 * transaction of `to`, whose ids then continue past the highest copied.
 * `to` must hold no data (-ENOTEMPTY, nothing written) and be at the same
 * schema version (-EPROTO); -EOPNOTSUPP when one backend cannot (from must
 * be a file, to a server's database). `to` is to be closed after. Slow. */
int store_copy(struct store *from, struct store *to);

/* The scheduler's two indexed questions: the earliest next_fire_at among
 * open tasks (NO_TIME if none), and the open tasks whose next_fire_at is at
 * or before `now`, earliest first, at most `limit` (0: no limit), with
 * agencies filled in. Loop (with a limit). */
int store_next_fire(struct store *s, int64_t *ret);
int store_tasks_due(struct store *s, int64_t now, size_t limit, struct task_list *ret);

/* The outbox. insert ignores a row whose key (task, slot, agency, channel)
 * exists and returns 1 if it inserted, 0 if not; either way d->id is the
 * row's id. state, attempts, last_error and created_at are stored as given
 * (zero state and attempts: a fresh pending delivery; created_at NO_TIME:
 * the current time); a pending delivery without next_attempt_at is due at
 * created_at. A role of _ROLE_INVALID is stored as none. Loop. */
int store_delivery_insert(struct store *s, struct delivery *d);
/* n new pending deliveries (state PENDING, no attempts, no error, one
 * created_at for all), each as store_delivery_insert() would insert it, in
 * one statement (one round trip on PostgreSQL); their ids are not given
 * back. Returns how many were
 * inserted: a row whose key exists is left as it is. Loop. */
int store_deliveries_insert(struct store *s, const struct delivery *d, size_t n);
/* Pending deliveries with next_attempt_at <= now, earliest first, those
 * the filter lets through (NULL: all). The limit counts the deliveries
 * read, not those left out. Loop (with a limit): indexed by due time, it
 * reads past the due deliveries of the receivers left out, so the daemon
 * remembers a claim that found nothing and does not make it again until
 * something changed. */
int store_deliveries_due(struct store *s, int64_t now, const struct delivery_filter *f,
                         struct delivery_list *ret);
/* Copies n receivers into one allocation that holds their strings too,
 * freed with free(); NULL when n is 0. equal: whether two lists name the
 * same receivers in the same order. */
int delivery_receivers_dup(const struct delivery_receiver *r, size_t n, struct delivery_receiver **ret);
bool delivery_receivers_equal(const struct delivery_receiver *a, size_t n_a,
                              const struct delivery_receiver *b, size_t n_b);
/* Earliest next_attempt_at of a pending delivery (NO_TIME if none). Loop. */
int store_next_delivery(struct store *s, int64_t *ret);
/* PENDING: due again at next_attempt_at (NO_TIME: now), error kept as
 * last_error. ATTEMPTING: the claim before sending; counts an attempt,
 * records now as first_attempt_at unless it has one, and is
 * allowed from PENDING only (-EALREADY otherwise, so that two senders never
 * both claim a row). SENT: sent_at = now, no next attempt, last_error =
 * error (normally NULL). FAILED: given up, last_error = error. -ENOENT for
 * a missing delivery. Loop, as are the other calls up to
 * store_deliveries_clock_stepped(). */
int store_delivery_set_state(struct store *s, int64_t id, enum delivery_state state,
                             int64_t next_attempt_at, const char *error, int64_t now);
/* ATTEMPTING or SENT (with no error) for n deliveries in one statement.
 * ATTEMPTING: -EALREADY unless all n were pending (some may have changed:
 * roll back). */
int store_deliveries_set_state(struct store *s, const int64_t *ids, size_t n, enum delivery_state state,
                               int64_t now);
/* A claimed (ATTEMPTING) delivery that never went out goes back to
 * PENDING as it was before the claim: the attempt uncounted, due again at
 * next_attempt_at (its due time before the claim), and first_attempt_at
 * cleared if that was to be its first attempt. */
int store_delivery_put_back(struct store *s, int64_t id, int64_t next_attempt_at);
/* Records the addresses (one per line) that accepted a delivery whose
 * other addresses are to be tried again or failed. */
int store_delivery_set_delivered_to(struct store *s, int64_t id, const char *addresses);
/* The wall clock was set back by -step seconds (step < 0; a step forward
 * needs nothing): retry times still ahead of now, worked out as the old
 * now plus a back-off, move back by as much, so that no retry waits longer
 * than its back-off. One statement. Returns how many moved. */
int store_deliveries_clock_stepped(struct store *s, int64_t step, int64_t now);
/* After a crash: deliveries left "attempting" go back to "pending", due at
 * now. Returns how many. Slow: reads every delivery (the daemon calls it
 * at start, and when a reload names another database). */
int store_deliveries_reset_attempting(struct store *s, int64_t now);
/* For people. A task's deliveries by slot_at, then id. Deliveries in
 * trouble: Slow, it reads the outbox newest first until it has `limit`.
 * Recent: the newest `limit`. */
int store_delivery_list_for_task(struct store *s, int64_t task_id, struct delivery_list *ret);
/* Newest first, at most limit (0: no limit): the failed ones and the
 * pending ones waiting to be retried after an error. */
int store_deliveries_trouble(struct store *s, size_t limit, struct delivery_list *ret);
/* The latest deliveries of every task, newest first, at most limit (0: no
 * limit). */
int store_deliveries_recent(struct store *s, size_t limit, struct delivery_list *ret);
/* An operator's tools. get reads one delivery (-ENOENT). retry puts
 * failed deliveries back: those of f (id 0: any; task_id 0: any;
 * agencies NULL: any) that still have a reason to go (their task is open
 * and the slot is of its current deadline: a "…@<due_at>" slot of that
 * due_at, or an overdue slot after it) become pending, due at `now`, with
 * attempts and first_attempt_at cleared so that max_retry_age counts
 * afresh; the error and the addresses that accepted it already stay, and
 * retried_at = now, retried_by = actor, retries + 1 record the operator's
 * act. Returns how many, their ids in *ret_ids (freed with free(); may be
 * NULL). Slow: reads the failed deliveries f lets through. */
struct delivery_retry_filter {
        int64_t id;
        int64_t task_id;
        char *const *agencies;
};
int store_delivery_get(struct store *s, int64_t id, struct delivery *ret);
int store_deliveries_retry(struct store *s, const struct delivery_retry_filter *f, const char *actor, int64_t now,
                           int64_t **ret_ids);
/* Deletes a task with its agencies, deliveries (sent ones too), change log
 * and completions; its document stays, and its (document, reference) pair
 * is free again. Its id and its deliveries' ids are not given to new rows
 * (they name messages). -ENOENT for a missing task. */
int store_task_delete(struct store *s, int64_t id);

/* The inbox: each message read from the office's mailbox, recorded once
 * (by its mailbox's UIDVALIDITY and UID, and by its Message-ID), with the
 * task and agency it was matched to, what it says, and what became of it.
 * Nothing in a message changes a task by itself: PENDING waits for the
 * officer, who CONFIRMs or REJECTs it; UNASSIGNED names no task (a reply
 * to a digest); IGNORED is kept only so that it is not read again (a
 * stranger, a message too large). */
enum inbox_state {
        INBOX_PENDING,
        INBOX_CONFIRMED,
        INBOX_REJECTED,
        INBOX_UNASSIGNED,
        INBOX_IGNORED,
        _INBOX_STATE_MAX,
        _INBOX_STATE_INVALID = -1,
};

enum inbox_intent {
        INBOX_INTENT_UNKNOWN,    /* the officer reads it */
        INBOX_INTENT_DONE,       /* reports the task done */
        INBOX_INTENT_EXTENSION,  /* asks for a later deadline (asked_day) */
        _INBOX_INTENT_MAX,
        _INBOX_INTENT_INVALID = -1,
};

#define INBOX_EVIDENCE_MAX 64

struct inbox_message {
        int64_t id;
        int64_t uidvalidity, uid;  /* where the mailbox keeps it */
        char *message_id;          /* without brackets, or NULL */
        char *sender;              /* the From address, lower case, or NULL */
        char *subject;
        int64_t received_at;       /* when it was read */
        int64_t sent_at;           /* its Date header, or NO_TIME */
        int64_t task_id;           /* 0: none (unassigned, ignored, or the task deleted since) */
        char *agency;              /* the agency the sender is listed for, or NULL */
        enum inbox_intent intent;
        int32_t asked_day;         /* EXTENSION: days since 1970-01-01, or INT32_MIN */
        char **evidence;           /* attachments' names, NULL-terminated, or NULL; no line breaks */
        char *text;                /* the reply's own words */
        enum inbox_state state;
        char *note;                /* why it was read so (ignored: the reason), or NULL */
        char *decided_by;          /* CONFIRMED / REJECTED: who, when and why */
        int64_t decided_at;
        char *reason;
};

struct inbox_message_list {
        struct inbox_message *items;
        size_t n;
};

/* Records a message unless one with its (uidvalidity, uid) or its
 * Message-ID is there already. Returns 1 and sets m->id when recorded, 0
 * when it was there. Loop. */
int store_inbox_add(struct store *s, struct inbox_message *m);
/* The highest UID recorded under `uidvalidity` (0: none). Loop. */
int store_inbox_last_uid(struct store *s, int64_t uidvalidity, int64_t *ret);
int store_inbox_get(struct store *s, int64_t id, struct inbox_message *ret);
/* The messages that wait for the officer (pending and unassigned), oldest
 * first; task_id > 0: every message matched to that task instead. */
int store_inbox_list(struct store *s, int64_t task_id, struct inbox_message_list *ret);
/* Whether `agency` has a pending report (any task) waiting: its reminders
 * pause meanwhile. Loop. */
int store_inbox_agency_waiting(struct store *s, const char *agency, bool *ret);
/* The reports of completion that wait for the officer (PENDING, intent
 * DONE, with a task and an agency): while one does, the task's reminders
 * to that agency are held (inbox.pause_reminders). Its cost grows with the
 * reports waiting, not with the tasks. Loop. */
struct inbox_wait {
        int64_t task_id;
        char *agency;
        int64_t since;             /* when the report was read */
};
struct inbox_wait_list {
        struct inbox_wait *items;
        size_t n;
};
int store_inbox_reports_waiting(struct store *s, struct inbox_wait_list *ret);
void inbox_wait_list_done(struct inbox_wait_list *l);
/* CONFIRMED or REJECTED, from PENDING or UNASSIGNED only (-EALREADY
 * otherwise); a message confirmed while unassigned is given task_id. */
int store_inbox_decide(struct store *s, int64_t id, enum inbox_state state, int64_t task_id, const char *by,
                       int64_t at, const char *reason);

/* Counts per state, indexed by enum delivery_state. Slow: counts every
 * delivery (the daemon calls it for its status line, at each re-arm). */
int store_delivery_counts(struct store *s, int64_t counts[static _DELIVERY_STATE_MAX]);

/* Which of a task's assignments are new and owe a notice: each agency of
 * `after` that `before` does not have in the same role gets notice_at =
 * `at` (0: none is owed, as for an import that is to stay quiet); those
 * `before` has keep its notice_at (a notice still owed stays owed). before
 * NULL: a task just created, every agency new. Returns how many are new. */
size_t task_agencies_mark_assigned(const struct task *before, struct task *after, int64_t at);

/* The task's deadline is no longer counted (given as a date, extended, or
 * a recurring task's next occurrence): it keeps no due rule. */
void task_due_rule_clear(struct task *t);

void document_done(struct document *d);
void task_done(struct task *t);
void task_list_done(struct task_list *l);
void task_change_done(struct task_change *c);
void task_change_list_done(struct task_change_list *l);
void task_completion_done(struct task_completion *c);
void task_completion_list_done(struct task_completion_list *l);
void task_occurrence_list_done(struct task_occurrence_list *l);
void delivery_done(struct delivery *d);
void delivery_list_done(struct delivery_list *l);
void inbox_message_done(struct inbox_message *m);
void inbox_message_list_done(struct inbox_message_list *l);
const char *inbox_state_to_string(enum inbox_state s);
enum inbox_state inbox_state_from_string(const char *s);
const char *inbox_intent_to_string(enum inbox_intent i);
enum inbox_intent inbox_intent_from_string(const char *s);

const char *task_status_to_string(enum task_status s);
enum task_status task_status_from_string(const char *s);
const char *role_to_string(enum role r);
enum role role_from_string(const char *s);
const char *task_field_to_string(enum task_field f);
enum task_field task_field_from_string(const char *s);
const char *change_source_to_string(enum change_source s);
enum change_source change_source_from_string(const char *s);
const char *delivery_state_to_string(enum delivery_state s);
enum delivery_state delivery_state_from_string(const char *s);
