/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The configuration: libconfig text -> a validated, immutable struct config.
 *
 * Loading is parse -> validate everything -> return. Every problem found is
 * collected (not just the first), each as one line "FILE:LINE: SETTING: what
 * is wrong"; if there is any, nothing is returned. Unknown settings are
 * errors, so a typo never silently becomes a default. Secrets are read only
 * from *_file settings or $CREDENTIALS_DIRECTORY, and a secret file that the
 * group or others can read is refused. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "holiday.h"
#include "macro.h"
#include "paths.h"      /* SYSCONFDIR and DATADIR, written by the Makefile */

#define CONFIG_DEFAULT_PATH SYSCONFDIR "/deadlined/deadlined.conf"
#define CONFIG_MAX_SIZE (1024 * 1024)
/* How many agencies a configuration may list (and a group name as members),
 * and how many addresses an agency's email and its cc may list, each. How
 * many addresses one message carries is mail-message.h's
 * MAIL_RECIPIENTS_MAX; how many agencies one task names, store.h's
 * TASK_AGENCIES_MAX. */
#define CONFIG_AGENCIES_MAX 10000
#define CONFIG_ADDRESSES_MAX 1000

enum language {
        LANGUAGE_VI,
        LANGUAGE_EN,
        _LANGUAGE_MAX,
};

enum transport {
        TRANSPORT_MAILDIR, /* "maildir:PATH" — the default without an smtp group */
        TRANSPORT_SMTP,    /* "smtp" — the default with an smtp group */
        _TRANSPORT_MAX,
};

enum webhook_format {
        WEBHOOK_JSON,
        WEBHOOK_SLACK,
        WEBHOOK_NTFY,
        WEBHOOK_TELEGRAM,
        WEBHOOK_TEMPLATE,
        _WEBHOOK_FORMAT_MAX,
};

struct template;
struct webhook_key;

struct header {
        char *name;
        char *value;
};

struct webhook {
        char *url;             /* for telegram the sendMessage URL with "***" for the token */
        char *host;            /* the receiver: "scheme://host:port", for the per-receiver bounds */
        enum webhook_format format;
        char *secret;          /* contents of secret_file ("whsec_…"), or NULL */
        struct webhook_key *key; /* the secret as an HMAC key made ready once, or NULL */
        char *ca_file;         /* CA certificates for https:// instead of the system's, or NULL */
        struct header *headers;
        size_t n_headers;
        bool allow_plaintext_remote;
        /* telegram: the Bot API's base URL, the chat, and the bot token
         * (from token_file or a credential; NULL when unreadable here). */
        char *api_url;
        char *chat_id;
        char *token;
        /* template: the body's template (JSON), its file and the line of
         * the setting, the Content-Type, and how many characters of the
         * message's text {{text}} may carry (0: all). */
        struct template *body;
        char *body_file;
        char *body_setting;    /* "agencies[0].webhook.template", for messages */
        int body_line;
        char *content_type;
        size_t text_max;
        int line;
};

struct agency {
        char *id;
        char *name;
        char **aliases;        /* NULL-terminated, may be empty */
        char **email;          /* NULL-terminated, may be empty */
        char **cc;             /* NULL-terminated, may be empty */
        struct webhook *webhooks;
        size_t n_webhooks;
        int line;
};

struct group {
        char *id;
        char *name;
        char **aliases;
        char **members;        /* agency ids, NULL-terminated, at least one */
        int line;
};

struct escalation {
        int64_t after;         /* seconds overdue */
        char **to;             /* agency or group ids */
};

enum report_every {
        REPORT_NEVER,
        REPORT_WEEKLY,            /* ISO weeks, Monday to Sunday */
        REPORT_MONTHLY,
        _REPORT_EVERY_MAX,
        _REPORT_EVERY_INVALID = -1,
};
struct workcal;

struct policy {
        int64_t *remind_before;   /* seconds before the deadline, sorted descending */
        size_t n_remind_before;
        int send_at;              /* minutes after local midnight (default 08:00); -1 (send_at =
                                   * "none"): fire at deadline − offset */
        int64_t overdue_every;    /* 0 (overdue_every = "0"): no overdue repeats; default 1d */
        struct escalation *escalation; /* sorted by `after` ascending */
        size_t n_escalation;
        unsigned workdays;        /* bit (1 << tm_wday), Sunday = bit 0 */
        struct workcal *calendar; /* the days off and extra working days, year by year; when
                                   * NULL, the two arrays below instead */
        int32_t *holidays;        /* days since epoch, sorted */
        size_t n_holidays;
        int32_t *extra_workdays;  /* sorted */
        size_t n_extra_workdays;
        bool digest;
        bool notify_on_assign;    /* notices of new tasks to the agencies given them (default true) */
        /* The compliance report e-mailed for each period that ends
         * (report.h): how often, and to which agencies (ids). */
        enum report_every report_every; /* default REPORT_NEVER */
        char **report_to;         /* NULL-terminated, or NULL */
};

struct smtp {
        char *url;                /* smtp://host:587 or smtps://host:465 */
        char *username;
        char *password;           /* from password_file or credential "smtp-password" */
        bool password_unreadable; /* in systemd's credential store, which this user cannot read */
        char *from;               /* "Name <addr>" or "addr" */
        char *reply_to;
        char *ca_file;
        bool allow_plaintext;
        bool allow_plaintext_remote;
        int max_connections;      /* default 4 */
        int64_t connect_timeout;  /* seconds, default 30 */
        int64_t timeout;          /* seconds, default 300 */
};

/* The IMAP mailbox the agencies' replies arrive in (the `inbox` group). */
#define INBOX_MAX_SIZE_DEFAULT (10 * 1024 * 1024)
struct inbox {
        char *url;                /* imaps://host[:port]/MAILBOX, or imap:// with STARTTLS required */
        char *username;
        char *password;           /* from password_file or credential "imap-password" */
        bool password_unreadable; /* in systemd's credential store, which this user cannot read */
        char *ca_file;
        char *address;            /* the bare address replies are sent to */
        int64_t poll_every;       /* seconds, default 5m */
        bool pause_reminders;     /* default true: an agency's reminders wait while its report does */
        int64_t max_size;         /* bytes; larger messages are recorded as ignored, not fetched */
        int64_t connect_timeout;  /* seconds, default 30 */
        int64_t timeout;          /* seconds, default 300 */
};

struct delivery_policy {
        int64_t retry_min;        /* default 5m */
        int64_t retry_max;        /* default 1h */
        int64_t max_retry_age;    /* default 2d */
};

/* Every agency and group id, sorted by id, so lookups are a binary search
 * even with thousands of agencies. */
struct config_id {
        const char *id;
        const struct agency *agency;   /* exactly one of these is set */
        const struct group *group;
};

struct render_templates;

struct config {
        char *path;               /* absolute path of the file read */
        char *dir;                /* its folder: relative paths resolve against it */
        char *database;           /* absolute, or a PostgreSQL URI */
        /* A PostgreSQL database's password, from database_password_file or
         * the credential "database-password"; NULL: libpq's ~/.pgpass. */
        char *database_password;
        char *timezone;           /* IANA name, default "Asia/Ho_Chi_Minh" */
        enum language language;   /* default vi */
        enum transport transport;
        char *maildir;            /* absolute, for TRANSPORT_MAILDIR */
        char *from;               /* sender for maildir when there is no smtp group */
        /* The sender of every message (`from`) and smtp.reply_to, split
         * once at load as messages write them: a display name (or NULL)
         * and an address. */
        char *from_name, *from_address;
        char *reply_name, *reply_address;   /* NULL without smtp.reply_to */
        char *base_url;           /* optional: links to tasks in messages, no trailing '/' */
        char *templates;          /* optional folder overriding the built-in templates */
        char *calendar_dir;       /* optional: the daemon keeps AGENCY.ics here (absolute) */
        struct render_templates *render; /* the templates to use, built and checked at load */
        struct policy policy;     /* its holidays computed from the calendar and the dates below */
        enum holiday_calendar calendar;   /* `calendar`, default none */
        struct holiday_date *holidays_added;   /* schedule.holidays as written */
        size_t n_holidays_added;
        struct holiday_date *holidays_removed; /* schedule.not_holidays */
        size_t n_holidays_removed;
        struct holiday_date *workdays_added;   /* schedule.extra_workdays */
        size_t n_workdays_added;
        struct delivery_policy delivery;
        bool has_smtp;
        struct smtp smtp;
        bool has_inbox;
        struct inbox inbox;
        struct agency *agencies;
        size_t n_agencies;
        struct group *groups;
        size_t n_groups;
        struct config_id *ids;    /* n_agencies + n_groups entries, sorted */
        size_t n_ids;
};

/* Reads and validates `path`. On success returns 0 and sets *ret. On a
 * validation failure returns -EINVAL and sets *ret_errors to a malloc'd
 * text of one or more lines, each "FILE:LINE: SETTING: message". On an I/O
 * failure (missing file, unreadable) returns -errno and *ret_errors names
 * the file. */
int config_load(const char *path, struct config **ret, char **ret_errors);
struct config *config_free(struct config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct config *, config_free);

/* Sets the process time zone from the configuration (TZ), so that local
 * dates and times mean the configured zone everywhere. */
int config_apply_timezone(const struct config *c);

/* The holiday rules of the configuration, pointing into it. */
void config_holiday_rules(const struct config *c, struct holiday_rules *ret);

const struct agency *config_find_agency(const struct config *c, const char *id);
const struct group *config_find_group(const struct config *c, const char *id);
/* Whether `id` names an agency or a group. */
bool config_id_exists(const struct config *c, const char *id);
/* Expands agency and group ids into a NULL-terminated, de-duplicated list
 * of agency ids (pointers into the config, owned by it), in first-seen
 * order. Unknown ids are skipped; config_id_exists() tells them apart. */
int config_expand(const struct config *c, char *const *ids, const char ***ret);

const char *language_to_string(enum language l);
int language_from_string(const char *s);
const char *webhook_format_to_string(enum webhook_format f);
int webhook_format_from_string(const char *s);

/* A bare address as the configuration accepts it: a dot-atom local part, an
 * '@' and a domain of letters, digits, '-' and '.', at most 254 bytes, no
 * quoting, no comments, no spaces or control characters — nothing that could
 * smuggle a second recipient or a header line. */
bool config_email_address_valid(const char *s);
