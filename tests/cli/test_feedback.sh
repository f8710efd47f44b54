#!/bin/sh
# test_feedback.sh - consentctl feedback as pipe(8) runs it, on the corpus
# of tests/data/feedback with real tokens put in: what each format
# records (and the evidence show prints), what is queued and why, the
# sysexits codes, soft counts up to their threshold, the signed return
# path, forgeries, and the review queue's list, show, apply and discard.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
. "$TOP/tests/lib/assert.sh"
CTL="${CTL_BIN:-$TOP/$BUILD/consentctl}"
D="$TOP/tests/data/feedback"
FAKE=AXq7Zt3dFZ9cLr1pQe0b5YwKJmN2sV8hU4oG6iT_xRaE-lBkCgHjD7fWnMzSyOv1Pu3Q9e2RtL0aZ5XcVbNmKdJhGf8sWqYpUo4I6rE_TyA-lk
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
"$CTL" -s "$W/x" keygen "$W/k1.key" >/dev/null
cat >"$W/c.conf" <<EOF
store: { path = "$W/store"; };
unsubscribe: { keys = ( { id = 1; file = "$W/k1.key"; } ); };
feedback: { queue_dir = "$W/queue"; };
EOF
ctl() { "$CTL" -c "$W/c.conf" "$@"; }
ctl init >/dev/null

# with_token FILE ADDRESS [LIST]: the sample with a real token for ADDRESS.
with_token() {
	tok=$(ctl token "$2" --list "${3:-news}") || exit 1
	sed "s/$FAKE/$tok/g" "$D/$1" >"$W/msg"
}
# feed CODE: the message in $W/msg through consentctl feedback.
feed() { t_run "$1" ctl feedback <"$W/msg"; }
# supp ADDRESS REASON: show says ADDRESS is suppressed for REASON.
supp() {
	t_run 0 ctl show "$1"
	t_out "suppressed: $2"
}

# --- each format, with proof: a suppression with its evidence
with_token postfix_5.1.1.eml nobody@example.net
feed 0
t_out "nobody@example.net hard 5.1.1: hard_bounce recorded (token, list news"
supp nobody@example.net "hard_bounce (source bounce)"
t_out "ref: <news-2026-12.nobody@example.org>"
t_out "note: 5.1.1 by mx.example.net (reported by mta.example.org): 550 5.1.1 <nobody@example.net>: Recipient address rejected"
t_run 1 ctl check nobody@example.net --list news
t_out "hard_bounce"
sleep 1; feed 0			# again, a second later: nothing changes
t_out "hard_bounce already recorded"

with_token exim_5.1.1.eml gone@example.com
feed 0
t_out "gone@example.com hard 5.1.1"	# Status 5.0.0, the diagnostic's code
supp gone@example.com hard_bounce

with_token o365_5.1.10.eml jdoe@contoso.com
feed 0
supp jdoe@contoso.com hard_bounce
t_out "5.1.10 by ? (reported by AM0PR01MB1234.eurprd01.prod.exchangelabs.com)"

with_token gmail_5.1.1.eml no.such.user.2026@gmail.com
feed 0
supp no.such.user.2026@gmail.com hard_bounce

with_token plain_code.eml olduser@example.info
feed 0
t_out "olduser@example.info hard 5.1.1: hard_bounce recorded (token"
supp olduser@example.info hard_bounce

# RFC 6533: the UTF-8 recipient, and its token for the A-label key.
key=$(ctl show "用户@例子.网络" --json | sed -n 's/.*"key":"\([^"]*\)".*/\1/p' | head -n 1)
with_token global_utf8.eml "用户@例子.网络"
feed 0
supp "用户@例子.网络" hard_bounce
t_eq "$(ctl show "用户@例子.网络" | head -n 1)" "$key" "the store key of a UTF-8 address"

# --- policy refusals are reported, never a suppression
with_token o365_5.7.515.eml jdoe@outlook.com
feed 0
t_out "jdoe@outlook.com policy 5.7.515: not applied"
t_run 1 ctl show jdoe@outlook.com

# --- soft bounces: counted, the third within 7 days suppresses, and expires
with_token gmail_5.2.2.eml full.mailbox@gmail.com
feed 0
t_out "soft bounce 1 of 3 counted"
t_run 0 ctl show full.mailbox@gmail.com --json
t_out '"soft_bounces":{"count":1'
t_run 0 ctl show full.mailbox@gmail.com
t_out "soft bounces: 1 since"
# The same bounce again (a resend, a replay, a second copy): one message
# counts once, however often its bounce comes back.
feed 0
t_out "not applied"
t_out "counted already"
feed 0
t_out "counted already"
t_run 0 ctl show full.mailbox@gmail.com
t_out "soft bounces: 1 since"
# another_message N: the bounce of another message to the same person.
another_message() { sed -i "s/news-2026-12\.[a-z0-9]*@example.org/news-2026-12.m$1@example.org/g" "$W/msg"; }
another_message 2
feed 0
t_out "soft bounce 2 of 3 counted"
feed 0
t_out "counted already"
another_message 3
feed 0
t_out "soft bounce 3: soft_bounce recorded"
supp full.mailbox@gmail.com "soft_bounce (source bounce)"
t_out "expires"
t_not_out "soft bounces:"		# the count starts again

# An opt-out for good is not replaced by a suppression that ends: the
# soft bounces of mail sent before the person left every list come back
# after it, and 30 days later they would be mailable again.
t_run 0 ctl unsubscribe left@gmail.com --all
with_token gmail_5.2.2.eml left@gmail.com
sed -i 's/full\.mailbox@gmail\.com/left@gmail.com/g' "$W/msg"
for n in 1 2 3; do
	another_message "left$n"
	feed 0
done
t_out "soft bounce 3"
supp left@gmail.com "unsubscribed_all"
t_not_out "expires"

# --- complaints: abuse suppresses the token's recipient, redacted or not
with_token arf_abuse.eml reader@example-isp.net
feed 0
t_out "reader@example-isp.net hard arf: complaint recorded (token"
supp reader@example-isp.net "complaint (source complaint)"
t_out "note: complaint (Feedback-Type abuse) from mx3.example-isp.net"
t_out "ref: <news-2026-12.arf@example.org>"
with_token arf_notspam_redacted.eml other@example-isp.net
feed 0
t_out "not applied"
t_run 1 ctl show other@example-isp.net

# --- no proof, or proof of someone else: nothing changes, it is queued
cp "$D/postfix_5.1.1.eml" "$W/msg"		# the fake token only
feed 0
t_out "queued "
t_out "no valid List-Unsubscribe token (tokens found, none valid)"
with_token postfix_5.1.1.eml alice@example.net	# a token, but not for nobody@
sed 's/nobody@example.net/victim@example.net/g' "$W/msg" >"$W/forged"
cp "$W/forged" "$W/msg"
feed 0
t_out "the token names alice@example.net but the report names victim@example.net"
t_run 1 ctl show victim@example.net
t_run 1 ctl show alice@example.net
with_token sendmail_multi.eml alice@example.edu	# no token came back
feed 0
t_out "no proof that we sent to alice@example.edu"
cp "$D/plain_nocode.eml" "$W/msg"
feed 0
t_out "without an enhanced status code: not guessed"

# --- the signed return path: proof for a DSN that returns no headers
rp=$(ctl feedback sign nobody2@example.net bounces@example.org)
case $rp in bounces+fb-01*@example.org) t_ok ;; *) t_fail "signed return path: $rp" ;; esac
sed -e '/^--4XyZ1D2F3Gz9abc.1764583205\/mta.example.org$/,$!b' \
    -e '/Undelivered Message Headers/,$d' "$D/postfix_5.1.1.eml" |
	sed -e "s/bounces+fb-01504e3k9xqz7mfp2hd4wa@example.org/$rp/g" \
	    -e 's/nobody@example.net/nobody2@example.net/g' >"$W/msg"
t_run 0 grep -q "Final-Recipient: rfc822; nobody2@example.net" "$W/msg"
feed 0
t_out "nobody2@example.net hard 5.1.1: hard_bounce recorded (return-path"
supp nobody2@example.net hard_bounce
# Named only by --rcpt (pipe(8)'s ${recipient}), no header carries it.
rp3=$(ctl feedback sign nobody3@example.net bounces@example.org)
sed -e "s/$rp/bounces@example.org/g" -e 's/nobody2@example.net/nobody3@example.net/g' \
    "$W/msg" >"$W/msg3"
t_run 0 ctl feedback <"$W/msg3"
t_out "queued"
t_run 0 ctl feedback --rcpt "$rp3" <"$W/msg3"
t_out "nobody3@example.net hard 5.1.1: hard_bounce recorded (return-path"
# A signed return path names its recipient: another one is a forgery.
sed 's/nobody3@example.net/victim@example.net/g' "$W/msg3" >"$W/msg"
t_run 0 ctl feedback --rcpt "$rp3" <"$W/msg"
t_out "queued"
t_run 1 ctl show victim@example.net

# --- not a report, malformed: 65 and the reason; the store away: 75
for f in not_report broken_status broken_nostatus broken_mime broken_binary huge_groups; do
	t_run 65 ctl feedback <"$D/$f.eml"
	t_err "feedback: not applied: "
done
t_run 65 ctl feedback </dev/null
t_err "empty message"
with_token postfix_5.1.1.eml late@example.net
sed 's/nobody@example.net/late@example.net/g' "$W/msg" >"$W/late"
t_run 75 ctl -s "$W/nostore" feedback <"$W/late"
t_err "no store here"
t_run 0 ctl feedback <"$W/late"			# the retry
supp late@example.net hard_bounce

# --- the review queue
t_run 0 ctl feedback queue list
n=$(grep -c '  dsn \|  plain ' "$T_OUT")
t_eq "$n" 6 "reports queued"
t_out "victim@example.net"
id=$(grep alice@example.edu "$T_OUT" | cut -d' ' -f1)
t_run 0 ctl feedback queue list --json
t_out '"kind":"dsn"'
t_out '"seen":null'
t_run 2 ctl feedback queue discard "$id"
t_err "was never shown"
t_run 0 ctl feedback queue show "$id"
t_out "why queued: no proof that we sent to alice@example.edu"
t_out "Final-Recipient: RFC822; bob@example.edu"
t_run 0 ctl feedback queue list
t_out "$id  "
grep "$id" "$T_OUT" | grep -q " seen " && t_ok || t_fail "shown report not seen"
# apply: the report's own recipients, source admin; policy is still no suppression
t_run 0 ctl feedback queue apply "$id"
t_out "alice@example.edu hard 5.1.1: hard_bounce recorded (admin"
t_out "bob@example.edu soft 5.2.2: soft bounce 1 of 3 counted (admin"
t_out "carol@example.edu policy 5.7.1: not applied"
supp alice@example.edu "hard_bounce (source admin)"
t_out "note: by admin from the review queue: 5.1.1 by mail.example.edu"
t_run 1 ctl show carol@example.edu
t_run 1 ctl feedback queue show "$id"			# applied: gone
t_run 1 ctl feedback queue apply 20261201T000000Z-00000000
t_run 1 ctl feedback queue show ../../etc/passwd
id=$(ls "$W/queue" | sed -n 's/\.meta$//p' | head -n 1)
t_run 0 ctl feedback queue discard "$id" --force
t_out "$id discarded"
t_run 2 ctl feedback queue frobnicate x
t_run 64 ctl feedback --bogus
t_run 64 ctl feedback extra

# A full queue defers (75): Postfix keeps the report, nothing is lost unread.
sed -e 's/queue_dir = [^;]*;/queue_dir = "'"$(echo "$W" | sed 's/[\/&]/\\&/g')"'\/q2"; queue_max = 1;/' \
    "$W/c.conf" >"$W/c2.conf"
t_run 0 "$CTL" -c "$W/c2.conf" feedback <"$D/sendmail_multi.eml"
t_run 75 "$CTL" -c "$W/c2.conf" feedback <"$D/sendmail_multi.eml"
t_err "the review queue is full"
# The sweep: a report shown and older than queue_retention goes at the
# next list (and makes room); one never shown stays, however old.
old=$(ls "$W/q2" | sed -n 's/\.meta$//p')
sed -i 's/^time=.*/time=1000000000/' "$W/q2/$old.meta"
t_run 0 "$CTL" -c "$W/c2.conf" feedback queue list
t_out "$old  "
t_run 0 "$CTL" -c "$W/c2.conf" feedback queue show "$old"
t_run 0 "$CTL" -c "$W/c2.conf" feedback queue list
t_not_out "$old"
[ ! -e "$W/q2/$old.meta" ] && [ ! -e "$W/q2/$old.eml" ] && t_ok ||
	t_fail "a shown report past its retention was kept"
t_run 0 "$CTL" -c "$W/c2.conf" feedback <"$D/sendmail_multi.eml"

# --- feedback lines for the audit report: chained, pseudonymised
"$CTL" -c /dev/null keygen "$W/audit.key" >/dev/null
sed -e 's|^feedback: {.*|feedback: { queue_dir = "'"$W"'/q3"; audit_file = "'"$W"'/fb.log"; };|' \
    "$W/c.conf" >"$W/c3.conf"
echo "audit: { key_file = \"$W/audit.key\"; };" >>"$W/c3.conf"
with_token arf_abuse.eml reader2@example-isp.net
t_run 0 "$CTL" -c "$W/c3.conf" feedback <"$W/msg"
t_run 0 "$CTL" -c "$W/c3.conf" feedback <"$D/sendmail_multi.eml"
t_run 0 grep -c '"type":"feedback"' "$W/fb.log"
t_out 4
t_run 0 grep '"reason":"complaint"' "$W/fb.log"
t_out '"list":"news"'
t_out '"outcome":"applied"'
t_out '"stage":"arf"'
t_run 0 grep '"ev_value":"5.2.2"' "$W/fb.log"
t_out '"outcome":"queued"'
t_not_out 'example.edu'			# pseudonymised
t_run 0 "$CTL" -c "$W/c3.conf" audit verify "$W/fb.log"
t_out "chain intact"
printf 'feedback: { audit_file = "/x"; };\n' >"$W/c4.conf"
t_run 2 "$CTL" -c "$W/c4.conf" stats
t_err "feedback.audit_file: needs audit.key_file"

# --- the audit report: bounce and complaint rates per list and day
sed -e 's|^feedback: {.*|feedback: { queue_dir = "'"$W"'/q5"; audit_file = "'"$W"'/fb5.log"; };|' \
    "$W/c.conf" >"$W/c5.conf"
echo 'audit: { pseudonymize = false; };' >>"$W/c5.conf"
day=$(date -u +%Y-%m-%d)
i=0
while [ $i -lt 400 ]; do
	printf '{"v":1,"t":"%sT00:00:01.000Z","qid":"Q%04d","list":"news","class":"bulk","rcpt":"u%d@example-isp.net","verdict":"allow","reason":"consent","outcome":"accepted"}\n' \
		"$day" $i $i
	i=$((i + 1))
done >"$W/milter.log"
for who in u1 u2; do
	with_token arf_abuse.eml "$who@example-isp.net"
	t_run 0 "$CTL" -c "$W/c5.conf" feedback <"$W/msg"
done
t_run 0 "$CTL" -c "$W/c5.conf" feedback <"$W/msg"	# the same complaint again
with_token postfix_5.1.1.eml u3@example-isp.net
sed 's/nobody@example.net/u3@example-isp.net/g' "$W/msg" >"$W/m3"
t_run 0 "$CTL" -c "$W/c5.conf" feedback <"$W/m3"
t_run 0 "$CTL" -c "$W/c5.conf" audit report --audit "$W/milter.log" --audit "$W/fb5.log"
t_out "Bounces and complaints per list and day (UTC)"
grep -E "^  news +$day +400 +1 +0 +0 +2 +0.250% +0.500% +YES" "$T_OUT" >/dev/null &&
	t_ok || { t_fail "the news row: 400 delivered, 1 hard, 2 complaints, flagged"; grep -A4 "^Bounces" "$T_OUT" >&2; }
t_out "list-days with complaints at 0.3% or more"
t_run 0 "$CTL" -c "$W/c5.conf" audit report --audit "$W/milter.log" --audit "$W/fb5.log" --json
t_out '"complaints":2,"bounce_rate":"0.250%","complaint_rate":"0.500%","over_complaint_limit":true'
t_out '"complaint_days_over":1'
t_run 0 "$CTL" -c "$W/c5.conf" audit report --audit "$W/milter.log" --audit "$W/fb5.log" --csv
t_out "over_complaint_limit"
t_run 0 "$CTL" -c "$W/c5.conf" audit report --audit "$W/milter.log" --audit "$W/fb5.log" --html "$W/r.html"
t_run 0 grep -q 'Bounces and complaints per list and day' "$W/r.html"
# Without feedback lines the table is empty, the report as it was.
t_run 0 "$CTL" -c "$W/c5.conf" audit report --audit "$W/milter.log"
t_not_out "0.250%"

t_done
