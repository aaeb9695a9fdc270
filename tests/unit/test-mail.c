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

#include "mail-message.h"
#include "render.h"
#include "timeutil.h"

/* ---- a small, independent reader of what the builder writes ------------- */

struct parsed {
        char *names[64];     /* header field names, in order */
        char *values[64];    /* unfolded values (CRLF SP -> SP) */
        size_t n;
        char *body;          /* after the blank line */
};

static void parsed_done(struct parsed *p) {
        for (size_t i = 0; i < p->n; i++) {
                free(p->names[i]);
                free(p->values[i]);
        }
        free(p->body);
}

static void parse_message(const char *msg, struct parsed *ret) {
        const char *end = strstr(msg, "\r\n\r\n"), *p = msg;

        assert_non_null(end);
        *ret = (struct parsed) {};
        while (p < end + 2) {
                const char *colon = strchr(p, ':'), *eol = p;
                char *v;
                size_t n = 0;

                assert_non_null(colon);
                /* The field ends at a CRLF not followed by a blank. */
                for (;;) {
                        eol = strstr(eol, "\r\n");
                        if (eol[2] != ' ' && eol[2] != '\t')
                                break;
                        eol += 2;
                }
                assert_true(ret->n < 64);
                ret->names[ret->n] = strndup(p, colon - p);
                v = ret->values[ret->n] = malloc(eol - colon + 1);
                for (const char *c = colon + 1; c < eol; c++) {
                        if (c[0] == '\r' && c[1] == '\n') {
                                c++;
                                continue;
                        }
                        v[n++] = *c;
                }
                v[n] = 0;
                memmove(v, v + strspn(v, " "), strlen(v + strspn(v, " ")) + 1);
                ret->n++;
                p = eol + 2;
        }
        ret->body = strdup(end + 4);
}

static const char *header(const struct parsed *p, const char *name) {
        for (size_t i = 0; i < p->n; i++)
                if (strcasecmp(p->names[i], name) == 0)
                        return p->values[i];
        return NULL;
}

static int b64_value(char c) {
        const char *d = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const char *p = strchr(d, c);
        return c && p ? (int) (p - d) : -1;
}

static size_t b64_decode(const char *s, size_t n, char *out) {
        size_t k = 0;
        assert_int_equal(n % 4, 0);
        for (size_t i = 0; i < n; i += 4) {
                int v[4];
                for (int j = 0; j < 4; j++)
                        v[j] = s[i + j] == '=' ? 0 : b64_value(s[i + j]);
                for (int j = 0; j < 4; j++)
                        assert_true(v[j] >= 0);
                uint32_t x = (uint32_t) v[0] << 18 | (uint32_t) v[1] << 12 | (uint32_t) v[2] << 6 | (uint32_t) v[3];
                out[k++] = (char) (x >> 16);
                if (s[i + 2] != '=')
                        out[k++] = (char) (x >> 8 & 255);
                if (s[i + 3] != '=')
                        out[k++] = (char) (x & 255);
        }
        return k;
}

static bool utf8_ok(const char *s, size_t n) {
        for (size_t i = 0; i < n;) {
                unsigned char c = s[i];
                size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
                if (k == 0 || i + k > n)
                        return false;
                for (size_t j = 1; j < k; j++)
                        if (((unsigned char) s[i + j] >> 6) != 2)
                                return false;
                i += k;
        }
        return true;
}

/* Decodes an unstructured value made of encoded-words and/or plain words,
 * checking each encoded-word's size and that it holds whole characters. */
static char *decode_words(const char *v) {
        char *out = calloc(strlen(v) + 1, 1);
        size_t n = 0;
        bool prev_encoded = false;

        for (const char *p = v; *p;) {
                size_t ws = strspn(p, " "), k;
                p += ws;
                if (!*p)
                        break;
                k = strcspn(p, " ");
                if (strncmp(p, "=?UTF-8?B?", 10) == 0 && k >= 12 && strncmp(p + k - 2, "?=", 2) == 0) {
                        assert_true(k <= 75);
                        size_t m = b64_decode(p + 10, k - 12, out + n);
                        assert_true(utf8_ok(out + n, m));
                        n += m;
                        prev_encoded = true;
                } else {
                        if (n > 0 && (ws > 0 || !prev_encoded))
                                out[n++] = ' ';
                        memcpy(out + n, p, k);
                        n += k;
                        prev_encoded = false;
                }
                p += k;
        }
        out[n] = 0;
        return out;
}

static int hex_value(char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* Decodes a quoted-printable part up to `end`; line breaks become "\n". */
static char *qp_decode(const char *s, const char *end) {
        char *out = malloc(end - s + 1);
        size_t n = 0;

        for (const char *p = s; p < end; p++) {
                if (p[0] == '=' && p[1] == '\r' && p[2] == '\n') {
                        p += 2;
                } else if (p[0] == '=') {
                        assert_true(hex_value(p[1]) >= 0 && hex_value(p[2]) >= 0);
                        out[n++] = (char) (hex_value(p[1]) << 4 | hex_value(p[2]));
                        p += 2;
                } else if (p[0] == '\r' && p[1] == '\n') {
                        out[n++] = '\n';
                        p++;
                } else
                        out[n++] = *p;
        }
        out[n] = 0;
        return out;
}

/* Decodes a base64 text part up to `end`: lines of 76 characters but the
 * last, padding only at the end; CRLF comes back as "\n", and a lone CR
 * or LF, which the canonical form cannot hold, fails. */
static char *b64_text_decode(const char *s, const char *end) {
        char *compact = malloc(end - s + 1), *raw = malloc(end - s + 1), *out;
        size_t n = 0, k = 0, len;

        for (const char *l = s; l < end;) {
                const char *eol = strstr(l, "\r\n");
                if (!eol || eol > end)
                        eol = end;
                assert_true(eol - l == 76 || eol == end);
                assert_true(memchr(l, '=', eol - l) == NULL || eol == end);
                memcpy(compact + n, l, eol - l);
                n += eol - l;
                l = eol + 2;
        }
        len = b64_decode(compact, n, raw);
        out = malloc(len + 1);
        for (size_t i = 0; i < len; i++) {
                if (raw[i] == '\r') {
                        assert_true(i + 1 < len && raw[i + 1] == '\n');
                        continue;
                }
                assert_true(raw[i] != '\n' || (i > 0 && raw[i - 1] == '\r'));
                out[k++] = raw[i];
        }
        out[k] = 0;
        free(compact);
        free(raw);
        return out;
}

/* The transfer encoding of the part with the given content type. */
static const char *part_encoding(const char *msg, const char *type) {
        char needle[64];
        const char *start;

        snprintf(needle, sizeof needle, "Content-Type: %s; charset=utf-8\r\n", type);
        start = strstr(msg, needle);
        assert_non_null(start);
        start += strlen(needle);
        if (strncmp(start, "Content-Transfer-Encoding: base64\r\n", 35) == 0)
                return "base64";
        assert_true(strncmp(start, "Content-Transfer-Encoding: quoted-printable\r\n", 45) == 0);
        return "quoted-printable";
}

/* The decoded text of the part with the given content type. */
static char *part_text(const char *msg, const char *type) {
        char needle[64];
        const char *start, *body, *end;

        snprintf(needle, sizeof needle, "Content-Type: %s; charset=utf-8\r\n", type);
        start = strstr(msg, needle);
        assert_non_null(start);
        body = strstr(start, "\r\n\r\n");
        assert_non_null(body);
        body += 4;
        end = strstr(body, "\r\n--=_deadlined_");
        if (!end)
                end = body + strlen(body);
        if (streq(part_encoding(msg, type), "base64")) {
                /* A body of its own ends with the message's last CRLF. */
                if (end == body + strlen(body) && end - body >= 2 && end[-1] == '\n')
                        end -= 2;
                return b64_text_decode(body, end);
        }
        return qp_decode(body, end);
}

/* ---- fixtures ----------------------------------------------------------- */

static const struct mail_address to[] = {
        { "Sở Tài chính", "stc@sonha.gov.vn" },
};
static const struct mail_address cc[] = {
        { "Sở Kế hoạch và Đầu tư", "skhdt@sonha.gov.vn" },
        { "Kho bạc Nhà nước tỉnh", "kbnn@sonha.gov.vn" },
};
static const int64_t one_task[] = { 42 };

static struct mail_message sample(void) {
        return (struct mail_message) {
                .from = { "Hệ thống nhắc việc", "nhacviec@sonha.gov.vn" },
                .to = to, .n_to = ELEMENTSOF(to),
                .cc = cc, .n_cc = ELEMENTSOF(cc),
                .subject = "[Nhắc việc] Còn 3 ngày: 5.c — Báo cáo đánh giá nguồn lực (hạn 30/4/2024)",
                .text = "Kính gửi: Sở Tài chính.\n\nNội dung.\n",
                .html = "<p>Kính gửi: <strong>Sở Tài chính</strong>.</p>\n",
                .date = 1714179600, /* 2024-04-27 08:00 +07:00 */
                .delivery = "d1234",
                .instance = "k5ayrf3xq2mhzd7c6pwvbn4eju",
                .tasks = one_task, .n_tasks = 1,
        };
}

static char *format_ok(const struct mail_message *m) {
        char *out = NULL;
        size_t size = 0;
        assert_int_equal(mail_message_format(m, &out, &size), 0);
        assert_int_equal(size, strlen(out));
        return out;
}

static void assert_lines_wellformed(const char *msg) {
        const char *body = strstr(msg, "\r\n\r\n") + 2;

        for (const char *p = msg; *p;) {
                const char *eol = strstr(p, "\r\n");
                size_t len;

                assert_non_null(eol);  /* every line ends in CRLF */
                len = eol - p;
                assert_null(memchr(p, '\n', len));
                assert_null(memchr(p, '\r', len));
                assert_false(len == 1 && p[0] == '.');
                assert_true(len <= (p < body ? 78 : 76));
                p = eol + 2;
        }
}

/* ---- addresses ---------------------------------------------------------- */

static void test_address_validation(void **state) {
        const char *good[] = { "stc@sonha.gov.vn", "a.b+c@x-y.vn", "nhacviec@localhost", "o'brien@ex.com" };
        const char *bad[] = {
                "", "stc", "@sonha.gov.vn", "stc@", "a@@b.vn", "a@b@c.vn", "a b@c.vn", "a@b .vn",
                "<a@b.vn>", "a,b@c.vn", "a@b.vn\r\nBcc: x@y.vn", "a@b.vn\n", "a\r@b.vn", ".a@b.vn",
                "a.@b.vn", "a..b@c.vn", "a@b..vn", "a@-b.vn", "a@b-.vn", "a@b.vn.", "\"a\"@b.vn",
                "a@xn--bcher.ch\x01", "người@sonha.gov.vn", "a@sởtàichính.vn", "a@[127.0.0.1]",
        };
        char longest[256];

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                assert_true(mail_address_is_valid(good[i]));
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_false(mail_address_is_valid(bad[i]));
        assert_false(mail_address_is_valid(NULL));

        /* 254 bytes is the limit; 64 for the local part. */
        memset(longest, 'a', sizeof longest);
        memcpy(longest + 60, "@", 1);
        for (size_t i = 100; i < 254; i += 50)
                longest[i] = '.';
        longest[254] = 0;
        assert_true(mail_address_is_valid(longest));
        longest[254] = 'a', longest[255] = 0;
        assert_false(mail_address_is_valid(longest));
        memset(longest, 'a', 65);
        strcpy(longest + 65, "@b.vn");
        assert_false(mail_address_is_valid(longest));
}

static void test_address_parse(void **state) {
        char *name, *addr;

        assert_int_equal(mail_address_parse("Hệ thống nhắc việc <nhacviec@sonha.gov.vn>", &name, &addr), 0);
        assert_string_equal(name, "Hệ thống nhắc việc");
        assert_string_equal(addr, "nhacviec@sonha.gov.vn");
        free(name), free(addr);

        assert_int_equal(mail_address_parse("\"Doe, \\\"J\\\"\" <j@x.vn>", &name, &addr), 0);
        assert_string_equal(name, "Doe, \"J\"");
        assert_string_equal(addr, "j@x.vn");
        free(name), free(addr);

        assert_int_equal(mail_address_parse("  stc@sonha.gov.vn ", &name, &addr), 0);
        assert_null(name);
        assert_string_equal(addr, "stc@sonha.gov.vn");
        free(addr);

        assert_int_equal(mail_address_parse("<stc@sonha.gov.vn>", &name, &addr), 0);
        assert_null(name);
        free(addr);

        assert_int_equal(mail_address_parse("Name <not-an-address>", &name, &addr), -EINVAL);
        assert_int_equal(mail_address_parse("Name stc@sonha.gov.vn", &name, &addr), -EINVAL);
        assert_int_equal(mail_address_parse("Name <a@b.vn>\r\nBcc: x@y.vn", &name, &addr), -EINVAL);
        assert_int_equal(mail_address_parse("Na\nme <a@b.vn>", &name, &addr), -EINVAL);
        assert_int_equal(mail_address_parse("", &name, &addr), -EINVAL);
        assert_int_equal(mail_address_parse("A <b@c> x", &name, &addr), -EINVAL);
        assert_int_equal(mail_address_parse("A <b>", &name, &addr), -EINVAL);
}

/* The ids deadlined writes, read back from a reply's thread headers: the
 * task they are about, a digest, another message of ours, or not ours. */
static void test_reference_parse_reads_back_what_we_write(void **state) {
        int64_t task = 0;
        char *id;

        assert_int_equal(mail_thread_id(42, "k5ayrf3x", "nhacviec@sonha.gov.vn", &id), 0);
        assert_int_equal(mail_reference_parse(id, "k5ayrf3x", &task), MAIL_REFERENCE_TASK);
        assert_int_equal(task, 42);
        free(id);
        task = 0;
        /* Without brackets, as reply_parse() gives them; a per-task
         * reminder names its task before its slot. */
        assert_int_equal(mail_reference_parse("deadlined.k5ayrf3x.123-before-7d.1747760399@sonha.gov.vn",
                                              "k5ayrf3x", &task), MAIL_REFERENCE_TASK);
        assert_int_equal(task, 123);
        assert_int_equal(mail_reference_parse("deadlined.k5ayrf3x.7-notice-1747760399@x.vn", "k5ayrf3x", &task),
                         MAIL_REFERENCE_TASK);
        assert_int_equal(task, 7);
        /* A digest is named by its first delivery's row alone. */
        assert_int_equal(mail_reference_parse("<deadlined.k5ayrf3x.991@sonha.gov.vn>", "k5ayrf3x", &task),
                         MAIL_REFERENCE_DIGEST);
        assert_int_equal(mail_reference_parse("deadlined.k5ayrf3x.report-stc-2025-05@sonha.gov.vn", "k5ayrf3x",
                                              &task), MAIL_REFERENCE_OTHER);
        /* Another database's ids, or someone else's, are not ours. */
        assert_int_equal(mail_reference_parse("deadlined.zzzzzzzz.task-42@sonha.gov.vn", "k5ayrf3x", &task),
                         MAIL_REFERENCE_FOREIGN);
        assert_int_equal(mail_reference_parse("deadlined.k5ayrf3x9.task-42@sonha.gov.vn", "k5ayrf3x", &task),
                         MAIL_REFERENCE_FOREIGN);
        assert_int_equal(mail_reference_parse("CAF=abc123@mail.gmail.com", "k5ayrf3x", &task),
                         MAIL_REFERENCE_FOREIGN);
        assert_int_equal(mail_reference_parse(NULL, "k5ayrf3x", &task), MAIL_REFERENCE_FOREIGN);
        /* Broken numbers name nothing. */
        const char *bad[] = {
                "deadlined.k5ayrf3x.task-0@x.vn", "deadlined.k5ayrf3x.task-@x.vn", "deadlined.k5ayrf3x.task-4x@x.vn",
                "deadlined.k5ayrf3x.task-99999999999999999999@x.vn", "deadlined.k5ayrf3x.042-before@x.vn",
                "deadlined.k5ayrf3x.@x.vn", "deadlined.k5ayrf3x.task-42",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                task = -1;
                assert_int_not_equal(mail_reference_parse(bad[i], "k5ayrf3x", &task), MAIL_REFERENCE_TASK);
                assert_int_equal(task, -1);
        }
        /* Without an instance (ids of a database from before them). */
        assert_int_equal(mail_reference_parse("deadlined.task-5@x.vn", NULL, &task), MAIL_REFERENCE_TASK);
        assert_int_equal(task, 5);
}

static void test_references_task_takes_the_first_task_named(void **state) {
        char *thread[] = { "CAF=x@mail.gmail.com", "deadlined.k5.991@x.vn", "deadlined.k5.task-8@x.vn",
                           "deadlined.k5.task-9@x.vn", NULL };
        char *digest[] = { "deadlined.k5.991@x.vn", "outlook.123@x.vn", NULL };
        char *none[] = { "a@b", NULL };
        int64_t task = 0;

        assert_int_equal(mail_references_task(thread, "k5", &task), MAIL_REFERENCE_TASK);
        assert_int_equal(task, 8);
        assert_int_equal(mail_references_task(digest, "k5", &task), MAIL_REFERENCE_DIGEST);
        assert_int_equal(mail_references_task(none, "k5", &task), MAIL_REFERENCE_FOREIGN);
        assert_int_equal(mail_references_task(NULL, "k5", &task), MAIL_REFERENCE_FOREIGN);
}

/* A digest's Message-ID and thread root both read back as a digest of
 * its agency and day; an id of ours that only looks like one does not. */
static void test_digest_ids_round_trip(void **state) {
        _cleanup_free_ char *token = NULL, *id = NULL, *root = NULL, *agency = NULL;
        int32_t day = days_from_civil(2025, 5, 19), got_day = 0;
        int64_t task = 0;

        assert_int_equal(mail_digest_token("h-an_lac2", day, 1004, &token), 0);
        assert_string_equal(token, "digest.h-an_lac2.2025-05-19.1004");
        assert_int_equal(mail_message_id(token, "k5ayrf3x", "nhacviec@sonha.gov.vn", &id), 0);
        assert_string_equal(id, "<deadlined.k5ayrf3x.digest.h-an_lac2.2025-05-19.1004@sonha.gov.vn>");
        assert_int_equal(mail_digest_thread_id("h-an_lac2", day, "k5ayrf3x", "nhacviec@sonha.gov.vn", &root), 0);
        assert_string_equal(root, "<deadlined.k5ayrf3x.digest.h-an_lac2.2025-05-19@sonha.gov.vn>");

        const char *ids[] = { id, root };
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                assert_int_equal(mail_reference_parse(ids[i], "k5ayrf3x", &task), MAIL_REFERENCE_DIGEST);
                assert_int_equal(mail_reference_digest(ids[i], "k5ayrf3x", &agency, &got_day), 0);
                assert_string_equal(agency, "h-an_lac2");
                assert_int_equal(got_day, day);
                agency = mfree(agency);
                /* Another database's digest is not ours. */
                assert_int_equal(mail_reference_parse(ids[i], "zzzzzzzz", &task), MAIL_REFERENCE_FOREIGN);
                assert_int_equal(mail_reference_digest(ids[i], "zzzzzzzz", &agency, &got_day), -ENOENT);
        }
        /* Without an instance, as with a test message. */
        free(root);
        assert_int_equal(mail_digest_thread_id("stc", day, NULL, "n@x.vn", &root), 0);
        assert_string_equal(root, "<deadlined.digest.stc.2025-05-19@x.vn>");
        assert_int_equal(mail_reference_digest(root, NULL, &agency, &got_day), 0);
        assert_string_equal(agency, "stc");
        agency = mfree(agency);

        const char *not_digests[] = {
                "<deadlined.k5.digest.stc.2025-13-01@x.vn>",    /* no such day */
                "<deadlined.k5.digest.stc.2025-05-19x@x.vn>",
                "<deadlined.k5.digest.stc.2025-05-19.@x.vn>",   /* no row */
                "<deadlined.k5.digest.stc.2025-05-19.0@x.vn>",
                "<deadlined.k5.digest..2025-05-19@x.vn>",       /* no agency */
                "<deadlined.k5.digest.STC.2025-05-19@x.vn>",
                "<deadlined.k5.digest.stc@x.vn>",
                "<deadlined.k5.digest.stc.2025-05@x.vn>",
                "<deadlined.k5.task-42@x.vn>",
                "<deadlined.k5.991@x.vn>",                      /* an older digest: no agency */
        };
        for (size_t i = 0; i < ELEMENTSOF(not_digests); i++) {
                assert_int_equal(mail_reference_digest(not_digests[i], "k5", &agency, &got_day), -ENOENT);
                assert_null(agency);
        }
        assert_int_equal(mail_reference_parse("<deadlined.k5.digest.stc@x.vn>", "k5", &task), MAIL_REFERENCE_OTHER);
        assert_int_equal(mail_reference_parse("<deadlined.k5.991@x.vn>", "k5", &task), MAIL_REFERENCE_DIGEST);

        assert_int_equal(mail_digest_token("Bad.Id", day, 1, &id), -EINVAL);
        assert_int_equal(mail_digest_token("stc", day, 0, &id), -EINVAL);
        assert_int_equal(mail_digest_thread_id("a b", day, NULL, "n@x.vn", &id), -EINVAL);
        assert_int_equal(mail_digest_thread_id("stc", day, NULL, "no address", &id), -EINVAL);
}

/* A message that names another one's id (a digest's thread root, or the
 * reply it answers) threads under it; an id that could add a header or
 * break the line is refused. */
static void test_thread_names_the_given_id(void **state) {
        const int64_t several[] = { 7, 8 };
        struct mail_message m = sample();
        struct parsed p;
        char *msg;

        m.tasks = several, m.n_tasks = ELEMENTSOF(several);
        m.thread = "<CAF=abc+1@mail.gmail.com>";
        msg = format_ok(&m);
        parse_message(msg, &p);
        assert_string_equal(header(&p, "In-Reply-To"), "<CAF=abc+1@mail.gmail.com>");
        assert_string_equal(header(&p, "References"), "<CAF=abc+1@mail.gmail.com>");
        parsed_done(&p);
        free(msg);

        const char *bad[] = { "CAF@x", "<a b@x>", "<a@x>\r\nBcc: e@x", "<a<b@x>", "<>", "<ä@x>", "" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                m.thread = bad[i];
                assert_int_equal(mail_message_format(&m, &msg, NULL), -EINVAL);
                assert_false(mail_id_is_valid(bad[i]));
        }
        char long_id[260];
        memset(long_id, 'x', sizeof long_id);
        long_id[0] = '<', long_id[251] = '>', long_id[252] = 0;
        assert_false(mail_id_is_valid(long_id));
        long_id[249] = '>', long_id[250] = 0;
        assert_true(mail_id_is_valid(long_id));
}

static void test_message_and_thread_ids(void **state) {
        char *id;

        assert_int_equal(mail_message_id("d1234", "k5ayrf3x", "nhacviec@sonha.gov.vn", &id), 0);
        assert_string_equal(id, "<deadlined.k5ayrf3x.d1234@sonha.gov.vn>");
        free(id);
        assert_int_equal(mail_thread_id(42, "k5ayrf3x", "nhacviec@sonha.gov.vn", &id), 0);
        assert_string_equal(id, "<deadlined.k5ayrf3x.task-42@sonha.gov.vn>");
        free(id);
        /* Without an instance (a test message): the token alone. */
        assert_int_equal(mail_message_id("test-1", NULL, "nhacviec@sonha.gov.vn", &id), 0);
        assert_string_equal(id, "<deadlined.test-1@sonha.gov.vn>");
        free(id);
        assert_int_equal(mail_thread_id(42, NULL, "nhacviec@sonha.gov.vn", &id), 0);
        assert_string_equal(id, "<deadlined.task-42@sonha.gov.vn>");
        free(id);

        const char *bad_tokens[] = { "", "a b", "a>b", "a@b", "a\r\nb", "<x>", "ä" };
        for (size_t i = 0; i < ELEMENTSOF(bad_tokens); i++) {
                assert_int_equal(mail_message_id(bad_tokens[i], NULL, "n@sonha.gov.vn", &id), -EINVAL);
                assert_int_equal(mail_message_id("d1", bad_tokens[i], "n@sonha.gov.vn", &id), -EINVAL);
                assert_int_equal(mail_thread_id(42, bad_tokens[i], "n@sonha.gov.vn", &id), -EINVAL);
        }
        char long_token[MAIL_TOKEN_MAX + 2];
        memset(long_token, 'x', sizeof long_token - 1);
        long_token[MAIL_TOKEN_MAX + 1] = 0;
        assert_int_equal(mail_message_id(long_token, NULL, "n@sonha.gov.vn", &id), -EINVAL);
        long_token[MAIL_TOKEN_MAX] = 0;
        assert_int_equal(mail_message_id(long_token, NULL, "n@sonha.gov.vn", &id), 0);
        free(id);

        assert_int_equal(mail_message_id("d1", "k5ayrf3x", "not an address", &id), -EINVAL);
        assert_int_equal(mail_thread_id(0, "k5ayrf3x", "n@sonha.gov.vn", &id), -EINVAL);
        assert_int_equal(mail_thread_id(-5, "k5ayrf3x", "n@sonha.gov.vn", &id), -EINVAL);
}

/* ---- headers ------------------------------------------------------------ */

static void test_headers_are_exactly_these(void **state) {
        struct mail_message m = sample();
        const char *expected[] = {
                "Date", "From", "To", "Cc", "Subject", "Message-ID", "In-Reply-To", "References",
                "MIME-Version", "Content-Type", "Auto-Submitted", "X-Auto-Response-Suppress",
                "X-Deadlined-Task", "X-Deadlined-Delivery",
        };
        struct parsed p;
        char *msg = format_ok(&m);

        parse_message(msg, &p);
        assert_int_equal(p.n, ELEMENTSOF(expected));
        for (size_t i = 0; i < p.n; i++)
                assert_string_equal(p.names[i], expected[i]);
        assert_string_equal(header(&p, "Date"), "Sat, 27 Apr 2024 08:00:00 +0700");
        assert_string_equal(header(&p, "Message-ID"), "<deadlined.k5ayrf3xq2mhzd7c6pwvbn4eju.d1234@sonha.gov.vn>");
        assert_string_equal(header(&p, "In-Reply-To"), "<deadlined.k5ayrf3xq2mhzd7c6pwvbn4eju.task-42@sonha.gov.vn>");
        assert_string_equal(header(&p, "References"), "<deadlined.k5ayrf3xq2mhzd7c6pwvbn4eju.task-42@sonha.gov.vn>");
        assert_string_equal(header(&p, "MIME-Version"), "1.0");
        assert_string_equal(header(&p, "Content-Type"),
                            "multipart/alternative; boundary=\"=_deadlined_alternative\"");
        assert_string_equal(header(&p, "Auto-Submitted"), "auto-generated");
        assert_string_equal(header(&p, "X-Auto-Response-Suppress"), "All");
        assert_string_equal(header(&p, "X-Deadlined-Task"), "42");
        assert_string_equal(header(&p, "X-Deadlined-Delivery"), "d1234");
        assert_lines_wellformed(msg);
        parsed_done(&p);
        free(msg);
}

static void test_reply_to_is_optional(void **state) {
        struct mail_message m = sample();
        struct mail_address reply = { NULL, "vanthu@sonha.gov.vn" };
        struct parsed p;
        char *msg = format_ok(&m);

        parse_message(msg, &p);
        assert_null(header(&p, "Reply-To"));
        parsed_done(&p);
        free(msg);

        m.reply_to = &reply;
        msg = format_ok(&m);
        parse_message(msg, &p);
        assert_string_equal(header(&p, "Reply-To"), "vanthu@sonha.gov.vn");
        parsed_done(&p);
        free(msg);

        reply.address = "vanthu@sonha.gov.vn>\r\nBcc: x@evil.vn";
        assert_int_equal(mail_message_format(&m, &msg, NULL), -EINVAL);
}

static void test_subject_is_encoded_words_that_decode_exactly(void **state) {
        struct mail_message m = sample();
        struct parsed p;
        char *msg = format_ok(&m), *subject;

        parse_message(msg, &p);
        assert_non_null(strstr(header(&p, "Subject"), "=?UTF-8?B?"));
        subject = decode_words(header(&p, "Subject"));
        assert_string_equal(subject, m.subject);
        assert_lines_wellformed(msg);
        free(subject);
        parsed_done(&p);
        free(msg);
}

static void test_ascii_subject_stays_readable(void **state) {
        struct mail_message m = sample();
        struct parsed p;
        char *msg;

        m.subject = "[Reminder] 3 days left: 5.c - Resource assessment report (due 30/4/2024)";
        msg = format_ok(&m);
        parse_message(msg, &p);
        assert_string_equal(header(&p, "Subject"), m.subject);
        assert_lines_wellformed(msg);
        parsed_done(&p);
        free(msg);

        /* Text that merely looks like an encoded-word must not decode. */
        m.subject = "=?UTF-8?B?QmNjOiBldmls?=";
        msg = format_ok(&m);
        parse_message(msg, &p);
        assert_string_not_equal(header(&p, "Subject"), m.subject);
        char *s = decode_words(header(&p, "Subject"));
        assert_string_equal(s, m.subject);
        free(s);
        parsed_done(&p);
        free(msg);
}

static void test_long_ascii_words_are_encoded_to_fold(void **state) {
        struct mail_message m = sample();
        struct parsed p;
        char *msg, *subject;

        m.subject = "[Reminder] see https://nhacviec.sonha.gov.vn/tasks/42?view=full&section=detail&lang=en now";
        msg = format_ok(&m);
        assert_lines_wellformed(msg);
        parse_message(msg, &p);
        assert_non_null(strstr(header(&p, "Subject"), "=?UTF-8?B?"));
        subject = decode_words(header(&p, "Subject"));
        assert_string_equal(subject, m.subject);
        free(subject);
        parsed_done(&p);
        free(msg);
}

static void test_subject_cannot_inject_headers(void **state) {
        const char *attempts[] = {
                "x\r\nBcc: evil@x.vn",
                "x\nBcc: evil@x.vn",
                "x\rBcc: evil@x.vn",
                "Còn 3 ngày\r\n\r\nbody injected\r\n.\r\nMAIL FROM:<evil@x.vn>",
                "x\tBcc:\vevil@x.vn\x1b[31m",
        };

        for (size_t i = 0; i < ELEMENTSOF(attempts); i++) {
                struct mail_message m = sample();
                struct parsed p;
                char *msg, *subject;

                m.subject = attempts[i];
                msg = format_ok(&m);
                parse_message(msg, &p);
                assert_int_equal(p.n, 14);
                assert_null(header(&p, "Bcc"));
                assert_null(header(&p, "MAIL FROM"));
                subject = decode_words(header(&p, "Subject"));
                assert_null(strpbrk(subject, "\r\n\t\v\x1b"));
                assert_non_null(strstr(subject, "Bcc:") ?: strstr(subject, "MAIL FROM"));
                assert_lines_wellformed(msg);
                free(subject);
                parsed_done(&p);
                free(msg);
        }
}

static void test_display_names(void **state) {
        const struct mail_address list[] = {
                { "Sở Tài chính", "stc@sonha.gov.vn" },
                { "Doe, John (DoF)", "j@x.vn" },
                { "Plain Name", "p@x.vn" },
                { NULL, "bare@x.vn" },
                { "Evil\r\nBcc: x@evil.vn", "e@x.vn" },
        };
        struct mail_message m = sample();
        struct parsed p;
        char *msg, *decoded;

        m.to = list, m.n_to = ELEMENTSOF(list);
        msg = format_ok(&m);
        parse_message(msg, &p);
        decoded = decode_words(header(&p, "To"));
        assert_non_null(strstr(header(&p, "To"), "=?UTF-8?B?"));
        assert_non_null(strstr(header(&p, "To"), "\"Doe, John (DoF)\" <j@x.vn>,"));
        assert_non_null(strstr(header(&p, "To"), "Plain Name <p@x.vn>,"));
        assert_non_null(strstr(header(&p, "To"), "bare@x.vn,"));
        assert_non_null(strstr(decoded, "Sở Tài chính <stc@sonha.gov.vn>,"));
        assert_non_null(strstr(header(&p, "To"), "\"Evil Bcc: x@evil.vn\" <e@x.vn>"));
        assert_null(header(&p, "Bcc"));
        assert_lines_wellformed(msg);
        free(decoded);
        parsed_done(&p);
        free(msg);
}

static void test_long_recipient_lists_fold(void **state) {
        struct mail_address list[60];
        char addrs[60][32];
        struct mail_message m = sample();
        struct parsed p;
        char *msg, *decoded;

        for (size_t i = 0; i < ELEMENTSOF(list); i++) {
                snprintf(addrs[i], sizeof addrs[i], "ubnd%zu@huyen.sonha.gov.vn", i);
                list[i] = (struct mail_address) {
                        "Ủy ban nhân dân huyện có một cái tên rất dài để kiểm tra việc ngắt dòng", addrs[i] };
        }
        m.to = list, m.n_to = ELEMENTSOF(list);
        msg = format_ok(&m);
        assert_lines_wellformed(msg);
        parse_message(msg, &p);
        decoded = decode_words(header(&p, "To"));
        for (size_t i = 0; i < ELEMENTSOF(list); i++)
                assert_non_null(strstr(decoded, addrs[i]));
        free(decoded);
        parsed_done(&p);
        free(msg);
}

static void test_threading_headers(void **state) {
        const int64_t several[] = { 7, 8, 9 };
        struct mail_message m = sample();
        struct parsed p;
        char *msg;

        m.tasks = several, m.n_tasks = ELEMENTSOF(several);
        msg = format_ok(&m);
        parse_message(msg, &p);
        assert_null(header(&p, "In-Reply-To"));
        assert_null(header(&p, "References"));
        assert_string_equal(header(&p, "X-Deadlined-Task"), "7, 8, 9");
        parsed_done(&p);
        free(msg);

        m.tasks = NULL, m.n_tasks = 0;
        msg = format_ok(&m);
        parse_message(msg, &p);
        assert_null(header(&p, "X-Deadlined-Task"));
        assert_null(header(&p, "In-Reply-To"));
        parsed_done(&p);
        free(msg);

        const int64_t zero[] = { 0 };
        m.tasks = zero, m.n_tasks = 1;
        assert_int_equal(mail_message_format(&m, &msg, NULL), -EINVAL);
}

static void test_date_uses_process_zone(void **state) {
        struct { const char *tz, *expected; } cases[] = {
                { "Asia/Ho_Chi_Minh", "Sat, 27 Apr 2024 08:00:00 +0700" },
                { "UTC", "Sat, 27 Apr 2024 01:00:00 +0000" },
                { "America/St_Johns", "Fri, 26 Apr 2024 22:30:00 -0230" },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                struct mail_message m = sample();
                struct parsed p;
                char *msg;

                setenv("TZ", cases[i].tz, 1);
                tzset();
                msg = format_ok(&m);
                parse_message(msg, &p);
                assert_string_equal(header(&p, "Date"), cases[i].expected);
                parsed_done(&p);
                free(msg);
        }
        setenv("TZ", "Asia/Ho_Chi_Minh", 1);
        tzset();
}

/* ---- bodies ------------------------------------------------------------- */

static void test_bodies_round_trip_through_quoted_printable(void **state) {
        struct mail_message m = sample();
        char *msg, *text, *html;

        m.text = "Kính gửi: Sở Tài chính.\n"
                "- Nhiệm vụ 5.c: Báo cáo đánh giá nguồn lực = 100%\n"
                ".\n"
                "..\n"
                "From here on\n"
                "trailing blanks   \n"
                "\ttab first\n"
                "Một dòng rất dài để kiểm tra việc ngắt dòng mềm của quoted-printable, vượt quá bảy mươi sáu ký tự "
                "và còn dài hơn nữa...........................................................................\n"
                "Mostly plain ASCII, as an English template's text is, so that this body stays quoted-printable "
                "and readable; one byte in six or fewer needs an escape. A Vietnamese text has more than that "
                "and goes as base64 (test_vietnamese_bodies_go_as_base64), which would not show the escapes that "
                "this test is about: a leading dot, a leading From, trailing blanks and soft line breaks.\n"
                "no final newline";
        msg = format_ok(&m);
        assert_lines_wellformed(msg);
        assert_string_equal(part_encoding(msg, "text/plain"), "quoted-printable");
        text = part_text(msg, "text/plain");
        assert_string_equal(text, m.text);
        html = part_text(msg, "text/html");
        assert_string_equal(html, m.html);
        assert_non_null(strstr(msg, "\r\n=2E\r\n"));
        assert_non_null(strstr(msg, "\r\n=2E.\r\n"));
        assert_non_null(strstr(msg, "\r\n=46rom here on\r\n"));
        assert_non_null(strstr(msg, "trailing blanks  =20\r\n"));
        free(text);
        free(html);
        free(msg);
}

static void test_no_line_is_a_lone_dot_even_after_soft_breaks(void **state) {
        struct mail_message m = sample();
        char body[4096];
        char *msg, *text;

        /* Dots placed so that soft breaks fall right before them. */
        for (size_t shift = 0; shift < 80; shift++) {
                memset(body, 'a', shift);
                memset(body + shift, '.', 400);
                strcpy(body + shift + 400, "\n.\nend\n");
                m.text = body;
                m.html = NULL;
                msg = format_ok(&m);
                assert_lines_wellformed(msg);
                for (const char *p = strstr(msg, "\r\n\r\n") + 4; *p; p = strstr(p, "\r\n") + 2)
                        assert_true(*p != '.');
                text = part_text(msg, "text/plain");
                assert_string_equal(text, body);
                free(text);
                free(msg);
        }
}

static void test_text_only_message(void **state) {
        struct mail_message m = sample();
        struct parsed p;
        char *msg, *text;

        m.html = NULL;
        msg = format_ok(&m);
        parse_message(msg, &p);
        assert_string_equal(header(&p, "Content-Type"), "text/plain; charset=utf-8");
        /* Vietnamese: base64, shorter than quoted-printable would be. */
        assert_string_equal(header(&p, "Content-Transfer-Encoding"), "base64");
        assert_null(strstr(msg, "multipart"));
        text = part_text(msg, "text/plain");
        assert_string_equal(text, m.text);
        free(text);
        parsed_done(&p);
        free(msg);

        m.text = "Dear Department of Finance,\n\nTask 5.c is due in 3 days.\n";
        msg = format_ok(&m);
        parse_message(msg, &p);
        assert_string_equal(header(&p, "Content-Transfer-Encoding"), "quoted-printable");
        assert_non_null(strstr(msg, "\r\n\r\nDear Department of Finance,\r\n"));
        text = part_text(msg, "text/plain");
        assert_string_equal(text, m.text);
        free(text);
        parsed_done(&p);
        free(msg);
}

/* A body of which more than one byte in six would be "=XX" goes as base64
 * of its CRLF form: lines of 76 characters but the last, padding only at
 * the end, wherever its line breaks (LF, CRLF, a lone CR) fall against the
 * 57 bytes a line holds; the text part and the HTML part each choose. */
static void test_vietnamese_bodies_go_as_base64(void **state) {
        struct mail_message m = sample();
        char body[512], expected[512];
        char *msg, *text, *html;

        m.html = "<p>Dear <b>Department of Finance</b>, task 5.c is due in three days.</p>\n";
        for (size_t shift = 0; shift < 64; shift++) {
                size_t n = 0, k = 0;
                for (size_t i = 0; i < shift; i++)
                        n += (size_t) sprintf(body + n, "%s", i % 3 ? "ữ" : "a");
                const char *tail[] = { "\n", "Sở Tài chính\r\n", "Kho bạc\r", "Nội dung.", "\n" };
                for (size_t i = 0; i < ELEMENTSOF(tail); i++)
                        n += (size_t) sprintf(body + n, "%s", tail[i]);
                for (size_t i = 0; body[i]; i++) {
                        if (body[i] == '\r' && body[i + 1] == '\n')
                                continue;
                        expected[k++] = body[i] == '\r' ? '\n' : body[i];
                }
                expected[k] = 0;
                m.text = body;
                msg = format_ok(&m);
                assert_lines_wellformed(msg);
                assert_string_equal(part_encoding(msg, "text/plain"), "base64");
                assert_string_equal(part_encoding(msg, "text/html"), "quoted-printable");
                text = part_text(msg, "text/plain");
                assert_string_equal(text, expected);
                html = part_text(msg, "text/html");
                assert_string_equal(html, m.html);
                free(text);
                free(html);
                free(msg);
        }
}

/* Random subjects and bodies from a mix of ASCII, Vietnamese letters,
 * blanks, line breaks and dots: every output is well formed and decodes
 * back to the input (the subject with its blanks and controls folded). */
static void test_random_texts_round_trip(void **state) {
        const char *pieces[] = { "a", "Z", " ", "  ", ".", "\n", "\r\n", "\t", "=", "?", "ế", "Ủy", "đ", "ữ",
                                 "—", "“", "…", "From ", "=?", "😀", "0", "<", ">", "\"", "\\" };
        unsigned seed = 12345;

        for (int round = 0; round < 300; round++) {
                char subject[1024] = "", body[8192] = "", *msg, *text, *decoded, *expected;
                struct mail_message m = sample();
                struct parsed p;
                size_t n = (size_t) (rand_r(&seed) % 120);

                for (size_t i = 0; i < n; i++)
                        strcat(subject, pieces[rand_r(&seed) % ELEMENTSOF(pieces)]);
                /* Bodies of every mix: any piece; the first ten only
                 * (ASCII, "=" among them); or those with one piece in
                 * eight from the rest, near where base64 becomes shorter. */
                n = (size_t) (rand_r(&seed) % 1500);
                for (size_t i = 0; i < n; i++) {
                        size_t pick = (size_t) rand_r(&seed) % ELEMENTSOF(pieces);
                        if (round % 3 == 1 || (round % 3 == 2 && rand_r(&seed) % 8 != 0))
                                pick %= 10;
                        strcat(body, pieces[pick]);
                }
                m.subject = subject;
                m.text = body;
                msg = format_ok(&m);
                assert_lines_wellformed(msg);

                parse_message(msg, &p);
                assert_int_equal(p.n, 14);
                decoded = decode_words(header(&p, "Subject"));
                /* The expected subject: controls to spaces, runs of spaces
                 * to one, trimmed. */
                expected = strdup(subject);
                size_t w = 0;
                for (size_t r = 0; subject[r]; r++) {
                        char c = (unsigned char) subject[r] < 0x20 ? ' ' : subject[r];
                        if (c == ' ' && (w == 0 || expected[w - 1] == ' '))
                                continue;
                        expected[w++] = c;
                }
                while (w > 0 && expected[w - 1] == ' ')
                        w--;
                expected[w] = 0;
                assert_string_equal(decoded, expected);

                /* base64 exactly where more than one byte in six would
                 * be "=XX" in quoted-printable. */
                size_t escaped = 0, len = strlen(body);
                for (size_t r = 0; r < len; r++) {
                        unsigned char c = (unsigned char) body[r];
                        escaped += c >= 127 || c == '=' || (c < 32 && c != '\t' && c != '\n' && c != '\r');
                }
                assert_string_equal(part_encoding(msg, "text/plain"),
                                    escaped * 6 > len ? "base64" : "quoted-printable");
                text = part_text(msg, "text/plain");
                /* Line breaks of any kind come back as "\n". */
                size_t k = 0;
                for (size_t r = 0; body[r]; r++) {
                        if (body[r] == '\r' && body[r + 1] == '\n')
                                continue;
                        body[k++] = body[r] == '\r' ? '\n' : body[r];
                }
                body[k] = 0;
                assert_string_equal(text, body);

                free(expected);
                free(decoded);
                free(text);
                parsed_done(&p);
                free(msg);
        }
}

/* ---- envelope and limits ------------------------------------------------ */

static void test_recipients_are_to_and_cc_once(void **state) {
        const struct mail_address t[] = { { "A", "a@x.vn" }, { "B", "b@x.vn" } };
        const struct mail_address c[] = { { "A again", "A@X.VN" }, { "C", "c@x.vn" }, { NULL, "b@x.vn" } };
        struct mail_message m = sample();
        char **r;

        m.to = t, m.n_to = ELEMENTSOF(t);
        m.cc = c, m.n_cc = ELEMENTSOF(c);
        m.reply_to = &(struct mail_address) { NULL, "reply@x.vn" };
        assert_int_equal(mail_message_recipients(&m, &r), 0);
        assert_int_equal(strv_length(r), 3);
        assert_string_equal(r[0], "a@x.vn");
        assert_string_equal(r[1], "b@x.vn");
        assert_string_equal(r[2], "c@x.vn");
        strv_free(r);

        m.n_to = 0;
        assert_int_equal(mail_message_recipients(&m, &r), 0);
        assert_int_equal(strv_length(r), 3);
        assert_string_equal(r[0], "A@X.VN");
        strv_free(r);

        const struct mail_address bad[] = { { NULL, "x@y.vn\r\nRCPT TO:<evil@x.vn>" } };
        m.cc = bad, m.n_cc = 1;
        assert_int_equal(mail_message_recipients(&m, &r), -EINVAL);
        char *msg;
        assert_int_equal(mail_message_format(&m, &msg, NULL), -EINVAL);
}


/* ---- attachments -------------------------------------------------------- */

static const char csv_bom[] = "\xEF\xBB\xBF" "kind,id,name\r\nagency,stc,Sở Tài chính\r\n";

static struct mail_message with_attachment(struct mail_attachment *a, size_t size) {
        struct mail_message m = sample();

        *a = (struct mail_attachment) {
                .filename = "bao-cao-2025-05.csv",
                .content_type = "text/csv; charset=utf-8",
                .data = csv_bom,
                .size = size,
        };
        m.attachments = a;
        m.n_attachments = 1;
        return m;
}

/* The part `index` (from 0) of a multipart/mixed msg, up to the
 * next line starting "--=_deadlined_mixed". */
static const char *mixed_part(const char *msg, size_t index, const char **ret_end) {
        const char *p = msg;

        for (size_t i = 0; i <= index; i++) {
                p = strstr(p, "\r\n--=_deadlined_mixed\r\n");
                assert_non_null(p);
                p += strlen("\r\n--=_deadlined_mixed\r\n");
        }
        *ret_end = strstr(p, "\r\n--=_deadlined_mixed");
        assert_non_null(*ret_end);
        return p;
}

static void test_attachment_makes_multipart_mixed(void **state) {
        struct mail_attachment a;
        struct mail_message m = with_attachment(&a, sizeof csv_bom - 1);
        _cleanup_free_ char *msg = format_ok(&m), *text = NULL, *html = NULL;
        const char *part, *end, *body;
        char decoded[256];
        struct parsed p;

        assert_lines_wellformed(msg);
        parse_message(msg, &p);
        assert_string_equal(header(&p, "Content-Type"), "multipart/mixed; boundary=\"=_deadlined_mixed\"");
        assert_null(header(&p, "Content-Transfer-Encoding"));
        parsed_done(&p);

        /* First part: the body, text and HTML as alternatives, whole. */
        part = mixed_part(msg, 0, &end);
        assert_true(strncmp(part, "Content-Type: multipart/alternative; boundary=\"=_deadlined_alternative\"\r\n\r\n",
                            strlen("Content-Type: multipart/alternative; boundary=\"=_deadlined_alternative\"\r\n\r\n")) == 0);
        assert_non_null(strstr(part, "\r\n--=_deadlined_alternative--\r\n"));
        assert_true(strstr(part, "\r\n--=_deadlined_alternative--\r\n") < end);
        text = part_text(msg, "text/plain");
        html = part_text(msg, "text/html");
        assert_string_equal(text, m.text);
        assert_string_equal(html, m.html);

        /* Second part: the file, base64, its exact bytes (the BOM too). */
        part = mixed_part(msg, 1, &end);
        parse_message(part, &p);
        assert_string_equal(header(&p, "Content-Type"), "text/csv; charset=utf-8; name=\"bao-cao-2025-05.csv\"");
        assert_string_equal(header(&p, "Content-Disposition"), "attachment; filename=\"bao-cao-2025-05.csv\"");
        assert_string_equal(header(&p, "Content-Transfer-Encoding"), "base64");
        parsed_done(&p);
        body = strstr(part, "\r\n\r\n") + 4;
        {
                char compact[512];
                size_t n = 0;
                for (const char *c = body; c < end; c++)
                        if (*c != '\r' && *c != '\n')
                                compact[n++] = *c;
                assert_int_equal(b64_decode(compact, n, decoded), sizeof csv_bom - 1);
                assert_memory_equal(decoded, csv_bom, sizeof csv_bom - 1);
        }
        /* The message ends with the closing delimiter. */
        assert_non_null(strstr(end, "\r\n--=_deadlined_mixed--\r\n"));
        assert_string_equal(end + strlen(end) - strlen("--=_deadlined_mixed--\r\n"), "--=_deadlined_mixed--\r\n");
}

/* A file of many lines' worth: base64 lines of exactly 76 characters but
 * the last, and every size's padding decodes back to the bytes. */
static void test_attachment_base64_lines_and_padding(void **state) {
        _cleanup_free_ uint8_t *data = malloc(1000);
        _cleanup_free_ char *decoded = malloc(1000);

        for (size_t i = 0; i < 1000; i++)
                data[i] = (uint8_t) (i * 7 + 3);
        for (size_t size = 0; size <= 230; size += size < 60 ? 1 : 57) {
                struct mail_attachment a = {
                        .filename = "data.bin", .content_type = "application/octet-stream", .data = data, .size = size,
                };
                struct mail_message m = sample();
                m.attachments = &a;
                m.n_attachments = 1;
                _cleanup_free_ char *msg = format_ok(&m);
                const char *end, *part = mixed_part(msg, 1, &end), *body = strstr(part, "\r\n\r\n") + 4;
                char compact[512];
                size_t n = 0, lines = 0;

                assert_lines_wellformed(msg);
                for (const char *l = body; l < end;) {
                        const char *eol = strstr(l, "\r\n");
                        size_t len = eol - l;
                        lines++;
                        /* Only the last line may be short. */
                        assert_true(len == 76 || eol + 2 >= end);
                        assert_true(len <= 76 && len % 4 == 0);
                        memcpy(compact + n, l, len);
                        n += len;
                        l = eol + 2;
                }
                assert_int_equal(lines, (size + 56) / 57);
                assert_int_equal(b64_decode(compact, n, decoded), size);
                assert_memory_equal(decoded, data, size);
        }
}

static void test_text_only_body_with_attachment(void **state) {
        struct mail_attachment a;
        struct mail_message m = with_attachment(&a, 10);
        m.html = NULL;
        _cleanup_free_ char *msg = format_ok(&m);
        const char *end, *part = mixed_part(msg, 0, &end);

        assert_true(strncmp(part, "Content-Type: text/plain; charset=utf-8\r\n"
                                  "Content-Transfer-Encoding: base64\r\n\r\n", 78) == 0);
        assert_null(strstr(msg, "multipart/alternative"));
}

static void test_attachment_bad_input(void **state) {
        const char *bad_names[] = { "", ".hidden", "a b.csv", "a\"b.csv", "a\r\nX: y.csv", "báo-cáo.csv",
                                    "a/b.csv",
                                    "0123456789012345678901234567890123456789012345678901234567890123456789.csv" };
        struct mail_attachment a;
        struct mail_message m;
        char *out = NULL;
        size_t size;

        for (size_t i = 0; i < ELEMENTSOF(bad_names); i++) {
                m = with_attachment(&a, 10);
                a.filename = bad_names[i];
                assert_int_equal(mail_message_format(&m, &out, &size), -EINVAL);
        }
        m = with_attachment(&a, 10);
        a.content_type = "text/csv\r\nBcc: x@y.vn";
        assert_int_equal(mail_message_format(&m, &out, &size), -EINVAL);
        a.content_type = "csv";
        assert_int_equal(mail_message_format(&m, &out, &size), -EINVAL);
        m = with_attachment(&a, 10);
        a.data = NULL;
        assert_int_equal(mail_message_format(&m, &out, &size), -EINVAL);
        m = with_attachment(&a, MAIL_ATTACHMENT_MAX + 1);
        assert_int_equal(mail_message_format(&m, &out, &size), -E2BIG);
        m = with_attachment(&a, 10);
        m.attachments = NULL;
        assert_int_equal(mail_message_format(&m, &out, &size), -EINVAL);
        m = with_attachment(&a, 10);
        m.n_attachments = MAIL_ATTACHMENTS_MAX + 1;
        assert_int_equal(mail_message_format(&m, &out, &size), -E2BIG);
        assert_null(out);
}


static void test_limits_and_bad_input(void **state) {
        struct mail_message m = sample();
        struct mail_address *many;
        char *msg, *big, **r;

        m.from.address = "not an address";
        assert_int_equal(mail_message_format(&m, &msg, NULL), -EINVAL);
        m = sample();
        m.delivery = NULL;
        assert_int_equal(mail_message_format(&m, &msg, NULL), -EINVAL);
        m = sample();
        m.delivery = "d1>\r\nBcc: x@y.vn";
        assert_int_equal(mail_message_format(&m, &msg, NULL), -EINVAL);
        m = sample();
        m.n_to = m.n_cc = 0;
        assert_int_equal(mail_message_format(&m, &msg, NULL), -EINVAL);
        assert_int_equal(mail_message_recipients(&m, &r), -EINVAL);
        m = sample();
        m.text = "bad \xff\xfe utf-8";
        assert_int_equal(mail_message_format(&m, &msg, NULL), -EILSEQ);
        m = sample();
        m.subject = "bad \xc3";
        assert_int_equal(mail_message_format(&m, &msg, NULL), -EILSEQ);

        big = malloc(MAIL_BODY_MAX + 2);
        memset(big, 'a', MAIL_BODY_MAX + 1);
        big[MAIL_BODY_MAX + 1] = 0;
        m = sample();
        m.html = big;
        assert_int_equal(mail_message_format(&m, &msg, NULL), -E2BIG);
        big[MAIL_BODY_MAX] = 0;
        m.text = big;
        assert_int_equal(mail_message_format(&m, &msg, NULL), 0);
        free(msg);
        free(big);

        many = calloc(MAIL_RECIPIENTS_MAX + 1, sizeof *many);
        for (size_t i = 0; i <= MAIL_RECIPIENTS_MAX; i++)
                many[i].address = "a@x.vn";
        m = sample();
        m.to = many, m.n_to = MAIL_RECIPIENTS_MAX;
        m.n_cc = 1;
        assert_int_equal(mail_message_format(&m, &msg, NULL), -E2BIG);
        assert_int_equal(mail_message_recipients(&m, &r), -E2BIG);
        m.n_cc = 0;
        assert_int_equal(mail_message_format(&m, &msg, NULL), 0);
        free(msg);
        free(many);
}

/* ---- samples for tests/integration/test_message_format.py --------------- */

static int write_file(const char *dir, const char *name, const char *data) {
        char path[4096];
        FILE *f;

        snprintf(path, sizeof path, "%s/%s", dir, name);
        f = fopen(path, "we");
        if (!f)
                return -errno;
        fputs(data, f);
        return fclose(f) == 0 ? 0 : -errno;
}

static int dump_one(const char *dir, const char *name, const struct render_input *in,
                    const struct mail_address *t, size_t n_t, const struct mail_address *c, size_t n_c,
                    const char *delivery) {
        _cleanup_(render_templates_freep) struct render_templates *tpl = NULL;
        struct render_output o = {};
        int64_t ids[8];
        char *msg = NULL, file[256];
        int r;

        r = render_templates_new(LANGUAGE_VI, NULL, 0, &tpl, NULL);
        if (r < 0)
                return r;
        r = render_message(tpl, in, &o);
        if (r < 0)
                return r;
        for (size_t i = 0; i < in->n_tasks && i < ELEMENTSOF(ids); i++)
                ids[i] = in->tasks[i].id;

        struct mail_message m = {
                .from = { "Hệ thống nhắc việc", "nhacviec@sonha.gov.vn" },
                .to = t, .n_to = n_t, .cc = c, .n_cc = n_c,
                .reply_to = &(struct mail_address) { "Văn phòng UBND tỉnh", "vanthu.vpub@sonha.gov.vn" },
                .subject = o.subject, .text = o.text, .html = o.html,
                .date = in->now, .delivery = delivery, .instance = "k5ayrf3xq2mhzd7c6pwvbn4eju",
                .tasks = ids, .n_tasks = MIN(in->n_tasks, ELEMENTSOF(ids)),
        };
        r = mail_message_format(&m, &msg, NULL);
        if (r >= 0) {
                snprintf(file, sizeof file, "%s.eml", name);
                r = write_file(dir, file, msg);
        }
        /* What went in, for the reader to compare with what comes out. */
        if (r >= 0) {
                snprintf(file, sizeof file, "%s.subject", name);
                r = write_file(dir, file, o.subject);
        }
        if (r >= 0) {
                snprintf(file, sizeof file, "%s.txt", name);
                r = write_file(dir, file, o.text);
        }
        if (r >= 0) {
                snprintf(file, sizeof file, "%s.html", name);
                r = write_file(dir, file, o.html);
        }
        free(msg);
        render_output_done(&o);
        return r;
}

static int dump_samples(const char *dir) {
        const char *leads[] = { "Sở Tài chính", NULL };
        const char *supports[] = { "Sở Kế hoạch và Đầu tư", "Kho bạc Nhà nước tỉnh", NULL };
        struct due due = { .day = days_from_civil(2024, 4, 30), .minute = -1 };
        struct due due2 = { .day = days_from_civil(2024, 4, 26), .minute = 17 * 60 };
        struct render_task task = {
                .id = 42, .document_number = "2417/UBND-KTTH",
                .document_subject = "V/v triển khai các nhiệm vụ trọng tâm quý II năm 2025",
                .ref = "5.c", .title = "Báo cáo đánh giá nguồn lực",
                .detail = "Tổng hợp số liệu của các huyện, thị xã, thành phố.\nGửi Sở Tài chính trước khi trình UBND tỉnh.",
                .due = &due, .status = TASK_OPEN, .leads = leads, .supports = supports, .role = _ROLE_INVALID,
        };
        struct render_recipient recipients[] = {
                { "Sở Tài chính", ROLE_LEAD },
                { "Sở Kế hoạch và Đầu tư", ROLE_SUPPORT },
                { "Kho bạc Nhà nước tỉnh", ROLE_SUPPORT },
        };
        struct render_input in = {
                .kind = RENDER_REMINDER, .recipients = recipients, .n_recipients = ELEMENTSOF(recipients),
                .tasks = &task, .n_tasks = 1, .base_url = "https://nhacviec.sonha.gov.vn",
        };
        int r;

        r = parse_instant("2024-04-27T08:00", &in.now);
        if (r < 0)
                return r;
        r = dump_one(dir, "reminder", &in, to, ELEMENTSOF(to), cc, ELEMENTSOF(cc), "d1001");
        if (r < 0)
                return r;

        /* The same task and a later slot: a new Message-ID, the same thread. */
        in.now += 2 * SEC_PER_DAY;
        r = dump_one(dir, "reminder-later", &in, to, ELEMENTSOF(to), cc, ELEMENTSOF(cc), "d1002");
        if (r < 0)
                return r;

        /* Task text that tries to add a header, end the SMTP data or pass
         * for markup. */
        struct render_task evil = task;
        evil.id = 666;
        evil.ref = "1\r\nBcc: evil@x.vn";
        evil.title = "x\r\nBcc: evil@x.vn";
        evil.detail = "dòng một\r\n.\r\nMAIL FROM:<evil@x.vn>\r\n.\n<script>alert(1)</script>";
        in.tasks = &evil;
        in.now -= 2 * SEC_PER_DAY;
        r = dump_one(dir, "injection", &in, to, ELEMENTSOF(to), cc, ELEMENTSOF(cc), "d1003");
        if (r < 0)
                return r;

        /* A digest for one agency: two tasks, one overdue. */
        struct render_task two[2] = { task, task };
        two[0].role = ROLE_LEAD;
        two[1].id = 43, two[1].ref = "1", two[1].role = ROLE_SUPPORT, two[1].due = &due2;
        two[1].title = "Rà soát, tham mưu UBND tỉnh điều chuyển kế hoạch vốn đầu tư công";
        struct render_recipient one = { "Sở Tài chính", _ROLE_INVALID };
        in.tasks = two, in.n_tasks = 2;
        in.recipients = &one, in.n_recipients = 1;
        return dump_one(dir, "digest", &in, to, ELEMENTSOF(to), NULL, 0, "d1004.d1005");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_attachment_makes_multipart_mixed),
                cmocka_unit_test(test_attachment_base64_lines_and_padding),
                cmocka_unit_test(test_text_only_body_with_attachment),
                cmocka_unit_test(test_attachment_bad_input),
                cmocka_unit_test(test_address_validation),
                cmocka_unit_test(test_address_parse),
                cmocka_unit_test(test_message_and_thread_ids),
                cmocka_unit_test(test_digest_ids_round_trip),
                cmocka_unit_test(test_thread_names_the_given_id),
                cmocka_unit_test(test_headers_are_exactly_these),
                cmocka_unit_test(test_reply_to_is_optional),
                cmocka_unit_test(test_subject_is_encoded_words_that_decode_exactly),
                cmocka_unit_test(test_ascii_subject_stays_readable),
                cmocka_unit_test(test_long_ascii_words_are_encoded_to_fold),
                cmocka_unit_test(test_subject_cannot_inject_headers),
                cmocka_unit_test(test_display_names),
                cmocka_unit_test(test_long_recipient_lists_fold),
                cmocka_unit_test(test_threading_headers),
                cmocka_unit_test(test_date_uses_process_zone),
                cmocka_unit_test(test_bodies_round_trip_through_quoted_printable),
                cmocka_unit_test(test_vietnamese_bodies_go_as_base64),
                cmocka_unit_test(test_no_line_is_a_lone_dot_even_after_soft_breaks),
                cmocka_unit_test(test_text_only_message),
                cmocka_unit_test(test_random_texts_round_trip),
                cmocka_unit_test(test_recipients_are_to_and_cc_once),
                cmocka_unit_test(test_limits_and_bad_input),
                cmocka_unit_test(test_reference_parse_reads_back_what_we_write),
                cmocka_unit_test(test_references_task_takes_the_first_task_named),
        };
        const char *dump = getenv("DEADLINED_MAIL_DUMP");

        /* With DEADLINED_MAIL_DUMP=DIR, write sample messages there for
         * the Python reader in tests/integration instead of testing. */
        if (dump) {
                int r = dump_samples(dump);
                if (r < 0) {
                        fprintf(stderr, "Failed to write samples to %s: %s\n", dump, strerror(-r));
                        return EXIT_FAILURE;
                }
                return EXIT_SUCCESS;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
