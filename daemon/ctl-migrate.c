/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl migrate-to URI: the configured SQLite database copied whole
 * into an empty PostgreSQL database (store_copy()), ids, states and the
 * instance id kept, so that daemons pointed at it carry on where the
 * SQLite one stopped, sending nothing twice. */

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "lockfile.h"

int cmd_migrate_to(struct ctl *c, int argc, char **argv) {
        _cleanup_(store_closep) struct store *to = NULL;
        _cleanup_close_ int lock = -EBADF;
        struct lock_holder h;
        const char *uri;
        int r;

        if (argc == 2 && (streq(argv[1], "--help") || streq(argv[1], "-h"))) {
                printf("deadlinectl migrate-to postgresql://...\n");
                return 0;
        }
        if (argc != 2)
                return ctl_fail(c, EX_USAGE, "expected one argument, the PostgreSQL database's URI");
        uri = argv[1];
        if (!store_database_is_server(uri))
                return ctl_fail(c, EX_USAGE, "%s is not a PostgreSQL URI (postgresql://...)", uri);
        r = ctl_load_config(c);
        if (r != 0)
                return r;
        const char *db = c->config->database;
        if (store_database_is_server(db))
                return ctl_fail(c, EX_USAGE, "the configured database %s is not an SQLite file; "
                                "migrate-to copies one", db);
        if (access(db, F_OK) < 0)
                return ctl_fail(c, EX_NOINPUT, "no database at %s", db);

        /* No deadlined sends from the file meanwhile: what it sent after
         * the copy would be sent again from PostgreSQL. */
        lock = lockfile_take(db, (int64_t) time(NULL), &h);
        if (lock == -EBUSY) {
                if (h.pid > 0)
                        return ctl_fail(c, EX_TEMPFAIL, "deadlined (PID %d) is sending from %s; stop it first",
                                        (int) h.pid, db);
                return ctl_fail(c, EX_TEMPFAIL, "a deadlined is sending from %s; stop it first", db);
        }
        if (lock < 0)
                return ctl_fail(c, store_exit_status(lock), "cannot lock %s.lock: %s", db, store_strerror(lock));
        r = ctl_open_store(c);
        if (r != 0)
                return r;

        /* The password: libpq's (~/.pgpass, PGPASSFILE), never the command
         * line; a password in the URI is refused by the store. */
        r = store_open_password(uri, NULL, STORE_CREATE, &to);
        if (r < 0)
                return ctl_fail(c, store_exit_status(r), "%s: %s (%s)", uri, store_strerror(r),
                                store_last_error(NULL));

        r = store_copy(c->store, to);
        if (r == -ENOTEMPTY)
                return ctl_fail(c, EX_CANTCREAT, "%s is not empty (%s); migrate-to copies into an empty database only",
                                uri, store_last_error(to));
        if (r == -EPROTO)
                return ctl_fail(c, EX_DATAERR, "%s is at schema %d, %s at %d", uri, store_schema_version(to), db,
                                store_schema_version(c->store));
        if (r < 0) {
                const char *e = store_last_error(to);
                return ctl_fail(c, store_exit_status(r), "cannot copy %s to %s: %s (%s)", db, uri,
                                store_strerror(r), *e ? e : store_last_error(c->store));
        }

        if (c->json)
                return ctl_print_json(c, json_pack("{s:s, s:s, s:s}", "from", db, "to", uri, "instance_id",
                                                   strempty(store_instance_id(c->store))));
        printf("%s copied to %s (instance id %s)\n", db, uri, strempty(store_instance_id(c->store)));
        return 0;
}
