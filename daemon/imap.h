/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* One reading of the configured IMAP mailbox, on sd-event, never blocking.
 * libcurl opens the connection, secures it (imaps://, or imap:// with
 * STARTTLS required; the certificate always verified) and logs in
 * (CURLOPT_CONNECT_ONLY); then this module speaks IMAP itself over that
 * connection: EXAMINE (read-only: UIDVALIDITY), UID SEARCH for the UIDs
 * above the last one recorded, UID FETCH (UID RFC822.SIZE) for their
 * sizes, and UID FETCH BODY.PEEK[] for each one not too large, so that no
 * flag of any message changes. Messages are handed over in UID order.
 *
 * A poll ends exactly once through done(), never from within
 * imap_poll_start(); the owner may free the poll from done(). */

#include <stdint.h>
#include <systemd/sd-event.h>

#include "config.h"
#include "macro.h"

struct imap_ops {
        /* The highest UID already recorded under `uidvalidity` (0: none);
         * < 0 ends the poll. */
        int (*last_uid)(uint64_t uidvalidity, uint64_t *ret, void *userdata);
        /* A new message, whole (not NUL-terminated); < 0 ends the poll, and
         * the messages after it are left for the next one. */
        int (*message)(uint64_t uidvalidity, uint64_t uid, const char *data, size_t size, void *userdata);
        /* A new message larger than inbox.max_size: it is not fetched. */
        int (*too_large)(uint64_t uidvalidity, uint64_t uid, uint64_t size, void *userdata);
        /* The end: 0 (`n` messages handed over), or -errno with a one-line
         * reason that names no secret. */
        void (*done)(int r, const char *detail, size_t n, void *userdata);
};

/* At most this many new messages are read in one poll; the rest wait for
 * the next one. */
#define IMAP_POLL_MAX_MESSAGES 500

struct imap_poll;

/* `inbox` must stay valid until done() has been called. */
int imap_poll_start(sd_event *event, const struct inbox *inbox, const struct imap_ops *ops, void *userdata,
                    struct imap_poll **ret);
/* Stops a poll under way without calling done(). */
struct imap_poll *imap_poll_free(struct imap_poll *p);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct imap_poll *, imap_poll_free);

/* The pure parts, for tests. */

/* The mailbox the URL names (percent-decoded path without its leading
 * '/'; "INBOX" when there is none), as an IMAP quoted string. */
int imap_mailbox_quoted(const char *url, char **ret);
/* The length of the first complete response in buf[0..len) (through its
 * last CRLF, literals included), 0 when it is not complete yet, or -EBADMSG
 * for a literal larger than `max_literal`. *ret_lit and *ret_lit_len give
 * its first literal (0, 0: none). */
ssize_t imap_response_length(const char *buf, size_t len, size_t max_literal, size_t *ret_lit,
                             size_t *ret_lit_len);
