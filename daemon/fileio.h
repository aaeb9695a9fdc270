/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Reading a file descriptor to its end, and writing a whole buffer to
 * one. */

#include <stddef.h>

/* Writes all `n` bytes, again after EINTR and short writes; 0 or -errno. */
int write_all(int fd, const void *buf, size_t n);

/* Reads `fd` to its end into a malloc'ed, NUL-terminated buffer of at
 * most `max` bytes, again after EINTR. `hint` is the size expected (a
 * regular file's), 0 when unknown. 0, -EFBIG when there is more than
 * `max`, -ENOMEM, or the read's -errno. */
int read_full(int fd, size_t max, size_t hint, char **ret, size_t *ret_size);
