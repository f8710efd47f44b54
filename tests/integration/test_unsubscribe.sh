#!/bin/sh
# shellcheck disable=SC3043,SC2317
# test_unsubscribe.sh - the whole unsubscribe loop through a real, private
# Postfix: consent-milter adds the List-Unsubscribe headers, OpenDKIM signs
# them after it, smtp-sink receives the copy, consent-unsubd takes the
# one-click POST, and the very next message to that person is refused.
# Every result is checked where it counts: at the sink, in the SMTP
# replies and in the store (consentctl check).
#
#   1. the loop: a bulk message (envelope rule) to an opted-in recipient
#      arrives with exactly one List-Unsubscribe (<https:...>, <mailto:...>,
#      one token) and List-Unsubscribe-Post: List-Unsubscribe=One-Click;
#      the token POSTed to consent-unsubd gives 200; the next message to
#      the same person gets 550 5.7.1 at RCPT and nothing reaches the sink.
#      Prints the time from the POST's completion to that refusal.
#   2. existing headers (a lower-case list-unsubscribe, a folded
#      List-Unsubscribe, a List-Unsubscribe-Post) are replaced: exactly one
#      of each at the sink, ours
#   3. two recipients in one message: no List-Unsubscribe at all; with
#      unsubscribe.list_url (SIGUSR1 reload) the list-level link and no
#      List-Unsubscribe-Post; one of two refused at RCPT: the one left gets
#      a token of their own (POSTing it unsubscribes them, not the other)
#   4. DKIM: OpenDKIM signing after consent-milter (smtpd_milters list
#      order) names List-Unsubscribe and List-Unsubscribe-Post in h=, and
#      python3-dkim verifies the delivered copy without DNS, and rejects it
#      once the link is changed ("skipped" when opendkim, opendkim-tools or
#      python3-dkim is not installed).  OpenDKIM's key and configuration
#      live in a directory under /run: it refuses any path with a
#      world-writable directory in it, /var/tmp included.
#   5. a GET of the link changes nothing
#
# Needs root.  Prints "N passed, M failed" last; exits 1 on failure.
# BUILD (default build) names the binaries.  Under a sanitizer build the
# daemons are stopped with SIGTERM (so LeakSanitizer runs) and their stderr
# is checked.  PF_KEEP=1 keeps the test directory.
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
MILTER=$BUILD/consent-milter
UNSUBD=$BUILD/consent-unsubd
CTL=$BUILD/consentctl
# shellcheck source=tests/lib/postfix.sh
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/assert.sh"
. "$TOP/tests/lib/daemons.sh"

URL_RE='https://unsub\.example\.test/u/'
# --- the store, the daemons ---------------------------------------------

ctl() {
	ctl_conf "$CONF" "$@"
}

# ctl_conf CONFIG ARGS... : consentctl with CONFIG, output to its log.
ctl_conf() {
	local c="$1"
	shift
	echo "# consentctl $*" >>"$PF_DIR/log/consentctl.log"
	"$CTL" -c "$c" "$@" >>"$PF_DIR/log/consentctl.log" 2>&1
}

# ctl_says TEXT ARGS... : "consentctl ARGS" prints a line with TEXT.
ctl_says() {
	local want="$1" out
	shift
	out=$("$CTL" -c "$CONF" "$@" 2>&1)
	case "$out" in *"$want"*) return 0 ;; esac
	echo "  consentctl $*: expected '$want' in: $out" >&2
	return 1
}

# log_lacks FILE ERE : no line of FILE matches ERE (case-insensitive).
log_lacks() {
	! grep -iE -- "$2" "$1" >&2
}

# wait_count FILE ERE N : wait (5 s) until FILE has more than N lines ERE.
wait_count() {
	local i=0
	while [ "$(grep -cE -- "$2" "$1")" -le "$3" ]; do
		[ $i -ge 100 ] && return 1
		pf__sleep
		i=$((i + 1))
	done
}

# write_conf [EXTRA-UNSUBSCRIBE-LINES] : the configuration shared by
# consent-milter, consent-unsubd and consentctl.
write_conf() {
	cat >"$CONF.new" <<EOF
store: { path = "$PF_DIR/store"; };
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
	enable = true;
	keys = ( { id = 1; file = "$PF_DIR/keys/1.key"; } );
	url = "https://unsub.example.test/u/%t";
	mailto = "mailto:unsubscribe@example.test?subject=unsubscribe%%20%t";
	listen = "127.0.0.1:0";
	trusted_proxies = "127.0.0.1";
	user = "";
	${1:-}
};
EOF
	mv "$CONF.new" "$CONF"
}

# --- SMTP ----------------------------------------------------------------

# smtp.py PORT FROM RCPT... <MESSAGE : one SMTP transaction, the message
# sent verbatim (lower-case and folded header fields as they are), DATA
# only if a recipient was accepted.  The transcript is in swaks' format,
# for pf_send_reply; "# refused-at NS" gives the wall clock (ns, as
# date +%s%N) at which the first 5xx reply arrived.
write_smtp_py() {
	cat >"$PF_DIR/smtp.py" <<'EOF'
import socket, sys, time
port, sender, rcpts = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
body = sys.stdin.buffer.read().replace(b"\r\n", b"\n").split(b"\n")
if body and body[-1] == b"":
    body.pop()
s = socket.create_connection(("127.0.0.1", port), 30)
f = s.makefile("rb")
refused = None
def reply():
    global refused
    while True:
        line = f.readline().decode("latin-1").rstrip("\r\n")
        if not line:
            print("<** (connection closed)")
            return "000"
        if line[:1] == "5" and refused is None:
            refused = time.time_ns()
        print(("<** " if line[:1] in "45" else "<-  ") + line)
        if len(line) < 4 or line[3] != "-":
            return line[:3]
def cmd(c):
    print(" -> " + c)
    s.sendall(c.encode("latin-1") + b"\r\n")
    return reply()
reply()
cmd("EHLO client.example.org")
if cmd("MAIL FROM:<%s>" % sender) == "250":
    good = [r for r in rcpts if cmd("RCPT TO:<%s>" % r) == "250"]
    if good and cmd("DATA") == "354":
        s.sendall(b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n"
                           for l in body) + b".\r\n")
        reply()
cmd("QUIT")
if refused is not None:
    print("# refused-at %d" % refused)
EOF
}

# send FROM RCPT... <MESSAGE : smtp.py; transcript in PF_SEND_LOG.
send() {
	PF_SEND_LOG=$(mktemp "$PF_DIR/swaks/smtp.XXXXXX") || return 1
	"$PY" "$PF_DIR/smtp.py" "$PF_PORT" "$@" >"$PF_SEND_LOG" 2>&1
}

# message TO SUBJECT [HEADER-LINE...] : a message From news@example.com
# (the DKIM signing domain), CRLF line ends.
message() {
	local to="$1" subj="$2"
	shift 2
	printf 'From: News <news@example.com>\r\nTo: %s\r\nSubject: %s\r\n' \
		"$to" "$subj"
	printf 'Date: %s\r\nMessage-ID: <%s.%s@example.com>\r\n' \
		"$(date -R)" "$$" "$(date +%s%N)"
	for h in "$@"; do printf '%s\r\n' "$h"; done
	printf 'MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n'
	printf 'Hello,\r\n\r\nthis is the news.\r\n'
}

# reply_is CODE : the decisive reply of the last transaction starts with CODE.
reply_is() {
	local got
	got=$(pf_send_reply "$PF_SEND_LOG")
	case "$got" in "$1"*) return 0 ;; esac
	echo "  expected '$1', got '$got' ($PF_SEND_LOG)" >&2
	return 1
}

# rcpt_reply ADDR : the reply to "RCPT TO:<ADDR>" in the last transcript.
rcpt_reply() {
	awk -v want=" -> RCPT TO:<$1>" '
	found && /^<[-*~]+ / { sub(/^<[-*~]+ +/, ""); print; exit }
	$0 == want { found = 1 }' "$PF_SEND_LOG"
}

# expect_rcpt CODE ADDR... : each ADDR got a reply starting with CODE.
expect_rcpt() {
	local want="$1" a got rc=0
	shift
	for a in "$@"; do
		got=$(rcpt_reply "$a")
		case "$got" in
		"$want"*) ;;
		*) echo "  RCPT TO:<$a>: expected '$want', got '$got'" \
			"($PF_SEND_LOG)" >&2
		   rc=1 ;;
		esac
	done
	return $rc
}

# queued : the last transaction ended its DATA with "250 ... queued as".
queued() {
	grep -q '^<-  250 .*queued as' "$PF_SEND_LOG" && return 0
	echo "  not queued: $(pf_send_reply "$PF_SEND_LOG") ($PF_SEND_LOG)" >&2
	return 1
}

# --- the sink ------------------------------------------------------------

# delivered LIST : the queue drains, then the sink's recipients since the
# last pf_sink_reset are exactly the space-separated LIST (sorted).
delivered() {
	local want got
	pf_wait_queue_empty 20 || return 1
	want=$(echo "$1" | tr ' ' '\n' | sed '/^$/d' | sort)
	got=$(pf_sink_recipients | cut -f2 | sort)
	[ "$got" = "$want" ] && return 0
	echo "  expected at the sink: $(echo "$want" | tr '\n' ' ')" >&2
	echo "  received at the sink: $(echo "$got" | tr '\n' ' ')" >&2
	return 1
}

# one_file : the only sink file since the last reset, in SINKF.
one_file() {
	SINKF=$(pf_sink_files)
	[ -n "$SINKF" ] && [ "$(echo "$SINKF" | wc -l)" -eq 1 ] && return 0
	echo "  expected one sink file, got: $SINKF" >&2
	return 1
}

# hdr NAME : the values of header NAME in SINKF (pf_sink_header).
hdr() {
	pf_sink_header "$SINKF" "$1"
}

# hdr_count NAME N : SINKF has exactly N header fields NAME (any case).
hdr_count() {
	local n
	n=$(hdr "$1" | wc -l)
	[ "$n" -eq "$2" ] && return 0
	echo "  $1: $n fields in $SINKF, wanted $2:" >&2
	hdr "$1" | sed 's/^/    /' >&2
	return 1
}

# hdr_is NAME VALUE : SINKF has exactly one NAME, equal to VALUE.
hdr_is() {
	local got
	got=$(hdr "$1")
	[ "$got" = "$2" ] && return 0
	echo "  $1: expected '$2', got '$got' ($SINKF)" >&2
	return 1
}

# our_lu : SINKF has exactly one List-Unsubscribe, ours: the https and
# the mailto URI with one and the same token.  The token is left in TOKEN.
our_lu() {
	local v
	TOKEN=
	hdr_count List-Unsubscribe 1 || return 1
	v=$(hdr List-Unsubscribe)
	TOKEN=$(echo "$v" | sed -n "s|^<$URL_RE\([A-Za-z0-9_-]\{20,\}\)>.*|\1|p")
	if [ -z "$TOKEN" ] || [ "$v" != "<https://unsub.example.test/u/$TOKEN>, <mailto:unsubscribe@example.test?subject=unsubscribe%20$TOKEN>" ]; then
		echo "  not our List-Unsubscribe: '$v' ($SINKF)" >&2
		return 1
	fi
}

# tokens_differ T1 T2 : two tokens, both set, not the same.
tokens_differ() {
	[ -n "$1" ] && [ -n "$2" ] && [ "$1" != "$2" ]
}

# sink_lacks TEXT : no sink file since the reset contains TEXT.
sink_lacks() {
	local f
	f=$(pf_sink_files | tr '\n' ' ')
	[ -n "$f" ] || return 0
	# shellcheck disable=SC2086
	! grep -lF -- "$1" $f >&2
}

# message_part FILE : the message as Postfix delivered it, CRLF line
# ends, without what smtp-sink -d writes before it: its X-Client-Addr,
# X-Client-Proto, X-Helo-Args, X-Mail-Args, X-Rcpt-Args lines and its own
# "Received: ... by sink... (smtp-sink) ..." header (folded).
message_part() {
	awk '
	{ sub(/\r$/, "") }
	st == 0 && /^X-(Client-Addr|Client-Proto|Helo-Args|Mail-Args|Rcpt-Args):/ { next }
	st == 0 && /^Received:/ { st = 1; rcvd = $0; next }
	st == 1 && /^[ \t]/ { rcvd = rcvd "\r\n" $0; next }
	st == 1 { if (rcvd !~ /\(smtp-sink\)/) printf "%s\r\n", rcvd }
	{ st = 2; printf "%s\r\n", $0 }' "$1"
}

# --- DKIM ----------------------------------------------------------------

# dkim_h FILE : the h= tag of FILE's DKIM-Signature, blanks removed.
dkim_h() {
	pf_sink_header "$1" DKIM-Signature | tr -d ' \t' | tr ';' '\n' |
		sed -n 's/^h=//p'
}

# dkim_one : SINKF has one DKIM-Signature, d=example.com, s=sel.
dkim_one() {
	hdr_count DKIM-Signature 1 &&
		hdr DKIM-Signature | tr -d ' \t' | grep -q 'd=example.com;.*s=sel;'
}

# dkim_names_lu : SINKF's DKIM-Signature h= names both headers.
dkim_names_lu() {
	local h
	h=$(dkim_h "$SINKF" | tr '[:upper:]' '[:lower:]')
	case ":$h:" in
	*:list-unsubscribe:*) ;;
	*) echo "  h=$h lacks List-Unsubscribe" >&2; return 1 ;;
	esac
	case ":$h:" in
	*:list-unsubscribe-post:*) ;;
	*) echo "  h=$h lacks List-Unsubscribe-Post" >&2; return 1 ;;
	esac
}

# dkim_verifies [tampered] : python3-dkim verifies SINKF with the TXT
# record opendkim-genkey wrote, without DNS.  With "tampered", the
# List-Unsubscribe URL is changed first and the verification must fail
# (the signature really covers our header).
dkim_verifies() {
	local eml
	eml=$(mktemp "$PF_DIR/log/dkim.XXXXXX") || return 1
	message_part "$SINKF" >"$eml"
	/usr/bin/python3 - "$eml" "$DKTXT" "${1:-}" >&2 <<'EOF'
import sys, dkim
raw = open(sys.argv[1], "rb").read()
txt = open(sys.argv[2], "rb").read().strip()
want = True
if sys.argv[3] == "tampered":
    changed = raw.replace(b"/u/", b"/x/", 1)
    if changed == raw:
        print("  nothing to tamper with in %s" % sys.argv[1])
        sys.exit(1)
    raw, want = changed, False
ok = dkim.verify(raw, dnsfunc=lambda name, timeout=5: txt)
if ok != want:
    print("  dkim.verify: %r for %s (%s)" % (ok, sys.argv[1], sys.argv[3]))
sys.exit(0 if ok == want else 1)
EOF
}

# dkim_setup : key, TXT record and configuration for OpenDKIM in DKDIR,
# a root-owned 0755 directory under /run: OpenDKIM refuses a
# configuration file or key with a world-writable directory anywhere on
# its path, and /var/tmp (where pf_tmpdir makes PF_DIR) is one, sticky bit
# or not.  The key is readable by the opendkim user only.
dkim_setup() {
	local d
	DKDIR=$(mktemp -d /run/consent-dkim.XXXXXX) || return 1
	d=$DKDIR
	mkdir -p "$d/keys" && chmod 0755 "$d" "$d/keys" || return 1
	opendkim-genkey -b 2048 -d example.com -s sel -D "$d/keys" \
		>>"$PF_DIR/log/opendkim-genkey.log" 2>&1 || return 1
	chown opendkim:opendkim "$d/keys/sel.private" &&
		chmod 0600 "$d/keys/sel.private" || return 1
	# sel.txt: sel._domainkey IN TXT ( "v=DKIM1; h=sha256; k=rsa; " "p=..." )
	DKTXT=$d/record.txt
	grep -o '"[^"]*"' "$d/keys/sel.txt" | tr -d '"\n' >"$DKTXT" || return 1
	grep -q '^v=DKIM1;.*k=rsa;.*p=[A-Za-z0-9+/=]\{300,\}$' "$DKTXT" || {
		echo "  odd TXT record: $(cat "$DKTXT")" >&2
		return 1
	}
	DKPORT=$(pf_free_port) || return 1
	dkim_conf && cp "$d/keys/sel.txt" "$PF_DIR/log/" &&
	opendkim -n -x "$d/opendkim.conf" >>"$PF_DIR/log/opendkim.log" 2>&1
}

# dkim_conf : OpenDKIM's configuration for DKPORT, in DKDIR.
dkim_conf() {
	local d=$DKDIR
	cat >"$d/opendkim.conf" <<EOF
Mode			s
Domain			example.com
Selector		sel
KeyFile			$d/keys/sel.private
Socket			inet:$DKPORT@127.0.0.1
UserID			opendkim
SignHeaders		From,To,Subject,Date,Message-ID,List-Unsubscribe,List-Unsubscribe-Post
Canonicalization	relaxed/simple
Syslog			no
EOF
	cp "$d/opendkim.conf" "$PF_DIR/log/"
}

# dkim_cleanup : remove DKDIR (a private key) unless PF_KEEP=1; its
# configuration and TXT record stay in PF_DIR/log for a failed run.
dkim_cleanup() {
	[ -n "$DKDIR" ] && [ -d "$DKDIR" ] || return 0
	if [ "${PF_KEEP:-0}" != 1 ]; then
		rm -rf "$DKDIR"
	else
		echo "kept $DKDIR" >&2
	fi
}

# dkim_listening PID : wait (10 s) until PID itself listens on DKPORT
# (anything else there means the port was taken); 1 once PID is gone.
dkim_listening() {
	local i=0
	while pf__alive "$1" && [ $i -lt 200 ]; do
		ss -Hltnp "( sport = :$DKPORT )" 2>/dev/null |
			grep -q "pid=$1," && return 0
		pf__sleep
		i=$((i + 1))
	done
	return 1
}

# dkim_start : OpenDKIM in the foreground; wait until it listens.  If
# another process took DKPORT since it was picked, pick another (5 tries),
# as pf_start does for Postfix's ports.
dkim_start() {
	local log=$PF_DIR/log/opendkim.log try=0
	while :; do
		pf_bg opendkim opendkim -f -x "$DKDIR/opendkim.conf"
		dkim_listening "$PF_BG_PID" && return 0
		pf_kill_bg opendkim KILL
		try=$((try + 1))
		# OpenDKIM says only "smfi_opensocket() failed": see who is there.
		if [ $try -ge 5 ] || [ -z "$(ss -Hltn "( sport = :$DKPORT )")" ]; then
			echo "  opendkim did not start:" >&2
			sed 's/^/  /' "$log" >&2
			return 1
		fi
		DKPORT=$(pf_free_port) || return 1
		PF__PORTS_USED="$PF__PORTS_USED $DKPORT"
		dkim_conf || return 1
	done
}

# ------------------------------------------------------------------------

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: a private Postfix needs root"
	t_finish pf_teardown
fi
for b in "$MILTER" "$UNSUBD" "$CTL"; do
	[ -x "$b" ] || { t_fail "$b is built"; t_finish pf_teardown; }
done
command -v curl >/dev/null 2>&1 || { t_fail "curl is installed"; t_finish pf_teardown; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
DKIM=1
DKDIR=
for p in opendkim opendkim-tools python3-dkim; do
	dpkg-query -W -f '${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		DKIM=0
done
command -v opendkim >/dev/null 2>&1 && command -v opendkim-genkey \
	>/dev/null 2>&1 && /usr/bin/python3 -c 'import dkim' 2>/dev/null || DKIM=0

start=$(date +%s.%N)
pf_cleanup_trap
pf_at_exit 'for p in $STOPPING; do kill -KILL "$p" 2>/dev/null; done'
# Last added runs first: the daemons are dead before DKDIR goes.
pf_at_exit 'dkim_cleanup'
dir=$(pf_tmpdir consent-unsub) || { t_fail "make a test directory"; t_finish pf_teardown; }
t_check "private instance set up in $dir" pf_setup "$dir" || t_finish pf_teardown
CONF=$PF_DIR/consent.conf
M=$PF_DIR/message.eml
write_smtp_py
mkdir -p "$PF_DIR/keys" && chmod 0700 "$PF_DIR/keys"
t_check "consentctl keygen makes the token key" \
	ctl_conf /dev/null keygen "$PF_DIR/keys/1.key" || t_finish pf_teardown
write_conf
# seed : a store where a..f@example.com opted in to list news.
seed() {
	local a
	ctl init || return 1
	for a in a b c d e f; do
		ctl subscribe "$a@example.com" --list news || return 1
	done
}
t_check "store made and seeded (a..f@example.com opted in to news)" seed ||
	t_finish pf_teardown

MILTERS="unix:$PF_RUN/consent.sock"
if [ $DKIM = 1 ]; then
	t_check "OpenDKIM key, TXT record and configuration (opendkim -n)" \
		dkim_setup || DKIM=0
	if [ $DKIM = 1 ]; then
		t_check "OpenDKIM started (Mode s, inet:$DKPORT@127.0.0.1)" \
			dkim_start || DKIM=0
	fi
	[ $DKIM = 1 ] && MILTERS="$MILTERS, inet:127.0.0.1:$DKPORT"
else
	echo "skipped: 4. DKIM (opendkim, opendkim-tools or python3-dkim not installed)"
fi
t_check "Postfix and sink started" pf_start || t_finish pf_teardown
DAEMON_LOGS="$DAEMON_LOGS $PF_DIR/log/consent-milter.log"
t_check "consent-milter started" pf_daemon_start consent-milter 'listening on' \
	"$MILTER" -c "$CONF" -f || t_finish pf_teardown
DAEMON_LOGS="$DAEMON_LOGS $PF_DIR/log/consent-unsubd.log"
t_check "consent-unsubd started" pf_daemon_start consent-unsubd 'listening on' \
	"$UNSUBD" -c "$CONF" -f || t_finish pf_teardown
UPORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' \
	"$PF_DIR/log/consent-unsubd.log" | head -n 1)
t_check "consent-unsubd listens on a loopback port ($UPORT)" [ -n "$UPORT" ] ||
	t_finish pf_teardown
UBASE=http://127.0.0.1:$UPORT
t_check "Postfix uses both milters, in order: $MILTERS" \
	pf_set_milters "$MILTERS" || t_finish pf_teardown

# --- 1. the loop, 4. DKIM, 5. GET ---------------------------------------
pf_sink_reset
message a@example.com "news, first issue" >"$M"
send news@news.example.com a@example.com <"$M"
t_check "1. bulk to an opted-in recipient: accepted" queued
t_check "1. delivered to a@example.com" delivered a@example.com
one_file || t_fail "exactly one sink file"
t_check "1. exactly one List-Unsubscribe, ours: <https://...> and <mailto:...> with one token" \
	our_lu
t_check "1. List-Unsubscribe-Post: List-Unsubscribe=One-Click, exactly one" \
	hdr_is List-Unsubscribe-Post List-Unsubscribe=One-Click
A_TOKEN=${TOKEN:-}

if [ $DKIM = 1 ]; then
	t_check "4. DKIM: one DKIM-Signature, by d=example.com s=sel" dkim_one
	t_check "4. DKIM: h= names List-Unsubscribe and List-Unsubscribe-Post" \
		dkim_names_lu
	t_check "4. DKIM: python3-dkim verifies the delivered copy" dkim_verifies
	t_check "4. DKIM: ... and fails it once the List-Unsubscribe URL is changed" \
		dkim_verifies tampered
	t_check "4. DKIM: OpenDKIM logged no error" \
		log_lacks "$PF_DIR/log/opendkim.log" 'error|fail|refus|insecure|unsafe'
fi

# 5. A GET of the link (what a mail scanner does) changes nothing.
code=$(curl -s -o "$PF_DIR/log/get.html" -w '%{http_code}' --max-time 10 \
	"$UBASE/u/$A_TOKEN")
t_check "5. GET of the link: 200" [ "$code" = 200 ]
t_check "5. after the GET a@example.com is still allowed (consentctl check)" \
	ctl check a@example.com --list news
pf_sink_reset
message a@example.com "news, after the GET" >"$M"
send news@news.example.com a@example.com <"$M"
t_check "5. after the GET bulk to a@example.com is still accepted" queued
t_check "5. ... and delivered" delivered a@example.com

# 1. One-click POST, then the next message is refused.
code=$(curl -s -o "$PF_DIR/log/post.html" -w '%{http_code}' --max-time 10 \
	-X POST -H 'Content-Type: application/x-www-form-urlencoded' \
	--data-urlencode 'List-Unsubscribe=One-Click' "$UBASE/u/$A_TOKEN")
t_post=$(date +%s%N)
t_check "1. one-click POST of the token from the delivered copy: 200" \
	[ "$code" = 200 ]
pf_sink_reset
message a@example.com "news, second issue" >"$M"
send news@news.example.com a@example.com <"$M"
t_stop=$(sed -n 's/^# refused-at //p' "$PF_SEND_LOG")
t_check "1. the next message to a@example.com: 550 5.7.1 at RCPT" \
	expect_rcpt "550 5.7.1" a@example.com
t_check "1. the refusal names the reason" \
	expect_rcpt "550 5.7.1 Recipient may not receive bulk mail on list news (unsubscribed)" \
	a@example.com
t_check "1. nothing new at the sink" delivered ""
if [ -n "$t_stop" ]; then
	POST_MS=$(( (t_stop - t_post) / 1000000 ))
	echo "time from one-click POST to the first stopped message: $POST_MS ms"
fi
t_check "1. consentctl check: a@example.com denied (unsubscribed)" \
	ctl_says "deny (unsubscribed)" check a@example.com --list news
t_check "1. consentctl show: recorded as source one-click from 127.0.0.1" \
	ctl_says "unsubscribed source=one-click ip=127.0.0.1" show a@example.com

# --- 2. existing List-Unsubscribe headers --------------------------------
pf_sink_reset
message b@example.com "news with their headers" \
	'list-unsubscribe: <https://theirs.example.org/u/lower>' \
	'List-Unsubscribe: <https://theirs.example.org/u/folded>,' \
	'	<mailto:leave@theirs.example.org>' \
	'List-Unsubscribe-Post: List-Unsubscribe=One-Click' >"$M"
send news@news.example.com b@example.com <"$M"
t_check "2. a message with two List-Unsubscribe (one lower-case, one folded) and a List-Unsubscribe-Post: accepted" \
	queued
t_check "2. delivered to b@example.com" delivered b@example.com
one_file || t_fail "exactly one sink file"
t_check "2. exactly one List-Unsubscribe at the sink, ours (token present)" our_lu
B_TOKEN=${TOKEN:-}
t_check "2. exactly one List-Unsubscribe-Post, List-Unsubscribe=One-Click" \
	hdr_is List-Unsubscribe-Post List-Unsubscribe=One-Click
t_check "2. nothing of theirs left (no theirs.example.org anywhere)" \
	sink_lacks theirs.example.org
t_check "2. b@example.com's token is not a@example.com's" \
	tokens_differ "$B_TOKEN" "$A_TOKEN"
if [ $DKIM = 1 ]; then
	t_check "2./4. DKIM: h= names both headers" dkim_names_lu
	t_check "2./4. DKIM: the copy verifies" dkim_verifies
fi

# --- 3. several recipients -----------------------------------------------
pf_sink_reset
message "c@example.com, d@example.com" "news for two" >"$M"
send news@news.example.com c@example.com d@example.com <"$M"
t_check "3. two opted-in recipients, no list_url: accepted" queued
t_check "3. one copy for both at the sink" delivered "c@example.com d@example.com"
one_file || t_fail "exactly one sink file"
t_check "3. no List-Unsubscribe at all" hdr_count List-Unsubscribe 0
t_check "3. no List-Unsubscribe-Post" hdr_count List-Unsubscribe-Post 0
t_check "3. no token link anywhere in the copy" sink_lacks unsub.example.test

write_conf 'list_url = "https://lists.example.test/lists/%l";'
mark=$(grep -c 'configuration reloaded' "$PF_DIR/log/consent-milter.log")
kill -USR1 "$(cat "$PF_RUN/consent-milter.pid")"
t_check "3. unsubscribe.list_url set, consent-milter reloaded (SIGUSR1)" \
	wait_count "$PF_DIR/log/consent-milter.log" 'configuration reloaded' \
	"$mark"
pf_sink_reset
message "c@example.com, d@example.com" "news for two, list link" >"$M"
send news@news.example.com c@example.com d@example.com <"$M"
t_check "3. two recipients with list_url: accepted" queued
t_check "3. one copy for both" delivered "c@example.com d@example.com"
one_file || t_fail "exactly one sink file"
t_check "3. the list-level link, exactly one List-Unsubscribe" \
	hdr_is List-Unsubscribe "<https://lists.example.test/lists/news>"
t_check "3. list-level link: no List-Unsubscribe-Post" \
	hdr_count List-Unsubscribe-Post 0
t_check "3. list-level link: no token link anywhere" sink_lacks unsub.example.test
if [ $DKIM = 1 ]; then
	t_check "3./4. DKIM: the list-level copy verifies" dkim_verifies
fi

# One of two refused at RCPT: the one left gets a token of its own.
ctl unsubscribe f@example.com --list news
pf_sink_reset
message "e@example.com, f@example.com" "news, one refused" >"$M"
send news@news.example.com e@example.com f@example.com <"$M"
t_check "3. one of two (unsubscribed) refused at RCPT with 550 5.7.1" \
	expect_rcpt "550 5.7.1" f@example.com
t_check "3. ... the other accepted" expect_rcpt 250 e@example.com
t_check "3. ... and delivered alone" delivered e@example.com
one_file || t_fail "exactly one sink file"
t_check "3. the one left gets a personal link (one-click), even with list_url" \
	our_lu
t_check "3. ... with List-Unsubscribe-Post" \
	hdr_is List-Unsubscribe-Post List-Unsubscribe=One-Click
E_TOKEN=${TOKEN:-}
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST \
	--data-urlencode 'List-Unsubscribe=One-Click' "$UBASE/u/$E_TOKEN")
t_check "3. POSTing that token: 200" [ "$code" = 200 ]
t_check "3. ... unsubscribes e@example.com (it was e's own token)" \
	ctl_says "deny (unsubscribed)" check e@example.com --list news
t_check "3. ... and nobody else: c@example.com still allowed" \
	ctl check c@example.com --list news
t_check "3. ... and nobody else: d@example.com still allowed" \
	ctl check d@example.com --list news

t_check "no milter warnings in the mail log" \
	log_lacks "$PF_LOG" 'warning:.*milter|milter.*(error|fail)'

# --- stop, sanitizers ----------------------------------------------------
daemon_stop consent-milter
daemon_stop consent-unsubd
[ $DKIM = 1 ] && daemon_stop opendkim
t_check "every daemon exited after SIGTERM" daemons_gone
t_check "no sanitizer report in consent-milter's or consent-unsubd's stderr" \
	sanitizers_quiet
pf_stop
echo "# $(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }') s"
t_finish pf_teardown
