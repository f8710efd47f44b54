#!/bin/sh
# test_feedback_maillog.sh - consentctl feedback --maillog: Postfix's own
# status=bounced lines become suppressions with their evidence when qmgr's
# line for the queue id names a signed return path for that recipient,
# soft ones are counted to the threshold, a later status=sent clears the
# count, deferrals and policy refusals change nothing; lines a local user
# forges with logger(1) (no sender line, an unsigned one, another
# recipient's tag, another queue id's) change nothing at all; and
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
"$CTL" -s "$W/x" keygen "$W/k1.key" >/dev/null
cat >"$W/c.conf" <<EOF
store: { path = "$W/store"; };
unsubscribe: { keys = ( { id = 1; file = "$W/k1.key"; } ); };
feedback: { queue_dir = "$W/queue"; sign_return_path = true; };
EOF
ctl() { "$CTL" -c "$W/c.conf" "$@"; }
ctl init >/dev/null
L=$W/mail.log

# qmgr_line N SENDER: qmgr's line of queue id 4XyZ<N>, sent from SENDER.
qmgr_line() {
	printf 'Dec  1 09:59:30 mta postfix/qmgr[10]: 4XyZ%s: from=<%s>, size=1234, nrcpt=1 (queue active)\n' "$1" "$2"
}
# signed RCPT: the return path the milter gives a bulk message to RCPT.
signed() { ctl feedback sign "$1" bounces@example.org; }
# "feedback sign -": one return path a recipient line, as one at a time.
printf 'a1@example.net\r\nB2@Example.NET\n' | ctl feedback sign - bounces@example.org >"$W/signs" &&
	[ "$(sed -n 1p "$W/signs")" = "$(signed a1@example.net)" ] &&
	[ "$(sed -n 2p "$W/signs")" = "$(signed b2@example.net)" ] &&
	[ "$(wc -l <"$W/signs")" -eq 2 ] && t_ok || t_fail "feedback sign - differs from one at a time"
printf 'a1@example.net\nnot an address\n' | ctl feedback sign - bounces@example.org >"$W/signs" 2>"$W/signs.err" &&
	t_fail "feedback sign - took a line that is no address" || t_ok
[ "$(wc -l <"$W/signs")" -eq 1 ] && [ -s "$W/signs.err" ] && t_ok ||
	t_fail "feedback sign -: the bad line not named, or went on past it"
# dline N STATUS DSN RCPT TEXT: a delivery line of queue id 4XyZ<N>.
dline() {
	printf 'Dec  1 10:%02d:00 mta postfix/smtp[12]: 4XyZ%s: to=<%s>, relay=mx.example.net[192.0.2.25]:25, delay=0.4, delays=0.1/0/0.2/0.1, dsn=%s, status=%s (%s)\n' \
		"$(( $1 % 60 ))" "$1" "$4" "$3" "$2" "$5"
}
# line N STATUS DSN RCPT TEXT: qmgr's line with RCPT's signed return path,
# then the delivery line: two lines.
line() {
	qmgr_line "$1" "$(signed "$4")"
	dline "$@"
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
	qmgr_line 1010 "$(signed tail@example.net)"
	printf 'Dec  1 10:59:00 mta postfix/smtp[12]: 4XyZ1010: to=<tail@example.net>, relay=none, dsn=5.1.2, status=bounced (Host or domain name not found)'
} >"$L"
t_run 0 ctl feedback --maillog "$L"
t_out "23 lines: 8 bounced (2 hard, 5 soft, 1 policy); 1 soft counts cleared by a delivery"
t_out "0 failures not applied"
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

# --- forgeries: any local user can write Postfix's lines to the mail log
# (logger -p mail.info -t postfix/smtp); none of these changes anything.
F=$W/forged.log
{
	# no qmgr line at all
	dline 3001 bounced 5.1.1 victim1@example.net "550 5.1.1 unknown"
	# an unsigned sender
	qmgr_line 3002 bounces@example.org
	dline 3002 bounced 5.1.1 victim2@example.net "550 5.1.1 unknown"
	# a real tag, the forger's own (mail they received), for the victim
	qmgr_line 3003 "$(signed forger@example.net)"
	dline 3003 bounced 5.1.1 victim3@example.net "550 5.1.1 unknown"
	# the victim's real tag, but on another queue id
	qmgr_line 3004 "$(signed victim4@example.net)"
	dline 3005 bounced 5.1.1 victim4@example.net "550 5.1.1 unknown"
	# the victim's tag with a forged signature
	qmgr_line 3006 "$(signed victim5@example.net | sed 's/a@/b@/;t;s/.@/a@/')"
	dline 3006 bounced 5.1.1 victim5@example.net "550 5.1.1 unknown"
	# soft bounces, three of them, unsigned: never a soft_bounce
	for n in 3007 3008 3009; do
		dline $n bounced 5.2.2 victim6@example.net "552 5.2.2 Mailbox full"
	done
} >"$F"
t_run 0 ctl feedback --maillog "$F"
t_out "8 bounced (5 hard, 3 soft, 0 policy)"
t_out "0 changes to the store; 8 failures not applied"
for v in victim1 victim2 victim3 victim4 victim5 victim6; do
	t_run 1 ctl show $v@example.net
done
# A forged delivery does not clear a real soft count either.
line 3010 bounced 5.2.2 soft1@example.net "552 5.2.2 Mailbox full" >"$F"
t_run 0 ctl feedback --maillog "$F"
t_out "1 soft, 0 policy"
# The same log read again (a lost position, a second run): the message
# of queue id 4XyZ3010 counts once.
t_run 0 ctl feedback --maillog "$F"
t_run 0 ctl show soft1@example.net
t_out "soft bounces: 1"
dline 3011 sent 2.0.0 soft1@example.net "250 2.0.0 Ok" >"$F"
t_run 0 ctl feedback --maillog "$F"
t_out "0 soft counts cleared by a delivery"
t_run 0 ctl show soft1@example.net
t_out "soft bounces: 1"
# A busy log: 20,000 other messages pass through qmgr (each with a sender
# that looks signed, and its "removed") between the victim's message
# entering the active queue and its bounce; its proof is kept.
{
	qmgr_line 3020 "$(signed busy@example.net)"
	awk 'BEGIN { for (i = 0; i < 20000; i++) {
		printf "Dec  1 10:00:00 mta postfix/qmgr[10]: 5B%06dX: from=<bounces+fb-01abcdabcdabcdabcdabcdab@example.org>, size=900, nrcpt=1 (queue active)\n", i
		printf "Dec  1 10:00:01 mta postfix/qmgr[10]: 5B%06dX: removed\n", i } }'
	dline 3020 bounced 5.1.1 busy@example.net "550 5.1.1 unknown"
} >"$F"
t_run 0 ctl feedback --maillog "$F"
t_out "1 changes to the store; 0 failures not applied"
t_run 0 ctl show busy@example.net
t_out "suppressed: hard_bounce"
# Without the keys, the channel says that nothing can be proven.
grep -v '^unsubscribe' "$W/c.conf" | sed 's/ sign_return_path = true;//' >"$W/nokeys.conf"
line 3012 bounced 5.1.1 nokey@example.net "550 5.1.1 unknown" >"$F"
t_run 0 "$CTL" -c "$W/nokeys.conf" feedback --maillog "$F"
t_err "no unsubscribe.keys: no bounce in the mail log can be proven ours"
t_run 1 ctl show nokey@example.net

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
grep -q "8 lines: 4 bounced" "$W/follow.out" && t_ok || t_fail "follow counts: $(cat "$W/follow.out")"
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
grep -q "^4 lines: 2 bounced" "$W/follow.out" && t_ok || t_fail "restart re-read lines: $(cat "$W/follow.out")"

# The store moved away and another put in its place while it follows: it
# stops (75: systemd starts it again, on the new store), nothing written
# into the old one, and the line is read again after the restart.
"$CTL" -c "$W/c.conf" feedback --maillog "$L" --follow --position "$P" \
	>"$W/follow.out" 2>&1 &
FPID=$!
sleep 0.5
mv "$W/store" "$W/store.old"
cp -a "$W/store.old" "$W/store"
line 2007 bounced 5.1.1 f7@example.net "550 5.1.1 unknown" >>"$L"
i=0
while kill -0 "$FPID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
wait "$FPID"
t_eq "$?" 75 "--follow exits 75 when its store was replaced"
FPID=
grep -q "not the one at its path any more" "$W/follow.out" && t_ok || t_fail "no reason: $(cat "$W/follow.out")"
t_run 1 "$CTL" -c "$W/c.conf" -s "$W/store.old" show f7@example.net
"$CTL" -c "$W/c.conf" feedback --maillog "$L" --follow --position "$P" \
	>"$W/follow.out" 2>&1 &
FPID=$!
wait_supp f7@example.net
kill -TERM "$FPID"
wait "$FPID"
FPID=

t_done
