/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading to the end, writing a whole buffer, replacing a file (fileio.h). */

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static int fsync_parent(const char *path) {
        _cleanup_free_ char *dir = strdup(path);
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash)
                strcpy(dir, ".");
        else if (slash == dir)
                slash[1] = 0;
        else
                *slash = 0;
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

int write_file_atomic(const char *path, const void *buf, size_t n, mode_t mode) {
        _cleanup_free_ char *tmp = NULL;
        const char *slash = strrchr(path, '/');
        int r = 0;

        /* A hidden name in the same folder, so that rename() replaces the
         * file in one step and a web server's listing skips it. */
        if (asprintf(&tmp, "%.*s.%s.XXXXXX", slash ? (int) (slash - path + 1) : 0, path,
                     slash ? slash + 1 : path) < 0)
                return -ENOMEM;
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return -errno;
        r = write_all(fd, buf, n);
        if (r >= 0 && fchmod(fd, mode) < 0)
                r = -errno;
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        return fsync_parent(path);
}

bool file_has_content(const char *path, const void *buf, size_t n) {
        _cleanup_free_ char *old = NULL;
        size_t size = 0;
        struct stat st;

        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t) st.st_size != n)
                return false;
        if (read_full(fd, n + 1, n, &old, &size) < 0)
                return false;
        return size == n && memcmp(old, buf, n) == 0;
}
