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

/* A page number ("2", "- 2 -", "Trang 2", "Trang 2/5") or a rule line:
 * page furniture, read as a blank line. Returns the page number, 0 for a
 * rule, -1 for anything else. */
static int page_furniture(const struct line *l) {
        struct span sp = layout_trimmed(l);
        size_t i = 0, digits = 0;
        int num = 0;

        if (layout_is_decoration(&sp))
                return 0;
        if (sp.len >= 5 && strncasecmp(sp.s, "trang", 5) == 0)
                i = 5;
        while (i < sp.len && (sp.s[i] == '-' || is_space(sp.s[i])))
                i++;
        while (i < sp.len && sp.s[i] >= '0' && sp.s[i] <= '9' && digits < 4)
                num = num * 10 + (sp.s[i++] - '0'), digits++;
        if (digits == 0)
                return -1;
        if (i < sp.len && sp.s[i] == '/')
                for (i++; i < sp.len && sp.s[i] >= '0' && sp.s[i] <= '9'; i++)
                        ;
        while (i < sp.len && (sp.s[i] == '-' || is_space(sp.s[i])))
                i++;
        return i == sp.len ? num : -1;
}

static bool is_page_furniture(const struct line *l) {
        return page_furniture(l) >= 0;
}

/* Gives every line its page and its line number on that page. A form feed
 * starts a page; so does, in text without them, the number of the next
 * page standing alone on its line (an administrative document numbers its
 * pages at the top, from the second on). */
static void number_pages(struct parser *p) {
        unsigned page = 1, shift = 0;
        size_t start = 0;

        for (size_t li = 0; li < p->n_lines; li++) {
                struct line *l = &p->lines[li];
                int num;

                if (l->page + shift != page) {
                        page = l->page + shift;
                        start = li;
                } else if (!l->blank && (num = page_furniture(l)) > 0 && (unsigned) num == page + 1) {
                        shift++;
                        page++;
                        start = li;
                }
                l->page = page;
                l->lineno = (unsigned) (li - start + 1);
        }
}

enum mark {
        MARK_NONE,
        MARK_NUMBER,            /* "1." "1)" */
        MARK_SUBNUMBER,         /* "1.1." "1.1" */
        MARK_LETTER,            /* "a)" "đ)" "a." */
        MARK_ROMAN,             /* "II." */
};

struct marker {
        enum mark mark;
        int num, sub;
        char letter[4];         /* UTF-8 */
        size_t skip;            /* bytes of the marker and the space after it */
};

static size_t digits_at(const char *s, size_t n, size_t i, int *ret) {
        size_t k = 0;
        int v = 0;
        while (i + k < n && k < 3 && s[i + k] >= '0' && s[i + k] <= '9')
                v = v * 10 + (s[i + k++] - '0');
        if (i + k < n && s[i + k] >= '0' && s[i + k] <= '9')
                return 0;
        *ret = v;
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

static struct marker line_marker(const struct span *sp) {
        const char *s = sp->s;
        size_t n = sp->len, k, i;
        struct marker m = {};

        if ((k = digits_at(s, n, 0, &m.num)) > 0 && k < n) {
                if (s[k] == '.' && k + 1 < n && s[k + 1] >= '0' && s[k + 1] <= '9') {
                        size_t k2 = digits_at(s, n, k + 1, &m.sub);
                        i = k + 1 + k2;
                        if (k2 > 0 && i < n && (s[i] == '.' || s[i] == ')'))
                                i++;
                        if (k2 > 0 && i < n && is_space(s[i])) {
                                m.mark = MARK_SUBNUMBER;
                                m.skip = skip_spaces(s, n, i);
                        }
                        return m;
                }
                if ((s[k] == '.' || s[k] == ')') && marker_end(s, n, k + 1) && m.num > 0) {
                        m.mark = MARK_NUMBER;
                        m.skip = skip_spaces(s, n, k + 1);
                }
                return m;
        }
        /* "đ)" is two bytes of UTF-8. */
        if (n >= 3 && (unsigned char) s[0] == 0xc4 && (unsigned char) s[1] == 0x91 && (s[2] == ')' || s[2] == '.') &&
            (n == 3 || is_space(s[3]))) {
                m.mark = MARK_LETTER;
                strcpy(m.letter, "đ");
                m.skip = skip_spaces(s, n, 3);
                return m;
        }
        if (n >= 2 && s[0] >= 'a' && s[0] <= 'z' && (s[1] == ')' || s[1] == '.') && (n == 2 || is_space(s[2]))) {
                m.mark = MARK_LETTER;
                m.letter[0] = s[0];
                m.skip = skip_spaces(s, n, 2);
                return m;
        }
        for (i = 0; i < n && i < 5 && (s[i] == 'I' || s[i] == 'V' || s[i] == 'X'); i++)
                ;
        if (i > 0 && i + 1 < n && s[i] == '.' && is_space(s[i + 1])) {
                m.mark = MARK_ROMAN;
                m.skip = skip_spaces(s, n, i + 1);
        }
        return m;
}

/* The Vietnamese alphabet order of sub-items: a b c d đ e g h i k l m n
 * o p q r s t u v x y; plain ASCII order is accepted too. */
static bool letter_follows(const char *prev, const char *next) {
        static const char *const order[] = { "a", "b", "c", "d", "đ", "e", "g", "h", "i", "k", "l", "m",
                                             "n", "o", "p", "q", "r", "s", "t", "u", "v", "x", "y" };
        if (!prev[0])
                return streq(next, "a");
        for (size_t k = 0; k + 1 < ELEMENTSOF(order); k++)
                if (streq(prev, order[k]) && streq(next, order[k + 1]))
                        return true;
        return strlen(prev) == 1 && strlen(next) == 1 && next[0] == prev[0] + 1;
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
        for (size_t k = 0; k < ELEMENTSOF(words); k++)
                if (!t.tokens[t.n - 1].punct && textnorm_word_is(t.tokens[t.n - 1].word, words[k]))
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

/* Walks the body and collects items. */
static int parse_items(struct parser *p) {
        size_t cur = SIZE_MAX, heading = SIZE_MAX;
        int last_num = 0, last_sub = 0, section = 0, last_section_num = 0;
        char last_letter[4] = "";
        bool prev_blank = true;
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

                if (m.mark == MARK_ROMAN && starts) {
                        section++;
                        last_section_num = last_num;
                        cur = SIZE_MAX;
                        prev_blank = false;
                        continue;
                }
                /* An excerpt may start at any item ("6. Sở Kế hoạch và Đầu
                 * tư:") that opens a paragraph with a capital; after that,
                 * numbers follow each other. */
                if (m.mark == MARK_NUMBER && starts &&
                    (m.num == last_num + 1 || (m.num == 1 && section > 0 && last_num > 0 && last_num == last_section_num) ||
                     (last_num == 0 && prev_blank && m.num <= FIRST_ITEM_MAX &&
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
                } else if (m.mark == MARK_LETTER && starts && heading != SIZE_MAX && last_sub == 0 &&
                           (letter_follows(last_letter, m.letter) || (streq(last_letter, "d") && streq(m.letter, "d")))) {
                        /* OCR reads "đ)" as "d)": a second "d)" is the "đ)". */
                        const char *letter = streq(last_letter, "d") && streq(m.letter, "d") ? "đ" : m.letter;
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
                                unsigned char first = (unsigned char) sp.s[0];
                                bool lower = (first >= 'a' && first <= 'z') || (first >= '0' && first <= '9') ||
                                             strchr("-+*(", first) || (first >= 0x80 && !textnorm_starts_upper(sp.s, sp.len));
                                if (strchr(".;!?", last) || (last != ':' && !lower))
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
                const char *text = p->items[i].text ? p->items[i].text : "";
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
