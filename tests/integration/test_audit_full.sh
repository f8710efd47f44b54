#!/bin/sh
# test_audit_full.sh - the audit trail on a full filesystem: the real
# consent-milter, driven by miltertest, writes its audit log on a 64 KiB
# tmpfs.  Filled up, a bulk message is tempfailed and the log keeps only
# whole lines; with space back, the next message is accepted, the file
# holds a "gap" line naming the decisions lost, every line parses as JSON,
# and "consentctl audit verify" says the chain is intact and where the gap
# was.
#
# Needs root and mount(8) (skipped, exit 0, when mounting is not allowed).
# Prints "N passed, M failed" last.
set -u
LC_ALL=C
export LC_ALL
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) B=$BUILD ;; *) B=$TOP/$BUILD ;; esac
MILTER=${MILTER:-$B/consent-milter}
CTL=${CONSENTCTL:-$B/consentctl}
# shellcheck source=tests/lib/assert.sh
. "$TOP/tests/lib/assert.sh"
if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi

skip() {
	echo "skipped: $*"
	t_done
	exit 0
}

die() {
	t_fail "$*"
	t_done
	exit 1
}

[ "$(id -u)" -eq 0 ] || skip "needs root (to mount a small tmpfs)"
command -v miltertest >/dev/null 2>&1 || die "miltertest is not installed (make deps)"
[ -x "$MILTER" ] && [ -x "$CTL" ] || die "no binaries in $B (build them first)"

# A short directory: a unix socket path has room for 107 octets.
W=$(mktemp -d /tmp/cm-full.XXXXXX) || die "mktemp failed"
FS=$W/fs
MPID=
mkdir "$FS"
cleanup() {
	[ -n "$MPID" ] && kill -KILL "$MPID" 2>/dev/null
	# The log outlives the tmpfs when the scratch directory is kept.
	cp "$FS/audit.log" "$W/audit.log" 2>/dev/null
	mountpoint -q "$FS" && umount "$FS"
	if [ "${KEEP:-0}" = 1 ] || [ "$T_FAIL" -ne 0 ]; then
		echo "scratch directory kept: $W" >&2
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
if ! mount -t tmpfs -o size=64k,mode=0755 tmpfs "$FS" 2>"$W/mount.err"; then
	skip "cannot mount a tmpfs here: $(cat "$W/mount.err")"
fi

A=$FS/audit.log
cat >"$W/m.conf" <<EOF
store: { path = "$W/store"; };
milter: { socket = "unix:$W/m.sock"; user = ""; socket_group = ""; shutdown_timeout = 5; };
classify: { rules = ( { sender_domain = "news.example.com"; list = "news"; } ); };
audit: { file = "$A"; pseudonymize = false; fail_closed = true; };
EOF
"$CTL" -c "$W/m.conf" init >/dev/null || die "consentctl init"
i=1
while [ $i -le 16 ]; do
	"$CTL" -c "$W/m.conf" subscribe "r$i@example.com" --list news \
	    --at 2025-01-01T00:00:00Z >/dev/null || die "consentctl subscribe"
	i=$((i + 1))
done

# One bulk message to MT_N subscribed recipients; its end-of-message reply
# must be MT_WANT: "accept", or "tempfail" (451).
cat >"$W/send.lua" <<'EOF'
local ok, T = pcall(dofile, os.getenv("MT_LIB") or "mtlib.lua")
if not ok then print("FAIL - mtlib.lua: " .. tostring(T)) os.exit(1) end
T.main(function()
	local want, qid = T.env("MT_WANT"), T.env("MT_QID")
	T.case(qid, function(conn)
		T.mail(conn, "<promo@news.example.com>")
		for i = 1, tonumber(T.env("MT_N")) do
			T.rcpt(conn, "<r" .. i .. "@example.com>", SMFIR_CONTINUE)
		end
		T.headers(conn, {}, qid)
		local r = T.eom(conn, qid)
		if want == "accept" then
			T.ok(r == SMFIR_CONTINUE or r == SMFIR_ACCEPT, "accepted",
			    "got " .. T.rname(r))
		else
			T.ok((r == SMFIR_REPLYCODE and
			    mt.eom_check(conn, MT_SMTPREPLY, "451", "4.3.0",
			    "Audit log unavailable, try again later")) or
			    r == SMFIR_TEMPFAIL, "tempfailed (451)", "got " .. T.rname(r))
		end
	end)
end)
EOF

# send QID N WANT: one message through miltertest; its counts are ours.
send() {
	env MT_LIB="$TOP/tests/milter/mtlib.lua" MT_SOCK="unix:$W/m.sock" \
	    MT_QID="$1" MT_N="$2" MT_WANT="$3" \
	    miltertest -s "$W/send.lua" >"$W/send.$1.out" 2>&1
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$W/send.$1.out" | tail -n 1)
	case "$line" in
	*" passed, 0 failed") t_ok ;;
	*) t_fail "message $1 ($3): $(grep -v '^ok - ' "$W/send.$1.out")" ;;
	esac
}

# whole: the log ends with a newline and every line is a JSON object.
whole() {
	"$PYTHON" - "$A" <<'PY'
import json, sys
data = open(sys.argv[1], "rb").read()
if data and not data.endswith(b"\n"):
    sys.exit("the last line is not whole: %r" % data[-60:])
for i, l in enumerate(data.split(b"\n")[:-1], 1):
    try:
        o = json.loads(l)
        assert isinstance(o, dict)
    except Exception as e:
        sys.exit("line %d does not parse (%s): %r" % (i, e, l[:120]))
PY
}

"$MILTER" -c "$W/m.conf" -f 2>"$W/m.err" &
MPID=$!
n=0
while [ ! -S "$W/m.sock" ] && [ $n -lt 100 ] && kill -0 "$MPID" 2>/dev/null; do
	sleep 0.1
	n=$((n + 1))
done
[ -S "$W/m.sock" ] || die "the milter did not start: $(tail -n 5 "$W/m.err")"

# Space: a decision is written.
send Q1 1 accept
t_run 0 "$CTL" -c "$W/m.conf" audit verify "$A"
t_out "chain intact"

# Full: 16 lines do not fit in what is left of the log's last page, so one
# write is cut short.  The message is tempfailed; the file keeps whole
# lines only, and those verify.
dd if=/dev/zero of="$FS/filler" bs=4k >/dev/null 2>&1
[ "$(df -P "$FS" | awk 'NR == 2 { print $4 }')" -eq 0 ] && t_ok ||
    t_fail "the tmpfs is not full: $(df -P "$FS")"
send Q2 16 tempfail
t_run 0 whole
t_run 0 "$CTL" -c "$W/m.conf" audit verify "$A"
grep -q 'audit log: cannot write decisions of Q2' "$W/m.err" && t_ok ||
    t_fail "the milter did not log the failed audit write"
# All of a message's lines, or none: no line says Q2 went anywhere.
t_eq "$(grep -c '"qid":"Q2"' "$A")" 0 "lines of the tempfailed Q2 in the log"

# Space again: the next message is accepted; a gap line names the lost
# decisions, and verify accepts the file and says where the gap was.
rm -f "$FS/filler"
send Q3 1 accept
t_run 0 whole
t_run 0 "$CTL" -c "$W/m.conf" audit verify "$A"
t_out "chain intact"
gapline=$(grep -n '"type":"gap"' "$A" | cut -d: -f1)
[ -n "$gapline" ] && t_ok || t_fail "no gap line in the log"
t_out "line ${gapline:-?} (offset "
t_out "decision lines not written, "
t_out "1 gap"
grep '"type":"gap"' "$A" | grep -q '"lost":16,' && t_ok ||
    t_fail "the gap line does not count Q2's 16 lost decisions"
tail -n 1 "$A" | grep -q '"qid":"Q3"' && t_ok || t_fail "Q3 is not the last line"
# The report reads the repaired file too.
t_run 0 "$CTL" -c "$W/m.conf" audit report --audit "$A" --json

kill -TERM "$MPID"
wait "$MPID"
t_eq $? 0 "milter exit status after SIGTERM"
MPID=
if grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$W/m.err"; then
	t_fail "sanitizer report: $(grep -A 20 -e 'ERROR: AddressSanitizer' \
	    -e 'runtime error:' "$W/m.err" | head -n 40)"
else
	t_ok
fi
t_done
