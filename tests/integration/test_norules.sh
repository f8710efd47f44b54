#!/bin/sh
# shellcheck disable=SC3043
# test_norules.sh - the default classification (no envelope rule: the
# headers decide) through a private Postfix.  With no rule nothing can be
# refused at RCPT time, so the filter asks for no reply per recipient
# (SMFIP_NR_RCPT); denied recipients are removed at the end of the message,
# checked at the sink.
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

W=$(pf_tmpdir consent-norules) || exit 1
pf_cleanup_trap
pf_setup "$W" || exit 1
S=$W/store
: >"$W/empty.conf"
"$CTL" -c "$W/empty.conf" -s "$S" init >/dev/null
"$CTL" -c "$W/empty.conf" -s "$S" subscribe yes@example.com --list news >/dev/null
cat >"$W/m.conf" <<EOF
store: { path = "$S"; };
milter: { socket = "unix:$PF_RUN/m.sock"; user = ""; socket_group = "postfix"; };
EOF
DAEMON_LOGS=$PF_DIR/log/milter.log
pf_bg milter "$MILTER" -c "$W/m.conf" -f
t_run 0 pf_wait_file "$PF_RUN/m.sock" 10

# The negotiation itself, seen by miltertest.
cat >"$W/nr.lua" <<EOF
local conn = mt.connect("unix:$PF_RUN/m.sock")
if conn == nil then print("no connection"); os.exit(1) end
if mt.negotiate(conn, nil, nil, nil) ~= nil then os.exit(1) end
if not mt.test_option(conn, SMFIP_NR_RCPT) then print("no NR_RCPT"); os.exit(1) end
mt.disconnect(conn)
print("NR_RCPT negotiated")
EOF
t_run 0 miltertest -s "$W/nr.lua"
t_out "NR_RCPT negotiated"

pf_set_milters "unix:$PF_RUN/m.sock"
t_run 0 pf_start

# Bulk by its header: both recipients accepted at RCPT, only one delivered.
t_run 0 pf_send_expect 250 --from news@example.org --to yes@example.com,no@example.com \
    --header "X-Consent-List: news" --header "Subject: news"
t_run 0 pf_wait_queue_empty 30
pf_sink_recipients >"$W/got"
grep -q "yes@example.com" "$W/got" && t_ok || t_fail "the subscriber did not get it"
[ -s "$W/got" ] && ! grep -q "no@example.com" "$W/got" && t_ok ||
    t_fail "a recipient without consent got it (or nothing was delivered)"
pf_sink_reset

# Transactional mail reaches both.
t_run 0 pf_send_expect 250 --from shop@example.org --to yes@example.com,no@example.com \
    --header "Subject: your receipt"
t_run 0 pf_wait_queue_empty 30
pf_sink_recipients >"$W/got"
[ "$(grep -c "example.com" "$W/got")" -eq 2 ] && t_ok || t_fail "transactional mail lost a recipient"

# Decided at the end of the message, and logged so.
grep -q "rcpt=<no@example.com> verdict=deny reason=no_consent action=reject stage=eom outcome=removed" \
    "$PF_DIR/log/milter.log" && t_ok || t_fail "no end-of-message decision in the log"
t_check "the milter exits 0 after SIGTERM" daemon_end milter
t_check "no sanitizer report in the milter's stderr" sanitizers_quiet
pf_teardown 0 >/dev/null 2>&1
t_done
