#!/bin/sh
# shellcheck disable=SC3043,SC3013,SC2317
# test_harness.sh - smoke test of tests/lib/postfix.sh: a private Postfix
# relays SMTP and sendmail(1) mail to its smtp-sink, with no milter, with
# the do-nothing nullmilter, and tempfails (451 4.7.1) once that milter is
# down.  Needs root.  Prints "N passed, M failed" last; exits 1 on failure.
# Private ports and directory: safe to run twice at once.
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
# shellcheck source=tests/lib/postfix.sh
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/assert.sh"

# expect_recipients LIST : the sink's recipients, sorted, are exactly the
# space-separated LIST; otherwise say what arrived.
expect_recipients() {
	local want got
	want=$(echo "$1" | tr ' ' '\n' | sort)
	got=$(pf_sink_recipients | cut -f2 | sort)
	[ "$got" = "$want" ] && return 0
	echo "  expected at the sink: $(echo "$want" | tr '\n' ' ')" >&2
	echo "  received at the sink: $(echo "$got" | tr '\n' ' ')" >&2
	pf_sink_recipients | sed 's/^/  /' >&2
	return 1
}

# message FROM TO SUBJECT : a minimal RFC 5322 message for sendmail(1).
message() {
	printf 'From: %s\nTo: %s\nSubject: %s\nMessage-ID: <%s.%s@example.org>\n\nHello.\n' \
		"$1" "$2" "$3" "$$" "$(date +%s%N)"
}

# build_nullmilter : compile the baseline milter if missing or stale
# (to a temporary name first: a parallel run may be executing it).
build_nullmilter() {
	local src=tests/bench/nullmilter.c bin="$BUILD/nullmilter"
	[ -x "$bin" ] && [ "$bin" -nt "$src" ] && return 0
	mkdir -p "$BUILD" &&
		${CC:-cc} -O2 -Wall -Wextra -Werror -o "$bin.$$" "$src" \
			-lmilter -lpthread &&
		mv -f "$bin.$$" "$bin"
}

# all_stopped : no master, sink or milter of this run is left, and
# nothing listens on its ports.
all_stopped() {
	! pf_running &&
		! pgrep -f "$PF_DIR/" >/dev/null &&
		[ -z "$(ss -Hltn "( sport = :$PF_PORT or sport = :$PF_SINKPORT )")" ]
}

# no_milter_warnings : the mail log has no warning about a milter.
no_milter_warnings() {
	! pf_log_grep 'warning:.*milter' >&2
}

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: a private Postfix needs root"
	t_finish pf_teardown
fi

start=$(date +%s.%N)
pf_cleanup_trap
dir=$(pf_tmpdir consent-harness) || { t_fail "make a test directory"; t_finish pf_teardown; }
t_check "private instance set up in $dir" pf_setup "$dir" || t_finish pf_teardown
t_check "sink and Postfix started (smtpd :$PF_PORT, sink :$PF_SINKPORT)" \
	pf_start || t_finish pf_teardown

# 1. No milter: 3 SMTP messages (one with 2 recipients), 1 via sendmail.
t_check "SMTP message 1 accepted" pf_send_expect 250 \
	--from alice@example.org --to bob@example.net
t_check "SMTP message 2 (2 recipients) accepted" pf_send_expect 250 \
	--from alice@example.org --to carol@example.net,dave@example.net
t_check "SMTP message 3 accepted" pf_send_expect 250 \
	--from alice@example.org --to erin@example.net
message root@example.org frank@example.net "via sendmail" |
	pf_sendmail -f root@example.org frank@example.net
t_check "sendmail(1) accepted a message" [ $? -eq 0 ]
t_check "queue drained" pf_wait_queue_empty 30
t_check "sink got exactly the 5 recipient deliveries" expect_recipients \
	"bob@example.net carol@example.net dave@example.net erin@example.net frank@example.net"
f=$(pf_sink_recipients | awk -F'\t' '$2 == "frank@example.net" { print $1 }')
t_check "pf_sink_header reads the sendmail copy's Subject" \
	[ "$(pf_sink_header "$f" subject)" = "via sendmail" ]

# 2. The nullmilter on a unix socket, for SMTP and sendmail mail.
t_check "nullmilter built" build_nullmilter || t_finish pf_teardown
sock=$PF_RUN/nullmilter.sock
# umask 0: the socket must be writable by smtpd/cleanup (user postfix).
(umask 0 && pf_bg nullmilter "$BUILD/nullmilter" -p "unix:$sock")
t_check "nullmilter listens on $sock" pf_wait_file "$sock" 10 || t_finish pf_teardown
pf_stop				# change main.cf while stopped: see pf_postconf
t_check "milters configured" pf_set_milters "unix:$sock"
t_check "Postfix restarted" pf_start
pf_sink_reset
t_check "SMTP message through nullmilter accepted" pf_send_expect 250 \
	--from alice@example.org --to grace@example.net,heidi@example.net
message root@example.org ivan@example.net "via sendmail, milter" |
	pf_sendmail -f root@example.org ivan@example.net
t_check "sendmail(1) message through nullmilter accepted" [ $? -eq 0 ]
t_check "queue drained with the milter" pf_wait_queue_empty 30
t_check "sink got the 3 deliveries made through the milter" \
	expect_recipients "grace@example.net heidi@example.net ivan@example.net"
t_check "no milter warnings in the mail log" no_milter_warnings

# 3. Milter down: milter_default_action = tempfail gives 451 4.7.1.
pf_kill_bg nullmilter KILL	# SIGTERM would take libmilter 4-5 s
t_check "milter down: SMTP mail gets 451 4.7.1" pf_send_expect "451 4.7.1" \
	--from alice@example.org --to judy@example.net
t_check "milter down: nothing delivered" pf_wait_queue_empty 10
t_check "milter down: sink still has only the earlier 3" \
	expect_recipients "grace@example.net heidi@example.net ivan@example.net"

pf_stop
pf_stop				# twice is harmless
t_check "nothing left running or listening" all_stopped
echo "# $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
t_finish pf_teardown
