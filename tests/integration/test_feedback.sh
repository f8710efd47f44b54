#!/bin/sh
# shellcheck disable=SC3043,SC2317
# test_feedback.sh - the bounce loop through a real, private Postfix:
#
#   1. a bulk message to alice@dead.example, whose next hop (a python3
#      responder, tests/lib/smtp_reject.py, reached by a transport_maps
#      entry) answers "550 5.1.1 ... User unknown": consent-milter signed
#      the return path (news+fb-TAG@news.example.com) and added the
#      List-Unsubscribe token; Postfix's own DSN goes back to that
#      address, which transport_maps sends to a pipe(8) service running
#      "consentctl feedback --rcpt ${recipient}"; the store records a
#      hard_bounce with its evidence; the next message to alice is refused
#      at RCPT and nothing reaches the sink.
#   2. the same with List-Unsubscribe off (SIGUSR1 reload): the DSN
#      carries no token, the signed return path alone proves the bounce.
#   3. forged DSNs naming a subscriber (bob@example.net), crafted by hand
#      and mailed to the plain return address and to a forged tag: nothing
#      changes (bob still gets mail), both wait in the review queue.
#   4. the mail-log channel: a bounce whose DSN goes elsewhere (another
#      sender, not routed to the pipe) is read from Postfix's own log by
#      "consentctl feedback --maillog", and the next message is refused.
#
# Needs root.  Prints "N passed, M failed" last; exits 1 on failure.
# BUILD (default build) names the binaries.  PF_KEEP=1 keeps the directory.
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
MILTER=$BUILD/consent-milter
CTL=$BUILD/consentctl
# shellcheck source=tests/lib/postfix.sh
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/assert.sh"
. "$TOP/tests/lib/daemons.sh"

# ctl ARGS... : consentctl as the test's operator (root), quiet.
ctl() {
	"$CTL" -c "$CONF" "$@" >>"$PF_DIR/log/consentctl.log" 2>&1
}

# ctl_says TEXT ARGS... : "consentctl ARGS" prints TEXT.
ctl_says() {
	local want="$1" out
	shift
	out=$("$CTL" -c "$CONF" "$@" 2>&1)
	case "$out" in *"$want"*) return 0 ;; esac
	echo "  consentctl $*: expected '$want' in: $out" >&2
	return 1
}

# wait_says SECONDS TEXT ARGS... : ctl_says, polled until it holds.
wait_says() {
	local n=$(( $1 * 10 )) i=0 want="$2"
	shift 2
	while ! "$CTL" -c "$CONF" "$@" 2>&1 | grep -qF -- "$want"; do
		if [ $i -ge $n ]; then
			ctl_says "$want" "$@"
			return 1
		fi
		sleep 0.1
		i=$((i + 1))
	done
}

# write_conf ENABLE : the configuration of consent-milter and consentctl;
# ENABLE is unsubscribe.enable (true or false).
write_conf() {
	cat >"$CONF.new" <<EOF
store: { path = "$PF_DIR/store"; recipient_delimiter = "+"; };
milter: {
	socket = "unix:$PF_RUN/consent.sock";
	user = "";
	socket_group = "postfix";
	socket_mode = "0660";
	shutdown_timeout = 2;
};
classify: {
	rules = ( { sender_domain = "news.example.com"; list = "news"; } );
};
unsubscribe: {
	enable = $1;
	keys = ( { id = 1; file = "$PF_DIR/keys/1.key"; } );
	url = "https://unsub.example.test/u/%t";
	listen = "127.0.0.1:0";
	user = "";
};
feedback: {
	queue_dir = "$PF_DIR/fbqueue";
	sign_return_path = true;
};
EOF
	chmod 0644 "$CONF.new"
	mv "$CONF.new" "$CONF"
}

# send FROM RCPT <MESSAGE : one SMTP transaction; transcript in PF_SEND_LOG.
send() {
	PF_SEND_LOG=$(mktemp "$PF_DIR/swaks/smtp.XXXXXX") || return 1
	"$PY" "$TOP/tests/lib/smtp_send.py" "$PF_PORT" "$1" "$2" \
		<"$M" >"$PF_SEND_LOG" 2>&1
}

# message TO SUBJECT : a bulk message from news@news.example.com.
message() {
	printf 'From: News <news@news.example.com>\r\nTo: %s\r\nSubject: %s\r\n' \
		"$1" "$2"
	printf 'Date: %s\r\nMessage-ID: <%s.%s@news.example.com>\r\n' \
		"$(date -R)" "$$" "$(date +%s%N)"
	printf 'MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nThe news.\r\n'
}

# rcpt_is CODE : the last transaction's RCPT got a reply starting with CODE.
rcpt_is() {
	grep -q "^RCPT .* $1" "$PF_SEND_LOG" && return 0
	echo "  RCPT reply is not $1:" >&2
	sed 's/^/  /' "$PF_SEND_LOG" >&2
	return 1
}

# data_is CODE : the end of data got CODE.
data_is() {
	grep -q "^DATA $1" "$PF_SEND_LOG" && return 0
	echo "  DATA reply is not $1:" >&2
	sed 's/^/  /' "$PF_SEND_LOG" >&2
	return 1
}

# forged_dsn RCPT : a DSN crafted by hand, as anyone could mail it.
forged_dsn() {
	cat <<EOF
From: MAILER-DAEMON@mx.attacker.example
To: $1
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="F"

--F
Content-Type: text/plain

bob@example.net: user unknown

--F
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.attacker.example

Final-Recipient: rfc822; bob@example.net
Original-Recipient: rfc822; bob@example.net
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <bob@example.net>: User unknown

--F
Content-Type: text/rfc822-headers

From: News <news@news.example.com>
To: bob@example.net
Subject: The news
List-Unsubscribe: <https://unsub.example.test/u/AXq7Zt3dFZ9cLr1pQe0b5YwKJmN2sV8hU4oG6iT_xRaE-lBkCgHjD7fWnMzSyOv1Pu3Q9e2RtL0aZ5XcVbNmKdJhGf8sWqYpUo4I6rE_TyA-lk>
--F--
EOF
}

# ------------------------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: a private Postfix needs root"
	t_finish pf_teardown
fi
for b in "$MILTER" "$CTL"; do
	[ -x "$b" ] || { t_fail "$b is built"; t_finish pf_teardown; }
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

pf_cleanup_trap
pf_at_exit 'for p in $STOPPING; do kill -KILL "$p" 2>/dev/null; done'
dir=$(pf_tmpdir consent-feedback) || { t_fail "make a test directory"; t_finish pf_teardown; }
t_check "private instance set up in $dir" pf_setup "$dir" || t_finish pf_teardown
CONF=$PF_DIR/consent.conf
M=$PF_DIR/message.eml
mkdir -p "$PF_DIR/keys" && chmod 0755 "$PF_DIR/keys"
t_check "consentctl keygen makes the token key" \
	"$CTL" -c /dev/null keygen "$PF_DIR/keys/1.key" >/dev/null || t_finish pf_teardown
write_conf true
seed() {
	ctl init && ctl subscribe alice@dead.example --list news &&
		ctl subscribe carol@dead.example --list news &&
		ctl subscribe dave@dead.example --list news &&
		ctl subscribe bob@example.net --list news || return 1
	# pipe(8) runs consentctl as nobody: the store, the queue and the key
	# are that user's.
	mkdir -p "$PF_DIR/fbqueue" &&
		chown -R nobody "$PF_DIR/store" "$PF_DIR/fbqueue" "$PF_DIR/keys/1.key"
}
t_check "store made: alice, carol (dead.example) and bob opted in to news" seed ||
	t_finish pf_teardown

pf_bg rejector "$PY" "$TOP/tests/lib/smtp_reject.py" "$PF_RUN/rejector.port" 600
t_check "the rejecting next hop listens" pf_wait_file "$PF_RUN/rejector.port" 10 ||
	t_finish pf_teardown
REJPORT=$(cat "$PF_RUN/rejector.port")
# The return address's transport: the README's master.cf line.
cat >>"$PF_CONF/master.cf" <<EOF
feedback  unix  -       n       n       -       -       pipe
  user=nobody argv=$CTL -c $CONF feedback --rcpt \${recipient}
EOF
t_check "transport_maps: dead.example to the rejector, the return address to feedback" \
	pf_postconf "recipient_delimiter = +" \
	"transport_maps = inline:{ dead.example=smtp:[127.0.0.1]:$REJPORT, news@news.example.com=feedback: }" ||
	t_finish pf_teardown
t_check "Postfix and sink started" pf_start || t_finish pf_teardown
DAEMON_LOGS="$DAEMON_LOGS $PF_DIR/log/consent-milter.log"
t_check "consent-milter started" pf_daemon_start consent-milter 'listening on' \
	"$MILTER" -c "$CONF" -f || t_finish pf_teardown
t_check "Postfix uses the milter" pf_set_milters "unix:$PF_RUN/consent.sock" ||
	t_finish pf_teardown

# --- 1. a 550 5.1.1 comes back as Postfix's DSN and stops the next message
pf_sink_reset
message alice@dead.example "news, first issue" >"$M"
send news@news.example.com alice@dead.example
t_check "1. bulk to alice@dead.example: accepted" data_is 250
t_check "1. the next hop refused it: status=bounced, dsn=5.1.1" \
	pf_wait_log 'to=<alice@dead.example>.*dsn=5\.1\.1, status=bounced' 20
t_check "1. the DSN went back to a signed return path, through the feedback pipe" \
	pf_wait_log 'to=<news\+fb-01[0-9a-f]{4}[a-z2-7]{16}@news\.example\.com>.*relay=feedback.*status=sent' 20
t_check "1. consentctl feedback recorded a hard_bounce for alice" \
	wait_says 10 "suppressed: hard_bounce (source bounce)" show alice@dead.example
t_check "1. with its evidence: the code, the remote MTA's words, the Message-ID" \
	ctl_says "550 5.1.1 <alice@dead.example>: Recipient address rejected: User unknown" \
	show alice@dead.example
ctl_says "ref: <$$." show alice@dead.example || t_fail "1. ref is the original Message-ID"
message alice@dead.example "news, second issue" >"$M"
send news@news.example.com alice@dead.example
t_check "1. the next message to alice is refused at RCPT (550 5.7.1)" rcpt_is 550
t_check "1. nothing reached the sink" [ "$(pf_sink_files | wc -l)" -eq 0 ]

# --- 2. no List-Unsubscribe: the signed return path alone is the proof
write_conf false
n=$(grep -c 'configuration reloaded' "$PF_DIR/log/consent-milter.log")
kill -USR1 "$(cat "$PF_RUN/consent-milter.pid")"
i=0
while [ "$(grep -c 'configuration reloaded' "$PF_DIR/log/consent-milter.log")" -le "$n" ] &&
	[ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
message carol@dead.example "news, first issue" >"$M"
send news@news.example.com carol@dead.example
t_check "2. bulk to carol, no List-Unsubscribe: accepted" data_is 250
t_check "2. hard_bounce for carol on the return path's proof" \
	wait_says 20 "suppressed: hard_bounce (source bounce)" show carol@dead.example
pf_log_grep 'to=<news\+fb-01.*relay=feedback.*status=sent' | grep -q . ||
	t_fail "2. the DSN went to the signed return path"

# --- 3. forged DSNs for a subscriber: nothing changes, both are queued
forged_dsn news@news.example.com >"$M"
send "" news@news.example.com
t_check "3. a forged DSN to the return address: accepted by Postfix" data_is 250
forged_dsn news+fb-01$(printf '%04x' $(( $(date +%s) / 86400 )))aaaaaaaaaaaaaaaa@news.example.com >"$M"
send "" news+fb-01$(printf '%04x' $(( $(date +%s) / 86400 )))aaaaaaaaaaaaaaaa@news.example.com
t_check "3. a forged DSN to a forged tag: accepted by Postfix" data_is 250
t_check "3. both were delivered to consentctl feedback" pf_wait_queue_empty 20
t_check "3. bob is still allowed" ctl check bob@example.net --list news
t_check "3. both reports wait in the review queue, naming bob" \
	wait_says 10 "bob@example.net 5.1.1  no proof" feedback queue list
n=$("$CTL" -c "$CONF" feedback queue list | grep -c 'bob@example.net')
t_check "3. two of them ($n)" [ "$n" -eq 2 ]
pf_sink_reset
message bob@example.net "news, first issue" >"$M"
send news@news.example.com bob@example.net
t_check "3. the next message to bob is delivered" data_is 250
t_check "3. at the sink" pf_wait_queue_empty 20
pf_sink_recipients | grep -q 'bob@example.net' || t_fail "3. bob at the sink"

# --- 4. the mail-log channel: Postfix's own record, no token needed
pf_sink_reset
message dave@dead.example "offers, first issue" >"$M"
send offers@news.example.com dave@dead.example
t_check "4. bulk to dave from another sender: accepted" data_is 250
t_check "4. refused by the next hop: status=bounced, dsn=5.1.1" \
	pf_wait_log 'to=<dave@dead.example>.*dsn=5\.1\.1, status=bounced' 20
t_check "4. its DSN went elsewhere (the sink), not through the pipe" pf_wait_queue_empty 20
not_suppressed() { ! "$CTL" -c "$CONF" show "$1" | grep -q suppressed; }
t_check "4. so nothing is recorded yet" not_suppressed dave@dead.example
# alice's, carol's and dave's bounces: the first two were recorded already.
t_check "4. consentctl feedback --maillog reads Postfix's log" \
	ctl_says "3 bounced (3 hard, 0 soft, 0 policy); 0 soft counts cleared by a delivery; 1 changes" \
	feedback --maillog "$PF_LOG"
t_check "4. hard_bounce for dave, our MTA's words as evidence" \
	ctl_says "(our Postfix, queue id" show dave@dead.example
message dave@dead.example "offers, second issue" >"$M"
send offers@news.example.com dave@dead.example
t_check "4. the next message to dave is refused at RCPT (550 5.7.1)" rcpt_is 550

daemon_stop consent-milter
pf_kill_bg rejector 2>/dev/null
t_check "the daemons stop on SIGTERM" daemons_gone
t_check "no sanitizer report" sanitizers_quiet
t_finish pf_teardown
