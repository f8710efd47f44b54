#!/usr/bin/python3
"""soakreport.py - the soak's table, from soakcheck.py's summary, the
facts soak.sh noted and the filter's metrics after the load phase.

  soakreport.py SUMMARY.json FACTS METRICS [UNSUBD.json]

Prints per phase: wall seconds, attempts, accepted (and taken by
sendmail(1)), refused, tempfailed (then retried), messages/s, let through,
lost, wrong; then the filter's RSS, its decision latency (p50/p99 from its
own consent_milter_decision_seconds histogram: the bucket bound that
holds the quantile), decisions (audit lines), faults and the load average.
Asserts nothing.
"""
import json
import os
import sys


def facts(path):
    f = {}
    with open(path) as fh:
        for line in fh:
            p = line.split()
            if len(p) >= 2:
                f.setdefault(p[0], []).append(p[1:])
    return f


def quantiles(path, qs):
    buckets, count = [], 0
    if not os.path.exists(path):
        return [None for q in qs], 0
    with open(path) as fh:
        for line in fh:
            if line.startswith("consent_milter_decision_seconds_bucket"):
                le = line.split('le="', 1)[1].split('"', 1)[0]
                buckets.append((float("inf") if le == "+Inf" else float(le),
                                float(line.split()[-1])))
            elif line.startswith("consent_milter_decision_seconds_count"):
                count = float(line.split()[-1])
    buckets.sort()
    out = []
    for q in qs:
        want = q * count
        got = None
        for le, n in buckets:
            if n >= want:
                got = le
                break
        out.append(got)
    return out, count


def us(x):
    if x is None:
        return "?"
    if x == float("inf"):
        return "> last bucket"
    return "<= %g us" % (x * 1e6)


def main(argv):
    with open(argv[1]) as fh:
        summ = json.load(fh)
    f = facts(argv[2])
    (p50, p99), n = quantiles(argv[3], (0.5, 0.99))
    rows = []
    order = ["load", "kill", "store", "audit", "import", "usr1", "hostile",
             "term"]
    wall = {}
    for ev in f.get("phase", []):
        wall.setdefault(ev[0], {})[ev[1]] = float(ev[2])
    hdr = ("phase", "secs", "attempts", "accepted", "refused", "tempfail",
           "other", "msg/s", "let through", "lost", "wrong")
    print("%-8s %6s %9s %9s %8s %8s %6s %7s %11s %5s %5s" % hdr)
    tot_secs = 0.0
    for ph in order:
        c = summ["phases"].get(ph)
        if c is None:
            continue
        secs = wall.get(ph, {}).get("end", 0) - wall.get(ph, {}).get(
            "start", 0)
        tot_secs += secs
        acc = c.get("accepted", 0) + c.get("queued", 0)
        other = c.get("unknown", 0) + c.get("aborted", 0) + c.get(
            "unfinished", 0)
        rows.append(acc)
        print("%-8s %6.0f %9d %9d %8d %8d %6d %7.1f %11d %5d %5d" % (
            ph, secs, c["attempts"], acc, c.get("rejected", 0),
            c.get("tempfail", 0), other, acc / secs if secs else 0,
            c.get("let_through", 0), c.get("lost", 0), c.get("wrong", 0)))
    t = summ["total"]
    acc = t.get("accepted", 0) + t.get("queued", 0)
    print("%-8s %6.0f %9d %9d %8d %8d %6d %7.1f %11d %5d %5d" % (
        "all", tot_secs, t.get("attempts", 0), acc, t.get("rejected", 0),
        t.get("tempfail", 0), t.get("unknown", 0) + t.get("aborted", 0) +
        t.get("unfinished", 0), acc / tot_secs if tot_secs else 0,
        t.get("let_through", 0), t.get("lost", 0), t.get("wrong", 0)))
    print()
    print("recipient copies delivered: %d; bounces to senders (sendmail(1) "
          "mixed messages refused whole): %d" % (
              t.get("delivered", 0), summ.get("bounces_to_senders", 0)))
    rss = f.get("rss", [["?", "?"]])[0]
    print("filter RSS (load phase, one process): %s KiB at start, %s KiB "
          "at end; last process at the end: %s KiB" % (
              rss[0], rss[1], f.get("rss_end", [["?"]])[0][0]))
    print("decision latency, the filter's own histogram (load phase, %d "
          "decisions): p50 %s, p99 %s" % (n, us(p50), us(p99)))
    print("decisions in the audit log (whole run): %s; filter processes: "
          "%s; SIGKILLs: %s; SIGUSR1: %s; import rows: %s (data.mdb %s -> "
          "%s bytes); sessions in flight at SIGTERM: %s" % (
              f.get("audit_decisions", [["?"]])[0][0],
              f.get("instances", [["?"]])[0][0],
              f.get("kills", [["?"]])[0][0], f.get("usr1", [["?"]])[0][0],
              *(f.get("import", [["?", "?", "?"]])[0]),
              f.get("term_sessions", [["?"]])[0][0]))
    if "unsubd" in f:
        print("consent-unsubd: " + " ".join(f["unsubd"][0]))
    print("queue drained after the last phase in %s s" % f.get(
        "drain", [["?"]])[0][0])
    print("load average at the end (1, 5 min): %s" % " ".join(
        f.get("load", [["?"]])[0]))
    if summ["problems"]:
        print("problems: %s" % json.dumps(summ["problems"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
