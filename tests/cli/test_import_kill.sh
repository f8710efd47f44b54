#!/bin/sh
# test_import_kill.sh - SIGKILL in the middle of a large import (while it
# reads and sorts, and while it merges) leaves the store exactly at its
# last commit, and mdb_stat still reads it; a reader
# killed inside its transaction leaves a stale slot that the next open
# clears.  Both kills happen while another process (a consent-milter)
# holds the store open: with no other user, the next open would rebuild
# lock.mdb and hide whether the recovery works.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) B=$BUILD ;; *) B=$TOP/$BUILD ;; esac
. "$TOP/tests/lib/assert.sh"
CTL="${CTL_BIN:-$B/consentctl}"
MILTER="${MILTER_BIN:-$B/consent-milter}"
# pwd -P: the paths are compared with /proc/PID/fd links.
W=$(cd "$(mktemp -d /tmp/cm-kill.XXXXXX)" && pwd -P)
HPID=
cleanup() {
	[ -n "$HPID" ] && kill -KILL "$HPID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
: >"$W/empty.conf"
ctl() { "$CTL" -c "$W/empty.conf" -s "$W/store" "$@"; }

# fd_pos PID FILE: the offset PID has reached in FILE, or nothing.
fd_pos() {
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = "$2" ] || continue
		sed -n 's/^pos:[[:space:]]*//p' "/proc/$1/fdinfo/${fd##*/}" 2>/dev/null
		return
	done
}

# kill_midway PID WHAT COND...: SIGKILL PID as soon as COND holds while
# PID still runs (60 s at most); a pass if it was caught in the middle.
kill_midway() {
	k_pid=$1
	k_what=$2
	shift 2
	k_i=0
	until "$@"; do
		kill -0 "$k_pid" 2>/dev/null || break
		[ $k_i -ge 1200 ] && break
		sleep 0.05
		k_i=$((k_i + 1))
	done
	if kill -9 "$k_pid" 2>/dev/null; then
		wait "$k_pid" 2>/dev/null
		t_ok "$k_what killed in the middle"
	else
		wait "$k_pid" 2>/dev/null
		t_fail "$k_what finished before it could be killed: make the file larger"
	fi
}

# import_reading: the import has read 1 MiB of big.csv (it is applying
# rows inside its write transaction).
import_reading() {
	p=$(fd_pos "$IPID" "$W/big.csv")
	[ -n "$p" ] && [ "$p" -ge 1048576 ]
}

# import_merging: the import has read all of big.csv and 4 MiB more (its
# sorted runs, inside its write transaction: rchar counts pread too).
import_merging() {
	r=$(sed -n 's/^rchar: //p' "/proc/$IPID/io" 2>/dev/null)
	[ -n "$r" ] && [ "$r" -ge $(($(stat -c %s "$W/big.csv") + 4194304)) ]
}

# export_writing: the export has written 1 MiB (its read transaction is open).
export_writing() {
	[ "$(stat -c %s "$W/export.out" 2>/dev/null || echo 0)" -ge 1048576 ]
}

t_run 0 ctl init
printf 'email,status,timestamp\nbefore1@example.com,subscribed,2024-01-01T00:00:00Z\nbefore2@example.com,unsubscribed,2024-01-02T00:00:00Z\n' >"$W/seed.csv"
t_run 0 ctl import "$W/seed.csv"
ctl export >"$W/before.csv"

# The holder: a consent-milter with the store open for the whole test.
cat >"$W/m.conf" <<EOF
store: { path = "$W/store"; };
milter: { socket = "unix:$W/m.sock"; user = ""; socket_group = ""; shutdown_timeout = 2; };
EOF
"$MILTER" -c "$W/m.conf" -f 2>"$W/milter.err" &
HPID=$!
i=0
until grep -q 'store open:' "$W/milter.err" 2>/dev/null || [ $i -ge 200 ]; do
	kill -0 "$HPID" 2>/dev/null || break
	sleep 0.05
	i=$((i + 1))
done
t_check "a consent-milter holds the store open" grep -q 'store open:' "$W/milter.err" ||
    cat "$W/milter.err" >&2

awk 'BEGIN { print "email,status,timestamp,source,ip";
	for (i = 0; i < 1500000; i++)
		printf "big%07d@example.org,subscribed,2024-03-01T00:00:00Z,form,192.0.2.%d\n", i, i % 250 }' >"$W/big.csv"
# Not through ctl(): $! would be the pid of a subshell, and SIGKILL would
# leave the import running.
"$CTL" -c "$W/empty.conf" -s "$W/store" import "$W/big.csv" >/dev/null 2>&1 &
IPID=$!
kill_midway "$IPID" "the import" import_reading

# The store is exactly as before the import, and LMDB's own tool reads it.
t_run 0 mdb_stat -a "$W/store"
ctl export >"$W/after.csv"
if cmp -s "$W/before.csv" "$W/after.csv"; then t_ok; else t_fail "store changed by a killed import"; diff "$W/before.csv" "$W/after.csv" | head >&2; fi
t_run 1 ctl check big0000001@example.org
t_out "no_consent"

# Killed in the middle of the merge: the rows sorted in spilled runs
# (--memory 16), the write transaction open.  Nothing of it is in the
# store, and nothing of the runs is left beside it.
"$CTL" -c "$W/empty.conf" -s "$W/store" import --memory 16 "$W/big.csv" >/dev/null 2>&1 &
IPID=$!
kill_midway "$IPID" "the import's merge" import_merging
t_run 0 mdb_stat -a "$W/store"
ctl export >"$W/after.csv"
if cmp -s "$W/before.csv" "$W/after.csv"; then t_ok; else t_fail "store changed by an import killed in its merge"; diff "$W/before.csv" "$W/after.csv" | head >&2; fi
t_eq "$(ls -A "$W/store" | tr '\n' ' ')" "data.mdb lock.mdb " "the store directory after the kill"
t_run 1 ctl check big0000001@example.org
# And it still takes the whole import afterwards: the dead writer's lock
# is recovered while the holder keeps lock.mdb in use.
t_run 0 ctl import "$W/big.csv"
t_out "1500000 rows"
t_run 0 ctl check big1499999@example.org
t_run 0 mdb_stat "$W/store"

# A reader killed inside its transaction: its slot stays taken by a dead
# process, pinning that snapshot, until an open clears it.
"$CTL" -c "$W/empty.conf" -s "$W/store" export >"$W/export.out" 2>/dev/null &
kill_midway $! "the export" export_writing
doctor() {
	ctl doctor >"$T_OUT" 2>"$T_ERR"
	d_rc=$?
	[ $d_rc -le 1 ] && t_ok || t_fail "consentctl doctor exited $d_rc"
}
doctor
t_out "1 stale reader slots (a process that died with the store open); cleared now"
doctor
t_not_out "stale reader slots"

# The holder saw none of it, and stops cleanly.
kill -TERM "$HPID"
wait "$HPID"
t_eq "$?" 0 "the holding consent-milter's exit status after SIGTERM"
HPID=
if grep -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$W/milter.err" >&2; then
	t_fail "sanitizer report in the holding consent-milter's stderr"
else
	t_ok
fi
t_done
