/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* URLs as they may be shown: in messages, logs and command output. */

#include <stddef.h>

/* Copies `url` to `buf` with its user name, password and login options
 * replaced by "***" (the authority user:pw@host becomes ***@host), so that
 * no secret written into a URL is ever echoed. A URL curl refuses is
 * redacted too: everything between "://" (or the start) and the last '@'
 * goes. The copy is cut to fit `size`. Returns `buf`. */
const char *url_redact(const char *url, char *buf, size_t size);
