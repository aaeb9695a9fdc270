#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# make check-service: the real boot test of the Debian package.
#
# Builds the .deb, installs it into a minimal Debian tree (made once with
# debootstrap and cached; each run works on an overlay of it, so the cache
# stays clean), boots that tree with systemd-nspawn and checks, through
# nsenter, what an administrator would see:
#   - the package creates the user, the state folder and a 0640 root:deadlined
#     configuration, and enables the service without starting it;
#   - deadlinectl run by root and by a member of group deadlined (umask 022)
#     leaves a database, -wal and -shm the daemon can write;
#   - `systemctl start` returns once the daemon is READY (Type=notify), a
#     reminder appears in the Maildir, `reload` and `stop` are clean, the
#     journal shows start-up and delivery;
#   - a bad configuration fails with status 78 and is not restarted;
#   - deadlined-once.service runs one pass; reinstalling (an upgrade)
#     restarts a running daemon and keeps the tasks; purging removes it all;
#   - deadlinectl as root on a database that does not exist yet, and the
#     daemon creating one, both leave files the other side can write.
# Root only: without root it prints SKIPPED and succeeds.
#
# usage: check-service.sh VERSION BUILD_DIR
# environment: DEADLINED_TEST_CACHE (default /var/cache/deadlined-test),
#              DEADLINED_TEST_MIRROR (default: the Debian mirror apt uses),
#              DEADLINED_TEST_DEB (a .deb to test instead of building one).
set -euo pipefail

VERSION=$1
BUILD=$2
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CACHE=${DEADLINED_TEST_CACHE:-/var/cache/deadlined-test}
RUN=$BUILD/service-test
NEEDED_TOOLS="debootstrap:debootstrap systemd-nspawn:systemd-container dpkg-buildpackage:dpkg-dev
              dh:debhelper lintian:lintian scdoc:scdoc nsenter:util-linux"

if [ "$(id -u)" != 0 ]; then
        echo "check-service: SKIPPED: needs root (debootstrap, mounts, systemd-nspawn)"
        exit 0
fi

T0=$(date +%s.%N)
declare -a TIMINGS=()
FAILURES=0
NS_PID=
LEADER=

elapsed() { printf '%.2f' "$(echo "$(date +%s.%N) - $1" | bc)"; }
say() { printf '[%6.1fs] %s\n' "$(echo "$(date +%s.%N) - $T0" | bc)" "$*"; }
step_start() { STEP=$1; STEP_T=$(date +%s.%N); say "== $STEP"; }
step_end() { local e; e=$(elapsed "$STEP_T"); TIMINGS+=("$(printf '%7ss  %s' "$e" "$STEP")"); }

# A check that fails is counted and the run goes on; `die` ends it.
check() {
        local what=$1
        shift
        if "$@"; then
                say "ok: $what"
        else
                say "FAIL: $what"
                FAILURES=$((FAILURES + 1))
        fi
}
die() {
        say "FAIL: $*"
        if [ -n "$LEADER" ]; then
                echo "--- journal of deadlined (last 40 lines)"
                ct journalctl -u deadlined -u deadlined-once --no-pager -n 40 2>&1 || true
        fi
        exit 1
}

# Runs a command inside the booted container, with a clean environment.
ct() {
        nsenter -t "$LEADER" -a -- env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}
ct_sh() { ct sh -c "$1"; }

wait_for() { # TIMEOUT_SECONDS COMMAND... : polls every 0.2 s
        local until=$(($(date +%s) + $1))
        shift
        while ! "$@" >/dev/null 2>&1; do
                [ "$(date +%s)" -lt "$until" ] || return 1
                sleep 0.2
        done
}

cleanup() {
        trap - ERR
        set +e
        if [ -n "$NS_PID" ] && kill -0 "$NS_PID" 2>/dev/null; then
                [ -n "$LEADER" ] && nsenter -t "$LEADER" -a systemctl poweroff >/dev/null 2>&1
                for _ in $(seq 100); do kill -0 "$NS_PID" 2>/dev/null || break; sleep 0.2; done
                kill -KILL "$NS_PID" 2>/dev/null
                wait "$NS_PID" 2>/dev/null
        fi
        if mountpoint -q "$RUN/root"; then umount "$RUN/root"; fi
}
trap cleanup EXIT
trap 'say "FAIL: unexpected error (status $?) at line $LINENO of $0"' ERR

# --- tools ---------------------------------------------------------------
missing=
for t in $NEEDED_TOOLS; do
        command -v "${t%%:*}" >/dev/null || missing="$missing ${t#*:}"
done
if [ -n "$missing" ]; then
        say "installing:$missing"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
                { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null; }
fi

# --- the package ---------------------------------------------------------
step_start "build the .deb"
if [ -n "${DEADLINED_TEST_DEB:-}" ]; then
        DEB=$DEADLINED_TEST_DEB
else
        "$SRC/packaging/build-deb.sh" "$VERSION" "$BUILD" | grep '^make deb:'
        DEB=$BUILD/packages/deadlined_${VERSION}_$(dpkg-architecture -qDEB_HOST_ARCH).deb
fi
[ -f "$DEB" ] || die "no package at $DEB"
step_end

# --- the cached minimal tree ----------------------------------------------
# The mirror and suite of the host: the package is built against the host's
# libraries, so it is tested on the same release.
CODENAME=$(. /etc/os-release && echo "$VERSION_CODENAME")
apt_mirror() {
        local f
        for f in /etc/apt/sources.list.d/*.sources; do
                [ -e "$f" ] || continue
                awk -v suite="$CODENAME" '
                        /^[ \t]*$/ { if (ok && uri) { print uri; exit } ok = 0; uri = ""; next }
                        tolower($1) == "uris:" { uri = $2 }
                        tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
                        END { if (ok && uri) print uri }' "$f"
        done
        cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                sed -n "s/^deb[ \t]\+\(\[[^]]*\][ \t]\+\)\?\([a-z]\+:[^ \t]\+\)[ \t]\+$CODENAME[ \t].*/\2/p" || true
}
MIRROR=${DEADLINED_TEST_MIRROR:-$(apt_mirror | head -1 || true)}
[ -n "$MIRROR" ] || die "no Debian mirror for $CODENAME in /etc/apt/sources.list*; set DEADLINED_TEST_MIRROR"

# What the package needs at run time (first alternative of each), plus
# sqlite3 to look into the database from outside the daemon.
RUNTIME_PKGS=$(dpkg-deb -f "$DEB" Depends | tr ',' '\n' | sed 's/|.*//; s/(.*//; s/[ \t]//g' | grep -v '^$' | sort -u | tr '\n' ' ')
BASE_PKGS="systemd systemd-sysv dbus sqlite3 ca-certificates $RUNTIME_PKGS"
TREE=$CACHE/$CODENAME
mkdir -p "$CACHE"
exec 9>"$CACHE/lock"
flock 9
step_start "minimal $CODENAME tree (cached in $TREE)"
if [ ! -x "$TREE/usr/lib/systemd/systemd" ]; then
        say "debootstrap from $MIRROR (about a minute, once)"
        rm -rf "$TREE.tmp"
        debootstrap --variant=minbase --include=systemd,systemd-sysv,dbus "$CODENAME" "$TREE.tmp" "$MIRROR" \
                > "$CACHE/debootstrap.log" 2>&1 || die "debootstrap failed, see $CACHE/debootstrap.log"
        echo deadlined-test > "$TREE.tmp/etc/hostname"
        mv "$TREE.tmp" "$TREE"
fi
# Packages are added to the cache, never to a run: a run needs no network.
absent=$({ chroot "$TREE" dpkg-query -W -f '${db:Status-Abbrev} ${Package}\n' $BASE_PKGS 2>&1 || true; } |
         awk '$1 != "ii" { print $NF }' | sed 's/^no packages found matching //' | tr '\n' ' ')
if [ -n "${absent// }" ]; then
        say "adding to the cached tree: $absent"
        chroot "$TREE" sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                --no-install-recommends $absent && apt-get clean" > "$CACHE/apt.log" 2>&1 ||
                die "apt-get in the cached tree failed, see $CACHE/apt.log"
fi
step_end

# --- boot ------------------------------------------------------------------
step_start "boot the container"
if mountpoint -q "$RUN/root"; then umount "$RUN/root"; fi
rm -rf "$RUN"
mkdir -p "$RUN/upper" "$RUN/work" "$RUN/root"
mount -t overlay overlay -o "lowerdir=$TREE,upperdir=$RUN/upper,workdir=$RUN/work" "$RUN/root"
cp "$DEB" "$RUN/root/root/deadlined.deb"
# --register=no --keep-unit: no machined or host D-Bus is needed. The
# private network keeps the test off the host's.
setsid systemd-nspawn --register=no --keep-unit --private-network -q -D "$RUN/root" -b --console=pipe \
        > "$RUN/nspawn.log" 2>&1 < /dev/null &
NS_PID=$!
wait_for 20 pgrep -P "$NS_PID" -x systemd || die "the container did not start, see $RUN/nspawn.log"
LEADER=$(pgrep -P "$NS_PID" -x systemd)
wait_for 30 sh -c "nsenter -t $LEADER -a systemctl is-system-running 2>/dev/null | grep -qE '^(running|degraded)$'" ||
        die "the container did not finish booting: $(nsenter -t "$LEADER" -a systemctl is-system-running 2>&1)"
say "booted: $(ct systemctl is-system-running)"
step_end

# --- install ---------------------------------------------------------------
step_start "install the package (dpkg -i)"
ct dpkg -i /root/deadlined.deb > "$RUN/dpkg-install.log" 2>&1 || { cat "$RUN/dpkg-install.log"; die "dpkg -i failed"; }
check "user and group deadlined exist" ct_sh 'getent passwd deadlined >/dev/null && getent group deadlined >/dev/null'
check "the service is enabled" ct systemctl -q is-enabled deadlined.service
check "the service is not started by the installation" sh -c "! nsenter -t $LEADER -a systemctl -q is-active deadlined.service"
check "the timer is installed but not enabled" sh -c "[ \"\$(nsenter -t $LEADER -a systemctl is-enabled deadlined-once.timer)\" = disabled ]"
check "/etc/deadlined/deadlined.conf is 0640 root:deadlined" \
        sh -c "[ \"\$(nsenter -t $LEADER -a stat -c '%a %U:%G' /etc/deadlined/deadlined.conf)\" = '640 root:deadlined' ]"
check "/var/lib/deadlined is 2770 deadlined:deadlined" \
        sh -c "[ \"\$(nsenter -t $LEADER -a stat -c '%a %U:%G' /var/lib/deadlined)\" = '2770 deadlined:deadlined' ]"
check "systemd-analyze verify of the installed units prints nothing" \
        sh -c "[ -z \"\$(nsenter -t $LEADER -a systemd-analyze verify --man=no deadlined.service deadlined-once.service deadlined-once.timer 2>&1)\" ]"
step_end

# --- configure and add tasks as root and as a group member -------------------
step_start "configure; deadlinectl add as root and as a member of group deadlined"
# Reminders every 10 seconds in the last 3 minutes before the deadline, at
# the exact offsets (send_at = "none"), every day a working day.
offsets=$(for s in $(seq 180 -10 0); do printf '"%ss", ' "$s"; done)
ct_sh "cat > /etc/deadlined/deadlined.conf" <<EOF
database = "/var/lib/deadlined/deadlined.db";
timezone = "Asia/Ho_Chi_Minh";
language = "en";
transport = "maildir:/var/lib/deadlined/maildir";

schedule = {
  remind_before = [${offsets%, }];
  send_at = "none";
  overdue_every = "0d";
  workdays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
  digest = false;
};

agencies = (
  { id = "test"; name = "Test agency"; email = ["test@example.org"]; }
);
EOF
check "the configuration is still 0640 root:deadlined" \
        sh -c "[ \"\$(nsenter -t $LEADER -a stat -c '%a %U:%G' /etc/deadlined/deadlined.conf)\" = '640 root:deadlined' ]"
ct deadlinectl check-config || die "deadlinectl check-config refused the test configuration"
ct useradd --create-home --groups deadlined alice
ct_sh 'umask 022; deadlinectl add "check-service: added by root" --agency test --due +3m' ||
        die "deadlinectl add as root failed"
ct_sh 'umask 022; runuser -u alice -- deadlinectl add "check-service: added by alice" --agency test --due +3m' ||
        die "deadlinectl add as alice (group deadlined) failed"

# The daemon's own credentials: user and group deadlined, no others.
as_daemon() { ct setpriv --reuid deadlined --regid deadlined --clear-groups -- "$@"; }
db_files_ok() {
        # One stat for all: -wal and -shm come and go as connections close.
        local name mode group owner ok=0
        while read -r name mode group owner; do
                say "   $name: mode $mode, owner $owner, group $group"
                [ "$group" = deadlined ] && [ $((0$mode & 060)) = $((060)) ] || ok=1
        done < <(ct_sh 'stat -c "%n %a %G %U" /var/lib/deadlined/deadlined.db /var/lib/deadlined/deadlined.db-wal \
                        /var/lib/deadlined/deadlined.db-shm 2>/dev/null' || true)
        return $ok
}
# A write that is rolled back: SQLite lets even a read-only connection
# BEGIN IMMEDIATE, but not create a table.
PROBE='BEGIN IMMEDIATE; CREATE TABLE main.check_service_probe(x); ROLLBACK;'
db_writable_by_daemon() { as_daemon sqlite3 /var/lib/deadlined/deadlined.db "$PROBE" >/dev/null; }
db_writable_by_alice() { ct runuser -u alice -- sqlite3 /var/lib/deadlined/deadlined.db "$PROBE" >/dev/null; }
check "database files are group deadlined and group-writable" db_files_ok
check "the daemon's user can write the database" db_writable_by_daemon
step_end

# --- start, deliver, reload, stop ------------------------------------------------
step_start "systemctl start deadlined (Type=notify)"
t=$(date +%s.%N)
ct systemctl start deadlined.service || die "systemctl start deadlined failed"
say "systemctl start returned after $(elapsed "$t") s"
check "the service is active (running)" \
        sh -c "nsenter -t $LEADER -a systemctl status deadlined --no-pager | grep -q 'Active: active (running)'"
say "   status text: $(ct systemctl show -p StatusText --value deadlined)"
check "the daemon reports a STATUS= text" sh -c "[ -n \"\$(nsenter -t $LEADER -a systemctl show -p StatusText --value deadlined)\" ]"
check "the watchdog is armed" sh -c "[ \"\$(nsenter -t $LEADER -a systemctl show -p WatchdogUSec --value deadlined)\" != 0 ]"
step_end

step_start "a reminder appears in the Maildir"
t=$(date +%s.%N)
first_mail() { ct_sh 'ls /var/lib/deadlined/maildir/new/ 2>/dev/null | grep -q .'; }
if wait_for 240 first_mail; then
        say "first reminder after $(elapsed "$t") s: $(ct_sh 'ls /var/lib/deadlined/maildir/new | head -1')"
        ct_sh 'f=$(ls -d /var/lib/deadlined/maildir/new/* | head -1); sed -n "1,/^\$/p" "$f"' | sed 's/^/   | /'
else
        FAILURES=$((FAILURES + 1))
        say "FAIL: no reminder in /var/lib/deadlined/maildir/new after 240 s"
fi
check "database files are still writable by the daemon and group" db_files_ok
check "the journal has no permission errors" \
        sh -c "! nsenter -t $LEADER -a journalctl -u deadlined -o cat --no-pager | grep -Eiq 'readonly|read-only|permission denied'"
step_end

step_start "systemctl reload deadlined"
pid=$(ct systemctl show -p MainPID --value deadlined)
check "systemctl reload succeeds" ct systemctl reload deadlined.service
sleep 0.5
check "the daemon kept running through the reload (same PID)" \
        sh -c "[ \"\$(nsenter -t $LEADER -a systemctl show -p MainPID --value deadlined)\" = $pid ] && nsenter -t $LEADER -a systemctl -q is-active deadlined"
step_end

step_start "deadlinectl while the daemon runs, then systemctl stop"
ct_sh 'runuser -u alice -- deadlinectl list' | sed 's/^/   | /' || true
check "a group member can change a task while the daemon runs" \
        ct_sh 'runuser -u alice -- deadlinectl add "check-service: while running" --agency test --due +1d >/dev/null'
t=$(date +%s.%N)
check "systemctl stop succeeds" ct systemctl stop deadlined.service
say "systemctl stop took $(elapsed "$t") s"
# One property per call: `systemctl show` prints them in its own order.
prop() { ct systemctl show -p "$1" --value "${2:-deadlined.service}"; }
check "the daemon exited with status 0 and was never restarted" \
        test "$(prop ExecMainStatus) $(prop Result) $(prop NRestarts)" = "0 success 0"
echo "--- journalctl -u deadlined"
ct journalctl -u deadlined.service -o short-monotonic --no-pager | tail -n 30 | sed 's/^/   | /'
check "the journal shows the start-up" \
        sh -c "nsenter -t $LEADER -a journalctl -u deadlined -o cat --no-pager | grep -q 'Started deadlined.service'"
check "the journal has the daemon's own lines" \
        sh -c "[ \$(nsenter -t $LEADER -a journalctl -u deadlined -o cat --no-pager _COMM=deadlined | wc -l) -ge 2 ]"
check "the journal shows a delivery" \
        sh -c "nsenter -t $LEADER -a journalctl -u deadlined -o cat --no-pager _COMM=deadlined | grep -Eiq 'deliver|sent|maildir'"
step_end

# --- bad configuration, one-shot, upgrade --------------------------------------
step_start "a bad configuration: exit 78, no restart loop"
ct cp /etc/deadlined/deadlined.conf /root/good.conf
ct_sh 'echo "schedule = { remind_before = [\"soon\"]; };" > /etc/deadlined/deadlined.conf'
ct systemctl start deadlined.service >/dev/null 2>&1 || true
sleep 0.5
check "the service failed with status 78 and is not being restarted" \
        test "$(prop ExecMainStatus) $(prop ActiveState)" = "78 failed"
ct_sh 'cat /root/good.conf > /etc/deadlined/deadlined.conf'
ct systemctl reset-failed deadlined.service
step_end

step_start "deadlined-once.service (what the timer runs)"
check "deadlined --once as a service succeeds" ct systemctl start deadlined-once.service
check "the timer is valid and can be started" sh -c "nsenter -t $LEADER -a systemctl start deadlined-once.timer && nsenter -t $LEADER -a systemctl -q is-active deadlined-once.timer"
ct systemctl stop deadlined-once.timer
step_end

step_start "the SMTP password as a credential (/etc/credstore/smtp-password)"
# A user name without a password is a configuration error, so whether the
# daemon starts tells whether systemd handed it the credential. No mail is
# sent: nothing is due, and nothing listens on the port.
ct_sh 'cat /root/good.conf > /etc/deadlined/deadlined.conf; sed -i "/^transport/d" /etc/deadlined/deadlined.conf;
       cat >> /etc/deadlined/deadlined.conf' <<'EOF'
smtp = {
  url = "smtp://127.0.0.1:2525";
  allow_plaintext = true;
  username = "check-service";
  from = "deadlined check <deadlined@localhost>";
};
EOF
ct systemctl start deadlined.service >/dev/null 2>&1 || true
check "without the credential file the daemon refuses to start (status 78)" \
        test "$(prop ExecMainStatus) $(prop ActiveState)" = "78 failed"
ct systemctl reset-failed deadlined.service
ct_sh 'install -d -m 0700 /etc/credstore && umask 077 && printf "s3cret" > /etc/credstore/smtp-password'
check "with /etc/credstore/smtp-password it starts" ct systemctl start deadlined.service
check "the credential is readable by the service alone" \
        test "$(ct stat -c '%a %U' /run/credentials/deadlined.service/smtp-password 2>&1)" = "400 deadlined"
ct systemctl stop deadlined.service
ct_sh 'rm -r /etc/credstore; cat /root/good.conf > /etc/deadlined/deadlined.conf'
step_end

step_start "upgrade (dpkg -i again) while running: restarted, tasks kept"
ct systemctl start deadlined.service
before_pid=$(ct systemctl show -p MainPID --value deadlined)
before_tasks=$(ct deadlinectl --json list --all | grep -c '"id":' || true)
ct dpkg -i /root/deadlined.deb > "$RUN/dpkg-upgrade.log" 2>&1 || { cat "$RUN/dpkg-upgrade.log"; die "dpkg -i (upgrade) failed"; }
check "the running daemon was restarted" \
        sh -c "nsenter -t $LEADER -a systemctl -q is-active deadlined && [ \"\$(nsenter -t $LEADER -a systemctl show -p MainPID --value deadlined)\" != $before_pid ]"
check "the tasks are kept ($before_tasks)" \
        sh -c "[ \"\$(nsenter -t $LEADER -a deadlinectl --json list --all | grep -c '\"id\":')\" = $before_tasks ]"
check "the configuration is kept, 0640 root:deadlined" \
        sh -c "nsenter -t $LEADER -a grep -q maildir /etc/deadlined/deadlined.conf && [ \"\$(nsenter -t $LEADER -a stat -c '%a %U:%G' /etc/deadlined/deadlined.conf)\" = '640 root:deadlined' ]"
step_end

# --- a database nobody has created yet -------------------------------------------
# The package creates an empty database (tmpfiles.d) owned by the daemon, so
# the checks above pass whoever runs deadlinectl first. These two cover the
# database being made by a program: SQLite creates it with mode 0644 minus
# the umask, which a group member cannot write, and which, made by root, the
# daemon cannot write.
step_start "a database created by deadlinectl as root, or by the daemon"
ct systemctl stop deadlined.service
ct_sh 'rm -f /var/lib/deadlined/deadlined.db /var/lib/deadlined/deadlined.db-wal /var/lib/deadlined/deadlined.db-shm'
ct_sh 'umask 022; deadlinectl add "check-service: fresh database, root" --agency test --due +1d >/dev/null' ||
        die "deadlinectl add on a new database failed"
check "a database made by deadlinectl as root is writable by the daemon" db_writable_by_daemon
ct_sh 'rm -f /var/lib/deadlined/deadlined.db /var/lib/deadlined/deadlined.db-wal /var/lib/deadlined/deadlined.db-shm'
ct systemctl start deadlined.service
wait_for 10 ct test -e /var/lib/deadlined/deadlined.db || true
ct systemctl stop deadlined.service
check "a database made by the daemon is writable by a group member" db_writable_by_alice
db_files_ok || true
step_end

step_start "purge"
# Back to the database the package makes, whatever the checks above left.
ct_sh 'rm -f /var/lib/deadlined/deadlined.db*; systemd-tmpfiles --create deadlined.conf'
ct systemctl start deadlined.service || die "the daemon does not start on the package's database"
ct dpkg --purge deadlined > "$RUN/dpkg-purge.log" 2>&1 || { cat "$RUN/dpkg-purge.log"; die "dpkg --purge failed"; }
check "purging stops the daemon" sh -c "! nsenter -t $LEADER -a systemctl -q is-active deadlined"
check "purging removes /var/lib/deadlined and /etc/deadlined" \
        sh -c "! nsenter -t $LEADER -a test -e /var/lib/deadlined && ! nsenter -t $LEADER -a test -e /etc/deadlined"
step_end

step_start "power off"
t=$(date +%s.%N)
ct systemctl poweroff || true  # the connection may reset as it goes down
wait_for 30 sh -c "! kill -0 $NS_PID" || die "the container did not power off"
NS_PID=
LEADER=
umount "$RUN/root"
step_end

echo "--- timings"
printf '%s\n' "${TIMINGS[@]}"
echo "  total: $(elapsed "$T0") s"
if [ "$FAILURES" != 0 ]; then
        echo "check-service: FAILED ($FAILURES checks); logs in $RUN"
        exit 1
fi
echo "check-service: passed"
