/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What a scan does to a directive's text, undone (see directive.h): pages
 * from form feeds or page numbers, page furniture (numbers, rules,
 * running heads, specks alone on a line), and the punctuation OCR strews
 * inside words and sentences. Structure is directive.c's, markers
 * directive-marker.c's. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "directive-internal.h"

static bool is_space(char c) {
        return c == ' ' || c == '\t';
}

/* Lines end at a line feed or a form feed; a form feed (OCR's page
 * separator) also starts the next page. */
int directive_split_lines(const char *text, size_t len, struct line **ret, size_t *ret_n) {
        struct line *lines;
        unsigned page = 1;
        size_t n = 1, k = 0;

        for (size_t i = 0; i < len; i++)
                if ((text[i] == '\n' || text[i] == '\f') && ++n > DIRECTIVE_MAX_LINES)
                        return -E2BIG;
        lines = calloc(n, sizeof(struct line));
        if (!lines)
                return -ENOMEM;
        for (const char *s = text, *end = text + len; s <= end;) {
                const char *nl = s;
                struct line *l = &lines[k++];

                while (nl < end && *nl != '\n' && *nl != '\f')
                        nl++;
                l->s = s;
                l->len = nl - s;
                l->page = page;
                l->blank = true;
                for (size_t x = 0; x < l->len; x++)
                        if (!is_space(s[x]))
                                l->blank = false;
                if (nl == end)
                        break;
                if (*nl == '\f')
                        page++;
                s = nl + 1;
        }
        *ret = lines;
        *ret_n = k;
        return 0;
}

static bool byte_is_letter(unsigned char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

bool directive_lower_at(const char *s, size_t n) {
        unsigned char c;

        if (n == 0)
                return false;
        c = (unsigned char) s[0];
        return (c >= 'a' && c <= 'z') || (c >= 0x80 && !textnorm_starts_upper(s, n));
}

size_t directive_utf8_len(unsigned char c) {
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
        struct span sp = directive_layout_trimmed(l);
        size_t i = 0, digits = 0;
        int num = 0;

        if (directive_layout_is_decoration(&sp))
                return 0;
        if (l->furniture)
                return 0;
        /* A speck alone on its line ("+", "‘", "Z"): no text is so short. */
        if (sp.len > 0 && sp.len <= 2 && !memchr(sp.s, '.', sp.len) && !memchr(sp.s, ')', sp.len) &&
            !(sp.s[0] >= '0' && sp.s[0] <= '9') && (sp.len == 1 || directive_utf8_len((unsigned char) sp.s[0]) == sp.len))
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

bool directive_is_page_furniture(const struct line *l) {
        return page_furniture(l) >= 0;
}

/* The first line of a page that is not its number, or NULL. */
static struct line *page_head(struct line *lines, size_t n_lines, size_t *li) {
        for (unsigned page = lines[*li].page; *li < n_lines && lines[*li].page == page; (*li)++)
                if (!lines[*li].blank && page_furniture(&lines[*li]) < 0)
                        return &lines[*li];
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
static void mark_running_heads(struct line *lines, size_t n_lines) {
        struct line *heads[64];
        size_t n = 0;

        for (size_t li = 0; li < n_lines && n < ELEMENTSOF(heads);) {
                unsigned page = lines[li].page;
                struct line *h = page > 1 ? page_head(lines, n_lines, &li) : NULL;
                if (h && h->len >= 8)
                        heads[n++] = h;
                while (li < n_lines && lines[li].page == page)
                        li++;
        }
        /* Three pages alike at least: two could be a sentence a page break
         * cut twice the same way ("… trước\fngày 30/6/2025."). */
        for (size_t a = 0; a < n; a++) {
                size_t alike = 1;
                for (size_t b = 0; b < n; b++)
                        alike += b != a && lines_alike(heads[a], heads[b]);
                if (alike >= 3 && !directive_lower_at(heads[a]->s, heads[a]->len))
                        heads[a]->furniture = true;
        }
}

/* Gives every line its page and its line number on that page. A form feed
 * starts a page; so does, in text without them, the number of the next
 * page standing alone between blank lines (an administrative document
 * numbers its pages at the top, from the second on). */
void directive_number_pages(struct line *lines, size_t n_lines) {
        unsigned page = 1, shift = 0;
        size_t start = 0;
        /* Where form feeds mark the pages, numbers need not: a table's
         * row numbers are no pages. */
        bool form_feeds = n_lines > 0 && lines[n_lines - 1].page > 1;

        for (size_t li = 0; li < n_lines; li++) {
                struct line *l = &lines[li];
                int num;

                if (l->page + shift != page) {
                        page = l->page + shift;
                        start = li;
                } else if (!form_feeds && !l->blank && (num = page_furniture(l)) > 0 && (unsigned) num == page + 1 &&
                           (li == 0 || lines[li - 1].blank || li + 1 == n_lines || lines[li + 1].blank)) {
                        shift++;
                        page++;
                        start = li;
                }
                l->page = page;
                l->lineno = (unsigned) (li - start + 1);
        }
        mark_running_heads(lines, n_lines);
}

/* Whether the character that ends at s[i - 1] is a small letter. */
static bool lower_before(const char *s, size_t i) {
        size_t b = i;

        while (b > 0 && ((unsigned char) s[b - 1] & 0xc0) == 0x80)
                b--;
        return b > 0 && directive_lower_at(s + b - 1, i - b + 1);
}

/* Blanks out the punctuation OCR strews inside words and sentences, which
 * would otherwise cut an agency's name or a deadline phrase in two:
 * apostrophes ("Sở'Thông"), a colon inside a word or before one ("Sở:Nông",
 * ":05/7"), a full stop before a small letter ("Xây. dựng", "So.Thông" — a
 * sentence starts with a capital), a hyphen after a small letter
 * ("So-Nông", "thời hạn-15"; "QĐ-UBND" and "2025 - 2029" keep theirs).
 * Each is made a space, so the text keeps its length and byte ranges; "I["
 * and "I]" become "II", a numeral. */
void directive_depunct(char *s) {
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
                        if ((j < n && (directive_lower_at(s + j, n - j) || (s[j] >= '0' && s[j] <= '9'))) ||
                            (byte_is_letter(after) && !caps))
                                s[i] = ' ';
                } else if (c == '-' && byte_is_letter(before) && i + 1 < n && lower_before(s, i) &&
                           (byte_is_letter(after) || (after >= '0' && after <= '9'))) {
                        s[i] = ' ';
                }
        }
}
