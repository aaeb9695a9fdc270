/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the daemon reads from a URL besides curl's own use of it: how it
 * may be shown (in messages, logs and command output), whether it names
 * this machine, and which receiver it names. Used by the configuration and
 * the senders alike, so it depends on neither. */

#include <stdbool.h>
#include <stddef.h>

/* A receiver's key ("https://host:443") fits in this. */
#define URL_HOST_KEY_MAX 300

/* Copies `url` to `buf` with its user name, password and login options
 * replaced by "***" (the authority user:pw@host becomes ***@host), so that
 * no secret written into a URL is ever echoed. A URL curl refuses is
 * redacted too: everything between "://" (or the start) and the last '@'
 * goes. The copy is cut to fit `size`. Returns `buf`. */
const char *url_redact(const char *url, char *buf, size_t size);

/* Whether a URL's host is the loopback (127.0.0.0/8, ::1, localhost). */
bool url_host_is_loopback(const char *url);

/* The receiver a URL names, for the per-host bound of the webhooks:
 * "https://host:443" (the port made explicit). A URL curl cannot parse is
 * its own key. */
void url_host_key(const char *url, char buf[static URL_HOST_KEY_MAX]);
