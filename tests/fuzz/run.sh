#!/bin/sh
# run.sh SECONDS FUZZER... - run each libFuzzer target for SECONDS on a
# scratch copy of its seed corpus (tests/fuzz/corpus/NAME), so new inputs
# never land in the repository.  Prints "N passed, M failed".
set -u
secs=$1
shift
passed=0
failed=0
for f in "$@"; do
	name=$(basename "$f")
	work=$(mktemp -d)
	[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
	if "$f" -max_total_time="$secs" -print_final_stats=1 \
	    -artifact_prefix="$work/" "$work" >"$work.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log")
		echo "$name: ${execs:-?} runs in ${secs}s, 0 crashes"
		passed=$((passed + 1))
	else
		echo "$name: FAILED"
		tail -n 40 "$work.log"
		ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null
		failed=$((failed + 1))
	fi
	rm -rf "$work" "$work.log"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
