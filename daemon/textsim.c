/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "textsim.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "textnorm.h"

#define ELLIPSIS "\xe2\x80\xa6" /* … */
/* The most work one comparison may take: texts that far apart in length
 * and damage count as different. */
#define TEXTSIM_MAX_CELLS 1e8

/* Folds s without a trailing ellipsis, and says whether it had one. */
static int fold_cut(const char *s, char **ret, bool *ret_cut) {
        size_t len = strlen(s), e = strlen(ELLIPSIS);

        *ret_cut = len >= e && memcmp(s + len - e, ELLIPSIS, e) == 0;
        if (*ret_cut)
                len -= e;
        return textnorm_fold(s, len, ret);
}

/* The edit distance between x and y (or, with `prefix`, between x and the
 * beginning of y that matches it best), if it is at most k; k + 1 if it is
 * more. Only cells within k of the diagonal can stay within k, so the cost
 * is O(|x| k). */
static int bounded_distance(const char *x, size_t lx, const char *y, size_t ly, size_t k, bool prefix,
                            size_t *ret) {
        const size_t inf = k + 1;
        _cleanup_free_ size_t *prev = calloc(ly + 1, sizeof *prev), *cur = calloc(ly + 1, sizeof *cur);

        if (!prev || !cur)
                return -ENOMEM;
        for (size_t j = 0; j <= ly; j++)
                prev[j] = j <= k ? j : inf;
        for (size_t i = 1; i <= lx; i++) {
                size_t lo = i > k ? i - k : 0, hi = MIN(ly, i + k), best = inf;

                if (lo > 0)
                        cur[lo - 1] = inf;
                for (size_t j = lo; j <= hi; j++) {
                        size_t v;
                        if (j == 0)
                                v = i;
                        else {
                                v = prev[j - 1] + (x[i - 1] != y[j - 1]);
                                v = MIN(v, cur[j - 1] + 1);
                                v = MIN(v, prev[j] + 1);
                        }
                        cur[j] = MIN(v, inf);
                        best = MIN(best, cur[j]);
                }
                if (hi < ly)
                        cur[hi + 1] = inf;
                if (best > k) {
                        *ret = inf;
                        return 0;
                }
                size_t *t = prev;
                prev = cur;
                cur = t;
        }
        if (prefix) {
                size_t best = inf;
                for (size_t j = 0; j <= ly; j++)
                        best = MIN(best, prev[j]);
                *ret = best;
        } else
                *ret = prev[ly];
        return 0;
}

int textsim_same(const char *a, const char *b, double threshold) {
        _cleanup_free_ char *fa = NULL, *fb = NULL;
        bool cut_a, cut_b;
        size_t la, lb, d;
        int r;

        if (!a || !b)
                return a == b;
        if (streq(a, b))
                return 1;
        if ((r = fold_cut(a, &fa, &cut_a)) < 0 || (r = fold_cut(b, &fb, &cut_b)) < 0)
                return r;
        la = strlen(fa), lb = strlen(fb);
        /* x is the shorter one. */
        const char *x = la <= lb ? fa : fb, *y = la <= lb ? fb : fa;
        size_t lx = MIN(la, lb), ly = MAX(la, lb);
        bool prefix = la <= lb ? cut_a : cut_b;
        size_t base = prefix ? lx : ly;
        if (base == 0)
                return lx == ly;
        size_t k = (size_t) ((1.0 - threshold) * (double) base);
        if (!prefix && ly - lx > k)
                return 0;
        /* What both begin (and, compared whole, end) with costs nothing. */
        while (lx > 0 && *x == *y)
                x++, y++, lx--, ly--;
        while (!prefix && lx > 0 && x[lx - 1] == y[ly - 1])
                lx--, ly--;
        /* Try a narrow band first: an OCR copy is a few edits away, and the
         * cost grows with the band. */
        for (size_t band = MIN(k, (size_t) 32);; band = MIN(k, band * 2)) {
                if ((double) lx * (double) (2 * band + 1) > TEXTSIM_MAX_CELLS)
                        return 0;
                r = bounded_distance(x, lx, y, ly, band, prefix, &d);
                if (r < 0)
                        return r;
                if (d <= band)
                        return 1;
                if (band == k)
                        return 0;
        }
}
