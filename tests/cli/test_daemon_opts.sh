#!/bin/sh
# test_daemon_opts.sh - every program takes the conventional options:
# --help and --version on stdout with exit 0; a bad option or an operand
# on stderr with exit 64 (daemons, through the shared skeleton) or 2
# (consentctl, and "consentctl COMMAND --help" for every command).
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/lib/assert.sh

for d in consent-milter consent-unsubd consent-syncd; do
	t_run 0 "$BUILD/$d" --help
	t_out "usage: $d [-c CONFIG] [-n] [-f] [-d] [-V]"
	t_run 0 "$BUILD/$d" -h
	t_out "usage: $d"
	t_run 0 "$BUILD/$d" --version
	t_out "$d "
	t_run 0 "$BUILD/$d" -V
	t_out "$d "
	t_run 64 "$BUILD/$d" -x
	t_err "usage: $d"
	t_run 64 "$BUILD/$d" extra
	t_err "unexpected argument \"extra\""
	t_run 78 "$BUILD/$d" -n -c /nonexistent/consent-milter.conf
done
# consentctl: the same conventions, exit 2 for a usage error.
t_run 0 "$BUILD/consentctl" --help
t_out "usage: consentctl [-c CONFIG] [-s STOREDIR] COMMAND ..."
t_run 0 "$BUILD/consentctl" --version
t_out "consentctl "
t_run 2 "$BUILD/consentctl" --bogus
t_err "usage: consentctl"
t_run 2 "$BUILD/consentctl"
for cmd in $("$BUILD/consentctl" --commands); do
	t_run 0 "$BUILD/consentctl" -c /dev/null "$cmd" --help
	t_out "usage: consentctl $cmd"
done
t_done
