#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A throw-away PostgreSQL cluster for the tests: initdb and pg_ctl in a
# temporary folder, listening on a Unix socket in that folder only (no
# TCP), run as an unprivileged user since PostgreSQL refuses root.
#
#   tests/pg-cluster.sh run COMMAND...   start one, run COMMAND with
#                                        DEADLINED_TEST_DATABASE set to its
#                                        URI, then stop it and remove it all
#   tests/pg-cluster.sh start DIR        start one in DIR (made, empty);
#                                        prints the URI of its database
#   tests/pg-cluster.sh stop DIR         stop it (DIR stays)
#   tests/pg-cluster.sh restart DIR      start a stopped one again
#   tests/pg-cluster.sh createdb DIR NAME   another database; prints its URI
#
# PGBIN (default /usr/lib/postgresql/15/bin) holds initdb and pg_ctl;
# PGUSER_OS (default nobody) runs them when started as root. PG_TCP_PORT,
# when set, makes the server listen on 127.0.0.1 at that port too (without
# TLS), for the tests of what a TCP connection requires; PG_TLS_CERT and
# PG_TLS_KEY, when set, give it TLS with that certificate and key.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGUSER_OS=${PGUSER_OS:-nobody}

as_owner() {
        if [ "$(id -u)" = 0 ]; then
                runuser -u "$PGUSER_OS" -- "$@"
        else
                "$@"
        fi
}

uri() {
        # The socket's folder as the host: a path, given as a parameter.
        echo "postgresql:///$2?host=$1/socket&user=deadlined${PG_TCP_PORT:+&port=$PG_TCP_PORT}"
}

# The server of the cluster in $1, started (again).
serve() {
        listen= tls=
        [ -n "${PG_TCP_PORT:-}" ] && listen="127.0.0.1"
        if [ -n "${PG_TLS_CERT:-}" ]; then
                # The server reads its key only if it owns it, mode 0600.
                cp "$PG_TLS_CERT" "$1/server.crt"
                cp "$PG_TLS_KEY" "$1/server.key"
                chmod 600 "$1/server.key"
                [ "$(id -u)" = 0 ] && chown "$PGUSER_OS" "$1/server.crt" "$1/server.key"
                tls="-c ssl=on -c ssl_cert_file='$1/server.crt' -c ssl_key_file='$1/server.key'"
        fi
        as_owner "$PGBIN/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
                -o "-c listen_addresses='$listen' -c port=${PG_TCP_PORT:-5432} -c unix_socket_directories='$1/socket' -c fsync=off $tls" \
                start >/dev/null || { cat "$1/server.log" >&2; exit 1; }
}

start() {
        dir=$1
        mkdir -p "$dir"
        [ "$(id -u)" = 0 ] && chown "$PGUSER_OS" "$dir"
        as_owner mkdir -p "$dir/socket"
        as_owner "$PGBIN/initdb" -D "$dir/data" -U deadlined --auth=trust -E UTF8 --locale=C.UTF-8 \
                >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
        serve "$dir"
        as_owner "$PGBIN/createdb" -h "$dir/socket" -p "${PG_TCP_PORT:-5432}" -U deadlined deadlined
        uri "$dir" deadlined
}

stop() {
        as_owner "$PGBIN/pg_ctl" -D "$1/data" -m immediate -w stop >/dev/null 2>&1 || true
}

case ${1:-} in
start)
        start "$2"
        ;;
stop)
        stop "$2"
        ;;
restart)
        serve "$2"
        ;;
createdb)
        as_owner "$PGBIN/createdb" -h "$2/socket" -U deadlined "$3"
        uri "$2" "$3"
        ;;
run)
        shift
        dir=$(mktemp -d "${TMPDIR:-/tmp}/deadlined-pg.XXXXXX")
        chmod 755 "$dir"
        trap 'stop "$dir"; rm -rf "$dir"' EXIT INT TERM
        DEADLINED_TEST_DATABASE=$(start "$dir")
        export DEADLINED_TEST_DATABASE
        DEADLINED_PG_CLUSTER=$dir
        export DEADLINED_PG_CLUSTER
        "$@"
        ;;
*)
        echo "usage: $0 run COMMAND... | start DIR | stop DIR | restart DIR | createdb DIR NAME" >&2
        exit 64
        ;;
esac
