/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Reading a file descriptor to its end, writing a whole buffer to one,
 * and replacing a file atomically. */

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes all `n` bytes, again after EINTR and short writes; 0 or -errno. */
int write_all(int fd, const void *buf, size_t n);

/* Reads `fd` to its end into a malloc'ed, NUL-terminated buffer of at
 * most `max` bytes, again after EINTR. `hint` is the size expected (a
 * regular file's), 0 when unknown. 0, -EFBIG when there is more than
 * `max`, -ENOMEM, or the read's -errno. */
int read_full(int fd, size_t max, size_t hint, char **ret, size_t *ret_size);

/* Replaces `path` with `n` bytes as one step: written to a temporary file
 * beside it, fsync'ed, given `mode` (not masked by the umask), renamed over
 * `path`, and the folder fsync'ed; readers see the old file or the new one,
 * never part of one. 0 or -errno (the temporary file is removed). */
int write_file_atomic(const char *path, const void *buf, size_t n, mode_t mode);
/* Whether `path` holds exactly these `n` bytes (false when it cannot be
 * read). */
bool file_has_content(const char *path, const void *buf, size_t n);
