/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <utf8proc.h>

#include "render-text.h"
#include "render.h"
#include "template.h"

/* ---- fixtures ----------------------------------------------------------- */

static const char *const leads[] = { "Sở Tài chính", NULL };
static const char *const supports[] = { "Sở Kế hoạch và Đầu tư", "Kho bạc Nhà nước tỉnh", NULL };
static struct due due_30_4 = { .day = 0, .minute = -1 };

static int64_t at(const char *local) {
        int64_t t;
        assert_int_equal(parse_instant(local, &t), 0);
        return t;
}

static int setup(void **state) {
        setenv("TZ", "Asia/Ho_Chi_Minh", 1);
        tzset();
        due_30_4.day = days_from_civil(2024, 4, 30);
        return 0;
}

static struct render_task task_5c(void) {
        return (struct render_task) {
                .id = 42,
                .document_number = "2417/UBND-KTTH",
                .document_subject = "V/v triển khai các nhiệm vụ trọng tâm quý II năm 2025",
                .ref = "5.c",
                .title = "Báo cáo đánh giá nguồn lực",
                .detail = "Tổng hợp số liệu của các huyện.",
                .due = &due_30_4,
                .status = TASK_OPEN,
                .leads = leads,
                .supports = supports,
                .role = _ROLE_INVALID,
        };
}

static const struct render_recipient per_task_recipients[] = {
        { "Sở Tài chính", ROLE_LEAD },
        { "Sở Kế hoạch và Đầu tư", ROLE_SUPPORT },
        { "Kho bạc Nhà nước tỉnh", ROLE_SUPPORT },
};
static const struct render_recipient stc = { "Sở Tài chính", _ROLE_INVALID };

static struct render_templates *templates(enum language lang) {
        struct render_templates *t = NULL;
        char *error = NULL;
        int r = render_templates_new(lang, NULL, 0, &t, &error);
        if (r < 0)
                fail_msg("%s", error ?: strerror(-r));
        return t;
}

static struct render_output render_ok(enum language lang, const struct render_input *in) {
        _cleanup_(render_templates_freep) struct render_templates *t = templates(lang);
        struct render_output o = {};
        assert_int_equal(render_message(t, in, &o), 0);
        return o;
}

static struct render_output render_task(enum language lang, const struct render_task *task, int64_t now) {
        struct render_input in = {
                .kind = RENDER_REMINDER, .now = now,
                .recipients = per_task_recipients, .n_recipients = ELEMENTSOF(per_task_recipients),
                .tasks = task, .n_tasks = 1,
        };
        return render_ok(lang, &in);
}

/* Renders with one template replaced. */
static int render_with(const char *name, const char *text, const struct render_input *in,
                       struct render_output *ret, char **ret_error) {
        _cleanup_(render_templates_freep) struct render_templates *t = NULL;
        struct render_template_text o = { name, text };
        int r = render_templates_new(LANGUAGE_VI, &o, 1, &t, ret_error);
        if (r < 0)
                return r;
        return render_message(t, in, ret);
}

static int template_error(const char *name, const char *text, char **ret_error) {
        _cleanup_(render_templates_freep) struct render_templates *t = NULL;
        struct render_template_text o = { name, text };
        int r = render_templates_new(LANGUAGE_VI, &o, 1, &t, ret_error);
        assert_null(r < 0 ? NULL : t);
        return r;
}

/* ---- built-in templates ------------------------------------------------- */

static char *read_file(const char *path) {
        FILE *f = fopen(path, "re");
        char *data;
        long n;

        assert_non_null(f);
        assert_int_equal(fseek(f, 0, SEEK_END), 0);
        n = ftell(f);
        rewind(f);
        data = malloc(n + 1);
        assert_int_equal(fread(data, 1, n, f), (size_t) n);
        data[n] = 0;
        fclose(f);
        return data;
}

static void test_builtins_match_conf_templates(void **state) {
        const char *src = getenv("DEADLINED_SOURCE");
        const char *langs[] = { "vi", "en" };
        size_t files = 0;

        assert_non_null(src);
        for (size_t l = 0; l < ELEMENTSOF(langs); l++) {
                char dir[4096];
                struct dirent *de;
                DIR *d;

                snprintf(dir, sizeof dir, "%s/conf/templates/%s", src, langs[l]);
                d = opendir(dir);
                assert_non_null(d);
                while ((de = readdir(d))) {
                        char path[8192];
                        char *text;
                        const char *builtin;

                        if (de->d_name[0] == '.')
                                continue;
                        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
                        text = read_file(path);
                        builtin = render_builtin_template(l == 0 ? LANGUAGE_VI : LANGUAGE_EN, de->d_name);
                        if (!builtin || strcmp(builtin, text) != 0)
                                fail_msg("%s differs from the built-in templates: run make", path);
                        free(text);
                        files++;
                }
                closedir(d);
        }
        assert_int_equal(files, render_builtins_count);
}

static void test_builtins_are_complete_nfc_utf8(void **state) {
        for (enum language l = 0; l < _LANGUAGE_MAX; l++)
                for (const char *const *n = render_template_names; *n; n++) {
                        const char *text = render_builtin_template(l, *n);
                        uint8_t *nfc;

                        assert_non_null(text);
                        nfc = utf8proc_NFC((const uint8_t *) text);
                        assert_non_null(nfc);
                        assert_string_equal((const char *) nfc, text);
                        free(nfc);
                }
        assert_null(render_builtin_template(LANGUAGE_VI, "nosuch.txt"));
        assert_int_equal(render_builtins_count, 2 * 24);
}

static void test_report_letter_names_the_period_and_totals(void **state) {
        const struct render_recipient vp = { "Văn phòng UBND tỉnh", _ROLE_INVALID };
        struct render_input in = {
                .kind = RENDER_REPORT,
                .now = 1748826000, /* 2025-06-02 08:00 +07:00 */
                .recipients = &vp,
                .n_recipients = 1,
                .report_period = "2025-05",
                .report_from = days_from_civil(2025, 5, 1),
                .report_to = days_from_civil(2025, 5, 31),
                .report_on_time = 4, .report_late = 3, .report_open = 2, .report_overdue = 1,
        };
        struct render_output o = render_ok(LANGUAGE_VI, &in);

        assert_string_equal(o.subject, "[Báo cáo] Tình hình thực hiện nhiệm vụ tháng 5/2025");
        assert_non_null(strstr(o.text, "Kính gửi: Văn phòng UBND tỉnh."));
        assert_non_null(strstr(o.text, "từ ngày 1/5/2025 đến ngày 31/5/2025"));
        assert_non_null(strstr(o.text, "Tổng số nhiệm vụ: 10\n- Hoàn thành đúng hạn: 4\n- Hoàn thành quá hạn: 3\n"
                                       "- Đang thực hiện, trong hạn: 2\n- Đang thực hiện, quá hạn: 1\n"));
        /* The HTML is a fragment for the top of the report's page. */
        assert_null(strstr(o.html, "<html"));
        assert_non_null(strstr(o.html, "<strong>Văn phòng UBND tỉnh</strong>"));
        render_output_done(&o);

        in.report_period = "2025-W19";
        o = render_ok(LANGUAGE_EN, &in);
        assert_string_equal(o.subject, "[Report] Progress of assigned tasks, week 19 of 2025");
        render_output_done(&o);
        in.report_period = "2025-05";
        o = render_ok(LANGUAGE_EN, &in);
        assert_string_equal(o.subject, "[Report] Progress of assigned tasks, May 2025");
        render_output_done(&o);
        in.report_period = NULL;
        _cleanup_(render_templates_freep) struct render_templates *t = templates(LANGUAGE_VI);
        assert_int_equal(render_message(t, &in, &o), -EINVAL);
}

static void test_builtin_sets_build(void **state) {
        for (enum language l = 0; l < _LANGUAGE_MAX; l++) {
                struct render_templates *t = templates(l);
                assert_int_equal(render_templates_language(t), l);
                render_templates_free(t);
        }
        assert_null(render_templates_free(NULL));
}

/* ---- template language -------------------------------------------------- */

static void test_unknown_placeholder_is_an_error(void **state) {
        char *error = NULL;

        assert_int_equal(template_error("task.txt", "Kính gửi: {{recipient}}\n{{nonsense}}\n", &error), -EINVAL);
        assert_string_equal(error, "vi/task.txt:2: unknown placeholder {{nonsense}}");
        free(error);

        /* Even in a section that renders nothing for this message. */
        assert_int_equal(template_error("digest.html", "{{#tasks}}\n{{#detail}}{{detial}}{{/detail}}\n{{/tasks}}\n",
                                        &error), -EINVAL);
        assert_string_equal(error, "vi/digest.html:2: unknown placeholder {{detial}}");
        free(error);

        /* A list item's variables exist only inside its section. */
        assert_int_equal(template_error("task.txt", "{{name}}\n", &error), -EINVAL);
        assert_string_equal(error, "vi/task.txt:1: unknown placeholder {{name}}");
        free(error);
        {
                _cleanup_(render_templates_freep) struct render_templates *t = NULL;
                struct render_template_text o = { "task.txt", "{{#recipients}}{{name}}{{/recipients}}\n" };
                assert_int_equal(render_templates_new(LANGUAGE_VI, &o, 1, &t, NULL), 0);
        }
}

static void test_template_syntax_errors_name_the_line(void **state) {
        struct { const char *text, *error; } cases[] = {
                { "a\n{{#tasks}}\nb\n", "vi/task.txt:2: {{#tasks}} is never closed" },
                { "{{#tasks}}{{/detail}}", "vi/task.txt:1: {{/detail}} closes {{#tasks}}" },
                { "x\n\n{{/tasks}}", "vi/task.txt:3: {{/tasks}} closes no section" },
                { "a {{title", "vi/task.txt:1: unterminated {{" },
                { "{{{title}}}", "vi/task.txt:1: unescaped output ({{{…}}} or {{&…}}) is not supported" },
                { "{{&title}}", "vi/task.txt:1: unescaped output ({{{…}}} or {{&…}}) is not supported" },
                { "{{tasks}}", "vi/task.txt:1: {{tasks}} is a list: use it as a section, {{#tasks}}…{{/tasks}}" },
                { "{{Title}}", "vi/task.txt:1: bad placeholder {{Title}}: names are a-z, 0-9 and _" },
                { "{{}}", "vi/task.txt:1: bad placeholder {{}}: names are a-z, 0-9 and _" },
                { "{{ti\ntle}}", "vi/task.txt:1: a tag must not span lines" },
                { "{{#title}}{{#title}}{{#title}}{{#title}}{{#title}}{{#title}}{{#title}}{{#title}}{{#title}}",
                  "vi/task.txt:1: sections nested deeper than 8" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char *error = NULL;
                assert_int_equal(template_error("task.txt", cases[i].text, &error), -EINVAL);
                assert_string_equal(error, cases[i].error);
                free(error);
        }
}

static void test_unknown_override_and_oversized_template(void **state) {
        char *error = NULL, *big;

        assert_int_equal(template_error("nosuch.txt", "x", &error), -EINVAL);
        assert_string_equal(error, "vi/nosuch.txt: not a template this program uses");
        free(error);

        big = malloc(TEMPLATE_SIZE_MAX + 2);
        memset(big, 'x', TEMPLATE_SIZE_MAX + 1);
        big[TEMPLATE_SIZE_MAX + 1] = 0;
        assert_int_equal(template_error("task.txt", big, &error), -EINVAL);
        assert_non_null(strstr(error, "larger than"));
        free(error);
        free(big);
}

static void test_sections_lists_and_standalone_lines(void **state) {
        struct render_task tasks[3] = { task_5c(), task_5c(), task_5c() };
        struct render_input in = {
                .kind = RENDER_REMINDER, .now = at("2024-04-27T08:00"),
                .recipients = &stc, .n_recipients = 1, .tasks = tasks, .n_tasks = 3,
        };
        struct render_output o = {};

        tasks[1].ref = NULL;
        tasks[1].title = "Hai";
        tasks[2].ref = "7";
        tasks[2].title = "Ba";
        tasks[2].detail = NULL;
        /* HTML templates are not post-processed, so this shows the
         * template language's own output exactly. */
        assert_int_equal(render_with("digest.html",
                                     "<ol>\n"
                                     "{{#tasks}}\n"
                                     "  <li>{{index}}{{#first}} first{{/first}}{{#last}} last{{/last}}: "
                                     "{{#ref}}{{ref}} {{/ref}}{{title}}</li>\n"
                                     "    {{^detail}}\n"
                                     "  <li>no detail</li>\n"
                                     "    {{/detail}}\n"
                                     "{{/tasks}}\n"
                                     "{{! a comment }}\n"
                                     "</ol>{{^tasks}}none{{/tasks}}\n",
                                     &in, &o, NULL), 0);
        assert_string_equal(o.html,
                            "<ol>\n"
                            "  <li>1 first: 5.c Báo cáo đánh giá nguồn lực</li>\n"
                            "  <li>2: Hai</li>\n"
                            "  <li>3 last: 7 Ba</li>\n"
                            "  <li>no detail</li>\n"
                            "</ol>\n");
        render_output_done(&o);
}

static void test_counts_print_zero_but_are_false(void **state) {
        struct render_task tasks[2] = { task_5c(), task_5c() };
        struct render_input in = {
                .kind = RENDER_REMINDER, .now = at("2024-04-27T08:00"),
                .recipients = &stc, .n_recipients = 1, .tasks = tasks, .n_tasks = 2,
        };
        struct render_output o = {};

        assert_int_equal(render_with("digest.html", "{{n_overdue}}/{{n_upcoming}}/{{n_tasks}}"
                                     "{{#n_overdue}} some overdue{{/n_overdue}}{{^n_overdue}} none overdue{{/n_overdue}}",
                                     &in, &o, NULL), 0);
        assert_string_equal(o.html, "0/2/2 none overdue");
        render_output_done(&o);
}

static void test_html_escapes_every_value(void **state) {
        struct render_task t = task_5c();
        struct render_output o;

        t.title = "<script>alert('x')</script> & \"quotes\"";
        t.detail = "<b>bold</b>";
        t.ref = "<i>";
        o = render_task(LANGUAGE_VI, &t, at("2024-04-27T08:00"));
        assert_null(strstr(o.html, "<script>"));
        assert_null(strstr(o.html, "<b>bold"));
        assert_null(strstr(o.html, "<i>"));
        assert_non_null(strstr(o.html, "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"));
        assert_non_null(strstr(o.html, "&lt;b&gt;bold&lt;/b&gt;"));
        /* Plain text and the subject carry the text as it is. */
        assert_non_null(strstr(o.text, "<script>alert('x')</script> & \"quotes\""));
        assert_non_null(strstr(o.subject, "<i> — <script>"));
        render_output_done(&o);
}

/* ---- subjects ----------------------------------------------------------- */

/* A webhook body: every value the inside of a JSON string, whatever it
 * holds; subject, text, kind and event_id at the top; text cut. */
static void test_body_template_escapes_values_as_json_strings(void **state) {
        _cleanup_(render_templates_freep) struct render_templates *t = templates(LANGUAGE_VI);
        _cleanup_(template_freep) struct template *body = NULL;
        _cleanup_(render_output_done) struct render_output o = {};
        _cleanup_free_ char *error = NULL;
        struct render_task task = task_5c();

        task.title = "Trả lời \"gấp\" \\ C:\\dữ liệu\tđỏ\x01\nhết";
        assert_int_equal(render_body_template_parse("b.json",
                                                    "{ \"s\": \"{{subject}}\", \"k\": \"{{kind}}\", "
                                                    "\"id\": \"{{event_id}}\", \"t\": \"{{title}}\", "
                                                    "\"x\": \"{{text}}\", \"n\": {{n_tasks}} }",
                                                    &body, &error),
                         0);
        struct render_input in = {
                .kind = RENDER_OVERDUE, .now = at("2024-05-02T08:00"),
                .recipients = &stc, .n_recipients = 1, .tasks = &task, .n_tasks = 1,
                .webhook = true, .body = body, .body_text_max = 40, .event_id = "msg_1",
        };
        assert_int_equal(render_message(t, &in, &o), 0);
        assert_non_null(o.body);
        /* Quotes and backslashes escaped; the control characters a title
         * loses when it is cleaned; the text's line breaks as \n. */
        assert_non_null(strstr(o.body, "\"t\": \"Trả lời \\\"gấp\\\" \\\\ C:\\\\dữ liệu đỏ hết\""));
        assert_non_null(strstr(o.body, "\"x\": \"Kính gửi: Sở Tài chính.\\n\\n"));
        assert_non_null(strstr(o.body, "\"k\": \"overdue\""));
        assert_non_null(strstr(o.body, "\"id\": \"msg_1\""));
        assert_non_null(strstr(o.body, "\"n\": 1 }"));
        /* {{text}} cut to 40 characters, ending in "…". */
        const char *x = strstr(o.body, "\"x\": \"");
        assert_non_null(x);
        x += 6;
        const char *end = strstr(x, "\", \"n\"");
        assert_non_null(end);
        size_t chars = 0;
        for (const char *c = x; c < end; c++)
                chars += ((unsigned char) *c & 0xc0) != 0x80 && *c != '\\';
        assert_true(chars <= 40);
        assert_memory_equal(end - strlen("…"), "…", strlen("…"));
}

static void test_body_template_unknown_placeholder_names_file_and_line(void **state) {
        _cleanup_(template_freep) struct template *body = NULL;
        _cleanup_free_ char *error = NULL;

        assert_int_equal(render_body_template_parse("teams.json", "{\n  \"a\": \"{{subjekt}}\"\n}", &body, &error),
                         -EINVAL);
        assert_null(body);
        assert_non_null(error);
        assert_non_null(strstr(error, "teams.json:2:"));
        assert_non_null(strstr(error, "subjekt"));
}

static void test_subject_reminder_vi(void **state) {
        struct render_task t = task_5c();
        struct render_output o = render_task(LANGUAGE_VI, &t, at("2024-04-27T08:00"));
        assert_string_equal(o.subject, "[Nhắc việc] Còn 3 ngày: 5.c — Báo cáo đánh giá nguồn lực (hạn 30/4/2024)");
        render_output_done(&o);
}

/* Webhooks carry the subject and text only: the HTML is left out, and
 * nothing else changes but what {{webhook}} says. */
static void test_webhook_leaves_the_html_out(void **state) {
        struct render_task t = task_5c();
        struct render_input in = {
                .kind = RENDER_REMINDER, .now = at("2024-04-27T08:00"),
                .recipients = per_task_recipients, .n_recipients = ELEMENTSOF(per_task_recipients),
                .tasks = &t, .n_tasks = 1,
        };
        struct render_output full = render_ok(LANGUAGE_VI, &in);
        in.webhook = true;
        struct render_output lean = render_ok(LANGUAGE_VI, &in);

        assert_non_null(full.html);
        assert_null(lean.html);
        assert_string_equal(lean.subject, full.subject);
        /* Only the closing line names the medium. */
        assert_non_null(strstr(full.text, "(Thư điện tử này được gửi tự động ngày 27/4/2024.)"));
        assert_non_null(strstr(lean.text, "(Tin này được gửi tự động ngày 27/4/2024.)"));
        assert_int_equal(strlen(full.text) - strlen("Thư điện tử"), strlen(lean.text) - strlen("Tin"));
        render_output_done(&full);
        render_output_done(&lean);
}

static void test_subject_overdue_vi(void **state) {
        struct render_task t = task_5c();
        struct render_output o = render_task(LANGUAGE_VI, &t, at("2024-05-02T08:00"));
        assert_string_equal(o.subject, "[Quá hạn] Quá hạn 2 ngày: 5.c — Báo cáo đánh giá nguồn lực (hạn 30/4/2024)");
        render_output_done(&o);
}

static void test_subject_due_today_and_hours(void **state) {
        struct render_task t = task_5c();
        struct due at_five = { .day = due_30_4.day, .minute = 17 * 60 };
        struct render_output o = render_task(LANGUAGE_VI, &t, at("2024-04-30T08:00"));

        assert_string_equal(o.subject, "[Nhắc việc] Hạn hôm nay: 5.c — Báo cáo đánh giá nguồn lực (hạn 30/4/2024)");
        render_output_done(&o);

        t.due = &at_five;
        o = render_task(LANGUAGE_VI, &t, at("2024-04-30T12:00"));
        assert_string_equal(o.subject,
                            "[Nhắc việc] Còn 5 giờ: 5.c — Báo cáo đánh giá nguồn lực (hạn 30/4/2024 17:00)");
        render_output_done(&o);
}

static void test_subject_en(void **state) {
        struct render_task t = task_5c();
        struct render_output o = render_task(LANGUAGE_EN, &t, at("2024-04-27T08:00"));

        assert_string_equal(o.subject, "[Reminder] 3 days left: 5.c — Báo cáo đánh giá nguồn lực (due 30/4/2024)");
        render_output_done(&o);
        o = render_task(LANGUAGE_EN, &t, at("2024-05-02T08:00"));
        assert_string_equal(o.subject, "[Overdue] 2 days overdue: 5.c — Báo cáo đánh giá nguồn lực (due 30/4/2024)");
        render_output_done(&o);
}

static void test_subject_without_ref_or_deadline(void **state) {
        struct render_task t = task_5c();
        struct render_output o;

        t.ref = NULL;
        t.due = NULL;
        o = render_task(LANGUAGE_VI, &t, at("2024-04-27T08:00"));
        assert_string_equal(o.subject, "[Nhắc việc] Báo cáo đánh giá nguồn lực");
        assert_null(strstr(o.text, "Thời hạn"));
        render_output_done(&o);
}

static void test_long_title_is_shortened_in_the_subject_only(void **state) {
        struct render_task t = task_5c();
        struct render_output o;
        char title[2000] = "";

        for (int i = 0; i < 40; i++)
                strcat(title, "Rà soát, tham mưu điều chuyển vốn ");
        t.title = title;
        o = render_task(LANGUAGE_VI, &t, at("2024-04-27T08:00"));
        assert_non_null(strstr(o.subject, "… (hạn 30/4/2024)"));
        assert_true(strlen(o.subject) < 200);
        /* The full title is in the body, trimmed of its final blank. */
        title[strlen(title) - 1] = 0;
        assert_non_null(strstr(o.text, title));
        render_output_done(&o);
}

/* ---- bodies ------------------------------------------------------------- */

static void test_per_task_body_says_everything(void **state) {
        struct render_task t = task_5c();
        struct render_input in = {
                .kind = RENDER_REMINDER, .now = at("2024-04-27T08:00"),
                .recipients = per_task_recipients, .n_recipients = ELEMENTSOF(per_task_recipients),
                .tasks = &t, .n_tasks = 1, .base_url = "https://nhacviec.sonha.gov.vn/",
        };
        struct render_output o = render_ok(LANGUAGE_VI, &in);

        assert_string_equal(o.text,
                "Kính gửi:\n"
                "- Sở Tài chính (chủ trì);\n"
                "- Sở Kế hoạch và Đầu tư (phối hợp);\n"
                "- Kho bạc Nhà nước tỉnh (phối hợp).\n"
                "\n"
                "Hệ thống theo dõi, đôn đốc thực hiện nhiệm vụ trân trọng nhắc Quý cơ quan về thời hạn hoàn thành "
                "nhiệm vụ sau.\n"
                "\n"
                "- Văn bản giao nhiệm vụ: số 2417/UBND-KTTH (V/v triển khai các nhiệm vụ trọng tâm quý II năm 2025)\n"
                "- Nhiệm vụ 5.c: Báo cáo đánh giá nguồn lực\n"
                "- Thời hạn hoàn thành: thứ Ba, ngày 30/4/2024 (còn 3 ngày)\n"
                "- Cơ quan chủ trì: Sở Tài chính\n"
                "- Cơ quan phối hợp: Sở Kế hoạch và Đầu tư, Kho bạc Nhà nước tỉnh\n"
                "- Nội dung cụ thể:\n"
                "Tổng hợp số liệu của các huyện.\n"
                "- Xem chi tiết: https://nhacviec.sonha.gov.vn/tasks/42\n"
                "\n"
                "Đề nghị Quý cơ quan chủ động triển khai, bảo đảm hoàn thành nhiệm vụ đúng thời hạn và báo cáo "
                "kết quả.\n"
                "\n"
                "Trân trọng./.\n"
                "\n"
                "Hệ thống theo dõi, đôn đốc thực hiện nhiệm vụ\n"
                "\n"
                "(Thư điện tử này được gửi tự động ngày 27/4/2024.)\n");
        assert_non_null(strstr(o.html, "<a href=\"https://nhacviec.sonha.gov.vn/tasks/42\">"));
        render_output_done(&o);
}

/* A message To the lead and Cc the cooperating agencies names each one's
 * role in the task, and tells none of them a role that is not its own. */
static void test_per_task_message_names_each_role(void **state) {
        static const char *const to_leads[] = { "Sở Tài chính", NULL };
        static const char *const to_supports[] = { "Sở Kế hoạch và Đầu tư", "Kho bạc Nhà nước tỉnh", NULL };
        struct render_task t = task_5c();
        struct render_input in = {
                .kind = RENDER_REMINDER, .now = at("2024-04-27T08:00"),
                .recipients = per_task_recipients, .n_recipients = ELEMENTSOF(per_task_recipients),
                .tasks = &t, .n_tasks = 1,
        };
        struct render_output o;

        t.to_leads = to_leads;
        t.to_supports = to_supports;
        o = render_ok(LANGUAGE_VI, &in);
        assert_non_null(strstr(o.text, "- Vai trò của các cơ quan: chủ trì: Sở Tài chính; phối hợp: Sở Kế hoạch và "
                                       "Đầu tư, Kho bạc Nhà nước tỉnh\n"));
        assert_null(strstr(o.text, "Vai trò của Quý cơ quan"));
        assert_non_null(strstr(o.html, ">chủ trì: Sở Tài chính; phối hợp: Sở Kế hoạch và Đầu tư, Kho bạc Nhà nước "
                                       "tỉnh</td>"));
        render_output_done(&o);
        o = render_ok(LANGUAGE_EN, &in);
        assert_non_null(strstr(o.text, "- Roles: lead: Sở Tài chính; cooperating: Sở Kế hoạch và Đầu tư, Kho bạc "
                                       "Nhà nước tỉnh\n"));
        assert_null(strstr(o.text, "Your role"));
        render_output_done(&o);

        /* Recipients who share a role are told it as theirs. */
        t.role = ROLE_LEAD;
        t.to_supports = NULL;
        in.n_recipients = 1;
        o = render_ok(LANGUAGE_VI, &in);
        assert_non_null(strstr(o.text, "- Vai trò của Quý cơ quan: chủ trì\n"));
        assert_null(strstr(o.text, "Vai trò của các cơ quan"));
        render_output_done(&o);
}

static void test_single_recipient_role_and_wording(void **state) {
        struct render_task t = task_5c();
        struct render_recipient r = { "Kho bạc Nhà nước tỉnh", ROLE_SUPPORT };
        struct render_input in = {
                .kind = RENDER_REMINDER, .now = at("2024-04-27T08:00"),
                .recipients = &r, .n_recipients = 1, .tasks = &t, .n_tasks = 1,
                .signature = "Văn phòng UBND tỉnh Sơn Hà",
        };
        struct render_output o;

        t.role = ROLE_SUPPORT;
        o = render_ok(LANGUAGE_VI, &in);
        assert_true(strncmp(o.text, "Kính gửi: Kho bạc Nhà nước tỉnh.\n\nVăn phòng UBND tỉnh Sơn Hà trân trọng", 80) == 0);
        assert_non_null(strstr(o.text, "- Vai trò của Quý cơ quan: phối hợp\n"));
        assert_non_null(strstr(o.text, "phối hợp chặt chẽ với cơ quan chủ trì"));
        assert_null(strstr(o.text, "- Xem chi tiết"));
        render_output_done(&o);

        /* Overdue wording wins over the role's. */
        in.now = at("2024-05-03T08:00");
        o = render_ok(LANGUAGE_VI, &in);
        assert_non_null(strstr(o.text, "đã quá thời hạn hoàn thành"));
        assert_non_null(strstr(o.text, "(quá hạn 3 ngày)"));
        assert_non_null(strstr(o.text, "khẩn trương hoàn thành"));
        render_output_done(&o);
}

static void test_no_blank_line_runs_when_fields_are_missing(void **state) {
        struct render_task t = { .id = 1, .title = "Tối thiểu", .due = &due_30_4, .role = _ROLE_INVALID };
        struct render_output o = render_task(LANGUAGE_VI, &t, at("2024-04-27T08:00"));

        assert_null(strstr(o.text, "\n\n\n"));
        assert_true(o.text[0] != '\n');
        assert_null(strstr(o.text, "Văn bản"));
        assert_null(strstr(o.text, "Cơ quan chủ trì"));
        assert_null(strstr(o.text, "Nội dung"));
        render_output_done(&o);
}

/* A deadline later than the one first set is an extension, said so with
 * both dates; the same or an earlier one (a correction) says nothing. */
static void test_an_extended_deadline_says_so(void **state) {
        struct due original = { .day = days_from_civil(2024, 4, 15), .minute = -1 };
        struct due same = due_30_4;
        struct render_task t = task_5c();
        struct render_output o;

        t.original_due = &original;
        o = render_task(LANGUAGE_VI, &t, at("2024-04-27T08:00"));
        assert_non_null(strstr(o.text, "- Hạn đã gia hạn đến 30/4/2024 (hạn ban đầu: 15/4/2024)\n"));
        assert_non_null(strstr(o.html, "Hạn đã gia hạn đến 30/4/2024 (hạn ban đầu: 15/4/2024)"));
        render_output_done(&o);
        o = render_task(LANGUAGE_EN, &t, at("2024-04-27T08:00"));
        assert_non_null(strstr(o.text, "- Deadline extended to 30/4/2024 (originally 15/4/2024)\n"));
        render_output_done(&o);

        original.day = days_from_civil(2024, 5, 15);
        for (int i = 0; i < 2; i++) {
                t.original_due = i == 0 ? &original : &same;
                o = render_task(LANGUAGE_VI, &t, at("2024-04-27T08:00"));
                assert_null(strstr(o.text, "gia hạn"));
                render_output_done(&o);
        }
}

/* An assignment notice names the task, its deadline with the time left and
 * the agency's role; with no reminder left before the deadline it says so,
 * and otherwise says nothing of reminders. */
static void test_assignment_notice(void **state) {
        struct render_task t = task_5c();
        struct render_recipient one = { "Sở Tài chính", ROLE_LEAD };
        struct render_input in = {
                .kind = RENDER_ASSIGNMENT, .now = at("2024-04-22T10:00"),
                .recipients = &one, .n_recipients = 1, .tasks = &t, .n_tasks = 1,
        };
        struct render_output o;

        t.role = ROLE_LEAD;
        o = render_ok(LANGUAGE_VI, &in);
        assert_string_equal(o.subject, "[Giao nhiệm vụ] 5.c — Báo cáo đánh giá nguồn lực (hạn 30/4/2024)");
        assert_non_null(strstr(o.text, "Quý cơ quan được giao thực hiện nhiệm vụ sau."));
        assert_non_null(strstr(o.text, "- Thời hạn hoàn thành: thứ Ba, ngày 30/4/2024 (còn 8 ngày)\n"));
        assert_non_null(strstr(o.text, "- Vai trò của Quý cơ quan: chủ trì\n"));
        assert_null(strstr(o.text, "lượt nhắc"));
        assert_null(strstr(o.html, "lượt nhắc"));
        render_output_done(&o);

        t.no_reminder_left = true;
        o = render_ok(LANGUAGE_VI, &in);
        assert_non_null(strstr(o.text, "không còn lượt nhắc nào trước hạn"));
        assert_non_null(strstr(o.html, "Không còn lượt nhắc nào trước hạn"));
        render_output_done(&o);
        o = render_ok(LANGUAGE_EN, &in);
        assert_string_equal(o.subject, "[New task] 5.c — Báo cáo đánh giá nguồn lực (due 30/4/2024)");
        assert_non_null(strstr(o.text, "no reminder is left before the deadline"));
        render_output_done(&o);

        /* Several tasks for one agency: one numbered section each. */
        struct render_task two[2] = { task_5c(), task_5c() };
        two[1].title = "Kiểm tra tiến độ";
        in.tasks = two;
        in.n_tasks = 2;
        o = render_ok(LANGUAGE_VI, &in);
        assert_string_equal(o.subject, "[Giao nhiệm vụ] 2 nhiệm vụ mới — Sở Tài chính");
        assert_non_null(strstr(o.text, "\n1. Nhiệm vụ 5.c: Báo cáo đánh giá nguồn lực\n"));
        assert_non_null(strstr(o.text, "\n2. Nhiệm vụ 5.c: Kiểm tra tiến độ\n"));
        render_output_done(&o);

        in.n_tasks = 0;
        o = (struct render_output) {};
        _cleanup_(render_templates_freep) struct render_templates *tpl = templates(LANGUAGE_VI);
        assert_int_equal(render_message(tpl, &in, &o), -EINVAL);
}

static void test_digest_subject_and_one_section_per_task(void **state) {
        struct render_task tasks[4] = { task_5c(), task_5c(), task_5c(), task_5c() };
        struct render_input in = {
                .kind = RENDER_REMINDER, .now = at("2024-04-27T08:00"),
                .recipients = &stc, .n_recipients = 1, .tasks = tasks, .n_tasks = 4,
        };
        struct due later = { .day = days_from_civil(2024, 5, 10), .minute = -1 };
        struct render_output o;

        for (size_t i = 0; i < 4; i++) {
                tasks[i].id = 100 + i;
                tasks[i].role = i % 2 ? ROLE_SUPPORT : ROLE_LEAD;
        }
        tasks[3].due = &later;
        o = render_ok(LANGUAGE_VI, &in);
        assert_string_equal(o.subject, "[Nhắc việc] 4 nhiệm vụ sắp đến hạn — Sở Tài chính");
        assert_true(strncmp(o.text, "Kính gửi: Sở Tài chính.\n", 25) == 0);
        for (int i = 1; i <= 4; i++) {
                char line[96];
                snprintf(line, sizeof line, "\n%d. [#%d] Nhiệm vụ 5.c: Báo cáo đánh giá nguồn lực\n", i, 99 + i);
                assert_non_null(strstr(o.text, line));
        }
        assert_non_null(strstr(o.text, "   - Vai trò của Quý cơ quan: chủ trì\n"));
        assert_non_null(strstr(o.text, "   - Vai trò của Quý cơ quan: phối hợp\n"));
        assert_non_null(strstr(o.text, "(còn 13 ngày)"));
        render_output_done(&o);

        /* One of them overdue, then all. */
        struct due past = { .day = days_from_civil(2024, 4, 25), .minute = -1 };
        tasks[0].due = &past;
        o = render_ok(LANGUAGE_VI, &in);
        assert_string_equal(o.subject, "[Nhắc việc] 4 nhiệm vụ cần xử lý, 1 quá hạn — Sở Tài chính");
        assert_non_null(strstr(o.text, "trong đó có 1 nhiệm vụ đã quá thời hạn hoàn thành"));
        render_output_done(&o);
        for (size_t i = 0; i < 4; i++)
                tasks[i].due = &past;
        o = render_ok(LANGUAGE_VI, &in);
        assert_string_equal(o.subject, "[Quá hạn] 4 nhiệm vụ quá hạn — Sở Tài chính");
        render_output_done(&o);
        o = render_ok(LANGUAGE_EN, &in);
        assert_string_equal(o.subject, "[Overdue] 4 overdue tasks — Sở Tài chính");
        render_output_done(&o);
}

static void test_escalation(void **state) {
        const char *const sxd[] = { "Sở Xây dựng", NULL };
        struct render_task tasks[3] = { task_5c(), task_5c(), task_5c() };
        struct render_recipient vp = { "Văn phòng UBND tỉnh", _ROLE_INVALID };
        struct render_input in = {
                .kind = RENDER_ESCALATION, .now = at("2024-05-05T08:00"),
                .recipients = &vp, .n_recipients = 1, .tasks = tasks, .n_tasks = 3,
                .escalation_after = 3 * SEC_PER_DAY,
        };
        struct render_output o;

        tasks[1].leads = sxd;
        o = render_ok(LANGUAGE_VI, &in);
        assert_string_equal(o.subject, "[Báo cáo quá hạn] 3 nhiệm vụ quá hạn của Sở Tài chính, Sở Xây dựng");
        assert_non_null(strstr(o.text, "Kính gửi: Văn phòng UBND tỉnh.\n"));
        assert_non_null(strstr(o.text, "tính đến ngày 5/5/2024, có 3 nhiệm vụ đã quá thời hạn hoàn thành từ 3 ngày "
                                       "trở lên nhưng chưa được báo cáo hoàn thành"));
        assert_non_null(strstr(o.text, "   - Thời hạn hoàn thành: thứ Ba, ngày 30/4/2024 (quá hạn 5 ngày)\n"));
        assert_non_null(strstr(o.text, "   - Cơ quan chủ trì: Sở Xây dựng\n"));
        render_output_done(&o);

        in.n_tasks = 1;
        o = render_ok(LANGUAGE_VI, &in);
        assert_string_equal(o.subject,
                            "[Báo cáo quá hạn] Quá hạn 5 ngày: 5.c — Báo cáo đánh giá nguồn lực (Sở Tài chính chủ trì)");
        render_output_done(&o);
        o = render_ok(LANGUAGE_EN, &in);
        assert_string_equal(o.subject,
                            "[Overdue report] 5 days overdue: 5.c — Báo cáo đánh giá nguồn lực (lead: Sở Tài chính)");
        assert_non_null(strstr(o.text, "As of 5/5/2024, 1 task is past the deadline by 3 days or more"));
        render_output_done(&o);
}

static void test_test_message_needs_no_task(void **state) {
        struct render_input in = {
                .kind = RENDER_TEST, .now = at("2024-04-27T08:00"), .recipients = &stc, .n_recipients = 1,
        };
        struct render_output o = render_ok(LANGUAGE_VI, &in);

        assert_string_equal(o.subject, "[Thử nghiệm] Kiểm tra nhận thư nhắc việc — Sở Tài chính");
        assert_non_null(strstr(o.text, "Đây là thư thử nghiệm"));
        assert_non_null(strstr(o.text, "địa chỉ thư điện tử đã được cấu hình đúng"));
        assert_non_null(strstr(o.html, "<strong>Sở Tài chính</strong>"));
        render_output_done(&o);

        /* The same test by webhook speaks of the webhook, not of e-mail. */
        in.webhook = true;
        o = render_ok(LANGUAGE_VI, &in);
        assert_string_equal(o.subject, "[Thử nghiệm] Kiểm tra nhận tin nhắc việc — Sở Tài chính");
        assert_non_null(strstr(o.text, "Đây là tin thử nghiệm"));
        assert_non_null(strstr(o.text, "tin này cho thấy webhook đã được cấu hình đúng"));
        assert_non_null(strstr(o.text, "(Tin này được gửi tự động ngày 27/4/2024.)"));
        assert_null(strstr(o.text, "thư điện tử"));
        assert_null(strstr(o.text, "Thư điện tử"));
        render_output_done(&o);
        o = render_ok(LANGUAGE_EN, &in);
        assert_string_equal(o.subject, "[Test] Checking reminder webhook — Sở Tài chính");
        assert_non_null(strstr(o.text, "your webhook is configured correctly"));
        assert_null(strstr(o.text, "e-mail"));
        render_output_done(&o);
}

/* ---- time left ---------------------------------------------------------- */

static void test_time_left_in_words(void **state) {
        struct { int y, m, d, minute; const char *now; enum language lang; enum render_time_style style;
                 const char *expected; } cases[] = {
                { 2024, 4, 30, -1, "2024-04-27T08:00", LANGUAGE_VI, RENDER_TIME_PHRASE, "còn 3 ngày" },
                { 2024, 4, 30, -1, "2024-04-27T08:00", LANGUAGE_VI, RENDER_TIME_HEADLINE, "Còn 3 ngày" },
                { 2024, 4, 30, -1, "2024-04-29T23:59", LANGUAGE_VI, RENDER_TIME_PHRASE, "còn 1 ngày" },
                { 2024, 4, 30, -1, "2024-04-30T00:00", LANGUAGE_VI, RENDER_TIME_HEADLINE, "Hạn hôm nay" },
                { 2024, 4, 30, -1, "2024-04-30T23:59", LANGUAGE_VI, RENDER_TIME_PHRASE, "đến hạn hôm nay" },
                { 2024, 4, 30, -1, "2024-05-01T00:00", LANGUAGE_VI, RENDER_TIME_PHRASE, "quá hạn 1 ngày" },
                { 2024, 4, 30, -1, "2024-05-02T08:00", LANGUAGE_VI, RENDER_TIME_HEADLINE, "Quá hạn 2 ngày" },
                { 2024, 4, 30, 17 * 60, "2024-04-30T12:00", LANGUAGE_VI, RENDER_TIME_HEADLINE, "Còn 5 giờ" },
                { 2024, 4, 30, 17 * 60, "2024-04-30T16:15", LANGUAGE_VI, RENDER_TIME_PHRASE, "còn 45 phút" },
                { 2024, 4, 30, 17 * 60, "2024-04-30T17:00", LANGUAGE_VI, RENDER_TIME_HEADLINE, "Đến hạn" },
                { 2024, 4, 30, 17 * 60, "2024-04-30T20:30", LANGUAGE_VI, RENDER_TIME_PHRASE, "quá hạn 3 giờ" },
                { 2024, 4, 30, 17 * 60, "2024-04-29T08:00", LANGUAGE_VI, RENDER_TIME_PHRASE, "còn 1 ngày" },
                /* From a day on, calendar days, as for dates. */
                { 2024, 4, 30, 8 * 60, "2024-04-28T20:00", LANGUAGE_VI, RENDER_TIME_PHRASE, "còn 2 ngày" },
                { 2024, 4, 30, 17 * 60, "2024-05-02T09:00", LANGUAGE_VI, RENDER_TIME_PHRASE, "quá hạn 2 ngày" },
                /* Once the deadline's day is over, days overdue as the office
                 * counts them, even under 24 hours after it. */
                { 2024, 4, 30, 17 * 60, "2024-05-01T09:00", LANGUAGE_VI, RENDER_TIME_HEADLINE, "Quá hạn 1 ngày" },
                { 2024, 4, 30, 23 * 60 + 30, "2024-05-01T00:10", LANGUAGE_EN, RENDER_TIME_PHRASE, "overdue by 1 day" },
                { 2024, 4, 30, -1, "2024-04-27T08:00", LANGUAGE_EN, RENDER_TIME_PHRASE, "3 days left" },
                { 2024, 4, 30, -1, "2024-04-29T08:00", LANGUAGE_EN, RENDER_TIME_PHRASE, "1 day left" },
                { 2024, 4, 30, -1, "2024-04-30T08:00", LANGUAGE_EN, RENDER_TIME_HEADLINE, "Due today" },
                { 2024, 4, 30, -1, "2024-05-01T08:00", LANGUAGE_EN, RENDER_TIME_PHRASE, "overdue by 1 day" },
                { 2024, 4, 30, -1, "2024-05-02T08:00", LANGUAGE_EN, RENDER_TIME_HEADLINE, "2 days overdue" },
                { 2024, 4, 30, 17 * 60, "2024-04-30T16:00", LANGUAGE_EN, RENDER_TIME_PHRASE, "1 hour left" },
                { 2024, 4, 30, 17 * 60, "2024-04-30T16:59", LANGUAGE_EN, RENDER_TIME_PHRASE, "1 minute left" },
                { 2024, 4, 30, 17 * 60, "2024-04-30T19:00", LANGUAGE_EN, RENDER_TIME_PHRASE, "overdue by 2 hours" },
                { 2024, 4, 30, 17 * 60, "2024-04-30T17:00", LANGUAGE_EN, RENDER_TIME_PHRASE, "due now" },
                /* A leap day and a year end. */
                { 2024, 3, 1, -1, "2024-02-28T08:00", LANGUAGE_VI, RENDER_TIME_PHRASE, "còn 2 ngày" },
                { 2025, 1, 1, -1, "2024-12-31T23:00", LANGUAGE_VI, RENDER_TIME_PHRASE, "còn 1 ngày" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct due d = { .day = days_from_civil(cases[i].y, cases[i].m, cases[i].d),
                                 .minute = cases[i].minute };
                char buf[RENDER_TIME_LEFT_MAX];

                render_time_left(&d, at(cases[i].now), cases[i].lang, cases[i].style, buf);
                if (strcmp(buf, cases[i].expected) != 0)
                        fail_msg("case %zu: \"%s\", expected \"%s\"", i, buf, cases[i].expected);
        }
}

static void test_kind_names(void **state) {
        assert_string_equal(render_kind_to_string(RENDER_REMINDER), "reminder");
        assert_string_equal(render_kind_to_string(RENDER_OVERDUE), "overdue");
        assert_string_equal(render_kind_to_string(RENDER_ESCALATION), "escalation");
        assert_string_equal(render_kind_to_string(RENDER_ASSIGNMENT), "assignment");
        assert_string_equal(render_kind_to_string(RENDER_TEST), "test");
        assert_null(render_kind_to_string(_RENDER_KIND_MAX));
        assert_null(render_kind_to_string(_RENDER_KIND_INVALID));
}

/* ---- input hygiene and limits ------------------------------------------- */

static void test_task_text_is_cleaned(void **state) {
        struct render_task t = task_5c();
        struct render_output o;

        /* CR LF, a tab, ESC, a bidi override, an invalid byte and
         * decomposed (NFD) "ế" in a one-line field. */
        t.title = "Báo cáo\r\nBcc: x@evil.vn\tnguo\xcc\x82\xcc\x80n \x1b[31m\xe2\x80\xae\xff lực  ";
        t.detail = "\n\ndòng 1\r\ndòng 2\rdòng 3\x07\n\n";
        o = render_task(LANGUAGE_VI, &t, at("2024-04-27T08:00"));
        assert_string_equal(o.subject,
                            "[Nhắc việc] Còn 3 ngày: 5.c — Báo cáo Bcc: x@evil.vn nguồn [31m\xef\xbf\xbd lực (hạn 30/4/2024)");
        assert_non_null(strstr(o.text, "- Nội dung cụ thể:\ndòng 1\ndòng 2\ndòng 3\n\nĐề nghị"));
        assert_null(strchr(o.text, '\r'));
        assert_null(strchr(o.text, '\x1b'));
        render_output_done(&o);
}

static void test_output_is_nfc_across_pieces(void **state) {
        struct render_task t = task_5c();
        struct render_input in = {
                .kind = RENDER_REMINDER, .now = at("2024-04-27T08:00"),
                .recipients = &stc, .n_recipients = 1, .tasks = &t, .n_tasks = 1,
        };
        struct render_output o = {};

        /* An override in NFD is normalised; a value followed by template
         * text that starts with a combining mark composes with it. */
        t.ref = "e";
        assert_int_equal(render_with("task-subject.txt", "Vie\xcc\xa3\xcc\x82t {{ref}}\xcc\x81", &in, &o, NULL), 0);
        assert_string_equal(o.subject, "Việt é");
        render_output_done(&o);
        /* Hangul: a syllable's parts, split between a value and the text. */
        t.ref = "\xe1\x84\x80";  /* U+1100 */
        assert_int_equal(render_with("task-subject.txt", "{{ref}}\xe1\x85\xa1", &in, &o, NULL), 0);
        assert_string_equal(o.subject, "\xea\xb0\x80");  /* U+AC00 */
        render_output_done(&o);
}

static void test_bad_input_is_refused(void **state) {
        _cleanup_(render_templates_freep) struct render_templates *t = templates(LANGUAGE_VI);
        struct render_task task = task_5c();
        struct render_input in = {
                .kind = RENDER_REMINDER, .now = at("2024-04-27T08:00"),
                .recipients = &stc, .n_recipients = 1, .tasks = &task, .n_tasks = 1,
        };
        struct render_output o = {};
        char *huge;

        in.n_recipients = 0;
        assert_int_equal(render_message(t, &in, &o), -EINVAL);
        in.n_recipients = 1;
        in.n_tasks = 0;
        assert_int_equal(render_message(t, &in, &o), -EINVAL);
        in.kind = RENDER_ESCALATION;
        assert_int_equal(render_message(t, &in, &o), -EINVAL);
        in.kind = _RENDER_KIND_MAX;
        in.n_tasks = 1;
        assert_int_equal(render_message(t, &in, &o), -EINVAL);
        in.kind = RENDER_OVERDUE;
        task.title = NULL;
        assert_int_equal(render_message(t, &in, &o), -EINVAL);
        task = task_5c();
        in.n_tasks = RENDER_TASKS_MAX + 1;
        assert_int_equal(render_message(t, &in, &o), -E2BIG);
        in.n_tasks = 1;

        huge = malloc(RENDER_FIELD_MAX + 2);
        memset(huge, 'x', RENDER_FIELD_MAX + 1);
        huge[RENDER_FIELD_MAX + 1] = 0;
        task.detail = huge;
        assert_int_equal(render_message(t, &in, &o), -E2BIG);
        huge[RENDER_FIELD_MAX] = 0;
        assert_int_equal(render_message(t, &in, &o), 0);
        render_output_done(&o);
        free(huge);

        assert_null(o.subject);
        render_output_done(NULL);
}

static void test_digest_of_many_tasks_stays_in_bounds(void **state) {
        struct render_task *tasks = calloc(RENDER_TASKS_MAX, sizeof *tasks);
        struct render_input in = {
                .kind = RENDER_REMINDER, .now = at("2024-04-27T08:00"),
                .recipients = &stc, .n_recipients = 1, .tasks = tasks, .n_tasks = RENDER_TASKS_MAX,
        };
        struct render_output o;

        for (size_t i = 0; i < RENDER_TASKS_MAX; i++) {
                tasks[i] = task_5c();
                tasks[i].id = (int64_t) i + 1;
        }
        o = render_ok(LANGUAGE_VI, &in);
        assert_string_equal(o.subject, "[Nhắc việc] 1000 nhiệm vụ sắp đến hạn — Sở Tài chính");
        assert_non_null(strstr(o.text, "\n1000. [#1000] Nhiệm vụ 5.c"));
        assert_true(strlen(o.text) < RENDER_OUTPUT_MAX);
        render_output_done(&o);
        free(tasks);
}

/* The quick NFC check's characters: each one NFC leaves alone, a starter
 * never joined to what precedes it; a text that passes is its own NFC. */
static void test_nfc_quick_check_characters(void **state) {
        static const char *const texts[] = {
                "Báo cáo “tiến độ” — Sở Kế hoạch và Đầu tư…",   /* NFC: quick */
                "Vie\xcc\x82\xcc\xa3t Nam",                    /* e + marks: not quick */
                "Ơn Ưu ă â ê ô ơ ư đ ỹ ự ặ",
                "\xe1\x84\x80\xe1\x85\xa1",                    /* Hangul jamo: not quick */
                "A\xe2\x80\x80" "B",                           /* U+2000 becomes U+2002 */
        };
        size_t n_quick = 0;

        for (uint32_t c = 1; c < 0x30000; c++) {
                uint8_t z[5] = {};
                _cleanup_free_ uint8_t *nfc = NULL;
                const utf8proc_property_t *prop;

                if (!text_is_nfc_quick_char(c))
                        continue;
                n_quick++;
                prop = utf8proc_get_property((utf8proc_int32_t) c);
                (void) utf8proc_encode_char((utf8proc_int32_t) c, z);
                nfc = utf8proc_NFC(z);
                assert_non_null(nfc);
                if (strcmp((const char *) nfc, (const char *) z) != 0 || prop->combining_class != 0 ||
                    prop->comp_exclusion || text_may_compose((const char *) z))
                        fail_msg("U+%04X is not a character NFC leaves alone", c);
        }
        assert_true(n_quick > 0x300);
        for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
                _cleanup_free_ char *clean = NULL;
                _cleanup_free_ uint8_t *nfc = utf8proc_NFC((const uint8_t *) texts[i]);

                assert_int_equal(text_clean(texts[i], true, &clean), 0);
                assert_string_equal(clean, (const char *) nfc);
                assert_int_equal(text_is_nfc_quick(texts[i]), strcmp((const char *) nfc, texts[i]) == 0);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_builtins_match_conf_templates),
                cmocka_unit_test(test_builtins_are_complete_nfc_utf8),
                cmocka_unit_test(test_report_letter_names_the_period_and_totals),
                cmocka_unit_test(test_builtin_sets_build),
                cmocka_unit_test(test_unknown_placeholder_is_an_error),
                cmocka_unit_test(test_template_syntax_errors_name_the_line),
                cmocka_unit_test(test_unknown_override_and_oversized_template),
                cmocka_unit_test(test_sections_lists_and_standalone_lines),
                cmocka_unit_test(test_counts_print_zero_but_are_false),
                cmocka_unit_test(test_html_escapes_every_value),
                cmocka_unit_test(test_body_template_escapes_values_as_json_strings),
                cmocka_unit_test(test_body_template_unknown_placeholder_names_file_and_line),
        cmocka_unit_test(test_body_template_escapes_values_as_json_strings),
        cmocka_unit_test(test_body_template_unknown_placeholder_names_file_and_line),
                cmocka_unit_test(test_subject_reminder_vi),
                cmocka_unit_test(test_webhook_leaves_the_html_out),
                cmocka_unit_test(test_subject_overdue_vi),
                cmocka_unit_test(test_subject_due_today_and_hours),
                cmocka_unit_test(test_subject_en),
                cmocka_unit_test(test_subject_without_ref_or_deadline),
                cmocka_unit_test(test_long_title_is_shortened_in_the_subject_only),
                cmocka_unit_test(test_per_task_body_says_everything),
                cmocka_unit_test(test_per_task_message_names_each_role),
                cmocka_unit_test(test_single_recipient_role_and_wording),
                cmocka_unit_test(test_no_blank_line_runs_when_fields_are_missing),
                cmocka_unit_test(test_digest_subject_and_one_section_per_task),
                cmocka_unit_test(test_escalation),
                cmocka_unit_test(test_test_message_needs_no_task),
                cmocka_unit_test(test_time_left_in_words),
                cmocka_unit_test(test_kind_names),
                cmocka_unit_test(test_an_extended_deadline_says_so),
                cmocka_unit_test(test_task_text_is_cleaned),
                cmocka_unit_test(test_output_is_nfc_across_pieces),
                cmocka_unit_test(test_bad_input_is_refused),
                cmocka_unit_test(test_digest_of_many_tasks_stays_in_bounds),
                cmocka_unit_test(test_assignment_notice),
                cmocka_unit_test(test_nfc_quick_check_characters),
        };

        return cmocka_run_group_tests(tests, setup, NULL);
}
