#!/bin/sh
# shellcheck disable=SC3043
# test_audit_kill.sh - the audit trail survives SIGKILL under load: the
# milter is killed while a private Postfix feeds it, and the log holds no
# half line and a chain that verifies to its last whole line; every
# message Postfix queued has its decisions in the trail (they are written
# before the filter answers); a restarted milter continues the same chain.
#
# Needs root.  Prints "N passed, M failed" last.
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
MILTER=$BUILD/consent-milter
CTL=$BUILD/consentctl
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/assert.sh"
. "$TOP/tests/lib/daemons.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root"
	echo "0 passed, 0 failed"
	exit 0
fi

W=$(pf_tmpdir consent-audit-kill) || exit 1
pf_cleanup_trap
pf_setup "$W" || exit 1
S=$W/store
A=$W/audit.log
: >"$W/empty.conf"
"$CTL" -c "$W/empty.conf" -s "$S" init >/dev/null
"$CTL" -c "$W/empty.conf" -s "$S" subscribe rcpt@example.com --list news >/dev/null
i=1
while [ $i -le 10 ]; do
	"$CTL" -c "$W/empty.conf" -s "$S" subscribe "${i}rcpt@example.com" \
	    --list news >/dev/null
	i=$((i + 1))
done
"$CTL" -c "$W/empty.conf" keygen "$W/audit.key" >/dev/null
cat >"$W/m.conf" <<EOF
store: { path = "$S"; };
milter: { socket = "unix:$PF_RUN/m.sock"; user = ""; socket_group = "postfix"; };
classify: { rules = ( { sender_domain = "news.example.com"; list = "news"; } ); };
audit: { file = "$A"; key_file = "$W/audit.key"; };
EOF

DAEMON_LOGS=$PF_DIR/log/milter.log
start_milter() {
	pf_bg milter "$MILTER" -c "$W/m.conf" -f
	MPID=$PF_BG_PID
	pf_wait_file "$PF_RUN/m.sock" 10
}

t_run 0 start_milter
pf_set_milters "unix:$PF_RUN/m.sock"
t_run 0 pf_start

# Load: 4 sessions, 2 recipients a message (rcpt@, 2rcpt@), the milter
# killed mid-run.
smtp-source -A -s 4 -m 3000 -r 2 -f promo@news.example.com -t rcpt@example.com \
    "127.0.0.1:$PF_PORT" >"$W/source.log" 2>&1 &
SRC=$!
# Killed under load: once 50 decisions are in the trail (60 s at most).
i=0
while [ "$(wc -l <"$A")" -le 50 ] && [ $i -lt 1200 ] && kill -0 "$SRC" 2>/dev/null; do
	sleep 0.05
	i=$((i + 1))
done
n1=$(wc -l <"$A")
kill -9 "$MPID"
t_eq "$(pf_bg_status milter)" 137 "the milter's end: SIGKILL"
kill -0 "$SRC" 2>/dev/null && t_ok || t_fail "smtp-source had finished before the kill: no load"
wait "$SRC" 2>/dev/null
[ "$n1" -gt 50 ] && t_ok || t_fail "only $n1 audit lines before the kill: no load"

# No half line: the file ends with a newline, and the chain holds.
tail -c 1 "$A" | od -An -c | grep -q '\\n' && t_ok || t_fail "the last line is not whole"
t_run 0 "$CTL" -c "$W/m.conf" audit verify "$A"
t_out "chain intact"
# Every message Postfix queued before the kill had its decisions written
# first: each queue id in the mail log is in the trail.
queued() {
	sed -n 's/.*postfix\/qmgr\[[0-9]*\]: \([0-9A-F]*\): from=<promo@news.example.com>.*/\1/p' \
	    "$PF_LOG" | sort -u
}
missing() {
	for q in $(queued); do
		grep -q "\"qid\":\"$q\"" "$A" || echo "$q"
	done
}
pf_wait_queue_empty 60 >/dev/null 2>&1
echo "# $(queued | wc -l) messages queued, $n1 audit lines at the kill"
nq=$(queued | wc -l)
[ "$nq" -gt 0 ] && t_ok || t_fail "no message was queued before the kill"
t_eq "$(missing | head -n 5 | tr '\n' ' ')" "" "queued messages without their audit lines"

# A restarted milter continues the chain; a new decision verifies too.
t_run 0 start_milter
t_run 0 pf_send_expect 250 --from promo@news.example.com --to 1rcpt@example.com
t_run 0 pf_wait_queue_empty 30
t_run 0 "$CTL" -c "$W/m.conf" audit verify "$A"
grep -c '"type":"open"' "$A" | grep -qx 2 && t_ok || t_fail "expected two open lines"
# The decisions are findable by address, through the keyed pseudonym.
t_run 0 "$CTL" -c "$W/m.conf" audit find 1rcpt@example.com
t_out '"verdict":"allow"'
t_check "the restarted milter exits 0 after SIGTERM" daemon_end milter
t_check "no sanitizer report in the milter's stderr" sanitizers_quiet
pf_teardown 0 >/dev/null 2>&1
t_done
