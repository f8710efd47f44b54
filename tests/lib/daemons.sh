# daemons.sh - stopping the daemons a test started, checking how they
# exited, and checking their logs for sanitizer reports.  Source it after
# tests/lib/postfix.sh (it uses pf__wait_gone and pf_bg_status); daemons
# are started with pf_bg (pid in $PF_RUN/NAME.pid, exit status in
# $PF_RUN/NAME.status), and the test appends each daemon's stderr file to
# DAEMON_LOGS.

STOPPING=			# pids sent SIGTERM, not yet gone
STOPPING_NAMES=			# their names, for their exit status
DAEMON_LOGS=${DAEMON_LOGS:-}	# stderr files of every daemon started

# daemon_stop NAME : SIGTERM without waiting (libmilter takes 4-5 s to
# exit); daemons_gone waits for all of them at the end.
daemon_stop() {
	local pidf="$PF_RUN/$1.pid" pid
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	rm -f "$pidf"
	kill -TERM "$pid" 2>/dev/null
	STOPPING="$STOPPING $pid"
	STOPPING_NAMES="$STOPPING_NAMES $1"
}

# daemons_gone : wait (15 s) for every daemon sent SIGTERM to exit, and
# check that each exited with status 0 (a sanitizer's report at exit, a
# crash or a hang all show there).
daemons_gone() {
	local pid name st rc=0
	for pid in $STOPPING; do
		if ! pf__wait_gone "$pid" 15; then
			echo "  $pid still running 15 s after SIGTERM" >&2
			kill -KILL "$pid" 2>/dev/null
			rc=1
		fi
	done
	for name in $STOPPING_NAMES; do
		if ! st=$(pf_bg_status "$name" 5); then
			echo "  $name: no exit status recorded" >&2
			rc=1
		elif [ "$st" -ne 0 ]; then
			echo "  $name exited with status $st after SIGTERM" >&2
			rc=1
		fi
	done
	STOPPING=
	STOPPING_NAMES=
	return $rc
}

# daemon_end NAME : SIGTERM to the daemon NAME, wait until it is gone;
# true if it exited with status 0.  (daemon_stop + daemons_gone, for one.)
daemon_end() {
	daemon_stop "$1"
	daemons_gone
}

# sanitizers_quiet : none of the daemons reported a sanitizer finding.
# A log that is not there is a failure too: a check of nothing passes.
sanitizers_quiet() {
	local f bad=0
	if [ -z "$DAEMON_LOGS" ]; then
		echo "  sanitizers_quiet: no daemon log named (DAEMON_LOGS)" >&2
		return 1
	fi
	for f in $DAEMON_LOGS; do
		if [ ! -f "$f" ]; then
			echo "  no daemon log $f" >&2
			bad=1
		elif grep -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' \
		    "$f" >&2; then
			echo "  in $f" >&2
			bad=1
		fi
	done
	return $bad
}
