#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Static checks of the systemd units, as any user:
#  - `systemd-analyze verify` prints nothing (it returns 0 even for unknown
#    settings, so any output at all is a failure);
#  - `systemd-analyze security --offline=true` rates each service 1.5 or
#    lower (--threshold is on a 0-100 scale).
# verify insists that ExecStart= is an executable, so it runs on copies of
# the units that point at /bin/true instead of the program.
set -eu

SRC=$(cd "$(dirname "$0")/../.." && pwd)
UNITS="deadlined.service deadlined-once.service deadlined-once.timer"
THRESHOLD=15

if ! command -v systemd-analyze >/dev/null; then
        echo "check-units: SKIPPED: systemd-analyze is not installed"
        exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for u in $UNITS; do
        sed 's|^\(Exec[A-Za-z]*=\)/usr/sbin/deadlined|\1/bin/true|' "$SRC/packaging/systemd/$u" > "$tmp/$u"
done

fail=0
(cd "$tmp" && systemd-analyze verify --man=no $UNITS) > "$tmp/verify.out" 2>&1 || fail=1
if [ -s "$tmp/verify.out" ] || [ $fail = 1 ]; then
        echo "check-units: FAIL: systemd-analyze verify:"
        cat "$tmp/verify.out"
        fail=1
else
        echo "check-units: systemd-analyze verify: clean"
fi

for s in deadlined.service deadlined-once.service; do
        out=$(systemd-analyze security --offline=true --threshold=$THRESHOLD "$SRC/packaging/systemd/$s" 2>&1) && rc=0 || rc=$?
        level=$(printf '%s\n' "$out" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
        if [ $rc != 0 ] || [ -z "$level" ]; then
                echo "check-units: FAIL: $s: exposure ${level:-unknown} (limit 1.5)"
                printf '%s\n' "$out" | grep '✗' || true
                fail=1
        else
                echo "check-units: $s: exposure $level (limit 1.5)"
        fi
done
exit $fail
