/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The inbox's messages in PostgreSQL, as store-sqlite-inbox.c keeps them
 * in SQLite: recorded once, listed for the officer, decided. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store-pg.h"

static int inbox_from_row(const PGresult *res, int i, void *item) {
        struct inbox_message *ret = item;
        _cleanup_(inbox_message_done) struct inbox_message m = {};

        m.id = pg_get_int(res, i, 0);
        m.uidvalidity = pg_get_int(res, i, 1);
        m.uid = pg_get_int(res, i, 2);
        m.received_at = pg_get_time(res, i, 6);
        m.sent_at = pg_get_time(res, i, 7);
        m.task_id = pg_get_int(res, i, 8);
        m.intent = inbox_intent_from_string(PQgetvalue(res, i, 10));
        m.asked_day = PQgetisnull(res, i, 11) ? INT32_MIN : (int32_t) pg_get_int(res, i, 11);
        m.state = inbox_state_from_string(PQgetvalue(res, i, 14));
        m.decided_at = pg_get_time(res, i, 17);
        if (m.intent < 0 || m.state < 0)
                return -EIO;
        if (pg_get_strdup(res, i, 3, &m.message_id) < 0 ||
            pg_get_strdup(res, i, 4, &m.sender) < 0 ||
            pg_get_strdup(res, i, 5, &m.subject) < 0 ||
            pg_get_strdup(res, i, 9, &m.agency) < 0 ||
            store_evidence_split(PQgetisnull(res, i, 12) ? NULL : PQgetvalue(res, i, 12), &m.evidence) < 0 ||
            pg_get_strdup(res, i, 13, &m.text) < 0 ||
            pg_get_strdup(res, i, 15, &m.note) < 0 ||
            pg_get_strdup(res, i, 16, &m.decided_by) < 0 ||
            pg_get_strdup(res, i, 18, &m.reason) < 0)
                return -ENOMEM;
        *ret = m;
        m = (struct inbox_message) {};
        return 0;
}

static int inbox_read(struct store *s, enum pg_statement id, const struct pg_args *a,
                      struct inbox_message_list *ret) {
        _cleanup_(inbox_message_list_done) struct inbox_message_list l = {};
        int n;

        n = pg_read_rows(s, id, a, (void **) &l.items, &l.n, sizeof *l.items, inbox_from_row);
        if (n < 0)
                return n;
        *ret = l;
        l = (struct inbox_message_list) {};
        return n;
}

int pg_inbox_add(struct store *s, struct inbox_message *m) {
        _cleanup_pgresult_ PGresult *res = NULL;
        _cleanup_free_ char *evidence = NULL;
        const char *state = inbox_state_to_string(m ? m->state : -1);
        const char *intent = inbox_intent_to_string(m ? m->intent : -1);
        struct pg_args a = {};
        int r;

        if (!m || !state || !intent || m->uid <= 0 || m->task_id < 0)
                return -EINVAL;
        r = store_evidence_join(m->evidence, &evidence);
        if (r < 0)
                return r;
        pg_arg_int(&a, m->uidvalidity);
        pg_arg_int(&a, m->uid);
        pg_arg_text(&a, m->message_id);
        pg_arg_text(&a, m->sender);
        pg_arg_text(&a, m->subject);
        pg_arg_int(&a, m->received_at);
        pg_arg_time(&a, m->sent_at);
        pg_arg_id(&a, m->task_id);
        pg_arg_text(&a, m->agency);
        pg_arg_text(&a, intent);
        if (m->asked_day == INT32_MIN)
                pg_arg_text(&a, NULL);
        else
                pg_arg_int(&a, m->asked_day);
        pg_arg_text(&a, evidence);
        pg_arg_text(&a, m->text);
        pg_arg_text(&a, state);
        pg_arg_text(&a, m->note);
        r = pg_query(s, PG_INBOX_ADD, &a, &res);
        if (r < 0)
                return r;
        /* Read already, under either key: left as it was. */
        if (PQntuples(res) == 0)
                return 0;
        m->id = pg_get_int(res, 0, 0);
        return 1;
}

int pg_inbox_last_uid(struct store *s, int64_t uidvalidity, int64_t *ret) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct pg_args a = {};
        int r;

        pg_arg_int(&a, uidvalidity);
        r = pg_query(s, PG_INBOX_LAST_UID, &a, &res);
        if (r < 0)
                return r;
        *ret = PQntuples(res) > 0 ? pg_get_int(res, 0, 0) : 0;
        return 0;
}

int pg_inbox_get(struct store *s, int64_t id, struct inbox_message *ret) {
        _cleanup_(inbox_message_list_done) struct inbox_message_list l = {};
        struct pg_args a = {};
        int r;

        if (!ret)
                return -EINVAL;
        pg_arg_int(&a, id);
        r = inbox_read(s, PG_INBOX_GET, &a, &l);
        if (r < 0)
                return r;
        if (l.n == 0)
                return -ENOENT;
        *ret = l.items[0];
        l.items[0] = (struct inbox_message) {};
        return 0;
}

int pg_inbox_list(struct store *s, int64_t task_id, struct inbox_message_list *ret) {
        struct pg_args a = {};

        if (!ret)
                return -EINVAL;
        if (task_id > 0)
                pg_arg_int(&a, task_id);
        return inbox_read(s, task_id > 0 ? PG_INBOX_TASK : PG_INBOX_OPEN, &a, ret);
}

int pg_inbox_agency_waiting(struct store *s, const char *agency, bool *ret) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct pg_args a = {};
        int r;

        if (!agency)
                return -EINVAL;
        pg_arg_text(&a, agency);
        r = pg_query(s, PG_INBOX_AGENCY_WAITING, &a, &res);
        if (r < 0)
                return r;
        *ret = PQntuples(res) > 0 && pg_get_int(res, 0, 0) != 0;
        return 0;
}

int pg_inbox_decide(struct store *s, int64_t id, enum inbox_state state, int64_t task_id, const char *by,
                    int64_t at, const char *reason) {
        _cleanup_pgresult_ PGresult *res = NULL;
        struct pg_args a = {};
        int r;

        if (state != INBOX_CONFIRMED && state != INBOX_REJECTED)
                return -EINVAL;
        pg_arg_int(&a, id);
        pg_arg_text(&a, inbox_state_to_string(state));
        pg_arg_id(&a, task_id);
        pg_arg_text(&a, by);
        pg_arg_time(&a, at);
        pg_arg_text(&a, reason);
        r = pg_query(s, PG_INBOX_DECIDE, &a, &res);
        if (r < 0)
                return r;
        return PQntuples(res) > 0 ? 0 : -EALREADY;
}

static int wait_from_row(const PGresult *res, int i, void *item) {
        struct inbox_wait *w = item;

        *w = (struct inbox_wait) { .task_id = pg_get_int(res, i, 0), .since = pg_get_time(res, i, 2) };
        return pg_get_strdup(res, i, 1, &w->agency) < 0 ? -ENOMEM : 0;
}

int pg_inbox_reports_waiting(struct store *s, struct inbox_wait_list *ret) {
        _cleanup_(inbox_wait_list_done) struct inbox_wait_list l = {};
        int n;

        if (!ret)
                return -EINVAL;
        n = pg_read_rows(s, PG_INBOX_REPORTS_WAITING, NULL, (void **) &l.items, &l.n, sizeof *l.items,
                         wait_from_row);
        if (n < 0)
                return n;
        *ret = l;
        l = (struct inbox_wait_list) {};
        return 0;
}
