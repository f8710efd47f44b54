#!/bin/sh
# test_fleet.sh - one consent record for a fleet, against a real
# PostgreSQL started here (tests/lib/pg.sh: a private cluster on a unix
# socket, never the system's): three hosts on this machine, each with its
# store bootstrapped from the journal and a consent-syncd following it.
#
#   - four writers at once on three hosts (edits and an import)
#   - a consent-syncd killed with SIGKILL in the middle of applying a
#     20,000-row import, then started again: it goes on from its cursor
#   - the database restarted under the writers: opt-ins may fail (and say
#     so), opt-outs never do
#   - the database down while consent-unsubd takes one-click POSTs (and
#     intake a mailto): each is in force on its host at once and waits in
#     the outbox; a double opt-in click waits there unmerged, in force once
#     the journal has it; opt-ins are
#     refused with a clear error; when the database is back, every host
#     has them
#   - at the end every replica's "consentctl export --format jsonl" is
#     byte for byte a store bootstrapped afresh from the database, and
#     each address's consent is what a query of the journal says
#
# Needs root (initdb runs as postgres) and curl.  Prints "N passed, M
# failed" last.
set -u
LC_ALL=C
export LC_ALL
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) B=$BUILD ;; *) B=$TOP/$BUILD ;; esac
. "$TOP/tests/lib/assert.sh"
. "$TOP/tests/lib/pg.sh"
CTL=$B/consentctl
SYNCD=$B/consent-syncd
UNSUBD=$B/consent-unsubd

pg_require curl

W=$(mktemp -d /var/tmp/test_fleet.XXXXXX)
chmod 755 "$W"
PIDS=
cleanup() {
	for p in $PIDS; do kill -KILL "$p" 2>/dev/null; done
	pg_cleanup
	[ -n "${KEEP:-}" ] && echo "kept $W" >&2 || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

pg_setup "$W" || { t_fail "private cluster"; t_done; exit 1; }
"$CTL" -c /dev/null keygen "$W/k.key" >/dev/null

# conf N BATCH: host N's configuration.
conf() {
	cat >"$W/h$1.conf" <<EOF
store: { path = "$W/s$1"; };
sync: {
	conninfo = "$(pg_conninfo consent_replica)";
	writer_conninfo = "$(pg_conninfo consent_writer)";
	host_id = "mta$1";
	poll_interval = "2s";
	batch = $2;
	user = "";
};
unsubscribe: {
	keys = ( { id = 1; file = "$W/k.key"; } );
	url = "https://u.example.com/u/%t";
	listen = "127.0.0.1:0";
	user = "";
};
optin: { url = "https://u.example.com/c/%t"; };
EOF
}
conf 1 500
conf 2 200
conf 3 500
h() { n=$1; shift; "$CTL" -c "$W/h$n.conf" "$@"; }

# syncd N : start host N's consent-syncd (its pid in SP_N).
syncd() {
	"$SYNCD" -c "$W/h$1.conf" -f -d >>"$W/syncd$1.log" 2>&1 &
	eval "SP_$1=$!"
	PIDS="$PIDS $!"
}

# db_end : the journal's last row, "xid id".
db_end() {
	pg_sql "SELECT xid, id FROM consent.change ORDER BY xid DESC, id DESC
	    LIMIT 1" | tr '|' ' '
}

# cursor N : host N's cursor and outbox, "xid id outbox".
cursor() {
	h "$1" sync status --json 2>/dev/null | sed -n \
	    's/.*"cursor":{"xid":\([0-9]*\),"id":\([0-9]*\)}.*"outbox":\([0-9]*\).*/\1 \2 \3/p'
}

# caught_up : wait (30 s) until every host is at the journal's end with
# an empty outbox.
caught_up() {
	i=0
	while [ $i -lt 300 ]; do
		want="$(db_end) 0"
		ok=1
		for n in 1 2 3; do
			[ "$(cursor $n)" = "$want" ] || ok=0
		done
		[ $ok = 1 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	for n in 1 2 3; do echo "  host $n: $(cursor $n), journal: $want" >&2; done
	return 1
}

# --- the journal, a first import, three hosts bootstrapped
t_run 0 h 1 sync init --admin "$(pg_conninfo postgres)"
{
	echo "email,list,status,timestamp"
	i=0
	while [ $i -lt 300 ]; do
		echo "b$i@example.com,news,subscribed,2026-01-01T00:00:00Z"
		echo "a$((i % 60))@example.com,deals,subscribed,2026-01-0$((i % 9 + 1))T00:00:00Z"
		i=$((i + 1))
	done
} >"$W/seed.csv"
t_run 0 h 1 import "$W/seed.csv"
t_out "sent to the fleet journal"
for n in 1 2 3; do
	t_run 0 h $n sync bootstrap
	t_out "600 rows"
done
t_run 2 h 1 sync bootstrap	# a store is there: left alone
t_err "a store exists"
for n in 1 2 3; do syncd $n; done
t_run 0 h 2 show b7@example.com
t_out "list news: subscribed"

# --- four writers at once, a kill -9 mid-apply, a database restart
# writer K HOST : 40 edits through HOST; opt-out failures counted apart.
writer() {
	i=0 inf=0 outf=0
	while [ $i -lt 40 ]; do
		a="a$(( (i * 7 + $1 * 13) % 60 ))@example.com"
		case $(( (i + $1) % 6 )) in
		0) h "$2" subscribe "$a" --list news || inf=$((inf + 1)) ;;
		1) h "$2" unsubscribe "$a" --list news || outf=$((outf + 1)) ;;
		2) h "$2" subscribe "$a" --list deals || inf=$((inf + 1)) ;;
		3) h "$2" unsubscribe "$a" --list deals || outf=$((outf + 1)) ;;
		4) h "$2" suppress "$a" --reason manual || outf=$((outf + 1)) ;;
		5) h "$2" unsuppress "$a"; [ $? -le 1 ] || inf=$((inf + 1)) ;;
		esac >/dev/null 2>>"$W/writer$1.err"
		i=$((i + 1))
	done
	echo "$inf $outf" >"$W/writer$1.fails"
}
{
	echo "email,list,status,timestamp"
	i=0
	while [ $i -lt 20000 ]; do
		echo "c$i@example.com,news,subscribed,2026-02-01T00:00:00Z"
		i=$((i + 1))
	done
} >"$W/big.csv"
writer 1 1 & W1=$!
writer 2 2 & W2=$!
writer 3 3 & W3=$!
h 1 import "$W/big.csv" >"$W/big.out" 2>&1 &
W4=$!
# host 2 applies 200 rows a transaction: kill it inside the import.
last=
i=0
while [ $i -lt 500 ]; do
	set -- $(cursor 2)
	if [ -n "${2:-}" ] && [ "$(pg_sql "SELECT count(*) FILTER (WHERE id <= $2),
	    count(*) FILTER (WHERE id > $2) FROM consent.change WHERE key LIKE
	    'c%'" | awk -F'|' '$1 > 0 && $2 > 1000 { print "in" }')" = in ]; then
		kill -KILL "$SP_2"
		last=$2
		break
	fi
	sleep 0.02
	i=$((i + 1))
done
wait "$SP_2" 2>/dev/null
[ -n "$last" ] && t_ok || t_fail "consent-syncd 2 was not caught mid-apply"
wait "$W4"
set -- $(cursor 2)
end=$(pg_sql "SELECT max(id) FROM consent.change WHERE key LIKE 'c%'")
[ "${2:-0}" -ge "$last" ] && [ "${2:-0}" -lt "$end" ] && t_ok ||
    t_fail "host 2's cursor after SIGKILL: ${2:-}, not within $last..$end"
syncd 2
t_eq "$(grep -c 'sent to the fleet journal' "$W/big.out")" 1 "the big import"
pg_restart
wait "$W1" "$W2" "$W3"
for k in 1 2 3; do
	set -- $(cat "$W/writer$k.fails")
	t_eq "$2" 0 "writer $k: opt-outs that failed"
done
# ...and every opt-in that failed said why.
t_eq "$(grep -c 'not recorded' "$W"/writer*.err | awk -F: '{ s += $2 } END { print s + 0 }')" \
    "$(cat "$W"/writer*.fails | awk '{ s += $1 } END { print s }')" \
    "failed opt-ins, each with its message"
caught_up && t_ok || t_fail "hosts caught up after the writers"
t_run 0 h 3 show c19999@example.com
t_out "list news: subscribed"

# --- the database down while the endpoint takes one-click POSTs
"$UNSUBD" -c "$W/h3.conf" -f -d 2>"$W/unsubd.log" &
UP=$!
PIDS="$PIDS $UP"
i=0
PORT=
while [ $i -lt 100 ] && [ -z "$PORT" ]; do
	PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\).*/\1/p' \
	    "$W/unsubd.log" 2>/dev/null)
	[ -n "$PORT" ] || sleep 0.05
	i=$((i + 1))
done
[ -n "$PORT" ] && t_ok || t_fail "consent-unsubd did not start"
# A double opt-in signup on host 1 (the database is up), seen on host 3.
t_run 0 h 1 optin d1@example.com --list news
LINK=$(cat "$T_OUT")
case "$LINK" in https://u.example.com/c/*) t_ok ;; *) t_fail "no link: $LINK" ;; esac
caught_up && t_ok || t_fail "hosts caught up after the signup"
t_run 0 h 3 show d1@example.com
t_out "list news: pending"
pg_stop
for i in 1 2 3 4 5; do
	tok=$(h 3 token "b$i@example.com" --list news)
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
	    -d 'List-Unsubscribe=One-Click' "http://127.0.0.1:$PORT/u/$tok")
	t_eq "$code" 200 "one-click POST $i with the database down"
	t_run 0 h 3 show "b$i@example.com"
	t_out "list news: unsubscribed"
done
# A mailto unsubscribe, as pipe(8) runs intake: in force, in the outbox.
tok=$(h 3 token b9@example.com --list news)
printf 'From: b9@example.com\nSubject: unsubscribe %s\n\nplease\n' "$tok" \
    >"$W/mailto.eml"
t_run 0 h 3 intake unsubscribe@example.com <"$W/mailto.eml"
t_out "b9@example.com unsubscribed from list news (mailto)"
# The confirmation click: taken, forwarded, in force once the journal has it.
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -d 'confirm=yes' \
    "http://127.0.0.1:$PORT/c/${LINK#https://u.example.com/c/}")
t_eq "$code" 200 "confirmation POST with the database down"
t_run 0 h 3 show d1@example.com
t_out "list news: pending"
t_run 0 h 3 sync status	# within max_lag: not stale
t_out "outbox:   7 changes waiting"
t_out "database: the fleet database:"
t_run 0 h 2 show b1@example.com	# host 2 cannot know yet
t_out "list news: subscribed"
t_run 2 h 1 subscribe new@example.com --list news
t_err "not recorded (an opt-in needs the fleet database)"
t_run 0 h 1 unsubscribe b6@example.com --list news
t_err "in force on this host; queued for the fleet database"
t_run 0 h 1 show b6@example.com
t_out "list news: unsubscribed"
pg_start
caught_up && t_ok || t_fail "hosts caught up after the outage"
for n in 1 2; do
	for i in 1 6 9; do
		t_run 0 h $n show "b$i@example.com"
		t_out "unsubscribed"
	done
done
t_run 0 h 2 show b1@example.com
t_out "source=one-click"
for n in 1 2 3; do
	t_run 0 h $n show d1@example.com
	t_out "list news: confirmed"
done
t_out "source=double-opt-in ip=127.0.0.1 note=confirmation link"
t_run 0 h 3 sync status
t_out "outbox:   0 changes waiting"
t_out "error:    none"

# --- every replica is the journal
t_run 0 "$CTL" -c "$W/h1.conf" -s "$W/fresh" sync bootstrap
"$CTL" -c "$W/h1.conf" -s "$W/fresh" export --format jsonl >"$W/fresh.jsonl"
t_eq "$(wc -l <"$W/fresh.jsonl")" 20361 "addresses in a fresh bootstrap"
for n in 1 2 3; do
	h $n export --format jsonl >"$W/e$n.jsonl"
	if cmp -s "$W/fresh.jsonl" "$W/e$n.jsonl"; then t_ok; else
		t_fail "host $n's store differs from the journal"
		diff "$W/fresh.jsonl" "$W/e$n.jsonl" | head -10 >&2
	fi
done
# Consent by the journal's rule (the newest change; at a tie the stronger,
# as record.c ranks them: unsubscribed, confirmed, pending, subscribed),
# as a query computes it, against host 3's export.  (The sign-up and its
# confirmation may fall in the same second.)
pg_sql "SELECT DISTINCT ON (key, list) key || ',' || list || ',' || value
    FROM consent.change WHERE kind IN ('consent', 'confirm')
    ORDER BY key, list, event_time DESC,
    CASE value WHEN 'unsubscribed' THEN 4 WHEN 'confirmed' THEN 3
    WHEN 'pending' THEN 2 ELSE 1 END DESC" |
    sort >"$W/sql.csv"
h 3 export | awk -F, 'NR > 1 && $2 != "" { print $1 "," $2 "," $3 }' |
    sort >"$W/e3.csv"
t_eq "$(wc -l <"$W/sql.csv")" "$(wc -l <"$W/e3.csv")" "consent rows, journal and host 3"
if cmp -s "$W/sql.csv" "$W/e3.csv"; then t_ok; else
	t_fail "consent differs from the journal's"
	diff "$W/sql.csv" "$W/e3.csv" | head -10 >&2
fi
for n in 1 2 3; do
	eval "kill -TERM \$SP_$n"
	eval "wait \$SP_$n"
	t_eq $? 0 "consent-syncd $n exit status after SIGTERM"
done
kill -TERM "$UP"
wait "$UP"
t_eq $? 0 "consent-unsubd exit status after SIGTERM"
# Under a sanitizer build: no report from any daemon or writer.
if grep -lE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' \
    "$W"/*.log "$W"/*.err 2>/dev/null; then
	t_fail "a sanitizer report (above)"
else
	t_ok
fi
t_done
