#!/bin/sh
# test_feedback_maillog.sh - consentctl feedback --maillog: Postfix's own
# status=bounced lines become suppressions with their evidence (no token
# needed), soft ones are counted to the threshold, a later status=sent
# clears the count, deferrals and policy refusals change nothing; and
# --follow as a service: lines appended are read, the file is followed
# across rotation (renamed to FILE.1, or truncated), the position is kept
# across a restart, and the rest of a file rotated while it was stopped
# is read first.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
. "$TOP/tests/lib/assert.sh"
CTL="${CTL_BIN:-$TOP/$BUILD/consentctl}"
W=$(mktemp -d)
FPID=
trap '[ -n "$FPID" ] && kill "$FPID" 2>/dev/null; rm -rf "$W"' EXIT
cat >"$W/c.conf" <<EOF
store: { path = "$W/store"; };
feedback: { queue_dir = "$W/queue"; };
EOF
ctl() { "$CTL" -c "$W/c.conf" "$@"; }
ctl init >/dev/null
L=$W/mail.log

# line N STATUS DSN RCPT TEXT: a delivery line of queue id 4XyZ<N>.
line() {
	printf 'Dec  1 10:%02d:00 mta postfix/smtp[12]: 4XyZ%s: to=<%s>, relay=mx.example.net[192.0.2.25]:25, delay=0.4, delays=0.1/0/0.2/0.1, dsn=%s, status=%s (%s)\n' \
		"$(( $1 % 60 ))" "$1" "$4" "$3" "$2" "$5"
}
cleanup_line() {
	printf 'Dec  1 09:59:00 mta postfix/cleanup[11]: 4XyZ%s: message-id=<%s>\n' "$1" "$2"
}

# --- once
{
	cleanup_line 1001 m1@example.org
	line 1001 bounced 5.1.1 gone@example.net "host mx.example.net[192.0.2.25] said: 550 5.1.1 <gone@example.net>: Recipient address rejected: User unknown (in reply to RCPT TO command)"
	line 1002 bounced 5.7.1 policy@example.net "host mx.example.net[192.0.2.25] said: 550 5.7.1 Message rejected as spam (in reply to end of DATA command)"
	line 1003 deferred 4.2.2 full@example.net "host said: 452 4.2.2 Mailbox full"
	line 1004 bounced 5.2.2 full@example.net "host said: 552 5.2.2 Mailbox full"
	line 1005 bounced 5.2.2 full@example.net "host said: 552 5.2.2 Mailbox full"
	line 1006 sent 2.0.0 full@example.net "250 2.0.0 Ok"
	line 1007 bounced 5.2.2 full2@example.net "host said: 552 5.2.2 Mailbox full"
	line 1008 bounced 5.2.2 full2@example.net "host said: 552 5.2.2 Mailbox full"
	line 1009 bounced 5.2.2 full2@example.net "host said: 552 5.2.2 Mailbox full"
	echo "Dec  1 10:00:00 mta postfix/qmgr[10]: 4XyZ1001: removed"
	printf 'garbage \001\002 line\n'
	printf 'Dec  1 10:59:00 mta postfix/smtp[12]: 4XyZ1010: to=<tail@example.net>, relay=none, dsn=5.1.2, status=bounced (Host or domain name not found)'
} >"$L"
t_run 0 ctl feedback --maillog "$L"
t_out "13 lines: 8 bounced (2 hard, 5 soft, 1 policy); 1 soft counts cleared by a delivery"
t_run 0 ctl show gone@example.net
t_out "suppressed: hard_bounce (source bounce) since 2026-12-01T10:41:00Z"
t_out "ref: <m1@example.org>"
t_out "note: 5.1.1 by mx.example.net (our Postfix, queue id 4XyZ1001): host mx.example.net[192.0.2.25] said: 550 5.1.1"
t_run 1 ctl show policy@example.net		# 5.7.1: the sender's problem
t_run 1 ctl show full@example.net		# two soft, then delivered: cleared
t_run 0 ctl show full2@example.net
t_out "suppressed: soft_bounce (source bounce)"
t_out "expires 2026-12-31T10:49:00Z"		# 30 days after the third
t_run 0 ctl show tail@example.net		# the last line, without a newline
t_out "suppressed: hard_bounce"
t_run 66 ctl feedback --maillog "$W/absent.log"
t_err "absent.log"
t_run 64 ctl feedback --follow
t_run 64 ctl feedback --maillog "$L" --follow "$W/other.log"

# --- --follow
P=$W/pos
: >"$L"
"$CTL" -c "$W/c.conf" feedback --maillog "$L" --follow --position "$P" \
	>"$W/follow.out" 2>&1 &
FPID=$!
# wait_supp ADDRESS: within 10 s, show says ADDRESS is suppressed.
wait_supp() {
	i=0
	while ! ctl show "$1" 2>/dev/null | grep -q suppressed; do
		[ $i -ge 100 ] && { t_fail "$1 not suppressed in time"; return; }
		sleep 0.1
		i=$((i + 1))
	done
	t_ok
}
line 2001 bounced 5.1.1 f1@example.net "550 5.1.1 unknown" >>"$L"
wait_supp f1@example.net
# logrotate's rename: the writer goes on in the old file a moment, then a new one.
mv "$L" "$L.1"
line 2002 bounced 5.1.1 f2@example.net "550 5.1.1 unknown" >>"$L.1"
line 2003 bounced 5.1.1 f3@example.net "550 5.1.1 unknown" >>"$L"
wait_supp f2@example.net
wait_supp f3@example.net
# copytruncate: the same file, emptied (seen shorter than the position at
# the next poll: a file refilled past it in under a second is not), then
# written again.
: >"$L"
sleep 1.5
line 2004 bounced 5.1.1 f4@example.net "550 5.1.1 unknown" >>"$L"
wait_supp f4@example.net
kill -TERM "$FPID"
wait "$FPID"
t_eq "$?" 0 "--follow exits 0 on SIGTERM"
FPID=
grep -q "4 lines: 4 bounced" "$W/follow.out" && t_ok || t_fail "follow counts: $(cat "$W/follow.out")"
t_run 0 test -s "$P"
# A restart goes on where it stopped; lines written while it was down
# count once, even those left in a file rotated meanwhile.
line 2005 bounced 5.1.1 f5@example.net "550 5.1.1 unknown" >>"$L"
mv "$L" "$L.1"
line 2006 bounced 5.1.1 f6@example.net "550 5.1.1 unknown" >>"$L"
"$CTL" -c "$W/c.conf" feedback --maillog "$L" --follow --position "$P" \
	>"$W/follow.out" 2>&1 &
FPID=$!
wait_supp f5@example.net
wait_supp f6@example.net
kill -TERM "$FPID"
wait "$FPID"
FPID=
grep -q "^2 lines: 2 bounced" "$W/follow.out" && t_ok || t_fail "restart re-read lines: $(cat "$W/follow.out")"

t_done
