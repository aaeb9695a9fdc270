/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* One SMTP transaction on a libcurl easy handle, shared by the daemon's
 * dispatcher and `deadlinectl send-test`: the options that make it safe
 * (STARTTLS required, certificates verified, AUTH only over TLS, bounded
 * time), the message fed from memory, and what the server answered,
 * recipient by recipient.
 *
 * libcurl goes on past a refused RCPT TO (CURLOPT_MAIL_RCPT_ALLLOWFAILS)
 * but does not say which recipient was refused, so the session follows the
 * dialogue through the debug callback and pairs each RCPT TO with the reply
 * that follows it. Server replies are kept as printable ASCII: they end up
 * in the log, the database and JSON output. */

#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "config.h"
#include "outbox.h"

#define SMTP_REPLY_MAX 512

struct smtp_session;

/* Called for each recipient the server refused at RCPT TO, with its index
 * in the envelope and the reply line (e.g. "550 5.1.1 No such user"). */
typedef void (*smtp_refused_t)(struct smtp_session *ss, size_t rcpt, const char *reply);

struct smtp_session {
        /* The message and the envelope; owned by the caller, and must live
         * until the transfer ends. */
        const char *data;
        size_t size, offset;
        char *const *rcpt;
        size_t n_rcpt;
        struct curl_slist *rcpt_list;

        /* What the server said. */
        size_t rcpt_sent;                 /* RCPT TO commands so far */
        ssize_t current_rcpt;             /* the one awaiting its reply, or -1 */
        char command[8];                  /* verb of the last command sent ("MAIL", "DATA") */
        char reply[SMTP_REPLY_MAX];       /* the last complete reply line */
        char errbuf[CURL_ERROR_SIZE];

        smtp_refused_t on_refused;
        void *userdata;
};

/* Whether the configuration allows a transaction without TLS: only with
 * allow_plaintext, and only to this machine unless allow_plaintext_remote. */
bool smtp_plaintext_allowed(const struct smtp *s);

/* Sets every option of `e` for one message from `mail_from` to the
 * `n_rcpt` addresses of `rcpt`. Returns 0 or -ENOMEM; the session must be
 * released with smtp_session_done() either way. */
int smtp_session_setup(struct smtp_session *ss, CURL *e, const struct smtp *s, const char *mail_from,
                       char *const *rcpt, size_t n_rcpt, const char *data, size_t size);
void smtp_session_done(struct smtp_session *ss);

/* Classifies one SMTP reply code: 2xx/3xx sent, 4xx retry, 5xx fail. */
enum result_kind smtp_reply_result(long code);

/* The outcome of a finished transaction for the message as a whole, with a
 * one-line description of a failure in `err` (curl's error and the server's
 * last reply). A 5xx to MAIL FROM or to the message itself fails it for
 * good; refused TLS or login, time-outs, dropped connections and 4xx may
 * pass later and are retried. */
enum result_kind smtp_session_result(const struct smtp_session *ss, CURL *e, CURLcode code, char *err,
                                     size_t size);
