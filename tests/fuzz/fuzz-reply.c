/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the reply reader: any bytes, no crash, no leak, no
 * undefined behaviour, and results that keep reply.h's promises. Built and
 * run by `make fuzz-reply` (mk/fuzz.mk). */

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "reply.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok) {
        if (!ok)
                abort();
}

/* Valid UTF-8 with no NUL inside the string. */
static void check_utf8(const char *s) {
        const unsigned char *p = (const unsigned char *) s;
        while (*p) {
                size_t len = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0;
                check(len > 0);
                for (size_t k = 1; k < len; k++)
                        check((p[k] & 0xC0) == 0x80);
                p += len;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        /* Small limits, so that the fuzzer reaches them. */
        const struct reply_limits lim = { .max_bytes = 1 << 16, .max_parts = 20, .max_depth = 4, .max_text = 4096 };
        struct reply r;
        int k = reply_parse((const char *) data, size, &lim, &r);

        check(k == 0 || k == -EBADMSG || k == -EMSGSIZE);
        if (k < 0) {
                check(!r.text && !r.from && !r.attachments);
                return 0;
        }
        check(r.text && strlen(r.text) < lim.max_text);
        check_utf8(r.text);
        if (r.subject)
                check_utf8(r.subject);
        if (r.from) {
                check(strchr(r.from, '@'));
                for (const char *p = r.from; *p; p++)
                        check(!(*p >= 'A' && *p <= 'Z') && (unsigned char) *p > ' ');
        }
        for (char **a = r.attachments; a && *a; a++) {
                check(**a && !strchr(*a, '/'));
                check_utf8(*a);
        }
        for (char **id = r.references; id && *id; id++)
                check(**id && !strchr(*id, '<') && !strchr(*id, '>'));
        check(r.intent == REPLY_EXTENSION || r.asked_day == INT32_MIN);
        check(r.task_tag >= 0);
        reply_done(&r);
        return 0;
}
