/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

/* strbuf_printf() writes into the room it has and formats again only when
 * that was too little: whatever the room, the text is what snprintf()
 * makes of it, and the buffer stays terminated. */
static void test_printf_fits_or_grows(void **state) {
        struct strbuf b = STRBUF_INIT(1 << 20);
        _cleanup_free_ char *s = NULL;
        char want[8192];
        size_t len = 0;
        size_t n;

        for (int i = 0; i < 600; i++) {
                len += (size_t) snprintf(want + len, sizeof want - len, "[%d:%s]", i, i % 7 ? "ab" : "Sở Tài chính");
                strbuf_printf(&b, "[%d:%s]", i, i % 7 ? "ab" : "Sở Tài chính");
                assert_int_equal(b.len, len);
                assert_int_equal(strlen(b.data), len);
                assert_memory_equal(b.data, want, len);
        }
        strbuf_printf(&b, "%s", "");
        assert_int_equal(b.len, len);
        assert_int_equal(strbuf_steal(&b, &s, &n), 0);
        assert_int_equal(n, len);
        assert_string_equal(s, want);
}

/* The bound holds whether the text fits in the room there is or not, and
 * what was there before is left as it was. */
static void test_printf_past_the_bound_fails_and_keeps_the_text(void **state) {
        struct strbuf b = STRBUF_INIT(300);
        char *s = NULL;

        strbuf_puts(&b, "abc");                 /* the buffer has 256 bytes */
        assert_true(b.cap >= 256);
        strbuf_printf(&b, "%0250d", 7);         /* fits the room and the bound */
        assert_int_equal(b.len, 253);
        strbuf_printf(&b, "%060d", 7);          /* past the bound, would fit a grown buffer */
        assert_int_equal(b.error, -E2BIG);
        assert_int_equal(b.len, 253);
        assert_int_equal(strlen(b.data), 253);
        assert_int_equal(strbuf_steal(&b, &s, NULL), -E2BIG);
        assert_null(s);

        b = STRBUF_INIT(10);
        strbuf_puts(&b, "abc");
        strbuf_printf(&b, "%s", "defghijk");    /* in the 256 bytes, past the bound of 10 */
        assert_int_equal(b.error, -E2BIG);
        assert_string_equal(b.data, "abc");
        strbuf_done(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_printf_fits_or_grows),
                cmocka_unit_test(test_printf_past_the_bound_fails_and_keeps_the_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
