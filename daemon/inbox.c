/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "inbox.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "mail-message.h"
#include "outbox.h"
#include "reply.h"

static bool listed(char *const *addresses, const char *sender) {
        for (char *const *a = addresses; a && *a; a++)
                if (strcasecmp(*a, sender) == 0)
                        return true;
        return false;
}

/* The agency (of `ids`, agency or group ids; NULL: any configured) that
 * lists `sender`, or NULL. */
static const char *sender_agency(const struct config *c, char *const *ids, const char *sender) {
        _cleanup_free_ const char **expanded = NULL;

        if (!sender)
                return NULL;
        if (!ids) {
                for (size_t i = 0; i < c->n_agencies; i++)
                        if (listed(c->agencies[i].email, sender) || listed(c->agencies[i].cc, sender))
                                return c->agencies[i].id;
                return NULL;
        }
        if (config_expand(c, ids, &expanded) < 0)
                return NULL;
        for (const char **id = expanded; *id; id++) {
                const struct agency *a = config_find_agency(c, *id);
                if (a && (listed(a->email, sender) || listed(a->cc, sender)))
                        return a->id;
        }
        return NULL;
}

/* The one open task whose reference is `ref` (folded); 0 when none, -1
 * when several have it. */
static int find_by_ref(struct store *s, const char *ref, int64_t *ret) {
        _cleanup_(task_list_done) struct task_list l = {};
        struct task_filter f = TASK_FILTER_INIT;
        int64_t found = 0;
        int r;

        f.status = TASK_OPEN;
        r = store_task_list(s, &f, &l);
        if (r < 0)
                return r;
        for (size_t i = 0; i < l.n; i++) {
                if (!l.tasks[i].ref || strcasecmp(l.tasks[i].ref, ref) != 0)
                        continue;
                if (found != 0) {
                        *ret = -1;
                        return 0;
                }
                found = l.tasks[i].id;
        }
        *ret = found;
        return 0;
}

static int record(struct store *s, const struct config *c, struct inbox_message *m, int64_t now) {
        int r;

        r = store_begin(s);
        if (r < 0)
                return r;
        r = store_inbox_add(s, m);
        if (r > 0 && m->state == INBOX_PENDING && m->agency) {
                char key[64];
                int k;

                snprintf(key, sizeof key, "ack:%" PRId64, m->id);
                k = outbox_enqueue(s, c, key, m->agency, now, now);
                if (k < 0 && k != -ENOENT) {
                        r = k;
                        goto fail;
                }
        }
        if (r < 0)
                goto fail;
        {
                int k = store_commit(s);
                if (k < 0) {
                        r = k;
                        goto fail;
                }
        }
        return r;
fail:
        (void) store_rollback(s);
        return r;
}

static int record_ignored(struct store *s, const struct config *c, int64_t uidvalidity, int64_t uid,
                          const char *message_id, const char *sender, const char *subject, const char *note,
                          int64_t now) {
        struct inbox_message m = {
                .uidvalidity = uidvalidity,
                .uid = uid,
                .message_id = (char *) message_id,
                .sender = (char *) sender,
                .subject = (char *) subject,
                .received_at = now,
                .sent_at = NO_TIME,
                .intent = INBOX_INTENT_UNKNOWN,
                .asked_day = INT32_MIN,
                .state = INBOX_IGNORED,
                .note = (char *) note,
        };
        return record(s, c, &m, now);
}

int inbox_receive_too_large(struct store *s, const struct config *c, int64_t uidvalidity, int64_t uid,
                            uint64_t size, int64_t now) {
        char note[128];

        snprintf(note, sizeof note, "too large: %" PRIu64 " bytes (inbox.max_size is %" PRId64 ")", size,
                 c->inbox.max_size);
        log_notice("Inbox message UID %" PRId64 " left unread: %s", uid, note);
        return record_ignored(s, c, uidvalidity, uid, NULL, NULL, NULL, note, now);
}

static enum inbox_intent intent_of(enum reply_intent i) {
        switch (i) {
        case REPLY_DONE:
                return INBOX_INTENT_DONE;
        case REPLY_EXTENSION:
                return INBOX_INTENT_EXTENSION;
        default:
                return INBOX_INTENT_UNKNOWN;
        }
}

int inbox_receive(struct store *s, const struct config *c, int64_t uidvalidity, int64_t uid, const char *data,
                  size_t size, int64_t now) {
        struct reply_limits limits = REPLY_LIMITS_DEFAULT;
        _cleanup_(reply_done) struct reply rp = {};
        _cleanup_(task_done) struct task t = {};
        const char *from, *agency = NULL;
        enum mail_reference kind;
        int64_t task_id = 0;
        char note[256];
        int r;

        limits.max_bytes = (size_t) c->inbox.max_size;
        r = reply_parse(data, size, &limits, &rp);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                snprintf(note, sizeof note, "%s",
                         r == -EMSGSIZE ? "beyond the reader's limits (size, MIME parts or nesting)"
                                        : "not a readable e-mail message");
                log_notice("Inbox message UID %" PRId64 " ignored: %s", uid, note);
                return record_ignored(s, c, uidvalidity, uid, NULL, NULL, NULL, note, now);
        }
        from = rp.from;

        kind = mail_references_task(rp.references, store_instance_id(s), &task_id);
        if (kind != MAIL_REFERENCE_TASK)
                task_id = 0;
        if (task_id == 0 && rp.task_tag > 0)
                task_id = rp.task_tag;
        if (task_id == 0 && rp.task_ref) {
                r = find_by_ref(s, rp.task_ref, &task_id);
                if (r < 0)
                        return r;
                if (task_id < 0)
                        task_id = 0;   /* several: the officer decides */
        }

        if (task_id == 0) {
                /* Names no task (a reply to a digest, a new message): the
                 * officer's, if it comes from an agency at all. */
                agency = sender_agency(c, NULL, from);
                if (!agency) {
                        snprintf(note, sizeof note, "from %s, an address no agency lists", from ?: "no address");
                        log_notice("Inbox message UID %" PRId64 " ignored: %s", uid, note);
                        return record_ignored(s, c, uidvalidity, uid, rp.message_id, from, rp.subject, note, now);
                }
        } else {
                r = store_task_get(s, task_id, &t);
                if (r == -ENOENT) {
                        snprintf(note, sizeof note, "about task %" PRId64 ", which does not exist", task_id);
                        log_notice("Inbox message UID %" PRId64 " from %s ignored: %s", uid, from ?: "no address",
                                   note);
                        return record_ignored(s, c, uidvalidity, uid, rp.message_id, from, rp.subject, note, now);
                }
                if (r < 0)
                        return r;
                _cleanup_free_ char **ids = calloc(t.n_agencies + 1, sizeof *ids);
                if (!ids)
                        return -ENOMEM;
                for (size_t i = 0; i < t.n_agencies; i++)
                        ids[i] = t.agencies[i].agency;
                agency = sender_agency(c, ids, from);
                if (!agency) {
                        snprintf(note, sizeof note, "from %s, an address not listed for task %" PRId64 "'s agencies",
                                 from ?: "no address", task_id);
                        log_notice("Inbox message UID %" PRId64 " ignored: %s", uid, note);
                        return record_ignored(s, c, uidvalidity, uid, rp.message_id, from, rp.subject, note, now);
                }
        }

        struct inbox_message m = {
                .uidvalidity = uidvalidity,
                .uid = uid,
                .message_id = rp.message_id,
                .sender = rp.from,
                .subject = rp.subject,
                .received_at = now,
                .sent_at = rp.date == INT64_MIN ? NO_TIME : rp.date,
                .task_id = task_id,
                .agency = (char *) agency,
                .intent = intent_of(rp.intent),
                .asked_day = rp.intent == REPLY_EXTENSION ? rp.asked_day : INT32_MIN,
                .evidence = rp.attachments,
                .text = rp.text,
                .state = task_id > 0 ? INBOX_PENDING : INBOX_UNASSIGNED,
        };
        r = record(s, c, &m, now);
        if (r > 0 && task_id > 0)
                log_info("Inbox message UID %" PRId64 " from %s (%s) about task %" PRId64 ": %s, recorded as #%" PRId64,
                         uid, from, agency, task_id, inbox_intent_to_string(m.intent), m.id);
        else if (r > 0)
                log_info("Inbox message UID %" PRId64 " from %s (%s) names no task: unassigned, recorded as #%" PRId64,
                         uid, from, agency, m.id);
        else if (r == 0)
                log_debug("Inbox message UID %" PRId64 " was read before", uid);
        return r;
}
