/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The database's instance id: a random name made once per database, which
 * every id that leaves the machine (Message-ID, thread root, webhook-id)
 * carries, so that two databases never send the same one. */

#include <stdio.h>

#include "store-sqlite.h"

#define INSTANCE_KEY "instance_id"

/* Reads the id into s->instance_id: 1 if there is one, 0 if not. */
static int instance_id_load(struct store *s) {
        _cleanup_free_ char *v = NULL;
        int r;

        r = sqlite_meta_get(s, INSTANCE_KEY, &v);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (!store_instance_id_valid(v)) {
                store_set_error(s, "meta %s \"%.64s\" is not an instance id (8 to %d letters a-z and digits)",
                                INSTANCE_KEY, v, STORE_INSTANCE_ID_MAX - 1);
                return -EBADMSG;
        }
        snprintf(s->instance_id, sizeof s->instance_id, "%s", v);
        return 1;
}

int store_instance_setup(struct store *s) {
        char id[STORE_INSTANCE_ID_MAX];
        int r;

        r = instance_id_load(s);
        if (r != 0 || (s->flags & STORE_READONLY))
                return r < 0 ? r : 0;

        /* Made in a transaction, and looked for again inside it: two
         * processes opening a new database at once agree on one id. */
        r = sqlite_begin(s);
        if (r < 0)
                return r;
        r = instance_id_load(s);
        if (r == 0) {
                r = store_instance_id_make(id);
                if (r >= 0)
                        r = sqlite_meta_set(s, INSTANCE_KEY, id);
                if (r >= 0)
                        r = sqlite_commit(s);
                if (r >= 0)
                        snprintf(s->instance_id, sizeof s->instance_id, "%s", id);
        } else if (r > 0)
                r = sqlite_commit(s);
        if (r < 0) {
                (void) sqlite_rollback(s);
                s->instance_id[0] = 0;
        }
        return r < 0 ? r : 0;
}

const char *sqlite_instance_id(const struct store *s) {
        return s->instance_id[0] ? s->instance_id : NULL;
}

int sqlite_instance_id_renew(struct store *s) {
        char id[STORE_INSTANCE_ID_MAX];
        int r;

        if (s->flags & STORE_READONLY)
                return -EROFS;
        r = store_instance_id_make(id);
        if (r < 0)
                return r;
        r = sqlite_begin(s);
        if (r < 0)
                return r;
        r = sqlite_meta_set(s, INSTANCE_KEY, id);
        if (r >= 0)
                r = sqlite_commit(s);
        if (r < 0) {
                (void) sqlite_rollback(s);
                return r;
        }
        snprintf(s->instance_id, sizeof s->instance_id, "%s", id);
        return 0;
}
