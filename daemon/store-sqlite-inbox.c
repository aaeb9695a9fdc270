/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The inbox's messages in SQLite: recorded once, listed for the officer,
 * decided. An attachment's names are kept one a line (they hold no line
 * breaks: the caller makes sure). */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-sqlite.h"

static int inbox_from_row(sqlite3_stmt *st, void *item) {
        _cleanup_(inbox_message_done) struct inbox_message m = {};
        struct inbox_message *ret = item;

        m.id = sqlite3_column_int64(st, 0);
        m.uidvalidity = sqlite3_column_int64(st, 1);
        m.uid = sqlite3_column_int64(st, 2);
        m.received_at = store_column_time(st, 6);
        m.sent_at = store_column_time(st, 7);
        m.task_id = sqlite3_column_int64(st, 8);
        m.intent = inbox_intent_from_string((const char *) sqlite3_column_text(st, 10));
        m.asked_day = sqlite3_column_type(st, 11) == SQLITE_NULL ? INT32_MIN : sqlite3_column_int(st, 11);
        m.state = inbox_state_from_string((const char *) sqlite3_column_text(st, 14));
        m.decided_at = store_column_time(st, 17);
        if (m.intent < 0 || m.state < 0)
                return -EIO;
        if (store_column_strdup(st, 3, &m.message_id) < 0 ||
            store_column_strdup(st, 4, &m.sender) < 0 ||
            store_column_strdup(st, 5, &m.subject) < 0 ||
            store_column_strdup(st, 9, &m.agency) < 0 ||
            store_evidence_split((const char *) sqlite3_column_text(st, 12), &m.evidence) < 0 ||
            store_column_strdup(st, 13, &m.text) < 0 ||
            store_column_strdup(st, 15, &m.note) < 0 ||
            store_column_strdup(st, 16, &m.decided_by) < 0 ||
            store_column_strdup(st, 18, &m.reason) < 0)
                return -ENOMEM;
        *ret = m;
        m = (struct inbox_message) {};
        return 0;
}

int sqlite_inbox_add(struct store *s, struct inbox_message *m) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        _cleanup_free_ char *evidence = NULL;
        const char *state = inbox_state_to_string(m ? m->state : -1);
        const char *intent = inbox_intent_to_string(m ? m->intent : -1);
        int r;

        if (!m || !state || !intent || m->uid <= 0 || m->task_id < 0)
                return -EINVAL;
        r = store_evidence_join(m->evidence, &evidence);
        if (r < 0)
                return r;
        r = store_statement(s, STMT_INBOX_ADD, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, m->uidvalidity) != SQLITE_OK ||
            sqlite3_bind_int64(st, 2, m->uid) != SQLITE_OK ||
            store_bind_text(st, 3, m->message_id) != SQLITE_OK ||
            store_bind_text(st, 4, m->sender) != SQLITE_OK ||
            store_bind_text(st, 5, m->subject) != SQLITE_OK ||
            sqlite3_bind_int64(st, 6, m->received_at) != SQLITE_OK ||
            store_bind_time(st, 7, m->sent_at) != SQLITE_OK ||
            store_bind_id(st, 8, m->task_id) != SQLITE_OK ||
            store_bind_text(st, 9, m->agency) != SQLITE_OK ||
            store_bind_text(st, 10, intent) != SQLITE_OK ||
            (m->asked_day == INT32_MIN ? sqlite3_bind_null(st, 11) : sqlite3_bind_int(st, 11, m->asked_day)) !=
                    SQLITE_OK ||
            store_bind_text(st, 12, evidence) != SQLITE_OK ||
            store_bind_text(st, 13, m->text) != SQLITE_OK ||
            store_bind_text(st, 14, state) != SQLITE_OK ||
            store_bind_text(st, 15, m->note) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_step(s, st);
        if (r <= 0)
                return r;
        m->id = sqlite3_column_int64(st, 0);
        return 1;
}

int sqlite_inbox_last_uid(struct store *s, int64_t uidvalidity, int64_t *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        r = store_statement(s, STMT_INBOX_LAST_UID, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, uidvalidity) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_step(s, st);
        if (r < 0)
                return r;
        *ret = r > 0 ? sqlite3_column_int64(st, 0) : 0;
        return 0;
}

static int inbox_read(struct store *s, sqlite3_stmt *st, struct inbox_message_list *ret) {
        _cleanup_(inbox_message_list_done) struct inbox_message_list l = {};
        void *items = NULL;
        int r;

        r = store_read_rows(s, st, &items, &l.n, sizeof *l.items, inbox_from_row);
        l.items = items;
        if (r < 0)
                return r;
        *ret = l;
        l = (struct inbox_message_list) {};
        return (int) ret->n;
}

int sqlite_inbox_get(struct store *s, int64_t id, struct inbox_message *ret) {
        _cleanup_(inbox_message_list_done) struct inbox_message_list l = {};
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        r = store_statement(s, STMT_INBOX_GET, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = inbox_read(s, st, &l);
        if (r < 0)
                return r;
        if (l.n == 0)
                return -ENOENT;
        *ret = l.items[0];
        l.items[0] = (struct inbox_message) {};
        return 0;
}

int sqlite_inbox_list(struct store *s, int64_t task_id, struct inbox_message_list *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        r = store_statement(s, task_id > 0 ? STMT_INBOX_TASK : STMT_INBOX_OPEN, &st);
        if (r < 0)
                return r;
        if (task_id > 0 && sqlite3_bind_int64(st, 1, task_id) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        return inbox_read(s, st, ret);
}

int sqlite_inbox_agency_waiting(struct store *s, const char *agency, bool *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!agency)
                return -EINVAL;
        r = store_statement(s, STMT_INBOX_AGENCY_WAITING, &st);
        if (r < 0)
                return r;
        if (store_bind_text(st, 1, agency) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_step(s, st);
        if (r < 0)
                return r;
        *ret = r > 0 && sqlite3_column_int(st, 0) != 0;
        return 0;
}

int sqlite_inbox_decide(struct store *s, int64_t id, enum inbox_state state, int64_t task_id, const char *by,
                       int64_t at, const char *reason) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (state != INBOX_CONFIRMED && state != INBOX_REJECTED)
                return -EINVAL;
        r = store_statement(s, STMT_INBOX_DECIDE, &st);
        if (r < 0)
                return r;
        if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
            store_bind_text(st, 2, inbox_state_to_string(state)) != SQLITE_OK ||
            store_bind_id(st, 3, task_id) != SQLITE_OK ||
            store_bind_text(st, 4, by) != SQLITE_OK ||
            store_bind_time(st, 5, at) != SQLITE_OK ||
            store_bind_text(st, 6, reason) != SQLITE_OK)
                return store_error(s, sqlite3_errcode(s->db));
        r = store_step(s, st);
        if (r < 0)
                return r;
        return r > 0 ? 0 : -EALREADY;
}

static int wait_from_row(sqlite3_stmt *st, void *item) {
        struct inbox_wait *w = item;

        *w = (struct inbox_wait) {
                .task_id = sqlite3_column_int64(st, 0),
                .since = store_column_time(st, 2),
        };
        return store_column_strdup(st, 1, &w->agency) < 0 ? -ENOMEM : 0;
}

int sqlite_inbox_reports_waiting(struct store *s, struct inbox_wait_list *ret) {
        _cleanup_reset_ sqlite3_stmt *st = NULL;
        int r;

        if (!ret)
                return -EINVAL;
        *ret = (struct inbox_wait_list) {};
        r = store_statement(s, STMT_INBOX_REPORTS_WAITING, &st);
        if (r < 0)
                return r;
        r = store_read_rows(s, st, (void **) &ret->items, &ret->n, sizeof *ret->items, wait_from_row);
        return r < 0 ? r : 0;
}
