/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The page layout of a directive: columns of the two-column header and
 * signature block, the header (number, date, subject, issuer) and the
 * signer. */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <utf8proc.h>

#include "directive-internal.h"

/* The header (number, date, subject) sits in the first lines. */
#define HEADER_LINES 40
/* The signature block sits in the last lines. */
#define SIGNATURE_LINES 40
#define SUBJECT_LINES 4
/* Where a number without its "Số:" may be looked for. */
#define NUMBER_LINES 8
#define ISSUER_LINES 3

static bool is_space(char c) {
        return c == ' ' || c == '\t';
}

/* Splits a line into its columns: runs of COLUMN_GAP spaces or a tab set
 * them apart in the two-column header and signature block. */
size_t layout_columns(const struct line *l, struct span *cols, size_t max) {
        size_t n = 0, i = 0;

        while (i < l->len && n < max) {
                size_t start, end, gap;
                while (i < l->len && is_space(l->s[i]))
                        i++;
                if (i >= l->len)
                        break;
                start = end = i;
                while (i < l->len) {
                        if (!is_space(l->s[i])) {
                                end = ++i;
                                continue;
                        }
                        gap = 0;
                        while (i + gap < l->len && is_space(l->s[i + gap]) && l->s[i + gap] != '\t')
                                gap++;
                        if (gap >= COLUMN_GAP || (i + gap < l->len && l->s[i + gap] == '\t'))
                                break;
                        i += gap;
                }
                cols[n++] = (struct span) { .s = l->s + start, .len = end - start, .indent = start };
        }
        return n;
}

struct span layout_trimmed(const struct line *l) {
        size_t a = 0, b = l->len;
        while (a < b && is_space(l->s[a]))
                a++;
        while (b > a && is_space(l->s[b - 1]))
                b--;
        return (struct span) { .s = l->s + a, .len = b - a, .indent = a };
}

/* Copies text with runs of white space made one space and the ends
 * trimmed. */
char *layout_normalised(const char *s, size_t n) {
        char *out = malloc(n + 1);
        size_t k = 0;
        bool space = false;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                if (is_space(s[i]) || s[i] == '\n') {
                        space = true;
                        continue;
                }
                if (space && k > 0)
                        out[k++] = ' ';
                space = false;
                out[k++] = s[i];
        }
        out[k] = 0;
        return out;
}

/* Tokenises a span; the tokens' byte ranges are relative to it. */
static int span_tokens(const struct span *sp, struct textnorm_tokens *ret) {
        return textnorm_tokenize(sp->s, sp->len, ret);
}

/* Whether a span's words, punctuation aside, are exactly `phrase` (with
 * `prefix`, begin with it). */
bool layout_words_are(const struct span *sp, const char *phrase, bool prefix) {
        struct textnorm_tokens t = {};
        char buf[128];
        size_t n = 0;
        bool ok;

        if (span_tokens(sp, &t) < 0)
                return false;
        for (size_t i = 0; i < t.n && n < sizeof(buf) - 1; i++) {
                size_t l;
                if (t.tokens[i].punct)
                        continue;
                l = strlen(t.tokens[i].word);
                if (n + l + 1 >= sizeof(buf))
                        break;
                if (n > 0)
                        buf[n++] = ' ';
                memcpy(buf + n, t.tokens[i].word, l);
                n += l;
        }
        buf[n] = 0;
        textnorm_tokens_done(&t);
        ok = prefix ? strncmp(buf, phrase, strlen(phrase)) == 0 && (buf[strlen(phrase)] == 0 || buf[strlen(phrase)] == ' ')
                    : streq(buf, phrase);
        return ok;
}

bool layout_is_decoration(const struct span *sp) {
        if (sp->len == 0)
                return false;
        for (size_t i = 0; i < sp->len; i++)
                if (!strchr("-_=*~. \t", sp->s[i]))
                        return false;
        return true;
}

/* The digits of a document number, OCR's "l", "I" and "O" among them
 * ("l2/CT-UBND") read as digits. Returns how many bytes they are, 0 if
 * the word does not start with a number followed by "/". */
static size_t number_digits(const char *s, size_t n, char *out, size_t size) {
        size_t k = 0;
        bool digit = false;

        for (; k < n && k + 1 < size && s[k] != '/'; k++) {
                if (s[k] >= '0' && s[k] <= '9') {
                        out[k] = s[k];
                        digit = true;
                } else if (s[k] == 'l' || s[k] == 'I' || s[k] == '|')
                        out[k] = '1';
                else if (s[k] == 'O' || s[k] == 'o')
                        out[k] = '0';
                else
                        return 0;
        }
        out[k] = 0;
        return digit && k > 0 && k < n && s[k] == '/' ? k : 0;
}

/* "Số: 2417/UBND-KTTH" in a column: the number as written. */
static char *column_number(const struct span *col) {
        struct textnorm_tokens t = {};
        char digits[8], *r = NULL;
        size_t j = 1, k;

        if (span_tokens(col, &t) < 0)
                return NULL;
        if (t.n >= 2 && !t.tokens[0].punct && textnorm_word_is(t.tokens[0].word, "so")) {
                /* "Số:", and OCR's "S6:.", "Số .". */
                while (j < t.n && j < 3 && t.tokens[j].punct && strchr(":.,;'", t.tokens[j].word[0]))
                        j++;
                if (j < t.n && !t.tokens[j].punct) {
                        const char *w = col->s + t.tokens[j].start;
                        size_t n = t.tokens[j].end - t.tokens[j].start;
                        if ((k = number_digits(w, n, digits, sizeof(digits))) > 0 &&
                            asprintf(&r, "%s%.*s", digits, (int) (n - k), w + k) < 0)
                                r = NULL;
                }
        }
        textnorm_tokens_done(&t);
        return r;
}

/* A word shaped like a document number wherever OCR left it, "Số" lost
 * or read as something else: digits, "/", then a type code in capitals
 * with a hyphen ("356/TB-UBND"). */
static char *word_number(const struct span *sp) {
        struct textnorm_tokens t = {};
        char digits[8], *r = NULL;

        if (span_tokens(sp, &t) < 0)
                return NULL;
        for (size_t i = 0; i < t.n && !r; i++) {
                const char *w = sp->s + t.tokens[i].start;
                size_t n = t.tokens[i].end - t.tokens[i].start, k, caps = 0;
                bool hyphen = false;

                if (t.tokens[i].punct || (k = number_digits(w, n, digits, sizeof(digits))) == 0)
                        continue;
                for (size_t x = k + 1; x < n; x++) {
                        if (w[x] == '-')
                                hyphen = true;
                        else if ((w[x] >= 'A' && w[x] <= 'Z') || (unsigned char) w[x] >= 0x80)
                                caps++;
                        else
                                caps = 0, x = n;
                }
                if (hyphen && caps >= 3 && asprintf(&r, "%s%.*s", digits, (int) (n - k), w + k) < 0)
                        r = NULL;
        }
        textnorm_tokens_done(&t);
        return r;
}

/* Joins `n` lines' chosen spans into one normalised string. */
static char *spans_join(const struct span *spans, size_t n) {
        size_t total = 1;
        char *buf, *out;
        size_t k = 0;

        for (size_t i = 0; i < n; i++)
                total += spans[i].len + 1;
        buf = malloc(total);
        if (!buf)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                memcpy(buf + k, spans[i].s, spans[i].len);
                k += spans[i].len;
                buf[k++] = ' ';
        }
        out = layout_normalised(buf, k);
        free(buf);
        return out;
}

/* Drops a leading "V/v", "Về việc" or "Về" from a subject. */
static char *subject_strip(char *s) {
        static const char *const prefixes[] = { "v/v", "ve viec", "ve" };
        struct textnorm_tokens t = {};
        char *out = s;

        if (!s || textnorm_tokenize(s, strlen(s), &t) < 0)
                return s;
        for (size_t k = 0; k < ELEMENTSOF(prefixes); k++) {
                size_t n = directive_words_at(&t, 0, prefixes[k]);
                if (n > 0 && n < t.n) {
                        out = strdup(s + t.tokens[n].start);
                        if (out)
                                free(s);
                        else
                                out = s;
                        break;
                }
        }
        textnorm_tokens_done(&t);
        return out;
}

int directive_parse_header(const struct line *lines, size_t n_lines, size_t first_item_line, struct directive *d,
                           int32_t *ret_issued) {
        static const char *const titles[] = { "chi thi", "thong bao", "ket luan", "cong dien", "ke hoach",
                                              "quyet dinh", "bao cao", "huong dan", "to trinh", "cong van" };
        struct span spans[MAX(SUBJECT_LINES, ISSUER_LINES) + 1];
        size_t limit = MIN(MIN(n_lines, (size_t) HEADER_LINES), first_item_line);
        size_t number_line = SIZE_MAX, vv_line = SIZE_MAX, title_line = SIZE_MAX, date_limit = limit, n;

        for (size_t li = 0; li < limit; li++) {
                struct span cols[COLUMNS_MAX], tr = layout_trimmed(&lines[li]);
                size_t nc = layout_columns(&lines[li], cols, COLUMNS_MAX);

                if (nc == 0)
                        continue;
                if (layout_words_are(&cols[0], "kinh gui", true)) {
                        limit = date_limit = li;
                        break;
                }
                for (size_t c = 0; c < nc && !d->number; c++)
                        if ((d->number = column_number(&cols[c])))
                                number_line = li;
                if (vv_line == SIZE_MAX && title_line == SIZE_MAX && layout_words_are(&cols[0], "v/v", true))
                        vv_line = date_limit = li;
                for (size_t k = 0; k < ELEMENTSOF(titles) && nc == 1 && vv_line == SIZE_MAX && title_line == SIZE_MAX; k++)
                        if (layout_words_are(&tr, titles[k], false))
                                title_line = date_limit = li;
                if (vv_line != SIZE_MAX || title_line != SIZE_MAX)
                        break;
        }

        /* No "Số:": a number-shaped word in the lines above the subject,
         * never one cited in the text. */
        for (size_t li = 0; !d->number && li < MIN(date_limit, (size_t) NUMBER_LINES); li++) {
                struct span tr = layout_trimmed(&lines[li]);
                if ((d->number = word_number(&tr)))
                        number_line = li;
        }

        for (size_t li = 0; li <= date_limit && li < n_lines; li++) {
                struct textnorm_tokens t = {};
                struct span tr = layout_trimmed(&lines[li]);
                bool found;
                if (span_tokens(&tr, &t) < 0)
                        continue;
                found = directive_find_issued(&t, &*ret_issued);
                textnorm_tokens_done(&t);
                if (found)
                        break;
        }
        if (*ret_issued != INT32_MIN) {
                char buf[11];
                format_iso_date(*ret_issued, buf);
                d->issued_on = strdup(buf);
                if (!d->issued_on)
                        return -ENOMEM;
        }

        n = 0;
        if (vv_line != SIZE_MAX) {
                struct span cols[COLUMNS_MAX];
                layout_columns(&lines[vv_line], cols, COLUMNS_MAX);
                spans[n++] = cols[0];
                for (size_t li = vv_line + 1; li < n_lines && n < SUBJECT_LINES && li < first_item_line; li++) {
                        if (lines[li].blank || layout_columns(&lines[li], cols, COLUMNS_MAX) == 0 ||
                            layout_words_are(&cols[0], "kinh gui", true) || layout_is_decoration(&cols[0]))
                                break;
                        spans[n++] = cols[0];
                }
        } else if (title_line != SIZE_MAX) {
                for (size_t li = title_line + 1; li < n_lines && n < SUBJECT_LINES && li < first_item_line; li++) {
                        struct span tr = layout_trimmed(&lines[li]);
                        if (lines[li].blank || layout_is_decoration(&tr))
                                break;
                        spans[n++] = tr;
                }
        }
        if (n > 0) {
                d->subject = subject_strip(spans_join(spans, n));
                if (!d->subject)
                        return -ENOMEM;
        }

        /* The issuer: the left column above the number, motto aside. */
        n = 0;
        for (size_t li = 0; li < MIN(number_line, limit) && n < ISSUER_LINES; li++) {
                struct span cols[COLUMNS_MAX];
                if (layout_columns(&lines[li], cols, COLUMNS_MAX) == 0 || cols[0].indent >= 20 ||
                    layout_is_decoration(&cols[0]) || layout_words_are(&cols[0], "cong hoa", true) ||
                    layout_words_are(&cols[0], "doc lap", true))
                        continue;
                spans[n++] = cols[0];
        }
        if (n > 0 && number_line != SIZE_MAX) {
                d->issuer = spans_join(spans, n);
                if (!d->issuer)
                        return -ENOMEM;
        }
        return 0;
}

/* A person's name: two to six capitalised words, not all in capitals
 * (which is a title such as "PHÓ CHỦ TỊCH"), no digits or punctuation. */
static bool is_name(const struct span *col) {
        struct textnorm_tokens t = {};
        bool ok, lower = false;

        if (col->len == 0 || col->len > 80 || span_tokens(col, &t) < 0)
                return false;
        ok = t.n >= 2 && t.n <= 6;
        for (size_t k = 0; ok && k < t.n; k++)
                if (t.tokens[k].punct || !t.tokens[k].upper || strpbrk(t.tokens[k].word, "0123456789&/"))
                        ok = false;
        for (size_t i = 0; ok && i < col->len;) {
                utf8proc_int32_t cp;
                utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *) col->s + i,
                                                      (utf8proc_ssize_t) (col->len - i), &cp);
                if (k <= 0)
                        break;
                if (utf8proc_category(cp) == UTF8PROC_CATEGORY_LL)
                        lower = true;
                i += (size_t) k;
        }
        textnorm_tokens_done(&t);
        return ok && lower;
}

int directive_parse_signer(const struct line *lines, size_t n_lines, size_t body_end, bool has_items,
                           struct directive *d) {
        size_t from;

        /* Without "Nơi nhận" or a title the signature block is only looked
         * for after items, so that nonsense yields no signer. */
        if (body_end == n_lines && !has_items)
                return 0;
        from = n_lines > SIGNATURE_LINES ? n_lines - SIGNATURE_LINES : 0;
        from = MAX(from, body_end == n_lines ? from : body_end);
        for (size_t li = n_lines; li > from; li--) {
                struct span cols[COLUMNS_MAX];
                size_t n = layout_columns(&lines[li - 1], cols, COLUMNS_MAX);
                if (n > 0 && is_name(&cols[n - 1])) {
                        d->signer = layout_normalised(cols[n - 1].s, cols[n - 1].len);
                        return d->signer ? 0 : -ENOMEM;
                }
        }
        return 0;
}
