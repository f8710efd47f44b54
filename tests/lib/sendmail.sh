# shellcheck shell=sh disable=SC3043,SC2034,SC2016,SC2119,SC2120
# tests/lib/sendmail.sh - a private Sendmail 8.17 for tests, beside the
# system's Postfix: Debian's sendmail-bin conflicts with postfix (through
# mail-transport-agent), so it is never installed.  Its .debs are fetched
# with "apt-get download" into a cache and unpacked with "dpkg -x" into a
# private prefix; the binary runs from there.  Source it after
# tests/lib/postfix.sh (it uses its smtp-sink, swaks and process helpers,
# and sets the PF_* variables they read) with TOP set to the source tree.
#
#   . tests/lib/postfix.sh; . tests/lib/sendmail.sh
#   sm_prefix || exit 1              # download and unpack once (cached)
#   dir=$(sm_tmpdir)                 # root-owned 0755 dir under /run
#   pf_cleanup_trap                  # stops everything on exit
#   sm_setup "$dir" "$MC_LINES"      # .mc -> .cf (m4), ports; nothing runs
#   pf_at_exit sm_stop               # the daemon gets SIGTERM first
#   sm_start                         # syslog capture, smtp-sink, sendmail -bD
#   pf_send_expect 250 --from a@example.org --to b@example.net
#   sm_wait_queue_empty && pf_sink_recipients
#   printf '...' | sm_sendmail -f a@example.org b@example.net  # its MSP
#
# What the private instance needs, found on Debian 12 (8.17.1.9):
# - the binary (usr/libexec/sendmail/sendmail) is setgid smmsp, so the
#   loader ignores LD_LIBRARY_PATH (libwrap, liblockfile are in the
#   prefix): "chmod g-s" on the private copy;
# - a host name without a domain makes Sendmail wait 60 s before it
#   listens: each Sendmail runs under "unshare -u" with SM_HOSTNAME;
# - Sendmail logs only through syslog(3) and these machines run no syslog
#   daemon: each Sendmail runs under "unshare -m" too, with SM_DIR/dev
#   (the null, zero and random devices, and a socket that
#   tests/lib/syslog_sink.py writes to SM_LOG) mounted on /dev;
# - a unix milter socket under a world-writable directory (/tmp,
#   /var/tmp) is refused as unsafe, so SM_DIR lives under /run;
# - FEATURE(no_default_msa), or a port-587 listener appears;
# - the MSP (sendmail(1), submit.cf) refuses to run as root: it runs as
#   nobody, with its queue SM_DIR/msp owned by nobody.
#
# Layout under SM_DIR: conf/ (mta.mc, mta.cf, submit.mc, submit.cf, ns.sh
# the namespace wrapper), mqueue/ (the MTA's queue), msp/ (the MSP's),
# run/ (pf_bg's pid files; milter sockets go here), log/ (maillog =
# SM_LOG, what Sendmail logs; NAME.log, the output of each pf_bg process,
# sendmail.log the daemon's; Sendmail's own pid file),
# dev/, sink/, swaks/.
# Exported after sm_setup: SM_DIR SM_PORT SM_CF SM_SUBMIT_CF SM_QUEUE
# SM_LOG SM_RUN, and PF_DIR PF_RUN PF_PORT (= SM_PORT) PF_SINKPORT
# PF_SINKDIR PF_LOG (= SM_LOG) for postfix.sh's helpers.  Needs root.

SM_CACHE=${SM_CACHE:-/var/tmp/consent-sendmail-cache}
SM_HOSTNAME=mta.consent-test.invalid
SM_DEBS="sendmail-bin sendmail-base sendmail-cf liblockfile1 libwrap0"
SM_PREFIX=$SM_CACHE/prefix
SM_BIN=$SM_PREFIX/usr/libexec/sendmail/sendmail

# sm__msg TEXT... : a harness diagnostic on stderr.
sm__msg() {
	echo "sendmail.sh: $*" >&2
}

# sm__bare PREFIX COMMAND... : COMMAND with PREFIX's libraries, under its
# own fully qualified host name (else Sendmail sleeps 60 s at start).
sm__bare() {
	local libs="$1/usr/lib/x86_64-linux-gnu"
	shift
	unshare -u sh -c 'hostname "$0" && exec "$@"' "$SM_HOSTNAME" \
		env LD_LIBRARY_PATH="$libs" "$@"
}

# sm__unpack : fetch the .debs (if not cached) and unpack them into a
# fresh prefix, moved into place only when the binary runs and has MILTER.
sm__unpack() {
	local debs="$SM_CACHE/debs" new="$SM_CACHE/prefix.new" d
	mkdir -p "$debs" || return 1
	# apt drops to _apt to download: let it write there.
	id _apt >/dev/null 2>&1 && chown _apt "$debs"
	for d in $SM_DEBS; do
		ls "$debs/${d}_"*.deb >/dev/null 2>&1 && continue
		( cd "$debs" && apt-get download -q "$d" >/dev/null 2>&1 ) ||
		( apt-get update -qq >/dev/null 2>&1 &&
		  cd "$debs" && apt-get download -q "$d" >/dev/null 2>&1 ) || {
			sm__msg "apt-get download $d failed (no network, or no" \
				"Debian package lists?)"
			return 1
		}
	done
	rm -rf "$new" && mkdir -p "$new" || return 1
	for d in "$debs"/*.deb; do
		dpkg -x "$d" "$new" || { sm__msg "dpkg -x $d failed"; return 1; }
	done
	# setgid: the loader would ignore LD_LIBRARY_PATH.
	chmod g-s "$new/usr/libexec/sendmail/sendmail" || return 1
	if ! sm__bare "$new" "$new/usr/libexec/sendmail/sendmail" -d0.1 -bt \
	    -C /dev/null </dev/null 2>&1 | grep -qw MILTER; then
		sm__msg "the unpacked sendmail does not run, or lacks MILTER"
		return 1
	fi
	rm -rf "$SM_PREFIX" && mv "$new" "$SM_PREFIX" &&
		touch "$SM_PREFIX/.ok"
}

# sm_prefix : make sure the private prefix is there (downloads and
# unpacks once; other runs, in parallel too, share the cache).
sm_prefix() {
	local rc
	mkdir -p "$SM_CACHE" || return 1
	[ -f "$SM_PREFIX/.ok" ] && [ -x "$SM_BIN" ] && return 0
	(
		flock 9 || exit 1
		[ -f "$SM_PREFIX/.ok" ] && [ -x "$SM_BIN" ] && exit 0
		sm__unpack
	) 9>"$SM_CACHE/.lock"
	rc=$?
	[ $rc -eq 0 ] || sm__msg "no private Sendmail in $SM_PREFIX"
	return $rc
}

# sm_version : the private Sendmail's version ("8.17.1.9").
sm_version() {
	sm__bare "$SM_PREFIX" "$SM_BIN" -d0.1 -bt -C /dev/null </dev/null 2>&1 |
		sed -n 's/^Version //p'
}

# sm_tmpdir [PREFIX] : make and print a fresh root-owned 0755 directory
# under /run (no world-writable directory on its path: Sendmail checks).
sm_tmpdir() {
	local d
	d=$(mktemp -d "/run/${1:-consent-sendmail}.XXXXXX") || return 1
	chmod 0755 "$d" && echo "$d"
}

# sm__write_mta_mc MILTER_LINES : the MTA's .mc; the site part here, the
# filter's lines (the README's, as given) last but for the mailers.
sm__write_mta_mc() {
	cat >"$SM_DIR/conf/mta.mc" <<EOF
divert(-1)
# Private test instance (tests/lib/sendmail.sh).  Not the system's MTA.
divert(0)dnl
include(\`$SM_PREFIX/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(\`consent-milter test MTA')dnl
OSTYPE(\`linux')dnl
undefine(\`ALIAS_FILE')dnl
define(\`QUEUE_DIR', \`$SM_QUEUE')dnl
define(\`confPID_FILE', \`$SM_DIR/log/sendmail.pid')dnl
define(\`STATUS_FILE', \`$SM_DIR/log/sendmail.st')dnl
define(\`confHELP_FILE', \`')dnl
define(\`confDELIVERY_MODE', \`background')dnl
define(\`confDONT_PROBE_INTERFACES', \`True')dnl
define(\`confLOG_LEVEL', \`9')dnl
define(\`confTO_QUEUERETURN', \`1h')dnl
dnl A loaded test machine must not make Sendmail refuse or queue mail
dnl (its defaults refuse connections at a load of 12 per CPU).
define(\`confREFUSE_LA', \`100000')dnl
define(\`confQUEUE_LA', \`100000')dnl
define(\`confDELAY_LA', \`0')dnl
define(\`SMART_HOST', \`[127.0.0.1]')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $PF_SINKPORT')dnl
FEATURE(\`no_default_msa')dnl
FEATURE(\`nocanonify')dnl
FEATURE(\`accept_unresolvable_domains')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT, Addr=127.0.0.1, Name=MTA')dnl
DAEMON_OPTIONS(\`Port=$SM_PORT2, Addr=127.0.0.1, Name=bulk-submission')dnl
$1
MAILER(\`local')dnl
MAILER(\`smtp')dnl
EOF
}

# sm__write_submit_mc : the MSP's .mc (what sendmail(1) reads): it hands
# mail over SMTP to the MTA on SM_PORT, as Debian's submit.mc does on 25.
sm__write_submit_mc() {
	cat >"$SM_DIR/conf/submit.mc" <<EOF
divert(-1)
# Private test MSP (tests/lib/sendmail.sh).
divert(0)dnl
include(\`$SM_PREFIX/usr/share/sendmail/cf/m4/cf.m4')dnl
VERSIONID(\`consent-milter test MSP')dnl
define(\`confCF_VERSION', \`Submit')dnl
define(\`__OSTYPE__',\`')dnl
define(\`confTIME_ZONE', \`USE_TZ')dnl
define(\`confDONT_INIT_GROUPS', \`True')dnl
define(\`confRUN_AS_USER', \`nobody')dnl
define(\`confQUEUE_LA', \`100000')dnl
define(\`confREFUSE_LA', \`100000')dnl
define(\`MSP_QUEUE_DIR', \`$SM_DIR/msp')dnl
define(\`confPID_FILE', \`$SM_DIR/msp/sm-client.pid')dnl
define(\`STATUS_FILE', \`$SM_DIR/msp/sm-client.st')dnl
define(\`confLOG_LEVEL', \`9')dnl
define(\`RELAY_MAILER_ARGS', \`TCP \$h $SM_PORT')dnl
FEATURE(\`msp', \`[127.0.0.1]')dnl
EOF
}

# sm__write_ns : the wrapper every Sendmail process runs under, inside
# "unshare -u -m": its own host name, its own /dev with SM_DIR/dev/log.
sm__write_ns() {
	local n
	for n in null zero full random urandom; do
		: >"$SM_DIR/dev/$n" || return 1
	done
	cat >"$SM_DIR/conf/ns.sh" <<EOF
#!/bin/sh
# ns.sh COMMAND... : COMMAND as the private Sendmail (tests/lib/sendmail.sh).
hostname $SM_HOSTNAME || exit 1
for n in null zero full random urandom; do
	mount --bind /dev/\$n $SM_DIR/dev/\$n || exit 1
done
mount --rbind $SM_DIR/dev /dev || exit 1
LD_LIBRARY_PATH=$SM_PREFIX/usr/lib/x86_64-linux-gnu
export LD_LIBRARY_PATH
exec "\$@"
EOF
	chmod 0755 "$SM_DIR/conf/ns.sh"
}

# sm__m4 NAME : conf/NAME.mc -> conf/NAME.cf; m4's complaints on stderr.
sm__m4() {
	if ! m4 "$SM_DIR/conf/$1.mc" >"$SM_DIR/conf/$1.cf" 2>"$SM_DIR/log/m4.log" ||
	    [ -s "$SM_DIR/log/m4.log" ]; then
		sm__msg "m4 $1.mc:"
		cat "$SM_DIR/log/m4.log" >&2
		return 1
	fi
}

# sm_setup DIR [MC_LINES] : a private instance in DIR (from sm_tmpdir);
# MC_LINES (the filter's lines for sendmail.mc) go into the MTA's .mc.
# Nothing is started.
sm_setup() {
	[ -d "$1" ] || { sm__msg "sm_setup: $1 is not a directory"; return 1; }
	SM_DIR=$(cd "$1" && pwd -P) || return 1
	SM_RUN=$SM_DIR/run
	SM_QUEUE=$SM_DIR/mqueue
	SM_LOG=$SM_DIR/log/maillog
	SM_CF=$SM_DIR/conf/mta.cf
	SM_SUBMIT_CF=$SM_DIR/conf/submit.cf
	PF_DIR=$SM_DIR
	PF_RUN=$SM_RUN
	PF_SINKDIR=$SM_DIR/sink
	PF_LOG=$SM_LOG
	PF__PORTS_USED=
	PF__TORN=0
	SM_PORT=$(pf_free_port) || return 1
	PF__PORTS_USED="$PF__PORTS_USED $SM_PORT"
	SM_PORT2=$(pf_free_port) || return 1
	PF__PORTS_USED="$PF__PORTS_USED $SM_PORT2"
	PF_SINKPORT=$(pf_free_port) || return 1
	PF__PORTS_USED="$PF__PORTS_USED $PF_SINKPORT"
	PF_PORT=$SM_PORT
	SM_MILTER_MC=${2:-}
	export SM_DIR SM_PORT SM_PORT2 SM_CF SM_SUBMIT_CF SM_QUEUE SM_LOG SM_RUN \
		PF_DIR PF_RUN PF_PORT PF_SINKPORT PF_SINKDIR PF_LOG
	chmod 0755 "$SM_DIR" || return 1
	mkdir -p "$SM_DIR/conf" "$SM_QUEUE" "$SM_DIR/msp" "$SM_RUN" \
		"$SM_DIR/log" "$SM_DIR/dev" "$PF_SINKDIR" "$SM_DIR/swaks" ||
		return 1
	chmod 0700 "$SM_QUEUE" && chmod 0755 "$SM_RUN" "$SM_DIR/dev" &&
		chown nobody "$SM_DIR/msp" && chmod 0700 "$SM_DIR/msp" &&
		chown postfix "$PF_SINKDIR" || return 1
	: >"$SM_LOG" && : >"$SM_DIR/log/sendmail.st" || return 1
	sm__write_mta_mc "$SM_MILTER_MC" && sm__m4 mta &&
		sm__write_submit_mc && sm__m4 submit && sm__write_ns
}

# sm_ns COMMAND... : run COMMAND as the private Sendmail runs (its host
# name, its /dev/log, its libraries).
sm_ns() {
	unshare -u -m "$SM_DIR/conf/ns.sh" "$@"
}

# sm__daemon_pid : the pid of the running daemon (pf_bg's pid file:
# unshare and ns.sh exec it, so it is Sendmail's own).
sm__daemon_pid() {
	local pid
	pid=$(head -n 1 "$SM_RUN/sendmail.pid" 2>/dev/null)
	[ -n "$pid" ] && pf__alive "$pid" && echo "$pid"
}

# sm_start : start the syslog capture, the sink (postfix.sh's) and the
# daemon, each unless it runs; wait until the daemon listens on both
# ports.  A port taken meanwhile (by a parallel run) is picked again.
sm_start() {
	local try=0
	if ! pf__alive "$(cat "$SM_RUN/syslog.pid" 2>/dev/null)"; then
		pf_bg syslog /usr/bin/python3 "$TOP/tests/lib/syslog_sink.py" \
			"$SM_DIR/dev/log" "$SM_LOG"
		pf_wait_file "$SM_DIR/dev/log" 5 || return 1
	fi
	if ! pf__alive "$(cat "$SM_RUN/sink.pid" 2>/dev/null)"; then
		until pf__start_sink; do
			pf_kill_bg sink KILL
			try=$((try + 1))
			if [ $try -ge 5 ] ||
			    ! grep -q 'in use' "$SM_DIR/log/sink.log"; then
				sm__msg "smtp-sink did not start;" \
					"see $SM_DIR/log/sink.log"
				return 1
			fi
			PF_SINKPORT=$(pf_free_port) || return 1
			PF__PORTS_USED="$PF__PORTS_USED $PF_SINKPORT"
			sm__write_mta_mc "$SM_MILTER_MC" && sm__m4 mta || return 1
		done
	fi
	sm__daemon_pid >/dev/null && return 0
	try=0
	while :; do
		pf_bg sendmail unshare -u -m "$SM_DIR/conf/ns.sh" "$SM_BIN" -bD \
			-C "$SM_CF"
		pf_wait_port "$SM_PORT" 10 2>/dev/null &&
			pf_wait_port "$SM_PORT2" 2 2>/dev/null && return 0
		pf_kill_bg sendmail KILL 2
		try=$((try + 1))
		if [ $try -ge 5 ] || ! grep -q 'Address already in use' \
		    "$SM_LOG" "$SM_DIR/log/sendmail.log" 2>/dev/null; then
			sm__msg "sendmail did not start; the end of its logs:"
			tail -n 5 "$SM_DIR/log/sendmail.log" "$SM_LOG" >&2
			return 1
		fi
		SM_PORT=$(pf_free_port) && SM_PORT2=$(pf_free_port) || return 1
		PF__PORTS_USED="$PF__PORTS_USED $SM_PORT $SM_PORT2"
		PF_PORT=$SM_PORT
		sm__write_mta_mc "$SM_MILTER_MC" && sm__m4 mta &&
			sm__write_submit_mc && sm__m4 submit || return 1
	done
}

# sm_set_milter_mc MC_LINES : the filter's .mc lines are now MC_LINES
# (another socket, other flags); a running daemon is restarted with them.
sm_set_milter_mc() {
	SM_MILTER_MC=$1
	sm__write_mta_mc "$SM_MILTER_MC" && sm__m4 mta || return 1
	if sm__daemon_pid >/dev/null; then
		pf_kill_bg sendmail TERM 10
		sm_start
	fi
}

# sm_stop : stop the daemon (SIGTERM; it ends its children), the sink and
# the syslog capture, and wait until they are gone.  Safe to call twice,
# and from a trap.
sm_stop() {
	[ -n "${SM_DIR:-}" ] || return 0
	pf_kill_bg sendmail TERM 10
	pf_kill_bg sink
	pf_kill_bg syslog
	return 0
}

# sm_sendmail ARGS... : Sendmail's own sendmail(1) command line: the
# message on stdin goes to the MSP (submit.cf), which hands it to the MTA
# over SMTP at once (confDELIVERY_MODE interactive, as FEATURE(msp) sets).
sm_sendmail() {
	sm_ns "$SM_BIN" -C "$SM_SUBMIT_CF" "$@"
}

# sm_mailq [ARGS...] : the MTA's queue as mailq(1) lists it ("-qQ": the
# quarantined messages).
sm_mailq() {
	sm_ns "$SM_BIN" -C "$SM_CF" -bp "$@"
}

# sm_queue_count : messages waiting in the MTA's and the MSP's queues
# (qf files; a quarantined message is an hf file, and not counted).
sm_queue_count() {
	find "$SM_QUEUE" "$SM_DIR/msp" -name 'qf*' -type f 2>/dev/null | wc -l
}

# sm_held_count : quarantined messages (hf files) in the MTA's queue.
sm_held_count() {
	find "$SM_QUEUE" -name 'hf*' -type f 2>/dev/null | wc -l
}

# sm_wait_queue_empty [TIMEOUT] : wait (default 30 s) until both queues
# are empty: then the sink has every delivered file complete (Sendmail
# removes a queue file only after the sink's 250).  On timeout, list the
# queue and return 1.
sm_wait_queue_empty() {
	local i=0 max=$(( ${1:-30} * 20 ))
	while [ "$(sm_queue_count)" -ne 0 ]; do
		if [ $i -ge $max ]; then
			sm__msg "queue not empty after ${1:-30} s:"
			sm_mailq >&2
			return 1
		fi
		pf__sleep
		i=$((i + 1))
	done
	return 0
}
