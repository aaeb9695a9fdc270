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
#include <time.h>

#include "macro.h"
#include "reply.h"
#include "strbuf.h"
#include "timeutil.h"

#define NONE INT32_MIN

static char *data_path(const char *name) {
        const char *dir = getenv("DEADLINED_TEST_DATA");
        char *p;

        if (asprintf(&p, "%s/replies/%s", dir ? dir : "tests/data", name) < 0)
                return NULL;
        return p;
}

static char *read_eml(const char *name, size_t *ret_len) {
        _cleanup_free_ char *path = data_path(name);
        FILE *f;
        char *buf;
        long n;

        assert_non_null(path);
        f = fopen(path, "rb");
        if (!f)
                fail_msg("cannot open %s", path);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        assert_true(n >= 0);
        rewind(f);
        buf = malloc((size_t) n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t) n, f), (size_t) n);
        fclose(f);
        buf[n] = 0;
        *ret_len = (size_t) n;
        return buf;
}

static int parse(const char *s, struct reply *r) {
        return reply_parse(s, strlen(s), NULL, r);
}

static int32_t day(int y, int m, int d) {
        return days_from_civil(y, m, d);
}

/* ---- the corpus ---- */

struct expected {
        const char *file;
        const char *from;
        enum reply_intent intent;
        int32_t asked_day;
        int64_t task_tag;
        const char *task_ref;
        const char *attachments;        /* joined with "|", NULL for none */
        const char *text_has;           /* in the reply's own words */
        const char *text_lacks;         /* cut: quoted original or signature */
};

static void test_corpus(void **state) {
        const struct expected table[] = {
                { "outlook-html-received.eml", "stc@sonha.gov.vn", REPLY_UNKNOWN, NONE, 123, NULL, NULL,
                  "đang tổ chức triển khai. Sẽ báo cáo", "Trường hợp đã hoàn thành" },
                { "outlook-plain-done.eml", "hoa.nt@syt.sonha.gov.vn", REPLY_DONE, NONE, 124, NULL, NULL,
                  "nhiệm vụ đã hoàn thành ngày 06/6/2025", "Nguyễn Thị Hoa" },
                { "gmail-vao-da-viet.eml", "tranvannam.stc@gmail.com", REPLY_DONE, NONE, 125, NULL, NULL,
                  "hệ thống quản lý văn bản.", "Vào Th 2" },
                { "plain-no-diacritics.eml", "lethib@sonoivu.sonha.gov.vn", REPLY_DONE, NONE, 126, NULL, NULL,
                  "So Noi vu da hoan thanh nhiem vu", "chua hoan thanh thu tuc" },
                { "base64-windows-1258-extension.eml", "snnmt@sonha.gov.vn", REPLY_EXTENSION, 0, 127, NULL, NULL,
                  "Sở Nông nghiệp và Môi trường xin gia hạn đến 15/6/2025", "Trân trọng" },
                { "attachment-bao-cao.eml", "sxd@sonha.gov.vn", REPLY_DONE, NONE, 128, NULL,
                  "Bao cao so 45.pdf|Biên bản kiểm tra.docx", "gửi kèm Báo cáo số 45/BC-SXD", "Phạm Minh Tuấn" },
                { "digest-reply-task-ref.eml", "stc@sonha.gov.vn", REPLY_DONE, NONE, 0, "5.c", NULL,
                  "Nhiệm vụ 5.c đã hoàn thành", "[#131]" },
                { "english-done.eml", "john.smith@sonha-investment.vn", REPLY_DONE, NONE, 129, NULL, NULL,
                  "The task has been completed.", "John Smith" },
                { "negation-chua-hoan-thanh.eml", "ubnd@songlam.sonha.gov.vn", REPLY_UNKNOWN, NONE, 130, NULL, NULL,
                  "nhiệm vụ chưa hoàn thành", "Original Message" },
                { "extension-ngay-thang-nam.eml", "sgtvt@sonha.gov.vn", REPLY_EXTENSION, 0, 0, "3.b", NULL,
                  "đến ngày 15 tháng 7 năm 2025", NULL },
                { "forwarded.eml", "ducvh1987@gmail.com", REPLY_UNKNOWN, NONE, 123, NULL, NULL,
                  "Em chuyển tiếp để anh chị nắm.", "đã hoàn thành" },
                { "english-extension.eml", "rene.dubois@afd-sonha.org", REPLY_EXTENSION, 0, 133, NULL, NULL,
                  "the café cooperative", "René" },
                { "extension-relative.eml", "sct@sonha.gov.vn", REPLY_EXTENSION, NONE, 134, NULL, NULL,
                  "gia han them 10 ngay", NULL },
        };
        /* The asked days, written 0 above where one is expected. */
        const int32_t asked[] = { [4] = day(2025, 6, 15), [9] = day(2025, 7, 15), [11] = day(2026, 6, 15) };

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                const struct expected *e = &table[i];
                size_t n;
                _cleanup_free_ char *raw = read_eml(e->file, &n);
                struct reply r;

                print_message("%s\n", e->file);
                assert_int_equal(reply_parse(raw, n, NULL, &r), 0);
                assert_string_equal(r.from, e->from);
                assert_non_null(r.subject);
                assert_non_null(r.message_id);
                assert_true(r.date != INT64_MIN);
                assert_string_equal(reply_intent_to_string(r.intent), reply_intent_to_string(e->intent));
                assert_int_equal(r.asked_day, e->asked_day == 0 ? asked[i] : e->asked_day);
                assert_int_equal(r.task_tag, e->task_tag);
                if (e->task_ref)
                        assert_string_equal(r.task_ref, e->task_ref);
                else
                        assert_null(r.task_ref);

                struct strbuf b = STRBUF_INIT(4096);
                for (char **a = r.attachments; a && *a; a++)
                        strbuf_printf(&b, "%s%s", a == r.attachments ? "" : "|", *a);
                if (e->attachments)
                        assert_string_equal(b.data, e->attachments);
                else
                        assert_int_equal(b.len, 0);
                strbuf_done(&b);

                assert_non_null(r.text);
                if (!strstr(r.text, e->text_has))
                        fail_msg("%s: \"%s\" not in [%s]", e->file, e->text_has, r.text);
                if (e->text_lacks && strstr(r.text, e->text_lacks))
                        fail_msg("%s: \"%s\" left in [%s]", e->file, e->text_lacks, r.text);
                reply_done(&r);
        }
}

static void test_corpus_thread_ids(void **state) {
        size_t n;
        _cleanup_free_ char *raw = read_eml("outlook-html-received.eml", &n);
        struct reply r;

        assert_int_equal(reply_parse(raw, n, NULL, &r), 0);
        assert_string_equal(r.message_id, "SEYPR04MB6457A1B2C3D4E5F6@SEYPR04MB6457.apcprd04.prod.outlook.com");
        /* In-Reply-To first, then References, each once. */
        assert_string_equal(r.references[0], "deadlined.7c1e9a4b2d.123-before-3d.1749427200@deadlined.sonha.gov.vn");
        assert_string_equal(r.references[1], "deadlined.7c1e9a4b2d.task-123@deadlined.sonha.gov.vn");
        assert_null(r.references[2]);
        assert_string_equal(r.subject, "TRẢ LỜI: [#123] [Nhắc việc] Còn 3 ngày: 5.c — Rà soát");
        assert_int_equal(r.date, INT64_C(1749435277));
        reply_done(&r);
}

/* ---- headers ---- */

static void test_thread_ids_cleaned(void **state) {
        struct reply r;
        const char *m = "From: a@b.vn\nMessage-ID: <m@x> <second@x>\n"
                        "In-Reply-To: \x1cjunk@x> <a@x>\nReferences: <a@x>\n <b@x> bare@x <c d@x> <>\n\nx";

        assert_int_equal(parse(m, &r), 0);
        assert_string_equal(r.message_id, "m@x");
        assert_string_equal(r.references[0], "a@x");
        assert_string_equal(r.references[1], "b@x");
        assert_string_equal(r.references[2], "bare@x");
        assert_null(r.references[3]);
        reply_done(&r);
}

static void test_headers_unfolded_and_encoded_words(void **state) {
        struct reply r;
        const char *m = "From: a@b.vn\r\n"
                        "Subject: =?utf-8?Q?B=C3=A1o_c=C3=A1o?=\r\n"
                        " =?utf-8?B?IGvhur90IHF14bqj?= and\r\n\tmore\r\n"
                        "\r\nbody\r\n";

        assert_int_equal(parse(m, &r), 0);
        /* The blank between two encoded words goes; the one before plain text stays. */
        assert_string_equal(r.subject, "Báo cáo kết quả and\tmore");
        reply_done(&r);

        /* An undeclared 8-bit header in Latin-1 and a charset iconv does not know. */
        assert_int_equal(parse("From: a@b.vn\nSubject: caf\xe9 =?x-unknown?Q?ok?=\n\nx", &r), 0);
        assert_string_equal(r.subject, "café ok");
        reply_done(&r);
}

static void test_date_forms(void **state) {
        static const struct {
                const char *date;
                int64_t t;
        } cases[] = {
                { "Mon, 9 Jun 2025 02:14:37 +0000", INT64_C(1749435277) },
                { "Mon, 09 Jun 2025 09:14:37 +0700", INT64_C(1749435277) },
                { "9 Jun 2025 09:14 +0700", INT64_C(1749435240) },
                { "Mon,  9 Jun 2025 02:14:37 GMT (UTC)", INT64_C(1749435277) },
                { "Sun, 8 Jun 2025 22:14:37 EDT", INT64_C(1749435277) },
                { "Mon, 9 Jun 25 02:14:37 UT", INT64_C(1749435277) },
                { "Mon, 9 Jun 125 02:14:37 Z", INT64_C(1749435277) },
                { "Mon, 9 Jun 2025 02:14:37 A", INT64_C(1749435277) },      /* military: -0000 */
                { "Mon, 9 June 2025 02:14:37 -0000", INT64_C(1749435277) },
        };
        static const char *const bad[] = { "yesterday", "31 Feb 2025 10:00 +0700", "9 Jun 2025 25:00 +0700",
                                           "9 Foo 2025 10:00", "" };
        char msg[256];
        struct reply r;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                snprintf(msg, sizeof msg, "From: a@b.vn\nDate: %s\n\nx", cases[i].date);
                assert_int_equal(parse(msg, &r), 0);
                print_message("%s\n", cases[i].date);
                assert_int_equal(r.date, cases[i].t);
                reply_done(&r);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                snprintf(msg, sizeof msg, "From: a@b.vn\nDate: %s\n\nx", bad[i]);
                assert_int_equal(parse(msg, &r), 0);
                assert_int_equal(r.date, INT64_MIN);
                reply_done(&r);
        }
}

static void test_from_address_only(void **state) {
        static const struct {
                const char *from, *address;
        } cases[] = {
                { "=?utf-8?Q?S=E1=BB=9F?= <STC@SonHa.gov.vn>", "stc@sonha.gov.vn" },
                { "\"Sở <Tài> chính, phòng TH\" <th@stc.vn>", "th@stc.vn" },
                { "th@stc.vn (Phong Tong hop)", "th@stc.vn" },
                { "  TH@STC.VN  ", "th@stc.vn" },
                { "first@a.vn, second@b.vn", "first@a.vn" },
                { "Nobody", NULL },
                { "<not an address>", NULL },
        };
        char msg[256];
        struct reply r;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                snprintf(msg, sizeof msg, "From: %s\nSubject: x\n\nx", cases[i].from);
                assert_int_equal(parse(msg, &r), 0);
                if (cases[i].address)
                        assert_string_equal(r.from, cases[i].address);
                else
                        assert_null(r.from);
                reply_done(&r);
        }
}

static void test_not_a_message(void **state) {
        struct reply r;

        assert_int_equal(reply_parse("", 0, NULL, &r), -EBADMSG);
        assert_int_equal(parse("just some words\nand more\n", &r), -EBADMSG);
        assert_int_equal(parse("X-Only: a header\n\nbody", &r), -EBADMSG);
        assert_null(r.text);
        assert_int_equal(r.date, INT64_MIN);
}

/* ---- bodies ---- */

static void test_html_to_text(void **state) {
        struct reply r;
        const char *m = "From: a@b.vn\nContent-Type: text/html; charset=utf-8\n\n"
                        "<html><head><title>x</title><style>p{color:red}</style></head><body>"
                        "<p>S&#7903; T&agrave;i ch&iacute;nh &amp; ph&#x00F2;ng&nbsp;TH:</p><p>&#273;&atilde; xong<br>"
                        "d&ograve;ng 2</p><!-- <p>hidden</p> --><script>var done=1;</script>"
                        "<div class=\"gmail_quote\">On Mon wrote: &#273;&#7873; ngh&#7883; gia h&#7841;n</div></body></html>";

        assert_int_equal(parse(m, &r), 0);
        assert_string_equal(r.text, "Sở Tài chính & phòng TH:\n\nđã xong\ndòng 2");
        assert_int_equal(r.intent, REPLY_DONE);
        reply_done(&r);
}

static void test_plain_preferred_to_html(void **state) {
        struct reply r;
        const char *m = "From: a@b.vn\nContent-Type: multipart/alternative; boundary=XX\n\n"
                        "--XX\nContent-Type: text/html\n\n<p>from html</p>\n"
                        "--XX\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n"
                        "from pl=E0in, a very long line that is cut =\nsoftly\n"
                        "--XX--\n";

        assert_int_equal(parse(m, &r), 0);
        assert_string_equal(r.text, "from plàin, a very long line that is cut softly");
        reply_done(&r);
}

static void test_attachment_names(void **state) {
        struct reply r;
        const char *m =
                "From: a@b.vn\nContent-Type: multipart/mixed; boundary=\"b\"\n\n"
                "--b\nContent-Type: text/plain\n\nxong\n"
                "--b\nContent-Type: application/pdf\nContent-Disposition: attachment;\n"
                " filename*0*=utf-8''B%C3%A1o%20c%C3%A1o;\n filename*1=\" so 45.pdf\"; filename=\"ignored.pdf\"\n\nx\n"
                "--b\nContent-Type: application/octet-stream; name=\"C:\\\\Users\\\\van thu\\\\Danh sach.xlsx\"\n\nx\n"
                "--b\nContent-Type: image/png; name=logo.png\nContent-Disposition: inline\nContent-ID: <logo>\n\nx\n"
                "--b\nContent-Type: message/rfc822\n\nFrom: x@y\nContent-Type: application/pdf; name=inner.pdf\n\nx\n"
                "--b--\n";

        assert_int_equal(parse(m, &r), 0);
        assert_string_equal(r.attachments[0], "Báo cáo so 45.pdf");
        assert_string_equal(r.attachments[1], "Danh sach.xlsx");
        assert_null(r.attachments[2]);  /* the inline logo and the forwarded message's file are not evidence */
        assert_int_equal(r.intent, REPLY_DONE);
        reply_done(&r);
}

static void test_text_cut_to_max_text(void **state) {
        struct reply_limits lim = REPLY_LIMITS_DEFAULT;
        struct strbuf b = STRBUF_INIT(SIZE_MAX);
        struct reply r;

        lim.max_text = 1000;
        strbuf_puts(&b, "From: a@b.vn\nContent-Type: text/plain; charset=utf-8\n\nđã xong ");
        for (int i = 0; i < 2000; i++)
                strbuf_puts(&b, "ờ");
        assert_int_equal(reply_parse(b.data, b.len, &lim, &r), 0);
        assert_true(strlen(r.text) <= 1000);
        assert_true(strlen(r.text) > 900);
        assert_int_equal(r.intent, REPLY_DONE);
        reply_done(&r);
        strbuf_done(&b);
}

/* ---- quotes and signatures ---- */

static void assert_cut(const char *body, const char *own) {
        _cleanup_free_ char *m = NULL;
        struct reply r;

        assert_true(asprintf(&m, "From: a@b.vn\nSubject: Re: x\n\n%s", body) > 0);
        assert_int_equal(parse(m, &r), 0);
        if (strcmp(r.text, own) != 0)
                fail_msg("[%s]\nbecame [%s], not [%s]", body, r.text, own);
        reply_done(&r);
}

static void test_quotes_cut(void **state) {
        assert_cut("Xong.\n\n> Trường hợp đã hoàn thành\n> đề nghị", "Xong.");
        assert_cut("Done.\n\nOn Mon, 9 Jun 2025 at 08:00, Office <o@x.vn> wrote:\n> text", "Done.");
        /* Gmail wraps a long attribution over two lines. */
        assert_cut("Done.\n\nOn Mon, 9 Jun 2025 at 08:00, Van phong UBND tinh <\nvanphong@sonha.gov.vn> wrote:\n\n> x",
                   "Done.");
        assert_cut("Xong.\n\nVào Th 2, 9 thg 6, 2025 vào lúc 08:00 Văn phòng <vp@x.vn> đã viết:\n> x", "Xong.");
        assert_cut("Xong.\nVào lúc 08:00 ngày 9/6/2025, Văn phòng UBND tỉnh\n<vp@x.vn> đã viết:\n> x", "Xong.");
        assert_cut("Xong.\n\n-----Original Message-----\nFrom: x\nSent: y\n\nđề nghị gia hạn", "Xong.");
        assert_cut("Xong.\n\nFrom: Van phong <vp@x.vn>\nSent: Monday, June 9, 2025 8:00 AM\nTo: a\nSubject: b\n\nx",
                   "Xong.");
        assert_cut("Xong.\n\nTừ: Văn phòng <vp@x.vn>\nĐã gửi: Thứ Hai, 9 tháng 6, 2025 8:00 SA\nĐến: a\n\nx", "Xong.");
        assert_cut("Xong.\n________________________________\nFrom: x", "Xong.");
        assert_cut("Xong.\n\n---------- Forwarded message ---------\nFrom: x", "Xong.");
        assert_cut("Xong.\n-- \nNguyễn Văn A\nĐT 0912", "Xong.");
        assert_cut("Xong.\n\nTrân trọng,\nNguyễn Văn A", "Xong.");
        assert_cut("Xong.\nTran trong cam on!\nA", "Xong.");
        assert_cut("Done.\n\nBest regards, Lan\nOffice", "Done.");
        assert_cut("Done.\nThanks\nLan", "Done.");
        /* What only looks like one stays: a "From:" without a header block after it,
         * a sentence that starts with thanks, a formal opening with "trân trọng". */
        assert_cut("From: Sở Y tế.\nĐã xong.", "From: Sở Y tế.\nĐã xong.");
        assert_cut("Thank you, the task is done.", "Thank you, the task is done.");
        assert_cut("Sở Y tế trân trọng báo cáo: đã xong.", "Sở Y tế trân trọng báo cáo: đã xong.");
        assert_cut("\n\n  \nA\n\n\n\nB\n\n", "A\n\nB");
}

/* ---- what it says ---- */

struct says {
        const char *body;
        enum reply_intent intent;
        int32_t asked;
};

static void test_intent(void **state) {
        const struct says cases[] = {
                { "Đơn vị đã hoàn thành nhiệm vụ.", REPLY_DONE, NONE },
                { "Don vi da hoan thanh nhiem vu.", REPLY_DONE, NONE },
                { "Nhiệm vụ hoàn thành.", REPLY_DONE, NONE },
                { "Xong rồi ạ.", REPLY_DONE, NONE },
                { "Bên em đã xong.", REPLY_DONE, NONE },
                { "ĐÃ HOÀN THÀNH", REPLY_DONE, NONE },
                { "Sở đã hoàn tất việc rà soát.", REPLY_DONE, NONE },
                { "Completed.", REPLY_DONE, NONE },
                { "The task is done.", REPLY_DONE, NONE },
                { "We finished it yesterday.", REPLY_DONE, NONE },
                { "Nhiệm vụ chưa hoàn thành.", REPLY_UNKNOWN, NONE },
                { "Nhiem vu chua hoan thanh.", REPLY_UNKNOWN, NONE },
                { "Chưa xong ạ.", REPLY_UNKNOWN, NONE },
                { "Not yet done.", REPLY_UNKNOWN, NONE },
                { "It is not completed.", REPLY_UNKNOWN, NONE },
                { "We will complete it next week.", REPLY_UNKNOWN, NONE },
                { "Sở sẽ hoàn thành trong tuần tới.", REPLY_UNKNOWN, NONE },
                { "Đã xong phần khảo sát nhưng báo cáo chưa hoàn thành.", REPLY_UNKNOWN, NONE },
                { "Đã nhận văn bản.", REPLY_UNKNOWN, NONE },
                { "Xin gia hạn đến 15/6/2025.", REPLY_EXTENSION, day(2025, 6, 15) },
                { "xin gia han den 15-06-2025", REPLY_EXTENSION, day(2025, 6, 15) },
                { "Xin gia hạn đến ngày 15.6.2025 ạ", REPLY_EXTENSION, day(2025, 6, 15) },
                { "Đề nghị lùi thời hạn đến ngày 15 tháng 6 năm 2025.", REPLY_EXTENSION, day(2025, 6, 15) },
                { "De nghi lui thoi han den ngay 15 thang 6 nam 2025", REPLY_EXTENSION, day(2025, 6, 15) },
                { "Đề nghị gia hạn thêm 10 ngày.", REPLY_EXTENSION, NONE },
                { "We request an extension to 15 June 2025.", REPLY_EXTENSION, day(2025, 6, 15) },
                { "Could the deadline be extended to June 15, 2025?", REPLY_EXTENSION, day(2025, 6, 15) },
                { "Request an extension until 2025-06-15.", REPLY_EXTENSION, day(2025, 6, 15) },
                /* A date without its year: the first such day from the reply's date on. */
                { "Xin gia hạn đến 15/6.", REPLY_EXTENSION, day(2025, 6, 15) },
                { "Xin gia hạn đến 10/1.", REPLY_EXTENSION, day(2026, 1, 10) },
                /* A date before the cue, in the same sentence. */
                { "Đến 30/6/2025 mới xong được, xin gia hạn.", REPLY_EXTENSION, day(2025, 6, 30) },
                /* Both: asking for time outweighs the completion words it names. */
                { "Đã hoàn thành phần 1, xin gia hạn phần 2 đến 30/6/2025.", REPLY_EXTENSION, day(2025, 6, 30) },
                { "Không cần gia hạn, đã hoàn thành.", REPLY_DONE, NONE },
                { "Xin gia hạn đến 31/2/2025.", REPLY_EXTENSION, NONE },
        };
        char msg[512];
        struct reply r;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                snprintf(msg, sizeof msg, "From: a@b.vn\nDate: Tue, 10 Jun 2025 09:00:00 +0700\n"
                                          "Content-Type: text/plain; charset=utf-8\n\n%s\n", cases[i].body);
                assert_int_equal(parse(msg, &r), 0);
                if (r.intent != cases[i].intent || r.asked_day != cases[i].asked)
                        fail_msg("\"%s\": %s %d, not %s %d", cases[i].body, reply_intent_to_string(r.intent),
                                 r.asked_day, reply_intent_to_string(cases[i].intent), cases[i].asked);
                reply_done(&r);
        }
}

static void test_year_needs_a_date(void **state) {
        struct reply r;

        /* Without a Date header a day without its year cannot be placed. */
        assert_int_equal(parse("From: a@b.vn\n\nXin gia hạn đến 15/6.", &r), 0);
        assert_int_equal(r.intent, REPLY_EXTENSION);
        assert_int_equal(r.asked_day, NONE);
        reply_done(&r);
}

static void test_task(void **state) {
        static const struct {
                const char *subject, *body;
                int64_t tag;
                const char *ref;
        } cases[] = {
                { "Re: [#123] [Nhắc việc] x", "Xong.", 123, NULL },
                { "Re: báo cáo", "Nhiệm vụ #77 đã xong.", 77, NULL },
                { "Re: báo cáo", "Nhiệm vụ 5.c đã hoàn thành.", 0, "5.c" },
                { "Re: bao cao", "Nhiem vu so 5 da xong.", 0, "5" },
                { "Re: report", "Task 5.c is done.", 0, "5.c" },
                { "Re: Tổng hợp", "Nhiệm vụ số 12. đã xong", 0, "12" },
                /* An entity-like "&#123", a hash in a word and "#0" are no tags. */
                { "Re: x", "Mã&#123 và abc#12 và #0", 0, NULL },
                /* The subject's tag wins over one in the words. */
                { "[#5] x", "[#6]", 5, NULL },
                /* A tag after "nhiệm vụ" is the tag, not a reference. */
                { "Nhiệm vụ [#127]", "x", 127, NULL },
                /* The quoted digest's tags are not the reply's. */
                { "Re: Tổng hợp", "Nhiệm vụ 5.c xong.\n> [#131] Nhiệm vụ 5.a\n> [#132] Nhiệm vụ 5.c", 0, "5.c" },
        };
        char msg[512];
        struct reply r;

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                snprintf(msg, sizeof msg, "From: a@b.vn\nSubject: %s\nContent-Type: text/plain; charset=utf-8\n\n%s\n",
                         cases[i].subject, cases[i].body);
                assert_int_equal(parse(msg, &r), 0);
                print_message("%s / %s\n", cases[i].subject, cases[i].body);
                assert_int_equal(r.task_tag, cases[i].tag);
                if (cases[i].ref)
                        assert_string_equal(r.task_ref, cases[i].ref);
                else
                        assert_null(r.task_ref);
                reply_done(&r);
        }
}

/* ---- limits and garbage ---- */

static double seconds_since(const struct timespec *t0) {
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        return (double) (t1.tv_sec - t0->tv_sec) + (double) (t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void test_limit_size(void **state) {
        size_t n = 50u << 20;
        char *big = malloc(n);
        struct timespec t0;
        struct reply r;

        assert_non_null(big);
        memset(big, 'a', n);
        memcpy(big, "From: a@b.vn\n\n", 14);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(reply_parse(big, n, NULL, &r), -EMSGSIZE);
        assert_true(seconds_since(&t0) < 1.0);
        assert_null(r.text);
        free(big);
}

static void test_limit_parts(void **state) {
        struct strbuf b = STRBUF_INIT(SIZE_MAX);
        struct timespec t0;
        struct reply r;

        strbuf_puts(&b, "From: a@b.vn\nContent-Type: multipart/mixed; boundary=p\n\n");
        for (int i = 0; i < 1000; i++)
                strbuf_puts(&b, "--p\nContent-Type: application/pdf; name=a.pdf\n\nx\n");
        strbuf_puts(&b, "--p--\n");
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(reply_parse(b.data, b.len, NULL, &r), -EMSGSIZE);
        assert_true(seconds_since(&t0) < 1.0);
        assert_null(r.attachments);

        /* 199 parts and the message itself: within the default 200. */
        strbuf_done(&b);
        b = STRBUF_INIT(SIZE_MAX);
        strbuf_puts(&b, "From: a@b.vn\nContent-Type: multipart/mixed; boundary=p\n\n");
        for (int i = 0; i < 199; i++)
                strbuf_puts(&b, "--p\nContent-Type: text/plain\n\nxong\n");
        strbuf_puts(&b, "--p--\n");
        assert_int_equal(reply_parse(b.data, b.len, NULL, &r), 0);
        assert_int_equal(r.intent, REPLY_DONE);
        reply_done(&r);
        strbuf_done(&b);
}

static void test_limit_depth(void **state) {
        struct strbuf b = STRBUF_INIT(SIZE_MAX);
        struct timespec t0;
        struct reply r;

        strbuf_puts(&b, "From: a@b.vn\n");
        for (int i = 0; i < 50; i++)
                strbuf_printf(&b, "Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n", i, i);
        strbuf_puts(&b, "Content-Type: text/plain\n\nxong\n");
        for (int i = 49; i >= 0; i--)
                strbuf_printf(&b, "--b%d--\n", i);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        assert_int_equal(reply_parse(b.data, b.len, NULL, &r), -EMSGSIZE);
        assert_true(seconds_since(&t0) < 1.0);

        /* The same nesting within a raised limit is read. */
        struct reply_limits lim = REPLY_LIMITS_DEFAULT;
        lim.max_depth = 64;
        assert_int_equal(reply_parse(b.data, b.len, &lim, &r), 0);
        assert_int_equal(r.intent, REPLY_DONE);
        reply_done(&r);
        strbuf_done(&b);
}

static void test_garbage_never_crashes(void **state) {
        static const char *const files[] = { "outlook-html-received.eml", "attachment-bao-cao.eml",
                                             "base64-windows-1258-extension.eml", "gmail-vao-da-viet.eml" };
        unsigned seed = 12345;
        char buf[4096];
        struct reply r;

        for (int i = 0; i < 3000; i++) {
                size_t n = (size_t) (rand_r(&seed) % sizeof(buf));
                for (size_t k = 0; k < n; k++) {
                        /* Mostly the bytes MIME is made of, to get past the headers. */
                        static const char alphabet[] = "From: a@b\r\n\t =?Q?B_-<>\"';/\\&#x;boundary=Content-Type"
                                                       "multipart/text/html<br>\xc3\xa1\xe1\xbb\x9f\xff\x80";
                        buf[k] = rand_r(&seed) % 4 ? alphabet[rand_r(&seed) % (sizeof(alphabet) - 1)]
                                                   : (char) rand_r(&seed);
                }
                int k = reply_parse(buf, n, NULL, &r);
                assert_true(k == 0 || k == -EBADMSG || k == -EMSGSIZE);
                reply_done(&r);
        }
        /* Every prefix of real messages, cut anywhere. */
        for (size_t f = 0; f < ELEMENTSOF(files); f++) {
                size_t n;
                _cleanup_free_ char *raw = read_eml(files[f], &n);
                for (size_t cut = 0; cut < n; cut += 1 + cut / 16) {
                        _cleanup_free_ char *copy = malloc(cut + 1);
                        assert_non_null(copy);
                        memcpy(copy, raw, cut);
                        int k = reply_parse(copy, cut, NULL, &r);
                        assert_true(k == 0 || k == -EBADMSG);
                        reply_done(&r);
                }
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_corpus),
                cmocka_unit_test(test_corpus_thread_ids),
                cmocka_unit_test(test_thread_ids_cleaned),
                cmocka_unit_test(test_headers_unfolded_and_encoded_words),
                cmocka_unit_test(test_date_forms),
                cmocka_unit_test(test_from_address_only),
                cmocka_unit_test(test_not_a_message),
                cmocka_unit_test(test_html_to_text),
                cmocka_unit_test(test_plain_preferred_to_html),
                cmocka_unit_test(test_attachment_names),
                cmocka_unit_test(test_text_cut_to_max_text),
                cmocka_unit_test(test_quotes_cut),
                cmocka_unit_test(test_intent),
                cmocka_unit_test(test_year_needs_a_date),
                cmocka_unit_test(test_task),
                cmocka_unit_test(test_limit_size),
                cmocka_unit_test(test_limit_parts),
                cmocka_unit_test(test_limit_depth),
                cmocka_unit_test(test_garbage_never_crashes),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
