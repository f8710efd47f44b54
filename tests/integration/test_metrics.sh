#!/bin/sh
# shellcheck disable=SC3043
# test_metrics.sh - the Prometheus metrics of consent-milter and
# consent-unsubd: each daemon serves /metrics on its listener, the
# exposition passes promtool, the counters move with the traffic (bulk
# decisions by verdict, reason and list, list labels bounded, messages by
# class, tempfails by cause, one-click requests by outcome), and a real
# Prometheus scrapes both once.  miltertest drives the filter, curl the
# endpoint.
#
# Prints "N passed, M failed" last.
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) B=$BUILD ;; *) B=$TOP/$BUILD ;; esac
. "$TOP/tests/lib/assert.sh"
. "$TOP/tests/lib/postfix.sh"	# pf_free_port

for p in curl promtool miltertest; do
	if ! command -v $p >/dev/null 2>&1; then
		echo "$p is missing: run make deps"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

W=$(mktemp -d /var/tmp/consent-metrics.XXXXXX)
chmod 755 "$W"
PIDS=
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null; done
	for p in $PIDS; do wait "$p" 2>/dev/null; done
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

PF__PORTS_USED=
# Each in its own subshell: note the ports taken so far ourselves.
MPORT=$(pf_free_port); PF__PORTS_USED="$PF__PORTS_USED $MPORT"
UPORT=$(pf_free_port); PF__PORTS_USED="$PF__PORTS_USED $UPORT"
HPORT=$(pf_free_port); PF__PORTS_USED="$PF__PORTS_USED $HPORT"
PPORT=$(pf_free_port)
"$B/consentctl" keygen "$W/1.key" >/dev/null
cat >"$W/m.conf" <<EOF
store: { path = "$W/store"; };
milter: { socket = "unix:$W/m.sock"; user = ""; socket_group = ""; max_recipients = 2; };
classify: { rules = ( { sender_domain = "news.example.com"; list = "news"; } ); };
unsubscribe: {
	enable = true;
	keys = ( { id = 1; file = "$W/1.key"; } );
	url = "https://u.example.com/u/%t";
	listen = "127.0.0.1:$HPORT";
	user = "";
};
metrics: { listen = "127.0.0.1:$MPORT"; unsubd_listen = "127.0.0.1:$UPORT"; max_lists = 2; };
EOF
CTL="$B/consentctl -c $W/m.conf"
$CTL init >/dev/null
$CTL subscribe yes@example.com --list news >/dev/null
$CTL subscribe yes@example.com --list l2 >/dev/null

"$B/consent-milter" -f -c "$W/m.conf" 2>"$W/milter.log" &
MILTER_PID=$!
PIDS="$PIDS $!"
"$B/consent-unsubd" -f -c "$W/m.conf" 2>"$W/unsubd.log" &
UNSUBD_PID=$!
PIDS="$PIDS $!"
pf_wait_file "$W/m.sock" 10 && t_ok || t_fail "the milter did not start: $(cat "$W/milter.log")"
pf_wait_port "$UPORT" 10 && t_ok || t_fail "no unsubd metrics listener: $(cat "$W/unsubd.log")"
pf_wait_port "$MPORT" 10 && t_ok || t_fail "no milter metrics listener: $(cat "$W/milter.log")"

# Traffic, from "Postfix" (v: the filter removes, and refuses at RCPT, only
# for an MTA it knows): envelope bulk (allowed, denied), header bulk on
# three more lists (past max_lists), transactional.
cat >"$W/t.lua" <<EOF
local conn = mt.connect("unix:$W/m.sock")
if conn == nil then print("no connection"); os.exit(1) end
if mt.negotiate(conn, nil, nil, nil) ~= nil then os.exit(1) end
local function msg(from, rcpts, hdrs)
	mt.macro(conn, SMFIC_MAIL, "v", "Postfix 3.7.11", "{client_addr}", "192.0.2.1",
	    "{client_port}", "4000")
	assert(mt.mailfrom(conn, from) == nil)
	for _, r in ipairs(rcpts) do assert(mt.rcptto(conn, r) == nil) end
	for _, h in ipairs(hdrs) do assert(mt.header(conn, h[1], h[2]) == nil) end
	assert(mt.eom(conn) == nil)
end
msg("<n@news.example.com>", { "<yes@example.com>", "<no@example.com>" }, {})
msg("<shop@example.org>", { "<yes@example.com>" }, { { "X-Consent-List", "l2" } })
msg("<shop@example.org>", { "<yes@example.com>" }, { { "X-Consent-List", "l3" } })
msg("<shop@example.org>", { "<yes@example.com>" }, { { "X-Consent-List", "l4" } })
msg("<shop@example.org>", { "<yes@example.com>" }, { { "Subject", "receipt" } })
-- A third bulk recipient is one too many: 452 4.5.3, a tempfail "limit".
msg("<n@news.example.com>", { "<yes@example.com>", "<no@example.com>", "<x@example.com>" }, {})
mt.disconnect(conn)
print("sent")
EOF
t_run 0 miltertest -s "$W/t.lua"
t_out "sent"
t_run 0 curl -sf "http://127.0.0.1:$MPORT/metrics" -o "$W/milter.prom"
t_run 0 sh -c "promtool check metrics <'$W/milter.prom'"
t_eq "$(cat "$T_ERR")" "" "promtool's findings for consent-milter"
has() { grep -qxF -- "$2" "$1" && t_ok || t_fail "$1 lacks: $2"; }
has "$W/milter.prom" 'consent_milter_decisions_total{verdict="allow",reason="subscribed",list="news"} 2'
has "$W/milter.prom" 'consent_milter_decisions_total{verdict="deny",reason="no_consent",list="news"} 2'
has "$W/milter.prom" 'consent_milter_decisions_total{verdict="allow",reason="subscribed",list="l2"} 1'
has "$W/milter.prom" 'consent_milter_decisions_total{verdict="deny",reason="no_consent",list="other"} 2'
has "$W/milter.prom" 'consent_milter_messages_total{class="bulk"} 5'
has "$W/milter.prom" 'consent_milter_messages_total{class="transactional"} 1'
has "$W/milter.prom" 'consent_milter_tempfails_total{cause="limit"} 1'
grep -q '^consent_milter_decision_seconds_count 7$' "$W/milter.prom" && t_ok ||
    t_fail "decision latency count: $(grep decision_seconds_count "$W/milter.prom")"
grep -q '^consent_milter_store_size_bytes [1-9]' "$W/milter.prom" && t_ok ||
    t_fail "no store size"
grep -q '^consent_milter_store_last_change_age_seconds [0-9]' "$W/milter.prom" && t_ok ||
    t_fail "no store age"

# consent-unsubd: a real one-click POST, a forged token, a 404.
TOKEN=$($CTL token yes@example.com --list news)
t_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d List-Unsubscribe=One-Click \
    "http://127.0.0.1:$HPORT/u/$TOKEN")" 200 "one-click POST"
t_eq "$(curl -s -o /dev/null -w '%{http_code}' -X POST -d List-Unsubscribe=One-Click \
    "http://127.0.0.1:$HPORT/u/AAAAforged")" 400 "forged token"
t_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HPORT/nothing")" 404 "404"
t_run 0 curl -sf "http://127.0.0.1:$UPORT/metrics" -o "$W/unsubd.prom"
t_run 0 sh -c "promtool check metrics <'$W/unsubd.prom'"
t_eq "$(cat "$T_ERR")" "" "promtool's findings for consent-unsubd"
has "$W/unsubd.prom" 'consent_unsubd_requests_total{method="POST",outcome="unsubscribed"} 1'
has "$W/unsubd.prom" 'consent_unsubd_requests_total{method="POST",outcome="invalid_token"} 1'
has "$W/unsubd.prom" 'consent_unsubd_requests_total{method="GET",outcome="not_found"} 1'
has "$W/unsubd.prom" 'consent_unsubd_unsubscribes_total{scope="list",changed="yes"} 1'
t_eq "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MPORT/other")" 404 "metrics 404"

# A real Prometheus scrapes both once.
cat >"$W/prom.yml" <<EOF
global: { scrape_interval: 1s }
scrape_configs:
  - job_name: consent-milter
    static_configs: [ { targets: [ "127.0.0.1:$MPORT" ] } ]
  - job_name: consent-unsubd
    static_configs: [ { targets: [ "127.0.0.1:$UPORT" ] } ]
EOF
t_run 0 promtool check config "$W/prom.yml"
prometheus --config.file="$W/prom.yml" --storage.tsdb.path="$W/tsdb" \
    --web.listen-address="127.0.0.1:$PPORT" >"$W/prom.log" 2>&1 &
PIDS="$PIDS $!"
q() {
	curl -sf --get "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1"
}
i=0
until q 'consent_unsubd_requests_total' 2>/dev/null | grep -q '"unsubscribed"' &&
    q 'consent_milter_messages_total' 2>/dev/null | grep -q '"bulk"'; do
	[ $i -ge 300 ] && break
	sleep 0.1
	i=$((i + 1))
done
q 'up' >"$W/up.json"
grep -q '"job":"consent-milter".*"value":\[[0-9.]*,"1"\]\|"value":\[[0-9.]*,"1"\].*"job":"consent-milter"' "$W/up.json" &&
    t_ok || t_fail "Prometheus did not scrape consent-milter: $(cat "$W/up.json")"
q 'sum(consent_milter_messages_total)' | grep -q '"value":\[[0-9.]*,"6"\]' && t_ok ||
    t_fail "Prometheus has not the filter's 6 messages: $(q 'sum(consent_milter_messages_total)')"
q 'consent_unsubd_requests_total{outcome="unsubscribed"}' | grep -q '"value":\[[0-9.]*,"1"\]' &&
    t_ok || t_fail "Prometheus has not the endpoint's POST"

# Both daemons stop cleanly at SIGTERM, with no sanitizer report.
for d in milter:$MILTER_PID unsubd:$UNSUBD_PID; do
	kill -TERM "${d#*:}"
	wait "${d#*:}"
	t_eq "$?" 0 "consent-${d%%:*}: exit status after SIGTERM"
	if grep -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' \
	    "$W/${d%%:*}.log" >&2; then
		t_fail "consent-${d%%:*}: sanitizer report in its stderr"
	else
		t_ok
	fi
done
t_done
