#!/usr/bin/python3
# slowhttp.py - HTTP clients no browser would be, for the consent-unsubd
# tests.
#
#   slowhttp.py raw HOST PORT SECONDS <REQUEST
#       send REQUEST (stdin, as is) and print the status code of the
#       answer, or "timeout" if none came within SECONDS, or "closed"
#       if the server hung up without one.
#
#   slowhttp.py trickle HOST PORT SECONDS READY SRC:N...
#       hold N connections from each source address SRC, each sending a
#       request header one octet a second and never finishing it; one the
#       server closes is opened again a second later, as an attacker
#       would.  After the first octet is out on every connection, the
#       file READY is created, and READY.2 once each has sent a second
#       octet on one socket (or lost one).  After SECONDS, one line per
#       source:
#         SRC opened=O refused=R cut=C open=N
#       refused: closed before the second octet (the per-client cap);
#       cut: closed later (the request deadline); open: still open.
import selectors
import socket
import sys
import time

HEAD = b"POST /u/slow HTTP/1.1\r\nHost: slow.example\r\nX-Slow: "


def raw(host, port, secs):
    req = sys.stdin.buffer.read()
    s = socket.create_connection((host, port), timeout=secs)
    s.sendall(req)
    end = time.monotonic() + secs
    buf = b""
    while b"\r\n" not in buf:
        left = end - time.monotonic()
        if left <= 0:
            print("timeout")
            return
        s.settimeout(left)
        try:
            got = s.recv(4096)
        except socket.timeout:
            print("timeout")
            return
        except OSError:
            got = b""
        if not got:
            print("closed")
            return
        buf += got
    line = buf.split(b"\r\n", 1)[0].split()
    print(line[1].decode() if len(line) > 1 else "closed")


class Slow:
    """One trickling connection."""

    def __init__(self, src):
        self.src = src
        self.sock = None
        self.up = False     # connected
        self.sent = 0
        self.tried = False  # has sent an octet, on this or an earlier socket
        self.lost = False   # a socket of it was refused or cut
        self.next = 0.0     # when to send the next octet, or reconnect


def trickle(host, port, secs, ready, specs):
    sel = selectors.DefaultSelector()
    stats = {}
    conns = []
    for spec in specs:
        src, n = spec.rsplit(":", 1)
        stats[src] = {"opened": 0, "refused": 0, "cut": 0}
        conns += [Slow(src) for _ in range(int(n))]

    def open_(c, now):
        # Not blocking: a server that stops accepting must not stop us.
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((c.src, 0))
        s.setblocking(False)
        s.connect_ex((host, port))
        c.sock, c.up, c.sent, c.next = s, False, 0, now
        stats[c.src]["opened"] += 1
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, c)

    def lost(c, now):
        sel.unregister(c.sock)
        c.sock.close()
        c.sock = None
        c.lost = True
        stats[c.src]["refused" if c.sent < 2 else "cut"] += 1
        c.next = now + 1

    start = time.monotonic()
    for c in conns:
        open_(c, start)
    told = told2 = False
    while True:
        now = time.monotonic()
        if now - start >= secs:
            break
        for c in conns:
            if c.next > now:
                continue
            if c.sock is None:
                open_(c, now)
                continue
            if not c.up:
                continue
            octet = HEAD[c.sent:c.sent + 1] or b"a"
            try:
                c.sock.send(octet)
                c.sent += 1
                c.tried = True
                c.next = now + 1
            except OSError:
                lost(c, now)
        if not told and all(c.tried for c in conns):
            open(ready, "w").close()
            told = True
        # READY.2: each has sent a second octet on one socket (or lost
        # one): the server has seen them trickle, not just arrive.
        if not told2 and all(c.lost or c.sent >= 2 for c in conns):
            open(ready + ".2", "w").close()
            told2 = True
        wake = min([c.next for c in conns] + [start + secs])
        for key, ev in sel.select(max(0.0, min(wake - time.monotonic(), 0.2))):
            c = key.data
            if not c.up and ev & selectors.EVENT_WRITE:
                if c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    lost(c, time.monotonic())
                    continue
                c.up = True
                sel.modify(c.sock, selectors.EVENT_READ, c)
            if not ev & selectors.EVENT_READ:
                continue
            try:
                got = c.sock.recv(4096)
            except OSError:
                got = b""
            if not got:
                lost(c, time.monotonic())
    for src, st in stats.items():
        st["open"] = sum(1 for c in conns if c.src == src and c.sock)
        print("%s opened=%d refused=%d cut=%d open=%d" % (
            src, st["opened"], st["refused"], st["cut"], st["open"]))
    for c in conns:
        if c.sock:
            c.sock.close()


def main():
    if len(sys.argv) >= 5 and sys.argv[1] == "raw":
        raw(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif len(sys.argv) >= 7 and sys.argv[1] == "trickle":
        trickle(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
                sys.argv[5], sys.argv[6:])
    else:
        sys.stderr.write("usage: see the head of slowhttp.py\n")
        sys.exit(2)


if __name__ == "__main__":
    main()
