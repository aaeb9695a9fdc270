/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lockfile.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <sys/stat.h>

#include "macro.h"
#include "store.h"

int lockfile_path(const char *database, char **ret) {
        if (!database || !*database)
                return -EINVAL;
        return asprintf(ret, "%s.lock", database) < 0 ? -ENOMEM : 0;
}

/* Reads "PID SINCE" as written by lockfile_take(); anything else (an
 * empty file while the holder is still writing it) is an unknown holder. */
static void read_holder(int fd, struct lock_holder *ret) {
        char buf[64];
        long long pid, since;
        ssize_t n;

        *ret = (struct lock_holder) { .since = NO_TIME };
        n = pread(fd, buf, sizeof buf - 1, 0);
        if (n <= 0)
                return;
        buf[n] = 0;
        if (sscanf(buf, "%lld %lld", &pid, &since) != 2 || pid <= 0 || pid > INT32_MAX)
                return;
        ret->pid = (pid_t) pid;
        ret->since = since;
}

/* The lock file is shared like the database (see store-sqlite.c): in a setgid
 * folder whoever makes it, root with a 022 umask included, makes it
 * group-writable, so that the daemon's user can still lock it. */
static int open_lockfile(const char *path) {
        _cleanup_free_ char *copy = strdup(path);
        struct stat st;
        int fd;

        if (!copy)
                return -ENOMEM;
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0660);
        if (fd < 0) {
                if (errno != EEXIST)
                        return -errno;
                fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
                return fd < 0 ? -errno : fd;
        }
        if (stat(dirname(copy), &st) >= 0 && (st.st_mode & S_ISGID))
                (void) fchmod(fd, 0660);
        return fd;
}

int lockfile_take(const char *database, int64_t now, struct lock_holder *ret_holder) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        char buf[64];
        int r, n;

        r = lockfile_path(database, &path);
        if (r < 0)
                return r;
        fd = open_lockfile(path);
        if (fd < 0)
                return fd;
        if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
                if (errno != EAGAIN && errno != EACCES)
                        return -errno;
                if (ret_holder)
                        read_holder(fd, ret_holder);
                return -EBUSY;
        }
        /* Whatever a holder that died left in the file goes now. */
        n = snprintf(buf, sizeof buf, "%lld %lld\n", (long long) getpid(), (long long) now);
        if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t) n, 0) != n)
                return errno > 0 ? -errno : -EIO;
        return TAKE_FD(fd);
}

int lockfile_query(const char *database, struct lock_holder *ret_holder) {
        _cleanup_free_ char *path = NULL;
        _cleanup_close_ int fd = -EBADF;
        /* Asking about a write lock finds any lock another holds; Linux
         * lets a descriptor opened read-only ask. */
        struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
        int r;

        r = lockfile_path(database, &path);
        if (r < 0)
                return r;
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
                return -errno;
        if (fl.l_type == F_UNLCK)
                return 0;
        if (ret_holder)
                read_holder(fd, ret_holder);
        return 1;
}
