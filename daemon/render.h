/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What a reminder says: subject, plain text and HTML, from templates.
 *
 * Pure: no I/O. The built-in templates (conf/templates/{vi,en}, compiled
 * into the program by tools/gen-templates.sh) can be overridden one file at
 * a time by texts the caller has read from the `templates` folder. Every
 * placeholder is checked when a set is built, so a bad override is refused
 * at start-up and by check-config. conf/templates/README lists the files
 * and the variables each one may use.
 *
 * All task text is cleaned before use: invalid UTF-8 becomes U+FFFD,
 * control characters go, line breaks become "\n" (spaces in one-line fields
 * such as titles) and everything is normalised to NFC. HTML templates
 * escape every value. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "macro.h"
#include "store.h"
#include "timeutil.h"

#define RENDER_TASKS_MAX 1000
#define RENDER_RECIPIENTS_MAX 1000
#define RENDER_FIELD_MAX (64 * 1024)     /* bytes in any one input text */
#define RENDER_OUTPUT_MAX (1024 * 1024)  /* bytes in a rendered body */
#define RENDER_SUBJECT_MAX 250           /* characters; longer subjects end in "…" */
#define RENDER_TITLE_SHORT 80            /* characters of a title in a subject */

/* REMINDER and OVERDUE render alike: each task's deadline and `now` decide
 * its wording, so a reminder that goes out late (after downtime) tells the
 * truth. The kind matters to the webhook's event type. */
enum render_kind {
        RENDER_REMINDER,    /* before the deadline */
        RENDER_OVERDUE,     /* after it, to the task's own agencies */
        RENDER_ESCALATION,  /* to a supervising agency, listing what is overdue */
        RENDER_ASSIGNMENT,  /* a notice of new tasks to the agencies now responsible */
        RENDER_TEST,        /* send-test: checks the set-up, about no task */
        RENDER_REPORT,      /* the periodic compliance report's letter, about no one task */
        RENDER_ACK,         /* an agency's reply received: what it reported or asked, now awaiting the officer */
        RENDER_REJECT,      /* the officer's refusal of a reply, with the reason */
        _RENDER_KIND_MAX,
        _RENDER_KIND_INVALID = -1,
};

/* "reminder", "overdue", "escalation", "assignment", "test", "report",
 * "ack", "reject": the webhook event types. */
const char *render_kind_to_string(enum render_kind k) _pure_;

struct render_recipient {
        const char *name;            /* agency name as configured */
        enum role role;              /* its role in the task; _ROLE_INVALID when not one (digests) */
};

struct render_task {
        int64_t id;
        const char *document_number; /* "2417/UBND-KTTH", or NULL */
        const char *document_subject;/* or NULL */
        const char *ref;             /* "5.c", or NULL */
        const char *title;
        const char *detail;          /* or NULL */
        const struct due *due;       /* NULL: no deadline */
        const struct due *original_due; /* the deadline first set, when due extends it (is later); else NULL */
        enum task_status status;
        const char *const *leads;    /* agency names, NULL-terminated (NULL: none) */
        const char *const *supports;
        enum role role;              /* the recipients' role in it; _ROLE_INVALID: not one */
        /* The agencies the message is addressed to, by their role in this
         * task (NULL: not said), for {{roles}}: "chủ trì: Sở Tài chính;
         * phối hợp: Kho bạc Nhà nước tỉnh". */
        const char *const *to_leads;
        const char *const *to_supports;
        /* RENDER_ASSIGNMENT: no reminder is left before the deadline, so
         * this notice is the only word before it. */
        bool no_reminder_left;
};

struct render_input {
        enum render_kind kind;
        int64_t now;
        /* The agencies the message is addressed to ("Kính gửi"): one in a
         * digest or an escalation, a task's lead and cooperating agencies
         * in a per-task message. */
        const struct render_recipient *recipients;
        size_t n_recipients;
        /* One task: a single reminder. Several: a digest for one agency, or
         * the list in an escalation. None: only for RENDER_TEST. */
        const struct render_task *tasks;
        size_t n_tasks;
        const char *base_url;        /* links become BASE_URL/tasks/ID; NULL: no links */
        int64_t escalation_after;    /* RENDER_ESCALATION: the level's "after", seconds; 0: unsaid */
        const char *signature;       /* who signs; NULL: the language's default */
        bool webhook;                /* for a webhook: {{webhook}} is true, no HTML part */
        /* RENDER_REPORT: the period ("2025-05", "2025-W19", report.h), its
         * first and last local day, and the total counts (report.h's
         * struct report_counts: on time, late, open, open overdue). */
        const char *report_period;
        int32_t report_from, report_to;
        uint64_t report_on_time, report_late, report_open, report_overdue;
        /* A webhook's own body (format = "template"), rendered after the
         * subject and text, which it may quote; NULL: none. body_text_max
         * cuts {{text}} to that many characters ("…"); 0: whole. */
        const struct template *body;
        size_t body_text_max;
        const char *event_id;        /* {{event_id}}: the webhook-id */
        /* RENDER_ACK, RENDER_REJECT: the agency's reply answered, about
         * tasks[0] (n_tasks 0 when it names none): its subject without
         * "Re:", sender, date, what it says (reply_done: completion;
         * reply_asked: the extension's deadline asked for, or NULL) and
         * the officer's reason (REJECT). */
        const char *reply_subject;
        const char *reply_from;
        int64_t reply_date;
        bool reply_done;
        const struct due *reply_asked;
        const char *reason;
};

struct render_output {
        char *subject;               /* one line, no line breaks */
        char *text;                  /* text/plain, "\n" line ends */
        char *html;                  /* text/html; NULL for a webhook */
        char *body;                  /* in->body's output, or NULL */
};
void render_output_done(struct render_output *o);

/* The file names of a template set, NULL-terminated: "task-subject.txt",
 * "task.txt", "task.html", "digest-…", "escalation-…", "assign-…", "test-…", "report-…", "ack-…", "reject-…". A folder
 * overriding them holds LANGUAGE/NAME, e.g. "vi/task.txt". */
extern const char *const render_template_names[];
/* The built-in templates: conf/templates as compiled into the program by
 * tools/gen-templates.sh (templates-builtin.c, which the build writes into
 * its gen/ folder). */
struct render_builtin {
        const char *lang;            /* "vi", "en" */
        const char *name;
        const char *text;
};
extern const struct render_builtin render_builtins[];
extern const size_t render_builtins_count;

/* The built-in text of one template, or NULL for an unknown name. */
const char *render_builtin_template(enum language lang, const char *name);

struct render_template_text {
        const char *name;            /* one of render_template_names */
        const char *text;            /* UTF-8, NUL-terminated */
};

struct render_templates;
struct template;

/* Parses a webhook body template (format = "template"): the message
 * template language (template.h) with every value written as the inside
 * of a JSON string. At its top are {{subject}}, {{text}}, {{kind}}
 * ("reminder", "overdue", "escalation", "assignment", "test") and
 * {{event_id}}, then the variables of a message and of its first task, as
 * in the text templates. Errors: -EINVAL with *ret_error "NAME:LINE: …". */
int render_body_template_parse(const char *name, const char *text, struct template **ret, char **ret_error);

/* Builds the template set for `lang`: the built-in texts, with `overrides`
 * taking their place. Returns -EINVAL for an unknown name or a template
 * error, with *ret_error (if not NULL) set to "vi/task.html:12: unknown
 * placeholder {{foo}}". */
int render_templates_new(enum language lang,
                         const struct render_template_text *overrides, size_t n_overrides,
                         struct render_templates **ret, char **ret_error);
struct render_templates *render_templates_free(struct render_templates *t);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct render_templates *, render_templates_free);
enum language render_templates_language(const struct render_templates *t) _pure_;

/* Renders one message. -EINVAL for an input that makes no message (no
 * recipients; no tasks for a reminder; a task without title), -E2BIG
 * beyond the limits above, -ENOMEM. */
int render_message(const struct render_templates *t, const struct render_input *in,
                   struct render_output *ret);

enum render_time_style {
        RENDER_TIME_PHRASE,          /* "còn 3 ngày", "quá hạn 2 ngày"; "3 days left", "overdue by 2 days" */
        RENDER_TIME_HEADLINE,        /* "Còn 3 ngày", "Quá hạn 2 ngày"; "3 days left", "2 days overdue" */
};

#define RENDER_TIME_LEFT_MAX 64

/* The time left until a deadline, or how late it is, in words, as
 * lateness_of() counts it: a date-only deadline counts calendar days ("hạn
 * hôm nay" on the day itself); a deadline with a time of day counts minutes
 * under an hour and hours under a day, then calendar days; once the
 * deadline's day is over, whole calendar days overdue. */
void render_time_left(const struct due *due, int64_t now, enum language lang,
                      enum render_time_style style, char buf[static RENDER_TIME_LEFT_MAX]);
