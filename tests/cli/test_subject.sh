#!/bin/sh
# test_subject.sh - a data subject's rights from the command line:
# subject export (one JSON document: the records with their evidence, the
# suppressions that cover them, the audit decisions) and subject erase
# (the records go, tagged forms too; a keyed hash stays), then what
# erasure means for everyone else: show, check, stats and export; an
# import that still has the address (not imported, said), subscribe and
# optin refused, and --after-erasure for a person who signed up again.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
. "$TOP/tests/lib/assert.sh"
CTL="$TOP/$BUILD/consentctl"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
S=$W/store
A=$W/audit.log
cat >"$W/c.conf" <<EOF
policy: { model = "opt-out"; };
audit: { file = "$A"; pseudonymize = false; };
unsubscribe: { keys = ( { id = 1; file = "$W/1.key"; } ); };
optin: { url = "https://u.example.com/c/%t"; };
feedback: { queue_dir = "$W/queue"; };
EOF
ctl() { "$CTL" -c "$W/c.conf" -s "$S" "$@"; }
json_ok() { python3 -m json.tool "$T_OUT" >/dev/null; }

t_run 0 ctl init
t_run 0 ctl keygen "$W/1.key"
t_run 0 ctl subscribe alice@example.com --list news --ip 192.0.2.7 \
    --note "signup form" --source form
t_run 0 ctl subscribe alice+promo@example.com --list promo
t_run 0 ctl unsubscribe alice@example.com --list offers
t_run 0 ctl suppress .example.com --reason manual --expires 1d
t_run 0 ctl subscribe bob@example.org --list news
cat >"$A" <<'EOF'
{"v":1,"type":"open","t":"2026-11-26T22:00:00.000Z","prev":"0000000000000000000000000000000000000000000000000000000000000000","chain":"x"}
{"v":1,"t":"2026-11-26T22:00:01.000Z","qid":"Q1","list":"news","class":"bulk","rcpt":"alice@example.com","verdict":"allow","reason":"subscribed","chain":"y"}
{"v":1,"t":"2026-11-26T22:00:02.000Z","qid":"Q2","list":"news","class":"bulk","rcpt":"bob@example.org","verdict":"allow","reason":"subscribed","chain":"z"}
EOF

# --- export: everything held, one document
t_run 0 ctl subject export alice@example.com
t_check "export is one JSON document" json_ok
t_out '"subject":"alice@example.com"'
t_out '"erased":null'
t_out '"ip":"192.0.2.7"'
t_out '"note":"signup form"'
t_out '"source":"form"'
t_out '"match":"domain"'
t_out '"rcpt":"alice@example.com","verdict":"allow"'
t_not_out 'bob@example.org'
t_err "1 record, 1 covering domain suppression, 0 reports in the review queue, 1 audit decision"
t_run 0 ctl subject export alice+promo@example.com --audit "$A"
t_out '"match":"untagged"'
t_out '"list":"promo"'
t_run 1 ctl subject export nobody@example.net --audit "$A"
t_run 2 ctl subject export alice@example.com --audit "$W/missing.log"
t_run 2 ctl subject
t_run 2 ctl subject frob alice@example.com
t_err 'unknown subcommand "frob"'
t_run 2 ctl subject erase
t_err "usage: consentctl subject erase"

# Reports without proof wait in the review queue, raw, naming who they
# claim: one for alice (in another case), one for alice's tagged form, one
# for bob, one for a longer address that only contains alice's.
D=$TOP/tests/data/feedback
for who in ALICE@Example.com alice+promo@example.com bob@example.org \
    malice@example.com; do
	sed "s/nobody@example.net/$who/g" "$D/postfix_5.1.1.eml" >"$W/dsn"
	t_run 0 ctl feedback <"$W/dsn"
	t_out "queued"
done

# Export names what the queue holds about the person: the two reports
# for alice and her tagged form, not bob's, not malice's.
t_run 0 ctl subject export alice@example.com
t_check "export with the queue is one JSON document" json_ok
t_err "2 reports in the review queue"
t_check "the review queue's reports in the export are alice's two" \
    python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
r = sorted(q["recipients"].lower() for q in d["review_queue"])
assert r == ["alice+promo@example.com 5.1.1", "alice@example.com 5.1.1"], r
assert all("Final-Recipient" in q["raw"] and q["kind"] == "dsn" for q in d["review_queue"]), d["review_queue"]' "$T_OUT"
t_not_out "bob@example.org"
t_not_out "malice@"
# A report cut off before its meta file names her all the same.
cp "$(grep -l "ALICE@Example.com" "$W"/queue/*.eml | head -n 1)" "$W/queue/20261101T000000Z-00000000.eml.tmp"
t_run 0 ctl subject export alice@example.com
t_err "3 reports in the review queue"
t_out '"id":"20261101T000000Z-00000000","incomplete":true'
rm -f "$W/queue/20261101T000000Z-00000000.eml.tmp"

# --- erase
t_run 0 ctl subject erase alice@example.com
t_out "alice@example.com erased: 2 records removed (3 lists"
t_out "kept: a keyed hash"
t_out "2 reports naming the address removed from the review queue"
# This trail writes addresses in clear (pseudonymize = false): erase must
# not claim that it names the person by a pseudonym.
if grep -qF "keyed pseudonym" "$T_ERR"; then t_fail "erase claims a pseudonym"; else t_ok; fi
t_err "audit.pseudonymize is off: the audit trail names the address in clear"
t_run 0 ctl feedback queue list
t_not_out "ALICE@Example.com"
t_not_out "alice+promo@"
t_out "bob@example.org"
t_out "malice@example.com"
# Of the raw reports left, none names alice but as part of malice.
t_run 1 sh -c "cat '$W'/queue/*.eml '$W'/queue/*.meta | sed 's/malice@//g' | grep -i 'alice[@+]'"
# A bounce of mail queued before the erasure comes back later: it is not
# kept for review either (nothing that names the person is stored).
sed "s/nobody@example.net/Alice+x@example.com/g" "$D/postfix_5.1.1.eml" >"$W/dsn"
t_run 0 ctl feedback <"$W/dsn"
t_out "not kept: it names an address erased at the person's request"
t_run 1 sh -c "cat '$W'/queue/*.eml '$W'/queue/*.meta | sed 's/malice@//g' | grep -i 'alice[@+]'"
t_run 0 ctl show alice@example.com
t_out "erased at the person's request"
t_not_out "192.0.2.7"
t_run 0 ctl show alice+promo@example.com
t_out "erased"
t_run 1 ctl check alice@example.com --list news
t_out "deny (erased)"
t_run 1 ctl check alice+new@example.com --list news --json
t_out '"reason":"erased"'
t_out '"key":"untagged"'
t_run 0 ctl check bob@example.org --list news
t_run 0 ctl stats
t_out "erased:           2"
t_run 0 ctl export
t_not_out "alice"
t_run 0 ctl export --format jsonl
t_not_out "alice"
t_run 0 ctl subject export alice@example.com
t_check "export after erasure is JSON" json_ok
t_out '"erased":{"at":'
t_out '"records":[]'
# The audit line stays: the proof of a past decision.
t_out '"rcpt":"alice@example.com","verdict":"allow"'
t_run 0 ctl subject erase alice@example.com
t_out "erased (again): 0 records removed"

# --- never back by an import, nor by a signup that does not say so
printf 'email,status,list\nalice@example.com,subscribed,news\ncarol@example.org,subscribed,news\nALICE+promo@Example.com,subscribed,promo\n' >"$W/i.csv"
t_run 0 ctl import "$W/i.csv"
t_err "2 rows (the first on line 2) of addresses erased"
t_err "they stay unmailable"
t_run 0 ctl show alice@example.com
t_not_out "news: subscribed"
t_run 1 ctl check alice@example.com --list news
t_run 0 ctl check carol@example.org --list news
t_run 2 ctl subscribe alice@example.com --list news
t_err "was erased at the person's request"
t_err "--after-erasure"
t_run 2 ctl optin alice@example.com --list news
t_err "was erased at the person's request"
t_not_out "https://"
# An unsubscribe or a bounce for her changes nothing, and stores nothing.
t_run 0 ctl unsubscribe alice@example.com --all
t_run 0 ctl suppress alice@example.com --reason hard_bounce
t_run 0 ctl export --format jsonl
t_not_out "alice"

# --- signed up again, deliberately
t_run 0 ctl unsuppress .example.com
t_run 0 ctl subscribe alice@example.com --list news --source form \
    --after-erasure
t_out "alice@example.com subscribed on list news"
t_run 0 ctl check alice@example.com --list news
t_run 0 ctl show alice@example.com
t_not_out "erased"
t_run 0 ctl optin alice+promo@example.com --list promo --after-erasure
t_out "https://u.example.com/c/"
t_run 0 ctl subject erase alice+promo@example.com
# Her tagged form was erased on its own: still so.
t_run 1 ctl check alice+promo@example.com --list promo
t_run 2 ctl subscribe --after-erasure
t_run 2 ctl unsubscribe alice@example.com --after-erasure
t_err "does not apply"

# --- a fleet's replica: refused, nothing changed
cat >"$W/f.conf" <<EOF
sync: { conninfo = "host=/nonexistent dbname=consent"; host_id = "mta1"; };
EOF
t_run 2 "$CTL" -c "$W/f.conf" -s "$S" subject erase bob@example.org
t_err "not there yet"
t_run 0 ctl check bob@example.org --list news
t_done
