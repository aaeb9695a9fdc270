/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "timeutil.h"
#include "url.h"
#include "workcal.h"

/* Each test gets a fresh folder holding its deadlined.conf and any secret
 * files, created at run time because git does not keep file modes. */
struct t {
        char dir[PATH_MAX];
        char conf[PATH_MAX + 32];
        struct config *c;
        char *errors;
        int r;
};

/* One agency, for configurations that need something to refer to. */
#define AGENCY_STC "agencies = ( { id = \"stc\"; name = \"Sở Tài chính\"; email = [\"stc@sonha.gov.vn\"]; } );\n"

static int setup(void **state) {
        struct t *t = calloc(1, sizeof *t);

        assert_non_null(t);
        snprintf(t->dir, sizeof t->dir, "/tmp/test-config-XXXXXX");
        assert_non_null(mkdtemp(t->dir));
        snprintf(t->conf, sizeof t->conf, "%s/deadlined.conf", t->dir);
        unsetenv("CREDENTIALS_DIRECTORY");
        *state = t;
        return 0;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        return remove(path);
}

static int teardown(void **state) {
        struct t *t = *state;

        config_free(t->c);
        free(t->errors);
        nftw(t->dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
        unsetenv("CREDENTIALS_DIRECTORY");
        setenv("TZ", "Asia/Ho_Chi_Minh", 1);
        tzset();
        free(t);
        return 0;
}

static void write_file(const struct t *t, const char *name, const char *data, size_t size, mode_t mode) {
        char path[PATH_MAX + 64];
        int fd;

        snprintf(path, sizeof path, "%s/%s", t->dir, name);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, data, size), (ssize_t) size);
        /* fchmod, not the open mode: the umask must not decide the test. */
        assert_int_equal(fchmod(fd, mode), 0);
        close(fd);
}

static void write_text(const struct t *t, const char *name, const char *text, mode_t mode) {
        write_file(t, name, text, strlen(text), mode);
}

static int load_path(struct t *t, const char *path) {
        config_free(t->c);
        free(t->errors);
        t->c = NULL;
        t->errors = NULL;
        t->r = config_load(path, &t->c, &t->errors);
        /* Either a configuration or errors, never both. */
        assert_true((t->r == 0) == (t->c != NULL));
        assert_true(t->r == 0 || t->errors);
        return t->r;
}

static int load(struct t *t, const char *text) {
        write_text(t, "deadlined.conf", text, 0644);
        return load_path(t, t->conf);
}

static void load_ok(struct t *t, const char *text) {
        if (load(t, text) < 0)
                fail_msg("expected the configuration to load, got:\n%s", t->errors);
}

static size_t error_count(const char *errors) {
        size_t n = 0;
        for (const char *p = errors; p && *p; p++)
                n += *p == '\n';
        return n;
}

/* Asserts that one line of `errors` begins with "FILE:LINE: expected". */
static void assert_error_in(const char *errors, const char *file, unsigned line, const char *expected) {
        char prefix[PATH_MAX + 1024];

        if (line > 0)
                snprintf(prefix, sizeof prefix, "%s:%u: %s", file, line, expected);
        else
                snprintf(prefix, sizeof prefix, "%s: %s", file, expected);
        for (const char *l = errors; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : "")
                if (strncmp(l, prefix, strlen(prefix)) == 0)
                        return;
        fail_msg("expected an error line starting with\n  %s\ngot:\n%s", prefix, errors ? errors : "(none)");
}

static void assert_error(const struct t *t, unsigned line, const char *expected) {
        assert_int_equal(t->r, -EINVAL);
        assert_null(t->c);
        assert_error_in(t->errors, t->conf, line, expected);
}

static void assert_one_error(const struct t *t, unsigned line, const char *expected) {
        assert_error(t, line, expected);
        if (error_count(t->errors) != 1)
                fail_msg("expected one error, got:\n%s", t->errors);
}

static const char *test_data(const char *name, char *buf, size_t size) {
        const char *dir = getenv("DEADLINED_TEST_DATA");
        snprintf(buf, size, "%s/config/%s", dir ? dir : "tests/data", name);
        return buf;
}

static void copy_fixture(const struct t *t, const char *name) {
        char path[PATH_MAX];
        FILE *f = fopen(test_data(name, path, sizeof path), "re");
        char buf[65536];
        size_t n;

        assert_non_null(f);
        n = fread(buf, 1, sizeof buf, f);
        assert_true(n > 0 && n < sizeof buf);
        fclose(f);
        write_file(t, name, buf, n, 0644);
}

/* --- the sample province ------------------------------------------------ */

static void test_sample_loads(void **state) {
        struct t *t = *state;
        char path[PATH_MAX + 32], db[PATH_MAX + 32];
        const struct agency *a;

        copy_fixture(t, "sonha.conf");
        write_text(t, "smtp.secret", "mật-khẩu\n", 0600);
        write_text(t, "skhdt.hook.secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", 0600);
        snprintf(path, sizeof path, "%s/sonha.conf", t->dir);
        if (load_path(t, path) < 0)
                fail_msg("%s", t->errors);

        snprintf(db, sizeof db, "%s/sonha.db", t->dir);
        assert_string_equal(t->c->database, db);
        assert_string_equal(t->c->path, path);
        assert_string_equal(t->c->dir, t->dir);
        assert_string_equal(t->c->timezone, "Asia/Ho_Chi_Minh");
        assert_int_equal(t->c->language, LANGUAGE_VI);
        assert_int_equal(t->c->n_agencies, 16);
        assert_int_equal(t->c->n_groups, 2);

        assert_int_equal(t->c->policy.n_remind_before, 5);
        assert_int_equal(t->c->policy.remind_before[0], 14 * SEC_PER_DAY);
        assert_int_equal(t->c->policy.remind_before[4], 0);
        assert_int_equal(t->c->policy.overdue_every, SEC_PER_DAY);
        assert_int_equal(t->c->policy.n_escalation, 2);
        assert_int_equal(t->c->policy.escalation[0].after, 3 * SEC_PER_DAY);
        assert_string_equal(t->c->policy.escalation[0].to[0], "vpubnd");
        assert_int_equal(t->c->policy.escalation[1].after, 10 * SEC_PER_DAY);
        assert_int_equal(t->c->policy.send_at, 8 * 60);
        assert_int_equal(t->c->policy.workdays, 0x3e);
        assert_int_equal(workcal_year(t->c->policy.calendar, 2025)->n_holidays, 4);
        assert_int_equal(workcal_year(t->c->policy.calendar, 2025)->holidays[0], days_from_civil(2025, 4, 30));
        assert_int_equal(workcal_year(t->c->policy.calendar, 2025)->n_extra_workdays, 1);
        assert_int_equal(workcal_year(t->c->policy.calendar, 2025)->extra_workdays[0], days_from_civil(2025, 4, 26));
        assert_true(t->c->policy.digest);

        assert_true(t->c->has_smtp);
        assert_int_equal(t->c->transport, TRANSPORT_SMTP);
        assert_string_equal(t->c->smtp.url, "smtp://127.0.0.1:2525");
        assert_string_equal(t->c->smtp.username, "nhacviec@sonha.gov.vn");
        assert_string_equal(t->c->smtp.password, "mật-khẩu");
        assert_string_equal(t->c->smtp.from, "Hệ thống nhắc việc <nhacviec@sonha.gov.vn>");
        assert_string_equal(t->c->from, t->c->smtp.from);
        assert_ptr_not_equal(t->c->from, t->c->smtp.from);
        assert_int_equal(t->c->smtp.max_connections, 4);

        a = config_find_agency(t->c, "skhdt");
        assert_non_null(a);
        assert_string_equal(a->name, "Sở Kế hoạch và Đầu tư");
        assert_int_equal(a->line, 34);
        assert_string_equal(a->aliases[1], "SKHĐT");
        assert_null(a->aliases[2]);
        assert_string_equal(a->email[0], "skhdt@sonha.gov.vn");
        assert_null(a->cc[0]);
        assert_int_equal(a->n_webhooks, 1);
        assert_string_equal(a->webhooks[0].url, "http://127.0.0.1:8081/hooks/skhdt");
        assert_int_equal(a->webhooks[0].format, WEBHOOK_JSON);
        assert_string_equal(a->webhooks[0].secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_string_equal(config_find_group(t->c, "cachuyen")->members[3], "tp-sonha");
}

static void test_sample_without_secret_files_names_both(void **state) {
        struct t *t = *state;
        char path[PATH_MAX + 32], expected[PATH_MAX + 128];

        copy_fixture(t, "sonha.conf");
        snprintf(path, sizeof path, "%s/sonha.conf", t->dir);
        assert_int_equal(load_path(t, path), -EINVAL);
        snprintf(expected, sizeof expected, "smtp.password_file: %s/smtp.secret: No such file or directory",
                 t->dir);
        assert_error_in(t->errors, path, 25, expected);
        snprintf(expected, sizeof expected,
                 "agencies[3].webhook.secret_file: %s/skhdt.hook.secret: No such file or directory", t->dir);
        assert_error_in(t->errors, path, 36, expected);
        assert_int_equal(error_count(t->errors), 2);
}

static void test_example_config_loads(void **state) {
        struct t *t = *state;
        const char *src = getenv("DEADLINED_SOURCE");
        char path[PATH_MAX];

        snprintf(path, sizeof path, "%s/conf/deadlined.conf", src ? src : ".");
        if (load_path(t, path) < 0)
                fail_msg("%s", t->errors);
        assert_string_equal(t->c->database, "/var/lib/deadlined/deadlined.db");
        assert_int_equal(t->c->transport, TRANSPORT_MAILDIR);
        assert_true(t->c->n_agencies > 0);
        assert_true(t->c->n_groups > 0);
}

/* --- defaults and paths ------------------------------------------------- */

static void test_empty_file_gets_defaults(void **state) {
        struct t *t = *state;
        const struct policy *p;

        load_ok(t, "# nothing set\n");
        p = &t->c->policy;
        assert_string_equal(t->c->database, "/var/lib/deadlined/deadlined.db");
        assert_string_equal(t->c->timezone, "Asia/Ho_Chi_Minh");
        assert_int_equal(t->c->language, LANGUAGE_VI);
        assert_int_equal(t->c->transport, TRANSPORT_MAILDIR);
        assert_string_equal(t->c->maildir, "/var/lib/deadlined/maildir");
        assert_string_equal(t->c->from, "deadlined@localhost");
        assert_null(t->c->base_url);
        assert_null(t->c->templates);
        assert_int_equal(p->n_remind_before, 4);
        assert_int_equal(p->remind_before[0], 7 * SEC_PER_DAY);
        assert_int_equal(p->remind_before[1], 3 * SEC_PER_DAY);
        assert_int_equal(p->remind_before[2], SEC_PER_DAY);
        assert_int_equal(p->remind_before[3], 0);
        assert_int_equal(p->overdue_every, SEC_PER_DAY);
        assert_int_equal(p->n_escalation, 0);
        assert_int_equal(p->send_at, 8 * 60);
        assert_int_equal(p->workdays, (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5));
        assert_int_equal(workcal_year(p->calendar, 2025)->n_holidays, 0);
        assert_false(p->digest);
        assert_int_equal(t->c->delivery.retry_min, 5 * SEC_PER_MIN);
        assert_int_equal(t->c->delivery.retry_max, SEC_PER_HOUR);
        assert_int_equal(t->c->delivery.max_retry_age, 2 * SEC_PER_DAY);
        assert_false(t->c->has_smtp);
        assert_int_equal(t->c->n_agencies, 0);
        assert_null(config_find_agency(t->c, "stc"));
}

static void test_smtp_defaults(void **state) {
        struct t *t = *state;

        load_ok(t, "smtp = { url = \"smtps://mail.sonha.gov.vn\"; from = \"nhacviec@sonha.gov.vn\"; };\n");
        assert_int_equal(t->c->transport, TRANSPORT_SMTP);
        assert_null(t->c->maildir);
        assert_int_equal(t->c->smtp.max_connections, 4);
        assert_int_equal(t->c->smtp.connect_timeout, 30);
        assert_int_equal(t->c->smtp.timeout, 300);
        assert_false(t->c->smtp.allow_plaintext);
        assert_null(t->c->smtp.password);
        assert_string_equal(t->c->from, "nhacviec@sonha.gov.vn");
}

static void test_relative_database_resolves_against_config_folder(void **state) {
        struct t *t = *state;
        char expected[PATH_MAX + 64];

        load_ok(t, "database = \"state/tasks.db\";\n");
        snprintf(expected, sizeof expected, "%s/state/tasks.db", t->dir);
        assert_string_equal(t->c->database, expected);
        snprintf(expected, sizeof expected, "%s/state/maildir", t->dir);
        assert_string_equal(t->c->maildir, expected);

        load_ok(t, "database = \"/srv/deadlined/tasks.db\";\n");
        assert_string_equal(t->c->database, "/srv/deadlined/tasks.db");
}

static void test_relative_config_path_becomes_absolute(void **state) {
        struct t *t = *state;
        char cwd[PATH_MAX], expected[PATH_MAX + 64];

        write_text(t, "deadlined.conf", "database = \"x.db\";\n", 0644);
        assert_non_null(getcwd(cwd, sizeof cwd));
        assert_int_equal(chdir(t->dir), 0);
        t->r = config_load("./deadlined.conf", &t->c, &t->errors);
        assert_int_equal(chdir(cwd), 0);
        assert_int_equal(t->r, 0);
        assert_string_equal(t->c->path, t->conf);
        snprintf(expected, sizeof expected, "%s/x.db", t->dir);
        assert_string_equal(t->c->database, expected);
}

static void test_maildir_transport_path(void **state) {
        struct t *t = *state;
        char expected[PATH_MAX + 64];

        load_ok(t, "transport = \"maildir:outbox\";\nfrom = \"Nhắc việc <nhacviec@sonha.gov.vn>\";\n");
        assert_int_equal(t->c->transport, TRANSPORT_MAILDIR);
        snprintf(expected, sizeof expected, "%s/outbox", t->dir);
        assert_string_equal(t->c->maildir, expected);
        assert_string_equal(t->c->from, "Nhắc việc <nhacviec@sonha.gov.vn>");

        /* With an smtp group, maildir is still there to choose (for tests). */
        load_ok(t, "transport = \"maildir:/srv/mail\";\n"
                   "smtp = { url = \"smtps://mail.sonha.gov.vn\"; from = \"nhacviec@sonha.gov.vn\"; };\n");
        assert_int_equal(t->c->transport, TRANSPORT_MAILDIR);
        assert_string_equal(t->c->maildir, "/srv/mail");
        assert_string_equal(t->c->from, "nhacviec@sonha.gov.vn");
}

static void test_transport_smtp_needs_smtp_group(void **state) {
        struct t *t = *state;

        load(t, "language = \"en\";\ntransport = \"smtp\";\n");
        assert_one_error(t, 2, "transport: is \"smtp\" but there is no smtp group");
}

static void test_transport_invalid(void **state) {
        struct t *t = *state;

        load(t, "transport = \"sendmail\";\n");
        assert_one_error(t, 1, "transport: \"sendmail\" is not a transport (use \"smtp\" or \"maildir:");
        load(t, "transport = \"maildir:\";\n");
        assert_one_error(t, 1, "transport: \"maildir:\" is not a transport");
}

static void test_toplevel_from_with_smtp_group_is_an_error(void **state) {
        struct t *t = *state;

        load(t, "from = \"a@sonha.gov.vn\";\n"
                "smtp = { url = \"smtps://mail.sonha.gov.vn\"; from = \"nhacviec@sonha.gov.vn\"; };\n");
        assert_one_error(t, 1, "from: is not used when there is an smtp group; set smtp.from instead");
}

static void test_base_url_and_templates(void **state) {
        struct t *t = *state;
        char expected[PATH_MAX + 64];

        snprintf(expected, sizeof expected, "%s/tpl", t->dir);
        assert_int_equal(mkdir(expected, 0700), 0);
        load_ok(t, "base_url = \"https://nhacviec.sonha.gov.vn/\";\ntemplates = \"tpl\";\n");
        assert_string_equal(t->c->base_url, "https://nhacviec.sonha.gov.vn");
        assert_string_equal(t->c->templates, expected);

        load(t, "base_url = \"ftp://x\";\ntemplates = \"missing\";\n");
        assert_error(t, 1, "base_url: \"ftp://x\" must start with http:// or https://");
        snprintf(expected, sizeof expected, "templates: %s/missing: No such file or directory", t->dir);
        assert_error(t, 2, expected);
}

/* --- reading the file --------------------------------------------------- */

static void test_missing_file(void **state) {
        struct t *t = *state;
        char path[PATH_MAX + 32], expected[PATH_MAX + 64];

        snprintf(path, sizeof path, "%s/nope.conf", t->dir);
        assert_int_equal(load_path(t, path), -ENOENT);
        snprintf(expected, sizeof expected, "%s: No such file or directory\n", path);
        assert_string_equal(t->errors, expected);
}

static void test_directory_is_refused(void **state) {
        struct t *t = *state;
        char expected[PATH_MAX + 64];

        assert_int_equal(load_path(t, t->dir), -EISDIR);
        snprintf(expected, sizeof expected, "%s: Is a directory\n", t->dir);
        assert_string_equal(t->errors, expected);
}

static void test_fifo_and_devices_are_refused_without_blocking(void **state) {
        struct t *t = *state;
        char path[PATH_MAX + 32];

        snprintf(path, sizeof path, "%s/fifo.conf", t->dir);
        assert_int_equal(mkfifo(path, 0600), 0);
        assert_int_equal(load_path(t, path), -EINVAL);
        assert_error_in(t->errors, path, 0, "not a regular file");
        assert_int_equal(load_path(t, "/dev/zero"), -EINVAL);
        assert_error_in(t->errors, "/dev/zero", 0, "not a regular file");
}

static void test_file_larger_than_limit(void **state) {
        struct t *t = *state;
        size_t n = CONFIG_MAX_SIZE + 1;
        char *big = malloc(n);

        assert_non_null(big);
        memset(big, '#', n);
        for (size_t i = 79; i < n; i += 80)
                big[i] = '\n';
        write_file(t, "deadlined.conf", big, n, 0644);
        free(big);
        assert_int_equal(load_path(t, t->conf), -EFBIG);
        assert_error_in(t->errors, t->conf, 0, "larger than 1048576 bytes");
}

static void test_unreadable_file(void **state) {
        struct t *t = *state;

        /* root reads anything: the check is meaningless there. */
        if (geteuid() == 0)
                skip();
        write_text(t, "deadlined.conf", "language = \"vi\";\n", 0000);
        assert_int_equal(load_path(t, t->conf), -EACCES);
        assert_error_in(t->errors, t->conf, 0, "Permission denied");
}

static void test_syntax_error_names_line(void **state) {
        struct t *t = *state;

        load(t, "language = \"vi\";\n"
                "timezone = \"Asia/Ho_Chi_Minh\";\n"
                "schedule = { digest = ; };\n");
        assert_one_error(t, 3, "syntax error");
}

static void test_duplicate_setting_is_a_syntax_error(void **state) {
        struct t *t = *state;

        load(t, "language = \"vi\";\nlanguage = \"en\";\n");
        assert_one_error(t, 2, "duplicate setting name");
}

static void test_nul_byte_is_refused(void **state) {
        struct t *t = *state;
        static const char text[] = "language = \"vi\";\n# \0\nlanguage = \"en\";\n";

        write_file(t, "deadlined.conf", text, sizeof text - 1, 0644);
        assert_int_equal(load_path(t, t->conf), -EINVAL);
        assert_one_error(t, 2, "contains a NUL byte");
}

static void test_invalid_utf8_in_string(void **state) {
        struct t *t = *state;

        load(t, "agencies = ( { id = \"stc\"; name = \"S\xe1\xbb\"; } );\n");
        assert_one_error(t, 1, "agencies[0].name: \"S\\xe1\\xbb\" is not valid UTF-8");
        /* An escape produces the same bytes as the raw text. */
        load(t, "agencies = ( { id = \"stc\"; name = \"S\\xff\"; } );\n");
        assert_one_error(t, 1, "agencies[0].name: \"S\\xff\" is not valid UTF-8");
}

static void test_utf8_bom_is_skipped(void **state) {
        struct t *t = *state;

        load_ok(t, "\xef\xbb\xbflanguage = \"en\";\n");
        assert_int_equal(t->c->language, LANGUAGE_EN);
}

static void test_include_is_refused(void **state) {
        struct t *t = *state;
        char path[PATH_MAX];

        /* The included file exists and is valid: it is refused anyway. */
        assert_int_equal(load_path(t, test_data("include.conf", path, sizeof path)), -EINVAL);
        assert_error_in(t->errors, path, 3, "@include is not supported");
        assert_int_equal(error_count(t->errors), 1);

        load(t, "@include \"/etc/passwd\"\n");
        assert_one_error(t, 1, "@include is not supported");
}

static void test_deep_nesting_does_not_crash(void **state) {
        struct t *t = *state;
        size_t depth = 20000;
        char *text = malloc(depth * 2 + 32), *p = text;

        assert_non_null(text);
        p += sprintf(p, "a = ");
        memset(p, '(', depth);
        memset(p + depth, ')', depth);
        strcpy(p + 2 * depth, ";\n");
        load(t, text);
        free(text);
        assert_int_equal(t->r, -EINVAL);
        assert_int_equal(error_count(t->errors), 1);
}

/* --- unknown settings and types ----------------------------------------- */

static void test_unknown_settings_are_errors(void **state) {
        struct t *t = *state;
        char path[PATH_MAX];

        assert_int_equal(load_path(t, test_data("typos.conf", path, sizeof path)), -EINVAL);
        assert_error_in(t->errors, path, 1, "databse: unknown setting (did you mean database?)");
        assert_error_in(t->errors, path, 3, "schedule.remind_befor: unknown setting (did you mean remind_before?)");
        assert_error_in(t->errors, path, 6, "agencies[0].emial: unknown setting (did you mean email?)");
        assert_int_equal(error_count(t->errors), 3);

        load(t, "smtp = { url = \"smtps://h\"; from = \"a@b\"; verify_peer = false; };\n");
        assert_one_error(t, 1, "smtp.verify_peer: unknown setting\n");
}

static void test_wrong_types(void **state) {
        struct t *t = *state;

        load(t, "timezone = 7;\n"
                "schedule = { digest = \"yes\"; remind_before = 3; };\n"
                "smtp = { url = \"smtps://h\"; from = \"a@b\"; max_connections = \"4\"; };\n"
                "agencies = ( { id = \"stc\"; name = \"Sở Tài chính\"; email = 5; webhook = \"https://x\"; } );\n"
                "groups = { id = \"g\"; };\n");
        assert_error(t, 1, "timezone: must be a string, not a number");
        assert_error(t, 2, "schedule.digest: must be true or false, not a string");
        assert_error(t, 2, "schedule.remind_before: must be a list of strings");
        assert_error(t, 3, "smtp.max_connections: must be a whole number, not a string");
        assert_error(t, 4, "agencies[0].email: must be a list of strings [\"…\", \"…\"], not a number");
        assert_error(t, 4, "agencies[0].webhook: must be a group");
        assert_error(t, 5, "groups: must be a list");
        assert_int_equal(error_count(t->errors), 7);
}

static void test_single_string_stands_for_a_list(void **state) {
        struct t *t = *state;

        load_ok(t, "agencies = ( { id = \"stc\"; name = \"Sở Tài chính\"; email = \"stc@sonha.gov.vn\"; } );\n");
        assert_string_equal(t->c->agencies[0].email[0], "stc@sonha.gov.vn");
        assert_null(t->c->agencies[0].email[1]);
}

static void test_all_errors_reported_together(void **state) {
        struct t *t = *state;
        char path[PATH_MAX];

        assert_int_equal(load_path(t, test_data("three-errors.conf", path, sizeof path)), -EINVAL);
        assert_int_equal(error_count(t->errors), 3);
        /* In file order, whatever order they were found in. */
        assert_true(strstr(t->errors, ":2: timezone: ") < strstr(t->errors, ":5: schedule.remind_before[1]: "));
        assert_true(strstr(t->errors, ":5: ") < strstr(t->errors, ":9: agencies[0].email[0]: "));
        assert_error_in(t->errors, path, 2, "timezone: \"Asia/Sai_Gon\" is not a known time zone");
        assert_error_in(t->errors, path, 5, "schedule.remind_before[1]: \"3x\" is not a duration");
        assert_error_in(t->errors, path, 9,
                        "agencies[0].email[0]: \"stc.sonha.gov.vn\" is not an e-mail address (no \"@\")");
}

static void test_error_count_is_capped(void **state) {
        struct t *t = *state;
        size_t n = 150;
        char *text = malloc(n * 64 + 32), *p = text;

        assert_non_null(text);
        p += sprintf(p, "agencies = (\n");
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "{ id = \"a%zu\"; name = \"A\"; email = [\"x\"]; },\n", i);
        strcpy(p - 2, "\n);\n");
        load(t, text);
        free(text);
        assert_int_equal(error_count(t->errors), 101);
        assert_error(t, 0, "50 more errors not shown");
}

/* --- ids, agencies, groups ---------------------------------------------- */

static void test_duplicate_agency_ids(void **state) {
        struct t *t = *state;

        load(t, "agencies = (\n"
                "  { id = \"stc\"; name = \"Sở Tài chính\"; },\n"
                "  { id = \"syt\"; name = \"Sở Y tế\"; },\n"
                "  { id = \"stc\"; name = \"Sở Tài chính (2)\"; }\n"
                ");\n");
        assert_one_error(t, 4, "agencies[2].id: \"stc\" is already the id of agencies[0] (line 2)");
}

static void test_group_id_equal_to_agency_id(void **state) {
        struct t *t = *state;

        load(t, AGENCY_STC
                "groups = ( { id = \"stc\"; members = [\"stc\"]; } );\n");
        assert_one_error(t, 2, "groups[0].id: \"stc\" is already the id of agencies[0] (line 1)");
}

static void test_invalid_ids(void **state) {
        struct t *t = *state;

        load(t, "agencies = (\n"
                "  { id = \"Sở\"; name = \"A\"; },\n"
                "  { id = \"-x\"; name = \"B\"; },\n"
                "  { id = \"a b\"; name = \"C\"; },\n"
                "  { id = \"x2345678901234567890123456789012345678901234567890123456789012345\"; name = \"D\"; },\n"
                "  { id = \"x23456789012345678901234567890123456789012345678901234567890123\"; name = \"E\"; },\n"
                "  { name = \"F\"; }\n"
                ");\n");
        assert_error(t, 2, "agencies[0].id: \"Sở\" is not a valid id");
        assert_error(t, 3, "agencies[1].id: \"-x\" is not a valid id");
        assert_error(t, 4, "agencies[2].id: \"a b\" is not a valid id");
        assert_error(t, 5, "agencies[3].id: ");
        assert_error(t, 7, "agencies[5].id: missing");
        assert_int_equal(error_count(t->errors), 5);
}

static void test_agency_needs_a_name(void **state) {
        struct t *t = *state;

        load(t, "agencies = ( { id = \"stc\"; name = \"\"; }, { id = \"syt\"; } );\n");
        assert_error(t, 1, "agencies[0].name: must not be empty");
        assert_error(t, 1, "agencies[1].name: missing");
}

static void test_group_members_must_be_existing_agencies(void **state) {
        struct t *t = *state;

        load(t, AGENCY_STC
                "groups = (\n"
                "  { id = \"g1\"; name = \"G1\"; members = [\"stc\",\n"
                "                                          \"nope\",\n"
                "                                          \"g2\",\n"
                "                                          \"stc\"]; },\n"
                "  { id = \"g2\"; members = []; }\n"
                ");\n");
        assert_error(t, 4, "groups[0].members[1]: \"nope\" is not an agency id");
        assert_error(t, 5, "groups[0].members[2]: \"g2\" is a group; members must be agencies");
        assert_error(t, 6, "groups[0].members[3]: \"stc\" is listed twice");
        assert_error(t, 7, "groups[1].members: must list at least one agency");
        assert_int_equal(error_count(t->errors), 4);
}

static void test_group_without_name_is_called_by_its_id(void **state) {
        struct t *t = *state;

        load_ok(t, AGENCY_STC "groups = ( { id = \"tc\"; members = [\"stc\"]; } );\n");
        assert_string_equal(t->c->groups[0].name, "tc");
        assert_non_null(t->c->groups[0].aliases);
        assert_null(t->c->groups[0].aliases[0]);
}

static void test_too_many_agencies(void **state) {
        struct t *t = *state;
        size_t n = 10001;
        char *text = malloc(n * 40 + 32), *p = text;

        assert_non_null(text);
        p += sprintf(p, "agencies = (\n");
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "{ id = \"a%zu\"; name = \"A\"; },\n", i);
        strcpy(p - 2, "\n);\n");
        load(t, text);
        free(text);
        assert_one_error(t, 1, "agencies: has 10001 entries, more than the 10000 allowed");
}

static void test_ten_thousand_agencies_load(void **state) {
        struct t *t = *state;
        size_t n = 10000;
        char *text = malloc(n * 80 + 64), *p = text;
        char *ids[] = { "all", "a9999", NULL };
        const char **l = NULL;

        assert_non_null(text);
        p += sprintf(p, "agencies = (\n");
        for (size_t i = 0; i < n; i++)
                p += sprintf(p, "{ id = \"a%zu\"; name = \"A\"; email = [\"a%zu@x.vn\"]; },\n", i, i);
        strcpy(p - 2, "\n);\n");
        p += strlen(p);
        p += sprintf(p, "groups = ( { id = \"all\"; members = [");
        for (size_t i = n; i-- > 0;)
                p += sprintf(p, "\"a%zu\"%s", i, i ? "," : "");
        sprintf(p, "]; } );\n");
        load_ok(t, text);
        free(text);
        assert_int_equal(t->c->n_agencies, n);
        assert_int_equal(config_find_agency(t->c, "a4242")->line, 4244);
        assert_int_equal(config_expand(t->c, ids, &l), 0);
        assert_string_equal(l[0], "a9999");
        assert_string_equal(l[n - 1], "a0");
        assert_null(l[n]);
        free(l);
}

/* --- addresses and header injection ------------------------------------- */

static void test_invalid_email_addresses(void **state) {
        static const struct {
                const char *conf; /* as written in the libconfig string */
                const char *error;
        } cases[] = {
                { "a b@sonha.gov.vn", "contains a space" },
                { "stc.sonha.gov.vn", "is not an e-mail address (no \"@\")" },
                { "@sonha.gov.vn", "has an empty local part" },
                { "stc@", "has an empty domain" },
                { "<stc@sonha.gov.vn>", "must be a bare address" },
                { "a@sonha.gov.vn,b@sonha.gov.vn", "must be a bare address" },
                { "a@b@sonha.gov.vn", "has more than one \"@\"" },
                { "stc@sonha.gov.vn\\r\\nBcc: x@evil.example", "contains a line break" },
                { "stc@sonha.gov.vn\\x01", "contains a control character" },
                { "stc@sonha..gov.vn", "has an invalid domain" },
                { ".stc@sonha.gov.vn", "has a local part that starts or ends with '.'" },
                { "sở@sonha.gov.vn", "contains non-ASCII characters" },
        };
        struct t *t = *state;
        char text[512], expected[256];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                snprintf(text, sizeof text,
                         "agencies = ( { id = \"stc\"; name = \"Sở Tài chính\";\n"
                         "  email = [\"ok@sonha.gov.vn\", \"%s\"]; } );\n",
                         cases[i].conf);
                load(t, text);
                snprintf(expected, sizeof expected, "agencies[0].email[1]: ");
                assert_one_error(t, 2, expected);
                if (!strstr(t->errors, cases[i].error))
                        fail_msg("%s: expected \"%s\", got %s", cases[i].conf, cases[i].error, t->errors);
        }
}

static void test_email_longer_than_254_bytes(void **state) {
        struct t *t = *state;
        char local[64], domain[200], text[600];

        memset(local, 'a', 63), local[63] = 0;
        memset(domain, 'b', sizeof domain - 1), domain[sizeof domain - 1] = 0;
        for (size_t i = 60; i < sizeof domain - 1; i += 61)
                domain[i] = '.';
        snprintf(text, sizeof text, "agencies = ( { id = \"stc\"; name = \"A\"; cc = [\"%s@%s\"]; } );\n", local,
                 domain);
        load(t, text);
        assert_one_error(t, 1, "agencies[0].cc[0]: is longer than 254 bytes");
}

static void test_duplicate_addresses(void **state) {
        struct t *t = *state;

        load(t, "agencies = ( { id = \"stc\"; name = \"A\";\n"
                "  email = [\"stc@sonha.gov.vn\"];\n"
                "  cc = [\"ketoan@sonha.gov.vn\", \"STC@sonha.gov.vn\"]; } );\n");
        assert_one_error(t, 3, "agencies[0].cc[1]: \"STC@sonha.gov.vn\" is already listed in email[0]");
}

static void test_line_breaks_in_names_are_refused(void **state) {
        struct t *t = *state;

        load(t, "agencies = ( { id = \"stc\"; name = \"Sở Tài chính\\r\\nBcc: x@evil.example\"; } );\n"
                "smtp = {\n"
                "  url = \"smtps://mail.sonha.gov.vn\";\n"
                "  from = \"Nhắc việc\\n <a@sonha.gov.vn>\";\n"
                "  reply_to = \"vanthu@sonha.gov.vn\\r\";\n"
                "};\n");
        assert_error(t, 1, "agencies[0].name: \"Sở Tài chính\\r\\nBcc: x@evil.example\" contains a line break");
        assert_error(t, 4, "smtp.from: \"Nhắc việc\\n <a@sonha.gov.vn>\" contains a line break");
        assert_error(t, 5, "smtp.reply_to: \"vanthu@sonha.gov.vn\\r\" contains a line break");
        assert_int_equal(error_count(t->errors), 3);
}

static void test_from_must_be_a_mailbox(void **state) {
        struct t *t = *state;

        load(t, "from = \"Nhắc việc <a@sonha.gov.vn\";\n");
        assert_one_error(t, 1, "from: \"Nhắc việc <a@sonha.gov.vn\" is not \"Name <address>\" or a bare address");
        load(t, "from = \"\\\"Nhắc\\\" <a@sonha.gov.vn>\";\n");
        assert_one_error(t, 1, "from: \"\\\"Nhắc\\\" <a@sonha.gov.vn>\" has a display name with quotes");
}

static void test_strings_longer_than_limit(void **state) {
        struct t *t = *state;
        char name[1002], text[1200];

        memset(name, 'x', sizeof name - 1), name[sizeof name - 1] = 0;
        snprintf(text, sizeof text, "agencies = ( { id = \"stc\"; name = \"%s\"; } );\n", name);
        load(t, text);
        assert_one_error(t, 1, "agencies[0].name: is longer than 1000 bytes");
        name[1000] = 0;
        snprintf(text, sizeof text, "agencies = ( { id = \"stc\"; name = \"%s\"; } );\n", name);
        load_ok(t, text);
}

static void test_email_address_valid(void **state) {
        assert_true(config_email_address_valid("deadlined@localhost"));
        assert_true(config_email_address_valid("van.thu+nhac_viec@so-tc.sonha.gov.vn"));
        assert_false(config_email_address_valid("a@-sonha.gov.vn"));
        assert_false(config_email_address_valid("a@sonha.gov.vn."));
        assert_false(config_email_address_valid("a@sonha.gov.vn\n"));
        assert_false(config_email_address_valid(NULL));
}

/* --- schedule ----------------------------------------------------------- */

static void test_remind_before_bad_duration(void **state) {
        struct t *t = *state;

        load(t, "# reminders\n"
                "schedule = {\n"
                "  remind_before = [\"14d\",\n"
                "                   \"7d\",\n"
                "                   \"7x\"];\n"
                "};\n");
        assert_one_error(t, 5, "schedule.remind_before[2]: \"7x\" is not a duration (use 90s, 15m, 12h, 7d, 2w, or 5wd for working days)\n");
}

static void test_remind_before_sorted_descending(void **state) {
        struct t *t = *state;

        load_ok(t, "schedule = { remind_before = [\"0d\", \"90m\", \"2w\", \"1d\"]; };\n");
        assert_int_equal(t->c->policy.n_remind_before, 4);
        assert_int_equal(t->c->policy.remind_before[0], 2 * SEC_PER_WEEK);
        assert_int_equal(t->c->policy.remind_before[1], SEC_PER_DAY);
        assert_int_equal(t->c->policy.remind_before[2], 90 * SEC_PER_MIN);
        assert_int_equal(t->c->policy.remind_before[3], 0);

        load_ok(t, "schedule = { remind_before = []; };\n");
        assert_int_equal(t->c->policy.n_remind_before, 0);
}

static void test_remind_before_duplicates_and_range(void **state) {
        struct t *t = *state;

        load(t, "schedule = { remind_before = [\"1d\", \"24h\", \"400d\"]; };\n");
        assert_error(t, 1, "schedule.remind_before[1]: \"24h\" is the same as \"1d\"");
        assert_error(t, 1, "schedule.remind_before[2]: \"400d\" is too long (at most 366d)");
        assert_int_equal(error_count(t->errors), 2);

        load(t, "schedule = { remind_before = [\"1d\", \"-1d\"]; };\n");
        assert_one_error(t, 1, "schedule.remind_before[1]: \"-1d\" is not a duration");

}

static void test_overdue_every(void **state) {
        struct t *t = *state;

        load_ok(t, "schedule = { overdue_every = \"0\"; };\n");
        assert_int_equal(t->c->policy.overdue_every, 0);
        load(t, "schedule = { overdue_every = \"daily\"; };\n");
        assert_one_error(t, 1, "schedule.overdue_every: \"daily\" is not a duration");
        load(t, "schedule = { overdue_every = \"10m\"; };\n");
        assert_one_error(t, 1, "schedule.overdue_every: is too short (at least 1h");
}

static void test_send_at(void **state) {
        struct t *t = *state;

        load_ok(t, "schedule = { send_at = \"07:30\"; };\n");
        assert_int_equal(t->c->policy.send_at, 7 * 60 + 30);
        load_ok(t, "schedule = { send_at = \"none\"; };\n");
        assert_int_equal(t->c->policy.send_at, -1);
        load(t, "schedule = { send_at = \"25:00\"; };\n");
        assert_one_error(t, 1, "schedule.send_at: \"25:00\" is not a time of day");
        load(t, "schedule = { send_at = \"8h\"; };\n");
        assert_one_error(t, 1, "schedule.send_at: \"8h\" is not a time of day");
}

static void test_workdays(void **state) {
        struct t *t = *state;

        load_ok(t, "schedule = { workdays = [\"mon\", \"Tuesday\", \"sat\"]; };\n");
        assert_int_equal(t->c->policy.workdays, (1 << 1) | (1 << 2) | (1 << 6));
        load(t, "schedule = { workdays = [\"mon\", \"funday\", \"mon\"]; };\n");
        assert_error(t, 1, "schedule.workdays[1]: \"funday\" is not a weekday");
        assert_int_equal(error_count(t->errors), 1);
        load(t, "schedule = { workdays = [\"mon\", \"mon\"]; };\n");
        assert_one_error(t, 1, "schedule.workdays[1]: \"mon\" is listed twice");
        load(t, "schedule = { workdays = []; };\n");
        assert_one_error(t, 1, "schedule.workdays: must list at least one day");
}

static void test_holidays(void **state) {
        struct t *t = *state;

        load_ok(t, "schedule = { holidays = [\"2025-09-02\", \"2025-01-01\"]; };\n");
        assert_int_equal(workcal_year(t->c->policy.calendar, 2025)->n_holidays, 2);
        assert_int_equal(workcal_year(t->c->policy.calendar, 2025)->holidays[0], days_from_civil(2025, 1, 1));
        assert_int_equal(workcal_year(t->c->policy.calendar, 2025)->holidays[1], days_from_civil(2025, 9, 2));
        assert_int_equal(workcal_year(t->c->policy.calendar, 2026)->n_holidays, 0);

        load(t, "schedule = {\n"
                "  holidays = [\"2025-02-30\", \"30/4/2025\", \"2025-05-01\", \"2025-05-01\"];\n"
                "};\n");
        assert_error(t, 2, "schedule.holidays[0]: \"2025-02-30\" is not a date (use YYYY-MM-DD");
        assert_error(t, 2, "schedule.holidays[1]: \"30/4/2025\" is not a date");
        assert_int_equal(error_count(t->errors), 2);

        load(t, "schedule = {\n"
                "  holidays = [\"2025-05-01\", \"2025-05-01\"];\n"
                "};\n");
        assert_one_error(t, 2, "schedule.holidays[1]: \"2025-05-01\" is listed twice");

        load(t, "schedule = {\n"
                "  holidays = [\"2025-04-30\"];\n"
                "  extra_workdays = [\"2025-04-26\", \"2025-04-30\"];\n"
                "};\n");
        assert_one_error(t, 3, "schedule.extra_workdays[1]: \"2025-04-30\" is also listed in schedule.holidays");
}

static bool has_day(const struct policy *p, int y, int m, int d) {
        const struct workcal_year *wy = workcal_year(p->calendar, y);
        int32_t day = days_from_civil(y, m, d);
        for (size_t i = 0; i < wy->n_holidays; i++)
                if (wy->holidays[i] == day)
                        return true;
        return false;
}

/* calendar = "vn": the public holidays of every year become the policy's
 * days off, with the schedule's changes. */
static void test_calendar_vn(void **state) {
        struct t *t = *state;
        const struct policy *p;

        load_ok(t, "calendar = \"vn\";\n");
        p = &t->c->policy;
        assert_int_equal(t->c->calendar, HOLIDAY_CALENDAR_VN);
        /* Loading computes no year: each is worked out when first asked for. */
        assert_int_equal(workcal_years_computed(p->calendar), 0);
        for (size_t i = 1; i < workcal_year(p->calendar, 2026)->n_holidays; i++)
                assert_true(workcal_year(p->calendar, 2026)->holidays[i - 1] <
                            workcal_year(p->calendar, 2026)->holidays[i]);
        assert_int_equal(workcal_years_computed(p->calendar), 1);
        for (int d = 16; d <= 20; d++)
                assert_true(has_day(p, 2026, 2, d));
        assert_true(has_day(p, 2026, 4, 26));
        assert_true(has_day(p, 2026, 4, 27));   /* in lieu of Sunday 26/4 */
        assert_true(has_day(p, 2099, 9, 2));
        assert_true(has_day(p, 1970, 1, 1));
        assert_false(has_day(p, 2026, 2, 23));

        load_ok(t, "calendar = \"vn\";\n"
                   "schedule = {\n"
                   "  holidays = [\"2026-02-21\", \"*-11-20\"];\n"
                   "  not_holidays = [\"2026-09-01\", \"*-01-01\"];\n"
                   "  extra_workdays = [\"2026-02-28\"];\n"
                   "};\n");
        p = &t->c->policy;
        assert_true(has_day(p, 2026, 2, 21));
        assert_true(has_day(p, 2031, 11, 20));
        assert_false(has_day(p, 2026, 9, 1));
        assert_true(has_day(p, 2027, 9, 1));
        assert_false(has_day(p, 2030, 1, 1));
        assert_int_equal(workcal_year(p->calendar, 2026)->n_extra_workdays, 1);
        assert_int_equal(workcal_year(p->calendar, 2026)->extra_workdays[0], days_from_civil(2026, 2, 28));
        assert_int_equal(workcal_year(p->calendar, 2027)->n_extra_workdays, 0);

        /* Without a calendar, a recurring day is every year's. */
        load_ok(t, "schedule = { holidays = [\"*-04-30\"]; };\n");
        assert_int_equal(t->c->calendar, HOLIDAY_CALENDAR_NONE);
        for (int y = YEAR_MIN; y <= YEAR_MAX; y++)
                assert_true(has_day(&t->c->policy, y, 4, 30));
}

/* Working days in remind_before and escalation; "0wd", "3wdx" and a
 * working-day overdue_every are refused with file, line and setting. */
static void test_workday_offsets(void **state) {
        struct t *t = *state;
        const struct policy *p;

        load_ok(t, AGENCY_STC
                   "calendar = \"vn\";\n"
                   "schedule = {\n"
                   "  remind_before = [\"1wd\", \"7d\", \"5wd\"];\n"
                   "  escalation = ( { after = \"10d\"; to = [\"stc\"]; }, { after = \"3wd\"; to = [\"stc\"]; } );\n"
                   "};\n");
        p = &t->c->policy;
        assert_int_equal(p->n_remind_before, 3);
        assert_int_equal(p->remind_before[0], duration_from_workdays(5));
        assert_int_equal(p->remind_before[1], duration_from_workdays(1));
        assert_int_equal(p->remind_before[2], 7 * SEC_PER_DAY);
        /* 3 working days come before 10 days on the ladder. */
        assert_int_equal(p->escalation[0].after, duration_from_workdays(3));
        assert_int_equal(p->escalation[1].after, 10 * SEC_PER_DAY);

        load(t, "schedule = {\n  remind_before = [\"5wd\", \"0wd\"];\n};\n");
        assert_one_error(t, 2, "schedule.remind_before[1]: \"0wd\" counts no working day (use 0d");
        load(t, "schedule = {\n  remind_before = [\"3wdx\"];\n};\n");
        assert_one_error(t, 2, "schedule.remind_before[0]: \"3wdx\" is not a duration");
        load(t, "schedule = {\n  remind_before = [\"400wd\"];\n};\n");
        assert_one_error(t, 2, "schedule.remind_before[0]: \"400wd\" is too long (at most 366wd");
        load(t, "schedule = {\n  remind_before = [\"1wd\", \"1wd\"];\n};\n");
        assert_one_error(t, 2, "schedule.remind_before[1]: \"1wd\" is the same as \"1wd\"");
        load(t, AGENCY_STC "schedule = {\n  escalation = ( { after = \"0wd\"; to = [\"stc\"]; } );\n};\n");
        assert_one_error(t, 3, "schedule.escalation[0].after: \"0wd\" counts no working day");
        load(t, "schedule = {\n  overdue_every = \"2wd\";\n};\n");
        assert_one_error(t, 2, "schedule.overdue_every: \"2wd\" is not a duration");
}

static void test_calendar_errors(void **state) {
        struct t *t = *state;

        load(t, "\ncalendar = \"xx\";\n");
        assert_one_error(t, 2, "calendar: \"xx\" is not a calendar (use \"vn\"");
        load(t, "calendar = \"vn\";\nschedule = {\n  holidays = [\"*-02-30\", \"04-30\"];\n};\n");
        assert_error(t, 3, "schedule.holidays[0]: \"*-02-30\" is not a date (use YYYY-MM-DD");
        assert_error(t, 3, "schedule.holidays[1]: \"04-30\" is not a date");
        assert_int_equal(error_count(t->errors), 2);
        load(t, "calendar = \"vn\";\nschedule = {\n  not_holidays = [\"2026-03-03\"];\n};\n");
        assert_one_error(t, 3, "schedule.not_holidays[0]: \"2026-03-03\" is not a holiday");
        load(t, "schedule = {\n  holidays = [\"*-05-05\"];\n  extra_workdays = [\"2026-05-05\"];\n};\n");
        assert_one_error(t, 3, "schedule.extra_workdays[0]: \"2026-05-05\" is also listed in schedule.holidays");
}

static void test_escalation(void **state) {
        struct t *t = *state;

        load_ok(t, AGENCY_STC
                   "groups = ( { id = \"g\"; members = [\"stc\"]; } );\n"
                   "schedule = { escalation = ( { after = \"10d\"; to = [\"g\"]; }, { after = \"3d\"; to = \"stc\"; } ); };\n");
        assert_int_equal(t->c->policy.n_escalation, 2);
        assert_int_equal(t->c->policy.escalation[0].after, 3 * SEC_PER_DAY);
        assert_string_equal(t->c->policy.escalation[0].to[0], "stc");
        assert_int_equal(t->c->policy.escalation[1].after, 10 * SEC_PER_DAY);
        assert_string_equal(t->c->policy.escalation[1].to[0], "g");
}

static void test_escalation_errors(void **state) {
        struct t *t = *state;

        load(t, AGENCY_STC
                "schedule = { escalation = (\n"
                "  { after = \"3d\"; to = [\"stc\", \"vpub\"]; },\n"
                "  { after = \"72h\"; to = [\"stc\"]; },\n"
                "  { to = []; },\n"
                "  { after = \"5d\"; too = [\"stc\"]; }\n"
                "); };\n");
        assert_error(t, 3, "schedule.escalation[0].to[1]: \"vpub\" is not an agency or group id");
        assert_error(t, 4, "schedule.escalation[1].after: same delay as schedule.escalation[0]");
        assert_error(t, 5, "schedule.escalation[2].after: missing");
        assert_error(t, 5, "schedule.escalation[2].to: must name at least one agency or group");
        assert_error(t, 6, "schedule.escalation[3].too: unknown setting (did you mean to?)");
        assert_error(t, 6, "schedule.escalation[3].to: missing");
        assert_int_equal(error_count(t->errors), 6);
}

static void test_delivery(void **state) {
        struct t *t = *state;

        load_ok(t, "delivery = { retry_min = \"1m\"; retry_max = \"2h\"; max_retry_age = \"1d\"; };\n");
        assert_int_equal(t->c->delivery.retry_min, 60);
        assert_int_equal(t->c->delivery.retry_max, 2 * SEC_PER_HOUR);
        assert_int_equal(t->c->delivery.max_retry_age, SEC_PER_DAY);

        load(t, "delivery = {\n  retry_min = \"2h\";\n  retry_max = \"1h\";\n};\n");
        assert_one_error(t, 3, "delivery.retry_max: retry_max (1h) is shorter than retry_min (2h)");
        load(t, "delivery = { retry_min = \"2h\"; };\n");
        assert_one_error(t, 1, "delivery.retry_min: retry_max (1h) is shorter than retry_min (2h)");
        load(t, "delivery = { retry_min = \"0s\"; max_retry_age = \"1y\"; };\n");
        assert_error(t, 1, "delivery.retry_min: \"0s\" is too short (at least 1s)");
        assert_error(t, 1, "delivery.max_retry_age: \"1y\" is not a duration");
}

static void test_timezone_and_language(void **state) {
        struct t *t = *state;

        load(t, "timezone = \"Mars/Olympus\";\nlanguage = \"fr\";\n");
        assert_error(t, 1, "timezone: \"Mars/Olympus\" is not a known time zone");
        assert_error(t, 2, "language: \"fr\" is not a supported language (use \"vi\" or \"en\")");
        assert_int_equal(error_count(t->errors), 2);
        load(t, "timezone = \"../../etc/passwd\";\n");
        assert_one_error(t, 1, "timezone: ");
}

static void test_apply_timezone(void **state) {
        struct t *t = *state;

        load_ok(t, "timezone = \"Europe/Berlin\";\n");
        assert_int_equal(config_apply_timezone(t->c), 0);
        assert_string_equal(getenv("TZ"), "Europe/Berlin");
        /* 2025-07-01 12:00 in Berlin is 10:00 UTC (summer time). */
        assert_int_equal(local_to_instant(days_from_civil(2025, 7, 1), 12 * SEC_PER_HOUR),
                         days_from_civil(2025, 7, 1) * SEC_PER_DAY + 10 * SEC_PER_HOUR);
}

/* --- smtp and secrets --------------------------------------------------- */

static void test_secret_readable_by_others_is_refused(void **state) {
        struct t *t = *state;
        char expected[PATH_MAX + 128];

        write_text(t, "smtp.secret", "pw\n", 0644);
        load(t, "smtp = {\n"
                "  url = \"smtps://mail.sonha.gov.vn\";\n"
                "  username = \"nhacviec\";\n"
                "  password_file = \"smtp.secret\";\n"
                "  from = \"nhacviec@sonha.gov.vn\";\n"
                "};\n");
        snprintf(expected, sizeof expected,
                 "smtp.password_file: %s/smtp.secret is readable by group or others (mode 0644); chmod 600 it\n",
                 t->dir);
        assert_one_error(t, 4, expected);

        write_text(t, "smtp.secret", "pw\n", 0620);
        load_path(t, t->conf);
        snprintf(expected, sizeof expected,
                 "smtp.password_file: %s/smtp.secret is writable by group or others (mode 0620)", t->dir);
        assert_one_error(t, 4, expected);

        write_text(t, "smtp.secret", "pw\n", 0600);
        load_path(t, t->conf);
        assert_int_equal(t->r, 0);
        assert_string_equal(t->c->smtp.password, "pw");
}

static void test_secret_contents(void **state) {
        struct t *t = *state;
        static const char conf[] = "agencies = ( { id = \"stc\"; name = \"A\";\n"
                                   "  webhook = { url = \"https://hooks.sonha.gov.vn/stc\"; secret_file = \"/%s/h\"; }; } );\n";
        char text[sizeof conf + PATH_MAX], expected[PATH_MAX + 64];

        snprintf(text, sizeof text, conf, t->dir);
        write_text(t, "h", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\r\n", 0600);
        load_ok(t, text);
        assert_string_equal(t->c->agencies[0].webhooks[0].secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");

        write_text(t, "h", "line one\nline two\n", 0600);
        load(t, text);
        assert_one_error(t, 2, "agencies[0].webhook.secret_file: ");
        assert_non_null(strstr(t->errors, "must hold one line"));

        write_text(t, "h", "\n", 0600);
        load(t, text);
        snprintf(expected, sizeof expected, "agencies[0].webhook.secret_file: /%s/h is empty", t->dir);
        assert_one_error(t, 2, expected);

        write_text(t, "h", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", 0400);
        load_ok(t, text);

        /* One line, but not the Standard Webhooks form. */
        write_text(t, "h", "whsec_abc", 0600);
        load(t, text);
        assert_one_error(t, 2, "agencies[0].webhook.secret_file: does not hold a webhook secret");
}

static void test_secret_larger_than_limit(void **state) {
        struct t *t = *state;
        char big[5000];

        memset(big, 'k', sizeof big);
        write_file(t, "smtp.secret", big, sizeof big, 0600);
        load(t, "smtp = { url = \"smtps://h\"; from = \"a@b\"; username = \"u\"; password_file = \"smtp.secret\"; };\n");
        assert_one_error(t, 1, "smtp.password_file: ");
        assert_non_null(strstr(t->errors, "is larger than 4096 bytes"));
}

static void test_credentials_directory_provides_password(void **state) {
        struct t *t = *state;
        char creds[PATH_MAX + 16];

        snprintf(creds, sizeof creds, "%s/creds", t->dir);
        assert_int_equal(mkdir(creds, 0700), 0);
        write_text(t, "creds/smtp-password", "from-systemd\n", 0644);
        setenv("CREDENTIALS_DIRECTORY", creds, 1);
        load_ok(t, "smtp = { url = \"smtps://h\"; from = \"a@b\"; username = \"u\"; };\n");
        assert_string_equal(t->c->smtp.password, "from-systemd");

        /* password_file wins over the credential. */
        write_text(t, "pw", "from-file", 0600);
        load_ok(t, "smtp = { url = \"smtps://h\"; from = \"a@b\"; username = \"u\"; password_file = \"pw\"; };\n");
        assert_string_equal(t->c->smtp.password, "from-file");

        /* Without a user name the credential is an error, not ignored. */
        load(t, "smtp = {\n  url = \"smtps://h\";\n  from = \"a@b\";\n};\n");
        assert_one_error(t, 1, "smtp.username: missing: a password is set (credential smtp-password) but no user name");
}

/* --- inbox ----------------------------------------------------------------- */

static void test_inbox_settings(void **state) {
        struct t *t = *state;

        write_text(t, "imap.secret", "mật-khẩu\n", 0600);
        load_ok(t, "inbox = {\n"
                   "  url = \"imaps://mail.sonha.gov.vn/INBOX\";\n"
                   "  username = \"theodoi\";\n"
                   "  password_file = \"imap.secret\";\n"
                   "  poll_every = \"2m\";\n"
                   "  address = \"theodoi@sonha.gov.vn\";\n"
                   "  pause_reminders = false;\n"
                   "};\n");
        assert_true(t->c->has_inbox);
        assert_string_equal(t->c->inbox.url, "imaps://mail.sonha.gov.vn/INBOX");
        assert_string_equal(t->c->inbox.username, "theodoi");
        assert_string_equal(t->c->inbox.password, "mật-khẩu");
        assert_string_equal(t->c->inbox.address, "theodoi@sonha.gov.vn");
        assert_int_equal(t->c->inbox.poll_every, 2 * SEC_PER_MIN);
        assert_false(t->c->inbox.pause_reminders);
        assert_int_equal(t->c->inbox.max_size, 10 * 1024 * 1024);
        assert_null(t->c->inbox.ca_file);

        /* Defaults; the password from the systemd credential. */
        char creds[PATH_MAX + 16];
        snprintf(creds, sizeof creds, "%s/creds", t->dir);
        assert_int_equal(mkdir(creds, 0700), 0);
        write_text(t, "creds/imap-password", "from-systemd\n", 0644);
        setenv("CREDENTIALS_DIRECTORY", creds, 1);
        load_ok(t, "inbox = { url = \"imap://mail.sonha.gov.vn/\"; username = \"u\"; address = \"a@b\"; };\n");
        assert_string_equal(t->c->inbox.password, "from-systemd");
        assert_int_equal(t->c->inbox.poll_every, 5 * SEC_PER_MIN);
        assert_true(t->c->inbox.pause_reminders);
        unsetenv("CREDENTIALS_DIRECTORY");

        load_ok(t, "language = \"en\";\n");
        assert_false(t->c->has_inbox);
}

static void test_inbox_errors(void **state) {
        struct t *t = *state;

        write_text(t, "pw", "secret\n", 0600);
        load(t, "inbox = {\n"
                "  url = \"https://mail.sonha.gov.vn/INBOX\";\n"
                "  password_file = \"pw\";\n"
                "  address = \"theodoi\";\n"
                "  poll_every = \"soon\";\n"
                "  pause_reminders = \"yes\";\n"
                "  verify = false;\n"
                "};\n");
        assert_error(t, 2, "inbox.url: \"https://mail.sonha.gov.vn/INBOX\" must start with imaps:// or imap://");
        assert_error(t, 1, "inbox.username: missing");
        assert_error(t, 4, "inbox.address: \"theodoi\"");
        assert_error(t, 5, "inbox.poll_every: ");
        assert_error(t, 6, "inbox.pause_reminders: must be true or false");
        assert_error(t, 7, "inbox.verify: unknown setting");

        load(t, "inbox = {\n  url = \"imaps://h/INBOX;UID=5\";\n  username = \"u\";\n  password_file = \"pw\";\n"
                "  address = \"a@b\";\n};\n");
        assert_one_error(t, 2, "inbox.url: \"imaps://h/INBOX;UID=5\" names more than a mailbox");

        load(t, "inbox = {\n  url = \"imaps://h/INBOX\";\n  username = \"u\";\n  address = \"a@b\";\n};\n");
        assert_one_error(t, 1, "inbox.password_file: missing (set password_file, or the credential imap-password)");

        write_text(t, "pw", "secret\n", 0644);
        load(t, "inbox = {\n  url = \"imaps://h/INBOX\";\n  username = \"u\";\n  password_file = \"pw\";\n"
                "  address = \"a@b\";\n};\n");
        assert_one_error(t, 4, "inbox.password_file: ");
        assert_non_null(strstr(t->errors, "is readable by group or others"));

        load(t, "inbox = {\n  url = \"imaps://u:p@h/INBOX\";\n  username = \"u\";\n  address = \"a@b\";\n};\n");
        assert_null(strstr(t->errors, ":p@"));
}

static void test_username_and_password_go_together(void **state) {
        struct t *t = *state;

        write_text(t, "pw", "secret", 0600);
        load(t, "smtp = {\n  url = \"smtps://h\";\n  from = \"a@b\";\n  password_file = \"pw\";\n};\n");
        assert_one_error(t, 1, "smtp.username: missing: a password is set (password_file) but no user name");
        load(t, "smtp = {\n  url = \"smtps://h\";\n  from = \"a@b\";\n  username = \"u\";\n};\n");
        assert_one_error(t, 4, "smtp.username: is set but there is no password");
}

static void test_smtp_settings(void **state) {
        struct t *t = *state;

        load(t, "smtp = {\n"
                "  url = \"http://mail.sonha.gov.vn\";\n"
                "  max_connections = 65;\n"
                "  connect_timeout = \"0s\";\n"
                "  allow_plaintext_remote = true;\n"
                "  ca_file = \"/nonexistent/ca.pem\";\n"
                "};\n");
        assert_error(t, 1, "smtp.from: missing");
        assert_error(t, 2, "smtp.url: \"http://mail.sonha.gov.vn\" must start with smtp:// or smtps://");
        assert_error(t, 3, "smtp.max_connections: 65 is out of range (1 to 64)");
        assert_error(t, 4, "smtp.connect_timeout: \"0s\" is too short (at least 1s)");
        assert_error(t, 5, "smtp.allow_plaintext_remote: needs allow_plaintext = true as well");
        assert_error(t, 6, "smtp.ca_file: /nonexistent/ca.pem: No such file or directory");
        assert_int_equal(error_count(t->errors), 6);

        load(t, "smtp = { from = \"a@b\"; };\n");
        assert_one_error(t, 1, "smtp.url: missing");
        load(t, "smtp = { url = \"smtps://user:pw@mail.sonha.gov.vn\"; from = \"a@b\"; };\n");
        assert_one_error(t, 1, "smtp.url: \"smtps://***@mail.sonha.gov.vn/\" must not contain a user name or password");
        load(t, "smtp = { url = \"smtp://\"; from = \"a@b\"; };\n");
        assert_one_error(t, 1, "smtp.url: \"smtp://\" is not a valid URL");

        load(t, "smtp = { url = \"smtps://h\"; from = \"a@b\"; ca_file = \"/dev\"; };\n");
        assert_one_error(t, 1, "smtp.ca_file: /dev is not a regular file");

        write_text(t, "ca.pem", "-----BEGIN CERTIFICATE-----\n", 0644);
        load_ok(t, "smtp = { url = \"smtp://127.0.0.1:2525\"; from = \"a@b\"; allow_plaintext = true;\n"
                   "  allow_plaintext_remote = true; max_connections = 64; timeout = \"1h\"; ca_file = \"ca.pem\"; };\n");
        assert_true(t->c->smtp.allow_plaintext_remote);
        assert_int_equal(t->c->smtp.max_connections, 64);
        assert_int_equal(t->c->smtp.timeout, SEC_PER_HOUR);
}

/* The sender and Reply-To are split once, at load, as messages write
 * them; one a message cannot carry is refused there. */
static void test_sender_is_split_at_load(void **state) {
        struct t *t = *state;
        char text[1024], name[300];

        load_ok(t, "smtp = { url = \"smtps://h\"; from = \"Hệ thống nhắc việc <nhacviec@sonha.gov.vn>\";\n"
                   "  reply_to = \"vanthu@sonha.gov.vn\"; };\n");
        assert_string_equal(t->c->from_name, "Hệ thống nhắc việc");
        assert_string_equal(t->c->from_address, "nhacviec@sonha.gov.vn");
        assert_null(t->c->reply_name);
        assert_string_equal(t->c->reply_address, "vanthu@sonha.gov.vn");

        load_ok(t, "from = \"nhacviec@sonha.gov.vn\";\n");
        assert_null(t->c->from_name);
        assert_string_equal(t->c->from_address, "nhacviec@sonha.gov.vn");
        assert_null(t->c->reply_address);

        memset(name, 'a', 257);
        name[257] = 0;
        snprintf(text, sizeof text, "from = \"%s <nhacviec@sonha.gov.vn>\";\n", name);
        load(t, text);
        assert_one_error(t, 1, "from: cannot be used as the sender of a message (a display name of at most 256 "
                               "bytes and an address)");
}

/* --- webhooks ----------------------------------------------------------- */

static void test_webhook_plaintext_only_to_loopback(void **state) {
        static const struct {
                const char *url;
                bool ok;
        } cases[] = {
                { "http://127.0.0.1:8081/hooks", true },
                { "http://127.9.9.9/hooks", true },
                { "http://[::1]:8081/hooks", true },
                { "http://localhost/hooks", true },
                { "http://0x7f.1/hooks", true }, /* curl reads this as 127.0.0.1 */
                { "https://hooks.sonha.gov.vn/x", true },
                { "http://hooks.sonha.gov.vn/x", false },
                { "http://10.0.0.1/x", false },
                { "http://localhost.evil.example/x", false },
                { "http://[::ffff:127.0.0.1]/x", false },
        };
        struct t *t = *state;
        char text[512];

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                snprintf(text, sizeof text, "agencies = ( { id = \"stc\"; name = \"A\"; webhook = { url = \"%s\"; }; } );\n",
                         cases[i].url);
                load(t, text);
                if (cases[i].ok && t->r < 0)
                        fail_msg("%s: %s", cases[i].url, t->errors);
                if (!cases[i].ok)
                        assert_one_error(t, 1, "agencies[0].webhook.url: ");
                if (!cases[i].ok && !strstr(t->errors, "uses http:// to another host"))
                        fail_msg("%s: %s", cases[i].url, t->errors);
        }

        load_ok(t, "agencies = ( { id = \"stc\"; name = \"A\";\n"
                   "  webhook = { url = \"http://hooks.sonha.gov.vn/x\"; allow_plaintext_remote = true; }; } );\n");
        assert_true(t->c->agencies[0].webhooks[0].allow_plaintext_remote);
}

static void test_webhook_url_errors(void **state) {
        struct t *t = *state;

        load(t, "agencies = ( { id = \"stc\"; name = \"A\"; webhook = (\n"
                "  { url = \"https://user:pw@hooks.sonha.gov.vn/x\"; },\n"
                "  { url = \"ftp://hooks.sonha.gov.vn/x\"; },\n"
                "  { url = \"https://hooks.sonha.gov.vn/a b\"; },\n"
                "  { format = \"teams\"; }\n"
                "); } );\n");
        assert_error(t, 2, "agencies[0].webhook[0].url: \"https://***@hooks.sonha.gov.vn/x\" must not contain a user name");
        assert_error(t, 3, "agencies[0].webhook[1].url: \"ftp://hooks.sonha.gov.vn/x\" must start with http:// or https://");
        assert_error(t, 4, "agencies[0].webhook[2].url: \"https://hooks.sonha.gov.vn/a b\" contains a space");
        assert_error(t, 5, "agencies[0].webhook[3].url: missing");
        assert_error(t, 5, "agencies[0].webhook[3].format: \"teams\" is not a webhook format (use json, slack, ntfy or telegram)");
        assert_int_equal(error_count(t->errors), 5);
}

static void test_url_secrets_are_never_echoed(void **state) {
        struct t *t = *state;

        load(t, "smtp = { url = \"smtp://user:S3cretPw@mail.sonha.gov.vn\"; from = \"a@sonha.gov.vn\"; };\n"
                "base_url = \"https://u:B4seUrlPw@sonha.gov.vn/a b\";\n"
                "agencies = ( { id = \"stc\"; name = \"A\"; webhook = (\n"
                "  { url = \"ftp://u:FtpPw@hooks.sonha.gov.vn/x\"; },\n"
                "  { url = \"https://u:Tab\\tPw@hooks.sonha.gov.vn/x\"; }\n"
                "); } );\n");
        assert_error(t, 1, "smtp.url: \"smtp://***@mail.sonha.gov.vn/\" must not contain a user name or password");
        assert_error(t, 2, "base_url: \"https://***@sonha.gov.vn/a b\" contains a space");
        assert_error(t, 4, "agencies[0].webhook[0].url: \"ftp://***@hooks.sonha.gov.vn/x\" must start with http://");
        assert_error(t, 5, "agencies[0].webhook[1].url: \"https://***@hooks.sonha.gov.vn/x\" contains a control");
        assert_null(strstr(t->errors, "Pw"));
}

static void test_url_redact(void **state) {
        static const struct { const char *in, *out; } cases[] = {
                { "smtps://user:pw@mail.example.org:465", "smtps://***@mail.example.org:465/" },
                { "smtp://user;AUTH=PLAIN@mail.example.org", "smtp://***@mail.example.org/" },
                { "https://token@hooks.example.org/x?a=1", "https://***@hooks.example.org/x?a=1" },
                { "https://hooks.example.org/x", "https://hooks.example.org/x" },
                { "https://hooks.example.org/to/a@b", "https://hooks.example.org/to/a@b" },
                /* What curl refuses is cut up to the last '@'. */
                { "smtp://user:p@ss word@mail.example.org", "smtp://***@mail.example.org" },
                { "user:pw@mail.example.org", "***@mail.example.org" },
                { "smtp://us er:pw@[::1", "smtp://***@[::1" },
        };
        char buf[256], tiny[8];

        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
                assert_string_equal(url_redact(cases[i].in, buf, sizeof buf), cases[i].out);
        assert_string_equal(url_redact("https://u:pw@h/x", tiny, sizeof tiny), "https:/");
}

static void test_webhook_list_and_headers(void **state) {
        struct t *t = *state;
        const struct agency *a;

        load_ok(t, "agencies = ( { id = \"stc\"; name = \"A\"; webhook = (\n"
                   "  { url = \"https://chat.sonha.gov.vn/hooks/stc\"; format = \"slack\"; },\n"
                   "  { url = \"https://ntfy.sonha.gov.vn/stc\"; format = \"ntfy\";\n"
                   "    headers = { Title = \"Nhắc việc\"; X-Priority = \"4\"; }; }\n"
                   "); } );\n");
        a = &t->c->agencies[0];
        assert_int_equal(a->n_webhooks, 2);
        assert_int_equal(a->webhooks[0].format, WEBHOOK_SLACK);
        assert_int_equal(a->webhooks[0].line, 2);
        assert_int_equal(a->webhooks[1].format, WEBHOOK_NTFY);
        assert_int_equal(a->webhooks[1].n_headers, 2);
        assert_string_equal(a->webhooks[1].headers[0].name, "Title");
        assert_string_equal(a->webhooks[1].headers[0].value, "Nhắc việc");
        assert_string_equal(a->webhooks[1].headers[1].name, "X-Priority");
        assert_null(a->webhooks[0].secret);
}

static void test_webhook_telegram(void **state) {
        struct t *t = *state;
        const struct webhook *w;

        write_text(t, "tg.token", "7012345678:AAHq-x_Secr3t\n", 0600);
        load_ok(t, "agencies = ( { id = \"stc\"; name = \"A\"; webhook = (\n"
                   "  { format = \"telegram\"; chat_id = \"-1001234567890\"; token_file = \"tg.token\"; },\n"
                   "  { format = \"telegram\"; chat_id = \"@stc_nhacviec\"; token_file = \"tg.token\";\n"
                   "    api_url = \"http://127.0.0.1:8081/\"; }\n"
                   "); } );\n");
        w = &t->c->agencies[0].webhooks[0];
        assert_int_equal(w->format, WEBHOOK_TELEGRAM);
        assert_string_equal(w->url, "https://api.telegram.org/bot***/sendMessage");
        assert_string_equal(w->host, "https://api.telegram.org:443");
        assert_string_equal(w->chat_id, "-1001234567890");
        assert_string_equal(w->token, "7012345678:AAHq-x_Secr3t");
        w = &t->c->agencies[0].webhooks[1];
        assert_string_equal(w->url, "http://127.0.0.1:8081/bot***/sendMessage");
        assert_string_equal(w->api_url, "http://127.0.0.1:8081");

        write_text(t, "bad.token", "7012345678:AAH/../x?y\n", 0600);
        load(t, "agencies = ( { id = \"stc\"; name = \"A\"; webhook = (\n"
                "  { format = \"telegram\"; chat_id = \"12ab\"; token_file = \"bad.token\"; },\n"
                "  { format = \"telegram\"; url = \"https://x/y\"; chat_id = \"1\"; },\n"
                "  { url = \"https://x/y\"; chat_id = \"1\"; }\n"
                "); } );\n");
        assert_error(t, 2, "agencies[0].webhook[0].chat_id: \"12ab\" is not a Telegram chat");
        assert_error(t, 2, "agencies[0].webhook[0].token_file: bad.token does not hold a bot token");
        assert_error(t, 3, "agencies[0].webhook[1].url: is not used with format = \"telegram\"");
        assert_error(t, 3, "agencies[0].webhook[1].token_file: missing");
        assert_error(t, 4, "agencies[0].webhook[2].chat_id: is only used with format = \"telegram\"");
        assert_null(strstr(t->errors, "Secr3t"));
        assert_null(strstr(t->errors, "AAH/"));
        assert_int_equal(error_count(t->errors), 5);
}

static void test_webhook_header_errors(void **state) {
        struct t *t = *state;

        load(t, "agencies = ( { id = \"stc\"; name = \"A\"; webhook = { url = \"https://h/x\"; headers = {\n"
                "  Host = \"evil.example\";\n"
                "  webhook-signature = \"v1,forged\";\n"
                "  X-Token = \"abc\\r\\nX-Injected: 1\";\n"
                "  X-Count = 5;\n"
                "  X-Dup = \"a\"; x-dup = \"b\";\n"
                "}; }; } );\n");
        assert_error(t, 2, "agencies[0].webhook.headers.Host: is set by deadlined itself");
        assert_error(t, 3, "agencies[0].webhook.headers.webhook-signature: is set by deadlined itself");
        assert_error(t, 4, "agencies[0].webhook.headers.X-Token: \"abc\\r\\nX-Injected: 1\" contains a line break");
        assert_error(t, 5, "agencies[0].webhook.headers.X-Count: must be a string, not a number");
        assert_error(t, 6, "agencies[0].webhook.headers.x-dup: is the same header as X-Dup");
        assert_int_equal(error_count(t->errors), 5);
}

/* --- lookups ------------------------------------------------------------ */

static void test_lookups_and_expand(void **state) {
        struct t *t = *state;
        char *ids[] = { "huyen", "stc", "nope", "cacso", "h1", NULL };
        const char **l = NULL;

        load_ok(t, "agencies = (\n"
                   "  { id = \"stc\"; name = \"Sở Tài chính\"; },\n"
                   "  { id = \"syt\"; name = \"Sở Y tế\"; },\n"
                   "  { id = \"h1\"; name = \"UBND huyện An Lạc\"; },\n"
                   "  { id = \"h2\"; name = \"UBND huyện Bình Sơn\"; }\n"
                   ");\n"
                   "groups = (\n"
                   "  { id = \"cacso\"; members = [\"syt\", \"stc\"]; },\n"
                   "  { id = \"huyen\"; members = [\"h2\", \"h1\"]; }\n"
                   ");\n");
        assert_string_equal(config_find_agency(t->c, "syt")->name, "Sở Y tế");
        assert_null(config_find_agency(t->c, "cacso"));
        assert_string_equal(config_find_group(t->c, "cacso")->members[0], "syt");
        assert_null(config_find_group(t->c, "stc"));
        assert_true(config_id_exists(t->c, "stc"));
        assert_true(config_id_exists(t->c, "huyen"));
        assert_false(config_id_exists(t->c, "nope"));
        assert_false(config_id_exists(t->c, ""));

        assert_int_equal(config_expand(t->c, ids, &l), 0);
        assert_string_equal(l[0], "h2");
        assert_string_equal(l[1], "h1");
        assert_string_equal(l[2], "stc");
        assert_string_equal(l[3], "syt");
        assert_null(l[4]);
        /* The strings belong to the configuration. */
        assert_ptr_equal(l[2], config_find_agency(t->c, "stc")->id);
        free(l);

        assert_int_equal(config_expand(t->c, NULL, &l), 0);
        assert_null(l[0]);
        free(l);
}

static void test_enum_strings(void **state) {
        assert_string_equal(language_to_string(LANGUAGE_VI), "vi");
        assert_string_equal(language_to_string(LANGUAGE_EN), "en");
        assert_null(language_to_string(_LANGUAGE_MAX));
        assert_int_equal(language_from_string("en"), LANGUAGE_EN);
        assert_int_equal(language_from_string("EN"), -EINVAL);
        assert_string_equal(webhook_format_to_string(WEBHOOK_JSON), "json");
        assert_string_equal(webhook_format_to_string(WEBHOOK_SLACK), "slack");
        assert_string_equal(webhook_format_to_string(WEBHOOK_NTFY), "ntfy");
        assert_null(webhook_format_to_string(_WEBHOOK_FORMAT_MAX));
        assert_int_equal(webhook_format_from_string("ntfy"), WEBHOOK_NTFY);
        assert_null(config_free(NULL));
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                T(test_sample_loads),
                T(test_sample_without_secret_files_names_both),
                T(test_example_config_loads),
                T(test_empty_file_gets_defaults),
                T(test_smtp_defaults),
                T(test_relative_database_resolves_against_config_folder),
                T(test_relative_config_path_becomes_absolute),
                T(test_maildir_transport_path),
                T(test_transport_smtp_needs_smtp_group),
                T(test_transport_invalid),
                T(test_toplevel_from_with_smtp_group_is_an_error),
                T(test_base_url_and_templates),
                T(test_missing_file),
                T(test_directory_is_refused),
                T(test_fifo_and_devices_are_refused_without_blocking),
                T(test_file_larger_than_limit),
                T(test_unreadable_file),
                T(test_syntax_error_names_line),
                T(test_duplicate_setting_is_a_syntax_error),
                T(test_nul_byte_is_refused),
                T(test_invalid_utf8_in_string),
                T(test_utf8_bom_is_skipped),
                T(test_include_is_refused),
                T(test_deep_nesting_does_not_crash),
                T(test_unknown_settings_are_errors),
                T(test_wrong_types),
                T(test_single_string_stands_for_a_list),
                T(test_all_errors_reported_together),
                T(test_error_count_is_capped),
                T(test_duplicate_agency_ids),
                T(test_group_id_equal_to_agency_id),
                T(test_invalid_ids),
                T(test_agency_needs_a_name),
                T(test_group_members_must_be_existing_agencies),
                T(test_group_without_name_is_called_by_its_id),
                T(test_too_many_agencies),
                T(test_ten_thousand_agencies_load),
                T(test_invalid_email_addresses),
                T(test_email_longer_than_254_bytes),
                T(test_duplicate_addresses),
                T(test_line_breaks_in_names_are_refused),
                T(test_from_must_be_a_mailbox),
                T(test_strings_longer_than_limit),
                T(test_email_address_valid),
                T(test_remind_before_bad_duration),
                T(test_remind_before_sorted_descending),
                T(test_remind_before_duplicates_and_range),
                T(test_overdue_every),
                T(test_send_at),
                T(test_workdays),
                T(test_holidays),
                T(test_calendar_vn),
                T(test_workday_offsets),
                T(test_calendar_errors),
                T(test_escalation),
                T(test_escalation_errors),
                T(test_delivery),
                T(test_timezone_and_language),
                T(test_apply_timezone),
                T(test_secret_readable_by_others_is_refused),
                T(test_secret_contents),
                T(test_secret_larger_than_limit),
                T(test_credentials_directory_provides_password),
                T(test_inbox_settings),
                T(test_inbox_errors),
                T(test_username_and_password_go_together),
                T(test_smtp_settings),
                T(test_sender_is_split_at_load),
                T(test_webhook_plaintext_only_to_loopback),
                T(test_webhook_url_errors),
                T(test_url_secrets_are_never_echoed),
                T(test_url_redact),
                T(test_webhook_list_and_headers),
                T(test_webhook_header_errors),
                T(test_webhook_telegram),
                T(test_lookups_and_expand),
                T(test_enum_strings),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
