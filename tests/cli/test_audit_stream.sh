#!/bin/sh
# test_audit_stream.sh - consentctl audit report's merged reading, on a
# week of generated mail in time order: the report it gives is byte for
# byte the one of reading everything first (CONSENTCTL_REPORT_WHOLE=1),
# in every form, from files and from pipes; and what only a reading that
# forgets messages can get wrong, each by its outcome: a content filter's
# copy and a forwarded copy delivered six hours after the original was
# removed, forty copies a pipe filter re-injects 50 minutes later (joined
# by message-id), mail deferred for three days, a queue id Postfix used
# again two days later, mail held for eight days, an unsubscribe shown
# only a week after the late delivery, an audit longer than its mail log.  A file out of order is
# read whole, and says so.  The merged reading holds a fraction of what
# the whole one does (peak RSS, compared in the same run).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
# shellcheck source=tests/lib/assert.sh
. "$TOP/tests/lib/assert.sh"
CTL="${CTL_BIN:-$TOP/$BUILD/consentctl}"
W=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT
TZ=UTC
export TZ

if ! command -v python3 >/dev/null 2>&1; then
	t_fail "python3 is needed to build the fixtures and read the output"
	t_done
	exit 1
fi

# --- fixtures: MSGS ordinary messages around the cases, in time order
MSGS=${STREAM_MSGS:-30000}
python3 - "$W" "$MSGS" <<'EOF'
import base64, hashlib, hmac, json, os, random, sys, time
W, N = sys.argv[1], int(sys.argv[2])
rnd = random.Random(7)
key = bytes(range(32))
with open(W + "/audit.key", "w") as f:
    f.write(base64.urlsafe_b64encode(key).decode().rstrip("=") + "\n")
os.chmod(W + "/audit.key", 0o600)
with open(W + "/keyed.conf", "w") as f:
    f.write('audit: { key_file = "%s/audit.key"; pseudonymize = true; };\n' % W)
    f.write('actions: { redirect_to = "hold@example.com"; };\n')

def ps(a):
    return "h:" + hmac.new(key, a.encode(), hashlib.sha256).hexdigest()[:32]
def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(int(t))) + \
        ".%03dZ" % (int(t * 1000) % 1000)
def sysl(t):
    return time.strftime("%b %d %H:%M:%S", time.gmtime(int(t)))

A1, M1, A2, M2 = [], [], [], []	# (time, line): the story, the reuse
A, M = A1, M1
OLD = ("consent", "confirmed", "form", "2026-06-01T10:00:00Z")
def dec(t, qid, who, verdict="allow", reason="confirmed", outcome="accepted",
        lst="news", ev=OLD, msgid=None):
    d = {"v": 1, "t": iso(t), "qid": qid,
         "msgid": msgid or "<%s@mailer.example.com>" % qid.lower(),
         "from": "news@example.com"}
    if lst:
        d["list"] = lst
    d["class"] = "bulk" if lst else "transactional"
    d.update({"rcpt": ps(who), "verdict": verdict, "reason": reason,
              "action": "none" if verdict == "allow" else "reject",
              "stage": "eom", "outcome": outcome})
    if ev:
        d["ev_kind"], d["ev_value"], d["ev_source"], d["ev_time"] = ev
    A.append((t, json.dumps(d, separators=(",", ":"))[:-1] +
              ',"chain":"' + "ab" * 32 + '"}'))
def log(t, prog, rest):
    M.append((t, "%s mx postfix/%s: %s" % (sysl(t), prog, rest)))
def cleanup(t, qid, msgid=None):
    log(t, "cleanup[2]", "%s: message-id=%s" % (qid, msgid or
        "<%s@mailer.example.com>" % qid.lower()))
def deliver(t, qid, to, status="sent", text="250 2.0.0 Ok",
            relay="mx.example.org[198.51.100.7]:25", orig=None):
    o = ", orig_to=<%s>" % orig if orig else ""
    log(t, "smtp[4]", "%s: to=<%s>%s, relay=%s, delay=1, delays=0/0/0/1, "
        "dsn=2.0.0, status=%s (%s)" % (qid, to, o, relay, status, text))
def removed(t, qid):
    log(t, "qmgr[3]", "%s: removed" % qid)

T0 = 1793491200		# 2026-11-01T00:00:00Z
A.append((T0, '{"v":1,"type":"open","t":"%s","prev":"%s","chain":"%s"}'
          % (iso(T0), "0" * 64, "ab" * 32)))
users = ["user%05d@example.com" % i for i in range(5000)]
t = T0 + 10
for n in range(N):
    t += rnd.choice((1, 2, 3, 5, 8))
    q = "1%09X" % n
    lst = rnd.choice(("news", "promo", None))
    rc = rnd.sample(users, rnd.choice((1, 1, 2, 3)))
    out = []
    for u in rc:
        if lst and rnd.random() < 0.05:
            dec(t, q, u, "deny", "no_consent", "removed", lst, None)
        else:
            dec(t, q, u, lst=lst)
            out.append(u)
    cleanup(t - 0.5, q)
    for u in out:
        deliver(t + 2, q, u)
    if n % 997 == 0:
        deliver(t + 3, q, "archive@example.com")	# always_bcc: flagged
    removed(t + 4, q)
    if n % (N // 40) == 7:
        # Re-injected by a pipe filter 50 minutes later, same message-id
        # (forty times, so that some fall across the reading's sweeps):
        # joins by message-id; the denied copy is flagged.
        k = n // (N // 40)
        pm = "<pipe-%d@mailer.example.com>" % k
        c, d = "2C%08X" % k, "2D%08X" % k
        dec(t, c, "pipe@example.com", msgid=pm)
        dec(t, c, "pipedeny@example.com", "deny", "no_consent",
            "removed", "news", None, msgid=pm)
        cleanup(t - 0.5, c, pm)
        deliver(t + 1, c, "pipe@example.com", relay="filter",
                text="delivered via filter service")
        removed(t + 2, c)
        cleanup(t + 3000, d, pm)
        deliver(t + 3001, d, "pipe@example.com")
        deliver(t + 3001, d, "pipedeny@example.com")
        removed(t + 3002, d)
    if n == N // 4:
        # A content filter's copy, delivered six hours after its
        # parent was removed: joins the parent's decision, allowed.
        dec(t, "2A00000001", "cf@example.com")
        cleanup(t - 0.5, "2A00000001")
        deliver(t + 1, "2A00000001", "cf@example.com",
                relay="127.0.0.1[127.0.0.1]:10025",
                text="250 2.0.0 Ok: queued as 2B00000001")
        removed(t + 2, "2A00000001")
        cleanup(t + 1.5, "2B00000001", "<2a00000001@mailer.example.com>")
        deliver(t + 6 * 3600, "2B00000001", "cf@example.com")
        removed(t + 6 * 3600 + 1, "2B00000001")
        # Forwarded by local(8), the copy (no message-id of its own in
        # the log) delivered six hours later: joins its parent.
        dec(t, "2G00000001", "fwd@example.com")
        cleanup(t - 0.5, "2G00000001")
        deliver(t + 1, "2G00000001", "ext@remote.example", relay="local",
                orig="fwd@example.com", text="forwarded as 2H00000001")
        removed(t + 2, "2G00000001")
        deliver(t + 6 * 3600, "2H00000001", "ext@remote.example",
                orig="fwd@example.com")
        removed(t + 6 * 3600 + 1, "2H00000001")
        # Deferred for three days, a retry every hour.
        dec(t, "2E00000001", "slow@example.com")
        cleanup(t - 0.5, "2E00000001")
        for h in range(72):
            deliver(t + 10 + 3600 * h, "2E00000001", "slow@example.com",
                    status="deferred", text="451 4.3.0 try again later")
        deliver(t + 10 + 3600 * 72, "2E00000001", "slow@example.com")
        removed(t + 11 + 3600 * 72, "2E00000001")
        # A queue id used again two days later, for someone the first
        # message decided and the second did not: files of its own, as
        # only the merged reading tells the two messages apart.
        A, M = A2, M2
        dec(t, "2F00000001", "reuse@example.com")
        cleanup(t - 0.5, "2F00000001")
        deliver(t + 1, "2F00000001", "reuse@example.com")
        removed(t + 2, "2F00000001")
        dec(t + 2 * 86400, "2F00000001", "other@example.com")
        cleanup(t + 2 * 86400 - 0.5, "2F00000001")
        deliver(t + 2 * 86400 + 1, "2F00000001", "reuse@example.com")
        removed(t + 2 * 86400 + 2, "2F00000001")
        # Tempfailed by the milter at the end of the message (cleanup
        # logs it; qmgr never sees it), the queue id used again two days
        # later: two messages as well.
        dec(t, "2R00000001", "temp@example.com", "tempfail", "store_error",
            "tempfailed", "news", None)
        cleanup(t - 0.5, "2R00000001")
        log(t, "cleanup[2]", "2R00000001: milter-reject: END-OF-MESSAGE "
            "from client.example.net[192.0.2.1]: 4.7.1 Consent store "
            "unavailable; from=<news@example.com> to=<temp@example.com> "
            "proto=ESMTP helo=<client.example.net>")
        dec(t + 2 * 86400, "2R00000001", "temp@example.com")
        cleanup(t + 2 * 86400 - 0.5, "2R00000001")
        deliver(t + 2 * 86400 + 1, "2R00000001", "temp@example.com")
        removed(t + 2 * 86400 + 2, "2R00000001")
        # Quarantined by the milter (the hold queue), released eight days
        # later: joins its decision.
        dec(t, "2Q00000001", "held@example.com")
        cleanup(t - 0.5, "2Q00000001")
        log(t, "cleanup[2]", "2Q00000001: milter-hold: END-OF-MESSAGE from "
            "client.example.net[192.0.2.1]: milter triggers HOLD action; "
            "from=<news@example.com> to=<held@example.com> proto=ESMTP "
            "helo=<client.example.net>")
        deliver(t + 8 * 86400, "2Q00000001", "held@example.com")
        removed(t + 8 * 86400 + 1, "2Q00000001")
        # Mail enough around it for the reading to retire messages.
        for k in range(12000):
            q2, t2 = "5%09X" % k, t - 3600 + 65 * k
            dec(t2, q2, users[k % 5000])
            cleanup(t2 - 0.5, q2)
            deliver(t2 + 2, q2, users[k % 5000])
            removed(t2 + 3, q2)
        A, M = A1, M1
        # late@ unsubscribed; a stale allow is delivered; the unsubscribe
        # shows only in a decision a week later.
        dec(t, "3A00000001", "late@example.com")
        cleanup(t - 0.5, "3A00000001")
        deliver(t + 1, "3A00000001", "late@example.com")
        removed(t + 2, "3A00000001")
        dec(t + 7 * 86400, "3B00000001", "late@example.com", "deny",
            "unsubscribed", "removed", "news",
            ("consent", "unsubscribed", "one-click", iso(t - 3 * 86400)[:19] + "Z"))
# The audit goes on a day after the mail log ends.
for k in range(200):
    t += 400
    dec(t, "4%09X" % k, users[k])
for name, rows in (("audit.log", A), ("maillog", M), ("reuse.log", A2),
                   ("reuse.maillog", M2)):
    rows.sort(key=lambda r: r[0])
    with open(W + "/" + name, "w") as f:
        for _, line in rows:
            f.write(line + "\n")
# The same audit out of order: its last week first.
cut = len(A) * 3 // 4
with open(W + "/unordered.log", "w") as f:
    for _, line in A[cut:] + A[:cut]:
        f.write(line + "\n")
EOF
[ -f "$W/audit.log" ] || { t_fail "fixtures not written"; t_done; exit 1; }

rep() { "$CTL" -c "$W/keyed.conf" audit report "$@"; }
# strip FILE: the report without its "generated" time.
strip() {
	sed 's/"generated":"[^"]*"//; s/^summary,generated,.*//
	    s/^consent audit report, .*//' "$1"
}
# same A B PATH: two JSON reports alike but for the time, and PATH in A
# named "-" in B (the input from a pipe).
same() {
	python3 -c '
import json, sys
a, b = (open(f).read() for f in sys.argv[1:3])
a = json.loads(a.replace(sys.argv[3], "-"))
b = json.loads(b)
a.pop("generated"), b.pop("generated")
print("ok" if a == b else "differ")' "$1" "$2" "$3"
}

# --- the merged reading gives the report of the whole one, in every form
for form in "" --json --csv; do
	t_run 1 rep $form --audit "$W/audit.log" --maillog "$W/maillog"
	strip "$T_OUT" >"$W/stream.out"
	if grep -q "not in time order" "$T_ERR"; then
		t_fail "an ordered audit read whole: $(cat "$T_ERR")"
	else
		t_ok
	fi
	# shellcheck disable=SC2086
	t_run 1 env CONSENTCTL_REPORT_WHOLE=1 "$CTL" -c "$W/keyed.conf" \
	    audit report $form --audit "$W/audit.log" --maillog "$W/maillog"
	strip "$T_OUT" >"$W/whole.out"
	if cmp -s "$W/stream.out" "$W/whole.out"; then
		t_ok
	else
		t_fail "merged and whole readings differ (${form:-text}): $(diff "$W/stream.out" "$W/whole.out" | head -5)"
	fi
done
# From pipes: copied to a temporary file, the same report.
t_run 1 rep --json --audit "$W/audit.log" --maillog "$W/maillog"
cp "$T_OUT" "$W/files.json"
t_run 1 sh -c 'cat "$1" | "$2" -c "$3" audit report --json --audit - --maillog "$4"' \
    sh "$W/audit.log" "$CTL" "$W/keyed.conf" "$W/maillog"
t_eq "$(same "$W/files.json" "$T_OUT" "$W/audit.log")" ok "an audit log from a pipe"
t_run 1 sh -c 'cat "$1" | "$2" -c "$3" audit report --json --audit "$4" --maillog -' \
    sh "$W/maillog" "$CTL" "$W/keyed.conf" "$W/audit.log"
t_eq "$(same "$W/files.json" "$T_OUT" "$W/maillog")" ok "a mail log from a pipe"

# --- the cases, by their outcome
t_run 1 rep --json --audit "$W/audit.log" --maillog "$W/maillog"
cp "$T_OUT" "$W/r.json"
check() {
	res=$(python3 -c "$1" "$W/r.json" 2>&1)
	if [ "$res" = ok ]; then t_ok; else t_fail "$2: $res"; fi
}
check '
import json, sys
r = json.load(open(sys.argv[1]))
v = [x for x in r["violations"] if x["qid"] in ("2B00000001", "2A00000001")]
assert v == [], v
print("ok")' "a content filter's copy joins its removed original's decision"
check '
import json, sys
r = json.load(open(sys.argv[1]))
v = [x for x in r["violations"] if x["qid"] in ("2G00000001", "2H00000001")]
assert v == [], v
print("ok")' "a forwarded copy joins its removed parent's decision"
check '
import json, sys
r = json.load(open(sys.argv[1]))
v = [(x["qid"][:2], x["kind"]) for x in r["violations"] if x["qid"][:2] in ("2C", "2D")]
assert v == [("2C", "delivered-to-denied")] * 40, v
print("ok")' "a pipe filter's copy joins by message-id; its denied recipient flagged"
check '
import json, sys
r = json.load(open(sys.argv[1]))
v = [x for x in r["violations"] if x["qid"] == "2E00000001"]
assert v == [], v
print("ok")' "mail deferred three days joins its decision"
check '
import json, sys
r = json.load(open(sys.argv[1]))
h = [x for x in r["time_to_honour"] if x["qid"] == "3A00000001"]
assert len(h) == 1 and h[0]["over_2_days"], r["time_to_honour"]
print("ok")' "an unsubscribe shown a week later judges the earlier delivery"
check '
import json, sys
r = json.load(open(sys.argv[1]))
s = r["summary"]
v = [x for x in r["violations"] if x["kind"] == "no-decision-recipient"]
assert len(v) > 0 and len(set(x["rcpt"] for x in v)) == 1, v[:3]
assert s["no_decision_recipient"] == len(v) == len(set(x["qid"] for x in v)), s
assert s["no_decision_message"] == 0, s
print("ok")' "the always_bcc copies flagged, no message without a decision"

# A queue id used again two days later: two messages, and the new one's
# delivery to someone only the old one decided is flagged.
t_run 1 rep --json --audit "$W/reuse.log" --maillog "$W/reuse.maillog"
cp "$T_OUT" "$W/r.json"
check '
import json, sys
r = json.load(open(sys.argv[1]))
v = [(x["kind"], x["time"]) for x in r["violations"]]
assert v == [("no-decision-recipient", "2026-11-03T07:57:33Z")], v
s = r["summary"]
assert s["messages"] == 12005 and s["sent_matched"] == 12003, s
print("ok")' "a queue id used again (after removed, after a milter's reject): two messages each, the undecided recipient flagged; held mail released a week later joins"
t_run 1 rep --json --audit "$W/audit.log" --maillog "$W/maillog"
cp "$T_OUT" "$W/r.json"


# --- small stories (found by an attack): the audit clock 290 s ahead of
# the mail log and one audit line 40 s out of order, both allowed: a
# delivery read before its decision still joins it; and a queue id
# used again five days later in a small log is two messages all the same.
printf 'audit: { pseudonymize = false; };\n' >"$W/plain.conf"
cat >"$W/skew.audit" <<'EOF'
{"v":1,"type":"open","t":"2026-11-02T00:00:00.000Z","prev":"0000000000000000000000000000000000000000000000000000000000000000","chain":"abababababababababababababababababababababababababababababababab"}
{"v":1,"t":"2026-11-02T00:14:50.000Z","qid":"4A00000001","msgid":"<a@x>","from":"n@example.com","class":"transactional","rcpt":"c@example.com","verdict":"allow","reason":"transactional","action":"none","stage":"eom","outcome":"accepted","chain":"abababababababababababababababababababababababababababababababab"}
{"v":1,"t":"2026-11-02T00:15:30.000Z","qid":"4B00000002","msgid":"<b@x>","from":"n@example.com","class":"transactional","rcpt":"b@example.com","verdict":"allow","reason":"transactional","action":"none","stage":"eom","outcome":"accepted","chain":"abababababababababababababababababababababababababababababababab"}
{"v":1,"t":"2026-11-02T00:14:50.000Z","qid":"4A00000001","msgid":"<a@x>","from":"n@example.com","class":"transactional","rcpt":"a@example.com","verdict":"allow","reason":"transactional","action":"none","stage":"eom","outcome":"accepted","chain":"abababababababababababababababababababababababababababababababab"}
EOF
cat >"$W/skew.maillog" <<'EOF'
Nov  2 00:10:00 mx postfix/cleanup[2]: 4A00000001: message-id=<a@x>
Nov  2 00:10:01 mx postfix/smtp[4]: 4A00000001: to=<a@example.com>, relay=mx.example.org[198.51.100.7]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Nov  2 00:10:01 mx postfix/smtp[4]: 4A00000001: to=<c@example.com>, relay=mx.example.org[198.51.100.7]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Nov  2 00:10:02 mx postfix/qmgr[3]: 4A00000001: removed
Nov  2 00:10:40 mx postfix/cleanup[2]: 4B00000002: message-id=<b@x>
Nov  2 00:10:41 mx postfix/smtp[4]: 4B00000002: to=<b@example.com>, relay=mx.example.org[198.51.100.7]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Nov  2 00:10:42 mx postfix/qmgr[3]: 4B00000002: removed
EOF
cat >"$W/reuse-small.audit" <<'EOF'
{"v":1,"type":"open","t":"2026-11-01T00:00:00.000Z","prev":"0000000000000000000000000000000000000000000000000000000000000000","chain":"abababababababababababababababababababababababababababababababab"}
{"v":1,"t":"2026-11-06T05:12:07.000Z","qid":"4A00000001","msgid":"<new@x>","from":"n@example.com","class":"transactional","rcpt":"u0@example.com","verdict":"allow","reason":"transactional","action":"none","stage":"eom","outcome":"accepted","chain":"abababababababababababababababababababababababababababababababab"}
EOF
cat >"$W/reuse-small.maillog" <<'EOF'
Nov  1 01:59:59 mx postfix/cleanup[2]: 4A00000001: message-id=<old@x>
Nov  1 02:00:01 mx postfix/smtp[4]: 4A00000001: to=<u1@example.com>, relay=mx.example.org[198.51.100.7]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Nov  1 02:00:02 mx postfix/qmgr[3]: 4A00000001: removed
Nov  6 05:12:06 mx postfix/cleanup[2]: 4A00000001: message-id=<new@x>
Nov  6 05:12:08 mx postfix/smtp[4]: 4A00000001: to=<u0@example.com>, relay=mx.example.org[198.51.100.7]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Nov  6 05:12:09 mx postfix/qmgr[3]: 4A00000001: removed
EOF
cat >"$W/skew-deny.audit" <<'EOF'
{"v":1,"type":"open","t":"2026-11-02T00:00:00.000Z","prev":"0000000000000000000000000000000000000000000000000000000000000000","chain":"abababababababababababababababababababababababababababababababab"}
{"v":1,"t":"2026-11-02T00:15:30.000Z","qid":"4B00000002","msgid":"<b@x>","from":"n@example.com","list":"news","class":"bulk","rcpt":"b@example.com","verdict":"allow","reason":"confirmed","action":"none","stage":"eom","outcome":"accepted","chain":"abababababababababababababababababababababababababababababababab"}
{"v":1,"t":"2026-11-02T00:14:50.000Z","qid":"4A00000001","msgid":"<a@x>","from":"n@example.com","list":"news","class":"bulk","rcpt":"a@example.com","verdict":"deny","reason":"no_consent","action":"reject","stage":"eom","outcome":"removed","chain":"abababababababababababababababababababababababababababababababab"}
EOF
cat >"$W/skew-deny.maillog" <<'EOF'
Nov  2 00:10:00 mx postfix/cleanup[2]: 4A00000001: message-id=<a@x>
Nov  2 00:10:01 mx postfix/smtp[4]: 4A00000001: to=<a@example.com>, relay=mx.example.org[198.51.100.7]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Nov  2 00:10:02 mx postfix/qmgr[3]: 4A00000001: removed
Nov  2 00:10:40 mx postfix/cleanup[2]: 4B00000002: message-id=<b@x>
Nov  2 00:10:41 mx postfix/smtp[4]: 4B00000002: to=<b@example.com>, relay=mx.example.org[198.51.100.7]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Nov  2 00:10:42 mx postfix/qmgr[3]: 4B00000002: removed
EOF
# A decision ten minutes after the delivery (past the clocks' allowance)
# rests nothing: the delivery is flagged, never dropped.
cat >"$W/late.audit" <<'EOF'
{"v":1,"type":"open","t":"2026-11-02T00:00:00.000Z","prev":"0000000000000000000000000000000000000000000000000000000000000000","chain":"abababababababababababababababababababababababababababababababab"}
{"v":1,"t":"2026-11-02T00:20:00.000Z","qid":"4A00000001","msgid":"<a@x>","from":"n@example.com","list":"news","class":"bulk","rcpt":"a@example.com","verdict":"deny","reason":"no_consent","action":"reject","stage":"eom","outcome":"removed","chain":"abababababababababababababababababababababababababababababababab"}
EOF
cat >"$W/late.maillog" <<'EOF'
Nov  2 00:10:00 mx postfix/cleanup[2]: 4A00000001: message-id=<a@x>
Nov  2 00:10:01 mx postfix/smtp[4]: 4A00000001: to=<a@example.com>, relay=mx.example.org[198.51.100.7]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 2.0.0 Ok)
Nov  2 00:10:02 mx postfix/qmgr[3]: 4A00000001: removed
EOF
small() { "$CTL" -c "$W/plain.conf" audit report --audit "$W/$1.audit" --maillog "$W/$1.maillog"; }
t_run 1 small skew-deny
t_out "delivered-to-denied 2026-11-02T00:10:01Z 4A00000001 a@example.com"
t_out "result: 1 violation,"
t_run 0 small skew
t_out "result: 0 violations,"
t_run 1 small late
t_out "no-decision-recipient 2026-11-02T00:10:01Z 4A00000001 a@example.com"
t_run 1 small reuse-small
t_out "no-decision-message 2026-11-01T02:00:01Z 4A00000001 u1@example.com"
t_out "result: 1 violation,"

# --- a file out of order: read whole, said, the same judgements
t_run 1 rep --json --audit "$W/unordered.log" --maillog "$W/maillog"
t_err "a file is not in time order: reading every line before judging"
check2=$(python3 -c '
import json, sys
a, b = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
k = lambda r: sorted((x["kind"], x["qid"], x["rcpt"]) for x in r["violations"])
print("ok" if k(a) == k(b) and a["summary"]["violations"] == b["summary"]["violations"] else "differ")' "$T_OUT" "$W/r.json")
t_eq "$check2" ok "an audit log out of order: the same violations"

# --- memory: the merged reading holds a fraction of the whole one's
if [ -x /usr/bin/time ]; then
	/usr/bin/time -f %M -o "$W/rss.stream" "$CTL" -c "$W/keyed.conf" \
	    audit report --audit "$W/audit.log" --maillog "$W/maillog" >/dev/null
	CONSENTCTL_REPORT_WHOLE=1 /usr/bin/time -f %M -o "$W/rss.whole" \
	    "$CTL" -c "$W/keyed.conf" audit report --audit "$W/audit.log" \
	    --maillog "$W/maillog" >/dev/null
	s=$(tail -n 1 "$W/rss.stream")
	w=$(tail -n 1 "$W/rss.whole")
	if [ "$s" -lt "$w" ]; then t_ok; else
		t_fail "merged reading peak ${s} KB, whole ${w} KB"; fi
else
	t_fail "/usr/bin/time is needed (package time)"
fi
t_done
