#!/bin/sh
# run.sh - the benchmarks behind "make bench".  Every figure is printed
# beside a baseline measured in the same run, on the same data; the runs
# interleave and the medians are quoted, since the machine is noisy.
# Nothing here asserts a timing.
set -u
cd "$(dirname "$0")/../.."
TOP=$(pwd)
BUILD=${BUILD:-build}
N=${BENCH_ROWS:-1000000}
ROUNDS=${BENCH_ROUNDS:-3}
W=$(mktemp -d /var/tmp/consent-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
CTL="$TOP/$BUILD/consentctl"
: >"$W/empty.conf"
# postmap needs a main.cf; the system one is absent (Postfix unconfigured).
mkdir -p "$W/pf"
: >"$W/pf/main.cf"

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "== store: import of $N rows against postmap lmdb: ($ROUNDS rounds, medians)"
awk -v n="$N" 'BEGIN { print "email,status,timestamp";
	for (i = 0; i < n; i++)
		printf "user%07d@example.com,subscribed,2024-01-01T00:00:00Z\n", i }' >"$W/rows.csv"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "user%07d@example.com OK\n", i }' >"$W/access"
: >"$W/t.import"
: >"$W/t.postmap"
r=0
while [ $r -lt "$ROUNDS" ]; do
	rm -rf "$W/store" "$W/access.lmdb"
	"$CTL" -c "$W/empty.conf" -s "$W/store" init >/dev/null
	t0=$(now)
	"$CTL" -c "$W/empty.conf" -s "$W/store" import "$W/rows.csv" >/dev/null || exit 1
	t1=$(now)
	postmap -c "$W/pf" lmdb:"$W/access" || exit 1
	t2=$(now)
	echo "$t1 - $t0" | bc >>"$W/t.import"
	echo "$t2 - $t1" | bc >>"$W/t.postmap"
	r=$((r + 1))
done
ti=$(median <"$W/t.import")
tp=$(median <"$W/t.postmap")
printf 'import: consentctl %.2f s (%.0f rows/s), postmap lmdb: %.2f s, ratio postmap/consentctl %.2f (goal >= 1.00)\n' \
	"$ti" "$(echo "$N / $ti" | bc -l)" "$tp" "$(echo "$tp / $ti" | bc -l)"

echo "== store: policy decisions against raw mdb_get, same keys"
"$TOP/$BUILD/tests/bench_store" "$W/store" "$N" 1000000 5

echo "== audit report: 1,000,000 audit lines and 1,000,000 mail-log lines against one awk pass"
BUILD=$BUILD tests/bench/bench_report.sh

BUILD=$BUILD tests/bench/bench_feedback.sh

if [ -x tests/bench/milter.sh ]; then
	echo "== milter: messages/s through a private Postfix"
	BUILD=$BUILD tests/bench/milter.sh
fi

echo "== fleet: the PostgreSQL journal and three replicas (tests/bench/fleet.sh)"
BUILD=$BUILD tests/bench/fleet.sh
