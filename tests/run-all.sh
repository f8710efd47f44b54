#!/bin/sh
# run-all.sh - run every test against the binaries in $BUILD: the cmocka
# unit tests, the CLI tests, the miltertest scripts, the private-Postfix
# integration tests and (with FUZZ=1) a short run of each fuzz target.
# Prints one line per suite and "N passed, M failed" last.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
export BUILD
TOP=$(pwd)
export TOP
passed=0
failed=0
failures=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# count SUITE: read the suite's output in $log and add its counts.
count() {
	p=$(sed -n 's/^\[==========\] \([0-9]*\) test(s) run\./\1/p' "$log" | tail -n 1)
	if [ -n "$p" ]; then
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test(s).*/\1/p' "$log" | tail -n 1)
		f=${f:-0}
		p=$((p - f))
	else
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
		p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
		f=$(echo "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
		p=${p:-0}
		f=${f:-0}
	fi
	if [ "$1" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1	# crashed or failed without saying how many
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		failures="$failures $2"
		cat "$log"
	fi
	printf '%-40s %4d passed, %d failed\n' "$2" "$p" "$f"
}

run() {
	name=$1
	shift
	"$@" >"$log" 2>&1
	count $? "$name"
}

for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	run "unit/$(basename "$t")" "$t"
done
for t in tests/lint/test_*.sh tests/cli/test_*.sh tests/milter/test_*.sh tests/integration/test_*.sh; do
	[ -x "$t" ] || continue
	run "$(basename "$(dirname "$t")")/$(basename "$t")" "$t"
done
if [ "${FUZZ:-0}" = 1 ]; then
	run "fuzz (short runs)" make --no-print-directory fuzz-short
fi
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
