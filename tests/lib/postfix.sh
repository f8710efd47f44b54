# shellcheck shell=sh disable=SC3043
# tests/lib/postfix.sh - a private Postfix instance for tests, benchmarks
# and the demo.  Source it from sh (dash) or bash; it sets no shell options
# and uses nothing beyond POSIX sh but "local".
#
#   . tests/lib/postfix.sh
#   dir=$(pf_tmpdir)                 # root-owned 0755 dir under /var/tmp
#   pf_cleanup_trap                  # stop everything on exit, even on ^C
#   pf_setup "$dir"                  # config, queue, ports; nothing runs yet
#   pf_set_milters "unix:$dir/run/m.sock"   # optional, before pf_start
#   pf_start                         # smtp-sink, then Postfix
#   pf_send_expect 250 --from a@example.org --to b@example.net
#   pf_wait_queue_empty && pf_sink_recipients
#
# Layout under PF_DIR: conf/ (main.cf, master.cf), queue/, data/, log/
# (maillog, sink.log, NAME.log of pf_bg processes), run/ (pid files; a
# good place for milter sockets: 0755, reachable by postfix), sink/ (one
# file per delivered transaction), swaks/ (one transcript per pf_send).
#
# Exported after pf_setup: PF_DIR PF_CONF PF_QUEUE PF_PORT PF_SINKPORT
# PF_SINKDIR PF_LOG PF_RUN.  PF_PORT/PF_SINKPORT may change inside pf_start
# if another process grabbed a port first: read them after pf_start.
#
# One instance per shell (the PF_* variables); use a subshell for two.
# Needs root (Postfix's master, smtp-sink -u, and sendmail -C with a
# non-default config directory all do).  Postfix commands print errors
# only to PF_LOG when stderr is not a terminal: look there first.
# A shell runs its traps only after the foreground command ends: wait
# with "sleep N & wait $!" if a script must stay interruptible.

PF_HOSTNAME=mta.consent-test.invalid	# Postfix's myhostname
PF_SINKNAME=sink.consent-test.invalid	# smtp-sink greeting: must differ
PF_POSTFIX_PATH=/usr/sbin:/usr/bin:/sbin:/bin
PF_SEND_LOG=				# transcript of the last pf_send

# pf__msg TEXT... : a harness diagnostic on stderr.
pf__msg() {
	echo "postfix.sh: $*" >&2
}

# pf__sleep : a short poll interval (sleep accepts fractions on Linux).
pf__sleep() {
	sleep 0.05
}

# pf_tmpdir [PREFIX] : make and print a fresh root-owned 0755 directory
# under /var/tmp.  OpenDKIM refuses a key or configuration under any
# directory others may write, /var/tmp too: keep those under /run
# (mktemp -d /run/NAME.XXXXXX), as tests/integration/test_unsubscribe.sh does.
pf_tmpdir() {
	local d
	d=$(mktemp -d "/var/tmp/${1:-consent-test}.XXXXXX") || return 1
	chmod 0755 "$d" && echo "$d"
}

# pf_free_port : print a TCP port that nothing listens on.  Picked at
# random below the kernel's ephemeral range, so that parallel runs rarely
# collide; pf_start re-picks if a port is taken by the time it binds.
pf_free_port() {
	local lo hi p n tries=0
	read -r lo hi 2>/dev/null </proc/sys/net/ipv4/ip_local_port_range ||
		lo=32768
	hi=$((lo - 1))
	lo=10000
	while [ $tries -lt 100 ]; do
		tries=$((tries + 1))
		n=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
		p=$((lo + n % (hi - lo + 1)))
		case " $PF__PORTS_USED " in *" $p "*) continue ;; esac
		if [ -z "$(ss -Htan "( sport = :$p )" 2>/dev/null)" ]; then
			PF__PORTS_USED="$PF__PORTS_USED $p"
			echo "$p"
			return 0
		fi
	done
	pf__msg "no free port found"
	return 1
}

# pf_wait_port PORT [TIMEOUT] : wait until something listens on
# 127.0.0.1:PORT (default 10 s).
pf_wait_port() {
	local i=0 max=$(( ${2:-10} * 20 ))
	while [ $i -lt $max ]; do
		[ -n "$(ss -Hltn "( sport = :$1 )" 2>/dev/null)" ] && return 0
		pf__sleep
		i=$((i + 1))
	done
	pf__msg "nothing listens on port $1 after ${2:-10} s"
	return 1
}

# pf_wait_file PATH [TIMEOUT] : wait until PATH exists (e.g. a milter
# socket); default 10 s.
pf_wait_file() {
	local i=0 max=$(( ${2:-10} * 20 ))
	while [ $i -lt $max ]; do
		[ -e "$1" ] && return 0
		pf__sleep
		i=$((i + 1))
	done
	pf__msg "$1 did not appear after ${2:-10} s"
	return 1
}

# pf__write_master : write master.cf for PF_PORT.  Every service runs
# unchrooted; smtpd listens on loopback only; postlog is kept because the
# mail log goes through postlogd.
pf__write_master() {
	cat >"$PF_CONF/master.cf" <<EOF
# Private test instance (tests/lib/postfix.sh).  chroot is n everywhere.
# service type  private unpriv  chroot  wakeup  maxproc command + args
127.0.0.1:$PF_PORT inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
tlsmgr    unix  -       -       n       1000?   1       tlsmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
EOF
}

# pf__backdate_main : set main.cf's mtime 10 s into the past.  Postfix
# re-reads a config file whose mtime is within the last ~2 s (it may be
# half-written), sleeping 1 s per round: every command would be ~2 s
# slower right after a change.
pf__backdate_main() {
	touch -d "@$(( $(date +%s) - 10 ))" "$PF_CONF/main.cf"
}

# pf_setup DIR : create a private instance in DIR (made by the caller;
# made 0755 here, and every parent must be traversable by postfix).
# Nothing is started.  Exports the PF_* variables.
pf_setup() {
	[ -d "$1" ] || { pf__msg "pf_setup: $1 is not a directory"; return 1; }
	PF_DIR=$(cd "$1" && pwd -P) || return 1
	PF_CONF=$PF_DIR/conf
	PF_QUEUE=$PF_DIR/queue
	PF_SINKDIR=$PF_DIR/sink
	PF_RUN=$PF_DIR/run
	PF_LOG=$PF_DIR/log/maillog
	PF__PORTS_USED=
	PF__TORN=0
	PF_PORT=$(pf_free_port) || return 1
	PF__PORTS_USED="$PF__PORTS_USED $PF_PORT"	# $() ran in a subshell
	PF_SINKPORT=$(pf_free_port) || return 1
	PF__PORTS_USED="$PF__PORTS_USED $PF_SINKPORT"
	export PF_DIR PF_CONF PF_QUEUE PF_PORT PF_SINKPORT PF_SINKDIR PF_LOG \
		PF_RUN

	chmod 0755 "$PF_DIR" || return 1
	mkdir -p "$PF_CONF" "$PF_QUEUE" "$PF_DIR/data" "$PF_DIR/log" \
		"$PF_RUN" "$PF_SINKDIR" "$PF_DIR/swaks" || return 1
	chmod 0755 "$PF_CONF" "$PF_QUEUE" "$PF_DIR/log" "$PF_RUN" &&
		chown postfix "$PF_DIR/data" "$PF_SINKDIR" || return 1
	if ! setpriv --reuid=postfix --regid=postfix --clear-groups \
		test -x "$PF_SINKDIR" 2>/dev/null; then
		pf__msg "pf_setup: user postfix cannot reach $PF_DIR" \
			"(a parent directory is not traversable)"
		return 1
	fi
	: >"$PF_LOG"

	cat >"$PF_CONF/main.cf" <<EOF
# Private test instance (tests/lib/postfix.sh).  Not the system Postfix.
compatibility_level = 3.6
queue_directory = $PF_QUEUE
data_directory = $PF_DIR/data
meta_directory = /etc/postfix
mail_owner = postfix
setgid_group = postdrop
myhostname = $PF_HOSTNAME
mydomain = consent-test.invalid
myorigin = \$myhostname
mydestination =
relay_domains =
local_recipient_maps =
alias_maps =
alias_database =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
relayhost = [127.0.0.1]:$PF_SINKPORT
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
smtputf8_enable = no
biff = no
append_dot_mydomain = no
readme_directory = no
maillog_file = $PF_LOG
maillog_file_prefixes = $PF_DIR
# postlogd's 10 s watchdog kills it when a starved machine (load 100+ in
# a soak) keeps it from one write that long; master then blocks writing
# to the dead daemon's socket and the whole instance stalls.
postlogd_watchdog_timeout = 3600s
# Mail must not sit in the queue: retry within seconds.
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
delay_warning_time = 0
in_flow_delay = 0
smtpd_error_sleep_time = 0
smtp_connect_timeout = 5s
milter_protocol = 6
milter_default_action = tempfail
milter_connect_timeout = 5s
milter_command_timeout = 10s
milter_content_timeout = 30s
smtpd_milters =
non_smtpd_milters =
EOF
	pf__backdate_main
	pf__write_master
}

# pf__master_pid : print the pid of this instance's live master process.
pf__master_pid() {
	local pid
	[ -n "${PF_QUEUE:-}" ] || return 1
	pid=$(tr -d ' ' 2>/dev/null <"$PF_QUEUE/pid/master.pid")
	[ -n "$pid" ] && pf__alive "$pid" && echo "$pid"
}

# pf_running : true when this instance's master process runs.
pf_running() {
	pf__master_pid >/dev/null
}

# pf__reload : make a running master re-read its configuration, and wait
# until it has (its "reload" line appears in the mail log).
pf__reload() {
	local n i=0
	n=$(grep -c 'postfix/master.*: reload' "$PF_LOG")
	PATH=$PF_POSTFIX_PATH postfix -c "$PF_CONF" reload 2>/dev/null || return 1
	while [ $i -lt 200 ]; do
		[ "$(grep -c 'postfix/master.*: reload' "$PF_LOG")" -gt "$n" ] &&
			return 0
		pf__sleep
		i=$((i + 1))
	done
	pf__msg "master did not log its reload"
	return 1
}

# pf_postconf KEY=VALUE... : change main.cf (backdated, see above); if the
# instance runs, reload it and wait for the reload.  Measured: the next
# SMTP connection, even to a previously idle smtpd, sees the change.
pf_postconf() {
	PATH=$PF_POSTFIX_PATH postconf -c "$PF_CONF" -e "$@" || return 1
	pf__backdate_main
	if pf_running; then pf__reload; fi
}

# pf_set_milters "unix:/path, inet:127.0.0.1:N" : use these milters for
# SMTP and for sendmail(1)/pickup mail; empty string removes them.
pf_set_milters() {
	pf_postconf "smtpd_milters = $1" "non_smtpd_milters = $1"
}

# pf_bg NAME COMMAND [ARG...] : run COMMAND in the background, output to
# $PF_DIR/log/NAME.log, pid in $PF_RUN/NAME.pid and in PF_BG_PID; its exit
# status goes to $PF_RUN/NAME.status when it ends (pf_bg_status).  It is
# not a child of the calling shell, so a bare "wait" there does not wait
# for it: a small shell of its own waits for it, reaps it at once and
# records how it ended.  pf_kill_bg stops it; pf_cleanup stops whatever is
# left.
pf_bg() {
	local name="$1" i=0
	shift
	rm -f "$PF_RUN/$name.pid" "$PF_RUN/$name.status"
	( ( "$@" >>"$PF_DIR/log/$name.log" 2>&1 </dev/null &
	    echo $! >"$PF_RUN/$name.pid.new"
	    mv "$PF_RUN/$name.pid.new" "$PF_RUN/$name.pid"
	    wait $!
	    echo $? >"$PF_RUN/$name.status.new"
	    mv "$PF_RUN/$name.status.new" "$PF_RUN/$name.status"
	  ) >/dev/null 2>&1 </dev/null & )
	while [ ! -s "$PF_RUN/$name.pid" ] && [ $i -lt 200 ]; do
		pf__sleep
		i=$((i + 1))
	done
	PF_BG_PID=$(cat "$PF_RUN/$name.pid" 2>/dev/null)
}

# pf_daemon_start NAME READY-ERE COMMAND... : pf_bg NAME COMMAND, then
# wait (up to 200 pf__sleep steps) until its log has a line READY-ERE; 1,
# with the log on stderr, if it died or never said so.
pf_daemon_start() {
	local name="$1" ready="$2" log i=0
	shift 2
	log=$PF_DIR/log/$name.log
	pf_bg "$name" "$@"
	until grep -qE -- "$ready" "$log" 2>/dev/null; do
		if [ $i -ge 200 ] || ! pf__alive "$PF_BG_PID"; then
			echo "  $name did not start:" >&2
			sed 's/^/  /' "$log" >&2
			return 1
		fi
		pf__sleep
		i=$((i + 1))
	done
}

# pf_bg_status NAME [TIMEOUT] : print the exit status of the pf_bg process
# NAME once it has ended (128+N for signal N); wait for it up to TIMEOUT
# seconds (default 10); 1 if it has not ended by then.
pf_bg_status() {
	local i=0 max=$(( ${2:-10} * 20 ))
	while [ ! -s "$PF_RUN/$1.status" ]; do
		[ $i -ge $max ] && return 1
		pf__sleep
		i=$((i + 1))
	done
	cat "$PF_RUN/$1.status"
}

# pf__alive PID : true while PID exists and is not a zombie.  (Zombies
# matter: PID 1 on these machines reaps orphans only every ~2 s.)
pf__alive() {
	local st
	kill -0 "$1" 2>/dev/null || return 1
	st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	case "$st" in Z*|X*) return 1 ;; esac
	return 0
}

# pf__wait_gone PID TIMEOUT : wait until PID has exited; 1 on timeout.
pf__wait_gone() {
	local i=0 max=$(( $2 * 20 ))
	while pf__alive "$1"; do
		[ $i -ge $max ] && return 1
		pf__sleep
		i=$((i + 1))
	done
	return 0
}

# pf_kill_bg NAME [SIGNAL] [TIMEOUT] : stop a pf_bg process and wait until
# it is gone (SIGTERM, 10 s, then SIGKILL).  A libmilter process needs
# 4-5 s after SIGTERM; pass KILL when a quick "milter down" is the point.
pf_kill_bg() {
	local pidf="$PF_RUN/$1.pid" pid
	[ -f "$pidf" ] || return 0
	pid=$(cat "$pidf")
	rm -f "$pidf"
	[ -n "$pid" ] || return 0
	kill -"${2:-TERM}" "$pid" 2>/dev/null
	if ! pf__wait_gone "$pid" "${3:-10}"; then
		pf__msg "$1 ($pid) ignored SIG${2:-TERM}; killing it"
		kill -KILL "$pid" 2>/dev/null
		pf__wait_gone "$pid" 5
	fi
	return 0
}

# pf__start_sink : start smtp-sink on PF_SINKPORT, one file per mail
# transaction under PF_SINKDIR, greeting with PF_SINKNAME.
pf__start_sink() {
	pf_bg sink smtp-sink -u postfix -h "$PF_SINKNAME" \
		-d "$PF_SINKDIR/%Y%m%d%H/%M." "127.0.0.1:$PF_SINKPORT" 256
	pf_wait_port "$PF_SINKPORT" 5 2>/dev/null && pf__alive "$PF_BG_PID"
}

# pf_start : start the sink and Postfix (each unless it runs already),
# wait until both listen.  If a port was taken meanwhile (by a parallel
# run), pick another and retry.
pf_start() {
	local try=0
	if ! pf__alive "$(cat "$PF_RUN/sink.pid" 2>/dev/null)"; then
		until pf__start_sink; do
			pf_kill_bg sink KILL
			try=$((try + 1))
			if [ $try -ge 5 ] ||
			    ! grep -q 'in use' "$PF_DIR/log/sink.log"; then
				pf__msg "smtp-sink did not start;" \
					"see $PF_DIR/log/sink.log"
				return 1
			fi
			PF_SINKPORT=$(pf_free_port) || return 1
			PF__PORTS_USED="$PF__PORTS_USED $PF_SINKPORT"
			pf_postconf "relayhost = [127.0.0.1]:$PF_SINKPORT" ||
				return 1
		done
	fi
	pf_running && return 0
	try=0
	until PATH=$PF_POSTFIX_PATH postfix -c "$PF_CONF" start 2>/dev/null; do
		try=$((try + 1))
		if [ $try -ge 5 ] || ! tail -n 20 "$PF_LOG" |
		    grep -q "port $PF_PORT: Address already in use"; then
			pf__msg "postfix did not start; end of $PF_LOG:"
			tail -n 5 "$PF_LOG" >&2
			return 1
		fi
		PF_PORT=$(pf_free_port) || return 1
		PF__PORTS_USED="$PF__PORTS_USED $PF_PORT"
		pf__write_master
	done
	pf_wait_port "$PF_PORT" 10
}

# pf__session_alive SID : true while a non-zombie process is in session SID.
pf__session_alive() {
	# shellcheck disable=SC2009  # pgrep cannot tell zombies apart
	ps -o stat= -s "$1" 2>/dev/null | grep -qv '^Z'
}

# pf_stop : stop Postfix (master and all its children) and the sink, and
# wait until they are gone.  Safe to call twice, before pf_start, and
# from a trap.
pf_stop() {
	local pid i=0
	[ -n "${PF_DIR:-}" ] || return 0
	if pid=$(pf__master_pid); then
		# SIGTERM to master: it signals its children (all in its
		# session; master is the session leader) and exits.
		kill -TERM "$pid" 2>/dev/null
		while pf__session_alive "$pid"; do
			if [ $i -eq 200 ]; then
				pf__msg "postfix ($pid) still running; SIGKILL"
				kill -KILL -- "-$pid" 2>/dev/null
			fi
			[ $i -ge 300 ] && break
			pf__sleep
			i=$((i + 1))
		done
	fi
	pf_kill_bg sink
	return 0
}

# pf_send SWAKS-ARGS... : one SMTP transaction to the instance with swaks
# (pass at least --to).  Quiet: the transcript goes to a new file whose
# name is left in PF_SEND_LOG.  Returns swaks' exit status (0 = accepted).
pf_send() {
	PF_SEND_LOG=$(mktemp "$PF_DIR/swaks/send.XXXXXX") || return 1
	swaks --server 127.0.0.1 --port "$PF_PORT" --helo client.example.org \
		--timeout 60 "$@" >"$PF_SEND_LOG" 2>&1
}

# pf_send_reply [FILE] : print the decisive server reply of a transcript
# (default: the last pf_send): the first 4xx/5xx reply if any, else the
# reply to the end of DATA.  Multi-line replies give their last line.
pf_send_reply() {
	awk '
	/^<[-*~]+ +[0-9][0-9][0-9][ -]/ {
		sub(/^<[-*~]+ +/, "")
		if ($0 ~ /^221 /) next		# QUIT
		if ($0 ~ /^[0-9][0-9][0-9]-/) next	# not the last line
		if (!bad && $0 ~ /^[45]/) bad = $0
		last = $0
	}
	END { print (bad != "" ? bad : last) }' "${1:-$PF_SEND_LOG}"
}

# pf_send_expect CODE SWAKS-ARGS... : pf_send, then check that the
# decisive reply starts with CODE ("250", "451 4.7.1", "550 5.7.1 ...").
# Prints what came back instead, and the transcript's name, on mismatch.
pf_send_expect() {
	local want="$1" got
	shift
	pf_send "$@"
	got=$(pf_send_reply "$PF_SEND_LOG")
	case "$got" in
	"$want"*) return 0 ;;
	esac
	pf__msg "expected '$want', got '$got' (transcript $PF_SEND_LOG)"
	return 1
}

# pf_sendmail SENDMAIL-ARGS... : inject the message on stdin through this
# instance's sendmail(1)/postdrop/pickup: the non_smtpd_milters path.
pf_sendmail() {
	PATH=$PF_POSTFIX_PATH sendmail -C "$PF_CONF" "$@"
}

# pf_queue_count : number of messages in maildrop, incoming, active and
# deferred (not hold: held mail does not leave by itself).
pf_queue_count() {
	find "$PF_QUEUE/maildrop" "$PF_QUEUE/incoming" "$PF_QUEUE/active" \
		"$PF_QUEUE/deferred" -type f 2>/dev/null | wc -l
}

# pf_wait_queue_empty [TIMEOUT] : wait (default 30 s) until the queue is
# empty.  Then the sink has every delivered file complete: smtp-sink
# closes a file before its 250 reply, and Postfix removes a queue file
# only after that reply.  On timeout print the queue and return 1.
pf_wait_queue_empty() {
	local i=0 max=$(( ${1:-30} * 20 ))
	while [ "$(pf_queue_count)" -ne 0 ]; do
		if [ $i -ge $max ]; then
			pf__msg "queue not empty after ${1:-30} s:"
			PATH=$PF_POSTFIX_PATH postqueue -c "$PF_CONF" -p >&2
			return 1
		fi
		pf__sleep
		i=$((i + 1))
	done
	return 0
}

# pf_sink_files : the sink's files, oldest first, one path per line.
pf_sink_files() {
	find "$PF_SINKDIR" -type f -printf '%T@ %p\n' 2>/dev/null |
		sort -n | cut -d' ' -f2-
}

# pf_sink_recipients : one line "FILE<TAB>recipient" per recipient the
# sink accepted (from its X-Rcpt-Args lines; <> and ESMTP args removed).
pf_sink_recipients() {
	pf_sink_files | while IFS= read -r f; do
		sed -n '/^$/q; s/^X-Rcpt-Args: *<\{0,1\}\([^> ]*\).*/\1/p' "$f" |
			while IFS= read -r r; do
				printf '%s\t%s\n' "$f" "$r"
			done
	done
}

# pf_sink_reset : forget what the sink received so far.
pf_sink_reset() {
	find "$PF_SINKDIR" -mindepth 1 -type f -delete 2>/dev/null
	return 0
}

# pf_sink_header FILE NAME : print the value of each NAME header (case
# insensitive, unfolded, one line each) of the message in sink FILE; 1 if
# there is none.  The sink's own X-Rcpt-Args etc. lines count as headers.
pf_sink_header() {
	awk -v name="$2" '
	function flush() { if (have) { print cur; found = 1 }; have = 0 }
	BEGIN { want = tolower(name) ":" }
	/^$/ { exit }
	/^[ \t]/ { if (have) { sub(/^[ \t]+/, " "); cur = cur $0 }; next }
	{ flush() }
	tolower(substr($0, 1, length(want))) == want {
		cur = substr($0, length(want) + 1)
		sub(/^[ \t]+/, "", cur)
		have = 1
	}
	END { flush(); exit !found }' "$1"
}

# pf_log_grep ERE : grep the instance's mail log (prints matching lines).
pf_log_grep() {
	grep -E -- "$1" "$PF_LOG"
}

# pf_wait_log ERE [TIMEOUT] : wait (default 10 s) until the mail log has a
# line matching ERE.
pf_wait_log() {
	local i=0 max=$(( ${2:-10} * 20 ))
	until grep -qE -- "$1" "$PF_LOG" 2>/dev/null; do
		[ $i -ge $max ] && { pf__msg "no log line /$1/"; return 1; }
		pf__sleep
		i=$((i + 1))
	done
}

# pf_at_exit COMMAND : run COMMAND (a string for eval) at pf_cleanup,
# before the pf_bg processes and Postfix are stopped; last added runs first.
pf_at_exit() {
	PF__AT_EXIT="$1
${PF__AT_EXIT:-}"
}

# pf_cleanup : run pf_at_exit commands, kill pf_bg processes, pf_stop.
# Idempotent.
pf_cleanup() {
	local cmd f
	while [ -n "${PF__AT_EXIT:-}" ]; do
		cmd=${PF__AT_EXIT%%
*}
		case "$PF__AT_EXIT" in
		*"
"*) PF__AT_EXIT=${PF__AT_EXIT#*
} ;;
		*) PF__AT_EXIT= ;;
		esac
		[ -n "$cmd" ] && eval "$cmd"
	done
	[ -n "${PF_DIR:-}" ] || return 0
	for f in "$PF_RUN"/*.pid; do
		[ -f "$f" ] || continue
		f=${f##*/}
		[ "$f" = sink.pid ] || pf_kill_bg "${f%.pid}" KILL
	done
	pf_stop
}

# pf_teardown STATUS : pf_cleanup, then remove PF_DIR if STATUS is 0 and
# PF_KEEP is not 1; otherwise keep it for inspection and say where.
pf_teardown() {
	[ "${PF__TORN:-0}" = 1 ] && return 0
	PF__TORN=1
	pf_cleanup
	[ -n "${PF_DIR:-}" ] && [ -d "$PF_DIR" ] || return 0
	if [ "$1" -eq 0 ] && [ "${PF_KEEP:-0}" != 1 ]; then
		rm -rf "$PF_DIR"
	else
		pf__msg "kept $PF_DIR"
	fi
}

# pf__on_exit : the EXIT trap body: pf_teardown with the exit status.
pf__on_exit() {
	local rc=$?
	set +e
	trap - EXIT
	pf_teardown "$rc"
	exit "$rc"
}

# pf_cleanup_trap : install traps so that the script's exit, ^C, SIGTERM
# or SIGHUP always stops everything this harness started (pf_teardown).
# Call it before pf_setup.  A script with its own EXIT trap calls
# pf_teardown there; one that prints a summary last calls it before.
pf_cleanup_trap() {
	trap pf__on_exit EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}
