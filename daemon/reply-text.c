/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What an agency's reply says: its HTML as text, its own words without
 * the quoted original and the signature, and what they mean — done, an
 * extension asked for a date, which task. Read from folded text
 * (textnorm_fold()), so diacritics lost in transit change nothing. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "macro.h"
#include "reply-internal.h"
#include "textnorm.h"
#include "timeutil.h"

/* ---- HTML ---- */

static const struct {
        const char *name;
        uint32_t cp;
} entities[] = {
        { "nbsp", 0xA0 },   { "amp", '&' },     { "lt", '<' },       { "gt", '>' },      { "quot", '"' },
        { "apos", '\'' },   { "ndash", 0x2013 }, { "mdash", 0x2014 }, { "hellip", 0x2026 }, { "lsquo", 0x2018 },
        { "rsquo", 0x2019 }, { "ldquo", 0x201C }, { "rdquo", 0x201D }, { "laquo", 0xAB },  { "raquo", 0xBB },
        { "bull", 0x2022 },  { "middot", 0xB7 },  { "copy", 0xA9 },    { "reg", 0xAE },    { "deg", 0xB0 },
        { "Agrave", 0xC0 },  { "Aacute", 0xC1 },  { "Acirc", 0xC2 },   { "Atilde", 0xC3 }, { "Egrave", 0xC8 },
        { "Eacute", 0xC9 },  { "Ecirc", 0xCA },   { "Igrave", 0xCC },  { "Iacute", 0xCD }, { "Ograve", 0xD2 },
        { "Oacute", 0xD3 },  { "Ocirc", 0xD4 },   { "Otilde", 0xD5 },  { "Ugrave", 0xD9 }, { "Uacute", 0xDA },
        { "Yacute", 0xDD },  { "agrave", 0xE0 },  { "aacute", 0xE1 },  { "acirc", 0xE2 },  { "atilde", 0xE3 },
        { "egrave", 0xE8 },  { "eacute", 0xE9 },  { "ecirc", 0xEA },   { "igrave", 0xEC }, { "iacute", 0xED },
        { "ograve", 0xF2 },  { "oacute", 0xF3 },  { "ocirc", 0xF4 },   { "otilde", 0xF5 }, { "ugrave", 0xF9 },
        { "uacute", 0xFA },  { "yacute", 0xFD },
};

/* An entity at s (after "&"): its code point and length, or 0. */
static size_t entity_at(const char *s, size_t n, uint32_t *ret) {
        size_t i = 0;

        if (n > 0 && s[0] == '#') {
                uint32_t v = 0;
                bool hex = n > 1 && (s[1] == 'x' || s[1] == 'X');
                size_t digits = 0;
                for (i = hex ? 2 : 1; i < n && digits < 8; i++, digits++) {
                        char c = s[i];
                        int d = c >= '0' && c <= '9' ? c - '0' :
                                hex && c >= 'a' && c <= 'f' ? c - 'a' + 10 :
                                hex && c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                        if (d < 0)
                                break;
                        v = v * (hex ? 16 : 10) + (uint32_t) d;
                }
                if (digits == 0)
                        return 0;
                *ret = v;
                return i < n && s[i] == ';' ? i + 1 : i;
        }
        for (size_t k = 0; k < ELEMENTSOF(entities); k++) {
                size_t len = strlen(entities[k].name);
                if (len <= n && strncmp(s, entities[k].name, len) == 0) {
                        *ret = entities[k].cp;
                        return len < n && s[len] == ';' ? len + 1 : len;
                }
        }
        return 0;
}

static bool name_is(const char *name, const char *const *set) {
        for (; *set; set++)
                if (strcmp(name, *set) == 0)
                        return true;
        return false;
}

/* Whether an opening tag's attributes mark the quoted original or a
 * signature the mailer added. */
static bool attrs_start_quote(const char *tag, const char *a, size_t n) {
        static const char *const marks[] = { "divRplyFwdMsg", "gmail_quote", "appendonsend", "moz-cite-prefix",
                                             "gmail_signature", "x_divRplyFwdMsg", "OutlookMessageHeader" };
        for (size_t k = 0; k < ELEMENTSOF(marks); k++)
                if (memmem(a, n, marks[k], strlen(marks[k])))
                        return true;
        return strcmp(tag, "blockquote") == 0 && memmem(a, n, "cite", 4);
}

void reply_html_to_text(const char *s, size_t n, struct strbuf *out) {
        static const char *const blocks[] = { "p", "div", "tr", "li", "ul", "ol", "table", "h1", "h2", "h3", "h4",
                                              "h5", "h6", "blockquote", "pre", "hr", "dl", "dt", "dd", NULL };
        static const char *const skipped[] = { "script", "style", "head", "title", "xml", NULL };
        int newlines = 2;       /* trailing newlines written; 2 at the start: none to add */
        bool space = false;

        for (size_t i = 0; i < n && out->error == 0;) {
                if (s[i] == '<') {
                        if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
                                const char *e = memmem(s + i + 4, n - i - 4, "-->", 3);
                                i = e ? (size_t) (e - s) + 3 : n;
                                continue;
                        }
                        size_t j = i + 1;
                        bool closing = j < n && s[j] == '/';
                        if (closing)
                                j++;
                        char name[16];
                        size_t k = 0;
                        while (j < n && ((s[j] >= 'a' && s[j] <= 'z') || (s[j] >= 'A' && s[j] <= 'Z') ||
                                         (s[j] >= '0' && s[j] <= '9') || s[j] == ':')) {
                                if (k + 1 < sizeof(name))
                                        name[k++] = (char) (s[j] >= 'A' && s[j] <= 'Z' ? s[j] + 32 : s[j]);
                                j++;
                        }
                        name[k] = 0;
                        if (k == 0 && !closing && (j >= n || s[j] != '!')) {
                                /* A "<" that opens no tag is text. */
                                strbuf_putc(out, '<');
                                newlines = 0;
                                i++;
                                continue;
                        }
                        /* The tag's end, outside quoted attribute values. */
                        size_t attrs = j;
                        char q = 0;
                        while (j < n && (q || s[j] != '>')) {
                                if (q && s[j] == q)
                                        q = 0;
                                else if (!q && (s[j] == '"' || s[j] == '\''))
                                        q = s[j];
                                j++;
                        }
                        if (!closing && attrs_start_quote(name, s + attrs, j - attrs))
                                return;
                        i = j < n ? j + 1 : n;
                        if (!closing && name_is(name, skipped)) {
                                /* Up to the matching end tag. */
                                char end[24];
                                snprintf(end, sizeof(end), "</%s", name);
                                const char *e = NULL;
                                for (size_t p = i; p + strlen(end) <= n; p++)
                                        if (strncasecmp(s + p, end, strlen(end)) == 0) {
                                                e = s + p;
                                                break;
                                        }
                                if (!e)
                                        return;
                                const char *gt = memchr(e, '>', n - (size_t) (e - s));
                                i = gt ? (size_t) (gt - s) + 1 : n;
                                continue;
                        }
                        bool br = strcmp(name, "br") == 0;
                        if (br || name_is(name, blocks)) {
                                int want = br ? 1 : (strcmp(name, "p") == 0 && closing) ? 2 : 1;
                                if (br)
                                        strbuf_putc(out, '\n'), newlines++;
                                else
                                        while (newlines < want)
                                                strbuf_putc(out, '\n'), newlines++;
                                space = false;
                        } else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0)
                                space = true;
                        continue;
                }
                if (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n') {
                        space = true;
                        i++;
                        continue;
                }
                if (space && newlines == 0)
                        strbuf_putc(out, ' ');
                space = false;
                newlines = 0;
                if (s[i] == '&') {
                        uint32_t cp;
                        size_t len = entity_at(s + i + 1, n - i - 1, &cp);
                        if (len > 0) {
                                if (cp == 0xA0)
                                        cp = ' ';
                                reply_put_codepoint(out, cp);
                                i += 1 + len;
                                continue;
                        }
                }
                strbuf_putc(out, s[i]);
                i++;
        }
}

/* ---- quotes and signatures ---- */

static char *fold(const char *s, size_t n) {
        char *f = NULL;
        if (textnorm_fold(s, n, &f) < 0)
                return NULL;
        return f;
}

static bool starts(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends(const char *s, const char *suffix) {
        size_t n = strlen(s), k = strlen(suffix);
        return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* A folded line trimmed of blanks, and of trailing punctuation when `punct`. */
static void trim(char *s, bool punct) {
        size_t a = strspn(s, " \t\xc2\xa0"), n = strlen(s);
        while (n > a && strchr(punct ? " \t.,!:;/-" : " \t", s[n - 1]))
                n--;
        memmove(s, s + a, n - a);
        s[n - a] = 0;
}

static bool is_attribution_end(const char *f) {
        return ends(f, "wrote:") || ends(f, "da viet:") || ends(f, "viet:") || ends(f, "a ecrit :");
}

static bool is_attribution_start(const char *f) {
        return starts(f, "on ") || starts(f, "vao ") || starts(f, "luc ");
}

static bool is_separator(const char *f) {
        static const char *const words[] = { "original message", "tin nhan goc", "thu goc", "forwarded message",
                                             "thu da chuyen tiep", "thu chuyen tiep", "tin nhan da chuyen tiep" };
        if (starts(f, "begin forwarded message") || starts(f, "________"))
                return true;
        if (!starts(f, "---"))
                return false;
        for (size_t k = 0; k < ELEMENTSOF(words); k++)
                if (strstr(f, words[k]))
                        return true;
        return false;
}

static bool is_header_line(const char *f, const char *const *names) {
        for (; *names; names++)
                if (starts(f, *names))
                        return true;
        return false;
}

/* A closing formula: the reply's words end before it. */
static bool is_closing(const char *f) {
        static const char *const exact[] = { "tran trong", "tran trong cam on", "xin tran trong cam on", "tran trong kinh chao",
                                             "cam on", "xin cam on", "xin chan thanh cam on", "chan thanh cam on",
                                             "thanks", "thank you", "many thanks", "thanks a lot", "regards", "best",
                                             "sincerely", "yours sincerely", "yours faithfully", "cheers", "tran trong./" };
        static const char *const prefix[] = { "tran trong cam on", "tran trong kinh chao", "best regards", "kind regards",
                                              "warm regards", "best wishes", "thanks and regards", "thanks & regards" };
        for (size_t k = 0; k < ELEMENTSOF(exact); k++)
                if (strcmp(f, exact[k]) == 0)
                        return true;
        /* "Best regards, Lan", "Trân trọng cảm ơn anh/chị": a short tail only. */
        for (size_t k = 0; k < ELEMENTSOF(prefix); k++)
                if (starts(f, prefix[k]) && strlen(f) <= strlen(prefix[k]) + 24)
                        return true;
        return false;
}

char *reply_cut_quotes(const char *text) {
        static const char *const from_names[] = { "from:", "tu:", "nguoi gui:", "de:", NULL };
        static const char *const sent_names[] = { "sent:", "date:", "da gui:", "ngay:", "thoi gian:", "gui:",
                                                  "envoye :", NULL };
        struct strbuf out = STRBUF_INIT(SIZE_MAX);
        size_t n = strlen(text);
        size_t kept_prev_start = SIZE_MAX; /* the output offset of the previous kept line */
        char *prev_fold = NULL, *ret = NULL;

        for (size_t i = 0; i < n;) {
                const char *e = memchr(text + i, '\n', n - i);
                size_t len = e ? (size_t) (e - (text + i)) : n - i;
                size_t next = e ? i + len + 1 : n;
                const char *line = text + i;
                _cleanup_free_ char *f = fold(line, len);
                if (!f) {
                        if (out.error == 0 && len > 0) {
                                kept_prev_start = out.len;
                                strbuf_putn(&out, line, len);
                                strbuf_putc(&out, '\n');
                        }
                        i = next;
                        continue;
                }
                bool sig = (len == 3 && memcmp(line, "-- ", 3) == 0) || (len == 2 && memcmp(line, "--", 2) == 0);
                trim(f, false);
                if (sig || is_separator(f))
                        break;
                if (f[0] == '>' || f[0] == '|') {
                        i = next;
                        continue;
                }
                if (is_attribution_end(f) && (is_attribution_start(f) || strchr(f, '@') || strpbrk(f, "0123456789") ||
                                               (prev_fold && is_attribution_start(prev_fold)))) {
                        if (!is_attribution_start(f) && prev_fold && is_attribution_start(prev_fold) &&
                            kept_prev_start != SIZE_MAX)
                                out.len = kept_prev_start;      /* "On …" wrapped over two lines */
                        break;
                }
                if (is_header_line(f, from_names)) {
                        /* Outlook's header block of the original: From, then Sent or Date. */
                        bool block = false;
                        size_t j = next;
                        for (int k = 0; k < 5 && j < n && !block; k++) {
                                const char *e2 = memchr(text + j, '\n', n - j);
                                size_t l2 = e2 ? (size_t) (e2 - (text + j)) : n - j;
                                _cleanup_free_ char *f2 = fold(text + j, l2);
                                if (f2) {
                                        trim(f2, false);
                                        block = is_header_line(f2, sent_names);
                                }
                                j = e2 ? j + l2 + 1 : n;
                        }
                        if (block)
                                break;
                }
                char *fp = strdup(f);
                if (!fp)
                        goto finish;
                trim(fp, true);
                if (is_closing(fp)) {
                        free(fp);
                        break;
                }
                free(prev_fold);
                prev_fold = fp;
                kept_prev_start = out.len;
                strbuf_putn(&out, line, len);
                strbuf_putc(&out, '\n');
                i = next;
        }

        /* Blank lines at either end out, runs of them as one. */
        strbuf_putc(&out, 0);
        if (out.error < 0)
                goto finish;
        {
                char *s = out.data;
                size_t k = 0, blank = 0;
                for (size_t i = 0; s[i]; i++) {
                        if (s[i] == '\n') {
                                size_t a = k;
                                while (a > 0 && (s[a - 1] == ' ' || s[a - 1] == '\t'))
                                        a--;
                                k = a;
                                if (k == 0 || (k > 0 && s[k - 1] == '\n' && ++blank > 1))
                                        continue;
                                if (k > 0 && s[k - 1] != '\n')
                                        blank = 0;
                                s[k++] = '\n';
                        } else
                                s[k++] = s[i];
                }
                while (k > 0 && (s[k - 1] == '\n' || s[k - 1] == ' ' || s[k - 1] == '\t'))
                        k--;
                s[k] = 0;
                out.len = k + 1;
        }
        if (strbuf_steal(&out, &ret, NULL) < 0)
                ret = NULL;
finish:
        free(prev_fold);
        strbuf_done(&out);
        return ret;
}

/* ---- words ---- */

struct toks {
        char **w;               /* words; "." for a sentence break, "," for a clause break */
        size_t n;
        char *pool;
};

static void toks_done(struct toks *t) {
        free(t->w);
        free(t->pool);
}

static bool alnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool digit(char c) {
        return c >= '0' && c <= '9';
}

/* Folded text into words: letters and digits, with "/", "-" and "." kept
 * between digits ("15/6/2025", "15.6.2025") and a "." before one letter
 * after a number ("5.c"); an apostrophe inside a word dropped ("didn't"). */
static int toks_make(const char *f, struct toks *ret) {
        size_t n = strlen(f), np = 0;

        *ret = (struct toks) {};
        ret->pool = malloc(2 * n + 2);
        ret->w = malloc((n + 1) * sizeof(char *));
        if (!ret->pool || !ret->w)
                return toks_done(ret), -ENOMEM;
        for (size_t i = 0; i < n;) {
                char c = f[i];
                if (alnum(c)) {
                        ret->w[ret->n++] = ret->pool + np;
                        while (i < n) {
                                char d = f[i];
                                if (alnum(d))
                                        ret->pool[np++] = d;
                                else if ((d == '/' || d == '-' || d == '.') && i > 0 && digit(f[i - 1]) && i + 1 < n &&
                                         (digit(f[i + 1]) ||
                                          (d == '.' && f[i + 1] >= 'a' && f[i + 1] <= 'z' && (i + 2 >= n || !alnum(f[i + 2])))))
                                        ret->pool[np++] = d;
                                else if (d == '\'' && i > 0 && alnum(f[i - 1]) && i + 1 < n && f[i + 1] >= 'a' && f[i + 1] <= 'z')
                                        ;
                                else
                                        break;
                                i++;
                        }
                        ret->pool[np++] = 0;
                        continue;
                }
                if (c == '#') {
                        ret->w[ret->n++] = (char *) "#";       /* a tag, not a reference */
                } else if (strchr(".!?;\n", c) || strchr(",:()", c)) {
                        const char *mark = strchr(",:()", c) ? "," : ".";
                        if (ret->n == 0 || strcmp(ret->w[ret->n - 1], mark) != 0)
                                ret->w[ret->n++] = (char *) mark;
                }
                i++;
        }
        return 0;
}

static bool is_break(const struct toks *t, size_t i) {
        return t->w[i][0] == '.' || t->w[i][0] == ',' || t->w[i][0] == '#';
}

/* How many words of `phrase` (space-separated) are the tokens from i on, or 0. */
static size_t words_at(const struct toks *t, size_t i, const char *phrase) {
        size_t k = 0;
        const char *p = phrase;

        while (*p) {
                size_t len = strcspn(p, " ");
                if (i + k >= t->n || strlen(t->w[i + k]) != len || strncmp(t->w[i + k], p, len) != 0)
                        return 0;
                k++;
                p += len;
                p += strspn(p, " ");
        }
        return k;
}

/* Whether one of `words` comes in the three words before i, within its clause. */
static bool negated(const struct toks *t, size_t i, const char *const *words) {
        for (size_t back = 1; back <= 3 && back <= i; back++) {
                if (is_break(t, i - back))
                        return false;
                for (const char *const *w = words; *w; w++)
                        if (strcmp(t->w[i - back], *w) == 0)
                                return true;
        }
        return false;
}

static const char *const done_phrases[] = {
        "da hoan thanh", "hoan thanh", "da hoan tat", "hoan tat", "da thuc hien xong", "da xong", "xong",
        "completed", "complete", "done", "finished", "accomplished",
};
/* Words that make a completion not one: negation, intent, the future, a
 * deadline ("cần hoàn thành", "để hoàn thành", "sẽ xong", "not yet done"). */
static const char *const done_negators[] = {
        "chua", "khong", "chang", "se", "dang", "can", "de", "phai", "kip", "not", "never", "yet", "will", "wont",
        "cannot", "cant", "isnt", "arent", "hasnt", "havent", "didnt", "to", "be", "must", "should", "until", NULL,
};
static const char *const extension_phrases[] = {
        "gia han", "lui thoi han", "lui han", "keo dai thoi han", "keo dai thoi gian", "dieu chinh thoi han",
        "dieu chinh han", "them thoi gian", "extension", "extend", "extended", "postpone", "more time",
};
static const char *const extension_negators[] = { "khong", "chua", "no", "not", "without", NULL };

static const char *const months_en[] = { "january", "february", "march", "april", "may", "june", "july",
                                          "august", "september", "october", "november", "december" };

static int month_word(const char *w) {
        for (int m = 0; m < 12; m++)
                if (strcmp(w, months_en[m]) == 0 || (strlen(w) == 3 && strncmp(w, months_en[m], 3) == 0) ||
                    (strcmp(w, "sept") == 0 && m == 8))
                        return m + 1;
        return 0;
}

/* A number word, with an English ordinal suffix allowed ("15th"). */
static bool number_word(const char *w, int max_digits, int *ret) {
        int v = 0, k = 0;
        while (digit(w[k]) && k < max_digits)
                v = v * 10 + (w[k++] - '0');
        if (k == 0)
                return false;
        if (w[k] && strcmp(w + k, "st") != 0 && strcmp(w + k, "nd") != 0 && strcmp(w + k, "rd") != 0 &&
            strcmp(w + k, "th") != 0)
                return false;
        *ret = v;
        return true;
}

static bool year_word(const char *w, int *ret) {
        int y;
        if (!number_word(w, 4, &y) || strlen(w) != 4 || y < 1970 || y > 2200)
                return false;
        *ret = y;
        return true;
}

/* The day: the year given, or the first one from `ref` on (a reply asks
 * for a later day), or none when neither is known. */
static bool make_day(int y, int m, int d, int32_t ref, int32_t *ret) {
        if (y == 0) {
                int ry, rm, rd;
                if (ref == INT32_MIN)
                        return false;
                civil_from_days(ref, &ry, &rm, &rd);
                y = ry;
                if (civil_valid(y, m, d) && days_from_civil(y, m, d) < ref - 31)
                        y++;
        }
        if (!civil_valid(y, m, d))
                return false;
        *ret = days_from_civil(y, m, d);
        return true;
}

/* A date at token i: "15/6/2025", "15-06-2025", "15.6.2025", "2025-06-15",
 * "15/6", "ngày 15 tháng 6 năm 2025", "15 June 2025", "June 15, 2025".
 * Returns the tokens read, or 0. */
static size_t date_at(const struct toks *t, size_t i, int32_t ref, int32_t *ret) {
        size_t j = i;
        int d, m, y = 0;

        if (i >= t->n)
                return 0;
        if (strcmp(t->w[j], "ngay") == 0)
                j++;
        if (j >= t->n)
                return 0;

        const char *w = t->w[j];
        if (digit(w[0]) && strpbrk(w, "/-.")) {
                int v[3] = {}, nv = 0;
                const char *p = w;
                while (*p && nv < 3) {
                        if (!digit(*p))
                                return 0;
                        long x = 0;
                        int nd = 0;
                        while (digit(*p) && nd < 5)
                                x = x * 10 + (*p++ - '0'), nd++;
                        v[nv++] = (int) x;
                        if (*p && !strchr("/-.", *p))
                                return 0;
                        if (*p)
                                p++;
                }
                if (*p)
                        return 0;
                if (nv == 3 && v[0] >= 1000)
                        y = v[0], m = v[1], d = v[2];
                else if (nv == 3)
                        d = v[0], m = v[1], y = v[2] < 100 ? 2000 + v[2] : v[2];
                else if (nv == 2)
                        d = v[0], m = v[1];
                else
                        return 0;
                j++;
                if (nv == 2 && j + 1 < t->n && strcmp(t->w[j], "nam") == 0 && year_word(t->w[j + 1], &y))
                        j += 2;
                return make_day(y, m, d, ref, ret) ? j - i : 0;
        }
        /* "15 tháng 6 năm 2025", "15 June 2025", "15th of June". */
        if (number_word(w, 2, &d)) {
                j++;
                if (j + 1 < t->n && strcmp(t->w[j], "thang") == 0 && number_word(t->w[j + 1], 2, &m)) {
                        j += 2;
                        if (j + 1 < t->n && strcmp(t->w[j], "nam") == 0 && year_word(t->w[j + 1], &y))
                                j += 2;
                        else if (j < t->n && t->w[j][0] == '/' )
                                j++;
                        return make_day(y, m, d, ref, ret) ? j - i : 0;
                }
                if (j < t->n && strcmp(t->w[j], "of") == 0)
                        j++;
                if (j < t->n && (m = month_word(t->w[j]))) {
                        j++;
                        if (j < t->n && year_word(t->w[j], &y))
                                j++;
                        else if (j + 1 < t->n && t->w[j][0] == ',' && year_word(t->w[j + 1], &y))
                                j += 2;
                        return make_day(y, m, d, ref, ret) ? j - i : 0;
                }
                return 0;
        }
        /* "June 15, 2025". */
        if ((m = month_word(w)) && j + 1 < t->n && number_word(t->w[j + 1], 2, &d)) {
                j += 2;
                if (j < t->n && year_word(t->w[j], &y))
                        j++;
                else if (j + 1 < t->n && t->w[j][0] == ',' && year_word(t->w[j + 1], &y))
                        j += 2;
                return make_day(y, m, d, ref, ret) ? j - i : 0;
        }
        return 0;
}

/* "[#123]" anywhere, else "#123" standing alone. */
static int64_t find_tag(const char *s) {
        if (!s)
                return 0;
        for (int pass = 0; pass < 2; pass++)
                for (const char *p = s; (p = strchr(p, '#')); p++) {
                        if (pass == 0 && (p == s || p[-1] != '['))
                                continue;
                        if (pass == 1 && p > s && (alnum(p[-1]) || (p[-1] >= 'A' && p[-1] <= 'Z') || p[-1] == '&'))
                                continue;
                        int64_t v = 0;
                        int k = 1;
                        while (digit(p[k]) && k <= 15)
                                v = v * 10 + (p[k++] - '0');
                        if (k == 1 || digit(p[k]) || v == 0)
                                continue;
                        if (pass == 0 ? p[k] != ']' : (alnum(p[k]) || (p[k] >= 'A' && p[k] <= 'Z')))
                                continue;
                        return v;
                }
        return 0;
}

/* "nhiệm vụ 5.c", "nhiem vu so 5", "task 5.c", "task no. 5": the
 * reference, as folded. */
static char *find_ref(const struct toks *t) {
        for (size_t i = 0; i < t->n; i++) {
                size_t k = words_at(t, i, "nhiem vu");
                if (!k)
                        k = words_at(t, i, "task");
                if (!k)
                        continue;
                size_t j = i + k;
                if (j < t->n && (strcmp(t->w[j], "so") == 0 || strcmp(t->w[j], "no") == 0 ||
                                 strcmp(t->w[j], "number") == 0))
                        j++;
                if (j < t->n && strcmp(t->w[j], ".") == 0 && j > i + k)
                        j++;    /* "task no. 5" */
                if (j < t->n && digit(t->w[j][0]) && !strchr(t->w[j], '/') && strlen(t->w[j]) <= 16) {
                        char *r = strdup(t->w[j]);
                        size_t n;
                        if (r && (n = strlen(r)) > 0 && r[n - 1] == '.')
                                r[n - 1] = 0;
                        return r;
                }
        }
        return NULL;
}

int reply_understand(struct reply *r) {
        _cleanup_free_ char *f = NULL, *fs = NULL;
        struct toks t = {}, ts = {};
        int32_t ref = r->date == INT64_MIN ? INT32_MIN : (int32_t) ((r->date + 7 * SEC_PER_HOUR) / SEC_PER_DAY);
        bool done = false, extension = false;
        int k;

        f = fold(r->text ? r->text : "", r->text ? strlen(r->text) : 0);
        fs = fold(r->subject ? r->subject : "", r->subject ? strlen(r->subject) : 0);
        if (!f)
                f = strdup("");
        if (!fs)
                fs = strdup("");
        if (!f || !fs)
                return -ENOMEM;
        if ((k = toks_make(f, &t)) < 0)
                return k;
        if ((k = toks_make(fs, &ts)) < 0)
                return toks_done(&t), k;

        /* An extension request outweighs completion words: asking for more
         * time names the completion it puts off ("chưa thể hoàn thành, xin
         * gia hạn đến …"). */
        for (size_t i = 0; i < t.n && !extension; i++)
                for (size_t p = 0; p < ELEMENTSOF(extension_phrases); p++) {
                        size_t len = words_at(&t, i, extension_phrases[p]);
                        if (!len || negated(&t, i, extension_negators))
                                continue;
                        extension = true;
                        /* The day asked for: after the cue in its sentence, else before it. */
                        for (size_t j = i + len; j < t.n && j < i + len + 30 && t.w[j][0] != '.'; j++)
                                if (date_at(&t, j, ref, &r->asked_day))
                                        break;
                        for (size_t j = i; r->asked_day == INT32_MIN && j-- > 0 && t.w[j][0] != '.';)
                                if (date_at(&t, j, ref, &r->asked_day))
                                        break;
                        break;
                }
        for (size_t i = 0; i < t.n && !done && !extension; i++)
                for (size_t p = 0; p < ELEMENTSOF(done_phrases); p++)
                        if (words_at(&t, i, done_phrases[p]) && !negated(&t, i, done_negators)) {
                                done = true;
                                break;
                        }
        /* A negation anywhere ("chưa hoàn thành" after "đã xong phần 1")
         * leaves the reply to the officer. */
        for (size_t i = 0; i < t.n && done; i++)
                for (size_t p = 0; p < ELEMENTSOF(done_phrases); p++)
                        if (words_at(&t, i, done_phrases[p]) && i > 0 && !is_break(&t, i - 1) &&
                            (strcmp(t.w[i - 1], "chua") == 0 || strcmp(t.w[i - 1], "not") == 0 ||
                             strcmp(t.w[i - 1], "khong") == 0 || strcmp(t.w[i - 1], "yet") == 0))
                                done = false;

        r->intent = extension ? REPLY_EXTENSION : done ? REPLY_DONE : REPLY_UNKNOWN;
        if (!extension)
                r->asked_day = INT32_MIN;
        r->task_tag = find_tag(r->subject);
        if (r->task_tag == 0)
                r->task_tag = find_tag(r->text);
        r->task_ref = find_ref(&ts);
        if (!r->task_ref)
                r->task_ref = find_ref(&t);
        toks_done(&t);
        toks_done(&ts);
        return 0;
}
