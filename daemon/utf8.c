/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "utf8.h"

#include <stdint.h>
#include <string.h>

size_t utf8_char_length(const unsigned char *s, size_t n) {
        unsigned char c;
        uint32_t cp;
        size_t k;

        if (n == 0)
                return 0;
        c = s[0];
        if (c < 0x80)
                return 1;
        if (c >= 0xc2 && c <= 0xdf)
                k = 2, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
                k = 3, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
                k = 4, cp = c & 0x07;
        else
                return 0;
        if (n < k)
                return 0;
        for (size_t m = 1; m < k; m++) {
                if ((s[m] & 0xc0) != 0x80)
                        return 0;
                cp = cp << 6 | (s[m] & 0x3f);
        }
        if ((k == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)))
                return 0;
        return k;
}

bool utf8_is_valid(const char *s, size_t n) {
        const unsigned char *p = (const unsigned char *) s;
        size_t i = 0;

        while (i < n) {
                if (n - i >= 8) {
                        uint64_t v;
                        memcpy(&v, p + i, sizeof v);
                        if (!(v & UINT64_C(0x8080808080808080))) {
                                i += 8;
                                continue;
                        }
                }
                unsigned char c = p[i];
                if (c < 0x80) {
                        i++;
                        continue;
                }
                size_t k = utf8_char_length_quick(p + i, n - i);
                if (k == 0)
                        return false;
                i += k;
        }
        return true;
}
