#!/usr/bin/python3
"""unsubd_storm.py - consent-unsubd under hostile load, for the soak.

  unsubd_storm.py PORT TOKENS SECONDS OUT.json

At once, for SECONDS:
  - bursts of 1,000 concurrent connections, each a one-click POST with a
    forged token;
  - 200 slow clients, each sending its request header one octet a second
    (opened again when the server cuts them);
  - a stream of forged tokens, one POST after another;
  - the real one-click POSTs, one per line of TOKENS ("ADDRESS TOKEN"),
    each timed from connect to the end of the answer; one that is refused
    for load (503, or the connection cut) is sent again.
Writes OUT.json: every status code seen per kind, how many forged POSTs
got a 200 (must be 0), how many real ones never got one (must be 0), and
the real POSTs' latency p50/p99 in ms (reported, never asserted).  Exit 0
once the run ended; the verdict is soak.sh's.
"""
import asyncio
import base64
import json
import os
import sys
import time
from collections import Counter

BODY = b"List-Unsubscribe=One-Click"


def request(token):
    return (b"POST /u/" + token.encode() + b" HTTP/1.1\r\nHost: unsub.example.test\r\n"
            b"Content-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(BODY)).encode() +
            b"\r\nConnection: close\r\n\r\n" + BODY)


def forged():
    return base64.urlsafe_b64encode(os.urandom(96)).decode().rstrip("=")


async def post(port, token, timeout=30):
    """One POST; the status code, or "closed"/"refused"/"timeout"."""
    try:
        r, w = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port), timeout)
    except (OSError, asyncio.TimeoutError):
        return "refused"
    try:
        w.write(request(token))
        await w.drain()
        line = await asyncio.wait_for(r.readline(), timeout)
        if not line:
            return "closed"
        code = line.split()[1].decode() if len(line.split()) > 1 else "bad"
        await asyncio.wait_for(r.read(), timeout)
        return code
    except asyncio.TimeoutError:
        return "timeout"
    except OSError:
        return "closed"
    finally:
        w.close()


class Storm:
    def __init__(self, port, secs):
        self.port, self.end = port, time.monotonic() + secs
        self.codes = {k: Counter() for k in ("burst", "forged", "real",
                                              "slow")}
        self.lat = []
        self.real_failed = []

    def running(self):
        return time.monotonic() < self.end

    async def bursts(self):
        while self.running():
            res = await asyncio.gather(*[post(self.port, forged())
                                         for _ in range(1000)])
            self.codes["burst"].update(res)
            await asyncio.sleep(0.5)

    async def stream(self):
        while self.running():
            self.codes["forged"][await post(self.port, forged())] += 1

    async def slow_one(self):
        while self.running():
            try:
                r, w = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                self.codes["slow"]["refused"] += 1
                await asyncio.sleep(1)
                continue
            head = request(forged())
            self.codes["slow"]["opened"] += 1
            try:
                for b in head:
                    if not self.running():
                        break
                    w.write(bytes([b]))
                    await w.drain()
                    try:
                        line = await asyncio.wait_for(r.readline(), 1)
                        self.codes["slow"]["cut" if not line else "answered"] += 1
                        break
                    except asyncio.TimeoutError:
                        pass
            except OSError:
                self.codes["slow"]["cut"] += 1
            w.close()

    async def real(self, tokens):
        # Spread over the first 80% of the run, so the storm is on.
        gap = max(0.0, (self.end - time.monotonic()) * 0.8 / max(1, len(tokens)))
        for addr, tok in tokens:
            for _ in range(20):
                t0 = time.monotonic()
                code = await post(self.port, tok)
                self.codes["real"][code] += 1
                if code == "200":
                    self.lat.append((time.monotonic() - t0) * 1000)
                    break
                if code not in ("503", "refused", "closed", "timeout"):
                    break
                await asyncio.sleep(0.2)
            else:
                code = "gave up"
            if code != "200":
                self.real_failed.append("%s: %s" % (addr, code))
            await asyncio.sleep(gap)

    async def run(self, tokens):
        await asyncio.gather(self.bursts(), self.stream(), self.real(tokens),
                             *[self.slow_one() for _ in range(200)])


def pct(v, q):
    if not v:
        return None
    v = sorted(v)
    return round(v[min(len(v) - 1, int(q * len(v)))], 1)


def main(argv):
    port, tokf, secs, out = int(argv[1]), argv[2], float(argv[3]), argv[4]
    with open(tokf) as f:
        tokens = [ln.split() for ln in f if ln.strip()]
    s = Storm(port, secs)
    asyncio.run(s.run(tokens))
    res = {"codes": {k: dict(v) for k, v in s.codes.items()},
           "forged_accepted": s.codes["burst"]["200"] + s.codes["forged"]["200"]
           + s.codes["slow"]["answered_200"],
           "real": len(tokens), "real_ok": len(s.lat),
           "real_failed": s.real_failed[:20], "real_failed_n": len(s.real_failed),
           "p50_ms": pct(s.lat, 0.5), "p99_ms": pct(s.lat, 0.99)}
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
