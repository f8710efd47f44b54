#!/bin/sh
# bench_report.sh - "consentctl audit report" over BENCH_LINES (1,000,000)
# audit lines and as many mail log lines, against one awk pass over the
# same two files (counting lines by a field), in the same run.  ROUNDS
# interleaved runs, medians quoted, the ratio report/awk (goal: at most
# 2.0) and both peak RSS (goal for the report: under 500 MB).  Nothing
# here asserts a timing.
#
# The data is one story told twice: a month of mail through the milter,
# about half of it bulk to 200,000 recipients on three lists, 1 to 5
# recipients a message, pseudonymised under a key; the mail log has what
# Postfix writes for it (smtpd, cleanup, qmgr, smtp/local/lmtp, deferrals,
# bounces).  A few violations are planted: always_bcc copies, messages
# that skipped the filter, denied recipients delivered in shadow mode,
# and unsubscribes honoured late.
set -u
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
N=${BENCH_LINES:-1000000}
ROUNDS=${BENCH_ROUNDS:-3}
AWK=${AWK:-awk}
CTL="${CTL_BIN:-$TOP/$BUILD/consentctl}"
W=$(mktemp -d /var/tmp/consent-bench-report.XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$W"' EXIT

now() { date +%s.%N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

if ! command -v python3 >/dev/null 2>&1; then
	echo "bench_report: python3 is needed to generate the data" >&2
	exit 1
fi
echo "== audit report: $N audit lines and $N mail log lines against one $AWK pass ($ROUNDS rounds, medians)"
python3 - "$W" "$N" <<'EOF' || exit 1
import base64, hashlib, hmac, os, random, sys, time
W, N = sys.argv[1], int(sys.argv[2])
rnd = random.Random(42)
key = bytes(rnd.randrange(256) for _ in range(32))
with open(W + "/audit.key", "w") as f:
    f.write(base64.urlsafe_b64encode(key).decode().rstrip("=") + "\n")
os.chmod(W + "/audit.key", 0o600)
with open(W + "/bench.conf", "w") as f:
    f.write('audit: { key_file = "%s/audit.key"; pseudonymize = true; };\n' % W)

NUSERS = 200000
users = ["user%06d@example.com" % i for i in range(NUSERS)]
pseudo = {}
def ps(a):
    p = pseudo.get(a)
    if p is None:
        p = pseudo[a] = "h:" + hmac.new(key, a.encode(),
                                        hashlib.sha256).hexdigest()[:32]
    return p
B36 = "0123456789ABCDEFGHJKLMNPQRSTVWXYZ"
def qid(n):
    s = ""
    for _ in range(10):
        s = B36[n % 33] + s
        n //= 33
    return s
CHAIN = ',"chain":"' + "ab" * 32 + '"}\n'
T0 = 1793491200			# 2026-11-01T00:00:00Z
def iso(t, ms=0):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % ms
def sysl(t):
    return time.strftime("%b %d %H:%M:%S", time.gmtime(t))
OLD = ',"ev_kind":"consent","ev_value":"confirmed","ev_source":"form","ev_time":"2026-06-01T10:00:00Z"'
lists = ["news", "promo", "digest"]
# A late unsubscriber: deliveries keep going out after the unsubscribe.
late = set(rnd.sample(range(NUSERS), 50))
unsub_at = {u: T0 + 86400 * rnd.randrange(1, 10) for u in late}

audit = open(W + "/audit.log", "w")
mlog = open(W + "/maillog", "w")
na = nm = 0
audit.write('{"v":1,"type":"open","t":"%s","prev":"%s"%s' % (iso(T0), "0" * 64, CHAIN))
na += 1
t = T0 + 10
msg = 0
abuf, mbuf = [], []
while na < N or nm < N:
    msg += 1
    t += rnd.choice((1, 2, 2, 3, 5))
    q = qid(msg * 7919 + 12345)
    bulk = rnd.random() < 0.5
    lst = rnd.choice(lists) if bulk else None
    k = rnd.random()
    nr = 1 if k < 0.6 else 2 if k < 0.85 else rnd.randrange(3, 6)
    rc = [rnd.randrange(NUSERS) for _ in range(nr)]
    msgid = "<%d.%s@mailer.example.com>" % (msg, q.lower())
    sender = "news@example.com" if bulk else "receipts@shop.example"
    skipped = msg % 50021 == 0		# the filter was skipped
    dec = []
    for u in rc:
        a = users[u]
        if not bulk:
            dec.append((u, "allow", "transactional", "none", "accepted", ""))
            continue
        r = rnd.random()
        left = (u * 31 + len(lst)) % 100 < 12	# left this list on 1 September
        if u in late and t > unsub_at[u] and not left:
            if t < unsub_at[u] + 86400 * 5:
                dec.append((u, "allow", "confirmed", "none", "accepted", OLD))
            else:
                dec.append((u, "deny", "unsubscribed", "reject", "removed",
                    ',"ev_kind":"consent","ev_value":"unsubscribed","ev_source":"one-click","ev_time":"%sZ"' % iso(unsub_at[u])[:19]))
        elif not left and r < 0.98:
            dec.append((u, "allow", "confirmed", "none", "accepted", OLD))
        elif r < 0.98:
            shadow = msg % 9973 == 0
            dec.append((u, "deny", "unsubscribed", "tag" if shadow else "reject",
                "tagged" if shadow else "removed",
                ',"ev_kind":"consent","ev_value":"unsubscribed","ev_source":"one-click","ev_time":"2026-09-01T10:00:00Z"'))
        else:
            dec.append((u, "tempfail", "store_error", "tempfail", "tempfailed", ""))
    allrej = bulk and all(d[1] == "deny" for d in dec) and rnd.random() < 0.5
    if not skipped and na < N:
        for u, verdict, reason, action, outcome, ev in dec:
            if allrej:
                qq, stage, outcome = "NOQUEUE", "rcpt", "rejected"
            else:
                qq, stage = q, "eom"
            abuf.append('{"v":1,"t":"%s","qid":"%s","msgid":"%s","from":"%s"%s,"class":"%s","rcpt":"%s","verdict":"%s","reason":"%s","action":"%s","stage":"%s","outcome":"%s"%s%s' % (
                iso(t, msg % 1000), qq, msgid, sender,
                ',"list":"%s"' % lst if lst else "",
                "bulk" if bulk else "transactional", ps(users[u]), verdict,
                reason, action, stage, outcome, ev, CHAIN))
            na += 1
    if nm < N and not allrej:
        pid = 1000 + msg % 500
        mbuf.append("%s mx postfix/smtpd[%d]: connect from client%d.example.net[192.0.2.%d]\n" % (sysl(t - 1), pid, msg % 97, msg % 250))
        mbuf.append("%s mx postfix/smtpd[%d]: %s: client=client%d.example.net[192.0.2.%d]\n" % (sysl(t - 1), pid, q, msg % 97, msg % 250))
        mbuf.append("%s mx postfix/cleanup[%d]: %s: message-id=%s\n" % (sysl(t), pid + 1, q, msgid))
        mbuf.append("%s mx postfix/qmgr[900]: %s: from=<%s>, size=%d, nrcpt=%d (queue active)\n" % (sysl(t), q, sender, 2000 + msg % 30000, nr))
        mbuf.append("%s mx postfix/smtpd[%d]: disconnect from client%d.example.net[192.0.2.%d] ehlo=1 mail=1 rcpt=%d data=1 quit=1 commands=5\n" % (sysl(t), pid, msg % 97, msg % 250, nr))
        nm += 5
        out = [(u, d[4]) for u, d in zip(rc, dec)]
        if msg % 20011 == 0:
            out.append((-1, "accepted"))		# always_bcc archive copy
        for u, outcome in out:
            if outcome not in ("accepted", "tagged"):
                continue
            a = "archive@example.com" if u < 0 else users[u]
            if rnd.random() < 0.03:
                mbuf.append("%s mx postfix/smtp[%d]: %s: to=<%s>, relay=mx.example.org[198.51.100.7]:25, delay=2.1, delays=0.1/0/2/0, dsn=4.4.2, status=deferred (conversation timed out)\n" % (sysl(t + 1), 2000 + msg % 300, q, a))
                nm += 1
            if rnd.random() < 0.01:
                st, txt, dsn = "bounced", "host said: 550 5.1.1 user unknown", "5.1.1"
            else:
                st, txt, dsn = "sent", "250 2.0.0 Ok: queued as X", "2.0.0"
            if rnd.random() < 0.2:
                mbuf.append("%s mx postfix/lmtp[%d]: %s: to=<%s>, relay=mail.example.com[private/dovecot-lmtp], delay=0.3, delays=0.1/0/0.1/0.1, dsn=%s, status=%s (%s)\n" % (sysl(t + 2), 3000 + msg % 300, q, a, dsn, st, txt))
            else:
                mbuf.append("%s mx postfix/smtp[%d]: %s: to=<%s>, relay=mx.example.org[198.51.100.7]:25, delay=1.2, delays=0.1/0/0.5/0.6, dsn=%s, status=%s (%s)\n" % (sysl(t + 2), 2000 + msg % 300, q, a, dsn, st, txt))
            nm += 1
        mbuf.append("%s mx postfix/qmgr[900]: %s: removed\n" % (sysl(t + 3), q))
        nm += 1
    if len(abuf) > 10000:
        audit.write("".join(abuf))
        abuf = []
    if len(mbuf) > 10000:
        mlog.write("".join(mbuf))
        mbuf = []
audit.write("".join(abuf))
mlog.write("".join(mbuf))
audit.close()
mlog.close()
EOF
# Exactly N lines each: the generator overshoots by a message.
head -n "$N" "$W/audit.log" >"$W/a" && mv "$W/a" "$W/audit.log"
head -n "$N" "$W/maillog" >"$W/m" && mv "$W/m" "$W/maillog"
printf 'data: audit %s lines (%s MB), maillog %s lines (%s MB)\n' \
	"$(wc -l <"$W/audit.log")" "$(($(wc -c <"$W/audit.log") / 1048576))" \
	"$(wc -l <"$W/maillog")" "$(($(wc -c <"$W/maillog") / 1048576))"
cat "$W/audit.log" "$W/maillog" >/dev/null	# both runs start from the page cache

# Classic syslog times are local: pin the zone, for both.
TZ=UTC
export TZ
: >"$W/t.report"
: >"$W/t.awk"
r=0
while [ $r -lt "$ROUNDS" ]; do
	t0=$(now)
	"$CTL" -c "$W/bench.conf" audit report --audit "$W/audit.log" \
	    --maillog "$W/maillog" >/dev/null
	rc=$?
	t1=$(now)
	if [ $rc -eq 2 ]; then
		echo "bench_report: consentctl audit report failed" >&2
		exit 1
	fi
	# shellcheck disable=SC2016
	"$AWK" '{ n[$5]++ } END { for (k in n) print k, n[k] }' \
	    "$W/audit.log" "$W/maillog" >/dev/null || exit 1
	t2=$(now)
	echo "$t1 - $t0" | bc >>"$W/t.report"
	echo "$t2 - $t1" | bc >>"$W/t.awk"
	r=$((r + 1))
done
tr=$(median <"$W/t.report")
ta=$(median <"$W/t.awk")
"$CTL" -c "$W/bench.conf" audit report --audit "$W/audit.log" \
    --maillog "$W/maillog" | sed -n 's/^result: /report found: /p'
if [ -x /usr/bin/time ]; then
	/usr/bin/time -q -f 'report peak memory: %M KB (goal < 512000)' "$CTL" \
	    -c "$W/bench.conf" audit report --audit "$W/audit.log" \
	    --maillog "$W/maillog" >/dev/null
	# shellcheck disable=SC2016
	/usr/bin/time -q -f "$AWK peak memory: %M KB" "$AWK" \
	    '{ n[$5]++ } END { for (k in n) print k, n[k] }' \
	    "$W/audit.log" "$W/maillog" >/dev/null
fi
printf 'audit report: consentctl %.2f s, %s %.2f s, ratio report/awk %.2f (goal <= 2.00)\n' \
	"$tr" "$AWK" "$ta" "$(echo "$tr / $ta" | bc -l)"
