/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading to the end, writing a whole buffer (fileio.h). */

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

int write_all(int fd, const void *buf, size_t n) {
        const char *p = buf;

        while (n > 0) {
                ssize_t k = write(fd, p, n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                n -= (size_t) k;
        }
        return 0;
}

int read_full(int fd, size_t max, size_t hint, char **ret, size_t *ret_size) {
        _cleanup_free_ char *buf = NULL;
        size_t size = 0, capacity = 0;

        for (;;) {
                if (size == capacity) {
                        char *p;
                        if (capacity > max)
                                return -EFBIG;
                        capacity = capacity ? MIN(capacity * 2, max + 1) : MIN(hint ? hint : 65536, max + 1);
                        /* One byte more for the NUL. */
                        if (!(p = realloc(buf, capacity + 1)))
                                return -ENOMEM;
                        buf = p;
                }
                ssize_t n = read(fd, buf + size, capacity - size);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        if (size > max)
                return -EFBIG;
        buf[size] = 0;
        *ret = TAKE_PTR(buf);
        *ret_size = size;
        return 0;
}
