/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl's task commands: add, list, show, edit. (done, reopen, cancel
 * and extend, which keep a record of themselves, are in ctl-progress.c.) */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "json-util.h"
#include "lateness.h"
#include "recurrence.h"
#include "schedule.h"
#include "table.h"
#include "timeutil.h"

#define TITLE_MAX 1000
#define DETAIL_MAX (64 * 1024)
#define REF_MAX 32

enum {
        ARG_JSON = CTL_ARG_JSON,
        ARG_AGENCY,
        ARG_SUPPORT,
        ARG_DUE,
        ARG_REF,
        ARG_DOCUMENT,
        ARG_DETAIL,
        ARG_TITLE,
        ARG_RECURRENCE,
        ARG_STATUS,
        ARG_OVERDUE,
        ARG_DUE_WITHIN,
        ARG_ALL,
        ARG_NO_NOTIFY,
        ARG_RECOMPUTE,
};

/* A list of agency ids given with a repeated option, checked later. A
 * task names at most TASK_AGENCIES_MAX agencies in all (the store's bound),
 * so one role's list holds no more. */
struct ids {
        char *v[TASK_AGENCIES_MAX + 1];
        size_t n;
        bool given;
};

static int ids_add(struct ctl *c, struct ids *ids, const char *option, const char *value) {
        /* "--support skhdt,kbnn" and "--support skhdt --support kbnn" both work. */
        _cleanup_free_ char *copy = strdup(value);
        char *save = NULL;
        size_t before = ids->n;

        if (!copy)
                return ctl_fail(c, EX_OSERR, "out of memory");
        ids->given = true;
        for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
                if (strv_contains(ids->v, tok))
                        continue;
                if (ids->n >= TASK_AGENCIES_MAX)
                        return ctl_fail(c, EX_USAGE, "%s: at most %d agencies", option, TASK_AGENCIES_MAX);
                ids->v[ids->n] = strdup(tok);
                if (!ids->v[ids->n])
                        return ctl_fail(c, EX_OSERR, "out of memory");
                ids->n++;
        }
        if (ids->n == before && !strpbrk(value, "abcdefghijklmnopqrstuvwxyz0123456789"))
                return ctl_fail(c, EX_USAGE, "%s: empty agency id", option);
        return 0;
}

static void ids_done(struct ids *ids) {
        for (size_t i = 0; i < ids->n; i++)
                ids->v[i] = mfree(ids->v[i]);
        ids->n = 0;
}

static int ids_check(struct ctl *c, const struct ids *ids, const char *option) {
        for (size_t i = 0; i < ids->n; i++) {
                int r = ctl_check_agency(c, option, ids->v[i]);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int set_agencies(struct ctl *c, struct task *t, const struct ids *lead, const struct ids *support) {
        if (lead->n + support->n > TASK_AGENCIES_MAX)
                return ctl_fail(c, EX_USAGE, "--agency, --support: at most %d agencies in all", TASK_AGENCIES_MAX);
        t->agencies = calloc(lead->n + support->n, sizeof *t->agencies);
        if (!t->agencies && lead->n + support->n > 0)
                return ctl_fail(c, EX_OSERR, "out of memory");
        for (size_t i = 0; i < lead->n; i++)
                t->agencies[t->n_agencies++] = (struct task_agency) { strdup(lead->v[i]), ROLE_LEAD, 0 };
        for (size_t i = 0; i < support->n; i++) {
                if (strv_contains(lead->v, support->v[i]))
                        return ctl_fail(c, EX_DATAERR, "--support: \"%s\" is already the lead agency",
                                        support->v[i]);
                t->agencies[t->n_agencies++] = (struct task_agency) { strdup(support->v[i]), ROLE_SUPPORT, 0 };
        }
        return 0;
}

/* Sets t's deadline to the `days`-th working day after `from` on the
 * configured calendar, and keeps that rule with it. False when the
 * calendar has no working day that far. */
static bool due_rule_apply(struct ctl *c, struct task *t, int days, int32_t from, bool *ret_changed) {
        struct due d = { .minute = -1 };
        char buf[17], from_iso[11];
        char *due, *rule_from;

        if (!schedule_add_workdays(&c->config->policy, from, days, &d.day))
                return false;
        format_due(&d, buf);
        format_iso_date(from, from_iso);
        if (ret_changed)
                *ret_changed = !streq_ptr(t->due, buf);
        due = strdup(buf);
        rule_from = strdup(from_iso);
        if (!due || !rule_from) {
                free(due), free(rule_from);
                return false;
        }
        free(t->due), free(t->due_rule_from);
        t->due = due;
        t->due_at = due_instant(&d);
        t->due_rule_days = days;
        t->due_rule_from = rule_from;
        return true;
}

int ctl_due_rule_words(const struct ctl *c, const struct task *t, char *buf, size_t size) {
        int32_t from;
        int y, m, d;

        if (t->due_rule_days <= 0 || !t->due_rule_from || parse_iso_date(t->due_rule_from, &from) < 0)
                return snprintf(buf, size, "%s", "");
        civil_from_days(from, &y, &m, &d);
        if (c->config && c->config->language == LANGUAGE_EN)
                return snprintf(buf, size, "%d working day%s from %d/%d/%d", t->due_rule_days,
                                t->due_rule_days == 1 ? "" : "s", d, m, y);
        return snprintf(buf, size, "%d ngày làm việc kể từ %d/%d/%d", t->due_rule_days, d, m, y);
}

int ctl_due_rule_parse(const char *s, int *ret_days, int32_t *ret_from) {
        _cleanup_free_ char *copy = strdup(s);
        char *colon;
        int64_t offset;

        if (!copy)
                return -ENOMEM;
        colon = strchr(copy, ':');
        if (!colon)
                return -EINVAL;
        *colon = 0;
        if (parse_offset(copy, &offset) < 0 || !duration_is_workdays(offset))
                return -EINVAL;
        if (parse_iso_date(colon + 1, ret_from) < 0)
                return -EINVAL;
        *ret_days = (int) duration_workdays(offset);
        return 0;
}

static int parse_due_option(struct ctl *c, const char *value, struct task *t) {
        struct due d;
        char buf[17];
        int64_t offset;

        if (streq(value, "none")) {
                free(t->due);
                t->due = NULL;
                t->due_at = NO_TIME;
                task_due_rule_clear(t);
                return 0;
        }
        /* "+15wd": the 15th working day after today on the configured
         * calendar, fixed now as a date, kept with its rule. */
        if (value[0] == '+' && parse_offset(value + 1, &offset) == 0 && duration_is_workdays(offset)) {
                int32_t today;
                int64_t sec;

                instant_to_local(c->now, &today, &sec);
                if (!due_rule_apply(c, t, (int) duration_workdays(offset), today, NULL))
                        return ctl_fail(c, EX_DATAERR, "--due: \"%s\": no working day that far on the calendar",
                                        value);
                return 0;
        }
        if (value[0] == '+' && parse_offset(value + 1, &offset) == -EDOM)
                return ctl_fail(c, EX_DATAERR, "--due: \"%s\" counts no working day (use +0d for today)", value);
        else if (value[0] == '+' && parse_offset(value + 1, &offset) == -ERANGE && strstr(value, "wd"))
                return ctl_fail(c, EX_DATAERR, "--due: \"%s\" is too far (at most +%dwd)", value, WORKDAYS_MAX);
        else if (parse_due(value, c->now, &d) < 0)
                return ctl_fail(c, EX_DATAERR,
                                "--due: \"%s\" is not a date (use 2025-04-30, 30/4/2025, 2025-04-30T17:00, +7d "
                                "or +15wd for working days)",
                                value);
        format_due(&d, buf);
        free(t->due);
        t->due = strdup(buf);
        t->due_at = due_instant(&d);
        /* A deadline given as a date is no longer counted. */
        task_due_rule_clear(t);
        return 0;
}

static int parse_recurrence_option(struct ctl *c, const char *value, struct task *t) {
        struct recurrence rec;

        if (streq(value, "none")) {
                free(t->recurrence);
                t->recurrence = NULL;
                return 0;
        }
        if (recurrence_parse(value, &rec) < 0)
                return ctl_fail(c, EX_DATAERR, "--recurrence: \"%s\" is not a recurrence (use monthly:25)", value);
        free(t->recurrence);
        t->recurrence = strdup(value);
        if (!t->due) {
                /* A recurring task without a date starts at its next occurrence. */
                struct due d = recurrence_first(&rec, c->now);
                char buf[17];
                format_due(&d, buf);
                t->due = strdup(buf);
                t->due_at = due_instant(&d);
        }
        return 0;
}

static int set_text(struct ctl *c, const char *option, const char *value, size_t max, bool multiline,
                    char **field) {
        char *v = NULL;
        int r = ctl_check_text(c, option, value, max, multiline, &v);
        if (r != 0)
                return r;
        free(*field);
        *field = v;
        return 0;
}

int ctl_record_change(struct ctl *c, const struct task *before, const struct task *after, const char *approved_by,
                      const char *reason) {
        char note[64];
        int r;

        snprintf(note, sizeof note, "deadlinectl %s", strempty(c->command));
        r = store_task_changes_record(c->store, before, after,
                                      &(struct task_change) {
                                              .at = c->now,
                                              .source = CHANGE_PERSON,
                                              .note = note,
                                              .actor = (char *) ctl_user(c),
                                              .approved_by = (char *) approved_by,
                                              .reason = (char *) reason,
                                      });
        return r < 0 ? r : 0;
}

/* Writes a task, and its document if named, in one transaction. The
 * agencies it is new to are owed a notice of their assignment, which the
 * daemon sends, unless `notify` is false. */
static int save_task(struct ctl *c, struct task *t, const char *document, bool update, bool notify,
                     const char *reason) {
        _cleanup_(task_done) struct task before = {};
        int r = store_begin(c->store);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot start a transaction");
        if (update && (r = store_task_get(c->store, t->id, &before)) < 0) {
                store_rollback(c->store);
                return ctl_store_fail(c, r, "cannot read the task");
        }
        if (document) {
                struct document d = { .number = (char *) document };
                r = store_document_get(c->store, document, &d);
                if (r == -ENOENT) {
                        d = (struct document) { .number = (char *) document };
                        r = store_document_upsert(c->store, &d);
                        t->document_id = d.id;
                } else if (r >= 0) {
                        t->document_id = d.id;
                        document_done(&d);
                }
                if (r < 0) {
                        store_rollback(c->store);
                        return ctl_store_fail(c, r, "cannot record the document");
                }
        }
        (void) task_agencies_mark_assigned(update ? &before : NULL, t, notify ? c->now : 0);
        r = update ? store_task_update(c->store, t, c->now) : store_task_add(c->store, t, c->now);
        if (r >= 0)
                r = ctl_record_change(c, update ? &before : NULL, t, NULL, reason);
        if (r == -EEXIST) {
                store_rollback(c->store);
                return ctl_fail(c, EX_DATAERR, "--ref: document %s already has a task %s", strempty(document),
                                strempty(t->ref));
        }
        if (r < 0) {
                store_rollback(c->store);
                return ctl_store_fail(c, r, "cannot save the task");
        }
        r = store_commit(c->store);
        if (r < 0) {
                store_rollback(c->store);
                return ctl_store_fail(c, r, "cannot commit");
        }
        return 0;
}

json_t *ctl_due_rule_json(const struct task *t) {
        if (t->due_rule_days <= 0 || !t->due_rule_from)
                return json_null();
        return json_pack("{s:i, s:s}", "days", t->due_rule_days, "from", t->due_rule_from);
}

json_t *ctl_task_json(const struct task *t) {
        json_t *lead = json_array(), *support = json_array();

        for (size_t i = 0; i < t->n_agencies; i++)
                json_array_append_new(t->agencies[i].role == ROLE_LEAD ? lead : support,
                                      json_string(t->agencies[i].agency));
        json_t *j = json_pack("{s:I, s:s?, s:s?, s:s, s:s?, s:s?, s:s, s:o, s:o, s:s?}", "id", (json_int_t) t->id,
                              "document", t->document_number, "ref", t->ref, "title", t->title, "detail",
                              t->detail, "due", t->due, "status", task_status_to_string(t->status), "lead", lead,
                              "support", support, "recurrence", t->recurrence);
        if (!j)
                return NULL;
        if (t->due_at != NO_TIME)
                json_object_set_new(j, "due_at", json_time(t->due_at));
        json_object_set_new(j, "original_due", t->original_due ? json_string(t->original_due) : json_null());
        json_object_set_new(j, "due_rule", ctl_due_rule_json(t));
        json_object_set_new(j, "created_at", json_time(t->created_at));
        json_object_set_new(j, "updated_at", json_time(t->updated_at));
        if (t->closed_at != NO_TIME)
                json_object_set_new(j, "closed_at", json_time(t->closed_at));
        return j;
}

static void join_agencies(const struct task *t, enum role role, char *buf, size_t size) {
        size_t len = 0;
        buf[0] = 0;
        for (size_t i = 0; i < t->n_agencies && len < size; i++)
                if (t->agencies[i].role == role)
                        len += (size_t) snprintf(buf + len, size - len, "%s%s", len ? "," : "",
                                                 t->agencies[i].agency);
}

static void due_cell(const struct task *t, char *buf, size_t size) {
        struct due d;
        char vn[24];
        if (!t->due || parse_due(t->due, 0, &d) < 0) {
                snprintf(buf, size, "-");
                return;
        }
        format_due_vn(&d, vn);
        snprintf(buf, size, "%s", vn);
}

/* How late an open task with a deadline is at `now`; false for a task
 * that has none (no deadline, done, cancelled). */
static bool task_lateness(const struct task *t, int64_t now, struct lateness *ret) {
        struct due d;

        if (t->status != TASK_OPEN || !t->due || t->due_at == NO_TIME || parse_due(t->due, 0, &d) < 0)
                return false;
        lateness_of(&d, now, ret);
        return true;
}

/* The LEFT column: "3 days left", "2 days overdue", or "-". */
static void left_cell(const struct task *t, int64_t now, char buf[static LATENESS_TEXT_MAX]) {
        struct lateness l;

        if (task_lateness(t, now, &l))
                lateness_format(&l, buf);
        else
                snprintf(buf, LATENESS_TEXT_MAX, "-");
}

/* What the LEFT column says, for --json: the same words, the seconds left
 * (negative once past) and the whole calendar days overdue. */
static json_t *task_to_json_at(const struct task *t, int64_t now) {
        json_t *j = ctl_task_json(t);
        struct lateness l;
        char left[LATENESS_TEXT_MAX];

        if (!j || !task_lateness(t, now, &l))
                return j;
        lateness_format(&l, left);
        json_object_set_new(j, "left", json_string(left));
        json_object_set_new(j, "seconds_left", json_integer(l.seconds_left));
        json_object_set_new(j, "overdue", json_boolean(l.state == LATENESS_OVERDUE));
        json_object_set_new(j, "days_overdue", json_integer(l.days_overdue));
        return j;
}

int cmd_add(struct ctl *c, int argc, char **argv) {
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "agency", required_argument, NULL, ARG_AGENCY },
                { "lead", required_argument, NULL, ARG_AGENCY },
                { "support", required_argument, NULL, ARG_SUPPORT },
                { "due", required_argument, NULL, ARG_DUE },
                { "ref", required_argument, NULL, ARG_REF },
                { "document", required_argument, NULL, ARG_DOCUMENT },
                { "detail", required_argument, NULL, ARG_DETAIL },
                { "recurrence", required_argument, NULL, ARG_RECURRENCE },
                { "no-notify", no_argument, NULL, ARG_NO_NOTIFY },
                {},
        };
        struct ids lead = {}, support = {};
        const char *due = NULL, *recurrence = NULL, *document = NULL, *ref = NULL, *detail = NULL;
        bool notify = true;
        struct task t = { .due_at = NO_TIME, .status = TASK_OPEN };
        _cleanup_free_ char *document_nfc = NULL;
        int opt, r = 0;

        while (r == 0 && (opt = getopt_long(argc, argv, ":c:h", options, NULL)) >= 0) {
                int k = ctl_common_option(c, opt, argv);
                if (k >= 1000) {
                        r = k - 1000;
                        break;
                }
                if (k)
                        continue;
                switch (opt) {
                case ARG_AGENCY: r = ids_add(c, &lead, "--agency", optarg); break;
                case ARG_SUPPORT: r = ids_add(c, &support, "--support", optarg); break;
                case ARG_DUE: due = optarg; break;
                case ARG_REF: ref = optarg; break;
                case ARG_DOCUMENT: document = optarg; break;
                case ARG_DETAIL: detail = optarg; break;
                case ARG_RECURRENCE: recurrence = optarg; break;
                case ARG_NO_NOTIFY: notify = false; break;
                }
        }
        if (r == 0 && optind != argc - 1)
                r = ctl_fail(c, EX_USAGE, optind >= argc ? "missing TITLE (deadlinectl add TITLE --agency ID …)"
                                                         : "unexpected argument \"%s\" (quote a TITLE with spaces)",
                             argv[MIN(optind + 1, argc - 1)]);
        if (r == 0 && lead.n == 0)
                r = ctl_fail(c, EX_USAGE, "missing --agency ID (the lead agency)");
        if (r == 0)
                r = ctl_load_config(c);
        if (r == 0)
                r = set_text(c, "TITLE", argv[optind], TITLE_MAX, false, &t.title);
        if (r == 0 && !*t.title)
                r = ctl_fail(c, EX_DATAERR, "TITLE: empty title");
        if (r == 0 && detail)
                r = set_text(c, "--detail", detail, DETAIL_MAX, true, &t.detail);
        if (r == 0 && ref)
                r = set_text(c, "--ref", ref, REF_MAX, false, &t.ref);
        if (r == 0 && document)
                r = set_text(c, "--document", document, 128, false, &document_nfc);
        if (r == 0)
                r = ids_check(c, &lead, "--agency");
        if (r == 0)
                r = ids_check(c, &support, "--support");
        if (r == 0 && due)
                r = parse_due_option(c, due, &t);
        if (r == 0 && recurrence)
                r = parse_recurrence_option(c, recurrence, &t);
        if (r == 0 && t.due && !(t.original_due = strdup(t.due)))
                r = ctl_fail(c, EX_OSERR, "out of memory");
        if (r == 0)
                r = set_agencies(c, &t, &lead, &support);
        if (r == 0)
                r = ctl_open_store(c);
        if (r == 0)
                r = save_task(c, &t, document_nfc, false, notify, NULL);
        if (r == 0) {
                if (c->json) {
                        struct task back = {};
                        if (store_task_get(c->store, t.id, &back) >= 0)
                                r = ctl_print_json(c, ctl_task_json(&back));
                        task_done(&back);
                } else
                        printf("Added task %lld%s%s.\n", (long long) t.id, t.due ? ", due " : "",
                               t.due ? t.due : " (no deadline)");
        }
        ids_done(&lead);
        ids_done(&support);
        task_done(&t);
        return r;
}

/* The ids a task may be stored under for an agency filter: the id itself,
 * the groups that contain it, and for a group, its members. */
static int filter_ids(struct ctl *c, const char *id, char ***ret) {
        size_t n = 0, cap = 2 + c->config->n_groups + c->config->n_agencies;
        char **v = calloc(cap + 1, sizeof *v);

        if (!v)
                return -ENOMEM;
        v[n++] = (char *) id;
        const struct group *g = config_find_group(c->config, id);
        if (g)
                for (char **m = g->members; *m && n < cap; m++)
                        v[n++] = *m;
        for (size_t i = 0; i < c->config->n_groups && n < cap; i++)
                if (strv_contains(c->config->groups[i].members, id))
                        v[n++] = c->config->groups[i].id;
        *ret = v;
        return 0;
}

int cmd_list(struct ctl *c, int argc, char **argv) {
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "agency", required_argument, NULL, ARG_AGENCY },
                { "status", required_argument, NULL, ARG_STATUS },
                { "overdue", no_argument, NULL, ARG_OVERDUE },
                { "due-within", required_argument, NULL, ARG_DUE_WITHIN },
                { "all", no_argument, NULL, ARG_ALL },
                {},
        };
        struct task_filter f = { .status = TASK_OPEN, .due_before = NO_TIME };
        const char *agency = NULL;
        bool overdue = false;
        int64_t within = NO_TIME;
        _cleanup_free_ char **ids = NULL;
        struct task_list l = {};
        int opt, r = 0;

        while ((opt = getopt_long(argc, argv, ":c:h", options, NULL)) >= 0) {
                int k = ctl_common_option(c, opt, argv);
                if (k >= 1000)
                        return k - 1000;
                if (k)
                        continue;
                switch (opt) {
                case ARG_AGENCY:
                        agency = optarg;
                        break;
                case ARG_ALL:
                        f.status = -1;
                        break;
                case ARG_STATUS:
                        if (streq(optarg, "all"))
                                f.status = -1;
                        else if ((f.status = task_status_from_string(optarg)) < 0)
                                return ctl_fail(c, EX_USAGE,
                                                "--status: \"%s\" is not a status (open, done, cancelled or all)",
                                                optarg);
                        break;
                case ARG_OVERDUE:
                        overdue = true;
                        break;
                case ARG_DUE_WITHIN:
                        if (parse_duration(optarg, &within) < 0)
                                return ctl_fail(c, EX_USAGE, "--due-within: \"%s\" is not a duration (use 7d, 12h, 2w)",
                                                optarg);
                        break;
                }
        }
        if (optind < argc)
                return ctl_fail(c, EX_USAGE, "unexpected argument \"%s\"", argv[optind]);
        r = ctl_load_config(c);
        if (r != 0)
                return r;
        if (within != NO_TIME)
                f.due_before = c->now + within;
        if (overdue) {
                f.status = TASK_OPEN;
                f.due_before = f.due_before == NO_TIME ? c->now - 1 : MIN(f.due_before, c->now - 1);
        }
        if (agency) {
                r = ctl_check_agency(c, "--agency", agency);
                if (r != 0)
                        return r;
                if (filter_ids(c, agency, &ids) < 0)
                        return ctl_fail(c, EX_OSERR, "out of memory");
                f.agencies = ids;
        }
        r = ctl_open_store(c);
        if (r != 0)
                return r;
        r = store_task_list(c->store, &f, &l);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot list tasks");

        if (c->json) {
                json_t *a = json_array();
                for (size_t i = 0; i < l.n; i++)
                        json_array_append_new(a, task_to_json_at(&l.tasks[i], c->now));
                task_list_done(&l);
                return ctl_print_json(c, a);
        }

        _cleanup_(table_freep) struct table *t = NULL;
        if (table_new(8, &t) < 0) {
                task_list_done(&l);
                return ctl_fail(c, EX_OSERR, "out of memory");
        }
        table_set_align_right(t, 0, true);
        table_set_max_width(t, 7, 60);
        const char *head[] = { "ID", "REF", "DUE", "LEFT", "STATUS", "LEAD", "SUPPORT", "TITLE" };
        for (size_t i = 0; i < ELEMENTSOF(head); i++)
                table_add(t, head[i]);
        for (size_t i = 0; i < l.n; i++) {
                const struct task *k = &l.tasks[i];
                char id[24], due[32], left[LATENESS_TEXT_MAX], lead[256], support[256];
                snprintf(id, sizeof id, "%lld", (long long) k->id);
                due_cell(k, due, sizeof due);
                left_cell(k, c->now, left);
                join_agencies(k, ROLE_LEAD, lead, sizeof lead);
                join_agencies(k, ROLE_SUPPORT, support, sizeof support);
                char ref[64];
                snprintf(ref, sizeof ref, "%s%s%s", strempty(k->document_number),
                         k->document_number && k->ref ? " " : "", strempty(k->ref));
                table_add(t, id), table_add(t, *ref ? ref : NULL), table_add(t, due), table_add(t, left);
                table_add(t, task_status_to_string(k->status)), table_add(t, lead);
                table_add(t, *support ? support : NULL), table_add(t, k->title);
        }
        task_list_done(&l);
        if (table_rows(t) == 1) {
                fprintf(stderr, "No tasks match.\n");
                return 0;
        }
        return table_print(t, stdout) < 0 ? EX_IOERR : 0;
}

static int load_task(struct ctl *c, int argc, char **argv, struct task *ret) {
        int64_t id;
        int opt, r;
        static const struct option options[] = { CTL_COMMON_OPTIONS, {} };

        while ((opt = getopt_long(argc, argv, ":c:h", options, NULL)) >= 0) {
                int k = ctl_common_option(c, opt, argv);
                if (k >= 1000)
                        return k - 1000;
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
        return ctl_get_task(c, id, ret);
}

int ctl_get_task(struct ctl *c, int64_t id, struct task *ret) {
        int r = store_task_get(c->store, id, ret);
        if (r == -ENOENT)
                return ctl_fail(c, EX_DATAERR, "no task %lld (see deadlinectl list --all)", (long long) id);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot read the task");
        return 0;
}

/* A task's record under show's fields: its changes and completions, one
 * line each, oldest first. */
static int print_record(const struct ctl_record *rec) {
        struct ctl_event *events = NULL;
        size_t n = 0;
        int r = ctl_record_events(rec, &events, &n);

        if (r >= 0 && n > 0) {
                printf("\nHistory:\n");
                for (size_t i = 0; i < n; i++) {
                        char when[20];
                        format_local(events[i].at, when);
                        printf("  %.16s  %s %s\n", when, events[i].what, events[i].detail);
                }
        }
        ctl_events_free(events, n);
        return r;
}

int cmd_show(struct ctl *c, int argc, char **argv) {
        _cleanup_(ctl_record_done) struct ctl_record rec = {};
        struct task t = {};
        char lead[512], support[512], due[32], left[LATENESS_TEXT_MAX] = "", when[26], rule[96];
        struct lateness l;
        int r = load_task(c, argc, argv, &t);

        if (r != 0)
                return r;
        r = ctl_record_read(c, t.id, &rec);
        if (r != 0) {
                task_done(&t);
                return r;
        }
        if (c->json) {
                json_t *j = task_to_json_at(&t, c->now);
                if (j) {
                        json_object_set_new(j, "changes", ctl_changes_json(&rec.changes));
                        json_object_set_new(j, "completions", ctl_completions_json(&rec.completions));
                }
                r = ctl_print_json(c, j);
                task_done(&t);
                return r;
        }
        join_agencies(&t, ROLE_LEAD, lead, sizeof lead);
        join_agencies(&t, ROLE_SUPPORT, support, sizeof support);
        due_cell(&t, due, sizeof due);
        if (task_lateness(&t, c->now, &l))
                lateness_format(&l, left);
        printf("Task %lld: %s\n", (long long) t.id, t.title);
        if (t.document_number)
                printf("  Document:   %s\n", t.document_number);
        if (t.ref)
                printf("  Reference:  %s\n", t.ref);
        printf("  Status:     %s\n", task_status_to_string(t.status));
        (void) ctl_due_rule_words(c, &t, rule, sizeof rule);
        printf("  Deadline:   %s%s%s%s%s%s\n", t.due ? due : "none (ongoing)", *rule ? ", " : "", rule,
               *left ? " (" : "", left, *left ? ")" : "");
        if (!streq_ptr(t.original_due, t.due)) {
                struct task o = { .due = t.original_due };
                due_cell(&o, due, sizeof due);
                printf("  Original:   %s\n", t.original_due ? due : "none");
        }
        if (t.recurrence)
                printf("  Recurrence: %s\n", t.recurrence);
        printf("  Lead:       %s\n", lead);
        printf("  Support:    %s\n", *support ? support : "-");
        format_local(t.created_at, when);
        printf("  Created:    %s\n", when);
        format_local(t.updated_at, when);
        printf("  Updated:    %s\n", when);
        if (t.detail)
                printf("\n%s\n", t.detail);
        r = print_record(&rec);
        task_done(&t);
        if (r < 0)
                return ctl_fail(c, EX_OSERR, "%s", strerror(-r));
        return 0;
}

int cmd_edit(struct ctl *c, int argc, char **argv) {
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "title", required_argument, NULL, ARG_TITLE },
                { "agency", required_argument, NULL, ARG_AGENCY },
                { "lead", required_argument, NULL, ARG_AGENCY },
                { "support", required_argument, NULL, ARG_SUPPORT },
                { "due", required_argument, NULL, ARG_DUE },
                { "ref", required_argument, NULL, ARG_REF },
                { "detail", required_argument, NULL, ARG_DETAIL },
                { "recurrence", required_argument, NULL, ARG_RECURRENCE },
                { "no-notify", no_argument, NULL, ARG_NO_NOTIFY },
                { "recompute", no_argument, NULL, ARG_RECOMPUTE },
                {},
        };
        struct ids lead = {}, support = {};
        const char *title = NULL, *due = NULL, *ref = NULL, *detail = NULL, *recurrence = NULL;
        bool notify = true, recompute = false, moved = false;
        char reason[128] = "", old_words[24] = "";
        struct task t = {};
        int64_t id;
        int opt, r = 0;

        while (r == 0 && (opt = getopt_long(argc, argv, ":c:h", options, NULL)) >= 0) {
                int k = ctl_common_option(c, opt, argv);
                if (k >= 1000) {
                        r = k - 1000;
                        break;
                }
                if (k)
                        continue;
                switch (opt) {
                case ARG_TITLE: title = optarg; break;
                case ARG_AGENCY: r = ids_add(c, &lead, "--agency", optarg); break;
                case ARG_SUPPORT: r = ids_add(c, &support, "--support", optarg); break;
                case ARG_DUE: due = optarg; break;
                case ARG_REF: ref = optarg; break;
                case ARG_DETAIL: detail = optarg; break;
                case ARG_RECURRENCE: recurrence = optarg; break;
                case ARG_NO_NOTIFY: notify = false; break;
                case ARG_RECOMPUTE: recompute = true; break;
                }
        }
        if (r == 0 && optind != argc - 1)
                r = ctl_fail(c, EX_USAGE, optind >= argc ? "missing task ID" : "unexpected argument \"%s\"",
                             argv[MIN(optind + 1, argc - 1)]);
        if (r == 0 && !title && !due && !ref && !detail && !recurrence && !lead.given && !support.given &&
            !recompute)
                r = ctl_fail(c, EX_USAGE,
                             "nothing to change (give --title, --due, --agency, --support, --recompute, …)");
        if (r == 0 && recompute && due)
                r = ctl_fail(c, EX_USAGE, "--recompute and --due cannot go together");
        if (r == 0)
                r = ctl_parse_task_id(c, argv[optind], &id);
        if (r == 0)
                r = ctl_open_store(c);
        if (r == 0) {
                r = store_task_get(c->store, id, &t);
                if (r == -ENOENT)
                        r = ctl_fail(c, EX_DATAERR, "no task %lld (see deadlinectl list --all)", (long long) id);
                else if (r < 0)
                        r = ctl_store_fail(c, r, "cannot read the task");
        }
        if (r == 0 && title)
                r = set_text(c, "--title", title, TITLE_MAX, false, &t.title);
        if (r == 0 && title && !*t.title)
                r = ctl_fail(c, EX_DATAERR, "--title: empty title");
        if (r == 0 && detail)
                r = set_text(c, "--detail", detail, DETAIL_MAX, true, &t.detail);
        if (r == 0 && ref)
                r = set_text(c, "--ref", ref, REF_MAX, false, &t.ref);
        if (r == 0 && due)
                r = parse_due_option(c, due, &t);
        if (r == 0 && recurrence)
                r = parse_recurrence_option(c, recurrence, &t);
        if (r == 0 && recompute) {
                /* The deadline counted again from its rule, on the
                 * calendar as it is now (a holiday added since). */
                char words[96];
                int32_t from;

                if (t.due_rule_days <= 0 || !t.due_rule_from || parse_iso_date(t.due_rule_from, &from) < 0)
                        r = ctl_fail(c, EX_DATAERR,
                                     "--recompute: task %lld's deadline is not counted in working days "
                                     "(it has no rule to count again)",
                                     (long long) id);
                else {
                        struct due od;
                        if (t.due && parse_due(t.due, 0, &od) >= 0)
                                format_due_vn(&od, old_words);
                        (void) ctl_due_rule_words(c, &t, words, sizeof words);
                        if (!due_rule_apply(c, &t, t.due_rule_days, from, &moved))
                                r = ctl_fail(c, EX_DATAERR, "--recompute: %s: no working day that far on the calendar",
                                             words);
                        snprintf(reason, sizeof reason, "--recompute: %s", words);
                }
        }
        if (r == 0 && recompute && !moved && !title && !ref && !detail && !recurrence && !lead.given &&
            !support.given) {
                /* Nothing to write: the calendar gives the same day. */
                if (c->json) {
                        json_t *j = ctl_task_json(&t);
                        if (j)
                                json_object_set_new(j, "changed", json_false());
                        r = ctl_print_json(c, j);
                } else
                        printf("Task %lld: deadline %s unchanged (%s on the current calendar).\n", (long long) t.id,
                               old_words, reason + strlen("--recompute: "));
                ids_done(&lead);
                ids_done(&support);
                task_done(&t);
                return r;
        }
        if (r == 0 && (lead.given || support.given)) {
                /* Keep whichever role list was not given. */
                for (size_t i = 0; i < t.n_agencies; i++) {
                        struct ids *keep = t.agencies[i].role == ROLE_LEAD ? &lead : &support;
                        if (keep->given == false && keep->n < TASK_AGENCIES_MAX)
                                keep->v[keep->n++] = strdup(t.agencies[i].agency);
                        free(t.agencies[i].agency);
                }
                free(t.agencies);
                t.agencies = NULL;
                t.n_agencies = 0;
                if (lead.n == 0)
                        r = ctl_fail(c, EX_USAGE, "--agency: a task needs a lead agency");
                if (r == 0)
                        r = ids_check(c, &lead, "--agency");
                if (r == 0)
                        r = ids_check(c, &support, "--support");
                if (r == 0)
                        r = set_agencies(c, &t, &lead, &support);
        }
        if (r == 0)
                r = save_task(c, &t, NULL, true, notify, moved ? reason : NULL);
        if (r == 0 && c->json) {
                struct task back = {};
                r = store_task_get(c->store, t.id, &back);
                json_t *j = r < 0 ? NULL : ctl_task_json(&back);
                if (j && recompute)
                        json_object_set_new(j, "changed", json_boolean(moved));
                r = r < 0 ? ctl_store_fail(c, r, "cannot read the task back") : ctl_print_json(c, j);
                task_done(&back);
        } else if (r == 0 && moved) {
                char now_words[24];
                struct due nd;
                (void) parse_due(t.due, 0, &nd);
                format_due_vn(&nd, now_words);
                printf("Task %lld: deadline moved from %s to %s (%s on the current calendar).\n", (long long) t.id,
                       *old_words ? old_words : "none", now_words, reason + strlen("--recompute: "));
        } else if (r == 0)
                printf("Task %lld updated.\n", (long long) t.id);
        ids_done(&lead);
        ids_done(&support);
        task_done(&t);
        return r;
}
