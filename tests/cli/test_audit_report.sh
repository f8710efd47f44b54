#!/bin/sh
# test_audit_report.sh - consentctl audit report on hand-written audit and
# mail log fixtures: each kind of violation, the joins that are not
# violations (an alias with orig_to, local forwarding, a copy re-injected
# by a content filter, Postfix's own notices, mail older than the audit),
# time to honour on both sides of 2 days and of 10 business days, NOQUEUE
# rejects, both syslog time formats, every output format, the refusals,
# and (when the milter can run in front of a private Postfix) a real one.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
# shellcheck source=tests/lib/assert.sh
. "$TOP/tests/lib/assert.sh"
CTL="${CTL_BIN:-$TOP/$BUILD/consentctl}"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
# Classic syslog times are local: pin the zone.
TZ=UTC
export TZ

if ! command -v python3 >/dev/null 2>&1; then
	t_fail "python3 is needed to build the fixtures and read the output"
	t_done
	exit 1
fi

# --- fixtures: a key, configurations, audit logs and mail logs
python3 - "$W" <<'EOF'
import base64, hashlib, hmac, json, os, sys
W = sys.argv[1]
key = bytes(range(32))
with open(W + "/audit.key", "w") as f:
    f.write(base64.urlsafe_b64encode(key).decode().rstrip("=") + "\n")
os.chmod(W + "/audit.key", 0o600)
with open(W + "/keyed.conf", "w") as f:
    f.write('audit: { key_file = "%s/audit.key"; pseudonymize = true; };\n' % W)
    f.write('actions: { redirect_to = "hold@example.com"; };\n')
with open(W + "/plain.conf", "w") as f:
    f.write('audit: { pseudonymize = false; };\n')
    f.write('actions: { redirect_to = "hold@example.com"; };\n')
with open(W + "/nokey.conf", "w") as f:
    f.write('audit: { pseudonymize = true; };\n')

def pseudo(a):
    return "h:" + hmac.new(key, a.encode(), hashlib.sha256).hexdigest()[:32]

def opened(t):
    return {"v": 1, "type": "open", "t": t, "prev": "0" * 64}

def dec(t, qid, rcpt, verdict, reason, outcome, lst="news", cls="bulk",
        msgid=None, ev=None, action=None, stage="eom"):
    d = {"v": 1, "t": t, "qid": qid}
    d["msgid"] = msgid or "<%s@example.com>" % qid.lower()
    d["from"] = "news@example.com"
    if lst:
        d["list"] = lst
    d["class"] = cls
    d["rcpt"] = rcpt
    d["verdict"] = verdict
    d["reason"] = reason
    d["action"] = action or ("none" if verdict == "allow" else "reject")
    d["stage"] = stage
    d["outcome"] = outcome
    if ev:
        d["ev_kind"], d["ev_value"], d["ev_source"], d["ev_time"] = ev
    return d

OLD = ("consent", "confirmed", "form", "2026-10-01T00:00:00Z")

def unsub(when, src="one-click"):
    return ("consent", "unsubscribed", src, when)

def allow(t, qid, who, lst="news", ev=OLD, **kw):
    return ("dec", t, qid, who, "allow", "confirmed", "accepted", lst, ev, kw)

def deny(t, qid, who, when, outcome="removed", lst="news", ev=None, **kw):
    return ("dec", t, qid, who, "deny", "unsubscribed", outcome, lst,
            ev or unsub(when), kw)

# The story, in time order.  Each tuple: a decision.
story = [
    ("open", "2026-11-01T00:00:00.000Z"),
    # NOQUEUE: rejected at RCPT before a queue file existed.
    deny("2026-11-01T09:30:00.000Z", "NOQUEUE", "dave@example.com",
         "2026-10-25T09:00:00Z", outcome="rejected", stage="rcpt"),
    deny("2026-11-01T09:31:00.000Z", "NOQUEUE", "dave@example.com",
         "2026-10-25T09:00:00Z", outcome="rejected", stage="rcpt"),
    # frank, gina, kim unsubscribe Monday 2 Nov 10:00; stale allows follow.
    allow("2026-11-05T11:59:00.000Z", "4F0000A001", "frank@example.com"),
    allow("2026-11-16T07:59:00.000Z", "4F0000A002", "kim@example.com"),
    allow("2026-11-17T08:59:00.000Z", "4F0000A003", "gina@example.com"),
    deny("2026-11-18T10:00:00.000Z", "4F0000A004", "frank@example.com",
         "2026-11-02T10:00:00Z"),
    deny("2026-11-18T10:00:00.000Z", "4F0000A004", "gina@example.com",
         "2026-11-02T10:00:00Z"),
    deny("2026-11-18T10:00:00.000Z", "4F0000A004", "kim@example.com",
         "2026-11-02T10:00:00Z"),
    # hank unsubscribes 3 Nov, subscribes again 4 Nov: not late.
    deny("2026-11-03T12:00:00.000Z", "4F0000A005", "hank@example.com",
         "2026-11-03T10:00:00Z"),
    allow("2026-11-10T09:59:00.000Z", "4F0000A006", "hank@example.com",
          ev=("consent", "subscribed", "form", "2026-11-04T10:00:00Z")),
    # ivy suppressed from every list on Thursday 5 Nov; a stale allow on promo.
    deny("2026-11-06T10:00:00.000Z", "4F0000A007", "ivy@example.com", None,
         ev=("suppression", "unsubscribed_all", "mailto",
             "2026-11-05T10:00:00Z")),
    allow("2026-11-09T11:59:00.000Z", "4F0000A008", "ivy@example.com",
          lst="promo"),
    # M1: alice allowed, bob removed; always_bcc adds archive@ after us.
    allow("2026-11-10T09:00:00.000Z", "4A1B2C3D4E", "alice@example.com"),
    deny("2026-11-10T09:00:00.000Z", "4A1B2C3D4E", "bob@example.com",
         "2026-10-20T08:00:00Z"),
    # M2: an alias, expanded after the filter, logged with orig_to.
    allow("2026-11-10T09:05:00.000Z", "4A1B2C3D50", "team@example.com"),
    # M3: shadow mode: carol denied but only tagged, and delivered.
    deny("2026-11-10T09:10:00.000Z", "4A1B2C3D51", "carol@example.com",
         "2026-11-01T08:00:00Z", outcome="tagged", action="tag"),
    # M6: an alias expanded without orig_to (enable_original_recipient=no).
    allow("2026-11-10T09:15:00.000Z", "4A1B2C3D52", "team2@example.com"),
    # M7: local forwarding: the copy goes on under a new queue id.
    allow("2026-11-10T09:20:00.000Z", "4A1B2C3D53", "fwd@example.com"),
    # M8: a content filter re-injects under a new queue id, same msgid.
    allow("2026-11-10T09:25:00.000Z", "4A1B2C3D54", "paul@example.com",
          msgid="<m8@example.com>"),
    # M9: transactional, delivered; M10 bulk allowed but bounced.
    ("dec", "2026-11-10T09:30:00.000Z", "4A1B2C3D55", "quinn@example.com",
     "allow", "transactional", "accepted", None, None, {"cls":
     "transactional"}),
    allow("2026-11-10T09:35:00.000Z", "4A1B2C3D56", "rob@example.com"),
    # erin unsubscribes Friday 20 Nov 10:00; one stale allow 23 h later.
    allow("2026-11-21T08:59:00.000Z", "4F0000A009", "erin@example.com"),
    deny("2026-11-23T10:00:00.000Z", "4F0000A010", "erin@example.com",
         "2026-11-20T10:00:00Z"),
    # A tempfail (store error).
    ("dec", "2026-11-23T11:00:00.000Z", "4F0000A011", "sam@example.com",
     "tempfail", "store_error", "tempfailed", "news", None, {"action":
     "tempfail"}),
    # Decided twice: the later decision (by time, not by line) is the one
    # a delivery joins.  alice's deny is older than her allow above.
    ("dec", "2026-11-10T08:59:00.000Z", "4A1B2C3D4E", "alice@example.com",
     "deny", "no_consent", "removed", "news", None, {}),
    # M12: rita redirected to the holding mailbox, which the milter adds.
    ("dec", "2026-11-10T10:05:00.000Z", "4A1B2C3D61", "rita@example.com",
     "deny", "no_consent", "redirected", "news", None, {"action": "redirect"}),
    # M11: twenty recipients (the per-message index), big3 decided twice.
    ("dec", "2026-11-10T09:59:59.000Z", "4A1B2C3D60", "big3@example.com",
     "deny", "no_consent", "removed", "news", None, {}),
] + [allow("2026-11-10T10:00:00.000Z", "4A1B2C3D60", "big%d@example.com" % i)
     for i in range(20)]

def lines(keyed):
    out = []
    for s in story:
        if s[0] == "open":
            out.append(opened(s[1]))
            continue
        _, t, qid, who, verdict, reason, outcome, lst, ev, kw = s
        kw = dict(kw)
        cls = kw.pop("cls", "bulk")
        out.append(dec(t, qid, pseudo(who) if keyed else who, verdict,
                       reason, outcome, lst=lst, cls=cls, ev=ev, **kw))
    return out

def write(path, objs, torn=None):
    with open(path, "w") as f:
        for o in objs:
            # The report does not check the chain: any 64 hex digits.
            text = json.dumps(o, separators=(",", ":"))
            f.write(text[:-1] + ',"chain":"' + "0" * 64 + '"}\n')
        if torn:
            f.write(torn)

write(W + "/audit.log", lines(True))
write(W + "/audit-plain.log", lines(False))
# Audit only, no violation: hank's story.
write(W + "/clean.log", [o for o in lines(True) if o.get("type") == "open"
      or o.get("rcpt") == pseudo("hank@example.com")])
# A torn last line: the milter died mid-write.
write(W + "/torn.log", [o for o in lines(True) if o.get("type") == "open"
      or o.get("rcpt") == pseudo("hank@example.com")],
      torn='{"v":1,"t":"2026-11-24T00:00:00.000Z","qid":"4F0')
# A torn line kept by a writer that could not cut it (append-only), and
# the gap line that names it, then more decisions.
hank = [o for o in lines(True) if o.get("type") == "open"
        or o.get("rcpt") == pseudo("hank@example.com")]
write(W + "/kept.log", hank[:1],
      torn='{"v":1,"t":"2026-11-24T00:00:00.000Z","qid":"4F0~\n')
with open(W + "/kept.log", "a") as f:
    f.write('{"v":1,"type":"gap","t":"2026-11-24T00:00:01.000Z","prev":"'
            + "0" * 64 + '","lost":1,"at":200,"removed":0,"kept":45,'
            '"kept_sha256":"' + "0" * 64 + '","chain":"' + "0" * 64 + '"}\n')
    for o in hank[1:]:
        text = json.dumps(o, separators=(",", ":"))
        f.write(text[:-1] + ',"chain":"' + "0" * 64 + '"}\n')
# A malformed line in the middle.
with open(W + "/bad.log", "w") as f:
    f.write(json.dumps(opened("2026-11-01T00:00:00.000Z")) + "\n")
    f.write(json.dumps(dec("2026-11-01T01:00:00.000Z", "4F0000B001",
            pseudo("a@example.com"), "allow", "confirmed", "accepted")) + "\n")
    f.write('{"v":1,"t":"2026-11-01T02:00:00.000Z","qid":"4F0000B002",'
            '"rcpt":"h:00" "verdict":"allow"}\n')
    f.write(json.dumps(dec("2026-11-01T03:00:00.000Z", "4F0000B003",
            pseudo("b@example.com"), "allow", "confirmed", "accepted")) + "\n")
with open(W + "/missing-field.log", "w") as f:
    f.write('{"v":1,"t":"2026-11-01T02:00:00.000Z","qid":"4F0000B002",'
            '"verdict":"allow"}\n')
# Escapes in values, a hostile list name and an unknown key: all fine.
with open(W + "/escaped.log", "w") as f:
    f.write('{"v":1,"t":"2026-11-02T02:00:00.000Z","qid":"4F0000C001",'
            '"msgid":"<a\\"b\\\\c\\u00e9@x>","list":"<b>\\"l&t\\"</b>",'
            '"class":"bulk","rcpt":"zed@example.com","verdict":"allow",'
            '"reason":"confirmed","outcome":"accepted","future":{"x":1}}\n')
with open(W + "/escaped-ok.log", "w") as f:
    f.write('{"v":1,"t":"2026-11-02T02:00:00.000Z","qid":"4F0000C001",'
            '"msgid":"<a\\"b\\\\c\\u00e9@x>","list":"<b>\\"l&t\\"</b>",'
            '"class":"bulk","rcpt":"zed@example.com","verdict":"allow",'
            '"reason":"confirmed","outcome":"accepted","future":2}\n')
    f.write('{"v":1,"t":"2026-11-02T03:00:00.000Z","qid":"4F0000C002",'
            '"list":"=cmd|\' /C calc\'!A0","class":"bulk",'
            '"rcpt":"zed@example.com","verdict":"allow",'
            '"reason":"confirmed","outcome":"accepted"}\n')

# The mail logs: the first in the classic syslog format, the second in the
# RFC 3339 format of Postfix's maillog_file.
def classic(t, prog, rest):
    # t: "2026-11-10T09:00:30"
    import datetime
    d = datetime.datetime.strptime(t, "%Y-%m-%dT%H:%M:%S")
    return "%s %2d %s mx postfix/%s: %s" % (d.strftime("%b"), d.day,
           d.strftime("%H:%M:%S"), prog, rest)

def rfc(t, prog, rest):
    return "%s.123456+00:00 mx postfix/%s: %s" % (t, prog, rest)

def sent(qid, to, orig=None, relay="mx.example.net[192.0.2.1]:25",
         status="sent", text="250 2.0.0 Ok"):
    o = ", orig_to=<%s>" % orig if orig else ""
    return ("%s: to=<%s>%s, relay=%s, delay=0.5, delays=0.1/0/0.2/0.2, "
            "dsn=2.0.0, status=%s (%s)" % (qid, to, o, relay, status, text))

log1 = [
    ("2026-10-15T08:00:00", "cleanup[10]", "4E0D000005: message-id=<old@example.com>"),
    ("2026-11-01T00:05:00", "smtp[11]", sent("4E0D000005", "zoe@example.org")),
    ("2026-11-05T12:00:00", "smtp[12]", sent("4F0000A001", "frank@example.com")),
    ("2026-11-09T12:00:00", "smtp[12]", sent("4F0000A008", "ivy@example.com")),
    ("2026-11-10T09:00:01", "cleanup[10]", "4A1B2C3D4E: message-id=<4a1b2c3d4e@example.com>"),
    ("2026-11-10T09:00:02", "qmgr[9]", "4A1B2C3D4E: from=<news@example.com>, size=1200, nrcpt=2 (queue active)"),
    ("2026-11-10T09:00:03", "smtp[12]", sent("4A1B2C3D4E", "alice@example.com", status="deferred", text="451 try later")),
    ("2026-11-10T09:10:03", "smtp[12]", sent("4A1B2C3D4E", "alice@example.com")),
    ("2026-11-10T09:00:04", "smtp[13]", sent("4A1B2C3D4E", "archive@example.com")),
    ("2026-11-10T09:05:04", "local[14]", sent("4A1B2C3D50", "t1@example.com", orig="team@example.com", relay="local", text="delivered to mailbox")),
    ("2026-11-10T09:05:04", "virtual[15]", sent("4A1B2C3D50", "t2@example.com", orig="team@example.com", relay="virtual", text="delivered to maildir")),
    ("2026-11-10T09:05:05", "bounce[16]", "4A1B2C3D50: sender non-delivery notification: 4D0B000004"),
    ("2026-11-10T09:05:06", "local[14]", sent("4D0B000004", "news@example.com", relay="local", text="delivered to mailbox")),
    ("2026-11-10T09:10:04", "smtp[12]", sent("4A1B2C3D51", "carol@example.com")),
    ("2026-11-10T09:15:04", "lmtp[17]", sent("4A1B2C3D52", "t3@example.com", relay="dovecot")),
    ("2026-11-10T09:20:04", "local[14]", sent("4A1B2C3D53", "ext@remote.example", orig="fwd@example.com", relay="local", text="forwarded as 4F0D000002")),
    ("2026-11-10T09:20:05", "smtp[12]", sent("4F0D000002", "ext@remote.example", orig="fwd@example.com")),
]
log2 = [
    ("2026-11-10T09:25:04", "smtp[12]", sent("4A1B2C3D54", "paul@example.com", relay="127.0.0.1[127.0.0.1]:10024", text="250 2.0.0 Ok: queued as 4C1E000003")),
    ("2026-11-10T09:25:05", "cleanup[10]", "4C1E000003: message-id=<m8@example.com>"),
    ("2026-11-10T09:25:06", "smtp[12]", sent("4C1E000003", "paul@example.com")),
    ("2026-11-10T09:30:04", "pipe[18]", sent("4A1B2C3D55", "quinn@example.com", relay="dovecot", text="delivered via dovecot service")),
    ("2026-11-10T09:35:04", "smtp[12]", sent("4A1B2C3D56", "rob@example.com", status="bounced", text="550 5.1.1 no such user")),
    ("2026-11-10T09:59:30", "smtp[12]", sent("4F0000A006", "hank@example.com")),
    ("2026-11-12T10:00:00", "cleanup[10]", '4B0A0D0E01: message-id=<"><script>alert(1)</script>@evil.example>'),
    ("2026-11-12T10:00:01", "smtp[12]", sent("4B0A0D0E01", "x@example.net")),
    ("2026-11-12T10:00:01", "smtp[12]", sent("4B0A0D0E01", "y@example.net")),
    ("2026-11-16T08:00:00", "smtp[12]", sent("4F0000A002", "kim@example.com")),
    ("2026-11-17T09:00:00", "smtp[12]", sent("4F0000A003", "gina@example.com")),
    ("2026-11-21T09:00:00", "smtp[12]", sent("4F0000A009", "Erin@Example.COM")),
    ("2026-11-10T10:05:05", "smtp[12]", sent("4A1B2C3D61", "hold@example.com")),
] + [("2026-11-10T10:00:05", "smtp[12]", sent("4A1B2C3D60", "big%d@example.com" % i))
     for i in range(19, -1, -1)]
with open(W + "/maillog", "w") as f:
    f.write("Nov 10 08:59:59 mx dovecot: imap-login: Login: user=<a>\n")
    f.write("Nov 10 08:59:59 mx postfix/smtpd[8]: NOQUEUE: reject: RCPT from x[192.0.2.9]: 550 5.7.1 <dave@example.com>: Recipient address rejected\n")
    for t, prog, rest in log1:
        f.write(classic(t, prog, rest) + "\n")
with open(W + "/maillog.1", "w") as f:
    for t, prog, rest in log2:
        f.write(rfc(t, prog, rest) + "\n")
# The clean story's mail log: only hank's delivery.
with open(W + "/clean.maillog", "w") as f:
    f.write(rfc("2026-11-10T09:59:30", "smtp[12]", sent("4F0000A006", "hank@example.com")) + "\n")
EOF
[ -f "$W/audit.log" ] || { t_fail "fixtures not written"; t_done; exit 1; }

kctl() { "$CTL" -c "$W/keyed.conf" audit report "$@"; }
pctl() { "$CTL" -c "$W/plain.conf" audit report "$@"; }

# py SCRIPT: run python3 on the last stdout ($T_OUT); it prints "ok" or why not.
py() {
	res=$(python3 -c "$1" "$T_OUT" "$W" 2>&1)
	if [ "$res" = ok ]; then t_ok; else t_fail "$2: $res"; fi
}

# --- text, with the mail logs: every violation kind
t_run 1 kctl --audit "$W/audit.log" --maillog "$W/maillog" "$W/maillog.1"
t_out "Violations"
t_out "delivered-to-denied"
t_out "no-decision-recipient"
t_out "no-decision-message"
t_out "4A1B2C3D51"			# carol, tagged and delivered
t_out "4B0A0D0E01"			# the filter was skipped
t_out "Time to honour unsubscribes"
t_out "result: 4 violations, 4 unsubscribes honoured late"
t_not_out "<script>"			# the msgid is not in the text table
t_not_out "4C1E000003"			# re-injected copy: joined by message-id
t_not_out "4F0D000002"			# forwarded copy: joined to its parent
t_not_out "4D0B000004"			# Postfix's own bounce: not judged
t_not_out "4E0D000005"			# received before the audit: not judged
# The order of the files does not matter.
t_run 1 kctl --maillog "$W/maillog.1" "$W/maillog" --audit "$W/audit.log"
t_out "result: 4 violations, 4 unsubscribes honoured late"
# A rotated series is one audit; a mail log may come on standard input.
head -n 20 "$W/audit.log" >"$W/audit.log.1"
tail -n +21 "$W/audit.log" >"$W/audit.log.2"
t_run 1 kctl --audit "$W/audit.log.1" "$W/audit.log.2" \
    --maillog - "$W/maillog.1" <"$W/maillog"
t_out "result: 4 violations, 4 unsubscribes honoured late"
t_out "no-decision-recipient 2026-11-10T09:00:04Z 4A1B2C3D4E"
# A violation's message-id is read back from a regular audit file (the
# report keeps only where it is); from standard input it is kept: the
# same message-ids either way, whichever file of a series holds them.
t_run 1 kctl --json --audit "$W/audit.log.1" "$W/audit.log.2" \
    --maillog "$W/maillog" "$W/maillog.1"
cp "$T_OUT" "$W/viol.files.json"
t_run 1 kctl --json --audit - --maillog "$W/maillog" "$W/maillog.1" \
    <"$W/audit.log"
py '
import json, sys
a = json.load(open(sys.argv[2] + "/viol.files.json"))["violations"]
b = json.load(open(sys.argv[1]))["violations"]
ids = lambda v: [(x["qid"], x["msgid"]) for x in v]
assert len(a) == 4 and ids(a) == ids(b), (ids(a), ids(b))
assert sum(1 for x in a if x["msgid"]) >= 3, ids(a)
print("ok")' "message-ids read back"
# Standard input a file the shell opened and a reader before us read
# into: each line's place counts from the file's start, not from ours.
skip_to() { dd bs=1 count="$1" of=/dev/null 2>/dev/null; shift; "$@"; }
n=$(head -n 1 "$W/audit.log" | wc -c)
t_run 1 skip_to "$n" kctl --json --audit - --maillog "$W/maillog" \
    "$W/maillog.1" <"$W/audit.log"
py '
import json, sys
a = json.load(open(sys.argv[2] + "/viol.files.json"))["violations"]
b = json.load(open(sys.argv[1]))["violations"]
ids = lambda v: [(x["qid"], x["msgid"]) for x in v]
assert ids(a) == ids(b), (ids(a), ids(b))
print("ok")' "message-ids read back from standard input at an offset"
# A queue id longer than Postfix's (kept apart from the message) and a
# short one, both shown whole.
for q in 4B2C81A3F QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ; do
	printf '%s\n' '{"v":1,"t":"2026-11-02T10:00:00.000Z","qid":"'"$q"'","msgid":"<lq@example.com>","list":"news","class":"bulk","rcpt":"zed@example.com","verdict":"deny","reason":"no_consent","action":"tag","stage":"rcpt","outcome":"tagged"}'
done >"$W/longqid.log"
t_run 1 pctl --audit "$W/longqid.log"
t_out "delivered-to-denied 2026-11-02T10:00:00Z 4B2C81A3F "
t_out "delivered-to-denied 2026-11-02T10:00:00Z QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ "
# A violation's message-id read back from a line far longer than one
# read (700,000 octets), between two short lines.
python3 -c '
d = "\"list\":\"news\",\"class\":\"bulk\",\"rcpt\":\"zed@example.com\",\"verdict\":\"deny\",\"reason\":\"no_consent\",\"action\":\"tag\",\"stage\":\"rcpt\",\"outcome\":\"tagged\"}"
for q, m in (("4A0000E001", "<s1@x>"), ("4A0000E002", "<" + "y" * 700000 + "@x>"), ("4A0000E003", "<s3@x>")):
    print("{\"v\":1,\"t\":\"2026-11-02T10:00:00.000Z\",\"qid\":\"%s\",\"msgid\":\"%s\",%s" % (q, m, d))
' >"$W/longmid.log"
t_run 1 pctl --json --audit "$W/longmid.log"
py '
import json, sys
v = json.load(open(sys.argv[1]))["violations"]
got = sorted((x["qid"], len(x["msgid"])) for x in v)
assert got == [("4A0000E001", 6), ("4A0000E002", 700004), ("4A0000E003", 6)], got
print("ok")' "long message-id read back"
# A line longer than the read buffer (512 KiB).
python3 -c '
import sys
print("{\"v\":1,\"t\":\"2026-11-02T02:00:00.000Z\",\"qid\":\"4F0000D001\","
      "\"msgid\":\"<" + "x" * 700000 + "@x>\",\"rcpt\":\"zed@example.com\","
      "\"verdict\":\"allow\",\"reason\":\"confirmed\",\"outcome\":\"accepted\"}")
' >"$W/long.log"
t_run 0 pctl --audit "$W/long.log" --json
py '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["summary"]["decisions"] == 1 and d["inputs"][0]["lines"] == 1, d["summary"]
print("ok")
' "a 700 kB line"

# --- JSON: the figures
t_run 1 kctl --audit "$W/audit.log" --maillog "$W/maillog" --maillog "$W/maillog.1" --json
py '
import json, sys, hmac, hashlib
d = json.load(open(sys.argv[1]))
key = bytes(range(32))
ps = lambda a: "h:" + hmac.new(key, a.encode(), hashlib.sha256).hexdigest()[:32]
s = d["summary"]
want = {"decisions": 47, "held": 1, "noqueue": 2, "violations": 4, "delivered_to_denied": 1,
    "no_decision_recipient": 2, "no_decision_message": 1, "late_2_days": 4,
    "late_10_business_days": 1, "notices": 1, "before_audit": 1, "bounced": 1,
    "deferred": 1, "maillog": True, "compliant": False}
bad = ["%s=%r want %r" % (k, s.get(k), v) for k, v in want.items() if s.get(k) != v]
assert not bad, bad
assert s["sent_matched"] == 35 and s["sent"] == 42, s["sent_matched"]
kinds = sorted((v["kind"], v["qid"], v["rcpt"]) for v in d["violations"])
assert kinds == sorted([
    ("delivered-to-denied", "4A1B2C3D51", ps("carol@example.com")),
    ("no-decision-recipient", "4A1B2C3D4E", ps("archive@example.com")),
    ("no-decision-recipient", "4A1B2C3D52", ps("t3@example.com")),
    ("no-decision-message", "4B0A0D0E01", ps("x@example.net"))]), kinds
nm = [v for v in d["violations"] if v["kind"] == "no-decision-message"][0]
assert nm["recipients"] == 2 and nm["basis"] == "maillog", nm
assert nm["msgid"].startswith("<\"><script>"), nm
assert nm["where"].endswith("maillog.1:8"), nm["where"]
dd = [v for v in d["violations"] if v["kind"] == "delivered-to-denied"][0]
assert dd["outcome"] == "tagged" and dd["reason"] == "unsubscribed", dd
assert dd["time"] == "2026-11-10T09:10:04Z", dd
h = {(r["rcpt"], r["list"]): r for r in d["time_to_honour"]}
def row(a, l="news"): return h[(ps(a), l)]
r = row("erin@example.com")
assert r["lag_seconds"] == 23 * 3600 and not r["over_2_days"] and r["business_days"] == 0, r
assert r["last_delivery"] == "2026-11-21T09:00:00Z" and r["qid"] == "4F0000A009", r
r = row("frank@example.com")
assert r["lag_seconds"] == 3 * 86400 + 2 * 3600 and r["over_2_days"], r
assert r["business_days"] == 3 and not r["over_10_business_days"], r
r = row("kim@example.com")
assert r["business_days"] == 10 and r["over_2_days"] and not r["over_10_business_days"], r
r = row("gina@example.com")
assert r["business_days"] == 11 and r["over_10_business_days"], r
r = row("hank@example.com")
assert r["last_delivery"] is None and r["lag_seconds"] == 0, r
r = row("ivy@example.com", "*")
assert r["over_2_days"] and r["business_days"] == 2 and r["source"] == "mailto", r
r = row("dave@example.com")
assert r["last_delivery"] is None, r
assert len(d["time_to_honour"]) == 9, len(d["time_to_honour"])
assert d["time_to_honour"][0]["rcpt"] == ps("gina@example.com"), "late rows first"
v = {x["verdict"]: x["count"] for x in d["by_verdict"]}
assert v == {"allow": 33, "deny": 13, "tempfail": 1}, v
l = {x["list"]: x["total"] for x in d["by_list"]}
assert l == {"": 1, "news": 45, "promo": 1}, l
days = [x["day"] for x in d["by_day"]]
assert days == sorted(days) and days[0] == "2026-11-01", days
assert sum(x["total"] for x in d["by_day"]) == 47
rs = {x["reason"]: x["deny"] for x in d["by_reason"]}
assert rs["no_consent"] == 3 and rs["unsubscribed"] == 10, rs
assert d["summary"]["audit_first"] == "2026-11-01T00:00:00.000Z"
print("ok")
' "JSON report"

# --- audit alone: only what the audit says (deny delivered = tagged/accepted)
t_run 1 kctl --audit "$W/audit.log" --json
py '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
assert s["maillog"] is False and s["violations"] == 1, s
v = d["violations"][0]
assert v["kind"] == "delivered-to-denied" and v["basis"] == "audit", v
assert v["where"].endswith("audit.log:17"), v["where"]
assert s["late_2_days"] == 4 and s["late_10_business_days"] == 1, s
print("ok")
' "audit-only JSON"

# --- a plain (not pseudonymised) audit needs no key
t_run 1 pctl --audit "$W/audit-plain.log" --maillog "$W/maillog" "$W/maillog.1" --json
py '
import json, sys
d = json.load(open(sys.argv[1]))
s = d["summary"]
assert s["violations"] == 4 and s["late_2_days"] == 4, s
assert sorted(v["rcpt"] for v in d["violations"]) == ["archive@example.com",
    "carol@example.com", "t3@example.com", "x@example.net"], d["violations"]
print("ok")
' "plain JSON"
# ... but a pseudonymised one joined with a mail log does.
t_run 2 "$CTL" -c "$W/nokey.conf" audit report --audit "$W/audit.log" --maillog "$W/maillog"
t_err "needs the key"
# ... and the right one: another key joins nothing, and says so.
python3 -c '
import base64, sys
open(sys.argv[1], "w").write(base64.urlsafe_b64encode(bytes(32)).decode().rstrip("=") + "\n")
' "$W/other.key"
chmod 600 "$W/other.key"
printf 'audit: { key_file = "%s"; };\n' "$W/other.key" >"$W/other.conf"
t_run 1 "$CTL" -c "$W/other.conf" audit report --audit "$W/audit.log" --maillog "$W/maillog"
t_err "is $W/other.key the key the milter used?"
t_run 1 "$CTL" -c "$W/nokey.conf" audit report --audit "$W/audit.log"

# --- clean: exit 0
t_run 0 kctl --audit "$W/clean.log" --maillog "$W/clean.maillog"
t_out "result: 0 violations, 0 unsubscribes honoured late"
t_out "Violations: none"

# --- CSV: every section, a section column, one header per section
t_run 1 kctl --audit "$W/audit.log" --maillog "$W/maillog" "$W/maillog.1" --csv
py '
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
secs = {}
hdr = None
for r in rows:
    if not r:
        hdr = None
        continue
    if r[0] == "section":
        hdr = r
        continue
    assert hdr is not None, r
    assert len(r) == len(hdr), (r, hdr)
    secs.setdefault(r[0], []).append(dict(zip(hdr, r)))
for s in ("summary", "inputs", "by_verdict", "by_reason", "by_list", "by_day",
          "violations", "time_to_honour"):
    assert s in secs, s
assert len(secs["violations"]) == 4, len(secs["violations"])
summ = {r["key"]: r["value"] for r in secs["summary"]}
assert summ["violations"] == "4" and summ["compliant"] == "false", summ
late = [r for r in secs["time_to_honour"] if r["over_2_days"] == "true"]
assert len(late) == 4, late
print("ok")
' "CSV report"
# A formula in a cell is neutralised.
t_run 0 pctl --audit "$W/escaped-ok.log" --csv
py '
import sys
t = open(sys.argv[1]).read()
assert "\"<b>\"\"l&t\"\"</b>\"" in t, t
assert "\"\x27=cmd|\x27 /C calc\x27!A0\"" in t, t
print("ok")
' "CSV quoting"

# --- HTML: one well-formed page, inline SVG, no script, strings escaped
t_run 1 kctl --audit "$W/audit.log" --maillog "$W/maillog" "$W/maillog.1" --html "$W/report.html"
t_out "4 violations"
py '
import sys
from html.parser import HTMLParser
W = sys.argv[2]
text = open(W + "/report.html", encoding="utf-8").read()
VOID = {"meta", "br", "hr", "img", "link", "input", "rect", "line"}
class P(HTMLParser):
    def __init__(self):
        super().__init__()
        self.stack, self.errors, self.tags = [], [], set()
    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for k, v in attrs:
            if k.startswith("on") or (v or "").lower().startswith("javascript:"):
                self.errors.append("active attribute %s" % k)
            if k in ("src", "href") :
                self.errors.append("external reference %s=%s" % (k, v))
        if tag not in VOID:
            self.stack.append(tag)
    def handle_startendtag(self, tag, attrs):
        self.tags.add(tag)
    def handle_endtag(self, tag):
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append("unbalanced </%s> (open: %s)" % (tag, self.stack[-3:]))
        else:
            self.stack.pop()
p = P()
p.feed(text)
p.close()
assert not p.errors, p.errors[:5]
assert not p.stack, p.stack
assert "script" not in p.tags, "a script element"
assert "<script" not in text.lower(), "<script in the page"
assert "svg" in p.tags and "rect" in p.tags, "no chart"
assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text, "msgid not escaped"
assert "<style>" in text and "http://" not in text.replace("http://www.w3.org/2000/svg", ""), "external resource"
for s in ("delivered-to-denied", "no-decision-message", "Time to honour"):
    assert s in text, s
print("ok")
' "HTML well-formed and safe"
t_run 0 pctl --audit "$W/escaped-ok.log" --html "$W/esc.html"
py '
import sys
t = open(sys.argv[2] + "/esc.html", encoding="utf-8").read()
assert "&lt;b&gt;&quot;l&amp;t&quot;&lt;/b&gt;" in t, "list name not escaped"
assert "<b>" not in t
print("ok")
' "HTML escaping"
t_run 0 pctl --audit "$W/escaped-ok.log" --json
py '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["by_list"][0]["list"] == "<b>\"l&t\"</b>", d["by_list"]
print("ok")
' "JSON escapes decoded and re-encoded"

# --- malformed input: exit 2, naming the file and the line
t_run 2 kctl --audit "$W/bad.log"
t_err "bad.log: line 3: malformed audit line"
t_run 2 kctl --audit "$W/missing-field.log"
t_err 'missing-field.log: line 1: no "rcpt"'
t_run 2 pctl --audit "$W/escaped.log"
t_err "escaped.log: line 1"
# A torn last line is what a crash leaves: warned about, not an error.
t_run 0 kctl --audit "$W/torn.log"
t_err "torn.log: line 4: torn last line ignored"
# A torn line kept before a gap line: skipped, and the gap pointed out.
t_run 0 kctl --audit "$W/kept.log"
t_err "kept.log: line 2: torn line ignored"
t_err "kept.log: line 3: a gap: decisions are missing here"
t_out "Summary"
t_run 2 kctl --audit "$W/nonexistent.log"
t_err "nonexistent.log"
t_run 2 kctl --audit "$W/audit.log" --maillog "$W/nonexistent.maillog"
t_err "nonexistent.maillog"

# --- usage
t_run 2 kctl
t_err "no --audit FILE"
t_run 2 kctl --audit
t_err "needs a FILE"
t_run 2 kctl --audit "$W/audit.log" --json --csv
t_err "exclude each other"
t_run 2 kctl --audit "$W/audit.log" --frobnicate
t_err "unknown option"
t_run 2 kctl "$W/audit.log"
t_err "usage:"
t_run 2 kctl --audit "$W/audit.log" --html
t_err "needs a FILE"
t_run 2 kctl --audit "$W/audit.log" --html "$W/no/such/dir/r.html"
t_err "r.html"

# --- audit find parses its options like every command: any number of
# --audit, each taking the files that follow it
args=""
i=0
while [ $i -lt 70 ]; do args="$args --audit $W/audit-plain.log"; i=$((i + 1)); done
# shellcheck disable=SC2086
t_run 0 "$CTL" -c "$W/plain.conf" audit find alice@example.com $args
t_err "decisions about alice@example.com"
t_run 0 "$CTL" -c "$W/plain.conf" audit find alice@example.com --audit \
    "$W/audit-plain.log" "$W/audit-plain.log"
t_run 2 "$CTL" -c "$W/plain.conf" audit find alice@example.com --maillog x
t_err "does not apply"
t_run 2 "$CTL" -c "$W/plain.conf" audit find
t_err "usage: consentctl audit find"

# --- a fixture from the real milter in front of a private Postfix: its
# audit lines and Postfix's own maillog_file.  Needs root and Postfix;
# skipped (and said so) otherwise.
MILTER="${MILTER_BIN:-$TOP/$BUILD/consent-milter}"
if [ "$(id -u)" -ne 0 ] || [ ! -x "$MILTER" ] ||
    ! command -v postconf >/dev/null 2>&1 ||
    ! command -v swaks >/dev/null 2>&1; then
	echo "skipped: the real milter fixture (needs root, Postfix, swaks and $MILTER)"
else
	mkdir -p "$W/real"
	(
		# shellcheck source=tests/lib/postfix.sh disable=SC3043
		. "$TOP/tests/lib/postfix.sh"
		dir=$(pf_tmpdir consent-report) || exit 1
		# Stopped and removed at exit; kept, and said so, on failure.
		trap 'pf_teardown $?' EXIT
		pf_setup "$dir" || exit 1
		# The archive copy is added after the filter: a violation.
		pf_postconf "always_bcc = archive@example.net" || exit 1
		python3 - "$dir/audit.key" <<'EOF' || exit 1
import base64, os, sys
with open(sys.argv[1], "w") as f:
    f.write(base64.urlsafe_b64encode(bytes(range(32))).decode().rstrip("=") + "\n")
os.chmod(sys.argv[1], 0o600)
EOF
		cat >"$dir/milter.conf" <<EOF
store: { path = "$dir/store"; };
milter: { socket = "unix:$PF_RUN/m.sock"; user = ""; };
classify: { rules = (
	{ sender = "news@example.com"; list = "news"; },
	{ sender = "receipts@example.com"; class = "transactional"; }
); };
audit: { file = "$dir/audit.log"; key_file = "$dir/audit.key"; };
EOF
		c() { "$CTL" -c "$dir/milter.conf" "$@" >/dev/null; }
		c init && c subscribe alice@example.net --list news --confirmed &&
		    c subscribe bob@example.net --list news --confirmed &&
		    c unsubscribe bob@example.net --list news || exit 1
		pf_bg milter "$MILTER" -f -c "$dir/milter.conf"
		pf_wait_file "$PF_RUN/m.sock" 10 || exit 1
		pf_set_milters "unix:$PF_RUN/m.sock" && pf_start || exit 1
		pf_send_expect 250 --from news@example.com --to alice@example.net \
		    --header "Message-Id: <real-a@example.com>" || exit 1
		pf_send_expect 550 --from news@example.com --to bob@example.net || exit 1
		pf_send_expect 550 --from news@example.com --to carol@example.net || exit 1
		pf_send_expect 250 --from receipts@example.com --to dave@example.net || exit 1
		pf_wait_queue_empty 30 || exit 1
		pf_wait_log 'status=sent' 10
		# The filter stops cleanly, and without a sanitizer's report.
		pf_kill_bg milter TERM 15
		st=$(pf_bg_status milter) && [ "$st" -eq 0 ] ||
		    { echo "the milter exited ${st:-?} after SIGTERM"; exit 1; }
		if grep -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' \
		    "$PF_DIR/log/milter.log"; then
			echo "sanitizer report in the milter's stderr"
			exit 1
		fi
		pf_cleanup
		cp "$dir/audit.log" "$dir/audit.key" "$PF_LOG" "$W/real/"
	) >"$W/real/harness.log" 2>&1
	rc=$?
	if [ "$rc" -eq 0 ] && [ -s "$W/real/maillog" ] && [ -s "$W/real/audit.log" ]; then
		t_ok
		printf 'audit: { key_file = "%s/real/audit.key"; };\n' "$W" >"$W/real.conf"
		t_run 0 "$CTL" -c "$W/real.conf" audit verify "$W/real/audit.log"
		t_run 1 "$CTL" -c "$W/real.conf" audit report \
		    --audit "$W/real/audit.log" --maillog "$W/real/maillog" --json
		py '
import json, sys, hmac, hashlib
d = json.load(open(sys.argv[1]))
ps = lambda a: "h:" + hmac.new(bytes(range(32)), a.encode(), hashlib.sha256).hexdigest()[:32]
s = d["summary"]
assert s["decisions"] == 4 and s["noqueue"] == 2, s
assert s["sent"] == 4 and s["sent_matched"] == 2, s
v = [(x["kind"], x["rcpt"]) for x in d["violations"]]
assert v == [("no-decision-recipient", ps("archive@example.net"))] * 2, v
h = [(x["rcpt"], x["list"], x["last_delivery"]) for x in d["time_to_honour"]]
assert h == [(ps("bob@example.net"), "news", None)], h
print("ok")
' "report on the real milter audit and Postfix maillog_file"
		# The audit alone sees no violation.
		t_run 0 "$CTL" -c "$W/real.conf" audit report --audit "$W/real/audit.log"
	else
		t_fail "the real milter fixture was not made: see below"
		sed 's/^/    /' "$W/real/harness.log" >&2
	fi
fi

# --- queue ids are reused: a delivery joins the decision made before it
cat >"$W/reuse.audit" <<'EOF2'
{"v":1,"type":"open","t":"2026-11-01T00:00:00.000Z","prev":"0000000000000000000000000000000000000000000000000000000000000000","chain":"1111111111111111111111111111111111111111111111111111111111111111"}
{"v":1,"t":"2026-11-02T10:00:00.000Z","qid":"4B2C81A3F","msgid":"<r1@example.com>","from":"news@example.com","list":"news","class":"bulk","rcpt":"zed@example.com","verdict":"deny","reason":"no_consent","action":"tag","stage":"rcpt","outcome":"tagged","chain":"1111111111111111111111111111111111111111111111111111111111111111"}
{"v":1,"t":"2026-11-20T10:00:00.000Z","qid":"4B2C81A3F","msgid":"<r2@example.com>","from":"news@example.com","list":"news","class":"bulk","rcpt":"zed@example.com","verdict":"allow","reason":"confirmed","action":"none","stage":"rcpt","outcome":"accepted","ev_kind":"consent","ev_value":"confirmed","ev_source":"form","ev_time":"2026-11-15T00:00:00Z","chain":"1111111111111111111111111111111111111111111111111111111111111111"}
{"v":1,"t":"2026-11-02T10:00:00.000Z","qid":"5C3D92B4A","msgid":"<r3@example.com>","from":"news@example.com","list":"news","class":"bulk","rcpt":"amy@example.com","verdict":"allow","reason":"confirmed","action":"none","stage":"rcpt","outcome":"accepted","ev_kind":"consent","ev_value":"confirmed","ev_source":"form","ev_time":"2026-10-01T00:00:00Z","chain":"1111111111111111111111111111111111111111111111111111111111111111"}
{"v":1,"t":"2026-11-03T10:00:00.000Z","qid":"6D4EA3C5B","msgid":"<r4@example.com>","from":"news@example.com","list":"news","class":"bulk","rcpt":"amy@example.com","verdict":"deny","reason":"unsubscribed","action":"reject","stage":"rcpt","outcome":"rejected","ev_kind":"consent","ev_value":"unsubscribed","ev_source":"one-click","ev_time":"2026-11-02T10:05:00Z","chain":"1111111111111111111111111111111111111111111111111111111111111111"}
EOF2
cat >"$W/reuse.log" <<'EOF2'
Nov  2 10:00:01 mx postfix/cleanup[5]: 4B2C81A3F: message-id=<r1@example.com>
Nov  2 10:00:02 mx postfix/smtp[7]: 4B2C81A3F: to=<zed@example.com>, relay=x[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
Nov 20 10:00:01 mx postfix/cleanup[5]: 4B2C81A3F: message-id=<r2@example.com>
Nov 20 10:00:02 mx postfix/smtp[7]: 4B2C81A3F: to=<zed@example.com>, relay=x[192.0.2.1]:25, delay=1, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
Nov  2 10:00:01 mx postfix/cleanup[5]: 5C3D92B4A: message-id=<r3@example.com>
Nov  5 10:00:00 mx postfix/smtp[7]: 5C3D92B4A: to=<amy@example.com>, relay=x[192.0.2.1]:25, delay=259199, delays=0/0/0/1, dsn=2.0.0, status=sent (250 ok)
EOF2
t_run 1 pctl --audit "$W/reuse.audit" --maillog "$W/reuse.log" --json
python3 - "$T_OUT" <<'EOF2' && t_ok || t_fail "a reused queue id or a retried delivery was judged wrongly"
import json, sys
d = json.load(open(sys.argv[1]))
v = [(x["kind"], x.get("qid")) for x in d["violations"]]
# The 2 Nov delivery to zed rests on that day's deny (tagged): one violation,
# and the 20 Nov delivery, allowed, is none.
assert v == [("delivered-to-denied", "4B2C81A3F")], v
# amy's message was allowed before her unsubscribe and sent on a retry
# after it: not an unsubscribe honoured late.
late = [t for t in d["time_to_honour"] if t.get("late")]
assert not late, late
EOF2

t_done
