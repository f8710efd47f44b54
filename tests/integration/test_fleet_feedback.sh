#!/bin/sh
# test_fleet_feedback.sh - consentctl feedback in a fleet (a private
# PostgreSQL cluster, tests/lib/pg.sh): a proven bounce, a complaint and
# the mail-log channel's bounce are in force on this host at once and
# wait in the outbox, without the network (as pipe(8) runs it); a forged
# one changes nothing anywhere; consent-syncd sends them to the journal,
# where they are suppress rows of source bounce and complaint; soft
# counts stay this host's.
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
D=$TOP/tests/data/feedback
FAKE=AXq7Zt3dFZ9cLr1pQe0b5YwKJmN2sV8hU4oG6iT_xRaE-lBkCgHjD7fWnMzSyOv1Pu3Q9e2RtL0aZ5XcVbNmKdJhGf8sWqYpUo4I6rE_TyA-lk

pg_require

W=$(mktemp -d /var/tmp/test_fleet_feedback.XXXXXX)
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
"$CTL" -c /dev/null keygen "$W/k.key" >/dev/null
cat >"$W/c.conf" <<EOC
store: { path = "$W/store"; };
unsubscribe: { keys = ( { id = 1; file = "$W/k.key"; } ); };
feedback: { queue_dir = "$W/queue"; sign_return_path = true; };
sync: {
	conninfo = "$(pg_conninfo consent_replica)";
	writer_conninfo = "$(pg_conninfo consent_writer)";
	host_id = "mta1";
	user = "";
};
EOC
ctl() { "$CTL" -c "$W/c.conf" "$@"; }
t_run 0 ctl sync init --admin "$(pg_conninfo postgres)"
t_run 0 ctl sync bootstrap

# with_token FILE ADDRESS: the sample with a real token for ADDRESS.
with_token() {
	tok=$(ctl token "$2" --list news) || exit 1
	sed "s/$FAKE/$tok/g" "$D/$1" >"$W/msg"
}

# In force here at once, waiting in the outbox: no network on this path.
with_token postfix_5.1.1.eml nobody@example.net
t_run 0 ctl feedback <"$W/msg"
t_out "hard_bounce recorded (token"
t_run 0 ctl show nobody@example.net
t_out "suppressed: hard_bounce (source bounce)"
with_token arf_abuse.eml reader@example-isp.net
t_run 0 ctl feedback <"$W/msg"
t_run 0 ctl show reader@example-isp.net
t_out "suppressed: complaint (source complaint)"
# qmgr's line names the signed return path that proves the bounce ours.
printf 'Dec  1 10:00:00 mta postfix/qmgr[10]: 4XyZ1A: from=<%s>, size=900, nrcpt=1 (queue active)\n' \
	"$(ctl feedback sign gone@example.com bounces@example.com)" >"$W/mail.log"
printf 'Dec  1 10:00:01 mta postfix/smtp[12]: 4XyZ1A: to=<gone@example.com>, relay=mx.example.com[192.0.2.25]:25, dsn=5.1.1, status=bounced (host said: 550 5.1.1 unknown)\n' >>"$W/mail.log"
t_run 0 ctl feedback --maillog "$W/mail.log"
t_out "1 changes to the store"
# Soft counts are the host's own: counted, not journaled.
with_token gmail_5.2.2.eml full.mailbox@gmail.com
t_run 0 ctl feedback <"$W/msg"
t_out "soft bounce 1 of 3 counted"
# A forgery: queued, nothing anywhere.
sed 's/nobody@example.net/victim@example.net/g' "$D/postfix_5.1.1.eml" >"$W/msg"
t_run 0 ctl feedback <"$W/msg"
t_out "queued"
t_run 0 ctl sync status
t_out "outbox:   3 changes waiting"
t_eq "$(pg_sql "SELECT count(*) FROM consent.change")" 0 "rows before consent-syncd"

# consent-syncd sends the outbox: three suppress rows in the journal.
"$B/consent-syncd" -c "$W/c.conf" -f 2>"$W/syncd.log" &
SP=$!
i=0
while [ $i -lt 100 ] && [ "$(pg_sql "SELECT count(*) FROM consent.change")" != 3 ]; do
	sleep 0.1
	i=$((i + 1))
done
t_eq "$(pg_sql "SELECT count(*) FROM consent.change WHERE kind = 'suppress'")" 3 \
	"suppress rows in the journal"
t_eq "$(pg_sql "SELECT string_agg(key || ' ' || value || ' ' || source, ',' ORDER BY key) FROM consent.change")" \
	"gone@example.com hard_bounce bounce,nobody@example.net hard_bounce bounce,reader@example-isp.net complaint complaint" \
	"the journal's rows"
t_eq "$(pg_sql "SELECT count(*) FROM consent.change WHERE key = 'victim@example.net' OR key = 'full.mailbox@gmail.com'")" 0 \
	"no row for the forgery nor the soft count"
i=0
while [ $i -lt 100 ] && ! ctl sync status 2>/dev/null | grep -q "outbox:   0 changes"; do
	sleep 0.1
	i=$((i + 1))
done
t_run 0 ctl sync status
t_out "outbox:   0 changes waiting"
t_run 0 ctl show nobody@example.net
t_out "suppressed: hard_bounce (source bounce)"
kill -TERM "$SP"
wait "$SP"
t_eq "$?" 0 "consent-syncd exit status"
SP=
t_done
