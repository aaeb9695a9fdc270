/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The directive parser, one behaviour at a time, on small documents built
 * here. Whole documents are test-directive-fixtures.c's. */

#include <errno.h>
#include <time.h>

#include "directive-fixture.h"

static void assert_ids(char *const *actual, const char *expected) {
        char buf[256], *save = NULL;
        size_t n = 0;

        snprintf(buf, sizeof(buf), "%s", expected);
        for (char *w = strtok_r(buf, " ", &save); w; w = strtok_r(NULL, " ", &save), n++) {
                if (!actual[n])
                        fail_msg("missing %s", w);
                assert_string_equal(actual[n], w);
        }
        assert_null(actual[n]);
}

/* Deadlines. */

static void test_deadline_truoc_ngay(void **state) {
        assert_due("1. Sở Tài chính rà soát; hoàn thành trước ngày 15/5/2025.", "2025-05-15");
        assert_due("1. Sở Tài chính rà soát, xong trước 15/5/2025.", "2025-05-15");
}

static void test_deadline_cham_nhat_and_den_ngay(void **state) {
        assert_due("1. Sở Tài chính trình UBND tỉnh chậm nhất ngày 10/8/2025.", "2025-08-10");
        assert_due("1. Sở Tài chính trình UBND tỉnh chậm nhất là ngày 10/8/2025.", "2025-08-10");
        assert_due("1. Sở Tài chính thực hiện, hoàn thành đến ngày 31/7/2025.", "2025-07-31");
}

static void test_deadline_in_words(void **state) {
        assert_due("1. Sở Xây dựng báo cáo kết quả trước ngày 20 tháng 6 năm 2025.", "2025-06-20");
        assert_due("1. Sở Xây dựng báo cáo kết quả trước ngày 20 tháng 6.", "2025-06-20");
}

static void test_deadline_month_quarter_year_ends(void **state) {
        assert_due("1. Sở Y tế hoàn thành trong tháng 7/2025.", "2025-07-31");
        assert_due("1. Sở Y tế hoàn thành trong tháng 2 năm 2028.", "2028-02-29");
        assert_due("1. Sở Y tế hoàn thành trong Quý III/2025.", "2025-09-30");
        assert_due("1. Sở Y tế hoàn thành trong quý 4/2025.", "2025-12-31");
        assert_due("1. Sở Y tế hoàn thành trong Quý I năm 2026.", "2026-03-31");
        assert_due("1. Sở Y tế hoàn thành trong Quý IV.", "2025-12-31");
        assert_due("1. Sở Y tế hoàn thành trong năm 2025.", "2025-12-31");
        assert_due("1. Sở Y tế hoàn thành trong năm.", "2025-12-31");
        assert_due("1. Sở Y tế hoàn thành trong 6 tháng đầu năm 2025.", "2025-06-30");
}

static void test_deadline_without_year_takes_documents(void **state) {
        assert_due("1. Sở Nội vụ hoàn thành trước ngày 30/9.", "2025-09-30");
        /* Before the document's date in its year: the next year's. */
        assert_due("1. Sở Nội vụ hoàn thành trước ngày 15/01.", "2026-01-15");
}

static void test_deadline_counted_from_signing(void **state) {
        assert_due("1. Sở Tài nguyên và Môi trường trình UBND tỉnh trong thời hạn 15 ngày kể từ ngày ký văn bản này.",
                   "2025-04-23");
        /* Tuesday + 5 working days: Wed, Thu, Fri, Mon, Tue. */
        assert_due("1. Sở Y tế báo cáo trong thời hạn 5 ngày làm việc kể từ ngày ký.", "2025-04-15");
}

/* A deadline in working days carries its rule, for the importer to count
 * again on the configured calendar; one in calendar days carries none. */
static void test_deadline_in_working_days_keeps_its_rule(void **state) {
        _cleanup_(directive_freep) struct directive *d =
                parse_item("1. Sở Y tế báo cáo trong thời hạn 5 ngày làm việc kể từ ngày ký.");
        _cleanup_(directive_freep) struct directive *e =
                parse_item("1. Sở Y tế báo cáo trong thời hạn 15 ngày kể từ ngày ký.");
        _cleanup_(directive_freep) struct directive *f =
                parse_item("1. Sở Y tế báo cáo trước ngày 30/6/2025.");

        assert_int_equal(only_task(d)->due_workdays, 5);
        assert_int_equal(only_task(d)->due_workdays_from, days_from_civil(2025, 4, 8));
        assert_int_equal(only_task(e)->due_workdays, 0);
        assert_int_equal(only_task(f)->due_workdays, 0);
}

static void test_deadline_time_of_day(void **state) {
        _cleanup_(directive_freep) struct directive *d =
                parse_item("1. Sở Tài chính báo cáo trước 17 giờ 30 ngày 20/5/2025.");
        const struct directive_task *t = only_task(d);
        assert_string_equal(t->due, "2025-05-20T17:30");
        assert_int_equal(t->due_parsed.minute, 17 * 60 + 30);
        assert_due("1. Sở Tài chính báo cáo trước 9h ngày 20/5/2025.", "2025-05-20T09:00");
}

static void test_deadline_labelled(void **state) {
        assert_due("1. Sở Y tế rà soát danh mục thuốc. Thời hạn: 30/6/2025.", "2025-06-30");
        assert_due("1. Sở Y tế rà soát danh mục thuốc; thời gian hoàn thành: Quý IV/2025.", "2025-12-31");
}

static void test_deadline_monthly_is_recurrence_without_due(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Thông tin và Truyền thông định kỳ hằng tháng tổng hợp, báo cáo UBND tỉnh trước ngày 25.");
        const struct directive_task *t = only_task(d);
        assert_null(t->due);
        assert_string_equal(t->recurrence, "monthly:25");
        assert_int_equal(t->flags, 0);
}

static void test_deadline_other_periods_are_flagged_not_invented(void **state) {
        _cleanup_(directive_freep) struct directive *d =
                parse_item("1. Văn phòng UBND tỉnh định kỳ hằng quý tổng hợp, báo cáo Chủ tịch UBND tỉnh.");
        const struct directive_task *t = only_task(d);
        assert_null(t->due);
        assert_null(t->recurrence);
        assert_int_equal(t->flags, DIRECTIVE_TASK_PERIODIC | DIRECTIVE_TASK_NO_DEADLINE);
}

static void test_deadline_thuong_xuyen_is_ongoing(void **state) {
        _cleanup_(directive_freep) struct directive *d =
                parse_item("1. Sở Y tế kiểm tra an toàn thực phẩm; thực hiện thường xuyên.");
        const struct directive_task *t = only_task(d);
        assert_null(t->due);
        assert_int_equal(t->flags, DIRECTIVE_TASK_ONGOING | DIRECTIVE_TASK_NO_DEADLINE);
}

static void test_deadline_none_is_flagged(void **state) {
        _cleanup_(directive_freep) struct directive *d =
                parse_item("1. Sở Y tế tiếp tục chỉ đạo các cơ sở khám bệnh nâng cao chất lượng dịch vụ.");
        const struct directive_task *t = only_task(d);
        assert_null(t->due);
        assert_null(t->recurrence);
        assert_int_equal(t->flags, DIRECTIVE_TASK_NO_DEADLINE);
}

static void test_deadline_ignores_cited_document_dates(void **state) {
        _cleanup_(directive_freep) struct directive *d = NULL;

        assert_due("1. Thực hiện Quyết định số 117/QĐ-UBND ngày 14/02/2023, Sở Xây dựng rà soát; hoàn thành trước "
                   "ngày 30/6/2025.", "2025-06-30");
        /* Not because the cited date is old: without any document date
         * the cited one is still no deadline. */
        d = parse_ok("1. Sở Xây dựng rà soát theo Quyết định số 117/QĐ-UBND ngày 14/02/2026 và Công văn số "
                     "5/UBND ngày 01/3/2026.\n");
        assert_null(only_task(d)->due);
}

static void test_deadline_cutoffs_are_not_deadlines_and_periods_weak(void **state) {
        assert_due("1. Sở Tài chính tổng hợp số liệu tính đến ngày 31/10/2025.", NULL);
        assert_due("1. Sở Tài chính tổng hợp số liệu tính đến ngày 31/10/2025; báo cáo trước ngày 20/11/2025.",
                   "2025-11-20");
        /* A period's end is the deadline only when nothing else is. */
        assert_due("1. Sở Y tế thử nghiệm từ ngày 01/6/2025 đến ngày 30/6/2025.", "2025-06-30");
        assert_due("1. Sở Y tế thử nghiệm từ ngày 01/6/2025 đến ngày 30/6/2025, đưa vào vận hành trong tháng "
                   "9/2025.", "2025-09-30");
}

static void test_deadline_first_governed_date_is_taken_and_flagged(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Tài chính báo cáo UBND tỉnh trước ngày 15/6/2025 để tổng hợp, báo cáo Thủ tướng Chính "
                "phủ trước ngày 30/6/2025.");
        const struct directive_task *t = only_task(d);
        assert_string_equal(t->due, "2025-06-15");
        assert_int_equal(t->flags, DIRECTIVE_TASK_SEVERAL_DATES);
}

static void test_deadline_invalid_dates_are_ignored(void **state) {
        assert_due("1. Sở Y tế hoàn thành trước ngày 31/2/2025.", NULL);
        assert_due("1. Sở Y tế hoàn thành trước ngày 15/13/2025.", NULL);
        assert_due("1. Sở Y tế hoàn thành trong Quý V/2025.", NULL);
        assert_due("1. Sở Y tế hoàn thành trước ngày 15/5/20255.", NULL);
}

static void test_deadline_ocr_digits(void **state) {
        assert_due("1. Sd Y te hoan thanh truoc ngay l5/5/2O25.", "2025-05-15");
        assert_due("1. Sd Y te hoan thanh trong Quy IlI/2025.", "2025-09-30");
}

static void test_deadline_relative_needs_document_date(void **state) {
        _cleanup_(directive_freep) struct directive *d =
                parse_ok("1. Sở Y tế báo cáo trong thời hạn 15 ngày kể từ ngày ký.\n");
        const struct directive_task *t = only_task(d);
        assert_null(t->due);
        assert_true(t->flags & DIRECTIVE_TASK_NEEDS_DATE);
        assert_true(t->flags & DIRECTIVE_TASK_NO_DEADLINE);
}

/* Roles. */

static void test_lead_chu_tri_support_phoi_hop(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Tài chính chủ trì, phối hợp với Sở Kế hoạch và Đầu tư, Kho bạc Nhà nước tỉnh rà soát, "
                "tham mưu UBND tỉnh điều chuyển vốn.");
        const struct directive_task *t = only_task(d);
        assert_ids(t->lead, "stc");
        assert_ids(t->support, "skhdt kbnn");
        assert_int_equal(t->n_mentions, 3);
        assert_string_equal(t->mentions[1].text, "Sở Kế hoạch và Đầu tư");
        assert_int_equal(t->mentions[1].role, DIRECTIVE_SUPPORT);
}

static void test_lead_subject_of_item(void **state) {
        _cleanup_(directive_freep) struct directive *d =
                parse_item("1. Sở Xây dựng khẩn trương kiểm tra các công trình trường học.");
        assert_ids(only_task(d)->lead, "sxd");
        assert_ids(only_task(d)->support, "");
}

static void test_lead_giao_do_chu_tri(void **state) {
        _cleanup_(directive_freep) struct directive *a =
                parse_item("1. Giao Sở Tài chính chủ trì, phối hợp với Sở Xây dựng thẩm định dự án.");
        _cleanup_(directive_freep) struct directive *b =
                parse_item("1. Xây dựng đề án vị trí việc làm do Sở Nội vụ chủ trì, với sự phối hợp của Sở Tài chính.");
        _cleanup_(directive_freep) struct directive *c =
                parse_item("1. UBND tỉnh giao Sở Xây dựng thẩm định thiết kế các công trình.");
        assert_ids(only_task(a)->lead, "stc");
        assert_ids(only_task(a)->support, "sxd");
        assert_ids(only_task(b)->lead, "snv");
        assert_ids(only_task(b)->support, "stc");
        /* The issuer who assigns is no lead. */
        assert_ids(only_task(c)->lead, "sxd");
        assert_int_equal(only_task(c)->flags & DIRECTIVE_TASK_UNMATCHED, 0);
}

static void test_lead_from_heading(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "6. Sở Kế hoạch và Đầu tư:\n\n"
                "a) Chủ trì thẩm định các dự án, trình UBND tỉnh chậm nhất ngày 15/4/2025.\n\n"
                "b) Phối hợp với Sở Tài chính bố trí vốn; hoàn thành trong Quý IV.\n\n"
                "c) Sở Xây dựng chủ trì kiểm tra hồ sơ thiết kế.");
        assert_int_equal(d->n_tasks, 3);
        assert_string_equal(d->tasks[0].ref, "6.a");
        assert_ids(d->tasks[0].lead, "skhdt");
        assert_string_equal(d->tasks[0].heading, "Sở Kế hoạch và Đầu tư:");
        assert_ids(d->tasks[1].lead, "skhdt");
        assert_ids(d->tasks[1].support, "stc");
        /* A sub-item naming its own lead keeps it. */
        assert_ids(d->tasks[2].lead, "sxd");
}

static void test_heading_lends_partners_and_deadline(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "2. Sở Y tế chủ trì, phối hợp với Sở Tài chính thực hiện, hoàn thành trước ngày 30/6/2025:\n"
                "a) Mua sắm trang thiết bị y tế;\n"
                "b) Đào tạo nhân lực, hoàn thành trong tháng 9/2025.");
        assert_int_equal(d->n_tasks, 2);
        assert_ids(d->tasks[0].lead, "syt");
        assert_ids(d->tasks[0].support, "stc");
        assert_string_equal(d->tasks[0].due, "2025-06-30");
        assert_string_equal(d->tasks[1].due, "2025-09-30");
}

static void test_cac_co_quan_lien_quan_names_nobody(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "7. Sở Nội vụ chủ trì, phối hợp với các cơ quan, đơn vị có liên quan tham mưu UBND tỉnh; hoàn "
                "thành trước ngày 30/9.");
        const struct directive_task *t = only_task(d);
        assert_ids(t->lead, "snv");
        assert_ids(t->support, "");
        assert_int_equal(t->n_mentions, 1);
        assert_int_equal(t->flags, 0);
}

static void test_groups_are_candidates(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Các sở, ban, ngành và UBND các huyện, thị xã, thành phố rà soát thủ tục hành chính.");
        assert_ids(only_task(d)->lead, "cacso cachuyen");
}

static void test_unknown_agency_is_reported_with_suggestions(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "5. Sở Giáo dục và Đào tạo chủ trì, phối hợp với Sở Y tế kiểm tra y tế trường học.");
        const struct directive_task *t = only_task(d);
        const struct directive_mention *m = &t->mentions[0];
        assert_ids(t->lead, "");
        assert_ids(t->support, "syt");
        assert_int_equal(t->flags, DIRECTIVE_TASK_NO_LEAD | DIRECTIVE_TASK_UNMATCHED | DIRECTIVE_TASK_NO_DEADLINE);
        assert_string_equal(m->text, "Sở Giáo dục và Đào tạo");
        assert_int_equal(m->role, DIRECTIVE_LEAD);
        assert_null(m->id);
        assert_true(m->confidence < TEXTNORM_MATCH_THRESHOLD);
        assert_true(m->n_suggestions >= 1);
}

static void test_lead_is_not_also_support(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Tài chính chủ trì, phối hợp với Sở Tài chính, Sở Xây dựng và Sở Xây dựng kiểm tra.");
        assert_ids(only_task(d)->lead, "stc");
        assert_ids(only_task(d)->support, "sxd");
}

static void test_roles_survive_ocr(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. S& Tai chinh chu tri, phoi hop voi SO Ke hoach va Pau tu, Kho bac Nha nuoc tinh ra soat.");
        assert_ids(only_task(d)->lead, "stc");
        assert_ids(only_task(d)->support, "skhdt kbnn");
}

/* Structure. */

static void test_sub_items_make_parent_a_heading(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "3. Về chuyển đổi số:\n\na) Sở Y tế số hóa hồ sơ.\n\nb) Sở Nội vụ số hóa hồ sơ.\n\n"
                "4. Sở Xây dựng kiểm tra.");
        assert_int_equal(d->n_tasks, 3);
        assert_string_equal(d->tasks[0].ref, "3.a");
        assert_string_equal(d->tasks[1].ref, "3.b");
        assert_string_equal(d->tasks[2].ref, "4");
        assert_null(d->tasks[2].heading);
}

static void test_item_text_joins_lines(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1.  Sở Tài chính   chủ trì rà soát\n   kế hoạch vốn\tđầu tư công\nnăm 2025.");
        assert_string_equal(only_task(d)->text, "Sở Tài chính chủ trì rà soát kế hoạch vốn đầu tư công năm 2025.");
}

static void test_page_break_inside_item(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế xây dựng phần mềm và\n\n                 - 2 -\n\nđưa vào vận hành trong tháng 9/2025.\n\n"
                "2. Sở Nội vụ rà soát.\n\nTrang 3\n\nhoàn thành trong năm 2025.");
        assert_int_equal(d->n_tasks, 2);
        assert_string_equal(d->tasks[0].text, "Sở Y tế xây dựng phần mềm và đưa vào vận hành trong tháng 9/2025.");
        assert_string_equal(d->tasks[0].due, "2025-09-30");
        /* Item 2 ended its sentence: the text after the page number is not its. */
        assert_null(d->tasks[1].due);
}

static void test_closing_paragraph_and_signature_are_not_task_text(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế kiểm tra; hoàn thành trước ngày 15/5/2025.\n\n"
                "Yêu cầu Thủ trưởng các cơ quan, đơn vị nghiêm túc thực hiện trước ngày 30/4/2025./.\n\n"
                "Nơi nhận:                                        KT. CHỦ TỊCH\n"
                "- Như trên;                                      PHÓ CHỦ TỊCH\n"
                "- Lưu: VT.\n"
                "                                                 Nguyễn Văn An\n");
        assert_string_equal(only_task(d)->text, "Sở Y tế kiểm tra; hoàn thành trước ngày 15/5/2025.");
        assert_string_equal(d->signer, "Nguyễn Văn An");
}

static void test_numbering_must_follow(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Tài chính thực hiện theo điểm\n"
                "2. khoản 3 Nghị quyết; hoàn thành trước ngày 15/5/2025.\n\n"
                "5. Sở Y tế kiểm tra.");
        const struct directive_task *t = only_task(d);
        assert_string_equal(t->ref, "1");
        assert_string_equal(t->due, "2025-05-15");
}

static void test_letters_follow_vietnamese_order(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "1. Sở Y tế:\na) Việc một.\nb) Việc hai.\nc) Việc ba.\nd) Việc bốn.\nđ) Việc năm.\ne) Việc sáu.");
        _cleanup_(directive_freep) struct directive *ocr = parse_item(
                "1. Sở Y tế:\na) Việc một.\nb) Việc hai.\nc) Việc ba.\nd) Việc bốn.\nd) Việc năm.");
        const char *refs[] = { "1.a", "1.b", "1.c", "1.d", "1.đ", "1.e" };

        assert_int_equal(d->n_tasks, ELEMENTSOF(refs));
        for (size_t i = 0; i < ELEMENTSOF(refs); i++) {
                assert_string_equal(d->tasks[i].ref, refs[i]);
                assert_ids(d->tasks[i].lead, "syt");
        }
        /* OCR reads "đ)" as "d)". */
        assert_int_equal(ocr->n_tasks, 5);
        assert_string_equal(ocr->tasks[4].ref, "1.đ");
}

static void test_sub_numbers(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "2. Sở Xây dựng:\n2.1. Kiểm tra chung cư.\n2.2. Kiểm tra trường học, trong năm 2025.");
        assert_int_equal(d->n_tasks, 2);
        assert_string_equal(d->tasks[0].ref, "2.1");
        assert_string_equal(d->tasks[1].ref, "2.2");
        assert_ids(d->tasks[1].lead, "sxd");
        assert_string_equal(d->tasks[1].due, "2025-12-31");
}

static void test_sections_that_restart_numbering_prefix_refs(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item(
                "I. NHIỆM VỤ CHUNG\n\n1. Sở Y tế kiểm tra.\n\n2. Sở Nội vụ rà soát.\n\n"
                "II. NHIỆM VỤ CỤ THỂ\n\n1. Sở Xây dựng kiểm tra.");
        assert_int_equal(d->n_tasks, 3);
        assert_string_equal(d->tasks[0].ref, "I.1");
        assert_string_equal(d->tasks[1].ref, "I.2");
        assert_string_equal(d->tasks[2].ref, "II.1");
        assert_ids(d->tasks[2].lead, "sxd");
}

static void test_header_fields(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item("1. Sở Y tế kiểm tra.");
        _cleanup_(directive_freep) struct directive *ct = parse_ok(
                "ỦY BAN NHÂN DÂN          CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
                "TỈNH SƠN HÀ                  Độc lập - Tự do - Hạnh phúc\n"
                "Số: 12/CT-UBND             Sơn Hà, ngày 3 tháng 3 năm 2025\n\n"
                "                     CHỈ THỊ\n"
                "        Về việc tăng cường công tác\n"
                "            phòng cháy, chữa cháy\n\n"
                "1. Sở Y tế kiểm tra.\n");

        assert_string_equal(d->number, "100/UBND-TH");
        assert_string_equal(d->issued_on, "2025-04-08");
        assert_string_equal(d->subject, "thử nghiệm");
        assert_string_equal(d->issuer, "ỦY BAN NHÂN DÂN TỈNH SƠN HÀ");
        assert_string_equal(ct->number, "12/CT-UBND");
        assert_string_equal(ct->issued_on, "2025-03-03");
        assert_string_equal(ct->subject, "tăng cường công tác phòng cháy, chữa cháy");
}

static void test_number_in_any_column_and_no_break_spaces(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_ok(
                "ỦY BAN NHÂN DÂN TỈNH SƠN HÀ\xc2\xa0\xc2\xa0\xc2\xa0\xc2\xa0Số: 9/CT-UBND\n"
                "                              Sơn Hà, ngày 2 tháng 1 năm 2025\n\n"
                "1.\xc2\xa0Sở Y tế kiểm tra,\xc2\xa0trong năm 2025.\n");
        assert_string_equal(d->number, "9/CT-UBND");
        assert_string_equal(d->issued_on, "2025-01-02");
        assert_string_equal(only_task(d)->text, "Sở Y tế kiểm tra, trong năm 2025.");
}

static void test_crlf_and_form_feeds_read_like_lf(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_ok(
                "Số: 7/UBND-TH      Sơn Hà, ngày 08 tháng 4 năm 2025\r\nV/v thử\r\n\r\n"
                "1. Sở Y tế kiểm tra; hoàn thành trước ngày 15/5/2025.\r\n\f"
                "2. Sở Nội vụ rà soát\r\ncán bộ, trong năm 2025.\r\n");
        assert_string_equal(d->subject, "thử");
        assert_int_equal(d->n_tasks, 2);
        assert_string_equal(d->tasks[0].due, "2025-05-15");
        assert_string_equal(d->tasks[1].text, "Sở Nội vụ rà soát cán bộ, trong năm 2025.");
}

static void test_items_know_their_page_and_line(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_ok(
                "Số: 7/UBND-TH      Sơn Hà, ngày 08 tháng 4 năm 2025\nV/v thử\n\n"
                "1. Sở Y tế kiểm tra; hoàn thành trước ngày 15/5/2025.\n\f"
                "2. Sở Nội vụ rà soát cán bộ, trong năm 2025.\n\n- 3 -\n\n"
                "3. Sở Tài chính\nbáo cáo trong tháng 7/2025.\n");
        /* Without form feeds, the next page's number alone between blank
         * lines starts it. */
        _cleanup_(directive_freep) struct directive *numbered = parse_ok(
                "Số: 7/UBND-TH      Sơn Hà, ngày 08 tháng 4 năm 2025\nV/v thử\n\n"
                "1. Sở Y tế kiểm tra; hoàn thành trước ngày 15/5/2025.\n\n- 2 -\n\n"
                "2. Sở Nội vụ rà soát cán bộ, trong năm 2025.\n");
        assert_int_equal(d->n_tasks, 3);
        assert_int_equal(d->tasks[0].page, 1);
        assert_int_equal(d->tasks[0].line, 4);
        assert_int_equal(d->tasks[1].page, 2);
        assert_int_equal(d->tasks[1].line, 1);
        /* Where form feeds mark the pages, a number does not. */
        assert_int_equal(d->tasks[2].page, 2);
        assert_int_equal(d->tasks[2].line, 5);
        assert_int_equal(numbered->tasks[1].page, 2);
        assert_int_equal(numbered->tasks[1].line, 3);
}

/* Bad input. */

static void test_empty_input_gives_empty_result(void **state) {
        _cleanup_(directive_freep) struct directive *d = NULL;
        assert_int_equal(directive_parse("", 0, sonha_candidates, SONHA_N_CANDIDATES, &d), 0);
        assert_int_equal(d->n_tasks, 0);
        assert_null(d->number);
        assert_null(d->issued_on);
        assert_null(d->subject);
        assert_null(d->signer);
        d = directive_free(d);
        assert_int_equal(directive_parse(NULL, 0, NULL, 0, &d), 0);
        assert_int_equal(d->n_tasks, 0);
}

static void test_nonsense_gives_empty_result(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_ok(
                "Lorem Ipsum dolor sit amet, consectetur adipiscing elit.\n\nSed Do Eiusmod\n\n"
                "3. tempor incididunt\n\nUt Labore\n");
        _cleanup_free_ char *noise = malloc(64 * 1024 + 1);
        struct directive *e = NULL;
        unsigned seed = 7;

        assert_int_equal(d->n_tasks, 0);
        assert_null(d->number);
        assert_null(d->signer);
        /* Printable noise, deterministic: whatever comes out, it is sane. */
        assert_non_null(noise);
        for (size_t i = 0; i < 64 * 1024; i++) {
                seed = seed * 1103515245 + 12345;
                noise[i] = (char) (' ' + (seed >> 16) % 95);
                if ((seed >> 8) % 37 == 0)
                        noise[i] = '\n';
        }
        noise[64 * 1024] = 0;
        assert_int_equal(parse(noise, &e), 0);
        for (size_t i = 0; i < e->n_tasks; i++)
                assert_non_null(e->tasks[i].ref);
        directive_free(e);
}

static void test_binary_is_refused(void **state) {
        static const char nul[] = "1. Sở Y tế\0kiểm tra";
        static const char bell[] = "1. Sở Y tế \a kiểm tra";
        static const char c1[] = "1. Sở Y tế \xc2\x85 kiểm tra";
        struct directive *d = NULL;

        assert_int_equal(directive_parse(nul, sizeof(nul) - 1, sonha_candidates, SONHA_N_CANDIDATES, &d), -EBADMSG);
        assert_int_equal(parse(bell, &d), -EBADMSG);
        assert_int_equal(parse(c1, &d), -EBADMSG);
        assert_int_equal(parse("1. Sở Y tế \xff\xfe kiểm tra", &d), -EBADMSG);
        assert_int_equal(parse("\x89PNG\r\n\x1a\n", &d), -EBADMSG);
        assert_null(d);
}

static void test_enormous_input_is_refused_at_once(void **state) {
        size_t n = 50 * 1024 * 1024;
        _cleanup_free_ char *big = malloc(n);
        struct directive *d = NULL;
        clock_t start;

        assert_non_null(big);
        memset(big, 'a', n);
        start = clock();
        assert_int_equal(directive_parse(big, n, sonha_candidates, SONHA_N_CANDIDATES, &d), -EFBIG);
        assert_int_equal(directive_parse(big, DIRECTIVE_MAX_INPUT + 1, sonha_candidates, SONHA_N_CANDIDATES, &d),
                         -EFBIG);
        assert_null(d);
        assert_true(clock() - start < CLOCKS_PER_SEC / 10);
}

static void test_input_at_the_limit_is_parsed(void **state) {
        const char *unit = "Sở Tài chính chủ trì, phối hợp với Sở Xây dựng, trước ngày 15/5/2025 ";
        _cleanup_free_ char *big = malloc(DIRECTIVE_MAX_INPUT + 1);
        size_t n = 0, l = strlen(unit);
        struct directive *d = NULL;

        assert_non_null(big);
        /* One line of a megabyte, which is no item: an empty result. */
        while (n + l <= DIRECTIVE_MAX_INPUT) {
                memcpy(big + n, unit, l);
                n += l;
        }
        assert_int_equal(directive_parse(big, n, sonha_candidates, SONHA_N_CANDIDATES, &d), 0);
        assert_int_equal(d->n_tasks, 0);
        d = directive_free(d);
        /* The same as one item: too long for an item. */
        memcpy(big, "1. ", 3);
        assert_int_equal(directive_parse(big, n, sonha_candidates, SONHA_N_CANDIDATES, &d), -EBADMSG);
}

static void test_too_many_items_or_lines_are_refused(void **state) {
        _cleanup_free_ char *text = malloc(64 * 1024);
        _cleanup_free_ char *lines = malloc(DIRECTIVE_MAX_LINES + 2);
        struct directive *d = NULL;
        size_t n = 0;

        assert_non_null(text);
        for (int i = 1; i <= DIRECTIVE_MAX_TASKS + 1; i++)
                n += (size_t) snprintf(text + n, 64 * 1024 - n, "%d. Sở Y tế kiểm tra.\n", i);
        assert_int_equal(parse(text, &d), -E2BIG);

        assert_non_null(lines);
        memset(lines, '\n', DIRECTIVE_MAX_LINES + 1);
        lines[DIRECTIVE_MAX_LINES + 1] = 0;
        assert_int_equal(parse(lines, &d), -E2BIG);
        lines[DIRECTIVE_MAX_LINES - 1] = 0;
        assert_int_equal(parse(lines, &d), 0);
        directive_free(d);
}

static void test_invalid_arguments(void **state) {
        struct directive *d = NULL;
        assert_int_equal(directive_parse("x", 1, sonha_candidates, SONHA_N_CANDIDATES, NULL), -EINVAL);
        assert_int_equal(directive_parse(NULL, 1, sonha_candidates, SONHA_N_CANDIDATES, &d), -EINVAL);
        assert_int_equal(directive_parse("x", 1, NULL, 1, &d), -EINVAL);
        assert_null(directive_free(NULL));
}

static void test_index_is_reusable(void **state) {
        _cleanup_(textnorm_index_freep) struct textnorm_index *idx = NULL;
        const char *a = "1. Sở Y tế kiểm tra.\n", *b = "1. Sở Nội vụ rà soát.\n";
        struct directive *d = NULL;

        assert_int_equal(textnorm_index_new(sonha_candidates, SONHA_N_CANDIDATES, &idx), 0);
        assert_int_equal(directive_parse_indexed(a, strlen(a), idx, &d), 0);
        assert_ids(only_task(d)->lead, "syt");
        d = directive_free(d);
        assert_int_equal(directive_parse_indexed(b, strlen(b), idx, &d), 0);
        assert_ids(only_task(d)->lead, "snv");
        d = directive_free(d);
        assert_int_equal(directive_parse_indexed(a, strlen(a), NULL, &d), -EINVAL);
        assert_int_equal(directive_parse_indexed(a, DIRECTIVE_MAX_INPUT + 1, idx, &d), -EFBIG);
}

/* Addressees ("Kính gửi") and the items that are theirs. */

static struct directive *parse_addressed(const char *kinh_gui, const char *items) {
        _cleanup_free_ char *text = NULL;
        assert_true(asprintf(&text, HEADER "%s\n\nThực hiện chỉ đạo của UBND tỉnh, yêu cầu như sau:\n\n%s\n",
                             kinh_gui, items) > 0);
        return parse_ok(text);
}

static void test_addressees_on_one_line(void **state) {
        _cleanup_(directive_freep) struct directive *d =
                parse_addressed("Kính gửi: Sở Tài chính; Sở Xây dựng.", "1. Sở Y tế kiểm tra.");
        assert_ids(d->addressees, "stc sxd");
        assert_ids(d->addressees_unmatched, "");
        assert_string_equal(d->subject, "thử nghiệm");
}

static void test_addressees_dash_list_across_lines(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_addressed(
                "Kính gửi:\n"
                "   - Các sở, ban, ngành tỉnh;\n"
                "   - Văn phòng Ủy ban nhân dân\n"
                "     tỉnh;\n"
                "   - UBND các huyện, thị xã, thành phố.",
                "1. Sở Y tế kiểm tra.");
        assert_ids(d->addressees, "cacso vpubnd cachuyen");
        assert_ids(d->addressees_unmatched, "");
        assert_int_equal(d->n_tasks, 1);
        assert_ids(d->tasks[0].lead, "syt");
}

static void test_addressees_centred_title_and_two_columns(void **state) {
        _cleanup_(directive_freep) struct directive *d = NULL;

        d = parse_addressed("                    Kính gửi:\n"
                            "- Các sở, ban, ngành tỉnh;\n"
                            "- UBND các huyện, thị xã, thành phố.",
                            "1. Sở Y tế kiểm tra.");
        assert_ids(d->addressees, "cacso cachuyen");
        d = directive_free(d);

        /* "Kính gửi" beside the subject; the list under it, the subject's
         * second line on its left. */
        d = parse_ok("ỦY BAN NHÂN DÂN                    CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n"
                     "  TỈNH SƠN HÀ                          Độc lập - Tự do - Hạnh phúc\n\n"
                     "Số: 100/UBND-TH                      Sơn Hà, ngày 08 tháng 4 năm 2025\n"
                     "V/v thử nghiệm                       Kính gửi:\n"
                     "   hai cột                             - Sở Tài chính;\n"
                     "                                       - Sở Nội vụ.\n\n"
                     "1. Rà soát hồ sơ; hoàn thành trước ngày 30/6/2025.\n");
        assert_ids(d->addressees, "stc snv");
        assert_ids(d->addressees_unmatched, "");
        assert_ids(only_task(d)->lead, "stc snv");
}

static void test_addressees_survive_ocr(void **state) {
        _cleanup_(directive_freep) struct directive *d = NULL;

        d = parse_addressed("Kinh gui:\n- Cac so, ban, nganh tinh;\n- UBND cac huyen, thi xa, thanh pho.",
                            "1. Rà soát hồ sơ.");
        assert_ids(d->addressees, "cacso cachuyen");
        d = directive_free(d);
        d = parse_addressed("Kính gừi: S& Tai chinh.", "1. Rà soát hồ sơ.");
        assert_ids(d->addressees, "stc");
        d = directive_free(d);
        d = parse_addressed("Kính gửi : Sở Xây dựng", "1. Rà soát hồ sơ.");
        assert_ids(d->addressees, "sxd");
}

static void test_addressees_end_where_the_body_starts(void **state) {
        _cleanup_(directive_freep) struct directive *d = NULL;

        /* No blank line, no full stop: the body, left of the list, is not
         * an addressee, whatever agencies it names. */
        d = parse_ok(HEADER "          Kính gửi: Sở Tài chính\n"
                            "Thực hiện ý kiến chỉ đạo, yêu cầu các sở, ban, ngành tỉnh như sau:\n\n"
                            "1. Rà soát hồ sơ.\n");
        assert_ids(d->addressees, "stc");
        d = directive_free(d);
        d = parse_ok(HEADER "Kính gửi:\n"
                            "   - Sở Tài chính;\n"
                            "   - Sở Kế hoạch và\n"
                            "Đầu tư\n"
                            "Thực hiện ý kiến chỉ đạo, yêu cầu các sở, ban, ngành tỉnh như sau:\n\n"
                            "1. Rà soát hồ sơ.\n");
        assert_ids(d->addressees, "stc skhdt");
        assert_ids(d->addressees_unmatched, "");
        d = directive_free(d);
        /* A list that ends with ";": the next line without a bullet is the
         * body's. */
        d = parse_ok(HEADER "Kính gửi:\n- Sở Tài chính;\n- Sở Y tế;\nThực hiện chỉ đạo của UBND tỉnh và các sở, ban, "
                            "ngành:\n\n1. Rà soát hồ sơ.\n");
        assert_ids(d->addressees, "stc syt");
}

static void test_addressees_none(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_item("1. Rà soát hồ sơ; hoàn thành trước ngày 30/6/2025.");
        const struct directive_task *t = only_task(d);
        assert_non_null(d->addressees);
        assert_non_null(d->addressees_unmatched);
        assert_ids(d->addressees, "");
        assert_ids(d->addressees_unmatched, "");
        assert_ids(t->lead, "");
        assert_int_equal(t->flags, DIRECTIVE_TASK_NO_LEAD);
}

static void test_addressees_unmatched_line(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_addressed(
                "Kính gửi:\n- Sở Giáo dục và Đào tạo;\n- Sở Tài chính;\n- Công an tỉnh.", "1. Rà soát hồ sơ.");
        assert_ids(d->addressees, "stc");
        assert_int_equal(strv_length(d->addressees_unmatched), 2);
        assert_string_equal(d->addressees_unmatched[0], "Sở Giáo dục và Đào tạo");
        assert_string_equal(d->addressees_unmatched[1], "Công an tỉnh");
        /* Only "Sở Tài chính" is known: the general item is its. */
        assert_ids(only_task(d)->lead, "stc");
        assert_int_equal(only_task(d)->flags & DIRECTIVE_TASK_ADDRESSEES, DIRECTIVE_TASK_ADDRESSEES);
}

static void test_general_items_are_the_addressees(void **state) {
        _cleanup_(directive_freep) struct directive *d = parse_addressed(
                "Kính gửi:\n- Các sở, ban, ngành tỉnh;\n- UBND các huyện, thị xã, thành phố.",
                "1. Rà soát, chuẩn hóa dữ liệu thủ tục hành chính, phối hợp với Sở Nội vụ; hoàn thành trong "
                "Quý III/2025.\n\n"
                "2. Sở Tài chính chủ trì, phối hợp với Sở Xây dựng kiểm tra.\n\n"
                "3. Sở Du lịch chủ trì tổ chức hội nghị.\n\n"
                "4. Sở Y tế:\n\na) Kiểm tra cơ sở khám bệnh.\n\n"
                "5. Tăng cường kỷ luật, kỷ cương hành chính; thực hiện thường xuyên.");
        const struct directive_task *t;

        assert_int_equal(d->n_tasks, 5);
        t = &d->tasks[0];
        assert_ids(t->lead, "cacso cachuyen");
        assert_ids(t->support, "snv");
        assert_string_equal(t->due, "2025-09-30");
        assert_int_equal(t->flags, DIRECTIVE_TASK_ADDRESSEES);
        /* An item with its own lead keeps it. */
        t = &d->tasks[1];
        assert_ids(t->lead, "stc");
        assert_int_equal(t->flags & DIRECTIVE_TASK_ADDRESSEES, 0);
        /* A lead nobody matched is not the addressees'. */
        t = &d->tasks[2];
        assert_ids(t->lead, "");
        assert_true(t->flags & DIRECTIVE_TASK_NO_LEAD);
        assert_int_equal(t->flags & DIRECTIVE_TASK_ADDRESSEES, 0);
        /* A sub-item is its heading's. */
        t = &d->tasks[3];
        assert_string_equal(t->ref, "4.a");
        assert_ids(t->lead, "syt");
        assert_int_equal(t->flags & DIRECTIVE_TASK_ADDRESSEES, 0);
        t = &d->tasks[4];
        assert_ids(t->lead, "cacso cachuyen");
        assert_int_equal(t->flags, DIRECTIVE_TASK_ADDRESSEES | DIRECTIVE_TASK_ONGOING | DIRECTIVE_TASK_NO_DEADLINE);
        assert_string_equal(directive_task_flag_to_string(DIRECTIVE_TASK_ADDRESSEES), "addressees");
}

static void test_flag_names(void **state) {
        assert_string_equal(directive_task_flag_to_string(DIRECTIVE_TASK_NO_DEADLINE), "no-deadline");
        assert_string_equal(directive_task_flag_to_string(DIRECTIVE_TASK_UNMATCHED), "unmatched");
        assert_null(directive_task_flag_to_string(DIRECTIVE_TASK_NO_LEAD | DIRECTIVE_TASK_UNMATCHED));
        assert_null(directive_task_flag_to_string(0));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_deadline_truoc_ngay),
                cmocka_unit_test(test_deadline_cham_nhat_and_den_ngay),
                cmocka_unit_test(test_deadline_in_words),
                cmocka_unit_test(test_deadline_month_quarter_year_ends),
                cmocka_unit_test(test_deadline_without_year_takes_documents),
                cmocka_unit_test(test_deadline_counted_from_signing),
                cmocka_unit_test(test_deadline_in_working_days_keeps_its_rule),
                cmocka_unit_test(test_deadline_time_of_day),
                cmocka_unit_test(test_deadline_labelled),
                cmocka_unit_test(test_deadline_monthly_is_recurrence_without_due),
                cmocka_unit_test(test_deadline_other_periods_are_flagged_not_invented),
                cmocka_unit_test(test_deadline_thuong_xuyen_is_ongoing),
                cmocka_unit_test(test_deadline_none_is_flagged),
                cmocka_unit_test(test_deadline_ignores_cited_document_dates),
                cmocka_unit_test(test_deadline_cutoffs_are_not_deadlines_and_periods_weak),
                cmocka_unit_test(test_deadline_first_governed_date_is_taken_and_flagged),
                cmocka_unit_test(test_deadline_invalid_dates_are_ignored),
                cmocka_unit_test(test_deadline_ocr_digits),
                cmocka_unit_test(test_deadline_relative_needs_document_date),
                cmocka_unit_test(test_lead_chu_tri_support_phoi_hop),
                cmocka_unit_test(test_lead_subject_of_item),
                cmocka_unit_test(test_lead_giao_do_chu_tri),
                cmocka_unit_test(test_lead_from_heading),
                cmocka_unit_test(test_heading_lends_partners_and_deadline),
                cmocka_unit_test(test_cac_co_quan_lien_quan_names_nobody),
                cmocka_unit_test(test_groups_are_candidates),
                cmocka_unit_test(test_unknown_agency_is_reported_with_suggestions),
                cmocka_unit_test(test_lead_is_not_also_support),
                cmocka_unit_test(test_roles_survive_ocr),
                cmocka_unit_test(test_sub_items_make_parent_a_heading),
                cmocka_unit_test(test_item_text_joins_lines),
                cmocka_unit_test(test_page_break_inside_item),
                cmocka_unit_test(test_closing_paragraph_and_signature_are_not_task_text),
                cmocka_unit_test(test_numbering_must_follow),
                cmocka_unit_test(test_letters_follow_vietnamese_order),
                cmocka_unit_test(test_sub_numbers),
                cmocka_unit_test(test_sections_that_restart_numbering_prefix_refs),
                cmocka_unit_test(test_header_fields),
                cmocka_unit_test(test_number_in_any_column_and_no_break_spaces),
                cmocka_unit_test(test_crlf_and_form_feeds_read_like_lf),
                cmocka_unit_test(test_items_know_their_page_and_line),
                cmocka_unit_test(test_empty_input_gives_empty_result),
                cmocka_unit_test(test_nonsense_gives_empty_result),
                cmocka_unit_test(test_binary_is_refused),
                cmocka_unit_test(test_enormous_input_is_refused_at_once),
                cmocka_unit_test(test_input_at_the_limit_is_parsed),
                cmocka_unit_test(test_too_many_items_or_lines_are_refused),
                cmocka_unit_test(test_invalid_arguments),
                cmocka_unit_test(test_index_is_reusable),
                cmocka_unit_test(test_flag_names),
                cmocka_unit_test(test_addressees_on_one_line),
                cmocka_unit_test(test_addressees_dash_list_across_lines),
                cmocka_unit_test(test_addressees_centred_title_and_two_columns),
                cmocka_unit_test(test_addressees_survive_ocr),
                cmocka_unit_test(test_addressees_end_where_the_body_starts),
                cmocka_unit_test(test_addressees_none),
                cmocka_unit_test(test_addressees_unmatched_line),
                cmocka_unit_test(test_general_items_are_the_addressees),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
