#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Checks that doc/architecture.md stays true: every file under daemon/ is in
# its module map, and the arrows between modules still point down. Run by
# `make check`; prints one line per problem and exits 1 if there is any.
set -u
cd "$(dirname "$0")/.." || exit 2
status=0

fail() {
        echo "check-architecture: $*" >&2
        status=1
}

# Every source file is named in the module map, as `name.c` or `name.h`.
for f in daemon/*.c daemon/*.h; do
        name=${f#daemon/}
        grep -q "\`$name\`" doc/architecture.md ||
                fail "$f is not in doc/architecture.md's module map"
done
# And the map names no file that is gone.
grep '^| `' doc/architecture.md | cut -d'|' -f2 | grep -o '`[A-Za-z0-9_.-]*\.[ch]`' | tr -d '`' | while read -r name; do
        [ -e "daemon/$name" ] || echo "$name"
done | while read -r name; do
        echo "check-architecture: doc/architecture.md names daemon/$name, which does not exist" >&2
        echo x
done | grep -q x && status=1

# includes FILES HEADER: the files among FILES that include HEADER.
includes() {
        header=$1
        shift
        grep -l "^#include \"$header\"" "$@" 2>/dev/null
}

for f in $(includes manager.h daemon/*.c daemon/*.h); do
        case $f in
        daemon/deadlined.c | daemon/manager.c) ;;
        *) fail "$f includes manager.h: only the entry point may" ;;
        esac
done
for f in $(includes dispatch.h daemon/smtp*.c daemon/smtp*.h daemon/webhook*.c daemon/webhook*.h \
        daemon/maildir.c daemon/curl-event.c daemon/hostqueue.c daemon/url.c daemon/job.c); do
        fail "$f includes dispatch.h: a transport is below the dispatcher"
done
for h in webhook.h smtp.h smtp-client.h dispatch.h curl-event.h hostqueue.h maildir.h manager.h; do
        for f in $(includes "$h" daemon/config*.c daemon/config*.h); do
                fail "$f includes $h: the configuration depends on no sender"
        done
done
# Only the OCR helper knows the OCR libraries: deadlinectl runs it.
for f in $(grep -l '^#include <\(poppler\|tesseract/\|leptonica/\|cairo\)\|^#include "ocr.h"' daemon/*.c daemon/*.h); do
        case $f in
        daemon/deadlined-ocr.c | daemon/ocr.h | daemon/ocr-*.c) ;;
        *) fail "$f includes an OCR header: only deadlined-ocr and its ocr-* parts may" ;;
        esac
done
# A backend's headers and libraries are the store's alone.
for f in $(grep -l '^#include "store-backend.h"\|^#include "store-sqlite.h"\|^#include "store-pg.h"\|^#include <libpq-fe.h>\|^#include <sqlite3.h>' daemon/*.c daemon/*.h); do
        case $f in
        daemon/store.c | daemon/store-*) ;;
        *) fail "$f includes a store backend's header: only the store may" ;;
        esac
done
if grep -qi 'sqlite3\|json' daemon/store.h; then
        fail "daemon/store.h speaks of SQLite or JSON: the store's interface is backend-neutral"
fi
if grep -n '^#include ".*tests/' daemon/*.c daemon/*.h >/dev/null; then
        fail "daemon/ includes a file from tests/"
fi
exit $status
