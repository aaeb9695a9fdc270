/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "lateness.h"
#include "render-text.h"
#include "render.h"
#include "strbuf.h"
#include "template.h"

/* The variables templates may use. conf/templates/README documents them;
 * keep the two in step. */

enum {
        RV_NAME, RV_ROLE, RV_ROLE_LEAD, RV_ROLE_SUPPORT, RV_INDEX, RV_FIRST, RV_LAST,
        _RV_MAX,
};

static const struct tvar_def recipient_vars[_RV_MAX] = {
        [RV_NAME]         = { .name = "name" },
        [RV_ROLE]         = { .name = "role" },
        [RV_ROLE_LEAD]    = { .name = "role_lead" },
        [RV_ROLE_SUPPORT] = { .name = "role_support" },
        [RV_INDEX]        = { .name = "index" },
        [RV_FIRST]        = { .name = "first" },
        [RV_LAST]         = { .name = "last" },
};
static const struct tscope_def recipient_scope = { recipient_vars, _RV_MAX };

enum {
        TV_ID, TV_INDEX, TV_FIRST, TV_LAST,
        TV_DOCUMENT, TV_DOCUMENT_SUBJECT, TV_REF, TV_TITLE, TV_TITLE_SHORT, TV_DETAIL,
        TV_DUE, TV_DUE_LONG, TV_TIME_LEFT, TV_TIME_LEFT_HEADLINE, TV_OVERDUE, TV_STATUS,
        TV_LEADS, TV_SUPPORTS, TV_ROLE, TV_ROLE_LEAD, TV_ROLE_SUPPORT, TV_ROLES, TV_URL,
        TV_EXTENDED, TV_ORIGINAL_DUE, TV_NO_REMINDER_LEFT,
        _TV_MAX,
};

static const struct tvar_def task_vars[_TV_MAX] = {
        [TV_ID]                 = { .name = "id" },
        [TV_INDEX]              = { .name = "index" },
        [TV_FIRST]              = { .name = "first" },
        [TV_LAST]               = { .name = "last" },
        [TV_DOCUMENT]           = { .name = "document" },
        [TV_DOCUMENT_SUBJECT]   = { .name = "document_subject" },
        [TV_REF]                = { .name = "ref" },
        [TV_TITLE]              = { .name = "title" },
        [TV_TITLE_SHORT]        = { .name = "title_short" },
        [TV_DETAIL]             = { .name = "detail" },
        [TV_DUE]                = { .name = "due" },
        [TV_DUE_LONG]           = { .name = "due_long" },
        [TV_TIME_LEFT]          = { .name = "time_left" },
        [TV_TIME_LEFT_HEADLINE] = { .name = "time_left_headline" },
        [TV_OVERDUE]            = { .name = "overdue" },
        [TV_STATUS]             = { .name = "status" },
        [TV_LEADS]              = { .name = "leads" },
        [TV_SUPPORTS]           = { .name = "supports" },
        [TV_ROLE]               = { .name = "role" },
        [TV_ROLE_LEAD]          = { .name = "role_lead" },
        [TV_ROLE_SUPPORT]       = { .name = "role_support" },
        [TV_ROLES]              = { .name = "roles" },
        [TV_URL]                = { .name = "url" },
        [TV_EXTENDED]           = { .name = "extended" },
        [TV_ORIGINAL_DUE]       = { .name = "original_due" },
        [TV_NO_REMINDER_LEFT]   = { .name = "no_reminder_left" },
};
static const struct tscope_def task_scope = { task_vars, _TV_MAX };

enum {
        MV_RECIPIENT, MV_RECIPIENTS, MV_SINGLE_RECIPIENT,
        MV_TASKS, MV_N_TASKS, MV_N_OVERDUE, MV_N_UPCOMING, MV_SINGLE, MV_LEADS_ALL,
        MV_TODAY, MV_ESCALATION_AFTER, MV_SIGNATURE, MV_WEBHOOK,
        MV_PERIOD, MV_PERIOD_FROM, MV_PERIOD_TO, MV_REPORT_TOTAL, MV_REPORT_ON_TIME, MV_REPORT_LATE,
        MV_REPORT_OPEN, MV_REPORT_OVERDUE,
        MV_REPLY_SUBJECT, MV_REPLY_FROM, MV_REPLY_DATE, MV_REPLY_DONE, MV_REPLY_ASKED, MV_REASON,
        _MV_MAX,
};

static const struct tvar_def message_vars[_MV_MAX] = {
        [MV_RECIPIENT]        = { .name = "recipient" },
        [MV_RECIPIENTS]       = { .name = "recipients", .kind = TVAR_LIST, .items = &recipient_scope },
        [MV_SINGLE_RECIPIENT] = { .name = "single_recipient" },
        [MV_TASKS]            = { .name = "tasks", .kind = TVAR_LIST, .items = &task_scope },
        [MV_N_TASKS]          = { .name = "n_tasks" },
        [MV_N_OVERDUE]        = { .name = "n_overdue" },
        [MV_N_UPCOMING]       = { .name = "n_upcoming" },
        [MV_SINGLE]           = { .name = "single" },
        [MV_LEADS_ALL]        = { .name = "leads_all" },
        [MV_TODAY]            = { .name = "today" },
        [MV_ESCALATION_AFTER] = { .name = "escalation_after" },
        [MV_SIGNATURE]        = { .name = "signature" },
        [MV_WEBHOOK]          = { .name = "webhook" },
        [MV_PERIOD]           = { .name = "period" },
        [MV_PERIOD_FROM]      = { .name = "period_from" },
        [MV_PERIOD_TO]        = { .name = "period_to" },
        [MV_REPORT_TOTAL]     = { .name = "report_total" },
        [MV_REPORT_ON_TIME]   = { .name = "report_on_time" },
        [MV_REPORT_LATE]      = { .name = "report_late" },
        [MV_REPORT_OPEN]      = { .name = "report_open" },
        [MV_REPORT_OVERDUE]   = { .name = "report_overdue" },
        [MV_REPLY_SUBJECT]    = { .name = "reply_subject" },
        [MV_REPLY_FROM]       = { .name = "reply_from" },
        [MV_REPLY_DATE]       = { .name = "reply_date" },
        [MV_REPLY_DONE]       = { .name = "reply_done" },
        [MV_REPLY_ASKED]      = { .name = "reply_asked" },
        [MV_REASON]           = { .name = "reason" },
};
static const struct tscope_def message_scope = { message_vars, _MV_MAX };

/* At the top of every template the message's variables are in force, and
 * under them those of the first task, so that a single-task template can
 * say {{title}} without a section. */
static const struct tscope_def *const root_defs[] = { &message_scope, &task_scope };

/* A webhook's body: what the message said, and what it is. */
enum {
        BV_SUBJECT, BV_TEXT, BV_KIND, BV_EVENT_ID,
        _BV_MAX,
};

static const struct tvar_def body_vars[_BV_MAX] = {
        [BV_SUBJECT]  = { .name = "subject" },
        [BV_TEXT]     = { .name = "text" },
        [BV_KIND]     = { .name = "kind" },
        [BV_EVENT_ID] = { .name = "event_id" },
};
static const struct tscope_def body_scope = { body_vars, _BV_MAX };
static const struct tscope_def *const body_root_defs[] = { &body_scope, &message_scope, &task_scope };

/* One group of three files per kind of message. */
enum {
        TPL_TASK, TPL_DIGEST, TPL_ESCALATION, TPL_ASSIGN, TPL_TEST, TPL_REPORT, TPL_ACK, TPL_REJECT,
        _TPL_GROUP_MAX,
};
enum { PART_SUBJECT, PART_TEXT, PART_HTML, _PART_MAX };
#define N_TEMPLATES (_TPL_GROUP_MAX * _PART_MAX)

const char *const render_template_names[N_TEMPLATES + 1] = {
        "task-subject.txt",       "task.txt",       "task.html",
        "digest-subject.txt",     "digest.txt",     "digest.html",
        "escalation-subject.txt", "escalation.txt", "escalation.html",
        "assign-subject.txt",     "assign.txt",     "assign.html",
        "test-subject.txt",       "test.txt",       "test.html",
        "report-subject.txt",     "report.txt",     "report.html",
        "ack-subject.txt",        "ack.txt",        "ack.html",
        "reject-subject.txt",     "reject.txt",     "reject.html",
        NULL,
};

struct render_templates {
        enum language lang;
        struct template *t[N_TEMPLATES];
};

struct words {
        const char *code;
        const char *role[_ROLE_MAX];
        const char *status[_TASK_STATUS_MAX];
        const char *weekday[7];
        const char *signature;
};

static const struct words words_table[_LANGUAGE_MAX] = {
        [LANGUAGE_VI] = {
                .code = "vi",
                .role = { "chủ trì", "phối hợp" },
                .status = { "đang thực hiện", "đã hoàn thành", "đã hủy" },
                .weekday = { "Chủ nhật", "thứ Hai", "thứ Ba", "thứ Tư", "thứ Năm", "thứ Sáu", "thứ Bảy" },
                .signature = "Hệ thống theo dõi, đôn đốc thực hiện nhiệm vụ",
        },
        [LANGUAGE_EN] = {
                .code = "en",
                .role = { "lead", "cooperating" },
                .status = { "open", "done", "cancelled" },
                .weekday = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday" },
                .signature = "Task follow-up system",
        },
};

const char *render_kind_to_string(enum render_kind k) {
        static const char *const table[_RENDER_KIND_MAX] = {
                [RENDER_REMINDER] = "reminder",
                [RENDER_OVERDUE] = "overdue",
                [RENDER_ESCALATION] = "escalation",
                [RENDER_ASSIGNMENT] = "assignment",
                [RENDER_TEST] = "test",
                [RENDER_REPORT] = "report",
                [RENDER_ACK] = "ack",
                [RENDER_REJECT] = "reject",
        };
        return k >= 0 && k < _RENDER_KIND_MAX ? table[k] : NULL;
}

/* ---- time left ---------------------------------------------------------- */

/* How late, and its wording, come from lateness.h: a message says what
 * `deadlinectl list` says and what the escalation ladder acts on. */

static void format_span_words(int64_t n, enum lateness_unit u, enum language lang, char *buf, size_t size) {
        static const char *const vi[] = { "phút", "giờ", "ngày" };
        static const char *const en[][2] = { { "minute", "minutes" }, { "hour", "hours" }, { "day", "days" } };

        if (lang == LANGUAGE_EN)
                snprintf(buf, size, "%" PRId64 " %s", n, en[u][n != 1]);
        else
                snprintf(buf, size, "%" PRId64 " %s", n, vi[u]);
}

void render_time_left(const struct due *due, int64_t now, enum language lang,
                      enum render_time_style style, char buf[static RENDER_TIME_LEFT_MAX]) {
        bool headline = style == RENDER_TIME_HEADLINE, en = lang == LANGUAGE_EN;
        struct lateness l;
        char span[32];

        lateness_of(due, now, &l);
        switch (l.state) {
        case LATENESS_TODAY:
                strcpy(buf, en ? (headline ? "Due today" : "due today")
                               : (headline ? "Hạn hôm nay" : "đến hạn hôm nay"));
                return;
        case LATENESS_NOW:
                strcpy(buf, en ? (headline ? "Due now" : "due now")
                               : (headline ? "Đến hạn" : "đã đến hạn"));
                return;
        case LATENESS_LEFT:
                format_span_words(l.n, l.unit, lang, span, sizeof span);
                snprintf(buf, RENDER_TIME_LEFT_MAX, en ? "%s left" : headline ? "Còn %s" : "còn %s", span);
                return;
        case LATENESS_OVERDUE:
                format_span_words(l.n, l.unit, lang, span, sizeof span);
                snprintf(buf, RENDER_TIME_LEFT_MAX,
                         en ? (headline ? "%s overdue" : "overdue by %s") : (headline ? "Quá hạn %s" : "quá hạn %s"),
                         span);
                return;
        }
}

/* ---- template sets ------------------------------------------------------ */

struct render_templates *render_templates_free(struct render_templates *t) {
        if (!t)
                return NULL;
        for (size_t i = 0; i < N_TEMPLATES; i++)
                template_free(t->t[i]);
        return mfree(t);
}

enum language render_templates_language(const struct render_templates *t) {
        return t->lang;
}

static bool ends_with(const char *s, const char *suffix) {
        size_t n = strlen(s), k = strlen(suffix);
        return n >= k && streq(s + n - k, suffix);
}

const char *render_builtin_template(enum language lang, const char *name) {
        if (lang < 0 || lang >= _LANGUAGE_MAX || !name)
                return NULL;
        for (size_t i = 0; i < render_builtins_count; i++)
                if (streq(render_builtins[i].lang, words_table[lang].code) &&
                    streq(render_builtins[i].name, name))
                        return render_builtins[i].text;
        return NULL;
}

int render_templates_new(enum language lang,
                         const struct render_template_text *overrides, size_t n_overrides,
                         struct render_templates **ret, char **ret_error) {
        _cleanup_(render_templates_freep) struct render_templates *t = NULL;
        const char *texts[N_TEMPLATES] = {};
        bool overridden[N_TEMPLATES] = {};
        int r;

        if (ret_error)
                *ret_error = NULL;
        if (lang < 0 || lang >= _LANGUAGE_MAX)
                return -EINVAL;

        for (size_t i = 0; i < N_TEMPLATES; i++)
                texts[i] = render_builtin_template(lang, render_template_names[i]);
        for (size_t k = 0; k < n_overrides; k++) {
                size_t i;
                for (i = 0; i < N_TEMPLATES; i++)
                        if (streq(render_template_names[i], overrides[k].name))
                                break;
                if (i == N_TEMPLATES) {
                        if (ret_error && asprintf(ret_error, "%s/%s: not a template this program uses",
                                                  words_table[lang].code, overrides[k].name) < 0)
                                *ret_error = NULL;
                        return -EINVAL;
                }
                texts[i] = overrides[k].text;
                overridden[i] = true;
        }

        t = calloc(1, sizeof *t);
        if (!t)
                return -ENOMEM;
        t->lang = lang;
        for (size_t i = 0; i < N_TEMPLATES; i++) {
                _cleanup_free_ char *label = NULL, *nfc = NULL;

                if (!texts[i])
                        return -ENOENT;  /* a built-in is missing: a build error */
                if (asprintf(&label, "%s/%s", words_table[lang].code, render_template_names[i]) < 0)
                        return -ENOMEM;
                /* An override written in another normal form (or not in
                 * UTF-8) is made NFC, as the built-ins are (test-render
                 * checks those). */
                if (overridden[i]) {
                        if (strlen(texts[i]) > TEMPLATE_SIZE_MAX) {
                                if (ret_error && asprintf(ret_error, "%s: larger than %d bytes",
                                                          label, TEMPLATE_SIZE_MAX) < 0)
                                        *ret_error = NULL;
                                return -EINVAL;
                        }
                        r = text_normalize(texts[i], &nfc);
                        if (r < 0)
                                return r;
                }
                r = template_parse(label, nfc ?: texts[i],
                                   ends_with(render_template_names[i], ".html") ? TEMPLATE_ESCAPE_HTML : TEMPLATE_ESCAPE_NONE,
                                   root_defs, ELEMENTSOF(root_defs), &t->t[i], ret_error);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(t);
        return 0;
}

/* ---- values ------------------------------------------------------------- */

/* Every string a message's values point to, freed together. Running out
 * of memory is remembered, so values can be built without a check each. */
struct pool {
        char **items;
        size_t n;
        int error;
};

static void pool_done(struct pool *p) {
        for (size_t i = 0; i < p->n; i++)
                free(p->items[i]);
        free(p->items);
}

/* Takes ownership of `s` (freed on failure too); NULL for -ENOMEM. */
static char *pool_keep(struct pool *p, char *s) {
        char **items;

        if (!s) {
                p->error = -ENOMEM;
                return NULL;
        }
        items = reallocarray(p->items, p->n + 1, sizeof *items);
        if (!items) {
                p->error = -ENOMEM;
                return mfree(s);
        }
        p->items = items;
        return p->items[p->n++] = s;
}

_printf_(2, 3)
static char *pool_printf(struct pool *p, const char *format, ...) {
        va_list ap;
        char *s;
        int r;

        va_start(ap, format);
        r = vasprintf(&s, format, ap);
        va_end(ap);
        return pool_keep(p, r < 0 ? NULL : s);
}

static int pool_clean(struct pool *p, const char *s, bool one_line, const char **ret) {
        char *t;
        int r;

        if (!s) {
                *ret = NULL;
                return 0;
        }
        r = text_clean(s, one_line, &t);
        if (r < 0)
                return r;
        *ret = pool_keep(p, t);
        return *ret ? 0 : -ENOMEM;
}

static struct tvalue text_value(const char *s) {
        return (struct tvalue) { .text = s, .truthy = s && *s };
}

static struct tvalue flag_value(bool b) {
        return (struct tvalue) { .text = b ? "true" : NULL, .truthy = b };
}

static struct tvalue count_value(struct pool *p, size_t n) {
        return (struct tvalue) { .text = pool_printf(p, "%zu", n), .truthy = n > 0 };
}

/* Joins cleaned names with ", ", skipping duplicates. */
static int join_names(struct pool *p, const char *const *names, size_t n, const char **ret) {
        struct strbuf b = STRBUF_INIT(RENDER_OUTPUT_MAX);
        char *s;
        int r;

        for (size_t i = 0; i < n; i++) {
                bool dup = false;
                for (size_t k = 0; k < i && !dup; k++)
                        dup = streq(names[k], names[i]);
                if (dup || !*names[i])
                        continue;
                if (b.len > 0)
                        strbuf_puts(&b, ", ");
                strbuf_puts(&b, names[i]);
        }
        r = strbuf_steal(&b, &s, NULL);
        if (r < 0)
                return r;
        *ret = pool_keep(p, s);
        return *ret ? 0 : -ENOMEM;
}

/* Cleans a NULL-terminated list of names into an array in the pool. */
static int clean_names(struct pool *p, const char *const *in, const char ***ret, size_t *ret_n) {
        size_t n = strv_length((char *const *) in);
        const char **out;
        int r;

        if (n > RENDER_RECIPIENTS_MAX)
                return -E2BIG;
        out = calloc(n + 1, sizeof *out);
        if (!pool_keep(p, (char *) out))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                r = pool_clean(p, in[i], true, &out[i]);
                if (r < 0)
                        return r;
        }
        *ret = out;
        *ret_n = n;
        return 0;
}

static void role_values(const struct words *w, enum role role, struct tvalue *v_role,
                        struct tvalue *v_lead, struct tvalue *v_support) {
        bool known = role >= 0 && role < _ROLE_MAX;
        *v_role = text_value(known ? w->role[role] : NULL);
        *v_lead = flag_value(role == ROLE_LEAD);
        *v_support = flag_value(role == ROLE_SUPPORT);
}

/* "chủ trì: Sở Tài chính; phối hợp: Sở Xây dựng, Kho bạc Nhà nước tỉnh":
 * the addressed agencies, each under its role in the task. */
static int format_roles(struct pool *p, const struct words *w, const struct render_task *t, const char **ret) {
        const char *const *lists[_ROLE_MAX] = { [ROLE_LEAD] = t->to_leads, [ROLE_SUPPORT] = t->to_supports };
        struct strbuf b = STRBUF_INIT(RENDER_OUTPUT_MAX);
        char *s;
        int r;

        for (enum role role = 0; role < _ROLE_MAX; role++) {
                const char **names, *joined;
                size_t n;

                if (!lists[role] || !lists[role][0])
                        continue;
                r = clean_names(p, lists[role], &names, &n);
                if (r < 0)
                        return r;
                r = join_names(p, names, n, &joined);
                if (r < 0)
                        return r;
                if (!*joined)
                        continue;
                if (b.len > 0)
                        strbuf_puts(&b, "; ");
                strbuf_puts(&b, w->role[role]);
                strbuf_puts(&b, ": ");
                strbuf_puts(&b, joined);
        }
        r = strbuf_steal(&b, &s, NULL);
        if (r < 0)
                return r;
        *ret = pool_keep(p, s);
        return *ret ? 0 : -ENOMEM;
}

static const char *format_due_long(struct pool *p, const struct due *due, enum language lang) {
        const char *wd = words_table[lang].weekday[weekday_from_days(due->day)];
        int y, m, d;

        civil_from_days(due->day, &y, &m, &d);
        if (lang == LANGUAGE_EN)
                return due->minute < 0
                        ? pool_printf(p, "%s, %d/%d/%d", wd, d, m, y)
                        : pool_printf(p, "%s, %d/%d/%d, %02d:%02d", wd, d, m, y, due->minute / 60, due->minute % 60);
        return due->minute < 0
                ? pool_printf(p, "%s, ngày %d/%d/%d", wd, d, m, y)
                : pool_printf(p, "%02d:%02d %s, ngày %d/%d/%d", due->minute / 60, due->minute % 60, wd, d, m, y);
}

static int task_values(struct pool *p, const struct render_input *in, enum language lang,
                       const struct render_task *t, size_t index, size_t n, struct tvalue *v,
                       const char ***ret_leads, size_t *ret_n_leads) {
        const struct words *w = &words_table[lang];
        const char **leads, **supports;
        const char *s;
        char *short_title;
        size_t n_leads, n_supports;
        int r;

        if (!t->title)
                return -EINVAL;

        v[TV_ID] = text_value(pool_printf(p, "%" PRId64, t->id));
        v[TV_INDEX] = count_value(p, index + 1);
        v[TV_FIRST] = flag_value(index == 0);
        v[TV_LAST] = flag_value(index + 1 == n);

        struct { const char *in; bool one_line; size_t var; } fields[] = {
                { t->document_number,  true,  TV_DOCUMENT },
                { t->document_subject, true,  TV_DOCUMENT_SUBJECT },
                { t->ref,              true,  TV_REF },
                { t->title,            true,  TV_TITLE },
                { t->detail,           false, TV_DETAIL },
        };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                r = pool_clean(p, fields[i].in, fields[i].one_line, &s);
                if (r < 0)
                        return r;
                v[fields[i].var] = text_value(s);
        }

        r = text_shorten(v[TV_TITLE].text, RENDER_TITLE_SHORT, &short_title);
        if (r < 0)
                return r;
        v[TV_TITLE_SHORT] = text_value(pool_keep(p, short_title));

        if (t->due) {
                char buf[MAX(24, RENDER_TIME_LEFT_MAX)];
                struct lateness l;

                format_due_vn(t->due, buf);
                v[TV_DUE] = text_value(pool_keep(p, strdup(buf)));
                v[TV_DUE_LONG] = text_value(format_due_long(p, t->due, lang));
                render_time_left(t->due, in->now, lang, RENDER_TIME_PHRASE, buf);
                v[TV_TIME_LEFT] = text_value(pool_keep(p, strdup(buf)));
                render_time_left(t->due, in->now, lang, RENDER_TIME_HEADLINE, buf);
                v[TV_TIME_LEFT_HEADLINE] = text_value(pool_keep(p, strdup(buf)));
                lateness_of(t->due, in->now, &l);
                v[TV_OVERDUE] = flag_value(l.state == LATENESS_OVERDUE);
                if (t->original_due && due_instant(t->original_due) < due_instant(t->due)) {
                        format_due_vn(t->original_due, buf);
                        v[TV_ORIGINAL_DUE] = text_value(pool_keep(p, strdup(buf)));
                        v[TV_EXTENDED] = flag_value(true);
                }
        }

        v[TV_NO_REMINDER_LEFT] = flag_value(t->due && t->no_reminder_left);
        v[TV_STATUS] = text_value(t->status >= 0 && t->status < _TASK_STATUS_MAX ? w->status[t->status] : NULL);

        r = clean_names(p, t->leads, &leads, &n_leads);
        if (r < 0)
                return r;
        r = clean_names(p, t->supports, &supports, &n_supports);
        if (r < 0)
                return r;
        r = join_names(p, leads, n_leads, &s);
        if (r < 0)
                return r;
        v[TV_LEADS] = text_value(s);
        r = join_names(p, supports, n_supports, &s);
        if (r < 0)
                return r;
        v[TV_SUPPORTS] = text_value(s);
        role_values(w, t->role, &v[TV_ROLE], &v[TV_ROLE_LEAD], &v[TV_ROLE_SUPPORT]);
        r = format_roles(p, w, t, &s);
        if (r < 0)
                return r;
        v[TV_ROLES] = text_value(s);

        if (in->base_url && *in->base_url) {
                size_t len = strlen(in->base_url);
                while (len > 0 && in->base_url[len - 1] == '/')
                        len--;
                v[TV_URL] = text_value(pool_printf(p, "%.*s/tasks/%" PRId64, (int) len, in->base_url, t->id));
        }

        if (p->error < 0)
                return p->error;
        *ret_leads = leads;
        *ret_n_leads = n_leads;
        return 0;
}

static const char *format_after(struct pool *p, int64_t secs, enum language lang) {
        char buf[64];

        if (secs <= 0)
                return NULL;
        if (duration_is_workdays(secs)) {
                int64_t n = duration_workdays(secs);
                if (lang == LANGUAGE_VI)
                        snprintf(buf, sizeof buf, "%" PRId64 " ngày làm việc", n);
                else
                        snprintf(buf, sizeof buf, "%" PRId64 " working day%s", n, n == 1 ? "" : "s");
        } else if (secs % SEC_PER_DAY == 0)
                format_span_words(secs / SEC_PER_DAY, LATENESS_DAYS, lang, buf, sizeof buf);
        else if (secs >= SEC_PER_HOUR)
                format_span_words(secs / SEC_PER_HOUR, LATENESS_HOURS, lang, buf, sizeof buf);
        else
                format_span_words(MAX(secs / SEC_PER_MIN, (int64_t) 1), LATENESS_MINUTES, lang, buf, sizeof buf);
        return pool_keep(p, strdup(buf));
}

/* ---- messages ----------------------------------------------------------- */

struct message_values {
        struct pool pool;
        struct tvalue msg[_MV_MAX];
        struct tvalue first_task[_TV_MAX];
        struct tscope msg_scope, first_task_scope;
        struct tvalue (*tasks)[_TV_MAX];
        struct tscope *task_scopes;
        struct tvalue (*recipients)[_RV_MAX];
        struct tscope *recipient_scopes;
};

static void message_values_done(struct message_values *m) {
        pool_done(&m->pool);
        free(m->tasks);
        free(m->task_scopes);
        free(m->recipients);
        free(m->recipient_scopes);
}

/* "tháng 5/2025", "tuần 19/2025"; "May 2025", "week 19 of 2025": the
 * period a report covers, from its name (report.h). */
static int report_values(struct message_values *m, const struct render_input *in, enum language lang) {
        static const char *const months[] = { "January", "February", "March", "April", "May", "June", "July",
                                              "August", "September", "October", "November", "December" };
        const uint64_t counts[] = { in->report_on_time + in->report_late + in->report_open + in->report_overdue,
                                    in->report_on_time, in->report_late, in->report_open, in->report_overdue };
        char buf[64];
        int y, n, k = 0;

        if (!in->report_period)
                return -EINVAL;
        if (sscanf(in->report_period, "%4d-W%2d%n", &y, &n, &k) == 2 && k > 0)
                snprintf(buf, sizeof buf, lang == LANGUAGE_VI ? "tuần %d/%d" : "week %d of %d", n, y);
        else if (sscanf(in->report_period, "%4d-%2d%n", &y, &n, &k) == 2 && k > 0 && n >= 1 && n <= 12) {
                if (lang == LANGUAGE_VI)
                        snprintf(buf, sizeof buf, "tháng %d/%d", n, y);
                else
                        snprintf(buf, sizeof buf, "%s %d", months[n - 1], y);
        }
        else
                snprintf(buf, sizeof buf, "%s", in->report_period);
        m->msg[MV_PERIOD] = text_value(pool_keep(&m->pool, strdup(buf)));
        for (int i = 0; i < 2; i++) {
                int yy, mm, dd;
                civil_from_days(i == 0 ? in->report_from : in->report_to, &yy, &mm, &dd);
                snprintf(buf, sizeof buf, "%d/%d/%d", dd, mm, yy);
                m->msg[i == 0 ? MV_PERIOD_FROM : MV_PERIOD_TO] = text_value(pool_keep(&m->pool, strdup(buf)));
        }
        for (size_t i = 0; i < ELEMENTSOF(counts); i++)
                m->msg[MV_REPORT_TOTAL + i] = count_value(&m->pool, counts[i]);
        return m->pool.error;
}

/* The reply an acknowledgement or a refusal answers. */
static int reply_values(struct message_values *m, const struct render_input *in) {
        const char *s;
        char buf[24];
        int32_t day;
        int64_t sec;
        int y, mo, d, r;

        r = pool_clean(&m->pool, strempty(in->reply_subject), true, &s);
        if (r < 0)
                return r;
        m->msg[MV_REPLY_SUBJECT] = text_value(s);
        r = pool_clean(&m->pool, strempty(in->reply_from), true, &s);
        if (r < 0)
                return r;
        m->msg[MV_REPLY_FROM] = text_value(s);
        instant_to_local(in->reply_date, &day, &sec);
        civil_from_days(day, &y, &mo, &d);
        snprintf(buf, sizeof buf, "%d/%d/%d", d, mo, y);
        m->msg[MV_REPLY_DATE] = text_value(pool_keep(&m->pool, strdup(buf)));
        m->msg[MV_REPLY_DONE] = flag_value(in->reply_done);
        if (in->reply_asked) {
                format_due_vn(in->reply_asked, buf);
                m->msg[MV_REPLY_ASKED] = text_value(pool_keep(&m->pool, strdup(buf)));
        }
        if (in->reason) {
                r = pool_clean(&m->pool, in->reason, false, &s);
                if (r < 0)
                        return r;
                m->msg[MV_REASON] = text_value(s);
        }
        return m->pool.error;
}

static int message_values_build(struct message_values *m, const struct render_input *in, enum language lang) {
        const struct words *w = &words_table[lang];
        _cleanup_free_ const char **names = NULL, **all_leads = NULL;
        size_t n_overdue = 0, n_all_leads = 0;
        const char *s;
        int r;
        char buf[16];

        m->tasks = calloc(MAX(in->n_tasks, (size_t) 1), sizeof *m->tasks);
        m->task_scopes = calloc(MAX(in->n_tasks, (size_t) 1), sizeof *m->task_scopes);
        m->recipients = calloc(in->n_recipients, sizeof *m->recipients);
        m->recipient_scopes = calloc(in->n_recipients, sizeof *m->recipient_scopes);
        names = calloc(in->n_recipients, sizeof *names);
        if (!m->tasks || !m->task_scopes || !m->recipients || !m->recipient_scopes || !names)
                return -ENOMEM;

        for (size_t i = 0; i < in->n_recipients; i++) {
                struct tvalue *v = m->recipients[i];

                if (!in->recipients[i].name)
                        return -EINVAL;
                r = pool_clean(&m->pool, in->recipients[i].name, true, &names[i]);
                if (r < 0)
                        return r;
                v[RV_NAME] = text_value(names[i]);
                role_values(w, in->recipients[i].role, &v[RV_ROLE], &v[RV_ROLE_LEAD], &v[RV_ROLE_SUPPORT]);
                v[RV_INDEX] = count_value(&m->pool, i + 1);
                v[RV_FIRST] = flag_value(i == 0);
                v[RV_LAST] = flag_value(i + 1 == in->n_recipients);
                m->recipient_scopes[i] = (struct tscope) { &recipient_scope, v };
        }

        for (size_t i = 0; i < in->n_tasks; i++) {
                const char **leads, **more;
                size_t n_leads;

                r = task_values(&m->pool, in, lang, &in->tasks[i], i, in->n_tasks, m->tasks[i], &leads, &n_leads);
                if (r < 0)
                        return r;
                m->task_scopes[i] = (struct tscope) { &task_scope, m->tasks[i] };
                n_overdue += m->tasks[i][TV_OVERDUE].truthy;

                more = reallocarray(all_leads, n_all_leads + n_leads, sizeof *all_leads);
                if (!more)
                        return -ENOMEM;
                all_leads = more;
                memcpy(all_leads + n_all_leads, leads, n_leads * sizeof *leads);
                n_all_leads += n_leads;
        }
        if (in->n_tasks > 0)
                memcpy(m->first_task, m->tasks[0], sizeof m->first_task);

        r = join_names(&m->pool, names, in->n_recipients, &s);
        if (r < 0)
                return r;
        m->msg[MV_RECIPIENT] = text_value(s);
        m->msg[MV_RECIPIENTS] = (struct tvalue) { .items = m->recipient_scopes, .n_items = in->n_recipients };
        m->msg[MV_SINGLE_RECIPIENT] = flag_value(in->n_recipients == 1);
        m->msg[MV_WEBHOOK] = flag_value(in->webhook);
        m->msg[MV_TASKS] = (struct tvalue) { .items = m->task_scopes, .n_items = in->n_tasks };
        m->msg[MV_N_TASKS] = count_value(&m->pool, in->n_tasks);
        m->msg[MV_N_OVERDUE] = count_value(&m->pool, n_overdue);
        m->msg[MV_N_UPCOMING] = count_value(&m->pool, in->n_tasks - n_overdue);
        m->msg[MV_SINGLE] = flag_value(in->n_tasks == 1);
        r = join_names(&m->pool, all_leads, n_all_leads, &s);
        if (r < 0)
                return r;
        m->msg[MV_LEADS_ALL] = text_value(s);

        {
                int32_t day;
                int64_t sec;
                int y, mo, d;

                instant_to_local(in->now, &day, &sec);
                civil_from_days(day, &y, &mo, &d);
                snprintf(buf, sizeof buf, "%d/%d/%d", d, mo, y);
                m->msg[MV_TODAY] = text_value(pool_keep(&m->pool, strdup(buf)));
        }
        if (in->kind == RENDER_REPORT) {
                r = report_values(m, in, lang);
                if (r < 0)
                        return r;
        }
        if (in->kind == RENDER_ACK || in->kind == RENDER_REJECT) {
                r = reply_values(m, in);
                if (r < 0)
                        return r;
        }
        if (in->kind == RENDER_ESCALATION)
                m->msg[MV_ESCALATION_AFTER] = text_value(format_after(&m->pool, in->escalation_after, lang));
        if (in->signature) {
                r = pool_clean(&m->pool, in->signature, true, &s);
                if (r < 0)
                        return r;
        } else
                s = w->signature;
        m->msg[MV_SIGNATURE] = text_value(s);

        if (m->pool.error < 0)
                return m->pool.error;

        m->msg_scope = (struct tscope) { &message_scope, m->msg };
        m->first_task_scope = (struct tscope) { &task_scope, m->first_task };
        return 0;
}

int render_body_template_parse(const char *name, const char *text, struct template **ret, char **ret_error) {
        _cleanup_free_ uint8_t *nfc = utf8proc_NFC((const uint8_t *) text);

        if (!nfc)
                return -ENOMEM;
        return template_parse(name, (const char *) nfc, TEMPLATE_ESCAPE_JSON, body_root_defs,
                              ELEMENTSOF(body_root_defs), ret, ret_error);
}

static int render_part(const struct template *t, const struct tscope *const *roots, size_t n_roots, char **ret) {
        struct strbuf b = STRBUF_INIT(RENDER_OUTPUT_MAX);
        _cleanup_free_ char *s = NULL;
        uint8_t *nfc;
        int r;

        template_render(t, roots, n_roots, &b);
        r = strbuf_steal(&b, &s, NULL);
        if (r < 0)
                return r;
        /* Every piece is NFC (values are cleaned, templates normalised), but
         * one that begins with a combining mark could compose with the text
         * before it. Vietnamese in NFC has no such marks, so the full
         * normalisation, by far the dearest step, is rarely needed. */
        if (!text_may_compose(s)) {
                *ret = TAKE_PTR(s);
                return 0;
        }
        nfc = utf8proc_NFC((const uint8_t *) s);
        if (!nfc)
                return -ENOMEM;
        *ret = (char *) nfc;
        return 0;
}

void render_output_done(struct render_output *o) {
        if (!o)
                return;
        o->subject = mfree(o->subject);
        o->text = mfree(o->text);
        o->html = mfree(o->html);
        o->body = mfree(o->body);
}

int render_message(const struct render_templates *t, const struct render_input *in,
                   struct render_output *ret) {
        _cleanup_(message_values_done) struct message_values m = {};
        _cleanup_(render_output_done) struct render_output o = {};
        const struct tscope *roots[2];
        size_t group;
        char *s;
        int r;

        if (in->kind < 0 || in->kind >= _RENDER_KIND_MAX)
                return -EINVAL;
        if (in->n_recipients == 0 || !in->recipients)
                return -EINVAL;
        if (in->n_tasks > RENDER_TASKS_MAX || in->n_recipients > RENDER_RECIPIENTS_MAX)
                return -E2BIG;
        if (in->n_tasks > 0 && !in->tasks)
                return -EINVAL;

        switch (in->kind) {
        case RENDER_REMINDER:
        case RENDER_OVERDUE:
                if (in->n_tasks == 0)
                        return -EINVAL;
                group = in->n_tasks == 1 ? TPL_TASK : TPL_DIGEST;
                break;
        case RENDER_ESCALATION:
                if (in->n_tasks == 0)
                        return -EINVAL;
                group = TPL_ESCALATION;
                break;
        case RENDER_ASSIGNMENT:
                if (in->n_tasks == 0)
                        return -EINVAL;
                group = TPL_ASSIGN;
                break;
        case RENDER_REPORT:
                group = TPL_REPORT;
                break;
        case RENDER_ACK:
                group = TPL_ACK;
                break;
        case RENDER_REJECT:
                group = TPL_REJECT;
                break;
        default:
                group = TPL_TEST;
                break;
        }

        r = message_values_build(&m, in, t->lang);
        if (r < 0)
                return r;
        roots[0] = &m.msg_scope;
        roots[1] = &m.first_task_scope;

        r = render_part(t->t[group * _PART_MAX + PART_SUBJECT], roots, 2, &o.subject);
        if (r < 0)
                return r;
        text_collapse_spaces(o.subject);
        r = text_shorten(o.subject, RENDER_SUBJECT_MAX, &s);
        if (r < 0)
                return r;
        free(o.subject);
        o.subject = s;

        r = render_part(t->t[group * _PART_MAX + PART_TEXT], roots, 2, &o.text);
        if (r < 0)
                return r;
        text_collapse_blank_lines(o.text);

        if (!in->webhook) {
                r = render_part(t->t[group * _PART_MAX + PART_HTML], roots, 2, &o.html);
                if (r < 0)
                        return r;
        }

        if (in->body) {
                _cleanup_free_ char *cut = NULL;
                struct tvalue body[_BV_MAX] = {};
                const struct tscope body_root = { &body_scope, body };
                const struct tscope *body_roots[] = { &body_root, roots[0], roots[1] };

                if (in->body_text_max > 0) {
                        r = text_shorten(o.text, in->body_text_max, &cut);
                        if (r < 0)
                                return r;
                }
                body[BV_SUBJECT] = text_value(o.subject);
                body[BV_TEXT] = text_value(cut ?: o.text);
                body[BV_KIND] = text_value(render_kind_to_string(in->kind));
                body[BV_EVENT_ID] = text_value(in->event_id);
                r = render_part(in->body, body_roots, ELEMENTSOF(body_roots), &o.body);
                if (r < 0)
                        return r;
        }

        *ret = o;
        o = (struct render_output) {};
        return 0;
}
