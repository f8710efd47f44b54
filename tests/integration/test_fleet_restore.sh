#!/bin/sh
# test_fleet_restore.sh - the fleet database restored to an earlier point
# (a private PostgreSQL cluster, tests/lib/pg.sh, copied back from a cold
# copy of its data directory): the transaction ids after the copy are
# handed out again, below the cursor of a replica that had read past it.
# That replica must not read on from its cursor as if nothing happened (it
# would pass over the unsubscribe made after the restore, call itself
# complete, and the milter would mail the person): consent-syncd finds that
# the journal no longer holds its last row, and the replica is stale at
# once (sync status exits 1, says why), until a bootstrap.  A replica whose
# journal merely went away and came back (a restart) goes on as before.
# A bootstrap made while consent-syncd runs: it follows the new store.
#
# Needs root (initdb runs as postgres; skipped otherwise).  Prints "N
# passed, M failed".
set -u
LC_ALL=C
export LC_ALL
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) B=$BUILD ;; *) B=$TOP/$BUILD ;; esac
. "$TOP/tests/lib/assert.sh"
. "$TOP/tests/lib/pg.sh"
CTL=$B/consentctl

pg_require

W=$(mktemp -d /var/tmp/test_fleet_restore.XXXXXX)
chmod 755 "$W"
SP=
cleanup() {
	[ -n "$SP" ] && kill -TERM "$SP" 2>/dev/null && wait "$SP"
	pg_cleanup
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

pg_setup "$W" || { t_fail "private cluster"; t_done; exit 1; }
# conf HOST: the configuration of host HOST, its store in $W/HOST.
conf() {
	cat >"$W/$1.conf" <<EOC
store: { path = "$W/$1"; };
policy: { model = "opt-in"; };
sync: {
	conninfo = "$(pg_conninfo consent_replica)";
	writer_conninfo = "$(pg_conninfo consent_writer)";
	host_id = "$1";
	user = "";
	poll_interval = "1s";
};
EOC
}
conf mta1
conf mta2
a() { "$CTL" -c "$W/mta1.conf" "$@"; }
b() { "$CTL" -c "$W/mta2.conf" "$@"; }
t_run 0 a sync init --admin "$(pg_conninfo postgres)"
t_run 0 a subscribe early@example.com --list news
t_run 0 a sync bootstrap
"$B/consent-syncd" -c "$W/mta1.conf" -f 2>"$W/syncd.log" &
SP=$!

# wait_for WHAT CMD...: CMD succeeds within 15 s.
wait_for() {
	what=$1
	shift
	i=0
	while ! "$@" >/dev/null 2>&1; do
		[ $i -ge 150 ] && { t_fail "$what: not in time"; return 1; }
		sleep 0.1
		i=$((i + 1))
	done
	t_ok
}
checks_allow() { a check "$1" --list news; }

# The cold copy of the database: what a restore brings back.
pg_stop
cp -a "$PG_DATA" "$W/pgcopy"
pg_start
t_run 0 a subscribe victim@example.com --list news
wait_for "mta1 has victim's subscription" checks_allow victim@example.com
t_run 0 a sync status
t_out "error:    none"

# A restart changes nothing: the journal still holds the cursor's row.
pg_restart
t_run 0 a subscribe after.restart@example.com --list news
wait_for "mta1 goes on after a restart" checks_allow after.restart@example.com
t_run 0 a sync status

# The restore: the data directory copied back, victim's subscription gone
# from the journal; its transaction id is handed out again.
pg_stop
rm -rf "$PG_DATA"
cp -a "$W/pgcopy" "$PG_DATA"
pg_start
t_eq "$(pg_sql "SELECT count(*) FROM consent.change WHERE key = 'victim@example.com'")" 0 \
	"the restored journal lacks victim's row"
t_run 0 b sync bootstrap
# victim unsubscribes behind the other host: a row of the restored journal.
t_run 0 b unsubscribe victim@example.com --list news
t_eq "$(pg_sql "SELECT count(*) FROM consent.change WHERE key = 'victim@example.com'")" 1 \
	"the unsubscribe is in the journal"
# The mechanism: that row's transaction id is not above mta1's cursor, so
# reading on from the cursor would never see it.
cur=$(a sync status | sed -n 's/^cursor:   xid \([0-9]*\),.*/\1/p')
uxid=$(pg_sql "SELECT xid FROM consent.change WHERE key = 'victim@example.com'")
[ -n "$cur" ] && [ -n "$uxid" ] && [ "$uxid" -le "$cur" ] && t_ok ||
	t_fail "the unsubscribe's xid $uxid is above mta1's cursor $cur: no reuse"
# mta1 must not go on as if it were complete: stale, and it says why.
stale() { ! a sync status >/dev/null 2>&1; }
wait_for "mta1's replica is stale at once" stale
t_run 1 a sync status
t_out "synced:   never: bulk mail is tempfailed"
t_out "no longer holds this replica's last row"
# It stays so, whatever the journal gets meanwhile; an opt-out taken here
# meanwhile still reaches the journal.
t_run 0 b subscribe later@example.com --list news
t_run 0 a unsubscribe early@example.com --list news
in_journal() { [ "$(pg_sql "SELECT count(*) FROM consent.change WHERE key = 'early@example.com' AND value = 'unsubscribed'")" = 1 ]; }
wait_for "mta1's opt-out reaches the restored journal" in_journal
sleep 2
t_run 1 a sync status
t_out "no longer holds this replica's last row"
# A bootstrap is the way back: victim's unsubscribe is then in force.
kill -TERM "$SP"
wait "$SP"
t_eq "$?" 0 "consent-syncd exit status"
SP=
mv "$W/mta1" "$W/mta1.old"
t_run 0 a sync bootstrap
t_run 0 a sync status
t_run 1 a check victim@example.com --list news
t_out "unsubscribed"
t_run 1 a check early@example.com --list news
t_run 0 a check later@example.com --list news

# --- a bootstrap while consent-syncd runs: it follows the new store (once
# the old one's outbox is sent), not the one moved away.
"$B/consent-syncd" -c "$W/mta1.conf" -f 2>"$W/syncd2.log" &
SP=$!
t_run 0 b subscribe before.swap@example.com --list news
wait_for "mta1 follows the journal" checks_allow before.swap@example.com
mv "$W/mta1" "$W/mta1.swapped"
t_run 0 a sync bootstrap
t_run 0 b subscribe after.swap@example.com --list news
wait_for "the new store gets what the journal gets" checks_allow after.swap@example.com
grep -q 'was replaced or moved since it was opened' "$W/syncd2.log" && t_ok ||
	t_fail "consent-syncd did not say it follows the new store"
kill -TERM "$SP"
wait "$SP"
t_eq "$?" 0 "consent-syncd exit status"
SP=
t_done
