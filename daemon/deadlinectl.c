/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl: manage the tasks deadlined reminds agencies of. */

#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <jansson.h>
#include <utf8proc.h>

#include "config.h"
#include "ctl.h"
#include "log.h"
#include "store.h"
#include "table.h"
#include "timeutil.h"

static const struct command {
        const char *name;
        int (*run)(struct ctl *c, int argc, char **argv);
        const char *usage;
} commands[] = {
        { "add", cmd_add, "add TITLE --agency ID [--support ID]... [--due DATE] [--ref REF] [--document NUMBER]" },
        { "list", cmd_list, "list [--agency ID] [--status STATUS] [--overdue] [--due-within DURATION]" },
        { "show", cmd_show, "show ID" },
        { "done", cmd_done, "done ID [--note TEXT] [--on DATE]" },
        { "reopen", cmd_reopen, "reopen ID" },
        { "cancel", cmd_cancel, "cancel ID" },
        { "edit", cmd_edit, "edit ID [--title T] [--due DATE|none] [--agency ID]... [--support ID]..." },
        { "extend", cmd_extend, "extend ID --to DATE --by DOCUMENT [--reason TEXT]" },
        { "import", cmd_import, "import FILE [--format directive|csv|json] [--dry-run] [--document-number N]\n"
          "         [--default-lead ID] [--partial] [--ocr-text FILE] [--ocr-language LANG]\n"
          "         [--max-pages N] [--max-pixels N]" },
        { "export", cmd_export, "export [--format csv|json|ics] [--document NUMBER] [--status STATUS] [--agency ID] [--ics-as event|todo] [--output FILE]" },
        { "agencies", cmd_agencies, "agencies" },
        { "calendar", cmd_calendar, "calendar [YEAR]" },
        { "check-config", cmd_check_config, "check-config" },
        { "send-test", cmd_send_test, "send-test AGENCY [--channel email]" },
        { "status", cmd_status, "status [--limit N]" },
        { "history", cmd_history, "history [TASK] [--deliveries|--changes] [--limit N]" },
        { "new-instance-id", cmd_new_instance_id, "new-instance-id" },
        { "report", cmd_report, "report [--period 2025-Q2|2025-05|2025 | --from DATE --to DATE] [--agency ID]\n"
          "                 [--document NUMBER] [--format table|csv|json|html] [--output FILE]" },
        { "retry", cmd_retry, "retry DELIVERY | retry --failed [--task ID] [--agency ID]" },
        { "delete", cmd_delete, "delete ID [--force]" },
        { "inbox", cmd_inbox, "inbox" },
        { "confirm", cmd_confirm, "confirm N [--by DOCUMENT]" },
        { "reject", cmd_reject, "reject N --reason TEXT" },
        { "migrate-to", cmd_migrate_to, "migrate-to postgresql://..." },
};

static void help(FILE *f) {
        fprintf(f,
                "Usage: deadlinectl [OPTIONS] COMMAND [ARGS]\n"
                "Manage the tasks and deadlines that deadlined reminds agencies of.\n\n"
                "Options:\n"
                "  -c, --config FILE   configuration file (default %s)\n"
                "      --json          machine-readable output\n"
                "      --now TIME      act as if it were TIME (\"2025-04-28T08:00\")\n"
                "  -h, --help          show this help\n"
                "      --version       show the version\n\n"
                "Commands:\n",
                CONFIG_DEFAULT_PATH);
        for (size_t i = 0; i < ELEMENTSOF(commands); i++)
                fprintf(f, "  %s\n", commands[i].usage);
        fprintf(f, "\nSee deadlinectl(1).\n");
}

int ctl_fail(const struct ctl *c, int code, const char *format, ...) {
        char msg[2048];
        va_list ap;

        va_start(ap, format);
        vsnprintf(msg, sizeof msg, format, ap);
        va_end(ap);
        for (char *p = msg; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';
        if (c && c->command)
                fprintf(stderr, "deadlinectl: %s: %s\n", c->command, msg);
        else
                fprintf(stderr, "deadlinectl: %s\n", msg);
        return code;
}

int ctl_load_config(struct ctl *c) {
        _cleanup_free_ char *errors = NULL;
        int r;

        if (c->config)
                return 0;
        r = config_load(c->config_path, &c->config, &errors);
        if (r < 0) {
                /* Configuration errors are complete lines of their own
                 * ("FILE:LINE: SETTING: message"), one per problem. */
                if (errors)
                        fprintf(stderr, "%s%s", errors, errors[strlen(errors) - 1] == '\n' ? "" : "\n");
                else
                        fprintf(stderr, "deadlinectl: %s: %s\n", c->config_path, strerror(-r));
                return EX_CONFIG;
        }
        r = config_apply_timezone(c->config);
        if (r < 0)
                return ctl_fail(c, EX_CONFIG, "%s: cannot use time zone %s: %s", c->config_path,
                                c->config->timezone, strerror(-r));
        if (c->now_text)
                (void) parse_instant(c->now_text, &c->now);
        return 0;
}

const char *ctl_user(struct ctl *c) {
        /* The real user id, not $USER or $SUDO_USER, which anyone can set:
         * under sudo, the change is root's, as the system's own logs say. */
        uid_t uid = getuid();
        struct passwd *pw;

        if (c->user)
                return c->user;
        pw = getpwuid(uid);
        if (pw && pw->pw_name && *pw->pw_name)
                c->user = strdup(pw->pw_name);
        else if (asprintf(&c->user, "uid %u", (unsigned) uid) < 0)
                c->user = NULL;
        return c->user;
}

int ctl_store_fail(const struct ctl *c, int r, const char *what) {
        /* Without a store, the failure was store_open()'s. */
        const char *detail = store_last_error(c->store);
        int code;

        switch (r) {
        case -EBUSY:
                code = EX_TEMPFAIL;
                break;
        case -ENOENT:
        case -EEXIST:
        case -EINVAL:
        case -EALREADY:
                code = EX_DATAERR;
                break;
        case -EROFS:
        case -EACCES:
        case -EPERM:
                code = EX_NOPERM;
                break;
        case -ENOSPC:
        case -EIO:
                code = EX_IOERR;
                break;
        case -EPROTONOSUPPORT:
        case -EBADMSG:
                code = EX_DATAERR;
                break;
        case -EADDRNOTAVAIL:            /* a database server's address */
                code = EX_CONFIG;
                break;
        case -ECONNREFUSED:             /* the server, down or lost, or its certificate */
        case -ECONNRESET:
        case -EKEYREJECTED:
                code = EX_UNAVAILABLE;
                break;
        default:
                code = EX_SOFTWARE;
        }
        if (detail && *detail)
                return ctl_fail(c, code, "%s: %s (%s)", what, store_strerror(r), detail);
        return ctl_fail(c, code, "%s: %s", what, store_strerror(r));
}

int ctl_open_store(struct ctl *c) {
        int r;

        if (c->store)
                return 0;
        r = ctl_load_config(c);
        if (r != 0)
                return r;
        r = store_open_password(c->config->database, c->config->database_password, STORE_CREATE, &c->store);
        if (r < 0) {
                /* The same words and exit statuses as deadlined's. */
                if (r != -EBUSY && r != -EPROTONOSUPPORT && r != -EBADMSG && r != -EACCES && r != -EPERM &&
                    r != -EROFS && r != -ENOSPC && r != -EIO && r != -EADDRNOTAVAIL && r != -ECONNREFUSED &&
                    r != -ECONNRESET && r != -EKEYREJECTED)
                        return ctl_fail(c, EX_CANTCREAT, "%s: %s", c->config->database, store_strerror(r));
                return ctl_store_fail(c, r, c->config->database);
        }
        return 0;
}

/* Levenshtein distance, for "did you mean" hints on short ids. */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b), prev[65], cur[65];

        if (la > 64 || lb > 64)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                prev[j] = j;
        for (size_t i = 1; i <= la; i++) {
                cur[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
                        cur[j] = MIN(MIN(prev[j] + 1, cur[j - 1] + 1), sub);
                }
                memcpy(prev, cur, sizeof(size_t) * (lb + 1));
        }
        return prev[lb];
}

int ctl_check_agency(const struct ctl *c, const char *option, const char *id) {
        const char *best = NULL;
        size_t best_d = 3;

        if (config_id_exists(c->config, id))
                return 0;
        for (size_t i = 0; i < c->config->n_agencies + c->config->n_groups; i++) {
                const char *cand = i < c->config->n_agencies ? c->config->agencies[i].id
                                                             : c->config->groups[i - c->config->n_agencies].id;
                size_t d = edit_distance(id, cand);
                if (d < best_d) {
                        best_d = d;
                        best = cand;
                }
        }
        if (best)
                return ctl_fail(c, EX_DATAERR, "%s: no agency or group \"%s\" in %s (did you mean \"%s\"?)",
                                option, id, c->config->path, best);
        return ctl_fail(c, EX_DATAERR, "%s: no agency or group \"%s\" in %s (see deadlinectl agencies)",
                        option, id, c->config->path);
}

int ctl_parse_task_id(const struct ctl *c, const char *s, int64_t *ret) {
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno != 0 || end == s || *end || v <= 0 || s[0] == '+' || s[0] == ' ')
                return ctl_fail(c, EX_USAGE, "\"%s\" is not a task id (a positive number, see deadlinectl list)", s);
        *ret = v;
        return 0;
}

int ctl_check_text(const struct ctl *c, const char *option, const char *s, size_t max, bool multiline,
                   char **ret_normalized) {
        utf8proc_uint8_t *nfc = NULL;
        utf8proc_ssize_t n;

        if (strlen(s) > max)
                return ctl_fail(c, EX_DATAERR, "%s: text is longer than %zu bytes", option, max);
        for (const unsigned char *p = (const unsigned char *) s; *p; p++)
                if ((*p < 0x20 && !(multiline && (*p == '\n' || *p == '\t'))) || *p == 0x7f)
                        return ctl_fail(c, EX_DATAERR, "%s: control character 0x%02x is not allowed here", option,
                                        *p);
        n = utf8proc_map((const utf8proc_uint8_t *) s, 0, &nfc, UTF8PROC_NULLTERM | UTF8PROC_STABLE |
                                                                      UTF8PROC_COMPOSE | UTF8PROC_REJECTNA);
        if (n < 0)
                return ctl_fail(c, EX_DATAERR, "%s: not valid UTF-8 text", option);
        *ret_normalized = (char *) nfc;
        return 0;
}

json_t *json_strv(char *const *l) {
        json_t *a = json_array();
        for (char *const *i = l; i && *i; i++)
                json_array_append_new(a, json_string(*i));
        return a;
}

int ctl_print_json(const struct ctl *c, json_t *j) {
        if (!j)
                return ctl_fail(c, EX_SOFTWARE, "out of memory building JSON");
        int r = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(j);
        if (r < 0 || fputc('\n', stdout) == EOF)
                return EX_IOERR;
        return 0;
}

void format_left(int64_t seconds, char *buf, size_t size) {
        int64_t a = seconds < 0 ? -seconds : seconds;
        int64_t d = a / SEC_PER_DAY, h = a % SEC_PER_DAY / SEC_PER_HOUR, m = a % SEC_PER_HOUR / SEC_PER_MIN;
        char span[32];

        if (a < SEC_PER_MIN) {
                snprintf(buf, size, "due now");
                return;
        }
        if (d > 0)
                snprintf(span, sizeof span, "%lldd %lldh", (long long) d, (long long) h);
        else if (h > 0)
                snprintf(span, sizeof span, "%lldh %lldm", (long long) h, (long long) m);
        else
                snprintf(span, sizeof span, "%lldm", (long long) m);
        if (seconds < 0)
                snprintf(buf, size, "%s overdue", span);
        else
                snprintf(buf, size, "in %s", span);
}

int ctl_common_option(struct ctl *c, int opt, char **argv) {
        switch (opt) {
        case CTL_ARG_JSON:
                c->json = true;
                return 1;
        case 'c':
                c->config_path = optarg;
                return 1;
        case 'h':
                return 1000 + ctl_fail(c, 0, "see deadlinectl --help or deadlinectl(1)");
        case '?':
        case ':':
                return 1000 + ctl_fail(c, EX_USAGE, "bad or incomplete option \"%s\"", argv[optind - 1]);
        }
        return 0;
}

/* For commands that take no arguments: only the options every command
 * takes. Returns 0 or an exit code. */
int ctl_no_arguments(struct ctl *c, int argc, char **argv) {
        static const struct option options[] = { CTL_COMMON_OPTIONS, {} };
        int opt;

        while ((opt = getopt_long(argc, argv, ":c:h", options, NULL)) >= 0) {
                int k = ctl_common_option(c, opt, argv);
                if (k >= 1000)
                        return k - 1000;
        }
        if (optind < argc)
                return ctl_fail(c, EX_USAGE, "unexpected argument \"%s\"", argv[optind]);
        return 0;
}

int cmd_agencies(struct ctl *c, int argc, char **argv) {
        _cleanup_(table_freep) struct table *t = NULL;
        int r;

        r = ctl_no_arguments(c, argc, argv);
        if (r == 0)
                r = ctl_load_config(c);
        if (r != 0)
                return r;

        if (c->json) {
                json_t *agencies = json_array(), *groups = json_array();
                for (size_t i = 0; i < c->config->n_agencies; i++) {
                        const struct agency *a = &c->config->agencies[i];
                        json_t *in = json_array();
                        for (size_t g = 0; g < c->config->n_groups; g++)
                                if (strv_contains(c->config->groups[g].members, a->id))
                                        json_array_append_new(in, json_string(c->config->groups[g].id));
                        json_array_append_new(agencies,
                                              json_pack("{s:s, s:s, s:o, s:o, s:o, s:o, s:i}", "id", a->id,
                                                        "name", a->name, "aliases", json_strv(a->aliases),
                                                        "email", json_strv(a->email), "cc", json_strv(a->cc),
                                                        "groups", in, "webhooks", (int) a->n_webhooks));
                }
                for (size_t i = 0; i < c->config->n_groups; i++) {
                        const struct group *g = &c->config->groups[i];
                        json_array_append_new(groups, json_pack("{s:s, s:s, s:o, s:o}", "id", g->id, "name",
                                                                g->name, "aliases", json_strv(g->aliases),
                                                                "members", json_strv(g->members)));
                }
                return ctl_print_json(c, json_pack("{s:o, s:o}", "agencies", agencies, "groups", groups));
        }

        r = table_new(4, &t);
        if (r < 0)
                return ctl_fail(c, EX_OSERR, "%s", strerror(-r));
        table_add(t, "ID"), table_add(t, "NAME"), table_add(t, "EMAIL"), table_add(t, "GROUPS");
        for (size_t i = 0; i < c->config->n_agencies; i++) {
                const struct agency *a = &c->config->agencies[i];
                char email[512] = "", groups[512] = "";
                size_t el = 0, gl = 0;

                for (char **e = a->email; e && *e && el < sizeof email; e++)
                        el += (size_t) snprintf(email + el, sizeof email - el, "%s%s", el ? ", " : "", *e);
                for (size_t g = 0; g < c->config->n_groups; g++)
                        for (char **m = c->config->groups[g].members; *m && gl < sizeof groups; m++)
                                if (streq(*m, a->id))
                                        gl += (size_t) snprintf(groups + gl, sizeof groups - gl, "%s%s",
                                                                gl ? ", " : "", c->config->groups[g].id);
                table_add(t, a->id), table_add(t, a->name), table_add(t, email), table_add(t, groups);
        }
        for (size_t g = 0; g < c->config->n_groups; g++) {
                const struct group *gr = &c->config->groups[g];
                char members[1024] = "";
                size_t ml = 0;
                for (char **m = gr->members; *m && ml < sizeof members; m++)
                        ml += (size_t) snprintf(members + ml, sizeof members - ml, "%s%s", ml ? ", " : "", *m);
                table_add(t, gr->id), table_add(t, gr->name), table_add(t, "(group)"), table_add(t, members);
        }
        r = table_print(t, stdout);
        return r < 0 ? EX_IOERR : 0;
}

int cmd_check_config(struct ctl *c, int argc, char **argv) {
        int r;

        r = ctl_no_arguments(c, argc, argv);
        if (r == 0)
                r = ctl_load_config(c);
        if (r != 0)
                return r;
        /* Tasks name agencies by id: an id the configuration lost would
         * silently stop their reminders. A server's database is always
         * there to ask. */
        if (store_database_is_server(c->config->database) || access(c->config->database, F_OK) >= 0) {
                _cleanup_strv_free_ char **ids = NULL;
                size_t missing = 0;
                r = ctl_open_store(c);
                if (r != 0)
                        return r;
                r = store_agency_ids(c->store, &ids);
                if (r < 0)
                        return ctl_store_fail(c, r, "cannot read the tasks' agencies");
                for (char **id = ids; *id; id++)
                        if (!config_id_exists(c->config, *id)) {
                                fprintf(stderr, "%s: open tasks name agency \"%s\", which is not in the "
                                        "configuration; they are not reminded\n", c->config->path, *id);
                                missing++;
                        }
                if (missing > 0)
                        return EX_CONFIG;
        }
        if (c->json)
                return ctl_print_json(c, json_pack("{s:b, s:s, s:I, s:I, s:s, s:s}", "ok", true, "config",
                                                   c->config->path, "agencies", (json_int_t) c->config->n_agencies,
                                                   "groups", (json_int_t) c->config->n_groups, "database",
                                                   c->config->database, "timezone", c->config->timezone));
        printf("%s: configuration OK: %zu agencies, %zu groups, database %s, time zone %s\n", c->config->path,
               c->config->n_agencies, c->config->n_groups, c->config->database, c->config->timezone);
        return 0;
}

int main(int argc, char **argv) {
        enum { ARG_JSON = 0x100, ARG_NOW, ARG_VERSION };
        static const struct option options[] = {
                { "config", required_argument, NULL, 'c' },
                { "json", no_argument, NULL, ARG_JSON },
                { "now", required_argument, NULL, ARG_NOW },
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                {},
        };
        struct ctl c = {
                .config_path = getenv("DEADLINED_CONFIG") ?: CONFIG_DEFAULT_PATH,
                .now = (int64_t) time(NULL),
        };
        int opt, r;

        log_setup(LOG_TARGET_CONSOLE, LOG_WARNING);
        opterr = 0;
        /* "+": global options stop at the command; the command parses the
         * rest, and accepts --json and --config too. */
        while ((opt = getopt_long(argc, argv, "+c:h", options, NULL)) >= 0) {
                switch (opt) {
                case 'c':
                        c.config_path = optarg;
                        break;
                case ARG_JSON:
                        c.json = true;
                        break;
                case ARG_NOW:
                        /* Checked now, read in the configured zone later. */
                        if (parse_instant(optarg, &c.now) < 0)
                                return ctl_fail(NULL, EX_USAGE, "--now: \"%s\" is not a time (use 2025-04-28T08:00)",
                                                optarg);
                        c.now_text = optarg;
                        break;
                case 'h':
                        help(stdout);
                        return 0;
                case ARG_VERSION:
                        printf("deadlinectl %s\n", VERSION);
                        return 0;
                default:
                        return ctl_fail(NULL, EX_USAGE, "unknown option \"%s\" (see deadlinectl --help)",
                                        argv[optind - 1]);
                }
        }
        if (optind >= argc) {
                help(stderr);
                return EX_USAGE;
        }

        const char *name = argv[optind];
        for (size_t i = 0; i < ELEMENTSOF(commands); i++) {
                if (!streq(commands[i].name, name))
                        continue;
                c.command = name;
                int sub_argc = argc - optind;
                char **sub_argv = argv + optind;
                optind = 0; /* a full getopt reset for the command's own options */
                r = commands[i].run(&c, sub_argc, sub_argv);
                store_close(c.store);
                config_free(c.config);
                free(c.user);
                return r;
        }
        return ctl_fail(NULL, EX_USAGE, "unknown command \"%s\" (see deadlinectl --help)", name);
}
