/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* Whether the n bytes at s are UTF-8 as RFC 3629 has it (and jansson and
 * utf8proc take it): no overlong form, no surrogate, nothing above
 * U+10FFFF. A NUL byte is a character like any other here. Runs of ASCII
 * are checked eight bytes at a time. Pure. */
bool utf8_is_valid(const char *s, size_t n);

/* The length of the valid UTF-8 character at s (at most n bytes), or 0. */
size_t utf8_char_length(const unsigned char *s, size_t n);

/* The same, with the forms Vietnamese is written in inline: two bytes from
 * C2 (U+0080..U+07FF), and three from E1..EC, EE, EF, which can be neither
 * overlong nor a surrogate. For loops over text that is mostly those. */
static inline size_t utf8_char_length_quick(const unsigned char *s, size_t n) {
        unsigned char c = n > 0 ? s[0] : 0;

        if (c >= 0xc2 && c <= 0xdf)
                return n >= 2 && (s[1] & 0xc0) == 0x80 ? 2 : 0;
        if (c >= 0xe1 && c <= 0xef && c != 0xed)
                return n >= 3 && (s[1] & 0xc0) == 0x80 && (s[2] & 0xc0) == 0x80 ? 3 : 0;
        return utf8_char_length(s, n);
}
