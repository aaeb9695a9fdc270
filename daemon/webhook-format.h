/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The webhook body formats (internal to webhook.c, pure). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compose.h"
#include "config.h"
#include "job.h"
#include "render.h"
#include "store.h"

/* The "version" of the json format's payload (doc/webhook.md). */
#define WEBHOOK_PAYLOAD_VERSION 1

/* What one request is about. */
struct webhook_event {
        enum render_kind kind;
        const char *id;                  /* webhook-id */
        int64_t now;                     /* this attempt */
        int64_t occurred;                /* when the reminder fell due (now for a test) */
        bool digest;
        enum role role;                  /* the agency's role in the task, or _ROLE_INVALID */
        int escalation_level;            /* 1, 2, … for RENDER_ESCALATION */
        int64_t escalation_after;        /* that level's `after`, seconds */
        const struct config *config;
        const struct agency *agency;
        const struct webhook *webhook;
        const struct job *job;           /* its rows: none for a test */
        const struct task *const *tasks; /* tasks[i] belongs to job->rows[i] */
        const struct compose_parts *parts; /* the distinct tasks, as rendered; NULL for a test */
        const char *subject;             /* render_message()'s */
        const char *text;
        const char *body;                /* format = "template": the rendered body */
};

#define WEBHOOK_FORMAT_HEADERS_MAX 4

struct webhook_body {
        char *body;
        size_t size;
        const char *content_type;
        struct {
                const char *name;
                char *value;
        } headers[WEBHOOK_FORMAT_HEADERS_MAX];
        size_t n_headers;
};
void webhook_body_done(struct webhook_body *b);

int webhook_format_json(const struct webhook_event *e, struct webhook_body *ret);
int webhook_format_slack(const struct webhook_event *e, struct webhook_body *ret);
int webhook_format_ntfy(const struct webhook_event *e, struct webhook_body *ret);
/* Bot API sendMessage: {chat_id, text, parse_mode "HTML",
 * disable_web_page_preview}. */
int webhook_format_telegram(const struct webhook_event *e, struct webhook_body *ret);

/* format = "template": the body the site's template made, sent as it is
 * with the configured Content-Type once it is known to be JSON (-EBADMSG
 * otherwise: a list written without separators, say). */
int webhook_format_template(const struct webhook_event *e, struct webhook_body *ret);

/* The text of a Telegram message: the subject in bold, a blank line, the
 * text; "&", "<" and ">" escaped for the HTML parse mode, so that no task
 * text adds a tag; at most 4096 UTF-16 units once parsed, the text cut with
 * "…" when longer. */
int webhook_telegram_text(const char *subject, const char *text, char **ret);
/* The seconds a Bot API error reply asks to wait
 * ({"parameters":{"retry_after":N}}), or 0. */
int64_t webhook_telegram_retry_after(const char *reply);

/* A header value as RFC 2047 encoded-words ("=?UTF-8?B?…?=", several
 * separated by spaces, each at most 75 characters) when it is not plain
 * printable ASCII; otherwise a copy. Line breaks and other control
 * characters become spaces first, so no text can start a header line. */
int webhook_header_value_encode(const char *s, char **ret);
