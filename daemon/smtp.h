/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* SMTP pieces shared by the client (smtp-client.h) and its tests: the
 * libcurl options of a connection, what the server answered, and what its
 * replies mean for a message.
 *
 * libcurl opens each connection and does everything that must be right for
 * it to be safe: TCP, STARTTLS (required unless plain text was allowed
 * explicitly) or implicit TLS, certificate and host name verification, EHLO
 * and AUTH. The transfer is CONNECT_ONLY: libcurl 7.88 reads the reply to
 * the end of a message's data with a blocking wait (smtp_done(), curl issue
 * #8555), which would stop the daemon's loop for as long as a slow server
 * takes, so the mail transactions themselves are ours (smtp-client.c).
 *
 * Server text is kept as printable ASCII: it ends up in the log, the
 * database and JSON output. */

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>

#include "config.h"
#include "job.h"
#include "strbuf.h"

#define SMTP_REPLY_MAX 512

/* What the connection phase said, followed through curl's debug callback. */
struct smtp_greeting {
        bool pipelining;                  /* the last EHLO reply offered PIPELINING (RFC 2920) */
        char reply[SMTP_REPLY_MAX];       /* the last reply line curl read */
        char errbuf[CURL_ERROR_SIZE];
};

/* Whether the configuration allows a connection without TLS: only with
 * allow_plaintext, and only to this machine unless allow_plaintext_remote. */
bool smtp_plaintext_allowed(const struct smtp *s);

/* Sets the options of `e` to connect to the configured server, secure the
 * connection, say EHLO and log in, and then stop (CURLOPT_CONNECT_ONLY).
 * `g` must live as long as the handle. */
void smtp_connect_setup(CURL *e, const struct smtp *s, struct smtp_greeting *g);

/* Classifies one SMTP reply code: 2xx/3xx sent, 4xx retry, 5xx fail. */
enum result_kind smtp_reply_result(long code);
/* What a reply to MAIL FROM, RCPT TO or DATA means for the message. As
 * smtp_reply_result(), except that replies asking for authentication (530,
 * 534, 535, 538) are about this client's set-up, which an administrator can
 * fix: retried, and given up only after delivery.max_retry_age. */
enum result_kind smtp_message_result(int code);

/* Copies n bytes of server text as printable ASCII, without the line end. */
void smtp_text_clean(char *dst, size_t size, const char *src, size_t n);

/* Appends a message as the DATA phase sends it: line ends as CRLF, a "."
 * doubled at the start of a line (RFC 5321 4.5.2), and the final ".". */
void smtp_data_append(struct strbuf *out, const char *data, size_t size);
