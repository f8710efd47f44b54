#!/bin/sh
# test_fleet_init.sh - consentctl sync init and status against a private
# PostgreSQL cluster (tests/lib/pg.sh): the schema and roles made twice
# over, what each role may and may not do, the record refusing UPDATE,
# DELETE and TRUNCATE even to its owner, a fleet with other address
# rules refused, and status on a store that is not a replica yet.
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

W=$(mktemp -d /var/tmp/test_fleet_init.XXXXXX)
chmod 755 "$W"
cleanup() {
	pg_cleanup
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

pg_setup "$W" || { t_fail "private cluster"; t_done; exit 1; }
ADMIN=$(pg_conninfo postgres)
cat >"$W/c.conf" <<EOF
store: { path = "$W/store"; };
sync: {
	conninfo = "$(pg_conninfo consent_replica)";
	writer_conninfo = "$(pg_conninfo consent_writer)";
	host_id = "mta1";
};
EOF
ctl() { "$CTL" -c "$W/c.conf" "$@"; }

t_run 0 ctl sync init --admin "$ADMIN"
t_out "role consent_replica reads, role consent_writer inserts"
t_run 0 ctl sync init --admin "$ADMIN"	# again: nothing breaks
t_run 2 ctl sync init --admin "$ADMIN" --writer-role consent_replica
t_err "must differ"
t_run 2 ctl sync init --admin "$ADMIN" --writer-role "Robert'); DROP"
t_err "lowercase letters"

ID=6f1c0b5e-1111-4222-8333-444455556666
INS="INSERT INTO consent.change (kind, key, list, value, event_time, source,
  made, origin_host, origin_id) VALUES ('consent', 'a@example.com', 'news',
  'subscribed', 1800000000, 'form', 1800000000, 'mta1', '$ID')"

# The writer inserts, and an insert sent twice is one row.
t_run 0 pg_sql_as consent_writer "$INS ON CONFLICT (origin_host, origin_id) DO NOTHING"
t_run 0 pg_sql_as consent_writer "$INS ON CONFLICT (origin_host, origin_id) DO NOTHING"
t_eq "$(pg_sql "SELECT count(*) FROM consent.change")" 1 "rows after a repeated insert"
# ...but reads nothing personal, and cannot choose the order.
t_run 1 pg_sql_as consent_writer "SELECT key FROM consent.change"
t_run 1 pg_sql_as consent_writer "INSERT INTO consent.change (xid, kind, key,
  made, origin_host, origin_id) VALUES ('1', 'unsuppress', 'a@example.com',
  1, 'mta1', gen_random_uuid())"
t_run 1 pg_sql_as consent_writer "UPDATE consent.change SET note = 'x'"
# The replica reads, and nothing more.
t_run 0 pg_sql_as consent_replica "SELECT key FROM consent.change"
t_run 1 pg_sql_as consent_replica "$INS"
t_run 1 pg_sql_as consent_replica "DELETE FROM consent.change"
# Nobody rewrites the record, not even its owner.
t_run 1 pg_sql "UPDATE consent.change SET note = 'x'"
t_err "append-only (UPDATE refused)"
t_run 1 pg_sql "DELETE FROM consent.change"
t_err "append-only (DELETE refused)"
t_run 1 pg_sql "TRUNCATE consent.change"
t_err "append-only (TRUNCATE refused)"
t_run 1 pg_sql "UPDATE consent.fleet SET case_sensitive_local = true"
# Malformed rows are refused at the door too.
t_run 1 pg_sql_as consent_writer "INSERT INTO consent.change (kind, key, list,
  made, origin_host, origin_id) VALUES ('consent', 'a@example.com', 'News',
  1, 'mta1', gen_random_uuid())"
t_run 1 pg_sql_as consent_writer "INSERT INTO consent.change (kind, key,
  made, origin_host, origin_id) VALUES ('delete', 'a@example.com', 1,
  'mta 1', gen_random_uuid())"
# The view shows times as timestamps.
t_eq "$(pg_sql "SELECT event_time FROM consent.changes")" \
    "2027-01-15 08:00:00+00" "the view's event time"

# A host with other address rules is refused.
sed 's/^store: {/store: { case_sensitive_local = true;/' "$W/c.conf" >"$W/cs.conf"
t_run 2 "$CTL" -c "$W/cs.conf" sync init --admin "$ADMIN"
t_err "case-insensitive local parts"

# Status: a store that is not a replica yet is stale (exit 1).
t_run 0 ctl init
t_run 1 ctl sync status
t_out "replica:  no"
t_out "database: reachable, 1 rows after the cursor"
t_run 1 ctl sync status --json
t_out '"replica":false'
t_out '"database":{"reachable":true,"behind":1}'

# Bootstrap: not over a store that is there; then from the journal.
t_run 2 ctl sync bootstrap
t_err "a store exists"
mv "$W/store" "$W/old"
t_run 0 ctl sync bootstrap
t_out "1 rows"
t_run 0 ctl show a@example.com
t_out "list news: subscribed"
t_run 0 ctl sync status
t_out "database: reachable, 0 rows after the cursor"
# consent-syncd follows: a row inserted is in the store at once.
sed -i 's/host_id = "mta1";/host_id = "mta1"; user = "";/' "$W/c.conf"
t_run 0 "$B/consent-syncd" -n -c "$W/c.conf"
t_out "configuration OK (host mta1)"
"$B/consent-syncd" -c "$W/c.conf" -f -d 2>"$W/syncd.log" &
SP=$!
t_run 0 pg_sql_as consent_writer "INSERT INTO consent.change (kind, key, list,
  value, event_time, source, made, origin_host, origin_id) VALUES ('consent',
  'b@example.com', 'news', 'unsubscribed', 1800000000, 'form', 1800000000,
  'mta9', gen_random_uuid())"
i=0
while [ $i -lt 50 ] && ! ctl show b@example.com >/dev/null 2>&1; do
	sleep 0.02
	i=$((i + 1))
done
t_run 0 ctl show b@example.com
t_out "list news: unsubscribed"
kill -TERM "$SP"
wait "$SP"
t_eq $? 0 "consent-syncd exit status after SIGTERM"
t_run 0 grep -q "applied 1 journal rows" "$W/syncd.log"
pg_stop
t_run 0 ctl sync status --json
t_out '"database":{"reachable":false,"error":"the fleet database:'
# No sync section: the command says what is missing.
printf 'store: { path = "%s/store"; };\n' "$W" >"$W/local.conf"
t_run 2 "$CTL" -c "$W/local.conf" sync status
t_err "no sync section"
t_done
