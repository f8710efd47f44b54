#!/bin/sh
# test_miltertest.sh - the real consent-milter daemon, driven by miltertest.
#
# Builds nothing: the binaries come from $TOP/$BUILD (MILTER and CONSENTCTL
# override them).  Makes a scratch directory and a consent store with
# consentctl, writes one configuration per daemon under test, starts each
# daemon in the foreground with its stderr (its log, and any sanitizer
# report) kept in a file, runs the Lua scripts of tests/milter against them
# with "miltertest -s", then stops every daemon with SIGTERM: each must exit
# within a few seconds with status 0, and no log may hold a sanitizer
# report.  The text of the replies to RCPT, which miltertest does not show,
# is read with a few lines of python3 speaking the milter protocol.  Runs
# as any user (as root too: the daemons keep the current user).
#
# Each script prints one line per assertion and "N passed, M failed" last;
# this runner adds them up with its own checks and prints
# "N passed, M failed" as its last line (exit 1 on any failure).
# VERBOSE=1 shows every assertion; KEEP=1 keeps the scratch directory
# (it is also kept, and named, when something failed); ONLY="a.lua b.lua"
# runs only those scripts.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) B=$BUILD ;; *) B=$TOP/$BUILD ;; esac
MILTER=${MILTER:-$B/consent-milter}
CONSENTCTL=${CONSENTCTL:-$B/consentctl}
HERE=$TOP/tests/milter
# shellcheck source=tests/lib/assert.sh
. "$TOP/tests/lib/assert.sh"

start_time=$(date +%s)

die() {
	echo "test_miltertest.sh: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}
command -v miltertest >/dev/null 2>&1 || die "miltertest is not installed (make deps)"
# Debian's python3 (for the replies to RCPT), rather than any shim first
# in PATH.
if [ -z "${PYTHON:-}" ]; then
	if [ -x /usr/bin/python3 ]; then PYTHON=/usr/bin/python3; else PYTHON=python3; fi
fi
command -v "$PYTHON" >/dev/null 2>&1 || die "python3 is not installed (make deps)"
[ -x "$MILTER" ] || die "no milter at $MILTER (build it first)"
[ -x "$CONSENTCTL" ] || die "no consentctl at $CONSENTCTL (build it first)"

# A short directory: a unix socket path has room for 107 octets.
W=$(mktemp -d /tmp/cm-mt.XXXXXX) || die "mktemp failed"
INSTANCES=""

cleanup() {
	for i in $INSTANCES; do
		eval "p=\${pid_$i:-}"
		[ -n "$p" ] && kill -KILL "$p" 2>/dev/null
	done
	if [ "${KEEP:-0}" = 1 ] || [ "$T_FAIL" -ne 0 ]; then
		echo "scratch directory kept: $W" >&2
	else
		rm -rf "$W"
	fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- configurations ---------------------------------------------------------

# conf NAME STORE [MODEL [DOUBLE_OPT_IN [MILTER]]] : write $W/NAME.conf for
# the daemon NAME, listening on $W/NAME.sock, on the store STORE, with this
# consent model (opt-in), double opt-in (false) and extra milter settings.
conf() {
	cat >"$W/$1.conf" <<EOF
# $1: written by tests/milter/test_miltertest.sh
store: {
	path = "$2";
};
policy: {
	model = "${3:-opt-in}";
	double_opt_in = ${4:-false};
	default_list = "default";
};
milter: {
	socket = "unix:$W/$1.sock";
	user = "";
	socket_group = "";
	shutdown_timeout = 5;
	${5:-}
};
classify: {
	list_header = "X-Consent-List";
	strip_list_header = true;
	list_id = true;
	precedence = true;
	rules = (
		{ sender = "receipts@news.example.com"; class = "transactional"; },
		{ sender_domain = "news.example.com"; list = "news"; },
		{ sender_domain = ".promo.example.com"; list = "promo"; },
		{ sender = "digest@example.com"; list = "news"; },
		{ sasl_login = "mailer"; list = "news"; },
		{ daemon_name = "bulk-submission"; list = "news"; },
		{ sender_domain = "shop.example.com"; class = "transactional"; },
		{ sender_domain = "plain.example.com"; }
	);
};
audit: {
	file = "$W/$1.audit";
	pseudonymize = false;
};
actions: {
	default = "reject";
	unsubscribed = "drop";
	unsubscribed_all = "drop";
	soft_bounce = "drop";
	hard_bounce = "redirect";
	complaint = "tag";
	manual = "quarantine";
	redirect_to = "hold@example.org";
};
EOF
}

S=$W/store
conf main "$S"
conf hup "$S"
conf optout "$S" opt-out
conf doi "$S" opt-in true
conf limits "$S" opt-in false \
    'one_recipient_per_message = true; max_recipients = 3;'
conf late "$W/late-store"
conf corrupt "$W/bad-store"
conf moved "$W/moved-store"
# audit_fail.lua: audit.fail_closed true and false, on the main store.
conf auditfc "$S"
conf auditfo "$S"
sed -i 's/pseudonymize = false;/pseudonymize = false; fail_closed = true;/' "$W/auditfc.conf"
sed -i 's/pseudonymize = false;/pseudonymize = false; fail_closed = false;/' "$W/auditfo.conf"
# The configuration that signals.lua swaps in with SIGUSR1: never opted in
# is tagged instead of refused.
sed 's/default = "reject";/default = "reject"; no_consent = "tag";/' \
    "$W/main.conf" >"$W/main-tag.conf"
cp "$W/main.conf" "$W/main-orig.conf"

# --- the store ----------------------------------------------------------------

ctl() {
	if ! "$CONSENTCTL" -c "$W/main.conf" "$@" >"$W/ctl.out" 2>&1; then
		t_fail "setup: consentctl $*: $(cat "$W/ctl.out")"
		return 1
	fi
}

# Consent changes keep the newest by time, to the second: the setup's are
# dated (2025), so that a change the scripts make now is always newer.
AT1=2025-01-01T00:00:00Z
AT2=2025-01-02T00:00:00Z
ctl init
for a in yes@example.net conf@example.net late@example.net gone@example.net \
    '"odd gone"@example.net' all@example.net bounce@example.net \
    angry@example.net held@example.net soft@example.net old@example.net \
    a@blocked.example a@sub.blocked.example a@corp.example \
    a@mail.corp.example a@othercorp.example; do
	ctl subscribe "$a" --list news --at $AT1
done
ctl confirm conf@example.net --list news --at $AT2
ctl subscribe pend@example.net --list news --pending --at $AT1
ctl subscribe yes@example.net --list news.example.com --at $AT1
ctl subscribe yes@example.net --list default --at $AT1
ctl subscribe fan@example.net --list promo --at $AT1
ctl unsubscribe gone@example.net --list news --at $AT2
ctl unsubscribe '"odd gone"@example.net' --list news --at $AT2
ctl unsubscribe all@example.net --all --at $AT2
ctl suppress bounce@example.net --reason hard_bounce
ctl suppress angry@example.net --reason complaint
ctl suppress held@example.net --reason manual
ctl suppress soft@example.net --reason soft_bounce
ctl suppress old@example.net --reason hard_bounce --at 2020-01-01T00:00:00Z --expires 1d
ctl suppress blocked.example --reason invalid
ctl suppress .corp.example --reason invalid

# moved.lua: a store of its own, which it moves away while the daemon runs.
"$CONSENTCTL" -c "$W/moved.conf" init >/dev/null 2>&1 &&
    "$CONSENTCTL" -c "$W/moved.conf" subscribe yes@example.net --list news \
    --at $AT1 >/dev/null 2>&1 || t_fail "setup: the moved store"

# badrecord.lua: records the daemon cannot read (format 255, newer
# than any build: 2 is this build's own), written with LMDB's own
# mdb_load, so that a lookup fails in an open store.
command -v mdb_load >/dev/null 2>&1 || die "mdb_load is not installed (make deps)"
printf 'bad@example.net\n\\ff\\00\\00\\00\n' | mdb_load -T -s addr "$S" ||
	t_fail "setup: mdb_load of the unreadable record"
# And one that reads as "news" subscribed, with an octet after its end:
# refused as a whole, never read as far as the list and trusted.
printf 'tail@example.net\n\\02\\00\\01\\04news\\02\\00\\01\\02\\01\\00\\00\\00\\00\\55\n' |
    mdb_load -T -s addr "$S" || t_fail "setup: mdb_load of the damaged record"

# A store whose data file is garbage: the daemon must not trust it.
"$CONSENTCTL" -c "$W/corrupt.conf" init >/dev/null 2>&1 ||
	t_fail "setup: consentctl init of the corrupt store"
head -c 65536 /dev/urandom >"$W/bad-store/data.mdb"
# $W/late-store does not exist yet: late.lua makes it while the daemon runs.

# --- daemons ------------------------------------------------------------------

# start NAME : run the daemon NAME in the foreground, stderr to $W/NAME.err.
start() {
	"$MILTER" -c "$W/$1.conf" -f 2>"$W/$1.err" &
	eval "pid_$1=$!"
	INSTANCES="$INSTANCES $1"
}

# wait_ready NAME : its socket is there (10 s at most), the process alive.
wait_ready() {
	eval "p=\$pid_$1"
	n=0
	while [ ! -S "$W/$1.sock" ] && [ $n -lt 100 ]; do
		kill -0 "$p" 2>/dev/null || break
		sleep 0.1
		n=$((n + 1))
	done
	if [ -S "$W/$1.sock" ] && kill -0 "$p" 2>/dev/null; then
		t_ok
	else
		t_fail "daemon $1 did not start: $(tail -n 5 "$W/$1.err")"
		eval "pid_$1="
	fi
}

# stop NAME... : SIGTERM to each; each exits within 5 s with status 0.
stop() {
	for i in "$@"; do
		eval "p=\${pid_$i:-}"
		[ -n "$p" ] && kill -TERM "$p" 2>/dev/null
	done
	n=0
	while [ $n -lt 50 ]; do
		alive=0
		for i in "$@"; do
			eval "p=\${pid_$i:-}"
			[ -n "$p" ] && kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.1
		n=$((n + 1))
	done
	for i in "$@"; do
		eval "p=\${pid_$i:-}"
		[ -n "$p" ] || continue
		if kill -0 "$p" 2>/dev/null; then
			t_fail "daemon $i still running 5 s after SIGTERM"
			kill -KILL "$p" 2>/dev/null
		fi
		wait "$p"
		st=$?
		eval "pid_$i="
		t_eq "$st" 0 "daemon $i: exit status after SIGTERM"
	done
}

# sanitizer NAME : the daemon's stderr holds no sanitizer report.
sanitizer() {
	if grep -q -e 'ERROR: AddressSanitizer' -e 'runtime error:' \
	    -e 'LeakSanitizer' "$W/$1.err"; then
		t_fail "daemon $1: sanitizer report in its stderr:
$(grep -A 30 -e 'ERROR: AddressSanitizer' -e 'runtime error:' \
    -e 'LeakSanitizer' "$W/$1.err" | head -n 60)"
	else
		t_ok
	fi
}

# --- scripts ------------------------------------------------------------------

RAN=""

# run NAME SCRIPT [VAR=VALUE...] : SCRIPT against the daemon NAME.
run() {
	name=$1
	script=$2
	shift 2
	if [ -n "${ONLY:-}" ]; then
		case " $ONLY " in *" $script "*) ;; *) return ;; esac
	fi
	RAN="$RAN $script"
	eval "p=\${pid_$name:-}"
	if [ -z "$p" ]; then
		t_fail "$script: daemon $name is not running"
		return
	fi
	out=$W/$script.$name.out
	t0=$(date +%s)
	env MT_LIB="$HERE/mtlib.lua" MT_SOCK="unix:$W/$name.sock" \
	    MT_LOG="$W/$name.err" MT_AUDIT="$W/$name.audit" \
	    MT_CTL="$CONSENTCTL -c $W/$name.conf" MT_PID="$p" \
	    MT_CONF="$W/$name.conf" "$@" \
	    miltertest -s "$HERE/$script" >"$out" 2>&1
	rc=$?
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$out" | tail -n 1)
	np=$(echo "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
	nf=$(echo "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed$/\1/p')
	np=${np:-0}
	nf=${nf:-0}
	if [ -z "$line" ] || { [ "$rc" -ne 0 ] && [ "$nf" -eq 0 ]; }; then
		nf=$((nf + 1))
		echo "FAIL - $script: miltertest exited $rc without its counts" >>"$out"
	fi
	T_PASS=$((T_PASS + np))
	T_FAIL=$((T_FAIL + nf))
	# A script's skips are the suite's (tests/run-all.sh counts them).
	grep '^skipped: ' "$out"
	if [ "$nf" -ne 0 ]; then
		printf '%-22s %-8s %3d passed, %d failed (%ds)\n' "$script" "$name" \
		    "$np" "$nf" $(($(date +%s) - t0))
		grep -v '^ok - ' "$out" | sed 's/^/    /'
		echo "    --- the end of $W/$name.err:"
		tail -n 15 "$W/$name.err" | sed 's/^/    /'
	else
		printf '%-22s %-8s %3d passed (%ds)\n' "$script" "$name" "$np" \
		    $(($(date +%s) - t0))
		if [ "${VERBOSE:-0}" = 1 ]; then
			sed 's/^/    /' "$out"
		else
			# Known bugs (and fixed ones) stay visible.
			grep -e '^xfail - ' -e '^XPASS - ' "$out" | sed 's/^/    /'
		fi
	fi
}

# replies NAME SENDER [MACRO=VALUE...] -- RCPT... : the daemon NAME's reply
# to each RCPT of one message, a line each: "c" (continue) or "y CODE XCODE
# TEXT" (smfi_setreply).  The MAIL macros name the MTA Postfix (v) unless
# a v=... is given.  miltertest shows the text of a reply only at end
# of message (MT_SMTPREPLY), so this speaks the milter protocol itself.
replies() {
	"$PYTHON" - "$W/$1.sock" "$@" <<'PY'
import socket, struct, sys

path, sender = sys.argv[1], sys.argv[3]
args = sys.argv[4:]
sep = args.index("--")
macros, rcpts = args[:sep], args[sep + 1:]
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(path)

def send(cmd, data=b""):
    s.sendall(struct.pack(">I", len(data) + 1) + cmd + data)

def read(n):
    b = b""
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            raise EOFError("the daemon closed the connection")
        b += c
    return b

def recv():
    n = struct.unpack(">I", read(4))[0]
    body = read(n)
    return body[:1], body[1:]

# Version 6, every action, every protocol option: the daemon picks.
send(b"O", struct.pack(">III", 6, 0x1FF, 0x1FFFFF))
cmd, data = recv()
proto = struct.unpack(">III", data[:12])[2]
m = b"M{mail_addr}\0" + sender.encode() + b"\0"
if not any(kv.startswith("v=") for kv in macros):
    macros = ["v=Postfix 3.7.11"] + macros
for kv in macros:
    k, v = kv.split("=", 1)
    m += k.encode() + b"\0" + v.encode() + b"\0"
send(b"D", m)
send(b"M", sender.encode() + b"\0")
if not proto & 0x4000:          # SMFIP_NR_MAIL
    recv()
for r in rcpts:
    send(b"R", r.encode() + b"\0")
    cmd, data = recv()
    text = data.rstrip(b"\0").decode()
    print(cmd.decode() + (" " + text if cmd == b"y" else ""))
send(b"A")
send(b"Q")
PY
}

# expect_replies NAME SENDER [MACRO=VALUE...] -- RCPT=WANTED...
# (Its variables start with r_: sh has no local variables.)
expect_replies() {
	r_name=$1
	r_sender=$2
	shift 2
	r_macros=""
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		r_macros="$r_macros $1"
		shift
	done
	shift
	r_rcpts=""
	for r_x in "$@"; do
		r_rcpts="$r_rcpts ${r_x%%=*}"
	done
	# shellcheck disable=SC2086
	if ! replies "$r_name" "$r_sender" $r_macros -- $r_rcpts \
	    >"$W/replies.out" 2>"$W/replies.err"; then
		t_fail "replies from $r_name: $(cat "$W/replies.err")"
		return
	fi
	r_i=1
	for r_x in "$@"; do
		r_got=$(sed -n "${r_i}p" "$W/replies.out")
		t_eq "$r_got" "${r_x#*=}" "daemon $r_name: reply to RCPT ${r_x%%=*}"
		r_i=$((r_i + 1))
	done
}

ALL="main optout doi limits late corrupt hup auditfc auditfo moved"
for i in $ALL; do
	start "$i"
done
for i in $ALL; do
	wait_ready "$i"
done

# The text of the replies to RCPT (before late.lua makes its store).
if [ -z "${ONLY:-}" ]; then
	p0=$T_PASS
	f0=$T_FAIL
	expect_replies main "<news@news.example.com>" -- \
	    "<no@example.net>=y 550 5.7.1 Recipient may not receive bulk mail on list news (no_consent)" \
	    "<yes@example.net>=c" \
	    "<Pend@Example.net>=y 550 5.7.1 Recipient may not receive bulk mail on list news (pending)" \
	    "<a@blocked.example>=y 550 5.7.1 Recipient may not receive bulk mail on list news (invalid)" \
	    "<no-domain>=y 550 5.1.3 Bad recipient address syntax for bulk mail" \
	    "<gone@example.net>=c" \
	    "<bad@example.net>=y 451 4.3.0 Consent store unavailable, try again later"
	expect_replies main "<news@news.example.com>" "{client_addr}=127.0.0.1" \
	    "{client_port}=0" -- "<no@example.net>=c" "<no-domain>=c"
	expect_replies doi "<news@news.example.com>" -- \
	    "<yes@example.net>=y 550 5.7.1 Recipient may not receive bulk mail on list news (unconfirmed)"
	expect_replies limits "<news@news.example.com>" -- "<yes@example.net>=c" \
	    "<conf@example.net>=y 452 4.5.3 One recipient per bulk message, please: each carries its own unsubscribe link"
	expect_replies limits "<news@news.example.com>" -- \
	    "<no+1@example.net>=y 550 5.7.1 Recipient may not receive bulk mail on list news (no_consent)" \
	    "<no+2@example.net>=y 550 5.7.1 Recipient may not receive bulk mail on list news (no_consent)" \
	    "<no+3@example.net>=y 550 5.7.1 Recipient may not receive bulk mail on list news (no_consent)" \
	    "<yes@example.net>=y 452 4.5.3 Too many recipients for one bulk message"
	for i in late corrupt; do
		expect_replies $i "<news@news.example.com>" -- \
		    "<yes@example.net>=y 451 4.3.0 Consent store unavailable, try again later"
		expect_replies $i "<receipts@news.example.com>" -- "<yes@example.net>=c"
	done
	printf '%-22s %-8s %3d passed, %d failed\n' "RCPT reply texts" "(python)" \
	    $((T_PASS - p0)) $((T_FAIL - f0))
fi

run main negotiate.lua
run main rcpt_stage.lua
run main eom_stage.lua
run main addresses.lua
run main nonsmtp.lua
run main macros.lua
run main sendmail.lua
run main abort.lua
run main many.lua
run main livestore.lua
run optout optout.lua
run doi doubleoptin.lua
run limits limits.lua
run late late.lua LATE_CTL="$CONSENTCTL -c $W/late.conf"
run corrupt corrupt.lua
run moved moved.lua MOVED_STORE="$W/moved-store" \
    MOVED_CTL="$CONSENTCTL -c $W/moved.conf"
run main badrecord.lua
run auditfc audit_fail.lua MT_FAIL_CLOSED=1
run auditfo audit_fail.lua MT_FAIL_CLOSED=0
run main signals.lua MT_CONF_TAG="$W/main-tag.conf" \
    MT_CONF_ORIG="$W/main-orig.conf"
run hup hup_race.lua

# Every script in tests/milter ran.
[ -n "${ONLY:-}" ] || for f in "$HERE"/*.lua; do
	s=$(basename "$f")
	[ "$s" = mtlib.lua ] && continue
	case " $RAN " in
	*" $s "*) t_ok ;;
	*) t_fail "$s is not run by test_miltertest.sh" ;;
	esac
done

# Stop them all at once (each takes a moment to leave libmilter's loop).
# shellcheck disable=SC2086
stop $INSTANCES
for i in $INSTANCES; do
	sanitizer "$i"
done

echo "miltertest suite: $(($(date +%s) - start_time)) s"
t_done
