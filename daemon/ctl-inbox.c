/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl's inbox: the agencies' replies the daemon read, waiting for
 * the officer (inbox), and what the officer makes of one: confirm (the
 * task done with the reply's date and evidence, or extended to the day
 * asked for, through the same code as done and extend) or reject (with a
 * reason). Nothing in a reply changes a task before that. */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "json-util.h"
#include "outbox.h"
#include "strbuf.h"
#include "table.h"
#include "timeutil.h"

#define BY_MAX 300
#define REASON_MAX 1000

enum {
        ARG_JSON = CTL_ARG_JSON,
        ARG_BY,
        ARG_REASON,
};

json_t *ctl_inbox_json(const struct inbox_message *m) {
        char day[17];
        json_t *j = json_object();

        if (!j)
                return NULL;
        json_object_set_new(j, "id", json_integer(m->id));
        json_object_set_new(j, "state", json_string(inbox_state_to_string(m->state)));
        json_object_set_new(j, "intent", json_string(inbox_intent_to_string(m->intent)));
        json_object_set_new(j, "task", m->task_id > 0 ? json_integer(m->task_id) : json_null());
        json_object_set_new(j, "agency", json_text(m->agency));
        json_object_set_new(j, "from", json_text(m->sender));
        json_object_set_new(j, "subject", json_text(m->subject));
        json_object_set_new(j, "message_id", json_text(m->message_id));
        json_object_set_new(j, "date", json_time(m->sent_at));
        json_object_set_new(j, "received", json_time(m->received_at));
        if (m->asked_day != INT32_MIN) {
                format_due(&(struct due) { m->asked_day, -1 }, day);
                json_object_set_new(j, "asked_for", json_string(day));
        } else
                json_object_set_new(j, "asked_for", json_null());
        json_object_set_new(j, "evidence", json_strv(m->evidence));
        json_object_set_new(j, "text", json_text(m->text));
        json_object_set_new(j, "decided_by", json_text(m->decided_by));
        json_object_set_new(j, "decided_at", json_time(m->decided_at));
        json_object_set_new(j, "reason", json_text(m->reason));
        return j;
}

/* "done", "extension to 15/6/2025", "unassigned", for the listing. */
void ctl_inbox_words(const struct inbox_message *m, char buf[static 48]) {
        char day[24];

        if (m->state == INBOX_UNASSIGNED)
                snprintf(buf, 48, "unassigned (%s)", inbox_intent_to_string(m->intent));
        else if (m->intent == INBOX_INTENT_EXTENSION && m->asked_day != INT32_MIN) {
                format_due_vn(&(struct due) { m->asked_day, -1 }, day);
                snprintf(buf, 48, "extension to %s", day);
        } else if (m->intent == INBOX_INTENT_EXTENSION)
                snprintf(buf, 48, "extension");
        else
                snprintf(buf, 48, "%s", m->intent == INBOX_INTENT_DONE ? "reported done" : "to read");
}

int cmd_inbox(struct ctl *c, int argc, char **argv) {
        _cleanup_(inbox_message_list_done) struct inbox_message_list l = {};
        _cleanup_(table_freep) struct table *t = NULL;
        int r;

        r = ctl_no_arguments(c, argc, argv);
        if (r != 0)
                return r;
        r = ctl_open_store(c);
        if (r != 0)
                return r;
        r = store_inbox_list(c->store, 0, &l);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot read the inbox");
        if (c->json) {
                json_t *a = json_array();
                for (size_t i = 0; a && i < l.n; i++)
                        json_array_append_new(a, ctl_inbox_json(&l.items[i]));
                return ctl_print_json(c, a);
        }
        if (l.n == 0) {
                printf("The inbox is empty.\n");
                return 0;
        }
        r = table_new(6, &t);
        if (r < 0)
                return ctl_fail(c, EX_OSERR, "out of memory");
        table_set_align_right(t, 0, true);
        table_set_max_width(t, 5, 50);
        const char *head[] = { "ID", "TASK", "AGENCY", "DATE", "WHAT", "FROM / TEXT" };
        for (size_t i = 0; i < ELEMENTSOF(head); i++)
                table_add(t, head[i]);
        for (size_t i = 0; i < l.n; i++) {
                const struct inbox_message *m = &l.items[i];
                char id[24], task[24], when[20], what[48];

                snprintf(id, sizeof id, "%lld", (long long) m->id);
                snprintf(task, sizeof task, m->task_id > 0 ? "%lld" : "-", (long long) m->task_id);
                if (m->sent_at != NO_TIME)
                        format_local(m->sent_at, when);
                else
                        format_local(m->received_at, when);
                when[10] = 0;
                ctl_inbox_words(m, what);
                table_add(t, id);
                table_add(t, task);
                table_add(t, m->agency ? m->agency : "-");
                table_add(t, when);
                table_add(t, what);
                table_add(t, m->sender ? m->sender : "-");
        }
        if (table_print(t, stdout) < 0)
                return ctl_fail(c, EX_IOERR, "cannot write the inbox");
        return 0;
}

static int parse_options(struct ctl *c, int argc, char **argv, const struct option *options, const char **by,
                         const char **reason, int64_t *ret_id) {
        char *end;
        long long v;
        int opt;

        while ((opt = getopt_long(argc, argv, ":c:h", options, NULL)) >= 0) {
                int k = ctl_common_option(c, opt, argv);
                if (k >= 1000)
                        return k - 1000;
                if (k)
                        continue;
                if (opt == ARG_BY)
                        *by = optarg;
                else if (opt == ARG_REASON)
                        *reason = optarg;
        }
        if (optind != argc - 1)
                return ctl_fail(c, EX_USAGE, optind >= argc ? "missing inbox message ID (see deadlinectl inbox)"
                                                            : "unexpected argument \"%s\"",
                                argv[MIN(optind + 1, argc - 1)]);
        errno = 0;
        v = strtoll(argv[optind], &end, 10);
        if (errno != 0 || end == argv[optind] || *end || v <= 0 || argv[optind][0] == '+')
                return ctl_fail(c, EX_USAGE, "\"%s\" is not an inbox message id (see deadlinectl inbox)",
                                argv[optind]);
        *ret_id = v;
        return 0;
}

/* The message, refused in words unless it waits for the officer. */
static int get_open(struct ctl *c, int64_t id, struct inbox_message *m) {
        int r = ctl_open_store(c);
        if (r != 0)
                return r;
        r = store_inbox_get(c->store, id, m);
        if (r == -ENOENT)
                return ctl_fail(c, EX_DATAERR, "no inbox message %lld (see deadlinectl inbox)", (long long) id);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot read the inbox");
        if (m->state != INBOX_PENDING && m->state != INBOX_UNASSIGNED)
                return ctl_fail(c, EX_DATAERR, "inbox message %lld is %s already%s%s", (long long) id,
                                inbox_state_to_string(m->state), m->decided_by ? " by " : "",
                                strempty(m->decided_by));
        return 0;
}

struct decision {
        int64_t id;
        enum inbox_state state;
        const char *reason;
};

/* Runs inside the task's transaction: the message is decided with it, or
 * neither is. */
static int decide(struct ctl *c, const struct task *t, void *userdata) {
        const struct decision *d = userdata;
        int r = store_inbox_decide(c->store, d->id, d->state, t ? t->id : 0, ctl_user(c), c->now, d->reason);

        if (r == -EALREADY)
                return ctl_fail(c, EX_DATAERR, "inbox message %lld was decided meanwhile", (long long) d->id);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot record the decision");
        return 0;
}

int cmd_confirm(struct ctl *c, int argc, char **argv) {
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "by", required_argument, NULL, ARG_BY },
                {},
        };
        _cleanup_(inbox_message_done) struct inbox_message m = {};
        _cleanup_free_ char *by = NULL, *note = NULL, *done_on = NULL;
        const char *by_arg = NULL, *reason_arg = NULL;
        struct decision d = { .state = INBOX_CONFIRMED };
        char day[24];
        int64_t id;
        int r;

        r = parse_options(c, argc, argv, options, &by_arg, &reason_arg, &id);
        if (r != 0)
                return r;
        r = ctl_load_config(c);
        if (r != 0)
                return r;
        if (by_arg) {
                r = ctl_check_text(c, "--by", by_arg, BY_MAX, false, &by);
                if (r != 0)
                        return r;
                if (!*by)
                        return ctl_fail(c, EX_USAGE, "--by: empty (name the document that approved the extension)");
        }
        r = get_open(c, id, &m);
        if (r != 0)
                return r;
        d.id = id;
        if (m.task_id <= 0)
                return ctl_fail(c, EX_DATAERR, "inbox message %lld names no task: the officer applies it by hand "
                                "(deadlinectl done or extend), then rejects it with a reason", (long long) id);
        int64_t sent = m.sent_at != NO_TIME && m.sent_at <= c->now ? m.sent_at : m.received_at;
        int32_t sent_day;
        int64_t sec;
        instant_to_local(sent, &sent_day, &sec);
        format_due_vn(&(struct due) { sent_day, -1 }, day);

        switch (m.intent) {
        case INBOX_INTENT_DONE: {
                struct strbuf b = STRBUF_INIT(4096);
                char buf[17];

                strbuf_printf(&b, "Reply from %s of %s", strempty(m.sender), day);
                for (char **e = m.evidence; e && *e; e++)
                        strbuf_printf(&b, "%s%s", e == m.evidence ? ": " : ", ", *e);
                if (strbuf_steal(&b, &note, NULL) < 0)
                        return ctl_fail(c, EX_OSERR, "out of memory");
                format_due(&(struct due) { sent_day, -1 }, buf);
                done_on = strdup(buf);
                if (!done_on)
                        return ctl_fail(c, EX_OSERR, "out of memory");
                return ctl_task_set_status(c, m.task_id, TASK_DONE, done_on, local_to_instant(sent_day, 0), note,
                                           decide, &d);
        }
        case INBOX_INTENT_EXTENSION:
                if (m.asked_day == INT32_MIN)
                        return ctl_fail(c, EX_DATAERR, "inbox message %lld asks for an extension without a date: "
                                        "use deadlinectl extend %lld --to DATE --by DOCUMENT, then reject it",
                                        (long long) id, (long long) m.task_id);
                if (!by && asprintf(&by, "E-mail %s của %s ngày %s", strempty(m.message_id), strempty(m.sender),
                                    day) < 0)
                        return ctl_fail(c, EX_OSERR, "out of memory");
                return ctl_task_extend(c, m.task_id, &(struct due) { m.asked_day, -1 }, by, NULL, decide, &d);
        default:
                return ctl_fail(c, EX_DATAERR, "inbox message %lld says neither that the task is done nor which "
                                "later deadline it asks for: read it (deadlinectl inbox --json) and reject it",
                                (long long) id);
        }
}

int cmd_reject(struct ctl *c, int argc, char **argv) {
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "reason", required_argument, NULL, ARG_REASON },
                {},
        };
        _cleanup_(inbox_message_done) struct inbox_message m = {};
        _cleanup_free_ char *reason = NULL;
        const char *by_arg = NULL, *reason_arg = NULL;
        struct decision d = { .state = INBOX_REJECTED };
        int64_t id;
        int r;

        r = parse_options(c, argc, argv, options, &by_arg, &reason_arg, &id);
        if (r != 0)
                return r;
        if (!reason_arg)
                return ctl_fail(c, EX_USAGE, "missing --reason TEXT (what the agency is told)");
        r = ctl_check_text(c, "--reason", reason_arg, REASON_MAX, true, &reason);
        if (r != 0)
                return r;
        if (!*reason)
                return ctl_fail(c, EX_USAGE, "--reason: empty (say what the agency is told)");
        r = ctl_load_config(c);
        if (r != 0)
                return r;
        r = get_open(c, id, &m);
        if (r != 0)
                return r;
        d.id = id;
        d.reason = reason;
        r = store_begin(c->store);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot start a transaction");
        r = decide(c, NULL, &d);
        if (r != 0) {
                store_rollback(c->store);
                return r;
        }
        /* A refused report of completion no longer holds the task's
         * reminders to the agency (outbox.c): the schedule winds back to
         * when the report came, and the next pass sends the latest slot
         * held meanwhile, as after downtime (slots others had are not
         * made twice). */
        if (m.state == INBOX_PENDING && m.intent == INBOX_INTENT_DONE && m.task_id > 0) {
                _cleanup_(task_done) struct task t = {};
                r = store_task_get(c->store, m.task_id, &t);
                if (r >= 0 && t.status == TASK_OPEN && t.due_at != NO_TIME)
                        r = store_task_set_schedule(c->store, t.id,
                                                    t.next_fire_at != NO_TIME ? MIN(t.next_fire_at, c->now) : c->now,
                                                    MIN(t.fired_through, m.received_at));
                if (r < 0 && r != -ENOENT) {
                        store_rollback(c->store);
                        return ctl_store_fail(c, r, "cannot resume the task's reminders");
                }
        }
        /* The agency hears why, in its reply's thread, with the decision
         * or not at all. A reply whose sender is no configured agency's
         * is refused without an answer. */
        bool answered = m.agency && m.sender && config_find_agency(c->config, m.agency);
        if (answered) {
                char key[64];
                snprintf(key, sizeof key, "reject:%lld", (long long) id);
                r = outbox_enqueue(c->store, c->config, key, m.agency, c->now, c->now);
                if (r < 0) {
                        store_rollback(c->store);
                        return ctl_store_fail(c, r, "cannot queue the answer to the agency");
                }
        }
        r = store_commit(c->store);
        if (r < 0) {
                store_rollback(c->store);
                return ctl_store_fail(c, r, "cannot commit");
        }
        if (c->json) {
                inbox_message_done(&m);
                r = store_inbox_get(c->store, id, &m);
                return r < 0 ? ctl_store_fail(c, r, "cannot read the message back") : ctl_print_json(c, ctl_inbox_json(&m));
        }
        if (answered)
                printf("Inbox message %lld rejected; %s is told why in its reply's thread.\n", (long long) id,
                       m.sender);
        else
                printf("Inbox message %lld rejected; no answer is sent (its sender is no configured agency's).\n",
                       (long long) id);
        return 0;
}

int ctl_inbox_events(const struct inbox_message_list *l, struct ctl_event **events, size_t *n) {
        for (size_t i = 0; i < l->n; i++) {
                const struct inbox_message *m = &l->items[i];
                bool decided = m->decided_at != NO_TIME;
                struct ctl_event *e = reallocarray(*events, *n + 1 + decided, sizeof **events);
                char words[48];

                if (!e)
                        return -ENOMEM;
                *events = e;
                ctl_inbox_words(m, words);
                e[*n] = (struct ctl_event) { .at = m->received_at };
                snprintf(e[*n].what, sizeof e[*n].what, "reply %lld: %s", (long long) m->id, words);
                if (asprintf(&e[*n].detail, "from %s%s%s%s, %s", strempty(m->sender), m->agency ? " (" : "",
                             strempty(m->agency), m->agency ? ")" : "", inbox_state_to_string(m->state)) < 0) {
                        e[*n].detail = NULL;
                        return -ENOMEM;
                }
                (*n)++;
                if (!decided)
                        continue;
                e[*n] = (struct ctl_event) { .at = m->decided_at };
                snprintf(e[*n].what, sizeof e[*n].what, "reply %lld %s", (long long) m->id,
                         inbox_state_to_string(m->state));
                if (asprintf(&e[*n].detail, "by %s%s%s", strempty(m->decided_by), m->reason ? ": " : "",
                             strempty(m->reason)) < 0) {
                        e[*n].detail = NULL;
                        return -ENOMEM;
                }
                (*n)++;
        }
        return 0;
}
