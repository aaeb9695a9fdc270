/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store opened STORE_DRY (deadlined --once --dry-run): everything done
 * through it is seen by it, by no one else, and undone at close. */
#include "store-fixture.h"

static int64_t raw_tasks(const char *path) {
        sqlite3 *db = raw_open(path);
        int64_t n = raw_int(db, "SELECT count(*) FROM tasks");

        sqlite3_close(db);
        return n;
}

static void test_dry_store_work_is_its_own_and_undone_at_close(void **state) {
        struct fixture *f = *state;
        _cleanup_(task_list_done) struct task_list l = {};
        struct store *dry = NULL;

        add_task(f->s, "có sẵn", NOW, NULL, 0);
        assert_int_equal(store_open(f->path, STORE_DRY, &dry), 0);

        assert_int_equal(store_begin(dry), 0);
        add_task(dry, "thử", NOW, NULL, 0);
        assert_int_equal(store_commit(dry), 0);
        assert_int_equal(store_task_list(dry, NULL, &l), 2);
        /* Committed, as far as the dry store's callers can tell; no one
         * else sees it. */
        assert_int_equal(raw_tasks(f->path), 1);

        store_close(dry);
        assert_int_equal(raw_tasks(f->path), 1);
}

static void test_dry_store_rollback_undoes_one_step(void **state) {
        struct fixture *f = *state;
        _cleanup_(task_list_done) struct task_list l = {};
        struct store *dry = NULL;

        assert_int_equal(store_open(f->path, STORE_DRY, &dry), 0);
        assert_int_equal(store_begin(dry), 0);
        add_task(dry, "giữ", NOW, NULL, 0);
        assert_int_equal(store_commit(dry), 0);
        assert_int_equal(store_begin(dry), 0);
        add_task(dry, "bỏ", NOW, NULL, 0);
        assert_int_equal(store_rollback(dry), 0);
        assert_int_equal(store_rollback(dry), 0);  /* none open: harmless */

        assert_int_equal(store_task_list(dry, NULL, &l), 1);
        assert_string_equal(l.tasks[0].title, "giữ");
        store_close(dry);
        assert_int_equal(raw_tasks(f->path), 0);
}

/* The write lock is taken at open and kept: a busy database is found
 * before any work, and no one writes under the dry run's feet. */
static void test_dry_store_holds_the_write_lock_until_close(void **state) {
        struct fixture *f = *state;
        struct store *dry = NULL;

        assert_int_equal(store_open(f->path, STORE_DRY, &dry), 0);
        assert_int_equal(store_set_busy_timeout(f->s, 50), 0);
        assert_int_equal(store_begin(f->s), -EBUSY);
        store_close(dry);
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_commit(f->s), 0);
}

static void test_dry_store_migrates_inside_and_leaves_the_version(void **state) {
        struct fixture *f = *state;
        struct store *dry = NULL;
        sqlite3 *db;

        f->s = store_close(f->s);
        db = raw_open(f->path);
        raw_exec(db, "DROP TABLE inbox_messages; ALTER TABLE tasks DROP COLUMN due_rule_days; ALTER TABLE tasks DROP COLUMN due_rule_from; ALTER TABLE tasks DROP COLUMN revision; DROP INDEX deliveries_untasked; ALTER TABLE task_agencies DROP COLUMN notice_at; "
                     "DROP TABLE completions; ALTER TABLE tasks DROP COLUMN original_due; "
                     "DROP TABLE task_changes; ALTER TABLE deliveries DROP COLUMN first_attempt_at; "
                     "ALTER TABLE deliveries DROP COLUMN retried_at; ALTER TABLE deliveries DROP COLUMN retried_by; "
                     "ALTER TABLE deliveries DROP COLUMN retries; "
                     "CREATE INDEX deliveries_task ON deliveries(task_id); PRAGMA user_version = 3");

        assert_int_equal(store_open(f->path, STORE_DRY, &dry), 0);
        assert_int_equal(store_schema_version(dry), STORE_SCHEMA_VERSION);
        store_close(dry);

        assert_int_equal(raw_int(db, "PRAGMA user_version"), 3);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'task_changes'"), 0);
        sqlite3_close(db);
}

static void test_dry_open_of_a_missing_file_creates_nothing(void **state) {
        struct fixture *f = *state;
        struct store *dry = NULL;

        assert_int_equal(store_open(f->path, STORE_DRY, &dry), -ENOENT);
        assert_int_equal(access(f->path, F_OK), -1);
}

/* Should SQLite end the outer transaction on its own (it does on some
 * errors), nothing after it may commit: store_begin() refuses, and a
 * lone write is turned back by the commit hook. */
static void test_dry_store_never_commits_once_its_transaction_is_gone(void **state) {
        struct fixture *f = *state;
        struct store *dry = NULL;
        struct task t = { .title = "lạc", .due_at = NO_TIME, .status = TASK_OPEN };
        _cleanup_free_ char *v = NULL;

        assert_int_equal(store_open(f->path, STORE_DRY, &dry), 0);
        raw_exec(dry->db, "ROLLBACK");
        assert_int_equal(store_begin(dry), -EIO);
        assert_non_null(strstr(store_last_error(dry), "dry run"));
        assert_true(store_task_add(dry, &t, NOW) < 0);
        assert_true(store_meta_set(dry, "lost", "1") < 0);
        store_close(dry);
        assert_int_equal(raw_tasks(f->path), 0);
        assert_int_equal(store_meta_get(f->s, "lost", &v), -ENOENT);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
#define D(name) cmocka_unit_test_setup_teardown(name, fixture_dir_setup, fixture_teardown)
        const struct CMUnitTest tests[] = {
                T(test_dry_store_work_is_its_own_and_undone_at_close),
                T(test_dry_store_rollback_undoes_one_step),
                T(test_dry_store_holds_the_write_lock_until_close),
                T(test_dry_store_migrates_inside_and_leaves_the_version),
                D(test_dry_open_of_a_missing_file_creates_nothing),
                T(test_dry_store_never_commits_once_its_transaction_is_gone),
        };
#undef T
#undef D
        return cmocka_run_group_tests(tests, NULL, NULL);
}
