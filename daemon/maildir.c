/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "maildir.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fileio.h"
#include "macro.h"

static int mkdir_exist(const char *path) {
        struct stat st;

        if (mkdir(path, 0700) >= 0)
                return 0;
        if (errno != EEXIST)
                return -errno;
        if (stat(path, &st) < 0)
                return -errno;
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int maildir_prepare(const char *dir) {
        static const char *const subdirs[] = { "tmp", "new", "cur" };
        char path[4096];
        int r;

        r = mkdir_exist(dir);
        if (r < 0)
                return r;
        for (size_t i = 0; i < ELEMENTSOF(subdirs); i++) {
                if ((size_t) snprintf(path, sizeof path, "%s/%s", dir, subdirs[i]) >= sizeof path)
                        return -ENAMETOOLONG;
                r = mkdir_exist(path);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int fsync_dir(const char *path) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return fsync(fd) < 0 ? -errno : 0;
}

int maildir_deliver(const char *dir, const char *data, size_t size, char **ret_name) {
        static unsigned counter;
        char host[256] = "localhost", name[512], tmp[4096], new[4096];
        struct timespec ts;
        int r;

        r = maildir_prepare(dir);
        if (r < 0)
                return r;

        /* The unique name Maildir asks for: time, microseconds, pid and a
         * per-process counter, then the host name with '/' and ':' escaped. */
        (void) gethostname(host, sizeof host - 1);
        for (char *p = host; *p; p++)
                if (*p == '/' || *p == ':')
                        *p = '_';
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(name, sizeof name, "%lld.M%ldP%dQ%u.%s", (long long) ts.tv_sec, ts.tv_nsec / 1000, (int) getpid(),
                 ++counter, host);
        if ((size_t) snprintf(tmp, sizeof tmp, "%s/tmp/%s", dir, name) >= sizeof tmp ||
            (size_t) snprintf(new, sizeof new, "%s/new/%s", dir, name) >= sizeof new)
                return -ENAMETOOLONG;

        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        r = write_all(fd, data, size);
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (r >= 0 && close(TAKE_FD(fd)) < 0)
                r = -errno;
        if (r >= 0 && rename(tmp, new) < 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(tmp);
                return r;
        }
        snprintf(tmp, sizeof tmp, "%s/new", dir);
        r = fsync_dir(tmp);
        if (r < 0)
                return r;
        if (ret_name) {
                *ret_name = strdup(name);
                if (!*ret_name)
                        return -ENOMEM;
        }
        return 0;
}
