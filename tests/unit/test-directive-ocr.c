/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The directive parser on the damage real OCR does (tesseract reading a
 * cheap scan, -l vie and -l eng): markers repaired from their sequence,
 * cue words within an edit distance, specks of punctuation, numerals read
 * as digits, a header without its "Số:". Each damage here was seen in
 * tesseract's output of a scanned directive; whole scanned documents are
 * test-directive-fixtures.c's. */

#include <errno.h>

#include "directive-fixture.h"
#include "textnorm.h"

/* The refs of all tasks, space-separated. */
static void assert_refs(const struct directive *d, const char *refs) {
        char buf[512] = "";
        size_t n = 0;

        for (size_t i = 0; i < d->n_tasks; i++)
                n += (size_t) snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? " " : "", d->tasks[i].ref);
        if (!streq(buf, refs))
                fail_msg("refs \"%s\", expected \"%s\"", buf, refs);
}

static const struct directive_task *task(const struct directive *d, const char *ref) {
        for (size_t i = 0; i < d->n_tasks; i++)
                if (streq(d->tasks[i].ref, ref))
                        return &d->tasks[i];
        fail_msg("no task %s", ref);
        return NULL;
}

static void assert_lead(const char *item, const char *id) {
        _cleanup_(directive_freep) struct directive *d = parse_item(item);
        if (d->n_tasks != 1)
                fail_msg("\"%s\": %zu tasks", item, d->n_tasks);
        if (!d->tasks[0].lead[0] || !streq(d->tasks[0].lead[0], id) || d->tasks[0].lead[1])
                fail_msg("\"%s\": lead %s, expected %s", item, strempty(d->tasks[0].lead[0]), id);
}

/* Markers. */

static void test_a_digit_for_a_letter_is_the_letter_due(void **state) {
        /* "a)" read "4)" inside item 3, whose items close with "." */
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "3. Về chuyển đổi số:\n\n4) Sở Y tế báo cáo trước ngày 15/5/2025.\n\n"
                "b) Sở Nội vụ báo cáo trước ngày 16/5/2025.\n\n"
                "4. Sở Tài chính báo cáo trước ngày 17/5/2025.");
        assert_refs(d, "3.a 3.b 4");
        assert_string_equal(task(d, "3.a")->due, "2025-05-15");
        assert_string_equal(task(d, "4")->due, "2025-05-17");
}

static void test_a_glyph_for_a_letter_is_the_letter_due(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế:\na) Việc một.\nb) Việc hai.\n©) Việc ba.\nd) Việc bốn.\nd) Việc năm.\ne) Việc sáu.");
        _cleanup_(directive_freep) struct directive *cent = parse_item(
                "1. Sở Y tế:\na) Việc một.\nb) Việc hai.\n¢) Việc ba.\nä) Việc bốn.");
        _cleanup_(directive_freep) struct directive *misread = parse_item(
                "1. Sở Y tế:\na) Việc một.\nb) Việc hai.\ne) Việc ba.\nd) Việc bốn.");

        assert_refs(d, "1.a 1.b 1.c 1.d 1.đ 1.e");
        assert_refs(cent, "1.a 1.b 1.c 1.d");
        /* "e)" where "c)" is due: a misread c. */
        assert_refs(misread, "1.a 1.b 1.c 1.d");
}

static void test_a_lost_letter_keeps_the_next_ones(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế:\na) Việc một.\nb) Việc hai.\nd) Việc bốn.\nđ) Việc năm.");
        assert_refs(d, "1.a 1.b 1.d 1.đ");
}

static void test_marker_punctuation_ocr_adds(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế báo cáo trước ngày 15/5/2025.\n\n"
                "- 2.Sở Nội vụ báo cáo trước ngày 16/5/2025.\n\n"
                "3..Về chuyển đổi số:\n\n"
                "-a) Sở Tài chính báo cáo trước ngày 17/5/2025.\n\n"
                "b}:Sở Xây dựng báo cáo trước ngày 18/5/2025.\n\n"
                "4: Sở Tài chính báo cáo trước ngày 19/5/2025.\n\n"
                "S. Sở Nội vụ báo cáo trước ngày 20/5/2025.\n\n"
                "’ 6, Sở Y tế báo cáo trước ngày 21/5/2025.");
        assert_refs(d, "1 2 3.a 3.b 4 5 6");
        assert_string_equal(task(d, "2")->due, "2025-05-16");
        assert_string_equal(task(d, "3.b")->lead[0], "sxd");
        assert_string_equal(task(d, "5")->lead[0], "snv");
        assert_string_equal(task(d, "6")->due, "2025-05-21");
}

static void test_lost_or_merged_numbers(void **state) {
        /* "5. Sở Tài nguyên" read "5.86 Tai nguyén"; item 3's number lost. */
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế báo cáo trước ngày 15/5/2025.\n\n"
                "2 Sở Nội vụ báo cáo trước ngày 16/5/2025.\n\n"
                "3. Sở Tài chính báo cáo trước ngày 17/5/2025.\n\n"
                "4.86 Tai nguyen va Moi truong bao cao truoc ngay 18/5/2025.");
        assert_refs(d, "1 3 4");
        assert_string_equal(task(d, "4")->lead[0], "stnmt");
        assert_string_equal(task(d, "4")->due, "2025-05-18");
}

static void test_a_misread_number_is_the_one_due_before_the_next(void **state) {
        /* "3." read "4,": the next paragraph is "4.", so this one is 3;
         * "5." read "9S." likewise. */
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế báo cáo trước ngày 15/5/2025.\n\n"
                "2. Sở Nội vụ báo cáo trước ngày 16/5/2025.\n\n"
                "4, Sở Tài chính báo cáo trước ngày 17/5/2025.\n\n"
                "4. Sở Xây dựng báo cáo trước ngày 18/5/2025.\n\n"
                "9S. Sở Y tế báo cáo trước ngày 19/5/2025.\n\n"
                "6. Sở Nội vụ báo cáo trước ngày 20/5/2025.");
        assert_refs(d, "1 2 3 4 5 6");
        assert_string_equal(task(d, "3")->lead[0], "stc");
        assert_string_equal(task(d, "5")->due, "2025-05-19");
}

static void test_sub_item_letter_with_a_speck(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế:\na) Việc một.\nb) Việc hai.\ncơ) Việc ba.\nd) Việc bốn.");
        /* Outside open sub-items, "vụ)" ending a line is text. */
        _cleanup_(directive_freep) struct directive *text = parse_item(
                "1. Sở Y tế báo cáo (qua Sở Nội\nvụ) trước ngày 15/5/2025.");
        assert_refs(d, "1.a 1.b 1.c 1.d");
        assert_refs(text, "1");
        assert_string_equal(text->tasks[0].due, "2025-05-15");
}

static void test_letters_past_the_vietnamese_order(void **state) {
        /* "f" follows "e" in ASCII order only. */
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế chủ trì:\na) Một.\nb) Hai.\nc) Ba.\nd) Bốn.\ne) Năm.\nf) Sáu.");
        assert_refs(d, "1.a 1.b 1.c 1.d 1.e 1.g");
}

static void test_part_letters_are_no_item_numbers(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "I. NHIỆM VỤ CHUNG\n\n1. Sở Y tế báo cáo trước ngày 15/5/2025.\n\n"
                "2. Sở Nội vụ báo cáo trước ngày 16/5/2025.\n\n3. Sở Tài chính báo cáo trước ngày 17/5/2025.\n\n"
                "II. NHIỆM VỤ CỤ THỂ\n\nA. Lĩnh vực kinh tế\n\n4. Sở Xây dựng theo dõi.");
        assert_refs(d, "1 2 3 4");
        assert_string_equal(task(d, "4")->lead[0], "sxd");
}

static void test_a_sentence_cut_twice_alike_is_no_running_head(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế rà soát, báo cáo UBND tỉnh trước\n\fngày 30/6/2025.\n\n"
                "2. Sở Nội vụ rà soát, báo cáo UBND tỉnh trước\n\fngày 31/7/2025.");
        _cleanup_(directive_freep) struct directive *rows = parse_item(
                "1. Sở Y tế lập bảng:\n1\n2\n3\ncác chỉ tiêu, báo cáo trước ngày 30/6/2025.");
        assert_string_equal(d->tasks[0].due, "2025-06-30");
        assert_string_equal(d->tasks[1].due, "2025-07-31");
        /* A table's row numbers are no page numbers. */
        assert_int_equal(rows->tasks[0].page, 1);
}

static void test_a_number_is_no_reference_word(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế hỗ trợ 50\n2. Sở Nội vụ báo cáo trước ngày 16/5/2025.");
        assert_refs(d, "1 2");
}

static void test_repairs_need_the_sequence(void **state) {
        /* Only the next number is taken from a shape or a comma, and a
         * comma only before a capital. */
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế báo cáo trước ngày 15/5/2025 về\n"
                "B. nội dung khác.\n\n"
                "2, các nội dung khác.\n\n"
                "7, Sở Nội vụ báo cáo.");
        assert_refs(d, "1");
        assert_string_equal(d->tasks[0].due, "2025-05-15");
}

static void test_a_page_break_does_not_end_a_sentence(void **state) {
        /* The next page starts with a capital ("Sơn Hà"), a speck or a
         * page number OCR read as a letter ("Z" for "2"). */
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế chủ trì, phối hợp với UBND thành phố\n\f2\n\n"
                "Sơn Hà tổ chức tiêm chủng; hoàn thành trước ngày 15/5/2025.\n\n"
                "2. Sở Nội vụ rà soát hồ sơ\n\fZ\n\nđiều chỉnh, trình trước ngày 16/5/2025.\n\n"
                "3. Sở Tài chính tổng hợp, gửi kết quả về Văn\n\n\f. phòng UBND tỉnh trước ngày 17/5/2025.");
        assert_refs(d, "1 2 3");
        assert_string_equal(d->tasks[0].support[0], "tp-sonha");
        assert_string_equal(d->tasks[0].due, "2025-05-15");
        assert_string_equal(d->tasks[1].due, "2025-05-16");
        assert_string_equal(d->tasks[2].due, "2025-05-17");
}

static void test_page_furniture_is_not_text(void **state) {
        /* A deadline broken across pages, by a page number, a running head
         * (on three pages) and blank lines. */
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế kiểm tra, báo cáo\n\f"
                "Công văn số 100/UBND-TH, trang 2\n— 2 —\n\ntrước ngày 15/5/2025.\n\n"
                "2. Sở Nội vụ rà soát, báo cáo trước\n\f"
                "Công văn số 100/UBND-TH, trang 3\n\n-3-\n\nngày 16/5/2025.\n\n"
                "3. Sở Tài chính tổng hợp, báo cáo\n\f"
                "Công văn số 100/UBND-TH, trang 4\n\ntrước ngày 17/5/2025.");
        assert_refs(d, "1 2 3");
        assert_string_equal(d->tasks[2].text, "Sở Tài chính tổng hợp, báo cáo trước ngày 17/5/2025.");
        assert_string_equal(d->tasks[0].text, "Sở Y tế kiểm tra, báo cáo trước ngày 15/5/2025.");
        assert_string_equal(d->tasks[0].due, "2025-05-15");
        assert_string_equal(d->tasks[1].due, "2025-05-16");
        assert_int_equal(d->tasks[1].page, 2);
}

/* Words. */

static void test_cue_words_within_an_edit_distance(void **state) {
        /* tesseract -l eng on "hoàn thành trước ngày 15/5/2025", "trước
         * ngày 20 tháng 6 năm 2025", "chậm nhất ngày", "trước 17 giờ". */
        assert_due("1. Sở Y tế hoan thanb truve ngay 15/5/2025.", "2025-05-15");
        assert_due("1. Sở Y tế bao cao traor ngay 20 thang 6 ndm 2025.", "2025-06-20");
        assert_due("1. Sở Y tế trinh cham nbat ngay 10/8/2025.", "2025-08-10");
        assert_due("1. Sở Y tế bdo cdo trude 17 gio ngay 20/11/2025.", "2025-11-20T17:00");
        assert_due("1. Sở Y tế bao cao truéc ngay 14 thang 11 ndém 2025.", "2025-11-14");
        assert_due("1. Sở Y tế trinh trong thoi han-15 ngay ke tu ngay ky.", "2025-04-23");
}

static void test_roman_numerals_read_as_digits(void **state) {
        assert_due("1. Sở Y tế hoàn thành trong Quý I11/2025.", "2025-09-30");
        assert_due("1. Sở Y tế hoan thanh trong Quy 11/2025.", "2025-06-30");
        assert_due("1. Sở Y tế hoan thanh trong Quy ITI/2025.", "2025-09-30");
        assert_due("1. Sở Y tế hoan thanh trong Quy I[/2025.", "2025-06-30");
        assert_due("1. Sở Y tế hoan thanh trong Quy I]/2025.", "2025-06-30");
        /* "H" is two strokes joined, or one with a speck. */
        assert_due("1. Sở Y tế hoàn thành trong Quý H/2025.", "2025-06-30");
        assert_due("1. Sở Y tế hoàn thành trong Quý IH/2025.", "2025-09-30");
        assert_due("1. Sở Y tế hoàn thành trong Quý IH1/2025.", "2025-09-30");
        /* A year cut short that begins the document's is the document's. */
        assert_due("1. Sở Y tế hoàn thành trong Quý\n\fIII/202.", "2025-09-30");
        assert_due("1. Sở Y tế hoàn thành trong Quý III/203.", NULL);
}

static void test_no_deadline_is_invented(void **state) {
        /* Words near a cue with no date, a real word two edits from one
         * ("trường"), a date no cue governs. */
        assert_due("1. Sở Y tế kiểm tra các trường ngày 15/5/2025 khai giảng.", NULL);
        assert_due("1. Sở Y tế truve nay, thanb tra.", NULL);
        assert_due("1. Sở Y tế kiểm tra, đôn đốc theo Công văn số 12/UBND ngày 20/4/2025.", NULL);
        /* Real words a cue word's edit distance away: "trực", "trường",
         * "trung", "thuộc" are no "trước" or "trong". */
        assert_due("1. Sở Y tế duy trì chế độ trực 24/7.", NULL);
        assert_due("1. Sở Y tế phân công trực ngày 30/4/2025.", NULL);
        assert_due("1. Sở Y tế bảo vệ môi trường năm 2026.", NULL);
        assert_due("1. Sở Y tế kiểm soát thị trường quý III/2025.", NULL);
        assert_due("1. Sở Y tế tập trung 30/6.", NULL);
        assert_due("1. Sở Y tế thực hiện nhiệm vụ thuộc 15/8/2025.", NULL);
        /* … unless a completion verb and "ngày" frame it. */
        assert_due("1. Sở Y tế hoan thanh truc ngay 15/5/2025.", "2025-05-15");
        /* A year OCR misread decades ahead. */
        assert_due("1. Sở Y tế hoàn thành trước ngày 31/3/2825.", NULL);
        assert_due("1. Sở Y tế hoàn thành trước ngày 31/12/2030.", "2030-12-31");
}

static void test_specks_of_punctuation_are_taken_out(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở:'Nông nghiệp và Phát triển nông thôn chủ trì, phối .hợp với Sở Y tế báo\n"
                "cáo trước ngày\n:05/7/2025.");
        assert_string_equal(d->tasks[0].lead[0], "snnptnt");
        assert_string_equal(d->tasks[0].support[0], "syt");
        assert_string_equal(d->tasks[0].due, "2025-07-05");
        /* The text stays as the scan has it. */
        assert_string_equal(d->tasks[0].text, "Sở:'Nông nghiệp và Phát triển nông thôn chủ trì, phối .hợp với "
                                              "Sở Y tế báo cáo trước ngày :05/7/2025.");
        assert_lead("1. So.Théng tin va Truyén thong cha tri.", "stttt");
        assert_lead("1. So-Néng nghiép.va Phat trién néng thon-chd tri.", "snnptnt");
        assert_lead("1. So Xay. dung chil tri.", "sxd");
        assert_lead("1. Sở Xây dựng chủ trì theo QĐ-UBND.", "sxd");
        {
                /* Clean text keeps every character: hyphens after a capital,
                 * quotes, abbreviations. */
                static const char clean[] = "Sở Y tế chủ trì triển khai ‘Năm chuyển đổi số’ theo Quyết định số "
                                            "12/QĐ-UBND, phòng chống Covid-19; TP.Sơn Hà hoàn thành trước ngày 15/5/2025.";
                _cleanup_free_ char *item = NULL;
                _cleanup_(directive_freep) struct directive *c = NULL;
                assert_true(asprintf(&item, "1. %s", clean) > 0);
                c = parse_item(item);
                assert_string_equal(c->tasks[0].text, clean);
                assert_string_equal(c->tasks[0].due, "2025-05-15");
        }
        /* A space lost between "Sở" and "Y tế". */
        assert_lead("1. SởY tế chủ trì kiểm tra.", "syt");
        assert_lead("1. SOY té cht tri kiém tra.", "syt");
        assert_lead("1. Thủ trưởng các sở, ban, ngành tỉnh quán triệt.", "cacso");
}

static void test_word_near_is_bounded(void **state) {
        assert_true(textnorm_word_near("thanb", "thanh"));
        assert_true(textnorm_word_near("nbat", "nhat"));
        assert_true(textnorm_word_near("ndm", "nam"));
        assert_true(textnorm_word_near("truoc", "truoc"));
        /* Short words take confusions only; the first letter must hold. */
        assert_false(textnorm_word_near("nay", "nam"));
        assert_false(textnorm_word_near("dan", "den"));
        assert_false(textnorm_word_near("kruoc", "truoc"));
        assert_false(textnorm_word_near("truong", "truoc"));
        assert_false(textnorm_word_near("trong", "truoc"));
        assert_false(textnorm_word_near("ngoai", "ngay"));
        assert_false(textnorm_word_near("", "nam"));
        assert_false(textnorm_word_near(NULL, "nam"));
}

/* The header. */

static void test_number_without_so_or_with_specks(void **state) {
        _cleanup_(directive_freep) struct directive *specks = parse_ok(
                "UY BAN NHAN DAN CONG HOA XA HOI CHU NGHIA VIET NAM\n"
                "S6:.356/TB-UBND Son Ha, ngay 14 thang 11 ndém 2025\n\nTHONG BAO\nKet luan\n\n"
                "1. Sở Y tế báo cáo trong thời hạn 10 ngày kể từ ngày ký.");
        _cleanup_(directive_freep) struct directive *lost = parse_ok(
                "UY BAN NHAN DAN CONG HOA XA HOI CHU NGHIA VIET NAM\n"
                "TINH SON HA Doc lap - Tu do - Hanh phuc\n"
                "356/TB-UBND Son Ha, ngay 14 thang 11 nam 2025\n\nTHONG BAO\nKet luan\n\n"
                "Thực hiện Thông báo số 118/TB-UBND ngày 02/4/2025.\n\n"
                "1. Sở Y tế báo cáo.");
        _cleanup_(directive_freep) struct directive *none = parse_ok(
                "UY BAN NHAN DAN CONG HOA XA HOI CHU NGHIA VIET NAM\n\nTHONG BAO\nKet luan\n\n"
                "Thực hiện Thông báo số 118/TB-UBND ngày 02/4/2025, yêu cầu:\n\n"
                "1. Sở Y tế báo cáo.");

        assert_string_equal(specks->number, "356/TB-UBND");
        assert_string_equal(specks->issued_on, "2025-11-14");
        assert_string_equal(specks->tasks[0].due, "2025-11-24");
        assert_string_equal(lost->number, "356/TB-UBND");
        /* A number cited in the text is not the document's. */
        assert_null(none->number);
}

static void test_addressees_through_ocr(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_ok(
                "UY BAN NHAN DAN CONG HOA XA HOI CHU NGHIA VIET NAM\n"
                "S06: 1045/UBND-VX Son Ha, ngay 08 thang 9 nam 2025\nV/v an sinh\n\n"
                "Kinh gt:\n- SOY té;\n° ĐƠ Tài chính;\n_~ UBND thành phố Sơn Hà; ˆ\n- UBND thi x Dong Phu.\n\n"
                "1. Đề nghị các cơ quan, đơn vị báo cáo trước ngày 15/10/2025.");
        assert_string_equal(d->number, "1045/UBND-VX");
        assert_non_null(d->addressees);
        assert_true(strv_contains(d->addressees, "syt"));
        assert_true(strv_contains(d->addressees, "tp-sonha"));
        assert_true(d->tasks[0].flags & DIRECTIVE_TASK_ADDRESSEES);
        assert_true(strv_contains(d->tasks[0].lead, "syt"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_a_digit_for_a_letter_is_the_letter_due),
                cmocka_unit_test(test_a_glyph_for_a_letter_is_the_letter_due),
                cmocka_unit_test(test_a_lost_letter_keeps_the_next_ones),
                cmocka_unit_test(test_marker_punctuation_ocr_adds),
                cmocka_unit_test(test_lost_or_merged_numbers),
                cmocka_unit_test(test_a_misread_number_is_the_one_due_before_the_next),
                cmocka_unit_test(test_sub_item_letter_with_a_speck),
                cmocka_unit_test(test_letters_past_the_vietnamese_order),
                cmocka_unit_test(test_part_letters_are_no_item_numbers),
                cmocka_unit_test(test_a_sentence_cut_twice_alike_is_no_running_head),
                cmocka_unit_test(test_a_number_is_no_reference_word),
                cmocka_unit_test(test_repairs_need_the_sequence),
                cmocka_unit_test(test_a_page_break_does_not_end_a_sentence),
                cmocka_unit_test(test_page_furniture_is_not_text),
                cmocka_unit_test(test_cue_words_within_an_edit_distance),
                cmocka_unit_test(test_roman_numerals_read_as_digits),
                cmocka_unit_test(test_no_deadline_is_invented),
                cmocka_unit_test(test_specks_of_punctuation_are_taken_out),
                cmocka_unit_test(test_word_near_is_bounded),
                cmocka_unit_test(test_number_without_so_or_with_specks),
                cmocka_unit_test(test_addressees_through_ocr),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
