#!/bin/sh
# test_unsubd_slow.sh - consent-unsubd held by slow clients, and requests
# whose length is told two ways, with the real binaries (the daemon is
# started as test_unsubd.sh starts it):
#
#   100 clients trickle a request header, one octet a second: 10 from each
#     of 127.0.0.2-9 (over the per-client cap of 8) and 20 from the trusted
#     proxy 127.0.0.1 (not capped: it carries many clients).  Meanwhile 10
#     real one-click POSTs, from the proxy and from a client of its own,
#     each get 200 within curl's 1 s bound and change the store.  Each
#     trickle is cut at the 3 s request deadline however it trickles, and
#     the connections over the cap are refused.
#   two Content-Length fields that differ: 400, the store unchanged (the
#     same value twice is one length: 200); Transfer-Encoding with a
#     Content-Length, or a coding but chunked: 400 or 501 within 2 s,
#     before any body is read; chunked alone still works.
#
# Prints "N passed, M failed" last.  Under a sanitizer build the daemon's
# stderr is checked for reports after it stops.
set -u
LC_ALL=C
export LC_ALL
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) B=$BUILD ;; *) B=$TOP/$BUILD ;; esac
. "$TOP/tests/lib/assert.sh"
UNSUBD=$B/consent-unsubd
CTL=$B/consentctl
SLOW="$TOP/tests/lib/slowhttp.py"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 2>/dev/null)

if ! command -v curl >/dev/null 2>&1 || [ -z "$PY" ]; then
	echo "skipped: curl or python3 is missing"
	echo "0 passed, 0 failed"
	exit 0
fi

W=$(mktemp -d)
DPID=			# the daemon running, if any
HPID=			# the slow clients, if running
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	if [ -n "$DPID" ]; then
		kill "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

C=$W/u.conf
ctl() { "$CTL" -c "$C" "$@"; }

"$CTL" -c /dev/null keygen "$W/k1.key" >/dev/null
cat >"$C" <<EOF
store: { path = "$W/store"; };
unsubscribe: {
	keys = ( { id = 1; file = "$W/k1.key"; } );
	url = "https://u.example.com/u/%t";
	listen = "127.0.0.1:0";
	trusted_proxies = "127.0.0.1";
	user = "";
	max_per_client = 8;
	request_timeout = 3;
};
EOF
t_run 0 ctl init
for i in 0 1 2 3 4 5 6 7 8 9; do
	ctl subscribe "p$i@example.com" --list news >/dev/null
done
for i in 1 2 3 4 5 6 7 8; do
	ctl subscribe "j$i@example.com" --list news >/dev/null
done

# Started as test_unsubd.sh does: its log says the port.
DLOG=$W/d.log
"$UNSUBD" -c "$C" -f -d 2>"$DLOG" &
DPID=$!
PORT=
i=0
while [ $i -lt 100 ] && [ -z "$PORT" ]; do
	PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\).*/\1/p' "$DLOG")
	kill -0 "$DPID" 2>/dev/null || break
	[ -n "$PORT" ] || sleep 0.05
	i=$((i + 1))
done
[ -n "$PORT" ] && t_ok || { t_fail "consent-unsubd did not start"; cat "$DLOG" >&2; }
U=http://127.0.0.1:$PORT/u

# --- 100 slow clients, and real POSTs between them
set --
for a in 2 3 4 5 6 7 8 9; do set -- "$@" "127.0.0.$a:10"; done
"$PY" "$SLOW" trickle 127.0.0.1 "$PORT" 8 "$W/ready" "127.0.0.1:20" "$@" \
    >"$W/slow.out" 2>"$W/slow.err" &
HPID=$!
i=0
until [ -e "$W/ready" ] || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
[ -e "$W/ready" ] && t_ok || t_fail "the slow clients did not get going"
# A second octet on each: they are trickling, not new (slowhttp.py says so).
i=0
until [ -e "$W/ready.2" ] || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -e "$W/ready.2" ] && t_ok || t_fail "the slow clients did not send a second octet"
n=0
for i in 0 1 2 3 4 5 6 7 8 9; do
	[ $i -lt 5 ] && from=127.0.0.1 || from=127.0.0.10
	tok=$(ctl token "p$i@example.com" --list news)
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 1 \
	    --interface "$from" -X POST -d 'List-Unsubscribe=One-Click' \
	    "$U/$tok")
	t_eq "$code" 200 "POST $i from $from among the slow clients"
	[ "$code" = 200 ] && n=$((n + 1))
done
echo "one-click POSTs among 100 slow clients: $n of 10 got 200 within 1 s"
for i in 0 1 2 3 4 5 6 7 8 9; do
	t_run 1 ctl check "p$i@example.com" --list news
	t_out "deny (unsubscribed)"
done
wait "$HPID"
HPID=
cat "$W/slow.out"
# stat SRC FIELD: one of the slow clients' figures.
stat() {
	sed -n "s/^$1 .*$2=\([0-9]*\).*/\1/p" "$W/slow.out"
}
t_eq "$(stat 127.0.0.1 refused)" 0 "trusted proxy's slow connections refused"
[ "$(stat 127.0.0.1 cut)" -ge 20 ] 2>/dev/null && t_ok ||
    t_fail "the proxy's 20 trickles were not all cut at the deadline"
for a in 2 3 4 5 6 7 8 9; do
	[ "$(stat 127.0.0.$a refused)" -ge 2 ] 2>/dev/null && t_ok ||
	    t_fail "127.0.0.$a: not refused past 8 connections"
	[ "$(stat 127.0.0.$a cut)" -ge 8 ] 2>/dev/null && t_ok ||
	    t_fail "127.0.0.$a: its 8 trickles were not all cut at the deadline"
done
grep -q 'refused a connection from 127.0.0.2: 8 open' "$DLOG" && t_ok ||
    t_fail "no refusal logged"
grep -q 'no whole request within 3 s' "$DLOG" && t_ok ||
    t_fail "no deadline cut logged"

# --- the length told two ways
# raw NAME: the request in $W/NAME.req, sent as is; the status into $code.
raw() {
	code=$("$PY" "$SLOW" raw 127.0.0.1 "$PORT" 2 <"$W/$1.req")
}
# req NAME TOKEN HEADER-LINES BODY: a POST to /u/TOKEN, written raw.
req() {
	printf 'POST /u/%s HTTP/1.1\r\nHost: u.example.com\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n%s\r\n%s' \
	    "$2" "$3" "$4" >"$W/$1.req"
}
CR=$(printf '\r')
UL=List-Unsubscribe=One-Click		# 26 octets
CHUNKED=$(printf '1a\r\n%s\r\n0\r\n\r\n.' "$UL")
CHUNKED=${CHUNKED%.}		# $() would drop the last newline
tok() { ctl token "$1@example.com" --list news; }

req cl2 "$(tok j1)" "Content-Length: 26$CR
Content-Length: 5$CR
" "$UL"
raw cl2
t_eq "$code" 400 "Content-Length 26 then 5"
t_run 0 ctl check j1@example.com --list news
req cl2b "$(tok j2)" "Content-Length: 5$CR
Content-Length: 26$CR
" "$UL"
raw cl2b
t_eq "$code" 400 "Content-Length 5 then 26"
t_run 0 ctl check j2@example.com --list news
req cl2c "$(tok j3)" "Content-Length: 26$CR
Content-Length: 26$CR
" "$UL"
raw cl2c
t_eq "$code" 200 "the same Content-Length twice"
t_run 1 ctl check j3@example.com --list news
req te1 "$(tok j4)" "Transfer-Encoding: xchunked$CR
Content-Length: 5$CR
" "hello"
raw te1
case $code in 400|501) t_ok ;; *) t_fail "xchunked with Content-Length: got '$code', wanted 400 or 501 within 2 s" ;; esac
t_run 0 ctl check j4@example.com --list news
req te2 "$(tok j5)" "Transfer-Encoding: xchunked$CR
" "$CHUNKED"
raw te2
t_eq "$code" 501 "Transfer-Encoding xchunked"
t_run 0 ctl check j5@example.com --list news
req te3 "$(tok j6)" "Transfer-Encoding: chunked$CR
Content-Length: 26$CR
" "$CHUNKED"
raw te3
t_eq "$code" 400 "chunked with Content-Length"
t_run 0 ctl check j6@example.com --list news
req te4 "$(tok j7)" "Transfer-Encoding: gzip, chunked$CR
" "$CHUNKED"
raw te4
t_eq "$code" 501 "Transfer-Encoding gzip, chunked"
t_run 0 ctl check j7@example.com --list news
req te5 "$(tok j8)" "Transfer-Encoding: chunked$CR
" "$CHUNKED"
raw te5
t_eq "$code" 200 "chunked alone"
t_run 1 ctl check j8@example.com --list news
grep -q 'refused with 400 a request whose length is not sure' "$DLOG" && t_ok ||
    t_fail "no framing refusal logged"

kill -TERM "$DPID"
wait "$DPID"
rc=$?
DPID=
t_eq "$rc" 0 "consent-unsubd exit status after SIGTERM"
if grep -q 'ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer' "$DLOG"; then
	t_fail "sanitizer report in $DLOG"
	cat "$DLOG" >&2
else
	t_ok
fi
t_done
