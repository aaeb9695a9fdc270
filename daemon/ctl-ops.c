/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl's operator's tools: retry (failed deliveries back into the
 * outbox, with a record of who did it) and delete (a task and everything
 * it has, in one transaction). */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "json-util.h"
#include "lockfile.h"
#include "timeutil.h"

enum {
        ARG_JSON = CTL_ARG_JSON,
        ARG_FAILED,
        ARG_TASK,
        ARG_AGENCY,
        ARG_FORCE,
};

static int parse_delivery_id(const struct ctl *c, const char *s, int64_t *ret) {
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end || v <= 0 || s[0] == '+' || s[0] == ' ')
                return ctl_fail(c, EX_USAGE, "\"%s\" is not a delivery id (a positive number, see deadlinectl "
                                "status --json)", s);
        *ret = v;
        return 0;
}

/* Why a failed delivery is not put back: its task closed, or its slot of
 * a deadline the task no longer has. */
static int explain_withdrawn(struct ctl *c, const struct delivery *d) {
        _cleanup_(task_done) struct task t = {};
        int r = store_task_get(c->store, d->task_id, &t);

        if (r < 0)
                return ctl_store_fail(c, r, "cannot read the delivery's task");
        if (t.status != TASK_OPEN)
                return ctl_fail(c, EX_DATAERR, "delivery %lld is withdrawn: its task %lld is %s", (long long) d->id,
                                (long long) t.id, task_status_to_string(t.status));
        return ctl_fail(c, EX_DATAERR, "delivery %lld is withdrawn: it reminded of an earlier deadline of task %lld",
                        (long long) d->id, (long long) t.id);
}

/* The single delivery retry refuses, in words, what is not a failed
 * delivery with a reason to go. Inside the transaction. */
static int check_retryable(struct ctl *c, int64_t id) {
        _cleanup_(delivery_done) struct delivery d = {};
        char when[20];
        int r = store_delivery_get(c->store, id, &d);

        if (r == -ENOENT)
                return ctl_fail(c, EX_DATAERR, "no delivery %lld (see deadlinectl status --json)", (long long) id);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot read the delivery");
        switch (d.state) {
        case DELIVERY_FAILED:
                return 0;
        case DELIVERY_SENT:
                format_local(d.sent_at, when);
                return ctl_fail(c, EX_DATAERR, "delivery %lld was sent at %.16s: there is nothing to retry",
                                (long long) id, when);
        case DELIVERY_PENDING:
                return ctl_fail(c, EX_DATAERR, "delivery %lld is pending: the daemon tries it again by itself",
                                (long long) id);
        case DELIVERY_ATTEMPTING:
                return ctl_fail(c, EX_DATAERR, "delivery %lld is being sent now", (long long) id);
        default:
                return ctl_fail(c, EX_DATAERR, "delivery %lld is not failed", (long long) id);
        }
}

/* The ids --agency means: the id itself, and a group's members. */
static char **agency_ids(struct ctl *c, const char *id) {
        const struct group *g = config_find_group(c->config, id);
        size_t n = 0;
        char **v;

        for (char **m = g ? g->members : NULL; m && *m; m++)
                n++;
        v = calloc(n + 2, sizeof *v);
        if (!v)
                return NULL;
        v[0] = (char *) id;
        for (size_t i = 0; i < n; i++)
                v[i + 1] = g->members[i];
        return v;
}

int cmd_retry(struct ctl *c, int argc, char **argv) {
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "failed", no_argument, NULL, ARG_FAILED },
                { "task", required_argument, NULL, ARG_TASK },
                { "agency", required_argument, NULL, ARG_AGENCY },
                {},
        };
        struct delivery_retry_filter f = {};
        _cleanup_free_ int64_t *ids = NULL;
        _cleanup_free_ char **agencies = NULL;
        const char *task = NULL, *agency = NULL;
        bool failed = false;
        int opt, r, n;

        while ((opt = getopt_long(argc, argv, ":c:h", options, NULL)) >= 0) {
                int k = ctl_common_option(c, opt, argv);
                if (k >= 1000)
                        return k - 1000;
                if (k)
                        continue;
                switch (opt) {
                case ARG_FAILED: failed = true; break;
                case ARG_TASK: task = optarg; break;
                case ARG_AGENCY: agency = optarg; break;
                }
        }
        if (optind < argc - 1)
                return ctl_fail(c, EX_USAGE, "unexpected argument \"%s\"", argv[optind + 1]);
        if (optind == argc - 1 && failed)
                return ctl_fail(c, EX_USAGE, "give a DELIVERY id or --failed, not both");
        if (optind == argc && !failed)
                return ctl_fail(c, EX_USAGE, "missing DELIVERY id or --failed (see deadlinectl status)");
        if (!failed && (task || agency))
                return ctl_fail(c, EX_USAGE, "--task and --agency go with --failed");
        if (optind == argc - 1) {
                r = parse_delivery_id(c, argv[optind], &f.id);
                if (r != 0)
                        return r;
        }
        if (task) {
                r = ctl_parse_task_id(c, task, &f.task_id);
                if (r != 0)
                        return r;
        }
        r = ctl_load_config(c);
        if (r != 0)
                return r;
        if (agency) {
                r = ctl_check_agency(c, "--agency", agency);
                if (r != 0)
                        return r;
                agencies = agency_ids(c, agency);
                if (!agencies)
                        return ctl_fail(c, EX_OSERR, "out of memory");
                f.agencies = agencies;
        }
        if (!ctl_user(c))
                return ctl_fail(c, EX_OSERR, "out of memory");
        r = ctl_open_store(c);
        if (r != 0)
                return r;
        r = store_begin(c->store);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot start a transaction");
        if (f.task_id > 0) {
                _cleanup_(task_done) struct task t = {};
                r = ctl_get_task(c, f.task_id, &t);
        } else if (f.id > 0)
                r = check_retryable(c, f.id);
        if (r != 0) {
                store_rollback(c->store);
                return r;
        }
        n = store_deliveries_retry(c->store, &f, ctl_user(c), c->now, &ids);
        if (n < 0) {
                store_rollback(c->store);
                return ctl_store_fail(c, n, "cannot put the deliveries back");
        }
        if (n == 0 && f.id > 0) {
                _cleanup_(delivery_done) struct delivery d = {};
                r = store_delivery_get(c->store, f.id, &d);
                r = r < 0 ? ctl_store_fail(c, r, "cannot read the delivery") : explain_withdrawn(c, &d);
                store_rollback(c->store);
                return r;
        }
        r = store_commit(c->store);
        if (r < 0) {
                store_rollback(c->store);
                return ctl_store_fail(c, r, "cannot commit");
        }

        if (c->json) {
                json_t *a = json_array();
                for (int i = 0; a && i < n; i++)
                        json_array_append_new(a, json_integer(ids[i]));
                return ctl_print_json(c, json_pack("{s:i, s:o, s:s, s:o}", "requeued", n, "deliveries", a, "user",
                                                   ctl_user(c), "at", json_time(c->now)));
        }
        if (f.id > 0)
                printf("Delivery %lld is queued again, due now.\n", (long long) f.id);
        else
                printf("%d failed %s queued again, due now.\n", n, n == 1 ? "delivery" : "deliveries");
        return 0;
}

int cmd_delete(struct ctl *c, int argc, char **argv) {
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "force", no_argument, NULL, ARG_FORCE },
                {},
        };
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        _cleanup_(ctl_record_done) struct ctl_record rec = {};
        _cleanup_(task_done) struct task t = {};
        size_t sent = 0, in_flight = 0;
        int64_t id, flying = 0;
        bool force = false;
        int opt, r;

        while ((opt = getopt_long(argc, argv, ":c:h", options, NULL)) >= 0) {
                int k = ctl_common_option(c, opt, argv);
                if (k >= 1000)
                        return k - 1000;
                if (opt == ARG_FORCE)
                        force = true;
        }
        if (optind != argc - 1)
                return ctl_fail(c, EX_USAGE, optind >= argc ? "missing task ID" : "unexpected argument \"%s\"",
                                argv[MIN(optind + 1, argc - 1)]);
        r = ctl_parse_task_id(c, argv[optind], &id);
        if (r != 0)
                return r;
        r = ctl_open_store(c);
        if (r != 0)
                return r;
        /* The write lock from here on: no claim can start until we are done. */
        r = store_begin(c->store);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot start a transaction");
        r = ctl_get_task(c, id, &t);
        if (r == 0)
                r = ctl_record_read(c, id, &rec);
        if (r == 0) {
                r = store_delivery_list_for_task(c->store, id, &l);
                r = r < 0 ? ctl_store_fail(c, r, "cannot read the task's deliveries") : 0;
        }
        if (r != 0) {
                store_rollback(c->store);
                return r;
        }
        for (size_t i = 0; i < l.n; i++) {
                if (l.items[i].state == DELIVERY_SENT)
                        sent++;
                if (l.items[i].state == DELIVERY_ATTEMPTING) {
                        in_flight++;
                        flying = l.items[i].id;
                }
        }
        if (in_flight > 0) {
                /* A claimed delivery is being sent by the daemon, which
                 * settles it when the server answers: its row must be
                 * there then. With no sender running it was left by one
                 * that stopped, and may have gone out: it counts as sent. */
                int held = 0;
                if (store_database_is_server(c->config->database)) {
                        /* Several daemons, no lock file: a claim whose
                         * lease has not run out is being sent. */
                        for (size_t i = 0; i < l.n; i++)
                                if (l.items[i].state == DELIVERY_ATTEMPTING &&
                                    l.items[i].claimed_until != NO_TIME && l.items[i].claimed_until > c->now) {
                                        held = 1;
                                        flying = l.items[i].id;
                                }
                } else
                        held = lockfile_query(c->config->database, NULL);
                if (held != 0) {
                        store_rollback(c->store);
                        return ctl_fail(c, EX_TEMPFAIL, "task %lld has a reminder being sent now (delivery %lld); "
                                        "try again when it is settled", (long long) id, (long long) flying);
                }
                sent += in_flight;
        }
        if (sent > 0 && !force) {
                store_rollback(c->store);
                return ctl_fail(c, EX_DATAERR, "task %lld has %zu sent %s: deleting it would erase that record "
                                "(cancel it instead, or delete --force to remove it with its history)",
                                (long long) id, sent, sent == 1 ? "reminder" : "reminders");
        }
        r = store_task_delete(c->store, id);
        if (r < 0) {
                store_rollback(c->store);
                return ctl_store_fail(c, r, "cannot delete the task");
        }
        r = store_commit(c->store);
        if (r < 0) {
                store_rollback(c->store);
                return ctl_store_fail(c, r, "cannot commit");
        }

        if (c->json)
                return ctl_print_json(c, json_pack("{s:I, s:s, s:b, s:I, s:I, s:I, s:I}", "deleted", (json_int_t) id,
                                                   "title", t.title, "forced", force, "deliveries",
                                                   (json_int_t) l.n, "sent", (json_int_t) sent, "changes",
                                                   (json_int_t) rec.changes.n, "completions",
                                                   (json_int_t) rec.completions.n));
        if (sent > 0)
                printf("Deleted task %lld with its history: %zu sent %s, %zu %s and %zu %s are gone.\n",
                       (long long) id, sent, sent == 1 ? "reminder" : "reminders", rec.changes.n,
                       rec.changes.n == 1 ? "change" : "changes", rec.completions.n,
                       rec.completions.n == 1 ? "completion" : "completions");
        else
                printf("Deleted task %lld.\n", (long long) id);
        return 0;
}
