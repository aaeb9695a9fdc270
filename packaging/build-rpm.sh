#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make rpm: builds the RPM from a tarball of the source tree (the files git
# knows of, committed or not) with rpmbuild, into BUILD/packages/.
#
# On Debian (the `rpm` package provides rpmbuild) the BuildRequires, which
# are Fedora names, cannot be checked: the build runs with --nodeps, needs
# the Debian build dependencies installed instead (make deps), and loads
# packaging/rpm/macros.fallback for the systemd macros Fedora's
# systemd-rpm-macros would define.
#
# usage: build-rpm.sh VERSION BUILD_DIR
set -eu

VERSION=$1
BUILD=$2
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=$BUILD/packages
TOP=$BUILD/rpm

if ! command -v rpmbuild >/dev/null; then
        echo "make rpm: rpmbuild is missing (Debian: apt-get install rpm; Fedora: dnf install rpm-build)" >&2
        exit 69
fi
spec_version=$(sed -n 's/^Version: *//p' "$SRC/packaging/rpm/deadlined.spec")
if [ "$spec_version" != "$VERSION" ]; then
        echo "make rpm: packaging/rpm/deadlined.spec is at $spec_version but the Makefile at $VERSION" >&2
        exit 65
fi

rm -rf "$TOP"
mkdir -p "$TOP"/{SOURCES,SPECS,BUILD,RPMS,SRPMS} "$OUT"
(cd "$SRC" && git ls-files -z --cached --others --exclude-standard | \
        while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done | \
        tar --null -T - --transform "s,^,deadlined-$VERSION/," -czf "$TOP/SOURCES/deadlined-$VERSION.tar.gz")
cp "$SRC/packaging/systemd/deadlined.sysusers" "$TOP/SOURCES/"
cp "$SRC/packaging/rpm/deadlined.spec" "$TOP/SPECS/"

args=(--define "_topdir $TOP")
if [ -z "$(rpm --eval '%{?systemd_post:1}')" ]; then
        # Not Fedora: see above.
        args+=(--nodeps --load "$SRC/packaging/rpm/macros.fallback" --define "debug_package %{nil}")
fi
start=$(date +%s)
rpmbuild "${args[@]}" -bb "$TOP/SPECS/deadlined.spec" > "$TOP/build.log" 2>&1 || {
        tail -40 "$TOP/build.log" >&2
        echo "make rpm: rpmbuild failed; the whole log is $TOP/build.log" >&2
        exit 1
}
find "$TOP/RPMS" -name '*.rpm' -exec mv {} "$OUT/" \;
for r in "$OUT"/deadlined-$VERSION-*.rpm; do
        echo "make rpm: $r ($(($(date +%s) - start)) s)"
done
