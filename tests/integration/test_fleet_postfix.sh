#!/bin/sh
# shellcheck disable=SC3043
# test_fleet_postfix.sh - two hosts of a fleet through a real, private
# Postfix and a private PostgreSQL (tests/lib/postfix.sh, tests/lib/pg.sh):
# host A runs consent-unsubd and consent-syncd, host B consent-milter (in
# front of the Postfix) and consent-syncd, each on its own store.
#
#   1. a one-click POST at host A's endpoint; the next bulk message to that
#      person through host B's filter is refused at RCPT (550 5.7.1).
#      Prints the time from the POST to that refusal.
#   2. host B's consent-syncd stopped: once its replica is older than
#      sync.max_lag (3 s here), bulk mail gets 451 4.3.0 and the filter
#      logs why; transactional mail still passes.  consent-syncd back:
#      bulk mail passes again.
#   3. a store that is not a replica (no bootstrap) tempfails bulk mail.
#
# Needs root.  Prints "N passed, M failed" last.
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
CTL=$BUILD/consentctl
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/assert.sh"
. "$TOP/tests/lib/daemons.sh"
. "$TOP/tests/lib/pg.sh"

pg_require curl

pf_cleanup_trap
pf_setup "$(pf_tmpdir fleet)" || { t_fail "pf_setup"; t_done; exit 1; }
pf_at_exit pg_cleanup
pg_setup "$PF_DIR" || { t_fail "private cluster"; t_done; exit 1; }

# conf HOST EXTRA : host A or B's configuration.
conf() {
	cat >"$PF_DIR/$1.conf" <<EOF
store: { path = "$PF_DIR/store$1"; };
milter: {
	socket = "unix:$PF_RUN/consent.sock";
	user = "";
	socket_group = "postfix";
	socket_mode = "0660";
	shutdown_timeout = 2;
};
classify: {
	rules = ( { sender_domain = "news.example.com"; list = "news"; } );
};
unsubscribe: {
	keys = ( { id = 1; file = "$PF_DIR/1.key"; } );
	url = "https://unsub.example.test/u/%t";
	listen = "127.0.0.1:0";
	trusted_proxies = "127.0.0.1";
	user = "";
};
sync: {
	conninfo = "$(pg_conninfo consent_replica)";
	writer_conninfo = "$(pg_conninfo consent_writer)";
	host_id = "host$1";
	max_lag = "3s";
	poll_interval = "1s";
	user = "";
};
EOF
}
"$CTL" -c /dev/null keygen "$PF_DIR/1.key" >/dev/null
conf A
conf B
ctl() { h=$1; shift; "$CTL" -c "$PF_DIR/$h.conf" "$@"; }

t_run 0 ctl A sync init --admin "$(pg_conninfo postgres)"
# Opt-ins need no store yet: they go to the database.
for a in ann bob cat; do
	t_run 0 ctl A subscribe "$a@example.net" --list news
	t_out "recorded in the fleet database"
done
t_run 0 ctl A sync bootstrap
t_run 0 ctl B sync bootstrap
t_out "3 rows"
pf_daemon_start syncdA "replica of the fleet journal" \
    "$BUILD/consent-syncd" -c "$PF_DIR/A.conf" -f -d && t_ok || t_fail "syncd A"
pf_daemon_start syncdB "replica of the fleet journal" \
    "$BUILD/consent-syncd" -c "$PF_DIR/B.conf" -f -d && t_ok || t_fail "syncd B"
pf_daemon_start unsubdA "listening on" \
    "$BUILD/consent-unsubd" -c "$PF_DIR/A.conf" -f && t_ok || t_fail "unsubd A"
UPORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\).*/\1/p' \
    "$PF_DIR/log/unsubdA.log" | head -1)
pf_daemon_start milterB "listening on" \
    "$BUILD/consent-milter" -c "$PF_DIR/B.conf" -f && t_ok || t_fail "milter B"
pf_set_milters "unix:$PF_RUN/consent.sock"
pf_start || { t_fail "pf_start"; t_done; exit 1; }

# --- 1. one-click at host A stops the next message at host B
pf_send_expect 250 --from news@news.example.com --to ann@example.net &&
    t_ok || t_fail "ann subscribed: accepted at host B"
tok=$(ctl A token ann@example.net --list news)
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    -d 'List-Unsubscribe=One-Click' "http://127.0.0.1:$UPORT/u/$tok")
t0=$(date +%s%N)
t_eq "$code" 200 "one-click POST at host A"
i=0
until pf_send --from news@news.example.com --to ann@example.net &&
    false; do
	case "$(pf_send_reply)" in 550*) break ;; esac
	[ $i -ge 100 ] && break
	sleep 0.1
	i=$((i + 1))
done
t1=$(date +%s%N)
case "$(pf_send_reply)" in
550\ 5.7.1*) t_ok ;;
*) t_fail "ann at host B after the click: $(pf_send_reply)" ;;
esac
echo "one-click at host A to refusal at host B: $(( (t1 - t0) / 1000000 )) ms"
t_run 0 ctl B show ann@example.net
t_out "source=one-click"
pf_send_expect 250 --from news@news.example.com --to bob@example.net &&
    t_ok || t_fail "bob still accepted"

# --- 2. a stale replica: bulk mail tempfailed, transactional passes
# until_reply CODE SECONDS SWAKS-ARGS...: send until the reply is CODE.
until_reply() {
	local want="$1" n=$(($2 * 2))
	shift 2
	while [ $n -gt 0 ]; do
		pf_send_expect "$want" "$@" 2>/dev/null && return 0
		sleep 0.5
		n=$((n - 1))
	done
	pf_send_expect "$want" "$@"
}
t_check "syncd B exits 0 after SIGTERM" daemon_end syncdB
# max_lag is 3 s: stale within a few seconds of the last sync.
until_reply "451 4.3.0" 15 --from news@news.example.com --to bob@example.net &&
    t_ok || t_fail "stale replica: bulk mail tempfailed"
pf_send_expect 250 --from receipts@shop.example.org --to bob@example.net &&
    t_ok || t_fail "stale replica: transactional mail passes"
t_run 0 grep -q "bulk mail is tempfailed (451 4.3.0): the replica's last sync was" \
    "$PF_DIR/log/milterB.log"
pf_daemon_start syncdB2 "replica of the fleet journal" \
    "$BUILD/consent-syncd" -c "$PF_DIR/B.conf" -f -d && t_ok || t_fail "syncd B again"
until_reply 250 15 --from news@news.example.com --to bob@example.net &&
    t_ok || t_fail "fresh again: bulk mail accepted"
t_run 0 ctl B sync status
t_out "error:    none"

# --- 3. not a replica: bulk mail tempfailed
t_check "milter B exits 0 after SIGTERM" daemon_end milterB
mv "$PF_DIR/storeB" "$PF_DIR/storeB.replica"
"$CTL" -c /dev/null -s "$PF_DIR/storeB" init >/dev/null
pf_daemon_start milterB2 "listening on" \
    "$BUILD/consent-milter" -c "$PF_DIR/B.conf" -f && t_ok || t_fail "milter B again"
pf_send_expect "451 4.3.0" --from news@news.example.com --to bob@example.net &&
    t_ok || t_fail "not a replica: bulk mail tempfailed"
t_run 0 grep -q "the store is not a replica of the fleet journal" \
    "$PF_DIR/log/milterB2.log"
daemon_stop milterB2
daemon_stop syncdA
daemon_stop syncdB2
daemon_stop unsubdA
t_check "every daemon exits 0 after SIGTERM" daemons_gone
if grep -lE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' \
    "$PF_DIR"/log/*.log 2>/dev/null; then
	t_fail "a sanitizer report (above)"
else
	t_ok
fi
pf_teardown "$T_FAIL"
t_done
