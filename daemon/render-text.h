/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Text hygiene for rendering (internal to render.c, pure). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "render.h"

/* Cleans one input text: invalid UTF-8 becomes U+FFFD, control and
 * bidirectional-override characters are dropped, every kind of line break
 * becomes "\n" and the result is NFC. A one-line text has all runs of
 * blanks and breaks made one space and is trimmed; a multi-line text loses
 * leading and trailing blank lines. -E2BIG beyond RENDER_FIELD_MAX bytes. */
int text_clean(const char *s, bool one_line, char **ret);

/* Whether valid UTF-8 `s` is NFC by a quick check: every character one
 * that NFC never changes nor joins to the one before (true says NFC; false
 * says only "perhaps not"). */
bool text_is_nfc_quick(const char *s);
bool text_is_nfc_quick_char(uint32_t c);

/* Any text into NFC UTF-8 (invalid bytes become U+FFFD). */
int text_normalize(const char *s, char **ret);
/* Whether some character of `s` could compose with one before it (a
 * combining mark or the second half of a composition): NFC pieces joined
 * stay NFC unless one of them starts with such a character. */
bool text_may_compose(const char *s);

/* A copy of `s` cut to at most `max_chars` characters, preferably at a
 * word boundary, ending in "…" when cut. */
int text_shorten(const char *s, size_t max_chars, char **ret);

/* In place: at most one blank line in a row, no leading blank lines, one
 * final "\n" (nothing for an empty text). */
void text_collapse_blank_lines(char *s);
/* In place: runs of blanks and line breaks become one space; trimmed. */
void text_collapse_spaces(char *s);
