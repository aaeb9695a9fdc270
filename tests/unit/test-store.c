/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The store: opening, the schema and its migrations, transactions, locks,
 * documents and tasks. The scheduler's queries and the outbox are in
 * test-store-outbox.c. */
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "store-fixture.h"

/* Version 1 of the schema as it was released, written out here rather than
 * taken from the code, so that the migration is tested against what real
 * databases hold. */
static const char schema_v1[] =
        "CREATE TABLE documents (id INTEGER PRIMARY KEY, number TEXT NOT NULL UNIQUE,"
        "  subject TEXT, issued_on TEXT, issuer TEXT, signer TEXT, created_at INTEGER NOT NULL);"
        "CREATE TABLE tasks (id INTEGER PRIMARY KEY,"
        "  document_id INTEGER REFERENCES documents(id) ON DELETE SET NULL,"
        "  ref TEXT, title TEXT NOT NULL, detail TEXT, due TEXT, due_at INTEGER,"
        "  status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),"
        "  recurrence TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
        "  closed_at INTEGER, UNIQUE (document_id, ref));"
        "CREATE TABLE task_agencies (task_id INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,"
        "  agency TEXT NOT NULL, role TEXT NOT NULL CHECK (role IN ('lead', 'support')),"
        "  position INTEGER NOT NULL, PRIMARY KEY (task_id, agency));"
        "CREATE INDEX tasks_status_due ON tasks(status, due_at);";

static char *read_file(const char *path, size_t *ret_size) {
        char *buf = NULL;
        size_t size = 0;
        FILE *f = fopen(path, "re");

        assert_non_null(f);
        for (;;) {
                buf = realloc(buf, size + 4096);
                assert_non_null(buf);
                size_t k = fread(buf + size, 1, 4096, f);
                size += k;
                if (k < 4096)
                        break;
        }
        fclose(f);
        *ret_size = size;
        return buf;
}

static bool exists(const char *dir, const char *name) {
        char p[PATH_MAX + 64];

        snprintf(p, sizeof p, "%s/%s", dir, name);
        return access(p, F_OK) == 0;
}

static void test_create_makes_current_schema_in_wal_mode(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        char buf[32];
        sqlite3 *db;

        assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
        assert_int_equal(STORE_SCHEMA_VERSION, 14);

        db = raw_open(f->path);
        assert_int_equal(raw_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
        assert_string_equal(raw_text(db, "PRAGMA journal_mode", buf, sizeof buf), "wal");
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN "
                                     "('documents', 'tasks', 'task_agencies', 'deliveries')"), 4);
        sqlite3_close(db);
}

static void test_create_enforces_foreign_keys(void **state) {
        struct fixture *f = *state;
        struct task t = { .title = "x", .document_id = 4242, .due_at = NO_TIME };
        struct delivery d = { .task_id = 4242, .slot = "before:7d@1", .agency = "sxd",
                              .channel = "email", .role = ROLE_LEAD, .created_at = NOW };

        assert_int_equal(store_task_add(f->s, &t, NOW), -EINVAL);
        assert_int_equal(store_delivery_insert(f->s, &d), -EINVAL);
        assert_non_null(strcasestr(store_last_error(f->s), "foreign key"));
}

static void test_open_missing_file_without_create_is_enoent(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        struct store *s = NULL;

        assert_int_equal(store_open(f->path, 0, &s), -ENOENT);
        assert_int_equal(store_open(f->path, STORE_READONLY, &s), -ENOENT);
        assert_null(s);
        assert_false(exists(f->dir, "deadlined.db"));
}

static void test_open_garbage_is_ebadmsg_and_leaves_it_alone(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_free_ char *before = NULL, *after = NULL;
        size_t n_before, n_after;
        struct store *s = NULL;
        FILE *fp;

        fp = fopen(f->path, "we");
        assert_non_null(fp);
        for (int i = 0; i < 300; i++)
                fputs("Công văn số 2417/UBND-KTTH — this is not a database.\n", fp);
        fclose(fp);
        before = read_file(f->path, &n_before);

        assert_int_equal(store_open(f->path, STORE_CREATE, &s), -EBADMSG);
        assert_int_equal(store_open(f->path, STORE_READONLY, &s), -EBADMSG);
        assert_null(s);
        assert_true(strlen(store_last_error(NULL)) > 0);

        after = read_file(f->path, &n_after);
        assert_int_equal(n_after, n_before);
        assert_memory_equal(after, before, n_before);
        assert_false(exists(f->dir, "deadlined.db-wal"));
}

static void test_open_newer_schema_is_refused_unchanged(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_free_ char *before = NULL, *after = NULL;
        size_t n_before, n_after;
        struct store *s = NULL;
        sqlite3 *db;

        db = raw_open(f->path);
        raw_exec(db, "CREATE TABLE future (x); PRAGMA user_version = 99;");
        sqlite3_close(db);
        before = read_file(f->path, &n_before);

        assert_int_equal(store_open(f->path, 0, &s), -EPROTONOSUPPORT);
        assert_null(s);
        assert_string_equal(store_last_error(NULL),
                            "schema 99, this one knows 14");
        assert_int_equal(store_open(f->path, STORE_READONLY, &s), -EPROTONOSUPPORT);

        after = read_file(f->path, &n_after);
        assert_int_equal(n_after, n_before);
        assert_memory_equal(after, before, n_before);
}

static void test_open_unversioned_foreign_database_is_refused(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        struct store *s = NULL;
        sqlite3 *db;

        db = raw_open(f->path);
        raw_exec(db, "CREATE TABLE tasks (whatever);");
        sqlite3_close(db);

        assert_int_equal(store_open(f->path, 0, &s), -EBADMSG);
        assert_non_null(strstr(store_last_error(NULL), "not a deadlined database"));

        db = raw_open(f->path);
        assert_int_equal(raw_int(db, "PRAGMA user_version"), 0);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema"), 1);
        sqlite3_close(db);
}

/* What schema versions 13 to 7 changed, undone again (the deliveries'
 * task_id stays nullable, which version 8 takes as it is). */
#define UNDO_V13 "CREATE INDEX deliveries_task ON deliveries(task_id); "
#define UNDO_V12 UNDO_V13 "DROP TABLE inbox_messages; "
#define UNDO_V11 UNDO_V12 "ALTER TABLE tasks DROP COLUMN due_rule_days; ALTER TABLE tasks DROP COLUMN due_rule_from; "
#define UNDO_V10 UNDO_V11 "ALTER TABLE tasks DROP COLUMN revision; "
#define UNDO_V9 UNDO_V10                                                                 \
        "ALTER TABLE deliveries DROP COLUMN retried_at; ALTER TABLE deliveries DROP COLUMN retried_by; " \
        "ALTER TABLE deliveries DROP COLUMN retries; "
#define UNDO_V8 UNDO_V9 "DROP INDEX deliveries_untasked; ALTER TABLE task_agencies DROP COLUMN notice_at; "
#define UNDO_V7 UNDO_V8 "DROP INDEX completions_due; "
/* What schema version 6 added, taken away again: a database as version 5
 * left it (UNDO_V6_CHANGES too when the change log stays). */
#define UNDO_V6 UNDO_V8 "DROP TABLE completions; ALTER TABLE tasks DROP COLUMN original_due; "
#define UNDO_V6_CHANGES                                                         \
        "ALTER TABLE task_changes DROP COLUMN actor; ALTER TABLE task_changes DROP COLUMN approved_by; " \
        "ALTER TABLE task_changes DROP COLUMN reason; "

static void make_v1_database(const char *path) {
        sqlite3 *db = raw_open(path);

        raw_exec(db, schema_v1);
        raw_exec(db,
                 "INSERT INTO documents VALUES (1, '2417/UBND-KTTH', 'Triển khai', '2025-04-02',"
                 "  'UBND tỉnh', 'Nguyễn Văn A', 1743000000);"
                 "INSERT INTO tasks (id, document_id, ref, title, due, due_at, status, created_at,"
                 "  updated_at, closed_at) VALUES"
                 "  (1, 1, '1', 'Báo cáo quý', '2025-04-30', 1746032399, 'open', 1743000000, 1743000000, NULL),"
                 "  (2, 1, '2', 'Kiểm tra', '2025-03-31', 1743440399, 'done', 1743000000, 1743500000, 1743500000);"
                 "INSERT INTO task_agencies VALUES (1, 'sxd', 'lead', 0), (1, 'stc', 'support', 1),"
                 "  (2, 'scongthuong', 'lead', 0);"
                 "PRAGMA user_version = 1;");
        sqlite3_close(db);
}

static int64_t realtime_s(void) {
        struct timespec ts;
        assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
        return ts.tv_sec;
}

static void test_migrate_from_version_1(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_(task_done) struct task open = {}, done = {};
        /* SQLite's 'now' reads the clock gettimeofday() reads; time() reads a
         * coarser one that can lag it by a tick across a second boundary. */
        int64_t before = realtime_s(), after;
        sqlite3 *db;

        make_v1_database(f->path);
        assert_int_equal(store_open(f->path, 0, &f->s), 0);
        after = realtime_s();
        assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);

        assert_int_equal(store_task_get(f->s, 1, &open), 0);
        assert_string_equal(open.title, "Báo cáo quý");
        assert_string_equal(open.document_number, "2417/UBND-KTTH");
        assert_int_equal(open.due_at, 1746032399);
        assert_int_equal(open.n_agencies, 2);
        assert_string_equal(open.agencies[0].agency, "sxd");
        assert_int_equal(open.agencies[1].role, ROLE_SUPPORT);
        /* Looked at from the migration on, never for slots before it. */
        assert_true(open.next_fire_at >= before && open.next_fire_at <= after);
        assert_int_equal(open.fired_through, open.next_fire_at);

        assert_int_equal(store_task_get(f->s, 2, &done), 0);
        assert_int_equal(done.status, TASK_DONE);
        assert_int_equal(done.closed_at, 1743500000);
        assert_int_equal(done.next_fire_at, NO_TIME);
        assert_int_equal(done.n_agencies, 1);
        /* Version 7: a revision count, from 0 for the tasks already there. */
        assert_int_equal(open.revision, 0);
        assert_int_equal(done.revision, 0);

        db = raw_open(f->path);
        assert_int_equal(raw_int(db, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM deliveries"), 0);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM task_changes"), 0);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name IN "
                                     "('tasks_next_fire', 'deliveries_due')"), 2);
        /* Version 13: deliveries' task_id leads the UNIQUE key's index, and
         * has no index of its own. */
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'deliveries_task'"), 0);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM pragma_table_info('deliveries') "
                                     "WHERE name = 'delivered_to'"), 1);
        sqlite3_close(db);
}

/* Version 2 to 3 adds deliveries.delivered_to; the outbox is kept. */
static void test_migrate_from_version_2_keeps_the_outbox(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        int64_t task = add_task(f->s, "Báo cáo", NOW + 100, NULL, 0);
        struct delivery d = { .task_id = task, .slot = "before:1d@1", .agency = "stc", .channel = "email",
                              .next_attempt_at = NOW, .created_at = NOW, .sent_at = NO_TIME };
        sqlite3 *db;

        assert_int_equal(store_delivery_insert(f->s, &d), 1);
        f->s = store_close(f->s);
        db = raw_open(f->path);
        assert_int_equal(sqlite3_exec(db, UNDO_V6 "ALTER TABLE deliveries DROP COLUMN first_attempt_at; "
                                          "ALTER TABLE deliveries DROP COLUMN delivered_to; DROP TABLE task_changes; "
                                          "PRAGMA user_version = 2", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(db);

        assert_int_equal(store_open(f->path, 0, &f->s), 0);
        assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
        assert_int_equal(store_delivery_list_for_task(f->s, task, &l), 1);
        assert_int_equal(l.items[0].id, d.id);
        assert_null(l.items[0].delivered_to);
        assert_int_equal(store_delivery_set_delivered_to(f->s, d.id, "stc@sonha.gov.vn"), 0);
        delivery_list_done(&l);
        assert_int_equal(store_delivery_list_for_task(f->s, task, &l), 1);
        assert_string_equal(l.items[0].delivered_to, "stc@sonha.gov.vn");
}

/* Version 13 to 14 makes the deliveries table again with its state's CHECK
 * written as comparisons: every row kept with its id and values, the rule
 * still refusing a state it does not know. */
static void test_migrate_from_version_13_keeps_the_deliveries(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        const enum delivery_state states[] = { DELIVERY_PENDING, DELIVERY_ATTEMPTING, DELIVERY_SENT,
                                               DELIVERY_FAILED };
        int64_t task = add_task(f->s, "Báo cáo", NOW + 100, NULL, 0);
        struct delivery d[ELEMENTSOF(states)];
        sqlite3 *db;

        for (size_t i = 0; i < ELEMENTSOF(states); i++) {
                static char *const slots[] = { "before:3d@1", "before:2d@1", "before:1d@1", "before:0d@1" };
                d[i] = (struct delivery) { .task_id = task, .slot = slots[i], .agency = "stc", .channel = "email",
                                           .state = states[i], .attempts = (int) i, .next_attempt_at = NOW + i,
                                           .last_error = i == 3 ? "550 no such user" : NULL,
                                           .created_at = NOW, .sent_at = NO_TIME };
                assert_int_equal(store_delivery_insert(f->s, &d[i]), 1);
        }
        f->s = store_close(f->s);
        db = raw_open(f->path);
        raw_exec(db, "CREATE TABLE v13 (id INTEGER PRIMARY KEY, task_id INTEGER REFERENCES tasks(id) "
                     "ON DELETE CASCADE, slot TEXT NOT NULL, slot_at INTEGER NOT NULL, agency TEXT NOT NULL, "
                     "role TEXT, channel TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending' "
                     "CHECK (state IN ('pending', 'attempting', 'sent', 'failed')), "
                     "attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER, last_error TEXT, "
                     "created_at INTEGER NOT NULL, sent_at INTEGER, delivered_to TEXT, first_attempt_at INTEGER, "
                     "retried_at INTEGER, retried_by TEXT, retries INTEGER NOT NULL DEFAULT 0, "
                     "UNIQUE (task_id, slot, agency, channel)); "
                     "INSERT INTO v13 SELECT * FROM deliveries; DROP TABLE deliveries; "
                     "ALTER TABLE v13 RENAME TO deliveries; "
                     "CREATE UNIQUE INDEX deliveries_untasked ON deliveries(slot, agency, channel) "
                     "WHERE task_id IS NULL; "
                     "CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 'pending'; "
                     "PRAGMA user_version = 13");
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'deliveries' "
                                     "AND sql LIKE '%state IN (%'"), 1);
        sqlite3_close(db);

        assert_int_equal(store_open(f->path, 0, &f->s), 0);
        assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
        for (size_t i = 0; i < ELEMENTSOF(states); i++) {
                _cleanup_(delivery_done) struct delivery got = {};

                assert_int_equal(store_delivery_get(f->s, d[i].id, &got), 0);
                assert_int_equal(got.state, states[i]);
                assert_string_equal(got.slot, d[i].slot);
                assert_int_equal(got.attempts, (int) i);
                assert_int_equal(got.next_attempt_at, NOW + (int64_t) i);
                if (i == 3)
                        assert_string_equal(got.last_error, "550 no such user");
        }
        f->s = store_close(f->s);

        db = raw_open(f->path);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE name = 'deliveries' "
                                     "AND sql LIKE '%state IN (%'"), 0);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM sqlite_schema WHERE tbl_name = 'deliveries' "
                                     "AND name IN ('deliveries_untasked', 'deliveries_due')"), 2);
        assert_int_equal(sqlite3_exec(db, "UPDATE deliveries SET state = 'lost'", NULL, NULL, NULL),
                         SQLITE_CONSTRAINT);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM deliveries WHERE state = 'lost'"), 0);
        sqlite3_close(db);
}

/* Version 3 to 4 adds the change log, empty: where the values of tasks
 * that exist came from is not known. */
static void test_migrate_from_version_3_adds_an_empty_change_log(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_(task_change_list_done) struct task_change_list l = {};
        struct task_agency a[] = { { "stc", ROLE_LEAD, 0 } };
        int64_t task = add_task(f->s, "Báo cáo", NOW + 100, a, 1);
        struct task_change c = {};
        sqlite3 *db;

        f->s = store_close(f->s);
        db = raw_open(f->path);
        raw_exec(db, UNDO_V6 "ALTER TABLE deliveries DROP COLUMN first_attempt_at; DROP TABLE task_changes; "
                     "PRAGMA user_version = 3");
        sqlite3_close(db);

        assert_int_equal(store_open(f->path, 0, &f->s), 0);
        assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
        assert_int_equal(store_task_changes(f->s, task, &l), 0);
        assert_int_equal(store_task_change_last(f->s, task, TASK_FIELD_DUE, -1, &c), -ENOENT);
}

/* Version 4 to 5 adds deliveries.first_attempt_at: a row tried before
 * gets its creation time (where its age was counted from until then), an
 * untried one none. */
static void test_migrate_from_version_4_dates_first_attempts(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        int64_t task = add_task(f->s, "Báo cáo", NOW + 100, NULL, 0);
        struct delivery tried = { .task_id = task, .slot = "before:1d@1", .agency = "stc", .channel = "email",
                                  .attempts = 2, .next_attempt_at = NOW + 600, .created_at = NOW - 3600,
                                  .sent_at = NO_TIME };
        struct delivery fresh = { .task_id = task, .slot = "before:0d@1", .agency = "stc", .channel = "email",
                                  .next_attempt_at = NOW, .created_at = NOW, .sent_at = NO_TIME };
        sqlite3 *db;

        assert_int_equal(store_delivery_insert(f->s, &tried), 1);
        assert_int_equal(store_delivery_insert(f->s, &fresh), 1);
        f->s = store_close(f->s);
        db = raw_open(f->path);
        raw_exec(db, UNDO_V6 UNDO_V6_CHANGES "ALTER TABLE deliveries DROP COLUMN first_attempt_at; "
                     "PRAGMA user_version = 4");
        sqlite3_close(db);

        assert_int_equal(store_open(f->path, 0, &f->s), 0);
        assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
        assert_int_equal(store_delivery_list_for_task(f->s, task, &l), 2);
        for (size_t i = 0; i < l.n; i++)
                if (l.items[i].id == tried.id)
                        assert_int_equal(l.items[i].first_attempt_at, NOW - 3600);
                else
                        assert_int_equal(l.items[i].first_attempt_at, NO_TIME);
}

/* Version 5 to 6 keeps every task, change and delivery: a task gets its
 * original deadline (the value before its first logged change, or its
 * deadline), the log's old entries no user or document, and a task done
 * already one completion, from when it was closed. */
static void test_migrate_from_version_5_keeps_the_data_and_dates_the_history(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_(task_completion_list_done) struct task_completion_list done_l = {}, open_l = {};
        _cleanup_(task_change_list_done) struct task_change_list log = {};
        _cleanup_(task_done) struct task moved = {}, done = {};
        struct task_agency a[] = { { "stc", ROLE_LEAD, 0 } };
        struct task t1 = { .title = "Dời hạn", .due = "2025-05-15", .due_at = NOW + 100, .status = TASK_OPEN,
                           .agencies = a, .n_agencies = 1 };
        struct task t2 = { .title = "Giữ hạn", .due = "2025-05-20", .due_at = NOW + 200, .status = TASK_OPEN,
                           .agencies = a, .n_agencies = 1 };
        struct task_change how = { .at = NOW, .source = CHANGE_PERSON, .note = "deadlinectl edit" };
        sqlite3 *db;

        assert_int_equal(store_task_add(f->s, &t1, NOW), 0);
        assert_int_equal(store_task_add(f->s, &t2, NOW), 0);
        assert_int_equal(store_task_changes_record(f->s, NULL, &t1, &how), 7);
        moved = (struct task) {};
        assert_int_equal(store_task_get(f->s, t1.id, &moved), 0);
        free(moved.due);
        moved.due = strdup("2025-06-30");
        assert_int_equal(store_task_update(f->s, &moved, NOW + 10), 0);
        assert_int_equal(store_task_changes_record(f->s, &t1, &moved, &how), 1);
        assert_int_equal(store_task_set_status(f->s, t2.id, TASK_DONE, NOW + 50), 0);
        task_done(&moved);
        f->s = store_close(f->s);

        db = raw_open(f->path);
        raw_exec(db, UNDO_V6 UNDO_V6_CHANGES "PRAGMA user_version = 5");
        sqlite3_close(db);

        assert_int_equal(store_open(f->path, 0, &f->s), 0);
        assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
        assert_int_equal(store_task_get(f->s, t1.id, &moved), 0);
        assert_string_equal(moved.due, "2025-06-30");
        assert_string_equal(moved.original_due, "2025-05-15");
        assert_int_equal(store_task_get(f->s, t2.id, &done), 0);
        assert_string_equal(done.original_due, "2025-05-20");
        assert_int_equal(store_task_changes(f->s, t1.id, &log), 8);
        assert_string_equal(log.items[7].new_value, "2025-06-30");
        assert_null(log.items[7].actor);
        assert_null(log.items[7].approved_by);

        assert_int_equal(store_task_completions(f->s, t1.id, &open_l), 0);
        assert_int_equal(store_task_completions(f->s, t2.id, &done_l), 1);
        assert_string_equal(done_l.items[0].due, "2025-05-20");
        assert_int_equal(done_l.items[0].due_at, NOW + 200);
        assert_int_equal(done_l.items[0].done_at, NOW + 50);
        assert_null(done_l.items[0].done_on);
        assert_null(done_l.items[0].note);
        assert_int_equal(done_l.items[0].reopened_at, NO_TIME);
}

/* Version 11 adds the due rule: a version 10 database keeps its tasks,
 * which have none. */
static void test_migrate_from_version_10(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_(task_done) struct task got = {};
        struct task t = { .title = "Báo cáo", .due = "2025-05-15", .due_at = NOW + 100 };
        sqlite3 *db;

        assert_int_equal(store_open(f->path, STORE_CREATE, &f->s), 0);
        assert_int_equal(store_task_add(f->s, &t, NOW), 0);
        f->s = store_close(f->s);
        db = raw_open(f->path);
        raw_exec(db, UNDO_V11 "PRAGMA user_version = 10");
        sqlite3_close(db);

        assert_int_equal(store_open(f->path, 0, &f->s), 0);
        assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
        assert_int_equal(store_task_get(f->s, t.id, &got), 0);
        assert_string_equal(got.title, "Báo cáo");
        assert_string_equal(got.due, "2025-05-15");
        assert_int_equal(got.due_rule_days, 0);
        assert_null(got.due_rule_from);
}

/* Completions come back in order with what they were recorded with;
 * reopening marks the latest one, and the history stays. */
static void test_task_completions(void **state) {
        struct fixture *f = *state;
        _cleanup_(task_completion_list_done) struct task_completion_list l = {};
        int64_t task = add_task(f->s, "Báo cáo tháng", NOW + 100, NULL, 0);
        struct task_completion first = { .task_id = task, .due = "2025-05-25", .due_at = NOW + 100,
                                         .done_on = "2025-05-24", .done_at = NOW + 50,
                                         .note = "Báo cáo số 45/BC-STC", .recorded_at = NOW + 60, .actor = "alice" };
        struct task_completion second = { .task_id = task, .due = "2025-06-25", .due_at = NOW + 200,
                                          .done_at = NOW + 300, .recorded_at = NOW + 300 };
        struct task_completion bad = { .task_id = 999, .done_at = NOW, .recorded_at = NOW };

        assert_int_equal(store_task_completion_add(f->s, &first), 0);
        assert_int_equal(store_task_completion_add(f->s, &second), 0);
        assert_true(second.id > first.id);
        assert_int_equal(store_task_completion_add(f->s, &bad), -EINVAL);
        assert_int_equal(store_task_completion_reopened(f->s, task, NOW + 400), 1);
        assert_int_equal(store_task_completions(f->s, task, &l), 2);
        assert_string_equal(l.items[0].due, "2025-05-25");
        assert_string_equal(l.items[0].done_on, "2025-05-24");
        assert_int_equal(l.items[0].done_at, NOW + 50);
        assert_string_equal(l.items[0].note, "Báo cáo số 45/BC-STC");
        assert_int_equal(l.items[0].recorded_at, NOW + 60);
        assert_string_equal(l.items[0].actor, "alice");
        assert_int_equal(l.items[0].reopened_at, NO_TIME);
        assert_null(l.items[1].done_on);
        assert_int_equal(l.items[1].reopened_at, NOW + 400);
        /* Each reopening marks one more; none left: nothing to mark. */
        assert_int_equal(store_task_completion_reopened(f->s, task, NOW + 500), 1);
        assert_int_equal(store_task_completion_reopened(f->s, task, NOW + 600), 0);
}

/* The change log keeps, per field, the value before and after and who
 * changed it; a task's entries come oldest first and go with it. */
static void test_task_change_log(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_(task_change_list_done) struct task_change_list l = {};
        _cleanup_(task_change_done) struct task_change last = {};
        _cleanup_(task_done) struct task before = {}, after = {};
        struct task_agency a[] = { { "stc", ROLE_LEAD, 0 }, { "skhdt", ROLE_SUPPORT, 0 }, { "kbnn", ROLE_SUPPORT, 0 } };
        struct task t = { .title = "Báo cáo", .due = "2025-05-15", .due_at = NOW + 100, .status = TASK_OPEN,
                          .ref = "1", .agencies = a, .n_agencies = 3 };
        sqlite3 *db;

        assert_int_equal(store_task_add(f->s, &t, NOW), 0);
        /* A new task: every field, without an old value. */
        assert_int_equal(store_task_changes_record(f->s, NULL, &t,
                                                   &(struct task_change) { .at = NOW, .source = CHANGE_IMPORT,
                                                                           .note = "import 2417/UBND-KTTH" }), 7);
        assert_int_equal(store_task_get(f->s, t.id, &before), 0);
        assert_int_equal(store_task_get(f->s, t.id, &after), 0);
        free(after.due);
        after.due = strdup("2025-06-30");
        after.status = TASK_DONE;
        after.agencies[0].role = ROLE_SUPPORT;
        after.agencies[1].role = ROLE_LEAD;
        assert_int_equal(store_task_changes_record(f->s, &before, &after,
                                                   &(struct task_change) { .at = NOW + 60, .source = CHANGE_PERSON,
                                                                           .note = "deadlinectl extend",
                                                                           .actor = "alice",
                                                                           .approved_by = "Công văn số 123/UBND-KTTH",
                                                                           .reason = "chờ số liệu" }), 3);
        /* Nothing differs: nothing logged. */
        assert_int_equal(store_task_changes_record(f->s, &after, &after,
                                                   &(struct task_change) { .at = NOW + 70, .source = CHANGE_PERSON }),
                         0);

        assert_int_equal(store_task_changes(f->s, t.id, &l), 10);
        assert_int_equal(l.items[0].field, TASK_FIELD_STATUS);
        assert_null(l.items[0].old_value);
        assert_string_equal(l.items[0].new_value, "open");
        assert_int_equal(l.items[0].source, CHANGE_IMPORT);
        assert_string_equal(l.items[0].note, "import 2417/UBND-KTTH");
        assert_int_equal(l.items[0].at, NOW);
        assert_int_equal(l.items[4].field, TASK_FIELD_AGENCIES);
        assert_string_equal(l.items[4].new_value, "lead stc; support skhdt,kbnn");
        assert_int_equal(l.items[7].field, TASK_FIELD_STATUS);
        assert_string_equal(l.items[7].old_value, "open");
        assert_string_equal(l.items[7].new_value, "done");
        assert_int_equal(l.items[8].field, TASK_FIELD_DUE);
        assert_string_equal(l.items[8].old_value, "2025-05-15");
        assert_string_equal(l.items[8].new_value, "2025-06-30");
        assert_int_equal(l.items[8].source, CHANGE_PERSON);
        assert_int_equal(l.items[8].at, NOW + 60);
        assert_string_equal(l.items[8].actor, "alice");
        assert_string_equal(l.items[8].approved_by, "Công văn số 123/UBND-KTTH");
        assert_string_equal(l.items[8].reason, "chờ số liệu");
        assert_null(l.items[0].actor);
        assert_null(l.items[0].approved_by);
        assert_string_equal(l.items[9].old_value, "lead stc; support skhdt,kbnn");
        assert_string_equal(l.items[9].new_value, "lead skhdt; support stc,kbnn");

        assert_int_equal(store_task_change_last(f->s, t.id, TASK_FIELD_DUE, -1, &last), 0);
        assert_int_equal(last.source, CHANGE_PERSON);
        assert_string_equal(last.new_value, "2025-06-30");
        task_change_done(&last);
        assert_int_equal(store_task_change_last(f->s, t.id, TASK_FIELD_DUE, CHANGE_IMPORT, &last), 0);
        assert_string_equal(last.new_value, "2025-05-15");
        task_change_done(&last);
        assert_int_equal(store_task_change_last(f->s, t.id, TASK_FIELD_TITLE, CHANGE_PERSON, &last), -ENOENT);
        assert_int_equal(store_task_change_last(f->s, t.id, _TASK_FIELD_MAX, -1, &last), -EINVAL);

        struct task_change bad = { .task_id = 999, .field = TASK_FIELD_DUE, .source = CHANGE_PERSON };
        assert_int_equal(store_task_change_add(f->s, &bad), -EINVAL);
        bad.task_id = t.id, bad.source = _CHANGE_SOURCE_MAX;
        assert_int_equal(store_task_change_add(f->s, &bad), -EINVAL);

        db = raw_open(f->path);
        raw_exec(db, "PRAGMA foreign_keys = ON; DELETE FROM tasks");
        assert_int_equal(raw_int(db, "SELECT count(*) FROM task_changes"), 0);
        sqlite3_close(db);
}

/* A claim reads its tasks at once: those that exist, by id, each once,
 * with their agencies in order. */
static void test_tasks_get_reads_many_at_once(void **state) {
        struct fixture *f = *state;
        _cleanup_(task_list_done) struct task_list l = {}, none = {};
        struct task_agency two[] = { { "sxd", ROLE_LEAD, 0 }, { "stc", ROLE_SUPPORT, 0 } };
        struct task_agency one[] = { { "skhdt", ROLE_LEAD, 0 } };

        int64_t a = add_task(f->s, "Việc A", NOW, two, 2);
        int64_t b = add_task(f->s, "Việc B", NOW, one, 1);
        int64_t ids[] = { b, 999, a, b };

        assert_int_equal(store_tasks_get(f->s, ids, ELEMENTSOF(ids), &l), 2);
        assert_int_equal(l.tasks[0].id, a);
        assert_string_equal(l.tasks[0].title, "Việc A");
        assert_int_equal(l.tasks[0].n_agencies, 2);
        assert_string_equal(l.tasks[0].agencies[1].agency, "stc");
        assert_int_equal(l.tasks[0].agencies[1].role, ROLE_SUPPORT);
        assert_int_equal(l.tasks[1].id, b);
        assert_int_equal(l.tasks[1].n_agencies, 1);
        assert_string_equal(l.tasks[1].agencies[0].agency, "skhdt");
        assert_int_equal(store_tasks_get(f->s, ids + 1, 1, &none), 0);
}

/* A reschedule goes a slice at a time, open tasks only, in id order. */
static void test_reschedule_in_slices(void **state) {
        struct fixture *f = *state;
        _cleanup_(task_done) struct task closed = {}, open = {};
        int64_t ids[5], last = -1;

        for (size_t i = 0; i < ELEMENTSOF(ids); i++)
                ids[i] = add_task(f->s, "Việc", NOW + 86400, NULL, 0);
        assert_int_equal(store_task_set_status(f->s, ids[1], TASK_DONE, NOW), 0);

        assert_int_equal(store_tasks_reschedule(f->s, NOW + 5, 0, 2, &last), 2);
        assert_int_equal(last, ids[2]);
        assert_int_equal(store_tasks_reschedule(f->s, NOW + 5, last, 2, &last), 2);
        assert_int_equal(last, ids[4]);
        assert_int_equal(store_tasks_reschedule(f->s, NOW + 5, last, 2, &last), 0);
        assert_int_equal(last, ids[4]);

        assert_int_equal(store_task_get(f->s, ids[3], &open), 0);
        assert_int_equal(open.next_fire_at, NOW + 5);
        assert_int_equal(store_task_get(f->s, ids[1], &closed), 0);
        assert_int_equal(closed.next_fire_at, NO_TIME);
        /* 0: all at once. */
        assert_int_equal(store_tasks_reschedule(f->s, NOW + 9, 0, 0, NULL), 4);
}

static void test_readonly_open_reads_but_does_not_write(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_(task_done) struct task t = {};
        struct task n = { .title = "new", .due_at = NO_TIME };
        struct store *ro = NULL;
        int64_t id;

        id = add_task(f->s, "Báo cáo", NOW + 100, NULL, 0);
        assert_int_equal(store_open(f->path, STORE_READONLY, &ro), 0);
        assert_int_equal(store_task_get(ro, id, &t), 0);
        assert_string_equal(t.title, "Báo cáo");
        assert_int_equal(store_task_add(ro, &n, NOW), -EROFS);
        store_close(ro);
}

static void test_readonly_open_of_old_schema_is_erofs(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        struct store *s = NULL;
        sqlite3 *db;

        make_v1_database(f->path);
        assert_int_equal(store_open(f->path, STORE_READONLY, &s), -EROFS);
        assert_non_null(strstr(store_last_error(NULL), "read-only"));
        db = raw_open(f->path);
        assert_int_equal(raw_int(db, "PRAGMA user_version"), 1);
        sqlite3_close(db);
}

static void test_begin_is_ebusy_while_another_process_holds_the_lock(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        sqlite3 *db = raw_open(f->path);

        raw_exec(db, "BEGIN EXCLUSIVE");
        assert_int_equal(store_set_busy_timeout(f->s, 50), 0);
        assert_int_equal(store_begin(f->s), -EBUSY);
        assert_non_null(strstr(store_last_error(f->s), "locked"));

        raw_exec(db, "COMMIT");
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_rollback(f->s), 0);
        sqlite3_close(db);
}

static void test_rollback_leaves_no_trace(void **state) {
        struct fixture *f = *state;
        _cleanup_(task_list_done) struct task_list l = {};
        struct task_agency a[] = { { "sxd", ROLE_LEAD, 0 } };
        struct document d = { .number = "1/QĐ-UBND" };

        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_document_upsert(f->s, &d), 0);
        add_task(f->s, "Tạm", NOW, a, 1);
        assert_int_equal(store_rollback(f->s), 0);

        assert_int_equal(store_task_list(f->s, NULL, &l), 0);
        assert_int_equal(store_document_get(f->s, "1/QĐ-UBND", &d), -ENOENT);
}

static void test_rollback_without_transaction_is_harmless(void **state) {
        struct fixture *f = *state;

        assert_int_equal(store_rollback(f->s), 0);
        assert_int_equal(store_begin(f->s), 0);
        assert_int_equal(store_commit(f->s), 0);
        assert_int_equal(store_rollback(f->s), 0);
}

static void test_commit_keeps_the_work(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        sqlite3 *db;

        assert_int_equal(store_begin(f->s), 0);
        add_task(f->s, "a", NOW, NULL, 0);
        add_task(f->s, "b", NOW, NULL, 0);
        assert_int_equal(store_commit(f->s), 0);

        db = raw_open(f->path);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM tasks"), 2);
        sqlite3_close(db);
}

static void test_document_upsert_updates_the_same_number(void **state) {
        struct fixture *f = *state;
        _cleanup_(document_done) struct document got = {};
        struct document d = { .number = "2417/UBND-KTTH", .subject = "cũ", .issuer = "UBND" };
        struct document e = { .number = "2417/UBND-KTTH", .subject = "mới", .issued_on = "2025-04-02" };
        struct document other = { .number = "9/KH-UBND" };

        assert_int_equal(store_document_upsert(f->s, &d), 0);
        assert_int_equal(store_document_upsert(f->s, &e), 0);
        assert_int_equal(store_document_upsert(f->s, &other), 0);
        assert_int_equal(e.id, d.id);
        assert_true(other.id != d.id);

        assert_int_equal(store_document_get(f->s, "2417/UBND-KTTH", &got), 0);
        assert_int_equal(got.id, d.id);
        assert_string_equal(got.subject, "mới");
        assert_string_equal(got.issued_on, "2025-04-02");
        assert_null(got.issuer);
        assert_null(got.signer);
}

static void test_document_get_missing_is_enoent(void **state) {
        struct fixture *f = *state;
        struct document d = {};

        assert_int_equal(store_document_get(f->s, "404/UBND", &d), -ENOENT);
        assert_null(d.number);
}

static void test_task_add_and_get_round_trip(void **state) {
        struct fixture *f = *state;
        _cleanup_(task_done) struct task got = {};
        struct document d = { .number = "2417/UBND-KTTH" };
        struct task_agency a[] = {
                { "stc", ROLE_SUPPORT, 0 }, { "sxd", ROLE_LEAD, 0 }, { "snn", ROLE_SUPPORT, 0 }, { "skhdt", ROLE_LEAD, 0 },
        };
        struct task t = {
                .ref = "5.c", .title = "Rà soát quy hoạch", .detail = "Chi tiết\ntừng bước",
                .due = "2025-04-30", .due_at = 1746032399, .status = TASK_OPEN,
                .recurrence = "monthly:25", .agencies = a, .n_agencies = ELEMENTSOF(a),
        };

        assert_int_equal(store_document_upsert(f->s, &d), 0);
        t.document_id = d.id;
        assert_int_equal(store_task_add(f->s, &t, NOW), 0);
        assert_int_equal(t.created_at, NOW);
        assert_int_equal(t.next_fire_at, NOW);

        assert_int_equal(store_task_get(f->s, t.id, &got), 0);
        assert_int_equal(got.id, t.id);
        assert_int_equal(got.document_id, d.id);
        assert_string_equal(got.document_number, "2417/UBND-KTTH");
        assert_string_equal(got.ref, "5.c");
        assert_string_equal(got.title, "Rà soát quy hoạch");
        assert_string_equal(got.detail, "Chi tiết\ntừng bước");
        assert_string_equal(got.due, "2025-04-30");
        assert_int_equal(got.due_at, 1746032399);
        assert_int_equal(got.status, TASK_OPEN);
        assert_string_equal(got.recurrence, "monthly:25");
        assert_int_equal(got.created_at, NOW);
        assert_int_equal(got.updated_at, NOW);
        assert_int_equal(got.closed_at, NO_TIME);
        assert_int_equal(got.next_fire_at, NOW);
        assert_int_equal(got.fired_through, NOW);

        /* Leads first, then supports, each in the order given. */
        assert_int_equal(got.n_agencies, 4);
        assert_string_equal(got.agencies[0].agency, "sxd");
        assert_string_equal(got.agencies[1].agency, "skhdt");
        assert_string_equal(got.agencies[2].agency, "stc");
        assert_string_equal(got.agencies[3].agency, "snn");
        assert_int_equal(got.agencies[1].role, ROLE_LEAD);
        assert_int_equal(got.agencies[2].role, ROLE_SUPPORT);
}

static void test_task_without_deadline_or_document_stores_null(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_(task_done) struct task got = {};
        int64_t id = add_task(f->s, "Thường xuyên", NO_TIME, NULL, 0);
        sqlite3 *db;

        assert_int_equal(store_task_get(f->s, id, &got), 0);
        assert_int_equal(got.due_at, NO_TIME);
        assert_int_equal(got.document_id, 0);
        assert_null(got.document_number);
        assert_null(got.due);
        assert_null(got.ref);
        assert_int_equal(got.n_agencies, 0);

        db = raw_open(f->path);
        assert_int_equal(raw_int(db, "SELECT count(*) FROM tasks WHERE due_at IS NULL AND "
                                     "document_id IS NULL AND closed_at IS NULL"), 1);
        sqlite3_close(db);
}

static void test_task_add_refuses_bad_input(void **state) {
        struct fixture *f = *state;
        struct task_agency dup[] = { { "sxd", ROLE_LEAD, 0 }, { "sxd", ROLE_SUPPORT, 0 } };
        struct task_agency bad[] = { { "sxd", 7, 0 } };
        struct task t = { .due_at = NO_TIME };

        assert_int_equal(store_task_add(f->s, &t, NOW), -EINVAL);      /* no title */
        t.title = "x";
        t.status = 9;
        assert_int_equal(store_task_add(f->s, &t, NOW), -EINVAL);
        t.status = TASK_OPEN;
        t.agencies = bad, t.n_agencies = 1;
        assert_int_equal(store_task_add(f->s, &t, NOW), -EINVAL);
        t.n_agencies = TASK_AGENCIES_MAX + 1;
        assert_int_equal(store_task_add(f->s, &t, NOW), -E2BIG);
        t.agencies = dup, t.n_agencies = 2;
        assert_int_equal(store_task_add(f->s, &t, NOW), -EEXIST);
}

static void test_task_get_missing_is_enoent(void **state) {
        struct fixture *f = *state;
        struct task t = {};

        assert_int_equal(store_task_get(f->s, 77, &t), -ENOENT);
        assert_null(t.title);
}

static void test_task_update_replaces_fields_and_agencies(void **state) {
        struct fixture *f = *state;
        _cleanup_(task_done) struct task got = {};
        struct task_agency a[] = { { "sxd", ROLE_LEAD, 0 }, { "stc", ROLE_SUPPORT, 0 } };
        struct task_agency b[] = { { "snn", ROLE_SUPPORT, 0 }, { "stc", ROLE_LEAD, 0 } };
        struct task t = { .title = "Cũ", .due = "2025-04-30", .due_at = 1746032399, .agencies = a,
                          .n_agencies = 2 };

        assert_int_equal(store_task_add(f->s, &t, NOW), 0);
        t = (struct task) { .id = t.id, .title = "Mới", .ref = "2", .detail = "d", .due = NULL,
                            .due_at = NO_TIME, .recurrence = "weekly:mon", .agencies = b, .n_agencies = 2 };
        assert_int_equal(store_task_update(f->s, &t, NOW + 60), 0);

        assert_int_equal(store_task_get(f->s, t.id, &got), 0);
        assert_string_equal(got.title, "Mới");
        assert_string_equal(got.ref, "2");
        assert_string_equal(got.detail, "d");
        assert_null(got.due);
        assert_int_equal(got.due_at, NO_TIME);
        assert_string_equal(got.recurrence, "weekly:mon");
        assert_int_equal(got.created_at, NOW);
        assert_int_equal(got.updated_at, NOW + 60);
        assert_int_equal(got.next_fire_at, NOW + 60);
        assert_int_equal(got.fired_through, NOW + 60);
        assert_int_equal(got.revision, 1);
        assert_int_equal(got.n_agencies, 2);
        assert_string_equal(got.agencies[0].agency, "stc");
        assert_int_equal(got.agencies[0].role, ROLE_LEAD);
        assert_string_equal(got.agencies[1].agency, "snn");

        /* A status change is a revision too. */
        assert_int_equal(store_task_set_status(f->s, t.id, TASK_DONE, NOW + 70), 0);
        assert_int_equal(store_task_set_status(f->s, t.id, TASK_OPEN, NOW + 80), 0);
        task_done(&got);
        assert_int_equal(store_task_get(f->s, t.id, &got), 0);
        assert_int_equal(got.revision, 3);

        t.id = 999;
        assert_int_equal(store_task_update(f->s, &t, NOW), -ENOENT);
}

/* A deadline counted in working days is stored with its rule, which an
 * update replaces or clears; half a rule is refused. */
static void test_task_due_rule(void **state) {
        struct fixture *f = *state;
        _cleanup_(task_done) struct task got = {};
        struct task t = { .title = "Rà soát", .due = "2025-04-02", .due_at = 1743613199, .due_rule_days = 15,
                          .due_rule_from = "2025-03-12" };

        assert_int_equal(store_task_add(f->s, &t, NOW), 0);
        assert_int_equal(store_task_get(f->s, t.id, &got), 0);
        assert_int_equal(got.due_rule_days, 15);
        assert_string_equal(got.due_rule_from, "2025-03-12");

        t.due = "2025-04-10", t.due_rule_days = 0, t.due_rule_from = NULL;
        assert_int_equal(store_task_update(f->s, &t, NOW + 60), 0);
        task_done(&got);
        assert_int_equal(store_task_get(f->s, t.id, &got), 0);
        assert_int_equal(got.due_rule_days, 0);
        assert_null(got.due_rule_from);

        t.due_rule_days = 3;
        assert_int_equal(store_task_update(f->s, &t, NOW + 60), -EINVAL);
        t.due_rule_days = 0, t.due_rule_from = "2025-03-12";
        assert_int_equal(store_task_add(f->s, &t, NOW), -EINVAL);
}

static void test_task_update_of_closed_task_does_not_schedule_it(void **state) {
        struct fixture *f = *state;
        _cleanup_(task_done) struct task got = {};
        struct task t = { .title = "x", .due_at = NO_TIME };

        assert_int_equal(store_task_add(f->s, &t, NOW), 0);
        assert_int_equal(store_task_set_status(f->s, t.id, TASK_DONE, NOW + 1), 0);
        t.title = "y";
        assert_int_equal(store_task_update(f->s, &t, NOW + 2), 0);
        assert_int_equal(store_task_get(f->s, t.id, &got), 0);
        assert_string_equal(got.title, "y");
        assert_int_equal(got.status, TASK_DONE);
        assert_int_equal(got.next_fire_at, NO_TIME);
}

static void test_task_status_transitions(void **state) {
        struct fixture *f = *state;
        struct task t = {};
        int64_t id = add_task(f->s, "x", NOW + 1000, NULL, 0);

        assert_int_equal(store_task_set_status(f->s, id, TASK_OPEN, NOW), -EALREADY);

        assert_int_equal(store_task_set_status(f->s, id, TASK_DONE, NOW + 10), 0);
        assert_int_equal(store_task_get(f->s, id, &t), 0);
        assert_int_equal(t.status, TASK_DONE);
        assert_int_equal(t.closed_at, NOW + 10);
        assert_int_equal(t.next_fire_at, NO_TIME);
        task_done(&t);
        assert_int_equal(store_task_set_status(f->s, id, TASK_DONE, NOW + 11), -EALREADY);

        assert_int_equal(store_task_set_status(f->s, id, TASK_OPEN, NOW + 20), 0);
        assert_int_equal(store_task_get(f->s, id, &t), 0);
        assert_int_equal(t.status, TASK_OPEN);
        assert_int_equal(t.closed_at, NO_TIME);
        assert_int_equal(t.next_fire_at, NOW + 20);
        assert_int_equal(t.fired_through, NOW + 20);
        task_done(&t);

        assert_int_equal(store_task_set_status(f->s, id, TASK_CANCELLED, NOW + 30), 0);
        assert_int_equal(store_task_get(f->s, id, &t), 0);
        assert_int_equal(t.status, TASK_CANCELLED);
        assert_int_equal(t.closed_at, NOW + 30);
        assert_int_equal(t.updated_at, NOW + 30);
        task_done(&t);

        assert_int_equal(store_task_set_status(f->s, 999, TASK_DONE, NOW), -ENOENT);
        assert_int_equal(store_task_set_status(f->s, id, 5, NOW), -EINVAL);
}

static void test_task_find_ref(void **state) {
        struct fixture *f = *state;
        struct document d = { .number = "2417/UBND-KTTH" };
        struct task t = { .title = "x", .ref = "5.c", .due_at = NO_TIME };
        int64_t id = 0;

        assert_int_equal(store_document_upsert(f->s, &d), 0);
        t.document_id = d.id;
        assert_int_equal(store_task_add(f->s, &t, NOW), 0);

        assert_int_equal(store_task_find_ref(f->s, d.id, "5.c", &id), 0);
        assert_int_equal(id, t.id);
        assert_int_equal(store_task_find_ref(f->s, d.id, "5.d", &id), -ENOENT);
        assert_int_equal(store_task_find_ref(f->s, 0, "5.c", &id), -ENOENT);
}

static void test_task_ref_is_unique_within_a_document(void **state) {
        struct fixture *f = *state;
        struct document d = { .number = "1/UBND" }, e = { .number = "2/UBND" };
        struct task t = { .title = "x", .ref = "1", .due_at = NO_TIME };

        assert_int_equal(store_document_upsert(f->s, &d), 0);
        assert_int_equal(store_document_upsert(f->s, &e), 0);
        t.document_id = d.id;
        assert_int_equal(store_task_add(f->s, &t, NOW), 0);
        assert_int_equal(store_task_add(f->s, &t, NOW), -EEXIST);
        assert_non_null(strcasestr(store_last_error(f->s), "unique"));
        t.document_id = e.id;
        assert_int_equal(store_task_add(f->s, &t, NOW), 0);
}

static void assert_list_ids(struct store *s, const struct task_filter *filter,
                            const int64_t *ids, size_t n) {
        _cleanup_(task_list_done) struct task_list l = {};

        assert_int_equal(store_task_list(s, filter, &l), (int) n);
        assert_int_equal(l.n, n);
        for (size_t i = 0; i < n; i++)
                assert_int_equal(l.tasks[i].id, ids[i]);
}

static void test_task_list_sorts_by_due_with_no_deadline_last(void **state) {
        struct fixture *f = *state;
        int64_t a = add_task(f->s, "a", NOW + 300, NULL, 0);
        int64_t b = add_task(f->s, "b", NO_TIME, NULL, 0);
        int64_t c = add_task(f->s, "c", NOW + 100, NULL, 0);
        int64_t d = add_task(f->s, "d", NOW + 200, NULL, 0);
        int64_t e = add_task(f->s, "e", NO_TIME, NULL, 0);
        int64_t g = add_task(f->s, "g", NOW + 100, NULL, 0);

        assert_list_ids(f->s, NULL, (int64_t[]) { c, g, d, a, b, e }, 6);
}

static void test_task_list_filters(void **state) {
        struct fixture *f = *state;
        struct document doc = { .number = "2417/UBND-KTTH" };
        struct task_filter filter;
        struct task t = { .title = "in doc", .due_at = NOW + 500 };
        int64_t a, b, c, d;

        a = add_task(f->s, "a", NOW + 100, (struct task_agency[]) { { "sxd", ROLE_LEAD, 0 } }, 1);
        b = add_task(f->s, "b", NOW + 200,
                     (struct task_agency[]) { { "stc", ROLE_LEAD, 0 }, { "sxd", ROLE_SUPPORT, 0 } }, 2);
        c = add_task(f->s, "c", NO_TIME, (struct task_agency[]) { { "snn", ROLE_LEAD, 0 } }, 1);
        assert_int_equal(store_document_upsert(f->s, &doc), 0);
        t.document_id = doc.id;
        assert_int_equal(store_task_add(f->s, &t, NOW), 0);
        d = t.id;
        assert_int_equal(store_task_set_status(f->s, b, TASK_DONE, NOW), 0);

        filter = TASK_FILTER_INIT;
        filter.status = TASK_OPEN;
        assert_list_ids(f->s, &filter, (int64_t[]) { a, d, c }, 3);
        filter.status = TASK_DONE;
        assert_list_ids(f->s, &filter, (int64_t[]) { b }, 1);

        /* Any of the agencies, in either role. */
        filter = TASK_FILTER_INIT;
        filter.agencies = (char *[]) { "sxd", NULL };
        assert_list_ids(f->s, &filter, (int64_t[]) { a, b }, 2);
        filter.agencies = (char *[]) { "snn", "stc", "nobody", NULL };
        assert_list_ids(f->s, &filter, (int64_t[]) { b, c }, 2);
        filter.agencies = (char *[]) { "s\"x\\d", NULL };
        assert_list_ids(f->s, &filter, NULL, 0);
        filter.agencies = (char *[]) { NULL };
        assert_list_ids(f->s, &filter, NULL, 0);

        /* Due at or before the bound; no deadline is never due. */
        filter = TASK_FILTER_INIT;
        filter.due_before = NOW + 200;
        assert_list_ids(f->s, &filter, (int64_t[]) { a, b }, 2);
        filter.due_before = NOW + 199;
        assert_list_ids(f->s, &filter, (int64_t[]) { a }, 1);

        filter = TASK_FILTER_INIT;
        filter.document_id = doc.id;
        assert_list_ids(f->s, &filter, (int64_t[]) { d }, 1);

        filter = TASK_FILTER_INIT;
        filter.limit = 2;
        assert_list_ids(f->s, &filter, (int64_t[]) { a, b }, 2);

        filter = TASK_FILTER_INIT;
        filter.status = 3;
        assert_int_equal(store_task_list(f->s, &filter, &(struct task_list) {}), -EINVAL);
}

/* A long list reads its agencies with one scan, a few scattered tasks with
 * a lookup each; check that either way they land on the right tasks when
 * the list is in another order than the ids, and under a limit. */
static void test_task_list_fills_agencies_of_every_task(void **state) {
        struct fixture *f = *state;
        _cleanup_(task_list_done) struct task_list l = {}, top = {}, few = {};
        struct task_filter filter = TASK_FILTER_INIT;
        const size_t n = 2000;

        assert_int_equal(store_begin(f->s), 0);
        for (size_t i = 0; i < n; i++) {
                struct task_agency a[4];
                char names[4][48];
                char title[32];
                size_t k = i % 5;

                for (size_t j = 0; j < k; j++) {
                        snprintf(names[j], sizeof names[j], "a%zu-%zu", i, j);
                        a[j] = (struct task_agency) { names[j], j == 1 ? ROLE_LEAD : ROLE_SUPPORT, 0 };
                }
                snprintf(title, sizeof title, "%zu", i);
                /* Deadlines run against the ids. */
                add_task(f->s, title, NOW + (int64_t) (n - i) * 60, k ? a : NULL, k);
        }
        assert_int_equal(store_commit(f->s), 0);

        assert_int_equal(store_task_list(f->s, &filter, &l), (int) n);
        filter.limit = 7;
        assert_int_equal(store_task_list(f->s, &filter, &top), 7);
        filter = TASK_FILTER_INIT;
        filter.agencies = (char *[]) { "a1997-1", "a3-1", "a1004-0", NULL };
        assert_int_equal(store_task_list(f->s, &filter, &few), 3);
        assert_string_equal(few.tasks[0].title, "1997");
        assert_string_equal(few.tasks[1].title, "1004");
        assert_string_equal(few.tasks[2].title, "3");
        assert_int_equal(few.tasks[0].n_agencies, 2);
        assert_string_equal(few.tasks[0].agencies[0].agency, "a1997-1");
        assert_string_equal(few.tasks[0].agencies[1].agency, "a1997-0");
        assert_int_equal(few.tasks[1].n_agencies, 4);
        assert_string_equal(few.tasks[1].agencies[3].agency, "a1004-3");
        assert_int_equal(few.tasks[2].n_agencies, 3);
        assert_string_equal(few.tasks[2].agencies[0].agency, "a3-1");
        for (size_t m = 0; m < l.n; m++) {
                const struct task *t = &l.tasks[m];
                size_t i = (size_t) strtoul(t->title, NULL, 10);
                char want[48];

                assert_int_equal(i, n - 1 - m);
                assert_int_equal(t->n_agencies, i % 5);
                for (size_t j = 0; j < t->n_agencies; j++) {
                        /* The lead (j == 1) comes first. */
                        size_t orig = j == 0 && t->n_agencies > 1 ? 1 : j == 1 ? 0 : j;
                        snprintf(want, sizeof want, "a%zu-%zu", i, orig);
                        assert_string_equal(t->agencies[j].agency, want);
                }
                if (m < top.n) {
                        assert_int_equal(top.tasks[m].id, t->id);
                        assert_int_equal(top.tasks[m].n_agencies, t->n_agencies);
                }
        }
}

/* A report's occurrences: completions that stand and open tasks, by the
 * deadline in force, once per lead; extensions per occurrence; cancelled
 * tasks and reopened completions left out. And a database of version 6
 * gains the index they are read by, keeping its data. */
static int occurrences(struct store *s, int64_t from, int64_t to, const char *agency,
                       struct task_occurrence_list *l) {
        struct occurrence_filter f = { .due_from = from, .due_to = to, .agency = agency };

        task_occurrence_list_done(l);
        return store_task_occurrences(s, &f, l);
}

/* A message is recorded once: by its UID under a UIDVALIDITY, and by its
 * Message-ID when the mailbox was rebuilt under a new UIDVALIDITY. */
static void test_inbox_records_each_message_once(void **state) {
        struct fixture *f = *state;
        const struct task_agency one[] = { { "stc", ROLE_LEAD, 0 } };
        int64_t task = add_task(f->s, "Báo cáo", NOW + 1000, one, 1);
        char *evidence[] = { "bao-cao-45.pdf", "phu luc.xlsx", NULL };
        struct inbox_message m = {
                .uidvalidity = 1700, .uid = 3, .message_id = "abc@stc.vn", .sender = "vanthu@stc.sonha.gov.vn",
                .subject = "Re: [#1] Nhắc", .received_at = NOW, .sent_at = NOW - 60, .task_id = task,
                .agency = "stc", .intent = INBOX_INTENT_DONE, .asked_day = INT32_MIN, .evidence = evidence,
                .text = "Đã hoàn thành.", .state = INBOX_PENDING,
        };
        _cleanup_(inbox_message_done) struct inbox_message back = {};
        _cleanup_(inbox_message_list_done) struct inbox_message_list l = {};
        int64_t uid;
        bool waiting;

        assert_int_equal(store_inbox_last_uid(f->s, 1700, &uid), 0);
        assert_int_equal(uid, 0);
        assert_int_equal(store_inbox_add(f->s, &m), 1);
        assert_true(m.id > 0);
        int64_t first = m.id;
        assert_int_equal(store_inbox_add(f->s, &m), 0);
        /* The mailbox rebuilt: new UIDVALIDITY, the same message. */
        m.uidvalidity = 1800;
        m.uid = 1;
        assert_int_equal(store_inbox_add(f->s, &m), 0);
        assert_int_equal(store_inbox_last_uid(f->s, 1700, &uid), 0);
        assert_int_equal(uid, 3);
        /* A message without a Message-ID is known by its UID alone. */
        m.message_id = NULL;
        m.uid = 2;
        m.state = INBOX_IGNORED;
        m.evidence = NULL;
        assert_int_equal(store_inbox_add(f->s, &m), 1);
        assert_int_equal(store_inbox_add(f->s, &m), 0);
        assert_int_equal(store_inbox_last_uid(f->s, 1800, &uid), 0);
        assert_int_equal(uid, 2);

        assert_int_equal(store_inbox_get(f->s, first, &back), 0);
        assert_string_equal(back.evidence[0], "bao-cao-45.pdf");
        assert_string_equal(back.evidence[1], "phu luc.xlsx");
        assert_null(back.evidence[2]);
        assert_int_equal(back.intent, INBOX_INTENT_DONE);
        assert_int_equal(back.asked_day, INT32_MIN);
        assert_int_equal(back.sent_at, NOW - 60);
        assert_int_equal(store_inbox_list(f->s, 0, &l), 1);  /* the ignored one is not the officer's */
        inbox_message_list_done(&l);
        assert_int_equal(store_inbox_agency_waiting(f->s, "stc", &waiting), 0);
        assert_true(waiting);

        assert_int_equal(store_inbox_decide(f->s, first, INBOX_CONFIRMED, 0, "vpub", NOW + 5, NULL), 0);
        assert_int_equal(store_inbox_decide(f->s, first, INBOX_REJECTED, 0, "vpub", NOW + 6, "x"), -EALREADY);
        assert_int_equal(store_inbox_decide(f->s, 999, INBOX_CONFIRMED, 0, "vpub", NOW + 6, NULL), -EALREADY);
        assert_int_equal(store_inbox_agency_waiting(f->s, "stc", &waiting), 0);
        assert_false(waiting);
        assert_int_equal(store_inbox_list(f->s, 0, &l), 0);
        assert_int_equal(store_inbox_list(f->s, task, &l), 2);

        /* A line break would make two names of one. */
        char *bad[] = { "a\nb", NULL };
        m.uid = 9;
        m.evidence = bad;
        assert_int_equal(store_inbox_add(f->s, &m), -EINVAL);
}

/* A database of schema 9 takes the inbox and keeps its tasks. */
static void test_migration_from_version_11_keeps_tasks(void **state) {
        struct fixture *f = *state;
        SQLITE_ONLY();
        const struct task_agency one[] = { { "stc", ROLE_LEAD, 0 } };
        int64_t task = add_task(f->s, "Báo cáo", NOW + 1000, one, 1);
        _cleanup_(task_done) struct task t = {};
        sqlite3 *db;

        store_close(f->s);
        db = raw_open(f->path);
        raw_exec(db, UNDO_V12 "PRAGMA user_version = 11;");
        sqlite3_close(db);
        assert_int_equal(store_open(f->path, 0, &f->s), 0);
        assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
        assert_int_equal(store_task_get(f->s, task, &t), 0);
        assert_string_equal(t.title, "Báo cáo");
        struct inbox_message m = { .uidvalidity = 1, .uid = 1, .received_at = NOW, .task_id = task,
                                   .asked_day = INT32_MIN, .state = INBOX_PENDING };
        assert_int_equal(store_inbox_add(f->s, &m), 1);
}

static void test_task_occurrences_and_migration_from_version_6(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_(task_occurrence_list_done) struct task_occurrence_list l = {};
        const struct task_agency two[] = { { "stc", ROLE_LEAD, 0 }, { "skhdt", ROLE_LEAD, 0 }, { "kbnn", ROLE_SUPPORT, 0 } };
        const struct task_agency one[] = { { "stc", ROLE_LEAD, 0 } };
        int64_t a = add_task(f->s, "Hai cơ quan chủ trì", NOW + 1000, two, ELEMENTSOF(two));
        int64_t b = add_task(f->s, "Đã xong", NOW + 2000, one, 1);
        int64_t c = add_task(f->s, "Mở lại", NOW + 3000, one, 1);
        int64_t d = add_task(f->s, "Đã huỷ", NOW + 4000, one, 1);
        int64_t outside = add_task(f->s, "Ngoài kỳ", NOW + 99999, one, 1);
        struct task_change ext = { .task_id = b, .at = NOW + 10, .field = TASK_FIELD_DUE, .old_value = "x",
                                   .new_value = "y", .source = CHANGE_PERSON, .approved_by = "CV 1" };
        struct task_change edit = { .task_id = b, .at = NOW + 11, .field = TASK_FIELD_DUE, .old_value = "y",
                                    .new_value = "z", .source = CHANGE_PERSON };
        struct task_completion kb = { .task_id = b, .due_at = NOW + 2000, .done_at = NOW + 2500, .recorded_at = NOW + 20 };
        struct task_completion kc = { .task_id = c, .due_at = NOW + 3000, .done_at = NOW + 30, .recorded_at = NOW + 30 };
        struct task_completion kd = { .task_id = d, .due_at = NOW + 4000, .done_at = NOW + 40, .recorded_at = NOW + 40 };
        struct task_change later = ext;
        sqlite3 *db;

        (void) outside;
        later.at = NOW + 30;  /* after b's completion: not that occurrence's */
        assert_int_equal(store_task_change_add(f->s, &ext), 0);
        assert_int_equal(store_task_change_add(f->s, &edit), 0);
        assert_int_equal(store_task_change_add(f->s, &later), 0);
        assert_int_equal(store_task_set_status(f->s, b, TASK_DONE, NOW + 20), 0);
        assert_int_equal(store_task_completion_add(f->s, &kb), 0);
        assert_int_equal(store_task_set_status(f->s, c, TASK_DONE, NOW + 30), 0);
        assert_int_equal(store_task_completion_add(f->s, &kc), 0);
        assert_int_equal(store_task_set_status(f->s, c, TASK_OPEN, NOW + 35), 0);
        assert_int_equal(store_task_completion_reopened(f->s, c, NOW + 35), 1);
        assert_int_equal(store_task_completion_add(f->s, &kd), 0);
        assert_int_equal(store_task_set_status(f->s, d, TASK_CANCELLED, NOW + 45), 0);

        for (int pass = 0; pass < 2; pass++) {
                int64_t seen_a = 0, seen_b = 0, seen_c = 0;

                assert_int_equal(occurrences(f->s, NOW, NOW + 5000, NULL, &l), 4);
                for (size_t i = 0; i < l.n; i++) {
                        const struct task_occurrence *o = &l.items[i];

                        assert_true(o->task_id == a || o->task_id == b || o->task_id == c);
                        if (o->task_id == a) {
                                seen_a++;
                                assert_int_equal(o->completion_id, 0);
                                assert_int_equal(o->done_at, NO_TIME);
                                assert_true(streq(o->agency, "stc") || streq(o->agency, "skhdt"));
                        } else if (o->task_id == b) {
                                seen_b++;
                                assert_int_equal(o->completion_id, kb.id);
                                assert_int_equal(o->done_at, NOW + 2500);
                                assert_int_equal(o->due_at, NOW + 2000);
                                assert_int_equal(o->extensions, 1);
                        } else {
                                seen_c++;
                                /* reopened: open again, its completion left out */
                                assert_int_equal(o->completion_id, 0);
                                assert_int_equal(o->done_at, NO_TIME);
                        }
                }
                assert_true(seen_a == 2 && seen_b == 1 && seen_c == 1);
                assert_int_equal(occurrences(f->s, NOW, NOW + 5000, "skhdt", &l), 1);
                assert_int_equal(l.items[0].task_id, a);
                assert_int_equal(occurrences(f->s, NOW, NOW + 5000, "kbnn", &l), 0);
                assert_int_equal(occurrences(f->s, NOW + 1001, NOW + 2000, NULL, &l), 1);
                assert_int_equal(l.items[0].task_id, b);
                if (pass == 1)
                        break;

                f->s = store_close(f->s);
                db = raw_open(f->path);
                raw_exec(db, UNDO_V7 "PRAGMA user_version = 6");
                sqlite3_close(db);
                assert_int_equal(store_open(f->path, 0, &f->s), 0);
                assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
        }
}

/* Version 6 to 8: the assignments that exist are taken as notified (no
 * notice owed), the outbox is kept, and a delivery about no one task can
 * be stored. */
static void test_migrate_from_version_6_takes_assignments_as_notified(void **state) {
        SQLITE_ONLY();
        struct fixture *f = *state;
        _cleanup_(delivery_list_done) struct delivery_list l = {};
        _cleanup_(task_done) struct task back = {};
        struct task_agency a[] = { { "stc", ROLE_LEAD, NOW }, { "kbnn", ROLE_SUPPORT, NOW } };
        int64_t task = add_task(f->s, "Báo cáo", NOW + 100, a, 2);
        struct delivery d = { .task_id = task, .slot = "before:1d@1", .agency = "stc", .channel = "email",
                              .attempts = 1, .next_attempt_at = NOW, .created_at = NOW, .sent_at = NO_TIME };
        sqlite3 *db;

        assert_int_equal(store_delivery_insert(f->s, &d), 1);
        f->s = store_close(f->s);
        db = raw_open(f->path);
        raw_exec(db, UNDO_V7 "PRAGMA user_version = 6");
        assert_int_equal(raw_int(db, "SELECT count(*) FROM task_agencies"), 2);
        sqlite3_close(db);

        assert_int_equal(store_open(f->path, 0, &f->s), 0);
        assert_int_equal(store_schema_version(f->s), STORE_SCHEMA_VERSION);
        assert_int_equal(store_task_get(f->s, task, &back), 0);
        assert_int_equal(back.n_agencies, 2);
        assert_int_equal(back.agencies[0].notice_at, 0);
        assert_int_equal(back.agencies[1].notice_at, 0);
        assert_int_equal(store_delivery_list_for_task(f->s, task, &l), 1);
        assert_int_equal(l.items[0].id, d.id);
        assert_int_equal(l.items[0].attempts, 1);
        struct delivery none = { .slot = "report:stc:2025-05", .agency = "stc", .channel = "email",
                                 .next_attempt_at = NOW, .created_at = NOW, .sent_at = NO_TIME };
        assert_int_equal(store_delivery_insert(f->s, &none), 1);
}

/* A notice owed is stored with its agency, read back, kept by an update
 * that passes it on, and cleared for the whole task at once. */
static void test_notice_at_round_trips_and_clears(void **state) {
        struct fixture *f = *state;
        _cleanup_(task_done) struct task t = {}, u = {};
        struct task_agency a[] = { { "stc", ROLE_LEAD, NOW - 5 }, { "kbnn", ROLE_SUPPORT, 0 } };
        int64_t task = add_task(f->s, "Báo cáo", NOW + 100, a, 2);

        assert_int_equal(store_task_get(f->s, task, &t), 0);
        assert_int_equal(t.agencies[0].notice_at, NOW - 5);
        assert_int_equal(t.agencies[1].notice_at, 0);
        assert_int_equal(store_task_update(f->s, &t, NOW + 1), 0);
        assert_int_equal(store_task_get(f->s, task, &u), 0);
        assert_int_equal(u.agencies[0].notice_at, NOW - 5);
        task_done(&u);
        assert_int_equal(store_task_notices_clear(f->s, task), 0);
        assert_int_equal(store_task_get(f->s, task, &u), 0);
        assert_int_equal(u.agencies[0].notice_at, 0);
        assert_int_equal(u.agencies[1].notice_at, 0);
}

/* Which agencies are new to a task: all when it is created; after an
 * edit, those not there before in the same role, while the others keep
 * what they are owed. */
static void test_task_agencies_mark_assigned(void **state) {
        struct task_agency old_a[] = { { "stc", ROLE_LEAD, 0 }, { "kbnn", ROLE_SUPPORT, 7 } };
        struct task_agency new_a[] = { { "skhdt", ROLE_LEAD, 0 }, { "kbnn", ROLE_SUPPORT, 0 },
                                       { "stc", ROLE_SUPPORT, 0 } };
        struct task before = { .agencies = old_a, .n_agencies = 2 };
        struct task after = { .agencies = new_a, .n_agencies = 3 };

        assert_int_equal(task_agencies_mark_assigned(NULL, &before, 100), 2);
        assert_int_equal(old_a[0].notice_at, 100);
        assert_int_equal(old_a[1].notice_at, 100);
        old_a[0].notice_at = 0;
        old_a[1].notice_at = 7;

        assert_int_equal(task_agencies_mark_assigned(&before, &after, 200), 2);
        assert_int_equal(new_a[0].notice_at, 200); /* the new lead */
        assert_int_equal(new_a[1].notice_at, 7);   /* kept, still owed */
        assert_int_equal(new_a[2].notice_at, 200); /* a new role */

        /* Quietly (--no-notify): none owed for the new ones. */
        assert_int_equal(task_agencies_mark_assigned(&before, &after, 0), 2);
        assert_int_equal(new_a[0].notice_at, 0);
        assert_int_equal(new_a[1].notice_at, 7);
        assert_int_equal(task_agencies_mark_assigned(&before, &before, 300), 0);
}

int main(void) {
#define T(name) cmocka_unit_test_setup_teardown(name, fixture_setup, fixture_teardown)
#define D(name) cmocka_unit_test_setup_teardown(name, fixture_dir_setup, fixture_teardown)
        const struct CMUnitTest tests[] = {
                T(test_create_makes_current_schema_in_wal_mode),
                T(test_create_enforces_foreign_keys),
                D(test_open_missing_file_without_create_is_enoent),
                D(test_open_garbage_is_ebadmsg_and_leaves_it_alone),
                D(test_open_newer_schema_is_refused_unchanged),
                D(test_open_unversioned_foreign_database_is_refused),
                D(test_migrate_from_version_1),
                T(test_migrate_from_version_2_keeps_the_outbox),
                T(test_migrate_from_version_3_adds_an_empty_change_log),
                T(test_migrate_from_version_4_dates_first_attempts),
                T(test_migrate_from_version_13_keeps_the_deliveries),
                T(test_task_change_log),
                T(test_migrate_from_version_5_keeps_the_data_and_dates_the_history),
                T(test_migrate_from_version_6_takes_assignments_as_notified),
                T(test_notice_at_round_trips_and_clears),
                cmocka_unit_test(test_task_agencies_mark_assigned),
                T(test_task_completions),
                T(test_task_occurrences_and_migration_from_version_6),
                T(test_inbox_records_each_message_once),
                T(test_migration_from_version_11_keeps_tasks),
                T(test_tasks_get_reads_many_at_once),
                T(test_reschedule_in_slices),
                T(test_readonly_open_reads_but_does_not_write),
                D(test_readonly_open_of_old_schema_is_erofs),
                T(test_begin_is_ebusy_while_another_process_holds_the_lock),
                T(test_rollback_leaves_no_trace),
                T(test_rollback_without_transaction_is_harmless),
                T(test_commit_keeps_the_work),
                T(test_document_upsert_updates_the_same_number),
                T(test_document_get_missing_is_enoent),
                T(test_task_add_and_get_round_trip),
                T(test_task_without_deadline_or_document_stores_null),
                T(test_task_add_refuses_bad_input),
                T(test_task_get_missing_is_enoent),
                T(test_task_update_replaces_fields_and_agencies),
                T(test_task_due_rule),
                D(test_migrate_from_version_10),
                T(test_task_update_of_closed_task_does_not_schedule_it),
                T(test_task_status_transitions),
                T(test_task_find_ref),
                T(test_task_ref_is_unique_within_a_document),
                T(test_task_list_sorts_by_due_with_no_deadline_last),
                T(test_task_list_filters),
                T(test_task_list_fills_agencies_of_every_task),
        };
#undef T
#undef D
        return cmocka_run_group_tests(tests, NULL, NULL);
}
