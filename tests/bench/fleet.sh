#!/bin/sh
# fleet.sh - the fleet's figures, in one run, on a private PostgreSQL
# cluster (tests/lib/pg.sh) and three replicas on this machine, each kept
# by its own consent-syncd:
#
#   1. propagation: BENCH_FLEET_CHANGES (1,000) changes committed one by
#      one; the time from each commit until it is in all three replicas
#      (p50, p99; goal p99 under 1 s)
#   2. bootstrap: "consentctl sync bootstrap" of BENCH_FLEET_ROWS
#      (1,000,000) rows against psql's "\copy (SELECT ...) TO file" of the
#      same rows in the same order (medians of BENCH_ROUNDS; goal within
#      2x)
#   3. the milter's decision rate on one replica while it applies a
#      BENCH_FLEET_ROWS-row import (consentctl import, one COPY), against
#      the rate on the same keys with nothing applied
#
# Needs root (initdb runs as postgres); prints "skipped" otherwise.
# Asserts nothing.  Smaller runs: BENCH_FLEET_ROWS=100000.
set -u
cd "$(dirname "$0")/../.."
TOP=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) B=$BUILD ;; *) B=$TOP/$BUILD ;; esac
N=${BENCH_FLEET_ROWS:-1000000}
P=${BENCH_FLEET_CHANGES:-1000}
ROUNDS=${BENCH_ROUNDS:-3}
. "$TOP/tests/lib/pg.sh"
CTL=$B/consentctl
BF=$B/tests/bench_fleet

if [ "$(id -u)" -ne 0 ] || ! [ -x "$PG_BIN/initdb" ]; then
	echo "fleet: needs root and PostgreSQL 15 ($PG_BIN): skipped"
	exit 0
fi
W=$(mktemp -d /var/tmp/consent-fleet-bench.XXXXXX)
chmod 755 "$W"
PIDS=
cleanup() {
	for p in $PIDS; do kill -TERM "$p" 2>/dev/null; done
	pg_cleanup
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

pg_setup "$W" || exit 1
for n in 1 2 3; do
	cat >"$W/h$n.conf" <<EOF
store: { path = "$W/s$n"; };
sync: {
	conninfo = "$(pg_conninfo consent_replica)";
	writer_conninfo = "$(pg_conninfo consent_writer)";
	host_id = "mta$n";
	poll_interval = "10s";
	user = "";
};
EOF
done
h() { n=$1; shift; "$CTL" -c "$W/h$n.conf" "$@"; }
h 1 sync init --admin "$(pg_conninfo postgres)" >/dev/null || exit 1
# syncd N : start host N's consent-syncd; its pid in SP_N.
syncd() {
	"$B/consent-syncd" -c "$W/h$1.conf" -f >>"$W/syncd$1.log" 2>&1 &
	eval "SP_$1=$!"
	PIDS="$PIDS $!"
}
stop_syncd() {
	eval "kill -TERM \$SP_$1; wait \$SP_$1"
}
db_end() {
	pg_sql "SELECT xid, id FROM consent.change ORDER BY xid DESC, id DESC
	    LIMIT 1" | tr '|' ' '
}
# at_end N : wait until host N's cursor is the journal's last row.
at_end() {
	want=$(db_end)
	while :; do
		got=$(h "$1" sync status --json 2>/dev/null | sed -n \
		    's/.*"cursor":{"xid":\([0-9]*\),"id":\([0-9]*\)}.*/\1 \2/p')
		[ "$got" = "$want" ] && return 0
		sleep 0.2
	done
}
for n in 1 2 3; do
	h $n sync bootstrap >/dev/null || exit 1
	syncd $n
done
sleep 0.5

echo "== fleet: propagation of $P changes to 3 replicas (each commit timed alone)"
"$BF" propagate "$(pg_conninfo consent_writer)" "$P" "$W/s1" "$W/s2" "$W/s3"

printf '== fleet: bootstrap of %s rows against psql \\copy of the same rows (%s rounds, medians)\n' \
    "$N" "$ROUNDS"
awk -v n="$N" 'BEGIN { print "email,list,status,timestamp";
	for (i = 0; i < n; i++)
		printf "user%07d@example.com,news,subscribed,2026-01-01T00:00:00Z\n", i }' \
    >"$W/a.csv"
t0=$(now)
h 1 import "$W/a.csv" >/dev/null || exit 1
t1=$(now)
for n in 1 2 3; do at_end $n; done
t2=$(now)
printf 'import into the journal (one COPY): %.2f s; in all 3 replicas %.2f s later\n' \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$t2 - $t1" | bc)"
stop_syncd 2
stop_syncd 3
SEL="SELECT xid, id, kind, key, list, value, event_time, time_known, source,
 ip, note, ref, expires, made, origin_host, origin_id FROM consent.change
 WHERE xid < pg_snapshot_xmin(pg_current_snapshot()) ORDER BY xid, id"
: >"$W/t.boot"
: >"$W/t.copy"
r=0
while [ $r -lt "$ROUNDS" ]; do
	rm -rf "$W/fresh" "$W/copy.txt"
	t0=$(now)
	"$CTL" -c "$W/h1.conf" -s "$W/fresh" sync bootstrap >"$W/boot.out" || exit 1
	t1=$(now)
	psql -X -q -h "$PG_HOST" -U consent_replica -d "$PG_DB" \
	    -c "\\copy ($(echo "$SEL" | tr '\n' ' ')) TO '$W/copy.txt'" || exit 1
	t2=$(now)
	echo "$t1 - $t0" | bc >>"$W/t.boot"
	echo "$t2 - $t1" | bc >>"$W/t.copy"
	r=$((r + 1))
done
tb=$(median <"$W/t.boot")
tc=$(median <"$W/t.copy")
rows=$(sed -n 's/.*: \([0-9]*\) rows.*/\1/p' "$W/boot.out")
printf 'bootstrap: consentctl %.2f s (%.0f rows/s), psql \\copy to a file %.2f s, ratio %.2f (goal <= 2.00), %s rows\n' \
    "$tb" "$(echo "$rows / $tb" | bc -l)" "$tc" "$(echo "$tb / $tc" | bc -l)" "$rows"

echo "== fleet: decisions on a replica while it applies a $N-row import"
quiet=$("$BF" decide "$W/s1" "$N" 5)
echo "nothing applied:        $quiet"
stop_syncd 1
awk -v n="$N" 'BEGIN { print "email,list,status,timestamp";
	for (i = 0; i < n; i++)
		printf "user%07d@example.com,news,unsubscribed,2026-03-01T00:00:00Z\n", i }' \
    >"$W/b.csv"
h 1 import "$W/b.csv" >/dev/null || exit 1
end=$(db_end)
syncd 1
busy=$("$BF" decide "$W/s1" "$N" 0 $end)
echo "while applying $N rows: $busy"
after=$("$BF" decide "$W/s1" "$N" 5)
echo "nothing applied, after: $after"
q=$(printf '%s\n%s\n' "$(echo "$quiet" | cut -d' ' -f1)" \
    "$(echo "$after" | cut -d' ' -f1)" | awk '{ s += $1 } END { print s / 2 }')
b=$(echo "$busy" | cut -d' ' -f1)
printf 'decision rate while applying / nothing applied (mean of before and after): %.2f\n' \
    "$(echo "$b / $q" | bc -l)"
