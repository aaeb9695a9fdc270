/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libFuzzer target for the directive parser and agency matching: any
 * bytes, no crash, no leak, no undefined behaviour, and results that keep
 * their promises. Built and run by `make fuzz` (mk/fuzz.mk). */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "directive.h"
#include "sonha-candidates.h"
#include "textnorm.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Compiled once: the candidates are not what is being fuzzed. */
static struct textnorm_index *idx;

#define MENTION_MAX 512

static void check(bool ok) {
        if (!ok)
                abort();
}

static void check_directive(const struct directive *d) {
        check(d->addressees && d->addressees_unmatched);
        for (size_t i = 0; i < d->n_tasks; i++) {
                const struct directive_task *t = &d->tasks[i];
                bool unmatched = false;

                check(t->ref && t->text && t->lead && t->support);
                check(t->page >= 1 && t->line >= 1);
                /* Line joining leaves no doubled, leading or trailing
                 * space, whatever specks and page furniture were between. */
                check(!strstr(t->text, "  "));
                check(!t->text[0] || (t->text[0] != ' ' && t->text[strlen(t->text) - 1] != ' '));
                check(!t->due || strlen(t->due) == 10 || strlen(t->due) == 16);
                check(!!(t->flags & DIRECTIVE_TASK_NO_DEADLINE) == (!t->due && !t->recurrence));
                check(!!(t->flags & DIRECTIVE_TASK_NO_LEAD) == !t->lead[0]);
                /* The addressees lead what names no lead, and only that. */
                if (t->flags & DIRECTIVE_TASK_ADDRESSEES) {
                        check(t->lead[0] && strv_length(t->lead) == strv_length(d->addressees));
                        for (char **l = t->lead; *l; l++)
                                check(strv_contains(d->addressees, *l));
                }
                for (char **s = t->support; *s; s++)
                        check(!strv_contains(t->lead, *s));
                for (size_t k = 0; k < t->n_mentions; k++) {
                        check(t->mentions[k].text && t->mentions[k].n_suggestions <= TEXTNORM_SUGGESTIONS);
                        unmatched = unmatched || !t->mentions[k].id;
                }
                check(!!(t->flags & DIRECTIVE_TASK_UNMATCHED) == unmatched);
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        check(textnorm_index_new(sonha_candidates, SONHA_N_CANDIDATES, &idx) == 0);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        struct directive *d = NULL;
        struct textnorm_match m;
        char mention[MENTION_MAX + 1];
        size_t n = MIN(size, (size_t) MENTION_MAX);
        int r;

        r = directive_parse_indexed((const char *) data, size, idx, &d);
        check(r == 0 || r == -EBADMSG || r == -E2BIG || r == -EFBIG);
        check((r == 0) == (d != NULL));
        if (d)
                check_directive(d);
        directive_free(d);

        /* The same bytes as a mention typed into a spreadsheet cell. */
        memcpy(mention, data, n);
        mention[n] = 0;
        r = textnorm_index_match(idx, mention, n, &m);
        check(r == 0 || r == -EBADMSG);
        check(r < 0 || !m.id || m.confidence >= TEXTNORM_MATCH_THRESHOLD);
        return 0;
}
