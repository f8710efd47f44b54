#!/bin/sh
# shellcheck disable=SC3043,SC2046
# demo.sh - the README's main job ("make demo"): consent-milter in front
# of a private Postfix on loopback, on the shipped configuration
# (conf/consent-milter.conf) with only what must change overridden, and a
# small consent store.  Sends a handful of messages, prints for each
# recipient DELIVERED or STOPPED and why, then stops everything it started.
#
#   BUILD=build scripts/demo.sh      (as root, after "make")
#   PF_KEEP=1 keeps the work directory (configs, logs, delivered copies);
#   CONSENTCTL overrides the consentctl binary.
#
# Nothing outside a fresh /var/tmp/consent-demo.XXXXXX directory is
# touched: the system's Postfix configuration is neither read nor changed.
set -u
cd "$(dirname "$0")/.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
MILTER=$BUILD/consent-milter
CTL=${CONSENTCTL:-$BUILD/consentctl}
LIST=news
NEWS=news@news.example.com
# shellcheck source=tests/lib/postfix.sh
. "$TOP/tests/lib/postfix.sh"

die() {
	echo "demo: $*" >&2
	exit 1
}

if [ -t 1 ]; then
	B=$(printf '\033[1m') G=$(printf '\033[32m') R=$(printf '\033[31m')
	D=$(printf '\033[2m') N=$(printf '\033[0m')
else
	B="" G="" R="" D="" N=""
fi

[ "$(id -u)" -eq 0 ] || die "run me as root: a private Postfix needs it (sudo make demo)"
for b in "$MILTER" "$CTL"; do
	[ -x "$b" ] || die "$b is missing: run 'make' first"
done
for p in postfix smtp-sink swaks; do
	PATH=$PF_POSTFIX_PATH command -v $p >/dev/null ||
		die "$p is missing: run 'make deps' first"
done

# --- set up -------------------------------------------------------------

pf_cleanup_trap
W=$(pf_tmpdir consent-demo) || die "cannot make a work directory"
pf_setup "$W" || die "cannot set up the private Postfix"
CONF=$W/consent-milter.conf
STORE=$W/store
SOCK=$PF_RUN/consent-milter.sock
MLOG=$W/log/consent-milter.log

# The shipped configuration, with four changes; every other key keeps the
# value (and the comment) it ships with.
sed -e "s|^\([[:space:]]*path = \)\"[^\"]*\";|\1\"$STORE\";|" \
    -e "s|^\([[:space:]]*socket = \)\"[^\"]*\";|\1\"unix:$SOCK\";|" \
    -e "s|^\([[:space:]]*user = \)\"[^\"]*\";|\1\"\";|" \
    -e "s|^\([[:space:]]*rules = (\)[[:space:]]*\$|\1 { sender_domain = \"news.example.com\"; list = \"$LIST\"; }|" \
    "$TOP/conf/consent-milter.conf" >"$CONF"
grep -q "path = \"$STORE\"" "$CONF" && grep -q "socket = \"unix:$SOCK\"" "$CONF" &&
    grep -q 'user = "";' "$CONF" && grep -q 'sender_domain = "news.example.com"; list' "$CONF" ||
	die "conf/consent-milter.conf has changed shape: cannot override its keys"
"$MILTER" -c "$CONF" -n >/dev/null 2>"$W/log/check.log" ||
	die "the demo configuration is refused: $(cat "$W/log/check.log")"

ctl() {
	"$CTL" -c "$CONF" "$@" >>"$W/log/consentctl.log" 2>&1 ||
		die "consentctl $* failed: $(tail -n 1 "$W/log/consentctl.log")"
}
ctl init
ctl subscribe alice@example.com --list $LIST --source form --ip 192.0.2.10 \
	--at 2025-03-01T09:00:00Z --note "signup form"
ctl subscribe bob@example.com --list $LIST --pending --source form \
	--at 2025-03-02T10:00:00Z
ctl confirm bob@example.com --list $LIST --at 2025-03-02T10:05:00Z
ctl subscribe carol@example.com --list $LIST --source import \
	--at 2024-06-01T08:00:00Z
ctl unsubscribe carol@example.com --list $LIST --source one-click \
	--at 2025-04-01T12:00:00Z
ctl suppress erin@example.com --reason hard_bounce --source bounce \
	--ref "<bounce-4711@news.example.com>"
# dave@example.com: no record at all.

pf_bg consent-milter "$MILTER" -c "$CONF" -f
MPID=$PF_BG_PID
i=0
until grep -q 'listening on' "$MLOG" 2>/dev/null; do
	pf__alive "$MPID" && [ $i -lt 200 ] ||
		die "consent-milter did not start: $(cat "$MLOG")"
	pf__sleep
	i=$((i + 1))
done
pf_set_milters "unix:$SOCK" || die "cannot configure the milter in Postfix"
pf_start || die "Postfix did not start (see $PF_LOG)"

# --- the report ---------------------------------------------------------

cat <<EOF

${B}consent-milter demo${N}

  Postfix (private)   smtpd on 127.0.0.1:$PF_PORT, queue $PF_QUEUE
  consent-milter      unix:$SOCK
                      (smtpd_milters = non_smtpd_milters; milter_default_action = tempfail)
  "the Internet"      smtp-sink on 127.0.0.1:$PF_SINKPORT: whatever reaches it was delivered
  configuration       conf/consent-milter.conf as shipped, with these changes:
$(diff "$TOP/conf/consent-milter.conf" "$CONF" | sed -n 's/^>[[:space:]]*\(.*\)/                        \1/p')

${B}The consent store${N} (list "$LIST"), as "consentctl check" sees it:
EOF
for a in alice bob carol dave erin; do
	"$CTL" -c "$CONF" check "$a@example.com" --list $LIST 2>&1 |
		awk -v g="$G" -v r="$R" -v n="$N" '{
			addr = $1; sub(/^[^ ]* list=[^:]*: /, "")
			v = $0; sub(/:.*/, "", v); why = $0; sub(/^[^:]*: */, "", why)
			printf "  %-18s %s%-20s%s %s\n", addr, (v ~ /^allow/ ? g : r), v, n, why
		}'
done

NMSG=0
# decision ADDR FROMLINE : the filter's log line about ADDR, from line
# FROMLINE of its log on (waits a little: a refused transaction is logged
# when Postfix ends it, just after the client has its answer).
decision() {
	local i=0 line
	while :; do
		line=$(tail -n +"$2" "$MLOG" | grep -F "rcpt=<$1>" | tail -n 1)
		[ -n "$line" ] || [ $i -ge 40 ] && break
		pf__sleep
		i=$((i + 1))
	done
	echo "$line" | sed 's/^consent-milter: //; s/^[^ ]*: //'
}

# rcpt_reply ADDR : the SMTP reply to RCPT TO:<ADDR> in the last transcript.
rcpt_reply() {
	awk -v want=" -> RCPT TO:<$1>" '
	found && /^<[-*~]+ / { sub(/^<[-*~]+ +/, ""); print; exit }
	$0 == want { found = 1 }' "$PF_SEND_LOG"
}

# report TITLE HOW FROMLINE ADDR... : one message's outcome per recipient.
report() {
	local title="$1" how="$2" from="$3" a line reply
	shift 3
	NMSG=$((NMSG + 1))
	pf_wait_queue_empty 20 >/dev/null 2>&1
	printf '\n%s%d. %s%s\n   %s%s%s\n' "$B" "$NMSG" "$title" "$N" "$D" "$how" "$N"
	for a in "$@"; do
		line=$(decision "$a" "$from")
		reply=""
		[ "$how" != "${how#sendmail}" ] || reply=$(rcpt_reply "$a")
		if pf_sink_recipients | cut -f2 | grep -qxF "$a"; then
			printf '   %-20s %sDELIVERED%s ' "$a" "$G" "$N"
		else
			printf '   %-20s %sSTOPPED%s   ' "$a" "$R" "$N"
		fi
		if [ -n "$line" ]; then
			echo "verdict=${line#*verdict=}"
		else
			echo "transactional: not a bulk message, passed untouched"
		fi
		case "$reply" in
		[45]*) printf '   %-20s           %sthe sender was told: %s%s\n' \
			"" "$D" "$reply" "$N" ;;
		esac
	done
	pf_sink_reset
}

# newsletter TO SUBJECT : bulk mail from the news sender, through SMTP.
newsletter() {
	local from
	from=$(($(wc -l <"$MLOG") + 1))
	pf_send --from $NEWS --to "$1" --header "Subject: $2" \
		--header "List-Unsubscribe: <mailto:unsub@news.example.com>"
	report "$2" "SMTP from $NEWS (bulk on list $LIST, by the envelope rule)" \
		"$from" $(echo "$1" | tr ',' ' ')
}

echo
echo "${B}Messages${N}"
newsletter alice@example.com "Newsletter to an opted-in reader"
newsletter bob@example.com "Newsletter to a confirmed (double opt-in) reader"
newsletter carol@example.com "Newsletter to a reader who unsubscribed"
newsletter dave@example.com "Newsletter to someone who never opted in"
newsletter erin@example.com "Newsletter to an address that hard-bounced"
newsletter alice@example.com,carol@example.com,dave@example.com \
	"One newsletter, three recipients"

from=$(($(wc -l <"$MLOG") + 1))
pf_send --from receipts@shop.example.com --to carol@example.com \
	--header "Subject: Your order 1042"
report "Order receipt to the reader who unsubscribed" \
	"SMTP from receipts@shop.example.com (no rule, no list header: transactional)" \
	"$from" carol@example.com

# A cron job sends one message per recipient, as a personal
# List-Unsubscribe needs: the filter can then stop one without a removal
# (Postfix shows a sendmail(1) filter the rewritten recipient but removes
# by the original, so a removal there is never sure).
from=$(($(wc -l <"$MLOG") + 1))
for to in bob@example.com dave@example.com; do
	printf 'From: %s\nTo: %s\nSubject: %s\n\nHello.\n' \
		"$NEWS" "$to" "Newsletter from a cron job" |
		pf_sendmail -f "$NEWS" "$to" || die "sendmail(1) failed"
done
report "Newsletter from a cron job, one message per recipient" \
	"sendmail(1) -f $NEWS (non_smtpd_milters: never a refusal; a denied one is discarded)" \
	"$from" bob@example.com dave@example.com

cat <<EOF

${D}Every decision is one log line (syslog, facility mail; here the
filter runs with -f and logs to stderr).  Change the store while the
filter runs, e.g.
    consentctl -c CONFIG unsubscribe alice@example.com --list $LIST
and the next message sees it: no reload, no postmap.${N}

EOF
printf 'Stopping consent-milter (it lets sessions in flight finish), Postfix and the sink... '
pf_kill_bg consent-milter TERM 10
pf_stop
echo "done."
grep -h 'stopping: [0-9]' "$MLOG" | sed 's/^consent-milter: /  consent-milter /'
[ "${PF_KEEP:-0}" = 1 ] && echo "Kept $W (configuration, logs, delivered copies in sink/)."
pf_teardown 0 2>/dev/null
exit 0
