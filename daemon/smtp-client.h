/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* An SMTP client for many messages to the one configured server, on
 * sd-event, never blocking: up to smtp.max_connections connections, each
 * opened and secured by libcurl (see smtp.h) and then kept for message
 * after message. The mail transactions (MAIL FROM, RCPT TO, DATA) are
 * pipelined when the server offers PIPELINING.
 *
 * Each recipient's fate comes back on its own: a recipient refused at RCPT
 * TO is reported with the server's reply while the others receive the
 * message. Every submitted message comes back exactly once through done():
 * sent, to be retried, or failed, with the server's reply or the error; a
 * transaction that takes longer than smtp.timeout is abandoned (to be
 * retried) and its connection closed. A connection that cannot be opened
 * defers the messages waiting for it when no other connection is left to
 * take them. */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "job.h"

struct smtp_message {
        /* The envelope and the message (RFC 5322, CRLF line ends), owned by
         * the caller until done() is called for it. */
        const char *mail_from;
        char *const *rcpt;
        size_t n_rcpt;
        const char *data;
        size_t size;
        void *userdata;
        /* The client's own; zero when submitted. */
        struct smtp_message *next;
};

struct smtp_client_ops {
        /* A recipient refused at RCPT TO (a 4xx or 5xx reply, given whole). */
        void (*refused)(struct smtp_message *m, size_t rcpt, int code, const char *reply);
        /* The message's end: RESULT_SENT (detail: the server's reply),
         * RESULT_RETRY or RESULT_FAIL (detail: why, with the server's reply),
         * RESULT_NONE (cancelled under way, outcome unknown), RESULT_UNSENT
         * (cancelled before it was started). Never called from within
         * smtp_client_submit(). */
        void (*done)(struct smtp_message *m, enum result_kind result, const char *detail);
};

struct smtp_client;

int smtp_client_new(sd_event *event, const struct smtp_client_ops *ops, struct smtp_client **ret);
/* Closes every connection (saying QUIT, without waiting); messages not done
 * are dropped without a call to done(). */
struct smtp_client *smtp_client_free(struct smtp_client *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct smtp_client *, smtp_client_free);

/* Takes (new) settings, which must stay valid until the next call or the
 * end. Connections opened with earlier settings are closed once idle. NULL
 * (no smtp group any more): waiting messages are deferred. */
void smtp_client_configure(struct smtp_client *c, const struct smtp *s);
void smtp_client_submit(struct smtp_client *c, struct smtp_message *m);
/* Ends the messages not yet started with done(RESULT_NONE); transactions
 * under way go on. */
void smtp_client_cancel_waiting(struct smtp_client *c);
/* Ends every message with done(RESULT_NONE) and closes the connections. */
void smtp_client_cancel_all(struct smtp_client *c);

/* Totals since the client was made: messages the server accepted, and
 * connections opened for them. */
uint64_t smtp_client_sent(const struct smtp_client *c);
uint64_t smtp_client_connections(const struct smtp_client *c);
