#!/bin/sh
# deps.sh - install the Debian packages consent-milter builds and tests with.
# Installs only what is missing; does nothing when everything is present.
# The system Postfix is installed unconfigured and never started: the tests
# run their own private instance.  Sendmail is never installed (it would
# remove Postfix): tests/lib/sendmail.sh fetches its .debs with apt-get
# download and unpacks them privately; m4 builds its configuration.
set -eu

PKGS="build-essential pkg-config clang libclang-rt-14-dev
liblmdb-dev lmdb-utils libconfig-dev libcmocka-dev libidn2-dev
libsodium-dev libmicrohttpd-dev libsystemd-dev libmilter-dev miltertest
libgmime-3.0-dev
postfix postfix-lmdb swaks curl python3 opendkim opendkim-tools python3-dkim
gawk bc time debhelper fakeroot lintian mmdebstrap prometheus m4
chromium chromium-driver postgresql-15 libpq-dev"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps.sh: missing packages:$missing" >&2
	echo "deps.sh: run 'make deps' as root, or install them with apt-get" >&2
	exit 1
fi
echo "deps.sh: installing:$missing"
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
