/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "compose.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "mail-message.h"
#include "render.h"
#include "report-render.h"
#include "schedule.h"
#include "strbuf.h"
#include "timeutil.h"

enum render_kind compose_slot_kind(const char *slot) {
        if (strncmp(slot, "overdue:", 8) == 0)
                return RENDER_OVERDUE;
        if (strncmp(slot, "escalate:", 9) == 0)
                return RENDER_ESCALATION;
        if (strncmp(slot, "notice:", 7) == 0)
                return RENDER_ASSIGNMENT;
        return RENDER_REMINDER;
}

int64_t compose_escalation_after(const struct config *c, const char *slot) {
        /* "escalate:LEVEL:AFTER@DUE" */
        int level = atoi(slot + 9);
        if (level >= 1 && (size_t) level <= c->policy.n_escalation)
                return c->policy.escalation[level - 1].after;
        return 0;
}

/* The names of a task's agencies in one role, for the message body. */
static const char **role_names(const struct config *c, const struct task *t, enum role role) {
        const char **v = calloc(t->n_agencies + 1, sizeof *v);
        size_t n = 0;

        if (!v)
                return NULL;
        for (size_t i = 0; i < t->n_agencies; i++) {
                if (t->agencies[i].role != role)
                        continue;
                const struct agency *a = config_find_agency(c, t->agencies[i].agency);
                const struct group *g = a ? NULL : config_find_group(c, t->agencies[i].agency);
                v[n++] = a ? a->name : g ? g->name : t->agencies[i].agency;
        }
        return v;
}

void compose_parts_done(struct compose_parts *p) {
        for (size_t i = 0; i < p->n * COMPOSE_NAMES_PER_TASK; i++)
                free(p->names[i]);
        free(p->names);
        free(p->tasks);
        free(p->dues);
}

/* The names of the agencies a job's rows address about task `id`, in one
 * role: whom the message is To (leads) or Cc (cooperating) for it. */
static const char **addressed_names(const struct config *c, const struct job *j, const struct task *const *tasks,
                                    int64_t id, enum role role) {
        const char **v = calloc(j->n_rows + 1, sizeof *v);
        size_t n = 0;

        if (!v)
                return NULL;
        for (size_t i = 0; i < j->n_rows; i++) {
                if (tasks[i]->id != id || j->rows[i].role != role)
                        continue;
                const struct agency *a = config_find_agency(c, j->rows[i].agency);
                const char *name = a ? a->name : j->rows[i].agency;
                bool seen = false;
                for (size_t k = 0; k < n && !seen; k++)
                        seen = streq(v[k], name);
                if (!seen)
                        v[n++] = name;
        }
        return v;
}

int compose_collect_tasks(const struct config *c, const struct job *j, const struct task *const *tasks,
                          int64_t now, struct compose_parts *p) {
        p->tasks = calloc(j->n_rows, sizeof *p->tasks);
        p->dues = calloc(j->n_rows * 2, sizeof *p->dues);
        p->names = calloc(j->n_rows * COMPOSE_NAMES_PER_TASK, sizeof *p->names);
        if (!p->tasks || !p->dues || !p->names)
                return -ENOMEM;
        for (size_t i = 0; i < j->n_rows; i++) {
                const struct task *t = tasks[i];
                bool seen = false;
                for (size_t k = 0; k < p->n; k++)
                        seen = seen || p->tasks[k].id == t->id;
                if (seen)
                        continue;
                size_t k = p->n++;
                const char ***names = p->names + COMPOSE_NAMES_PER_TASK * k;
                names[0] = role_names(c, t, ROLE_LEAD);
                names[1] = role_names(c, t, ROLE_SUPPORT);
                names[2] = addressed_names(c, j, tasks, t->id, ROLE_LEAD);
                names[3] = addressed_names(c, j, tasks, t->id, ROLE_SUPPORT);
                if (!names[0] || !names[1] || !names[2] || !names[3])
                        return -ENOMEM;

                /* The recipients' role in the task, when they share one: a
                 * message To the lead and Cc the cooperating agencies has
                 * none, and names each agency's role instead. An escalation
                 * goes to supervisors, who have no role in it. */
                bool escalation = compose_slot_kind(j->rows[i].slot) == RENDER_ESCALATION;
                enum role role = escalation ? _ROLE_INVALID : j->rows[i].role;
                for (size_t r = i + 1; r < j->n_rows && role != _ROLE_INVALID; r++)
                        if (tasks[r]->id == t->id && j->rows[r].role != role)
                                role = _ROLE_INVALID;

                bool has_due = t->due && parse_due(t->due, 0, &p->dues[k]) >= 0;
                /* The second half of dues: original deadlines, for "extended to". */
                bool has_original = has_due && t->original_due &&
                                    parse_due(t->original_due, 0, &p->dues[j->n_rows + k]) >= 0;
                p->tasks[k] = (struct render_task) {
                        .id = t->id,
                        .document_number = t->document_number,
                        .ref = t->ref,
                        .title = t->title,
                        .detail = t->detail,
                        .due = has_due ? &p->dues[k] : NULL,
                        .original_due = has_original ? &p->dues[j->n_rows + k] : NULL,
                        .status = t->status,
                        .leads = names[0],
                        .supports = names[1],
                        .role = role,
                        .to_leads = escalation ? NULL : names[2],
                        .to_supports = escalation ? NULL : names[3],
                        .no_reminder_left = compose_slot_kind(j->rows[i].slot) == RENDER_ASSIGNMENT &&
                                            has_due && !schedule_reminder_left(&c->policy, t->due_at,
                                                                    t->due && !strchr(t->due, 'T'), now),
                };
        }
        return 0;
}

int compose_subject_tag(char **subject, int64_t task_id) {
        char *t;

        if (asprintf(&t, "%s [#%" PRId64 "]", strempty(*subject), task_id) < 0)
                return -ENOMEM;
        free(*subject);
        *subject = t;
        return 0;
}

/* Where an agency's answer goes: the inbox's address when one is
 * configured (the daemon reads it), else smtp.reply_to, else nowhere
 * (NULL). */
static const struct mail_address *answer_address(const struct config *c, struct mail_address *buf) {
        if (c->has_inbox && c->inbox.address)
                *buf = (struct mail_address) { c->from_name, c->inbox.address };
        else if (c->reply_address)
                *buf = (struct mail_address) { c->reply_name, c->reply_address };
        else
                return NULL;
        return buf;
}

/* What names a message (its Message-ID and X-Deadlined-Delivery): the same
 * on every retry, so that a receiver who sees it twice can tell. A per-task
 * message is the task and its slot, whichever of its recipients a retry is
 * for: "42-before-7d.1747760399". A digest is named by its first delivery.
 * The Message-ID puts the database's instance id before it, which makes it
 * unique across databases. */
static int message_token(const struct job *j, bool digest, int64_t now, char **ret) {
        const char *slot = j->rows[0].slot;
        char *t;

        if (digest) {
                int32_t day;
                int64_t sec;
                instant_to_local(now, &day, &sec);
                return mail_digest_token(j->rows[0].agency, day, j->rows[0].delivery_id, ret);
        }
        /* About no one task: the key, which names the agency. */
        if (j->rows[0].task_id == 0 ? asprintf(&t, "%s", slot) < 0
                                    : asprintf(&t, "%lld-%s", (long long) j->rows[0].task_id, slot) < 0)
                return -ENOMEM;
        for (char *p = t; *p; p++)
                if (*p == ':')
                        *p = '-';
                else if (*p == '@')
                        *p = '.';
                else if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+=", *p))
                        *p = '_';
        *ret = t;
        return 0;
}

/* A retry goes only to the addresses that do not have the message yet
 * (another of the agency's refused it for a while): an address is left
 * out when every row it belongs to has it. A row left with no address
 * has been delivered to all of them: it is settled as sent. Compacts
 * j->rcpt and j->rcpt_in_row in place. */
static void drop_delivered(struct job *j) {
        size_t kept = 0;

        for (size_t k = 0; k < j->n_rcpt; k++) {
                bool needed = false;
                for (size_t i = 0; i < j->n_rows && !needed; i++)
                        needed = job_rcpt_in_row(j, k, i) && !job_row_delivered(&j->rows[i], j->rcpt[k]);
                if (!needed) {
                        free(j->rcpt[k]);
                        continue;
                }
                memmove(j->rcpt_in_row + kept * j->n_rows, j->rcpt_in_row + k * j->n_rows, j->n_rows);
                j->rcpt[kept++] = j->rcpt[k];
        }
        j->rcpt[kept] = NULL;
        j->n_rcpt = kept;

        for (size_t i = 0; i < j->n_rows; i++) {
                bool any = false;
                for (size_t k = 0; k < j->n_rcpt && !any; k++)
                        any = job_rcpt_in_row(j, k, i);
                if (!any)
                        job_set_row_result(j, i, RESULT_SENT, NULL);
        }
}

/* Hands a message about no one task (a report, an answer to a reply) to
 * its job, with its subject: one row, which every address settles. Takes
 * *rcpt and *data. */
static int job_take_untasked(const struct config *c, struct job *j, const char *subject, char ***rcpt,
                             char **data, size_t size) {
        _cleanup_free_ char *from_addr = strdup(strempty(c->from_address));
        _cleanup_free_ bool *in_row = NULL;
        size_t n_rcpt = strv_length(*rcpt);

        free(j->subject);
        j->subject = strdup(strempty(subject));
        in_row = calloc(n_rcpt * j->n_rows + 1, sizeof *in_row);
        free(j->rcpt_refused);
        j->rcpt_refused = calloc(n_rcpt + 1, sizeof *j->rcpt_refused);
        if (!from_addr || !j->subject || !in_row || !j->rcpt_refused)
                return -ENOMEM;
        for (size_t k = 0; k < n_rcpt * j->n_rows; k++)
                in_row[k] = true;
        j->mail_from = TAKE_PTR(from_addr);
        j->rcpt = TAKE_PTR(*rcpt);
        j->rcpt_in_row = TAKE_PTR(in_row);
        j->n_rcpt = n_rcpt;
        drop_delivered(j);
        j->data = TAKE_PTR(*data);
        j->size = size;
        return 0;
}

int compose_email(const struct config *c, struct job *j, const struct task *const *tasks, int64_t now) {
        _cleanup_free_ char *from_addr = NULL, *data = NULL, *token = NULL, *thread = NULL;
        _cleanup_free_ struct mail_address *to = NULL, *cc = NULL;
        _cleanup_free_ struct render_recipient *recipients = NULL;
        _cleanup_free_ bool *in_row = NULL;
        _cleanup_free_ int64_t *task_ids = NULL;
        _cleanup_strv_free_ char **rcpt = NULL;
        struct render_output out = {};
        struct compose_parts parts = {};
        size_t n_to = 0, n_cc = 0, size;
        int r;

        struct mail_address reply_to;
        from_addr = strdup(strempty(c->from_address));
        if (!from_addr)
                return -ENOMEM;
        enum render_kind kind = compose_slot_kind(j->rows[0].slot);
        bool digest = c->policy.digest;

        /* As many places as the agencies have addresses, not the most a
         * message may carry: the lists are made for every message. */
        size_t places = 0;
        for (size_t i = 0; i < j->n_rows; i++) {
                const struct agency *a = config_find_agency(c, j->rows[i].agency);
                places += strv_length(a->email) + strv_length(a->cc);
        }
        places = MIN(places, (size_t) MAIL_RECIPIENTS_MAX);
        to = calloc(places + 1, sizeof *to);
        cc = calloc(places + 1, sizeof *cc);
        recipients = calloc(j->n_rows, sizeof *recipients);
        if (!to || !cc || !recipients)
                return -ENOMEM;

        /* To: the lead agencies (or the agency of a digest, or the
         * supervisors of an escalation); Cc: the cooperating ones and every
         * agency's own cc addresses. Everyone sees who else is on it, as on
         * the official letter this replaces. */
        size_t n_recipients = 0;
        for (size_t i = 0; i < j->n_rows; i++) {
                const struct agency *a = config_find_agency(c, j->rows[i].agency);
                bool known = false;
                for (size_t k = 0; k < n_recipients; k++)
                        known = known || streq(recipients[k].name, a->name);
                if (known)
                        continue;
                recipients[n_recipients++] = (struct render_recipient) {
                        .name = a->name,
                        .role = digest || kind == RENDER_ESCALATION ? _ROLE_INVALID : j->rows[i].role,
                };
                bool lead = digest || kind == RENDER_ESCALATION || j->rows[i].role == ROLE_LEAD;
                for (char **e = a->email; *e && n_to + n_cc < MAIL_RECIPIENTS_MAX; e++) {
                        if (lead)
                                to[n_to++] = (struct mail_address) { a->name, *e };
                        else
                                cc[n_cc++] = (struct mail_address) { a->name, *e };
                }
                for (char **e = a->cc; *e && n_to + n_cc < MAIL_RECIPIENTS_MAX; e++)
                        cc[n_cc++] = (struct mail_address) { a->name, *e };
        }
        if (n_to == 0 && n_cc > 0) {
                /* Only cooperating agencies have addresses: they are the
                 * ones to write to. */
                memcpy(to, cc, n_cc * sizeof *cc);
                n_to = n_cc;
                n_cc = 0;
        }

        r = compose_collect_tasks(c, j, tasks, now, &parts);
        if (r < 0)
                goto finish;
        struct render_input in = {
                .kind = kind,
                .now = now,
                .recipients = recipients,
                .n_recipients = n_recipients,
                .tasks = parts.tasks,
                .n_tasks = parts.n,
                .base_url = c->base_url,
                .escalation_after = kind == RENDER_ESCALATION ? compose_escalation_after(c, j->rows[0].slot) : 0,
        };
        r = render_message(c->render, &in, &out);
        if (r < 0)
                goto finish;
        if (parts.n == 1) {
                r = compose_subject_tag(&out.subject, parts.tasks[0].id);
                if (r < 0)
                        goto finish;
        }

        task_ids = calloc(parts.n, sizeof *task_ids);
        if (!task_ids) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t i = 0; i < parts.n; i++)
                task_ids[i] = parts.tasks[i].id;
        r = message_token(j, digest, now, &token);
        if (r < 0)
                goto finish;
        if (digest) {
                /* Every digest to the agency on one day threads together,
                 * and a reply to one names the agency. */
                int32_t day;
                int64_t sec;
                instant_to_local(now, &day, &sec);
                r = mail_digest_thread_id(j->rows[0].agency, day, j->instance, c->from_address, &thread);
                if (r < 0)
                        goto finish;
        }
        struct mail_message m = {
                .from = { c->from_name, c->from_address },
                .to = to,
                .n_to = n_to,
                .cc = cc,
                .n_cc = n_cc,
                .reply_to = answer_address(c, &reply_to),
                .subject = out.subject,
                .text = out.text,
                .html = out.html,
                .date = now,
                .delivery = token,
                .instance = j->instance,
                .tasks = task_ids,
                .n_tasks = parts.n,
                .thread = thread,
        };
        r = mail_message_format(&m, &data, &size);
        if (r < 0)
                goto finish;
        free(j->subject);
        j->subject = strdup(strempty(out.subject));
        if (!j->subject) {
                r = -ENOMEM;
                goto finish;
        }
        r = mail_message_recipients(&m, &rcpt);
        if (r < 0)
                goto finish;

        /* Which rows each envelope recipient settles: those of the
         * agencies that list its address. */
        size_t n_rcpt = strv_length(rcpt);
        in_row = calloc(n_rcpt * j->n_rows + 1, sizeof *in_row);
        j->rcpt_refused = calloc(n_rcpt + 1, sizeof *j->rcpt_refused);
        if (!in_row || !j->rcpt_refused) {
                r = -ENOMEM;
                goto finish;
        }
        for (size_t k = 0; k < n_rcpt; k++)
                for (size_t i = 0; i < j->n_rows; i++) {
                        const struct agency *a = config_find_agency(c, j->rows[i].agency);
                        bool mine = false;
                        for (char **e = a->email; *e && !mine; e++)
                                mine = strcasecmp(*e, rcpt[k]) == 0;
                        for (char **e = a->cc; *e && !mine; e++)
                                mine = strcasecmp(*e, rcpt[k]) == 0;
                        in_row[k * j->n_rows + i] = mine;
                }

        j->mail_from = TAKE_PTR(from_addr);
        j->rcpt = TAKE_PTR(rcpt);
        j->rcpt_in_row = TAKE_PTR(in_row);
        j->n_rcpt = n_rcpt;
        drop_delivered(j);
        j->data = TAKE_PTR(data);
        j->size = size;
        r = 0;
finish:
        render_output_done(&out);
        compose_parts_done(&parts);
        return r;
}

/* The report's page with the letter (report.html) at the top of its body. */
static int report_page(const struct report *rep, enum language lang, const char *letter, char **ret) {
        _cleanup_(strbuf_done) struct strbuf page = STRBUF_INIT(MAIL_BODY_MAX), b = STRBUF_INIT(MAIL_BODY_MAX);
        int r;

        r = report_render_html(rep, lang, &page);
        if (r < 0)
                return r;
        const char *at = strstr(page.data, "<body>\n");
        if (!at)
                return -EINVAL;
        at += strlen("<body>\n");
        strbuf_putn(&b, page.data, (size_t) (at - page.data));
        strbuf_puts(&b, strempty(letter));
        strbuf_puts(&b, at);
        return strbuf_steal(&b, ret, NULL);
}

/* One agency's addresses for a message to it alone: its e-mail addresses
 * in To, its cc addresses in Cc. -ENXIO when it has none. */
static int agency_addresses(const struct agency *a, struct mail_address **ret_to, size_t *ret_n_to,
                            struct mail_address **ret_cc, size_t *ret_n_cc) {
        _cleanup_free_ struct mail_address *to = NULL, *cc = NULL;
        size_t n = strv_length(a->email) + strv_length(a->cc), n_to = 0, n_cc = 0;

        if (n == 0)
                return -ENXIO;
        to = calloc(n, sizeof *to);
        cc = calloc(n, sizeof *cc);
        if (!to || !cc)
                return -ENOMEM;
        for (char **e = a->email; *e; e++)
                to[n_to++] = (struct mail_address) { a->name, *e };
        for (char **e = a->cc; *e; e++)
                cc[n_cc++] = (struct mail_address) { a->name, *e };
        *ret_to = TAKE_PTR(to);
        *ret_cc = TAKE_PTR(cc);
        *ret_n_to = n_to;
        *ret_n_cc = n_cc;
        return 0;
}

static int compose_report(const struct config *c, struct job *j, const struct report *rep, int64_t now) {
        _cleanup_free_ char *data = NULL, *token = NULL, *html = NULL, *csv = NULL;
        _cleanup_free_ struct mail_address *to = NULL, *cc = NULL;
        _cleanup_strv_free_ char **rcpt = NULL;
        _cleanup_(render_output_done) struct render_output out = {};
        _cleanup_(strbuf_done) struct strbuf cb = STRBUF_INIT(MAIL_ATTACHMENT_MAX);
        const struct agency *a = config_find_agency(c, j->agency);
        size_t n_to = 0, n_cc = 0, size, csv_size;
        char filename[MAIL_FILENAME_MAX + 1];
        const char *period;
        int r;

        if (!rep || j->channel != CHANNEL_EMAIL)
                return -EOPNOTSUPP;
        if (!a)
                return -ENOENT;
        period = strrchr(j->rows[0].slot, ':') + 1;
        r = agency_addresses(a, &to, &n_to, &cc, &n_cc);
        if (r < 0)
                return r;

        struct render_recipient recipient = { .name = a->name, .role = _ROLE_INVALID };
        struct render_input in = {
                .kind = RENDER_REPORT,
                .now = now,
                .recipients = &recipient,
                .n_recipients = 1,
                .base_url = c->base_url,
                .report_period = period,
                .report_from = rep->from_day,
                .report_to = rep->to_day,
                .report_on_time = rep->total.on_time,
                .report_late = rep->total.late,
                .report_open = rep->total.open,
                .report_overdue = rep->total.overdue,
        };
        r = render_message(c->render, &in, &out);
        if (r < 0)
                return r;
        r = report_page(rep, c->language, out.html, &html);
        if (r < 0)
                return r;
        /* UTF-8 with a byte order mark: without it, Excel takes a CSV file
         * for the local ANSI code page and garbles every Vietnamese name. */
        strbuf_puts(&cb, "\xEF\xBB\xBF");
        r = report_render_csv(rep, &cb);
        if (r >= 0)
                r = strbuf_steal(&cb, &csv, &csv_size);
        if (r < 0)
                return r;
        snprintf(filename, sizeof filename, "%s-%s.csv", c->language == LANGUAGE_VI ? "bao-cao" : "report", period);

        r = message_token(j, false, now, &token);
        if (r < 0)
                return r;
        struct mail_address reply_to = { c->reply_name, c->reply_address };
        struct mail_attachment att = {
                .filename = filename,
                .content_type = "text/csv; charset=utf-8",
                .data = csv,
                .size = csv_size,
        };
        struct mail_message m = {
                .from = { c->from_name, c->from_address },
                .to = n_to > 0 ? to : cc,
                .n_to = n_to > 0 ? n_to : n_cc,
                .cc = n_to > 0 ? cc : NULL,
                .n_cc = n_to > 0 ? n_cc : 0,
                .reply_to = c->reply_address ? &reply_to : NULL,
                .subject = out.subject,
                .text = out.text,
                .html = html,
                .date = now,
                .delivery = token,
                .instance = j->instance,
                .attachments = &att,
                .n_attachments = 1,
        };
        r = mail_message_format(&m, &data, &size);
        if (r >= 0)
                r = mail_message_recipients(&m, &rcpt);
        if (r < 0)
                return r;
        return job_take_untasked(c, j, out.subject, &rcpt, &data, size);
}

/* The subject of a reply without its "Re:", "RE:", "Fwd:", "AW:", "TR:"
 * prefixes, so that the answer says "Re: " once. */
static const char *strip_reply_prefixes(const char *s) {
        static const char *const prefixes[] = { "re:", "aw:", "sv:", "tr:", "fw:", "fwd:", "vs:" };
        bool more = true;

        while (more) {
                more = false;
                s += strspn(s, " \t");
                for (size_t i = 0; i < ELEMENTSOF(prefixes) && !more; i++)
                        if (strncasecmp(s, prefixes[i], strlen(prefixes[i])) == 0) {
                                s += strlen(prefixes[i]);
                                more = true;
                        }
        }
        return s;
}

int compose_reply_answer(const struct config *c, struct job *j, const struct inbox_message *reply,
                         const struct task *task, int64_t now) {
        _cleanup_free_ char *data = NULL, *token = NULL, *subject = NULL, *thread = NULL;
        _cleanup_strv_free_ char **rcpt = NULL;
        _cleanup_(render_output_done) struct render_output out = {};
        struct compose_parts parts = {};
        const struct agency *a = config_find_agency(c, j->agency);
        bool reject = strncmp(j->rows[0].slot, "reject:", 7) == 0;
        struct due asked = {};
        size_t size;
        int r;

        if (j->channel != CHANNEL_EMAIL)
                return -EOPNOTSUPP;
        if (j->n_rows != 1 || !reply || !mail_address_is_valid(reply->sender))
                return -EINVAL;

        /* The task the reply names, as a one-task message would show it. */
        if (task) {
                r = compose_collect_tasks(c, j, &task, now, &parts);
                if (r < 0)
                        goto finish;
                parts.n = 1;
        }
        subject = strdup(strip_reply_prefixes(strempty(reply->subject)));
        if (!subject) {
                r = -ENOMEM;
                goto finish;
        }
        if (task) {
                char tag[32];
                snprintf(tag, sizeof tag, "[#%" PRId64 "]", task->id);
                if (!strstr(subject, tag)) {
                        r = compose_subject_tag(&subject, task->id);
                        if (r < 0)
                                goto finish;
                }
        }
        if (reply->asked_day != INT32_MIN)
                asked = (struct due) { reply->asked_day, -1 };
        struct render_recipient recipient = { .name = a ? a->name : reply->sender, .role = _ROLE_INVALID };
        struct render_input in = {
                .kind = reject ? RENDER_REJECT : RENDER_ACK,
                .now = now,
                .recipients = &recipient,
                .n_recipients = 1,
                .tasks = parts.n > 0 ? parts.tasks : NULL,
                .n_tasks = parts.n,
                .base_url = c->base_url,
                .reply_subject = subject,
                .reply_from = reply->sender,
                .reply_date = reply->sent_at != NO_TIME ? reply->sent_at : reply->received_at,
                .reply_done = reply->intent == INBOX_INTENT_DONE,
                .reply_asked = reply->intent == INBOX_INTENT_EXTENSION && reply->asked_day != INT32_MIN ? &asked
                                                                                                       : NULL,
                .reason = reject ? strempty(reply->reason) : NULL,
        };
        r = render_message(c->render, &in, &out);
        if (r < 0)
                goto finish;

        /* The reply's own id, when it is one a header may carry. */
        if (reply->message_id && asprintf(&thread, "<%s>", reply->message_id) < 0) {
                r = -ENOMEM;
                goto finish;
        }
        if (thread && !mail_id_is_valid(thread))
                thread = mfree(thread);
        r = message_token(j, false, now, &token);
        if (r < 0)
                goto finish;
        struct mail_address to = { a ? a->name : NULL, reply->sender };
        struct mail_address reply_to;
        struct mail_message m = {
                .from = { c->from_name, c->from_address },
                .to = &to,
                .n_to = 1,
                .reply_to = answer_address(c, &reply_to),
                .subject = out.subject,
                .text = out.text,
                .html = out.html,
                .date = now,
                .delivery = token,
                .instance = j->instance,
                .tasks = task ? &task->id : NULL,
                .n_tasks = task ? 1 : 0,
                .thread = thread,
        };
        r = mail_message_format(&m, &data, &size);
        if (r >= 0)
                r = mail_message_recipients(&m, &rcpt);
        if (r < 0)
                goto finish;
        r = job_take_untasked(c, j, out.subject, &rcpt, &data, size);
finish:
        compose_parts_done(&parts);
        return r;
}

int compose_untasked(const struct config *c, struct job *j, const struct report *report, int64_t now) {
        if (j->n_rows == 0)
                return -EINVAL;
        if (strncmp(j->rows[0].slot, "report:", 7) == 0 && strrchr(j->rows[0].slot, ':') > j->rows[0].slot + 6)
                return compose_report(c, j, report, now);
        return -EOPNOTSUPP;
}

int compose_test_email(const struct config *c, const struct agency *a, int64_t now, const char *token,
                       struct job *j) {
        _cleanup_free_ char *from_addr = NULL, *data = NULL;
        _cleanup_free_ struct mail_address *to = NULL, *cc = NULL;
        _cleanup_strv_free_ char **rcpt = NULL;
        struct render_output out = {};
        size_t n_to = 0, n_cc = 0, size;
        int r;

        r = agency_addresses(a, &to, &n_to, &cc, &n_cc);
        if (r < 0)
                return r;

        struct render_recipient recipient = { .name = a->name, .role = _ROLE_INVALID };
        struct render_input in = {
                .kind = RENDER_TEST,
                .now = now,
                .recipients = &recipient,
                .n_recipients = 1,
                .base_url = c->base_url,
        };
        r = render_message(c->render, &in, &out);
        if (r < 0)
                return r;
        struct mail_address reply_to = { c->reply_name, c->reply_address };
        struct mail_message m = {
                .from = { c->from_name, c->from_address },
                .to = n_to > 0 ? to : cc,
                .n_to = n_to > 0 ? n_to : n_cc,
                .cc = n_to > 0 ? cc : NULL,
                .n_cc = n_to > 0 ? n_cc : 0,
                .reply_to = c->reply_address ? &reply_to : NULL,
                .subject = out.subject,
                .text = out.text,
                .html = out.html,
                .date = now,
                .delivery = token,
        };
        r = mail_message_format(&m, &data, &size);
        if (r >= 0)
                r = mail_message_recipients(&m, &rcpt);
        render_output_done(&out);
        if (r >= 0 && !(from_addr = strdup(strempty(c->from_address))))
                r = -ENOMEM;
        if (r < 0)
                return r;
        j->mail_from = TAKE_PTR(from_addr);
        j->n_rcpt = strv_length(rcpt);
        j->rcpt = TAKE_PTR(rcpt);
        j->data = TAKE_PTR(data);
        j->size = size;
        return 0;
}
