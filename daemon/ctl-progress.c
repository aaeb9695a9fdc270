/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl's commands that move a task along and keep a record of it:
 * extend (a later deadline, on an approving document), done (when, and
 * with what evidence), reopen and cancel; and that record read back, a
 * task's changes and completions, as JSON and as a timeline for show and
 * history. */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "json-util.h"
#include "recurrence.h"
#include "timeutil.h"

#define APPROVED_BY_MAX 300
#define REASON_MAX 1000
#define NOTE_MAX 1000

enum {
        ARG_JSON = CTL_ARG_JSON,
        ARG_TO,
        ARG_BY,
        ARG_REASON,
        ARG_NOTE,
        ARG_ON,
};

/* Reads a command's options: the common ones, and those in `extra`
 * (values into `values`, by their val - ARG_TO); then one task id. */
static int parse_options(struct ctl *c, int argc, char **argv, const struct option *options,
                         const char *values[static 5], int64_t *ret_id) {
        int opt;

        while ((opt = getopt_long(argc, argv, ":c:h", options, NULL)) >= 0) {
                int k = ctl_common_option(c, opt, argv);
                if (k >= 1000)
                        return k - 1000;
                if (k)
                        continue;
                if (opt >= ARG_TO && opt <= ARG_ON)
                        values[opt - ARG_TO] = optarg;
        }
        if (optind != argc - 1)
                return ctl_fail(c, EX_USAGE, optind >= argc ? "missing task ID" : "unexpected argument \"%s\"",
                                argv[MIN(optind + 1, argc - 1)]);
        return ctl_parse_task_id(c, argv[optind], ret_id);
}

/* Opens a transaction and reads the task in it twice: as it was, for the
 * change log to compare with, and the copy the command changes. Checked
 * inside the transaction that changes it. On failure nothing is open. */
static int begin_with_task(struct ctl *c, int64_t id, struct task *before, struct task *t) {
        int r = ctl_open_store(c);
        if (r != 0)
                return r;
        r = store_begin(c->store);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot start a transaction");
        r = ctl_get_task(c, id, before);
        if (r == 0)
                r = ctl_get_task(c, id, t);
        if (r != 0)
                store_rollback(c->store);
        return r;
}

/* Runs after store_begin(): a failure rolls back and says what failed. */
static int rollback_fail(struct ctl *c, int r, const char *what) {
        store_rollback(c->store);
        return ctl_store_fail(c, r, what);
}

static int commit(struct ctl *c) {
        int r = store_commit(c->store);
        if (r < 0)
                return rollback_fail(c, r, "cannot commit");
        return 0;
}

/* A task's deadline for people: "30/4/2025", "30/4/2025 17:00", or the
 * stored text if it does not read as one. */
static void due_words(const char *due, char buf[static 24]) {
        struct due d;

        if (!due)
                snprintf(buf, 24, "none");
        else if (parse_due(due, 0, &d) < 0)
                snprintf(buf, 24, "%.23s", due);
        else
                format_due_vn(&d, buf);
}

int cmd_extend(struct ctl *c, int argc, char **argv) {
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "to", required_argument, NULL, ARG_TO },
                { "by", required_argument, NULL, ARG_BY },
                { "reason", required_argument, NULL, ARG_REASON },
                {},
        };
        const char *v[5] = {};
        _cleanup_free_ char *by = NULL, *reason = NULL;
        struct due to;
        int64_t id;
        int r;

        r = parse_options(c, argc, argv, options, v, &id);
        if (r != 0)
                return r;
        if (!v[ARG_TO - ARG_TO])
                return ctl_fail(c, EX_USAGE, "missing --to DATE (the new deadline)");
        if (!v[ARG_BY - ARG_TO])
                return ctl_fail(c, EX_USAGE, "missing --by DOCUMENT (the document that approved the extension, "
                                "\"Công văn số 123/UBND-KTTH\")");
        r = ctl_load_config(c);
        if (r != 0)
                return r;
        r = ctl_check_text(c, "--by", v[ARG_BY - ARG_TO], APPROVED_BY_MAX, false, &by);
        if (r != 0)
                return r;
        if (!*by)
                return ctl_fail(c, EX_USAGE, "--by: empty (name the document that approved the extension)");
        if (v[ARG_REASON - ARG_TO]) {
                r = ctl_check_text(c, "--reason", v[ARG_REASON - ARG_TO], REASON_MAX, true, &reason);
                if (r != 0)
                        return r;
                if (!*reason)
                        reason = mfree(reason);
        }
        if (parse_due(v[ARG_TO - ARG_TO], c->now, &to) < 0)
                return ctl_fail(c, EX_DATAERR,
                                "--to: \"%s\" is not a date (use 2025-05-30, 30/5/2025, 2025-05-30T17:00 or +7d)",
                                v[ARG_TO - ARG_TO]);
        return ctl_task_extend(c, id, &to, by, reason, NULL, NULL);
}

int ctl_task_extend(struct ctl *c, int64_t id, const struct due *to_, const char *by, const char *reason,
                    ctl_inside_t inside, void *userdata) {
        _cleanup_(task_done) struct task before = {}, t = {};
        char buf[17], old_words[24], new_words[24];
        struct due to = *to_;
        int r;

        r = begin_with_task(c, id, &before, &t);
        if (r != 0)
                return r;
        due_words(t.due, old_words);
        format_due_vn(&to, new_words);
        if (t.status != TASK_OPEN) {
                store_rollback(c->store);
                return ctl_fail(c, EX_DATAERR, "task %lld is %s: only an open task's deadline is extended "
                                "(deadlinectl reopen %lld first)", (long long) id, task_status_to_string(t.status),
                                (long long) id);
        }
        if (!t.due || t.due_at == NO_TIME) {
                store_rollback(c->store);
                return ctl_fail(c, EX_DATAERR, "task %lld has no deadline to extend (give it one with "
                                "deadlinectl edit %lld --due DATE)", (long long) id, (long long) id);
        }
        if (due_instant(&to) <= t.due_at) {
                store_rollback(c->store);
                return ctl_fail(c, EX_DATAERR, "--to: %s is not later than task %lld's deadline, %s", new_words,
                                (long long) id, old_words);
        }

        format_due(&to, buf);
        free(t.due);
        t.due = strdup(buf);
        if (!t.due) {
                store_rollback(c->store);
                return ctl_fail(c, EX_OSERR, "out of memory");
        }
        t.due_at = due_instant(&to);
        /* An extended deadline is a date, no longer counted from a day. */
        task_due_rule_clear(&t);
        /* The reminders of the old deadline that are still to go are
         * withdrawn with the update; the new one's are decided afresh. */
        r = store_task_update(c->store, &t, c->now);
        if (r >= 0)
                r = ctl_record_change(c, &before, &t, by, reason);
        if (r < 0)
                return rollback_fail(c, r, "cannot extend the task");
        if (inside) {
                r = inside(c, &t, userdata);
                if (r != 0) {
                        store_rollback(c->store);
                        return r;
                }
        }
        r = commit(c);
        if (r != 0)
                return r;

        if (c->json)
                return ctl_print_json(c, ctl_task_json(&t));
        char original[24];
        due_words(t.original_due, original);
        printf("Task %lld extended to %s (was %s%s%s), on %s.\n", (long long) id, new_words, old_words,
               t.original_due && !streq(t.original_due, before.due) ? "; originally " : "",
               t.original_due && !streq(t.original_due, before.due) ? original : "", by);
        return 0;
}

/* --on: the day (or day and time) the task was really done, not in the
 * future. A date alone counts from its first instant. */
static int parse_on(struct ctl *c, const char *value, char **ret_text, int64_t *ret_at) {
        struct due d;
        char buf[17];
        int32_t today;
        int64_t sec, at;

        if (parse_due(value, c->now, &d) < 0)
                return ctl_fail(c, EX_DATAERR, "--on: \"%s\" is not a date (use 2025-05-12, 12/5/2025 or "
                                "2025-05-12T15:00)", value);
        instant_to_local(c->now, &today, &sec);
        at = local_to_instant(d.day, d.minute < 0 ? 0 : (int64_t) d.minute * SEC_PER_MIN);
        if (d.day > today || at > c->now) {
                char words[24];
                format_due_vn(&d, words);
                return ctl_fail(c, EX_DATAERR, "--on: %s is in the future (a task is reported done when it "
                                "has been)", words);
        }
        format_due(&d, buf);
        *ret_text = strdup(buf);
        if (!*ret_text)
                return ctl_fail(c, EX_OSERR, "out of memory");
        *ret_at = at;
        return 0;
}

/* The completion that `done` records: the deadline it answered (the
 * occurrence's, for a recurring task), when and with what. */
static int add_completion(struct ctl *c, const struct task *t, const char *done_on, int64_t done_at,
                          const char *note) {
        struct task_completion k = {
                .task_id = t->id,
                .due = t->due,
                .due_at = t->due_at,
                .done_on = (char *) done_on,
                .done_at = done_on ? done_at : c->now,
                .note = (char *) note,
                .recorded_at = c->now,
                .actor = (char *) ctl_user(c),
        };
        return store_task_completion_add(c->store, &k);
}

static int set_status(struct ctl *c, int argc, char **argv, enum task_status status) {
        static const struct option done_options[] = {
                CTL_COMMON_OPTIONS,
                { "note", required_argument, NULL, ARG_NOTE },
                { "on", required_argument, NULL, ARG_ON },
                {},
        };
        static const struct option options[] = { CTL_COMMON_OPTIONS, {} };
        _cleanup_free_ char *note = NULL, *done_on = NULL;
        const char *v[5] = {};
        int64_t id, done_at = NO_TIME;
        int r;

        r = parse_options(c, argc, argv, status == TASK_DONE ? done_options : options, v, &id);
        if (r != 0)
                return r;
        r = ctl_load_config(c);
        if (r != 0)
                return r;
        if (v[ARG_NOTE - ARG_TO]) {
                r = ctl_check_text(c, "--note", v[ARG_NOTE - ARG_TO], NOTE_MAX, true, &note);
                if (r != 0)
                        return r;
                if (!*note)
                        note = mfree(note);
        }
        if (v[ARG_ON - ARG_TO]) {
                r = parse_on(c, v[ARG_ON - ARG_TO], &done_on, &done_at);
                if (r != 0)
                        return r;
        }
        return ctl_task_set_status(c, id, status, done_on, done_at, note, NULL, NULL);
}

int ctl_task_set_status(struct ctl *c, int64_t id, enum task_status status, const char *done_on, int64_t done_at,
                        const char *note, ctl_inside_t inside, void *userdata) {
        _cleanup_(task_done) struct task before = {}, t = {};
        struct recurrence rec;
        int r;

        r = begin_with_task(c, id, &before, &t);
        if (r != 0)
                return r;

        if (status == TASK_DONE && t.status == TASK_OPEN && t.recurrence && recurrence_parse(t.recurrence, &rec) >= 0 &&
            t.due) {
                /* A recurring task is never finished: done means this
                 * occurrence is, recorded as such, and the task moves to
                 * its next deadline, which is that occurrence's original. */
                struct due d;
                char buf[17];

                r = add_completion(c, &t, done_on, done_at, note);
                if (r < 0)
                        return rollback_fail(c, r, "cannot record the completion");
                /* An extended occurrence is followed by the next one after
                 * its original deadline, not after the extension. */
                if (!t.original_due || parse_due(t.original_due, 0, &d) < 0)
                        (void) parse_due(t.due, 0, &d);
                d.day = recurrence_next(&rec, d.day);
                format_due(&d, buf);
                free(t.due);
                free(t.original_due);
                t.due = strdup(buf);
                t.original_due = strdup(buf);
                if (!t.due || !t.original_due)
                        return rollback_fail(c, -ENOMEM, "cannot change the task");
                t.due_at = due_instant(&d);
                task_due_rule_clear(&t);
                r = store_task_update(c->store, &t, c->now);
                if (r >= 0)
                        r = ctl_record_change(c, &before, &t, NULL, NULL);
                if (r < 0)
                        return rollback_fail(c, r, "cannot change the task");
                if (inside) {
                        r = inside(c, &t, userdata);
                        if (r != 0) {
                                store_rollback(c->store);
                                return r;
                        }
                }
                r = commit(c);
                if (r == 0 && c->json)
                        return ctl_print_json(c, ctl_task_json(&t));
                if (r == 0)
                        printf("Task %lld done for this period; next deadline %s.\n", (long long) t.id, buf);
                return r;
        }

        r = store_task_set_status(c->store, t.id, status, c->now);
        if (r == -EALREADY) {
                store_rollback(c->store);
                return ctl_fail(c, EX_DATAERR, "task %lld is already %s", (long long) t.id,
                                task_status_to_string(status));
        }
        if (r >= 0 && status == TASK_DONE)
                r = add_completion(c, &t, done_on, done_at, note);
        /* Reopened: the completion stays in the history, marked. */
        if (r >= 0 && status == TASK_OPEN && t.status == TASK_DONE)
                r = store_task_completion_reopened(c->store, t.id, c->now);
        if (r >= 0) {
                t.status = status;
                r = ctl_record_change(c, &before, &t, NULL, NULL);
        }
        if (r < 0)
                return rollback_fail(c, r, "cannot change the task");
        if (inside) {
                r = inside(c, &t, userdata);
                if (r != 0) {
                        store_rollback(c->store);
                        return r;
                }
        }
        r = commit(c);
        if (r == 0 && c->json) {
                struct task back = {};
                r = store_task_get(c->store, t.id, &back);
                r = r < 0 ? ctl_store_fail(c, r, "cannot read the task back") : ctl_print_json(c, ctl_task_json(&back));
                task_done(&back);
                return r;
        }
        if (r == 0)
                printf("Task %lld is now %s.\n", (long long) t.id, task_status_to_string(status));
        return r;
}

int cmd_done(struct ctl *c, int argc, char **argv) {
        return set_status(c, argc, argv, TASK_DONE);
}

int cmd_reopen(struct ctl *c, int argc, char **argv) {
        return set_status(c, argc, argv, TASK_OPEN);
}

int cmd_cancel(struct ctl *c, int argc, char **argv) {
        return set_status(c, argc, argv, TASK_CANCELLED);
}

void ctl_record_done(struct ctl_record *r) {
        task_change_list_done(&r->changes);
        task_completion_list_done(&r->completions);
}

int ctl_record_read(struct ctl *c, int64_t task_id, struct ctl_record *ret) {
        int r = store_task_changes(c->store, task_id, &ret->changes);
        if (r >= 0)
                r = store_task_completions(c->store, task_id, &ret->completions);
        if (r < 0) {
                ctl_record_done(ret);
                return ctl_store_fail(c, r, "cannot read the task's history");
        }
        return 0;
}

json_t *ctl_changes_json(const struct task_change_list *l) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < l->n; i++) {
                const struct task_change *k = &l->items[i];
                json_array_append_new(a, json_pack("{s:o, s:s?, s:o, s:o, s:s?, s:o, s:o, s:o, s:o}", "at",
                                                   json_time(k->at), "field", task_field_to_string(k->field),
                                                   "old", json_text(k->old_value), "new", json_text(k->new_value),
                                                   "source", change_source_to_string(k->source), "note",
                                                   json_text(k->note), "user", json_text(k->actor),
                                                   "approved_by", json_text(k->approved_by), "reason",
                                                   json_text(k->reason)));
        }
        return a;
}

json_t *ctl_completions_json(const struct task_completion_list *l) {
        json_t *a = json_array();

        for (size_t i = 0; a && i < l->n; i++) {
                const struct task_completion *k = &l->items[i];
                json_array_append_new(a, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "due",
                                                   json_text(k->due), "due_at", json_time(k->due_at), "done_on",
                                                   json_text(k->done_on), "done_at", json_time(k->done_at),
                                                   "note", json_text(k->note), "recorded_at",
                                                   json_time(k->recorded_at), "user", json_text(k->actor),
                                                   "reopened_at", json_time(k->reopened_at)));
        }
        return a;
}

static int event_add(struct ctl_event **events, size_t *n, int64_t at, const char *what, char *detail) {
        struct ctl_event *e;

        if (!detail)
                return -ENOMEM;
        e = reallocarray(*events, *n + 1, sizeof **events);
        if (!e) {
                free(detail);
                return -ENOMEM;
        }
        *events = e;
        e[*n] = (struct ctl_event) { .at = at, .detail = detail };
        snprintf(e[*n].what, sizeof e[*n].what, "%s", what);
        (*n)++;
        return 0;
}

/* "(deadlinectl extend, alice)": how and by whom. */
static void who(const struct task_change *k, char *buf, size_t size) {
        snprintf(buf, size, "%s%s%s", k->note ? k->note : change_source_to_string(k->source),
                 k->actor ? ", " : "", strempty(k->actor));
}

/* Whether k is one of the entries that made the task: those without an
 * old value logged at the moment, and with the note, of its status's. */
static bool part_of_creation(const struct task_change_list *l, const struct task_change *k) {
        if (k->old_value)
                return false;
        for (size_t i = 0; i < l->n; i++) {
                const struct task_change *s = &l->items[i];
                if (s->field == TASK_FIELD_STATUS && !s->old_value && s->at == k->at &&
                    streq_ptr(s->note, k->note))
                        return true;
        }
        return false;
}

static int change_event(const struct task_change_list *l, const struct task_change *k, struct ctl_event **events,
                        size_t *n) {
        char how[160], old_words[24], new_words[24];
        const char *what;
        char *d = NULL;

        if (part_of_creation(l, k)) {
                if (k->field != TASK_FIELD_STATUS)
                        return 0;
                who(k, how, sizeof how);
                return event_add(events, n, k->at, "created", asprintf(&d, "(%s)", how) < 0 ? NULL : d);
        }
        who(k, how, sizeof how);
        if (k->field == TASK_FIELD_DUE) {
                struct due a, b;
                bool later = k->old_value && k->new_value && parse_due(k->old_value, 0, &a) >= 0 &&
                             parse_due(k->new_value, 0, &b) >= 0 && due_instant(&b) > due_instant(&a);

                due_words(k->old_value, old_words);
                due_words(k->new_value, new_words);
                what = k->approved_by ? (later ? "deadline extended" : "deadline changed") : "deadline changed";
                if (asprintf(&d, "%s → %s%s%s%s%s (%s)", old_words, new_words, k->approved_by ? ", on " : "",
                             strempty(k->approved_by), k->reason ? ": " : "", strempty(k->reason), how) < 0)
                        d = NULL;
                return event_add(events, n, k->at, what, d);
        }
        if (k->field == TASK_FIELD_DETAIL) {
                if (asprintf(&d, "(%s)", how) < 0)
                        d = NULL;
                return event_add(events, n, k->at, "detail changed", d);
        }
        char name[40];
        snprintf(name, sizeof name, "%s changed", task_field_to_string(k->field) ?: "?");
        if (asprintf(&d, "%.80s → %.80s (%s)", k->old_value ?: "none", k->new_value ?: "none", how) < 0)
                d = NULL;
        return event_add(events, n, k->at, name, d);
}

static int completion_event(const struct task_completion *k, struct ctl_event **events, size_t *n) {
        char on[24], due[24], recorded[40] = "", reopened[20] = "";
        char *d = NULL;

        if (k->done_on) {
                char local[20];
                due_words(k->done_on, on);
                format_local(k->recorded_at, local);
                snprintf(recorded, sizeof recorded, "recorded %.16s", local);
        } else {
                char local[20];
                format_local(k->done_at, local);
                snprintf(on, sizeof on, "%.16s", local);
        }
        due_words(k->due, due);
        if (k->reopened_at != NO_TIME)
                format_local(k->reopened_at, reopened);
        bool paren = *recorded || k->actor;
        if (asprintf(&d, "on %s, for the deadline %s%s%s%s%s%s%s%s%s%.16s", on, due, k->note ? ": " : "",
                     strempty(k->note), paren ? " (" : "", recorded,
                     *recorded && k->actor ? " by " : k->actor ? "by " : "", strempty(k->actor), paren ? ")" : "",
                     *reopened ? "; reopened " : "", reopened) < 0)
                d = NULL;
        return event_add(events, n, k->recorded_at, "done", d);
}

int ctl_record_events(const struct ctl_record *r, struct ctl_event **events, size_t *n) {
        size_t k = 0;
        int q;

        /* A completion is logged with the change it came with (same
         * command, same instant): it goes right after that change. */
        for (size_t i = 0; i < r->changes.n; i++) {
                const struct task_change *c = &r->changes.items[i];
                q = change_event(&r->changes, c, events, n);
                if (q < 0)
                        return q;
                bool last_of_moment = i + 1 == r->changes.n || r->changes.items[i + 1].at != c->at;
                for (; last_of_moment && k < r->completions.n && r->completions.items[k].recorded_at <= c->at; k++) {
                        q = completion_event(&r->completions.items[k], events, n);
                        if (q < 0)
                                return q;
                }
        }
        for (; k < r->completions.n; k++) {
                q = completion_event(&r->completions.items[k], events, n);
                if (q < 0)
                        return q;
        }
        return 0;
}

void ctl_events_sort(struct ctl_event *events, size_t n) {
        /* qsort is not stable; an insertion sort is, and timelines are short. */
        for (size_t i = 1; i < n; i++) {
                struct ctl_event e = events[i];
                size_t j = i;
                while (j > 0 && events[j - 1].at > e.at) {
                        events[j] = events[j - 1];
                        j--;
                }
                events[j] = e;
        }
}

void ctl_events_free(struct ctl_event *events, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(events[i].detail);
        free(events);
}
