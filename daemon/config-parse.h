/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Internal to the config module (config.c, config-agencies.c): the error
 * collector and typed, validating getters over libconfig settings.
 *
 * Every getter takes the group that holds the setting, that group's path
 * for messages ("schedule", "agencies[3]"; "" for the top level) and the
 * setting's name. It returns 1 when the setting is present and valid (and
 * stores the value), 0 when it is absent (and stores nothing), or -EINVAL
 * when it is present but wrong, after recording one error line. Callers
 * carry on after an error, so that one run reports every problem. */

#include <libconfig.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define CONFIG_STRING_MAX 1000       /* names, aliases, header values, … */
#define CONFIG_URL_MAX 2048
#define CONFIG_SECRET_MAX 4096
#define CONFIG_ERRORS_MAX 100        /* further errors are only counted */
#define SETTING_PATH_MAX 256

#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_(x)

struct parse_error {
        unsigned line;
        size_t seq;                  /* keeps errors on one line in order */
        char *text;
};

struct parser {
        const char *file;            /* as the caller named it, for messages */
        const char *dir;             /* absolute: relative paths resolve here */
        struct parse_error *errors;
        size_t n_errors;
        size_t n_dropped;
        bool oom;
};

/* Records "FILE:LINE: PATH: message" (the line of `s`, or no line when `s`
 * is NULL; no path when `path` is NULL or empty). */
void parser_error(struct parser *p, const config_setting_t *s, const char *path, const char *format, ...)
        _printf_(4, 5);
void parser_error_at(struct parser *p, unsigned line, const char *path, const char *format, ...) _printf_(4, 5);
static inline bool parser_failed(const struct parser *p) {
        return p->n_errors > 0 || p->oom;
}
/* All errors, sorted by line, one per line; -ENOMEM if one got lost. */
int parser_join_errors(struct parser *p, char **ret);
void parser_done(struct parser *p);

/* "parent.name" and "parent[i]", truncated to SETTING_PATH_MAX. */
const char *parser_path_member(char buf[static SETTING_PATH_MAX], const char *parent, const char *name);
const char *parser_path_elem(char buf[static SETTING_PATH_MAX], const char *parent, size_t i);
/* A value for a message: in double quotes, control characters escaped,
 * long values shortened, so that an error stays one line. */
const char *parser_quote(const char *s, char *buf, size_t size);
/* The same for a URL, with its user name and password redacted. */
const char *parser_quote_url(const char *url, char *buf, size_t size);
#define QUOTE_MAX 96

/* Reports every member of `group` whose name is not in the NULL-terminated
 * `known`. Returns false if there was one. */
bool parser_check_keys(struct parser *p, const config_setting_t *group, const char *path,
                       const char *const *known);

/* Checks a single-string value, returning NULL or what is wrong with it
 * (a phrase that follows the quoted value: "is not an e-mail address"). */
typedef const char *(*string_check_fn)(const char *s);

int parser_get_group(struct parser *p, const config_setting_t *g, const char *path, const char *key,
                     config_setting_t **ret);
int parser_get_string(struct parser *p, const config_setting_t *g, const char *path, const char *key, size_t max,
                      string_check_fn check, char **ret);
int parser_get_bool(struct parser *p, const config_setting_t *g, const char *path, const char *key, bool *ret);
int parser_get_int(struct parser *p, const config_setting_t *g, const char *path, const char *key, int min, int max,
                   int *ret);
/* An offset (parse_offset()): working days, or a duration of at most `max`. */
int parser_get_offset(struct parser *p, const config_setting_t *g, const char *path, const char *key, int64_t max,
                      int64_t *ret);
int parser_get_duration(struct parser *p, const config_setting_t *g, const char *path, const char *key, int64_t min,
                        int64_t max, int64_t *ret);
/* A file or folder name; a relative one resolves against the config's folder. */
int parser_get_path(struct parser *p, const config_setting_t *g, const char *path, const char *key, char **ret);
/* A list ["a", "b"] or ("a", "b") of strings, or one string standing for a
 * list of one. Each element is checked like parser_get_string(). `*ret_setting`
 * (optional) is the list itself, for per-element messages. */
int parser_get_strv(struct parser *p, const config_setting_t *g, const char *path, const char *key, size_t max_items,
                    size_t max_len, string_check_fn check, char ***ret, config_setting_t **ret_setting);
/* The element of a list setting for messages: the setting itself when a
 * single string stood for the list. */
const config_setting_t *parser_setting_elem(const config_setting_t *list, size_t i);

/* Reads at most `max` bytes and adds a NUL; -EFBIG if there is more. */
int parser_read_all(int fd, size_t max, char **ret, size_t *ret_size);

/* Reads a secret: `*_file` settings are refused if the group or others may
 * access them; a systemd credential (check_mode false) is trusted. One
 * trailing newline is dropped; anything else that is not one line is an
 * error. */
int parser_read_secret(struct parser *p, const config_setting_t *s, const char *path, const char *file,
                       bool check_mode, char **ret);
int parser_get_secret_file(struct parser *p, const config_setting_t *g, const char *path, const char *key,
                           char **ret);
/* A setting naming a systemd credential: in the service (with
 * $CREDENTIALS_DIRECTORY) it must be there and is read; outside it, it is
 * read from /run/credstore or /etc/credstore when this user may, and
 * otherwise left unset (returns 0, like an absent setting). */
int parser_get_credential(struct parser *p, const config_setting_t *g, const char *path, const char *key, char **ret);

/* A string setting checked by parser_check_url(); messages about it never show
 * a user name or password written into it. */
int parser_get_url(struct parser *p, const config_setting_t *g, const char *path, const char *key,
                   const char *const *schemes, bool *ret_loopback, char **ret);

/* An absolute URL with one of `schemes` and a host, no user name or
 * password. `*ret_loopback` (optional) tells whether the host is
 * 127.0.0.0/8, ::1 or localhost. Returns NULL or what is wrong. */
const char *parser_check_url(const char *url, const char *const *schemes, bool *ret_loopback);

const char *parser_check_id(const char *s);
const char *parser_check_email(const char *s);
const char *parser_check_mailbox(const char *s);
const char *parser_check_duration(const char *s);
/* A duration or working days ("5wd"): remind_before and escalation's after. */
const char *parser_check_offset(const char *s);
const char *parser_check_date(const char *s);
const char *parser_check_weekday(const char *s);

/* config-agencies.c: the agencies and groups lists, then the sorted id
 * index with its cross-checks (duplicate ids, group members). */
void config_parse_agencies(struct parser *p, const config_setting_t *root, struct config *c);
void config_parse_groups(struct parser *p, const config_setting_t *root, struct config *c);
int config_build_index(struct parser *p, const config_setting_t *root, struct config *c);
void agency_done(struct agency *a);
void group_done(struct group *g);

/* config-calendar.c: the top-level `calendar` and schedule.holidays,
 * not_holidays and extra_workdays, expanded into c->policy's day arrays
 * (after the schedule group, whose workdays the calendar needs). */
void config_parse_calendar(struct parser *p, const config_setting_t *root, struct config *c);

/* A password from the group's password_file, or else from the systemd
 * credential `credential` (in the service from $CREDENTIALS_DIRECTORY,
 * outside it from /run/credstore or /etc/credstore; *unreadable when it is
 * there but this user may not read it). Returns 1 when password_file gave
 * it, 0 otherwise, -errno after recording an error. */
int config_read_password(struct parser *p, const config_setting_t *g, const char *path, const char *credential,
                         char **password, bool *unreadable);

/* config-inbox.c: the `inbox` group, the IMAP mailbox the agencies' replies
 * arrive in. */
void config_parse_inbox(struct parser *p, const config_setting_t *root, struct config *c);
void config_inbox_done(struct inbox *i);

/* Builds c->render from the built-in templates and the `templates` folder's
 * overrides; problems are reported at `line`. */
int config_templates_load(struct parser *p, unsigned line, struct config *c);
