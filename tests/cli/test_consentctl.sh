#!/bin/sh
# test_consentctl.sh - consentctl as an operator uses it: every command,
# its output, its exit code, and the refusals, on a scratch store.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
. "$TOP/tests/lib/assert.sh"
CTL="${CTL_BIN:-$TOP/$BUILD/consentctl}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
S="$W/store"
C="$W/empty.conf"
: >"$C"
ctl() { "$CTL" -c "$C" -s "$S" "$@"; }

# --- init and permissions
t_run 0 ctl init
t_out "store ready"
t_run 0 ctl init			# idempotent
mode=$(stat -c %a "$S")
t_eq "$mode" 750 "store directory mode"
mode=$(stat -c %a "$S/data.mdb")
case $mode in *[2367]) t_fail "data.mdb is world-writable ($mode)" ;; *) t_ok ;; esac
chmod o+w "$S"
t_run 2 ctl stats
t_err "world-writable"
chmod o-w "$S"
t_run 2 "$CTL" -c "$C" -s "$W/nostore" stats
t_err "consentctl init"

# --- usage errors
t_run 2 ctl
t_run 2 ctl frobnicate
t_err 'unknown command "frobnicate"'
t_run 2 ctl subscribe
t_err "missing argument"
t_err "usage: consentctl subscribe"
t_run 2 ctl subscribe a@example.com --bogus
t_err "unknown option"
t_run 2 ctl subscribe a@example.com --reason complaint
t_err "does not apply"
t_run 2 ctl subscribe a@example.com --pending --confirmed
t_err "exclude each other"
t_run 2 ctl subscribe "a@"
t_err 'invalid address "a@"'
t_run 2 ctl subscribe a@example.com --at yesterday
t_err "expected RFC 3339"
t_run 2 ctl subscribe a@example.com --at 2099-01-01T00:00:00Z
t_err "in the future"
t_run 2 ctl subscribe a@example.com --ip 300.1.1.1
t_err "invalid IP address"
t_run 2 ctl subscribe a@example.com --source telepathy
t_err "unknown source"
t_run 2 ctl subscribe a@example.com --list "Bad List"
t_err "invalid list"
t_run 2 ctl -c "$W/missing.conf" stats
t_err "missing.conf"

# --- consent life cycle, opt-in model (the default)
t_run 1 ctl check alice@example.com
t_out "deny (no_consent)"
t_run 0 ctl subscribe '<Alice@Example.COM>' --pending --source form --ip 192.0.2.10 --at 2024-01-01T10:00:00Z --note "spring form"
t_out "alice@example.com pending on list default"
t_run 1 ctl check alice@example.com
t_out "deny (pending)"
t_run 0 ctl confirm alice@example.com --ip 2001:db8::5 --at 2024-01-01T10:05:00+00:00
t_out "confirmed on list default"
t_run 0 ctl check ALICE@example.com
t_out "allow (confirmed)"
t_run 0 ctl check alice@example.com --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["verdict"]=="allow" and d["reason"]=="confirmed" and d["record"]["kind"]=="consent" and d["record"]["source"]=="admin", d' "$T_OUT" && t_ok || t_fail "check --json"
t_run 0 ctl show alice@example.com
t_out "list default: confirmed since 2024-01-01T10:05:00Z"
t_out "ip=192.0.2.10 note=spring form"
t_out "ip=2001:db8::5"
t_run 0 ctl show alice@example.com --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); r=d["records"][0]["record"]; l=r["lists"][0]; assert d["key"]=="alice@example.com" and l["status"]=="confirmed" and len(l["events"])==2 and l["events"][0]["ip"]=="192.0.2.10" and l["events"][0]["note"]=="spring form", d' "$T_OUT" && t_ok || t_fail "show --json"
# Confirming twice, or without a pending subscription.
t_run 2 ctl confirm nobody@example.com
t_err "no pending subscription"
# An older subscribe never undoes a newer unsubscribe.
t_run 0 ctl unsubscribe alice@example.com --source one-click --at 2024-02-01T00:00:00Z
t_out "unsubscribed on list default"
t_run 0 ctl subscribe alice@example.com --at 2024-01-15T00:00:00Z
t_out "alice@example.com: kept as evidence; still unsubscribed on list default"
t_run 1 ctl check alice@example.com
t_out "deny (unsubscribed)"
# Other lists are separate.
t_run 0 ctl subscribe alice@example.com --list news
t_run 0 ctl check alice@example.com --list news
t_out "allow (subscribed)"
t_run 1 ctl check alice@example.com --list other
# A +tag address falls back to the untagged record.
t_run 0 ctl check alice+promo@example.com --list news
t_out "under alice@example.com"

# --- suppressions
t_run 0 ctl subscribe bob@example.com
t_run 0 ctl suppress bob@example.com --reason hard_bounce --ref "<dsn-1@mx.example.com>" --source bounce
t_out "bob@example.com suppressed: hard_bounce"
t_run 1 ctl check bob@example.com
t_out "deny (hard_bounce)"
t_run 0 ctl suppress bob@example.com --reason soft_bounce --expires 2d
t_out "no change: bob@example.com is already suppressed (hard_bounce"
t_out "only 'consentctl unsuppress' clears it"
t_run 0 ctl unsuppress bob@example.com
t_out "suppression removed"
t_run 1 ctl unsuppress bob@example.com
t_out "no suppression to remove"
t_run 0 ctl check bob@example.com
t_run 2 ctl suppress bob@example.com
t_err "--reason is required"
t_run 2 ctl suppress bob@example.com --reason sadness
t_err "unknown reason"
t_run 2 ctl suppress bob@example.com --reason manual --expires soon
t_err "invalid --expires"
# Expiry: a suppression that ended no longer applies.
t_run 0 ctl suppress carol@example.com --reason soft_bounce --at 2024-01-01T00:00:00Z --expires 1d
t_run 0 ctl subscribe carol@example.com
t_run 0 ctl check carol@example.com
t_out "allow"
t_run 0 ctl show carol@example.com
t_out "expired 2024-01-02T00:00:00Z"
# Domains: exact, and with a leading dot for subdomains.
t_run 0 ctl subscribe dave@sub.example.org
t_run 0 ctl suppress example.org --reason manual
t_run 0 ctl check dave@sub.example.org
t_out "allow"
t_run 0 ctl suppress .example.org --reason complaint --note "whole org complained"
t_run 1 ctl check dave@sub.example.org
t_out "suppressed under .example.org"
t_run 0 ctl show dave@sub.example.org
t_out "(domain) .example.org"
t_run 0 ctl unsuppress .example.org
t_run 2 ctl suppress "exa mple.org" --reason manual
t_err "invalid domain"
# Unsubscribe from all lists, and a later opt-in to one list.
t_run 0 ctl subscribe erin@example.com --list news --at 2024-01-01T00:00:00Z
t_run 0 ctl subscribe erin@example.com --list deals --at 2024-01-01T00:00:00Z
t_run 0 ctl unsubscribe erin@example.com --all --at 2024-03-01T00:00:00Z
t_out "suppressed: unsubscribed_all"
t_run 1 ctl check erin@example.com --list news
t_out "deny (unsubscribed_all)"
t_run 0 ctl subscribe erin@example.com --list news --at 2024-04-01T00:00:00Z
t_run 0 ctl check erin@example.com --list news
t_run 1 ctl check erin@example.com --list deals
t_run 2 ctl unsubscribe erin@example.com --all --list news
t_err "exclude each other"

# --- policy from the configuration
printf 'policy: { double_opt_in = true; };\n' >"$W/doi.conf"
t_run 0 ctl subscribe frank@example.com
t_run 1 "$CTL" -c "$W/doi.conf" -s "$S" check frank@example.com
t_out "deny (unconfirmed)"
printf 'policy: { model = "opt-out"; };\n' >"$W/optout.conf"
t_run 0 "$CTL" -c "$W/optout.conf" -s "$S" check stranger@example.com
t_out "allow (opt_out)"
t_run 1 "$CTL" -c "$W/optout.conf" -s "$S" check alice@example.com
printf 'store: { case_sensitive_local = true; };\n' >"$W/cs.conf"
t_run 2 "$CTL" -c "$W/cs.conf" -s "$S" stats
t_err "case-insensitive local parts"
printf 'policy: { modle = "opt-out"; };\n' >"$W/typo.conf"
t_run 2 "$CTL" -c "$W/typo.conf" -s "$S" stats
t_err "typo.conf:1: policy.modle: unknown key"

# --- stats and export
t_run 0 ctl stats
t_out "addresses:"
t_run 0 ctl stats --json
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["addresses"]>=5 and d["suppressions"]["unsubscribed_all"]==1, d' "$T_OUT" && t_ok || t_fail "stats --json"
t_run 0 ctl export
t_out "email,list,status,timestamp,source,ip,note"
t_out "alice@example.com,default,unsubscribed,2024-02-01T00:00:00Z,one-click,,"
cp "$T_OUT" "$W/export.csv"
t_run 0 ctl export --format jsonl
python3 -c '
import json,sys
n=0
for line in open(sys.argv[1]):
    json.loads(line); n+=1
assert n>=6, n' "$T_OUT" && t_ok || t_fail "export jsonl"
t_run 2 ctl export --format xml
t_err "unknown format"

# --- imports of real files, broken ones included
D=$TOP/tests/data
S2="$W/store2"
ctl2() { "$CTL" -c "$C" -s "$S2" "$@"; }
t_run 0 ctl2 init
# Every bad row reported with its line; nothing half applied.
t_run 2 ctl2 import "$D/broken_rows.csv"
for l in 3 4 5 6 7 8 9 10 11 13 14; do t_err "broken_rows.csv: line $l:"; done
t_err 'line 3: invalid address "x@"'
t_err 'line 4: unknown status "maybe"'
t_err "line 8: list \"news letter\""
t_err "(found a space)"
t_err "nothing imported: 11 of 13 rows are bad"
t_run 1 ctl2 check good1@example.com --list news
t_run 1 ctl2 show good1@example.com
# --dry-run writes nothing; --skip-bad takes the good rows (exit 3).
t_run 3 ctl2 import "$D/broken_rows.csv" --skip-bad --dry-run
t_out "dry run, nothing written"
t_run 1 ctl2 check good1@example.com --list news
t_run 3 ctl2 import "$D/broken_rows.csv" --skip-bad
t_out "11 bad rows skipped"
t_run 0 ctl2 check good1@example.com --list news
t_run 0 ctl2 show good1@example.com
t_out "ip=192.0.2.1 note=ok"
# The real export formats, detected from their headers.
t_run 0 ctl2 import "$D/mailchimp_subscribed.csv" --list mc
t_out "(mailchimp)"
t_run 0 ctl2 import "$D/mailchimp_unsubscribed.csv" --list mc
t_run 0 ctl2 import "$D/mailchimp_cleaned.csv" --list mc
t_run 0 ctl2 import "$D/klaviyo_profiles.csv" --list kl
t_out "(klaviyo)"
t_run 0 ctl2 import "$D/bom_crlf.csv"
t_run 0 ctl2 import "$D/generic.csv"
t_out "(csv)"
# Importing the same files again changes nothing.
for f in mailchimp_subscribed mailchimp_unsubscribed mailchimp_cleaned; do
	t_run 0 ctl2 import "$D/$f.csv" --list mc
	t_out ", 0 addresses changed"
done
t_run 0 ctl2 import "$D/klaviyo_profiles.csv" --list kl
t_out ", 0 addresses changed"
t_run 0 ctl2 import "$D/generic.csv"
t_out ", 0 addresses changed"
# Standard input, and a format forced that the header does not fit.
t_run 0 sh -c "\"$CTL\" -c \"$C\" -s \"$S2\" import - <\"$D/generic.csv\""
t_out "(stdin)"
t_run 2 ctl2 import "$D/generic.csv" --format mailchimp
t_err "Mailchimp"
t_run 2 ctl2 import "$W/nonexistent.csv"
t_err "nonexistent.csv: No such file"
# export | import into a new store gives the same export.
ctl2 export >"$W/e1.csv"
"$CTL" -c "$C" -s "$W/store3" init >/dev/null
t_run 0 "$CTL" -c "$C" -s "$W/store3" import "$W/e1.csv"
"$CTL" -c "$C" -s "$W/store3" export >"$W/e2.csv"
if cmp -s "$W/e1.csv" "$W/e2.csv"; then t_ok; else t_fail "export/import round trip differs"; diff "$W/e1.csv" "$W/e2.csv" | head >&2; fi

# --- export guards spreadsheet formulas (OWASP CSV injection); import undoes it
S4="$W/store4"
ctl4() { "$CTL" -c "$C" -s "$S4" "$@"; }
ctl4 init >/dev/null
TAB=$(printf '\t')
cat >"$W/formulas.csv" <<EOT
email,list,status,timestamp,source,ip,note
f1@example.com,news,subscribed,2024-03-01T00:00:00Z,form,192.0.2.7,"=HYPERLINK(""http://x/"",""y"")"
f2@example.com,news,subscribed,2024-03-01T00:00:00Z,form,,@SUM(1+1)
f3@example.com,news,subscribed,2024-03-01T00:00:00Z,form,,+1
f4@example.com,news,subscribed,2024-03-01T00:00:00Z,form,,-2
f5@example.com,news,subscribed,2024-03-01T00:00:00Z,form,,"${TAB}=1+1"
f6@example.com,news,subscribed,2024-03-01T00:00:00Z,form,,'=guarded by a spreadsheet
-f7@example.com,-minus,subscribed,2024-03-01T00:00:00Z,form,,plain
EOT
t_run 0 ctl4 import "$W/formulas.csv"
t_run 0 ctl4 subscribe f8@example.com --list news --note "=cmd|' /C calc'!A0" --at 2024-03-01T00:00:00Z
t_run 0 ctl4 subscribe f9@example.com --list news --note "'=quoted in the store" --at 2024-03-01T00:00:00Z
t_run 0 ctl4 show f1@example.com
t_out 'note==HYPERLINK("http://x/","y")'
# A file's "'=" is read as a spreadsheet shows it; the tab is trimmed.
t_run 0 ctl4 show f6@example.com
t_out "note==guarded by a spreadsheet"
t_run 0 ctl4 show f5@example.com
t_out "note==1+1"
t_run 0 ctl4 export
Q="'"
t_out "f1@example.com,news,subscribed,2024-03-01T00:00:00Z,form,192.0.2.7,\"$Q=HYPERLINK(\"\"http://x/\"\",\"\"y\"\")\""
t_out ",\"$Q@SUM(1+1)\""
t_out ",\"$Q+1\""
t_out ",\"$Q-2\""
t_out ",\"$Q=1+1\""
t_out ",\"$Q=guarded by a spreadsheet\""
t_out "\"$Q-f7@example.com\",\"$Q-minus\",subscribed,"
t_out ",\"$Q=cmd|$Q /C calc$Q!A0\""
t_out ",\"$Q$Q=quoted in the store\""
# No cell, as a spreadsheet reads it, starts a formula.
python3 -c '
import csv, sys
for row in csv.reader(open(sys.argv[1], newline="")):
    for cell in row:
        assert cell[:1] not in ("=", "+", "-", "@", "\t", "\r"), (cell, row)
' "$T_OUT" && t_ok || t_fail "export: a cell starts a formula"
cp "$T_OUT" "$W/f1.csv"
# export | import into a fresh store | export: the same bytes, the same notes.
"$CTL" -c "$C" -s "$W/store5" init >/dev/null
t_run 0 "$CTL" -c "$C" -s "$W/store5" import "$W/f1.csv"
t_out "9 rows, 9 addresses changed"
t_run 0 "$CTL" -c "$C" -s "$W/store5" export
if cmp -s "$W/f1.csv" "$T_OUT"; then t_ok; else t_fail "guarded export/import round trip differs"; diff "$W/f1.csv" "$T_OUT" | head >&2; fi
t_run 0 "$CTL" -c "$C" -s "$W/store5" show f2@example.com
t_out "note=@SUM(1+1)"
t_run 0 "$CTL" -c "$C" -s "$W/store5" show f9@example.com
t_out "note='=quoted in the store"
t_run 0 "$CTL" -c "$C" -s "$W/store5" show -- -f7@example.com
t_out "list -minus: subscribed"

t_done
