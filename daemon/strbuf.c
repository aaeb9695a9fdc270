/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

static bool strbuf_reserve(struct strbuf *b, size_t n) {
        size_t need, cap;
        char *p;

        if (b->error < 0)
                return false;
        if (n > b->max || b->len > b->max - n) {
                b->error = -E2BIG;
                return false;
        }
        need = b->len + n + 1;
        if (need <= b->cap)
                return true;
        cap = MAX(b->cap * 2, MAX(need, (size_t) 256));
        p = realloc(b->data, cap);
        if (!p) {
                b->error = -ENOMEM;
                return false;
        }
        b->data = p;
        b->cap = cap;
        return true;
}

void strbuf_putn(struct strbuf *b, const char *s, size_t n) {
        if (!strbuf_reserve(b, n))
                return;
        memcpy(b->data + b->len, s, n);
        b->len += n;
        b->data[b->len] = 0;
}

void strbuf_puts(struct strbuf *b, const char *s) {
        strbuf_putn(b, s, strlen(s));
}

void strbuf_putc(struct strbuf *b, char c) {
        strbuf_putn(b, &c, 1);
}

void strbuf_printf(struct strbuf *b, const char *format, ...) {
        va_list ap;
        int n;

        if (b->error < 0)
                return;
        /* Written straight into the room there is; formatted a second
         * time only when it did not fit. */
        size_t room = b->data ? b->cap - b->len : 0;
        va_start(ap, format);
        n = vsnprintf(room ? b->data + b->len : NULL, room, format, ap);
        va_end(ap);
        if (n < 0)
                b->error = -EINVAL;
        else if (strbuf_reserve(b, (size_t) n)) {
                if ((size_t) n >= room) {
                        va_start(ap, format);
                        vsnprintf(b->data + b->len, (size_t) n + 1, format, ap);
                        va_end(ap);
                }
                b->len += (size_t) n;
                return;
        }
        /* Refused: what the first try wrote past the end is cut off. */
        if (room)
                b->data[b->len] = 0;
}

int strbuf_steal(struct strbuf *b, char **ret, size_t *ret_len) {
        int r;

        if (!b->data)
                strbuf_putn(b, "", 0);
        if (b->error < 0) {
                r = b->error;
                strbuf_done(b);
                return r;
        }
        *ret = TAKE_PTR(b->data);
        if (ret_len)
                *ret_len = b->len;
        b->len = b->cap = 0;
        return 0;
}

void strbuf_done(struct strbuf *b) {
        b->data = mfree(b->data);
        b->len = b->cap = 0;
}
