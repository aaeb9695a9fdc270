/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl export: tasks as CSV or JSON, in the form import reads back,
 * so that a spreadsheet round trip works. Each task carries its current
 * deadline (due) and the one first set (original_due), and a deadline
 * counted in working days its rule (due_rule, "15wd:2025-03-12" in CSV,
 * {"days": 15, "from": "2025-03-12"} in JSON). Or the open tasks
 * as an iCalendar calendar (ics.h), all of them or one agency's. */

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "ctl.h"
#include "fileio.h"
#include "ics.h"

static int export_ics(struct ctl *c, const struct task_list *l, const char *agency, enum ics_component kind,
                      const char *output) {
        const struct agency *a = agency ? config_find_agency(c->config, agency) : NULL;
        struct ics_options o = {
                .instance_id = store_instance_id(c->store),
                .agency = agency,
                .component = kind,
                .name = a ? a->name ?: a->id : NULL,
        };
        _cleanup_free_ char *text = NULL;
        int r;

        r = ics_build(c->config, l->tasks, l->n, &o, &text);
        if (r == -ENOENT)
                return ctl_fail(c, EX_CONFIG, "timezone \"%s\" of %s: no zoneinfo to describe it",
                                c->config->timezone, c->config->path);
        if (r < 0)
                return ctl_fail(c, r == -ENOMEM ? EX_OSERR : EX_DATAERR, "cannot make the calendar: %s",
                                strerror(-r));
        if (!output) {
                fputs(text, stdout);
                return fflush(stdout) == 0 ? 0 : EX_IOERR;
        }
        r = write_file_atomic(output, text, strlen(text), 0644);
        if (r < 0)
                return ctl_fail(c, r == -ENOSPC || r == -EIO ? EX_IOERR : EX_CANTCREAT, "--output: cannot write %s: %s",
                                output, strerror(-r));
        return 0;
}

int cmd_export(struct ctl *c, int argc, char **argv) {
        enum { ARG_JSON = 0x100, ARG_FORMAT, ARG_DOCUMENT, ARG_STATUS, ARG_AGENCY, ARG_ICS_AS, ARG_OUTPUT };
        static const struct option options[] = {
                { "json", no_argument, NULL, ARG_JSON },
                { "config", required_argument, NULL, 'c' },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "document", required_argument, NULL, ARG_DOCUMENT },
                { "status", required_argument, NULL, ARG_STATUS },
                { "agency", required_argument, NULL, ARG_AGENCY },
                { "ics-as", required_argument, NULL, ARG_ICS_AS },
                { "output", required_argument, NULL, ARG_OUTPUT },
                {},
        };
        bool json = false, ics = false;
        const char *agency = NULL, *output = NULL;
        int kind = ICS_EVENT;
        struct task_filter f = { .status = -1, .due_before = NO_TIME };
        const char *document = NULL;
        struct task_list l = {};
        int opt, r;

        while ((opt = getopt_long(argc, argv, ":c:", options, NULL)) >= 0)
                switch (opt) {
                case ARG_JSON: json = true; break;
                case 'c': c->config_path = optarg; break;
                case ARG_DOCUMENT: document = optarg; break;
                case ARG_FORMAT:
                        if (!streq(optarg, "csv") && !streq(optarg, "json") && !streq(optarg, "ics"))
                                return ctl_fail(c, EX_USAGE, "--format: \"%s\" is not csv, json or ics", optarg);
                        json = streq(optarg, "json");
                        ics = streq(optarg, "ics");
                        break;
                case ARG_AGENCY: agency = optarg; break;
                case ARG_OUTPUT: output = optarg; break;
                case ARG_ICS_AS:
                        if ((kind = ics_component_from_string(optarg)) < 0)
                                return ctl_fail(c, EX_USAGE, "--ics-as: \"%s\" is not event or todo", optarg);
                        break;
                case ARG_STATUS:
                        if (!streq(optarg, "all") && (f.status = task_status_from_string(optarg)) < 0)
                                return ctl_fail(c, EX_USAGE, "--status: \"%s\" is not a status", optarg);
                        break;
                default:
                        return ctl_fail(c, EX_USAGE, "bad or incomplete option \"%s\"", argv[optind - 1]);
                }
        if (optind < argc)
                return ctl_fail(c, EX_USAGE, "unexpected argument \"%s\"", argv[optind]);
        if (!ics && (agency || output || kind != ICS_EVENT))
                return ctl_fail(c, EX_USAGE, "--agency, --ics-as and --output go with --format ics");
        if (ics) {
                if ((r = ctl_load_config(c)) != 0)
                        return r;
                if (agency && (r = ctl_check_agency(c, "--agency", agency)) != 0)
                        return r;
                if (agency && !config_find_agency(c->config, agency))
                        return ctl_fail(c, EX_DATAERR, "--agency: \"%s\" is a group in %s; give one of its agencies",
                                        agency, c->config->path);
                /* A calendar shows what is still to be done. */
                f.status = TASK_OPEN;
        }
        if ((r = ctl_open_store(c)) != 0)
                return r;
        if (document) {
                struct document d = {};
                r = store_document_get(c->store, document, &d);
                if (r == -ENOENT)
                        return ctl_fail(c, EX_DATAERR, "--document: no document \"%s\"", document);
                if (r < 0)
                        return ctl_store_fail(c, r, "cannot read the document");
                f.document_id = d.id;
                document_done(&d);
        }
        r = store_task_list(c->store, &f, &l);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot list tasks");

        if (ics) {
                r = export_ics(c, &l, agency, kind, output);
                task_list_done(&l);
                return r;
        }
        if (json) {
                json_t *tasks = json_array();
                for (size_t i = 0; i < l.n; i++) {
                        const struct task *t = &l.tasks[i];
                        _cleanup_strv_free_ char **lead = calloc(t->n_agencies + 1, sizeof *lead);
                        _cleanup_strv_free_ char **support = calloc(t->n_agencies + 1, sizeof *support);
                        for (size_t k = 0, nl = 0, ns = 0; lead && support && k < t->n_agencies; k++) {
                                char **v = t->agencies[k].role == ROLE_LEAD ? lead : support;
                                v[t->agencies[k].role == ROLE_LEAD ? nl++ : ns++] = strdup(t->agencies[k].agency);
                        }
                        /* original_due is always there, null for a task that had
                         * no deadline at first: import tells that from "the same
                         * as due", which a missing key means. */
                        json_array_append_new(tasks, json_pack("{s:s?, s:s?, s:s, s:s?, s:s?, s:o, s:o, s:o, s:o, s:s?, s:s}",
                                "document", t->document_number, "ref", t->ref, "title", t->title, "detail",
                                t->detail, "due", t->due, "original_due",
                                t->original_due ? json_string(t->original_due) : json_null(), "due_rule",
                                ctl_due_rule_json(t), "lead",
                                json_strv(lead), "support", json_strv(support), "recurrence", t->recurrence,
                                "status", task_status_to_string(t->status)));
                }
                task_list_done(&l);
                return ctl_print_json(c, json_pack("{s:i, s:o}", "version", 1, "tasks", tasks));
        }

        for (size_t k = 0; csv_columns[k]; k++)
                csv_write_field(stdout, csv_columns[k], !csv_columns[k + 1]);
        for (size_t i = 0; i < l.n; i++) {
                const struct task *t = &l.tasks[i];
                char lead[1024] = "", support[1024] = "";
                size_t nl = 0, ns = 0;
                for (size_t k = 0; k < t->n_agencies; k++) {
                        bool is_lead = t->agencies[k].role == ROLE_LEAD;
                        char *buf = is_lead ? lead : support;
                        size_t *n = is_lead ? &nl : &ns;
                        if (*n < sizeof lead)
                                *n += (size_t) snprintf(buf + *n, sizeof lead - *n, "%s%s", *n ? ";" : "",
                                                        t->agencies[k].agency);
                }
                csv_write_field(stdout, t->document_number, false);
                csv_write_field(stdout, t->ref, false);
                csv_write_field(stdout, t->title, false);
                csv_write_field(stdout, t->detail, false);
                csv_write_field(stdout, t->due, false);
                csv_write_field(stdout, lead, false);
                csv_write_field(stdout, support, false);
                csv_write_field(stdout, t->recurrence, false);
                csv_write_field(stdout, task_status_to_string(t->status), false);
                csv_write_field(stdout, t->original_due, false);
                char rule[48] = "";
                if (t->due_rule_days > 0 && t->due_rule_from)
                        snprintf(rule, sizeof rule, "%dwd:%s", t->due_rule_days, t->due_rule_from);
                csv_write_field(stdout, rule, true);
        }
        task_list_done(&l);
        return fflush(stdout) == 0 ? 0 : EX_IOERR;
}
