#!/bin/sh
# test_import_kill.sh - SIGKILL in the middle of a large import leaves the
# store exactly at its last commit, and mdb_stat still reads it.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
. "$TOP/tests/lib/assert.sh"
CTL="${CTL_BIN:-$TOP/$BUILD/consentctl}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
: >"$W/empty.conf"
ctl() { "$CTL" -c "$W/empty.conf" -s "$W/store" "$@"; }

t_run 0 ctl init
printf 'email,status,timestamp\nbefore1@example.com,subscribed,2024-01-01T00:00:00Z\nbefore2@example.com,unsubscribed,2024-01-02T00:00:00Z\n' >"$W/seed.csv"
t_run 0 ctl import "$W/seed.csv"
ctl export >"$W/before.csv"

# Large enough that the import is still running when it is killed.
awk 'BEGIN { print "email,status,timestamp,source,ip";
	for (i = 0; i < 1500000; i++)
		printf "big%07d@example.org,subscribed,2024-03-01T00:00:00Z,form,192.0.2.%d\n", i, i % 250 }' >"$W/big.csv"
ctl import "$W/big.csv" >/dev/null 2>&1 &
pid=$!
sleep 1
if kill -0 "$pid" 2>/dev/null; then
	kill -9 "$pid"
	wait "$pid" 2>/dev/null
	t_ok
else
	t_fail "the import finished before it could be killed: make the file larger"
fi

# The store is exactly as before the import, and LMDB's own tool reads it.
t_run 0 mdb_stat -a "$W/store"
ctl export >"$W/after.csv"
if cmp -s "$W/before.csv" "$W/after.csv"; then t_ok; else t_fail "store changed by a killed import"; diff "$W/before.csv" "$W/after.csv" | head >&2; fi
t_run 1 ctl check big0000001@example.org
t_out "no_consent"
# And it still takes the whole import afterwards (stale reader slots cleared).
t_run 0 ctl import "$W/big.csv"
t_out "1500000 rows"
t_run 0 ctl check big1499999@example.org
t_run 0 mdb_stat "$W/store"
t_done
