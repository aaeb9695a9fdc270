/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pure parts of the IMAP reader: where one response ends (its literal
 * included) and the mailbox a URL names. The conversation itself is tested
 * against a real server (tests/integration/test_imap.py). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "imap.h"

static ssize_t length(const char *s, size_t max, size_t *lit, size_t *lit_len) {
        return imap_response_length(s, strlen(s), max, lit, lit_len);
}

static void test_response_lines(void **state) {
        size_t lit, lit_len;

        assert_int_equal(length("* 3 EXISTS\r\n* OK [UIDVALIDITY 7]\r\n", 100, &lit, &lit_len), 12);
        assert_int_equal(lit_len, 0);
        assert_int_equal(length("D1 OK done\r\n", 100, &lit, &lit_len), 12);
        /* Not complete yet. */
        assert_int_equal(length("* 3 EXI", 100, &lit, &lit_len), 0);
        assert_int_equal(length("", 100, &lit, &lit_len), 0);
        /* A bare LF ends a line too. */
        assert_int_equal(length("* SEARCH 4 5\n", 100, &lit, &lit_len), 13);
}

static void test_response_literal(void **state) {
        static const char r[] = "* 1 FETCH (UID 5 BODY[] {7}\r\nab\r\n}{\n)\r\nD4 OK\r\n";
        size_t lit, lit_len;

        assert_int_equal(length(r, 100, &lit, &lit_len), (ssize_t) (strlen(r) - strlen("D4 OK\r\n")));
        assert_int_equal(lit_len, 7);
        assert_memory_equal(r + lit, "ab\r\n}{\n", 7);
        /* Until the literal and the line after it are all there, nothing. */
        for (size_t n = 0; n < strlen(r) - strlen("D4 OK\r\n"); n++)
                assert_int_equal(imap_response_length(r, n, 100, &lit, &lit_len), 0);
        /* A literal larger than allowed is refused before it is read. */
        assert_int_equal(length("* 1 FETCH (BODY[] {99999999999999999999}\r\n", 1000, &lit, &lit_len), -EBADMSG);
        assert_int_equal(length("* 1 FETCH (BODY[] {1001}\r\n", 1000, &lit, &lit_len), -EBADMSG);
        /* "{…}" not at the end of the line is text. */
        assert_int_equal(length("* OK {3} text\r\n", 100, &lit, &lit_len), 15);
        assert_int_equal(lit_len, 0);
        /* An empty literal. */
        assert_int_equal(length("* 1 FETCH (BODY[] {0}\r\n)\r\n", 100, &lit, &lit_len), 26);
}

static void assert_mailbox(const char *url, const char *expected) {
        char *q = NULL;

        assert_int_equal(imap_mailbox_quoted(url, &q), 0);
        assert_string_equal(q, expected);
        free(q);
}

static void test_mailbox(void **state) {
        char *q = NULL;

        assert_mailbox("imaps://mail.sonha.gov.vn/INBOX", "\"INBOX\"");
        assert_mailbox("imaps://mail.sonha.gov.vn", "\"INBOX\"");
        assert_mailbox("imaps://mail.sonha.gov.vn/", "\"INBOX\"");
        assert_mailbox("imap://127.0.0.1:1143/Tr%E1%BA%A3%20l%E1%BB%9Di", "\"Trả lời\"");
        assert_mailbox("imaps://h/a%22b%5Cc", "\"a\\\"b\\\\c\"");
        /* A line break would end the command and start another. */
        assert_int_equal(imap_mailbox_quoted("imaps://h/a%0D%0AD2%20DELETE%20INBOX", &q), -EINVAL);
        assert_null(q);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_response_lines),
                cmocka_unit_test(test_response_literal),
                cmocka_unit_test(test_mailbox),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
