#!/bin/sh
# test_notify.sh - the systemd notifications (Type=notify) of both
# daemons, read from a unix datagram socket named by NOTIFY_SOCKET, as
# systemd would: started with the store missing, neither says READY=1
# (the filter tempfails bulk mail, the endpoint answers 503); once the
# store is made, each opens it and says READY=1; at SIGTERM each says
# STOPPING=1 and exits 0.
#
# Runs as any user.  Prints "N passed, M failed" last.
set -u
LC_ALL=C
export LC_ALL
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) B=$BUILD ;; *) B=$TOP/$BUILD ;; esac
. "$TOP/tests/lib/assert.sh"
MILTER=$B/consent-milter
UNSUBD=$B/consent-unsubd
CTL=$B/consentctl
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null)
[ -n "$PY" ] || { t_fail "python3 is installed (make deps)"; t_done; exit 1; }

# A short directory: a unix socket path has room for 107 octets.
W=$(mktemp -d /tmp/cm-notify.XXXXXX)
PIDS=
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	if [ "${KEEP:-0}" = 1 ] || [ "$T_FAIL" -ne 0 ]; then
		echo "scratch directory kept: $W" >&2
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# listen NAME: a datagram socket $W/NAME.notify; each message received is
# one line of $W/NAME.msgs (its newlines shown as " | ").
listen() {
	"$PY" - "$W/$1.notify" "$W/$1.msgs" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a", buffering=1) as f:
    f.write("listening\n")
    while True:
        d = s.recv(65536)
        f.write(d.decode("utf-8", "replace").replace("\n", " | ") + "\n")
PY
	PIDS="$PIDS $!"
	wait_for "$W/$1.msgs" '^listening$' 10
}

# wait_for FILE ERE SECONDS: FILE has a line matching ERE, within SECONDS.
wait_for() {
	w_i=0
	until grep -qE -- "$2" "$1" 2>/dev/null; do
		[ $w_i -ge $(($3 * 20)) ] && return 1
		sleep 0.05
		w_i=$((w_i + 1))
	done
}

# count FILE ERE: lines of FILE matching ERE.
count() {
	grep -cE -- "$2" "$1" 2>/dev/null
}

"$CTL" -c /dev/null keygen "$W/1.key" >/dev/null
cat >"$W/c.conf" <<EOF
store: { path = "$W/store"; };
milter: { socket = "unix:$W/m.sock"; user = ""; socket_group = ""; shutdown_timeout = 2; };
classify: { rules = ( { sender_domain = "news.example.com"; list = "news"; } ); };
unsubscribe: {
	keys = ( { id = 1; file = "$W/1.key"; } );
	url = "https://u.example.com/u/%t";
	listen = "127.0.0.1:0";
	user = "";
};
EOF

# --- both start with no store: no READY=1 ----------------------------------
t_check "a notification socket for consent-milter" listen milter
t_check "a notification socket for consent-unsubd" listen unsubd
NOTIFY_SOCKET=$W/milter.notify "$MILTER" -c "$W/c.conf" -f 2>"$W/milter.log" &
MPID=$!
PIDS="$PIDS $MPID"
NOTIFY_SOCKET=$W/unsubd.notify "$UNSUBD" -c "$W/c.conf" -f 2>"$W/unsubd.log" &
UPID=$!
PIDS="$PIDS $UPID"
for d in milter unsubd; do
	t_check "consent-$d runs without a store (says so, listens)" \
	    wait_for "$W/$d.log" 'listening on' 10 &&
	    t_check "consent-$d: the store is missing" \
	    wait_for "$W/$d.log" 'store unavailable' 10
done
# The filter retries the store once a second: a retry, and still no
# READY=1.  (A READY=1 sent any earlier would be here already: a datagram
# is in the socket when sd_notify returns.)
# retried: the filter logged its second try (10 s at most).
retried() {
	r_i=0
	until [ "$(count "$W/milter.log" 'store unavailable')" -ge 2 ]; do
		[ $r_i -ge 200 ] && return 1
		kill -0 "$MPID" 2>/dev/null || return 1
		sleep 0.05
		r_i=$((r_i + 1))
	done
}
t_check "consent-milter retries the store" retried
for d in milter unsubd; do
	t_eq "$(count "$W/$d.msgs" 'READY=1')" 0 "consent-$d: READY=1 before the store opens"
done
if [ -S "$W/m.sock" ]; then t_ok; else t_fail "consent-milter's socket is there"; fi

# --- the store appears: READY=1, once ------------------------------------
t_run 0 "$CTL" -c "$W/c.conf" init
for d in milter unsubd; do
	t_check "consent-$d opens the store (recovered)" \
	    wait_for "$W/$d.log" 'store open: .*\(recovered\)' 15
	t_check "consent-$d says READY=1" wait_for "$W/$d.msgs" 'READY=1' 10
done
t_check "consent-milter's READY=1 says it filters" \
    grep -q 'READY=1 | STATUS=filtering' "$W/milter.msgs"
t_check "consent-unsubd's READY=1 says it answers" \
    grep -q 'READY=1 | STATUS=answering one-click requests' "$W/unsubd.msgs"

# A reload says RELOADING=1, then READY=1 again.
kill -USR1 "$MPID"
t_check "consent-milter: RELOADING=1 at SIGUSR1" \
    wait_for "$W/milter.msgs" '^RELOADING=1' 10
t_check "consent-milter: READY=1 after the reload" \
    wait_for "$W/milter.msgs" '^READY=1$' 10

# --- SIGTERM: STOPPING=1, exit 0 ---------------------------------------------
for d in milter:$MPID unsubd:$UPID; do
	n=${d%%:*}
	p=${d#*:}
	kill -TERM "$p"
	wait "$p"
	t_eq "$?" 0 "consent-$n: exit status after SIGTERM"
	t_check "consent-$n says STOPPING=1" wait_for "$W/$n.msgs" 'STOPPING=1' 5
	t_lacks "$W/$n.log" 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' \
	    "consent-$n: sanitizer report in its stderr"
done
PIDS=$(echo "$PIDS" | tr ' ' '\n' | grep -v -e "^$MPID\$" -e "^$UPID\$" | tr '\n' ' ')
# The order systemd saw.
for n in milter unsubd; do
	sed "s/^/  $n: /" "$W/$n.msgs"
done
t_done
