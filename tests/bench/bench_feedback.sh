#!/bin/sh
# bench_feedback.sh - "consentctl feedback" over BENCH_DSNS (10,000)
# Postfix DSNs, each with a real List-Unsubscribe token for its own
# recipient, two ways, each beside a baseline in the same run:
#
#   - as pipe(8) runs it, one process per message, against one
#     "consentctl suppress ADDRESS --reason hard_bounce" per address (the
#     same process start, store open and write, without the report);
#   - in one process (tests/bench/bench_feedback.c): parse, prove and
#     record each DSN, against bare store writes of the same suppressions.
#
# BENCH_ROUNDS (3) interleaved rounds of the in-process figures and
# BENCH_FB_PROC_ROUNDS (1) of the process ones, on fresh stores; medians.
# Nothing here asserts a timing.
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
N=${BENCH_DSNS:-10000}
ROUNDS=${BENCH_ROUNDS:-3}
PROUNDS=${BENCH_FB_PROC_ROUNDS:-1}
CTL="${CTL_BIN:-$TOP/$BUILD/consentctl}"
W=$(mktemp -d /var/tmp/consent-bench-fb.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

echo "== feedback: $N DSNs (Postfix's format, a token each)"
"$CTL" -c /dev/null keygen "$W/k.key" >/dev/null || exit 1
cat >"$W/c.conf" <<EOC
store: { path = "$W/store"; };
unsubscribe: { keys = ( { id = 1; file = "$W/k.key"; } ); };
feedback: { queue_dir = "$W/queue"; };
EOC
mkdir -p "$W/dsn"
"$TOP/$BUILD/tests/bench_feedback" gen tests/data/feedback/postfix_5.1.1.eml \
	"$W/dsn" "$N" "$W/c.conf" || exit 1
"$TOP/$BUILD/tests/bench_feedback" run "$W/c.conf" "$W/dsn" "$N" "$ROUNDS" "$W" ||
	exit 1

: >"$W/t.fb"
: >"$W/t.sup"
r=0
while [ "$r" -lt "$PROUNDS" ]; do
	rm -rf "$W/store"
	"$CTL" -c "$W/c.conf" init >/dev/null
	t0=$(now)
	for f in "$W"/dsn/*.eml; do
		"$CTL" -c "$W/c.conf" feedback <"$f" >/dev/null || exit 1
	done
	t1=$(now)
	rm -rf "$W/store"
	"$CTL" -c "$W/c.conf" init >/dev/null
	i=0
	t2=$(now)
	while [ "$i" -lt "$N" ]; do
		"$CTL" -c "$W/c.conf" suppress "$(printf 'user%05d@dead.example' "$i")" \
			--reason hard_bounce --source bounce >/dev/null || exit 1
		i=$((i + 1))
	done
	t3=$(now)
	echo "$t1 - $t0" | bc >>"$W/t.fb"
	echo "$t3 - $t2" | bc >>"$W/t.sup"
	r=$((r + 1))
done
tf=$(median <"$W/t.fb")
ts=$(median <"$W/t.sup")
printf 'feedback as pipe(8) runs it: %.0f DSNs/s (%.2f ms each); consentctl suppress, same addresses: %.0f/s; ratio %.2f\n' \
	"$(echo "$N / $tf" | bc -l)" "$(echo "$tf * 1000 / $N" | bc -l)" \
	"$(echo "$N / $ts" | bc -l)" "$(echo "$tf / $ts" | bc -l)"
