/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the reply files share: reply.c reads the message (headers, MIME,
 * charsets), reply-text.c reads the words (HTML, quotes, signatures,
 * intent, dates, task references). */

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
