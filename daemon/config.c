/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <fcntl.h>
#include <libconfig.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "config-parse.h"
#include "mail-message.h"
#include "render.h"
#include "config.h"
#include "timeutil.h"
#include "workcal.h"

#define DEFAULT_DATABASE "/var/lib/deadlined/deadlined.db"
#define DEFAULT_TIMEZONE "Asia/Ho_Chi_Minh"
#define DEFAULT_FROM "deadlined@localhost"
#define CREDENTIAL_SMTP_PASSWORD "smtp-password"
#define CREDENTIAL_DATABASE_PASSWORD "database-password"

#define REMIND_BEFORE_MAX 32
#define ESCALATION_MAX 32
#define ESCALATION_TO_MAX 1000
#define REPORT_TO_MAX 100
#define YEAR_SECONDS (366 * SEC_PER_DAY)

static const char *const language_table[_LANGUAGE_MAX] = {
        [LANGUAGE_VI] = "vi",
        [LANGUAGE_EN] = "en",
};

static const char *const webhook_format_table[_WEBHOOK_FORMAT_MAX] = {
        [WEBHOOK_JSON] = "json",
        [WEBHOOK_SLACK] = "slack",
        [WEBHOOK_NTFY] = "ntfy",
        [WEBHOOK_TELEGRAM] = "telegram",
        [WEBHOOK_TEMPLATE] = "template",
};

const char *language_to_string(enum language l) {
        return l >= 0 && l < _LANGUAGE_MAX ? language_table[l] : NULL;
}

int language_from_string(const char *s) {
        for (int i = 0; s && i < _LANGUAGE_MAX; i++)
                if (streq(language_table[i], s))
                        return i;
        return -EINVAL;
}

const char *webhook_format_to_string(enum webhook_format f) {
        return f >= 0 && f < _WEBHOOK_FORMAT_MAX ? webhook_format_table[f] : NULL;
}

int webhook_format_from_string(const char *s) {
        for (int i = 0; s && i < _WEBHOOK_FORMAT_MAX; i++)
                if (streq(webhook_format_table[i], s))
                        return i;
        return -EINVAL;
}

struct config *config_free(struct config *c) {
        if (!c)
                return NULL;
        free(c->path);
        free(c->dir);
        free(c->database);
        free(c->timezone);
        free(c->maildir);
        free(c->from);
        free(c->from_name);
        free(c->from_address);
        free(c->reply_name);
        free(c->reply_address);
        free(c->base_url);
        free(c->calendar_dir);
        free(c->templates);
        render_templates_free(c->render);
        free(c->policy.remind_before);
        for (size_t i = 0; i < c->policy.n_escalation; i++)
                strv_free(c->policy.escalation[i].to);
        free(c->policy.escalation);
        strv_free(c->policy.report_to);
        workcal_free(c->policy.calendar);
        free(c->policy.holidays);
        free(c->policy.extra_workdays);
        free(c->holidays_added);
        free(c->holidays_removed);
        free(c->workdays_added);
        free(c->smtp.url);
        free(c->smtp.username);
        if (c->database_password) {
                explicit_bzero(c->database_password, strlen(c->database_password));
                free(c->database_password);
        }
        if (c->smtp.password) {
                explicit_bzero(c->smtp.password, strlen(c->smtp.password));
                free(c->smtp.password);
        }
        free(c->smtp.from);
        free(c->smtp.reply_to);
        free(c->smtp.ca_file);
        config_inbox_done(&c->inbox);
        for (size_t i = 0; i < c->n_agencies; i++)
                agency_done(&c->agencies[i]);
        free(c->agencies);
        for (size_t i = 0; i < c->n_groups; i++)
                group_done(&c->groups[i]);
        free(c->groups);
        free(c->ids);
        free(c);
        return NULL;
}

/* Every default in one place; the parsers only overwrite what is set. */
static int config_new(struct config **ret) {
        static const int64_t remind_before[] = { 7 * SEC_PER_DAY, 3 * SEC_PER_DAY, SEC_PER_DAY, 0 };
        _cleanup_(config_freep) struct config *c = calloc(1, sizeof *c);

        if (!c)
                return -ENOMEM;
        c->language = LANGUAGE_VI;
        c->policy = (struct policy) {
                .send_at = 8 * 60,
                .overdue_every = SEC_PER_DAY,
                .notify_on_assign = true,
                .workdays = 0x3e, /* Monday to Friday */
        };
        c->policy.remind_before = malloc(sizeof remind_before);
        if (!c->policy.remind_before)
                return -ENOMEM;
        memcpy(c->policy.remind_before, remind_before, sizeof remind_before);
        c->policy.n_remind_before = ELEMENTSOF(remind_before);
        c->delivery = (struct delivery_policy) {
                .retry_min = 5 * SEC_PER_MIN,
                .retry_max = SEC_PER_HOUR,
                .max_retry_age = 2 * SEC_PER_DAY,
        };
        c->smtp = (struct smtp) {
                .max_connections = 4,
                .connect_timeout = 30,
                .timeout = 5 * SEC_PER_MIN,
        };
        c->inbox = (struct inbox) {
                .poll_every = 5 * SEC_PER_MIN,
                .pause_reminders = true,
                .max_size = INBOX_MAX_SIZE_DEFAULT,
                .connect_timeout = 30,
                .timeout = 5 * SEC_PER_MIN,
        };
        *ret = TAKE_PTR(c);
        return 0;
}

static int cmp_int64_desc(const void *a, const void *b) {
        int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
        return (x < y) - (x > y);
}

static int cmp_escalation(const void *a, const void *b) {
        const struct escalation *x = a, *y = b;
        int64_t ax = duration_approx_seconds(x->after), ay = duration_approx_seconds(y->after);
        return (ax > ay) - (ax < ay);
}

static void parse_remind_before(struct parser *p, const config_setting_t *g, struct policy *pol) {
        _cleanup_strv_free_ char **l = NULL;
        config_setting_t *list;
        char path[SETTING_PATH_MAX], q[QUOTE_MAX], q2[QUOTE_MAX];
        int64_t *v;
        size_t n;

        if (parser_get_strv(p, g, "schedule", "remind_before", REMIND_BEFORE_MAX, 32, parser_check_offset, &l,
                            &list) <= 0)
                return;
        n = strv_length(l);
        v = calloc(n + 1, sizeof *v);
        if (!v) {
                p->oom = true;
                return;
        }
        free(pol->remind_before);
        pol->remind_before = v;
        pol->n_remind_before = n;
        for (size_t i = 0; i < n; i++) {
                (void) parse_offset(l[i], &v[i]);
                parser_path_elem(path, "schedule.remind_before", i);
                if (!duration_is_workdays(v[i]) && v[i] > YEAR_SECONDS)
                        parser_error(p, parser_setting_elem(list, i), path, "%s is too long (at most 366d)",
                                     parser_quote(l[i], q, sizeof q));
                for (size_t j = 0; j < i; j++)
                        if (v[j] == v[i]) {
                                parser_error(p, parser_setting_elem(list, i), path, "%s is the same as %s",
                                             parser_quote(l[i], q, sizeof q), parser_quote(l[j], q2, sizeof q2));
                                break;
                        }
        }
        qsort(v, n, sizeof *v, cmp_int64_desc);
}

static void parse_escalation(struct parser *p, const config_setting_t *g, const struct config *c,
                             struct policy *pol) {
        static const char *const keys[] = { "after", "to", NULL };
        config_setting_t *list = config_setting_get_member(g, "escalation");
        char path[SETTING_PATH_MAX], epath[SETTING_PATH_MAX], q[QUOTE_MAX];
        bool after_ok[ESCALATION_MAX] = {};
        size_t n;

        if (!list)
                return;
        if (config_setting_type(list) != CONFIG_TYPE_LIST &&
            !(config_setting_type(list) == CONFIG_TYPE_ARRAY && config_setting_length(list) == 0)) {
                parser_error(p, list, "schedule.escalation",
                             "must be a list ( { after = \"3d\"; to = [\"id\"]; }, … )");
                return;
        }
        n = (size_t) config_setting_length(list);
        if (n > ESCALATION_MAX) {
                parser_error(p, list, "schedule.escalation", "has %zu levels, more than the %d allowed", n,
                             ESCALATION_MAX);
                return;
        }
        if (n == 0)
                return;
        pol->escalation = calloc(n, sizeof *pol->escalation);
        if (!pol->escalation) {
                p->oom = true;
                return;
        }
        pol->n_escalation = n;
        for (size_t i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(list, (unsigned) i);
                struct escalation *esc = &pol->escalation[i];
                config_setting_t *to;
                char tpath[SETTING_PATH_MAX];
                int r;

                parser_path_elem(path, "schedule.escalation", i);
                if (config_setting_type(e) != CONFIG_TYPE_GROUP) {
                        parser_error(p, e, path, "must be a group { after = \"3d\"; to = [\"id\"]; }");
                        continue;
                }
                parser_check_keys(p, e, path, keys);
                r = parser_get_offset(p, e, path, "after", YEAR_SECONDS, &esc->after);
                if (r == 0)
                        parser_error(p, e, parser_path_member(epath, path, "after"), "missing (e.g. after = \"3d\";)");
                after_ok[i] = r > 0;
                for (size_t j = 0; after_ok[i] && j < i; j++)
                        if (after_ok[j] && pol->escalation[j].after == esc->after) {
                                parser_error(p, config_setting_get_member(e, "after"),
                                             parser_path_member(epath, path, "after"),
                                             "same delay as schedule.escalation[%zu]; merge the two levels", j);
                                break;
                        }

                parser_path_member(tpath, path, "to");
                r = parser_get_strv(p, e, path, "to", ESCALATION_TO_MAX, 64, parser_check_id, &esc->to, &to);
                if (r == 0)
                        parser_error(p, e, tpath, "missing (e.g. to = [\"vpubnd\"];)");
                if (r <= 0)
                        continue;
                if (!esc->to[0])
                        parser_error(p, to, tpath, "must name at least one agency or group");
                for (size_t j = 0; esc->to[j]; j++)
                        if (!config_id_exists(c, esc->to[j]))
                                parser_error(p, parser_setting_elem(to, j), parser_path_elem(epath, tpath, j),
                                             "%s is not an agency or group id", parser_quote(esc->to[j], q, sizeof q));
        }
        qsort(pol->escalation, n, sizeof *pol->escalation, cmp_escalation);
}

static void parse_workdays(struct parser *p, const config_setting_t *g, struct policy *pol) {
        _cleanup_strv_free_ char **l = NULL;
        config_setting_t *list;
        char epath[SETTING_PATH_MAX], q[QUOTE_MAX];
        unsigned mask = 0;

        if (parser_get_strv(p, g, "schedule", "workdays", 7, 16, parser_check_weekday, &l, &list) <= 0)
                return;
        if (!l[0]) {
                parser_error(p, list, "schedule.workdays", "must list at least one day");
                return;
        }
        for (size_t i = 0; l[i]; i++) {
                unsigned bit = 1u << parse_weekday(l[i]);
                if (mask & bit)
                        parser_error(p, parser_setting_elem(list, i), parser_path_elem(epath, "schedule.workdays", i),
                                     "%s is listed twice", parser_quote(l[i], q, sizeof q));
                mask |= bit;
        }
        pol->workdays = mask;
}

static const char *send_at_check(const char *s) {
        int m;

        if (streq(s, "none") || parse_hhmm(s, &m) >= 0)
                return NULL;
        return "is not a time of day (use \"HH:MM\" from \"00:00\" to \"23:59\", or \"none\")";
}

/* "0" (no unit) turns overdue repeats off. */
static const char *overdue_check(const char *s) {
        return streq(s, "0") ? NULL : parser_check_duration(s);
}

static const char *report_every_check(const char *s) {
        return streq(s, "never") || streq(s, "weekly") || streq(s, "monthly")
                       ? NULL
                       : "must be \"monthly\", \"weekly\" or \"never\"";
}

/* report_every and report_to: the e-mailed compliance report. */
static void parse_report(struct parser *p, const config_setting_t *g, const struct config *c, struct policy *pol) {
        _cleanup_free_ char *every = NULL;
        config_setting_t *to;
        char epath[SETTING_PATH_MAX], q[QUOTE_MAX];

        if (parser_get_string(p, g, "schedule", "report_every", 16, report_every_check, &every) > 0)
                pol->report_every = streq(every, "weekly")    ? REPORT_WEEKLY
                                    : streq(every, "monthly") ? REPORT_MONTHLY
                                                              : REPORT_NEVER;
        if (parser_get_strv(p, g, "schedule", "report_to", REPORT_TO_MAX, 64, parser_check_id, &pol->report_to,
                            &to) <= 0)
                return;
        for (size_t j = 0; pol->report_to[j]; j++) {
                const struct agency *a = config_find_agency(c, pol->report_to[j]);
                if (!a)
                        parser_error(p, parser_setting_elem(to, j),
                                     parser_path_elem(epath, "schedule.report_to", j), "%s is not an agency id",
                                     parser_quote(pol->report_to[j], q, sizeof q));
                else if (strv_length(a->email) + strv_length(a->cc) == 0)
                        /* The report goes by e-mail only. */
                        parser_error(p, parser_setting_elem(to, j),
                                     parser_path_elem(epath, "schedule.report_to", j),
                                     "agency %s has no e-mail address for the report",
                                     parser_quote(pol->report_to[j], q, sizeof q));
        }
}

static void parse_schedule(struct parser *p, const config_setting_t *root, struct config *c) {
        static const char *const keys[] = { "remind_before", "overdue_every", "escalation", "send_at",
                                            "workdays",      "holidays",      "extra_workdays", "not_holidays",
                                            "digest",        "notify_on_assign", "report_every", "report_to",
                                            NULL };
        struct policy *pol = &c->policy;
        config_setting_t *g;
        _cleanup_free_ char *send_at = NULL, *overdue = NULL;
        int64_t every;

        if (parser_get_group(p, root, "", "schedule", &g) <= 0)
                return;
        parser_check_keys(p, g, "schedule", keys);
        parse_remind_before(p, g, pol);
        if (parser_get_string(p, g, "schedule", "overdue_every", 32, overdue_check, &overdue) > 0) {
                every = 0;
                (void) parse_duration(overdue, &every);
                /* Repeating faster than hourly would flood every overdue agency. */
                if (every > 0 && every < SEC_PER_HOUR)
                        parser_error(p, config_setting_get_member(g, "overdue_every"),
                                     "schedule.overdue_every", "is too short (at least 1h, or \"0\" for no repeats)");
                else if (every > YEAR_SECONDS)
                        parser_error(p, config_setting_get_member(g, "overdue_every"),
                                     "schedule.overdue_every", "is too long (at most 366d)");
                pol->overdue_every = every;
        }
        parse_escalation(p, g, c, pol);
        if (parser_get_string(p, g, "schedule", "send_at", 16, send_at_check, &send_at) > 0) {
                if (streq(send_at, "none"))
                        pol->send_at = -1;
                else
                        (void) parse_hhmm(send_at, &pol->send_at);
        }
        parse_workdays(p, g, pol);
        (void) parser_get_bool(p, g, "schedule", "digest", &pol->digest);
        (void) parser_get_bool(p, g, "schedule", "notify_on_assign", &pol->notify_on_assign);
        parse_report(p, g, c, pol);
}

static void parse_delivery(struct parser *p, const config_setting_t *root, struct config *c) {
        static const char *const keys[] = { "retry_min", "retry_max", "max_retry_age", NULL };
        struct delivery_policy *d = &c->delivery;
        config_setting_t *g;
        int r1, r2;

        if (parser_get_group(p, root, "", "delivery", &g) <= 0)
                return;
        parser_check_keys(p, g, "delivery", keys);
        r1 = parser_get_duration(p, g, "delivery", "retry_min", 1, SEC_PER_DAY, &d->retry_min);
        r2 = parser_get_duration(p, g, "delivery", "retry_max", 1, SEC_PER_DAY, &d->retry_max);
        (void) parser_get_duration(p, g, "delivery", "max_retry_age", SEC_PER_MIN, 30 * SEC_PER_DAY, &d->max_retry_age);
        if (r1 >= 0 && r2 >= 0 && d->retry_min > d->retry_max) {
                char min[32], max[32];
                format_duration(d->retry_min, min, sizeof min);
                format_duration(d->retry_max, max, sizeof max);
                parser_error(p, config_setting_get_member(g, r2 > 0 ? "retry_max" : "retry_min"),
                             r2 > 0 ? "delivery.retry_max" : "delivery.retry_min",
                             "retry_max (%s) is shorter than retry_min (%s)", max, min);
        }
}

/* A PostgreSQL database's password: database_password_file, or the
 * credential "database-password" (LoadCredential=database-password in the
 * service; systemd's credential store outside it, when this user may read
 * it). Neither: libpq's own ~/.pgpass or PGPASSFILE. */
static void parse_database_password(struct parser *p, const config_setting_t *root, struct config *c) {
        const char *creds = getenv("CREDENTIALS_DIRECTORY");
        _cleanup_free_ char *file = NULL;
        bool server = c->database && c->database[0] != '/';
        int r;

        r = parser_get_secret_file(p, root, "", "database_password_file", &c->database_password);
        if (r > 0 && !server) {
                parser_error(p, config_setting_get_member(root, "database_password_file"), "database_password_file",
                             "is for a PostgreSQL database; database is a file");
                return;
        }
        if (r != 0 || !server)
                return;
        if (creds && *creds) {
                if (asprintf(&file, "%s/%s", creds, CREDENTIAL_DATABASE_PASSWORD) < 0) {
                        p->oom = true;
                        return;
                }
        } else {
                static const char *const stores[] = { "/run/credstore/" CREDENTIAL_DATABASE_PASSWORD,
                                                      "/etc/credstore/" CREDENTIAL_DATABASE_PASSWORD };
                for (size_t i = 0; i < ELEMENTSOF(stores) && !file; i++)
                        if (access(stores[i], R_OK) >= 0 && !(file = strdup(stores[i])))
                                p->oom = true;
        }
        if (file && access(file, F_OK) >= 0)
                (void) parser_read_secret(p, root, "database", file, false, &c->database_password);
}

int config_read_password(struct parser *p, const config_setting_t *g, const char *path, const char *credential,
                         char **password, bool *unreadable) {
        const char *creds = getenv("CREDENTIALS_DIRECTORY");
        _cleanup_free_ char *file = NULL;
        int r;

        r = parser_get_secret_file(p, g, path, "password_file", password);
        if (r < 0)
                return r;
        /* systemd's LoadCredential= puts the secret where only this service
         * can read it, so its mode says nothing and is not checked. */
        if (r == 0 && creds && *creds) {
                if (asprintf(&file, "%s/%s", creds, credential) < 0) {
                        p->oom = true;
                        return -ENOMEM;
                }
                if (access(file, F_OK) >= 0 && parser_read_secret(p, g, path, file, false, password) < 0)
                        return -EINVAL;
        }
        /* Outside the service (deadlinectl, check-config) the credential is
         * where LoadCredential= finds it: in systemd's credential store. Read
         * it if this user may; if not, it is still there for the service,
         * which is all a check needs to know. */
        if (r == 0 && !*password && !(creds && *creds)) {
                const char *const stores[] = { "/run/credstore/", "/etc/credstore/" };
                for (size_t i = 0; i < ELEMENTSOF(stores) && !*password; i++) {
                        _cleanup_free_ char *f = NULL;

                        if (asprintf(&f, "%s%s", stores[i], credential) < 0) {
                                p->oom = true;
                                return -ENOMEM;
                        }
                        if (access(f, F_OK) < 0)
                                continue;
                        if (access(f, R_OK) < 0) {
                                *unreadable = true;
                                break;
                        }
                        if (parser_read_secret(p, g, path, f, false, password) < 0)
                                return -EINVAL;
                }
        }
        return r;
}

static void parse_smtp_password(struct parser *p, const config_setting_t *g, struct smtp *smtp) {
        int r;

        r = config_read_password(p, g, "smtp", CREDENTIAL_SMTP_PASSWORD, &smtp->password, &smtp->password_unreadable);
        if (r < 0)
                return;
        if (smtp->password_unreadable)
                return;
        if (smtp->password && !smtp->username)
                parser_error(p, g, "smtp.username", "missing: a password is set (%s) but no user name",
                             r > 0 ? "password_file" : "credential " CREDENTIAL_SMTP_PASSWORD);
        else if (!smtp->password && smtp->username)
                parser_error(p, config_setting_get_member(g, "username"), "smtp.username",
                             "is set but there is no password (set password_file, or the credential "
                             CREDENTIAL_SMTP_PASSWORD ")");
}

static void parse_smtp(struct parser *p, const config_setting_t *root, struct config *c) {
        static const char *const keys[] = { "url", "username", "password_file", "from", "reply_to", "ca_file",
                                            "allow_plaintext", "allow_plaintext_remote", "max_connections",
                                            "connect_timeout", "timeout", NULL };
        static const char *const schemes[] = { "smtp", "smtps", NULL };
        struct smtp *smtp = &c->smtp;
        config_setting_t *g;
        struct stat st;

        if (parser_get_group(p, root, "", "smtp", &g) <= 0)
                return;
        c->has_smtp = true;
        parser_check_keys(p, g, "smtp", keys);

        if (parser_get_url(p, g, "smtp", "url", schemes, NULL, &smtp->url) == 0)
                parser_error(p, g, "smtp.url", "missing (e.g. url = \"smtps://mail.example.org:465\";)");

        (void) parser_get_string(p, g, "smtp", "username", 254, NULL, &smtp->username);
        parse_smtp_password(p, g, smtp);

        if (parser_get_string(p, g, "smtp", "from", CONFIG_STRING_MAX, parser_check_mailbox, &smtp->from) == 0)
                parser_error(p, g, "smtp.from", "missing (e.g. from = \"Nhắc việc <nhacviec@example.gov.vn>\";)");
        (void) parser_get_string(p, g, "smtp", "reply_to", CONFIG_STRING_MAX, parser_check_mailbox, &smtp->reply_to);

        if (parser_get_path(p, g, "smtp", "ca_file", &smtp->ca_file) > 0) {
                if (stat(smtp->ca_file, &st) < 0 || access(smtp->ca_file, R_OK) < 0)
                        parser_error(p, config_setting_get_member(g, "ca_file"), "smtp.ca_file", "%s: %s",
                                     smtp->ca_file, strerror(errno));
                else if (!S_ISREG(st.st_mode))
                        parser_error(p, config_setting_get_member(g, "ca_file"), "smtp.ca_file",
                                     "%s is not a regular file", smtp->ca_file);
        }

        /* Whether smtp:// without STARTTLS is acceptable is decided when
         * sending; here only the combination that can never make sense. */
        (void) parser_get_bool(p, g, "smtp", "allow_plaintext", &smtp->allow_plaintext);
        if (parser_get_bool(p, g, "smtp", "allow_plaintext_remote", &smtp->allow_plaintext_remote) > 0 &&
            smtp->allow_plaintext_remote && !smtp->allow_plaintext)
                parser_error(p, config_setting_get_member(g, "allow_plaintext_remote"),
                             "smtp.allow_plaintext_remote", "needs allow_plaintext = true as well");

        (void) parser_get_int(p, g, "smtp", "max_connections", 1, 64, &smtp->max_connections);
        (void) parser_get_duration(p, g, "smtp", "connect_timeout", 1, 10 * SEC_PER_MIN, &smtp->connect_timeout);
        (void) parser_get_duration(p, g, "smtp", "timeout", 1, SEC_PER_HOUR, &smtp->timeout);
}

static const char *timezone_check(const char *s) {
        return timezone_exists(s) ? NULL : "is not a known time zone (an IANA name such as \"Asia/Ho_Chi_Minh\")";
}

static const char *language_check(const char *s) {
        return language_from_string(s) >= 0 ? NULL : "is not a supported language (use \"vi\" or \"en\")";
}

static const char *transport_check(const char *s) {
        if (streq(s, "smtp") || streq(s, "maildir") || (strncmp(s, "maildir:", 8) == 0 && s[8]))
                return NULL;
        return "is not a transport (use \"smtp\" or \"maildir:/path/to/folder\")";
}

static int path_dirname(const char *path, char **ret) {
        _cleanup_free_ char *copy = strdup(path);
        char *d;

        if (!copy)
                return -ENOMEM;
        d = strdup(dirname(copy));
        if (!d)
                return -ENOMEM;
        *ret = d;
        return 0;
}

/* The settings that stand alone at the top of the file, and how transport
 * and sender follow from them and from the presence of an smtp group. */
/* Splits a sender as messages write it. parser_check_mailbox() accepted it; what
 * a message cannot carry (a display name over MAIL_NAME_MAX bytes) is said
 * here rather than by every reminder failing to be composed. */
static void split_sender(struct parser *p, const config_setting_t *root, const char *setting, const char *value,
                         char **ret_name, char **ret_address) {
        int r = mail_address_parse(value, ret_name, ret_address);

        if (r == -ENOMEM)
                p->oom = true;
        else if (r < 0)
                parser_error(p, config_setting_lookup((config_setting_t *) root, setting) ?: root, setting,
                             "cannot be used as the sender of a message (a display name of "
                             "at most %d bytes and an address)", MAIL_NAME_MAX);
}

static void parse_toplevel(struct parser *p, const config_setting_t *root, struct config *c) {
        static const char *const http[] = { "http", "https", NULL };
        _cleanup_free_ char *language = NULL, *transport = NULL, *from = NULL, *database = NULL;
        const config_setting_t *s;
        struct stat st;
        int r;

        /* A libpq URI names a PostgreSQL database and is kept as it is
         * (store.h); anything else is an SQLite file, relative to the
         * configuration's folder. */
        r = parser_get_string(p, root, "", "database", PATH_MAX - 1, NULL, &database);
        if (r > 0 && (strncmp(database, "postgresql://", 13) == 0 || strncmp(database, "postgres://", 11) == 0)) {
                /* Secrets come from files or credentials, never from a
                 * setting that is shown in messages. */
                const char *authority = strstr(database, "://") + 3;
                size_t n = strcspn(authority, "/?");
                const char *at = memchr(authority, '@', n);

                if ((at && memchr(authority, ':', at - authority)) || strstr(database, "password="))
                        parser_error(p, config_setting_get_member(root, "database"), "database",
                                     "must not hold a password: set database_password_file, the credential "
                                     CREDENTIAL_DATABASE_PASSWORD ", or ~/.pgpass");
                c->database = TAKE_PTR(database);
        }
        else if (parser_get_path(p, root, "", "database", &c->database) == 0 &&
                 !(c->database = strdup(DEFAULT_DATABASE)))
                p->oom = true;
        parse_database_password(p, root, c);
        if (parser_get_string(p, root, "", "timezone", 255, timezone_check, &c->timezone) == 0 &&
            !(c->timezone = strdup(DEFAULT_TIMEZONE)))
                p->oom = true;
        if (parser_get_string(p, root, "", "language", 8, language_check, &language) > 0)
                c->language = language_from_string(language);

        r = parser_get_string(p, root, "", "transport", PATH_MAX, transport_check, &transport);
        s = config_setting_get_member(root, "transport");
        if (r > 0 && streq(transport, "smtp")) {
                c->transport = TRANSPORT_SMTP;
                if (!c->has_smtp)
                        parser_error(p, s, "transport", "is \"smtp\" but there is no smtp group");
        } else if (r > 0 && transport[7] == ':') {
                c->transport = TRANSPORT_MAILDIR;
                if (transport[8] == '/')
                        c->maildir = strdup(transport + 8);
                else if (asprintf(&c->maildir, "%s/%s", c->dir, transport + 8) < 0)
                        c->maildir = NULL;
                if (!c->maildir)
                        p->oom = true;
        } else if (r == 0 && c->has_smtp)
                c->transport = TRANSPORT_SMTP;
        else
                c->transport = TRANSPORT_MAILDIR;
        if (c->transport == TRANSPORT_MAILDIR && !c->maildir && c->database && c->database[0] != '/') {
                /* A PostgreSQL database has no folder: the configuration's. */
                if (asprintf(&c->maildir, "%s/maildir", c->dir) < 0) {
                        c->maildir = NULL;
                        p->oom = true;
                }
        } else if (c->transport == TRANSPORT_MAILDIR && !c->maildir && c->database) {
                _cleanup_free_ char *dir = NULL;
                if (path_dirname(c->database, &dir) < 0 ||
                    asprintf(&c->maildir, "%s/maildir", streq(dir, "/") ? "" : dir) < 0) {
                        c->maildir = NULL;
                        p->oom = true;
                }
        }

        /* One sender for every transport: with an smtp group it is
         * smtp.from, and a second, top-level one would only be ignored. */
        r = parser_get_string(p, root, "", "from", CONFIG_STRING_MAX, parser_check_mailbox, &from);
        if (r > 0 && c->has_smtp)
                parser_error(p, config_setting_get_member(root, "from"), "from",
                             "is not used when there is an smtp group; set smtp.from instead");
        c->from = strdup(c->has_smtp ? strempty(c->smtp.from) : r > 0 ? from : DEFAULT_FROM);
        if (!c->from)
                p->oom = true;
        else if (*c->from)
                split_sender(p, root, c->has_smtp ? "smtp.from" : "from", c->from, &c->from_name, &c->from_address);
        if (c->has_smtp && c->smtp.reply_to)
                split_sender(p, root, "smtp.reply_to", c->smtp.reply_to, &c->reply_name, &c->reply_address);

        if (parser_get_url(p, root, "", "base_url", http, NULL, &c->base_url) > 0) {
                /* Links are built as base_url + "/…". */
                for (size_t n = strlen(c->base_url); n > 0 && c->base_url[n - 1] == '/'; n--)
                        c->base_url[n - 1] = 0;
        }
        (void) parser_get_path(p, root, "", "calendar_dir", &c->calendar_dir);
        if (parser_get_path(p, root, "", "templates", &c->templates) > 0) {
                if (stat(c->templates, &st) < 0)
                        parser_error(p, config_setting_get_member(root, "templates"), "templates", "%s: %s",
                                     c->templates, strerror(errno));
                else if (!S_ISDIR(st.st_mode))
                        parser_error(p, config_setting_get_member(root, "templates"), "templates",
                                     "%s is not a folder", c->templates);
        }
}

/* What libconfig cannot be trusted with: it stops silently at a NUL byte,
 * reading only part of the file, and it follows @include to any path,
 * exiting the whole process on some errors in the included file. */
static void check_text(struct parser *p, const char *text, size_t size) {
        unsigned line = 1;
        bool line_start = true, nul = false;

        for (size_t i = 0; i < size; i++) {
                char ch = text[i];

                if (ch == 0) {
                        if (!nul)
                                parser_error_at(p, line, NULL, "contains a NUL byte; is this a text file?");
                        nul = true;
                } else if (ch == '\n') {
                        line++;
                        line_start = true;
                } else if (line_start && strchr(" \t\r\f\v", ch))
                        continue;
                else {
                        if (line_start && size - i >= 8 && memcmp(text + i, "@include", 8) == 0)
                                parser_error_at(p, line, NULL,
                                                "@include is not supported; keep the whole configuration in this file");
                        line_start = false;
                }
        }
}

static int file_error(const char *path, int r, const char *msg, char **ret_errors) {
        if (ret_errors && asprintf(ret_errors, "%s: %s\n", path, msg ? msg : strerror(-r)) < 0)
                *ret_errors = NULL;
        return r;
}

/* Refuses anything but a regular file of sane size: a FIFO or /dev/zero
 * in its place must neither hang nor exhaust memory. */
static int read_config_file(const char *path, char **ret_text, size_t *ret_size, char **ret_errors) {
        _cleanup_close_ int fd = -EBADF;
        struct stat st;
        int r;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0 || fstat(fd, &st) < 0)
                return file_error(path, -errno, NULL, ret_errors);
        if (S_ISDIR(st.st_mode))
                return file_error(path, -EISDIR, NULL, ret_errors);
        if (!S_ISREG(st.st_mode))
                return file_error(path, -EINVAL, "not a regular file", ret_errors);
        r = parser_read_all(fd, CONFIG_MAX_SIZE, ret_text, ret_size);
        if (r == -EFBIG) {
                char msg[64];
                snprintf(msg, sizeof msg, "larger than %d bytes", CONFIG_MAX_SIZE);
                return file_error(path, r, msg, ret_errors);
        }
        if (r < 0)
                return file_error(path, r, NULL, ret_errors);
        return 0;
}

/* The file's absolute name and folder. The folder is resolved (so that
 * "../x" means what it says), the file name is kept. */
static int make_absolute(const char *path, char **ret_path, char **ret_dir) {
        _cleanup_free_ char *a = strdup(path), *b = strdup(path), *dir = NULL;
        char *abs;

        if (!a || !b)
                return -ENOMEM;
        dir = realpath(dirname(a), NULL);
        if (!dir)
                return -errno;
        if (asprintf(&abs, "%s/%s", streq(dir, "/") ? "" : dir, basename(b)) < 0)
                return -ENOMEM;
        *ret_path = abs;
        *ret_dir = TAKE_PTR(dir);
        return 0;
}

static int invalid(struct parser *p, char **ret_errors) {
        _cleanup_free_ char *errors = NULL;
        int r;

        r = parser_join_errors(p, &errors);
        if (r < 0)
                return r;
        if (ret_errors)
                *ret_errors = TAKE_PTR(errors);
        return -EINVAL;
}

int config_load(const char *path, struct config **ret, char **ret_errors) {
        static const char *const keys[] = { "database", "database_password_file", "timezone", "language", "transport", "from",
                                            "base_url", "templates", "calendar", "schedule", "delivery",
                                            "smtp", "agencies", "groups", "calendar_dir",
                                            "inbox", NULL };
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_(parser_done) struct parser p = { .file = path };
        _cleanup_free_ char *text = NULL;
        const config_setting_t *root;
        const char *start;
        config_t lc;
        size_t size;
        int r;

        if (ret_errors)
                *ret_errors = NULL;
        r = read_config_file(path, &text, &size, ret_errors);
        if (r < 0)
                return r;
        r = config_new(&c);
        if (r < 0)
                return r;
        r = make_absolute(path, &c->path, &c->dir);
        if (r < 0)
                return file_error(path, r, NULL, ret_errors);
        p.dir = c->dir;

        check_text(&p, text, size);
        if (parser_failed(&p))
                goto invalid;
        /* A byte order mark from a Windows editor is harmless; skip it. */
        start = size >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0 ? text + 3 : text;

        config_init(&lc);
        if (!config_read_string(&lc, start)) {
                parser_error_at(&p, (unsigned) MAX(config_error_line(&lc), 0), NULL, "%s",
                                config_error_text(&lc) ?: "syntax error");
                config_destroy(&lc);
                goto invalid;
        }
        root = config_root_setting(&lc);
        parser_check_keys(&p, root, "", keys);
        /* Agencies and groups first: the schedule names them. */
        config_parse_agencies(&p, root, c);
        config_parse_groups(&p, root, c);
        r = config_build_index(&p, root, c);
        if (r >= 0) {
                parse_schedule(&p, root, c);
                /* After the schedule: compensatory days need its workdays. */
                config_parse_calendar(&p, root, c);
                parse_delivery(&p, root, c);
                parse_smtp(&p, root, c);
                config_parse_inbox(&p, root, c);
                parse_toplevel(&p, root, c);
        }
        const config_setting_t *tpl = config_setting_get_member(root, "templates");
        unsigned templates_line = tpl ? (unsigned) config_setting_source_line(tpl) : 0;
        config_destroy(&lc);
        if (r < 0)
                return r;
        if (parser_failed(&p))
                goto invalid;
        r = config_templates_load(&p, templates_line, c);
        if (r < 0)
                return r;
        if (!parser_failed(&p))
                config_webhook_bodies_check(&p, c);
        if (parser_failed(&p))
                goto invalid;
        *ret = TAKE_PTR(c);
        return 0;

invalid:
        return invalid(&p, ret_errors);
}

int config_apply_timezone(const struct config *c) {
        return timezone_set(c->timezone);
}
