#!/bin/sh
# shellcheck disable=SC3043
# test_rcpt_forms.sh - every odd RCPT form RFC 5321 allows and Postfix
# accepts, through a private Postfix, checked at the sink: a denied
# recipient is never delivered, whatever form the client wrote it in.
#
# Postfix records a recipient without its source route and unquoted;
# its cleanup removes only a recipient named in that form.  The filter
# names it so, and refuses (at RCPT, or the whole message) a recipient it
# has no sure form for.  Store: alice opted in to news, erin unsubscribed,
# bob never opted in.
#
#   1. no envelope rule (decided at the end of the message): alice and one
#      odd form of erin or bob; only alice is delivered, or nobody;
#   2. an envelope rule and action drop: the same forms decided at RCPT;
#   3. sendmail(1): the non-SMTP path.
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

W=$(pf_tmpdir consent-forms) || exit 1
pf_cleanup_trap
pf_setup "$W" || exit 1
S=$W/store
: >"$W/empty.conf"
ctl() { "$CTL" -c "$W/empty.conf" -s "$S" "$@" >/dev/null; }
ctl init
ctl subscribe alice@example.com --list news
ctl subscribe erin@example.com --list news --at 2025-01-01T00:00:00Z
ctl unsubscribe erin@example.com --list news --at 2025-06-01T00:00:00Z
mkdir -p "$W/keys"
"$CTL" keygen "$W/keys/1.key" >/dev/null

# write_conf [CLASSIFY] [ACTIONS] : the filter's configuration.
write_conf() {
	cat >"$W/m.conf" <<EOF
store: { path = "$S"; };
milter: { socket = "unix:$PF_RUN/m.sock"; user = ""; socket_group = "postfix";
	shutdown_timeout = 2; };
${1:-}
${2:-}
unsubscribe: {
	enable = true;
	keys = ( { id = 1; file = "$W/keys/1.key"; } );
	url = "https://unsub.example.test/u/%t";
};
EOF
}

# The forms of erin (unsubscribed) and bob (never opted in).  Each is
# either removed (FORMS_SURE) or refused (FORMS_UNSURE); neither is ever
# delivered.
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
FORMS_UNSURE='<@[IPv6:2001:db8::1]:erin@example.com>
< @relay.example:erin@example.com>
<@a.example:b@c:erin@example.com>'
UTF8_FORM='<j\303\266rg@example.com>'

# sink_has ADDR-ERE : some delivered copy went to a recipient matching it.
sink_has() {
	pf_sink_recipients | cut -f2 | grep -qiE -- "$1"
}

# only_alice FORM : after one message, the sink holds at most alice.
only_alice() {
	if pf_sink_recipients | cut -f2 | grep -viqE '^alice@example\.com$'; then
		echo "  delivered beyond alice for $1:" >&2
		pf_sink_recipients >&2
		return 1
	fi
	return 0
}

# send_forms STAGE FORMS [SMTPUTF8] : one message per form, alice and the
# form; check the sink after each.  Every MAIL must be taken, or the
# check would pass on mail never sent.
send_forms() {
	local stage="$1" forms="$2" form
	printf '%s\n' "$forms" | while IFS= read -r form; do
		[ -n "$form" ] || continue
		pf_sink_reset
		/usr/bin/python3 "$TOP/tests/lib/smtp_raw.py" "$PF_PORT" \
		    "<news@news.example.org>" ${3:+--smtputf8} \
		    --header "X-Consent-List: news" -- \
		    "<alice@example.com>" "$form" >"$W/reply" 2>&1
		pf_wait_queue_empty 30 >/dev/null 2>&1
		echo "$stage $form: $(tr '\n' ' ' <"$W/reply")" >>"$W/replies"
		if ! grep -q '^MAIL 250' "$W/reply"; then
			echo "NOMAIL $stage $form"
		elif only_alice "$form"; then
			echo "ok"
		else
			echo "LEAK $stage $form"
		fi
	done >"$W/results"
	if grep -q '^LEAK' "$W/results"; then
		t_fail "$stage: a denied recipient was delivered: $(grep '^LEAK' "$W/results" | tr '\n' ' ')"
	else
		t_ok
	fi
	[ "$(grep -c '^ok' "$W/results")" -eq "$(printf '%s\n' "$forms" | grep -c .)" ] &&
	    t_ok || t_fail "$stage: not every form was tried: $(grep -v '^ok' "$W/results" | tr '\n' ' ')"
}

# --- 1. no envelope rule: decided, and removed, at the end ----------------
write_conf
pf_bg milter "$MILTER" -c "$W/m.conf" -f
t_run 0 pf_wait_file "$PF_RUN/m.sock" 10
pf_set_milters "unix:$PF_RUN/m.sock"
pf_postconf smtputf8_enable=yes
t_run 0 pf_start

send_forms eom "$FORMS_SURE"
# Removed, not refused: alice got each of those messages, with her token.
n=$(grep -c '^eom .*DATA 250' "$W/replies")
t_eq "$n" "$(printf '%s\n' "$FORMS_SURE" | grep -c .)" "eom: every sure form accepted (alice delivered)"
pf_log_grep 'status=sent' | grep -q 'to=<alice@example.com>' && t_ok || t_fail "alice was never delivered"

# The form from the defect report, checked in full: alice alone, with a
# List-Unsubscribe (hers: nobody else got the copy).
pf_sink_reset
t_run 0 /usr/bin/python3 "$TOP/tests/lib/smtp_raw.py" "$PF_PORT" "<news@news.example.org>" \
    --header "X-Consent-List: news" -- "<alice@example.com>" "<@relay.example:erin@example.com>"
t_out "DATA 250"
t_run 0 pf_wait_queue_empty 30
f=$(pf_sink_files | head -n 1)
[ -n "$f" ] && [ "$(pf_sink_recipients | cut -f2)" = "alice@example.com" ] && t_ok ||
    t_fail "the routed erin: the sink has $(pf_sink_recipients | cut -f2 | tr '\n' ' ')"
[ -n "$f" ] && pf_sink_header "$f" List-Unsubscribe | grep -q 'unsub.example.test/u/' && t_ok ||
    t_fail "alice's copy lacks her List-Unsubscribe"
pf_log_grep 'to=<erin@example.com>' && t_fail "Postfix delivered to erin" || t_ok
grep -q 'rcpt=<erin@example.com> verdict=deny reason=unsubscribed action=reject stage=eom outcome=removed' \
    "$PF_DIR/log/milter.log" && t_ok || t_fail "erin's removal is not logged"

send_forms eom-unsure "$FORMS_UNSURE"
# Postfix may refuse these itself; if it takes them, so does the message.
grep '^eom-unsure' "$W/replies" | grep -v 'RCPT [^ ]* 5' | grep -q 'DATA 250' &&
    t_fail "eom: a form with no sure removal was accepted: $(grep '^eom-unsure' "$W/replies")" || t_ok

# SMTPUTF8: a non-ASCII local part, never opted in.
send_forms eom-utf8 "$(printf "$UTF8_FORM")" utf8

# --- 2. an envelope rule, unsubscribed dropped: decided at RCPT -----------
t_check "the milter exits 0 after SIGTERM" daemon_end milter
write_conf 'classify: { rules = ( { sender_domain = "news.example.org"; list = "news"; } ); };' \
    'actions: { unsubscribed = "drop"; no_consent = "drop"; };'
pf_bg milter "$MILTER" -c "$W/m.conf" -f
t_run 0 pf_wait_file "$PF_RUN/m.sock" 10
send_forms rcpt "$FORMS_SURE"
send_forms rcpt-unsure "$FORMS_UNSURE"
grep '^rcpt-unsure' "$W/replies" | grep -q 'RCPT <@\[IPv6[^ ]* 5[0-9][0-9]' && t_ok ||
    t_fail "rcpt: the IPv6-routed form was not refused at RCPT: $(grep '^rcpt-unsure' "$W/replies")"
send_forms rcpt-utf8 "$(printf "$UTF8_FORM")" utf8

# --- 3. sendmail(1): recipients on the command line ----------------------
# Postfix shows the filter each recipient as rewritten but removes by the
# original, so no removal is sure: a message for alice and a denied one is
# refused whole (the sender gets the bounce, naming why); one for a denied
# recipient alone is discarded, which needs no removal.
for form in 'erin@example.com' '"erin"@example.com' '@relay.example:erin@example.com' \
    'bob@example.com' '"bob x"@example.com' 'bob'; do
	pf_sink_reset
	printf 'From: news@news.example.org\nX-Consent-List: news\nSubject: local\n\nhi\n' |
	    pf_sendmail -f news@news.example.org alice@example.com "$form" >/dev/null 2>&1
	pf_wait_queue_empty 30 >/dev/null 2>&1
	got=$(pf_sink_recipients | cut -f2 | sort | tr '\n' ' ')
	t_eq "$got" "news@news.example.org " "sendmail(1) alice + $form: only the bounce"
	f=$(pf_sink_files | head -n 1)
	[ -n "$f" ] && tr '\n' ' ' <"$f" | tr -s ' ' | grep -q 'cannot be removed with certainty' && t_ok ||
	    t_fail "sendmail(1) $form: the bounce does not say why"
	pf_sink_reset
	printf 'From: news@news.example.org\nX-Consent-List: news\nSubject: local\n\nhi\n' |
	    pf_sendmail -f news@news.example.org "$form" >/dev/null 2>&1
	pf_wait_queue_empty 30 >/dev/null 2>&1
	t_eq "$(pf_sink_recipients | wc -l)" 0 "sendmail(1) $form alone: discarded"
done
# An allowed recipient alone goes through untouched.
pf_sink_reset
printf 'From: news@news.example.org\nX-Consent-List: news\nSubject: local\n\nhi\n' |
    pf_sendmail -f news@news.example.org alice@example.com >/dev/null 2>&1
t_run 0 pf_wait_queue_empty 30
t_eq "$(pf_sink_recipients | cut -f2)" "alice@example.com" "sendmail(1): alice alone is delivered"

t_check "the milter exits 0 after SIGTERM" daemon_end milter
DAEMON_LOGS="$PF_DIR/log/milter.log"
sanitizers_quiet && t_ok || t_fail "sanitizer reports in the milter's log"
pf_teardown 0 >/dev/null 2>&1
cp "$W/replies" "${TMPDIR:-/tmp}/rcpt_forms.replies" 2>/dev/null
t_done
