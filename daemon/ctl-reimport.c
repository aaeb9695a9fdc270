/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Importing a document again: which of a task's fields take the document's
 * value and which keep what people made of them, and the conflicts that
 * says so. */

#include <stdio.h>
#include <string.h>

#include "ctl-reimport.h"
#include "json-util.h"
#include "textsim.h"
#include "timeutil.h"

void reimport_conflicts_clear(struct reimport_conflicts *l) {
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].ref);
                free(l->v[i].kept);
                free(l->v[i].document);
                free(l->v[i].message);
        }
        l->v = mfree(l->v);
        l->n = 0;
}

static void local_date(int64_t t, char buf[static 11]) {
        int32_t day;
        int64_t sec;

        instant_to_local(t, &day, &sec);
        format_iso_date(day, buf);
}

static const char *field_label(enum task_field f) {
        switch (f) {
        case TASK_FIELD_DUE: return "deadline";
        case TASK_FIELD_DETAIL: return "text";
        default: return task_field_to_string(f);
        }
}

/* A value in a conflict's line: titles quoted, ids and dates not. */
static char *value_text(enum task_field f, const char *v) {
        char *t;

        if (asprintf(&t, f == TASK_FIELD_TITLE && v ? "\"%s\"" : "%s", v ? v : "none") < 0)
                return NULL;
        return t;
}

static int conflict_add(struct reimport_conflicts *l, const struct task *old, enum task_field field,
                        const char *kept, const char *document, const struct task_change *last) {
        _cleanup_free_ char *k = value_text(field, kept), *d = value_text(field, document);
        struct reimport_conflict *v = reallocarray(l->v, l->n + 1, sizeof *v);
        struct reimport_conflict *x;
        /* A task a person added has its fields set, not changed, by hand. */
        const char *verb = last && !last->old_value ? "set" : "changed";
        char when[11];
        int r;

        if (!v || !k || !d)
                return -ENOMEM;
        l->v = v;
        x = &v[l->n];
        *x = (struct reimport_conflict) {
                .task = old->id,
                .field = field,
                .changed_at = last ? last->at : NO_TIME,
        };
        if (field == TASK_FIELD_DETAIL) {
                /* An item's text is too long to quote in one line. */
                char how[64] = "set before changes were logged";
                if (last) {
                        local_date(last->at, when);
                        snprintf(how, sizeof how, "%s by hand on %s", verb, when);
                }
                r = asprintf(&x->message, "task %lld: text %s; the document's differs — kept the task's",
                             (long long) old->id, how);
        } else if (field == TASK_FIELD_STATUS && old->status != TASK_OPEN && document && streq(document, "open")) {
                local_date(old->closed_at != NO_TIME ? old->closed_at : last ? last->at : old->updated_at, when);
                r = asprintf(&x->message, "task %lld: %s since %s; the document still lists it — kept %s",
                             (long long) old->id, kept, when, kept);
        } else if (last) {
                local_date(last->at, when);
                if (field == TASK_FIELD_TITLE)
                        r = asprintf(&x->message, "task %lld: title %s by hand on %s; the document says %s "
                                     "— kept %s", (long long) old->id, verb, when, d, k);
                else
                        r = asprintf(&x->message, "task %lld: %s %s by hand to %s on %s; the document says "
                                     "%s — kept %s", (long long) old->id, field_label(field), verb, k, when, d, k);
        } else
                r = asprintf(&x->message, "task %lld: %s is %s, set before changes were logged; the document "
                             "says %s — kept %s", (long long) old->id, field_label(field), k, d, k);
        if (r < 0) {
                x->message = NULL;
                return -ENOMEM;
        }
        l->n++;
        if ((old->ref && !(x->ref = strdup(old->ref))) || (kept && !(x->kept = strdup(kept))) ||
            (document && !(x->document = strdup(document))))
                return -ENOMEM;
        return 0;
}

/* Which value a field of an existing task takes: the document's, unless
 * a person changed the field since an import last set it (or it was set
 * before changes were logged, by whom is not known) — then the task's, and
 * the difference is a conflict. A title or text that is the document's up
 * to OCR damage is no change at all: the clean copy stays. */
static int decide(struct ctl *c, struct reimport_conflicts *l, const struct task *old, enum task_field field,
                  const char *current, const char *document, bool *ret_document) {
        _cleanup_(task_change_done) struct task_change last = {};
        int r;

        *ret_document = false;
        if (streq_ptr(current, document))
                return 0;
        if ((field == TASK_FIELD_TITLE || field == TASK_FIELD_DETAIL) && current && document) {
                r = textsim_same(current, document, TEXTSIM_OCR_SAME);
                if (r < 0)
                        return r;
                if (r > 0)
                        return 0;
        }
        r = store_task_change_last(c->store, old->id, field, -1, &last);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r >= 0 && last.source == CHANGE_IMPORT) {
                *ret_document = true;
                return 0;
        }
        return conflict_add(l, old, field, current, document, r >= 0 ? &last : NULL);
}

/* Fields first, then status: a closed task is updated like an open one,
 * and store_task_update() leaves it closed. */
int reimport_task(struct ctl *c, const struct task *old, const struct task *t, const char *note,
                  int64_t notice_at, struct reimport_conflicts *l) {
        _cleanup_free_ char *old_agencies = task_agencies_format(old->agencies, old->n_agencies);
        _cleanup_free_ char *new_agencies = task_agencies_format(t->agencies, t->n_agencies);
        bool take, changed = false;
        int r;

        if (!old_agencies || !new_agencies)
                return -ENOMEM;
        struct task merged = *old;
        merged.document_number = NULL; /* not ours to free */
#define DECIDE(field, member)                                                   \
        do {                                                                    \
                r = decide(c, l, old, field, old->member, t->member, &take);    \
                if (r < 0)                                                      \
                        return r;                                               \
                if (take) {                                                     \
                        merged.member = t->member;                              \
                        changed = true;                                         \
                }                                                               \
        } while (0)
        DECIDE(TASK_FIELD_TITLE, title);
        DECIDE(TASK_FIELD_DETAIL, detail);
        DECIDE(TASK_FIELD_RECURRENCE, recurrence);
        DECIDE(TASK_FIELD_DUE, due);
#undef DECIDE
        if (merged.due == t->due) {
                /* The document's deadline is the one it set: no extension. */
                merged.due_at = t->due_at;
                merged.original_due = t->original_due;
                /* And is counted as the document says, or is not. */
                merged.due_rule_days = t->due_rule_days;
                merged.due_rule_from = t->due_rule_from;
        }
        r = decide(c, l, old, TASK_FIELD_AGENCIES, old_agencies, new_agencies, &take);
        if (r < 0)
                return r;
        if (take) {
                merged.agencies = t->agencies;
                merged.n_agencies = t->n_agencies;
                (void) task_agencies_mark_assigned(old, &merged, notice_at);
                changed = true;
        }
        r = decide(c, l, old, TASK_FIELD_STATUS, task_status_to_string(old->status),
                   task_status_to_string(t->status), &take);
        if (r < 0)
                return r;
        if (changed && (r = store_task_update(c->store, &merged, c->now)) < 0)
                return r;
        if (take) {
                r = store_task_set_status(c->store, old->id, t->status, c->now);
                if (r < 0)
                        return r;
                merged.status = t->status;
        }
        r = store_task_changes_record(c->store, old, &merged,
                                      &(struct task_change) { .at = c->now, .source = CHANGE_IMPORT,
                                                              .note = (char *) note, .actor = (char *) ctl_user(c) });
        return r < 0 ? r : 0;
}

json_t *reimport_conflicts_json(const struct reimport_conflicts *l) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < l->n; i++) {
                const struct reimport_conflict *x = &l->v[i];
                json_t *o = json_pack("{s:I, s:s?, s:s, s:s?, s:s?, s:s}", "task", (json_int_t) x->task, "ref",
                                      x->ref, "field", task_field_to_string(x->field), "kept", x->kept,
                                      "document", x->document, "message", x->message);
                if (o && x->changed_at != NO_TIME)
                        json_object_set_new(o, "changed_at", json_time(x->changed_at));
                json_array_append_new(a, o);
        }
        return a;
}
