#!/bin/sh
# run.sh SECONDS FUZZER... - run each libFuzzer target for SECONDS on a
# scratch copy of its seed corpus (tests/fuzz/corpus/NAME), so new inputs
# never land in the repository.  Prints one line per target, then a table
# of libFuzzer's final figures for each (cov: edges covered, ft: features,
# the corpus it ended with, executions, executions a second), then
# "N passed, M failed".
set -u
secs=$1
shift
passed=0
failed=0
table=$(mktemp)
for f in "$@"; do
	name=$(basename "$f")
	work=$(mktemp -d)
	[ -d "tests/fuzz/corpus/$name" ] && cp -r "tests/fuzz/corpus/$name/." "$work/"
	seeds=$(find "$work" -type f | wc -l)
	if "$f" -max_total_time="$secs" -print_final_stats=1 \
	    -artifact_prefix="$work/" "$work" >"$work.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work.log")
		rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work.log")
		# The last status line: "#N DONE cov: C ft: F corp: U/SIZE ..."
		last=$(grep -E '^#[0-9]+.*cov: ' "$work.log" | tail -n 1)
		cov=$(echo "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
		ft=$(echo "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
		corp=$(echo "$last" | sed -n 's/.* corp: \([0-9]*\/[0-9A-Za-z]*\).*/\1/p')
		echo "$name: ${execs:-?} runs in ${secs}s, 0 crashes"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "${cov:-?}" \
			"${ft:-?}" "$seeds" "${corp:-?}" "${execs:-?}" \
			"${rate:-?}" >>"$table"
		passed=$((passed + 1))
	else
		echo "$name: FAILED"
		tail -n 40 "$work.log"
		ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* 2>/dev/null
		printf '%s\tFAILED\t\t\t\t\t\n' "$name" >>"$table"
		failed=$((failed + 1))
	fi
	rm -rf "$work" "$work.log"
done
echo
echo "libFuzzer's final figures, ${secs} s a target:"
printf '%-16s %7s %7s %6s %14s %12s %9s\n' target cov ft seeds corpus execs exec/s
while IFS="$(printf '\t')" read -r n c t s k e r; do
	printf '%-16s %7s %7s %6s %14s %12s %9s\n' "$n" "$c" "$t" "$s" "$k" "$e" "$r"
done <"$table"
rm -f "$table"
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
