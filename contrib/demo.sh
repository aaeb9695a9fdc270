#!/bin/sh
# make demo: the main job on the embedded defaults. Three tasks of the sample
# province go into a fresh SQLite database; deadlined starts on them with the
# maildir transport and the reminders due appear as e-mail files.
set -eu
build=${1:-build}
demo=$build/demo
ctl="$build/deadlinectl -c $demo/demo.conf"

rm -rf "$demo"
mkdir -p "$demo"
cp conf/demo.conf "$demo/demo.conf"

# The tasks were entered ten days ago, so their 7-day reminders fell due
# while the daemon was not running: it sends them as soon as it starts
# (one catch-up per task and agency, never one per missed slot).
then=$(date -d '10 days ago' +%Y-%m-%dT%H:%M)
$ctl --now "$then" add "Rà soát, điều chuyển kế hoạch vốn đầu tư công năm 2025" \
        --agency stc --support skhdt,kbnn --due "$(date -d '+3 days' +%Y-%m-%d)" --ref 1 --document 2417/UBND-KTTH
$ctl --now "$then" add "Kiểm tra chất lượng công trình trường học xây mới" \
        --agency sxd --support cachuyen --due "$(date -d '+5 days' +%Y-%m-%d)" --ref 2 --document 2417/UBND-KTTH
$ctl --now "$then" add "Kết nối Hệ thống quản lý văn bản với Trục liên thông quốc gia" \
        --agency stttt --due "$(date -d '-4 days' +%Y-%m-%d)" --ref 3.a --document 2417/UBND-KTTH
echo
$ctl list
echo
echo "Starting deadlined for 5 seconds (Ctrl-C stops it sooner)..."
timeout --preserve-status -s TERM 5 "$build/deadlined" -c "$demo/demo.conf" || true
echo
echo "Reminders delivered to $demo/maildir/new:"
for f in "$demo"/maildir/new/*; do
        [ -e "$f" ] || { echo "  (none)"; exit 1; }
        /usr/bin/python3 - "$f" <<'PY'
import email, email.policy, sys
m = email.message_from_binary_file(open(sys.argv[1], "rb"), policy=email.policy.default)
print(f"  To: {m['To']}")
if m["Cc"]:
    print(f"  Cc: {m['Cc']}")
print(f"  Subject: {m['Subject']}\n")
PY
done
echo "Open them with any mail client, e.g.: mutt -f $demo/maildir"
