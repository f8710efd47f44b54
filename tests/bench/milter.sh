#!/bin/sh
# shellcheck disable=SC3043,SC3013
# milter.sh - messages/s through ONE private Postfix (smtp-source into
# smtp-sink) in five modes, switched by a reload between runs:
#
#   none      no milter, no recipient check: the baseline
#   access    Postfix's own check_recipient_access lmdb:FILE, then reject
#             (the same addresses, made with postmap lmdb:)
#   consent   consent-milter: bulk by an envelope rule, every recipient
#             opted in, a store of BENCH_STORE addresses (consentctl import)
#   null      tests/bench/nullmilter: libmilter's own cost, nothing else
#   same      nullmilter -s: negotiated as consent-milter is (MAIL, RCPT,
#             headers, end of message), deciding nothing: the baseline of
#             consent-milter's own CPU per message
#
# At 1 recipient per message (a new SMTP session per message) and at 10
# (smtp-source -d: sessions reused, so the per-recipient cost shows).  The
# modes are interleaved over BENCH_ROUNDS rounds, in a rotating order; each
# ratio pairs a mode with the baseline of the same round, and the medians
# are quoted.  The rate is smtp-source's: messages accepted per second of
# its wall clock; the queue is drained (not timed) between runs.  Also the
# milters' own CPU (utime + stime from /proc/PID/stat) per message.
# Asserts nothing about timings.  Needs root.
#
#   BUILD=build tests/bench/milter.sh
#   BENCH_MSGS (1500) messages per run, BENCH_ROUNDS (5), BENCH_SESSIONS (4)
#   parallel sessions, BENCH_STORE (100000) addresses; CONSENTCTL overrides
#   the consentctl binary.
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
MSGS=${BENCH_MSGS:-1500}
ROUNDS=${BENCH_ROUNDS:-5}
SESSIONS=${BENCH_SESSIONS:-4}
NSTORE=${BENCH_STORE:-100000}
MILTER=$BUILD/consent-milter
CTL=${CONSENTCTL:-$BUILD/consentctl}
SENDER=news@news.example.com
RCPT=rcpt@bench.example		# smtp-source -r N: rcpt@, 2rcpt@ ... Nrcpt@
MODES="none access consent null same"
# shellcheck source=tests/lib/postfix.sh
. "$TOP/tests/lib/postfix.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "milter bench skipped: a private Postfix needs root"
	exit 0
fi
for b in "$MILTER" "$CTL"; do
	[ -x "$b" ] || { echo "milter bench: $b is not built" >&2; exit 1; }
done

now() { date +%s.%N; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)] }'; }
die() { echo "milter bench: $*" >&2; exit 1; }

# build_nullmilter : as tests/integration/test_harness.sh does.
build_nullmilter() {
	local src=tests/bench/nullmilter.c bin="$BUILD/nullmilter"
	[ -x "$bin" ] && [ "$bin" -nt "$src" ] && return 0
	mkdir -p "$BUILD" &&
		${CC:-cc} -O2 -Wall -Wextra -Werror -o "$bin.$$" "$src" \
			-lmilter -lpthread &&
		mv -f "$bin.$$" "$bin"
}

# cpu_ticks PID : utime + stime of PID, every thread, in clock ticks.
cpu_ticks() {
	sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'
}

# set_mode MODE : point Postfix at MODE (one postconf, one reload).
set_mode() {
	local milters="" restr=""
	case "$1" in
	access)	restr="check_recipient_access lmdb:$W/access, reject" ;;
	consent) milters="unix:$PF_RUN/consent.sock" ;;
	null)	milters="unix:$PF_RUN/null.sock" ;;
	same)	milters="unix:$PF_RUN/same.sock" ;;
	esac
	pf_postconf "smtpd_milters = $milters" \
		"smtpd_recipient_restrictions = $restr"
}

# run MODE NRCPT COUNT : one smtp-source run; prints msg/s.  The queue is
# drained and the sink emptied afterwards; a short count is an error.
run() {
	local mode="$1" r="$2" n="$3" d="" t0 t1 pid="" c0=0 c1 got
	[ "$r" -gt 1 ] && d=-d
	case "$mode" in
	consent) pid=$CPID ;;
	null)	pid=$NPID ;;
	same)	pid=$SPID ;;
	esac
	[ -n "$pid" ] && c0=$(cpu_ticks "$pid")
	t0=$(now)
	# shellcheck disable=SC2086
	smtp-source -s "$SESSIONS" -m "$n" -r "$r" $d -f "$SENDER" -t "$RCPT" \
		"127.0.0.1:$PF_PORT" >>"$W/smtp-source.log" 2>&1 ||
		die "smtp-source failed in mode $mode (see $W/smtp-source.log)"
	t1=$(now)
	if [ -n "$pid" ]; then
		c1=$(cpu_ticks "$pid")
		echo "$mode $r $((c1 - c0)) $n" >>"$W/cpu"
	fi
	pf_wait_queue_empty 120 >&2 || die "queue not drained in mode $mode"
	got=$(find "$PF_SINKDIR" -type f | wc -l)
	[ "$got" -eq "$n" ] ||
		die "mode $mode, $r rcpt: $got of $n messages reached the sink"
	pf_sink_reset
	awk -v n="$n" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", n / (b - a) }'
}

W=$(pf_tmpdir consent-bench-milter) || die "no work directory"
pf_cleanup_trap
pf_setup "$W" || die "pf_setup failed"
build_nullmilter || die "cannot build the nullmilter"
t_start=$(now)

# The store and the access table: the same addresses, all opted in.
awk -v n="$NSTORE" -v rcpt="$RCPT" 'BEGIN {
	print "email,status,list,timestamp"
	printf "%s,subscribed,news,2024-01-01T00:00:00Z\n", rcpt
	for (i = 2; i <= 10; i++)
		printf "%d%s,subscribed,news,2024-01-01T00:00:00Z\n", i, rcpt
	for (i = 10; i < n; i++)
		printf "user%07d@bench.example,subscribed,news,2024-01-01T00:00:00Z\n", i
}' >"$W/rows.csv"
sed '1d; s/,.*/ OK/' "$W/rows.csv" >"$W/access"
: >"$W/empty.conf"
"$CTL" -c "$W/empty.conf" -s "$W/store" init >/dev/null || die "consentctl init"
t0=$(now)
if "$CTL" -c "$W/empty.conf" -s "$W/store" import "$W/rows.csv" \
    >"$W/import.log" 2>&1; then
	store_note="$(($(wc -l <"$W/rows.csv") - 1)) addresses, consentctl import in $(awk -v a="$t0" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }') s"
else
	# consentctl import unavailable (a build without it): the ten
	# benchmark addresses only; a lookup in LMDB is O(log n) anyway.
	sed -n '2,11p' "$W/rows.csv" | cut -d, -f1 | while read -r a; do
		"$CTL" -c "$W/empty.conf" -s "$W/store" subscribe "$a" \
			--list news >/dev/null || exit 1
	done || die "consentctl subscribe failed"
	store_note="10 addresses (consentctl import failed: $(tail -n 1 "$W/import.log"))"
fi
PATH=$PF_POSTFIX_PATH postmap -c "$PF_CONF" lmdb:"$W/access" || die "postmap lmdb: failed"

cat >"$W/consent.conf" <<EOF
store: { path = "$W/store"; };
milter: {
	socket = "unix:$PF_RUN/consent.sock";
	user = "";
	socket_group = "postfix";
	socket_mode = "0660";
};
classify: {
	rules = ( { sender_domain = "news.example.com"; list = "news"; } );
};
EOF
pf_bg consent "$MILTER" -c "$W/consent.conf" -f
CPID=$PF_BG_PID
(umask 0 && pf_bg null "$BUILD/nullmilter" -p "unix:$PF_RUN/null.sock")
NPID=$(cat "$PF_RUN/null.pid")
(umask 0 && pf_bg same "$BUILD/nullmilter" -s -p "unix:$PF_RUN/same.sock")
SPID=$(cat "$PF_RUN/same.pid")
pf_wait_file "$PF_RUN/same.sock" 10 || die "nullmilter -s did not start"
pf_wait_file "$PF_RUN/consent.sock" 10 && pf_wait_file "$PF_RUN/null.sock" 10 ||
	die "a milter did not start (see $W/log)"
pf_start || die "Postfix did not start"

echo "store: $store_note; access table: postmap lmdb: of the same addresses"
echo "$MSGS messages per run, $SESSIONS parallel sessions, $ROUNDS rounds, modes interleaved; medians"

# Warm-up: every mode once, a tenth of a run, not counted.  The two
# checking modes must refuse an address they do not know: proof that the
# check is really in the path.
for m in $MODES; do
	set_mode "$m" || die "reload failed"
	run "$m" 1 $(( (MSGS + 9) / 10 )) >/dev/null
	case "$m" in
	access|consent)
		pf_send_expect 5 --from "$SENDER" --to nobody@bench.example ||
			die "mode $m let an unknown recipient through"
		;;
	esac
done
: >"$W/cpu"

: >"$W/rates"
round=1
while [ $round -le "$ROUNDS" ]; do
	# Rotate the order each round: no mode always runs first.
	# shellcheck disable=SC2086
	order=$(echo $MODES $MODES | awk -v k=$(( (round - 1) % 5 )) '{
		for (i = 1; i <= 5; i++) printf "%s ", $(i + k) }')
	for m in $order; do
		set_mode "$m" || die "reload failed"
		for r in 1 10; do
			rate=$(run "$m" $r "$MSGS") || exit 1
			echo "$round $m $r $rate" >>"$W/rates"
		done
	done
	round=$((round + 1))
done

# Report: per recipient count, each mode's median rate and the median of
# its per-round ratio to the baseline.
for r in 1 10; do
	if [ "$r" -eq 1 ]; then
		echo "-- 1 recipient per message, a new session per message"
	else
		echo "-- 10 recipients per message, sessions reused (-d)"
	fi
	for m in $MODES; do
		rate=$(awk -v m="$m" -v r="$r" '$2 == m && $3 == r { print $4 }' \
			"$W/rates" | median)
		ratio=$(awk -v m="$m" -v r="$r" '
			$2 == "none" && $3 == r { base[$1] = $4 }
			$2 == m && $3 == r { v[$1] = $4 }
			END { for (k in v) if (base[k] > 0) printf "%.3f\n", v[k] / base[k] }' \
			"$W/rates" | median)
		all=$(awk -v m="$m" -v r="$r" '$2 == m && $3 == r { printf "%s%.0f", sep, $4; sep = " " }' \
			"$W/rates")
		case "$m" in
		none)	label="no milter" ;;
		access)	label="access map (lmdb)" ;;
		consent) label="consent-milter" ;;
		null)	label="nullmilter" ;;
		same)	label="nullmilter -s" ;;
		esac
		printf '  %-18s %7.1f msg/s   %-31s %5.3f   (runs: %s)\n' \
			"$label" "$rate" "$label / no milter:" "$ratio" "$all"
	done
done

# The milters' own CPU per message (all rounds summed: a clock tick is
# 1/CLK_TCK s, too coarse for one run).
tck=$(getconf CLK_TCK)
echo "-- milter CPU (utime+stime) per message, all rounds"
for r in 1 10; do
	c=$(awk -v r="$r" -v t="$tck" '$1 == "consent" && $2 == r { c += $3; n += $4 }
		END { if (n) printf "%.1f", c / t / n * 1e6 }' "$W/cpu")
	nl=$(awk -v r="$r" -v t="$tck" '$1 == "null" && $2 == r { c += $3; n += $4 }
		END { if (n) printf "%.1f", c / t / n * 1e6 }' "$W/cpu")
	sm=$(awk -v r="$r" -v t="$tck" '$1 == "same" && $2 == r { c += $3; n += $4 }
		END { if (n) printf "%.1f", c / t / n * 1e6 }' "$W/cpu")
	ratio=$(awk -v a="$c" -v b="$sm" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
	printf '  %2d rcpt/msg: consent-milter %.1f us, nullmilter -s (same stages) %.1f us: ratio %s (goal <= 1.10); nullmilter (no stages) %.1f us\n' \
		"$r" "$c" "$sm" "$ratio" "$nl"
done
echo "milter bench: $(awk -v a="$t_start" -v b="$(now)" 'BEGIN { printf "%.0f", b - a }') s"
pf_teardown 0
