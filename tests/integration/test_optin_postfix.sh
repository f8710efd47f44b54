#!/bin/sh
# shellcheck disable=SC3043
# test_optin_postfix.sh - double opt-in through a private Postfix, with
# policy.double_opt_in = true: after "consentctl optin" a bulk message to
# that person is refused (pending); after the click on the link at
# consent-unsubd it is delivered.  Checked at the sink.
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
. "$TOP/tests/lib/assert.sh"
. "$TOP/tests/lib/daemons.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root"
	echo "0 passed, 0 failed"
	exit 0
fi

W=$(pf_tmpdir consent-optin-pf) || exit 1
pf_cleanup_trap
pf_setup "$W" || exit 1
mkdir -p "$W/keys"
"$CTL" keygen "$W/keys/1.key" >/dev/null
cat >"$W/m.conf" <<EOF
store: { path = "$W/store"; };
milter: { socket = "unix:$PF_RUN/m.sock"; user = ""; socket_group = "postfix";
	shutdown_timeout = 2; };
policy: { double_opt_in = true; };
classify: { rules = ( { sender_domain = "news.example.org"; list = "news"; } ); };
unsubscribe: {
	keys = ( { id = 1; file = "$W/keys/1.key"; } );
	listen = "127.0.0.1:0";
	user = "";
};
optin: { url = "https://u.example.com/c/%t"; };
EOF
ctl() { "$CTL" -c "$W/m.conf" "$@"; }
ctl init >/dev/null
pf_bg milter "$BUILD/consent-milter" -c "$W/m.conf" -f
pf_bg unsubd "$BUILD/consent-unsubd" -c "$W/m.conf" -f
t_run 0 pf_wait_file "$PF_RUN/m.sock" 10
pf_set_milters "unix:$PF_RUN/m.sock"
t_run 0 pf_start
i=0
HOSTP=
while [ $i -lt 100 ] && [ -z "$HOSTP" ]; do
	HOSTP=$(sed -n 's/.*listening on \([^ ,]*\).*/\1/p' "$PF_DIR/log/unsubd.log")
	[ -n "$HOSTP" ] || sleep 0.05
	i=$((i + 1))
done
[ -n "$HOSTP" ] && t_ok || t_fail "consent-unsubd did not start"

LINK=$(ctl optin ann@example.com --list news --ip 192.0.2.5 2>/dev/null)
case "$LINK" in https://u.example.com/c/*) t_ok ;; *) t_fail "no link" ;; esac

# Before the click: pending, refused at RCPT (an envelope rule).
t_run 0 pf_send_expect "550 5.7.1" --from news@news.example.org --to ann@example.com \
    --header "Subject: before"
grep -q 'Recipient may not receive bulk mail on list news (pending)' "$PF_SEND_LOG" &&
    t_ok || t_fail "the refusal does not say pending: $(pf_send_reply)"
t_run 0 pf_wait_queue_empty 30
t_eq "$(pf_sink_recipients | wc -l)" 0 "delivered before the click"

# The click.
P=$(printf '%s' "$LINK" | sed 's|^https://u.example.com||')
t_eq "$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
    -d confirm=yes "http://$HOSTP$P")" 200 "the confirmation POST"

# After: delivered.
t_run 0 pf_send_expect 250 --from news@news.example.org --to ann@example.com \
    --header "Subject: after"
t_run 0 pf_wait_queue_empty 30
t_eq "$(pf_sink_recipients | cut -f2)" "ann@example.com" "delivered after the click"
grep -q 'rcpt=<ann@example.com> verdict=allow reason=confirmed' \
    "$PF_DIR/log/milter.log" && t_ok || t_fail "the decision does not rest on the confirmation"

DAEMON_LOGS="$PF_DIR/log/milter.log $PF_DIR/log/unsubd.log"
daemon_stop unsubd
daemon_stop milter
t_check "both daemons exit 0 after SIGTERM" daemons_gone
t_check "no sanitizer report in their stderr" sanitizers_quiet
pf_teardown 0 >/dev/null 2>&1
t_done
