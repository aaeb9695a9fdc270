/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* One logging call for the whole tree. Messages go to stderr with the
 * sd-daemon priority prefix ("<3>…") that journald understands, or, when
 * stderr is connected to the journal (JOURNAL_STREAM), straight to the
 * journal with structured fields. Every log_*_errno() returns its error
 * argument, negated, so callers can write
 *
 *         return log_error_errno(r, "Failed to open %s: %m", path);
 *
 * %m in a format expands to strerror() of that error. Pure modules never log;
 * the layer that knows the context logs once. */

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <syslog.h>

#include "macro.h"

enum log_target {
        LOG_TARGET_AUTO,    /* journal if stderr is the journal, else stderr */
        LOG_TARGET_STDERR,  /* "<N>message" lines, as sd-daemon(3) describes */
        LOG_TARGET_CONSOLE, /* plain lines, for people at a terminal */
};

void log_setup(enum log_target target, int max_level);
void log_set_max_level(int level);
int log_get_max_level(void);

/* Structured fields attached to the next messages logged from this process
 * (TASK_ID, AGENCY, DELIVERY); NULL clears one. Only the journal target
 * stores them; on stderr they are appended as "key=value". */
void log_set_field(const char *key, const char *value);
void log_clear_fields(void);

int log_internal(int level, int error, const char *file, int line, const char *func,
                 const char *format, ...) _printf_(6, 7);

#define log_full_errno(level, error, ...)                                                  \
        ({                                                                                 \
                int _l = (level), _e = (error);                                            \
                _l <= log_get_max_level()                                                  \
                        ? log_internal(_l, _e, __FILE__, __LINE__, __func__, __VA_ARGS__)  \
                        : -abs(_e);                                                        \
        })

#define log_debug(...)   log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...)    log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...)  log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...)   log_full_errno(LOG_ERR, 0, __VA_ARGS__)

#define log_debug_errno(e, ...)   log_full_errno(LOG_DEBUG, e, __VA_ARGS__)
#define log_info_errno(e, ...)    log_full_errno(LOG_INFO, e, __VA_ARGS__)
#define log_warning_errno(e, ...) log_full_errno(LOG_WARNING, e, __VA_ARGS__)
#define log_error_errno(e, ...)   log_full_errno(LOG_ERR, e, __VA_ARGS__)
