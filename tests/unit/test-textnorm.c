/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "sonha-candidates.h"
#include "textnorm.h"
#include "utf8.h"

#include <utf8proc.h>

static void test_nfc_composes_decomposed_text(void **state) {
        /* "Sở" with the horn and the hook above as combining marks. */
        _cleanup_free_ char *s = NULL;
        const char *d = "So\xcc\x9b\xcc\x89 Y te\xcc\x82\xcc\x81";
        assert_int_equal(textnorm_nfc(d, strlen(d), &s), 0);
        assert_string_equal(s, "Sở Y tế");
}

static void test_nfc_refuses_invalid_utf8_nul_and_size(void **state) {
        char *s = NULL;
        assert_int_equal(textnorm_nfc("a\xc3(b", 4, &s), -EBADMSG);
        assert_int_equal(textnorm_nfc("ab\0cd", 5, &s), -EBADMSG);
        assert_int_equal(textnorm_nfc("\xed\xa0\x80", 3, &s), -EBADMSG);  /* a surrogate */
        assert_int_equal(textnorm_nfc("x", TEXTNORM_MAX_INPUT + 1, &s), -EFBIG);
        assert_null(s);
        assert_int_equal(textnorm_nfc("", 0, &s), 0);
        assert_string_equal(s, "");
        free(s);
}

static void assert_folds(const char *in, const char *out) {
        _cleanup_free_ char *s = NULL;
        assert_int_equal(textnorm_fold(in, strlen(in), &s), 0);
        assert_string_equal(s, out);
}

static void test_fold_strips_diacritics_and_case(void **state) {
        assert_folds("Sở Kế hoạch và Đầu tư", "so ke hoach va dau tu");
        assert_folds("ĐẮK LẮK", "dak lak");
        assert_folds("đồng", "dong");
        /* Both placements of the tone mark, and decomposed input. */
        assert_folds("Ủy ban", "uy ban");
        assert_folds("Uỷ ban", "uy ban");
        assert_folds("Uy\xcc\x89", "uy");
}

static void test_fold_lumps_dashes_and_quotes(void **state) {
        assert_folds("2025 – 2029", "2025 - 2029");
        assert_folds("“Nhân dân” ‘x’", "\"nhan dan\" 'x'");
}

static void test_word_is_tolerates_ocr_shapes_only(void **state) {
        assert_true(textnorm_word_is("s&", "so"));
        assert_true(textnorm_word_is("sd", "so"));
        assert_true(textnorm_word_is("s6", "so"));
        assert_true(textnorm_word_is("pen", "den"));
        assert_true(textnorm_word_is("1ien", "lien"));
        assert_true(textnorm_word_is("cham", "cham"));
        /* Real words stay apart: "thành" is no "tháng". */
        assert_false(textnorm_word_is("thanh", "thang"));
        assert_false(textnorm_word_is("se", "so"));
        assert_false(textnorm_word_is("dan", "dang"));
}

static void test_tokenize_keeps_source_ranges(void **state) {
        const char *s = "Sở KH&ĐT trình trước ngày 15/5/2025.";
        struct textnorm_tokens t = {};

        assert_int_equal(textnorm_tokenize(s, strlen(s), &t), 0);
        assert_int_equal(t.n, 7);
        assert_string_equal(t.tokens[0].word, "so");
        assert_true(t.tokens[0].upper);
        assert_int_equal(t.tokens[0].end - t.tokens[0].start, strlen("Sở"));
        assert_string_equal(t.tokens[1].word, "kh&dt");
        assert_memory_equal(s + t.tokens[1].start, "KH&ĐT", t.tokens[1].end - t.tokens[1].start);
        assert_string_equal(t.tokens[2].word, "trinh");
        assert_false(t.tokens[2].upper);
        assert_string_equal(t.tokens[5].word, "15/5/2025");
        assert_true(t.tokens[6].punct);
        assert_string_equal(t.tokens[6].word, ".");
        textnorm_tokens_done(&t);
}

static void test_tokenize_numbers_and_dashes(void **state) {
        const char *s = "ngày 15.5.2025, 1,5 tỷ; 2025 - 2029 (2417/UBND-KTTH)";
        struct textnorm_tokens t = {};
        const char *want[] = { "ngay", "15.5.2025", ",", "1,5", "ty", ";", "2025", "-", "2029", "(", "2417/ubnd-ktth", ")" };

        assert_int_equal(textnorm_tokenize(s, strlen(s), &t), 0);
        assert_int_equal(t.n, ELEMENTSOF(want));
        for (size_t i = 0; i < t.n; i++)
                assert_string_equal(t.tokens[i].word, want[i]);
        assert_true(t.tokens[7].punct);
        assert_false(t.tokens[10].punct);
        textnorm_tokens_done(&t);
}

static void test_tokenize_refuses_invalid_utf8(void **state) {
        struct textnorm_tokens t = {};
        assert_int_equal(textnorm_tokenize("ok \xff", 4, &t), -EBADMSG);
        assert_null(t.tokens);
        assert_int_equal(textnorm_tokenize("", 0, &t), 0);
        assert_int_equal(t.n, 0);
        textnorm_tokens_done(&t);
}

static void test_starts_upper(void **state) {
        assert_true(textnorm_starts_upper("Đào", strlen("Đào")));
        assert_false(textnorm_starts_upper("đào", strlen("đào")));
        assert_false(textnorm_starts_upper("1a", 2));
        assert_false(textnorm_starts_upper("", 0));
}

static const char *match_id(const char *mention, double *ret_confidence) {
        struct textnorm_match m;
        assert_int_equal(textnorm_match(sonha_candidates, SONHA_N_CANDIDATES, mention, &m), 0);
        if (ret_confidence)
                *ret_confidence = m.confidence;
        return m.id;
}

static void test_match_names_and_aliases(void **state) {
        assert_string_equal(match_id("Sở Tài chính", NULL), "stc");
        assert_string_equal(match_id("Sở KH&ĐT", NULL), "skhdt");
        assert_string_equal(match_id("VPUB", NULL), "vpubnd");
        assert_string_equal(match_id("UBND các huyện, thị xã, thành phố", NULL), "cachuyen");
}

static void test_match_expands_abbreviations(void **state) {
        assert_string_equal(match_id("Văn phòng Ủy ban nhân dân tỉnh", NULL), "vpubnd");
        assert_string_equal(match_id("VP UBND tỉnh", NULL), "vpubnd");
        assert_string_equal(match_id("Ủy ban nhân dân huyện An Lạc", NULL), "h-anlac");
        assert_string_equal(match_id("SKHĐT", NULL), "skhdt");
        assert_string_equal(match_id("Sở Kế hoạch & Đầu tư", NULL), "skhdt");
        assert_string_equal(match_id("Sở Thông tin và Truyền thông", NULL), "stttt");
        assert_string_equal(match_id("Sở TN&MT", NULL), "stnmt");
}

static void test_match_survives_ocr(void **state) {
        double c;
        assert_string_equal(match_id("S& Tai chinh", NULL), "stc");
        assert_string_equal(match_id("SO Tai chinh", NULL), "stc");
        assert_string_equal(match_id("Sở Tài chinh", NULL), "stc");
        assert_string_equal(match_id("S¢ Noi vu", NULL), "snv");
        assert_string_equal(match_id("Sở Ke hoach va Péau tu", &c), "skhdt");
        assert_true(c < 1.0);
        assert_string_equal(match_id("Sở KH&PT", NULL), "skhdt");
        assert_string_equal(match_id("Kho bac Nha nuoc tinh", NULL), "kbnn");
        assert_string_equal(match_id("Sở Nong nghiep va Phat trien nong thon", NULL), "snnptnt");
        assert_string_equal(match_id("UBND thi xa Pong Phu", NULL), "tx-dongphu");
        assert_string_equal(match_id("Sở Xay dung", NULL), "sxd");
        assert_string_equal(match_id("Sở Tài chính tỉnh", NULL), "stc");
}

static void test_match_unknown_reports_suggestions(void **state) {
        struct textnorm_match m;

        assert_int_equal(textnorm_match(sonha_candidates, SONHA_N_CANDIDATES, "Sở Tư pháp", &m), 0);
        assert_null(m.id);
        assert_true(m.confidence < TEXTNORM_MATCH_THRESHOLD);
        assert_true(m.n_suggestions >= 1);
        for (size_t k = 1; k < m.n_suggestions; k++)
                assert_true(m.suggestions[k - 1].score >= m.suggestions[k].score);

        assert_int_equal(textnorm_match(sonha_candidates, SONHA_N_CANDIDATES, "UBND tỉnh", &m), 0);
        assert_null(m.id);
        assert_int_equal(textnorm_match(sonha_candidates, SONHA_N_CANDIDATES, "Sở Giáo dục và Đào tạo", &m), 0);
        assert_null(m.id);
        assert_int_equal(textnorm_match(sonha_candidates, SONHA_N_CANDIDATES, "", &m), 0);
        assert_null(m.id);
        assert_int_equal(m.n_suggestions, 0);
}

static void test_match_ties_are_not_guessed(void **state) {
        static const char *const a[] = { "Sở Tài chính", NULL };
        static const char *const b[] = { "Sở Tài chánh", NULL };
        const struct textnorm_candidate c[] = { { "a", a }, { "b", b } };
        struct textnorm_match m;

        assert_int_equal(textnorm_match(c, 2, "Sở Tài chinh", &m), 0);
        assert_string_equal(m.id, "a");
        /* One letter from either: no pick, both suggested. */
        assert_int_equal(textnorm_match(c, 2, "Sở Tài chenh", &m), 0);
        assert_null(m.id);
        assert_true(m.confidence >= TEXTNORM_MATCH_THRESHOLD);
        assert_int_equal(m.n_suggestions, 2);
}

static void test_match_suggestion_ids_are_the_callers(void **state) {
        struct textnorm_match m;
        assert_int_equal(textnorm_match(sonha_candidates, SONHA_N_CANDIDATES, "Sở Y tế", &m), 0);
        assert_ptr_equal(m.id, sonha_candidates[10].id);
        assert_ptr_equal(m.suggestions[0].id, m.id);
}

static void test_index_limits(void **state) {
        static const char *const names[] = { "x", NULL };
        const struct textnorm_candidate bad[] = { { NULL, names } };
        _cleanup_free_ struct textnorm_candidate *many = calloc(TEXTNORM_MAX_CANDIDATES + 1, sizeof(*many));
        _cleanup_free_ char *long_name = malloc(TEXTNORM_MAX_NAME + 2);
        const char *long_names[] = { long_name, NULL };
        const struct textnorm_candidate one_long[] = { { "l", long_names } };
        struct textnorm_index *idx = NULL;

        assert_int_equal(textnorm_index_new(bad, 1, &idx), -EINVAL);
        assert_non_null(many);
        for (size_t i = 0; i <= TEXTNORM_MAX_CANDIDATES; i++)
                many[i] = (struct textnorm_candidate) { "x", names };
        assert_int_equal(textnorm_index_new(many, TEXTNORM_MAX_CANDIDATES + 1, &idx), -E2BIG);
        memset(long_name, 'a', TEXTNORM_MAX_NAME + 1);
        long_name[TEXTNORM_MAX_NAME + 1] = 0;
        assert_int_equal(textnorm_index_new(one_long, 1, &idx), -E2BIG);
        assert_null(idx);
        assert_int_equal(textnorm_index_new(NULL, 0, &idx), 0);
        assert_null(textnorm_index_free(idx));
}

static void test_find_mentions_in_clause(void **state) {
        const char *s = "Sở Tài chính chủ trì, phối hợp với Sở Kế hoạch và Đầu tư, Kho bạc Nhà nước "
                        "tỉnh rà soát, tham mưu UBND tỉnh điều chuyển vốn.";
        _cleanup_(textnorm_index_freep) struct textnorm_index *idx = NULL;
        _cleanup_free_ struct textnorm_mention *m = NULL;
        int n;

        assert_int_equal(textnorm_index_new(sonha_candidates, SONHA_N_CANDIDATES, &idx), 0);
        n = textnorm_index_find(idx, s, strlen(s), 0, &m);
        assert_int_equal(n, 3);
        assert_string_equal(m[0].match.id, "stc");
        assert_memory_equal(s + m[0].start, "Sở Tài chính", m[0].end - m[0].start);
        assert_string_equal(m[1].match.id, "skhdt");
        assert_memory_equal(s + m[1].start, "Sở Kế hoạch và Đầu tư", m[1].end - m[1].start);
        assert_string_equal(m[2].match.id, "kbnn");
        /* The trailing "tỉnh" belongs to the mention. */
        assert_memory_equal(s + m[2].start, "Kho bạc Nhà nước tỉnh", m[2].end - m[2].start);
}

static void test_find_unknown_only_when_asked(void **state) {
        const char *s = "Sở Giáo dục và Đào tạo phối hợp với Công an tỉnh; Ban hành Kế hoạch.";
        _cleanup_(textnorm_index_freep) struct textnorm_index *idx = NULL;
        _cleanup_free_ struct textnorm_mention *m = NULL, *none = NULL;

        assert_int_equal(textnorm_index_new(sonha_candidates, SONHA_N_CANDIDATES, &idx), 0);
        assert_int_equal(textnorm_index_find(idx, s, strlen(s), 0, &none), 0);
        assert_null(none);
        /* "Ban hành" is a verb, not the "Ban" of an agency. */
        assert_int_equal(textnorm_index_find(idx, s, strlen(s), TEXTNORM_FIND_UNKNOWN, &m), 2);
        assert_null(m[0].match.id);
        assert_memory_equal(s + m[0].start, "Sở Giáo dục và Đào tạo", m[0].end - m[0].start);
        assert_null(m[1].match.id);
        assert_memory_equal(s + m[1].start, "Công an tỉnh", m[1].end - m[1].start);
}

static void test_find_groups_before_members(void **state) {
        const char *s = "Các sở, ban, ngành và UBND các huyện, thị xã, thành phố rà soát";
        _cleanup_(textnorm_index_freep) struct textnorm_index *idx = NULL;
        _cleanup_free_ struct textnorm_mention *m = NULL;

        assert_int_equal(textnorm_index_new(sonha_candidates, SONHA_N_CANDIDATES, &idx), 0);
        assert_int_equal(textnorm_index_find(idx, s, strlen(s), 0, &m), 2);
        assert_string_equal(m[0].match.id, "cacso");
        assert_string_equal(m[1].match.id, "cachuyen");
}

/* utf8_is_valid() against utf8proc's own reading, on the cases that
 * matter and on random bytes (a bad byte at every place of the eight-byte
 * ASCII step). */
static bool utf8proc_valid(const unsigned char *s, size_t n) {
        for (size_t i = 0; i < n;) {
                utf8proc_int32_t c;
                utf8proc_ssize_t k = utf8proc_iterate(s + i, (utf8proc_ssize_t) (n - i), &c);
                if (k <= 0)
                        return false;
                i += (size_t) k;
        }
        return true;
}

static void test_utf8_is_valid_reads_as_utf8proc_does(void **state) {
        static const char *const good[] = { "", "Sở Tài chính", "hạn 30/06 🙂", "\xef\xbf\xbd", "\xf4\x8f\xbf\xbf" };
        static const char *const bad[] = { "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                                          "\xf8\x88\x80\x80\x80", "\x80", "S\xe1\xbb", "\xff" };
        unsigned char buf[40];
        unsigned seed = 1;

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_true(utf8_is_valid(good[i], strlen(good[i])));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_false(utf8_is_valid(bad[i], strlen(bad[i])));
        /* A NUL is a character; the length, not a terminator, ends it. */
        assert_true(utf8_is_valid("a\0b", 3));
        assert_true(utf8_is_valid("\xe1\xbb\x9f", 3));
        assert_false(utf8_is_valid("\xe1\xbb\x9f", 2));
        for (size_t at = 0; at < 24; at++) {
                memset(buf, 'a', 24);
                buf[at] = 0xbf;
                assert_false(utf8_is_valid((const char *) buf, 24));
                assert_true(utf8_is_valid((const char *) buf, at));
        }
        for (int round = 0; round < 200000; round++) {
                size_t n = (size_t) (rand_r(&seed) % sizeof buf);
                for (size_t i = 0; i < n; i++) {
                        /* Mostly ASCII and the lead and continuation bytes
                         * near the edges of what is allowed. */
                        static const unsigned char pick[] = { 'a', 'a', 'a', 0x80, 0xbf, 0xc2, 0xc1, 0xdf, 0xe0,
                                                              0xed, 0xef, 0xf0, 0xf4, 0xf5, 0x9f, 0xa0, 0x8f, 0x90,
                                                              0xe1, 0xec, 0xee, 0xbb };
                        buf[i] = rand_r(&seed) % 4 ? pick[rand_r(&seed) % sizeof pick] : (unsigned char) rand_r(&seed);
                }
                assert_int_equal(utf8_is_valid((const char *) buf, n), utf8proc_valid(buf, n));
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_utf8_is_valid_reads_as_utf8proc_does),
                cmocka_unit_test(test_nfc_composes_decomposed_text),
                cmocka_unit_test(test_nfc_refuses_invalid_utf8_nul_and_size),
                cmocka_unit_test(test_fold_strips_diacritics_and_case),
                cmocka_unit_test(test_fold_lumps_dashes_and_quotes),
                cmocka_unit_test(test_word_is_tolerates_ocr_shapes_only),
                cmocka_unit_test(test_tokenize_keeps_source_ranges),
                cmocka_unit_test(test_tokenize_numbers_and_dashes),
                cmocka_unit_test(test_tokenize_refuses_invalid_utf8),
                cmocka_unit_test(test_starts_upper),
                cmocka_unit_test(test_match_names_and_aliases),
                cmocka_unit_test(test_match_expands_abbreviations),
                cmocka_unit_test(test_match_survives_ocr),
                cmocka_unit_test(test_match_unknown_reports_suggestions),
                cmocka_unit_test(test_match_ties_are_not_guessed),
                cmocka_unit_test(test_match_suggestion_ids_are_the_callers),
                cmocka_unit_test(test_index_limits),
                cmocka_unit_test(test_find_mentions_in_clause),
                cmocka_unit_test(test_find_unknown_only_when_asked),
                cmocka_unit_test(test_find_groups_before_members),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
