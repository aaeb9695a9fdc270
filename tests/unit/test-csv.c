/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "csv.h"
#include "macro.h"

static void read_all(const char *text, char ****ret, size_t *n) {
        struct csv in;
        char ***recs = NULL;
        int line;

        *n = 0;
        csv_init(&in, text, strlen(text));
        for (;;) {
                char **f = NULL;
                int r = csv_record(&in, &f, &line);
                assert_true(r >= 0);
                if (r == 0) {
                        strv_free(f);
                        break;
                }
                recs = realloc(recs, (*n + 1) * sizeof *recs);
                recs[(*n)++] = f;
        }
        *ret = recs;
}

static void free_all(char ***recs, size_t n) {
        for (size_t i = 0; i < n; i++)
                strv_free(recs[i]);
        free(recs);
}

static void test_quotes_commas_and_line_breaks(void **state) {
        char ***r;
        size_t n;
        read_all("\xEF\xBB\xBF" "a,b,c\r\n\"x, y\",\"say \"\"hi\"\"\",\"line 1\nline 2\"\r\nlast,,\n", &r, &n);
        assert_int_equal(n, 3);
        assert_string_equal(r[0][0], "a");
        assert_string_equal(r[1][0], "x, y");
        assert_string_equal(r[1][1], "say \"hi\"");
        assert_string_equal(r[1][2], "line 1\nline 2");
        assert_int_equal(strv_length(r[2]), 3);
        assert_string_equal(r[2][1], "");
        free_all(r, n);
}

static void test_no_final_newline(void **state) {
        char ***r;
        size_t n;
        read_all("a,b\n1,2", &r, &n);
        assert_int_equal(n, 2);
        assert_string_equal(r[1][1], "2");
        free_all(r, n);
}

static void test_line_numbers_count_quoted_breaks(void **state) {
        struct csv in;
        char **f = NULL;
        int line;
        const char *text = "h\n\"a\nb\"\nc\n";
        csv_init(&in, text, strlen(text));
        assert_int_equal(csv_record(&in, &f, &line), 1), assert_int_equal(line, 1), f = strv_free(f);
        assert_int_equal(csv_record(&in, &f, &line), 1), assert_int_equal(line, 2), f = strv_free(f);
        assert_int_equal(csv_record(&in, &f, &line), 1), assert_int_equal(line, 4), f = strv_free(f);
}

static void test_unclosed_quote_is_an_error(void **state) {
        struct csv in;
        char **f = NULL;
        int line;
        const char *text = "a,\"b\n";
        csv_init(&in, text, strlen(text));
        assert_int_equal(csv_record(&in, &f, &line), -EBADMSG);
}

static void test_nul_byte_is_an_error_on_its_line(void **state) {
        struct csv in;
        char **f = NULL;
        int line;
        static const char text[] = "a,b\nc,\"d\ne\0f\"\n";
        csv_init(&in, text, sizeof text - 1);
        assert_int_equal(csv_record(&in, &f, &line), 2), f = strv_free(f);
        assert_int_equal(csv_record(&in, &f, &line), -EILSEQ);
        assert_int_equal(line, 3);
}

static void test_writer_round_trips(void **state) {
        const char *fields[] = { "plain", "with, comma", "with \"quote\"", "two\nlines", "Tiếng Việt" };
        char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                csv_write_field(f, fields[i], i + 1 == ELEMENTSOF(fields));
        fclose(f);
        char ***r;
        size_t n;
        read_all(buf, &r, &n);
        assert_int_equal(n, 1);
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                assert_string_equal(r[0][i], fields[i]);
        free_all(r, n);
        free(buf);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_quotes_commas_and_line_breaks),
                cmocka_unit_test(test_no_final_newline),
                cmocka_unit_test(test_line_numbers_count_quoted_breaks),
                cmocka_unit_test(test_unclosed_quote_is_an_error),
                cmocka_unit_test(test_nul_byte_is_an_error_on_its_line),
                cmocka_unit_test(test_writer_round_trips),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
