/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl import's apply step (ctl-import.h): one transaction, the
 * document found or made, each item added or updated under the re-import
 * rules (ctl-reimport.c), or all of it rolled back. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl-import.h"
#include "recurrence.h"
#include "timeutil.h"

static int find_document(struct ctl *c, const char *number, int64_t *ret) {
        struct document d = {};
        int r = store_document_get(c->store, number, &d);

        if (r == -ENOENT) {
                d = (struct document) { .number = (char *) number };
                r = store_document_upsert(c->store, &d);
                *ret = d.id;
                return r;
        }
        if (r >= 0)
                *ret = d.id;
        document_done(&d);
        return r;
}

/* Adds the item's task, or updates it as reimport_task() decides. */
static int apply_item(struct ctl *c, struct import *im, struct item *it, int64_t document_id,
                      bool *ret_updated) {
        _cleanup_(task_done) struct task old = {};
        struct task t = {};
        int64_t id = 0;
        int r;

        *ret_updated = false;
        if (document_id && it->ref) {
                r = store_task_find_ref(c->store, document_id, it->ref, &id);
                if (r < 0 && r != -ENOENT)
                        return r;
        }
        if (id > 0) {
                r = store_task_get(c->store, id, &old);
                if (r < 0)
                        return r;
        }
        size_t nl = strv_length(it->lead), ns = strv_length(it->support);
        _cleanup_free_ struct task_agency *ag = calloc(nl + ns + 1, sizeof *ag);
        if (!ag)
                return -ENOMEM;
        size_t n = 0;
        for (size_t i = 0; i < nl; i++)
                ag[n++] = (struct task_agency) { it->lead[i], ROLE_LEAD, 0 };
        for (size_t i = 0; i < ns; i++)
                if (!strv_contains(it->lead, it->support[i]))
                        ag[n++] = (struct task_agency) { it->support[i], ROLE_SUPPORT, 0 };

        struct due d;
        t = (struct task) {
                .id = id,
                .document_id = document_id,
                .ref = it->ref,
                .title = it->title,
                .detail = it->detail,
                .due = it->due,
                .due_at = it->due && parse_due(it->due, 0, &d) >= 0 ? due_instant(&d) : NO_TIME,
                .original_due = it->original_due_given ? it->original_due : it->due,
                .due_rule_days = it->due_rule_from ? it->due_rule_days : 0,
                .due_rule_from = it->due_rule_from,
                .status = it->status,
                .recurrence = it->recurrence,
                .agencies = ag,
                .n_agencies = n,
        };
        _cleanup_free_ char *next_due = NULL, *note = NULL;
        if (!t.due && t.recurrence && id > 0 && old.due && streq_ptr(old.recurrence, t.recurrence)) {
                /* The task is at some occurrence of the same recurrence
                 * (done for a period, or rolled on): the document says
                 * nothing about which. */
                t.due = old.due;
                t.due_at = old.due_at;
                t.original_due = old.original_due;
                t.due_rule_days = old.due_rule_days;
                t.due_rule_from = old.due_rule_from;
        } else if (!t.due && t.recurrence) {
                /* A recurring task starts at its next occurrence from today. */
                struct recurrence rec;
                char buf[17];
                (void) recurrence_parse(t.recurrence, &rec);
                struct due nd = recurrence_first(&rec, c->now);
                format_due(&nd, buf);
                t.due = next_due = strdup(buf);
                t.due_at = due_instant(&nd);
                if (!it->original_due_given)
                        t.original_due = t.due;
        }
        if (asprintf(&note, "import%s%s", it->document ? " " : "", strempty(it->document)) < 0) {
                note = NULL;
                return -ENOMEM;
        }
        if (id > 0) {
                *ret_updated = true;
                return reimport_task(c, &old, &t, note, im->notice_at, &im->conflicts);
        }
        (void) task_agencies_mark_assigned(NULL, &t, im->notice_at);
        r = store_task_add(c->store, &t, c->now);
        if (r >= 0)
                r = store_task_changes_record(c->store, NULL, &t,
                                              &(struct task_change) { .at = c->now, .source = CHANGE_IMPORT,
                                                                      .note = note, .actor = (char *) ctl_user(c) });
        return r < 0 ? r : 0;
}

/* Applies the import in one transaction, and commits it unless `preview`
 * (a dry run: the conflicts are all it wants). Conflicts are printed as
 * they are kept, once the import is in. */
int import_apply(struct ctl *c, struct import *im, bool preview, size_t *ret_added, size_t *ret_updated) {
        int64_t doc_id = 0;
        int r;

        reimport_conflicts_clear(&im->conflicts);
        r = store_begin(c->store);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot start a transaction");
        if (im->doc.number) {
                /* The directive's own description of itself wins over what
                 * an earlier import recorded. */
                r = store_document_upsert(c->store, &im->doc);
                doc_id = im->doc.id;
        }
        *ret_added = *ret_updated = 0;
        for (size_t i = 0; r >= 0 && i < im->n; i++) {
                struct item *it = &im->items[i];
                int64_t id = 0;
                bool updated;
                if (it->document && !(im->doc.number && streq(it->document, im->doc.number)))
                        r = find_document(c, it->document, &id);
                else
                        id = it->document ? doc_id : 0;
                if (r >= 0)
                        r = apply_item(c, im, it, id, &updated);
                if (r >= 0)
                        (*(updated ? ret_updated : ret_added))++;
        }
        if (r >= 0 && preview) {
                (void) store_rollback(c->store);
                return 0;
        }
        if (r >= 0)
                r = store_commit(c->store);
        if (r < 0) {
                (void) store_rollback(c->store);
                reimport_conflicts_clear(&im->conflicts);
                return ctl_store_fail(c, r, preview ? "cannot compare the import with the database"
                                                    : "import not applied");
        }
        for (size_t i = 0; i < im->conflicts.n; i++)
                fprintf(stderr, "deadlinectl: import: %s\n", im->conflicts.v[i].message);
        return 0;
}

/* The items that have a lead, for --partial and the dry run's preview;
 * they share the import's strings, so only the array is freed. */
int import_with_lead(const struct import *im, struct import *ret) {
        *ret = (struct import) { .doc = im->doc };
        ret->items = calloc(im->n + 1, sizeof *ret->items);
        if (!ret->items)
                return -ENOMEM;
        for (size_t i = 0; i < im->n; i++)
                if (!import_item_needs_lead(&im->items[i]))
                        ret->items[ret->n++] = im->items[i];
        return 0;
}

/* For a dry run: what the import would keep of people's work, found by
 * applying it and rolling it back. Nothing to compare with when there is
 * no database yet, and none is made; one this user cannot write is left
 * alone, as the dry run always did. */
int import_preview_conflicts(struct ctl *c, struct import *im) {
        struct import sub;
        size_t added, updated;
        int r;

        /* A server's database is always there, and the server decides
         * who may write it; one with no tables yet (its schema is made at
         * the first open that may write) has nothing to compare with, and
         * a dry run makes none. */
        if (store_database_is_server(c->config->database)) {
                _cleanup_(store_closep) struct store *probe = NULL;
                if (store_open_password(c->config->database, c->config->database_password, STORE_READONLY,
                                        &probe) == -EROFS)
                        return 0;
        } else {
                if (access(c->config->database, F_OK) < 0)
                        return 0;
                if (access(c->config->database, R_OK | W_OK) < 0) {
                        fprintf(stderr, "deadlinectl: import: %s: %s; what a re-import would keep of people's "
                                "changes is not shown\n", c->config->database, strerror(errno));
                        return 0;
                }
        }
        /* Only the items the import would apply. */
        if (import_with_lead(im, &sub) < 0)
                return ctl_fail(c, EX_OSERR, "out of memory");
        sub.notice_at = im->notice_at;
        r = ctl_open_store(c);
        if (r == 0)
                r = import_apply(c, &sub, true, &added, &updated);
        reimport_conflicts_clear(&im->conflicts);
        im->conflicts = sub.conflicts;
        free(sub.items);
        return r;
}
