#!/usr/bin/python3
"""soakgen.py - the soak's load generator: SMTP sessions (and sendmail(1)
calls) against the private Postfix, every attempt recorded.

  soakgen.py --port P --pop POP.json --out RESULTS.jsonl --phase NAME
             [--sessions C] [--time T] [--drain D] [--reuse F]
             [--sendmail 'CMD ARGS'] [--sendmail-workers N]
             [--maildrop DIR] [--hostile]
             [--stop FILE] [--seed S]

C threads each hold one SMTP session at a time for T seconds; a share of
them (F) send 10-50 messages on one connection.  Each message is one of:
envelope bulk (sender news@news.example.com: a rule classifies it, denied
recipients get 550 at RCPT), header bulk (X-Consent-List or List-Id: the
filter removes denied recipients at the end of the message, or refuses
it whole), transactional (every recipient delivered), multi-recipient
bulk (10-30 recipients); with --hostile also odd RCPT forms of denied
recipients, header bombs, aborts mid-DATA and clients that vanish.

Every attempt carries its own id (X-Soak-Id: PHASE.THREAD.N.aK) and ends
as one line in RESULTS: accepted (250 after the data), rejected (5xx:
nothing to deliver), tempfail (a 4xx anywhere, or the connection lost
before the data ended; the client tries again with a new attempt id
after a pause), unknown (the connection lost after the final dot, before
the reply: Postfix may or may not have it) or aborted (the client itself
gave up mid-transaction on purpose).  After T seconds no new message
starts; retries go on for up to D seconds more (default 180), and what is
still not final then is recorded as "unfinished".  tests/soak/soakcheck.py
compares every line with the sink and the store.

The whole tally goes to stdout as one JSON line at the end.
"""
import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time

ENV_SENDER = "news@news.example.com"
HDR_SENDER = "promo@shop.example.org"
TX_SENDER = "receipts@shop.example.org"
# Hostile kinds are tried once: a filter may rightly tempfail them for good.
HOSTILE = {"odd", "utf8", "bomb_long", "bomb_many", "bomb_lists", "abort",
           "vanish"}

# Odd RCPT forms of a denied recipient, each naming the same mailbox.  %s
# is the local part of one, @example.com its domain (see test_rcpt_forms.sh).
ODD_FORMS = [
    "<@relay.example:%s@example.com>",
    "<@a.example,@b.example:%s@example.com>",
    "<@[192.0.2.1]:%s@example.com>",
    '<"%s"@example.com>',
    "<%s@EXAMPLE.COM>",
    "%s@example.com",
    "< %s@example.com>",
    "<%s@example.com >",
    "<%s@example.com.>",
    "<@[IPv6:2001:db8::1]:%s@example.com>",
]


class Session:
    """One SMTP connection, line by line, with a timeout on every read."""

    def __init__(self, port, timeout):
        self.s = socket.create_connection(("127.0.0.1", port), timeout)
        self.f = self.s.makefile("rb")

    def reply(self):
        while True:
            line = self.f.readline()
            if not line:
                raise EOFError("closed")
            line = line.decode("latin-1").rstrip("\r\n")
            if len(line) < 4 or line[3] != "-":
                return line

    def cmd(self, text):
        self.s.sendall(text.encode("utf-8", "surrogateescape") + b"\r\n")
        return self.reply()

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


class Gen:
    def __init__(self, a):
        self.a = a
        with open(a.pop) as f:
            pop = json.load(f)
        self.allowed = pop["allowed"]
        self.denied = pop["denied"]
        self.odd = pop["odd_denied_locals"]
        self.out = open(a.out, "a")
        self.lock = threading.Lock()
        self.t_end = time.monotonic() + a.time
        self.t_drain = self.t_end + a.drain
        self.tally = {}

    def stopping(self):
        now = time.monotonic()
        if now >= self.t_end:
            return True
        if self.a.stop and os.path.exists(self.a.stop):
            with self.lock:
                if self.t_end > now:	# retries go on for --drain more
                    self.t_end = now
                    self.t_drain = now + self.a.drain
            return True
        return False

    def record(self, msg, att, outcome, codes, data_code="", extra=None):
        rec = {"id": att, "msg": msg["msg"], "phase": self.a.phase,
               "kind": msg["kind"], "bulk": msg["bulk"], "via": msg["via"],
               "rcpts": msg["rcpts"], "codes": codes, "data": data_code,
               "outcome": outcome}
        if extra:
            rec.update(extra)
        with self.lock:
            self.out.write(json.dumps(rec) + "\n")
            self.out.flush()
            self.tally[outcome] = self.tally.get(outcome, 0) + 1

    # --- messages ---------------------------------------------------------

    def rcpt(self, rnd, allowed_share):
        """One recipient as the client writes it (case, +tag varied)."""
        a = rnd.choice(self.allowed if rnd.random() < allowed_share
                       else self.denied)
        local, dom = a.split("@")
        r = rnd.random()
        if r < 0.1:
            local = local + "+promo"
        elif r < 0.2:
            local, dom = local.capitalize(), dom.upper()
        return local + "@" + dom

    def rcpts(self, rnd, n, allowed_share, brackets=True):
        """N recipients, no two naming the same mailbox (Postfix would
        deliver one copy to each form)."""
        out, seen = [], set()
        while len(out) < n:
            r = self.rcpt(rnd, allowed_share)
            key = r.lower().split("+")[0].split("@")[0]
            if key in seen:
                continue
            seen.add(key)
            out.append("<%s>" % r if brackets else r)
        return out

    def make(self, rnd, name):
        """A new message: its kind, envelope and headers."""
        h = self.a.hostile
        r = rnd.random()
        if h and r < 0.45:
            kind = rnd.choice(["odd", "odd", "bomb_long", "bomb_many",
                               "bomb_lists", "abort", "vanish", "utf8"])
        else:
            r = rnd.random()
            kind = ("env" if r < 0.35 else "hdr" if r < 0.65 else
                    "tx" if r < 0.85 else "multi")
        n = rnd.randint(10, 30) if kind == "multi" else rnd.randint(1, 4)
        rcpts = self.rcpts(rnd, n, 0.5)
        sender, headers, bulk = HDR_SENDER, [], True
        if kind == "env":
            sender = ENV_SENDER
        elif kind == "tx":
            sender, bulk = TX_SENDER, False
            headers.append("Subject: your receipt")
        elif kind == "multi":
            if rnd.random() < 0.5:
                sender = ENV_SENDER
            else:
                headers.append("X-Consent-List: news")
        elif kind == "odd":
            loc = rnd.choice(self.odd)
            rcpts = self.rcpts(rnd, 1, 1.0) + [rnd.choice(ODD_FORMS) % loc]
            headers.append("X-Consent-List: news")
        elif kind == "utf8":
            rcpts = self.rcpts(rnd, 1, 1.0) + [
                "<j\u00f6rg%d@example.com>" % rnd.randint(0, 99)]
            headers.append("X-Consent-List: news")
        elif kind == "bomb_long":
            headers.append("X-Consent-List: news")
            headers.append("X-Long: " + "a" * 65536)
        elif kind == "bomb_many":
            headers.append("X-Consent-List: news")
            headers.extend("X-Many-%d: %d" % (i, i) for i in range(10000))
        elif kind == "bomb_lists":
            headers.extend("List-Id: list%d <list%d.example>" % (i, i)
                           for i in range(200))
            headers.extend("List-Unsubscribe: <https://x.example/%d>" % i
                           for i in range(200))
            headers.insert(100, "X-Consent-List: news")
        else:			# hdr, abort, vanish
            if rnd.random() < 0.5:
                headers.append("X-Consent-List: news")
            else:
                headers.append("List-Id: Our newsletter <news>")
        return {"msg": name, "kind": kind, "sender": sender, "bulk": bulk,
                "rcpts": rcpts, "headers": headers, "via": "smtp",
                "size": rnd.choice([200, 200, 200, 4000, 40000])}

    def body(self, msg, att):
        lines = ["From: <%s>" % msg["sender"], "To: undisclosed-recipients:;",
                 "Subject: soak %s" % att, "Message-ID: <%s@soak.example>" % att,
                 "X-Soak-Id: " + att] + msg["headers"] + [""]
        filler = "Lorem ipsum dolor sit amet, consectetur adipiscing elit."
        size = 0
        while size < msg["size"]:
            lines.append(filler)
            size += len(filler) + 2
        return lines

    # --- one attempt over SMTP --------------------------------------------

    def attempt(self, sess, msg, att):
        """Run one transaction on SESS; return (outcome, codes, data_code,
        alive): alive false when the session must be dropped."""
        codes = []
        try:
            rep = sess.cmd("MAIL FROM:<%s>%s" % (
                msg["sender"], " SMTPUTF8" if msg["kind"] == "utf8" else ""))
            if rep[:1] != "2":
                return ("tempfail" if rep[:1] == "4" else "rejected",
                        ["MAIL " + rep], "", rep[:1] in "45")
            for r in msg["rcpts"]:
                codes.append(sess.cmd("RCPT TO:" + r)[:3])
            if msg["kind"] == "vanish":
                sess.close()
                return "aborted", codes, "", False
            if any(c[:1] == "4" for c in codes):
                sess.cmd("RSET")
                return "tempfail", codes, "", True
            if not any(c[:1] == "2" for c in codes):
                sess.cmd("RSET")
                return "rejected", codes, "", True
            rep = sess.cmd("DATA")
            if rep[:1] != "3":
                return ("tempfail" if rep[:1] == "4" else "rejected", codes,
                        rep[:3], True)
        except (OSError, EOFError):
            return "tempfail", codes, "lost", False
        try:
            lines = self.body(msg, att)
            if msg["kind"] == "abort":
                half = "\r\n".join(lines[:len(lines) // 2]) + "\r\n"
                sess.s.sendall(half.encode())
                sess.close()
                return "aborted", codes, "", False
            data = "\r\n".join("." + ln if ln.startswith(".") else ln
                               for ln in lines) + "\r\n.\r\n"
            sess.s.sendall(data.encode("utf-8"))
        except (OSError, EOFError):
            return "tempfail", codes, "lost", False
        try:
            rep = sess.reply()
        except (OSError, EOFError):
            return "unknown", codes, "lost", False
        out = {"2": "accepted", "4": "tempfail", "5": "rejected"}.get(
            rep[:1], "tempfail")
        return out, codes, rep[:9], True

    def connect(self):
        sess = Session(self.a.port, 120)
        if sess.reply()[:1] != "2" or sess.cmd(
                "EHLO soak%d.example.org" % threading.get_ident())[:1] != "2":
            sess.close()
            raise EOFError("no greeting")
        return sess

    def worker(self, wid):
        rnd = random.Random("%s.%d.%d" % (self.a.seed, wid, os.getpid()))
        pending = []		# [due, msg, attempt number]
        n = 0
        while True:
            now = time.monotonic()
            if now >= self.t_drain:
                for _, msg, k in pending:
                    self.record(msg, "%s.a%d" % (msg["msg"], k), "unfinished",
                                [])
                return
            stop = self.stopping()
            if stop and not pending:
                return
            if pending and (pending[0][0] <= now or stop):
                if pending[0][0] > now:
                    time.sleep(min(0.2, pending[0][0] - now))
                    continue
                _, msg, k = pending.pop(0)
            elif stop:
                continue
            else:
                n += 1
                msg = self.make(rnd, "%s.%d.%d" % (self.a.phase, wid, n))
                k = 0
            reuse = rnd.random() < self.a.reuse
            count = rnd.randint(10, 50) if reuse else 1
            try:
                sess = self.connect()
            except (OSError, EOFError):
                k += 1
                self.record(msg, "%s.a%d" % (msg["msg"], k), "tempfail", [],
                            "connect")
                time.sleep(rnd.uniform(0.2, 1))
                pending.append([time.monotonic() + rnd.uniform(0.5, 2),
                                msg, k])
                pending.sort(key=lambda p: p[0])
                continue
            for i in range(count):
                if i > 0:
                    if self.stopping() or pending:
                        break
                    n += 1
                    msg = self.make(rnd, "%s.%d.%d" % (self.a.phase, wid, n))
                    k = 0
                k += 1
                att = "%s.a%d" % (msg["msg"], k)
                out, codes, dc, alive = self.attempt(sess, msg, att)
                self.record(msg, att, out, codes, dc,
                            {"reused": count > 1})
                if out in ("tempfail", "unknown") and \
                        msg["kind"] not in HOSTILE:
                    pending.append([time.monotonic() + rnd.uniform(0.5, 2),
                                    msg, k])
                    pending.sort(key=lambda p: p[0])
                if not alive:
                    break
            else:
                try:
                    sess.cmd("QUIT")
                except (OSError, EOFError):
                    pass
            sess.close()

    # --- sendmail(1) ------------------------------------------------------

    def sm_worker(self, wid):
        rnd = random.Random("%s.sm%d" % (self.a.seed, wid))
        n = 0
        cmd = self.a.sendmail.split()
        while not self.stopping():
            # Postfix's one pickup process takes sendmail(1) mail through
            # the filter one message at a time: on a loaded machine two
            # writers outrun it, and the maildrop grew 30 minutes deep.
            # Keep it shallow, as a submitter that watched its queue would.
            if self.a.maildrop and len(os.listdir(self.a.maildrop)) > 100:
                time.sleep(0.5)
                continue
            n += 1
            r = rnd.random()
            if r < 0.4:		# every recipient allowed
                rc = self.rcpts(rnd, rnd.randint(1, 3), 1.0, False)
                kind = "sm_allowed"
            elif r < 0.6:	# one denied recipient alone
                rc = self.rcpts(rnd, 1, 0.0, False)
                kind = "sm_denied"
            elif r < 0.8:	# mixed: refused whole
                rc = self.rcpts(rnd, 1, 1.0, False) + self.rcpts(
                    rnd, 1, 0.0, False)
                kind = "sm_mixed"
            else:
                rc = self.rcpts(rnd, rnd.randint(1, 3), 0.5, False)
                kind = "sm_tx"
            tx = kind == "sm_tx"
            msg = {"msg": "%s.sm%d.%d" % (self.a.phase, wid, n), "kind": kind,
                   "sender": TX_SENDER if tx else ENV_SENDER, "bulk": not tx,
                   "rcpts": ["<%s>" % x for x in rc], "headers": [],
                   "via": "sendmail", "size": 200}
            att = msg["msg"] + ".a1"
            data = "\n".join(self.body(msg, att)) + "\n"
            try:
                p = subprocess.run(cmd + ["-f", msg["sender"]] + rc,
                                   input=data.encode(), timeout=60,
                                   capture_output=True)
                out = "queued" if p.returncode == 0 else "rejected"
            except subprocess.TimeoutExpired:
                out = "unknown"
            self.record(msg, att, out, [])

    def run(self):
        threads = [threading.Thread(target=self.worker, args=(i,))
                   for i in range(self.a.sessions)]
        if self.a.sendmail:
            threads += [threading.Thread(target=self.sm_worker, args=(i,))
                        for i in range(self.a.sendmail_workers)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.out.close()
        print(json.dumps({"phase": self.a.phase, "tally": self.tally}))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pop", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--phase", required=True)
    p.add_argument("--sessions", type=int, default=200)
    p.add_argument("--time", type=float, default=60)
    p.add_argument("--drain", type=float, default=180)
    p.add_argument("--reuse", type=float, default=0.2)
    p.add_argument("--sendmail", default="")
    p.add_argument("--sendmail-workers", type=int, default=2)
    p.add_argument("--maildrop", default="")
    p.add_argument("--hostile", action="store_true")
    p.add_argument("--stop", default="")
    p.add_argument("--seed", default="soak")
    threading.stack_size(256 * 1024)
    Gen(p.parse_args()).run()


if __name__ == "__main__":
    sys.exit(main())
