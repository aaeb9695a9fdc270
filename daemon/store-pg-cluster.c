/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Several daemons on one PostgreSQL database: the decide lock. */
#include <errno.h>

#include "store-pg.h"

/* A transaction-level advisory lock: released by the commit or rollback
 * that ends the decide step's transaction, so a daemon that dies holding
 * it (its connection gone) holds nothing. A dry run writes nothing and
 * keeps its one transaction open for its whole life: it takes no lock. */
int pg_decide_lock(struct store *s) {
        _cleanup_pgresult_ PGresult *res = NULL;
        int r;

        if (s->dry_open)
                return 1;
        r = pg_query(s, PG_DECIDE_LOCK, NULL, &res);
        if (r < 0)
                return r;
        return streq(PQgetvalue(res, 0, 0), "t") ? 1 : 0;
}
