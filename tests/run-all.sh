#!/bin/sh
# run-all.sh - run every test against the binaries in $BUILD: the cmocka
# unit tests, the CLI tests, the miltertest scripts, the private-Postfix
# integration tests and (with FUZZ=1) a short run of each fuzz target.
# Prints one line per suite and "N passed, M failed, K skipped" last;
# exits 1 if anything failed.
#
# What a suite reports, and how it is counted:
#   - a shell suite prints "N passed, M failed" last (tests/lib/assert.sh)
#     and exits non-zero on a failure;
#   - whatever cannot run on this machine (not root, a tool missing, a part
#     such as the DKIM checks) prints a line "skipped: REASON" and exits 0:
#     each such line is one skip, never a pass;
#   - a cmocka binary is read from its own summary: "[  PASSED  ]",
#     "[  SKIPPED ]", and every test run that neither passed nor was
#     skipped (FAILED, and ERROR: a setup that failed) is a failure.
# A failure too: a non-zero exit with no failure counted, no counts at
# all, a suite killed after SUITE_TIMEOUT seconds (default 600), a
# tests/*/test_*.sh without its execute bit, a unit test not built.
#
# With CI=1 a skip fails the run, unless the suite is named in
# CI_ALLOW_SKIP (space-separated suite names as printed, e.g.
# "integration/test_audit_full.sh").  The CI machine is root with every
# package of "make deps": nothing there should skip.
#
# SUITES="unit/test_store cli/test_import_kill.sh" runs only those
# (tests/mutate/run.sh does); "fuzz" names the short fuzz runs.
set -u
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build}
export BUILD
TOP=$(pwd)
export TOP
SUITE_TIMEOUT=${SUITE_TIMEOUT:-600}
passed=0
failed=0
skipped=0
failures=""
log=$(mktemp)
trap 'rm -f "$log"' EXIT

# wanted NAME: NAME is to run (SUITES unset, or naming it).
wanted() {
	[ -z "${SUITES:-}" ] && return 0
	case " $SUITES " in *" $1 "*) return 0 ;; esac
	return 1
}

# allowed_skip NAME: a skip of NAME is no failure here.
allowed_skip() {
	[ "${CI:-0}" = 1 ] || return 0
	case " ${CI_ALLOW_SKIP:-} " in *" $1 "*) return 0 ;; esac
	return 1
}

# count_cmocka: p, f, s from the cmocka summaries in $log (0 if none).
count_cmocka() {
	eval "$(awk '
	/^\[==========\] (.* )?Running [0-9]+ test\(s\)\./ {
		for (i = 1; i <= NF; i++) if ($i == "Running") ann += $(i + 1)
	}
	/^\[==========\] [0-9]+ test\(s\) run\./ { run += $2; groups++ }
	/^\[  PASSED  \] [0-9]+ test\(s\)\./ { p += $4 }
	/^\[  SKIPPED \] [0-9]+ test\(s\), listed below:/ { s += $4 }
	END {
		f = run - p - s		# FAILED and ERROR alike
		if (ann > run) f += ann - run	# announced, never run
		printf "groups=%d; p=%d; f=%d; s=%d\n", groups, p, f, s
	}' "$log")"
}

# count_sh: p, f, s from a shell suite's last tally and its skip lines.
count_sh() {
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
	groups=0
	[ -n "$line" ] && groups=1
	p=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	f=$(echo "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
	p=${p:-0}
	f=${f:-0}
	s=$(grep -c '^skipped: ' "$log")
}

# report NAME RC SECONDS KIND: add the suite's counts, print its line.
report() {
	why=""
	if [ "$4" = cmocka ]; then count_cmocka; else count_sh; fi
	if [ "$2" -eq 124 ] || [ "$2" -eq 137 ]; then
		why="killed after ${SUITE_TIMEOUT} s (SUITE_TIMEOUT)"
		f=$((f + 1))
	elif [ "$groups" -eq 0 ]; then
		why="exited $2 without its counts"
		f=$((f + 1))
	elif [ "$2" -ne 0 ] && [ "$f" -eq 0 ]; then
		why="exited $2 with no failure counted"
		f=1
	fi
	if [ "$s" -gt 0 ] && ! allowed_skip "$1"; then
		why="${why:+$why; }$s skips, not allowed with CI=1 (CI_ALLOW_SKIP)"
		f=$((f + s))
		s=0
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	if [ "$f" -ne 0 ]; then
		failures="$failures $1"
		cat "$log"
	fi
	printf '%-40s %4d passed, %d failed, %d skipped (%d s)\n' "$1" "$p" \
	    "$f" "$s" "$3"
	[ -z "$why" ] || echo "    $why"
	if [ "$4" = cmocka ]; then
		sed -n 's/^\[  SKIPPED \] \([^0-9].*\)/    skipped: \1/p' "$log" | sort -u
	else
		sed -n 's/^skipped: /    skipped: /p' "$log"
	fi
}

# run NAME KIND CMD...: run CMD with a deadline, output in $log; report it.
run() {
	name=$1
	kind=$2
	shift 2
	wanted "$name" || return 0
	t0=$(date +%s)
	timeout -k 30 "$SUITE_TIMEOUT" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	report "$name" "$rc" $(($(date +%s) - t0)) "$kind"
}

# broken NAME WHY: a suite that could not even start.
broken() {
	wanted "$1" || return 0
	failed=$((failed + 1))
	failures="$failures $1"
	printf '%-40s %4d passed, %d failed, %d skipped\n' "$1" 0 1 0
	echo "    $2"
}

for src in tests/unit/test_*.c; do
	n=$(basename "$src" .c)
	t=$BUILD/tests/$n
	if [ -x "$t" ]; then
		run "unit/$n" cmocka "$t"
	else
		broken "unit/$n" "$t is not built (make $t)"
	fi
done
for t in tests/lint/test_*.sh tests/cli/test_*.sh tests/milter/test_*.sh \
    tests/integration/test_*.sh; do
	[ -e "$t" ] || continue
	n="$(basename "$(dirname "$t")")/$(basename "$t")"
	if [ -x "$t" ]; then
		run "$n" sh "$t"
	else
		broken "$n" "$t is not executable (chmod +x, and git add it)"
	fi
done
if [ "${FUZZ:-0}" = 1 ]; then
	run fuzz sh make --no-print-directory fuzz-short
fi
[ -n "$failures" ] && echo "failed:$failures"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
