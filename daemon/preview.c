/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "preview.h"

#include <jansson.h>
#include <string.h>

#include "json-util.h"
#include "render-text.h"
#include "table.h"
#include "timeutil.h"

struct preview_entry {
        size_t message;          /* 1-based: entries of one message share it */
        int64_t task_id;
        char *agency;
        enum role role;
        char channel[32];
        char *slot;
        int64_t slot_at;
        char *subject;
        char **recipients;       /* e-mail: the row's addresses; NULL for a webhook */
        char *error;             /* it would fail, and why; NULL if it would go */
};

struct preview {
        struct preview_entry *entries;
        size_t n, allocated;
        size_t messages;
        bool failed;             /* out of memory once: the list is not whole */
};

int preview_new(struct preview **ret) {
        struct preview *p = calloc(1, sizeof *p);

        if (!p)
                return -ENOMEM;
        *ret = p;
        return 0;
}

static void entry_done(struct preview_entry *e) {
        free(e->agency);
        free(e->slot);
        free(e->subject);
        strv_free(e->recipients);
        free(e->error);
}

struct preview *preview_free(struct preview *p) {
        if (!p)
                return NULL;
        for (size_t i = 0; i < p->n; i++)
                entry_done(&p->entries[i]);
        free(p->entries);
        free(p);
        return NULL;
}

size_t preview_deliveries(const struct preview *p) {
        return p->n;
}

/* The addresses a row's share of an e-mail goes to: those its agency
 * lists that do not have it yet. */
static int row_recipients(const struct job *j, size_t row, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(j->n_rcpt + 1, sizeof *l);
        size_t n = 0;

        if (!l)
                return -ENOMEM;
        for (size_t k = 0; k < j->n_rcpt; k++) {
                if (!job_rcpt_in_row(j, k, row) || job_row_delivered(&j->rows[row], j->rcpt[k]))
                        continue;
                l[n] = strdup(j->rcpt[k]);
                if (!l[n++])
                        return -ENOMEM;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static int add_rows(struct preview *p, const struct job *j) {
        bool counted = false;
        int r;

        for (size_t i = 0; i < j->n_rows; i++) {
                const struct job_row *row = &j->rows[i];

                /* Settled before it would leave: every address has it. */
                if (row->result == RESULT_SENT)
                        continue;
                if (p->n == p->allocated) {
                        size_t n = p->allocated ? p->allocated * 2 : 16;
                        struct preview_entry *e = realloc(p->entries, n * sizeof *e);
                        if (!e)
                                return -ENOMEM;
                        p->entries = e;
                        p->allocated = n;
                }
                if (!counted) {
                        p->messages++;
                        counted = true;
                }
                struct preview_entry *e = &p->entries[p->n];
                *e = (struct preview_entry) {
                        .message = p->messages,
                        .task_id = row->task_id,
                        .agency = strdup(row->agency),
                        .role = row->role,
                        .slot = strdup(row->slot),
                        .slot_at = row->slot_at,
                        .subject = j->subject ? strdup(j->subject) : NULL,
                        .error = row->result == RESULT_FAIL ? strdup(strempty(row->error)) : NULL,
                };
                if (j->channel == CHANNEL_EMAIL)
                        snprintf(e->channel, sizeof e->channel, "email");
                else
                        snprintf(e->channel, sizeof e->channel, "webhook:%zu", j->webhook_index);
                p->n++;
                if (!e->agency || !e->slot || (j->subject && !e->subject) ||
                    (row->result == RESULT_FAIL && !e->error))
                        return -ENOMEM;
                if (j->channel == CHANNEL_EMAIL && row->result != RESULT_FAIL) {
                        r = row_recipients(j, i, &e->recipients);
                        if (r < 0)
                                return r;
                }
        }
        return 0;
}

int preview_add(struct preview *p, const struct job *j) {
        int r = add_rows(p, j);

        if (r < 0)
                p->failed = true;
        return r;
}

int preview_print_text(const struct preview *p, int64_t now, FILE *f) {
        _cleanup_(table_freep) struct table *t = NULL;
        char when[20];
        int r;

        if (p->failed)
                return -ENOMEM;

        format_local(now, when);
        if (p->n == 0) {
                fprintf(f, "Nothing would be sent at %s.\n", when);
                return 0;
        }
        fprintf(f, "At %s, deadlined would send %zu message%s (%zu deliver%s):\n", when, p->messages,
                p->messages == 1 ? "" : "s", p->n, p->n == 1 ? "y" : "ies");

        r = table_new(8, &t);
        if (r < 0)
                return r;
        const char *head[] = { "MSG", "TASK", "AGENCY", "ROLE", "CHANNEL", "SLOT", "SLOT TIME", "SUBJECT" };
        for (size_t i = 0; i < ELEMENTSOF(head); i++)
                table_add(t, head[i]);
        for (size_t i = 0; i < p->n; i++) {
                const struct preview_entry *e = &p->entries[i];
                char msg[24], task[24], at[20];
                _cleanup_free_ char *subject = NULL;

                snprintf(msg, sizeof msg, "%zu", e->message);
                snprintf(task, sizeof task, "%lld", (long long) e->task_id);
                format_local(e->slot_at, at);
                if (e->error && asprintf(&subject, "(would fail: %s)", e->error) < 0)
                        return -ENOMEM;
                table_add(t, msg);
                table_add(t, task);
                table_add(t, e->agency);
                table_add(t, role_to_string(e->role));
                table_add(t, e->channel);
                table_add(t, e->slot);
                table_add(t, at);
                table_add(t, subject ?: e->subject);
        }
        table_set_align_right(t, 0, true);
        table_set_align_right(t, 1, true);
        return table_print(t, f);
}

/* Adds key: value, taking the reference; false when out of memory. */
static bool set(json_t *o, const char *key, json_t *v) {
        return v && json_object_set_new(o, key, v) == 0;
}

static json_t *strv_json(char **l) {
        json_t *a = json_array();

        for (char **s = l; a && s && *s; s++)
                if (json_array_append_new(a, json_text(*s)) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

int preview_print_json(const struct preview *p, int64_t now, FILE *f) {
        json_t *root = json_object(), *list = json_array();
        bool ok = root && list && !p->failed;

        for (size_t i = 0; ok && i < p->n; i++) {
                const struct preview_entry *e = &p->entries[i];
                json_t *o = json_object();

                ok = o && set(o, "message", json_integer((json_int_t) e->message)) &&
                     set(o, "task", json_integer(e->task_id)) && set(o, "agency", json_text(e->agency)) &&
                     set(o, "role", json_text(role_to_string(e->role))) && set(o, "channel", json_text(e->channel)) &&
                     set(o, "slot", json_text(e->slot)) && set(o, "slot_at", json_time(e->slot_at)) &&
                     set(o, "subject", json_text(e->subject)) &&
                     set(o, "recipients", e->recipients ? strv_json(e->recipients) : json_null()) &&
                     set(o, "error", json_text(e->error));
                if (ok)
                        ok = json_array_append_new(list, o) == 0;
                else
                        json_decref(o);
        }
        ok = ok && set(root, "at", json_time(now)) && set(root, "messages", json_integer((json_int_t) p->messages)) &&
             json_object_set(root, "deliveries", list) == 0;
        json_decref(list);
        if (ok)
                ok = json_dumpf(root, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 && fputc('\n', f) != EOF;
        json_decref(root);
        return ok ? 0 : -ENOMEM;
}
