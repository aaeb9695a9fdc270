/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl's view of the outbox: status (how deliveries stand, what
 * comes next, what went wrong) and history (one task's timeline: its
 * changes, completions and deliveries; or the newest deliveries). */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "json-util.h"
#include "lockfile.h"
#include "table.h"
#include "timeutil.h"

#define STATUS_LIMIT_DEFAULT 20
#define HISTORY_LIMIT_DEFAULT 50
#define STATUS_LIMIT_MAX 100000

enum {
        ARG_JSON = CTL_ARG_JSON,
        ARG_LIMIT,
        ARG_DELIVERIES,
        ARG_CHANGES,
};

/* The addresses that accepted a delivery whose others did not yet. */
static json_t *delivered_to_json(const char *list) {
        json_t *a = json_array();

        for (const char *p = list; a && p && *p;) {
                size_t n = strcspn(p, "\n");
                json_array_append_new(a, json_stringn(p, n));
                p += n + (p[n] != 0);
        }
        return a;
}

static json_t *delivery_to_json(const struct delivery *d) {
        json_t *j = json_pack("{s:I, s:I, s:s, s:o, s:s, s:s?, s:s, s:s, s:i, s:o, s:o, s:o, s:o, s:o, s:o}", "id",
                         (json_int_t) d->id, "task", (json_int_t) d->task_id, "slot", d->slot, "slot_at",
                         json_time(d->slot_at), "agency", d->agency, "role",
                         d->role >= 0 ? role_to_string(d->role) : NULL, "channel", d->channel, "state",
                         delivery_state_to_string(d->state), "attempts", d->attempts, "last_error",
                         json_text(d->last_error), "next_attempt_at",
                         json_time(d->state == DELIVERY_PENDING ? d->next_attempt_at : NO_TIME), "created_at",
                         json_time(d->created_at), "first_attempt_at", json_time(d->first_attempt_at),
                         "sent_at", json_time(d->sent_at), "delivered_to", delivered_to_json(d->delivered_to));
        /* An operator's retries (deadlinectl retry). */
        if (j) {
                json_object_set_new(j, "retries", json_integer(d->retries));
                json_object_set_new(j, "retried_at", json_time(d->retried_at));
                json_object_set_new(j, "retried_by", json_text(d->retried_by));
        }
        return j;
}

/* A slot for people: its key without the deadline it was decided for
 * ("before:7d", "overdue:2025-05-02", "escalate:1"). */
static void slot_cell(const char *slot, char *buf, size_t size) {
        size_t n = strcspn(slot, "@");
        snprintf(buf, size, "%.*s", (int) MIN(n, (size_t) 64), slot);
}

static void when_cell(int64_t t, char *buf) {
        if (t == NO_TIME)
                snprintf(buf, 20, "-");
        else
                format_local(t, buf);
}

/* Adds the columns of one delivery: the ones common to status and history. */
static void delivery_cells(struct table *t, const struct delivery *d, bool with_task) {
        char id[24], slot[80], at[20], attempts[16], when[20];

        if (with_task) {
                /* A delivery about no one task (a report) has none. */
                if (d->task_id != 0)
                        snprintf(id, sizeof id, "%lld", (long long) d->task_id);
                else
                        snprintf(id, sizeof id, "-");
                table_add(t, id);
        }
        slot_cell(d->slot, slot, sizeof slot);
        table_add(t, slot);
        when_cell(d->slot_at, at);
        table_add(t, at);
        table_add(t, d->agency);
        table_add(t, d->channel);
        table_add(t, delivery_state_to_string(d->state));
        snprintf(attempts, sizeof attempts, "%d", d->attempts);
        table_add(t, attempts);
        when_cell(d->state == DELIVERY_SENT ? d->sent_at
                  : d->state == DELIVERY_PENDING ? d->next_attempt_at
                                                 : NO_TIME,
                  when);
        table_add(t, when);
        table_add(t, d->last_error);
}

static int parse_args(struct ctl *c, int argc, char **argv, const struct option *options, size_t *limit,
                      int *ret_optind, int *ret_only) {
        int opt;

        while ((opt = getopt_long(argc, argv, ":c:h", options, NULL)) >= 0) {
                int k = ctl_common_option(c, opt, argv);
                if (k >= 1000)
                        return k - 1000;
                if (k)
                        continue;
                if (opt == ARG_LIMIT) {
                        char *end;
                        long v = strtol(optarg, &end, 10);
                        if (end == optarg || *end || v < 0 || v > STATUS_LIMIT_MAX)
                                return ctl_fail(c, EX_USAGE, "--limit: \"%s\" is not a number from 0 to %d",
                                                optarg, STATUS_LIMIT_MAX);
                        *limit = (size_t) v;
                }
                if (opt == ARG_DELIVERIES || opt == ARG_CHANGES) {
                        if (*ret_only && *ret_only != opt)
                                return ctl_fail(c, EX_USAGE, "--deliveries and --changes: give one or neither "
                                                "(neither: both, in one timeline)");
                        *ret_only = opt;
                }
        }
        *ret_optind = optind;
        return 0;
}

int cmd_status(struct ctl *c, int argc, char **argv) {
        static const struct option options[] = {
                { "json", no_argument, NULL, ARG_JSON },
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                { "limit", required_argument, NULL, ARG_LIMIT },
                {},
        };
        _cleanup_(delivery_list_done) struct delivery_list trouble = {};
        int64_t counts[_DELIVERY_STATE_MAX] = {}, next_fire, next_attempt;
        size_t limit = STATUS_LIMIT_DEFAULT;
        int r, first;

        r = parse_args(c, argc, argv, options, &limit, &first, &(int) { 0 });
        if (r != 0)
                return r;
        if (first < argc)
                return ctl_fail(c, EX_USAGE, "unexpected argument \"%s\"", argv[first]);
        r = ctl_open_store(c);
        if (r != 0)
                return r;
        r = store_delivery_counts(c->store, counts);
        if (r >= 0)
                r = store_next_fire(c->store, &next_fire);
        if (r >= 0)
                r = store_next_delivery(c->store, &next_attempt);
        /* One more than shown tells whether there are more. */
        if (r >= 0)
                r = store_deliveries_trouble(c->store, limit == 0 ? 0 : limit + 1, &trouble);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot read the outbox");
        bool more = limit > 0 && trouble.n > limit;
        size_t shown = more ? limit : trouble.n;

        /* Asked, never taken: taking it even for a moment could make a
         * deadlined that is starting find it held and exit. */
        struct lock_holder holder = {};
        int held = lockfile_query(c->config->database, &holder);

        if (c->json) {
                json_t *sender = held < 0  ? json_pack("{s:n, s:s}", "running", "error", strerror(-held))
                                 : held > 0 ? json_pack("{s:b, s:o, s:o}", "running", true, "pid",
                                                        holder.pid > 0 ? json_integer(holder.pid) : json_null(),
                                                        "since", json_time(holder.since))
                                            : json_pack("{s:b}", "running", false);
                json_t *states = json_object(), *failed = json_array(), *retrying = json_array();
                for (int s = 0; s < _DELIVERY_STATE_MAX; s++)
                        json_object_set_new(states, delivery_state_to_string(s), json_integer(counts[s]));
                for (size_t i = 0; i < shown; i++)
                        json_array_append_new(trouble.items[i].state == DELIVERY_FAILED ? failed : retrying,
                                              delivery_to_json(&trouble.items[i]));
                return ctl_print_json(c, json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:b}", "sender", sender,
                                                   "deliveries", states,
                                                   "next_reminder", json_time(next_fire), "next_attempt",
                                                   json_time(next_attempt), "failed", failed, "retrying",
                                                   retrying, "truncated", more));
        }

        char when[20], left[48];
        if (held < 0)
                printf("Sender: unknown (cannot read %s.lock: %s)\n", c->config->database, strerror(-held));
        else if (held == 0)
                printf("Sender: no deadlined is sending\n");
        else {
                char pid[32] = "(PID not recorded)";
                if (holder.pid > 0)
                        snprintf(pid, sizeof pid, "PID %d", (int) holder.pid);
                if (holder.since != NO_TIME) {
                        format_local(holder.since, when);
                        printf("Sender: deadlined %s has held the database since %s\n", pid, when);
                } else
                        printf("Sender: deadlined %s holds the database\n", pid);
        }
        printf("Deliveries: %lld sent, %lld pending, %lld attempting, %lld failed\n",
               (long long) counts[DELIVERY_SENT], (long long) counts[DELIVERY_PENDING],
               (long long) counts[DELIVERY_ATTEMPTING], (long long) counts[DELIVERY_FAILED]);
        if (next_fire != NO_TIME) {
                format_local(next_fire, when);
                format_left(next_fire - c->now, left, sizeof left);
                printf("Next reminder: %s (%s)\n", when, left);
        } else
                printf("Next reminder: none\n");
        if (next_attempt != NO_TIME) {
                format_local(next_attempt, when);
                printf("Next delivery attempt: %s\n", when);
        }
        if (shown == 0)
                return 0;

        _cleanup_(table_freep) struct table *t = NULL;
        r = table_new(10, &t);
        if (r < 0)
                return ctl_fail(c, EX_OSERR, "%s", strerror(-r));
        printf("\nFailed, or waiting to be retried (deadlinectl retry ID puts a failed one back):\n");
        const char *head[] = { "ID", "TASK", "SLOT", "SLOT TIME", "AGENCY", "CHANNEL", "STATE", "TRIES", "NEXT",
                               "ERROR" };
        for (size_t i = 0; i < ELEMENTSOF(head); i++)
                table_add(t, head[i]);
        for (size_t i = 0; i < shown; i++) {
                char did[24];
                snprintf(did, sizeof did, "%lld", (long long) trouble.items[i].id);
                table_add(t, did);
                delivery_cells(t, &trouble.items[i], true);
        }
        table_set_align_right(t, 0, true);
        table_set_align_right(t, 1, true);
        table_set_align_right(t, 7, true);
        table_set_max_width(t, 9, 100);
        r = table_print(t, stdout);
        if (r < 0)
                return EX_IOERR;
        if (more)
                printf("(more than %zu; see --limit, or deadlinectl history TASK)\n", limit);
        return 0;
}

/* A delivery as a line of a task's timeline: when its slot fell due,
 * which slot, and where it went and how. */
static int delivery_event(const struct delivery *d, struct ctl_event **events, size_t *n) {
        char slot[72], when[20] = "", what[80];
        char *detail = NULL;
        struct ctl_event *e;

        slot_cell(d->slot, slot, sizeof slot);
        snprintf(what, sizeof what, "reminder %.64s", slot);
        if (d->state == DELIVERY_SENT || (d->state == DELIVERY_PENDING && d->next_attempt_at != NO_TIME))
                when_cell(d->state == DELIVERY_SENT ? d->sent_at : d->next_attempt_at, when);
        char retried[128] = "";
        if (d->retries > 0 && d->retried_at != NO_TIME) {
                char at[20];
                format_local(d->retried_at, at);
                snprintf(retried, sizeof retried, ", retried by %.64s at %.16s", strempty(d->retried_by), at);
        }
        if (asprintf(&detail, "%s %s: %s, %d %s%s%.16s%s%s%s", d->agency, d->channel, delivery_state_to_string(d->state),
                     d->attempts, d->attempts == 1 ? "try" : "tries",
                     !*when ? "" : d->state == DELIVERY_SENT ? ", sent " : ", next ", when, retried,
                     d->last_error ? ": " : "", strempty(d->last_error)) < 0)
                return -ENOMEM;
        e = reallocarray(*events, *n + 1, sizeof **events);
        if (!e) {
                free(detail);
                return -ENOMEM;
        }
        *events = e;
        e[*n] = (struct ctl_event) { .at = d->slot_at, .detail = detail };
        snprintf(e[*n].what, sizeof e[*n].what, "%s", what);
        (*n)++;
        return 0;
}

/* One task's timeline: its changes and completions (unless only the
 * deliveries are asked for) and deliveries (unless only the changes are),
 * by time. */
static int print_timeline(struct ctl *c, const struct task *task, const struct ctl_record *rec,
                          const struct delivery_list *l, const struct inbox_message_list *replies, int only) {
        struct ctl_event *events = NULL;
        size_t n = 0;
        int r = 0;

        if (only != ARG_DELIVERIES)
                r = ctl_record_events(rec, &events, &n);
        if (r >= 0 && only != ARG_DELIVERIES)
                r = ctl_inbox_events(replies, &events, &n);
        for (size_t i = 0; r >= 0 && only != ARG_CHANGES && i < l->n; i++)
                r = delivery_event(&l->items[i], &events, &n);
        if (r < 0) {
                ctl_events_free(events, n);
                return ctl_fail(c, EX_OSERR, "%s", strerror(-r));
        }
        ctl_events_sort(events, n);

        printf("Task %lld: %s\n", (long long) task->id, task->title);
        if (n == 0) {
                printf(only == ARG_CHANGES ? "No changes recorded.\n" : "Nothing yet.\n");
                ctl_events_free(events, n);
                return 0;
        }
        _cleanup_(table_freep) struct table *t = NULL;
        r = table_new(3, &t);
        if (r < 0) {
                ctl_events_free(events, n);
                return ctl_fail(c, EX_OSERR, "%s", strerror(-r));
        }
        table_add(t, "WHEN"), table_add(t, "WHAT"), table_add(t, "DETAIL");
        for (size_t i = 0; i < n; i++) {
                char when[20];
                when_cell(events[i].at, when);
                when[16] = 0;
                table_add(t, when), table_add(t, events[i].what), table_add(t, events[i].detail);
        }
        table_set_max_width(t, 2, 200);
        r = table_print(t, stdout);
        ctl_events_free(events, n);
        return r < 0 ? EX_IOERR : 0;
}

int cmd_history(struct ctl *c, int argc, char **argv) {
        static const struct option options[] = {
                { "json", no_argument, NULL, ARG_JSON },
                { "config", required_argument, NULL, 'c' },
                { "help", no_argument, NULL, 'h' },
                { "limit", required_argument, NULL, ARG_LIMIT },
                { "deliveries", no_argument, NULL, ARG_DELIVERIES },
                { "changes", no_argument, NULL, ARG_CHANGES },
                {},
        };
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        _cleanup_(inbox_message_list_done) struct inbox_message_list replies = {};
        _cleanup_(ctl_record_done) struct ctl_record rec = {};
        _cleanup_(task_done) struct task task = {};
        size_t limit = HISTORY_LIMIT_DEFAULT;
        int64_t id = 0;
        int r, first, only = 0;

        r = parse_args(c, argc, argv, options, &limit, &first, &only);
        if (r != 0)
                return r;
        if (first < argc - 1)
                return ctl_fail(c, EX_USAGE, "unexpected argument \"%s\"", argv[first + 1]);
        if (first == argc - 1) {
                r = ctl_parse_task_id(c, argv[first], &id);
                if (r != 0)
                        return r;
        } else if (only == ARG_CHANGES)
                return ctl_fail(c, EX_USAGE, "--changes: name a TASK (deadlinectl history TASK --changes)");
        r = ctl_open_store(c);
        if (r != 0)
                return r;
        if (id > 0) {
                r = ctl_get_task(c, id, &task);
                if (r != 0)
                        return r;
                if (only != ARG_DELIVERIES) {
                        r = ctl_record_read(c, id, &rec);
                        if (r != 0)
                                return r;
                        /* The agencies' replies about it, and what the
                         * officer decided. */
                        r = store_inbox_list(c->store, id, &replies);
                        if (r < 0)
                                return ctl_store_fail(c, r, "cannot read the task's replies");
                }
                r = only == ARG_CHANGES ? 0 : store_delivery_list_for_task(c->store, id, &l);
        } else
                r = store_deliveries_recent(c->store, limit, &l);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot read the deliveries");

        if (c->json) {
                json_t *a = json_array();
                for (size_t i = 0; i < l.n; i++)
                        json_array_append_new(a, delivery_to_json(&l.items[i]));
                if (id == 0)
                        return ctl_print_json(c, json_pack("{s:o}", "deliveries", a));
                json_t *j = json_pack("{s:I, s:s}", "task", (json_int_t) id, "title", task.title);
                if (j && only != ARG_CHANGES)
                        json_object_set(j, "deliveries", a);
                if (j && only != ARG_DELIVERIES) {
                        json_object_set_new(j, "changes", ctl_changes_json(&rec.changes));
                        json_object_set_new(j, "completions", ctl_completions_json(&rec.completions));
                        json_t *ra = json_array();
                        for (size_t i = 0; ra && i < replies.n; i++)
                                json_array_append_new(ra, ctl_inbox_json(&replies.items[i]));
                        json_object_set_new(j, "replies", ra);
                }
                json_decref(a);
                return ctl_print_json(c, j);
        }

        if (id > 0 && only != ARG_DELIVERIES)
                return print_timeline(c, &task, &rec, &l, &replies, only);
        if (id > 0)
                printf("Task %lld: %s\n", (long long) id, task.title);
        if (l.n == 0) {
                printf("No deliveries yet.\n");
                return 0;
        }
        _cleanup_(table_freep) struct table *t = NULL;
        size_t shift = id > 0 ? 0 : 1;
        r = table_new(8 + shift, &t);
        if (r < 0)
                return ctl_fail(c, EX_OSERR, "%s", strerror(-r));
        if (id == 0)
                table_add(t, "TASK");
        const char *head[] = { "SLOT", "SLOT TIME", "AGENCY", "CHANNEL", "STATE", "TRIES", "SENT/NEXT", "ERROR" };
        for (size_t i = 0; i < ELEMENTSOF(head); i++)
                table_add(t, head[i]);
        for (size_t i = 0; i < l.n; i++)
                delivery_cells(t, &l.items[i], id == 0);
        if (id == 0)
                table_set_align_right(t, 0, true);
        table_set_align_right(t, 5 + shift, true);
        table_set_max_width(t, 7 + shift, 100);
        return table_print(t, stdout) < 0 ? EX_IOERR : 0;
}
