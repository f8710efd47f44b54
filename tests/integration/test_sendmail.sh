#!/bin/sh
# shellcheck disable=SC3043,SC2317
# test_sendmail.sh - consent-milter (the real daemon) in front of a real,
# private Sendmail 8.17 (tests/lib/sendmail.sh: Debian's .debs unpacked
# beside the system's Postfix, never installed), configured with the
# README's sendmail.mc lines as they stand.  What test_postfix.sh and
# test_rcpt_forms.sh check for Postfix, checked for Sendmail at the
# smtp-sink, in the SMTP replies, in Sendmail's queue and in its own log:
#
#   envelope-classified bulk (a sender_domain rule, and a {daemon_name}
#     rule on a second Sendmail daemon): 550 5.7.1 at RCPT for the
#     unsubscribed, never opted in, hard-bounced, domain-suppressed and
#     pending (with reject) recipients; the allowed ones delivered
#   header-classified bulk: the denied removed at end of message, whatever
#     the RCPT form; Sendmail logs each removal with naddrs=1
#   Sendmail's queue id in every log line and audit record of the filter,
#     the same as in Sendmail's log (no NOQUEUE)
#   transactional mail untouched; tag, redirect, quarantine (Sendmail's
#     own: an hf file, listed by mailq -qQ)
#   List-Unsubscribe added, and its one-click POST to consent-unsubd
#     unsubscribes: the next message is refused
#   sendmail(1), Sendmail's MSP: it submits over SMTP, where recipients
#     are refused at RCPT (the MSP bounces them) or removed
#   the odd RCPT forms of test_rcpt_forms.sh: a denied recipient is never
#     delivered, at either stage; 8-bit and SMTPUTF8 mail
#   fail closed: a corrupt store (451 4.3.0), the filter down (F=T: 451,
#     and the MSP keeps the message queued); and the limit the README
#     warns of: "sendmail -Am" bypasses every filter
#
# Needs root.  Prints "N passed, M failed" last; exits 1 on failure.
# BUILD (default build) names the binaries.  PF_KEEP=1 keeps the test
# directory.  The first run downloads Sendmail's .debs into
# /var/tmp/consent-sendmail-cache (SM_CACHE).
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
export TOP
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
MILTER=$BUILD/consent-milter
UNSUBD=$BUILD/consent-unsubd
CTL=$BUILD/consentctl
# shellcheck source=tests/lib/postfix.sh
. "$TOP/tests/lib/postfix.sh"
# shellcheck source=tests/lib/sendmail.sh
. "$TOP/tests/lib/sendmail.sh"
. "$TOP/tests/lib/assert.sh"
. "$TOP/tests/lib/daemons.sh"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# --- the store, the filter ------------------------------------------------

ctl() {
	"$CTL" -c "$SM_DIR/consent.conf" "$@" >>"$SM_DIR/log/consentctl.log" 2>&1
}

# seed : the store (list news) every case relies on; never@example.com and
# bob@example.com have no record at all.
seed() {
	ctl init &&
	ctl subscribe in@example.com --list news &&
	ctl subscribe conf@example.com --list news --confirmed &&
	ctl subscribe gone@example.com --list news --at 2024-01-01T00:00:00Z &&
	ctl unsubscribe gone@example.com --list news &&
	ctl suppress bounce@example.com --reason hard_bounce &&
	ctl suppress blocked.example --reason manual &&
	ctl subscribe pend@example.com --list news --pending &&
	ctl subscribe tagme@example.com --list news --pending &&
	ctl suppress compl@example.com --reason complaint &&
	ctl suppress soft@example.com --reason soft_bounce --expires 7d &&
	ctl subscribe live@example.com --list news --at 2024-01-01T00:00:00Z &&
	ctl subscribe click@example.com --list news &&
	ctl subscribe alice@example.com --list news &&
	ctl subscribe erin@example.com --list news --at 2025-01-01T00:00:00Z &&
	ctl unsubscribe erin@example.com --list news --at 2025-06-01T00:00:00Z
}

# write_conf NAME STORE [ACTIONS] : the filter's configuration NAME (socket
# $SM_RUN/NAME.sock, audit trail $SM_DIR/NAME.audit); consentctl and
# consent-unsubd read consent.conf.  ACTIONS default to ACTIONS.
ACTIONS='pending = "reject"; complaint = "redirect"; soft_bounce = "quarantine";'
write_conf() {
	local actions="${3:-$ACTIONS}"
	cat >"$SM_DIR/$1.conf" <<EOF
store: { path = "$2"; };
milter: {
	socket = "unix:$SM_RUN/$1.sock";
	user = "";
	shutdown_timeout = 2;
};
classify: {
	rules = (
		{ sender_domain = "news.example.com"; list = "news"; },
		{ daemon_name = "bulk-submission"; list = "news"; }
	);
};
actions: {
	$actions
	redirect_to = "holding@quarantine.example.net";
};
audit: { file = "$SM_DIR/$1.audit"; pseudonymize = false; };
unsubscribe: {
	enable = true;
	keys = ( { id = 1; file = "$SM_DIR/keys/1.key"; } );
	url = "https://unsub.example.test/u/%t";
	listen = "127.0.0.1:0";
	trusted_proxies = "127.0.0.1";
	user = "";
};
EOF
}

# milter_mc NAME : the README's sendmail.mc lines, for the filter NAME.
milter_mc() {
	sed -n '/^dnl consent-milter: begin/,/^dnl consent-milter: end/p' \
	    "$TOP/README.md" |
	    sed "s#/run/consent-milter/consent-milter.sock#${SM_RUN:-}/$1.sock#"
}

# milter_start NAME : consent-milter with NAME.conf in the foreground
# (stderr in log/NAME.log); wait until it listens, then point Sendmail at
# its socket (a restart of the daemon, with the README's lines).
milter_start() {
	local log="$SM_DIR/log/$1.log" i=0
	DAEMON_LOGS="$DAEMON_LOGS $log"
	pf_bg "$1" "$MILTER" -c "$SM_DIR/$1.conf" -f
	until grep -q 'listening on' "$log" 2>/dev/null; do
		if [ $i -ge 200 ] || ! pf__alive "$PF_BG_PID"; then
			echo "  $1 did not start:" >&2
			sed 's/^/  /' "$log" >&2
			return 1
		fi
		pf__sleep
		i=$((i + 1))
	done
	sm_set_milter_mc "$(milter_mc "$1")"
}

# --- messages and results -----------------------------------------------

# raw FROM [--header H]... -- RCPT... : one SMTP transaction with the RCPT
# arguments as given (tests/lib/smtp_raw.py); its lines in $RAW.
raw() {
	RAW=$SM_DIR/swaks/raw.$$.$(date +%s%N)
	"$PY" "$TOP/tests/lib/smtp_raw.py" "${RAW_PORT:-$SM_PORT}" "$@" \
		>"$RAW" 2>&1
}

# raw_reply CMD [ARG] : the reply to MAIL, DATA, or RCPT ARG in $RAW.
raw_reply() {
	if [ "$1" = RCPT ]; then
		awk -v a="$2" 'index($0, "RCPT " a " ") == 1 {
			print substr($0, length("RCPT " a " ") + 1); exit }' "$RAW"
	else
		sed -n "s/^$1 //p" "$RAW" | head -n 1
	fi
}

# raw_expect CMD [ARG] CODE : that reply starts with CODE.
raw_expect() {
	local got want
	if [ "$1" = RCPT ]; then got=$(raw_reply RCPT "$2"); want=$3
	else got=$(raw_reply "$1"); want=$2; fi
	case "$got" in "$want"*) return 0 ;; esac
	echo "  $1 ${2:-}: expected '$want', got '$got' ($RAW)" >&2
	return 1
}

# rcpt_reply ADDR : the reply to "RCPT TO:<ADDR>" in the last pf_send.
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

# queued : the last pf_send's DATA got "250 ... Message accepted".
queued() {
	grep -q '^<-  250 .*Message accepted for delivery' "$PF_SEND_LOG"
}

# qid_of_send : Sendmail's queue id from the last pf_send's DATA reply.
qid_of_send() {
	sed -n 's/^<-  250 2\.0\.0 \([0-9A-Za-z]*\) Message accepted.*/\1/p' \
		"$PF_SEND_LOG" | tail -n 1
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

# delivered LIST : both queues drain, then expect_recipients LIST.
delivered() {
	sm_wait_queue_empty 20 && expect_recipients "$1"
}

# sink_file ADDR : the sink file that ADDR received.
sink_file() {
	pf_sink_recipients | awk -F'\t' -v a="$1" '$2 == a { print $1; exit }'
}

# wait_copy ADDR : wait (10 s) until the sink has a copy for ADDR.
wait_copy() {
	local i=0
	until [ -n "$(sink_file "$1")" ]; do
		[ $i -ge 200 ] && { echo "  no copy for $1" >&2; return 1; }
		pf__sleep
		i=$((i + 1))
	done
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

# copy_says ADDR TEXT : ADDR's copy has TEXT, lines unfolded.
copy_says() {
	local f
	f=$(sink_file "$1")
	[ -n "$f" ] && tr '\n' ' ' <"$f" | tr -s ' ' | grep -qF -- "$2"
}

# message FROM TO SUBJECT [HEADER...] : a message for sendmail(1).
message() {
	local from="$1" to="$2" subj="$3" h
	shift 3
	printf 'From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s.%s@example.org>\n' \
		"$from" "$to" "$subj" "$$" "$(date +%s%N)"
	for h in "$@"; do printf '%s\n' "$h"; done
	printf '\nHello.\n'
}

# log_mark : the number of lines in Sendmail's log so far.
log_mark() {
	wc -l <"$SM_LOG"
}

# sm_since MARK : Sendmail's log after line MARK, without syslog's prefix.
sm_since() {
	tail -n +"$(($1 + 1))" "$SM_LOG" | sed 's/^<[0-9]*>.*sendmail\[[0-9]*\]: //'
}

# removals_confirmed MARK N : since MARK, Sendmail logged N removals for
# the filter, each of which matched a recipient (naddrs=1).
removals_confirmed() {
	local all bad
	all=$(sm_since "$1" | grep -c 'Milter (consent-milter) delete: rcpt ')
	bad=$(sm_since "$1" | grep 'Milter (consent-milter) delete: rcpt ' |
		grep -v 'naddrs=1$')
	[ "$all" -eq "$2" ] && [ -z "$bad" ] && return 0
	echo "  Sendmail logged $all removals, wanted $2; unmatched: $bad" >&2
	return 1
}

# milter_log NAME ERE : NAME's stderr has a line matching ERE.
milter_log() {
	grep -qE -- "$2" "$SM_DIR/log/$1.log"
}

# joined QID ADDR : the filter logged a decision for ADDR under Sendmail's
# queue id QID, which Sendmail's own log shows for the same message.
joined() {
	[ -n "$1" ] && milter_log main "^consent-milter: $1: list=news rcpt=<$2> " &&
		grep -q "sendmail\[[0-9]*\]: $1: from=" "$SM_LOG" &&
		grep -q "\"qid\":\"$1\"" "$SM_DIR/main.audit"
}

# doctor_clean : consentctl doctor finds nothing to say of the Sendmail
# wiring in the .cf this test runs (its Postfix findings do not count).
doctor_clean() {
	"$CTL" -c "$SM_DIR/main.conf" doctor --sendmail-cf "$SM_CF" --json \
	    >"$SM_DIR/log/doctor.json" 2>&1
	"$PY" - "$SM_DIR/log/doctor.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
bad = [f for f in d.get("findings", []) if f.get("area") == "sendmail"]
for f in bad:
    print("  doctor: " + f.get("message", "?"), file=sys.stderr)
sys.exit(1 if bad else 0)
PY
}

# ------------------------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: a private Sendmail needs root (mount and UTS namespaces," \
		"its queue, smtp-sink -u)"
	echo "0 passed, 0 failed"
	exit 0
fi
for b in "$MILTER" "$CTL" "$UNSUBD"; do
	[ -x "$b" ] || { t_fail "$b is built"; t_finish pf_teardown; }
done
for c in m4 unshare smtp-sink swaks curl; do
	command -v "$c" >/dev/null 2>&1 || { t_fail "$c is installed (make deps)"; t_finish pf_teardown; }
done

start=$(date +%s.%N)
pf_cleanup_trap
pf_at_exit 'for p in $STOPPING; do kill -KILL "$p" 2>/dev/null; done'
pf_at_exit 'sm_stop'
t_check "a private Sendmail in $SM_PREFIX (apt-get download, dpkg -x, chmod g-s)" \
	sm_prefix || t_finish pf_teardown
dir=$(sm_tmpdir consent-sendmail) || { t_fail "make a test directory"; t_finish pf_teardown; }
[ -n "$(milter_mc x)" ] || { t_fail "the README has its sendmail.mc lines"; t_finish pf_teardown; }
t_check "private Sendmail $(sm_version) set up in $dir (README's sendmail.mc lines)" \
	sm_setup "$dir" "$(milter_mc main)" || t_finish pf_teardown
mkdir -p "$SM_DIR/keys" && chmod 0700 "$SM_DIR/keys"
"$CTL" keygen "$SM_DIR/keys/1.key" >/dev/null 2>&1 || t_fail "consentctl keygen"
S=$SM_DIR/store
write_conf consent "$S"
t_check "store seeded with consentctl" seed || t_finish pf_teardown
write_conf main "$S"
t_check "sink and Sendmail started (no 60 s wait for a host name)" sm_start ||
	t_finish pf_teardown
t_check "consent-milter started; Sendmail restarted on its socket" \
	milter_start main || t_finish pf_teardown
t_check "consentctl doctor --sendmail-cf finds nothing to fix in the tested .cf" \
	doctor_clean

# 1. Envelope classification: refusals at RCPT time, Sendmail's queue id.
pf_sink_reset
mark=$(log_mark)
pf_send --from news@news.example.com \
	--to in@example.com,conf@example.com,gone@example.com,never@example.com,bounce@example.com,x@blocked.example,pend@example.com,in+promo@example.com,gone+x@example.com
QID=$(qid_of_send)
t_check "1. envelope bulk: allowed recipients get 250 at RCPT" \
	expect_rcpt 250 in@example.com conf@example.com in+promo@example.com
t_check "1. envelope bulk: unsubscribed, never opted in, hard-bounced, domain-suppressed, pending, +tag of unsubscribed get 550 5.7.1 at RCPT" \
	expect_rcpt "550 5.7.1" gone@example.com never@example.com \
	bounce@example.com x@blocked.example pend@example.com gone+x@example.com
t_check "1. envelope bulk: the reply names the list and reason (after Sendmail's \"<addr>... \")" \
	expect_rcpt "550 5.7.1 <gone@example.com>... Recipient may not receive bulk mail on list news (unsubscribed)" \
	gone@example.com
t_check "1. envelope bulk: message accepted for the rest" queued
t_check "1. envelope bulk: exactly the allowed recipients at the sink" \
	delivered "in@example.com conf@example.com in+promo@example.com"
t_check "1. the filter's log line and audit record carry Sendmail's queue id ($QID), as Sendmail's log does" \
	joined "$QID" in@example.com
t_check "1. ... for the refused ones too, never NOQUEUE" \
	milter_log main "^consent-milter: $QID: list=news rcpt=<gone@example.com> .*stage=rcpt outcome=rejected"
t_check "1. no NOQUEUE in the filter's log" \
	eval '! grep -q NOQUEUE "$SM_DIR/log/main.log"'
t_check "1. the filter said once which MTA it met" \
	milter_log main "MTA: Sendmail \\($(sm_version)\\); recipients are removed by its rules"

# 1b. A {daemon_name} rule: Sendmail's second daemon, Name=bulk-submission.
pf_sink_reset
PF_PORT=$SM_PORT2 pf_send --from promo@shop.example.org \
	--to in@example.com,gone@example.com
t_check "1b. {daemon_name} = bulk-submission classifies: 550 5.7.1 at RCPT for the unsubscribed" \
	expect_rcpt "550 5.7.1" gone@example.com
t_check "1b. ... and the opted-in recipient delivered" delivered "in@example.com"

# 2. Header classification, odd RCPT forms, removal at end of message.
pf_sink_reset
mark=$(log_mark)
raw "<promo@shop.example.org>" --header "X-Consent-List: news" -- \
	"<in@example.com>" "<Gone@Example.COM>" "< never@example.com>" \
	"<bounce+x@example.com>" "<x@Blocked.Example>" "<In+Promo@Example.com>" \
	"conf@example.com" "<@relay.example:pend@example.com>"
t_check "2. X-Consent-List bulk: every RCPT accepted, and the message" \
	[ "$(grep -c '^RCPT .* 250 ' "$RAW")" -eq 8 ] && raw_expect DATA 250
t_check "2. X-Consent-List bulk: exactly the allowed at the sink" \
	delivered "in@example.com In+Promo@Example.com conf@example.com"
t_check "2. Sendmail logged the 5 removals, each matching a recipient (naddrs=1)" \
	removals_confirmed "$mark" 5
t_check "2. ... by the RCPT argument as given (<@relay.example:pend@example.com>)" \
	eval 'sm_since "$mark" | grep -qF "delete: rcpt <@relay.example:pend@example.com>, naddrs=1"'
t_check "2. the list header is stripped before delivery" \
	no_header in@example.com X-Consent-List
t_check "2. the filter logged the removals" \
	milter_log main 'rcpt=<gone@example.com> verdict=deny reason=unsubscribed action=reject stage=eom outcome=removed'

# 3. List-Id, mixed case through swaks.
pf_sink_reset
t_check "3. List-Id bulk: accepted" pf_send_expect 250 --from promo@shop.example.org \
	--to in@example.com,Gone@Example.COM,NEVER@example.com,Conf@EXAMPLE.com \
	--header 'List-Id: Our newsletter <news>'
t_check "3. List-Id bulk: Gone@Example.COM and NEVER@example.com removed" \
	delivered "in@example.com Conf@EXAMPLE.com"

# 4. Every recipient denied: nothing is delivered.
pf_sink_reset
t_check "4. envelope bulk, all denied: each RCPT 550 5.7.1" \
	pf_send_expect "550 5.7.1" --from news@news.example.com \
	--to gone@example.com,never@example.com
t_check "4. header bulk, all denied: 550 5.7.1 at the end of DATA" \
	pf_send_expect "550 5.7.1 No recipient may receive bulk mail on list news" \
	--from promo@shop.example.org --to gone@example.com,Never@Example.com \
	--header 'X-Consent-List: news'
t_check "4. all denied: nothing at the sink" delivered ""

# 5. Transactional mail: untouched.
pf_sink_reset
t_check "5. transactional: accepted" pf_send_expect 250 \
	--from receipts@shop.example.org \
	--to never@example.com,gone@example.com,bounce@example.com \
	--header 'Subject: your receipt'
t_check "5. transactional: every recipient delivered (even suppressed ones)" \
	delivered "never@example.com gone@example.com bounce@example.com"
t_check "5. transactional: no X-Consent or List-Unsubscribe header added" \
	no_header bounce@example.com X-Consent && no_header bounce@example.com List-Unsubscribe
t_check "5. transactional: headers untouched" \
	header_is bounce@example.com Subject "your receipt"

# 6. tag, 7. redirect, 8. quarantine (Sendmail's own).
daemon_stop main
write_conf tags "$S" 'pending = "tag"; complaint = "redirect"; soft_bounce = "quarantine";'
t_check "6. a filter with pending = tag" milter_start tags
pf_sink_reset
t_check "6. tag: accepted" pf_send_expect 250 --from news@news.example.com \
	--to tagme@example.com,in@example.com
t_check "6. tag: both delivered" delivered "tagme@example.com in@example.com"
t_check "6. tag: X-Consent names reason and list" \
	header_is tagme@example.com X-Consent "deny; reason=pending; list=news; recipients=1"
pf_sink_reset
t_check "7. redirect: accepted" pf_send_expect 250 --from news@news.example.com \
	--to compl@example.com
t_check "7. redirect: only the holding mailbox receives it" \
	delivered "holding@quarantine.example.net"
t_check "7. redirect: X-Consent-Redirected-For names the original recipient" \
	header_is holding@quarantine.example.net X-Consent-Redirected-For \
	"<compl@example.com>; reason=complaint; list=news"
pf_sink_reset
t_check "8. quarantine: accepted" pf_send_expect 250 --from news@news.example.com \
	--to soft@example.com,in@example.com
HQ=$(qid_of_send)
t_check "8. quarantine: nothing at the sink" delivered ""
t_check "8. quarantine: one message in Sendmail's quarantine (hf$HQ)" \
	[ "$(sm_held_count)" -eq 1 ] && [ -f "$SM_QUEUE/hf$HQ" ]
t_check "8. quarantine: mailq -qQ lists it, with the filter's reason" \
	eval 'sm_mailq -qQ 2>&1 | grep -q "QUARANTINE: consent-milter: soft_bounce on list news"'
rm -f "$SM_QUEUE/hf$HQ" "$SM_QUEUE/df$HQ"

# 9. List-Unsubscribe and its one-click POST.
pf_bg unsubd "$UNSUBD" -c "$SM_DIR/consent.conf" -f
DAEMON_LOGS="$DAEMON_LOGS $SM_DIR/log/unsubd.log"
i=0
until UPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
    "$SM_DIR/log/unsubd.log" | head -n 1) && [ -n "$UPORT" ]; do
	[ $i -ge 100 ] && break
	pf__sleep
	i=$((i + 1))
done
t_check "9. consent-unsubd listens (port ${UPORT:-none})" [ -n "${UPORT:-}" ]
pf_sink_reset
t_check "9. bulk to click@example.com: accepted" pf_send_expect 250 \
	--from news@news.example.com --to click@example.com
t_check "9. delivered" delivered "click@example.com"
LU=$(pf_sink_header "$(sink_file click@example.com)" List-Unsubscribe 2>/dev/null)
TOKEN=$(echo "$LU" | sed -n 's#.*<https://unsub\.example\.test/u/\([^>]*\)>.*#\1#p')
t_check "9. List-Unsubscribe: <https://unsub.example.test/u/TOKEN>" [ -n "$TOKEN" ]
t_check "9. List-Unsubscribe-Post: List-Unsubscribe=One-Click" \
	header_is click@example.com List-Unsubscribe-Post List-Unsubscribe=One-Click
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
	-H 'Content-Type: application/x-www-form-urlencoded' \
	--data-urlencode 'List-Unsubscribe=One-Click' \
	"http://127.0.0.1:${UPORT:-0}/u/$TOKEN")
t_check "9. one-click POST of the delivered token: 200" [ "$code" = 200 ]
pf_sink_reset
pf_send --from news@news.example.com --to click@example.com,in@example.com
t_check "9. the next message: 550 5.7.1 (unsubscribed) at RCPT for click@example.com" \
	expect_rcpt "550 5.7.1 <click@example.com>... Recipient may not receive bulk mail on list news (unsubscribed)" \
	click@example.com
t_check "9. ... and nothing more for click@example.com" delivered "in@example.com"
daemon_stop unsubd

# 10. sendmail(1): Sendmail's MSP hands the message to the MTA over SMTP.
pf_sink_reset
mark=$(log_mark)
message news@news.example.com "in@example.com, gone@example.com" "via sendmail(1)" |
	sm_sendmail -f news@news.example.com in@example.com gone@example.com \
	>"$SM_DIR/log/msp.out" 2>&1
t_check "10. sendmail(1), envelope bulk: the MSP submits over SMTP from localhost" \
	eval 'sm_since "$mark" | grep -q "from=<news@news.example.com>.*relay=localhost \[127.0.0.1\]"'
t_check "10. ... the MTA refuses gone@example.com at RCPT (550 5.7.1), which the MSP returns to the sender" \
	delivered "in@example.com news@news.example.com"
t_check "10. the MSP's bounce names gone@example.com and the reason" \
	copy_says news@news.example.com "Recipient may not receive bulk mail on list news (unsubscribed)"
t_check "10. the filter refused it as from any SMTP client (no sendmail(1) path)" \
	milter_log tags 'rcpt=<gone@example.com> verdict=deny reason=unsubscribed action=reject stage=rcpt outcome=rejected'
pf_sink_reset
mark=$(log_mark)
message promo@shop.example.org "in@example.com, gone@example.com" "via sendmail(1), list header" \
	"X-Consent-List: news" |
	sm_sendmail -f promo@shop.example.org in@example.com gone@example.com \
	>>"$SM_DIR/log/msp.out" 2>&1
t_check "10. sendmail(1), header bulk: gone@example.com removed, in@example.com delivered" \
	delivered "in@example.com"
t_check "10. ... Sendmail matched the removal (naddrs=1)" removals_confirmed "$mark" 1
pf_sink_reset
message news@news.example.com in@example.com "via sendmail(1), allowed" |
	sm_sendmail -f news@news.example.com in@example.com >>"$SM_DIR/log/msp.out" 2>&1
t_check "10. sendmail(1): an allowed recipient alone is delivered, with its List-Unsubscribe" \
	delivered "in@example.com" &&
	header_is in@example.com List-Unsubscribe-Post List-Unsubscribe=One-Click

# 11. A live change with consentctl, seen by the next message.
pf_sink_reset
t_check "11. live: live@example.com receives bulk" pf_send_expect 250 \
	--from news@news.example.com --to live@example.com
t_check "11. live: consentctl unsubscribe while everything runs" \
	ctl unsubscribe live@example.com --list news
t_check "11. live: the next message to live@example.com gets 550 5.7.1" \
	pf_send_expect "550 5.7.1" --from news@news.example.com --to live@example.com
t_check "11. live: delivered once only" delivered "live@example.com"
daemon_stop tags

# 12. The odd RCPT forms of test_rcpt_forms.sh: alice (opted in) and one
# form of erin (unsubscribed) or bob (never opted in).  Each is removed or
# refused; none is ever delivered.  Sendmail removes by the argument as
# given, so the forms whose mailbox the filter cannot read (FORMS_INVALID)
# are removed too, as invalid; only a comma its list parse could split at
# (FORMS_UNSURE) makes the whole message refused.
FORMS_SURE='<@relay.example:erin@example.com>
<@a.example,@b.example:bob@example.com>
<@x.example:"bob"@example.com>
<@[192.0.2.1]:erin@example.com>
<"erin"@example.com>
<"Erin"@EXAMPLE.com>
<ERIN@EXAMPLE.COM>
erin@example.com
<erin+promo@example.com>
<"erin x"@example.com>
<erin%example.com@example.com>
<bob@[127.0.0.1]>
<bob@example.com.>
<@relay.example:"b\ob"@example.com>
< erin@example.com>
<bob@example.com >'
FORMS_INVALID='<@[IPv6:2001:db8::1]:erin@example.com>
< @relay.example:erin@example.com>
<@a.example:b@c:erin@example.com>'
FORMS_UNSURE='@a.example,@b.example:bob@example.com'
FORM_8BIT=$(printf '<j\303\266rg@example.com>')

# send_forms STAGE SENDER FORMS : one message per form, alice and the form;
# the sink after each holds alice at most.  Every MAIL must be taken.
send_forms() {
	local stage="$1" sender="$2" forms="$3" form got
	printf '%s\n' "$forms" | while IFS= read -r form; do
		[ -n "$form" ] || continue
		pf_sink_reset
		raw "$sender" --header "X-Consent-List: news" -- \
			"<alice@example.com>" "$form"
		sm_wait_queue_empty 20 >/dev/null 2>&1
		echo "$stage $form: $(tr '\n' ' ' <"$RAW")" >>"$SM_DIR/replies"
		got=$(pf_sink_recipients | cut -f2 | grep -viE '^alice@example\.com$')
		if ! grep -q '^MAIL 250' "$RAW"; then
			echo "NOMAIL $stage $form"
		elif [ -n "$got" ]; then
			echo "LEAK $stage $form: $got"
		else
			echo "ok"
		fi
	done >"$SM_DIR/results"
	if grep -q '^LEAK' "$SM_DIR/results"; then
		t_fail "12. $stage: a denied recipient was delivered: $(grep '^LEAK' "$SM_DIR/results" | tr '\n' ' ')"
	else
		t_ok "12. $stage: no denied recipient delivered"
	fi
	[ "$(grep -c '^ok' "$SM_DIR/results")" -eq "$(printf '%s\n' "$forms" | grep -c .)" ] &&
		t_ok || t_fail "12. $stage: not every form was tried: $(grep -v '^ok' "$SM_DIR/results" | tr '\n' ' ')"
}

write_conf forms "$S" 'unsubscribed = "drop"; no_consent = "drop";'
t_check "12. a filter with drop for the unsubscribed and never opted in" \
	milter_start forms
: >"$SM_DIR/replies"
mark=$(log_mark)
send_forms eom "<promo@shop.example.org>" "$FORMS_SURE"
n=$(grep -c '^eom .*DATA 250' "$SM_DIR/replies")
t_eq "$n" "$(printf '%s\n' "$FORMS_SURE" | grep -c .)" \
	"12. eom: every sure form accepted (alice delivered), the other removed"
t_check "12. eom: Sendmail matched every one of those removals (naddrs=1)" \
	removals_confirmed "$mark" "$n"
mark=$(log_mark)
send_forms eom-invalid "<promo@shop.example.org>" "$FORMS_INVALID"
# Sendmail refuses the third itself (553 5.1.3 Invalid route address).
t_check "12. eom: a form without a mailbox the filter reads is removed as invalid, alice delivered" \
	[ "$(grep -c '^eom-invalid .*DATA 250' "$SM_DIR/replies")" -eq 3 ] &&
	removals_confirmed "$mark" 2 &&
	milter_log forms 'rcpt=<@\[IPv6:2001:db8::1\]:erin@example.com> verdict=deny reason=invalid_address action=drop stage=eom outcome=removed'
send_forms eom-unsure "<promo@shop.example.org>" "$FORMS_UNSURE"
grep '^eom-unsure' "$SM_DIR/replies" | grep -q 'DATA 550 5.7.1' &&
	t_ok "12. eom: a form Sendmail's list parse could split refuses the message" ||
	t_fail "12. eom: a form with no sure removal was accepted: $(grep '^eom-unsure' "$SM_DIR/replies")"
send_forms eom-8bit "<promo@shop.example.org>" "$FORM_8BIT"
grep '^eom-8bit' "$SM_DIR/replies" | grep -q 'DATA 550 5.7.1' &&
	t_ok "12. eom: an 8-bit local part (Sendmail clears its high bits) refuses the message" ||
	t_fail "12. eom: 8-bit: $(grep '^eom-8bit' "$SM_DIR/replies")"
mark=$(log_mark)
send_forms rcpt "<news@news.example.com>" "$FORMS_SURE"
t_check "12. rcpt: Sendmail matched every removal decided at RCPT (naddrs=1)" \
	removals_confirmed "$mark" "$(printf '%s\n' "$FORMS_SURE" | grep -c .)"
send_forms rcpt-invalid "<news@news.example.com>" "$FORMS_INVALID"
grep '^rcpt-invalid' "$SM_DIR/replies" | grep -q 'RCPT <@\[IPv6[^ ]* 550 5.1.3' &&
	t_ok "12. rcpt: the IPv6-routed form is refused at RCPT (550 5.1.3)" ||
	t_fail "12. rcpt: the IPv6-routed form: $(grep '^rcpt-invalid' "$SM_DIR/replies")"
# Refused at RCPT, Sendmail would keep it (its removefromlist cannot
# match it): accepted there, the whole message refused at the end.
send_forms rcpt-unsure "<news@news.example.com>" "$FORMS_UNSURE"
grep '^rcpt-unsure' "$SM_DIR/replies" | grep -q 'RCPT @a[^ ]* 250 .*DATA 550 5.7.1' &&
	t_ok "12. rcpt: a form Sendmail could not take out again is not refused at RCPT; the message is, at its end" ||
	t_fail "12. rcpt: the comma form: $(grep '^rcpt-unsure' "$SM_DIR/replies")"
raw "<news@news.example.com>" --smtputf8 -- "<alice@example.com>"
t_check "12. SMTPUTF8: Debian's Sendmail (no EAI) refuses it at MAIL itself" \
	raw_expect MAIL "555 5.5.4"
daemon_stop forms

# 13. Fail closed: a corrupt store.
mkdir -p "$SM_DIR/corrupt" && chmod 0750 "$SM_DIR/corrupt"
head -c 65536 /dev/urandom >"$SM_DIR/corrupt/data.mdb"
write_conf corrupt "$SM_DIR/corrupt"
t_check "13. a filter on a corrupt store" milter_start corrupt
pf_sink_reset
t_check "13. corrupt store: envelope bulk gets 451 4.3.0 at RCPT" \
	pf_send_expect "451 4.3.0" --from news@news.example.com \
	--to in@example.com,conf@example.com
t_check "13. corrupt store: header bulk gets 451 4.3.0 at the end of DATA" \
	pf_send_expect "451 4.3.0" --from promo@shop.example.org \
	--to in@example.com --header 'List-Id: <news>'
t_check "13. corrupt store: transactional mail still accepted" \
	pf_send_expect 250 --from receipts@shop.example.org --to conf@example.com
t_check "13. corrupt store: only the transactional message delivered" \
	delivered "conf@example.com"
daemon_stop corrupt

# 14. The filter down: F=T.
write_conf down "$S"
t_check "14. a fresh filter" milter_start down
pf_kill_bg down KILL
rm -f "$SM_RUN/down.sock"
pf_sink_reset
mark=$(log_mark)
t_check "14. filter down (F=T): bulk mail gets 451 4.3.2" \
	pf_send_expect "451 4.3.2" --from news@news.example.com --to in@example.com
t_check "14. filter down: transactional mail gets 451 4.3.2 too" \
	pf_send_expect "451 4.3.2" --from receipts@shop.example.org --to in@example.com
message news@news.example.com in@example.com "sendmail(1), filter down" |
	sm_sendmail -f news@news.example.com in@example.com >>"$SM_DIR/log/msp.out" 2>&1
t_check "14. filter down: nothing delivered" expect_recipients ""
t_check "14. filter down: the sendmail(1) message waits in the MSP's queue" \
	[ "$(find "$SM_DIR/msp" -name 'qf*' | wc -l)" -eq 1 ]
t_check "14. Sendmail logged why" \
	eval 'sm_since "$mark" | grep -q "Milter (consent-milter): .*error"'
# The README's limit: mail that bypasses the MSP and SMTP meets no filter.
message news@news.example.com never@example.com "sendmail -Am" |
	sm_ns "$SM_BIN" -C "$SM_CF" -Am -f news@news.example.com never@example.com \
	>>"$SM_DIR/log/msp.out" 2>&1
t_check "14. the README's limit: sendmail -Am (no SMTP) is delivered though the filter is down" \
	wait_copy never@example.com

t_check "every filter exited after SIGTERM" daemons_gone
t_check "no sanitizer report in any daemon's stderr" sanitizers_quiet
sm_stop
echo "# $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
t_finish pf_teardown
