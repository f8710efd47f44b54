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

# --- the mail-log channel: BENCH_LOG_LINES (1,000,000) lines of Postfix's
# log, 200,000 recipients; per message a cleanup, a qmgr, a delivery and a
# removed line: 94% sent, 2% deferred, 2% bounced 5.1.1, 1% 5.2.2, 1% 5.7.1.  A
# failure counts only with its proof, qmgr's from= naming the signed
# return path for that recipient: the failed ones go to 20,000 recipients
# whose return paths are signed here (one process), the rest come from a
# plain sender, as a log does where only bulk mail is signed.
L=${BENCH_LOG_LINES:-1000000}
sed 's/^feedback: {/feedback: { sign_return_path = true;/' "$W/c.conf" >"$W/ml.conf"
awk 'BEGIN { for (i = 0; i < 20000; i++) printf "bounce%05d@example.net\n", i }' |
	"$CTL" -c "$W/ml.conf" feedback sign - news@example.org >"$W/signed" || exit 1
awk -v n="$L" -v signed="$W/signed" 'BEGIN {
	srand(7);
	for (k = 0; (getline line <signed) > 0; k++)
		sig[k] = line;
	for (i = 0; i * 4 < n; i++) {
		q = sprintf("4X%08X", i);
		x = rand();
		if (x < 0.96) { r = sprintf("user%06d@example.net", i % 200000); f = "news@example.org" }
		else { j = i % k; r = sprintf("bounce%05d@example.net", j); f = sig[j] }
		t = sprintf("Dec  1 %02d:%02d:%02d", int(i / 3600) % 24, int(i / 60) % 60, i % 60);
		printf "%s mta postfix/cleanup[11]: %s: message-id=<m%d@example.org>\n", t, q, i;
		printf "%s mta postfix/qmgr[10]: %s: from=<%s>, size=4242, nrcpt=1 (queue active)\n", t, q, f;
		if (x < 0.94) { d = "2.0.0"; s = "sent (250 2.0.0 Ok: queued as 4Y1234)" }
		else if (x < 0.96) { d = "4.2.0"; s = "deferred (host mx.example.net[192.0.2.25] said: 451 4.2.0 try later (in reply to RCPT TO command))" }
		else if (x < 0.98) { d = "5.1.1"; s = "bounced (host mx.example.net[192.0.2.25] said: 550 5.1.1 <" r ">: User unknown (in reply to RCPT TO command))" }
		else if (x < 0.99) { d = "5.2.2"; s = "bounced (host mx.example.net[192.0.2.25] said: 552 5.2.2 Mailbox full (in reply to RCPT TO command))" }
		else { d = "5.7.1"; s = "bounced (host mx.example.net[192.0.2.25] said: 550 5.7.1 Message refused as spam (in reply to end of DATA command))" }
		printf "%s mta postfix/smtp[12]: %s: to=<%s>, relay=mx.example.net[192.0.2.25]:25, delay=0.4, delays=0.1/0/0.2/0.1, dsn=%s, status=%s\n", t, q, r, d, s;
		printf "%s mta postfix/qmgr[10]: %s: removed\n", t, q;
	}
}' >"$W/mail.log"
nl=$(wc -l <"$W/mail.log")
: >"$W/t.ml"
: >"$W/t.grep"
r=0
while [ "$r" -lt "$ROUNDS" ]; do
	rm -rf "$W/store"
	"$CTL" -c "$W/c.conf" init >/dev/null
	cat "$W/mail.log" >/dev/null	# both from the page cache
	t0=$(now)
	"$CTL" -c "$W/ml.conf" feedback --maillog "$W/mail.log" >"$W/ml.out" || exit 1
	t1=$(now)
	cat "$W/mail.log" >/dev/null
	t1=$(now)
	grep -c 'status=bounced' "$W/mail.log" >"$W/grep.out"	# not /dev/null: GNU grep then stops at the first match
	t2=$(now)
	echo "$t1 - $t0" | bc >>"$W/t.ml"
	echo "$t2 - $t1" | bc >>"$W/t.grep"
	r=$((r + 1))
done
tm=$(median <"$W/t.ml")
tg=$(median <"$W/t.grep")
echo "  $(cat "$W/ml.out")"
printf 'feedback --maillog: %d lines in %.2f s (%.0f lines/s); grep -c status=bounced, same file: %.2f s (%.0f lines/s); ratio %.1f\n' \
	"$nl" "$tm" "$(echo "$nl / $tm" | bc -l)" "$tg" "$(echo "$nl / $tg" | bc -l)" \
	"$(echo "$tm / $tg" | bc -l)"
