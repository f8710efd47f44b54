#!/bin/sh
# run.sh - mutation check of the suite (make mutate): break each guarantee
# the README promises, one at a time, and show that the tests go red.
#
# Each tests/mutate/NAME.patch is one small source change, with a header
# naming the guarantee it breaks ("mutant:") and the suites that should
# catch it ("suites:", names as tests/run-all.sh prints them).  In a
# scratch copy of this tree (under /var/tmp; the tree itself is never
# touched), for each patch: apply it, build, run its suites through
# tests/run-all.sh, revert it.  A mutant is "killed by SUITE" when that
# suite fails with it; "SURVIVED" when every suite stays green.  The
# suites first run once unmutated, and must be green then, so that a kill
# means the mutant and not a flaky or broken suite.
#
#   tests/mutate/run.sh [NAME...]   only these mutants (default: all)
#   ALL=1     run every suite of each mutant, not just up to the first
#             that kills it (the README's table was measured so)
#   KEEP=1    keep the scratch copy
#
# Prints one line per mutant, then "N killed, M survived"; exits 1 if any
# mutant survived, did not apply or did not build.
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
MUT=$TOP/tests/mutate
JOBS=${JOBS:-2}
unset CI		# a skip must not pass for a kill here

names=""
if [ $# -gt 0 ]; then
	names="$*"
else
	for p in "$MUT"/*.patch; do
		names="$names $(basename "$p" .patch)"
	done
fi

# suites_of NAME: the suites named in NAME.patch's header.
suites_of() {
	sed -n 's/^suites: //p' "$MUT/$1.patch" | head -n 1
}

S=$(mktemp -d /var/tmp/consent-mutate.XXXXXX) || exit 1
chmod 0755 "$S"
cleanup() {
	if [ "${KEEP:-0}" = 1 ]; then
		echo "scratch copy kept: $S" >&2
	else
		rm -rf "$S"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The tree as it is now (uncommitted changes too), without its builds.
tar -C "$TOP" --exclude=./build --exclude=./.git -cf - . | tar -C "$S" -xf - ||
	exit 1
cd "$S" || exit 1
UNITS=$(ls tests/unit/test_*.c | sed 's|^tests/unit/|build/tests/|; s|\.c$||')

# build: the programs and the unit tests; the output in $S/build.log.
build() {
	# shellcheck disable=SC2086
	make -j"$JOBS" all $UNITS >"$S/build.log" 2>&1
}

# suite_fails SUITE: run it; true if it failed (its output in $S/last.log).
# A failing suite keeps its scratch directory and says so ("kept DIR",
# "scratch directory kept: DIR"): those made under a mutant are removed.
suite_fails() {
	SUITES="$1" tests/run-all.sh >"$S/last.log" 2>&1
	sed -n 's/.*kept:\{0,1\} \(\/[^ ]*\).*/\1/p' "$S/last.log" | sort -u |
	    while IFS= read -r d; do
		case "$d" in
		/tmp/*/* | /var/tmp/*/*) ;;
		/tmp/?* | /var/tmp/?*) [ -d "$d" ] && rm -rf "$d" ;;
		esac
	done
	tail -n 1 "$S/last.log" | grep -qv ' 0 failed,'
}

all_suites=""
for n in $names; do
	if [ ! -f "$MUT/$n.patch" ]; then
		echo "run.sh: no mutant $n ($MUT/$n.patch)" >&2
		exit 2
	fi
	for s in $(suites_of "$n"); do
		case " $all_suites " in *" $s "*) ;; *) all_suites="$all_suites $s" ;; esac
	done
done

t0=$(date +%s)
echo "building the unmutated copy in $S"
if ! build; then
	tail -n 30 "$S/build.log"
	echo "the unmutated tree does not build"
	exit 1
fi
echo "baseline: the suites, unmutated"
for s in $all_suites; do
	if suite_fails "$s"; then
		cat "$S/last.log"
		echo "baseline: $s fails unmutated: a kill would prove nothing"
		exit 1
	fi
	line=$(tail -n 1 "$S/last.log")
	case "$line" in
	"0 passed, "*) echo "baseline: $s ran no test here ($line)"; exit 1 ;;
	esac
	printf '  %-36s %s\n' "$s" "$line"
done

killed=0
bad=0
for n in $names; do
	m0=$(date +%s)
	what=$(sed -n 's/^mutant: //p' "$MUT/$n.patch" | head -n 1)
	if ! patch -p1 -s --no-backup-if-mismatch <"$MUT/$n.patch" >"$S/patch.log" 2>&1; then
		printf '%-28s DID NOT APPLY: %s\n' "$n" "$(head -n 3 "$S/patch.log")"
		bad=$((bad + 1))
		continue
	fi
	by=""
	if ! build; then
		result="DID NOT BUILD (see below)"
		tail -n 10 "$S/build.log" | sed 's/^/    /'
		bad=$((bad + 1))
	else
		for s in $(suites_of "$n"); do
			if suite_fails "$s"; then
				by="${by:+$by, }$s"
				cp "$S/last.log" "$S/$n.$(echo "$s" | tr / _).log"
				[ "${ALL:-0}" = 1 ] || break
			fi
		done
		if [ -n "$by" ]; then
			result="killed by $by"
			killed=$((killed + 1))
		else
			result="SURVIVED ($what)"
			bad=$((bad + 1))
		fi
	fi
	printf '%-28s %s (%d s)\n' "$n" "$result" $(($(date +%s) - m0))
	if ! patch -p1 -R -s --no-backup-if-mismatch <"$MUT/$n.patch" >"$S/patch.log" 2>&1; then
		echo "run.sh: $n does not revert: stopping" >&2
		cat "$S/patch.log" >&2
		exit 1
	fi
done
echo "$killed killed, $bad survived or broken ($(($(date +%s) - t0)) s)"
[ "$bad" -eq 0 ]
