/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdio.h>

#include "store-sqlite.h"

/* The schema as a list of steps. A database records in PRAGMA user_version
 * the last step it has taken (0: none, an empty file), and store_open()
 * takes the rest, each in its own transaction. A step, once released, is
 * never edited: a change is a new step. */
struct migration {
        int version;
        const char *sql;
};

static const struct migration migrations[] = {
        { 1,
          "CREATE TABLE documents (\n"
          "        id INTEGER PRIMARY KEY,\n"
          "        number TEXT NOT NULL UNIQUE,\n"
          "        subject TEXT,\n"
          "        issued_on TEXT,\n"
          "        issuer TEXT,\n"
          "        signer TEXT,\n"
          "        created_at INTEGER NOT NULL\n"
          ");\n"
          "CREATE TABLE tasks (\n"
          "        id INTEGER PRIMARY KEY,\n"
          "        document_id INTEGER REFERENCES documents(id) ON DELETE SET NULL,\n"
          "        ref TEXT,\n"
          "        title TEXT NOT NULL,\n"
          "        detail TEXT,\n"
          "        due TEXT,\n"
          "        due_at INTEGER,\n"
          "        status TEXT NOT NULL DEFAULT 'open'\n"
          "                CHECK (status IN ('open', 'done', 'cancelled')),\n"
          "        recurrence TEXT,\n"
          "        created_at INTEGER NOT NULL,\n"
          "        updated_at INTEGER NOT NULL,\n"
          "        closed_at INTEGER,\n"
          "        UNIQUE (document_id, ref)\n"
          ");\n"
          "CREATE TABLE task_agencies (\n"
          "        task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,\n"
          "        agency TEXT NOT NULL,\n"
          "        role TEXT NOT NULL CHECK (role IN ('lead', 'support')),\n"
          "        position INTEGER NOT NULL,\n"
          "        PRIMARY KEY (task_id, agency)\n"
          ");\n"
          "CREATE INDEX tasks_status_due ON tasks(status, due_at);\n" },

        /* The daemon's scheduling state and the outbox. Open tasks that
         * exist already are looked at once, from now on: their past slots
         * were never promised, so none is sent late. */
        { 2,
          "ALTER TABLE tasks ADD COLUMN next_fire_at INTEGER;\n"
          "ALTER TABLE tasks ADD COLUMN fired_through INTEGER;\n"
          "UPDATE tasks SET next_fire_at = CAST(strftime('%s', 'now') AS INTEGER),\n"
          "                 fired_through = CAST(strftime('%s', 'now') AS INTEGER)\n"
          "        WHERE status = 'open';\n"
          "CREATE INDEX tasks_next_fire ON tasks(next_fire_at)\n"
          "        WHERE status = 'open' AND next_fire_at IS NOT NULL;\n"
          "CREATE TABLE deliveries (\n"
          "        id INTEGER PRIMARY KEY,\n"
          "        task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,\n"
          "        slot TEXT NOT NULL,\n"
          "        slot_at INTEGER NOT NULL,\n"
          "        agency TEXT NOT NULL,\n"
          "        role TEXT,\n"
          "        channel TEXT NOT NULL,\n"
          "        state TEXT NOT NULL DEFAULT 'pending'\n"
          "                CHECK (state IN ('pending', 'attempting', 'sent', 'failed')),\n"
          "        attempts INTEGER NOT NULL DEFAULT 0,\n"
          "        next_attempt_at INTEGER,\n"
          "        last_error TEXT,\n"
          "        created_at INTEGER NOT NULL,\n"
          "        sent_at INTEGER,\n"
          "        UNIQUE (task_id, slot, agency, channel)\n"
          ");\n"
          "CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';\n"
          "CREATE INDEX deliveries_task ON deliveries(task_id);\n"
          "CREATE TABLE meta (\n"
          "        key TEXT PRIMARY KEY,\n"
          "        value TEXT NOT NULL\n"
          ") WITHOUT ROWID;\n" },

        /* The e-mail addresses of an agency that already accepted a
         * delivery, one per line: a retry for another address of the same
         * agency does not send it to them again. */
        { 3,
          "ALTER TABLE deliveries ADD COLUMN delivered_to TEXT;\n" },

        /* Each task's change log: what an import set and what a person
         * changed since, field by field, so that importing a document again
         * never undoes people's work. Tasks that exist already have none:
         * where their values came from is not known. field and source are
         * checked by the program, not the schema, so that later steps can
         * log more kinds of change without rebuilding the table. */
        { 4,
          "CREATE TABLE task_changes (\n"
          "        id INTEGER PRIMARY KEY,\n"
          "        task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,\n"
          "        at INTEGER NOT NULL,\n"
          "        field TEXT NOT NULL,\n"
          "        old TEXT,\n"
          "        new TEXT,\n"
          "        source TEXT NOT NULL,\n"
          "        note TEXT\n"
          ");\n"
          "CREATE INDEX task_changes_task ON task_changes(task_id, field);\n" },

        /* When a delivery was first attempted: max_retry_age counts from
         * it. Rows tried before this column existed get their creation
         * time, the moment the age was counted from until then, so none
         * is given up later than it would have been. */
        { 5,
          "ALTER TABLE deliveries ADD COLUMN first_attempt_at INTEGER;\n"
          "UPDATE deliveries SET first_attempt_at = created_at WHERE attempts > 0;\n" },

        /* Deadlines with their history, completions with their evidence.
         * tasks.original_due: the deadline as first set. A task that has
         * one-off deadline changes in the log takes the value before the
         * first of them; others (and recurring tasks, whose logged changes
         * may be moves to the next occurrence) their current deadline.
         * task_changes gain who made a change, the document that approved
         * it and why. completions: one row each time a task (or one
         * occurrence of a recurring task) is reported done; the tasks done
         * already get one from when they were closed, so that what they
         * answered for is counted. */
        { 6,
          "ALTER TABLE tasks ADD COLUMN original_due TEXT;\n"
          "UPDATE tasks SET original_due = CASE WHEN recurrence IS NULL THEN coalesce(\n"
          "        (SELECT c.old FROM task_changes AS c WHERE c.task_id = tasks.id AND c.field = 'due'\n"
          "                AND c.old IS NOT NULL ORDER BY c.id LIMIT 1), due) ELSE due END;\n"
          "ALTER TABLE task_changes ADD COLUMN actor TEXT;\n"
          "ALTER TABLE task_changes ADD COLUMN approved_by TEXT;\n"
          "ALTER TABLE task_changes ADD COLUMN reason TEXT;\n"
          "CREATE TABLE completions (\n"
          "        id INTEGER PRIMARY KEY,\n"
          "        task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,\n"
          "        due TEXT,\n"
          "        due_at INTEGER,\n"
          "        done_on TEXT,\n"
          "        done_at INTEGER NOT NULL,\n"
          "        note TEXT,\n"
          "        recorded_at INTEGER NOT NULL,\n"
          "        actor TEXT,\n"
          "        reopened_at INTEGER\n"
          ");\n"
          "CREATE INDEX completions_task ON completions(task_id);\n"
          "CREATE INDEX completions_done ON completions(done_at);\n"
          "INSERT INTO completions (task_id, due, due_at, done_at, recorded_at)\n"
          "        SELECT id, due, due_at, coalesce(closed_at, updated_at), coalesce(closed_at, updated_at)\n"
          "        FROM tasks WHERE status = 'done';\n" },

        /* A compliance report reads completions by the deadline they
         * answered, those that stand (not reopened). */
        { 7,
          "CREATE INDEX completions_due ON completions(due_at) WHERE reopened_at IS NULL;\n" },

        /* Assignment notices, and deliveries that are about no one task.
         * task_agencies.notice_at: when a notice of the assignment became
         * owed to that agency (the task was created or handed to it), NULL
         * once the daemon has made it into deliveries or when none is owed.
         * The assignments that exist already are taken as notified, so that
         * nobody is sent a notice of an old task.
         * deliveries.task_id may be NULL: a delivery about a set of tasks or
         * about none (a report for an agency and period) is keyed by its
         * slot, agency and channel alone. SQLite cannot drop a NOT NULL, so
         * the table is made again under its name, with its rows. */
        { 8,
          "ALTER TABLE task_agencies ADD COLUMN notice_at INTEGER;\n"
          "CREATE TABLE deliveries_new (\n"
          "        id INTEGER PRIMARY KEY,\n"
          "        task_id INTEGER REFERENCES tasks(id) ON DELETE CASCADE,\n"
          "        slot TEXT NOT NULL,\n"
          "        slot_at INTEGER NOT NULL,\n"
          "        agency TEXT NOT NULL,\n"
          "        role TEXT,\n"
          "        channel TEXT NOT NULL,\n"
          "        state TEXT NOT NULL DEFAULT 'pending'\n"
          "                CHECK (state IN ('pending', 'attempting', 'sent', 'failed')),\n"
          "        attempts INTEGER NOT NULL DEFAULT 0,\n"
          "        next_attempt_at INTEGER,\n"
          "        last_error TEXT,\n"
          "        created_at INTEGER NOT NULL,\n"
          "        sent_at INTEGER,\n"
          "        delivered_to TEXT,\n"
          "        first_attempt_at INTEGER,\n"
          "        UNIQUE (task_id, slot, agency, channel)\n"
          ");\n"
          "INSERT INTO deliveries_new (id, task_id, slot, slot_at, agency, role, channel, state, attempts,\n"
          "        next_attempt_at, last_error, created_at, sent_at, delivered_to, first_attempt_at)\n"
          "        SELECT id, task_id, slot, slot_at, agency, role, channel, state, attempts,\n"
          "        next_attempt_at, last_error, created_at, sent_at, delivered_to, first_attempt_at\n"
          "        FROM deliveries;\n"
          "DROP TABLE deliveries;\n"
          "ALTER TABLE deliveries_new RENAME TO deliveries;\n"
          "CREATE UNIQUE INDEX deliveries_untasked ON deliveries(slot, agency, channel)\n"
          "        WHERE task_id IS NULL;\n"
          "CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';\n"
          "CREATE INDEX deliveries_task ON deliveries(task_id);\n" },

        /* An operator's retry of a delivery that was given up: when, by
         * whom, and how many times. */
        { 9,
          "ALTER TABLE deliveries ADD COLUMN retried_at INTEGER;\n"
          "ALTER TABLE deliveries ADD COLUMN retried_by TEXT;\n"
          "ALTER TABLE deliveries ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;\n" },

        /* tasks.revision: how many times the task was changed (its
         * calendar entry's SEQUENCE). Existing tasks start at 0. */
        { 10,
          "ALTER TABLE tasks ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;\n" },

        /* A deadline counted in working days keeps its rule: the number
         * of working days and the day they are counted from. Existing
         * tasks have none (their deadlines stand as dates). */
        { 11,
          "ALTER TABLE tasks ADD COLUMN due_rule_days INTEGER;\n"
          "ALTER TABLE tasks ADD COLUMN due_rule_from TEXT;\n" },

        /* The inbox: every message read from it, once (by its mailbox's
         * UIDVALIDITY and UID, and by its Message-ID, which survives a
         * mailbox rebuilt under a new UIDVALIDITY), with what was made of
         * it and what the officer decided. A deleted task leaves its
         * replies, unassigned to it. */
        { 12,
          "CREATE TABLE inbox_messages (\n"
          "        id INTEGER PRIMARY KEY,\n"
          "        uidvalidity INTEGER NOT NULL,\n"
          "        uid INTEGER NOT NULL,\n"
          "        message_id TEXT,\n"
          "        sender TEXT,\n"
          "        subject TEXT,\n"
          "        received_at INTEGER NOT NULL,\n"
          "        sent_at INTEGER,\n"
          "        task_id INTEGER REFERENCES tasks(id) ON DELETE SET NULL,\n"
          "        agency TEXT,\n"
          "        intent TEXT NOT NULL DEFAULT 'unknown'\n"
          "                CHECK (intent IN ('unknown', 'done', 'extension')),\n"
          "        asked_day INTEGER,\n"
          "        evidence TEXT,\n"
          "        text TEXT,\n"
          "        state TEXT NOT NULL\n"
          "                CHECK (state IN ('pending', 'confirmed', 'rejected', 'unassigned', 'ignored')),\n"
          "        note TEXT,\n"
          "        decided_by TEXT,\n"
          "        decided_at INTEGER,\n"
          "        reason TEXT,\n"
          "        UNIQUE (uidvalidity, uid)\n"
          ");\n"
          "CREATE UNIQUE INDEX inbox_messages_message_id ON inbox_messages(message_id)\n"
          "        WHERE message_id IS NOT NULL;\n"
          "CREATE INDEX inbox_messages_open ON inbox_messages(state)\n"
          "        WHERE state IN ('pending', 'unassigned');\n"
          "CREATE INDEX inbox_messages_task ON inbox_messages(task_id);\n" },
        /* deliveries(task_id) is the first column of the UNIQUE key's index,
         * which serves every lookup by task: the second index only cost a
         * random page read and write per delivery decided. */
        { 13,
          "DROP INDEX deliveries_task;\n" },
        /* deliveries.state's CHECK as comparisons, not an IN list: SQLite
         * (3.40) builds a throw-away b-tree for the list every time a
         * row's state is written, which was a third of the work of
         * inserting a delivery, and claiming and settling write the state
         * too. Same rule, same rows; SQLite cannot change a CHECK, so the
         * table is made again under its name, with its rows. */
        { 14,
          "CREATE TABLE deliveries_new (\n"
          "        id INTEGER PRIMARY KEY,\n"
          "        task_id INTEGER REFERENCES tasks(id) ON DELETE CASCADE,\n"
          "        slot TEXT NOT NULL,\n"
          "        slot_at INTEGER NOT NULL,\n"
          "        agency TEXT NOT NULL,\n"
          "        role TEXT,\n"
          "        channel TEXT NOT NULL,\n"
          "        state TEXT NOT NULL DEFAULT 'pending'\n"
          "                CHECK (state = 'pending' OR state = 'attempting' OR state = 'sent'\n"
          "                       OR state = 'failed'),\n"
          "        attempts INTEGER NOT NULL DEFAULT 0,\n"
          "        next_attempt_at INTEGER,\n"
          "        last_error TEXT,\n"
          "        created_at INTEGER NOT NULL,\n"
          "        sent_at INTEGER,\n"
          "        delivered_to TEXT,\n"
          "        first_attempt_at INTEGER,\n"
          "        retried_at INTEGER,\n"
          "        retried_by TEXT,\n"
          "        retries INTEGER NOT NULL DEFAULT 0,\n"
          "        UNIQUE (task_id, slot, agency, channel)\n"
          ");\n"
          "INSERT INTO deliveries_new (id, task_id, slot, slot_at, agency, role, channel, state, attempts,\n"
          "        next_attempt_at, last_error, created_at, sent_at, delivered_to, first_attempt_at,\n"
          "        retried_at, retried_by, retries)\n"
          "        SELECT id, task_id, slot, slot_at, agency, role, channel, state, attempts,\n"
          "        next_attempt_at, last_error, created_at, sent_at, delivered_to, first_attempt_at,\n"
          "        retried_at, retried_by, retries\n"
          "        FROM deliveries ORDER BY id;\n"
          "DROP TABLE deliveries;\n"
          "ALTER TABLE deliveries_new RENAME TO deliveries;\n"
          "CREATE UNIQUE INDEX deliveries_untasked ON deliveries(slot, agency, channel)\n"
          "        WHERE task_id IS NULL;\n"
          "CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending';\n" },
};

_Static_assert(ELEMENTSOF(migrations) == STORE_SCHEMA_VERSION,
               "one migration per schema version");

static int exec(struct store *s, const char *sql) {
        int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
        return rc == SQLITE_OK ? 0 : store_error(s, rc);
}

/* A database without a schema version must be empty: anything else is some
 * other program's, and creating our tables beside its own would be wrong. */
static int check_empty(struct store *s) {
        sqlite3_stmt *st = NULL;
        int rc, r = 0;

        rc = sqlite3_prepare_v2(s->db, "SELECT count(*) FROM sqlite_schema", -1, &st, NULL);
        if (rc != SQLITE_OK)
                return store_error(s, rc);
        rc = sqlite3_step(st);
        if (rc != SQLITE_ROW)
                r = store_error(s, rc);
        else if (sqlite3_column_int64(st, 0) > 0) {
                store_set_error(s, "database has tables but no schema version: "
                                "not a deadlined database");
                r = -EBADMSG;
        }
        (void) sqlite3_finalize(st);
        return r;
}

static int migrate_step(struct store *s, const struct migration *m) {
        char sql[64], failed[sizeof s->error];
        int version, r;

        /* sqlite_begin(): inside a dry run's transaction, a savepoint. */
        r = sqlite_begin(s);
        if (r < 0)
                return r;

        /* Another process may have migrated while we waited for the lock. */
        version = sqlite_schema_version(s);
        if (version < 0) {
                r = version;
                goto fail;
        }
        if (version >= m->version)
                return sqlite_commit(s);
        if (version == 0) {
                r = check_empty(s);
                if (r < 0)
                        goto fail;
        }

        r = exec(s, m->sql);
        if (r < 0) {
                char msg[sizeof s->error];

                snprintf(msg, sizeof msg, "%s", s->error);
                store_set_error(s, "migrating to schema version %d: %s", m->version, msg);
                goto fail;
        }
        /* PRAGMA takes no parameters. */
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", m->version);
        r = exec(s, sql);
        if (r < 0)
                goto fail;
        r = sqlite_commit(s);
        if (r < 0)
                goto fail;
        return 0;

fail:
        /* Keep the message of what failed, not of the rollback. */
        snprintf(failed, sizeof failed, "%s", s->error);
        (void) sqlite_rollback(s);
        snprintf(s->error, sizeof s->error, "%s", failed);
        return r;
}

int store_migrate(struct store *s) {
        int version, r;

        version = sqlite_schema_version(s);
        if (version < 0)
                return version;
        if (version >= STORE_SCHEMA_VERSION)
                return 0;
        if (s->flags & STORE_READONLY) {
                store_set_error(s, "database schema version %d needs upgrading to %d, "
                                "which a read-only open cannot do",
                                version, STORE_SCHEMA_VERSION);
                return -EROFS;
        }

        for (size_t i = 0; i < ELEMENTSOF(migrations); i++) {
                if (migrations[i].version <= version)
                        continue;
                r = migrate_step(s, &migrations[i]);
                if (r < 0)
                        return r;
        }
        return 0;
}
