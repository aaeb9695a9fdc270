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
size_t directive_layout_columns(const struct line *l, struct span *cols, size_t max) {
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

struct span directive_layout_trimmed(const struct line *l) {
        size_t a = 0, b = l->len;
        while (a < b && is_space(l->s[a]))
                a++;
        while (b > a && is_space(l->s[b - 1]))
                b--;
        return (struct span) { .s = l->s + a, .len = b - a, .indent = a };
}

/* Copies text with runs of white space made one space and the ends
 * trimmed. */
char *directive_layout_normalised(const char *s, size_t n) {
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
bool directive_layout_words_are(const struct span *sp, const char *phrase, bool prefix) {
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

bool directive_layout_is_decoration(const struct span *sp) {
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

/* The document number a word holds ("2417/UBND-KTTH", OCR's "l2/CT-UBND"
 * read "12/CT-UBND"), or NULL. With `code`, only a word whose type code
 * is in capitals with a hyphen, as one standing without its "Số:" must
 * be ("356/TB-UBND"). */
static char *word_number(const char *w, size_t n, bool code) {
        char digits[8], *r;
        size_t k = number_digits(w, n, digits, sizeof(digits)), caps = 0;
        bool hyphen = false;

        if (k == 0)
                return NULL;
        for (size_t x = k + 1; code && x < n; x++) {
                if (w[x] == '-')
                        hyphen = true;
                else if ((w[x] >= 'A' && w[x] <= 'Z') || (unsigned char) w[x] >= 0x80)
                        caps++;
                else
                        caps = 0, x = n;
        }
        if (code && !(hyphen && caps >= 3))
                return NULL;
        return asprintf(&r, "%s%.*s", digits, (int) (n - k), w + k) < 0 ? NULL : r;
}

/* "Số: 2417/UBND-KTTH" in a column: the number as written. */
static char *column_number(const struct span *col) {
        struct textnorm_tokens t = {};
        char *r = NULL;
        size_t j = 1;

        if (span_tokens(col, &t) < 0)
                return NULL;
        if (t.n >= 2 && !t.tokens[0].punct && textnorm_word_is(t.tokens[0].word, "so")) {
                /* "Số:", and OCR's "S6:.", "Số .". */
                while (j < t.n && j < 3 && t.tokens[j].punct && strchr(":.,;'", t.tokens[j].word[0]))
                        j++;
                if (j < t.n && !t.tokens[j].punct)
                        r = word_number(col->s + t.tokens[j].start, t.tokens[j].end - t.tokens[j].start, false);
        }
        textnorm_tokens_done(&t);
        return r;
}

/* A number wherever OCR left it on a line, "Số" lost or read as
 * something else. */
static char *line_number(const struct span *sp) {
        struct textnorm_tokens t = {};
        char *r = NULL;

        if (span_tokens(sp, &t) < 0)
                return NULL;
        for (size_t i = 0; i < t.n && !r; i++)
                if (!t.tokens[i].punct)
                        r = word_number(sp->s + t.tokens[i].start, t.tokens[i].end - t.tokens[i].start, true);
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
        out = directive_layout_normalised(buf, k);
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
                struct span cols[COLUMNS_MAX], tr = directive_layout_trimmed(&lines[li]);
                size_t nc = directive_layout_columns(&lines[li], cols, COLUMNS_MAX);

                if (nc == 0)
                        continue;
                if (directive_layout_words_are(&cols[0], "kinh gui", true)) {
                        limit = date_limit = li;
                        break;
                }
                for (size_t c = 0; c < nc && !d->number; c++)
                        if ((d->number = column_number(&cols[c])))
                                number_line = li;
                if (vv_line == SIZE_MAX && title_line == SIZE_MAX && directive_layout_words_are(&cols[0], "v/v", true))
                        vv_line = date_limit = li;
                for (size_t k = 0; k < ELEMENTSOF(titles) && nc == 1 && vv_line == SIZE_MAX && title_line == SIZE_MAX; k++)
                        if (directive_layout_words_are(&tr, titles[k], false))
                                title_line = date_limit = li;
                if (vv_line != SIZE_MAX || title_line != SIZE_MAX)
                        break;
        }

        /* No "Số:": a number-shaped word in the lines above the subject,
         * never one cited in the text. */
        for (size_t li = 0; !d->number && li < MIN(date_limit, (size_t) NUMBER_LINES); li++) {
                struct span tr = directive_layout_trimmed(&lines[li]);
                if ((d->number = line_number(&tr)))
                        number_line = li;
        }

        for (size_t li = 0; li <= date_limit && li < n_lines; li++) {
                struct textnorm_tokens t = {};
                struct span tr = directive_layout_trimmed(&lines[li]);
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
                directive_layout_columns(&lines[vv_line], cols, COLUMNS_MAX);
                spans[n++] = cols[0];
                for (size_t li = vv_line + 1; li < n_lines && n < SUBJECT_LINES && li < first_item_line; li++) {
                        if (lines[li].blank || directive_layout_columns(&lines[li], cols, COLUMNS_MAX) == 0 ||
                            directive_layout_words_are(&cols[0], "kinh gui", true) ||
                            directive_layout_is_decoration(&cols[0]))
                                break;
                        spans[n++] = cols[0];
                }
        } else if (title_line != SIZE_MAX) {
                for (size_t li = title_line + 1; li < n_lines && n < SUBJECT_LINES && li < first_item_line; li++) {
                        struct span tr = directive_layout_trimmed(&lines[li]);
                        if (lines[li].blank || directive_layout_is_decoration(&tr))
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
                if (directive_layout_columns(&lines[li], cols, COLUMNS_MAX) == 0 || cols[0].indent >= 20 ||
                    directive_layout_is_decoration(&cols[0]) ||
                    directive_layout_words_are(&cols[0], "cong hoa", true) ||
                    directive_layout_words_are(&cols[0], "doc lap", true))
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
                size_t n = directive_layout_columns(&lines[li - 1], cols, COLUMNS_MAX);
                if (n > 0 && is_name(&cols[n - 1])) {
                        d->signer = directive_layout_normalised(cols[n - 1].s, cols[n - 1].len);
                        return d->signer ? 0 : -ENOMEM;
                }
        }
        return 0;
}

/* The addressees: "Kính gửi:" (OCR: "Kinh gui", "Kính gừi") and what
 * follows it, on its line and the lines after, often a dash list
 * ("- Các sở, ban, ngành tỉnh;"), in the two-column layout the column it
 * sits in. */
#define ADDRESSEE_SEARCH_LINES 60
#define ADDRESSEE_LINES 16
/* Of one entry; an entry longer than this is cut. */
#define ADDRESSEE_MAX 1024
/* In the two-column layout, how far left of "Kính gửi" its list may start. */
#define ADDRESSEE_SLACK 6

/* The bytes "Kính gửi" and a colon after it take at the start of a column,
 * or 0. */
static size_t kinh_gui_at(const struct span *col) {
        struct textnorm_tokens t = {};
        size_t n, skip = 0;

        if (span_tokens(col, &t) < 0)
                return 0;
        n = directive_words_at(&t, 0, "kinh gui");
        /* "Kính" read whole and a short word in "g" after it ("Kinh gt:"):
         * nothing else opens a header's line so. */
        if (n == 0 && directive_words_at(&t, 0, "kinh") && t.n > 1 && !t.tokens[1].punct &&
            t.tokens[1].word[0] == 'g' && strlen(t.tokens[1].word) <= 3)
                n = 2;
        if (n > 0) {
                if (n < t.n && t.tokens[n].punct && t.tokens[n].word[0] == ':')
                        n++;
                skip = n < t.n ? t.tokens[n].start : col->len;
        }
        textnorm_tokens_done(&t);
        return skip;
}

static int strv_add_unique(char ***l, const char *s) {
        if (*l && strv_contains(*l, s))
                return 0;
        return strv_push(l, s) < 0 ? -ENOMEM : 0;
}

/* One addressee entry ("Các sở, ban, ngành tỉnh", "Sở Tài chính, Sở Xây
 * dựng"): every agency or group it names, or the entry itself among the
 * unmatched when it names none. */
static int addressee_entry(const struct textnorm_index *idx, const char *s, size_t n, struct directive *d) {
        _cleanup_free_ struct textnorm_mention *m = NULL;
        _cleanup_free_ char *text = directive_layout_normalised(s, n);
        bool matched = false;
        size_t a, b;
        int k, r;

        if (!text)
                return -ENOMEM;
        a = 0, b = strlen(text);
        while (a < b && strchr("-+*.,;:/ ", text[a]))
                a++;
        while (b > a && strchr(".,;:/ ", text[b - 1]))
                b--;
        if (a == b)
                return 0;
        text[b] = 0;
        k = textnorm_index_find(idx, text + a, b - a, 0, &m);
        if (k < 0)
                return k == -ENOMEM ? -ENOMEM : 0;
        for (int i = 0; i < k; i++)
                if (m[i].match.id) {
                        r = strv_add_unique(&d->addressees, m[i].match.id);
                        if (r < 0)
                                return r;
                        matched = true;
                }
        return matched ? 0 : strv_add_unique(&d->addressees_unmatched, text + a);
}

/* A bullet at the start of a list line: "-", "+", "*", "•", "–", "—",
 * and what OCR makes of a dash ("_", "~", "°", "·", "_ -"). Returns its
 * length, or 0. */
static size_t bullet_at(const char *s, size_t n) {
        size_t i = 0, k, bullets = 0;

        for (;;) {
                while (bullets > 0 && i < n && is_space(s[i]))
                        i++;
                if (i < n && strchr("-+*_~", s[i]))
                        k = 1;
                else if (i + 3 <= n && (memcmp(s + i, "•", 3) == 0 || memcmp(s + i, "–", 3) == 0 ||
                                        memcmp(s + i, "—", 3) == 0))
                        k = 3;
                else if (i + 2 <= n && (memcmp(s + i, "°", 2) == 0 || memcmp(s + i, "·", 2) == 0))
                        k = 2;
                else
                        return bullets > 0 ? i : 0;
                i += k;
                if (++bullets == 3)
                        return i;
        }
}

struct addressee_list {
        char entry[ADDRESSEE_MAX]; /* the entry being read */
        size_t len;
        bool bullets;           /* the list is a dash list */
        bool closed;            /* the last entry ended with ";" */
        bool done;              /* a "." ended the list */
        size_t n_pieces;        /* pieces of text read */
        size_t margin;          /* a line without a bullet left of this is not the list's */
};

/* The columns `n` bytes of UTF-8 take. */
static size_t visual_width(const char *s, size_t n) {
        size_t w = 0;
        for (size_t i = 0; i < n; i++)
                w += ((unsigned char) s[i] & 0xc0) != 0x80;
        return w;
}

/* Appends to the entry, cutting it (at a character) when it is full. */
static void addressee_append(struct addressee_list *a, const char *s, size_t n) {
        if (n > sizeof(a->entry) - a->len) {
                n = sizeof(a->entry) - a->len;
                while (n > 0 && ((unsigned char) s[n] & 0xc0) == 0x80)
                        n--;
        }
        memcpy(a->entry + a->len, s, n);
        a->len += n;
}

/* Whether the entry being read plainly goes on: "Sở Tài chính," or "Sở Kế
 * hoạch và". */
static bool addressee_open(const struct addressee_list *a) {
        const char *e = a->entry;
        size_t n = a->len;

        while (n > 0 && is_space(e[n - 1]))
                n--;
        return n > 0 && (e[n - 1] == ',' || (n >= 4 && memcmp(e + n - 4, " và", 4) == 0));
}

static int addressee_flush(const struct textnorm_index *idx, struct addressee_list *a, struct directive *d) {
        int r = 0;

        if (a->len > 0)
                r = addressee_entry(idx, a->entry, a->len, d);
        a->len = 0;
        return r;
}

/* Reads one line's part of the list: a bullet starts an entry, ";" ends
 * one, a "." at the end ends the list. */
static int addressee_piece(const struct textnorm_index *idx, struct addressee_list *a, const char *s, size_t n,
                           size_t indent, bool first, struct directive *d) {
        size_t k, start;
        int r;

        while (n > 0 && is_space(s[n - 1]))
                n--;
        while (n > 0 && is_space(s[0]))
                s++, n--, indent++;
        if (n == 0)
                return 0;
        k = bullet_at(s, n);
        if (k > 0) {
                r = addressee_flush(idx, a, d);
                if (r < 0)
                        return r;
                a->bullets = true;
                a->margin = indent;
                s += k, n -= k;
        } else if (!first && ((a->bullets && a->closed) || (indent < a->margin && !addressee_open(a))))
                /* After "- X;", or left of the list, a line without a
                 * bullet is the body's. */
                return a->done = true, 0;
        else if (first)
                /* "Kính gửi: Sở Tài chính": what follows lines up with it. */
                a->margin = indent >= 2 ? indent - 2 : 0;
        a->n_pieces++;
        a->closed = false;
        start = 0;
        for (size_t i = 0; i <= n; i++) {
                if (i < n && s[i] != ';')
                        continue;
                if (a->len > 0 && a->len < sizeof(a->entry))
                        a->entry[a->len++] = ' ';
                addressee_append(a, s + start, i - start);
                if (i < n) {
                        r = addressee_flush(idx, a, d);
                        if (r < 0)
                                return r;
                        a->closed = true;
                }
                start = i + 1;
        }
        /* "./." is how an administrative text ends itself, too. */
        if (n > 0 && s[n - 1] == '.') {
                a->done = true;
                return addressee_flush(idx, a, d);
        }
        if (n > 0 && s[n - 1] != ';')
                a->closed = false;
        return 0;
}

/* The spans of a line that belong to a list whose "Kính gửi" is in the
 * column at `indent` (two-column layout) or opens its line (indent 0). */
static size_t addressee_spans(const struct line *l, size_t indent, struct span *out, size_t max) {
        struct span cols[COLUMNS_MAX];
        size_t nc, n = 0;

        if (indent == SIZE_MAX) {
                out[0] = directive_layout_trimmed(l);
                return out[0].len > 0;
        }
        nc = directive_layout_columns(l, cols, COLUMNS_MAX);
        for (size_t c = 0; c < nc && n < max; c++)
                if (cols[c].indent + ADDRESSEE_SLACK >= indent)
                        out[n++] = cols[c];
        return n;
}

int directive_parse_addressees(const struct textnorm_index *idx, const struct line *lines, size_t n_lines,
                               size_t first_item_line, struct directive *d) {
        size_t limit = MIN(MIN(n_lines, (size_t) ADDRESSEE_SEARCH_LINES), first_item_line);
        size_t kg_line = SIZE_MAX, kg_indent = SIZE_MAX, blanks = 0;
        struct addressee_list a = {};
        int r = 0;

        if (!d->addressees && !(d->addressees = calloc(1, sizeof(char *))))
                return -ENOMEM;
        if (!d->addressees_unmatched && !(d->addressees_unmatched = calloc(1, sizeof(char *))))
                return -ENOMEM;

        for (size_t li = 0; li < limit && kg_line == SIZE_MAX; li++) {
                struct span cols[COLUMNS_MAX];
                size_t nc = directive_layout_columns(&lines[li], cols, COLUMNS_MAX), skip;

                for (size_t c = 0; c < nc; c++)
                        if ((skip = kinh_gui_at(&cols[c])) > 0) {
                                kg_line = li;
                                /* Alone on its line, "Kính gửi" may sit
                                 * centred over a list that starts further
                                 * left: only a column beside another
                                 * keeps the list to its side. */
                                kg_indent = c > 0 ? cols[c].indent : SIZE_MAX;
                                r = addressee_piece(idx, &a, cols[c].s + skip, cols[c].len - skip,
                                                    visual_width(lines[li].s, cols[c].s + skip - lines[li].s), true, d);
                                break;
                        }
        }
        for (size_t li = kg_line + 1; r >= 0 && kg_line != SIZE_MAX && !a.done && li < MIN(n_lines, first_item_line) &&
                                      li <= kg_line + ADDRESSEE_LINES;
             li++) {
                struct span spans[COLUMNS_MAX];
                struct span tr = directive_layout_trimmed(&lines[li]);
                size_t n;

                if (lines[li].blank || directive_layout_is_decoration(&tr)) {
                        /* A blank line ends the list, once there is one. */
                        if (a.n_pieces > 0 || ++blanks > 2)
                                break;
                        continue;
                }
                n = addressee_spans(&lines[li], kg_indent, spans, COLUMNS_MAX);
                if (n == 0) {
                        if (a.n_pieces > 0)
                                break;
                        continue;
                }
                for (size_t k = 0; k < n && r >= 0 && !a.done; k++)
                        r = addressee_piece(idx, &a, spans[k].s, spans[k].len,
                                            visual_width(lines[li].s, spans[k].s - lines[li].s), false, d);
        }
        if (r >= 0)
                r = addressee_flush(idx, &a, d);
        return r;
}
