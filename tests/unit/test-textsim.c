/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whether a title or an item's text is the same up to OCR damage. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "textsim.h"

#define SAME(a, b) textsim_same((a), (b), TEXTSIM_OCR_SAME)

static const char clean[] =
        "Sở Tài chính chủ trì, phối hợp với Sở Kế hoạch và Đầu tư, Kho bạc Nhà nước tỉnh rà soát, tham mưu "
        "UBND tỉnh điều chuyển kế hoạch vốn đầu tư công…";
/* The same item from the scan: no diacritics, "Sd" for "Sở", "Péau" for
 * "Đầu"; being shorter in bytes, its 200-byte title reaches further. */
static const char scanned[] =
        "Sd Tai chinh chu trì, phoi hop voi Sở Ke hoach va Péau tu, Kho bac Nha núoc tính rá soat, tham muu "
        "UBND tinh điéu chuyen ké hoach vón dau tư cong nam 2025 cua các du an cham giai ngán;…";

static void test_identical_and_null(void **state) {
        assert_int_equal(SAME("Báo cáo quý", "Báo cáo quý"), 1);
        assert_int_equal(SAME(NULL, NULL), 1);
        assert_int_equal(SAME("Báo cáo", NULL), 0);
        assert_int_equal(SAME(NULL, "Báo cáo"), 0);
        assert_int_equal(SAME("", ""), 1);
        assert_int_equal(SAME("", "Báo cáo"), 0);
}

static void test_diacritics_and_case_do_not_count(void **state) {
        assert_int_equal(SAME("Sở Xây dựng kiểm tra công trình", "SO XAY DUNG KIEM TRA CONG TRINH"), 1);
}

static void test_ocr_copy_of_a_cut_title_is_the_same(void **state) {
        assert_int_equal(SAME(clean, scanned), 1);
        assert_int_equal(SAME(scanned, clean), 1);
}

static void test_a_different_item_is_not_the_same(void **state) {
        assert_int_equal(SAME(clean, "Sở Xây dựng chủ trì, phối hợp với UBND các huyện, thị xã, thành phố "
                                     "kiểm tra công tác quản lý chất lượng các công trình trường học xây mới…"), 0);
        assert_int_equal(SAME("Báo cáo quý I", "Tổng kết năm 2025"), 0);
        /* Short texts are held to the same proportion: one word of three
         * is a change, not a smudge. */
        assert_int_equal(SAME("Kiểm tra trường học", "Kiểm tra bệnh viện"), 0);
}

static void test_a_rewritten_clause_is_a_change(void **state) {
        assert_int_equal(SAME("Sở Tài chính báo cáo UBND tỉnh tình hình giải ngân vốn đầu tư công",
                              "Sở Tài chính trình UBND tỉnh phương án phân bổ vốn đầu tư công"), 0);
}

static void test_a_full_text_against_a_longer_one_is_not_a_prefix(void **state) {
        /* Only a text cut short ("…") may match the beginning of the other. */
        assert_int_equal(SAME("Sở Tài chính chủ trì, phối hợp với Sở Kế hoạch và Đầu tư",
                              "Sở Tài chính chủ trì, phối hợp với Sở Kế hoạch và Đầu tư, Kho bạc Nhà nước tỉnh "
                              "rà soát, tham mưu UBND tỉnh điều chuyển kế hoạch vốn"), 0);
        assert_int_equal(SAME("Sở Tài chính chủ trì, phối hợp với Sở Kế hoạch và Đầu tư…",
                              "Sở Tài chính chủ trì, phối hợp với Sở Kế hoạch và Đầu tư, Kho bạc Nhà nước tỉnh "
                              "rà soát, tham mưu UBND tỉnh điều chuyển kế hoạch vốn"), 1);
}

static void damage(char *s, size_t n, size_t every) {
        for (size_t i = 0; i < n; i += every)
                s[i] = s[i] == 'x' ? 'y' : 'x';
}

static void test_long_texts(void **state) {
        size_t n = 64 * 1024;
        char *a = malloc(n + 1), *b = malloc(n + 1);
        assert_non_null(a);
        assert_non_null(b);
        for (size_t i = 0; i < n; i++)
                a[i] = b[i] = (char) ('a' + (i * 7) % 26);
        a[n] = b[n] = 0;
        /* A long item (8 KiB) a scan smudged every hundredth byte. */
        a[8192] = b[8192] = 0;
        damage(b, 8192, 100);
        assert_int_equal(SAME(a, b), 1);
        damage(b, 8192, 4);
        assert_int_equal(SAME(a, b), 0);
        /* Alike but for the end: cheap however long. */
        a[8192] = b[8192] = 'q';
        memcpy(b, a, n);
        b[n - 1] = '!';
        assert_int_equal(SAME(a, b), 1);
        /* 64 KiB damaged all through would take too long to compare: it
         * counts as different, and fast. */
        damage(b, n, 100);
        assert_int_equal(SAME(a, b), 0);
        free(a);
        free(b);
}

static void test_invalid_utf8(void **state) {
        assert_int_equal(SAME("Báo cáo", "B\xff"), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_identical_and_null),
                cmocka_unit_test(test_diacritics_and_case_do_not_count),
                cmocka_unit_test(test_ocr_copy_of_a_cut_title_is_the_same),
                cmocka_unit_test(test_a_different_item_is_not_the_same),
                cmocka_unit_test(test_a_rewritten_clause_is_a_change),
                cmocka_unit_test(test_a_full_text_against_a_longer_one_is_not_a_prefix),
                cmocka_unit_test(test_long_texts),
                cmocka_unit_test(test_invalid_utf8),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
