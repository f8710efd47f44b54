# daemons.sh - stopping the daemons a test started, and checking their
# logs for sanitizer reports.  Source it after tests/lib/postfix.sh (it
# uses pf__wait_gone); daemons write their pid to $PF_RUN/NAME.pid, and
# the test appends each daemon's stderr file to DAEMON_LOGS.

STOPPING=			# pids sent SIGTERM, not yet gone
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
}

# daemons_gone : wait (15 s) for every daemon sent SIGTERM to exit.
daemons_gone() {
	local pid rc=0
	for pid in $STOPPING; do
		if ! pf__wait_gone "$pid" 15; then
			echo "  $pid still running 15 s after SIGTERM" >&2
			kill -KILL "$pid" 2>/dev/null
			rc=1
		fi
	done
	STOPPING=
	return $rc
}

# sanitizers_quiet : none of the daemons reported a sanitizer finding.
sanitizers_quiet() {
	local f bad=0
	for f in $DAEMON_LOGS; do
		if grep -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' \
		    "$f" >&2; then
			echo "  in $f" >&2
			bad=1
		fi
	done
	return $bad
}
