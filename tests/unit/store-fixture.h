/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the store's tests share: a fresh directory per test, removed with all
 * it holds afterwards, and a second, plain SQLite connection to look at the
 * file behind the store's back. Header-only: each test program is one
 * translation unit.
 *
 * With DEADLINED_TEST_DATABASE set to a PostgreSQL URI (make check-pg,
 * tests/pg-cluster.sh), the store is opened there instead, emptied before
 * each test; the tests that look at an SQLite file behind the store's back
 * say SQLITE_ONLY() and are skipped. */

#include <dirent.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "store-sqlite.h"

/* The PostgreSQL database the tests use, or NULL for SQLite files. */
static _unused_ const char *test_database(void) {
        const char *v = getenv("DEADLINED_TEST_DATABASE");
        return v && *v ? v : NULL;
}

#define SQLITE_ONLY()                                                           \
        do {                                                                    \
                if (test_database())                                            \
                        skip();                                                 \
        } while (0)

#define PG_ONLY()                                                               \
        do {                                                                    \
                if (!test_database())                                           \
                        skip();                                                 \
        } while (0)

/* Runs SQL on the PostgreSQL database behind the store's back (another
 * daemon's doing). */
static _unused_ void pg_raw_exec(const char *sql) {
        PGconn *c = PQconnectdb(test_database());
        PGresult *res;

        if (PQstatus(c) != CONNECTION_OK)
                fail_msg("%s", PQerrorMessage(c));
        res = PQexec(c, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                fail_msg("%s: %s", sql, PQresultErrorMessage(res));
        PQclear(res);
        PQfinish(c);
}

/* Empties the PostgreSQL database: every table of ours goes. */
static _unused_ void pg_reset(const char *uri) {
        PGconn *c = PQconnectdb(uri);
        PGresult *res;

        if (PQstatus(c) != CONNECTION_OK)
                fail_msg("%s", PQerrorMessage(c));
        res = PQexec(c, "SET client_min_messages = warning; DROP SCHEMA public CASCADE; CREATE SCHEMA public");
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                fail_msg("%s", PQresultErrorMessage(res));
        PQclear(res);
        PQfinish(c);
}

#define NOW INT64_C(1745000000) /* 2025-04-18 18:13:20 UTC */

struct fixture {
        char dir[256];
        char path[320];
        struct store *s;
};

static _unused_ int fixture_dir_setup(void **state) {
        struct fixture *f = calloc(1, sizeof *f);
        const char *tmp = getenv("TMPDIR");

        assert_non_null(f);
        snprintf(f->dir, sizeof f->dir, "%s/test-store.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->path, sizeof f->path, "%s/deadlined.db", f->dir);
        *state = f;
        return 0;
}

/* A directory with a freshly created store open in it. */
static _unused_ int fixture_setup(void **state) {
        struct fixture *f;

        fixture_dir_setup(state);
        f = *state;
        if (test_database()) {
                pg_reset(test_database());
                if (store_open(test_database(), STORE_CREATE, &f->s) < 0)
                        fail_msg("%s", store_last_error(NULL));
                return 0;
        }
        assert_int_equal(store_open(f->path, STORE_CREATE, &f->s), 0);
        return 0;
}

static _unused_ int fixture_teardown(void **state) {
        struct fixture *f = *state;
        struct dirent *de;
        DIR *d;

        store_close(f->s);
        d = opendir(f->dir);
        assert_non_null(d);
        while ((de = readdir(d))) {
                char p[PATH_MAX + 256];

                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                snprintf(p, sizeof p, "%s/%s", f->dir, de->d_name);
                assert_int_equal(unlink(p), 0);
        }
        closedir(d);
        assert_int_equal(rmdir(f->dir), 0);
        free(f);
        return 0;
}

static _unused_ sqlite3 *raw_open(const char *path) {
        sqlite3 *db = NULL;

        assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL),
                         SQLITE_OK);
        return db;
}

static _unused_ void raw_exec(sqlite3 *db, const char *sql) {
        char *err = NULL;
        int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

        if (rc != SQLITE_OK)
                fail_msg("%s: %s", sql, err);
}

/* The first column of the first row, as an integer (INT64_MIN for NULL or
 * no row). */
static _unused_ int64_t raw_int(sqlite3 *db, const char *sql) {
        sqlite3_stmt *st = NULL;
        int64_t v = INT64_MIN;

        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
                v = sqlite3_column_int64(st, 0);
        sqlite3_finalize(st);
        return v;
}

/* The same as text, in buf ("" for NULL or no row). */
static _unused_ const char *raw_text(sqlite3 *db, const char *sql, char *buf, size_t size) {
        sqlite3_stmt *st = NULL;

        buf[0] = 0;
        assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
        if (sqlite3_step(st) == SQLITE_ROW)
                snprintf(buf, size, "%s", strempty((const char *) sqlite3_column_text(st, 0)));
        sqlite3_finalize(st);
        return buf;
}

/* A task with a title, a deadline (NO_TIME: none) and agencies. */
static _unused_ int64_t add_task(struct store *s, const char *title, int64_t due_at,
                                 const struct task_agency *agencies, size_t n) {
        struct task t = {
                .title = (char *) title,
                .due_at = due_at,
                .status = TASK_OPEN,
                .agencies = (struct task_agency *) agencies,
                .n_agencies = n,
        };

        assert_int_equal(store_task_add(s, &t, NOW), 0);
        assert_true(t.id > 0);
        return t.id;
}
