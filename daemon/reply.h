/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* An agency's answer to a reminder, read from the raw e-mail message as
 * the inbox fetched it: who wrote it, what it answers, and what it says.
 * Pure: no I/O, no clock, no logging; the caller decides what to do with
 * the result (the inbox records it for the officer; nothing changes a task
 * by itself).
 *
 * What it understands, in Vietnamese and English, with or without
 * diacritics, after quoted text (">" lines, "On … wrote:", "Vào … đã
 * viết:", Outlook's "From: … Sent: …" block, "-----Original Message-----")
 * and signatures ("-- ", "Trân trọng", "Best regards" …) are cut off:
 *   - a completion ("đã hoàn thành", "xong", "completed", "done");
 *   - an extension request with the date asked for ("xin gia hạn đến
 *     15/6/2025", "đề nghị lùi thời hạn …", "request an extension to …").
 * When a reply both reports completion and asks for time, it is read as an
 * extension request: asking for time names the completion it puts off
 * ("chưa thể hoàn thành, xin gia hạn đến …"); the officer sees the text
 * either way. A completion word under a negation or in the future ("chưa
 * hoàn thành", "not yet done", "sẽ xong") is no completion, and a negated
 * one anywhere in the reply leaves it REPLY_UNKNOWN. An extension asked in
 * days ("gia hạn thêm 10 ngày") is REPLY_EXTENSION with no day: the officer
 * gives it. A day written without its year ("đến 15/6") is the first such
 * day from the reply's Date on (none without a Date). Only the reply's own
 * words are read for intent, never the subject (which repeats the
 * reminder's).
 *
 * Which task it is about comes from the thread (In-Reply-To / References,
 * matched by the caller against the Message-IDs deadlined wrote) or from
 * the text: a tag "[#123]" in the subject or body, "#123", or "nhiệm vụ
 * 5.c" / "task 5.c" (a reference within a document). */

#include <stddef.h>
#include <stdint.h>

/* What a reader accepts before it refuses a message. */
struct reply_limits {
        size_t max_bytes;        /* the raw message (default 10 MiB) */
        unsigned max_parts;      /* MIME parts, all levels (default 200) */
        unsigned max_depth;      /* multipart nesting (default 8) */
        size_t max_text;         /* decoded text kept for reading (default 256 KiB) */
};

#define REPLY_LIMITS_DEFAULT { 10u << 20, 200, 8, 256u << 10 }

enum reply_intent {
        REPLY_UNKNOWN,           /* nothing understood: the officer reads it */
        REPLY_DONE,              /* reports the task done */
        REPLY_EXTENSION,         /* asks for a later deadline */
};

struct reply {
        char *from;              /* the From address, lower case, no display name */
        char *subject;           /* decoded (RFC 2047) to UTF-8 */
        char *message_id;        /* without the angle brackets; NULL when absent */
        char **references;       /* In-Reply-To then References ids, without brackets, NULL-terminated */
        int64_t date;            /* the Date header as Unix time, or INT64_MIN when absent or bad */
        char *text;              /* the reply's own words: decoded UTF-8, quotes and signature cut */
        char **attachments;      /* names of attached files (evidence), NULL-terminated */

        enum reply_intent intent;
        int32_t asked_day;       /* REPLY_EXTENSION: the day asked for (days since 1970-01-01), or INT32_MIN */
        int64_t task_tag;        /* "[#123]" or "#123": the task id, or 0 */
        char *task_ref;          /* "nhiệm vụ 5.c": the reference "5.c" (folded: lower case), or NULL */
};

/* Reads a raw RFC 5322 message. Returns 0, -EMSGSIZE when a limit is
 * exceeded (nothing kept), -EBADMSG for a message that cannot be read at
 * all, -ENOMEM. `ret` is zeroed first; free it with reply_done(). */
int reply_parse(const char *raw, size_t n, const struct reply_limits *limits, struct reply *ret);
void reply_done(struct reply *r);

const char *reply_intent_to_string(enum reply_intent i);
