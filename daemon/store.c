/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What the store is whatever holds the data: the choice of backend at
 * open and the calls through its table (store-backend.h), the names of its
 * enums, the destructors of its types, its errors in words, and the change
 * log's comparison of a task before and after. A backend (store-sqlite*.c)
 * implements the rest of store.h behind its struct store_ops. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sysexits.h>

#include "store.h"
#include "store-backend.h"
#include "strbuf.h"

/* store_open() has no store to keep its message in when it fails. */
static _Thread_local char open_error[512];

void store_open_error_set(const char *message) {
        snprintf(open_error, sizeof open_error, "%s", message ?: "");
}

bool store_database_is_server(const char *database) {
        return database && (strncmp(database, "postgresql://", 13) == 0 || strncmp(database, "postgres://", 11) == 0);
}

int store_open_password(const char *database, const char *password, int flags, struct store **ret) {
        if (!database || !ret)
                return -EINVAL;
        open_error[0] = 0;
        if (store_database_is_server(database))
                return pg_open(database, password, flags, ret);
        if (password)
                return -EINVAL;
        return sqlite_open(database, flags, ret);
}

int store_open(const char *database, int flags, struct store **ret) {
        return store_open_password(database, NULL, flags, ret);
}

/* 16 random bytes in lower-case base32 (RFC 4648's alphabet, no padding):
 * 26 characters that are letters and digits only, so that they fit a
 * Message-ID's dot-atom and a webhook-id unquoted. */
int store_instance_id_make(char buf[static STORE_INSTANCE_ID_MAX]) {
        static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
        uint8_t b[16];
        unsigned acc = 0, bits = 0;
        size_t n = 0;

        if (getrandom(b, sizeof b, 0) != (ssize_t) sizeof b)
                return -EIO;
        for (size_t i = 0; i < sizeof b; i++) {
                acc = (acc << 8) | b[i];
                bits += 8;
                while (bits >= 5) {
                        bits -= 5;
                        buf[n++] = alphabet[(acc >> bits) & 31];
                }
        }
        if (bits > 0)
                buf[n++] = alphabet[(acc << (5 - bits)) & 31];
        buf[n] = 0;
        return 0;
}

/* What may be kept under the key: a made id, or one a person put there by
 * hand that still fits where ids go. */
bool store_instance_id_valid(const char *id) {
        size_t n = strlen(id);

        if (n < 8 || n >= STORE_INSTANCE_ID_MAX)
                return false;
        for (const char *p = id; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')))
                        return false;
        return true;
}

struct store *store_close(struct store *s) {
        return s ? store_ops(s)->close(s) : NULL;
}

const char *store_last_error(const struct store *s) {
        return s ? store_ops(s)->last_error(s) : open_error;
}

int store_schema_version(struct store *s) {
        return store_ops(s)->schema_version(s);
}

int store_set_busy_timeout(struct store *s, int ms) {
        return store_ops(s)->set_busy_timeout(s, ms);
}

int store_begin(struct store *s) {
        return store_ops(s)->begin(s);
}

int store_commit(struct store *s) {
        return store_ops(s)->commit(s);
}

int store_rollback(struct store *s) {
        return store_ops(s)->rollback(s);
}

int store_document_upsert(struct store *s, struct document *d) {
        return store_ops(s)->document_upsert(s, d);
}

int store_document_get(struct store *s, const char *number, struct document *ret) {
        return store_ops(s)->document_get(s, number, ret);
}

int store_task_add(struct store *s, struct task *t, int64_t now) {
        return store_ops(s)->task_add(s, t, now);
}

int store_task_find_ref(struct store *s, int64_t document_id, const char *ref, int64_t *ret_id) {
        return store_ops(s)->task_find_ref(s, document_id, ref, ret_id);
}

int store_task_update(struct store *s, const struct task *t, int64_t now) {
        return store_ops(s)->task_update(s, t, now);
}

int store_task_get(struct store *s, int64_t id, struct task *ret) {
        return store_ops(s)->task_get(s, id, ret);
}

int store_task_notices_clear(struct store *s, int64_t task_id) {
        return store_ops(s)->task_notices_clear(s, task_id);
}

int store_tasks_get(struct store *s, const int64_t *ids, size_t n, struct task_list *ret) {
        return store_ops(s)->tasks_get(s, ids, n, ret);
}

int store_task_set_status(struct store *s, int64_t id, enum task_status status, int64_t now) {
        return store_ops(s)->task_set_status(s, id, status, now);
}

int store_task_change_add(struct store *s, struct task_change *c) {
        return store_ops(s)->task_change_add(s, c);
}

int store_task_changes(struct store *s, int64_t task_id, struct task_change_list *ret) {
        return store_ops(s)->task_changes(s, task_id, ret);
}

int store_task_change_last(struct store *s, int64_t task_id, enum task_field field, int source, struct task_change *ret) {
        return store_ops(s)->task_change_last(s, task_id, field, source, ret);
}

int store_task_completion_add(struct store *s, struct task_completion *c) {
        return store_ops(s)->task_completion_add(s, c);
}

int store_task_completions(struct store *s, int64_t task_id, struct task_completion_list *ret) {
        return store_ops(s)->task_completions(s, task_id, ret);
}

int store_task_completion_reopened(struct store *s, int64_t task_id, int64_t now) {
        return store_ops(s)->task_completion_reopened(s, task_id, now);
}

int store_task_list(struct store *s, const struct task_filter *f, struct task_list *ret) {
        return store_ops(s)->task_list(s, f, ret);
}

int store_task_set_schedule(struct store *s, int64_t id, int64_t next_fire_at, int64_t fired_through) {
        return store_ops(s)->task_set_schedule(s, id, next_fire_at, fired_through);
}

int store_tasks_set_schedule(struct store *s, const int64_t *ids, const int64_t *next_fire_at, size_t n,
                             int64_t fired_through) {
        if (n == 0)
                return 0;
        if (!ids || !next_fire_at)
                return -EINVAL;
        return store_ops(s)->tasks_set_schedule(s, ids, next_fire_at, n, fired_through);
}

int store_tasks_reschedule(struct store *s, int64_t now, int64_t after_id, size_t limit, int64_t *ret_last_id) {
        return store_ops(s)->tasks_reschedule(s, now, after_id, limit, ret_last_id);
}

int store_task_occurrences(struct store *s, const struct occurrence_filter *f, struct task_occurrence_list *ret) {
        return store_ops(s)->task_occurrences(s, f, ret);
}

int store_agency_ids(struct store *s, char ***ret) {
        return store_ops(s)->agency_ids(s, ret);
}

int store_meta_get(struct store *s, const char *key, char **ret) {
        return store_ops(s)->meta_get(s, key, ret);
}

int store_meta_set(struct store *s, const char *key, const char *value) {
        return store_ops(s)->meta_set(s, key, value);
}

const char *store_instance_id(const struct store *s) {
        return store_ops(s)->instance_id(s);
}

int store_instance_id_renew(struct store *s) {
        return store_ops(s)->instance_id_renew(s);
}

int store_data_version(struct store *s, uint64_t *ret) {
        return store_ops(s)->data_version(s, ret);
}

int store_next_fire(struct store *s, int64_t *ret) {
        return store_ops(s)->next_fire(s, ret);
}

int store_tasks_due(struct store *s, int64_t now, size_t limit, struct task_list *ret) {
        return store_ops(s)->tasks_due(s, now, limit, ret);
}

int store_delivery_insert(struct store *s, struct delivery *d) {
        return store_ops(s)->delivery_insert(s, d);
}

int store_deliveries_insert(struct store *s, const struct delivery *d, size_t n) {
        if (n == 0)
                return 0;
        if (!d)
                return -EINVAL;
        for (size_t i = 0; i < n; i++)
                if (d[i].task_id < 0 || !d[i].slot || !d[i].agency || !d[i].channel ||
                    d[i].state != DELIVERY_PENDING || d[i].attempts != 0 || d[i].last_error ||
                    d[i].created_at != d[0].created_at ||
                    (d[i].role != _ROLE_INVALID && !role_to_string(d[i].role)))
                        return -EINVAL;
        return store_ops(s)->deliveries_insert(s, d, n);
}

int store_deliveries_due(struct store *s, int64_t now, const struct delivery_filter *f, struct delivery_list *ret) {
        return store_ops(s)->deliveries_due(s, now, f, ret);
}

int store_next_delivery(struct store *s, int64_t *ret) {
        return store_ops(s)->next_delivery(s, ret);
}

int store_delivery_set_state(struct store *s, int64_t id, enum delivery_state state, int64_t next_attempt_at, const char *error, int64_t now) {
        return store_ops(s)->delivery_set_state(s, id, state, next_attempt_at, error, now);
}

int store_deliveries_set_state(struct store *s, const int64_t *ids, size_t n, enum delivery_state state, int64_t now) {
        return store_ops(s)->deliveries_set_state(s, ids, n, state, now);
}

int store_delivery_put_back(struct store *s, int64_t id, int64_t next_attempt_at) {
        return store_ops(s)->delivery_put_back(s, id, next_attempt_at);
}

int store_delivery_set_delivered_to(struct store *s, int64_t id, const char *addresses) {
        return store_ops(s)->delivery_set_delivered_to(s, id, addresses);
}

int store_deliveries_clock_stepped(struct store *s, int64_t step, int64_t now) {
        return store_ops(s)->deliveries_clock_stepped(s, step, now);
}

int store_deliveries_reset_attempting(struct store *s, int64_t now) {
        return store_ops(s)->deliveries_reset_attempting(s, now);
}

int store_delivery_list_for_task(struct store *s, int64_t task_id, struct delivery_list *ret) {
        return store_ops(s)->delivery_list_for_task(s, task_id, ret);
}

int store_deliveries_trouble(struct store *s, size_t limit, struct delivery_list *ret) {
        return store_ops(s)->deliveries_trouble(s, limit, ret);
}

int store_deliveries_recent(struct store *s, size_t limit, struct delivery_list *ret) {
        return store_ops(s)->deliveries_recent(s, limit, ret);
}

int store_delivery_get(struct store *s, int64_t id, struct delivery *ret) {
        return store_ops(s)->delivery_get(s, id, ret);
}

int store_deliveries_retry(struct store *s, const struct delivery_retry_filter *f, const char *actor, int64_t now, int64_t **ret_ids) {
        return store_ops(s)->deliveries_retry(s, f, actor, now, ret_ids);
}

int store_task_delete(struct store *s, int64_t id) {
        return store_ops(s)->task_delete(s, id);
}

int store_delivery_counts(struct store *s, int64_t counts[static _DELIVERY_STATE_MAX]) {
        return store_ops(s)->delivery_counts(s, counts);
}

int store_inbox_add(struct store *s, struct inbox_message *m) {
        return store_ops(s)->inbox_add(s, m);
}

int store_inbox_last_uid(struct store *s, int64_t uidvalidity, int64_t *ret) {
        return store_ops(s)->inbox_last_uid(s, uidvalidity, ret);
}

int store_inbox_get(struct store *s, int64_t id, struct inbox_message *ret) {
        return store_ops(s)->inbox_get(s, id, ret);
}

int store_inbox_list(struct store *s, int64_t task_id, struct inbox_message_list *ret) {
        return store_ops(s)->inbox_list(s, task_id, ret);
}

int store_inbox_agency_waiting(struct store *s, const char *agency, bool *ret) {
        return store_ops(s)->inbox_agency_waiting(s, agency, ret);
}

int store_inbox_decide(struct store *s, int64_t id, enum inbox_state state, int64_t task_id, const char *by, int64_t at, const char *reason) {
        return store_ops(s)->inbox_decide(s, id, state, task_id, by, at, reason);
}

int store_inbox_reports_waiting(struct store *s, struct inbox_wait_list *ret) {
        return store_ops(s)->inbox_reports_waiting(s, ret);
}

int store_decide_lock(struct store *s) {
        return store_ops(s)->decide_lock ? store_ops(s)->decide_lock(s) : 1;
}

int store_change_fd(struct store *s) {
        return store_ops(s)->change_fd ? store_ops(s)->change_fd(s) : -EOPNOTSUPP;
}

int store_change_consume(struct store *s) {
        return store_ops(s)->change_consume ? store_ops(s)->change_consume(s) : 0;
}


const char *store_strerror(int r) {
        switch (r) {
        case -ENOSPC:          return "the disk is full";
        case -EACCES:
        case -EPERM:           return "permission denied";
        case -EROFS:           return "the file system is read-only";
        case -EBUSY:           return "the database is locked by another process";
        case -EBADMSG:         return "not a deadlined database (not an SQLite database, or a damaged one)";
        case -EPROTONOSUPPORT: return "the database was made by a newer deadlined";
        case -ENOENT:          return "no such file or folder";
        case -EIO:             return "input/output error";
        case -EADDRNOTAVAIL:   return "the database's address is not valid";
        case -ECONNREFUSED:
        case -ECONNRESET:      return "the database server cannot be reached";
        case -EKEYREJECTED:    return "TLS with the database server did not verify";
        default:               return strerror(-r);
        }
}

int store_exit_status(int r) {
        switch (r) {
        case -EPROTONOSUPPORT:
        case -EBADMSG:
                return EX_DATAERR;
        case -EBUSY:
                return EX_TEMPFAIL;
        case -EACCES:
        case -EPERM:
        case -EROFS:
                return EX_NOPERM;
        case -ENOSPC:
        case -EIO:
                return EX_IOERR;
        case -EADDRNOTAVAIL:
                return EX_CONFIG;
        case -ECONNREFUSED:
        case -ECONNRESET:
        case -EKEYREJECTED:
                return EX_UNAVAILABLE;
        default:
                return EX_CANTCREAT;
        }
}

char *task_agencies_format(const struct task_agency *a, size_t n) {
        struct strbuf b = STRBUF_INIT(SIZE_MAX);
        bool first = true;
        char *ret;

        strbuf_puts(&b, "lead ");
        for (size_t i = 0; i < n; i++)
                if (a[i].role == ROLE_LEAD) {
                        strbuf_printf(&b, "%s%s", first ? "" : ",", a[i].agency);
                        first = false;
                }
        first = true;
        for (size_t i = 0; i < n; i++)
                if (a[i].role == ROLE_SUPPORT) {
                        strbuf_printf(&b, "%s%s", first ? "; support " : ",", a[i].agency);
                        first = false;
                }
        if (strbuf_steal(&b, &ret, NULL) < 0)
                return NULL;
        return ret;
}

size_t task_agencies_mark_assigned(const struct task *before, struct task *after, int64_t at) {
        size_t n_new = 0;

        for (size_t i = 0; i < after->n_agencies; i++) {
                struct task_agency *a = &after->agencies[i];
                const struct task_agency *old = NULL;

                for (size_t k = 0; before && k < before->n_agencies && !old; k++)
                        if (streq(before->agencies[k].agency, a->agency) && before->agencies[k].role == a->role)
                                old = &before->agencies[k];
                if (old)
                        a->notice_at = old->notice_at;
                else {
                        a->notice_at = at;
                        n_new++;
                }
        }
        return n_new;
}

int delivery_receivers_dup(const struct delivery_receiver *r, size_t n, struct delivery_receiver **ret) {
        struct delivery_receiver *copy;
        size_t size = n * sizeof *r;
        char *p;

        if (n == 0) {
                *ret = NULL;
                return 0;
        }
        for (size_t i = 0; i < n; i++)
                size += strlen(r[i].agency) + strlen(r[i].channel) + 2;
        copy = malloc(size);
        if (!copy)
                return -ENOMEM;
        /* The strings follow the array. */
        p = (char *) (copy + n);
        for (size_t i = 0; i < n; i++) {
                copy[i].agency = p;
                p = stpcpy(p, r[i].agency) + 1;
                copy[i].channel = p;
                p = stpcpy(p, r[i].channel) + 1;
        }
        *ret = copy;
        return 0;
}

bool delivery_receivers_equal(const struct delivery_receiver *a, size_t n_a,
                              const struct delivery_receiver *b, size_t n_b) {
        if (n_a != n_b)
                return false;
        for (size_t i = 0; i < n_a; i++)
                if (!streq(a[i].agency, b[i].agency) || !streq(a[i].channel, b[i].channel))
                        return false;
        return true;
}

/* Appends one entry if the values differ (or the task is new); returns 1
 * if it did. */
static int record_field(struct store *s, const struct task *after, enum task_field field, bool created,
                        const char *old_value, const char *new_value, const struct task_change *how) {
        struct task_change c = *how;
        int r;

        c.task_id = after->id;
        c.field = field;
        c.old_value = created ? NULL : (char *) old_value;
        c.new_value = (char *) new_value;

        if (!created && streq_ptr(old_value, new_value))
                return 0;
        r = store_task_change_add(s, &c);
        return r < 0 ? r : 1;
}

int store_task_changes_record(struct store *s, const struct task *before, const struct task *after,
                              const struct task_change *how) {
        _cleanup_free_ char *old_agencies = NULL, *new_agencies = NULL;
        bool created = !before;
        int n = 0, r;

        if (!after || !how || after->id <= 0 || (before && before->id != after->id))
                return -EINVAL;
        new_agencies = task_agencies_format(after->agencies, after->n_agencies);
        if (before)
                old_agencies = task_agencies_format(before->agencies, before->n_agencies);
        if (!new_agencies || (before && !old_agencies))
                return -ENOMEM;

        const struct {
                enum task_field field;
                const char *old_value, *new_value;
        } fields[] = {
                { TASK_FIELD_STATUS, before ? task_status_to_string(before->status) : NULL,
                  task_status_to_string(after->status) },
                { TASK_FIELD_DUE, before ? before->due : NULL, after->due },
                { TASK_FIELD_TITLE, before ? before->title : NULL, after->title },
                { TASK_FIELD_DETAIL, before ? before->detail : NULL, after->detail },
                { TASK_FIELD_AGENCIES, old_agencies, new_agencies },
                { TASK_FIELD_RECURRENCE, before ? before->recurrence : NULL, after->recurrence },
                { TASK_FIELD_REF, before ? before->ref : NULL, after->ref },
        };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                r = record_field(s, after, fields[i].field, created, fields[i].old_value, fields[i].new_value,
                                 how);
                if (r < 0)
                        return r;
                n += r;
        }
        return n;
}

void document_done(struct document *d) {
        if (!d)
                return;
        free(d->number);
        free(d->subject);
        free(d->issued_on);
        free(d->issuer);
        free(d->signer);
        *d = (struct document) {};
}

static const char *const task_status_table[_TASK_STATUS_MAX] = {
        [TASK_OPEN]      = "open",
        [TASK_DONE]      = "done",
        [TASK_CANCELLED] = "cancelled",
};

static const char *const role_table[_ROLE_MAX] = {
        [ROLE_LEAD]    = "lead",
        [ROLE_SUPPORT] = "support",
};

static const char *const delivery_state_table[_DELIVERY_STATE_MAX] = {
        [DELIVERY_PENDING]    = "pending",
        [DELIVERY_ATTEMPTING] = "attempting",
        [DELIVERY_SENT]       = "sent",
        [DELIVERY_FAILED]     = "failed",
};

static int lookup(const char *const *table, int n, const char *s) {
        if (!s)
                return -1;
        for (int i = 0; i < n; i++)
                if (streq(table[i], s))
                        return i;
        return -1;
}

static const char *const task_field_table[_TASK_FIELD_MAX] = {
        [TASK_FIELD_STATUS]     = "status",
        [TASK_FIELD_DUE]        = "due",
        [TASK_FIELD_TITLE]      = "title",
        [TASK_FIELD_DETAIL]     = "detail",
        [TASK_FIELD_AGENCIES]   = "agencies",
        [TASK_FIELD_RECURRENCE] = "recurrence",
        [TASK_FIELD_REF]        = "ref",
};

static const char *const change_source_table[_CHANGE_SOURCE_MAX] = {
        [CHANGE_IMPORT] = "import",
        [CHANGE_PERSON] = "person",
};

const char *task_field_to_string(enum task_field f) {
        return f >= 0 && f < _TASK_FIELD_MAX ? task_field_table[f] : NULL;
}

enum task_field task_field_from_string(const char *s) {
        return (enum task_field) lookup(task_field_table, _TASK_FIELD_MAX, s);
}

const char *change_source_to_string(enum change_source s) {
        return s >= 0 && s < _CHANGE_SOURCE_MAX ? change_source_table[s] : NULL;
}

enum change_source change_source_from_string(const char *s) {
        return (enum change_source) lookup(change_source_table, _CHANGE_SOURCE_MAX, s);
}

const char *task_status_to_string(enum task_status s) {
        return s >= 0 && s < _TASK_STATUS_MAX ? task_status_table[s] : NULL;
}

enum task_status task_status_from_string(const char *s) {
        return (enum task_status) lookup(task_status_table, _TASK_STATUS_MAX, s);
}

const char *role_to_string(enum role r) {
        return r >= 0 && r < _ROLE_MAX ? role_table[r] : NULL;
}

enum role role_from_string(const char *s) {
        return (enum role) lookup(role_table, _ROLE_MAX, s);
}

const char *delivery_state_to_string(enum delivery_state s) {
        return s >= 0 && s < _DELIVERY_STATE_MAX ? delivery_state_table[s] : NULL;
}

enum delivery_state delivery_state_from_string(const char *s) {
        return (enum delivery_state) lookup(delivery_state_table, _DELIVERY_STATE_MAX, s);
}

void task_done(struct task *t) {
        if (!t)
                return;
        free(t->document_number);
        free(t->ref);
        free(t->title);
        free(t->detail);
        free(t->due);
        free(t->original_due);
        free(t->due_rule_from);
        free(t->recurrence);
        for (size_t i = 0; i < t->n_agencies; i++)
                free(t->agencies[i].agency);
        free(t->agencies);
        *t = (struct task) {};
}

void task_due_rule_clear(struct task *t) {
        t->due_rule_days = 0;
        t->due_rule_from = mfree(t->due_rule_from);
}

void task_list_done(struct task_list *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                task_done(&l->tasks[i]);
        free(l->tasks);
        *l = (struct task_list) {};
}
void task_change_done(struct task_change *c) {
        if (!c)
                return;
        free(c->old_value);
        free(c->new_value);
        free(c->note);
        free(c->actor);
        free(c->approved_by);
        free(c->reason);
        *c = (struct task_change) {};
}

void task_change_list_done(struct task_change_list *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                task_change_done(&l->items[i]);
        free(l->items);
        *l = (struct task_change_list) {};
}
void task_completion_done(struct task_completion *c) {
        if (!c)
                return;
        free(c->due);
        free(c->done_on);
        free(c->note);
        free(c->actor);
        *c = (struct task_completion) {};
}

void task_completion_list_done(struct task_completion_list *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                task_completion_done(&l->items[i]);
        free(l->items);
        *l = (struct task_completion_list) {};
}

void task_occurrence_list_done(struct task_occurrence_list *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++) {
                free(l->items[i].document_number);
                free(l->items[i].agency);
        }
        free(l->items);
        *l = (struct task_occurrence_list) {};
}

void delivery_done(struct delivery *d) {
        if (!d)
                return;
        free(d->slot);
        free(d->agency);
        free(d->channel);
        free(d->last_error);
        free(d->delivered_to);
        free(d->retried_by);
        *d = (struct delivery) {};
}

void delivery_list_done(struct delivery_list *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                delivery_done(&l->items[i]);
        free(l->items);
        *l = (struct delivery_list) {};
}

static const char *const inbox_state_table[_INBOX_STATE_MAX] = {
        [INBOX_PENDING]    = "pending",
        [INBOX_CONFIRMED]  = "confirmed",
        [INBOX_REJECTED]   = "rejected",
        [INBOX_UNASSIGNED] = "unassigned",
        [INBOX_IGNORED]    = "ignored",
};

static const char *const inbox_intent_table[_INBOX_INTENT_MAX] = {
        [INBOX_INTENT_UNKNOWN]   = "unknown",
        [INBOX_INTENT_DONE]      = "done",
        [INBOX_INTENT_EXTENSION] = "extension",
};

const char *inbox_state_to_string(enum inbox_state s) {
        return s >= 0 && s < _INBOX_STATE_MAX ? inbox_state_table[s] : NULL;
}

enum inbox_state inbox_state_from_string(const char *s) {
        return (enum inbox_state) lookup(inbox_state_table, _INBOX_STATE_MAX, s);
}

const char *inbox_intent_to_string(enum inbox_intent i) {
        return i >= 0 && i < _INBOX_INTENT_MAX ? inbox_intent_table[i] : NULL;
}

enum inbox_intent inbox_intent_from_string(const char *s) {
        return (enum inbox_intent) lookup(inbox_intent_table, _INBOX_INTENT_MAX, s);
}

void inbox_message_done(struct inbox_message *m) {
        if (!m)
                return;
        free(m->message_id);
        free(m->sender);
        free(m->subject);
        free(m->agency);
        strv_free(m->evidence);
        free(m->text);
        free(m->note);
        free(m->decided_by);
        free(m->reason);
        *m = (struct inbox_message) {};
}

void inbox_wait_list_done(struct inbox_wait_list *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                free(l->items[i].agency);
        free(l->items);
        *l = (struct inbox_wait_list) {};
}

void inbox_message_list_done(struct inbox_message_list *l) {
        if (!l)
                return;
        for (size_t i = 0; i < l->n; i++)
                inbox_message_done(&l->items[i]);
        free(l->items);
        *l = (struct inbox_message_list) {};
}

int store_evidence_join(char *const *names, char **ret) {
        struct strbuf b = STRBUF_INIT(SIZE_MAX);

        *ret = NULL;
        if (!names || !*names)
                return 0;
        for (char *const *n = names; *n; n++) {
                if (strpbrk(*n, "\r\n"))
                        return -EINVAL;
                if (n != names)
                        strbuf_putc(&b, '\n');
                strbuf_puts(&b, *n);
        }
        return strbuf_steal(&b, ret, NULL);
}

int store_evidence_split(const char *s, char ***ret) {
        _cleanup_strv_free_ char **l = NULL;

        *ret = NULL;
        if (!s || !*s)
                return 0;
        for (const char *p = s;;) {
                const char *e = strchrnul(p, '\n');
                _cleanup_free_ char *one = strndup(p, e - p);
                if (!one || strv_push(&l, one) < 0)
                        return -ENOMEM;
                if (!*e)
                        break;
                p = e + 1;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

bool store_task_valid(const struct task *t) {
        if (!t || !t->title || t->document_id < 0)
                return false;
        if (!task_status_to_string(t->status))
                return false;
        if (t->due_rule_days < 0 || (t->due_rule_days > 0) != !!t->due_rule_from)
                return false;
        if (t->n_agencies > 0 && !t->agencies)
                return false;
        for (size_t i = 0; i < t->n_agencies; i++)
                if (!t->agencies[i].agency || !role_to_string(t->agencies[i].role))
                        return false;
        return true;
}
