/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who leads and who cooperates in a directive item (see directive.h). */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "directive-internal.h"

/* Agencies listed in one breath ("Sở Tài chính, Sở Xây dựng và Kho bạc
 * Nhà nước tỉnh"); more than this is not a list of agencies. */
#define LIST_MAX 16
/* How far before "chủ trì" its subject may start. */
#define LEAD_WINDOW 40
/* How far into an item a "giao" / "đề nghị" may introduce its subject. */
#define PREFIX_WINDOW 8

/* Mentions looked up so far, per token: the "chủ trì" and "phối hợp"
 * scans pass the same positions many times. */
struct ctx {
        const struct textnorm_index *idx;
        const struct textnorm_tokens *t;
        struct textnorm_mention *memo;
        uint8_t *state;         /* 0: not looked up, 1: none, 2: memo[i] */
        /* Where a list of agencies starting at a token ends (SIZE_MAX: not
         * read yet; the token itself: no list there). */
        size_t *list_end;
};

static int mention_at(struct ctx *c, size_t i, struct textnorm_mention *ret) {
        if (i >= c->t->n)
                return 0;
        if (c->state[i] == 0) {
                c->state[i] = textnorm_index_mention_at(c->idx, c->t, i, TEXTNORM_FIND_UNKNOWN, &c->memo[i]) > 0 ? 2 : 1;
        }
        if (c->state[i] != 2)
                return 0;
        *ret = c->memo[i];
        return 1;
}

struct list {
        struct textnorm_mention m[LIST_MAX];
        size_t n;
        size_t end;             /* the token after the list */
        bool nobody;            /* "các cơ quan liên quan" was in it */
};

static bool punct_is(const struct textnorm_tokens *t, size_t i, char c) {
        return i < t->n && t->tokens[i].punct && t->tokens[i].word[0] == c;
}

/* The joints of a list: ",", "và", "cùng (với)". */
static size_t skip_connectors(const struct textnorm_tokens *t, size_t i) {
        size_t j = i;

        j += punct_is(t, j, ',');
        j += directive_words_at(t, j, "va");
        if (directive_words_at(t, j, "cung")) {
                j++;
                j += directive_words_at(t, j, "voi");
        }
        return j;
}

/* "các cơ quan liên quan", "các cơ quan, đơn vị có liên quan", "các sở,
 * ngành liên quan", "các cơ quan chức năng": wording that names nobody.
 * Returns its length in tokens, or 0. */
static size_t nobody_at(const struct textnorm_tokens *t, size_t i) {
        static const char *const words[] = {
                "co quan", "don vi", "dia phuong", "to chuc", "ca nhan", "doanh nghiep", "so", "ban",
                "nganh", "cap", "co", "tinh", "huyen", "xa", "khac",
        };
        size_t j = i, k;
        bool seen = false;

        if ((k = directive_words_at(t, j, "cac")) || (k = directive_words_at(t, j, "nhung")))
                j += k;
        for (size_t steps = 0; j < t->n && steps < 12; steps++) {
                if (seen && ((k = directive_words_at(t, j, "lien quan")) || (k = directive_words_at(t, j, "chuc nang"))))
                        return j + k - i;
                if (seen && (punct_is(t, j, ',') || directive_words_at(t, j, "va"))) {
                        j++;
                        continue;
                }
                k = 0;
                for (size_t w = 0; w < ELEMENTSOF(words) && k == 0; w++)
                        k = directive_words_at(t, j, words[w]);
                if (k == 0)
                        return 0;
                seen = true;
                j += k;
        }
        return 0;
}

/* The title of an agency's head before its name ("Thủ trưởng các sở",
 * "Chủ tịch UBND các huyện", "Giám đốc Kho bạc"): the agency is meant. */
static size_t skip_title(const struct textnorm_tokens *t, size_t i) {
        static const char *const titles[] = { "thu truong", "chu tich", "giam doc" };
        size_t k;

        for (size_t w = 0; w < ELEMENTSOF(titles); w++)
                if ((k = directive_words_at(t, i, titles[w])) > 0 && i + k < t->n && !t->tokens[i + k].punct)
                        return i + k;
        return i;
}

/* Reads a list of agencies starting at token i. */
static void scan_list(struct ctx *c, size_t i, struct list *l) {
        const struct textnorm_tokens *t = c->t;

        l->n = 0;
        l->end = i;
        l->nobody = false;
        for (;;) {
                struct textnorm_mention m;
                size_t j = l->end, k;

                if (l->n > 0 || l->nobody) {
                        j = skip_connectors(t, j);
                        if (j == l->end)
                                break;
                }
                if ((k = nobody_at(t, j)) > 0) {
                        l->nobody = true;
                        l->end = j + k;
                        continue;
                }
                if (l->n == LIST_MAX)
                        break;
                if (mention_at(c, j, &m) <= 0 && (skip_title(t, j) == j || mention_at(c, skip_title(t, j), &m) <= 0))
                        break;
                l->m[l->n++] = m;
                l->end = m.last;
        }
}

static int roles_add(struct roles *r, const struct list *l, enum directive_role role) {
        struct textnorm_mention *m;
        enum directive_role *ro;

        if (l->n == 0)
                return 0;
        m = reallocarray(r->mentions, r->n + l->n, sizeof(*m));
        if (!m)
                return -ENOMEM;
        r->mentions = m;
        ro = reallocarray(r->role, r->n + l->n, sizeof(*ro));
        if (!ro)
                return -ENOMEM;
        r->role = ro;
        for (size_t k = 0; k < l->n; k++) {
                r->mentions[r->n] = l->m[k];
                r->role[r->n] = role;
                r->n++;
        }
        if (role == DIRECTIVE_LEAD)
                r->has_lead = true;
        return 0;
}

/* The end of the list starting at s, read once per token. */
static size_t list_end_at(struct ctx *c, size_t s) {
        if (c->list_end[s] == SIZE_MAX) {
                struct list l;
                scan_list(c, s, &l);
                c->list_end[s] = l.n > 0 ? l.end : s;
        }
        return c->list_end[s];
}

/* "Sở Tài chính chủ trì", "giao Sở Tài chính chủ trì", "do Sở Tài chính
 * chủ trì": the list that ends right before "chủ trì". Also "Cơ quan chủ
 * trì: Sở Y tế". */
static int lead_by_chu_tri(struct ctx *ctx, struct roles *r) {
        const struct textnorm_tokens *t = ctx->t;
        struct list l;
        int q;

        for (size_t c = 0; c < t->n; c++) {
                size_t k = directive_words_at(t, c, "chu tri");
                if (k == 0)
                        continue;
                if (punct_is(t, c + k, ':')) {
                        scan_list(ctx, c + k + 1, &l);
                        q = roles_add(r, &l, DIRECTIVE_LEAD);
                        if (q < 0)
                                return q;
                        continue;
                }
                for (size_t s = c > LEAD_WINDOW ? c - LEAD_WINDOW : 0; s < c; s++) {
                        size_t e;
                        if (t->tokens[s].punct)
                                continue;
                        e = list_end_at(ctx, s);
                        if (e == s || !(e == c || (punct_is(t, e, ',') && e + 1 == c)))
                                continue;
                        scan_list(ctx, s, &l);
                        if (l.n > 0) {
                                q = roles_add(r, &l, DIRECTIVE_LEAD);
                                if (q < 0)
                                        return q;
                                break;
                        }
                }
        }
        return 0;
}

/* The subject of the item: the list it opens with, after an introducing
 * "giao", "đề nghị", "yêu cầu" or "đối với" ("UBND tỉnh giao Sở Tư pháp
 * thẩm định …"). */
static int lead_by_subject(struct ctx *ctx, struct roles *r) {
        const struct textnorm_tokens *t = ctx->t;
        static const char *const prefixes[] = { "giao cho", "giao", "de nghi", "yeu cau", "doi voi" };
        size_t start = 0;
        struct list l;

        for (size_t i = 0; i < t->n && i < PREFIX_WINDOW && start == 0; i++) {
                if (punct_is(t, i, ';') || punct_is(t, i, '.'))
                        break;
                /* Inside the sentence the verb is lower case: "Sở Giáo dục"
                 * folds to "so giao duc" but introduces nothing. */
                if (i > 0 && t->tokens[i].upper)
                        continue;
                for (size_t p = 0; p < ELEMENTSOF(prefixes); p++) {
                        size_t k = directive_words_at(t, i, prefixes[p]);
                        if (k > 0) {
                                start = i + k;
                                break;
                        }
                }
        }
        while (start < t->n && t->tokens[start].punct)
                start++;
        scan_list(ctx, start, &l);
        return roles_add(r, &l, DIRECTIVE_LEAD);
}

/* "phối hợp (chặt chẽ) (với)", "với sự phối hợp của", "Cơ quan phối hợp:". */
static int support_by_phoi_hop(struct ctx *ctx, struct roles *r) {
        const struct textnorm_tokens *t = ctx->t;
        struct list l;
        int q;

        for (size_t p = 0; p < t->n; p++) {
                size_t k = directive_words_at(t, p, "phoi hop"), j;
                if (k == 0)
                        continue;
                j = p + k;
                j += directive_words_at(t, j, "chat che");
                if (!directive_words_at(t, j, "voi") && !directive_words_at(t, j, "cua") &&
                    !directive_words_at(t, j, "cung"))
                        j += punct_is(t, j, ':');
                else
                        j++;
                scan_list(ctx, j, &l);
                q = roles_add(r, &l, DIRECTIVE_SUPPORT);
                if (q < 0)
                        return q;
        }
        return 0;
}

int directive_find_roles(const struct textnorm_index *idx, const struct textnorm_tokens *t, struct roles *ret) {
        struct ctx c = { .idx = idx, .t = t };
        struct roles r = {};
        int q = 0;

        if (t->n > 0) {
                c.memo = calloc(t->n, sizeof(*c.memo));
                c.state = calloc(t->n, sizeof(*c.state));
                c.list_end = malloc(t->n * sizeof(*c.list_end));
                if (!c.memo || !c.state || !c.list_end)
                        q = -ENOMEM;
                else
                        memset(c.list_end, 0xff, t->n * sizeof(*c.list_end));
        }
        if (q >= 0)
                q = lead_by_chu_tri(&c, &r);
        if (q >= 0 && !r.has_lead)
                q = lead_by_subject(&c, &r);
        if (q >= 0)
                q = support_by_phoi_hop(&c, &r);
        free(c.memo);
        free(c.state);
        free(c.list_end);
        if (q < 0) {
                directive_roles_done(&r);
                return q;
        }
        *ret = r;
        return 0;
}

void directive_roles_done(struct roles *r) {
        if (!r)
                return;
        free(r->mentions);
        free(r->role);
        *r = (struct roles) {};
}
