#!/bin/sh
# test_audit_seal.sh - the sealed audit checkpoints from the command line:
# consentctl audit keygen (the key's mode, the verifier printed once, no
# overwriting), audit verify's arguments, and the filter sealing its log
# every 2 s with nothing to filter (idle epochs are sealed too), verified
# with the right key, a wrong one, and the witness file; the filter
# refusing a key of another interval or one others can read.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
. "$TOP/tests/lib/assert.sh"
CTL="$TOP/$BUILD/consentctl"
MILTER="$TOP/$BUILD/consent-milter"
W=$(mktemp -d)
MPID=
trap '[ -n "$MPID" ] && kill "$MPID" 2>/dev/null; rm -rf "$W"' EXIT

cat >"$W/m.conf" <<EOF
store: { path = "$W/store"; };
milter: { socket = "unix:$W/m.sock"; user = ""; socket_group = ""; };
audit: { file = "$W/audit.log"; pseudonymize = false;
  seal_key = "$W/seal.key"; seal_interval = "2s"; checkpoints = "$W/cp"; };
EOF
ctl() { "$CTL" -c "$W/m.conf" -s "$W/store" "$@"; }
t_run 0 ctl init

# --- keygen
t_run 0 ctl audit keygen "$W/seal.key"
verifier=$(cat "$T_OUT")
case $verifier in cmseal1:*:2:*) t_ok ;; *) t_fail "verifier: $verifier" ;; esac
t_err "printed this once"
t_eq "$(stat -c %a "$W/seal.key")" 600 "seal key mode"
t_eq "$(wc -l <"$T_OUT")" 1 "one line on stdout"
t_run 2 ctl audit keygen "$W/seal.key"
t_err "File exists"
t_run 2 ctl audit keygen
t_err "usage: consentctl audit verify"
echo "$verifier" >"$W/verifier"
chmod 600 "$W/verifier"

# --- verify's arguments
t_run 2 ctl audit verify
t_run 2 ctl audit verify --checkpoints "$W/cp" "$W/audit.log"
t_err "--checkpoints needs --key"
t_run 2 ctl audit verify --frob "$W/audit.log"
t_err "unknown option --frob"
t_run 2 ctl audit verify --key
t_run 2 ctl audit verify --key cmseal1:1:2:AAAA "$W/audit.log"
t_err "not a verifier key"
t_run 2 ctl audit verify --key "$W/nonexistent" "$W/audit.log"

# --- the filter seals, idle as it is
start() {
	"$MILTER" -c "$W/m.conf" -f 2>>"$W/milter.err" &
	MPID=$!
}
stop() {
	kill "$MPID"
	wait "$MPID" 2>/dev/null
	t_eq "$?" 0 "the filter's exit status after SIGTERM"
	MPID=
}
start
sleep 5.5
stop
t_check "the filter sealed its idle log" grep -q '"type":"seal"' "$W/audit.log"
t_check "the seal went to syslog (stderr here)" grep -q 'audit seal {"v":1' "$W/milter.err"
n=$(grep -c '"type":"seal"' "$W/audit.log")
[ "$n" -ge 2 ] && t_ok || t_fail "only $n checkpoints in 5.5 s"
t_eq "$(wc -l <"$W/cp")" "$n" "a witness line per checkpoint"
t_run 0 ctl audit verify --key "$W/verifier" --checkpoints "$W/cp" "$W/audit.log"
t_out "checkpoints: $n (epochs 0-$((n - 1))"
t_out "$n matched in $W/cp"
t_out "0 broken"
t_run 0 ctl audit verify --key "$verifier" "$W/audit.log"
t_run 0 ctl audit verify "$W/audit.log"
t_not_out "checkpoints:"

# Another key's verifier: nothing verifies.
ctl audit keygen "$W/other.key" >"$W/other" 2>/dev/null
t_run 1 ctl audit verify --key "$W/other" "$W/audit.log"
t_out "SEAL BROKEN (forged)"

# Down for a while: the missed epochs are sealed late, in one checkpoint.
sleep 4.5
start
sleep 1.5
stop
t_run 0 ctl audit verify --key "$W/verifier" --checkpoints "$W/cp" "$W/audit.log"
t_out "note (late)"
t_out "0 broken"

# --- the filter's refusals
cp "$W/seal.key" "$W/seal.key.bak"
chmod 640 "$W/seal.key"
t_run 1 "$MILTER" -c "$W/m.conf" -f
t_err "chmod 600"
chmod 600 "$W/seal.key"
sed 's/seal_interval = "2s"/seal_interval = "3s"/' "$W/m.conf" >"$W/m3.conf"
t_run 1 "$MILTER" -c "$W/m3.conf" -f
t_err "made for epochs of 2s"
if grep -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' \
    "$W/milter.err" >&2; then
	t_fail "a sanitizer report in the filter's stderr"
else
	t_ok
fi
t_done
