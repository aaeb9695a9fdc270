/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The PostgreSQL backend of store.h: the connection (TLS verified unless
 * the URI says otherwise, timeouts that bound every call), errors, the
 * statement table, transactions, meta and the instance id. Tasks and the
 * outbox are in store-pg-task.c, the schema in store-pg-schema.c.
 *
 * Calls are blocking, bounded by the timeouts in store-pg.h; the daemon's
 * loop is to reach them through a store thread (doc/architecture.md). */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "store-pg.h"

#define SQL_TASK_COLUMNS                                                        \
        "t.id, t.document_id, d.number, t.ref, t.title, t.detail, t.due, "      \
        "t.due_at, t.status, t.recurrence, t.created_at, t.updated_at, "        \
        "t.closed_at, t.next_fire_at, t.fired_through, t.original_due, t.revision, " \
        "t.due_rule_days, t.due_rule_from"

#define SQL_DELIVERY_COLUMNS                                                    \
        "id, task_id, slot, slot_at, agency, role, channel, state, attempts, "  \
        "next_attempt_at, last_error, created_at, sent_at, delivered_to, "     \
        "first_attempt_at, retried_at, retried_by, retries, claimed_until"

#define PG_INBOX_COLUMNS \
        "id, uidvalidity, uid, message_id, sender, subject, received_at, sent_at, task_id, agency, intent, " \
        "asked_day, evidence, text, state, note, decided_by, decided_at, reason"
#define SQL_NOW "extract(epoch FROM now())::bigint"

/* A delivery is due when it is pending and its time came, or when it was
 * claimed and the claim's lease ran out (its sender died). */
#define SQL_DUE_WHERE                                                           \
        "((state = 'pending' AND next_attempt_at <= $1) "                       \
        "OR (state = 'attempting' AND claimed_until < $1))"

static const char *const pg_sql[_PG_STATEMENT_MAX] = {
        [PG_BEGIN]          = "BEGIN",
        [PG_COMMIT]         = "COMMIT",
        [PG_ROLLBACK]       = "ROLLBACK",
        [PG_SCHEMA_VERSION] = "SELECT version FROM deadlined_schema",

        [PG_META_GET] = "SELECT value FROM meta WHERE key = $1",
        [PG_META_SET] = "INSERT INTO meta (key, value) VALUES ($1, $2) "
                        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",

        [PG_DOCUMENT_UPSERT] =
                "INSERT INTO documents (number, subject, issued_on, issuer, signer, created_at) "
                "VALUES ($1, $2, $3, $4, $5, " SQL_NOW ") "
                "ON CONFLICT (number) DO UPDATE SET subject = excluded.subject, "
                "issued_on = excluded.issued_on, issuer = excluded.issuer, signer = excluded.signer "
                "RETURNING id",
        [PG_DOCUMENT_GET] =
                "SELECT id, number, subject, issued_on, issuer, signer FROM documents WHERE number = $1",

        [PG_TASK_INSERT] =
                "INSERT INTO tasks (document_id, ref, title, detail, due, due_at, status, "
                "recurrence, created_at, updated_at, closed_at, next_fire_at, fired_through, original_due, "
                "due_rule_days, due_rule_from) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11, $9, $12, $13, $14) RETURNING id",
        [PG_TASK_AGENCY_INSERT] =
                "INSERT INTO task_agencies (task_id, agency, role, position, notice_at) "
                "VALUES ($1, $2, $3, $4, $5)",
        [PG_TASK_GET] =
                "SELECT " SQL_TASK_COLUMNS " FROM tasks AS t "
                "LEFT JOIN documents AS d ON d.id = t.document_id WHERE t.id = $1",
        [PG_TASK_GET_AGENCIES] =
                "SELECT task_id, agency, role, notice_at FROM task_agencies WHERE task_id = $1 "
                "ORDER BY position",
        [PG_TASK_STATUS] = "SELECT status FROM tasks WHERE id = $1 FOR UPDATE",
        [PG_TASK_CLOSE] =
                "UPDATE tasks SET status = $2, closed_at = $3, updated_at = $3, revision = revision + 1, "
                "next_fire_at = NULL WHERE id = $1",
        [PG_TASK_REOPEN] =
                "UPDATE tasks SET status = 'open', closed_at = NULL, updated_at = $2, revision = revision + 1, "
                "next_fire_at = $2, fired_through = $2 WHERE id = $1",
        [PG_DELIVERIES_DROP_STALE] =
                "DELETE FROM deliveries WHERE task_id = $1 AND state = 'pending' "
                "AND ($2::text IS NULL OR (slot NOT LIKE '%@' || $2::text AND slot NOT LIKE 'notice:%'))",
        /* $1 status, $2 due at or before, $3 document, $4 agencies (a
         * text[]), $5 the limit; NULL lets everything through. */
        [PG_TASK_LIST] =
                "SELECT " SQL_TASK_COLUMNS " FROM tasks AS t "
                "LEFT JOIN documents AS d ON d.id = t.document_id "
                "WHERE ($1::text IS NULL OR t.status = $1::text) "
                "AND ($2::bigint IS NULL OR t.due_at <= $2::bigint) "
                "AND ($3::bigint IS NULL OR t.document_id = $3::bigint) "
                "AND ($4::text[] IS NULL OR EXISTS (SELECT 1 FROM task_agencies AS f "
                "WHERE f.task_id = t.id AND f.agency = ANY ($4::text[]))) "
                "ORDER BY t.due_at IS NULL, t.due_at, t.id LIMIT $5",
        [PG_TASK_SET_SCHEDULE] =
                "UPDATE tasks SET next_fire_at = CASE WHEN status = 'open' THEN $2::bigint END, "
                "fired_through = $3 WHERE id = $1",
        [PG_TASKS_SET_SCHEDULE] =
                "UPDATE tasks AS t SET next_fire_at = CASE WHEN t.status = 'open' THEN u.next END, "
                "fired_through = $3 FROM unnest($1::bigint[], $2::bigint[]) AS u(id, next) WHERE t.id = u.id",
        [PG_NEXT_FIRE] =
                "SELECT min(next_fire_at) FROM tasks WHERE status = 'open' AND next_fire_at IS NOT NULL",
        [PG_TASKS_DUE] =
                "SELECT " SQL_TASK_COLUMNS " FROM tasks AS t "
                "LEFT JOIN documents AS d ON d.id = t.document_id "
                "WHERE t.status = 'open' AND t.next_fire_at IS NOT NULL AND t.next_fire_at <= $1 "
                "ORDER BY t.next_fire_at, t.id LIMIT $2",
        [PG_AGENCY_IDS] =
                "SELECT DISTINCT a.agency FROM task_agencies AS a JOIN tasks AS t ON t.id = a.task_id "
                "WHERE t.status = 'open' ORDER BY a.agency",

        [PG_DELIVERY_INSERT] =
                "INSERT INTO deliveries (task_id, slot, slot_at, agency, role, channel, state, "
                "attempts, next_attempt_at, last_error, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, "
                "coalesce($9::bigint, CASE WHEN $7::text = 'pending' THEN coalesce($11::bigint, " SQL_NOW ") END), "
                "$10, coalesce($11::bigint, " SQL_NOW ")) "
                "ON CONFLICT DO NOTHING RETURNING id",
        /* New pending deliveries, a column an array. */
        [PG_DELIVERIES_INSERT] =
                "INSERT INTO deliveries (task_id, slot, slot_at, agency, role, channel, state, "
                "attempts, next_attempt_at, created_at) "
                "SELECT u.task_id, u.slot, u.slot_at, u.agency, u.role, u.channel, 'pending', 0, "
                "coalesce(u.next, coalesce($8::bigint, " SQL_NOW ")), coalesce($8::bigint, " SQL_NOW ") "
                "FROM unnest($1::bigint[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], "
                "$7::bigint[]) AS u(task_id, slot, slot_at, agency, role, channel, next) "
                "ON CONFLICT DO NOTHING",
        [PG_DELIVERY_FIND] =
                "SELECT id FROM deliveries WHERE task_id IS NOT DISTINCT FROM $1::bigint "
                "AND slot = $2 AND agency = $3 AND channel = $4",
        /* Several daemons read due work at once: a row one of them has
         * locked (it is claiming it) is left to it. $3: receivers left
         * out, "agency|channel" keys (a text[]). */
        [PG_DELIVERIES_DUE] =
                "SELECT " SQL_DELIVERY_COLUMNS " FROM deliveries WHERE " SQL_DUE_WHERE " "
                "AND ($3::text[] IS NULL OR NOT (agency || '|' || channel = ANY ($3::text[]))) "
                "ORDER BY next_attempt_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
        [PG_NEXT_DELIVERY] =
                "SELECT min(next_attempt_at) FROM deliveries "
                "WHERE state = 'pending' AND next_attempt_at IS NOT NULL",
        [PG_DELIVERY_STATE] = "SELECT state FROM deliveries WHERE id = $1",
        [PG_DELIVERY_PENDING] =
                "UPDATE deliveries SET state = 'pending', next_attempt_at = $2, last_error = $3, "
                "claimed_by = NULL, claimed_until = NULL WHERE id = $1",
        /* A claim: from pending, or from a claim whose lease ran out. */
        [PG_DELIVERY_ATTEMPTING] =
                "UPDATE deliveries SET state = 'attempting', attempts = attempts + 1, "
                "first_attempt_at = coalesce(first_attempt_at, $2), claimed_by = $3, claimed_until = $2 + $4 "
                "WHERE id = $1 AND (state = 'pending' OR (state = 'attempting' AND claimed_until < $2))",
        [PG_DELIVERY_SENT] =
                "UPDATE deliveries SET state = 'sent', sent_at = $2, next_attempt_at = NULL, "
                "last_error = $3, claimed_until = NULL WHERE id = $1",
        [PG_DELIVERY_FAILED] =
                "UPDATE deliveries SET state = 'failed', next_attempt_at = NULL, last_error = $2, "
                "claimed_until = NULL WHERE id = $1",
        [PG_DELIVERIES_ATTEMPTING] =
                "UPDATE deliveries SET state = 'attempting', attempts = attempts + 1, "
                "first_attempt_at = coalesce(first_attempt_at, $2), claimed_by = $3, claimed_until = $2 + $4 "
                "WHERE id = ANY ($1::bigint[]) "
                "AND (state = 'pending' OR (state = 'attempting' AND claimed_until < $2))",
        [PG_DELIVERIES_SENT] =
                "UPDATE deliveries SET state = 'sent', sent_at = $2, next_attempt_at = NULL, "
                "last_error = NULL, claimed_until = NULL WHERE id = ANY ($1::bigint[])",
        /* At start: this daemon's own claims go back, and those whose
         * lease ran out; another daemon's live claims stay its own. */
        [PG_DELIVERIES_RESET] =
                "UPDATE deliveries SET state = 'pending', next_attempt_at = $1, "
                "claimed_by = NULL, claimed_until = NULL "
                "WHERE state = 'attempting' AND (claimed_by IS NULL OR claimed_by = $2 OR claimed_until < $1)",
        [PG_DELIVERY_COUNTS] = "SELECT state, count(*) FROM deliveries GROUP BY state",
        [PG_DELIVERY_GET] = "SELECT " SQL_DELIVERY_COLUMNS " FROM deliveries WHERE id = $1",
        [PG_DELIVERY_LIST_TASK] =
                "SELECT " SQL_DELIVERY_COLUMNS " FROM deliveries WHERE task_id = $1 ORDER BY slot_at, id",
        [PG_DELIVERIES_TROUBLE] =
                "SELECT " SQL_DELIVERY_COLUMNS " FROM deliveries "
                "WHERE state = 'failed' OR (state = 'pending' AND last_error IS NOT NULL) "
                "ORDER BY id DESC LIMIT $1",
        [PG_DELIVERIES_RECENT] =
                "SELECT " SQL_DELIVERY_COLUMNS " FROM deliveries ORDER BY id DESC LIMIT $1",
        [PG_DELIVERY_PUT_BACK] =
                "UPDATE deliveries SET state = 'pending', attempts = greatest(attempts - 1, 0), "
                "next_attempt_at = $2, "
                "first_attempt_at = CASE WHEN attempts <= 1 THEN NULL ELSE first_attempt_at END, "
                "claimed_by = NULL, claimed_until = NULL "
                "WHERE id = $1 AND state = 'attempting'",
        [PG_DELIVERY_DELIVERED_TO] = "UPDATE deliveries SET delivered_to = $2 WHERE id = $1",
        [PG_DELIVERIES_CLOCK_STEP] =
                "UPDATE deliveries SET next_attempt_at = greatest(next_attempt_at + $1, $2) "
                "WHERE state = 'pending' AND next_attempt_at > $2 AND attempts > 0",

        [PG_TASK_UPDATE] =
                "UPDATE tasks SET ref = $2, title = $3, detail = $4, due = $5, due_at = $6, "
                "recurrence = $7, updated_at = $8, original_due = $9, due_rule_days = $10, due_rule_from = $11, "
                "revision = revision + 1, "
                "next_fire_at = CASE WHEN status = 'open' THEN $8::bigint ELSE next_fire_at END, "
                "fired_through = CASE WHEN status = 'open' THEN $8::bigint ELSE fired_through END "
                "WHERE id = $1",
        [PG_TASK_AGENCIES_DELETE] = "DELETE FROM task_agencies WHERE task_id = $1",
        [PG_TASKS_GET] =
                "SELECT " SQL_TASK_COLUMNS " FROM tasks AS t "
                "LEFT JOIN documents AS d ON d.id = t.document_id "
                "WHERE t.id = ANY ($1::bigint[]) ORDER BY t.id",
        /* Its agencies, deliveries, changes and completions go with it (ON
         * DELETE CASCADE); identity columns never give its ids again. */
        [PG_TASK_DELETE] = "DELETE FROM tasks WHERE id = $1",
        [PG_TASKS_RESCHEDULE] =
                "UPDATE tasks SET next_fire_at = $1 WHERE id IN "
                "(SELECT id FROM tasks WHERE status = 'open' AND id > $2 ORDER BY id LIMIT $3) "
                "RETURNING id",
        /* As SQLite's (store-sqlite.c, STMT_TASK_OCCURRENCES): completions
         * that stand, then open tasks, each with the approved deadline
         * changes made to that occurrence. */
        [PG_TASK_OCCURRENCES] =
                "SELECT k.task_id, k.id, d.number, a.agency, k.due_at, k.done_at, "
                "(SELECT count(*) FROM task_changes AS c WHERE c.task_id = k.task_id AND c.field = 'due' "
                "AND c.approved_by IS NOT NULL AND c.at <= k.recorded_at AND c.at > coalesce("
                "(SELECT max(p.recorded_at) FROM completions AS p WHERE p.task_id = k.task_id "
                "AND p.id < k.id AND p.reopened_at IS NULL), -9223372036854775807)) "
                "FROM completions AS k "
                "JOIN tasks AS t ON t.id = k.task_id "
                "JOIN task_agencies AS a ON a.task_id = k.task_id AND a.role = 'lead' "
                "LEFT JOIN documents AS d ON d.id = t.document_id "
                "WHERE k.reopened_at IS NULL AND k.due_at BETWEEN $1 AND $2 AND t.status <> 'cancelled' "
                "AND ($3::bigint IS NULL OR t.document_id = $3::bigint) AND ($4::text IS NULL OR a.agency = $4::text) "
                "UNION ALL "
                "SELECT t.id, 0, d.number, a.agency, t.due_at, NULL, "
                "(SELECT count(*) FROM task_changes AS c WHERE c.task_id = t.id AND c.field = 'due' "
                "AND c.approved_by IS NOT NULL AND c.at > coalesce("
                "(SELECT max(p.recorded_at) FROM completions AS p WHERE p.task_id = t.id "
                "AND p.reopened_at IS NULL), -9223372036854775807)) "
                "FROM tasks AS t "
                "JOIN task_agencies AS a ON a.task_id = t.id AND a.role = 'lead' "
                "LEFT JOIN documents AS d ON d.id = t.document_id "
                "WHERE t.status = 'open' AND t.due_at BETWEEN $1 AND $2 "
                "AND ($3::bigint IS NULL OR t.document_id = $3::bigint) AND ($4::text IS NULL OR a.agency = $4::text)",
        /* As SQLite's (STMT_DELIVERIES_RETRY); $3 a text[] of agencies. */
        [PG_DELIVERIES_RETRY] =
                "UPDATE deliveries SET state = 'pending', next_attempt_at = $4, attempts = 0, "
                "first_attempt_at = NULL, retried_at = $4, retried_by = $5, retries = retries + 1 "
                "WHERE state = 'failed' AND ($1::bigint IS NULL OR id = $1::bigint) "
                "AND ($2::bigint IS NULL OR task_id = $2::bigint) "
                "AND ($3::text[] IS NULL OR agency = ANY ($3::text[])) "
                "AND (deliveries.task_id IS NULL OR EXISTS (SELECT 1 FROM tasks AS t "
                "WHERE t.id = deliveries.task_id AND t.status = 'open' "
                "AND (deliveries.slot LIKE 'notice:%' OR (t.due_at IS NOT NULL "
                "AND (deliveries.slot LIKE '%@' || t.due_at "
                "OR (deliveries.slot LIKE 'overdue:%' AND deliveries.slot_at > t.due_at)))))) "
                "RETURNING id",
        /* The inbox, as SQLite's (store-sqlite.c, STMT_INBOX_*). */
        [PG_INBOX_ADD] =
                "INSERT INTO inbox_messages (uidvalidity, uid, message_id, sender, subject, received_at, sent_at, "
                "task_id, agency, intent, asked_day, evidence, text, state, note) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
                "ON CONFLICT DO NOTHING RETURNING id",
        [PG_INBOX_LAST_UID] =
                "SELECT coalesce(max(uid), 0) FROM inbox_messages WHERE uidvalidity = $1",
        [PG_INBOX_GET] =
                "SELECT " PG_INBOX_COLUMNS " FROM inbox_messages WHERE id = $1",
        [PG_INBOX_OPEN] =
                "SELECT " PG_INBOX_COLUMNS " FROM inbox_messages "
                "WHERE state IN ('pending', 'unassigned') ORDER BY id",
        [PG_INBOX_TASK] =
                "SELECT " PG_INBOX_COLUMNS " FROM inbox_messages WHERE task_id = $1 ORDER BY id",
        [PG_INBOX_AGENCY_WAITING] =
                "SELECT EXISTS (SELECT 1 FROM inbox_messages "
                "WHERE state = 'pending' AND agency = $1 AND intent = 'done')::int",
        [PG_INBOX_DECIDE] =
                "UPDATE inbox_messages SET state = $2, task_id = coalesce($3::bigint, task_id), decided_by = $4, "
                "decided_at = $5, reason = $6 WHERE id = $1 AND state IN ('pending', 'unassigned') "
                "RETURNING id",
        /* The decide lock (store_decide_lock()): one key for every
         * deadlined, held until the transaction ends. */
        [PG_DECIDE_LOCK] = "SELECT pg_try_advisory_xact_lock(" PG_DECIDE_LOCK_KEY ")",
        [PG_INBOX_REPORTS_WAITING] =
                "SELECT task_id, agency, received_at FROM inbox_messages "
                "WHERE state = 'pending' AND intent = 'done' AND task_id IS NOT NULL AND agency IS NOT NULL "
                "ORDER BY task_id, agency",
        [PG_TASK_FIND_REF] =
                "SELECT id FROM tasks WHERE document_id IS NOT DISTINCT FROM $1::bigint AND ref = $2",
        [PG_TASK_NOTICES_CLEAR] =
                "UPDATE task_agencies SET notice_at = NULL WHERE task_id = $1 AND notice_at IS NOT NULL",
        [PG_TASK_CHANGE_INSERT] =
                "INSERT INTO task_changes (task_id, at, field, old, new, source, note, actor, "
                "approved_by, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
        [PG_TASK_CHANGES] =
                "SELECT id, task_id, at, field, old, new, source, note, actor, approved_by, reason "
                "FROM task_changes WHERE task_id = $1 ORDER BY id",
        [PG_TASK_CHANGE_LAST] =
                "SELECT id, task_id, at, field, old, new, source, note, actor, approved_by, reason "
                "FROM task_changes WHERE task_id = $1 AND field = $2 AND ($3::text IS NULL OR source = $3::text) "
                "ORDER BY id DESC LIMIT 1",
        [PG_COMPLETION_INSERT] =
                "INSERT INTO completions (task_id, due, due_at, done_on, done_at, note, recorded_at, actor) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        [PG_COMPLETIONS] =
                "SELECT id, task_id, due, due_at, done_on, done_at, note, recorded_at, actor, reopened_at "
                "FROM completions WHERE task_id = $1 ORDER BY id",
        [PG_COMPLETION_REOPENED] =
                "UPDATE completions SET reopened_at = $2 WHERE id = (SELECT max(id) FROM completions "
                "WHERE task_id = $1 AND reopened_at IS NULL)",
};

void pg_arg_text(struct pg_args *a, const char *v) {
        assert(a->n < PG_ARGS_MAX);
        a->v[a->n++] = v;
}

void pg_arg_int(struct pg_args *a, int64_t v) {
        assert(a->n < PG_ARGS_MAX);
        snprintf(a->buf[a->n], sizeof a->buf[a->n], "%" PRId64, v);
        a->v[a->n] = a->buf[a->n];
        a->n++;
}

void pg_arg_time(struct pg_args *a, int64_t v) {
        if (v == NO_TIME)
                pg_arg_text(a, NULL);
        else
                pg_arg_int(a, v);
}

void pg_arg_id(struct pg_args *a, int64_t v) {
        if (v == 0)
                pg_arg_text(a, NULL);
        else
                pg_arg_int(a, v);
}

/* libpq's messages end in a newline and may run over several lines
 * ("DETAIL: …"): the first line is the one-line account. */
static void set_error_line(char *buf, size_t size, const char *msg) {
        size_t n = strcspn(msg ?: "", "\n");

        snprintf(buf, size, "%.*s", (int) n, msg ?: "");
        if (!buf[0])
                snprintf(buf, size, "unknown PostgreSQL error");
}

void pg_set_error(struct store *s, const char *format, ...) {
        char buf[sizeof s->error];
        va_list ap;

        va_start(ap, format);
        vsnprintf(buf, sizeof buf, format, ap);
        va_end(ap);
        set_error_line(s->error, sizeof s->error, buf);
}

/* SQLSTATE classes to errno, as store.h promises them. */
static int errno_from_sqlstate(const char *state) {
        static const struct {
                const char *state;
                int error;
        } table[] = {
                { "23505", -EEXIST },          /* unique_violation */
                { "23503", -EINVAL },          /* foreign_key_violation */
                { "23502", -EINVAL },          /* not_null_violation */
                { "23514", -EINVAL },          /* check_violation */
                { "22P02", -EINVAL },          /* invalid_text_representation */
                { "55P03", -EBUSY },           /* lock_not_available (lock_timeout) */
                { "57014", -EBUSY },           /* query_canceled (statement_timeout) */
                { "40001", -EBUSY },           /* serialization_failure */
                { "40P01", -EBUSY },           /* deadlock_detected */
                { "53100", -ENOSPC },          /* disk_full */
                { "53200", -ENOMEM },          /* out_of_memory */
                { "25006", -EROFS },           /* read_only_sql_transaction */
                { "42501", -EACCES },          /* insufficient_privilege */
                { "28P01", -EACCES },          /* invalid_password */
                { "28000", -EACCES },          /* invalid_authorization_specification */
                { "3D000", -ENOENT },          /* invalid_catalog_name: no such database */
                { "54000", -E2BIG },           /* program_limit_exceeded */
        };

        if (!state)
                return -EIO;
        for (size_t i = 0; i < ELEMENTSOF(table); i++)
                if (streq(table[i].state, state))
                        return table[i].error;
        if (strncmp(state, "08", 2) == 0)       /* connection_exception */
                return -ECONNRESET;
        return -EIO;
}

static int result_error(struct store *s, PGresult *res) {
        const char *msg = res ? PQresultErrorMessage(res) : PQerrorMessage(s->conn);

        set_error_line(s->error, sizeof s->error, msg && *msg ? msg : PQerrorMessage(s->conn));
        if (PQstatus(s->conn) == CONNECTION_BAD)
                return -ECONNRESET;
        return res ? errno_from_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE)) : -EIO;
}

/* The statements whose changes another daemon acts on (a task to decide,
 * a delivery to send): a commit after them notifies (pg_changed()). The
 * daemon's own bookkeeping (schedules, claims, results) does not. */
static const bool pg_notifies[_PG_STATEMENT_MAX] = {
        [PG_TASK_INSERT] = true,
        [PG_TASK_UPDATE] = true,
        [PG_TASK_CLOSE] = true,
        [PG_TASK_REOPEN] = true,
        [PG_TASK_DELETE] = true,
        [PG_TASK_NOTICES_CLEAR] = true,
        [PG_DELIVERY_INSERT] = true,
        [PG_DELIVERIES_INSERT] = true,
        [PG_DELIVERIES_RETRY] = true,
        [PG_INBOX_DECIDE] = true,
};

static bool result_ok(const PGresult *res) {
        ExecStatusType st = PQresultStatus(res);
        return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* A connection the server closed (restarted, failed over) or lost is made
 * again, at most once per call: the call that found it lost failed with
 * -ECONNRESET (its transaction is gone with it), the next one connects.
 * Statements are prepared again, the session's settings given again; a
 * listener must listen again (pg_change_consume() says -ESTALE). Blocking,
 * bounded by connect_timeout. A dry run's one transaction cannot be
 * resumed. */
static int pg_reconnect(struct store *s) {
        char sql[64];

        if (PQstatus(s->conn) != CONNECTION_BAD)
                return 0;
        if (s->dry_open) {
                pg_set_error(s, "the connection to the server was lost during a dry run");
                return -ECONNRESET;
        }
        PQreset(s->conn);
        if (PQstatus(s->conn) != CONNECTION_OK) {
                set_error_line(s->error, sizeof s->error, PQerrorMessage(s->conn));
                return -ECONNRESET;
        }
        memset(s->prepared, 0, sizeof s->prepared);
        s->notify = false;
        s->copy_table[0] = 0;
        s->listening = false;
        s->reconnected = true;
        snprintf(sql, sizeof sql, "SET lock_timeout = %d", s->busy_ms);
        _cleanup_pgresult_ PGresult *res = PQexec(s->conn, sql);
        if (!result_ok(res))
                return result_error(s, res);
        if (s->flags & STORE_READONLY) {
                PQclear(TAKE_PTR(res));
                res = PQexec(s->conn, "SET default_transaction_read_only = on");
                if (!result_ok(res))
                        return result_error(s, res);
        }
        return 0;
}

int pg_exec(struct store *s, const char *sql) {
        int r = pg_reconnect(s);
        if (r < 0)
                return r;

        _cleanup_pgresult_ PGresult *res = PQexec(s->conn, sql);

        return result_ok(res) ? 0 : result_error(s, res);
}

int pg_read_rows(struct store *s, enum pg_statement id, const struct pg_args *a, void **items, size_t *n,
                 size_t size, int (*from_row)(const PGresult *res, int i, void *item)) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r, rows;

        r = pg_query(s, id, a, &res);
        if (r < 0)
                return r;
        rows = PQntuples(res);
        if (rows > 0 && !(*items = calloc(rows, size)))
                return -ENOMEM;
        for (int i = 0; i < rows; i++) {
                (*n)++;
                r = from_row(res, i, (char *) *items + (size_t) i * size);
                if (r < 0)
                        return r;
        }
        return rows;
}

int pg_query(struct store *s, enum pg_statement id, const struct pg_args *a, PGresult **ret) {
        char name[16];
        PGresult *res;
        int r;

        r = pg_reconnect(s);
        if (r < 0)
                return r;
        snprintf(name, sizeof name, "s%d", (int) id);
        if (!s->prepared[id]) {
                res = PQprepare(s->conn, name, pg_sql[id], 0, NULL);
                if (!result_ok(res)) {
                        r = result_error(s, res);
                        PQclear(res);
                        return r;
                }
                PQclear(res);
                s->prepared[id] = true;
        }
        res = PQexecPrepared(s->conn, name, a ? a->n : 0, a ? a->v : NULL, NULL, NULL, 0);
        if (!result_ok(res)) {
                r = result_error(s, res);
                PQclear(res);
                return r;
        }
        if (pg_notifies[id] && atoi(PQcmdTuples(res)) > 0) {
                r = pg_changed(s);
                if (r < 0) {
                        PQclear(res);
                        return r;
                }
        }
        *ret = res;
        return 0;
}

int pg_run(struct store *s, enum pg_statement id, const struct pg_args *a) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r = pg_query(s, id, a, &res);

        if (r < 0)
                return r;
        return atoi(PQcmdTuples(res));
}

int64_t pg_get_int(const PGresult *res, int row, int col) {
        if (row >= PQntuples(res) || PQgetisnull(res, row, col))
                return 0;
        return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int64_t pg_get_time(const PGresult *res, int row, int col) {
        if (row >= PQntuples(res) || PQgetisnull(res, row, col))
                return NO_TIME;
        return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

int pg_get_strdup(const PGresult *res, int row, int col, char **ret) {
        if (PQgetisnull(res, row, col)) {
                *ret = NULL;
                return 0;
        }
        *ret = strdup(PQgetvalue(res, row, col));
        return *ret ? 0 : -ENOMEM;
}

int pg_schema_version(struct store *s) {
        _cleanup_pgresult_ PGresult *res = PQexec(s->conn, "SELECT to_regclass('deadlined_schema') IS NOT NULL");

        if (!result_ok(res))
                return result_error(s, res);
        if (!streq(PQgetvalue(res, 0, 0), "t"))
                return 0;
        PQclear(TAKE_PTR(res));
        res = PQexec(s->conn, "SELECT version FROM deadlined_schema");
        if (!result_ok(res))
                return result_error(s, res);
        return (int) pg_get_int(res, 0, 0);
}

const char *pg_last_error(const struct store *s) {
        return s->error;
}

int pg_set_busy_timeout(struct store *s, int ms) {
        char sql[64];

        /* A number of ours, not a value from outside. */
        snprintf(sql, sizeof sql, "SET lock_timeout = %d", ms);
        s->busy_ms = ms;
        return pg_exec(s, sql);
}

/* STORE_DRY: one transaction from open to close, never committed; each
 * store_begin() ... store_commit() inside it is a savepoint. */
int pg_begin(struct store *s) {
        int r;

        if (s->dry_open) {
                r = pg_exec(s, "SAVEPOINT store_step");
                if (r >= 0)
                        s->steps++;
                return r;
        }
        r = pg_run(s, PG_BEGIN, NULL);
        return r < 0 ? r : 0;
}

int pg_commit(struct store *s) {
        int r;

        if (s->dry_open) {
                if (s->steps == 0)
                        return -EINVAL;
                r = pg_exec(s, "RELEASE store_step");
                if (r >= 0)
                        s->steps--;
                return r;
        }
        if (s->notify) {
                /* Delivered with the commit, dropped with a rollback. */
                r = pg_notify(s);
                if (r < 0)
                        return r;
        }
        r = pg_run(s, PG_COMMIT, NULL);
        if (r >= 0)
                s->notify = false;
        return r < 0 ? r : 0;
}

int pg_rollback(struct store *s) {
        int r;

        if (!s->dry_open)
                s->notify = false;
        /* A lost connection took its transaction with it. */
        if (PQtransactionStatus(s->conn) == PQTRANS_IDLE || PQstatus(s->conn) == CONNECTION_BAD)
                return 0;
        if (!s->dry_open)
                return pg_exec(s, "ROLLBACK");
        if (s->steps == 0)
                return 0;
        r = pg_exec(s, "ROLLBACK TO store_step");
        if (r >= 0)
                r = pg_exec(s, "RELEASE store_step");
        if (r >= 0)
                s->steps--;
        return r;
}

int pg_meta_get(struct store *s, const char *key, char **ret) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct pg_args a = {};
        int r;

        if (!key || !ret)
                return -EINVAL;
        pg_arg_text(&a, key);
        r = pg_query(s, PG_META_GET, &a, &res);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return -ENOENT;
        return pg_get_strdup(res, 0, 0, ret);
}

int pg_meta_set(struct store *s, const char *key, const char *value) {
        struct pg_args a = {};
        int r;

        if (!key || !value)
                return -EINVAL;
        pg_arg_text(&a, key);
        pg_arg_text(&a, value);
        r = pg_run(s, PG_META_SET, &a);
        return r < 0 ? r : 0;
}

#define INSTANCE_KEY "instance_id"

static int instance_setup(struct store *s) {
        _cleanup_free_ char *v = NULL;
        char id[STORE_INSTANCE_ID_MAX];
        int r;

        r = pg_meta_get(s, INSTANCE_KEY, &v);
        if (r >= 0) {
                if (!store_instance_id_valid(v)) {
                        pg_set_error(s, "meta %s \"%.64s\" is not an instance id", INSTANCE_KEY, v);
                        return -EBADMSG;
                }
                snprintf(s->instance_id, sizeof s->instance_id, "%s", v);
                return 0;
        }
        if (r != -ENOENT || (s->flags & (STORE_READONLY | STORE_DRY)))
                return r == -ENOENT ? 0 : r;

        /* Two processes opening a new database at once agree on one id:
         * the first insert wins, the second reads it. */
        r = store_instance_id_make(id);
        if (r < 0)
                return r;
        r = pg_exec(s, "BEGIN");
        if (r < 0)
                return r;
        r = pg_exec(s, "LOCK TABLE meta IN SHARE ROW EXCLUSIVE MODE");
        if (r >= 0) {
                v = mfree(v);
                r = pg_meta_get(s, INSTANCE_KEY, &v);
                if (r == -ENOENT) {
                        r = pg_meta_set(s, INSTANCE_KEY, id);
                        if (r >= 0)
                                snprintf(s->instance_id, sizeof s->instance_id, "%s", id);
                } else if (r >= 0)
                        snprintf(s->instance_id, sizeof s->instance_id, "%s", v);
        }
        if (r >= 0)
                r = pg_exec(s, "COMMIT");
        if (r < 0) {
                (void) pg_exec(s, "ROLLBACK");
                s->instance_id[0] = 0;
        }
        return r < 0 ? r : 0;
}

const char *pg_instance_id(const struct store *s) {
        return s->instance_id[0] ? s->instance_id : NULL;
}

int pg_instance_id_renew(struct store *s) {
        char id[STORE_INSTANCE_ID_MAX];
        int r;

        if (s->flags & STORE_READONLY)
                return -EROFS;
        r = store_instance_id_make(id);
        if (r < 0)
                return r;
        r = pg_meta_set(s, INSTANCE_KEY, id);
        if (r < 0)
                return r;
        snprintf(s->instance_id, sizeof s->instance_id, "%s", id);
        return 0;
}

/* Phase 1 has no "another connection committed" signal on PostgreSQL:
 * LISTEN/NOTIFY is to give it. The version never changes, so the daemon
 * relies on its timers. */
int pg_data_version(struct store *s, uint64_t *ret) {
        *ret = 0;
        return 0;
}

int pg_document_upsert(struct store *s, struct document *d) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct pg_args a = {};
        int r;

        if (!d || !d->number)
                return -EINVAL;
        pg_arg_text(&a, d->number);
        pg_arg_text(&a, d->subject);
        pg_arg_text(&a, d->issued_on);
        pg_arg_text(&a, d->issuer);
        pg_arg_text(&a, d->signer);
        r = pg_query(s, PG_DOCUMENT_UPSERT, &a, &res);
        if (r < 0)
                return r;
        d->id = pg_get_int(res, 0, 0);
        return 0;
}

int pg_document_get(struct store *s, const char *number, struct document *ret) {
        _cleanup_pgresult_ PGresult *res = NULL;
        _cleanup_(document_done) struct document d = {};
        struct pg_args a = {};
        int r;

        if (!number || !ret)
                return -EINVAL;
        pg_arg_text(&a, number);
        r = pg_query(s, PG_DOCUMENT_GET, &a, &res);
        if (r < 0)
                return r;
        if (PQntuples(res) == 0)
                return -ENOENT;
        d.id = pg_get_int(res, 0, 0);
        if (pg_get_strdup(res, 0, 1, &d.number) < 0 ||
            pg_get_strdup(res, 0, 2, &d.subject) < 0 ||
            pg_get_strdup(res, 0, 3, &d.issued_on) < 0 ||
            pg_get_strdup(res, 0, 4, &d.issuer) < 0 ||
            pg_get_strdup(res, 0, 5, &d.signer) < 0)
                return -ENOMEM;
        *ret = d;
        d = (struct document) {};
        return 0;
}

struct store *pg_close(struct store *s) {
        if (!s)
                return NULL;
        if (s->conn)
                PQfinish(s->conn);
        free(s);
        return NULL;
}

/* The server's notices ("terminating connection due to administrator
 * command" before a restart) go to the log, one line each, never to
 * standard error. */
static void notice_to_log(void *userdata, const char *message) {
        char line[512];

        set_error_line(line, sizeof line, message);
        log_debug("PostgreSQL: %s", line);
}

/* libpq's account of a failed connection, one line, with what it means:
 * a certificate that does not verify, or a server that cannot be reached. */
static int connect_error(struct store *s) {
        const char *msg = PQerrorMessage(s->conn);

        set_error_line(s->error, sizeof s->error, msg);
        /* libpq writes "connection to server at … failed: " before the
         * reason; the reason is what a person needs. */
        if (strstr(msg, "password authentication failed") || strstr(msg, "no password supplied") ||
            strstr(msg, "permission denied") || strstr(msg, "pg_hba.conf"))
                return -EACCES;
        if (strstr(msg, "certificate") || strstr(msg, "SSL error") || strstr(msg, "does not support SSL"))
                return -EKEYREJECTED;
        if (strstr(msg, "does not exist"))
                return -ENOENT;
        return -ECONNREFUSED;
}

int pg_open(const char *conninfo, const char *password, int flags, struct store **ret) {
        _cleanup_(pg_closep) struct store *s = NULL;
        _cleanup_free_ char *opts = NULL;
        char *errmsg = NULL;
        PQconninfoOption *parsed;
        char host[64];
        int r;

        s = calloc(1, sizeof *s);
        if (!s)
                return -ENOMEM;
        s->ops = &pg_ops;
        s->flags = flags;

        /* A URI libpq cannot read is refused before any connection;
         * its message names what is wrong, never the password. */
        parsed = PQconninfoParse(conninfo, &errmsg);
        if (!parsed) {
                set_error_line(s->error, sizeof s->error, errmsg ?: "out of memory");
                PQfreemem(errmsg);
                store_open_error_set(s->error);
                return -EADDRNOTAVAIL;
        }
        PQconninfoFree(parsed);

        if (asprintf(&opts, "-c statement_timeout=%d", PG_STATEMENT_TIMEOUT_MS) < 0)
                return -ENOMEM;
        /* Defaults first: what the URI says comes after and wins
         * (expand_dbname). A Unix socket has no TLS (libpq does not try
         * it there), so verify-full concerns TCP connections only. */
        const char *const keys[] = {
                "connect_timeout", "tcp_user_timeout", "sslmode", "application_name", "options",
                "dbname", password ? "password" : NULL, NULL,
        };
        const char *const values[] = {
                PG_CONNECT_TIMEOUT_S, PG_TCP_USER_TIMEOUT_MS, "verify-full", "deadlined", opts,
                conninfo, password, NULL,
        };
        s->conn = PQconnectdbParams(keys, values, 1);
        if (!s->conn)
                return -ENOMEM;
        PQsetNoticeProcessor(s->conn, notice_to_log, NULL);
        if (PQstatus(s->conn) != CONNECTION_OK) {
                r = connect_error(s);
                store_open_error_set(s->error);
                return r;
        }

        if (gethostname(host, sizeof host) < 0)
                snprintf(host, sizeof host, "localhost");
        host[sizeof host - 1] = 0;
        snprintf(s->claimer, sizeof s->claimer, "%s:%d", host, (int) getpid());

        r = pg_set_busy_timeout(s, flags & STORE_NOWAIT ? STORE_NOWAIT_BUSY_MS : STORE_BUSY_MS);
        if (r >= 0 && (flags & STORE_READONLY))
                r = pg_exec(s, "SET default_transaction_read_only = on");
        if (r >= 0)
                r = pg_migrate(s);
        if (r >= 0)
                r = instance_setup(s);
        if (r >= 0 && (flags & STORE_DRY)) {
                r = pg_exec(s, "BEGIN");
                s->dry_open = r >= 0;
        }
        if (r < 0) {
                store_open_error_set(s->error);
                return r;
        }
        *ret = TAKE_PTR(s);
        return 0;
}
