/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The database's instance id (store-instance.c) and the sender lock beside
 * it (lockfile.c). */

#include <fcntl.h>
#include <sys/stat.h>

#include "lockfile.h"
#include "store-fixture.h"

static bool made_id(const char *id) {
        if (!id || strlen(id) != 26)
                return false;
        for (const char *p = id; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '2' && *p <= '7')))
                        return false;
        return true;
}

static void test_new_database_gets_an_instance_id_that_stays(void **state) {
        struct fixture *f = *state;
        char id[STORE_INSTANCE_ID_MAX], buf[128];
        sqlite3 *db;

        assert_true(made_id(store_instance_id(f->s)));
        snprintf(id, sizeof id, "%s", store_instance_id(f->s));
        db = raw_open(f->path);
        assert_string_equal(raw_text(db, "SELECT value FROM meta WHERE key = 'instance_id'", buf, sizeof buf), id);
        sqlite3_close(db);

        f->s = store_close(f->s);
        assert_int_equal(store_open(f->path, 0, &f->s), 0);
        assert_string_equal(store_instance_id(f->s), id);
}

static void test_two_databases_have_different_ids(void **state) {
        struct fixture *f = *state;
        char other[400];
        struct store *s = NULL;

        snprintf(other, sizeof other, "%s/other.db", f->dir);
        assert_int_equal(store_open(other, STORE_CREATE, &s), 0);
        assert_true(made_id(store_instance_id(s)));
        assert_string_not_equal(store_instance_id(s), store_instance_id(f->s));
        store_close(s);
        assert_int_equal(unlink(other), 0);
}

/* A database from before instance ids gets one at its next open for
 * writing, without a new schema version; a read-only open leaves it be. */
static void test_existing_database_gets_one_at_an_open_for_writing(void **state) {
        struct fixture *f = *state;
        struct store *ro = NULL;
        char buf[128];
        sqlite3 *db;

        f->s = store_close(f->s);
        db = raw_open(f->path);
        raw_exec(db, "DELETE FROM meta WHERE key = 'instance_id'");

        assert_int_equal(store_open(f->path, STORE_READONLY, &ro), 0);
        assert_null(store_instance_id(ro));
        store_close(ro);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM meta WHERE key = 'instance_id'"), 0);

        assert_int_equal(store_open(f->path, 0, &f->s), 0);
        assert_true(made_id(store_instance_id(f->s)));
        assert_string_equal(raw_text(db, "SELECT value FROM meta WHERE key = 'instance_id'", buf, sizeof buf),
                            store_instance_id(f->s));
        assert_int_equal(raw_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
        sqlite3_close(db);
}

static void test_renew_changes_it_for_good(void **state) {
        struct fixture *f = *state;
        char before[STORE_INSTANCE_ID_MAX], after[STORE_INSTANCE_ID_MAX];
        struct store *ro = NULL;

        snprintf(before, sizeof before, "%s", store_instance_id(f->s));
        assert_int_equal(store_instance_id_renew(f->s), 0);
        snprintf(after, sizeof after, "%s", store_instance_id(f->s));
        assert_true(made_id(after));
        assert_string_not_equal(before, after);

        assert_int_equal(store_open(f->path, STORE_READONLY, &ro), 0);
        assert_string_equal(store_instance_id(ro), after);
        assert_int_equal(store_instance_id_renew(ro), -EROFS);
        assert_string_equal(store_instance_id(ro), after);
        store_close(ro);
}

static void test_an_id_that_is_not_one_is_refused(void **state) {
        struct fixture *f = *state;
        struct store *s = NULL;
        sqlite3 *db;

        f->s = store_close(f->s);
        db = raw_open(f->path);
        raw_exec(db, "UPDATE meta SET value = 'a b>' WHERE key = 'instance_id'");
        sqlite3_close(db);
        assert_int_equal(store_open(f->path, 0, &s), -EBADMSG);
        assert_non_null(strstr(store_last_error(NULL), "instance_id"));
}

/* --- the sender lock ----------------------------------------------------- */

static void lock_path(const struct fixture *f, char *buf, size_t size) {
        snprintf(buf, size, "%s.lock", f->path);
}

static void test_lock_is_exclusive_and_names_its_holder(void **state) {
        struct fixture *f = *state;
        struct lock_holder h = {};
        int fd;

        assert_int_equal(lockfile_query(f->path, &h), 0);
        fd = lockfile_take(f->path, NOW, NULL);
        assert_true(fd >= 0);

        /* Another open file description is another owner, even in this
         * process: what a second deadlined would see. */
        assert_int_equal(lockfile_take(f->path, NOW + 5, &h), -EBUSY);
        assert_int_equal(h.pid, getpid());
        assert_int_equal(h.since, NOW);
        h = (struct lock_holder) {};
        assert_int_equal(lockfile_query(f->path, &h), 1);
        assert_int_equal(h.pid, getpid());
        assert_int_equal(h.since, NOW);

        close(fd);
        assert_int_equal(lockfile_query(f->path, &h), 0);
        fd = lockfile_take(f->path, NOW + 10, NULL);
        assert_true(fd >= 0);
        close(fd);
}

/* What a killed holder left in the file does not matter: the lock is
 * free, and the next holder writes its own. */
static void test_stale_pid_in_the_file_is_ignored(void **state) {
        struct fixture *f = *state;
        struct lock_holder h = {};
        char path[400], buf[64] = "";
        int fd, raw;

        lock_path(f, path, sizeof path);
        raw = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        assert_true(raw >= 0);
        assert_int_equal(write(raw, "1 1000\nlonger than what replaces it\n", 36), 36);
        close(raw);

        assert_int_equal(lockfile_query(f->path, &h), 0);
        fd = lockfile_take(f->path, NOW, NULL);
        assert_true(fd >= 0);
        raw = open(path, O_RDONLY);
        assert_true(read(raw, buf, sizeof buf - 1) > 0);
        close(raw);
        char expected[64];
        snprintf(expected, sizeof expected, "%d %lld\n", (int) getpid(), (long long) NOW);
        assert_string_equal(buf, expected);
        close(fd);
}

/* status reads the lock with a read-only descriptor, as a user who may
 * read but not write the file. */
static void test_query_of_a_read_only_lock_file(void **state) {
        struct fixture *f = *state;
        struct lock_holder h = {};
        char path[400];
        int fd;

        fd = lockfile_take(f->path, NOW, NULL);
        assert_true(fd >= 0);
        lock_path(f, path, sizeof path);
        assert_int_equal(chmod(path, 0444), 0);
        assert_int_equal(lockfile_query(f->path, &h), 1);
        assert_int_equal(h.pid, getpid());
        close(fd);
        assert_int_equal(lockfile_query(f->path, &h), 0);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
        const struct CMUnitTest tests[] = {
                T(test_new_database_gets_an_instance_id_that_stays),
                T(test_two_databases_have_different_ids),
                T(test_existing_database_gets_one_at_an_open_for_writing),
                T(test_renew_changes_it_for_good),
                T(test_an_id_that_is_not_one_is_refused),
                T(test_lock_is_exclusive_and_names_its_holder),
                T(test_stale_pid_in_the_file_is_ignored),
                T(test_query_of_a_read_only_lock_file),
        };
#undef T
        return cmocka_run_group_tests(tests, NULL, NULL);
}
