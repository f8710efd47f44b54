# assert.sh - tiny assertion helpers for the shell tests.  Source it; call
# t_done at the end: it prints "N passed, M failed" and sets the exit code.

T_PASS=0
T_FAIL=0
# Our own scratch files, always: t_done removes them, so never a caller's.
T_OUT=$(mktemp)
T_ERR=$(mktemp)

# t_ok [DESC]: count a pass; with DESC, say it ("ok - DESC").
t_ok() {
	T_PASS=$((T_PASS + 1))
	[ "$#" -eq 0 ] || echo "ok - $*"
}
t_fail() {
	T_FAIL=$((T_FAIL + 1))
	echo "FAIL: $*" >&2
	if [ -s "$T_OUT" ]; then echo "  stdout:" >&2; sed 's/^/    /' "$T_OUT" | head -20 >&2; fi
	if [ -s "$T_ERR" ]; then echo "  stderr:" >&2; sed 's/^/    /' "$T_ERR" | head -20 >&2; fi
}

# t_run CODE CMD...: run CMD, keep its output in $T_OUT/$T_ERR, expect exit CODE.
t_run() {
	want=$1
	shift
	"$@" >"$T_OUT" 2>"$T_ERR"
	got=$?
	if [ "$got" -eq "$want" ]; then t_ok; else t_fail "exit $got, wanted $want: $*"; fi
}

# t_out TEXT: the last command's stdout contains TEXT (fixed string).
t_out() {
	if grep -qF -- "$1" "$T_OUT"; then t_ok; else t_fail "stdout lacks: $1"; fi
}

# t_err TEXT: the last command's stderr contains TEXT.
t_err() {
	if grep -qF -- "$1" "$T_ERR"; then t_ok; else t_fail "stderr lacks: $1"; fi
}

# t_not_out TEXT: stdout does not contain TEXT.
t_not_out() {
	if grep -qF -- "$1" "$T_OUT"; then t_fail "stdout has: $1"; else t_ok; fi
}

# t_lacks FILE ERE WHAT: FILE is there, is not empty, and no line of it
# matches ERE (case-insensitive).  A check of a file that is not there
# would pass whatever the code did: that is a failure too.
t_lacks() {
	if [ ! -s "$1" ]; then
		t_fail "$3: $1 is missing or empty, so nothing was checked"
	elif grep -qiE -- "$2" "$1"; then
		t_fail "$3: $(grep -iE -- "$2" "$1" | head -n 3)"
	else
		t_ok
	fi
}

# t_eq A B WHAT: A equals B.
t_eq() {
	if [ "$1" = "$2" ]; then t_ok; else t_fail "$3: got '$1', wanted '$2'"; fi
}

# t_check DESC CMD...: run CMD, its output left as it is; count a pass or
# a failure named DESC, and return CMD's status (so that
# "t_check ... || t_finish ..." stops at a step the rest needs).
t_check() {
	local t_desc="$1"
	shift
	if "$@"; then
		t_ok "$t_desc"
	else
		t_fail "$t_desc"
		return 1
	fi
}

# t_finish [CMD...]: the end of a test with something to tear down: run
# CMD with 0 (nothing failed) or 1 as its last argument, then t_done, and
# exit with its status.
t_finish() {
	local t_rc=0
	[ "$T_FAIL" -eq 0 ] || t_rc=1
	[ "$#" -eq 0 ] || "$@" "$t_rc" 2>&1
	t_done
	exit $?
}

# t_done: print the tally last, "N passed, M failed"; status 0 if none failed.
t_done() {
	rm -f "$T_OUT" "$T_ERR"
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}
