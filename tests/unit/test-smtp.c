/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The pure parts of the SMTP client: how a message is put on the wire in
 * the DATA phase, how server text is kept, what replies mean, and when
 * plain text is allowed. The conversation itself is tested against a real
 * server (tests/integration/test_smtp.py). */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "smtp.h"
#include "strbuf.h"

static char *wire(const char *data) {
        struct strbuf b = STRBUF_INIT(1024 * 1024);
        char *s;
        size_t n;

        smtp_data_append(&b, data, strlen(data));
        assert_int_equal(strbuf_steal(&b, &s, &n), 0);
        return s;
}

static void assert_wire(const char *data, const char *expected) {
        char *s = wire(data);
        assert_string_equal(s, expected);
        free(s);
}

static void test_data_ends_with_a_lone_dot(void **state) {
        assert_wire("Subject: x\r\n\r\nbody\r\n", "Subject: x\r\n\r\nbody\r\n.\r\n");
}

static void test_data_without_final_line_end_gets_one(void **state) {
        assert_wire("Subject: x\r\n\r\nbody", "Subject: x\r\n\r\nbody\r\n.\r\n");
}

static void test_empty_data_is_only_the_dot(void **state) {
        assert_wire("", ".\r\n");
}

static void test_a_line_starting_with_a_dot_is_doubled(void **state) {
        assert_wire("a\r\n.\r\n.b\r\n..\r\nc.d\r\n", "a\r\n..\r\n..b\r\n...\r\nc.d\r\n.\r\n");
        assert_wire(".first\r\n", "..first\r\n.\r\n");
}

static void test_bare_line_ends_become_crlf(void **state) {
        /* A bare LF or CR could otherwise hide a "." line from us while
         * a lenient server sees one. */
        assert_wire("a\n.\nb\r.\r\n", "a\r\n..\r\nb\r\n..\r\n.\r\n");
}

static void test_server_text_is_kept_printable(void **state) {
        char buf[16];

        smtp_text_clean(buf, sizeof buf, "250 ok\r\n", 8);
        assert_string_equal(buf, "250 ok");
        smtp_text_clean(buf, sizeof buf, "550 a\x01\x7f\xc3\xa9z", 10);
        assert_string_equal(buf, "550 a    z");
        smtp_text_clean(buf, sizeof buf, "421 a very long reply that is cut", 33);
        assert_string_equal(buf, "421 a very long");
        smtp_text_clean(buf, sizeof buf, "250 one\nSecond: line", 20);
        assert_string_equal(buf, "250 one");
}

static void test_reply_codes_mean_sent_retry_or_fail(void **state) {
        assert_int_equal(smtp_reply_result(250), RESULT_SENT);
        assert_int_equal(smtp_reply_result(354), RESULT_SENT);
        assert_int_equal(smtp_reply_result(421), RESULT_RETRY);
        assert_int_equal(smtp_reply_result(451), RESULT_RETRY);
        assert_int_equal(smtp_reply_result(0), RESULT_RETRY);
        assert_int_equal(smtp_reply_result(550), RESULT_FAIL);
        assert_int_equal(smtp_reply_result(554), RESULT_FAIL);
}

static void test_authentication_replies_are_retried(void **state) {
        /* The set-up is wrong, not the message: an administrator fixes
         * it and the reminders go out after all. */
        assert_int_equal(smtp_message_result(530), RESULT_RETRY);
        assert_int_equal(smtp_message_result(535), RESULT_RETRY);
        assert_int_equal(smtp_message_result(553), RESULT_FAIL);
        assert_int_equal(smtp_message_result(250), RESULT_SENT);
}

static void test_plain_text_needs_asking_and_loopback(void **state) {
        struct smtp s = { .url = (char *) "smtp://127.0.0.1:25" };

        assert_false(smtp_plaintext_allowed(&s));
        s.allow_plaintext = true;
        assert_true(smtp_plaintext_allowed(&s));
        s.url = (char *) "smtp://mail.sonha.gov.vn:587";
        assert_false(smtp_plaintext_allowed(&s));
        s.allow_plaintext_remote = true;
        assert_true(smtp_plaintext_allowed(&s));
        s = (struct smtp) { .url = (char *) "smtp://localhost:25", .allow_plaintext = true };
        assert_true(smtp_plaintext_allowed(&s));
        s.url = (char *) "smtp://127.0.0.1.evil.test:25";
        assert_false(smtp_plaintext_allowed(&s));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_data_ends_with_a_lone_dot),
                cmocka_unit_test(test_data_without_final_line_end_gets_one),
                cmocka_unit_test(test_empty_data_is_only_the_dot),
                cmocka_unit_test(test_a_line_starting_with_a_dot_is_doubled),
                cmocka_unit_test(test_bare_line_ends_become_crlf),
                cmocka_unit_test(test_server_text_is_kept_printable),
                cmocka_unit_test(test_reply_codes_mean_sent_retry_or_fail),
                cmocka_unit_test(test_authentication_replies_are_retried),
                cmocka_unit_test(test_plain_text_needs_asking_and_loopback),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
