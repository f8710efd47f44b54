#!/bin/sh
# shellcheck disable=SC3043
# test_doctor.sh - consentctl doctor against a private Postfix set up
# right, then wrong one mistake at a time: each mistake gives its finding
# (severity, the fix), the right set-up none.  The doctor reads Postfix's
# settings with postconf -c, so the instance need not run; the filter does
# (its socket is checked).
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

if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root"
	echo "0 passed, 0 failed"
	exit 0
fi
# The users the package makes: the endpoint in the filter's group.
getent passwd consent-milter >/dev/null ||
    adduser --system --group --quiet --no-create-home consent-milter
getent passwd consent-unsubd >/dev/null ||
    adduser --system --ingroup consent-milter --quiet --no-create-home consent-unsubd
id -nG consent-unsubd | grep -qw consent-milter ||
    adduser --quiet consent-unsubd consent-milter

W=$(pf_tmpdir consent-doctor) || exit 1
pf_cleanup_trap
pf_setup "$W" || exit 1
S=$W/store
SOCK=$PF_RUN/m.sock
mkdir -p "$W/keys" "$W/log"
"$CTL" keygen "$W/keys/1.key" >/dev/null
chgrp consent-milter "$W/keys/1.key"
chmod 0640 "$W/keys/1.key"
chown consent-milter "$W/log"
cat >"$W/m.conf" <<EOF
store: { path = "$S"; };
milter: { socket = "unix:$SOCK"; user = "consent-milter"; socket_group = "postfix"; };
unsubscribe: {
	enable = true;
	keys = ( { id = 1; file = "$W/keys/1.key"; } );
	url = "https://unsub.example.test/u/%t";
	mailto = "mailto:unsubscribe@example.test?subject=unsubscribe%%20%t";
	user = "consent-unsubd";
};
audit: { file = "$W/log/audit.log"; pseudonymize = false; };
EOF
"$CTL" -c "$W/m.conf" init >/dev/null
chown -R consent-milter:consent-milter "$S"
# The filter, as root dropping to consent-milter, as the unit would run it.
DAEMON_LOGS=$PF_DIR/log/milter.log
pf_bg milter "$BUILD/consent-milter" -c "$W/m.conf" -f
t_run 0 pf_wait_file "$SOCK" 10
# The mailto intake, routed the README's way.
printf 'unsubscribe@example.test unsubscribe:\n' >"$PF_CONF/transport"
PATH=$PF_POSTFIX_PATH postmap -c "$PF_CONF" "hash:$PF_CONF/transport"
cat >>"$PF_CONF/master.cf" <<EOF
unsubscribe unix - n n - - pipe user=consent-unsubd:consent-milter
  argv=$CTL intake \${recipient}
EOF
pf_postconf "smtpd_milters = unix:$SOCK" "non_smtpd_milters = \$smtpd_milters" \
    "milter_default_action = tempfail" "transport_maps = hash:$PF_CONF/transport"

doc() { "$CTL" -c "$W/m.conf" doctor --postfix "$PF_CONF" "$@"; }

# --- right: no finding ----------------------------------------------------
t_run 0 doc
t_out "all well"
t_run 0 doc --json
t_out '"errors":0,"warnings":0'

# finding EXIT SEVERITY TEXT [FIX] : the doctor exits EXIT and says TEXT.
finding() {
	t_run "$1" doc
	t_out "$2"
	t_out "$3"
	[ -n "${4:-}" ] && t_out "fix: $4"
	return 0
}

# --- each mistake, then put right -----------------------------------------
pf_postconf "milter_default_action = accept"
finding 1 "error   postfix" "milter_default_action = accept: while the filter is down" \
    "milter_default_action = tempfail"
pf_postconf "milter_default_action = tempfail"

pf_postconf "smtpd_milters = inet:127.0.0.1:8891"
finding 1 "error   postfix" "smtpd_milters does not name the filter's socket"
pf_postconf "smtpd_milters = unix:$SOCK"

pf_postconf "non_smtpd_milters ="
finding 1 "warning postfix" "non_smtpd_milters does not name the filter's socket"
pf_postconf "non_smtpd_milters = \$smtpd_milters"

pf_postconf "smtpd_milters = inet:127.0.0.1:8891, unix:$SOCK"
finding 1 "error   postfix" "lists inet:127.0.0.1:8891 (a DKIM/ARC signer) before the filter" \
    "smtpd_milters = unix:$SOCK, inet:127.0.0.1:8891"
pf_postconf "smtpd_milters = unix:$SOCK, inet:127.0.0.1:8891"
t_run 0 doc
t_out "all well"

pf_postconf "smtpd_milters = { unix:$SOCK, default_action = accept }"
finding 1 "error   postfix" "gives the filter default_action = accept"
pf_postconf "smtpd_milters = unix:$SOCK"

# smtpd chrooted: the socket must be inside the queue directory.
PATH=$PF_POSTFIX_PATH postconf -c "$PF_CONF" -F "127.0.0.1:$PF_PORT/inet/chroot = y"
finding 1 "error   postfix" "cannot reach the filter's socket" "milter: { socket = \"unix:"
t_out "(inside the chroot)"
PATH=$PF_POSTFIX_PATH postconf -c "$PF_CONF" -F "127.0.0.1:$PF_PORT/inet/chroot = n"

chmod 0600 "$SOCK"
chown root:root "$SOCK"
finding 1 "error   postfix" "cannot be used by postfix"
chgrp postfix "$SOCK"
chmod 0660 "$SOCK"

pf_postconf "transport_maps ="
finding 1 "warning postfix" "unsubscribe@example.test is not routed to consentctl intake"
pf_postconf "transport_maps = hash:$PF_CONF/transport"

chmod o+w "$S/data.mdb"
finding 1 "error   store" "data.mdb is world-writable"
chmod o-w "$S/data.mdb"

chmod 0644 "$W/keys/1.key"
finding 1 "error   keys" "is open to others (mode 0644)" "chmod 0640"
chmod 0600 "$W/keys/1.key"
finding 1 "error   keys" "cannot be read by milter.user consent-milter"
chmod 0640 "$W/keys/1.key"

# Sealing: the key the filter evolves in place, and the witness copy.
sed "s|^audit: .*|audit: { file = \"$W/log/audit.log\"; pseudonymize = false; \
seal_key = \"$W/log/seal.key\"; seal_interval = \"15m\"; };|" \
    "$W/m.conf" >"$W/seal.conf"
sdoc() { "$CTL" -c "$W/seal.conf" doctor --postfix "$PF_CONF" "$@"; }
t_run 1 sdoc
t_out "error   seal"
t_out "fix: consentctl audit keygen SEALKEY"
t_run 0 "$CTL" -c "$W/seal.conf" audit keygen "$W/log/seal.key"
chmod 0640 "$W/log/seal.key"
t_run 1 sdoc
t_out "is open to others (mode 0640)"
chmod 0600 "$W/log/seal.key"
chown root "$W/log/seal.key"	# keygen gave it to milter.user
t_run 1 sdoc
t_out "cannot be read and written by milter.user consent-milter"
chown consent-milter "$W/log/seal.key"
t_run 0 sdoc
t_out "no witness copy of the checkpoints"
t_lacks "$T_OUT" "error   seal" "a right seal key is not an error"

# The audit trail: a decision line edited by hand breaks the chain.
cat >"$W/t.lua" <<EOF
local conn = mt.connect("unix:$SOCK")
if conn == nil then os.exit(1) end
if mt.negotiate(conn, nil, nil, nil) ~= nil then os.exit(1) end
mt.macro(conn, SMFIC_MAIL, "{client_addr}", "192.0.2.1", "{client_port}", "4000")
assert(mt.mailfrom(conn, "<shop@example.org>") == nil)
assert(mt.rcptto(conn, "<a@example.com>") == nil)
assert(mt.header(conn, "X-Consent-List", "news") == nil)
assert(mt.eom(conn) == nil)
mt.disconnect(conn)
EOF
t_run 0 miltertest -s "$W/t.lua"
t_run 0 doc
sed -i 's/"verdict":"deny"/"verdict":"allow"/' "$W/log/audit.log"
finding 1 "error   audit" "the chain is broken"

# --- the exit codes -------------------------------------------------------
t_run 2 "$CTL" -c "$W/m.conf" doctor --bogus
t_run 0 "$CTL" doctor --help
t_out "usage: consentctl doctor"

t_check "the milter exits 0 after SIGTERM" daemon_end milter
t_check "no sanitizer report in the milter's stderr" sanitizers_quiet
pf_teardown 0 >/dev/null 2>&1
t_done
