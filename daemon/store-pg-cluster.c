/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Several daemons on one PostgreSQL database: the decide lock. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

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

int pg_changed(struct store *s) {
        if (s->dry_open)
                return 0;
        if (PQtransactionStatus(s->conn) == PQTRANS_INTRANS) {
                s->notify = true;
                return 0;
        }
        return pg_notify(s);
}

int pg_notify(struct store *s) {
        char *who = PQescapeLiteral(s->conn, s->claimer, strlen(s->claimer));
        char sql[256];

        if (!who) {
                pg_set_error(s, "%s", PQerrorMessage(s->conn));
                return -ENOMEM;
        }
        snprintf(sql, sizeof sql, "NOTIFY " PG_CHANNEL ", %s", who);
        PQfreemem(who);
        return pg_exec(s, sql);
}

int pg_change_fd(struct store *s) {
        int r, fd;

        /* A lost connection is made again by the LISTEN. */
        if (PQstatus(s->conn) == CONNECTION_BAD)
                s->listening = false;
        if (!s->listening) {
                r = pg_exec(s, "LISTEN " PG_CHANNEL);
                if (r < 0)
                        return r;
                s->listening = true;
        }
        s->reconnected = false;
        fd = PQsocket(s->conn);
        if (fd < 0) {
                pg_set_error(s, "no connection to the server");
                return -ECONNRESET;
        }
        return fd;
}

/* Our own notices come back to us too: only another backend's count. */
int pg_change_consume(struct store *s) {
        int own = PQbackendPID(s->conn), changed = 0;
        PGnotify *n;

        if (s->reconnected) {
                /* Another connection, another socket; what was said while
                 * there was none is lost. */
                s->reconnected = false;
                return -ESTALE;
        }
        if (!s->listening)
                return 0;
        if (PQstatus(s->conn) == CONNECTION_BAD) {
                pg_set_error(s, "the connection to the server was lost");
                return -ECONNRESET;
        }
        if (!PQconsumeInput(s->conn)) {
                pg_set_error(s, "%s", PQerrorMessage(s->conn));
                return -ECONNRESET;
        }
        while ((n = PQnotifies(s->conn))) {
                /* Ours, or another connection of this process's. */
                if (n->be_pid != own && !streq(n->extra, s->claimer))
                        changed = 1;
                PQfreemem(n);
        }
        return changed;
}
