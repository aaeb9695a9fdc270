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
