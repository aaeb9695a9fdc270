#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make deb: builds the Debian package from a scratch copy of the source
# tree (the files git knows of, committed or not, so a working tree can be
# tried before it is committed) with packaging/debian/ as debian/. Output:
# BUILD/packages/deadlined_VERSION_ARCH.deb, then lintian, whose errors fail.
#
# usage: build-deb.sh VERSION BUILD_DIR
set -eu

VERSION=$1
BUILD=$2
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=$BUILD/packages
WORK=$BUILD/deb
TREE=$WORK/deadlined-$VERSION

for tool in dpkg-buildpackage dh; do
        if ! command -v $tool >/dev/null; then
                echo "make deb: $tool is missing: apt-get install --no-install-recommends debhelper lintian scdoc (make packaging-deps)" >&2
                exit 69
        fi
done
changelog=$(dpkg-parsechangelog -l "$SRC/packaging/debian/changelog" -S Version)
if [ "$changelog" != "$VERSION" ]; then
        echo "make deb: packaging/debian/changelog is at $changelog but the Makefile at $VERSION; add a changelog entry (dch -v $VERSION)" >&2
        exit 65
fi

rm -rf "$WORK"
mkdir -p "$TREE" "$OUT"
(cd "$SRC" && git ls-files -z --cached --others --exclude-standard | \
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done | \
        tar --null -T - -cf -) | tar -xf - -C "$TREE"
cp -a "$SRC/packaging/debian" "$TREE/debian"

start=$(date +%s)
(cd "$TREE" && dpkg-buildpackage -us -uc -b) > "$WORK/build.log" 2>&1 || {
        tail -40 "$WORK/build.log" >&2
        echo "make deb: dpkg-buildpackage failed; the whole log is $WORK/build.log" >&2
        exit 1
}
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=deadlined_${VERSION}_$arch.deb
for f in "$WORK"/deadlined*_${VERSION}_$arch.*; do
        mv "$f" "$OUT/"
done
echo "make deb: $OUT/$deb ($(($(date +%s) - start)) s)"

if command -v lintian >/dev/null; then
        # Errors fail the build; warnings are printed for a person to judge.
        lintian --tag-display-limit 0 -I "$OUT/deadlined_${VERSION}_$arch.changes" > "$WORK/lintian.log" 2>&1 || true
        cat "$WORK/lintian.log"
        if grep -q '^E: ' "$WORK/lintian.log"; then
                echo "make deb: lintian reports errors" >&2
                exit 1
        fi
        echo "make deb: lintian: $(grep -c '^E: ' "$WORK/lintian.log") errors, $(grep -c '^W: ' "$WORK/lintian.log") warnings"
else
        echo "make deb: lintian is not installed; not checked"
fi
