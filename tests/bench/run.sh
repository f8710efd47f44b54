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
# Past a million rows one round: it takes minutes, and the machine is shared.
if [ "$N" -gt 1000000 ]; then ROUNDS=${BENCH_ROUNDS:-1}; else ROUNDS=${BENCH_ROUNDS:-3}; fi
W=$(mktemp -d /var/tmp/consent-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
CTL="$TOP/$BUILD/consentctl"
: >"$W/empty.conf"
# postmap needs a main.cf; the system one is absent (Postfix unconfigured).
mkdir -p "$W/pf"
: >"$W/pf/main.cf"

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# mb KB: kilobytes as megabytes, for the RSS that time(1) gives.
mb() { echo "$1 / 1024" | bc; }
# timed OUT CMD...: run CMD under time(1), its seconds and peak RSS (KB)
# appended to OUT as "SECONDS KB"; its stdout discarded.
timed() {
	t_out=$1
	shift
	/usr/bin/time -q -f '%e %M' -o "$W/time.1" "$@" >/dev/null || return 1
	cat "$W/time.1" >>"$t_out"
}
# col N FILE: the median of column N.
col() { awk -v c="$1" '{ print $c }' "$2" | median; }
size_mb() { echo "$(stat -c %s "$1") / 1048576" | bc; }

# The rows in random order, as real exports have them: shuffled with a
# fixed random stream, so every run imports the same file.
openssl enc -aes-256-ctr -pass pass:consent-bench -nosalt </dev/zero 2>/dev/null |
    head -c $((N * 8 + 1048576)) >"$W/random"
echo "== store: import of $N rows in random order against postmap lmdb: of the same addresses ($ROUNDS rounds, medians)"
awk -v n="$N" 'BEGIN { for (i = 0; i < n; i++) printf "%07d\n", i }' |
    shuf --random-source="$W/random" >"$W/order"
{ echo "email,status,timestamp"
  awk '{ printf "user%s@example.com,subscribed,2024-01-01T00:00:00Z\n", $1 }' "$W/order"; } >"$W/rows.csv"
awk '{ printf "user%s@example.com OK\n", $1 }' "$W/order" >"$W/access"
# The changes: every tenth address unsubscribed, in random order too.
{ echo "email,status,timestamp"
  awk '$1 % 10 == 0 { printf "user%s@example.com,unsubscribed,2024-06-01T00:00:00Z\n", $1 }' "$W/order"; } >"$W/changes.csv"
awk '$1 % 10 == 0 { printf "user%s@example.com REJECT\n", $1 }' "$W/order" >"$W/access.changes"
rm -f "$W/order" "$W/random"
: >"$W/t.import"
: >"$W/t.postmap"
r=0
while [ $r -lt "$ROUNDS" ]; do
	rm -rf "$W/store" "$W/access.lmdb"
	"$CTL" -c "$W/empty.conf" -s "$W/store" init >/dev/null
	timed "$W/t.import" "$CTL" -c "$W/empty.conf" -s "$W/store" import "$W/rows.csv" || exit 1
	timed "$W/t.postmap" postmap -c "$W/pf" lmdb:"$W/access" || exit 1
	r=$((r + 1))
done
ti=$(col 1 "$W/t.import"); tp=$(col 1 "$W/t.postmap")
mi=$(col 2 "$W/t.import"); mp=$(col 2 "$W/t.postmap")
si=$(size_mb "$W/store/data.mdb"); sp=$(size_mb "$W/access.lmdb")
printf 'import: consentctl %.2f s (%.0f rows/s), peak RSS %s MB, store %s MB\n' \
	"$ti" "$(echo "$N / $ti" | bc -l)" "$(mb "$mi")" "$si"
printf 'import: postmap lmdb: %.2f s, peak RSS %s MB, map %s MB\n' "$tp" "$(mb "$mp")" "$sp"
printf 'import: postmap/consentctl time %.2f (goal >= 2.50), consentctl RSS %s MB (goal < 600), store/map %.2f (goal <= 1.20)\n' \
	"$(echo "$tp / $ti" | bc -l)" "$(mb "$mi")" "$(echo "$si / $sp" | bc -l)"

# postmap has no merge: what it does with a file that changed is build
# the map again, the figure above; postmap -i adds lines to a map.
echo "== store: the same $N rows again into the full store (nothing changes) against postmap lmdb: of the file again"
: >"$W/t.again"
r=0
while [ $r -lt "$ROUNDS" ]; do
	timed "$W/t.again" "$CTL" -c "$W/empty.conf" -s "$W/store" import "$W/rows.csv" || exit 1
	r=$((r + 1))
done
ta=$(col 1 "$W/t.again"); ma=$(col 2 "$W/t.again")
printf 're-import: consentctl %.2f s, peak RSS %s MB, store %s MB; postmap lmdb: (the map built again) %.2f s; ratio postmap/consentctl %.2f\n' \
	"$ta" "$(mb "$ma")" "$(size_mb "$W/store/data.mdb")" "$tp" "$(echo "$tp / $ta" | bc -l)"

nc=$(($(wc -l <"$W/changes.csv") - 1))
# A postmap user edits the source and builds the map again; postmap -i
# adds lines instead, one commit each: its rate on 10,000 of them.
echo "== store: $nc changes (every tenth address unsubscribed, random order) into the full store against postmap lmdb: of the changed source (once: each run changes the store)"
awk '{ k = substr($1, 5, 7) } k % 10 == 0 { $2 = "REJECT" } { print }' "$W/access" >"$W/access.new"
: >"$W/t.changes"
: >"$W/t.postmap_c"
: >"$W/t.postmap_i"
timed "$W/t.changes" "$CTL" -c "$W/empty.conf" -s "$W/store" import "$W/changes.csv" || exit 1
timed "$W/t.postmap_c" postmap -c "$W/pf" lmdb:"$W/access.new" || exit 1
head -n 10000 "$W/access.changes" >"$W/access.10k"
timed "$W/t.postmap_i" sh -c 'exec postmap -c "$1" -ir lmdb:"$2" <"$3"' sh "$W/pf" "$W/access" "$W/access.10k" || exit 1
tc=$(col 1 "$W/t.changes"); mc=$(col 2 "$W/t.changes")
tpc=$(col 1 "$W/t.postmap_c"); mpc=$(col 2 "$W/t.postmap_c")
tpi=$(col 1 "$W/t.postmap_i")
printf 'changes: consentctl %.2f s, peak RSS %s MB, store %s MB; postmap lmdb: of the changed source %.2f s, peak RSS %s MB, map %s MB; ratio postmap/consentctl %.2f\n' \
	"$tc" "$(mb "$mc")" "$(size_mb "$W/store/data.mdb")" "$tpc" "$(mb "$mpc")" \
	"$(size_mb "$W/access.new.lmdb")" "$(echo "$tpc / $tc" | bc -l)"
printf 'changes: postmap -ir, 10,000 lines into the full map: %.2f s (%.0f lines/s)\n' \
	"$tpi" "$(echo "10000 / $tpi" | bc -l)"
rm -f "$W/access.new" "$W/access.new.lmdb" "$W/access.10k"

echo "== store: export of the full store"
: >"$W/t.export"
timed "$W/t.export" "$CTL" -c "$W/empty.conf" -s "$W/store" export || exit 1
printf 'export: %.2f s, peak RSS %s MB\n' "$(col 1 "$W/t.export")" "$(mb "$(col 2 "$W/t.export")")"

echo "== store: policy decisions on the $N-address store (after the changes) against raw mdb_get, the same random keys"
"$TOP/$BUILD/tests/bench_store" "$W/store" "$N" 1000000 5

# It builds two stores of its own: at most a million addresses.
NE=$N
[ "$NE" -le 1000000 ] || NE=1000000
echo "== store: policy decisions with erased addresses (a hashed lookup each) against none, $NE addresses"
mkdir -m 0750 "$W/erased"
"$TOP/$BUILD/tests/bench_erased" "$W/erased" "$NE" 10000 500000 7

echo "== audit report: $N audit lines and $N mail-log lines against one awk pass"
BUILD=$BUILD BENCH_LINES=$N BENCH_ROUNDS=$ROUNDS tests/bench/bench_report.sh

BUILD=$BUILD tests/bench/bench_feedback.sh

if [ -x tests/bench/milter.sh ]; then
	echo "== milter: messages/s through a private Postfix"
	BUILD=$BUILD tests/bench/milter.sh
fi

echo "== fleet: the PostgreSQL journal and three replicas (tests/bench/fleet.sh)"
BUILD=$BUILD tests/bench/fleet.sh
