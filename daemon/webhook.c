/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "webhook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "compose.h"
#include "render.h"
#include "webhook-format.h"

/* splitmix64's finaliser: spreads an id over all 64 bits. */
static uint64_t mix64(uint64_t x) {
        x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
        x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
        return x ^ (x >> 31);
}

void webhook_delivery_id(const struct job *j, char buf[static WEBHOOK_ID_MAX]) {
        int64_t first = j->rows[0].delivery_id;
        uint64_t h = 0;

        if (j->n_rows == 1) {
                snprintf(buf, WEBHOOK_ID_MAX, "deadlined-%s-%lld", j->instance, (long long) first);
                return;
        }
        /* A sum of mixed ids: the order rows were claimed in does not
         * matter, only which rows they are. Not a security measure (the id
         * is signed with the body), only a name. */
        for (size_t i = 0; i < j->n_rows; i++) {
                first = MIN(first, j->rows[i].delivery_id);
                h += mix64((uint64_t) j->rows[i].delivery_id);
        }
        snprintf(buf, WEBHOOK_ID_MAX, "deadlined-%s-%lld-%016llx", j->instance, (long long) first,
                 (unsigned long long) h);
}

const struct webhook *webhook_find(const struct config *c, const struct job *j) {
        const struct agency *a = j->agency ? config_find_agency(c, j->agency) : NULL;

        if (!a || j->webhook_index >= a->n_webhooks)
                return NULL;
        return &a->webhooks[j->webhook_index];
}

static char *header_line(const char *name, const char *value) {
        char *s;
        return asprintf(&s, "%s: %s", name, value) < 0 ? NULL : s;
}

/* Whether the configuration sets header `name` itself: its value wins
 * over the one a format would add (an ntfy Priority, say). */
static bool header_configured(const struct webhook *w, const char *name) {
        for (size_t i = 0; i < w->n_headers; i++)
                if (strcasecmp(w->headers[i].name, name) == 0)
                        return true;
        return false;
}

/* Appends "Name: value"; on failure the list stays NULL-terminated. */
static int push_header(char **l, size_t *n, const char *name, const char *value) {
        char *s = header_line(name, value);

        if (!s)
                return -ENOMEM;
        l[(*n)++] = s;
        return 0;
}

/* The request's headers: the format's, the configured ones, then the
 * Standard Webhooks id and timestamp; the signature only if `sign` (a
 * delivery's is made when it leaves, by webhook_stamp()). */
static int build_headers(const struct webhook *w, const struct webhook_body *b, const char *id, int64_t now,
                         bool sign, const char *body, size_t size, char ***ret) {
        _cleanup_strv_free_ char **l = calloc(WEBHOOK_FORMAT_HEADERS_MAX + w->n_headers + 5, sizeof *l);
        _cleanup_free_ char *signature = NULL;
        char ts[24];
        size_t n = 0;
        int r;

        if (!l)
                return -ENOMEM;
        r = push_header(l, &n, "Content-Type", b->content_type);
        for (size_t i = 0; r >= 0 && i < b->n_headers; i++)
                if (!header_configured(w, b->headers[i].name))
                        r = push_header(l, &n, b->headers[i].name, b->headers[i].value);
        /* A header whose credential this process could not read has no
         * value: it is left out rather than sent empty. */
        for (size_t i = 0; r >= 0 && i < w->n_headers; i++)
                if (w->headers[i].value)
                        r = push_header(l, &n, w->headers[i].name, w->headers[i].value);
        snprintf(ts, sizeof ts, "%lld", (long long) now);
        if (r >= 0)
                r = push_header(l, &n, "webhook-id", id);
        if (r >= 0)
                r = push_header(l, &n, "webhook-timestamp", ts);
        if (r >= 0 && sign && w->secret) {
                r = w->key ? webhook_key_sign(w->key, id, now, body, size, &signature)
                           : webhook_sign(w->secret, id, now, body, size, &signature);
                if (r >= 0)
                        r = push_header(l, &n, "webhook-signature", signature);
        }
        if (r < 0)
                return r;
        *ret = TAKE_PTR(l);
        return 0;
}

/* Builds body and headers into the job. `e` says what the message is;
 * its rendered text is made here. */
static int compose(const struct config *c, struct job *j, struct webhook_event *e) {
        _cleanup_(webhook_body_done) struct webhook_body b = {};
        _cleanup_strv_free_ char **headers = NULL;
        _cleanup_free_ char *url = NULL;
        struct render_output out = {};
        int r;

        e->webhook = webhook_find(c, j);
        e->agency = config_find_agency(c, strempty(j->agency));
        if (!e->webhook)
                return -ENOENT;
        e->config = c;

        struct render_recipient recipient = { .name = e->agency->name, .role = e->role };
        struct render_input in = {
                .kind = e->kind,
                .now = e->now,
                .recipients = &recipient,
                .n_recipients = 1,
                .tasks = e->parts ? e->parts->tasks : NULL,
                .n_tasks = e->parts ? e->parts->n : 0,
                .base_url = c->base_url,
                .escalation_after = e->escalation_after,
                .webhook = true,
                .body = e->webhook->body,
                .body_text_max = e->webhook->text_max,
                .event_id = e->id,
        };
        r = render_message(c->render, &in, &out);
        if (r < 0)
                return r;
        e->subject = out.subject;
        e->text = out.text;
        e->body = out.body;

        switch (e->webhook->format) {
        case WEBHOOK_JSON:
                r = webhook_format_json(e, &b);
                break;
        case WEBHOOK_SLACK:
                r = webhook_format_slack(e, &b);
                break;
        case WEBHOOK_NTFY:
                r = webhook_format_ntfy(e, &b);
                break;
        case WEBHOOK_TELEGRAM:
                r = webhook_format_telegram(e, &b);
                break;
        case WEBHOOK_TEMPLATE:
                r = webhook_format_template(e, &b);
                break;
        default:
                r = -EINVAL;
        }
        if (r >= 0 && b.size > WEBHOOK_BODY_MAX)
                r = -E2BIG;
        if (r >= 0)
                /* A delivery may wait for its receiver, and its
                 * timestamp and signature are then made for the second it
                 * leaves: signed once, there. send-test's goes at once. */
                r = build_headers(e->webhook, &b, e->id, e->now, e->kind == RENDER_TEST, b.body, b.size, &headers);
        /* The subject for a dry run's listing; send-test's message is
         * never listed (and its job lives on the caller's stack). */
        if (r >= 0 && e->kind != RENDER_TEST) {
                free(j->subject);
                j->subject = strdup(strempty(out.subject));
                if (!j->subject)
                        r = -ENOMEM;
        }
        render_output_done(&out);
        if (r < 0)
                return r;
        url = strdup(e->webhook->url);
        if (!url)
                return -ENOMEM;

        free(j->url);
        j->url = TAKE_PTR(url);
        strv_free(j->headers);
        j->headers = TAKE_PTR(headers);
        free(j->body);
        j->body = TAKE_PTR(b.body);
        j->body_size = b.size;
        j->sign_pending = e->kind != RENDER_TEST && e->webhook->secret;
        return 0;
}

int compose_webhook(const struct config *c, struct job *j, const struct task *const *tasks, int64_t now) {
        struct compose_parts parts = {};
        char id[WEBHOOK_ID_MAX];
        int r;

        if (j->n_rows == 0 || !j->instance[0])
                return -EINVAL;
        webhook_delivery_id(j, id);
        struct webhook_event e = {
                .kind = compose_slot_kind(j->rows[0].slot),
                .id = id,
                .now = now,
                .digest = c->policy.digest,
                .job = j,
                .tasks = tasks,
                .parts = &parts,
                .role = j->rows[0].role,
        };
        /* The event happened when its reminder fell due: the latest slot
         * of a digest. */
        e.occurred = j->rows[0].slot_at;
        for (size_t i = 1; i < j->n_rows; i++)
                e.occurred = MAX(e.occurred, j->rows[i].slot_at);
        if (e.kind == RENDER_ESCALATION) {
                e.escalation_after = compose_escalation_after(c, j->rows[0].slot);
                e.escalation_level = atoi(j->rows[0].slot + strlen("escalate:"));
        }
        /* The agency's role is a single task's; a digest or an escalation
         * speaks to the agency about several, or as a supervisor. */
        if (e.digest || e.kind == RENDER_ESCALATION)
                e.role = _ROLE_INVALID;

        r = compose_collect_tasks(c, j, tasks, now, &parts);
        if (r >= 0)
                r = compose(c, j, &e);
        compose_parts_done(&parts);
        return r;
}

int webhook_compose_test(const struct config *c, struct job *j, const char *id, int64_t now) {
        struct webhook_event e = {
                .kind = RENDER_TEST,
                .id = id,
                .now = now,
                .occurred = now,
                .job = j,
                .role = _ROLE_INVALID,
        };

        if (strlen(id) >= WEBHOOK_ID_MAX)
                return -EINVAL;
        return compose(c, j, &e);
}

void webhook_reply_sanitize(char *s) {
        for (uint8_t *p = (uint8_t *) s; *p;) {
                int32_t c;
                utf8proc_ssize_t n = utf8proc_iterate(p, -1, &c);
                if (n < 0) {
                        *p++ = '?';
                        continue;
                }
                if (c < 0x20 || c == 0x7f)
                        *p = ' ';
                p += n;
        }
}

/* The index of header `name` in a job's list, or -1. */
static ssize_t header_index(char *const *headers, const char *name) {
        size_t n = strlen(name);
        for (ssize_t i = 0; headers && headers[i]; i++)
                if (strncasecmp(headers[i], name, n) == 0 && headers[i][n] == ':')
                        return i;
        return -1;
}

int webhook_stamp(const struct config *c, struct job *j, int64_t now) {
        const struct webhook *w = webhook_find(c, j);
        ssize_t id = header_index(j->headers, "webhook-id"), ts = header_index(j->headers, "webhook-timestamp"),
                sig = header_index(j->headers, "webhook-signature");
        _cleanup_free_ char *stamp = NULL, *signature = NULL, *line = NULL;
        char buf[24];
        int r;

        if (id < 0 || ts < 0)
                return -EINVAL;
        snprintf(buf, sizeof buf, "%lld", (long long) now);
        /* Within the same second nothing would change. */
        if (!j->sign_pending && streq(j->headers[ts] + strlen("webhook-timestamp: "), buf))
                return 0;
        stamp = header_line("webhook-timestamp", buf);
        if (!stamp)
                return -ENOMEM;
        if (sig >= 0 || j->sign_pending) {
                /* A configuration reloaded without the secret leaves
                 * nothing to sign with: the request cannot go unsigned to
                 * a receiver that was promised a signature. */
                if (!w || !w->secret)
                        return -ENOKEY;
                const char *sid = j->headers[id] + strlen("webhook-id: ");
                r = w->key ? webhook_key_sign(w->key, sid, now, j->body, j->body_size, &signature)
                           : webhook_sign(w->secret, sid, now, j->body, j->body_size, &signature);
                if (r < 0)
                        return r;
                line = header_line("webhook-signature", signature);
                if (!line)
                        return -ENOMEM;
                if (sig < 0) {
                        size_t n = strv_length(j->headers);
                        char **l = reallocarray(j->headers, n + 2, sizeof *l);
                        if (!l)
                                return -ENOMEM;
                        j->headers = l;
                        l[n + 1] = NULL;
                        sig = n;
                } else
                        free(j->headers[sig]);
                j->headers[sig] = TAKE_PTR(line);
                j->sign_pending = false;
        }
        free(j->headers[ts]);
        j->headers[ts] = TAKE_PTR(stamp);
        return 1;
}

int webhook_request_url(const struct webhook *w, const char *job_url, char **ret) {
        char *u;

        /* A Telegram job's URL has "***" for the token, which only the
         * configuration holds: without it (a reload removed the webhook, or
         * the credential is not readable here) there is nothing to send to. */
        if (!strstr(job_url, "/bot***/")) {
                u = strdup(job_url);
                if (!u)
                        return -ENOMEM;
                *ret = u;
                return 0;
        }
        if (!w || w->format != WEBHOOK_TELEGRAM || !w->token || !w->url || !streq(w->url, job_url))
                return -ENOKEY;
        if (asprintf(&u, "%s/bot%s/sendMessage", w->api_url, w->token) < 0)
                return -ENOMEM;
        *ret = u;
        return 0;
}

void webhook_mask_secret(const struct webhook *w, char *s) {
        const char *token = w ? w->token : NULL;
        size_t n = token ? strlen(token) : 0;

        if (n == 0)
                return;
        for (char *p = strstr(s, token); p; p = strstr(p + 3, token)) {
                memcpy(p, "***", 3);
                memmove(p + 3, p + n, strlen(p + n) + 1);
        }
}

int64_t webhook_reply_retry_after(const struct webhook *w, const char *reply) {
        return w && w->format == WEBHOOK_TELEGRAM ? webhook_telegram_retry_after(reply) : 0;
}

int webhook_setup_easy(CURL *e, const struct webhook *w, const struct job *j, struct curl_slist **headers) {
        _cleanup_free_ char *url = NULL;
        struct curl_slist *l = NULL;
        int r;

        r = webhook_request_url(w, j->url, &url);
        if (r < 0)
                return r;

        for (char **h = j->headers; h && *h; h++) {
                struct curl_slist *n = curl_slist_append(l, *h);
                if (!n) {
                        curl_slist_free_all(l);
                        return -ENOMEM;
                }
                l = n;
        }
        /* libcurl would otherwise ask larger bodies to be confirmed with
         * "100 Continue" first, and wait a second for a receiver that never
         * answers that. */
        struct curl_slist *n = curl_slist_append(l, "Expect:");
        if (!n) {
                curl_slist_free_all(l);
                return -ENOMEM;
        }
        l = n;

        /* curl copies the URL: the copy with a token in it is wiped here. */
        curl_easy_setopt(e, CURLOPT_URL, url);
        explicit_bzero(url, strlen(url));
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
        /* A 3xx is a failure to report (the URL needs updating), never a
         * reason to send the signed payload somewhere else. */
        curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long) CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(e, CURLOPT_POST, 1L);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, j->body);
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) j->body_size);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, l);
        curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, WEBHOOK_CONNECT_TIMEOUT);
        curl_easy_setopt(e, CURLOPT_TIMEOUT, WEBHOOK_TIMEOUT);
        curl_easy_setopt(e, CURLOPT_USERAGENT, "deadlined/" VERSION);
        if (w && w->ca_file)
                curl_easy_setopt(e, CURLOPT_CAINFO, w->ca_file);
        *headers = l;
        return 0;
}
