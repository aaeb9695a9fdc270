/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#define LOG_FIELDS_MAX 4

static enum log_target log_target = LOG_TARGET_CONSOLE;
static int log_max_level = LOG_INFO;

static struct {
        char key[32];
        char value[128];
} log_fields[LOG_FIELDS_MAX];

/* stderr is the journal when JOURNAL_STREAM names the device and inode of
 * our stderr (systemd.exec(5)); then structured fields are worth sending. */
static bool stderr_is_journal(void) {
        const char *e = getenv("JOURNAL_STREAM");
        unsigned long long dev, ino;
        struct stat st;

        if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
                return false;
        if (fstat(STDERR_FILENO, &st) < 0)
                return false;
        return st.st_dev == dev && st.st_ino == ino;
}

void log_setup(enum log_target target, int max_level) {
        if (target == LOG_TARGET_AUTO)
                target = stderr_is_journal() ? LOG_TARGET_AUTO : LOG_TARGET_STDERR;
        log_target = target;
        log_max_level = max_level;
}

void log_set_max_level(int level) {
        log_max_level = level;
}

int log_get_max_level(void) {
        return log_max_level;
}

/* Copies s into a buffer of `size` bytes, cut to fit; returns its length. */
static size_t copy_cut(char *buf, size_t size, const char *s) {
        size_t n = strnlen(s, size - 1);

        memcpy(buf, s, n);
        buf[n] = 0;
        return n;
}

void log_set_field(const char *key, const char *value) {
        size_t free_slot = LOG_FIELDS_MAX;

        for (size_t i = 0; i < LOG_FIELDS_MAX; i++) {
                if (streq(log_fields[i].key, key)) {
                        free_slot = i;
                        break;
                }
                if (!log_fields[i].key[0] && free_slot == LOG_FIELDS_MAX)
                        free_slot = i;
        }
        if (free_slot == LOG_FIELDS_MAX)
                return;
        if (!value) {
                log_fields[free_slot].key[0] = 0;
                return;
        }
        (void) copy_cut(log_fields[free_slot].key, sizeof log_fields[free_slot].key, key);
        (void) copy_cut(log_fields[free_slot].value, sizeof log_fields[free_slot].value, value);
}

void log_clear_fields(void) {
        memset(log_fields, 0, sizeof log_fields);
}

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) {
        char msg[2048];
        va_list ap;

        error = abs(error);
        /* %m must expand to the error we were given, not to whatever errno
         * happens to hold by now. */
        errno = error;
        va_start(ap, format);
        vsnprintf(msg, sizeof msg, format, ap);
        va_end(ap);

        /* A message must stay one line: task text can hold newlines. */
        for (char *p = msg; *p; p++)
                if (*p == '\n' || *p == '\r')
                        *p = ' ';

        if (log_target == LOG_TARGET_AUTO) {
                struct iovec iov[LOG_FIELDS_MAX + 6];
                char fields[LOG_FIELDS_MAX + 6][2300];
                size_t n = 0;

#define ADD(...)                                                                  \
                do {                                                              \
                        int _k = snprintf(fields[n], sizeof fields[n], __VA_ARGS__); \
                        iov[n] = (struct iovec) { fields[n], (size_t) MIN(_k, (int) sizeof fields[n] - 1) }; \
                        n++;                                                      \
                } while (0)
                ADD("MESSAGE=%s", msg);
                ADD("PRIORITY=%d", level);
                ADD("CODE_FILE=%s", file);
                ADD("CODE_LINE=%d", line);
                ADD("CODE_FUNC=%s", func);
                if (error)
                        ADD("ERRNO=%d", error);
                for (size_t i = 0; i < LOG_FIELDS_MAX; i++)
                        if (log_fields[i].key[0])
                                ADD("%s=%s", log_fields[i].key, log_fields[i].value);
#undef ADD
                if (sd_journal_sendv(iov, (int) n) >= 0)
                        return -error;
                /* Fall through to stderr if the journal is gone. */
        }

        /* " KEY=value" for each field: each fits (32 + 128 bytes). */
        char extra[LOG_FIELDS_MAX * 170];
        size_t len = 0;
        for (size_t i = 0; i < LOG_FIELDS_MAX; i++)
                if (log_fields[i].key[0]) {
                        extra[len++] = ' ';
                        len += copy_cut(extra + len, sizeof extra - len, log_fields[i].key);
                        extra[len++] = '=';
                        len += copy_cut(extra + len, sizeof extra - len, log_fields[i].value);
                }
        extra[len] = 0;

        if (log_target == LOG_TARGET_CONSOLE)
                fprintf(stderr, "%s%s\n", msg, extra);
        else
                fprintf(stderr, "<%d>%s%s\n", level, msg, extra);
        return -error;
}
