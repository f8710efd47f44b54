#!/bin/sh
# shellcheck disable=SC3043
# test_audit_seal.sh - sealed checkpoints through a private Postfix: the
# filter seals its audit trail every 2 s while smtp-source loads it for
# several epochs, then through an idle stretch (sealed all the same); the
# log verifies with the auditor's key and the witness file.  Then the
# attacks, each named by audit verify: lines cut from the end, cut and the
# filter restarted on it (missing epochs), a line edited (chain kept, then
# made again), the file rewritten whole without its checkpoints, and
# re-sealed with the host's current key (tests/lib/seal_forge.py, an
# attacker written from the README's description of the scheme).
#
# Needs root.  Prints "N passed, M failed" last.
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
MILTER=$BUILD/consent-milter
CTL=$BUILD/consentctl
FORGE="python3 $TOP/tests/lib/seal_forge.py"
. "$TOP/tests/lib/postfix.sh"
. "$TOP/tests/lib/daemons.sh"
. "$TOP/tests/lib/assert.sh"

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root"
	echo "0 passed, 0 failed"
	exit 0
fi

W=$(pf_tmpdir consent-audit-seal) || exit 1
pf_cleanup_trap
pf_setup "$W" || exit 1
DAEMON_LOGS="$PF_DIR/log/milter.log"
S=$W/store
A=$W/audit.log
CP=$W/checkpoints
cat >"$W/m.conf" <<EOF
store: { path = "$S"; };
milter: { socket = "unix:$PF_RUN/m.sock"; user = ""; socket_group = "postfix"; };
classify: { rules = ( { sender_domain = "news.example.com"; list = "news"; } ); };
audit: { file = "$A"; key_file = "$W/audit.key";
  seal_key = "$W/seal.key"; seal_interval = "2s"; checkpoints = "$CP"; };
EOF
ctl() { "$CTL" -c "$W/m.conf" -s "$S" "$@"; }
ctl init >/dev/null
ctl subscribe rcpt@example.com --list news >/dev/null
ctl subscribe 2rcpt@example.com --list news >/dev/null
ctl keygen "$W/audit.key" >/dev/null
ctl audit keygen "$W/seal.key" >"$W/verifier" 2>/dev/null
chmod 600 "$W/verifier"
V=$W/verifier

start_milter() {
	pf_bg milter "$MILTER" -c "$W/m.conf" -f
	pf_wait_file "$PF_RUN/m.sock" 10
}
seals() { grep -c '"type":"seal"' "$1"; }

t_run 0 start_milter
pf_set_milters "unix:$PF_RUN/m.sock"
t_run 0 pf_start

# --- load for several epochs, then idle ones
t0=$(date +%s)
t1=$t0
while [ $((t1 - t0)) -lt 7 ]; do
	smtp-source -A -s 2 -m 100 -r 2 -f promo@news.example.com \
	    -t rcpt@example.com "127.0.0.1:$PF_PORT" >>"$W/source.log" 2>&1
	t1=$(date +%s)
done
t_run 0 pf_wait_queue_empty 60
n_load=$(seals "$A")
sleep 6
# Stopped, so that the log and the witness file hold the same checkpoints.
t_check "the filter exits 0 after SIGTERM" daemon_end milter
n_all=$(seals "$A")
decisions=$(grep -c '"verdict"' "$A")
[ "$decisions" -ge 400 ] && t_ok || t_fail "only $decisions decisions"
[ "$n_load" -ge 3 ] && t_ok ||
    t_fail "the load lasted $((t1 - t0)) s with $n_load checkpoints"
[ $((n_all - n_load)) -ge 2 ] && t_ok ||
    t_fail "the idle stretch got $((n_all - n_load)) checkpoints"
# Checkpoints one after the other: epochs with no decision, sealed.
grep -A1 '"type":"seal"' "$A" | grep -v -- '^--$' | awk '
    /"type":"seal"/ { if (prev) idle++; prev = 1; next } { prev = 0 }
    END { exit !(idle >= 2) }' && t_ok || t_fail "no idle epoch sealed"
# Checkpoints with decisions before them: epochs under load, sealed.
grep -B1 '"type":"seal"' "$A" | grep -c '"verdict"' |
    awk '{ exit !($1 >= 2) }' && t_ok || t_fail "no busy epoch sealed"
t_run 0 ctl audit verify --key "$V" --checkpoints "$CP" "$A"
t_out "0 broken, "
# The filter is stopped, so once two epochs have passed (a loaded machine
# takes that long) the verifier rightly calls the last checkpoint stale;
# nothing else may be warned of.
if grep 'warning (' "$T_OUT" | grep -qv 'warning (stale)'; then
	t_fail "unexpected warning: $(grep 'warning (' "$T_OUT" | head -n 3)"
else
	t_ok
fi
t_out "$n_all matched in $CP"
# The checkpoints also went to syslog (the filter's log, in the foreground).
grep -c 'audit seal {"v":1,"type":"seal"' "$PF_DIR/log/milter.log" |
    awk -v n="$n_all" '{ exit !($1 >= n) }' && t_ok || t_fail "seals not logged"
t_run 0 $FORGE check "$A" "$V"
cp "$A" "$W/orig.log"

# --- cut from the end: the log alone looks stale, the witness says cut
k=$(grep -n '"type":"seal"' "$W/orig.log" | sed -n 2p | cut -d: -f1)
cp "$W/orig.log" "$W/cut.log"
t_run 0 $FORGE cut "$W/cut.log" $((k + 3))
t_run 0 ctl audit verify --key "$V" "$W/cut.log"
t_out "warning (stale)"
t_run 1 ctl audit verify --key "$V" --checkpoints "$CP" "$W/cut.log"
t_out "SEAL BROKEN (cut)"

# --- an edited line: the chain names it; made again, the seal after it
line=$(grep -n '"verdict":"allow"' "$W/orig.log" | sed -n 5p | cut -d: -f1)
cp "$W/orig.log" "$W/edit.log"
sed -i "${line}s/\"verdict\":\"allow\"/\"verdict\":\"deny\"/" "$W/edit.log"
t_run 1 ctl audit verify --key "$V" "$W/edit.log"
t_out "BROKEN at line $line"
cp "$W/orig.log" "$W/edit.log"
t_run 0 $FORGE edit "$W/edit.log" "$line" '"verdict":"allow"' '"verdict":"deny"'
t_run 1 ctl audit verify --key "$V" "$W/edit.log"
t_out "SEAL BROKEN (rewritten)"

# --- rewritten whole with a fresh chain, without the checkpoints
cp "$W/orig.log" "$W/whole.log"
t_run 0 $FORGE strip "$W/whole.log"
t_run 0 ctl audit verify "$W/whole.log"
t_run 1 ctl audit verify --key "$V" "$W/whole.log"
t_out "SEAL BROKEN (cut)"
t_run 1 ctl audit verify --key "$V" --checkpoints "$CP" "$W/whole.log"
t_out "the witness holds $n_all checkpoints newer than the log's last (it has none)"

# --- re-sealed with the key taken from the host now (CVE-2023-31439)
epoch=$(python3 -c "import sys; sys.path.insert(0, '$TOP/tests/lib');
import seal_forge; print(seal_forge.stolen_key('$W/seal.key')[0])")
cp "$W/orig.log" "$W/reseal.log"
t_run 0 $FORGE edit "$W/reseal.log" "$line" '"verdict":"allow"' '"verdict":"deny"'
t_run 0 $FORGE reseal "$W/reseal.log" "$W/seal.key"
t_run 0 ctl audit verify "$W/reseal.log"
t_run 1 ctl audit verify --key "$V" "$W/reseal.log"
t_out "SEAL BROKEN (resealed)"
t_out "made with the key of epoch $epoch"
t_run 1 ctl audit verify --key "$V" --checkpoints "$CP" "$W/reseal.log"
t_out "SEAL BROKEN (cut)"

# --- cut, and the filter restarted on the cut log: missing epochs
$FORGE cut "$A" $((k + 3))
t_run 0 start_milter
t_run 0 pf_send_expect 250 --from promo@news.example.com --to 2rcpt@example.com
t_run 0 pf_wait_queue_empty 30
sleep 3
t_check "the filter exits 0 after SIGTERM" daemon_end milter
t_run 1 ctl audit verify --key "$V" "$A"
t_out "SEAL BROKEN (missing)"
t_out "have no checkpoint between this one and that of epoch 1"
t_check "no sanitizer report in the filter's stderr" sanitizers_quiet
pf_teardown 0 >/dev/null 2>&1
t_done
