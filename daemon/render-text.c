/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "render-text.h"
#include "strbuf.h"

static bool is_line_break(int32_t c) {
        return c == '\n' || c == '\r' || c == '\v' || c == '\f' ||
                c == 0x85 || c == 0x2028 || c == 0x2029;
}

/* Control characters have no business in a reminder, and the explicit
 * bidirectional controls can make a line display in another order than it
 * reads (the "Trojan Source" trick); neither occurs in Vietnamese text. */
static bool is_dropped(int32_t c) {
        return (c < 0x20 && c != '\t') || (c >= 0x7f && c <= 0x9f) ||
                (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069);
}

int text_clean(const char *s, bool one_line, char **ret) {
        struct strbuf b = STRBUF_INIT(RENDER_FIELD_MAX * 3);
        const uint8_t *p = (const uint8_t *) s;
        size_t n = strlen(s), i = 0;
        bool pending_space = false;
        _cleanup_free_ char *raw = NULL;
        uint8_t *nfc;
        int r;

        if (n > RENDER_FIELD_MAX)
                return -E2BIG;

        while (i < n) {
                /* A run of printable ASCII (and of blanks, when lines are
                 * kept) stays as it is: copied in one piece. */
                if ((p[i] > ' ' && p[i] < 0x7f) || (!one_line && p[i] == ' ')) {
                        size_t j = i + 1;
                        while (j < n && ((p[j] > ' ' && p[j] < 0x7f) || (!one_line && p[j] == ' ')))
                                j++;
                        if (pending_space)
                                strbuf_putc(&b, ' ');
                        pending_space = false;
                        strbuf_putn(&b, (const char *) p + i, j - i);
                        i = j;
                        continue;
                }

                utf8proc_int32_t c;
                utf8proc_ssize_t k = utf8proc_iterate(p + i, n - i, &c);
                uint8_t enc[4];

                if (k < 0) {
                        c = 0xfffd;
                        k = 1;
                }
                i += k;
                if (c == '\r' && i < n && p[i] == '\n')
                        i++;

                if (is_line_break(c))
                        c = one_line ? ' ' : '\n';
                else if (c == '\t' && one_line)
                        c = ' ';
                else if (is_dropped(c))
                        continue;

                if (one_line && c == ' ') {
                        pending_space = b.len > 0;
                        continue;
                }
                if (pending_space)
                        strbuf_putc(&b, ' ');
                pending_space = false;
                strbuf_putn(&b, (const char *) enc, utf8proc_encode_char(c, enc));
        }

        r = strbuf_steal(&b, &raw, &n);
        if (r < 0)
                return r;
        if (!one_line) {
                /* Leading and trailing blank lines and blanks go. */
                char *start = raw + strspn(raw, " \t\n");
                while (n > 0 && strchr(" \t\n", raw[n - 1]))
                        raw[--n] = 0;
                memmove(raw, start, strlen(start) + 1);
        }

        /* Most texts are NFC already, and known to be so without the
         * decomposition and recomposition utf8proc_NFC() does. */
        if (text_is_nfc_quick(raw)) {
                *ret = TAKE_PTR(raw);
                return 0;
        }
        nfc = utf8proc_NFC((const uint8_t *) raw);
        if (!nfc)
                return -ENOMEM;
        *ret = (char *) nfc;
        return 0;
}

/* Characters that NFC leaves as they are, alone and after any other
 * (Unicode's NFC_Quick_Check=Yes, combining class 0, never the second half
 * of a composition): all below the combining marks at U+0300, Vietnamese's
 * precomposed letters, and the dashes, quotes and dots of U+2010..U+2027.
 * test-render checks each against utf8proc. */
bool text_is_nfc_quick_char(uint32_t c) {
        return c < 0x300 || (c >= 0x1ea0 && c <= 0x1ef9) || (c >= 0x2010 && c <= 0x2027);
}

bool text_is_nfc_quick(const char *s) {
        const uint8_t *p = (const uint8_t *) s;

        for (size_t i = 0; p[i];) {
                utf8proc_int32_t c;
                utf8proc_ssize_t k;

                if (p[i] < 0x80) {
                        i++;
                        continue;
                }
                k = utf8proc_iterate(p + i, -1, &c);
                if (k < 0 || !text_is_nfc_quick_char((uint32_t) c))
                        return false;
                i += k;
        }
        return true;
}

int text_normalize(const char *s, char **ret) {
        struct strbuf b = STRBUF_INIT(SIZE_MAX / 2);
        _cleanup_free_ char *valid = NULL;
        const uint8_t *p = (const uint8_t *) s;
        size_t n = strlen(s);
        uint8_t *nfc;
        int r;

        for (size_t i = 0; i < n;) {
                utf8proc_int32_t c;
                utf8proc_ssize_t k = utf8proc_iterate(p + i, n - i, &c);
                uint8_t enc[4];

                if (k < 0)
                        c = 0xfffd, k = 1;
                i += k;
                strbuf_putn(&b, (const char *) enc, utf8proc_encode_char(c, enc));
        }
        r = strbuf_steal(&b, &valid, NULL);
        if (r < 0)
                return r;
        nfc = utf8proc_NFC((const uint8_t *) valid);
        if (!nfc)
                return -ENOMEM;
        *ret = (char *) nfc;
        return 0;
}

bool text_may_compose(const char *s) {
        const uint8_t *p = (const uint8_t *) s;

        for (size_t i = 0; p[i];) {
                utf8proc_int32_t c;
                utf8proc_ssize_t k;
                const utf8proc_property_t *prop;

                if (p[i] < 0x80) {
                        i++;
                        continue;
                }
                k = utf8proc_iterate(p + i, -1, &c);
                if (k < 0)
                        return true;
                i += k;
                /* Vietnamese's letters and punctuation, without a look
                 * at the character's properties. */
                if (text_is_nfc_quick_char((uint32_t) c))
                        continue;
                /* Only marks, and the Hangul vowels and final consonants
                 * that join a syllable, ever compose with what precedes
                 * them (Unicode's NFC_Quick_Check=Maybe). */
                prop = utf8proc_get_property(c);
                if (prop->combining_class != 0 || prop->category == UTF8PROC_CATEGORY_MN ||
                    prop->category == UTF8PROC_CATEGORY_MC || prop->category == UTF8PROC_CATEGORY_ME ||
                    (c >= 0x1160 && c <= 0x11ff))
                        return true;
        }
        return false;
}

/* The byte offset of character `n_chars` (or of the end). */
static size_t utf8_offset_of_char(const char *s, size_t n_chars) {
        size_t i = 0;

        while (s[i] && n_chars > 0) {
                i++;
                while (((uint8_t) s[i] & 0xc0) == 0x80)
                        i++;
                n_chars--;
        }
        return i;
}

int text_shorten(const char *s, size_t max_chars, char **ret) {
        size_t cut = utf8_offset_of_char(s, max_chars), space;
        char *t;

        if (!s[cut])
                return (*ret = strdup(s)) ? 0 : -ENOMEM;

        /* Cut at the last word boundary in the final quarter, so that a
         * word is not split when that costs little; leave room for "…". */
        cut = utf8_offset_of_char(s, max_chars - 1);
        space = cut;
        while (space > 0 && s[space] != ' ')
                space--;
        if (space > 0 && space >= utf8_offset_of_char(s, max_chars * 3 / 4))
                cut = space;
        while (cut > 0 && strchr(" ,;:-", s[cut - 1]))
                cut--;

        if (asprintf(&t, "%.*s…", (int) cut, s) < 0)
                return -ENOMEM;
        *ret = t;
        return 0;
}

void text_collapse_blank_lines(char *s) {
        /* Optional sections that render empty must not leave holes: more
         * than one blank line in a row becomes one, and the text starts
         * with its first non-blank line and ends with one "\n". */
        char *w = s;
        size_t newlines = 2;

        for (const char *r = s; *r; r++) {
                if (*r == '\n') {
                        if (++newlines > 2)
                                continue;
                } else
                        newlines = 0;
                *w++ = *r;
        }
        while (w > s && w[-1] == '\n')
                w--;
        if (w > s)
                *w++ = '\n';
        *w = 0;
}

void text_collapse_spaces(char *s) {
        char *w = s;
        bool space = false;

        for (const char *r = s; *r; r++) {
                if (strchr(" \t\n\r", *r)) {
                        space = w > s;
                        continue;
                }
                if (space)
                        *w++ = ' ';
                space = false;
                *w++ = *r;
        }
        *w = 0;
}
