/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A growable byte buffer with a size limit and a sticky error, for code
 * that builds text piece by piece (templates, MIME). Appends after a
 * failure do nothing, so a builder checks once at the end:
 *
 *         struct strbuf b = STRBUF_INIT(1024 * 1024);
 *         strbuf_puts(&b, "...");
 *         ...
 *         if (b.error < 0)
 *                 return strbuf_done(&b), b.error;
 *
 * The data is always NUL-terminated once anything has been appended. */

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "macro.h"

struct strbuf {
        char *data;
        size_t len;
        size_t cap;
        size_t max;     /* appending beyond this many bytes fails with -E2BIG */
        int error;      /* 0, or the first -ENOMEM / -E2BIG */
};

#define STRBUF_INIT(limit) ((struct strbuf) { .max = (limit) })

void strbuf_putn(struct strbuf *b, const char *s, size_t n);
void strbuf_puts(struct strbuf *b, const char *s);
void strbuf_putc(struct strbuf *b, char c);
void strbuf_printf(struct strbuf *b, const char *format, ...) _printf_(2, 3);
/* Hands the text over (never NULL on success: an empty buffer gives "").
 * Returns the sticky error instead, freeing the data, if there was one. */
int strbuf_steal(struct strbuf *b, char **ret, size_t *ret_len);
void strbuf_done(struct strbuf *b);
