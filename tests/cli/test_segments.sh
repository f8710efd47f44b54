#!/bin/sh
# test_segments.sh - the segments people ask for: consentctl export
# --status STATUS[,STATUS] [--list L] [--older-than DURATION] and stats by
# list and status, on a store with one person in each state.
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/../.." || exit 1
BUILD=${BUILD:-build}
. tests/lib/assert.sh
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
printf 'store: { path = "%s/store"; };\n' "$W" >"$W/c.conf"
ctl() { "$BUILD/consentctl" -c "$W/c.conf" "$@"; }
ctl init >/dev/null
ctl subscribe pend@example.com --list news --pending --at 2026-01-01T00:00:00Z >/dev/null
ctl subscribe fresh@example.com --list news --pending >/dev/null
ctl subscribe sub@example.com --list news >/dev/null
ctl subscribe conf@example.com --list news --confirmed >/dev/null
ctl unsubscribe gone@example.com --list news >/dev/null
ctl subscribe elsewhere@example.com --list promo >/dev/null
ctl subscribe hb@example.com --list news >/dev/null
ctl suppress hb@example.com --reason hard_bounce >/dev/null
ctl suppress old@example.com --reason manual --expires 2020-01-01T00:00:00Z --at 2019-01-01T00:00:00Z >/dev/null 2>&1

rows() { t_run 0 ctl export --status "$@"; tail -n +2 "$T_OUT" | cut -d, -f1 | sort | tr '\n' ' '; }
t_eq "$(rows pending --list news)" "fresh@example.com pend@example.com " "pending"
t_eq "$(rows subscribed)" "elsewhere@example.com hb@example.com sub@example.com " "subscribed, every list"
t_eq "$(rows subscribed --list news)" "hb@example.com sub@example.com " "subscribed on news"
t_eq "$(rows confirmed)" "conf@example.com " "confirmed"
t_eq "$(rows unsubscribed)" "gone@example.com " "unsubscribed"
t_eq "$(rows suppressed)" "hb@example.com " "suppressed (an expired one is not)"
t_eq "$(rows not_opted_in --list news)" "elsewhere@example.com fresh@example.com old@example.com pend@example.com " \
    "not_opted_in on news: known, neither opted in nor suppressed (an expired suppression is none)"
t_eq "$(rows pending,confirmed)" "conf@example.com fresh@example.com pend@example.com " "two statuses"
t_eq "$(rows pending --older-than 30d)" "pend@example.com " "pending for more than 30 days"
t_run 0 ctl export --status not_opted_in --list news
t_out "elsewhere@example.com,news,not_opted_in,"
# The rows of a segment read back as an import.
ctl export --status pending,confirmed >"$W/seg.csv"
t_run 0 ctl import "$W/seg.csv" --dry-run
t_run 2 ctl export --status bogus
t_err 'unknown status "bogus"'
t_run 2 ctl export --older-than 30d
t_err "choose rows of a --status segment"
t_run 2 ctl export --status pending --format jsonl
t_run 2 ctl export --status pending --older-than 0d

# stats by list and status
t_run 0 ctl stats
t_out "list                      pending   subscribed    confirmed unsubscribed"
t_out "news                            2            2            1            1"
t_out "promo                           0            1            0            0"
t_run 0 ctl stats --json --list promo
t_out '"lists":{"promo":{"pending":0,"subscribed":1,"confirmed":0,"unsubscribed":0}}'
t_done
