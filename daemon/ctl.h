/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What deadlinectl's sub-commands share: the parsed global options, the
 * configuration and the store, opened on demand, and the mapping from
 * errors to sysexits(3) codes. Each sub-command is `int cmd(struct ctl *,
 * int argc, char **argv)` and returns an exit code. */

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>
#include <jansson.h>

#include "config.h"
#include "store.h"

struct ctl {
        const char *config_path;
        bool json;
        const char *now_text;  /* --now, read once the time zone is known */
        int64_t now;
        struct config *config;
        struct store *store;
        const char *command;   /* for messages: "deadlinectl add: …" */
        char *user;            /* ctl_user()'s answer, once asked */
};

/* One-line error on stderr, prefixed "deadlinectl: COMMAND: ". Returns
 * `code` so callers can `return ctl_fail(c, EX_DATAERR, …);`. */
int ctl_fail(const struct ctl *c, int code, const char *format, ...) _printf_(3, 4);
int ctl_load_config(struct ctl *c);
/* The name of the user running the command (the real user id's), as the
 * change log records it: "alice", or "uid 1001" for an id without a name;
 * NULL only when out of memory. */
const char *ctl_user(struct ctl *c);
int ctl_open_store(struct ctl *c);
/* The options every command takes, for its getopt_long() table, and their
 * handling: returns 1 if `opt` was one, 0 if not, or 1000 + an exit code. */
#define CTL_ARG_JSON 0x100
#define CTL_COMMON_OPTIONS                                   \
        { "json", no_argument, NULL, CTL_ARG_JSON },         \
        { "config", required_argument, NULL, 'c' },         \
        { "help", no_argument, NULL, 'h' }
int ctl_common_option(struct ctl *c, int opt, char **argv);
/* Reads the options of a command that takes only the common ones and no
 * argument: 0, or the exit status to return (--help, a usage error). */
int ctl_no_arguments(struct ctl *c, int argc, char **argv);

/* Maps a store error to an exit code and prints it. */
int ctl_store_fail(const struct ctl *c, int r, const char *what);

/* Checks that `id` is an agency or group of the configuration; on failure
 * prints an error naming `option` with the closest known id. */
int ctl_check_agency(const struct ctl *c, const char *option, const char *id);
/* Task ids on the command line: a positive integer. */
int ctl_parse_task_id(const struct ctl *c, const char *s, int64_t *ret);
/* Text given by a person: valid UTF-8, NFC, no control characters (except
 * newlines when `multiline`), at most `max` bytes. */
int ctl_check_text(const struct ctl *c, const char *option, const char *s, size_t max, bool multiline,
                   char **ret_normalized);

/* Reads task `id` from the open store; 0, or the exit status after a
 * one-line error (no such task: EX_DATAERR). */
int ctl_get_task(struct ctl *c, int64_t id, struct task *ret);
/* A task as list and show print it with --json. */
json_t *ctl_task_json(const struct task *t);
/* A deadline counted in working days: its rule as --json gives it,
 * {"days": 15, "from": "2025-03-12"} (null: none); in words in the
 * configured language, "15 ngày làm việc kể từ 12/3/2025" ("" when none);
 * and read back from export's text, "15wd:2025-03-12" (-EINVAL). */
json_t *ctl_due_rule_json(const struct task *t);
int ctl_due_rule_words(const struct ctl *c, const struct task *t, char *buf, size_t size);
int ctl_due_rule_parse(const char *s, int *ret_days, int32_t *ret_from);
/* Logs what this command changed in a task (before NULL: it made it), as
 * a person's change by ctl_user(), with the approving document and the
 * reason when given; inside the caller's transaction. A negative errno. */
int ctl_record_change(struct ctl *c, const struct task *before, const struct task *after, const char *approved_by,
                      const char *reason);
/* A task's record: its change log and its completions, read for show
 * and history, as JSON and as events for a timeline. */
struct ctl_record {
        struct task_change_list changes;
        struct task_completion_list completions;
};
void ctl_record_done(struct ctl_record *r);
int ctl_record_read(struct ctl *c, int64_t task_id, struct ctl_record *ret);
json_t *ctl_changes_json(const struct task_change_list *l);
json_t *ctl_completions_json(const struct task_completion_list *l);
/* One line of a timeline: when, what happened ("deadline extended",
 * "done", "reminder before:7d"), and the rest in words. */
struct ctl_event {
        int64_t at;
        char what[96];
        char *detail;
};
/* Appends the record's events to *events (the entries that made the task
 * count as one, "created"); a negative errno. */
int ctl_record_events(const struct ctl_record *r, struct ctl_event **events, size_t *n);
/* Sorts events by time, keeping the order of those at the same time. */
void ctl_events_sort(struct ctl_event *events, size_t n);
void ctl_events_free(struct ctl_event *events, size_t n);

/* A NULL-terminated string list as a JSON array. */
json_t *json_strv(char *const *l);
/* Prints and releases j (NULL: out of memory); returns an exit code. */
int ctl_print_json(const struct ctl *c, json_t *j);

/* "in 3d 4h", "2d 1h overdue", "due now". */
void format_left(int64_t seconds, char *buf, size_t size);

int cmd_add(struct ctl *c, int argc, char **argv);
int cmd_list(struct ctl *c, int argc, char **argv);
int cmd_show(struct ctl *c, int argc, char **argv);
int cmd_done(struct ctl *c, int argc, char **argv);
int cmd_reopen(struct ctl *c, int argc, char **argv);
int cmd_cancel(struct ctl *c, int argc, char **argv);
int cmd_edit(struct ctl *c, int argc, char **argv);
int cmd_extend(struct ctl *c, int argc, char **argv);
int cmd_agencies(struct ctl *c, int argc, char **argv);
int cmd_calendar(struct ctl *c, int argc, char **argv);
int cmd_check_config(struct ctl *c, int argc, char **argv);
int cmd_import(struct ctl *c, int argc, char **argv);
int cmd_export(struct ctl *c, int argc, char **argv);
int cmd_send_test(struct ctl *c, int argc, char **argv);
int cmd_status(struct ctl *c, int argc, char **argv);
int cmd_history(struct ctl *c, int argc, char **argv);
int cmd_new_instance_id(struct ctl *c, int argc, char **argv);
int cmd_report(struct ctl *c, int argc, char **argv);
int cmd_retry(struct ctl *c, int argc, char **argv);
int cmd_delete(struct ctl *c, int argc, char **argv);
int cmd_inbox(struct ctl *c, int argc, char **argv);
/* An inbox message for --json, and in words ("reported done",
 * "extension to 15/6/2025"); a task's replies as timeline events (when
 * each came, and when it was decided). */
json_t *ctl_inbox_json(const struct inbox_message *m);
void ctl_inbox_words(const struct inbox_message *m, char buf[static 48]);
int ctl_inbox_events(const struct inbox_message_list *l, struct ctl_event **events, size_t *n);
int cmd_confirm(struct ctl *c, int argc, char **argv);
int cmd_reject(struct ctl *c, int argc, char **argv);
int cmd_migrate_to(struct ctl *c, int argc, char **argv);

/* What extend and done do once their options are read, shared with
 * confirm: one transaction, in which `inside` (when given) runs last, on
 * the task as changed; a non-zero return from it rolls everything back and
 * is returned. Print the result as the commands do. */
struct due;
typedef int (*ctl_inside_t)(struct ctl *c, const struct task *t, void *userdata);
int ctl_task_extend(struct ctl *c, int64_t id, const struct due *to, const char *by, const char *reason,
                    ctl_inside_t inside, void *userdata);
int ctl_task_set_status(struct ctl *c, int64_t id, enum task_status status, const char *done_on, int64_t done_at,
                        const char *note, ctl_inside_t inside, void *userdata);

/* send-test --channel webhook: a test message to each of the agency's
 * webhooks, waited for; prints one line (or JSON) per webhook. Returns 0
 * when every one answered 2xx, EX_UNAVAILABLE otherwise, EX_CONFIG when the
 * agency has none. */
int ctl_send_test_webhook(struct ctl *c, const struct agency *a);

/* The CSV columns import reads and export writes, NULL-terminated. */
extern const char *const csv_columns[];
