/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Directive parsing (directive.h): input checks, lines, the header and
 * signature block, the item structure, and assembly of the result.
 * Deadlines are directive-date.c's, roles directive-roles.c's. */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "directive-internal.h"

#define REF_MAX 32
/* How far ahead a misread number looks for the next one. */
#define LOOKAHEAD_LINES 200
/* The highest number an excerpt's first item may have. */
#define FIRST_ITEM_MAX 50

struct item {
        char ref[REF_MAX];
        int section;            /* the roman section it is under, 0: none */
        size_t parent;          /* index of its heading, or SIZE_MAX */
        bool heading;           /* it has sub-items */
        unsigned page, line;    /* where it starts */
        char *text;
        size_t len, cap;
};

struct parser {
        const struct textnorm_index *idx;
        char *text;
        size_t len;
        struct line *lines;
        size_t n_lines;
        struct item *items;
        size_t n_items, cap_items;
        bool sections_restart;  /* numbering starts again under a new section */
        size_t first_item_line; /* SIZE_MAX: no items */
        size_t body_end;        /* the first line of "Nơi nhận" / the signature */
        int32_t issued;         /* INT32_MIN: unknown */
        struct directive *d;
};

static bool is_space(char c) {
        return c == ' ' || c == '\t';
}

/* Checks and normalises the input: valid UTF-8 without NUL or control
 * characters (binary data is refused, not parsed), NFC, and line ends,
 * page breaks, no-break spaces and byte order marks made plain. */
static int text_clean(const char *text, size_t len, char **ret, size_t *ret_len) {
        _cleanup_free_ char *nfc = NULL;
        char *out;
        size_t n = 0, l;
        int r;

        r = textnorm_nfc(text, len, &nfc);
        if (r < 0)
                return r;
        l = strlen(nfc);
        out = malloc(l + 1);
        if (!out)
                return -ENOMEM;
        for (size_t i = 0; i < l; i++) {
                unsigned char c = (unsigned char) nfc[i];
                if (c == '\r') {
                        if (i + 1 < l && nfc[i + 1] == '\n')
                                continue;
                        c = '\n';
                } else if (c == '\v')
                        c = '\n';
                else if ((c < 0x20 && c != '\n' && c != '\t' && c != '\f') || c == 0x7f ||
                         (c == 0xc2 && i + 1 < l && (unsigned char) nfc[i + 1] < 0xa0)) {
                        free(out);
                        return -EBADMSG;
                } else if (c == 0xc2 && i + 1 < l && (unsigned char) nfc[i + 1] == 0xa0) {
                        /* A no-break space lays out like a space. */
                        i++;
                        c = ' ';
                } else if (c == 0xef && i + 2 < l && (unsigned char) nfc[i + 1] == 0xbb &&
                           (unsigned char) nfc[i + 2] == 0xbf) {
                        i += 2;
                        continue;
                }
                out[n++] = (char) c;
        }
        out[n] = 0;
        *ret = out;
        *ret_len = n;
        return 0;
}

/* Lines end at a line feed or a form feed; a form feed (OCR's page
 * separator) also starts the next page. */
static int split_lines(struct parser *p) {
        unsigned page = 1;
        size_t n = 1;

        for (size_t i = 0; i < p->len; i++)
                if ((p->text[i] == '\n' || p->text[i] == '\f') && ++n > DIRECTIVE_MAX_LINES)
                        return -E2BIG;
        p->lines = calloc(n, sizeof(struct line));
        if (!p->lines)
                return -ENOMEM;
        for (const char *s = p->text, *end = p->text + p->len; s <= end;) {
                const char *nl = s;
                struct line *l = &p->lines[p->n_lines++];

                while (nl < end && *nl != '\n' && *nl != '\f')
                        nl++;
                l->s = s;
                l->len = nl - s;
                l->page = page;
                l->blank = true;
                for (size_t k = 0; k < l->len; k++)
                        if (!is_space(s[k]))
                                l->blank = false;
                if (nl == end)
                        break;
                if (*nl == '\f')
                        page++;
                s = nl + 1;
        }
        return 0;
}

static bool byte_is_letter(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool lower_at(const char *s, size_t n) {
        unsigned char c = (unsigned char) s[0];
        return n > 0 && ((c >= 'a' && c <= 'z') || (c >= 0x80 && !textnorm_starts_upper(s, n)));
}

static size_t utf8_len(unsigned char c) {
        return c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
}

/* Spaces and dashes, "–" and "—" among them. */
static size_t skip_dashes(const struct span *sp, size_t i) {
        for (;;) {
                if (i < sp->len && (sp->s[i] == '-' || is_space(sp->s[i])))
                        i++;
                else if (i + 2 < sp->len && (unsigned char) sp->s[i] == 0xe2 && (unsigned char) sp->s[i + 1] == 0x80 &&
                         ((unsigned char) sp->s[i + 2] == 0x93 || (unsigned char) sp->s[i + 2] == 0x94))
                        i += 3;
                else
                        return i;
        }
}

/* A page number ("2", "- 2 -", "Trang 2", "Trang 2/5") or a rule line:
 * page furniture, read as a blank line. Returns the page number, 0 for a
 * rule, -1 for anything else. */
static int page_furniture(const struct line *l) {
        struct span sp = layout_trimmed(l);
        size_t i = 0, digits = 0;
        int num = 0;

        if (layout_is_decoration(&sp))
                return 0;
        if (l->furniture)
                return 0;
        /* A speck alone on its line ("+", "‘", "Z"): no text is so short. */
        if (sp.len > 0 && sp.len <= 2 && !memchr(sp.s, '.', sp.len) && !memchr(sp.s, ')', sp.len) &&
            !(sp.s[0] >= '0' && sp.s[0] <= '9') && (sp.len == 1 || utf8_len((unsigned char) sp.s[0]) == sp.len))
                return 0;
        if (sp.len >= 5 && strncasecmp(sp.s, "trang", 5) == 0)
                i = 5;
        i = skip_dashes(&sp, i);
        while (i < sp.len && sp.s[i] >= '0' && sp.s[i] <= '9' && digits < 4)
                num = num * 10 + (sp.s[i++] - '0'), digits++;
        if (digits == 0)
                return -1;
        if (i < sp.len && sp.s[i] == '/')
                for (i++; i < sp.len && sp.s[i] >= '0' && sp.s[i] <= '9'; i++)
                        ;
        i = skip_dashes(&sp, i);
        return i == sp.len ? num : -1;
}

static bool is_page_furniture(const struct line *l) {
        return page_furniture(l) >= 0;
}

/* The first line of a page that is not its number, or NULL. */
static struct line *page_head(struct parser *p, size_t *li) {
        for (unsigned page = p->lines[*li].page; *li < p->n_lines && p->lines[*li].page == page; (*li)++)
                if (!p->lines[*li].blank && page_furniture(&p->lines[*li]) < 0)
                        return &p->lines[*li];
        return NULL;
}

/* Whether two lines read alike once folded, digits aside: a running head
 * ("Công văn số 2417/UBND-KTTH, trang 2") changes only its page number. */
static bool lines_alike(const struct line *a, const struct line *b) {
        _cleanup_free_ char *fa = NULL, *fb = NULL;
        size_t i = 0, j = 0;

        if (textnorm_fold(a->s, a->len, &fa) < 0 || textnorm_fold(b->s, b->len, &fb) < 0)
                return false;
        for (;;) {
                while (fa[i] && ((fa[i] >= '0' && fa[i] <= '9') || is_space(fa[i])))
                        i++;
                while (fb[j] && ((fb[j] >= '0' && fb[j] <= '9') || is_space(fb[j])))
                        j++;
                if (!fa[i] || !fb[j] || fa[i] != fb[j])
                        return !fa[i] && !fb[j];
                i++, j++;
        }
}

/* A line that heads three pages or more from the second on, alike but
 * for digits, is a running head: page furniture, not text. */
static void mark_running_heads(struct parser *p) {
        struct line *heads[64];
        size_t n = 0;

        for (size_t li = 0; li < p->n_lines && n < ELEMENTSOF(heads);) {
                unsigned page = p->lines[li].page;
                struct line *h = page > 1 ? page_head(p, &li) : NULL;
                if (h && h->len >= 8)
                        heads[n++] = h;
                while (li < p->n_lines && p->lines[li].page == page)
                        li++;
        }
        /* Three pages alike at least: two could be a sentence a page break
         * cut twice the same way ("… trước\fngày 30/6/2025."). */
        for (size_t a = 0; a < n; a++) {
                size_t alike = 1;
                for (size_t b = 0; b < n; b++)
                        alike += b != a && lines_alike(heads[a], heads[b]);
                if (alike >= 3 && !lower_at(heads[a]->s, heads[a]->len))
                        heads[a]->furniture = true;
        }
}

/* Gives every line its page and its line number on that page. A form feed
 * starts a page; so does, in text without them, the number of the next
 * page standing alone between blank lines (an administrative document
 * numbers its pages at the top, from the second on). */
static void number_pages(struct parser *p) {
        unsigned page = 1, shift = 0;
        size_t start = 0;
        /* Where form feeds mark the pages, numbers need not: a table's
         * row numbers are no pages. */
        bool form_feeds = p->n_lines > 0 && p->lines[p->n_lines - 1].page > 1;

        for (size_t li = 0; li < p->n_lines; li++) {
                struct line *l = &p->lines[li];
                int num;

                if (l->page + shift != page) {
                        page = l->page + shift;
                        start = li;
                } else if (!form_feeds && !l->blank && (num = page_furniture(l)) > 0 && (unsigned) num == page + 1 &&
                           (li == 0 || p->lines[li - 1].blank || li + 1 == p->n_lines || p->lines[li + 1].blank)) {
                        shift++;
                        page++;
                        start = li;
                }
                l->page = page;
                l->lineno = (unsigned) (li - start + 1);
        }
        mark_running_heads(p);
}

enum mark {
        MARK_NONE,
        MARK_NUMBER,            /* "1." "1)" */
        MARK_SUBNUMBER,         /* "1.1." "1.1" */
        MARK_LETTER,            /* "a)" "đ)" "a." */
        MARK_GLYPH,             /* "©)" "¢)": a sub-item whose letter OCR lost */
        MARK_ROMAN,             /* "II." */
};

struct marker {
        enum mark mark;
        int num, sub;
        bool lookalike;         /* the number has a letter OCR put for a digit ("S." "l2.") */
        char term;              /* what closed it: '.' or ')' */
        char letter[8];         /* UTF-8, lower case */
        size_t skip;            /* bytes up to the item's text */
        size_t alt_skip;        /* a sub-number read as a number: bytes up to its text */
};

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
static struct marker line_marker(const struct span *sp) {
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
        k = utf8_len((unsigned char) s[0]);
        /* "cơ)": a letter and a speck OCR added, read as the letter. */
        if (k == 1 && k < n && !marker_term(s, n, k, &m.term) && (unsigned char) s[1] >= 0x80 &&
            k + utf8_len((unsigned char) s[1]) < n && marker_term(s, n, k + utf8_len((unsigned char) s[1]), &m.term)) {
                size_t k2 = k + utf8_len((unsigned char) s[1]);
                t = marker_term(s, n, k2, &m.term);
                if (m.term == ')' && marker_end(s, n, k2 + t) && s[0] >= 'a' && s[0] <= 'z') {
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
static const char *letter_repair(const struct marker *m, const char *last, bool open, char item_term, int last_num) {
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
                /* One letter lost with its line ("b)" after "a)" missing
                 * "c)"? no: "d)" after "b)") keeps its own letter; any
                 * other is the one due, misread ("e)" for "c)"). */
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

static int item_new(struct parser *p, const char *ref, size_t parent, int section, const struct line *at) {
        struct item *it;

        if (p->n_items >= DIRECTIVE_MAX_TASKS)
                return -E2BIG;
        if (p->n_items == p->cap_items) {
                size_t cap = p->cap_items ? p->cap_items * 2 : 16;
                struct item *q = reallocarray(p->items, cap, sizeof(*q));
                if (!q)
                        return -ENOMEM;
                p->items = q;
                p->cap_items = cap;
        }
        it = &p->items[p->n_items++];
        *it = (struct item) { .parent = parent, .section = section, .page = at->page, .line = at->lineno };
        snprintf(it->ref, sizeof(it->ref), "%s", ref);
        if (parent != SIZE_MAX)
                p->items[parent].heading = true;
        return 0;
}

static int item_append(struct item *it, const char *s, size_t n) {
        if (it->len + n + 2 > DIRECTIVE_MAX_ITEM)
                return -EBADMSG;
        if (it->len + n + 2 > it->cap) {
                size_t cap = MAX(it->cap * 2, it->len + n + 2);
                char *q = realloc(it->text, cap);
                if (!q)
                        return -ENOMEM;
                it->text = q;
                it->cap = cap;
        }
        /* Runs of white space inside a line become one space too. */
        for (size_t i = 0; i < n; i++) {
                if (is_space(s[i]))
                        continue;
                if (it->len > 0 && (i == 0 || is_space(s[i - 1])))
                        it->text[it->len++] = ' ';
                it->text[it->len++] = s[i];
        }
        it->text[it->len] = 0;
        return 0;
}

/* Words after which a line starting "a)" or "3." continues a reference
 * ("theo điểm\na) khoản 2") rather than starting an item. */
static bool ends_with_reference_word(const struct span *sp) {
        static const char *const words[] = { "diem", "khoan", "muc", "dieu", "so", "tai", "theo", "va" };
        struct textnorm_tokens t = {};
        bool r = false;

        if (textnorm_tokenize(sp->s, sp->len, &t) < 0 || t.n == 0) {
                textnorm_tokens_done(&t);
                return false;
        }
        /* ("50" has the shape of "số", but is a number.) */
        for (size_t k = 0; k < ELEMENTSOF(words); k++)
                if (!t.tokens[t.n - 1].punct && textnorm_word_is(t.tokens[t.n - 1].word, words[k]) &&
                    !strpbrk(t.tokens[t.n - 1].word, "0123456789"))
                        r = true;
        textnorm_tokens_done(&t);
        return r;
}

/* "Nơi nhận:" or a signature title ("KT. CHỦ TỊCH", "TM. ỦY BAN NHÂN DÂN",
 * "PHÓ CHỦ TỊCH") in any column: the body is over. */
static bool is_body_end(const struct line *l) {
        static const char *const prefixes[] = { "kt", "tm", "tl", "ttl", "q", "kt chu tich" };
        struct span cols[COLUMNS_MAX];
        size_t n = layout_columns(l, cols, COLUMNS_MAX);

        if (n > 0 && layout_words_are(&cols[0], "noi nhan", true))
                return true;
        for (size_t c = 0; c < n; c++) {
                if (layout_words_are(&cols[c], "chu tich", false) || layout_words_are(&cols[c], "pho chu tich", false))
                        return true;
                /* "KT." alone is no sentence: a title follows it. */
                for (size_t k = 0; k < ELEMENTSOF(prefixes); k++)
                        if (cols[c].len > strlen(prefixes[k]) + 1 && cols[c].s[strlen(prefixes[k])] == '.' &&
                            strncasecmp(cols[c].s, prefixes[k], strlen(prefixes[k])) == 0)
                                return true;
        }
        return false;
}

/* The number of the next paragraph that opens with one before a
 * capital, within LOOKAHEAD_LINES, or -1. */
static int next_number(struct parser *p, size_t li) {
        bool blank = false;

        for (size_t k = li + 1; k < p->n_lines && k <= li + LOOKAHEAD_LINES; k++) {
                const struct line *l = &p->lines[k];
                struct span sp;
                struct marker m;

                if (l->blank || is_page_furniture(l)) {
                        blank = true;
                        continue;
                }
                if (is_body_end(l))
                        return -1;
                sp = layout_trimmed(l);
                m = line_marker(&sp);
                if (blank && m.mark == MARK_NUMBER && !m.lookalike && textnorm_starts_upper(sp.s + m.skip, sp.len - m.skip))
                        return m.num;
                blank = false;
        }
        return -1;
}

/* Walks the body and collects items. */
static int parse_items(struct parser *p) {
        size_t cur = SIZE_MAX, heading = SIZE_MAX;
        int last_num = 0, last_sub = 0, section = 0, last_section_num = 0;
        char last_letter[4] = "", item_term = 0;
        unsigned text_page = 1, last_page = 1;
        bool prev_blank = true, open;
        const char *letter;
        struct span prev = {};
        int r;

        p->first_item_line = SIZE_MAX;
        p->body_end = p->n_lines;
        for (size_t li = 0; li < p->n_lines; li++) {
                const struct line *l = &p->lines[li];
                struct span sp;
                struct marker m;
                char ref[REF_MAX];
                bool starts;

                if (l->blank || is_page_furniture(l)) {
                        prev_blank = true;
                        continue;
                }
                if (p->first_item_line != SIZE_MAX && is_body_end(l)) {
                        p->body_end = li;
                        break;
                }
                sp = layout_trimmed(l);
                m = line_marker(&sp);
                starts = prev_blank || prev.len == 0 || !ends_with_reference_word(&prev);
                prev = sp;
                last_page = text_page;
                text_page = l->page;

                if (m.mark == MARK_ROMAN && starts) {
                        section++;
                        last_section_num = last_num;
                        cur = SIZE_MAX;
                        prev_blank = false;
                        continue;
                }
                if (m.mark == MARK_SUBNUMBER && m.num == last_num + 1 && last_num > 0) {
                        m.mark = MARK_NUMBER;
                        m.skip = m.alt_skip;
                }
                /* A number OCR misread ("4," for "3.", "9S." for "5."), at
                 * a paragraph's start before a capital: the one due when
                 * the next paragraph's number is the one after it. */
                if (m.mark == MARK_NUMBER && m.num != last_num + 1 && last_num > 0 && prev_blank &&
                    textnorm_starts_upper(sp.s + m.skip, sp.len - m.skip) && next_number(p, li) == last_num + 2) {
                        m.num = last_num + 1;
                        m.lookalike = false;
                }
                /* Sub-items are due when the heading ends with a colon or
                 * its sub-items have begun. */
                open = heading != SIZE_MAX && last_sub == 0 &&
                       (last_letter[0] || (p->items[heading].len > 0 && cur == heading &&
                                           p->items[heading].text[p->items[heading].len - 1] == ':'));
                letter = starts && heading != SIZE_MAX && last_sub == 0
                                 ? letter_repair(&m, last_letter, open, item_term, last_num)
                                 : NULL;
                /* An excerpt may start at any item ("6. Sở Kế hoạch và Đầu
                 * tư:") that opens a paragraph with a capital; after that,
                 * numbers follow each other. A number OCR made of a letter
                 * ("S." for "5.") counts only where it is the next one. */
                /* A capital read as a digit ("S." for "5.") only where the
                 * next paragraph's number confirms it: "A." heads a part. */
                if (m.mark == MARK_NUMBER && m.lookalike && m.num < 10 && m.num == last_num + 1 &&
                    next_number(p, li) != last_num + 2) {
                        m.mark = MARK_NONE;
                }
                if (!letter && m.mark == MARK_NUMBER && starts &&
                    (m.num == last_num + 1 ||
                     /* One number lost to OCR: the next but one, opening
                      * a paragraph with a capital. */
                     (!m.lookalike && last_num > 0 && m.num == last_num + 2 && prev_blank &&
                      textnorm_starts_upper(sp.s + m.skip, sp.len - m.skip)) ||
                     (!m.lookalike && m.num == 1 && section > 0 && last_num > 0 && last_num == last_section_num) ||
                     (!m.lookalike && last_num == 0 && prev_blank && m.num <= FIRST_ITEM_MAX &&
                      textnorm_starts_upper(sp.s + m.skip, sp.len - m.skip)))) {
                        if (m.num == 1 && last_num > 0)
                                p->sections_restart = true;
                        snprintf(ref, sizeof(ref), "%d", m.num);
                        r = item_new(p, ref, SIZE_MAX, section, l);
                        if (r < 0)
                                return r;
                        cur = heading = p->n_items - 1;
                        last_num = m.num;
                        last_sub = 0;
                        last_letter[0] = 0;
                        if (!item_term)
                                item_term = m.term;
                        if (p->first_item_line == SIZE_MAX)
                                p->first_item_line = li;
                } else if (m.mark == MARK_SUBNUMBER && starts && heading != SIZE_MAX && m.num == last_num &&
                           m.sub == last_sub + 1 && !last_letter[0]) {
                        snprintf(ref, sizeof(ref), "%d.%d", m.num, m.sub);
                        r = item_new(p, ref, heading, section, l);
                        if (r < 0)
                                return r;
                        cur = p->n_items - 1;
                        last_sub = m.sub;
                } else if (letter) {
                        snprintf(ref, sizeof(ref), "%d.%s", last_num, letter);
                        r = item_new(p, ref, heading, section, l);
                        if (r < 0)
                                return r;
                        cur = p->n_items - 1;
                        snprintf(last_letter, sizeof(last_letter), "%s", letter);
                } else {
                        /* Text: it continues the open item, across a blank
                         * line (a page break) only while the sentence is
                         * unfinished. */
                        if (cur != SIZE_MAX && prev_blank) {
                                const struct item *it = &p->items[cur];
                                char last = it->len > 0 ? it->text[it->len - 1] : ':';
                                /* Specks OCR leaves at a line's start (". phòng") are not its first letter. */
                                size_t x = 0;
                                while (x < sp.len && strchr(".,:;'`_ ", sp.s[x]))
                                        x++;
                                unsigned char first = x < sp.len ? (unsigned char) sp.s[x] : ' ';
                                bool lower = (first >= 'a' && first <= 'z') || (first >= '0' && first <= '9') ||
                                             strchr("-+*(", first) ||
                                             (first >= 0x80 && !textnorm_starts_upper(sp.s + x, sp.len - x));
                                /* A sentence a page break cut goes on, whatever
                                 * the next page starts with. */
                                bool turned = l->page != last_page && !strchr(".;!?:", last);
                                if (!turned && (strchr(".;!?", last) || (last != ':' && !lower)))
                                        cur = SIZE_MAX;
                        }
                        if (cur != SIZE_MAX) {
                                r = item_append(&p->items[cur], sp.s, sp.len);
                                if (r < 0)
                                        return r;
                        }
                        prev_blank = false;
                        continue;
                }
                r = item_append(&p->items[cur], sp.s + m.skip, sp.len - m.skip);
                if (r < 0)
                        return r;
                prev_blank = false;
        }
        return 0;
}

/* Whether the character that ends at s[i - 1] is a small letter. */
static bool lower_before(const char *s, size_t i) {
        size_t b = i;

        while (b > 0 && ((unsigned char) s[b - 1] & 0xc0) == 0x80)
                b--;
        return b > 0 && lower_at(s + b - 1, i - b + 1);
}

/* Blanks out the punctuation OCR strews inside words and sentences, which
 * would otherwise cut an agency's name or a deadline phrase in two:
 * apostrophes ("Sở'Thông"), a colon inside a word or before one ("Sở:Nông",
 * ":05/7"), a full stop before a small letter ("Xây. dựng", "So.Thông" — a
 * sentence starts with a capital), a hyphen after a small letter
 * ("So-Nông", "thời hạn-15"; "QĐ-UBND" and "2025 - 2029" keep theirs).
 * Each is made a space, so the text keeps its length and byte ranges; "I["
 * and "I]" become "II", a numeral. */
static void text_depunct(char *s) {
        size_t n = strlen(s);

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char) s[i];
                unsigned char before = i > 0 ? (unsigned char) s[i - 1] : ' ';
                unsigned char after = i + 1 < n ? (unsigned char) s[i + 1] : ' ';

                if ((c == '[' || c == ']' || c == '|' || c == '!') && before == 'I' &&
                    (after == '/' || after == ' ' || after == 'I' || i + 1 == n)) {
                        s[i] = 'I';
                } else if (c == '\'' || c == '`') {
                        s[i] = ' ';
                } else if (c == 0xe2 && i + 2 < n && (unsigned char) s[i + 1] == 0x80 &&
                           ((unsigned char) s[i + 2] == 0x98 || (unsigned char) s[i + 2] == 0x99)) {
                        s[i] = s[i + 1] = s[i + 2] = ' ';
                        i += 2;
                } else if (c == ':' && ((byte_is_letter(before) && (byte_is_letter(after) || after == '\'' || after == '`')) ||
                                        (before == ' ' && after != ' '))) {
                        s[i] = ' ';
                } else if (c == '.' && before == ' ' && after != ' ' && !(after >= '0' && after <= '9')) {
                        s[i] = ' ';    /* "phối .hợp" */
                } else if (c == '.' && byte_is_letter(before) && i > 1 && byte_is_letter((unsigned char) s[i - 2])) {
                        size_t j = i + 1 + (after == ' ');
                        /* "So.Thông": no space after a full stop is no
                         * sentence's end, unless an abbreviation ("TP.Sơn
                         * Hà") stands before it. */
                        bool caps = true;
                        for (size_t b = i; b > 0 && byte_is_letter((unsigned char) s[b - 1]); b--)
                                if (!(s[b - 1] >= 'A' && s[b - 1] <= 'Z'))
                                        caps = false;
                        if ((j < n && (lower_at(s + j, n - j) || (s[j] >= '0' && s[j] <= '9'))) ||
                            (byte_is_letter(after) && !caps))
                                s[i] = ' ';
                } else if (c == '-' && byte_is_letter(before) && i + 1 < n && lower_before(s, i) &&
                           (byte_is_letter(after) || (after >= '0' && after <= '9'))) {
                        s[i] = ' ';
                }
        }
}

struct item_info {
        struct textnorm_tokens tokens;
        struct roles roles;
        struct deadline deadline;
};

static int strv_push_unique(char ***l, size_t *n, const char *s, char *const *exclude) {
        char **q;

        for (size_t k = 0; k < *n; k++)
                if (streq((*l)[k], s))
                        return 0;
        for (size_t k = 0; exclude && exclude[k]; k++)
                if (streq(exclude[k], s))
                        return 0;
        q = reallocarray(*l, *n + 2, sizeof(char *));
        if (!q)
                return -ENOMEM;
        *l = q;
        q[*n] = strdup(s);
        if (!q[*n])
                return -ENOMEM;
        q[++*n] = NULL;
        return 0;
}

static int mention_copy(struct directive_mention *out, const struct textnorm_mention *m, enum directive_role role,
                        const char *text) {
        *out = (struct directive_mention) {
                .role = role,
                .confidence = m->match.confidence,
                .text = layout_normalised(text + m->start, m->end - m->start),
        };
        if (!out->text)
                return -ENOMEM;
        if (m->match.id && !(out->id = strdup(m->match.id)))
                return -ENOMEM;
        for (size_t k = 0; k < m->match.n_suggestions; k++) {
                out->suggestions[k] = strdup(m->match.suggestions[k].id);
                if (!out->suggestions[k])
                        return -ENOMEM;
                out->scores[k] = m->match.suggestions[k].score;
                out->n_suggestions++;
        }
        return 0;
}

/* Adds an item's mentions with the given role to a task. */
static int task_add_mentions(struct directive_task *task, const struct item_info *info, const char *text,
                             enum directive_role role) {
        for (size_t k = 0; k < info->roles.n; k++) {
                struct directive_mention *q;
                int r;
                if (info->roles.role[k] != role)
                        continue;
                q = reallocarray(task->mentions, task->n_mentions + 1, sizeof(*q));
                if (!q)
                        return -ENOMEM;
                task->mentions = q;
                r = mention_copy(&task->mentions[task->n_mentions++], &info->roles.mentions[k], role, text);
                if (r < 0)
                        return r;
        }
        return 0;
}

static const char *const romans[] = { "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X" };

static int task_build(struct parser *p, size_t i, const struct item_info *infos, struct directive_task *task) {
        const struct item *it = &p->items[i];
        const struct item_info *own = &infos[i], *head = it->parent != SIZE_MAX ? &infos[it->parent] : NULL;
        const char *head_text = head ? p->items[it->parent].text : NULL;
        const struct deadline *dl = &own->deadline;
        size_t n_lead = 0, n_support = 0;
        char ref[REF_MAX + 8];
        int r;

        if (p->sections_restart && it->section > 0 && (size_t) it->section <= ELEMENTSOF(romans))
                snprintf(ref, sizeof(ref), "%s.%s", romans[it->section - 1], it->ref);
        else
                snprintf(ref, sizeof(ref), "%s", it->ref);
        task->ref = strdup(ref);
        task->text = strdup(it->text ? it->text : "");
        task->page = it->page;
        task->line = it->line;
        if (!task->ref || !task->text)
                return -ENOMEM;
        if (head_text && !(task->heading = strdup(head_text)))
                return -ENOMEM;

        /* A sub-item that names no lead is its heading's: "6. Sở Kế hoạch
         * và Đầu tư:" owns 6.a-6.c, with the heading's partners. */
        r = task_add_mentions(task, own, it->text, DIRECTIVE_LEAD);
        if (r >= 0 && !own->roles.has_lead && head) {
                r = task_add_mentions(task, head, head_text, DIRECTIVE_LEAD);
                if (r >= 0)
                        r = task_add_mentions(task, head, head_text, DIRECTIVE_SUPPORT);
        }
        if (r >= 0)
                r = task_add_mentions(task, own, it->text, DIRECTIVE_SUPPORT);
        if (r < 0)
                return r;

        task->lead = calloc(1, sizeof(char *));
        task->support = calloc(1, sizeof(char *));
        if (!task->lead || !task->support)
                return -ENOMEM;
        for (size_t k = 0; k < task->n_mentions; k++) {
                const struct directive_mention *m = &task->mentions[k];
                if (!m->id) {
                        task->flags |= DIRECTIVE_TASK_UNMATCHED;
                        continue;
                }
                if (m->role == DIRECTIVE_LEAD)
                        r = strv_push_unique(&task->lead, &n_lead, m->id, NULL);
                if (r < 0)
                        return r;
        }
        /* An item that names no lead, nor its heading, is for the
         * document's addressees ("Kính gửi: …"). One that names a lead
         * nobody matched stays without one: it is not theirs. */
        if (n_lead == 0 && !own->roles.has_lead && !(head && head->roles.has_lead) && p->d->addressees &&
            p->d->addressees[0]) {
                for (char **a = p->d->addressees; *a && r >= 0; a++)
                        r = strv_push_unique(&task->lead, &n_lead, *a, NULL);
                if (r < 0)
                        return r;
                task->flags |= DIRECTIVE_TASK_ADDRESSEES;
        }
        for (size_t k = 0; k < task->n_mentions; k++) {
                const struct directive_mention *m = &task->mentions[k];
                if (m->id && m->role == DIRECTIVE_SUPPORT) {
                        r = strv_push_unique(&task->support, &n_support, m->id, task->lead);
                        if (r < 0)
                                return r;
                }
        }

        if (!dl->has_due && dl->monthly_day == 0 && head && (head->deadline.has_due || head->deadline.monthly_day > 0))
                dl = &head->deadline;
        task->flags |= dl->flags & ~(unsigned) DIRECTIVE_TASK_NO_DEADLINE;
        if (dl->has_due) {
                char buf[17];
                task->due_parsed = dl->due;
                format_due(&dl->due, buf);
                if (!(task->due = strdup(buf)))
                        return -ENOMEM;
        }
        if (dl->monthly_day > 0 && asprintf(&task->recurrence, "monthly:%d", dl->monthly_day) < 0) {
                task->recurrence = NULL;
                return -ENOMEM;
        }
        if (!task->due && !task->recurrence)
                task->flags |= DIRECTIVE_TASK_NO_DEADLINE;
        if (n_lead == 0)
                task->flags |= DIRECTIVE_TASK_NO_LEAD;
        return 0;
}

static int build_tasks(struct parser *p) {
        struct item_info *infos;
        size_t n_tasks = 0;
        int r = 0;

        if (p->n_items == 0)
                return 0;
        infos = calloc(p->n_items, sizeof(*infos));
        if (!infos)
                return -ENOMEM;
        for (size_t i = 0; i < p->n_items && r >= 0; i++) {
                _cleanup_free_ char *text = strdup(p->items[i].text ? p->items[i].text : "");
                if (!text) {
                        r = -ENOMEM;
                        break;
                }
                /* Read through OCR's specks; the text as written stays the
                 * task's, and the tokens' byte ranges hold for both. */
                text_depunct(text);
                r = textnorm_tokenize(text, strlen(text), &infos[i].tokens);
                if (r >= 0)
                        r = directive_find_roles(p->idx, &infos[i].tokens, &infos[i].roles);
                if (r >= 0)
                        directive_find_deadline(&infos[i].tokens, p->issued, &infos[i].deadline);
                if (!p->items[i].heading)
                        n_tasks++;
        }
        if (r >= 0 && n_tasks > 0) {
                p->d->tasks = calloc(n_tasks, sizeof(struct directive_task));
                if (!p->d->tasks)
                        r = -ENOMEM;
        }
        for (size_t i = 0; i < p->n_items && r >= 0; i++)
                if (!p->items[i].heading)
                        r = task_build(p, i, infos, &p->d->tasks[p->d->n_tasks++]);
        for (size_t i = 0; i < p->n_items; i++) {
                textnorm_tokens_done(&infos[i].tokens);
                directive_roles_done(&infos[i].roles);
        }
        free(infos);
        return r;
}

static void parser_done(struct parser *p) {
        for (size_t i = 0; i < p->n_items; i++)
                free(p->items[i].text);
        free(p->items);
        free(p->lines);
        free(p->text);
}

int directive_parse_indexed(const char *text, size_t len, const struct textnorm_index *idx, struct directive **ret) {
        _cleanup_(directive_freep) struct directive *d = NULL;
        struct parser p = { .issued = INT32_MIN, .idx = idx };
        int r;

        if ((!text && len > 0) || !idx || !ret)
                return -EINVAL;
        /* Refused before anything is copied: memory stays bounded whatever
         * the caller hands in. */
        if (len > DIRECTIVE_MAX_INPUT)
                return -EFBIG;
        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        p.d = d;
        r = text_clean(text ? text : "", len, &p.text, &p.len);
        if (r >= 0)
                r = split_lines(&p);
        if (r >= 0) {
                number_pages(&p);
                r = parse_items(&p);
        }
        if (r >= 0)
                r = directive_parse_header(p.lines, p.n_lines, p.first_item_line, d, &p.issued);
        if (r >= 0)
                r = directive_parse_addressees(p.idx, p.lines, p.n_lines, p.first_item_line, d);
        if (r >= 0)
                r = directive_parse_signer(p.lines, p.n_lines, p.body_end, p.n_items > 0, d);
        if (r >= 0)
                r = build_tasks(&p);
        parser_done(&p);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

int directive_parse(const char *text, size_t len, const struct textnorm_candidate *candidates,
                    size_t n_candidates, struct directive **ret) {
        _cleanup_(textnorm_index_freep) struct textnorm_index *idx = NULL;
        int r;

        if ((!text && len > 0) || (!candidates && n_candidates > 0) || !ret)
                return -EINVAL;
        if (len > DIRECTIVE_MAX_INPUT)
                return -EFBIG;
        r = textnorm_index_new(candidates, n_candidates, &idx);
        if (r < 0)
                return r;
        return directive_parse_indexed(text, len, idx, ret);
}

static void mention_done(struct directive_mention *m) {
        free(m->text);
        free(m->id);
        for (size_t k = 0; k < m->n_suggestions; k++)
                free(m->suggestions[k]);
}

struct directive *directive_free(struct directive *d) {
        if (!d)
                return NULL;
        for (size_t i = 0; i < d->n_tasks; i++) {
                struct directive_task *t = &d->tasks[i];
                free(t->ref);
                free(t->text);
                free(t->heading);
                strv_free(t->lead);
                strv_free(t->support);
                for (size_t k = 0; k < t->n_mentions; k++)
                        mention_done(&t->mentions[k]);
                free(t->mentions);
                free(t->due);
                free(t->recurrence);
        }
        free(d->tasks);
        free(d->number);
        free(d->issued_on);
        free(d->subject);
        free(d->issuer);
        free(d->signer);
        strv_free(d->addressees);
        strv_free(d->addressees_unmatched);
        free(d);
        return NULL;
}

const char *directive_task_flag_to_string(unsigned flag) {
        switch (flag) {
        case DIRECTIVE_TASK_NO_DEADLINE:
                return "no-deadline";
        case DIRECTIVE_TASK_ONGOING:
                return "ongoing";
        case DIRECTIVE_TASK_NO_LEAD:
                return "no-lead";
        case DIRECTIVE_TASK_UNMATCHED:
                return "unmatched";
        case DIRECTIVE_TASK_SEVERAL_DATES:
                return "several-dates";
        case DIRECTIVE_TASK_PERIODIC:
                return "periodic";
        case DIRECTIVE_TASK_NEEDS_DATE:
                return "needs-date";
        case DIRECTIVE_TASK_ADDRESSEES:
                return "addressees";
        default:
                return NULL;
        }
}
