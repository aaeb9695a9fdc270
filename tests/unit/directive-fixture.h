/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the directive parser's tests share: a header of the sample
 * province, and parsing a document built on it against the sample
 * configuration's agencies. Header-only: each test program is one
 * translation unit. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directive.h"
#include "macro.h"
#include "sonha-candidates.h"

/* Tuesday 8 April 2025. */
#define HEADER                                                                          \
        "ỦY BAN NHÂN DÂN                    CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"        \
        "  TỈNH SƠN HÀ                          Độc lập - Tự do - Hạnh phúc\n\n"        \
        "Số: 100/UBND-TH                      Sơn Hà, ngày 08 tháng 4 năm 2025\n"      \
        "V/v thử nghiệm\n\n"

static _unused_ int parse(const char *text, struct directive **ret) {
        return directive_parse(text, strlen(text), sonha_candidates, SONHA_N_CANDIDATES, ret);
}

static _unused_ struct directive *parse_ok(const char *text) {
        struct directive *d = NULL;
        assert_int_equal(parse(text, &d), 0);
        assert_non_null(d);
        return d;
}

/* A document with the header above and the given items. */
static _unused_ struct directive *parse_item(const char *item) {
        _cleanup_free_ char *text = NULL;
        assert_true(asprintf(&text, HEADER "%s\n", item) > 0);
        return parse_ok(text);
}

static _unused_ const struct directive_task *only_task(const struct directive *d) {
        assert_int_equal(d->n_tasks, 1);
        return &d->tasks[0];
}

/* The one task the item makes is due then (NULL: no deadline). */
static _unused_ void assert_due(const char *item, const char *due) {
        _cleanup_(directive_freep) struct directive *d = parse_item(item);
        const struct directive_task *t = only_task(d);
        if (!streq_ptr(t->due, due))
                fail_msg("\"%s\": due %s, expected %s", item, strempty(t->due), strempty(due));
}
