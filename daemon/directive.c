/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Directive parsing (directive.h): input checks, the item structure, and
 * assembly of the result. Lines, pages and OCR's specks are
 * directive-scan.c's, markers directive-marker.c's, the header and
 * signature block directive-header.c's, deadlines directive-date.c's,
 * roles directive-roles.c's. */

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
        size_t n = directive_layout_columns(l, cols, COLUMNS_MAX);

        if (n > 0 && directive_layout_words_are(&cols[0], "noi nhan", true))
                return true;
        for (size_t c = 0; c < n; c++) {
                if (directive_layout_words_are(&cols[c], "chu tich", false) ||
                    directive_layout_words_are(&cols[c], "pho chu tich", false))
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

                if (l->blank || directive_is_page_furniture(l)) {
                        blank = true;
                        continue;
                }
                if (is_body_end(l))
                        return -1;
                sp = directive_layout_trimmed(l);
                m = directive_line_marker(&sp);
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

                if (l->blank || directive_is_page_furniture(l)) {
                        prev_blank = true;
                        continue;
                }
                if (p->first_item_line != SIZE_MAX && is_body_end(l)) {
                        p->body_end = li;
                        break;
                }
                sp = directive_layout_trimmed(l);
                m = directive_line_marker(&sp);
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
                                 ? directive_letter_repair(&m, last_letter, open, item_term, last_num)
                                 : NULL;
                /* A capital read as a digit ("S." for "5.") only where the
                 * next paragraph's number confirms it: "A." heads a part. */
                if (m.mark == MARK_NUMBER && m.lookalike && m.num < 10 && m.num == last_num + 1 &&
                    next_number(p, li) != last_num + 2) {
                        m.mark = MARK_NONE;
                }
                /* An excerpt may start at any item ("6. Sở Kế hoạch và Đầu
                 * tư:") that opens a paragraph with a capital; after that,
                 * numbers follow each other. A number OCR made of a letter
                 * ("l2.") counts only where it is the next one. */
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
                                char first = x < sp.len ? sp.s[x] : ' ';
                                bool lower = directive_lower_at(sp.s + x, sp.len - x) ||
                                             (first >= '0' && first <= '9') || strchr("-+*(", first);
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
                .text = directive_layout_normalised(text + m->start, m->end - m->start),
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
                task->due_workdays = dl->workdays;
                task->due_workdays_from = dl->workdays_from;
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
                directive_depunct(text);
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
                r = directive_split_lines(p.text, p.len, &p.lines, &p.n_lines);
        if (r >= 0) {
                directive_number_pages(p.lines, p.n_lines);
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
