/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Writing a whole buffer to a file descriptor. */

#include <stddef.h>

/* Writes all `n` bytes, again after EINTR and short writes; 0 or -errno. */
int write_all(int fd, const void *buf, size_t n);
