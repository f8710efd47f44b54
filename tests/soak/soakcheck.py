#!/usr/bin/python3
"""soakcheck.py - the soak's verdict: every attempt soakgen.py recorded,
compared with what the sink received and what the store says.

  soakcheck.py POP.json RESULTS.jsonl SINKDIR SUMMARY.json

For each attempt (its X-Soak-Id), the recipients the sink received are
compared with what the store allows:
  let through   a bulk copy delivered to a recipient the store denies
  lost          an accepted message (250 after the data, or taken by
                sendmail(1)) not delivered to a recipient it should reach
  wrong         a copy delivered for an attempt that was refused,
                tempfailed or abandoned; a copy delivered twice; a
                recipient refused (5xx) whom the store allows; a message
                that was never final (tempfailed until the end); a sink
                file nobody sent; a phase that carried no bulk mail to a
                denied recipient, or a fault phase that tempfailed nothing
An attempt whose outcome the client could not know (connection lost
after the final dot) must be delivered exactly as accepted, or not at all.

Prints one line per phase and writes the totals to SUMMARY.json; exits 1
if anything was let through, lost or wrong, with the first cases.
"""
import json
import os
import sys
from collections import Counter, defaultdict

SENDERS = {"news@news.example.com", "promo@shop.example.org",
           "receipts@shop.example.org"}


def norm(r):
    """The mailbox a client's RCPT argument (or the sink's) names, as the
    population keys it: no brackets, route, quotes or +tag; lower case."""
    r = r.strip().strip("<>").strip()
    if r.startswith("@") and ":" in r:
        r = r.rsplit(":", 1)[1]
    r = r.rstrip(".")
    if "@" not in r:
        return r.lower()
    local, dom = r.rsplit("@", 1)
    local = local.replace('"', "").replace("\\", "")
    local = local.split("+", 1)[0]
    return (local + "@" + dom.rstrip(".")).lower()


def read_sink(d):
    """{attempt id: [recipient...]}, and the files with no id."""
    got = defaultdict(list)
    anon = []
    for root, _, files in os.walk(d):
        for fn in files:
            path = os.path.join(root, fn)
            rcpts, sid = [], None
            with open(path, "rb") as f:
                for line in f:
                    line = line.decode("latin-1").rstrip("\r\n")
                    if line == "":
                        break
                    low = line.lower()
                    if low.startswith("x-rcpt-args:"):
                        a = line.split(":", 1)[1].strip().split(" ")[0]
                        rcpts.append(a)
                    elif low.startswith("x-soak-id:") and sid is None:
                        sid = line.split(":", 1)[1].strip()
            if sid is None:
                anon.append((path, rcpts))
            else:
                got[sid].extend(rcpts)
    return got, anon


def main(argv):
    pop_f, res_f, sink_d, sum_f = argv[1:5]
    with open(pop_f) as f:
        pop = json.load(f)
    allowed = set(pop["allowed"])

    def ok(a):
        # The import phase subscribes imp*@import.example to news; only
        # its probe, after the import, sends to them.
        return a in allowed or a.endswith("@import.example")

    got, anon = read_sink(sink_d)
    phases = defaultdict(Counter)
    bad = defaultdict(list)
    final = {}		# message -> its last outcome
    seen = set()
    with open(res_f) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    for r in recs:
        ph = phases[r["phase"]]
        att, out, kind = r["id"], r["outcome"], r["kind"]
        seen.add(att)
        ph["attempts"] += 1
        ph[out] += 1
        final[r["msg"]] = (r["phase"], out, kind)
        rc = [norm(x) for x in r["rcpts"]]
        codes = r["codes"]
        if r["bulk"]:
            ph["denied_named"] += sum(1 for a in rc if not ok(a))
        if r["via"] == "smtp":
            acc = [a for a, c in zip(rc, codes) if c[:1] == "2"]
            exp = acc if not r["bulk"] else [a for a in acc if ok(a)]
        else:
            # sendmail(1): a bulk message is delivered whole or refused
            # whole; whole only when every recipient is allowed and named
            # in a form Postfix is sure to keep (no capitals: it may
            # rewrite them before the filter sees them).
            sure = all(x == x.lower() for x in r["rcpts"])
            exp = rc if (not r["bulk"] or (sure and all(
                ok(a) for a in rc))) else []
        dl = [norm(x) for x in got.get(att, [])]
        ph["delivered"] += len(dl)
        if r["bulk"]:
            for a in dl:
                if not ok(a):
                    ph["let_through"] += 1
                    bad["let through"].append("%s: %s" % (att, a))
        dup = [a for a, n in Counter(dl).items() if n > 1]
        if dup:
            ph["wrong"] += 1
            bad["delivered twice"].append("%s: %s" % (att, dup))
        if out in ("accepted", "queued"):
            ph["decided_rcpts"] += len(rc)
            miss = set(exp) - set(dl)
            if miss:
                ph["lost"] += len(miss)
                bad["lost"].append("%s (%s): %s" % (att, out, sorted(miss)))
            extra = set(dl) - set(exp) - {a for a in dl if not ok(a)}
            if extra and r["bulk"]:
                ph["wrong"] += 1
                bad["delivered beyond what was accepted"].append(
                    "%s: %s" % (att, sorted(extra)))
        elif out == "unknown":
            if dl and set(dl) != set(exp):
                ph["wrong"] += 1
                bad["unknown outcome, partly delivered"].append(
                    "%s: got %s, want %s or nothing" % (att, dl, exp))
        elif dl:
            ph["wrong"] += 1
            bad["delivered though %s" % out].append("%s: %s" % (att, dl))
        # Refused as the store says (the forms Postfix itself may refuse,
        # and the hostile kinds, are not judged here).
        if r["via"] == "smtp" and kind in ("env", "hdr", "tx", "multi"):
            for a, c in zip(rc, codes):
                if c[:1] == "5" and (ok(a) or not r["bulk"]):
                    ph["wrong"] += 1
                    bad["refused at RCPT though allowed"].append(
                        "%s: %s %s" % (att, a, c))
            if r["data"][:1] == "5" and (not r["bulk"] or any(
                    ok(a) for a, c in zip(rc, codes) if c[:1] == "2")):
                ph["wrong"] += 1
                bad["refused at DATA though allowed"].append(
                    "%s: %s" % (att, r["data"]))
    for m, (phase, out, kind) in final.items():
        if out == "unfinished" or (out == "tempfail" and kind in (
                "env", "hdr", "tx", "multi")):
            phases[phase]["never_final"] += 1
            bad["never final (tempfailed to the end)"].append(m)
    # A check of nothing passes: every phase must have carried mail, bulk
    # mail to denied recipients among it, and a phase whose fault stops
    # the filter (or its store, or its log) must have tempfailed some.
    for name, c in phases.items():
        if c["accepted"] + c["queued"] == 0 or c["denied_named"] == 0:
            bad["a phase with no traffic to judge"].append(name)
        if name in ("kill", "store", "audit", "term") and c["tempfail"] == 0:
            bad["a fault that tempfailed nothing"].append(name)
    for sid in got:
        if sid not in seen:
            bad["delivered, never sent"].append(sid)
    bounces = probes = 0
    for path, rcpts in anon:
        if rcpts and all(norm(x) in SENDERS for x in rcpts):
            bounces += 1
        elif rcpts and all(norm(x).endswith("@import.example")
                           for x in rcpts):
            probes += 1		# soak.sh's own, after the import
        else:
            bad["a sink file with no soak id"].append(
                "%s: %s" % (path, rcpts))
    total = Counter()
    for name, c in phases.items():
        total.update(c)
    summary = {"phases": {k: dict(v) for k, v in phases.items()},
               "total": dict(total), "bounces_to_senders": bounces, "probes": probes,
               "problems": {k: len(v) for k, v in bad.items()}}
    with open(sum_f, "w") as f:
        json.dump(summary, f, indent=1)
    for k, v in bad.items():
        print("PROBLEM %s: %d, e.g.:" % (k, len(v)))
        for x in v[:10]:
            print("  " + x)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
