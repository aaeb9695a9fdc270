/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Writing a whole buffer (fileio.h). */

#include <errno.h>
#include <unistd.h>

#include "fileio.h"

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
