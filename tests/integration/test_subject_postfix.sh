#!/bin/sh
# shellcheck disable=SC3043
# test_subject_postfix.sh - a data subject's export and erasure through a
# private Postfix, under the opt-out model (where nothing but the erasure
# itself keeps an erased person from bulk mail): a message delivered; the
# export holds its audit decision, found through the keyed pseudonym;
# after "subject erase" the next one is refused (reason erased, audited
# as such), an import of the old list changes nothing, and the person is
# mailable again only after a signup that says so (--after-erasure).
# Checked at the sink.
#
# Needs root.  Prints "N passed, M failed" last.
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
CTL=$BUILD/consentctl
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/daemons.sh"
. "$TOP/tests/lib/assert.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root"
	echo "0 passed, 0 failed"
	exit 0
fi

W=$(pf_tmpdir consent-subject-pf) || exit 1
pf_cleanup_trap
pf_setup "$W" || exit 1
DAEMON_LOGS="$PF_DIR/log/milter.log"
A=$W/audit.log
cat >"$W/m.conf" <<EOF
store: { path = "$W/store"; };
milter: { socket = "unix:$PF_RUN/m.sock"; user = ""; socket_group = "postfix";
	shutdown_timeout = 2; };
policy: { model = "opt-out"; };
classify: { rules = ( { sender_domain = "news.example.org"; list = "news"; } ); };
audit: { file = "$A"; key_file = "$W/audit.key"; };
EOF
ctl() { "$CTL" -c "$W/m.conf" "$@"; }
send() {
	pf_send_expect "$1" --from news@news.example.org --to "$2" \
	    --header "Subject: $3"
}
delivered() { pf_sink_recipients | cut -f2 | grep -c "^$1\$"; }
ctl init >/dev/null
ctl keygen "$W/audit.key" >/dev/null
ctl subscribe dana@example.com --list news --source form --ip 198.51.100.4 \
    >/dev/null
pf_bg milter "$BUILD/consent-milter" -c "$W/m.conf" -f
t_run 0 pf_wait_file "$PF_RUN/m.sock" 10
pf_set_milters "unix:$PF_RUN/m.sock"
t_run 0 pf_start

# Before: delivered, and the export has the decision and the evidence.
t_run 0 send 250 dana@example.com before
t_run 0 send 250 eve@example.com "before, eve"
t_run 0 pf_wait_queue_empty 30
t_eq "$(delivered dana@example.com)" 1 "delivered before the erasure"
t_run 0 ctl subject export dana@example.com
python3 -m json.tool "$T_OUT" >/dev/null && t_ok || t_fail "the export is not JSON"
t_out '"ip":"198.51.100.4"'
t_out '"verdict":"allow","reason":"subscribed"'
t_out '"pseudonym":"h:'
t_not_out 'dana@example.com","verdict'	# the audit keeps the pseudonym
t_err "1 record, 0 covering domain suppressions, 0 reports in the review queue, 1 audit decision"

# The erasure: refused at RCPT from the next message on, no reload.
t_run 0 ctl subject erase dana@example.com
t_run 0 send "550 5.7.1" dana@example.com after
grep -q '(erased)' "$PF_SEND_LOG" && t_ok ||
    t_fail "the refusal does not say erased: $(pf_send_reply)"
t_run 0 send "550 5.7.1" "dana+news@example.com" "after, tagged"
t_run 0 send 250 eve@example.com "after, eve"
t_run 0 pf_wait_queue_empty 30
t_eq "$(delivered dana@example.com)" 1 "delivered after the erasure"
t_eq "$(delivered eve@example.com)" 2 "others still delivered"
grep -q 'verdict=deny reason=erased action=reject' "$PF_DIR/log/milter.log" &&
    t_ok || t_fail "the decision log does not say erased"
t_run 0 ctl subject export dana@example.com
t_out '"reason":"erased"'
t_out '"ev_kind":"erasure"'
t_out '"records":[]'

# The old list imported again: she is not on it.
printf 'email,status,list\ndana@example.com,subscribed,news\n' >"$W/old.csv"
t_run 0 ctl import "$W/old.csv"
t_err "not imported, they stay unmailable"
t_run 0 send "550 5.7.1" dana@example.com "after the import"
t_run 0 pf_wait_queue_empty 30
t_eq "$(delivered dana@example.com)" 1 "delivered after the import"

# She signed up again, and the signup says so.
t_run 0 ctl subscribe dana@example.com --list news --source form \
    --after-erasure
t_run 0 send 250 dana@example.com "signed up again"
t_run 0 pf_wait_queue_empty 30
t_eq "$(delivered dana@example.com)" 2 "delivered after the new signup"
t_run 0 ctl audit verify "$A"

t_check "the filter exits 0 after SIGTERM" daemon_end milter
t_check "no sanitizer report in its stderr" sanitizers_quiet
pf_teardown 0 >/dev/null 2>&1
t_done
