/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "webhook-format.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json-util.h"
#include "render-text.h"
#include "strbuf.h"

/* Slack's limits: a header block's text, a section's text, blocks in a
 * message. Mattermost and Rocket.Chat show the top-level "text", which is
 * kept under the smallest of the three products' message limits. */
#define SLACK_HEADER_MAX 150
#define SLACK_SECTION_MAX 3000
#define SLACK_BLOCKS_MAX 50
#define SLACK_TEXT_MAX 4000
/* ntfy turns a longer message into an attachment. */
#define NTFY_MESSAGE_MAX 4096

void webhook_body_done(struct webhook_body *b) {
        free(b->body);
        for (size_t i = 0; i < b->n_headers; i++)
                free(b->headers[i].value);
        *b = (struct webhook_body) {};
}

static size_t utf8_len(unsigned char c) {
        if (c < 0x80)
                return 1;
        if ((c & 0xe0) == 0xc0)
                return 2;
        if ((c & 0xf0) == 0xe0)
                return 3;
        if ((c & 0xf8) == 0xf0)
                return 4;
        return 1;
}

/* Adds key: value, taking the reference; a NULL value (out of memory)
 * marks the object as failed. */
static void set(json_t *o, const char *key, json_t *value, bool *ok) {
        if (!value || json_object_set_new(o, key, value) < 0)
                *ok = false;
}

static void append(json_t *a, json_t *value, bool *ok) {
        if (!value || json_array_append_new(a, value) < 0)
                *ok = false;
}

/* The JSON payload is written straight into its buffer (json_writer):
 * one per delivery, so no tree is built and freed for it. */
static void write_role(struct json_writer *w, enum role r) {
        if (r >= 0 && r < _ROLE_MAX)
                json_write_text(w, role_to_string(r));
        else
                json_write_null(w);
}

static void write_task_agencies(struct json_writer *w, const struct config *c, const struct task *t) {
        json_write_open(w, '[');
        for (size_t i = 0; i < t->n_agencies; i++) {
                const char *id = t->agencies[i].agency;
                const struct agency *ag = config_find_agency(c, id);
                const struct group *g = ag ? NULL : config_find_group(c, id);

                json_write_open(w, '{');
                json_write_key(w, "id");
                json_write_text(w, id);
                json_write_key(w, "name");
                json_write_text(w, ag ? ag->name : g ? g->name : NULL);
                json_write_key(w, "role");
                write_role(w, t->agencies[i].role);
                json_write_close(w, '}');
        }
        json_write_close(w, ']');
}

static void write_task(struct json_writer *w, const struct webhook_event *e, const struct task *t,
                       const struct render_task *rt, enum role role) {
        const struct config *c = e->config;

        json_write_open(w, '{');
        json_write_key(w, "id");
        json_write_int(w, t->id);
        json_write_key(w, "document");
        json_write_text(w, t->document_number);
        json_write_key(w, "ref");
        json_write_text(w, t->ref);
        json_write_key(w, "title");
        json_write_text(w, t->title);
        json_write_key(w, "detail");
        json_write_text(w, t->detail);
        json_write_key(w, "due");
        json_write_text(w, t->due);
        json_write_key(w, "due_at");
        json_write_time(w, t->due_at);
        json_write_key(w, "status");
        json_write_text(w, task_status_to_string(t->status));
        if (c->base_url) {
                char *url;
                json_write_key(w, "url");
                if (asprintf(&url, "%s/tasks/%lld", c->base_url, (long long) t->id) < 0)
                        w->failed = true;
                else {
                        json_write_text(w, url);
                        free(url);
                }
        }
        json_write_key(w, "time_left");
        if (rt->due && t->due_at != NO_TIME) {
                char words[RENDER_TIME_LEFT_MAX];

                render_time_left(rt->due, e->now, c->language, RENDER_TIME_PHRASE, words);
                json_write_open(w, '{');
                json_write_key(w, "seconds");
                json_write_int(w, t->due_at - e->now);
                json_write_key(w, "text");
                json_write_text(w, words);
                json_write_close(w, '}');
        } else
                json_write_null(w);
        json_write_key(w, "role");
        write_role(w, role);
        json_write_key(w, "agencies");
        write_task_agencies(w, c, t);
        json_write_close(w, '}');
}

/* The distinct tasks of the event, in row order, as compose_collect_tasks()
 * numbered them. */
static void write_tasks(struct json_writer *w, const struct webhook_event *e) {
        const struct job *j = e->job;
        size_t k = 0;

        json_write_open(w, '[');
        for (size_t i = 0; e->parts && i < j->n_rows; i++) {
                bool seen = false;
                for (size_t p = 0; p < i && !seen; p++)
                        seen = e->tasks[p]->id == e->tasks[i]->id;
                if (seen || k >= e->parts->n)
                        continue;
                enum role role = e->kind == RENDER_ESCALATION ? _ROLE_INVALID : j->rows[i].role;
                write_task(w, e, e->tasks[i], &e->parts->tasks[k++], role);
        }
        json_write_close(w, ']');
}

static int dump(json_t *root, struct webhook_body *ret) {
        /* Compact, and UTF-8 as it is: receivers sign-check the exact bytes
         * and most parse them once. */
        char *s;
        size_t n;
        int r = json_dump_compact(root, 4096, &s, &n);

        json_decref(root);
        if (r < 0)
                return r;
        ret->body = s;
        ret->size = n;
        return 0;
}

int webhook_format_json(const struct webhook_event *e, struct webhook_body *ret) {
        const struct config *c = e->config;
        struct json_writer w;
        int r;

        json_writer_init(&w, 4096);
        json_write_open(&w, '{');
        json_write_key(&w, "version");
        json_write_int(&w, WEBHOOK_PAYLOAD_VERSION);
        json_write_key(&w, "type");
        json_write_text(&w, render_kind_to_string(e->kind));
        json_write_key(&w, "id");
        json_write_text(&w, e->id);
        json_write_key(&w, "timestamp");
        json_write_time(&w, e->occurred);
        json_write_key(&w, "language");
        json_write_text(&w, language_to_string(c->language));
        json_write_key(&w, "digest");
        json_write_bool(&w, e->digest);
        json_write_key(&w, "agency");
        json_write_open(&w, '{');
        json_write_key(&w, "id");
        json_write_text(&w, e->agency->id);
        json_write_key(&w, "name");
        json_write_text(&w, e->agency->name);
        json_write_key(&w, "role");
        write_role(&w, e->role);
        json_write_close(&w, '}');
        json_write_key(&w, "escalation");
        if (e->kind == RENDER_ESCALATION) {
                json_write_open(&w, '{');
                json_write_key(&w, "level");
                json_write_int(&w, e->escalation_level);
                json_write_key(&w, "after");
                json_write_int(&w, e->escalation_after);
                json_write_close(&w, '}');
        } else
                json_write_null(&w);
        json_write_key(&w, "subject");
        json_write_text(&w, e->subject);
        json_write_key(&w, "text");
        json_write_text(&w, e->text);
        json_write_key(&w, "tasks");
        write_tasks(&w, e);
        json_write_close(&w, '}');
        r = json_writer_finish(&w, &ret->body, &ret->size);
        if (r < 0)
                return r;
        ret->content_type = "application/json";
        return 0;
}

/* Slack's mrkdwn gives meaning to "&", "<" and ">": "<!channel>" would
 * notify a whole channel, "<https://…|text>" disguise a link. Escaped,
 * they are shown as typed (Mattermost and Rocket.Chat, which read Markdown,
 * decode the entities the same way). */
static void slack_escape(struct strbuf *b, const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                switch (s[i]) {
                case '&':
                        strbuf_puts(b, "&amp;");
                        break;
                case '<':
                        strbuf_puts(b, "&lt;");
                        break;
                case '>':
                        strbuf_puts(b, "&gt;");
                        break;
                default:
                        strbuf_putc(b, s[i]);
                }
}

/* How much of Slack's length limit a character takes once escaped: Slack
 * counts characters, and a character outside the Basic Multilingual Plane
 * is counted twice to be safe (two UTF-16 units). */
static size_t slack_units(const char *c, size_t len) {
        if (len == 1)
                return *c == '&' ? 5 : *c == '<' || *c == '>' ? 4 : 1;
        return len == 4 ? 2 : 1;
}

static json_t *slack_text_object(const char *type, const char *text) {
        json_t *o = json_object();
        bool ok = o != NULL;

        if (!ok)
                return NULL;
        set(o, "type", json_string(type), &ok);
        set(o, "text", json_text(text), &ok);
        if (streq(type, "plain_text"))
                set(o, "emoji", json_true(), &ok);
        if (!ok)
                json_decref(o);
        return ok ? o : NULL;
}

static json_t *slack_block(const char *block_type, const char *text_type, const char *text) {
        json_t *o = json_object();
        bool ok = o != NULL;

        if (!ok)
                return NULL;
        set(o, "type", json_string(block_type), &ok);
        set(o, "text", slack_text_object(text_type, text), &ok);
        if (!ok)
                json_decref(o);
        return ok ? o : NULL;
}

/* The text as mrkdwn sections of at most SLACK_SECTION_MAX characters
 * once escaped, cut at a line end where there is one, at most `max` of
 * them; a text that does not fit ends in "…". */
static int slack_sections(json_t *blocks, const char *text, size_t max) {
        const char *p = text;
        bool ok = true;

        for (size_t n = 0; *p && n < max && ok; n++) {
                const char *q = p, *line_end = NULL;
                size_t esc = 0;     /* characters, escaped */

                /* Room for "…" in the last one. */
                while (*q) {
                        size_t len = strnlen(q, utf8_len((unsigned char) *q)), add = slack_units(q, len);
                        if (esc + add > SLACK_SECTION_MAX - 1)
                                break;
                        esc += add;
                        if (*q == '\n')
                                line_end = q + 1;
                        q += len;
                }
                if (*q && line_end && line_end > p)
                        q = line_end;

                struct strbuf b = STRBUF_INIT(4 * SLACK_SECTION_MAX + 4);
                _cleanup_free_ char *s = NULL;
                slack_escape(&b, p, (size_t) (q - p));
                if (*q && n + 1 == max)
                        strbuf_puts(&b, "…");
                if (strbuf_steal(&b, &s, NULL) < 0)
                        return -ENOMEM;
                /* Slack refuses an empty or blank section. */
                if (s[strspn(s, " \n")])
                        append(blocks, slack_block("section", "mrkdwn", s), &ok);
                p = q;
        }
        return ok ? 0 : -ENOMEM;
}

int webhook_format_slack(const struct webhook_event *e, struct webhook_body *ret) {
        _cleanup_free_ char *full = NULL, *fallback = NULL, *header = NULL, *escaped = NULL;
        struct strbuf b = STRBUF_INIT(SLACK_TEXT_MAX * 5 + 1);
        json_t *root = NULL, *blocks = NULL;
        bool ok;
        int r;

        if (asprintf(&full, "%s\n\n%s", e->subject, e->text) < 0)
                return -ENOMEM;
        r = text_shorten(full, SLACK_TEXT_MAX, &fallback);
        if (r < 0)
                return r;
        slack_escape(&b, fallback, strlen(fallback));
        r = strbuf_steal(&b, &escaped, NULL);
        if (r < 0)
                return r;
        r = text_shorten(e->subject, SLACK_HEADER_MAX, &header);
        if (r < 0)
                return r;

        root = json_object();
        blocks = json_array();
        ok = root && blocks;
        if (ok) {
                set(root, "text", json_text(escaped), &ok);
                /* A header block shows plain text: nothing to escape. */
                append(blocks, slack_block("header", "plain_text", header), &ok);
        }
        if (ok && slack_sections(blocks, e->text, SLACK_BLOCKS_MAX - 1) < 0)
                ok = false;
        if (ok) {
                set(root, "blocks", blocks, &ok);
                blocks = NULL;
        }
        json_decref(blocks);
        if (!ok) {
                json_decref(root);
                return -ENOMEM;
        }
        ret->content_type = "application/json";
        return dump(root, ret);
}

int webhook_header_value_encode(const char *s, char **ret) {
        _cleanup_free_ char *clean = strdup(s);
        struct strbuf b = STRBUF_INIT(64 * 1024);
        bool plain = true;

        if (!clean)
                return -ENOMEM;
        for (unsigned char *c = (unsigned char *) clean; *c; c++) {
                if (*c < 0x20 || *c == 0x7f)
                        *c = ' ';
                plain = plain && *c < 0x80;
        }
        /* Text that looks like an encoded-word is encoded too, so that the
         * receiver shows it as written. */
        if (plain && !strstr(clean, "=?")) {
                *ret = TAKE_PTR(clean);
                return 0;
        }
        /* 45 bytes make 60 base64 characters: with "=?UTF-8?B?" and "?="
         * the word stays within RFC 2047's 75. A character is never split
         * between two words. */
        for (const char *p = clean; *p;) {
                const char *q = p;
                unsigned char enc[61];

                while (*q) {
                        size_t len = utf8_len((unsigned char) *q);
                        len = strnlen(q, len);
                        if ((size_t) (q + len - p) > 45)
                                break;
                        q += len;
                }
                if (q == p)
                        q += strnlen(q, utf8_len((unsigned char) *q));
                EVP_EncodeBlock(enc, (const unsigned char *) p, (int) (q - p));
                strbuf_printf(&b, "%s=?UTF-8?B?%s?=", p == clean ? "" : " ", (const char *) enc);
                p = q;
        }
        return strbuf_steal(&b, ret, NULL);
}

/* A copy of `s` cut at a character boundary to at most `max` bytes,
 * "…" included. */
static int cut_bytes(const char *s, size_t max, char **ret) {
        size_t n = strlen(s), end = 0;
        char *c;

        if (n <= max) {
                c = strdup(s);
                if (!c)
                        return -ENOMEM;
                *ret = c;
                return 0;
        }
        for (size_t len; end < n; end += len) {
                len = utf8_len((unsigned char) s[end]);
                if (end + len > max - strlen("…"))
                        break;
        }
        if (asprintf(&c, "%.*s…", (int) end, s) < 0)
                return -ENOMEM;
        *ret = c;
        return 0;
}

int webhook_format_ntfy(const struct webhook_event *e, struct webhook_body *ret) {
        static const struct {
                const char *priority, *tags;
        } styles[_RENDER_KIND_MAX] = {
                [RENDER_REMINDER] = { "3", "alarm_clock" },
                [RENDER_OVERDUE] = { "4", "warning" },
                [RENDER_ESCALATION] = { "5", "rotating_light" },
                [RENDER_ASSIGNMENT] = { "3", "memo" },
                [RENDER_TEST] = { "2", "white_check_mark" },
        };
        _cleanup_(webhook_body_done) struct webhook_body b = {};
        size_t n = 0;
        int r;

        r = cut_bytes(e->text, NTFY_MESSAGE_MAX, &b.body);
        if (r < 0)
                return r;
        b.size = strlen(b.body);
        b.content_type = "text/plain; charset=utf-8";

        b.headers[n].name = "Title";
        r = webhook_header_value_encode(e->subject, &b.headers[n++].value);
        if (r < 0)
                return r;
        b.n_headers = n;
        b.headers[n].name = "Priority";
        b.headers[n++].value = strdup(styles[e->kind].priority);
        b.headers[n].name = "Tags";
        b.headers[n++].value = strdup(styles[e->kind].tags);
        b.n_headers = n;
        if (e->parts && e->parts->n == 1 && e->config->base_url) {
                b.headers[n].name = "Click";
                if (asprintf(&b.headers[n].value, "%s/tasks/%lld", e->config->base_url,
                             (long long) e->parts->tasks[0].id) < 0)
                        b.headers[n].value = NULL;
                b.n_headers = ++n;
        }
        for (size_t i = 0; i < b.n_headers; i++)
                if (!b.headers[i].value)
                        return -ENOMEM;
        *ret = b;
        b = (struct webhook_body) {};
        return 0;
}

/* Telegram counts a message's length in UTF-16 code units, after its
 * entities are parsed: "&amp;" is one character, a tag none. */
#define TELEGRAM_TEXT_MAX 4096
#define TELEGRAM_TITLE_MAX 256

static size_t utf16_units(size_t utf8_len) {
        return utf8_len == 4 ? 2 : 1;
}

/* Appends `s` escaped for Telegram's HTML parse mode, stopping before
 * `*room` units would be exceeded; returns whether all of it fitted. */
static bool telegram_escape(struct strbuf *b, const char *s, size_t *room) {
        for (const char *p = s; *p;) {
                size_t len = strnlen(p, utf8_len((unsigned char) *p)), units = utf16_units(len);
                if (units > *room)
                        return false;
                *room -= units;
                switch (*p) {
                case '&':
                        strbuf_puts(b, "&amp;");
                        break;
                case '<':
                        strbuf_puts(b, "&lt;");
                        break;
                case '>':
                        strbuf_puts(b, "&gt;");
                        break;
                default:
                        strbuf_putn(b, p, len);
                }
                p += len;
        }
        return true;
}

int webhook_telegram_text(const char *subject, const char *text, char **ret) {
        struct strbuf b = STRBUF_INIT(4 * 6 * TELEGRAM_TEXT_MAX + 64);
        _cleanup_free_ char *title = NULL;
        size_t room;
        int r;

        r = text_shorten(subject, TELEGRAM_TITLE_MAX, &title);
        if (r < 0)
                return r;
        /* The title, its two line breaks and the text share the 4096
         * units; text that does not fit is cut and ends in "…" (one unit):
         * one delivery stays one request, so a retry never repeats half a
         * message. */
        room = TELEGRAM_TEXT_MAX - 2 - 1;
        strbuf_puts(&b, "<b>");
        (void) telegram_escape(&b, title, &room);
        strbuf_puts(&b, "</b>\n\n");
        if (!telegram_escape(&b, text, &room))
                strbuf_puts(&b, "…");
        return strbuf_steal(&b, ret, NULL);
}

int webhook_format_telegram(const struct webhook_event *e, struct webhook_body *ret) {
        _cleanup_free_ char *text = NULL;
        const char *chat = e->webhook->chat_id;
        json_t *root;
        bool ok;
        int r;

        if (!chat)
                return -EINVAL;
        r = webhook_telegram_text(e->subject, e->text, &text);
        if (r < 0)
                return r;
        root = json_object();
        ok = root != NULL;
        if (!ok)
                return -ENOMEM;
        /* A numeric id is sent as a number, "@channel" as a string. */
        if (chat[0] == '@')
                set(root, "chat_id", json_string(chat), &ok);
        else
                set(root, "chat_id", json_integer(strtoll(chat, NULL, 10)), &ok);
        set(root, "text", json_text(text), &ok);
        set(root, "parse_mode", json_string("HTML"), &ok);
        set(root, "disable_web_page_preview", json_true(), &ok);
        if (!ok) {
                json_decref(root);
                return -ENOMEM;
        }
        ret->content_type = "application/json";
        return dump(root, ret);
}

int64_t webhook_telegram_retry_after(const char *reply) {
        json_t *root = json_loads(reply, 0, NULL), *v;
        int64_t after = 0;

        v = json_object_get(json_object_get(root, "parameters"), "retry_after");
        if (json_is_integer(v) && json_integer_value(v) > 0)
                after = (int64_t) json_integer_value(v);
        json_decref(root);
        return after;
}

int webhook_format_template(const struct webhook_event *e, struct webhook_body *ret) {
        _cleanup_(webhook_body_done) struct webhook_body b = {};
        json_t *j;

        if (!e->body || !e->webhook->content_type)
                return -EINVAL;
        j = json_loads(e->body, JSON_REJECT_DUPLICATES, NULL);
        if (!j)
                return -EBADMSG;
        json_decref(j);
        b.body = strdup(e->body);
        if (!b.body)
                return -ENOMEM;
        b.size = strlen(b.body);
        b.content_type = e->webhook->content_type;
        *ret = b;
        b = (struct webhook_body) {};
        return 0;
}
