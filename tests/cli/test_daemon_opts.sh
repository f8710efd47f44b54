#!/bin/sh
# test_daemon_opts.sh - every daemon takes the same options, through the
# shared skeleton: --help and --version on stdout with exit 0, a bad
# option or an operand on stderr with exit 64, -n checks a configuration.
set -u
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/lib/assert.sh

for d in consent-milter consent-unsubd; do
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
t_done
