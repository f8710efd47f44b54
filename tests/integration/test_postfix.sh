#!/bin/sh
# shellcheck disable=SC3043,SC2317
# test_postfix.sh - consent-milter (the real daemon) in front of a real,
# private Postfix, every result checked where it counts: at the smtp-sink
# (who received which copy, with which headers), in the SMTP replies, and
# in Postfix's hold queue.  The mail log alone proves nothing.
#
#   envelope-classified bulk (a sender_domain rule): denied recipients get
#     550 5.7.1 at RCPT, the allowed ones are delivered
#   header-classified bulk (X-Consent-List, List-Id): denied recipients are
#     removed at end of message, whatever the RCPT form (<Gone@Example.COM>,
#     "< never@example.com>", "RCPT TO: <...>", no brackets, +tags)
#   every recipient denied: nothing delivered (refused at RCPT / at DATA)
#   transactional mail: delivered to everyone, untouched
#   actions tag (X-Consent header), redirect (holding mailbox with
#     X-Consent-Redirected-For), quarantine (Postfix's hold queue)
#   sendmail(1) (non_smtpd_milters): a mixed message refused whole, never a
#     Postfix "configuration error"
#   a live consentctl change is seen by the next message, no reload
#   fail closed: store missing (then created: recovers), corrupt,
#     unreadable (milter as "nobody"), milter killed (451 4.7.1)
#
# Needs root.  Prints "N passed, M failed" last; exits 1 on failure.
# BUILD (default build) names the binaries; CONSENTCTL overrides the
# consentctl used to seed the store.  Under a sanitizer build every milter
# is stopped with SIGTERM (so LeakSanitizer runs) and its stderr checked.
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
MILTER=$BUILD/consent-milter
CTL=${CONSENTCTL:-$BUILD/consentctl}
# shellcheck source=tests/lib/postfix.sh
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/assert.sh"
. "$TOP/tests/lib/daemons.sh"

# --- the store and the milter -------------------------------------------

ctl() {
	"$CTL" -c "$PF_DIR/empty.conf" -s "$S" "$@" >>"$PF_DIR/log/consentctl.log" 2>&1
}

# seed : the consent store every case below relies on (list "news").
seed() {
	ctl init &&
	ctl subscribe in@example.com --list news &&
	ctl subscribe conf@example.com --list news --confirmed &&
	ctl subscribe gone@example.com --list news --at 2024-01-01T00:00:00Z &&
	ctl unsubscribe gone@example.com --list news &&
	ctl suppress bounce@example.com --reason hard_bounce &&
	ctl suppress blocked.example --reason manual &&
	ctl subscribe pend@example.com --list news --pending &&
	ctl suppress compl@example.com --reason complaint &&
	ctl suppress soft@example.com --reason soft_bounce --expires 7d &&
	ctl subscribe live@example.com --list news --at 2024-01-01T00:00:00Z
	# never@example.com: no record at all.
}

# write_conf NAME STOREPATH USER : a milter configuration naming only what
# differs from the defaults; socket $PF_RUN/NAME.sock.
write_conf() {
	cat >"$PF_DIR/$1.conf" <<EOF
store: { path = "$2"; };
milter: {
	socket = "unix:$PF_RUN/$1.sock";
	user = "$3";
	socket_group = "postfix";
	socket_mode = "0660";
	shutdown_timeout = 2;
};
classify: {
	rules = ( { sender_domain = "news.example.com"; list = "news"; } );
};
actions: {
	pending = "tag";
	complaint = "redirect";
	soft_bounce = "quarantine";
	redirect_to = "holding@quarantine.example.net";
};
EOF
}

# milter_start NAME : start consent-milter with $PF_DIR/NAME.conf in the
# foreground (stderr in $PF_DIR/log/NAME.log), wait until it listens, and
# point Postfix (SMTP and sendmail) at its socket.
milter_start() {
	local log="$PF_DIR/log/$1.log" i=0
	DAEMON_LOGS="$DAEMON_LOGS $log"
	pf_bg "$1" "$MILTER" -c "$PF_DIR/$1.conf" -f
	until grep -q 'listening on' "$log" 2>/dev/null; do
		if [ $i -ge 200 ] || ! pf__alive "$PF_BG_PID"; then
			echo "  $1 did not start:" >&2
			sed 's/^/  /' "$log" >&2
			return 1
		fi
		pf__sleep
		i=$((i + 1))
	done
	[ -S "$PF_RUN/$1.sock" ] && pf_set_milters "unix:$PF_RUN/$1.sock"
}

# --- messages and results ----------------------------------------------

# send_raw : an SMTP session from the commands on stdin, sent verbatim
# (RCPT forms swaks cannot make); transcript in PF_SEND_LOG, in swaks'
# format so that pf_send_reply reads it.
send_raw() {
	PF_SEND_LOG=$(mktemp "$PF_DIR/swaks/raw.XXXXXX") || return 1
	"$PY" "$PF_DIR/smtpraw.py" "$PF_PORT" >"$PF_SEND_LOG" 2>&1
}

write_smtpraw() {
	cat >"$PF_DIR/smtpraw.py" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), 30)
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline().decode("latin-1").rstrip("\r\n")
        if not line:
            print("<** (connection closed)")
            return "000"
        print(("<** " if line[:1] in "45" else "<-  ") + line)
        if len(line) < 4 or line[3] != "-":
            return line[:3]
reply()
data = False
for line in sys.stdin.read().split("\n"):
    if line == "" and not data:
        continue
    s.sendall(line.encode("latin-1") + b"\r\n")
    if data:
        if line == ".":
            data = False
            reply()
        continue
    print(" -> " + line)
    if reply() == "354" and line.upper() == "DATA":
        data = True
s.close()
EOF
}

# rcpt_reply ADDR : the reply to "RCPT TO:<ADDR>" in the last transcript.
rcpt_reply() {
	awk -v want=" -> RCPT TO:<$1>" '
	found && /^<[-*~]+ / { sub(/^<[-*~]+ +/, ""); print; exit }
	$0 == want { found = 1 }' "$PF_SEND_LOG"
}

# expect_rcpt CODE ADDR... : each ADDR got a reply starting with CODE.
expect_rcpt() {
	local want="$1" a got rc=0
	shift
	for a in "$@"; do
		got=$(rcpt_reply "$a")
		case "$got" in
		"$want"*) ;;
		*) echo "  RCPT TO:<$a>: expected '$want', got '$got'" \
			"($PF_SEND_LOG)" >&2
		   rc=1 ;;
		esac
	done
	return $rc
}

# expect_recipients LIST : since the last pf_sink_reset, the sink's
# recipients (sorted) are exactly the space-separated LIST.
expect_recipients() {
	local want got
	want=$(echo "$1" | tr ' ' '\n' | sed '/^$/d' | sort)
	got=$(pf_sink_recipients | cut -f2 | sort)
	[ "$got" = "$want" ] && return 0
	echo "  expected at the sink: $(echo "$want" | tr '\n' ' ')" >&2
	echo "  received at the sink: $(echo "$got" | tr '\n' ' ')" >&2
	return 1
}

# delivered LIST : the queue drains, then expect_recipients LIST.
delivered() {
	pf_wait_queue_empty 20 && expect_recipients "$1"
}

# settled LIST : like delivered, but a message that waits in the maildrop
# (sendmail(1) mail the milter tempfailed; pickup retries it) may stay.
settled() {
	local i=0
	while [ "$(find "$PF_QUEUE/incoming" "$PF_QUEUE/active" \
	    "$PF_QUEUE/deferred" -type f | wc -l)" -ne 0 ]; do
		[ $i -ge 400 ] && { echo "  queue not settled" >&2; return 1; }
		pf__sleep
		i=$((i + 1))
	done
	expect_recipients "$1"
}

# sink_file ADDR : the sink file that ADDR received.
sink_file() {
	pf_sink_recipients | awk -F'\t' -v a="$1" '$2 == a { print $1; exit }'
}

# copy_says ADDR TEXT : ADDR's copy has TEXT, lines unfolded.
copy_says() {
	local f
	f=$(sink_file "$1")
	[ -n "$f" ] && tr '\n' ' ' <"$f" | tr -s ' ' | grep -qF -- "$2"
}

# header_is ADDR NAME VALUE : ADDR's copy has header NAME equal to VALUE.
header_is() {
	local f got
	f=$(sink_file "$1")
	[ -n "$f" ] || { echo "  no copy for $1" >&2; return 1; }
	got=$(pf_sink_header "$f" "$2")
	[ "$got" = "$3" ] && return 0
	echo "  $1: $2: expected '$3', got '$got'" >&2
	return 1
}

# no_header ADDR NAME : ADDR's copy has no NAME header.
no_header() {
	local f
	f=$(sink_file "$1")
	[ -n "$f" ] || { echo "  no copy for $1" >&2; return 1; }
	! pf_sink_header "$f" "$2" >&2
}

# message FROM TO SUBJECT [HEADER...] : a message for sendmail(1).
message() {
	local from="$1" to="$2" subj="$3"
	shift 3
	printf 'From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s.%s@example.org>\n' \
		"$from" "$to" "$subj" "$$" "$(date +%s%N)"
	for h in "$@"; do printf '%s\n' "$h"; done
	printf '\nHello.\n'
}

# held_count : messages in the hold queue.
held_count() {
	find "$PF_QUEUE/hold" -type f 2>/dev/null | wc -l
}

# postqueue_held : postqueue -p marks a held message with "!".
postqueue_held() {
	PATH=$PF_POSTFIX_PATH postqueue -c "$PF_CONF" -p |
		grep -qE '^[0-9A-Za-z]+!'
}

# log_since MARK ERE : the mail log, after line MARK, has no line ERE.
log_clean_since() {
	! tail -n +"$(($1 + 1))" "$PF_LOG" | grep -iE -- "$2" >&2
}

# wait_log_since N ERE TIMEOUT : wait until the mail log has a line after
# its first N that matches ERE.
wait_log_since() {
	local i=0
	until tail -n +"$(($1 + 1))" "$PF_LOG" | grep -qE -- "$2"; do
		[ $i -ge $(($3 * 20)) ] && return 1
		pf__sleep
		i=$((i + 1))
	done
}

# milter_log NAME ERE : NAME's stderr has a line matching ERE.
milter_log() {
	grep -qE -- "$2" "$PF_DIR/log/$1.log"
}

# wait_milter_log NAME ERE TIMEOUT : wait until milter_log NAME ERE.
wait_milter_log() {
	local i=0
	until milter_log "$1" "$2"; do
		[ $i -ge $(($3 * 20)) ] && return 1
		pf__sleep
		i=$((i + 1))
	done
}

# queued : the last transcript ends its DATA with "250 ... queued as".
queued() {
	grep -q '^<-  250 .*queued as' "$PF_SEND_LOG"
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

start=$(date +%s.%N)
pf_cleanup_trap
pf_at_exit 'for p in $STOPPING; do kill -KILL "$p" 2>/dev/null; done'
dir=$(pf_tmpdir consent-postfix) || { t_fail "make a test directory"; t_finish pf_teardown; }
t_check "private instance set up in $dir" pf_setup "$dir" || t_finish pf_teardown
: >"$PF_DIR/empty.conf"
S=$PF_DIR/store
write_smtpraw
t_check "store seeded with consentctl" seed || t_finish pf_teardown
write_conf main "$S" ""
t_check "Postfix and sink started" pf_start || t_finish pf_teardown
t_check "consent-milter started (root, unix socket, group postfix)" \
	milter_start main || t_finish pf_teardown
t_check "socket is 0660 root:postfix" \
	[ "$(stat -c '%a %U %G' "$PF_RUN/main.sock")" = "660 root postfix" ]

# 1. Envelope classification: refusals at RCPT time.
pf_sink_reset
pf_send --from news@news.example.com \
	--to in@example.com,conf@example.com,gone@example.com,never@example.com,bounce@example.com,x@blocked.example,in+promo@example.com,gone+x@example.com
t_check "envelope bulk: allowed recipients get 250 at RCPT" \
	expect_rcpt 250 in@example.com conf@example.com in+promo@example.com
t_check "envelope bulk: unsubscribed, never opted in, hard-bounced, domain-suppressed, +tag of unsubscribed get 550 5.7.1 at RCPT" \
	expect_rcpt "550 5.7.1" gone@example.com never@example.com \
	bounce@example.com x@blocked.example gone+x@example.com
t_check "envelope bulk: the reply names the list and reason" \
	expect_rcpt "550 5.7.1 Recipient may not receive bulk mail on list news (unsubscribed)" \
	gone@example.com
t_check "envelope bulk: message accepted for the rest" queued
t_check "envelope bulk: exactly the allowed recipients at the sink" \
	delivered "in@example.com conf@example.com in+promo@example.com"

# 2. Header classification (X-Consent-List), odd RCPT forms, removal at
# end of message with the RCPT argument exactly as the client sent it.
pf_sink_reset
send_raw <<EOF
EHLO client.example.org
MAIL FROM:<promo@shop.example.org>
RCPT TO:<in@example.com>
RCPT TO:<Gone@Example.COM>
RCPT TO:< never@example.com>
RCPT TO: <bounce+x@example.com>
RCPT TO:<x@Blocked.Example>
RCPT TO:<In+Promo@Example.com>
RCPT TO:conf@example.com
DATA
From: promo@shop.example.org
To: undisclosed-recipients:;
Subject: header-classified
X-Consent-List: news

Hello.
.
QUIT
EOF
t_check "X-Consent-List bulk: all 7 RCPTs accepted" \
	[ "$(grep -c '^<-  250 2.1.5' "$PF_SEND_LOG")" -eq 7 ]
t_check "X-Consent-List bulk: message accepted" queued
t_check "X-Consent-List bulk: <Gone@Example.COM>, < never@...>, RCPT TO: <bounce+x@...>, <x@Blocked.Example> removed; exactly the allowed at the sink" \
	delivered "in@example.com In+Promo@Example.com conf@example.com"
t_check "X-Consent-List bulk: the list header is stripped before delivery" \
	no_header in@example.com X-Consent-List
t_check "X-Consent-List bulk: the filter logged the removals" \
	milter_log main 'rcpt=<gone@example.com> verdict=deny reason=unsubscribed action=reject stage=eom outcome=removed'

# 3. Header classification by List-Id, mixed case through swaks.
pf_sink_reset
t_check "List-Id bulk: accepted at RCPT, then at end of message" \
	pf_send_expect 250 --from promo@shop.example.org \
	--to in@example.com,Gone@Example.COM,NEVER@example.com,Conf@EXAMPLE.com \
	--header 'List-Id: Our newsletter <news>'
t_check "List-Id bulk: Gone@Example.COM and NEVER@example.com removed" \
	delivered "in@example.com Conf@EXAMPLE.com"

# 4. Every recipient denied: nothing is delivered.
pf_sink_reset
t_check "envelope bulk, all denied: each RCPT 550 5.7.1" \
	pf_send_expect "550 5.7.1" --from news@news.example.com \
	--to gone@example.com,never@example.com
t_check "envelope bulk, all denied: both refused" \
	expect_rcpt "550 5.7.1" gone@example.com never@example.com
t_check "header bulk, all denied: refused at end of DATA with 550 5.7.1" \
	pf_send_expect "550 5.7.1 No recipient may receive bulk mail on list news" \
	--from promo@shop.example.org --to gone@example.com,Never@Example.com \
	--header 'X-Consent-List: news'
t_check "all denied: nothing at the sink" delivered ""

# 5. Transactional mail: no rule, no list header: untouched.
pf_sink_reset
t_check "transactional: accepted" pf_send_expect 250 \
	--from receipts@shop.example.org \
	--to never@example.com,gone@example.com,bounce@example.com \
	--header 'Subject: your receipt'
t_check "transactional: every recipient delivered (even suppressed ones)" \
	delivered "never@example.com gone@example.com bounce@example.com"
t_check "transactional: no X-Consent header added" \
	no_header bounce@example.com X-Consent
t_check "transactional: headers untouched" \
	header_is bounce@example.com Subject "your receipt"

# 6. Action tag (pending -> tag): delivered, with X-Consent.
pf_sink_reset
t_check "tag: accepted" pf_send_expect 250 --from news@news.example.com \
	--to pend@example.com,in@example.com
t_check "tag: both delivered" delivered "pend@example.com in@example.com"
t_check "tag: X-Consent names reason and list" \
	header_is pend@example.com X-Consent "deny; reason=pending; list=news; recipients=1"

# 7. Action redirect (complaint -> redirect) to the holding mailbox.
pf_sink_reset
t_check "redirect: accepted" pf_send_expect 250 --from news@news.example.com \
	--to compl@example.com
t_check "redirect: only the holding mailbox receives it" \
	delivered "holding@quarantine.example.net"
t_check "redirect: X-Consent-Redirected-For names the original recipient" \
	header_is holding@quarantine.example.net X-Consent-Redirected-For \
	"<compl@example.com>; reason=complaint; list=news"

# 8. Action quarantine (soft_bounce -> quarantine): Postfix's hold queue.
pf_sink_reset
t_check "quarantine: accepted" pf_send_expect 250 --from news@news.example.com \
	--to soft@example.com,in@example.com
t_check "quarantine: nothing at the sink" delivered ""
t_check "quarantine: one message in the hold queue" [ "$(held_count)" -eq 1 ]
t_check "quarantine: postqueue -p marks it held (!)" postqueue_held
PATH=$PF_POSTFIX_PATH postsuper -c "$PF_CONF" -d ALL hold 2>/dev/null

# 9. sendmail(1): non_smtpd_milters; never a refusal per recipient (no
# config error).  Postfix removes by the original recipient but shows the
# filter the rewritten one, so no removal is sure there: a message mixing
# allowed and denied recipients is refused whole (its sender gets the
# bounce, saying why); one denied alone is discarded.
pf_sink_reset
mark=$(wc -l <"$PF_LOG")
message news@news.example.com "in@example.com, gone@example.com" "via sendmail" |
	pf_sendmail -f news@news.example.com in@example.com gone@example.com
t_check "sendmail: accepted by sendmail(1)" [ $? -eq 0 ]
message news@news.example.com gone@example.com "via sendmail, all denied" |
	pf_sendmail -f news@news.example.com gone@example.com never@example.com
t_check "sendmail: all-denied message accepted by sendmail(1)" [ $? -eq 0 ]
t_check "sendmail: the mixed message is refused whole: only its bounce, to the sender" \
	delivered "news@news.example.com"
t_check "sendmail: the bounce says why" \
	copy_says news@news.example.com 'cannot be removed with certainty'

t_check "sendmail: no configuration error in the Postfix log" \
	log_clean_since "$mark" 'configuration (error|problem)|warning:.*milter'
t_check "sendmail: the filter logged action=drop" \
	milter_log main 'rcpt=<gone@example.com> verdict=deny reason=unsubscribed action=drop'
t_check "sendmail: nothing left in the queue or held" [ "$(held_count)" -eq 0 ]
pf_sink_reset
message news@news.example.com in@example.com "via sendmail, allowed" |
	pf_sendmail -f news@news.example.com in@example.com
t_check "sendmail: an allowed recipient alone is delivered" delivered "in@example.com"
t_check "sendmail: the copy delivered is the one sent" \
	header_is in@example.com Subject "via sendmail, allowed"

# 10. A live change with consentctl, seen by the next message.
pf_sink_reset
t_check "live: live@example.com receives bulk" pf_send_expect 250 \
	--from news@news.example.com --to live@example.com
t_check "live: consentctl unsubscribe while everything runs" \
	ctl unsubscribe live@example.com --list news
t_check "live: the next message to live@example.com gets 550 5.7.1" \
	pf_send_expect "550 5.7.1" --from news@news.example.com --to live@example.com
t_check "live: delivered once only" delivered "live@example.com"
t_check "no milter warnings in the mail log so far" \
	log_clean_since 0 'warning:.*milter'
daemon_stop main

# 11. Fail closed.
# (a) The store is missing when the milter starts; then it appears.
write_conf nostore "$PF_DIR/nostore" ""
t_check "(a) milter starts without a store" milter_start nostore
pf_sink_reset
t_check "(a) missing store: envelope bulk gets 451 4.3.0 at RCPT" \
	pf_send_expect "451 4.3.0" --from news@news.example.com --to in@example.com
t_check "(a) missing store: header bulk gets 451 4.3.0 at end of DATA" \
	pf_send_expect "451 4.3.0" --from promo@shop.example.org \
	--to in@example.com --header 'X-Consent-List: news'
t_check "(a) missing store: transactional mail still accepted" \
	pf_send_expect 250 --from receipts@shop.example.org --to never@example.com
message news@news.example.com in@example.com "sendmail, no store" |
	pf_sendmail -f news@news.example.com in@example.com
t_check "(a) missing store: sendmail(1) takes a bulk message" [ $? -eq 0 ]
t_check "(a) missing store: Postfix logs the milter's 4.3.0 for it" \
	pf_wait_log 'cleanup.*4\.3\.0' 10
t_check "(a) missing store: only the transactional message delivered" \
	settled "never@example.com"
t_check "(a) missing store: the sendmail(1) message waits in the maildrop" \
	[ "$(find "$PF_QUEUE/maildrop" -type f | wc -l)" -eq 1 ]
t_check "(a) the filter said why" \
	milter_log nostore 'store unavailable, bulk mail is tempfailed'
cp -a "$S" "$PF_DIR/nostore"
t_check "(a) the store appears: the filter opens it within seconds" \
	wait_milter_log nostore 'store open: .*\(recovered\)' 5
pf_sink_reset
pf_send --from news@news.example.com --to in@example.com,gone@example.com
PATH=$PF_POSTFIX_PATH postkick -c "$PF_CONF" public pickup W
t_check "(a) recovered: the opted-in recipient gets 250 at RCPT" \
	expect_rcpt 250 in@example.com
t_check "(a) recovered: the unsubscribed one gets 550 5.7.1 at RCPT" \
	expect_rcpt "550 5.7.1" gone@example.com
t_check "(a) recovered: message accepted" queued
t_check "(a) recovered: the allowed recipient delivered, and the held sendmail(1) message too" \
	delivered "in@example.com in@example.com"
daemon_stop nostore

# (b) The store is corrupt: garbage where data.mdb should be.
mkdir -p "$PF_DIR/corrupt" && chmod 0750 "$PF_DIR/corrupt"
head -c 65536 /dev/urandom >"$PF_DIR/corrupt/data.mdb"
write_conf corrupt "$PF_DIR/corrupt" ""
t_check "(b) milter starts on a corrupt store" milter_start corrupt
pf_sink_reset
t_check "(b) corrupt store: envelope bulk gets 451 4.3.0" \
	pf_send_expect "451 4.3.0" --from news@news.example.com \
	--to in@example.com,conf@example.com
t_check "(b) corrupt store: header bulk gets 451 4.3.0" \
	pf_send_expect "451 4.3.0" --from promo@shop.example.org \
	--to in@example.com --header 'List-Id: <news>'
t_check "(b) corrupt store: transactional mail still accepted" \
	pf_send_expect 250 --from receipts@shop.example.org --to conf@example.com
t_check "(b) corrupt store: only the transactional message delivered" \
	delivered "conf@example.com"
daemon_stop corrupt

# (c) The store is unreadable by the milter's user.
cp -a "$S" "$PF_DIR/private"
chown -R root:root "$PF_DIR/private" && chmod 0700 "$PF_DIR/private"
write_conf private "$PF_DIR/private" nobody
t_check "(c) milter starts as root, becomes nobody" milter_start private
t_check "(c) it runs as nobody" \
	[ "$(ps -o user= -p "$(cat "$PF_RUN/private.pid")" | tr -d ' ')" = nobody ]
t_check "(c) its socket is nobody:postfix 0660" \
	[ "$(stat -c '%a %U %G' "$PF_RUN/private.sock")" = "660 nobody postfix" ]
pf_sink_reset
t_check "(c) unreadable store: envelope bulk gets 451 4.3.0" \
	pf_send_expect "451 4.3.0" --from news@news.example.com --to in@example.com
t_check "(c) unreadable store: transactional mail still accepted" \
	pf_send_expect 250 --from receipts@shop.example.org --to in@example.com
t_check "(c) unreadable store: only the transactional message delivered" \
	delivered "in@example.com"
t_check "(c) the filter said why (permission)" \
	milter_log private 'store unavailable.*([Pp]ermission|EACCES)'
daemon_stop private

# (d) The milter is down: milter_default_action = tempfail.
write_conf down "$S" ""
t_check "(d) a fresh milter" milter_start down
pf_kill_bg down KILL
pf_sink_reset
t_check "(d) milter killed: bulk mail gets 451 4.7.1" \
	pf_send_expect "451 4.7.1" --from news@news.example.com --to in@example.com
t_check "(d) milter killed: transactional mail gets 451 4.7.1 too" \
	pf_send_expect "451 4.7.1" --from receipts@shop.example.org --to in@example.com
mark=$(wc -l <"$PF_LOG")
message news@news.example.com in@example.com "sendmail, milter down" |
	pf_sendmail -f news@news.example.com in@example.com
t_check "(d) milter killed: cleanup tried it for the sendmail(1) message" \
	wait_log_since "$mark" 'postfix/cleanup.*Milter service .*/down\.sock' 20
t_check "(d) milter killed: nothing delivered" settled ""
t_check "(d) milter killed: the sendmail(1) message waits in the queue" \
	[ "$(pf_queue_count)" -ge 1 ]

t_check "every milter exited after SIGTERM" daemons_gone
t_check "no sanitizer report in any milter's stderr" sanitizers_quiet
pf_stop
echo "# $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
t_finish pf_teardown
