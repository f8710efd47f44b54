#!/bin/sh
# shellcheck disable=SC3043,SC2317
# soak.sh - the reliability soak: consent-milter in front of a private
# Postfix under SOAK_SESSIONS concurrent SMTP sessions (and sendmail(1))
# for about SOAK_TIME seconds, through phases of faults and hostile
# peers, every message checked at the sink against the store.
#
#   load     the mix alone (allowed, denied for every reason,
#            transactional, multi-recipient, reused sessions, sendmail(1))
#   kill     SIGKILL of the filter SOAK_KILLS (10) times at random
#            moments, restarted each time (Postfix tempfails meanwhile,
#            the clients retry)
#   store    the store made unreadable (the filter restarted as nobody
#            cannot open it), then corrupt, then restored: bulk mail is
#            tempfailed until the filter finds the store again by itself
#   audit    the audit log's filesystem (a tmpfs) filled, then freed: bulk
#            mail is tempfailed (audit.fail_closed), then a "gap" line
#   import   a large consentctl import grows the store's map (from 1 MiB)
#            while the filter reads it
#   usr1     SIGUSR1 a hundred times, each reload seen in the log
#   hostile  odd RCPT forms, header bombs, aborts mid-DATA, vanishing
#            clients; hostile CSVs and intake messages; consent-unsubd
#            under 1,000 connections, slow clients and forged tokens
#            (tests/soak/unsubd_storm.py), real one-click POSTs timed
#   term     SIGTERM with sessions in flight: exit 0, restarted
# Then: the queue drains; tests/soak/soakcheck.py compares every attempt
# with the sink (0 let through, 0 lost, nothing wrong); the audit chain
# verifies; the filter exits 0 at SIGTERM; no sanitizer report.
#
# Environment: SOAK_TIME (seconds, default 1800), SOAK_SESSIONS (200),
# SOAK_IMPORT_ROWS (1000000), SOAK_KILLS (10), BUILD (build), KEEP=1 to
# keep the scratch directory.  Needs root.  Prints the table, then
# "N passed, M failed" last.
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
MILTER=$BUILD/consent-milter
CTL=$BUILD/consentctl
UNSUBD=$BUILD/consent-unsubd
SOAK_TIME=${SOAK_TIME:-1800}
SOAK_SESSIONS=${SOAK_SESSIONS:-200}
SOAK_IMPORT_ROWS=${SOAK_IMPORT_ROWS:-1000000}
SOAK_KILLS=${SOAK_KILLS:-10}
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
ulimit -n 16384 2>/dev/null || ulimit -n 4096
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/assert.sh"
. "$TOP/tests/lib/daemons.sh"

say() {
	echo "# $(date -u +%H:%M:%S) $*"
}

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: a private Postfix needs root"
	t_done
	exit 0
fi
for b in "$MILTER" "$CTL" "$UNSUBD"; do
	[ -x "$b" ] || { t_fail "$b is built"; t_done; exit 1; }
done
for c in swaks smtp-sink; do
	command -v "$c" >/dev/null 2>&1 || { t_fail "$c is installed (make deps)"; t_done; exit 1; }
done

# want PHASE : PHASE is to run (SOAK_PHASES unset, or naming it).
want() {
	[ -z "${SOAK_PHASES:-}" ] && return 0
	case " $SOAK_PHASES " in *" $1 "*) return 0 ;; esac
	return 1
}

# phase_secs FRACTION_PERCENT : that share of SOAK_TIME, at least 15 s.
phase_secs() {
	local s=$((SOAK_TIME * $1 / 100))
	[ "$s" -ge 15 ] || s=15
	echo "$s"
}

# --- the store -------------------------------------------------------------

ctl() {
	"$CTL" -c "$W/m.conf" -s "$S" "$@" >>"$W/log/consentctl.log" 2>&1
}

# population : the recipients of every class, into the store (one import)
# and into $W/pop.json (what soakgen.py and soakcheck.py read).
population() {
	"$PY" - "$W/pop.csv" "$W/pop.json" <<'EOF' || return 1
import json, sys
N = 400
allowed, denied, rows = [], [], []
classes = {"in": "subscribed", "conf": "confirmed", "unsub": "unsubscribed",
           "pend": "pending", "hb": "hard_bounce", "compl": "complaint",
           "man": "manual"}
for c, st in classes.items():
    for i in range(N):
        a = "%s%d@example.com" % (c, i)
        rows.append("%s,%s,news,2025-01-01T00:00:00Z" % (a, st))
        (allowed if c in ("in", "conf") else denied).append(a)
denied += ["never%d@example.com" % i for i in range(N)]	# no record
denied += ["x%d@blocked.example" % i for i in range(N)]	# domain suppressed
# For the one-click POSTs of phase hostile; never sent mail.
rows += ["click%d@example.com,subscribed,news,2025-01-01T00:00:00Z" % i
         for i in range(300)]
with open(sys.argv[1], "w") as f:
    f.write("email,status,list,timestamp\n" + "\n".join(rows) + "\n")
with open(sys.argv[2], "w") as f:
    json.dump({"allowed": allowed, "denied": denied,
               "odd_denied_locals": ["unsub%d" % i for i in range(20)] +
               ["never%d" % i for i in range(20)]}, f)
EOF
	ctl init && ctl import "$W/pop.csv" &&
		ctl suppress blocked.example --reason manual &&
		chown -R nobody "$S"
}

# --- the filter ------------------------------------------------------------

write_conf() {
	cat >"$W/m.conf" <<EOF
store: { path = "$S"; map_size_mb = 1; };
milter: {
	socket = "unix:$SOCK";
	user = "nobody";
	socket_group = "postfix";
	socket_mode = "0660";
	shutdown_timeout = 5;
};
classify: {
	rules = ( { sender_domain = "news.example.com"; list = "news"; } );
};
audit: { file = "$AUD/audit.log"; pseudonymize = false; fail_closed = true; };
metrics: { listen = "127.0.0.1:$MPORT"; };
EOF
	# consentctl's and consent-unsubd's: the same, with the token keys.
	sed '/^metrics:/d' "$W/m.conf" >"$W/u.conf"
	cat >>"$W/u.conf" <<EOF
unsubscribe: {
	enable = true;
	keys = ( { id = 1; file = "$W/keys/1.key"; } );
	url = "https://unsub.example.test/u/%t";
	mailto = "mailto:unsubscribe@example.com";
	listen = "127.0.0.1:$UPORT";
	user = "nobody";
	max_connections = 2048;
	max_per_client = 0;
	request_timeout = 5;
};
EOF
}

MI=0
# milter_up : start a new instance (m1, m2, ...) and wait until it listens.
milter_up() {
	local log i=0
	MI=$((MI + 1))
	log=$PF_DIR/log/m$MI.log
	DAEMON_LOGS="$DAEMON_LOGS $log"
	pf_bg "m$MI" "$MILTER" -c "$W/m.conf" -f
	until grep -q 'listening on' "$log" 2>/dev/null && [ -S "$SOCK" ]; do
		if [ $i -ge 400 ] || ! pf__alive "$PF_BG_PID"; then
			echo "  m$MI did not start:" >&2
			sed 's/^/  /' "$log" >&2
			return 1
		fi
		pf__sleep
		i=$((i + 1))
	done
}

milter_pid() {
	cat "$PF_RUN/m$MI.pid" 2>/dev/null
}

# milter_kill : SIGKILL the running instance; it must die of it (137).
milter_kill() {
	local pid st
	pid=$(milter_pid)
	pf_kill_bg "m$MI" KILL 5
	st=$(pf_bg_status "m$MI" 10)
	[ "$st" = 137 ] || { echo "  m$MI ($pid): status '$st' after SIGKILL" >&2; return 1; }
}

# metric NAME [LABELS-ERE] : the sum of a series of the running filter.
metric() {
	curl -s --max-time 10 "http://127.0.0.1:$MPORT/metrics" |
		awk -v n="$1" -v l="${2:-}" '
		$1 ~ "^" n "({|$)" && (l == "" || $1 ~ l) { s += $2 }
		END { printf "%d\n", s }'
}

# wait_metric SECONDS NAME [LABELS-ERE] : wait until that sum is above 0.
wait_metric() {
	local i=0 max=$(($1 * 5))
	until [ "$(metric "$2" "${3:-}")" -gt 0 ]; do
		[ $i -ge $max ] && return 1
		sleep 0.2
		i=$((i + 1))
	done
}

rss_kb() {
	awk '/^VmRSS:/ { print $2 }' "/proc/$(milter_pid)/status" 2>/dev/null
}

# --- the load --------------------------------------------------------------

# gen_start PHASE SECONDS [ARGS...] : soakgen.py in the background, to
# start new messages until gen_wait stops it (at SECONDS, or later if the
# phase's faults took longer).
gen_start() {
	local ph="$1" secs="$2"
	shift 2
	GEN=gen_$ph
	GEN_SECS=$secs
	pf_bg "$GEN" "$PY" "$TOP/tests/soak/soakgen.py" --port "$PF_PORT" \
		--pop "$W/pop.json" --out "$W/results.jsonl" --phase "$ph" \
		--sessions "$SOAK_SESSIONS" --time $((secs + 900)) \
		--stop "$W/stop.$ph" --seed "$SEED" --sendmail "$SENDMAIL" \
		--maildrop "$PF_QUEUE/maildrop" "$@"
	PH_START=$(date +%s)
	echo "phase $ph start $(date +%s.%N)" >>"$W/facts"
}

# gen_wait : let the load run to the phase's SECONDS (and 3 s at least
# after its last fault), stop it, and wait for it to end (its retries
# included); record the phase's wall time.
gen_wait() {
	local st left
	left=$((PH_START + GEN_SECS - $(date +%s)))
	[ "$left" -ge 3 ] || left=3
	pause "$left"
	: >"$W/stop.${GEN#gen_}"
	st=$(pf_bg_status "$GEN" 900) || st=timeout
	echo "phase ${GEN#gen_} end $(date +%s.%N)" >>"$W/facts"
	[ "$st" = 0 ] || { echo "  $GEN: status $st" >&2; tail -n 20 "$PF_DIR/log/$GEN.log" >&2; return 1; }
}

# queue_drain : wait until the queue is empty, kicking pickup; fail when
# it has not shrunk for 120 s (or after 30 minutes in all).
queue_drain() {
	local n best start=$(date +%s) since=$(date +%s)
	best=$(pf_queue_count)
	while [ "$best" -ne 0 ]; do
		PATH=$PF_POSTFIX_PATH postkick -c "$PF_CONF" public pickup W 2>/dev/null
		pause 2
		n=$(pf_queue_count)
		if [ "$n" -lt "$best" ]; then
			best=$n
			since=$(date +%s)
		fi
		if [ $(($(date +%s) - since)) -ge 120 ] ||
		    [ $(($(date +%s) - start)) -ge 1800 ]; then
			echo "  $best messages left in the queue" >&2
			return 1
		fi
	done
	echo "drain $(($(date +%s) - start))" >>"$W/facts"
}

# wait_until SECONDS CMD... : poll CMD every 0.1 s until it succeeds.
wait_until() {
	local i=0 max=$(($1 * 10))
	shift
	until "$@"; do
		[ $i -ge $max ] && return 1
		sleep 0.1
		i=$((i + 1))
	done
}

gen_running() {
	pf__alive "$(cat "$PF_RUN/$GEN.pid" 2>/dev/null)"
}

# rand N : a random integer in [0, N).
rand() {
	echo $(( $(od -An -N4 -tu4 /dev/urandom | tr -d ' ') % $1 ))
}

# pause SECONDS : an interruptible sleep (the traps run at once).
pause() {
	sleep "$1" & wait $!
}

# --- set-up ----------------------------------------------------------------

W=$(pf_tmpdir consent-soak) || exit 1
pf_cleanup_trap
pf_at_exit 'umount "$AUD" 2>/dev/null; for p in $STOPPING; do kill -KILL "$p" 2>/dev/null; done'
t_check "private instance set up in $W" pf_setup "$W" || t_finish pf_teardown
S=$W/store
AUD=$W/audit
SOCK=$W/msock/m.sock
SEED=${SOAK_SEED:-$(date +%s)}
MPORT=$(pf_free_port)
UPORT=$(pf_free_port)
mkdir -p "$W/log" "$AUD" "$W/msock" "$W/keys" && chown nobody "$W/msock"
"$CTL" keygen "$W/keys/1.key" >/dev/null && chgrp nogroup "$W/keys/1.key" &&
	chmod 0640 "$W/keys/1.key"
: >"$W/results.jsonl"
: >"$W/facts"
say "soak: ${SOAK_TIME}s, $SOAK_SESSIONS sessions, seed $SEED, dir $W"
AUDIT_FS=tmpfs
if [ "$SOAK_TIME" -gt 600 ]; then asize=4g; else asize=1g; fi
if ! mount -t tmpfs -o "size=$asize,mode=0755" tmpfs "$AUD" 2>"$W/mount.err"; then
	AUDIT_FS=none
	echo "skipped: phase audit (cannot mount a tmpfs: $(cat "$W/mount.err"))"
	# CI is root on its own machine: nothing may skip there.
	[ "${CI:-0}" = 1 ] && t_fail "CI: the audit phase cannot skip"
fi
chown nobody "$AUD"
write_conf
t_check "store seeded: 3,600 records of 7 classes, a domain suppressed" \
	population || t_finish pf_teardown
pf_postconf "default_process_limit = $((SOAK_SESSIONS + 50))" \
	"smtpd_client_connection_count_limit = 0" \
	"smtpd_timeout = 120s" "smtpd_hard_error_limit = 1000" \
	"smtpd_soft_error_limit = 1000" || t_finish pf_teardown
pf_set_milters "unix:$SOCK" || t_finish pf_teardown
t_check "Postfix and its sink started" pf_start || t_finish pf_teardown
SENDMAIL="/usr/sbin/sendmail -C $PF_CONF"
t_check "consent-milter started (as nobody)" milter_up || t_finish pf_teardown

# --- load ------------------------------------------------------------------
if want load; then
	T_LOAD=$(phase_secs 30)
	say "phase load: ${T_LOAD}s"
	gen_start load "$T_LOAD" --drain 120
	pause 5
	RSS0=$(rss_kb)
	PID0=$(milter_pid)
	pause $((T_LOAD - 8))
	RSS1=$(rss_kb)
	t_check "phase load: the generator ran to its end" gen_wait
	t_check "phase load: one filter process all along" [ "$(milter_pid)" = "$PID0" ]
	curl -s --max-time 10 "http://127.0.0.1:$MPORT/metrics" >"$W/metrics.load"
	echo "rss $RSS0 $RSS1" >>"$W/facts"
	say "phase load: RSS ${RSS0} -> ${RSS1} KiB"
fi

# --- kill --------------------------------------------------------------------
if want kill; then
	T_KILL=$(phase_secs 15)
	say "phase kill: ${T_KILL}s, $SOAK_KILLS SIGKILLs"
	gen_start kill "$T_KILL" --drain 180
	slot=$((T_KILL * 1000 / (SOAK_KILLS + 1)))
	k=0 kerr=0
	while [ $k -lt "$SOAK_KILLS" ]; do
		pause "$(awk -v ms="$(rand "$slot")" 'BEGIN { printf "%.3f", ms / 1000 }')"
		milter_kill || kerr=$((kerr + 1))
		pause 0.5
		milter_up || kerr=$((kerr + 1))
		k=$((k + 1))
	done
	echo "kills $k" >>"$W/facts"
	t_check "phase kill: $k SIGKILLs, each death 137, each restart listening" [ $kerr -eq 0 ]
	t_check "phase kill: the generator ran to its end" gen_wait
fi

# --- store -------------------------------------------------------------------
if want store; then
	T_STORE=$(phase_secs 10)
	say "phase store: ${T_STORE}s"
	gen_start store "$T_STORE" --drain 180
	third=$((T_STORE / 3))
	pause 2
	# (1) unreadable: the filter (nobody) restarted cannot open it.
	chmod 0000 "$S"
	milter_kill && milter_up
	t_check "store unreadable: bulk mail tempfailed (cause store)" \
		wait_metric 30 consent_milter_tempfails_total 'cause="store"'
	t_check "store unreadable: the filter said so" \
		grep -q 'store unavailable.*[Pp]ermission' "$PF_DIR/log/m$MI.log"
	pause "$third"
	# (2) corrupt: garbage where data.mdb was.
	chmod 0750 "$S"
	mv "$S" "$S.good"
	mkdir -p "$S" && head -c 1048576 /dev/urandom >"$S/data.mdb" && chown -R nobody "$S"
	milter_kill && milter_up
	t_check "store corrupt: bulk mail tempfailed" \
		wait_metric 30 consent_milter_tempfails_total 'cause="store"'
	pause "$third"
	# (3) restored: the running filter finds it within seconds.
	rm -rf "$S" && mv "$S.good" "$S"
	t_check "store restored: the filter opened it by itself (recovered)" \
		wait_until 30 grep -q 'store open: .*(recovered)' "$PF_DIR/log/m$MI.log"
	t_check "phase store: the generator ran to its end" gen_wait
fi

# --- audit -------------------------------------------------------------------
T_AUDIT=$(phase_secs 10)
if want audit && [ "$AUDIT_FS" = tmpfs ]; then
	say "phase audit: ${T_AUDIT}s"
	gen_start audit "$T_AUDIT" --drain 180
	pause 2
	# Shrink the tmpfs to what it holds (instant, whatever its size),
	# then fill the last few pages.
	used=$(df -Pk "$AUD" | awk 'NR == 2 { print $3 }')
	mount -o remount,size=$((used + 64))k "$AUD"
	dd if=/dev/zero of="$AUD/fill" bs=4k 2>/dev/null
	t_check "audit: the filesystem is full" [ "$(df -P "$AUD" | awk 'NR == 2 { print $4 }')" -eq 0 ]
	t_check "audit full: writes fail, bulk mail is tempfailed (cause audit)" \
		wait_metric 30 consent_milter_tempfails_total 'cause="audit"' ||
		{ df -P "$AUD"; ls -l "$AUD"; tail -c 300 "$AUD/audit.log"; date -u; } >&2
	pause $((T_AUDIT / 2))
	rm -f "$AUD/fill"
	mount -o remount,size="$asize" "$AUD"
	t_check "audit freed: a gap line is written" \
		wait_until 30 grep -q '"type":"gap"' "$AUD/audit.log"
	t_check "phase audit: the generator ran to its end" gen_wait
	echo "audit_fill 1" >>"$W/facts"
fi

# --- import ------------------------------------------------------------------
if want import; then
	T_IMPORT=$(phase_secs 10)
	say "phase import: ${T_IMPORT}s, $SOAK_IMPORT_ROWS rows"
	awk -v n="$SOAK_IMPORT_ROWS" 'BEGIN { print "email,status,list,timestamp"
		for (i = 0; i < n; i++) printf "imp%d@import.example,subscribed,news,2025-02-01T00:00:00Z\n", i }' >"$W/import.csv"
	map0=$(stat -c %s "$S/data.mdb")
	gen_start import "$T_IMPORT" --drain 180
	pause 2
	"$CTL" -c "$W/m.conf" -s "$S" import "$W/import.csv" >"$W/log/import.log" 2>&1
	irc=$?
	t_check "import: $SOAK_IMPORT_ROWS rows imported under load (exit 0)" [ $irc -eq 0 ]
	map1=$(stat -c %s "$S/data.mdb")
	echo "import $SOAK_IMPORT_ROWS $map0 $map1" >>"$W/facts"
	t_check "import: the store grew past its 1 MiB map ($map0 -> $map1 bytes)" \
		[ "$map1" -gt 1048576 ]
	last=imp$((SOAK_IMPORT_ROWS - 1))@import.example
	t_check "import: the filter reads the grown map (the last row is allowed at RCPT)" \
		pf_send_expect 250 --from news@news.example.com --to "$last"
	t_check "import: the filter did not restart" pf__alive "$(milter_pid)"
	t_check "phase import: the generator ran to its end" gen_wait
fi

# --- usr1 --------------------------------------------------------------------
if want usr1; then
	T_USR1=$(phase_secs 5)
	say "phase usr1: ${T_USR1}s, 100 SIGUSR1"
	gen_start usr1 "$T_USR1" --drain 120
	pid=$(milter_pid)
	log=$PF_DIR/log/m$MI.log
	u=0 uerr=0
	while [ $u -lt 100 ]; do
		n=$(grep -c 'configuration reloaded' "$log")
		kill -USR1 "$pid"
		wait_until 10 sh -c '[ "$(grep -c "configuration reloaded" "$1")" -gt "$2" ]' _ "$log" "$n" ||
			uerr=$((uerr + 1))
		u=$((u + 1))
	done
	echo "usr1 $u" >>"$W/facts"
	t_check "usr1: 100 SIGUSR1, each reload logged" [ $uerr -eq 0 ]
	t_check "usr1: the same filter process" [ "$(milter_pid)" = "$pid" ]
	t_check "phase usr1: the generator ran to its end" gen_wait
fi

# --- hostile -----------------------------------------------------------------
if want hostile; then
	T_HOST=$(phase_secs 10)
	say "phase hostile: ${T_HOST}s"
	gen_start hostile "$T_HOST" --drain 120 --hostile
	i=0
	while [ $i -lt 300 ]; do
		printf 'click%d@example.com %s\n' $i \
			"$("$CTL" -c "$W/u.conf" -s "$S" token "click$i@example.com" --list news)"
		i=$((i + 1))
	done >"$W/tokens"
	DAEMON_LOGS="$DAEMON_LOGS $PF_DIR/log/unsubd.log"
	pf_bg unsubd "$UNSUBD" -c "$W/u.conf" -f
	t_check "consent-unsubd started" pf_wait_port "$UPORT" 10
	UPID=$PF_BG_PID
	pf_bg storm "$PY" "$TOP/tests/soak/unsubd_storm.py" "$UPORT" "$W/tokens" \
		"$((T_HOST * 3 / 4))" "$W/storm.json"
	export W CTL S PY
	sh "$TOP/tests/soak/hostile_input.sh" >"$W/log/hostile_input.log" 2>&1
	hrc=$?
	t_check "the unsubd storm ran to its end" [ "$(pf_bg_status storm $((T_HOST + 120)))" = 0 ]
	storm() {
		"$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' \
			"$W/storm.json" "$1" 2>/dev/null || echo none
	}
	t_check "unsubd: no forged token unsubscribed anyone (0 of them got 200)" \
		[ "$(storm forged_accepted)" = 0 ]
	t_check "unsubd: every real one-click POST got 200 ($(storm real_ok) of $(storm real))" \
		[ "$(storm real_failed_n)" = 0 ]
	denied=$("$CTL" -c "$W/u.conf" -s "$S" export --status unsubscribed --list news |
		grep -c '^click[0-9]*@example\.com,')
	t_check "unsubd: all 300 who clicked are unsubscribed in the store ($denied)" [ $denied -eq 300 ]
	t_check "unsubd: still up after the storm" pf__alive "$UPID"
	echo "unsubd real=$(storm real) ok=$(storm real_ok) p50_ms=$(storm p50_ms) p99_ms=$(storm p99_ms) codes=$("$PY" -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1]))["codes"], separators=(",", ":")))' "$W/storm.json")" >>"$W/facts"
	daemon_stop unsubd
	sed -n 's/^/  /p' "$W/log/hostile_input.log" | grep -v '^  ok' | head -n 20
	t_check "hostile CSVs and intake messages: no crash, nothing changed" [ $hrc -eq 0 ]
	t_check "phase hostile: the generator ran to its end" gen_wait
fi

# --- term --------------------------------------------------------------------
if want term; then
	T_TERM=$(phase_secs 3)
	say "phase term: ${T_TERM}s"
	gen_start term "$T_TERM" --drain 120
	pause $((T_TERM / 3))
	s0=$(metric consent_milter_sessions)
	echo "term_sessions $s0" >>"$W/facts"
	old=$(milter_pid)
	daemon_stop "m$MI"
	t_check "term: the filter with $s0 sessions in flight exits after SIGTERM" pf__wait_gone "$old" 30
	st=$(pf_bg_status "m$MI" 5)
	t_check "term: its exit status is 0" [ "$st" = 0 ]
	t_check "term: restarted" milter_up
	t_check "phase term: the generator ran to its end" gen_wait
fi

# --- the end -----------------------------------------------------------------
say "drain"
# Postfix may stop only with its queue empty: stopped mid-delivery it
# delivers again at its next start (at least once).  The queue must keep
# shrinking; it may take minutes on a loaded machine.
t_check "the queue drained (maildrop included)" queue_drain
t_check "no message left in the hold queue" \
	[ "$(find "$PF_QUEUE/hold" -type f | wc -l)" -eq 0 ]
# The harness's own Postfix must have lived: a watchdog kill stalls it.
t_check "no Postfix daemon killed by its watchdog" \
	[ "$(grep -c 'watchdog timeout' "$PF_LOG")" -eq 0 ]
curl -s --max-time 10 "http://127.0.0.1:$MPORT/metrics" >"$W/metrics.end"
RSS2=$(rss_kb)
echo "rss_end $RSS2" >>"$W/facts"
daemon_stop "m$MI"
t_check "every filter stopped with SIGTERM exited 0" daemons_gone
t_check "no sanitizer report in any filter's stderr" sanitizers_quiet
"$CTL" -c "$W/m.conf" -s "$S" audit verify "$AUD/audit.log" >"$W/log/verify.log" 2>&1
t_check "the audit chain verifies across $MI filter processes (consentctl audit verify)" [ $? -eq 0 ]
grep -c '"verdict"' "$AUD/audit.log" | sed 's/^/audit_decisions /' >>"$W/facts"
echo "instances $MI" >>"$W/facts"
awk '{ print $1, $2 }' /proc/loadavg | sed 's/^/load /' >>"$W/facts"
pf_stop
say "check"
"$PY" "$TOP/tests/soak/soakcheck.py" "$W/pop.json" "$W/results.jsonl" \
	"$PF_SINKDIR" "$W/summary.json" >"$W/check.log" 2>&1
crc=$?
cat "$W/check.log"
"$PY" "$TOP/tests/soak/soakreport.py" "$W/summary.json" "$W/facts" \
	"$W/metrics.load"
t_check "every message delivered or refused as the store says (0 let through, 0 lost)" [ $crc -eq 0 ]
t_finish pf_teardown
