/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The handful of GNU C helpers the whole tree uses: scope-bound cleanup,
 * ownership transfer and array sizes. Modelled on systemd's idiom, which
 * libsystemd does not export, kept to what we actually need. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _noreturn_ __attribute__((noreturn))
#define _pure_ __attribute__((pure))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(x) (sizeof(x) / sizeof((x)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Take a pointer out of a variable that has a cleanup attribute, so that
 * returning it to the caller does not free it. */
#define TAKE_PTR(p)                         \
        ({                                  \
                typeof(p) _p_ = (p);        \
                (p) = NULL;                 \
                _p_;                        \
        })

#define TAKE_FD(fd)                         \
        ({                                  \
                int _fd_ = (fd);            \
                (fd) = -EBADF;              \
                _fd_;                       \
        })

/* DEFINE_TRIVIAL_CLEANUP_FUNC(struct foo *, foo_free) defines foo_freep(),
 * usable as _cleanup_(foo_freep) struct foo *f = NULL; */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func)          \
        static inline void func##p(type *p) {            \
                if (*p)                                  \
                        func(*p);                        \
        }

static inline void *mfree(void *p) {
        free(p);
        return NULL;
}

static inline void freep(void *p) {
        free(*(void **) p);
}
#define _cleanup_free_ _cleanup_(freep)

/* Closes fd if it is one, keeping errno; returns -EBADF to store back. */
static inline int safe_close(int fd) {
        if (fd >= 0) {
                int saved = errno;
                (void) close(fd);
                errno = saved;
        }
        return -EBADF;
}

static inline void closep(int *fd) {
        *fd = safe_close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* Free a NULL-terminated array of strings. */
static inline char **strv_free(char **l) {
        if (l) {
                for (char **i = l; *i; i++)
                        free(*i);
                free(l);
        }
        return NULL;
}
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free);
#define _cleanup_strv_free_ _cleanup_(strv_freep)

static inline size_t strv_length(char *const *l) {
        size_t n = 0;
        while (l && l[n])
                n++;
        return n;
}

/* Appends a copy of s to a NULL-terminated list (NULL: empty). */
static inline int strv_push(char ***l, const char *s) {
        size_t n = strv_length(*l);
        char **v = realloc(*l, (n + 2) * sizeof *v);
        if (!v)
                return -ENOMEM;
        v[n] = strdup(s);
        v[n + 1] = NULL;
        *l = v;
        return v[n] ? 0 : -ENOMEM;
}

static inline char **strv_copy(char *const *l) {
        char **v = calloc(strv_length(l) + 1, sizeof *v);
        for (size_t i = 0; v && l && l[i]; i++)
                if (!(v[i] = strdup(l[i])))
                        return strv_free(v);
        return v;
}

static inline int strv_contains(char *const *l, const char *s) {
        for (char *const *i = l; i && *i; i++)
                if (strcmp(*i, s) == 0)
                        return 1;
        return 0;
}

static inline int errno_or(int fallback) {
        return errno > 0 ? -errno : -fallback;
}

static inline const char *strempty(const char *s) {
        return s ? s : "";
}

static inline int streq_ptr(const char *a, const char *b) {
        if (!a || !b)
                return a == b;
        return strcmp(a, b) == 0;
}
#define streq(a, b) (strcmp((a), (b)) == 0)
