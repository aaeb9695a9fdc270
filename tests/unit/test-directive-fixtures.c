/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The directive parser against whole documents: the sample directive and
 * our own Thông báo and Chỉ thị, clean and OCR-damaged, each compared with
 * its *.expected.json (tests/data/directives/).
 *
 * Clean text must match every field. OCR text (ocr-degrade.py --seed N,
 * and a harsher hand-made scan) must match every task's reference, lead,
 * deadline and recurrence, name no wrong cooperating agency and miss at
 * most one cooperating agency over the whole document. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "directive.h"
#include "macro.h"
#include "sonha-candidates.h"

enum kind {
        CLEAN,                  /* typed text: every field right */
        OCR,                    /* simulated damage: every task's lead and deadline right */
        SCAN_VIE,               /* tesseract -l vie on a scan: counted, see test_scan() */
        SCAN_ENG,               /* tesseract -l eng on a scan: counted, see test_scan() */
        SCAN_FAINT,             /* harsher than the office's worst scan: counted, no target */
};

struct fixture {
        const char *document;   /* base name: <document>.expected.json */
        const char *text;       /* the text file */
        enum kind kind;
};

static char *data_path(const char *name) {
        const char *dir = getenv("DEADLINED_TEST_DATA");
        char *p;

        if (asprintf(&p, "%s/directives/%s", dir ? dir : "tests/data", name) < 0)
                return NULL;
        return p;
}

static char *read_text(const char *name, size_t *ret_len) {
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

static json_t *read_expected(const char *document) {
        _cleanup_free_ char *name = NULL, *path = NULL;
        json_error_t err;
        json_t *j;

        assert_true(asprintf(&name, "%s.expected.json", document) > 0);
        path = data_path(name);
        j = json_load_file(path, 0, &err);
        if (!j)
                fail_msg("%s:%d: %s", path, err.line, err.text);
        return j;
}

/* The sample writes recurrence as prose ("monthly on day 25"); the store
 * and the parser use "monthly:25". */
static void expected_recurrence(json_t *task, char *buf, size_t size) {
        const char *r = json_string_value(json_object_get(task, "recurrence"));
        int day;

        buf[0] = 0;
        if (!r)
                return;
        if (sscanf(r, "monthly on day %d", &day) == 1)
                snprintf(buf, size, "monthly:%d", day);
        else
                snprintf(buf, size, "%s", r);
}

/* A general item's lead is the document's addressees. */
static json_t *expected_lead(json_t *expected, json_t *task) {
        if (json_is_true(json_object_get(task, "addressees")))
                return json_object_get(json_object_get(expected, "document"), "addressees");
        return json_object_get(task, "lead");
}

static bool same_ids(json_t *expected, char *const *actual) {
        size_t i;
        json_t *v;

        json_array_foreach(expected, i, v)
                if (!strv_contains(actual, json_string_value(v)))
                        return false;
        return strv_length(actual) == json_array_size(expected);
}

static void check_same_ids(const char *what, const char *ref, json_t *expected, char *const *actual) {
        size_t i;
        json_t *v;

        json_array_foreach(expected, i, v)
                if (!strv_contains(actual, json_string_value(v)))
                        fail_msg("task %s: %s %s missing", ref, what, json_string_value(v));
        if (strv_length(actual) != json_array_size(expected))
                fail_msg("task %s: %zu %s ids found, %zu expected (first: %s)", ref, strv_length(actual), what,
                         json_array_size(expected), strempty(actual[0]));
}

static void check_flags(const char *ref, json_t *expected, unsigned flags) {
        unsigned want = 0;
        size_t i;
        json_t *v;

        if (!expected)
                return;
        json_array_foreach(expected, i, v) {
                unsigned bit = 0;
                for (unsigned b = 1; b != 0 && !bit; b <<= 1)
                        if (streq_ptr(directive_task_flag_to_string(b), json_string_value(v)))
                                bit = b;
                if (!bit)
                        fail_msg("task %s: unknown flag %s in the expected file", ref, json_string_value(v));
                want |= bit;
        }
        if (want != flags)
                fail_msg("task %s: flags %#x, expected %#x", ref, flags, want);
}

static void check_unmatched(const char *ref, json_t *expected, const struct directive_task *t) {
        size_t i = 0, n = 0;

        if (!expected)
                return;
        for (size_t k = 0; k < t->n_mentions; k++) {
                if (t->mentions[k].id)
                        continue;
                if (i >= json_array_size(expected))
                        fail_msg("task %s: unexpected unmatched mention \"%s\"", ref, t->mentions[k].text);
                assert_string_equal(t->mentions[k].text, json_string_value(json_array_get(expected, i)));
                /* Never guessed silently, but never without a hint either. */
                assert_true(t->mentions[k].confidence < TEXTNORM_MATCH_THRESHOLD);
                i++, n++;
        }
        assert_int_equal(n, json_array_size(expected));
}

static void check_document(const struct fixture *fx, const struct directive *d, json_t *doc) {
        assert_non_null(d->number);
        assert_string_equal(d->number, json_string_value(json_object_get(doc, "number")));
        assert_non_null(d->issued_on);
        assert_string_equal(d->issued_on, json_string_value(json_object_get(doc, "issued_on")));
        if (fx->kind != CLEAN)
                return;
        assert_non_null(d->subject);
        assert_string_equal(d->subject, json_string_value(json_object_get(doc, "subject")));
        assert_non_null(d->signer);
        assert_string_equal(d->signer, json_string_value(json_object_get(doc, "signer")));
}

static void test_fixture(void **state) {
        const struct fixture *fx = *state;
        _cleanup_(directive_freep) struct directive *d = NULL;
        _cleanup_free_ char *text = NULL;
        json_t *expected, *tasks;
        size_t len, missed = 0;

        text = read_text(fx->text, &len);
        expected = read_expected(fx->document);
        assert_int_equal(directive_parse(text, len, sonha_candidates, SONHA_N_CANDIDATES, &d), 0);
        check_document(fx, d, json_object_get(expected, "document"));

        tasks = json_object_get(expected, "tasks");
        assert_int_equal(d->n_tasks, json_array_size(tasks));
        for (size_t i = 0; i < d->n_tasks; i++) {
                const struct directive_task *t = &d->tasks[i];
                json_t *e = json_array_get(tasks, i), *support = json_object_get(e, "support");
                const char *due = json_string_value(json_object_get(e, "due"));
                char rec[32];
                size_t k;
                json_t *v;

                assert_string_equal(t->ref, json_string_value(json_object_get(e, "ref")));
                check_same_ids("lead", t->ref, expected_lead(expected, e), t->lead);
                if (!streq_ptr(t->due, due))
                        fail_msg("task %s: due %s, expected %s", t->ref, strempty(t->due), strempty(due));
                expected_recurrence(e, rec, sizeof(rec));
                assert_string_equal(strempty(t->recurrence), rec);
                if (fx->kind == CLEAN) {
                        check_same_ids("support", t->ref, support, t->support);
                        check_flags(t->ref, json_object_get(e, "flags"), t->flags);
                        check_unmatched(t->ref, json_object_get(e, "unmatched"), t);
                        continue;
                }
                /* OCR may cost a cooperating agency, never invent one. */
                for (char **s = t->support; *s; s++) {
                        bool known = false;
                        json_array_foreach(support, k, v)
                                known = known || streq(json_string_value(v), *s);
                        if (!known)
                                fail_msg("task %s: wrong cooperating agency %s", t->ref, *s);
                }
                json_array_foreach(support, k, v)
                        missed += !strv_contains(t->support, json_string_value(v));
        }
        if (missed > 1)
                fail_msg("%s: %zu cooperating agencies missed, at most 1 allowed", fx->text, missed);
        json_decref(expected);
}

/* The deadlines OCR destroyed in one scan fixture (scan-misreads.json):
 * ref -> the text the fixture holds instead, which must be there. */
static json_t *read_misreads(const char *file, const char *text) {
        static json_t *all;
        json_t *m, *v;
        const char *ref;

        if (!all)
                all = read_expected("scan-misreads");
        m = json_object_get(all, file);
        json_object_foreach(m, ref, v)
                if (!strstr(text, json_string_value(v)))
                        fail_msg("scan-misreads.json: %s: \"%s\" is not in the file", file, json_string_value(v));
        return m;
}

/* A scan read by tesseract, scored the way the office would: how many
 * deadlines (due date or recurrence), leads and cooperating agencies are
 * right, task by task, and how many deadlines were invented (a date where
 * the document has another, or none). -l vie must get everything right,
 * -l eng, which loses nearly every diacritic, 90 % of deadlines and leads;
 * neither may invent a deadline. The counts are printed for every file. */
static void test_scan(void **state) {
        const struct fixture *fx = *state;
        _cleanup_(directive_freep) struct directive *d = NULL;
        _cleanup_free_ char *text = NULL;
        json_t *expected, *tasks;
        size_t len, n, n_due, dues = 0, leads = 0, supports = 0, invented = 0, misread = 0;
        json_t *misreads;
        /* DEADLINED_TEST_VERBOSE=1 says what each miss is. */
        bool verbose = getenv("DEADLINED_TEST_VERBOSE");

        text = read_text(fx->text, &len);
        expected = read_expected(fx->document);
        misreads = read_misreads(fx->text, text);
        assert_int_equal(directive_parse(text, len, sonha_candidates, SONHA_N_CANDIDATES, &d), 0);
        tasks = json_object_get(expected, "tasks");
        n = json_array_size(tasks);
        if (verbose)
                print_message("%s:\n", fx->text);

        for (size_t i = 0; i < d->n_tasks; i++) {
                const struct directive_task *t = &d->tasks[i];
                json_t *e = NULL, *v;
                const char *due;
                char rec[32];
                size_t k;

                json_array_foreach(tasks, k, v)
                        if (streq_ptr(json_string_value(json_object_get(v, "ref")), t->ref))
                                e = v;
                if (!e) {
                        invented += !!t->due;
                        if (verbose)
                                print_message("    %s: no such item (due %s)\n", t->ref, strempty(t->due));
                        continue;
                }
                due = json_string_value(json_object_get(e, "due"));
                expected_recurrence(e, rec, sizeof(rec));
                if (streq_ptr(t->due, due) && streq(strempty(t->recurrence), rec))
                        dues++;
                else if (json_object_get(misreads, t->ref))
                        misread++;
                else {
                        invented += !!t->due;
                        if (verbose)
                                print_message("    %s: due %s%s, expected %s%s\n", t->ref, strempty(t->due),
                                              strempty(t->recurrence), strempty(due), rec);
                }
                if (same_ids(expected_lead(expected, e), t->lead))
                        leads++;
                else if (verbose)
                        print_message("    %s: lead %s…\n", t->ref, strempty(t->lead[0]));
                if (same_ids(json_object_get(e, "support"), t->support))
                        supports++;
                else if (verbose)
                        print_message("    %s: cooperating %s…\n", t->ref, strempty(t->support[0]));
        }
        if (verbose) {
                size_t k;
                json_t *v;
                json_array_foreach(tasks, k, v) {
                        bool found = false;
                        for (size_t i = 0; i < d->n_tasks; i++)
                                found = found || streq_ptr(json_string_value(json_object_get(v, "ref")), d->tasks[i].ref);
                        if (!found)
                                print_message("    %s: not found\n", json_string_value(json_object_get(v, "ref")));
                }
        }
        print_message("%-40s tasks %2zu/%2zu  deadlines %2zu/%2zu  leads %2zu/%2zu  cooperating %2zu/%2zu  "
                      "invented deadlines %zu%s", fx->text, d->n_tasks, n, dues, n - misread, leads, n, supports, n,
                      invented, misread ? "" : "\n");
        if (misread)
                print_message("  (%zu more misread by OCR)\n", misread);
        /* The targets count the deadlines the text still holds. */
        n_due = n - misread;
        if (fx->kind == SCAN_FAINT) {
                json_decref(expected);
                return;
        }
        assert_int_equal(invented, 0);
        if (fx->kind == SCAN_VIE) {
                assert_int_equal(dues, n_due);
                assert_int_equal(leads, n);
                assert_int_equal(supports, n);
        } else {
                assert_true(dues * 10 >= n_due * 9);
                assert_true(leads * 10 >= n * 9);
        }
        json_decref(expected);
}

#define CLEAN(doc) { doc, doc ".txt", CLEAN }
#define OCR(doc, file) { doc, file, OCR }
#define SCANS(doc)                                                      \
        { doc, doc ".scan-300-vie.txt", SCAN_VIE }, { doc, doc ".scan-300-eng.txt", SCAN_ENG }, \
        { doc, doc ".scan-200-vie.txt", SCAN_VIE }, { doc, doc ".scan-200-eng.txt", SCAN_ENG }, \
        { doc, doc ".scan-150-vie.txt", SCAN_VIE }, { doc, doc ".scan-150-eng.txt", SCAN_ENG }, \
        { doc, doc ".scan-150faint-vie.txt", SCAN_FAINT }, { doc, doc ".scan-150faint-eng.txt", SCAN_FAINT }

static const struct fixture fixtures[] = {
        CLEAN("directive-2417"),
        OCR("directive-2417", "directive-2417.ocr.txt"),
        OCR("directive-2417", "directive-2417.ocr-seed1.txt"),
        OCR("directive-2417", "directive-2417.ocr-seed2.txt"),
        OCR("directive-2417", "directive-2417.ocr-seed3.txt"),
        OCR("directive-2417", "directive-2417.ocr-seed4.txt"),
        OCR("directive-2417", "directive-2417.ocr-seed5.txt"),
        OCR("directive-2417", "directive-2417.ocr-seed6.txt"),
        OCR("directive-2417", "directive-2417.ocr-seed7.txt"),
        OCR("directive-2417", "directive-2417.ocr-seed8.txt"),
        CLEAN("thongbao-356"),
        OCR("thongbao-356", "thongbao-356.ocr-seed1.txt"),
        OCR("thongbao-356", "thongbao-356.ocr-seed2.txt"),
        OCR("thongbao-356", "thongbao-356.ocr-seed3.txt"),
        OCR("thongbao-356", "thongbao-356.ocr-seed4.txt"),
        OCR("thongbao-356", "thongbao-356.ocr-seed5.txt"),
        OCR("thongbao-356", "thongbao-356.ocr-seed6.txt"),
        OCR("thongbao-356", "thongbao-356.ocr-seed7.txt"),
        OCR("thongbao-356", "thongbao-356.ocr-seed8.txt"),
        CLEAN("chithi-12"),
        OCR("chithi-12", "chithi-12.ocr-hard.txt"),
        OCR("chithi-12", "chithi-12.ocr-seed1.txt"),
        OCR("chithi-12", "chithi-12.ocr-seed2.txt"),
        OCR("chithi-12", "chithi-12.ocr-seed3.txt"),
        OCR("chithi-12", "chithi-12.ocr-seed4.txt"),
        OCR("chithi-12", "chithi-12.ocr-seed5.txt"),
        OCR("chithi-12", "chithi-12.ocr-seed6.txt"),
        OCR("chithi-12", "chithi-12.ocr-seed7.txt"),
        OCR("chithi-12", "chithi-12.ocr-seed8.txt"),
        SCANS("directive-2417"),
        SCANS("thongbao-356"),
        SCANS("chithi-12"),
        CLEAN("congvan-518"),
        SCANS("congvan-518"),
        CLEAN("congvan-1045"),
        SCANS("congvan-1045"),
        CLEAN("chithi-07"),
        SCANS("chithi-07"),
};

int main(void) {
        struct CMUnitTest tests[ELEMENTSOF(fixtures)];

        /* One named test per file, so a failure says which scan broke. */
        for (size_t i = 0; i < ELEMENTSOF(fixtures); i++)
                tests[i] = (struct CMUnitTest) {
                        .name = fixtures[i].text,
                        .test_func = fixtures[i].kind >= SCAN_VIE ? test_scan : test_fixture,
                        .initial_state = (void *) &fixtures[i],
                };
        return _cmocka_run_group_tests("directive-fixtures", tests, ELEMENTSOF(tests), NULL, NULL);
}
