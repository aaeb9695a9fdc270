/* SPDX-License-Identifier: GPL-2.0-or-later */
/* deadlinectl new-instance-id: gives a copy of a database (a backup
 * restored on another machine, a test copy) an instance id of its own, so
 * that its Message-IDs, thread roots and webhook-ids differ from those the
 * original sends. */

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl.h"
#include "lockfile.h"

int cmd_new_instance_id(struct ctl *c, int argc, char **argv) {
        _cleanup_close_ int lock = -EBADF;
        _cleanup_free_ char *old = NULL;
        struct lock_holder h;
        int r;

        r = ctl_no_arguments(c, argc, argv);
        if (r != 0)
                return r;
        r = ctl_load_config(c);
        if (r != 0)
                return r;
        const char *db = c->config->database;
        if (store_database_is_server(db)) {
                /* No lock file: deliveries under way are what shows that a
                 * daemon sends (an idle one holds none). */
                int64_t counts[_DELIVERY_STATE_MAX] = {};

                r = ctl_open_store(c);
                if (r != 0)
                        return r;
                r = store_delivery_counts(c->store, counts);
                if (r < 0)
                        return ctl_store_fail(c, r, "cannot count the deliveries under way");
                if (counts[DELIVERY_ATTEMPTING] > 0)
                        return ctl_fail(c, EX_TEMPFAIL, "%lld deliveries from %s are under way; stop the daemons "
                                        "first", (long long) counts[DELIVERY_ATTEMPTING], db);
        } else if (access(db, F_OK) < 0)
                return ctl_fail(c, EX_NOINPUT, "no database at %s", db);

        /* Held while the id changes, so that no deadlined sends from the
         * database meanwhile: one that starts now exits 75 and is started
         * again by its service. */
        lock = store_database_is_server(db) ? -EBADF : lockfile_take(db, (int64_t) time(NULL), &h);
        if (lock == -EBUSY) {
                if (h.pid > 0)
                        return ctl_fail(c, EX_TEMPFAIL, "deadlined (PID %d) is sending from %s; stop it first",
                                        (int) h.pid, db);
                return ctl_fail(c, EX_TEMPFAIL, "a deadlined is sending from %s; stop it first", db);
        }
        if (lock < 0 && lock != -EBADF)
                return ctl_fail(c, store_exit_status(lock), "cannot lock %s.lock: %s", db, store_strerror(lock));

        r = ctl_open_store(c);
        if (r != 0)
                return r;
        old = strdup(strempty(store_instance_id(c->store)));
        if (!old)
                return ctl_fail(c, EX_OSERR, "%s", strerror(ENOMEM));
        r = store_instance_id_renew(c->store);
        if (r < 0)
                return ctl_store_fail(c, r, "cannot change the instance id");

        if (c->json)
                return ctl_print_json(c, json_pack("{s:s, s:s, s:s}", "database", db, "old", old, "new",
                                                   store_instance_id(c->store)));
        printf("%s: instance id %s (was %s)\n", db, store_instance_id(c->store), old);
        return 0;
}
