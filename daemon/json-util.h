/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Small pieces shared by the JSON the daemon and deadlinectl write. */

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
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

/* A writer of compact JSON straight into one buffer, without a tree: the
 * bytes json_dump_compact() would write for the tree the same calls build
 * (keys in the order written). A failure (out of memory) is sticky and
 * reported by json_writer_finish(). Nesting is at most 63 deep. */
struct json_writer {
        char *data;
        size_t len, cap;
        bool failed;
        bool keyed;             /* a key was just written */
        unsigned depth;
        uint64_t written;       /* bit d: depth d has a value already */
};

void json_writer_init(struct json_writer *w, size_t size_hint);
void json_writer_done(struct json_writer *w);
void json_write_open(struct json_writer *w, char brace);       /* '{' or '[' */
void json_write_close(struct json_writer *w, char brace);      /* '}' or ']' */
void json_write_key(struct json_writer *w, const char *key);
/* As json_text(): NULL is null, text not valid UTF-8 is cleaned. */
void json_write_text(struct json_writer *w, const char *s);
void json_write_int(struct json_writer *w, int64_t v);
void json_write_bool(struct json_writer *w, bool v);
void json_write_null(struct json_writer *w);
/* As json_time(). */
void json_write_time(struct json_writer *w, int64_t t);
/* The text written, NUL-terminated, and its length; -ENOMEM after a
 * failure, -EINVAL if an object or array is still open. The writer is
 * empty afterwards either way. */
int json_writer_finish(struct json_writer *w, char **ret, size_t *ret_size);
