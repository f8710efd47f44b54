#!/bin/sh
# shellcheck disable=SC3043
# test_rcpt_recorded.sh - two leaks found attacking the removal forms:
# recipients that Postfix records otherwise than the client wrote them,
# through a private Postfix, checked at the sink.
#
#   A. smtpd replaces a recipient that matches its own address-verification
#      sender (address_verify_sender, default double-bounce@$myorigin),
#      case-insensitively, by the canonical spelling before it records it
#      (smtpd.c rcpt_cmd: valid_verify_sender_addr).  The filter sees the
#      client's spelling, removes by it, cleanup matches nothing, and the
#      denied recipient is delivered, with the one allowed recipient's
#      personal List-Unsubscribe token.
#   B. With inet_protocols = ipv6 Postfix pretends sendmail(1) mail comes
#      from "::1", not 127.0.0.1: the filter takes it for SMTP and removes
#      by the rewritten recipient, which cleanup never matches.
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

W=$(pf_tmpdir consent-findings) || exit 1
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

only_alice() {
	if pf_sink_recipients | cut -f2 | grep -viqE '^alice@example\.com$'; then
		echo "  delivered beyond alice for $1:" >&2
		pf_sink_recipients >&2
		return 1
	fi
	return 0
}

# (A) after section 1 of test_rcpt_forms.sh (and again, with
# "rcpt", after section 2).  The verification sender in any case but
# its own: Postfix records "double-bounce@mta.consent-test.invalid".
VERIFY_FORMS='<DOUBLE-BOUNCE@mta.consent-test.invalid>
<Double-Bounce@mta.consent-test.invalid>
<double-bounce@MTA.Consent-Test.Invalid>
<@relay.example:DOUBLE-BOUNCE@mta.consent-test.invalid>'
verify_forms() {
	local stage="$1" form
	printf '%s\n' "$VERIFY_FORMS" | while IFS= read -r form; do
		pf_sink_reset
		/usr/bin/python3 "$TOP/tests/lib/smtp_raw.py" "$PF_PORT" \
		    "<news@news.example.org>" --header "X-Consent-List: news" -- \
		    "<alice@example.com>" "$form" >"$W/reply" 2>&1
		pf_wait_queue_empty 30 >/dev/null 2>&1
		if ! grep -q '^MAIL 250' "$W/reply"; then
			echo "NOMAIL $form"
		elif only_alice "$form"; then
			echo "ok"
		else
			echo "LEAK $form"
		fi
	done >"$W/results"
	grep -q '^LEAK' "$W/results" &&
	    t_fail "$stage: the verification sender was delivered: $(grep '^LEAK' "$W/results" | tr '\n' ' ')" ||
	    t_ok
	[ "$(grep -c '^ok' "$W/results")" -eq "$(printf '%s\n' "$VERIFY_FORMS" | grep -c .)" ] &&
	    t_ok || t_fail "$stage: not every form was tried: $(grep -v '^ok' "$W/results" | tr '\n' ' ')"
}

write_conf
pf_bg milter "$MILTER" -c "$W/m.conf" -f
t_run 0 pf_wait_file "$PF_RUN/m.sock" 10
pf_set_milters "unix:$PF_RUN/m.sock"
t_run 0 pf_start
verify_forms eom

t_check "the milter exits 0 after SIGTERM" daemon_end milter
write_conf 'classify: { rules = ( { sender_domain = "news.example.org"; list = "news"; } ); };' \
    'actions: { unsubscribed = "drop"; no_consent = "drop"; };'
pf_bg milter "$MILTER" -c "$W/m.conf" -f
t_run 0 pf_wait_file "$PF_RUN/m.sock" 10
verify_forms rcpt

# (B) at the end of test_rcpt_forms.sh, before its teardown.  An
# IPv6-only Postfix: sendmail(1) mail then comes from "::1".
t_check "the milter exits 0 after SIGTERM" daemon_end milter
write_conf
pf_bg milter "$MILTER" -c "$W/m.conf" -f
t_run 0 pf_wait_file "$PF_RUN/m.sock" 10
pf_stop >/dev/null 2>&1
S6=$(pf_free_port)
pf_bg sink6 smtp-sink -u postfix -h sink6.consent-test.invalid \
    -d "$PF_SINKDIR/%Y%m%d%H/%M." "[::1]:$S6" 256
t_run 0 pf_wait_port "$S6" 5
sed "s/^127\.0\.0\.1:$PF_PORT inet/[::1]:$PF_PORT inet/" "$PF_CONF/master.cf" >"$W/master.cf" &&
    cp "$W/master.cf" "$PF_CONF/master.cf"
pf_postconf "inet_protocols = ipv6" "relayhost = [::1]:$S6" \
    "mynetworks = [::1]/128"
t_run 0 env PATH=$PF_POSTFIX_PATH postfix -c "$PF_CONF" start
for form in 'bob' 'erin@example.com.' '@relay.example:erin@example.com'; do
	pf_sink_reset
	printf 'From: news@news.example.org\nX-Consent-List: news\nSubject: local\n\nhi\n' |
	    pf_sendmail -f news@news.example.org alice@example.com "$form" >/dev/null 2>&1
	pf_wait_queue_empty 30 >/dev/null 2>&1
	got=$(pf_sink_recipients | cut -f2 | sort | tr '\n' ' ')
	t_eq "$got" "news@news.example.org " "ipv6-only sendmail(1) alice + $form: only the bounce"
done

t_check "the milter exits 0 after SIGTERM" daemon_end milter
DAEMON_LOGS="$PF_DIR/log/milter.log"
sanitizers_quiet && t_ok || t_fail "sanitizer reports in the milter's log"
pf_teardown 0 >/dev/null 2>&1
t_done
