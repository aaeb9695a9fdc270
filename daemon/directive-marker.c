/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Item and sub-item markers (see directive.h): read as written, then
 * given their meaning by the sequence they stand in, OCR's damage
 * repaired ("4)" inside item 3 is "a)", "©)" after "b)" is "c)", "S." for
 * "5."). */

#include <stdlib.h>
#include <string.h>

#include "directive-internal.h"

static bool is_space(char c) {
        return c == ' ' || c == '\t';
}

/* The digit a character stands for, OCR's confusions included ("S" for
 * "5", "l" for "1"), or -1. */
static int digit_of(char c, bool *ret_lookalike) {
        static const char shapes[] = "OoIl|ZzAaSsGbTBgq";
        static const char digits[] = "00111224455667899";

        if (c >= '0' && c <= '9')
                return c - '0';
        for (size_t k = 0; shapes[k]; k++)
                if (shapes[k] == c) {
                        *ret_lookalike = true;
                        return digits[k] - '0';
                }
        return -1;
}

/* Up to three digits, or their OCR shapes: at most one shape, beside a
 * real digit ("l2", "1O"), or alone when it is a capital that is no
 * roman numeral ("S." for "5.", "B." for "8."). */
static size_t digits_at(const char *s, size_t n, size_t i, int *ret, bool *ret_lookalike) {
        size_t k = 0;
        int v = 0, shapes = 0;
        bool look = false;

        while (i + k < n && k < 3) {
                bool l = false;
                int d = digit_of(s[i + k], &l);
                if (d < 0)
                        break;
                v = v * 10 + d;
                shapes += l;
                k++;
        }
        if (k == 0 || (i + k < n && s[i + k] >= '0' && s[i + k] <= '9') || shapes > 1 || (shapes == 1 && k > 2))
                return 0;
        if (shapes == 1 && k == 1 && !strchr("SZAGTB", s[i]))
                return 0;
        look = shapes > 0;
        *ret = v;
        *ret_lookalike = look;
        return k;
}

/* What ends a marker: white space, the end, or a letter ("1.Sở"). */
static bool marker_end(const char *s, size_t n, size_t i) {
        return i >= n || is_space(s[i]) || (unsigned char) s[i] >= 0x80 ||
               (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z');
}

static size_t skip_spaces(const char *s, size_t n, size_t i) {
        while (i < n && is_space(s[i]))
                i++;
        return i;
}

/* The punctuation that closes a marker, with the doubling OCR adds
 * ("3..", "c):", "4.,"): returns its length, 0 if none; *ret_term is the
 * first character, '.' or ')' (a brace or bracket is OCR's parenthesis). */
static size_t marker_term(const char *s, size_t n, size_t i, char *ret_term) {
        size_t k = 0;

        if (i >= n || !strchr(".:,)}]", s[i]))
                return 0;
        *ret_term = strchr(".:,", s[i]) ? '.' : ')';
        for (k = 1; k < 3 && i + k < n && strchr(".,:)", s[i + k]); k++)
                ;
        return k;
}

/* A marker at the start of a line, as written; whether it is one, and
 * which, is for the sequence to decide (parse_items()). A stray bullet
 * or dash before it ("- 5.Sở", "-a)") is skipped. */
struct marker directive_line_marker(const struct span *sp) {
        const char *s = sp->s;
        size_t n = sp->len, k, i, j = 0, t;
        struct marker m = {};
        bool look = false;

        while (j < n && j < 3 && strchr("-*'`\".,_~", s[j]))
                j++;
        if (j > 0)
                j = skip_spaces(s, n, j);
        /* •, and OCR's ‘ ’ for a speck */
        if (j + 3 <= n && (unsigned char) s[j] == 0xe2 && (unsigned char) s[j + 1] == 0x80 &&
            ((unsigned char) s[j + 2] == 0xa2 || (unsigned char) s[j + 2] == 0x98 || (unsigned char) s[j + 2] == 0x99))
                j = skip_spaces(s, n, j + 3);
        s += j;
        n -= j;

        if ((k = digits_at(s, n, 0, &m.num, &look)) > 0 && k < n) {
                if (!look && s[k] == '.' && k + 1 < n && s[k + 1] >= '0' && s[k + 1] <= '9') {
                        bool l2 = false;
                        size_t k2 = digits_at(s, n, k + 1, &m.sub, &l2);
                        i = k + 1 + k2;
                        if (k2 > 0 && !l2 && i < n && (s[i] == '.' || s[i] == ')'))
                                i++;
                        if (k2 > 0 && !l2 && i < n && is_space(s[i])) {
                                m.mark = MARK_SUBNUMBER;
                                m.skip = j + skip_spaces(s, n, i);
                                /* Or "5." before a word OCR made digits of
                                 * ("5.86 Tài nguyên": "5. Sở Tài nguyên"). */
                                m.term = '.';
                                m.alt_skip = j + k + 1;
                        }
                        return m;
                }
                t = marker_term(s, n, k, &m.term);
                /* "7," and "4:" are OCR's "7." and "4." only before a capital. */
                if (t > 0 && (s[k] == ',' || s[k] == ':')) {
                        size_t x = skip_spaces(s, n, k + t);
                        if (!textnorm_starts_upper(s + x, n - x))
                                t = 0;
                }
                /* A shape alone must be followed by a space: "S. Sở", not "Sở". */
                if (t > 0 && marker_end(s, n, k + t) && m.num > 0 && (!look || k > 1 || k + t >= n || is_space(s[k + t]))) {
                        m.mark = MARK_NUMBER;
                        m.lookalike = look;
                        m.skip = j + skip_spaces(s, n, k + t);
                        return m;
                }
                if (!look)
                        return m;
                m.num = 0;
        }
        /* Roman numerals head sections: "II." */
        for (i = 0; i < n && i < 5 && (s[i] == 'I' || s[i] == 'V' || s[i] == 'X'); i++)
                ;
        if (i > 0 && i + 1 < n && s[i] == '.' && is_space(s[i + 1])) {
                m.mark = MARK_ROMAN;
                m.skip = j + skip_spaces(s, n, i + 1);
                return m;
        }
        /* One character, then ")" (or "." after a letter): "a)", "đ)",
         * and what OCR makes of them ("©)", "¢)", "ä)", "b}"). */
        if (n == 0 || is_space(s[0]) || strchr(".,;:()[]{}", s[0]))
                return m;
        k = directive_utf8_len((unsigned char) s[0]);
        /* "cơ)": a letter and a speck OCR added, read as the letter. */
        if (s[0] >= 'a' && s[0] <= 'z' && n > 1 && (unsigned char) s[1] >= 0x80) {
                size_t k2 = 1 + directive_utf8_len((unsigned char) s[1]);
                if (k2 < n && (t = marker_term(s, n, k2, &m.term)) > 0 && m.term == ')' &&
                    marker_end(s, n, k2 + t)) {
                        m.mark = MARK_GLYPH;
                        m.letter[0] = s[0];
                        m.letter[1] = 0;
                        m.skip = j + skip_spaces(s, n, k2 + t);
                        return m;
                }
        }
        if (k >= n || k >= sizeof(m.letter) || !(t = marker_term(s, n, k, &m.term)) ||
            (m.term == '.' ? k + t < n && !is_space(s[k + t]) : !marker_end(s, n, k + t)))
                return m;
        memcpy(m.letter, s, k);
        m.letter[k] = 0;
        if (k == 1 && s[0] >= 'A' && s[0] <= 'Z')
                m.letter[0] = (char) (s[0] - 'A' + 'a');
        if (streq(m.letter, "đ") || streq(m.letter, "Đ"))
                strcpy(m.letter, "đ");
        else if (k > 1 || !(m.letter[0] >= 'a' && m.letter[0] <= 'z')) {
                _cleanup_free_ char *f = NULL;
                /* An accent OCR added ("á)") is no other letter. */
                if (textnorm_fold(m.letter, k, &f) >= 0 && f[0] >= 'a' && f[0] <= 'z' && !f[1])
                        strcpy(m.letter, f);
                else
                        m.mark = MARK_GLYPH;
        }
        /* Only a letter closes with a full stop ("a."), and only a lower-case one. */
        if (m.term == '.' && (m.mark == MARK_GLYPH || (k == 1 && s[0] >= 'A' && s[0] <= 'Z')))
                return (struct marker) {};
        if (m.mark == MARK_NONE)
                m.mark = MARK_LETTER;
        m.skip = j + skip_spaces(s, n, k + t);
        return m;
}

/* The Vietnamese alphabet order of sub-items: a b c d đ e g h i k l m n
 * o p q r s t u v x y. */
static const char *const letters[] = { "a", "b", "c", "d", "đ", "e", "g", "h", "i", "k", "l", "m",
                                       "n", "o", "p", "q", "r", "s", "t", "u", "v", "x", "y" };

static int letter_index(const char *l) {
        for (size_t k = 0; k < ELEMENTSOF(letters); k++)
                if (streq(l, letters[k]))
                        return (int) k;
        return -1;
}

/* The letter after `prev` ("" before the first), or NULL after "y". */
static const char *letter_next(const char *prev) {
        int k = prev[0] ? letter_index(prev) : -1;
        return k + 1 < (int) ELEMENTSOF(letters) && (k >= 0 || !prev[0]) ? letters[k + 1] : NULL;
}

/* Whether `next` follows `prev` in the Vietnamese order or in plain ASCII
 * order ("d" then "e", with no "đ"). */
static bool letter_follows(const char *prev, const char *next) {
        const char *want = letter_next(prev);
        if (want && streq(want, next))
                return true;
        return strlen(prev) == 1 && strlen(next) == 1 && next[0] == prev[0] + 1;
}

/* The letter of a sub-item marker, repaired from its place in the
 * sequence, or NULL when the marker starts no sub-item. `open` says that
 * sub-items are expected here: the heading ends with a colon, or its
 * sub-items have begun. `item_term` is how the document closes its item
 * numbers. */
const char *directive_letter_repair(const struct marker *m, const char *last, bool open, char item_term,
                                   int last_num) {
        const char *want = letter_next(last);
        int k;

        if (!want)
                return NULL;
        switch (m->mark) {
        case MARK_LETTER:
                if (letter_follows(last, m->letter)) {
                        /* "f", "j", "w" follow in ASCII order only. */
                        k = letter_index(m->letter);
                        return streq(m->letter, want) || k < 0 ? want : letters[k];
                }
                /* OCR reads "đ)" as "d)": a second "d)" is the "đ)". */
                if (streq(last, "d") && streq(m->letter, "d"))
                        return "đ";
                if (!open || m->term != ')')
                        return NULL;
                /* A letter after one lost with its line ("d)" right after
                 * "b)") keeps its own; any other is the one due, misread
                 * ("e)" for "c)"). */
                k = letter_index(m->letter);
                if (k >= 0 && last[0] && k == letter_index(last) + 2)
                        return letters[k];
                return want;
        case MARK_GLYPH:
                return open ? want : NULL;
        case MARK_NUMBER:
                /* "4)" among items numbered "1." "2." "3.": a letter read
                 * as a digit ("a" as "4", "b" as "6"), unless it is the
                 * next item coming after sub-items. */
                if (open && item_term && m->term != item_term && (!last[0] || m->num != last_num + 1))
                        return want;
                return NULL;
        default:
                return NULL;
        }
}
