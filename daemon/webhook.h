/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Webhook requests: the payload in one of three formats, the Standard
 * Webhooks signature, and the HTTP request set-up that the daemon's
 * dispatcher and `deadlinectl send-test` share.
 *
 *  json   application/json, the versioned payload of doc/webhook.md;
 *  slack  an incoming-webhook message ("text" plus Block Kit "blocks") that
 *         Slack, Mattermost and Rocket.Chat accept;
 *  ntfy   the message text as a text/plain body, with Title, Priority and
 *         Tags headers;
 *  telegram  the Bot API's sendMessage (JSON, HTML parse mode) to a chat;
 *         the bot token is part of the request's URL, so the job's URL (which
 *         is shown and logged) has "***" in its place and the real one is
 *         made only for curl.
 *
 * Every request carries webhook-id (the same on every retry of the same
 * deliveries: the receiver's idempotency key), webhook-timestamp (this
 * attempt) and, when the webhook has a secret, webhook-signature
 * "v1,<base64 HMAC-SHA256 of id.timestamp.body>" (webhook-secret.h).
 * Building is pure: no I/O and no logging; compose_webhook() (compose.h) is
 * the outbox's entry. */

#include <curl/curl.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "job.h"
#include "webhook-secret.h"

/* A digest of the longest task list stays well under this. */
#define WEBHOOK_BODY_MAX (4 * 1024 * 1024)
#define WEBHOOK_ID_MAX 128
/* Bytes of a receiver's reply kept for the log and for a person. */
#define WEBHOOK_REPLY_KEEP 200
/* Requests in progress to one receiver (scheme, host and port) at once;
 * more wait in the dispatcher, not in curl (hostqueue.h). */
#define WEBHOOK_PER_HOST 4
/* The specification recommends 15 to 30 seconds per request. */
#define WEBHOOK_CONNECT_TIMEOUT 10L
#define WEBHOOK_TIMEOUT 15L

/* The webhook-id of a job's deliveries: "deadlined-<instance>-<row id>"
 * for one row; for several (a digest) the first row id and a hash of all of
 * them, "deadlined-<instance>-<row id>-<hash>", so that a retry of the same
 * rows has the same id and a different set of rows never does. The
 * database's instance id (j->instance) keeps two databases' ids apart. */
void webhook_delivery_id(const struct job *j, char buf[static WEBHOOK_ID_MAX]);

/* The configured webhook a job is for, or NULL if the configuration no
 * longer has it. */
const struct webhook *webhook_find(const struct config *c, const struct job *j);

/* Fills j->url, j->headers and j->body for a test message (send-test) to
 * webhook j->webhook_index of agency j->agency; the job has no rows. */
int webhook_compose_test(const struct config *c, struct job *j, const char *id, int64_t now);

/* Sets up an easy handle to POST a composed job to `w`: no redirects,
 * HTTP/1.1 (so that the per-host connection bound also bounds requests),
 * certificates verified against w->ca_file or the system's, the timeouts
 * above. *headers is allocated here and must outlive the transfer; free it
 * with curl_slist_free_all(). */
int webhook_setup_easy(CURL *e, const struct webhook *w, const struct job *j, struct curl_slist **headers);

/* The URL to request for a job: its own, or for a Telegram job the Bot
 * API's with w's token in it (-ENOKEY when w has none, or is not the
 * job's). The caller wipes and frees it. */
int webhook_request_url(const struct webhook *w, const char *job_url, char **ret);

/* Replaces w's bot token, wherever it appears in `s`, by "***" in place:
 * for curl's error messages and receivers' replies. */
void webhook_mask_secret(const struct webhook *w, char *s);

/* The delay a receiver's error reply asks for in its body (Telegram's
 * parameters.retry_after), in seconds, or 0. */
int64_t webhook_reply_retry_after(const struct webhook *w, const char *reply);

/* The start of a receiver's reply, for the log, the outbox's last_error
 * and deadlinectl: made one line of valid UTF-8 in place (it was cut at
 * some byte count, perhaps inside a character, and may be anything). */
void webhook_reply_sanitize(char *s);

/* A composed job made ready to leave at `now`: its webhook-timestamp that
 * second, and its webhook-signature made for it if the receiver has a
 * secret (compose_webhook() leaves that to here, as a job may wait for its
 * receiver). The body and webhook-id stay as they are. Returns 1 if the
 * headers changed, 0 if they were already for that second; -ENOKEY if the
 * job must be signed and the configuration has no secret for it now. */
int webhook_stamp(const struct config *c, struct job *j, int64_t now);
