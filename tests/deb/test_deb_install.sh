#!/bin/sh
# test_deb_install.sh - the Debian package on a clean Debian 12 root: a
# root made here with mmdebstrap, Postfix installed unconfigured, then
# "apt-get install ./consent-milter_*.deb".  Checks what the package
# promises: the users, the initialised store (never world-writable), the
# socket directory in Postfix's chroot, the conffile readable by
# consentctl as the store's owner, "consent-milter -n", the filter started
# as its unit's user answering a miltertest script, an upgrade that keeps
# the store and a changed configuration, remove keeping data, purge
# removing it.
#
#   tests/deb/test_deb_install.sh consent-milter_VERSION_ARCH.deb
# Needs root and Debian's mirror.  Prints "N passed, M failed" last.
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
. "$TOP/tests/lib/assert.sh"

DEB=${1:?usage: test_deb_install.sh PACKAGE.deb}
case "$DEB" in /*) ;; *) DEB=$TOP/$DEB ;; esac
MIRROR=${DEB_MIRROR:-http://deb.debian.org/debian}
if [ "$(id -u)" -ne 0 ]; then
	echo "skipped: needs root"
	echo "0 passed, 0 failed"
	exit 0
fi
for p in mmdebstrap miltertest; do
	command -v $p >/dev/null || { echo "missing: $p (make deps)"; exit 1; }
done

R=$(mktemp -d /var/tmp/consent-deb.XXXXXX) || exit 1
MPID=
cleanup() {
	[ -n "$MPID" ] && kill -KILL "$MPID" 2>/dev/null
	for m in proc sys dev; do umount -l "$R/root/$m" 2>/dev/null; done
	rm -rf "$R"
}
trap cleanup EXIT INT TERM
in_root() { chroot "$R/root" "$@"; }

# A minimal Debian 12 with Postfix, as an administrator has it.
echo "mmdebstrap bookworm (a minute or two)..."
if ! mmdebstrap --mode=root --variant=minbase --include=ca-certificates \
    --customize-hook='echo "postfix postfix/main_mailer_type select No configuration" | chroot "$1" debconf-set-selections' \
    --include=postfix bookworm "$R/root" "$MIRROR" >"$R/mmdebstrap.log" 2>&1; then
	tail -n 20 "$R/mmdebstrap.log"
	t_fail "mmdebstrap failed"
	t_done
	exit 1
fi
t_ok
for m in proc sys dev; do mount --bind /$m "$R/root/$m"; done
cp "$DEB" "$R/root/tmp/"
name=$(basename "$DEB")

# --- install --------------------------------------------------------------
t_run 0 in_root apt-get update -qq
t_run 0 in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
    --no-install-recommends "/tmp/$name"
t_run 0 in_root getent passwd consent-milter
t_run 0 in_root getent passwd consent-unsubd
t_run 0 in_root sh -c 'id -nG consent-milter | grep -qw postfix'
t_run 0 in_root sh -c 'id -nG consent-unsubd | grep -qw consent-milter'
t_eq "$(in_root stat -c '%U:%G %a' /var/spool/postfix/consent-milter)" \
    "consent-milter:postfix 750" "the socket directory inside Postfix's chroot"
t_eq "$(in_root stat -c '%U:%G %a' /etc/consent-milter/consent-milter.conf)" \
    "root:consent-milter 640" "the conffile"
t_run 0 in_root test -f /var/lib/consent-milter/store/data.mdb
t_eq "$(in_root find /var/lib/consent-milter -perm -o+w | wc -l)" 0 \
    "world-writable files in the store"
t_eq "$(in_root stat -c '%U' /var/lib/consent-milter/store/data.mdb)" \
    "consent-milter" "the store's owner"
t_run 0 in_root test -f /lib/systemd/system/consent-milter.service
t_run 0 in_root test -f /etc/logrotate.d/consent-milter
t_run 0 in_root test -f /usr/share/bash-completion/completions/consentctl
t_run 0 in_root test -f /usr/share/man/man8/consentctl.8.gz
t_run 0 in_root dpkg-query -W -f='${Conffiles}' consent-milter
t_out "/etc/consent-milter/consent-milter.conf"
t_run 0 in_root consent-milter -n -c /etc/consent-milter/consent-milter.conf
t_out "configuration OK"
# As the store's owner, the README's way (runuser is in util-linux).
t_run 0 in_root runuser -u consent-milter -- consentctl subscribe \
    kept@example.com --list news
t_run 0 in_root runuser -u consent-milter -- consentctl stats

# --- the filter, as its unit's user --------------------------------------
unit=$R/root/lib/systemd/system/consent-milter.service
user=$(sed -n 's/^User=//p' "$unit")
group=$(sed -n 's/^Group=//p' "$unit")
t_eq "$user:$group" "consent-milter:consent-milter" "the unit's user"
in_root setpriv --reuid="$user" --regid="$group" --init-groups \
    consent-milter -f -c /etc/consent-milter/consent-milter.conf \
    >"$R/milter.log" 2>&1 &
MPID=$!
SOCK=$R/root/var/spool/postfix/consent-milter/consent-milter.sock
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
t_run 0 test -S "$SOCK"
cat >"$R/t.lua" <<LUA
local conn = mt.connect("unix:$SOCK")
if conn == nil then print("no connection"); os.exit(1) end
if mt.negotiate(conn, nil, nil, nil) ~= nil then os.exit(1) end
mt.macro(conn, SMFIC_MAIL, "v", "Postfix 3.7.11", "{client_addr}", "192.0.2.1",
    "{client_port}", "4000")
if mt.mailfrom(conn, "<news@example.org>") ~= nil then os.exit(1) end
if mt.rcptto(conn, "<kept@example.com>") ~= nil then os.exit(1) end
if mt.rcptto(conn, "<never@example.com>") ~= nil then os.exit(1) end
if mt.header(conn, "X-Consent-List", "news") ~= nil then os.exit(1) end
if mt.eom(conn) ~= nil then os.exit(1) end
local removed = mt.eom_check(conn, MT_RCPTDELETE, "<never@example.com>")
local kept = not mt.eom_check(conn, MT_RCPTDELETE, "<kept@example.com>")
mt.disconnect(conn)
if removed and kept then print("decided: never removed, kept kept") else os.exit(1) end
LUA
t_run 0 miltertest -s "$R/t.lua"
t_out "decided: never removed, kept kept"
# in_root runs in a subshell: find the filter by its root directory.
who=
for p in $(pgrep -x consent-milter); do
	[ "$(readlink "/proc/$p/root")" = "$R/root" ] &&
	    who=$(ps -o uid= -p "$p" | tr -d ' ')
done
# Compared by uid: the names are the root's, not this host's.
t_eq "$who" "$(in_root id -u consent-milter)" "the filter's uid"
kill -TERM "$MPID"
wait "$MPID"
MPID=

# --- upgrade keeps the store and a changed configuration ------------------
in_root sed -i 's/^\(	max_recipients = \)1000;/\1500;/' \
    /etc/consent-milter/consent-milter.conf
t_run 0 in_root env DEBIAN_FRONTEND=noninteractive dpkg --force-confold \
    -i "/tmp/$name"
t_run 0 in_root grep -q 'max_recipients = 500;' /etc/consent-milter/consent-milter.conf
t_run 0 in_root runuser -u consent-milter -- consentctl show kept@example.com
t_out "news"

# --- remove keeps data, purge removes it ---------------------------------
t_run 0 in_root env DEBIAN_FRONTEND=noninteractive apt-get remove -y consent-milter
t_run 0 in_root test -f /var/lib/consent-milter/store/data.mdb
t_run 0 in_root test -f /etc/consent-milter/consent-milter.conf
t_run 0 in_root env DEBIAN_FRONTEND=noninteractive apt-get purge -y consent-milter
t_run 1 in_root test -e /var/lib/consent-milter
t_run 1 in_root test -e /etc/consent-milter
t_run 1 in_root test -e /var/spool/postfix/consent-milter
t_done
