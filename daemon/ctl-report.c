/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl report: the compliance report for a period, per lead agency
 * and per document (report.h says what is counted), as a table, CSV, JSON
 * or an HTML page. */

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl.h"
#include "fileio.h"
#include "report-render.h"
#include "report.h"
#include "timeutil.h"

/* A report as a file is at most this big: 1M agencies' rows would not be. */
#define REPORT_OUTPUT_MAX (256u * 1024 * 1024)

static const char *agency_name(const char *id, void *userdata) {
        const struct config *config = userdata;
        const struct agency *a = config_find_agency(config, id);
        const struct group *g;

        if (a)
                return a->name;
        g = config_find_group(config, id);
        return g ? g->name : NULL;
}

/* --from and --to: a day ("2025-04-01", "1/4/2025"). */
static int parse_day(struct ctl *c, const char *option, const char *value, int32_t *ret) {
        struct due d;

        if (parse_due(value, c->now, &d) < 0 || d.minute >= 0 || value[0] == '+')
                return ctl_fail(c, EX_DATAERR, "%s: \"%s\" is not a date (use 2025-04-01 or 1/4/2025)", option,
                                value);
        *ret = d.day;
        return 0;
}

/* Writes the report to `path` whole or not at all: a temporary file beside
 * it, renamed over it. */
static int write_output(struct ctl *c, const char *path, const char *data, size_t size) {
        _cleanup_free_ char *tmp = NULL;
        int fd, r;

        if (asprintf(&tmp, "%s.tmp-XXXXXX", path) < 0)
                return ctl_fail(c, EX_OSERR, "out of memory");
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return ctl_fail(c, EX_CANTCREAT, "--output: cannot create %s: %m", tmp);
        (void) fchmod(fd, 0644 & ~umask(umask(0)));
        r = write_all(fd, data, size);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                errno = -r;
                return ctl_fail(c, EX_IOERR, "--output: cannot write %s: %m", path);
        }
        return 0;
}

int cmd_report(struct ctl *c, int argc, char **argv) {
        enum { ARG_FROM = 0x200, ARG_TO, ARG_PERIOD, ARG_AGENCY, ARG_DOCUMENT, ARG_FORMAT, ARG_OUTPUT };
        static const struct option options[] = {
                CTL_COMMON_OPTIONS,
                { "from", required_argument, NULL, ARG_FROM },
                { "to", required_argument, NULL, ARG_TO },
                { "period", required_argument, NULL, ARG_PERIOD },
                { "agency", required_argument, NULL, ARG_AGENCY },
                { "document", required_argument, NULL, ARG_DOCUMENT },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "output", required_argument, NULL, ARG_OUTPUT },
                {},
        };
        const char *from = NULL, *to = NULL, *period = NULL, *agency = NULL, *document = NULL, *output = NULL;
        enum report_format format = _REPORT_FORMAT_INVALID;
        _cleanup_(task_occurrence_list_done) struct task_occurrence_list l = {};
        _cleanup_(report_done) struct report rep = {};
        _cleanup_(strbuf_done) struct strbuf out = STRBUF_INIT(REPORT_OUTPUT_MAX);
        struct occurrence_filter f = {};
        struct report_input in = {};
        int32_t from_day, to_day;
        int opt, r;

        while ((opt = getopt_long(argc, argv, ":c:h", options, NULL)) >= 0) {
                r = ctl_common_option(c, opt, argv);
                if (r >= 1000)
                        return r - 1000;
                if (r == 1)
                        continue;
                switch (opt) {
                case ARG_FROM: from = optarg; break;
                case ARG_TO: to = optarg; break;
                case ARG_PERIOD: period = optarg; break;
                case ARG_AGENCY: agency = optarg; break;
                case ARG_DOCUMENT: document = optarg; break;
                case ARG_OUTPUT: output = optarg; break;
                case ARG_FORMAT:
                        format = report_format_from_string(optarg);
                        if (format < 0)
                                return ctl_fail(c, EX_USAGE, "--format: \"%s\" is not table, csv, json or html",
                                                optarg);
                        break;
                default:
                        return ctl_fail(c, EX_USAGE, "bad or incomplete option \"%s\"", argv[optind - 1]);
                }
        }
        if (optind < argc)
                return ctl_fail(c, EX_USAGE, "unexpected argument \"%s\"", argv[optind]);
        if (period && (from || to))
                return ctl_fail(c, EX_USAGE, "--period and --from/--to: give one or the other");
        if (!from != !to)
                return ctl_fail(c, EX_USAGE, "--%s without --%s: give both days, or --period",
                                from ? "from" : "to", from ? "to" : "from");
        if (format < 0)
                format = c->json ? REPORT_JSON : REPORT_TABLE;
        else if (c->json && format != REPORT_JSON)
                return ctl_fail(c, EX_USAGE, "--json and --format %s: give one", report_format_to_string(format));

        r = ctl_load_config(c);
        if (r != 0)
                return r;
        if (period) {
                if (report_period_parse(period, &from_day, &to_day) < 0)
                        return ctl_fail(c, EX_DATAERR, "--period: \"%s\" is not a period (use 2025, 2025-05 or "
                                        "2025-Q2)", period);
        } else if (from) {
                r = parse_day(c, "--from", from, &from_day);
                if (r == 0)
                        r = parse_day(c, "--to", to, &to_day);
                if (r != 0)
                        return r;
                if (from_day > to_day)
                        return ctl_fail(c, EX_DATAERR, "--from %s is after --to %s", from, to);
        } else {
                /* No period: the current year, so far. */
                int32_t today;
                int64_t sec;
                char year[5];
                int y, m, d;

                instant_to_local(c->now, &today, &sec);
                civil_from_days(today, &y, &m, &d);
                snprintf(year, sizeof year, "%04d", y);
                (void) report_period_parse(year, &from_day, &to_day);
        }
        if (agency) {
                r = ctl_check_agency(c, "--agency", agency);
                if (r != 0)
                        return r;
        }

        r = ctl_open_store(c);
        if (r != 0)
                return r;
        if (document) {
                _cleanup_(document_done) struct document d = {};

                r = store_document_get(c->store, document, &d);
                if (r == -ENOENT)
                        return ctl_fail(c, EX_DATAERR, "--document: no document \"%s\" in %s", document,
                                        c->config->database);
                if (r < 0)
                        return ctl_store_fail(c, r, "cannot read the document");
                f.document_id = d.id;
        }
        f.due_from = local_to_instant(from_day, 0);
        f.due_to = local_to_instant(to_day + 1, 0) - 1;
        f.agency = agency;
        r = store_task_occurrences(c->store, &f, &l);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot read the tasks");

        in = (struct report_input) {
                .from_day = from_day,
                .to_day = to_day,
                .as_of = report_as_of(to_day, c->now),
                .items = l.items,
                .n = l.n,
                .agency_name = agency_name,
                .userdata = c->config,
        };
        r = report_compute(&in, &rep);
        if (r >= 0)
                r = report_render(&rep, format, c->config->language, &out);
        if (r < 0) {
                errno = -r;
                return ctl_fail(c, EX_SOFTWARE, "cannot make the report: %m");
        }
        if (output)
                return write_output(c, output, out.data, out.len);
        r = write_all(STDOUT_FILENO, out.data, out.len);
        if (r < 0) {
                errno = -r;
                return ctl_fail(c, EX_IOERR, "cannot write the report: %m");
        }
        return 0;
}
