/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the reply files share: reply.c reads the message (headers, MIME,
 * charsets), reply-text.c reads the words (HTML, quotes, signatures,
 * intent, dates, task references). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reply.h"
#include "strbuf.h"

/* Appends bytes in `charset` (NULL: undeclared, UTF-8 if valid, else
 * windows-1252) as valid UTF-8: invalid sequences become U+FFFD, NULs and
 * other C0 controls but tab and line feed are dropped. */
void reply_put_charset(struct strbuf *out, const char *charset, const char *s, size_t n);

/* Appends a code point as UTF-8. */
void reply_put_codepoint(struct strbuf *out, uint32_t cp);

/* HTML → text: tags dropped, entities decoded, block elements and <br> as
 * line breaks, the quoted original (Outlook's divRplyFwdMsg, Gmail's
 * gmail_quote, a cited blockquote) cut. */
void reply_html_to_text(const char *s, size_t n, struct strbuf *out);

/* The reply's own words: ">" lines, attribution lines, Outlook header
 * blocks, original-message and forward separators, the signature and
 * closing formulas cut; blank lines trimmed. Returns a new string or NULL
 * on ENOMEM. */
char *reply_cut_quotes(const char *text);

/* Reads intent, asked day and task references from the subject and the
 * cut text into r (r->date gives the year of a date written without one). */
int reply_understand(struct reply *r);

/* ---- reply-header.c ---- */

#define HEADERS_MAX 512         /* per entity; further headers are not read */
#define REFERENCES_MAX 64

struct reply_header {
        const char *name;
        size_t name_len;
        char *value;            /* unfolded, trimmed */
};

struct reply_headers {
        struct reply_header h[HEADERS_MAX];
        size_t n;
};

/* Reads the header section; *ret_body is where the body begins. A section
 * that does not look like headers at all leaves hs empty and the body at 0. */
int reply_headers_parse(const char *p, size_t n, struct reply_headers *hs, size_t *ret_body);
void reply_headers_done(struct reply_headers *hs);
/* The first header of that name (case-insensitive), or NULL. */
const char *reply_header_get(const struct reply_headers *hs, const char *name);
/* The index of the '\n' that ends the line at i, or n. */
size_t reply_line_end(const char *p, size_t n, size_t i);

/* An unstructured header (Subject) decoded to UTF-8; NULL on ENOMEM. */
char *reply_decode_header(const char *s);
/* The lower-case "type/subtype" of a Content-Type (or a disposition's word). */
void reply_value_type(const char *v, char *buf, size_t size);
/* A parameter of a structured header, decoded (RFC 2231, RFC 2047); NULL when absent. */
char *reply_value_param(const char *v, const char *name);
/* The first address of a From header, lower case; NULL when none. */
char *reply_parse_from(const char *v);
/* Appends the message ids of a header value to a NULL-terminated list, each once. */
int reply_add_ids(char ***list, size_t *n, const char *v);
/* The Date header as Unix time, or INT64_MIN. */
int64_t reply_parse_date(const char *v);

void reply_decode_base64(struct strbuf *out, const char *s, size_t n);
/* Quoted-printable; `q` for RFC 2047's Q encoding ("_" is a space). */
void reply_decode_qp(struct strbuf *out, const char *s, size_t n, bool q);
