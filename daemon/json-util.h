/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Small pieces shared by the JSON the daemon and deadlinectl write. */

#include <jansson.h>
#include <stdint.h>

/* An instant as an RFC 3339 string in the configured zone, or null for
 * NO_TIME; NULL when out of memory. */
json_t *json_time(int64_t t);

/* A text as a JSON string, or null for NULL. Text is passed on exactly as
 * stored; only text that is not valid UTF-8 (which JSON cannot carry) is
 * cleaned first, its bad bytes becoming U+FFFD. NULL when out of memory. */
json_t *json_text(const char *s);

/* An object or array written as json_dumps(j, JSON_COMPACT) writes it, to
 * the byte, without its per-character callbacks; size_hint (0: none) is
 * the size to allocate first. -EINVAL for another type, -ENOMEM. */
int json_dump_compact(const json_t *j, size_t size_hint, char **ret, size_t *ret_size);
