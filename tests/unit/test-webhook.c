/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Webhook requests: the secret, the Standard Webhooks signature, the
 * delivery id, header encoding, and the three body formats as composed for
 * a real configuration. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compose.h"
#include "config.h"
#include "outbox.h"
#include "timeutil.h"
#include "webhook-format.h"
#include "json-util.h"
#include "webhook.h"

/* The specification's test vector. */
#define SPEC_SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

static const char *const CONFIG_TEXT =
        "database = \"t.db\";\n"
        "transport = \"maildir:mail\";\n"
        "from = \"Nhắc việc <nhacviec@sonha.gov.vn>\";\n"
        "base_url = \"https://nhacviec.sonha.gov.vn\";\n"
        "schedule = { remind_before = [\"3d\"]; overdue_every = \"1d\"; send_at = \"08:00\";\n"
        "  escalation = ( { after = \"2d\"; to = [\"vpubnd\"]; } ); };\n"
        "agencies = (\n"
        "  { id = \"stc\"; name = \"Sở Tài chính\"; webhook = (\n"
        "      { url = \"https://hooks.sonha.gov.vn/stc\"; secret_file = \"secret\";\n"
        "        headers = { Authorization = \"Bearer t0k\"; }; },\n"
        "      { url = \"https://chat.sonha.gov.vn/hooks/stc\"; format = \"slack\"; },\n"
        "      { url = \"https://ntfy.sonha.gov.vn/stc\"; format = \"ntfy\"; headers = { Priority = \"5\"; }; },\n"
        "      { url = \"https://ntfy.sonha.gov.vn/stc2\"; format = \"ntfy\"; } ); },\n"
        "  { id = \"vpubnd\"; name = \"Văn phòng UBND tỉnh\"; webhook = { url = \"https://hooks.sonha.gov.vn/vp\"; }; },\n"
        "  { id = \"skhdt\"; name = \"Sở Kế hoạch và Đầu tư\"; email = [\"skhdt@sonha.gov.vn\"]; }\n"
        ");\n";

struct fx {
        char dir[128];
        struct config *c;
        struct task task;
        struct task_agency agencies[2];
        int64_t due_at;
};

static int setup(void **state) {
        struct fx *f = calloc(1, sizeof *f);
        _cleanup_free_ char *errors = NULL;
        char path[256];
        struct due due;
        FILE *fp;

        snprintf(f->dir, sizeof f->dir, "/tmp/test-webhook.XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(path, sizeof path, "%s/secret", f->dir);
        fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(SPEC_SECRET "\n", fp);
        fclose(fp);
        assert_int_equal(chmod(path, 0600), 0);
        snprintf(path, sizeof path, "%s/deadlined.conf", f->dir);
        fp = fopen(path, "w");
        assert_non_null(fp);
        fputs(CONFIG_TEXT, fp);
        fclose(fp);
        if (config_load(path, &f->c, &errors) < 0)
                fail_msg("%s", errors);
        assert_int_equal(config_apply_timezone(f->c), 0);

        assert_int_equal(parse_due("2025-05-10", 0, &due), 0);
        f->due_at = due_instant(&due);
        f->agencies[0] = (struct task_agency) { .agency = (char *) "stc", .role = ROLE_LEAD };
        f->agencies[1] = (struct task_agency) { .agency = (char *) "skhdt", .role = ROLE_SUPPORT };
        f->task = (struct task) {
                .id = 7,
                .document_number = (char *) "2417/UBND-KTTH",
                .ref = (char *) "5.c",
                .title = (char *) "Báo cáo \"quý\" \\ C:\\dữ liệu \x01\x1b[31m\tđỏ",
                .due = (char *) "2025-05-10",
                .due_at = f->due_at,
                .status = TASK_OPEN,
                .agencies = f->agencies,
                .n_agencies = 2,
        };
        *state = f;
        return 0;
}

static int teardown(void **state) {
        struct fx *f = *state;
        char cmd[300];

        config_free(f->c);
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
        assert_int_equal(system(cmd), 0);
        free(f);
        return 0;
}

/* A job of one row for the task, as outbox_claim() makes it. */
static struct job *make_job(const struct fx *f, size_t webhook, const char *agency, const char *slot_kind,
                            int64_t delivery_id) {
        struct job *j = calloc(1, sizeof *j);
        char slot[64];

        assert_non_null(j);
        snprintf(slot, sizeof slot, "%s@%lld", slot_kind, (long long) f->due_at);
        j->channel = CHANNEL_WEBHOOK;
        j->webhook_index = webhook;
        j->agency = strdup(agency);
        snprintf(j->instance, sizeof j->instance, "k5ayrf3xq2mhzd7c6pwvbn4eju");
        j->rows = calloc(1, sizeof *j->rows);
        j->rows[0] = (struct job_row) {
                .delivery_id = delivery_id,
                .task_id = f->task.id,
                .slot = strdup(slot),
                .slot_at = f->due_at - 3 * 86400 - 16 * 3600 + 1,
                .agency = strdup(agency),
                .role = ROLE_LEAD,
                .attempts = 1,
        };
        j->n_rows = 1;
        return j;
}

static const char *header(const struct job *j, const char *name) {
        size_t n = strlen(name);
        for (char **h = j->headers; *h; h++)
                if (strncasecmp(*h, name, n) == 0 && (*h)[n] == ':')
                        return *h + n + 2;
        return NULL;
}

static size_t header_count(const struct job *j, const char *name) {
        size_t n = strlen(name), count = 0;
        for (char **h = j->headers; *h; h++)
                count += strncasecmp(*h, name, n) == 0 && (*h)[n] == ':';
        return count;
}

static json_t *body_json(const struct job *j) {
        json_error_t e;
        json_t *o = json_loadb(j->body, j->body_size, 0, &e);
        if (!o)
                fail_msg("body is not JSON: %s: %.*s", e.text, (int) j->body_size, j->body);
        return o;
}

/* --- secret and signature ------------------------------------------------ */

static void test_secret_decodes_with_or_without_prefix(void **state) {
        uint8_t key[WEBHOOK_SECRET_MAX];
        size_t n = 0;

        assert_int_equal(webhook_secret_decode(SPEC_SECRET, key, &n), 0);
        assert_int_equal(n, 24);
        assert_int_equal(webhook_secret_decode(SPEC_SECRET + 6, key, &n), 0);
        assert_int_equal(n, 24);
        /* 64 bytes, with padding. */
        assert_int_equal(webhook_secret_decode("whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
                                               "QUFBQUFBQUFBQUFBQUFBQUFBQQ==", key, &n), 0);
        assert_int_equal(n, 64);
        assert_memory_equal(key, "AAAAAAAA", 8);
}

static void test_secret_refuses_wrong_lengths_and_characters(void **state) {
        static const char *const bad[] = {
                "", "whsec_", "whsec_abc", "whsec_c29uaGE=",                   /* empty, short */
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS",                       /* not a multiple of 4 */
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2La=aSw",                      /* padding inside */
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa w",                      /* a blank */
                "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLa-w",                      /* base64url */
                "whsec_QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFB"
                "QUFBQUFBQUFBQUFBQUFBQUFBQUFB",                               /* 66 bytes */
        };
        uint8_t key[WEBHOOK_SECRET_MAX];
        size_t n;

        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                if (webhook_secret_decode(bad[i], key, &n) != -EINVAL)
                        fail_msg("accepted \"%s\"", bad[i]);
}

static void test_signature_matches_the_specification_vector(void **state) {
        static const char body[] = "{\"test\": 2432232314}";
        _cleanup_free_ char *sig = NULL;

        assert_int_equal(webhook_sign(SPEC_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body),
                                      &sig), 0);
        assert_string_equal(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
}

static void test_signature_covers_id_timestamp_and_body(void **state) {
        static const char body[] = "{\"test\": 2432232314}";
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        assert_int_equal(webhook_sign(SPEC_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, strlen(body), &a),
                         0);
        assert_int_equal(webhook_sign(SPEC_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJeK", 1614265330, body, strlen(body), &b),
                         0);
        assert_int_equal(webhook_sign(SPEC_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body) - 1,
                                      &c), 0);
        assert_string_not_equal(a, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_string_not_equal(b, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_string_not_equal(c, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_int_equal(webhook_sign("whsec_abc", "x", 1, body, 1, &a), -EINVAL);
}

static void test_signature_with_a_key_made_once(void **state) {
        static const char body[] = "{\"test\": 2432232314}";
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;
        struct webhook_key *k = NULL;

        assert_int_equal(webhook_key_new(SPEC_SECRET, &k), 0);
        /* The same key signs again and again: each signature is the one
         * made with the secret alone. */
        assert_int_equal(webhook_key_sign(k, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), &a), 0);
        assert_int_equal(webhook_key_sign(k, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, strlen(body), &b), 0);
        assert_int_equal(webhook_sign(SPEC_SECRET, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, strlen(body), &c),
                         0);
        assert_string_equal(a, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_string_equal(b, c);
        free(a);
        a = NULL;
        assert_int_equal(webhook_key_sign(k, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, strlen(body), &a), 0);
        assert_string_equal(a, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        webhook_key_free(k);
        k = NULL;
        assert_int_equal(webhook_key_new("whsec_abc", &k), -EINVAL);
        assert_null(k);
}

/* The payload's serialiser writes what json_dumps(JSON_COMPACT) writes. */
static void assert_dump_matches_jansson(json_t *j) {
        _cleanup_free_ char *want = json_dumps(j, JSON_COMPACT), *got = NULL;
        size_t n = 0;

        assert_non_null(j);
        assert_non_null(want);
        assert_int_equal(json_dump_compact(j, 0, &got, &n), 0);
        assert_string_equal(got, want);
        assert_int_equal(n, strlen(want));
        free(got);
        got = NULL;
        assert_int_equal(json_dump_compact(j, 4096, &got, &n), 0);
        assert_string_equal(got, want);
        json_decref(j);
}

static void test_compact_dump_is_jansson_to_the_byte(void **state) {
        char controls[0x21 + 8];
        json_t *o = json_object(), *a = json_array();
        _cleanup_free_ char *s = NULL;
        size_t n;

        for (int i = 1; i < 0x20; i++)
                controls[i - 1] = (char) i;
        memcpy(controls + 0x1f, "\"\\/\x7f", 5);
        assert_dump_matches_jansson(json_pack("{s:s}", "c", controls));
        assert_dump_matches_jansson(json_pack("[s,s,s]", "Báo cáo tiến độ “quý” — hạn 30/06", "🙂 U+1F642",
                                              ""));
        assert_dump_matches_jansson(json_pack("{s:s%}", "nul", "a\0b", (size_t) 3));
        assert_dump_matches_jansson(json_pack("{s:I,s:I,s:i,s:b,s:b,s:n}", "min", (json_int_t) INT64_MIN, "max",
                                              (json_int_t) INT64_MAX, "zero", 0, "t", 1, "f", 0, "null"));
        assert_dump_matches_jansson(json_pack("[f,f,f,f,f]", 1.0, 0.1, 1e300, -0.0, 123456.789));
        assert_dump_matches_jansson(json_pack("{s:{},s:[],s:[{}],s:{s:[i,{s:s}]}}", "e", "a", "ae", "deep", "k",
                                              1, "k\n\"y\"", "x"));
        /* Keys in the order they were set, as jansson writes them. */
        for (int i = 0; i < 40; i++) {
                char k[8];
                snprintf(k, sizeof k, "k%d", (i * 17) % 40);
                json_object_set_new(o, k, json_integer(i));
        }
        json_object_set_new(o, "k3", json_string("set again"));
        json_object_del(o, "k5");
        assert_dump_matches_jansson(o);
        assert_dump_matches_jansson(json_pack("{s:s}", "\t\"key\"", "v"));
        assert_int_equal(json_dump_compact(a, 0, &s, &n), 0);
        assert_string_equal(s, "[]");
        json_decref(a);
        json_t *str = json_string("x");
        assert_int_equal(json_dump_compact(str, 0, &s, &n), -EINVAL);
        json_decref(str);
}

static void test_writer_writes_what_jansson_writes_for_the_same_tree(void **state) {
        /* Bytes that are not UTF-8, an overlong '/', a surrogate, and one
         * above U+10FFFF: each cleaned as json_text() cleans it. */
        static const char *const bad[] = { "T\xe1\xbb ng", "a\xc0\xaf" "b", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff" };
        json_t *want_tree = json_object(), *list = json_array();
        _cleanup_free_ char *want = NULL, *got = NULL;
        struct json_writer w;
        size_t n;

        json_object_set_new(want_tree, "version", json_integer(1));
        json_object_set_new(want_tree, "title", json_text("Báo cáo “quý” — \"hạn\"\n30/06 🙂"));
        json_object_set_new(want_tree, "none", json_text(NULL));
        json_object_set_new(want_tree, "at", json_time(1746896399));
        json_object_set_new(want_tree, "never", json_time(NO_TIME));
        json_object_set_new(want_tree, "t", json_true());
        json_object_set_new(want_tree, "f", json_false());
        json_object_set_new(want_tree, "empty", json_object());
        json_object_set_new(want_tree, "nothing", json_array());
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                json_t *o = json_object();
                json_object_set_new(o, "i", json_integer(i == 0 ? INT64_MIN : i == 1 ? INT64_MAX : (json_int_t) i));
                json_object_set_new(o, "s", json_text(bad[i]));
                json_array_append_new(list, o);
        }
        json_object_set_new(want_tree, "list", list);
        want = json_dumps(want_tree, JSON_COMPACT);
        json_decref(want_tree);

        json_writer_init(&w, 0);
        json_write_open(&w, '{');
        json_write_key(&w, "version");
        json_write_int(&w, 1);
        json_write_key(&w, "title");
        json_write_text(&w, "Báo cáo “quý” — \"hạn\"\n30/06 🙂");
        json_write_key(&w, "none");
        json_write_text(&w, NULL);
        json_write_key(&w, "at");
        json_write_time(&w, 1746896399);
        json_write_key(&w, "never");
        json_write_time(&w, NO_TIME);
        json_write_key(&w, "t");
        json_write_bool(&w, true);
        json_write_key(&w, "f");
        json_write_bool(&w, false);
        json_write_key(&w, "empty");
        json_write_open(&w, '{');
        json_write_close(&w, '}');
        json_write_key(&w, "nothing");
        json_write_open(&w, '[');
        json_write_close(&w, ']');
        json_write_key(&w, "list");
        json_write_open(&w, '[');
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                json_write_open(&w, '{');
                json_write_key(&w, "i");
                json_write_int(&w, i == 0 ? INT64_MIN : i == 1 ? INT64_MAX : (int64_t) i);
                json_write_key(&w, "s");
                json_write_text(&w, bad[i]);
                json_write_close(&w, '}');
        }
        json_write_close(&w, ']');
        json_write_close(&w, '}');
        assert_int_equal(json_writer_finish(&w, &got, &n), 0);
        assert_string_equal(got, want);
        assert_int_equal(n, strlen(want));
        assert_non_null(strstr(got, "\xef\xbf\xbd"));

        /* An object left open is refused, and nothing is kept. */
        json_writer_init(&w, 16);
        json_write_open(&w, '{');
        json_write_key(&w, "k");
        json_write_open(&w, '[');
        json_write_close(&w, ']');
        assert_int_equal(json_writer_finish(&w, &got, &n), -EINVAL);
        assert_null(w.data);
}

/* --- delivery id --------------------------------------------------------- */

static void test_delivery_id_of_one_row_is_its_instance_and_row_id(void **state) {
        struct fx *f = *state;
        struct job *j = make_job(f, 0, "stc", "before:3d", 4711);
        char id[WEBHOOK_ID_MAX];

        webhook_delivery_id(j, id);
        assert_string_equal(id, "deadlined-k5ayrf3xq2mhzd7c6pwvbn4eju-4711");
        /* The same row of another database has another id. */
        snprintf(j->instance, sizeof j->instance, "b7x2mq4ttw3kzcva5hyn6dperu");
        webhook_delivery_id(j, id);
        assert_string_equal(id, "deadlined-b7x2mq4ttw3kzcva5hyn6dperu-4711");
        job_free(j);
}

static void test_compose_without_an_instance_is_refused(void **state) {
        struct fx *f = *state;
        struct job *j = make_job(f, 0, "stc", "before:3d", 4711);
        const struct task *tasks[] = { &f->task };

        j->instance[0] = 0;
        assert_int_equal(compose_webhook(f->c, j, tasks, f->due_at - 3 * 86400), -EINVAL);
        assert_null(j->body);
        job_free(j);
}

static void test_delivery_id_of_a_digest_depends_on_its_rows_not_their_order(void **state) {
        struct job_row rows[3] = { { .delivery_id = 12 }, { .delivery_id = 5 }, { .delivery_id = 9 } };
        struct job_row swapped[3] = { { .delivery_id = 9 }, { .delivery_id = 12 }, { .delivery_id = 5 } };
        struct job_row other[3] = { { .delivery_id = 12 }, { .delivery_id = 5 }, { .delivery_id = 10 } };
        struct job a = { .rows = rows, .n_rows = 3, .instance = "k5ayrf3x" },
                   b = { .rows = swapped, .n_rows = 3, .instance = "k5ayrf3x" },
                   c = { .rows = other, .n_rows = 3, .instance = "k5ayrf3x" },
                   d = { .rows = rows, .n_rows = 2, .instance = "k5ayrf3x" };
        char ia[WEBHOOK_ID_MAX], ib[WEBHOOK_ID_MAX], ic[WEBHOOK_ID_MAX], id[WEBHOOK_ID_MAX];

        webhook_delivery_id(&a, ia);
        webhook_delivery_id(&b, ib);
        webhook_delivery_id(&c, ic);
        webhook_delivery_id(&d, id);
        assert_string_equal(ia, ib);
        assert_string_not_equal(ia, ic);
        assert_string_not_equal(ia, id);
        assert_true(strncmp(ia, "deadlined-k5ayrf3x-5-", 21) == 0);
        assert_int_equal(strlen(ia), strlen("deadlined-k5ayrf3x-5-") + 16);
        assert_null(strchr(ia, '.'));
}

/* --- header values ------------------------------------------------------- */

static void test_header_value_in_plain_ascii_is_kept(void **state) {
        _cleanup_free_ char *s = NULL;

        assert_int_equal(webhook_header_value_encode("[Reminder] 3 days left: 5.c", &s), 0);
        assert_string_equal(s, "[Reminder] 3 days left: 5.c");
}

static void test_header_value_cannot_break_the_line(void **state) {
        _cleanup_free_ char *s = NULL;

        assert_int_equal(webhook_header_value_encode("A\r\nX-Injected: 1\r\n\r\nbody\t\x7f", &s), 0);
        assert_string_equal(s, "A  X-Injected: 1    body  ");
}

static void test_header_value_with_unicode_becomes_encoded_words(void **state) {
        static const char text[] = "[Nhắc việc] Còn 3 ngày: 5.c — Báo cáo đánh giá nguồn lực của các sở, ban, ngành";
        _cleanup_free_ char *s = NULL, *copy = NULL;
        char decoded[512] = "";

        assert_int_equal(webhook_header_value_encode(text, &s), 0);
        copy = strdup(s);
        for (char *w = strtok(copy, " "); w; w = strtok(NULL, " ")) {
                unsigned char out[128];
                size_t len = strlen(w), b64 = len - 12, pad;

                assert_true(len <= 75);
                assert_true(strncmp(w, "=?UTF-8?B?", 10) == 0);
                assert_string_equal(w + len - 2, "?=");
                int n = EVP_DecodeBlock(out, (const unsigned char *) w + 10, (int) b64);
                pad = (w[10 + b64 - 1] == '=') + (w[10 + b64 - 2] == '=');
                assert_true(n > (int) pad);
                strncat(decoded, (const char *) out, (size_t) n - pad);
        }
        assert_string_equal(decoded, text);
}

static void test_header_value_that_looks_encoded_is_encoded(void **state) {
        _cleanup_free_ char *s = NULL;

        assert_int_equal(webhook_header_value_encode("=?UTF-8?B?SGk=?=", &s), 0);
        assert_string_equal(s, "=?UTF-8?B?PT9VVEYtOD9CP1NHaz0/PQ==?=");
}

/* --- json ---------------------------------------------------------------- */

static void test_json_payload_carries_the_task_exactly(void **state) {
        struct fx *f = *state;
        const struct task *tasks[] = { &f->task };
        struct job *j = make_job(f, 0, "stc", "before:3d", 42);
        int64_t now = f->due_at - 3 * 86400 - 16 * 3600 + 1;
        _cleanup_free_ char *sig = NULL;
        json_t *o, *t;

        assert_int_equal(compose_webhook(f->c, j, tasks, now), 0);
        assert_string_equal(j->url, "https://hooks.sonha.gov.vn/stc");
        assert_string_equal(header(j, "Content-Type"), "application/json");
        assert_string_equal(header(j, "Authorization"), "Bearer t0k");
        assert_string_equal(header(j, "webhook-id"), "deadlined-k5ayrf3xq2mhzd7c6pwvbn4eju-42");
        assert_int_equal(strtoll(header(j, "webhook-timestamp"), NULL, 10), now);
        /* Signed when it leaves, not before. */
        assert_null(header(j, "webhook-signature"));
        assert_int_equal(webhook_stamp(f->c, j, now), 1);
        assert_int_equal(strtoll(header(j, "webhook-timestamp"), NULL, 10), now);
        assert_int_equal(webhook_sign(SPEC_SECRET, "deadlined-k5ayrf3xq2mhzd7c6pwvbn4eju-42", now, j->body, j->body_size, &sig), 0);
        assert_string_equal(header(j, "webhook-signature"), sig);
        assert_int_equal(strlen(j->body), j->body_size);

        o = body_json(j);
        assert_int_equal(json_integer_value(json_object_get(o, "version")), 1);
        assert_string_equal(json_string_value(json_object_get(o, "type")), "reminder");
        assert_string_equal(json_string_value(json_object_get(o, "id")), "deadlined-k5ayrf3xq2mhzd7c6pwvbn4eju-42");
        assert_string_equal(json_string_value(json_object_get(o, "language")), "vi");
        assert_true(json_is_false(json_object_get(o, "digest")));
        assert_true(json_is_null(json_object_get(o, "escalation")));
        assert_string_equal(json_string_value(json_object_get(json_object_get(o, "agency"), "role")), "lead");
        t = json_array_get(json_object_get(o, "tasks"), 0);
        assert_int_equal(json_array_size(json_object_get(o, "tasks")), 1);
        assert_int_equal(json_integer_value(json_object_get(t, "id")), 7);
        assert_string_equal(json_string_value(json_object_get(t, "title")), f->task.title);
        assert_string_equal(json_string_value(json_object_get(t, "document")), "2417/UBND-KTTH");
        assert_true(json_is_null(json_object_get(t, "detail")));
        assert_string_equal(json_string_value(json_object_get(t, "due_at")), "2025-05-10T23:59:59+07:00");
        assert_string_equal(json_string_value(json_object_get(t, "url")), "https://nhacviec.sonha.gov.vn/tasks/7");
        assert_int_equal(json_integer_value(json_object_get(json_object_get(t, "time_left"), "seconds")),
                         f->due_at - now);
        assert_string_equal(json_string_value(json_object_get(json_object_get(t, "time_left"), "text")),
                            "còn 3 ngày");
        assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(t, "agencies"), 1),
                                                               "name")), "Sở Kế hoạch và Đầu tư");
        json_decref(o);
        job_free(j);
}

static void test_stamp_signs_the_same_body_for_a_later_attempt(void **state) {
        struct fx *f = *state;
        const struct task *tasks[] = { &f->task };
        struct job *j = make_job(f, 0, "stc", "before:3d", 49);
        _cleanup_free_ char *body = NULL, *sig = NULL;
        int64_t now = f->due_at - 3 * 86400;

        assert_int_equal(compose_webhook(f->c, j, tasks, now), 0);
        body = strndup(j->body, j->body_size);
        assert_int_equal(webhook_stamp(f->c, j, now), 1);
        assert_int_equal(webhook_stamp(f->c, j, now), 0);
        assert_int_equal(webhook_stamp(f->c, j, now + 600), 1);
        assert_string_equal(j->body, body);
        assert_string_equal(header(j, "webhook-id"), "deadlined-k5ayrf3xq2mhzd7c6pwvbn4eju-49");
        assert_int_equal(strtoll(header(j, "webhook-timestamp"), NULL, 10), now + 600);
        assert_int_equal(webhook_sign(SPEC_SECRET, "deadlined-k5ayrf3xq2mhzd7c6pwvbn4eju-49", now + 600, j->body, j->body_size, &sig), 0);
        assert_string_equal(header(j, "webhook-signature"), sig);
        assert_int_equal(header_count(j, "webhook-signature"), 1);
        assert_int_equal(header_count(j, "webhook-timestamp"), 1);
        job_free(j);
}

static void test_stamp_without_the_secret_refuses(void **state) {
        struct fx *f = *state;
        const struct task *tasks[] = { &f->task };
        struct job *j = make_job(f, 0, "stc", "before:3d", 50);
        int64_t now = f->due_at - 3 * 86400;
        struct webhook *w;
        char *secret;

        assert_int_equal(compose_webhook(f->c, j, tasks, now), 0);
        /* A reload took the receiver's secret away before it left: it
         * cannot go unsigned to a receiver that was promised a signature. */
        w = (struct webhook *) webhook_find(f->c, j);
        assert_non_null(w);
        secret = TAKE_PTR(w->secret);
        assert_int_equal(webhook_stamp(f->c, j, now), -ENOKEY);
        assert_null(header(j, "webhook-signature"));
        w->secret = secret;
        assert_int_equal(webhook_stamp(f->c, j, now), 1);
        assert_non_null(header(j, "webhook-signature"));
        job_free(j);
}

static void test_json_escalation_names_its_level_and_no_role(void **state) {
        struct fx *f = *state;
        const struct task *tasks[] = { &f->task };
        struct job *j = make_job(f, 0, "vpubnd", "escalate:1:2d", 43);
        json_t *o, *esc;

        assert_int_equal(compose_webhook(f->c, j, tasks, f->due_at + 2 * 86400), 0);
        assert_string_equal(j->url, "https://hooks.sonha.gov.vn/vp");
        assert_null(header(j, "webhook-signature"));
        assert_non_null(header(j, "webhook-id"));
        o = body_json(j);
        assert_string_equal(json_string_value(json_object_get(o, "type")), "escalation");
        esc = json_object_get(o, "escalation");
        assert_int_equal(json_integer_value(json_object_get(esc, "level")), 1);
        assert_int_equal(json_integer_value(json_object_get(esc, "after")), 2 * 86400);
        assert_true(json_is_null(json_object_get(json_object_get(o, "agency"), "role")));
        assert_true(json_is_null(json_object_get(json_array_get(json_object_get(o, "tasks"), 0), "role")));
        json_decref(o);
        job_free(j);
}

static void test_test_message_has_no_tasks(void **state) {
        struct fx *f = *state;
        struct job j = { .channel = CHANNEL_WEBHOOK, .agency = (char *) "stc" };
        json_t *o;

        assert_int_equal(webhook_compose_test(f->c, &j, "deadlined-test-1", 1746000000), 0);
        o = body_json(&j);
        assert_string_equal(json_string_value(json_object_get(o, "type")), "test");
        assert_int_equal(json_array_size(json_object_get(o, "tasks")), 0);
        assert_string_equal(header(&j, "webhook-id"), "deadlined-test-1");
        json_decref(o);
        free(j.url);
        strv_free(j.headers);
        free(j.body);
}

static void test_a_webhook_the_configuration_lost_is_not_composed(void **state) {
        struct fx *f = *state;
        const struct task *tasks[] = { &f->task };
        struct job *j = make_job(f, 9, "stc", "before:3d", 44);

        assert_int_equal(compose_webhook(f->c, j, tasks, f->due_at - 86400), -ENOENT);
        assert_null(j->body);
        job_free(j);
}

/* --- slack and ntfy ------------------------------------------------------ */

static void test_slack_escapes_mrkdwn_and_keeps_the_header_plain(void **state) {
        struct fx *f = *state;
        const struct task *tasks[] = { &f->task };
        struct job *j = make_job(f, 1, "stc", "before:3d", 45);
        json_t *o, *blocks;

        f->task.title = (char *) "Họp <!channel> & <https://x.test|bấm>";
        assert_int_equal(compose_webhook(f->c, j, tasks, f->due_at - 3 * 86400), 0);
        o = body_json(j);
        assert_non_null(strstr(json_string_value(json_object_get(o, "text")),
                               "Họp &lt;!channel&gt; &amp; &lt;https://x.test|bấm&gt;"));
        assert_null(strstr(json_string_value(json_object_get(o, "text")), "<!channel>"));
        blocks = json_object_get(o, "blocks");
        assert_string_equal(json_string_value(json_object_get(json_array_get(blocks, 0), "type")), "header");
        assert_non_null(strstr(json_string_value(json_object_get(json_object_get(json_array_get(blocks, 0), "text"),
                                                                 "text")), "<!channel> & <https://x.test|bấm>"));
        assert_string_equal(json_string_value(json_object_get(json_object_get(json_array_get(blocks, 1), "text"),
                                                              "type")), "mrkdwn");
        json_decref(o);
        job_free(j);
}

static void test_ntfy_sends_text_with_title_priority_tags_and_click(void **state) {
        struct fx *f = *state;
        const struct task *tasks[] = { &f->task };
        struct job *j = make_job(f, 3, "stc", "overdue:1", 46);

        f->task.title = (char *) "Báo cáo đánh giá nguồn lực";
        assert_int_equal(compose_webhook(f->c, j, tasks, f->due_at + 86400), 0);
        assert_string_equal(header(j, "Content-Type"), "text/plain; charset=utf-8");
        assert_true(strncmp(header(j, "Title"), "=?UTF-8?B?", 10) == 0);
        assert_string_equal(header(j, "Priority"), "4");
        assert_string_equal(header(j, "Tags"), "warning");
        assert_string_equal(header(j, "Click"), "https://nhacviec.sonha.gov.vn/tasks/7");
        assert_true(strncmp(j->body, "Kính gửi: Sở Tài chính.", strlen("Kính gửi: Sở Tài chính.")) == 0);
        assert_non_null(strstr(j->body, "Báo cáo đánh giá nguồn lực"));
        job_free(j);
}

static void test_ntfy_configured_header_replaces_the_formats(void **state) {
        struct fx *f = *state;
        const struct task *tasks[] = { &f->task };
        struct job *j = make_job(f, 2, "stc", "before:3d", 47);

        assert_int_equal(compose_webhook(f->c, j, tasks, f->due_at - 3 * 86400), 0);
        assert_int_equal(header_count(j, "Priority"), 1);
        assert_string_equal(header(j, "Priority"), "5");
        job_free(j);
}

static void test_ntfy_long_message_is_cut_at_a_character(void **state) {
        struct fx *f = *state;
        const struct task *tasks[] = { &f->task };
        struct job *j = make_job(f, 3, "stc", "before:3d", 48);
        _cleanup_free_ char *detail = malloc(20001);

        for (size_t i = 0; i < 20000; i += 2)
                memcpy(detail + i, "đ", 2);
        detail[20000] = 0;
        f->task.detail = detail;
        assert_int_equal(compose_webhook(f->c, j, tasks, f->due_at - 3 * 86400), 0);
        assert_true(j->body_size <= 4096);
        assert_true(j->body_size > 4000);
        assert_string_equal(j->body + j->body_size - strlen("…"), "…");
        json_t *valid = json_string(j->body); /* NULL if the cut split a character */
        assert_non_null(valid);
        json_decref(valid);
        job_free(j);
        f->task.detail = NULL;
}

/* Telegram's length: UTF-16 units of the text once its entities are
 * parsed (tags count nothing, "&amp;" one). */
static size_t telegram_visible_units(const char *s) {
        size_t n = 0;
        for (const char *p = s; *p;) {
                if (*p == '<') {
                        p = strchr(p, '>') + 1;
                        continue;
                }
                if (*p == '&') {
                        p = strchr(p, ';') + 1;
                        n++;
                        continue;
                }
                unsigned char c = (unsigned char) *p;
                size_t len = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
                n += len == 4 ? 2 : 1;
                p += len;
        }
        return n;
}

static void test_telegram_text_escapes_html_and_bolds_the_subject(void **state) {
        char *t = NULL;

        assert_int_equal(webhook_telegram_text("Nhắc <việc> & hạn", "A <b>x</b> & \"q\" </pre>\nB", &t), 0);
        assert_string_equal(t, "<b>Nhắc &lt;việc&gt; &amp; hạn</b>\n\nA &lt;b&gt;x&lt;/b&gt; &amp; \"q\" &lt;/pre&gt;\nB");
        free(t);
}

static void test_telegram_text_is_cut_to_4096_units_with_an_ellipsis(void **state) {
        /* 3000 "&" (5 bytes each once escaped, one unit each) and 3000
         * characters outside the BMP (two units each). */
        size_t n = 3000;
        char *text = malloc(n + n * 4 + 1), *p = text, *t = NULL;

        for (size_t i = 0; i < n; i++)
                *p++ = '&';
        for (size_t i = 0; i < n; i++) {
                memcpy(p, "\xf0\x9f\x93\x85", 4);   /* 📅 */
                p += 4;
        }
        *p = 0;
        assert_int_equal(webhook_telegram_text("Tiêu đề", text, &t), 0);
        assert_true(telegram_visible_units(t) <= 4096);
        assert_true(telegram_visible_units(t) >= 4090);
        assert_non_null(strstr(t, "…"));
        assert_string_equal(t + strlen(t) - strlen("…"), "…");
        /* Never a character cut in half: the last one before "…" is whole. */
        assert_memory_equal(t + strlen(t) - strlen("…") - 4, "\xf0\x9f\x93\x85", 4);
        free(t);
        free(text);

        assert_int_equal(webhook_telegram_text("S", "short", &t), 0);
        assert_null(strstr(t, "…"));
        free(t);
}

static void test_telegram_retry_after_is_read_from_the_reply(void **state) {
        assert_int_equal(webhook_telegram_retry_after("{\"ok\":false,\"error_code\":429,\"description\":"
                                                      "\"Too Many Requests: retry after 7\",\"parameters\":"
                                                      "{\"retry_after\":7}}"),
                         7);
        assert_int_equal(webhook_telegram_retry_after("{\"ok\":false,\"error_code\":400}"), 0);
        assert_int_equal(webhook_telegram_retry_after("not json"), 0);
        assert_int_equal(webhook_telegram_retry_after("{\"parameters\":{\"retry_after\":-3}}"), 0);
}

static void test_telegram_token_is_masked_and_only_in_the_request_url(void **state) {
        struct webhook w = { .format = WEBHOOK_TELEGRAM, .api_url = (char *) "https://api.telegram.org",
                             .url = (char *) "https://api.telegram.org/bot***/sendMessage",
                             .token = (char *) "123456:AAbb-cc_DD" };
        char s[] = "Failed: https://api.telegram.org/bot123456:AAbb-cc_DD/sendMessage and 123456:AAbb-cc_DD";
        char *u = NULL;

        webhook_mask_secret(&w, s);
        assert_string_equal(s, "Failed: https://api.telegram.org/bot***/sendMessage and ***");
        assert_int_equal(webhook_request_url(&w, w.url, &u), 0);
        assert_string_equal(u, "https://api.telegram.org/bot123456:AAbb-cc_DD/sendMessage");
        free(u);
        /* Without the token, or for another webhook, nothing is sent. */
        w.token = NULL;
        assert_int_equal(webhook_request_url(&w, "https://api.telegram.org/bot***/sendMessage", &u), -ENOKEY);
        assert_int_equal(webhook_request_url(NULL, "https://api.telegram.org/bot***/sendMessage", &u), -ENOKEY);
        assert_int_equal(webhook_request_url(NULL, "https://hooks.example/x", &u), 0);
        assert_string_equal(u, "https://hooks.example/x");
        free(u);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_secret_decodes_with_or_without_prefix),
                cmocka_unit_test(test_secret_refuses_wrong_lengths_and_characters),
                cmocka_unit_test(test_signature_matches_the_specification_vector),
                cmocka_unit_test(test_signature_covers_id_timestamp_and_body),
                cmocka_unit_test(test_signature_with_a_key_made_once),
                cmocka_unit_test(test_compact_dump_is_jansson_to_the_byte),
                cmocka_unit_test(test_writer_writes_what_jansson_writes_for_the_same_tree),
                cmocka_unit_test_setup_teardown(test_delivery_id_of_one_row_is_its_instance_and_row_id, setup, teardown),
                cmocka_unit_test_setup_teardown(test_compose_without_an_instance_is_refused, setup, teardown),
                cmocka_unit_test(test_delivery_id_of_a_digest_depends_on_its_rows_not_their_order),
                cmocka_unit_test(test_header_value_in_plain_ascii_is_kept),
                cmocka_unit_test(test_header_value_cannot_break_the_line),
                cmocka_unit_test(test_header_value_with_unicode_becomes_encoded_words),
                cmocka_unit_test(test_header_value_that_looks_encoded_is_encoded),
                cmocka_unit_test_setup_teardown(test_json_payload_carries_the_task_exactly, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stamp_without_the_secret_refuses, setup, teardown),
                cmocka_unit_test_setup_teardown(test_stamp_signs_the_same_body_for_a_later_attempt, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_json_escalation_names_its_level_and_no_role, setup, teardown),
                cmocka_unit_test_setup_teardown(test_test_message_has_no_tasks, setup, teardown),
                cmocka_unit_test_setup_teardown(test_a_webhook_the_configuration_lost_is_not_composed, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_slack_escapes_mrkdwn_and_keeps_the_header_plain, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_ntfy_sends_text_with_title_priority_tags_and_click, setup,
                                                teardown),
                cmocka_unit_test_setup_teardown(test_ntfy_configured_header_replaces_the_formats, setup, teardown),
                cmocka_unit_test_setup_teardown(test_ntfy_long_message_is_cut_at_a_character, setup, teardown),
                cmocka_unit_test(test_telegram_text_escapes_html_and_bolds_the_subject),
                cmocka_unit_test(test_telegram_text_is_cut_to_4096_units_with_an_ellipsis),
                cmocka_unit_test(test_telegram_retry_after_is_read_from_the_reply),
                cmocka_unit_test(test_telegram_token_is_masked_and_only_in_the_request_url),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
