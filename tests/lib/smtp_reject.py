#!/usr/bin/python3
"""smtp_reject.py - a next hop that refuses every recipient as unknown.

  smtp_reject.py PORTFILE [SECONDS]

Listens on a free loopback port (written to PORTFILE once bound), answers
"550 5.1.1 <rcpt>: Recipient address rejected: User unknown" to every
RCPT TO and 250 to everything else, one client at a time, and exits after
SECONDS (default 300) so that a test that dies never leaves it behind.
The greeting names rejector.consent-test.invalid, not Postfix's own name.
"""
import socket
import sys
import time


def serve(conn):
    conn.settimeout(30)
    f = conn.makefile("rb")
    conn.sendall(b"220 rejector.consent-test.invalid ESMTP\r\n")
    while True:
        line = f.readline()
        if not line:
            return
        cmd = line.decode("latin-1").rstrip("\r\n")
        verb = cmd[:4].upper()
        if verb in ("EHLO", "HELO"):
            conn.sendall(b"250 rejector.consent-test.invalid\r\n")
        elif verb == "RCPT":
            rcpt = cmd.split(":", 1)[1].strip() if ":" in cmd else "<>"
            conn.sendall(("550 5.1.1 %s: Recipient address rejected: "
                          "User unknown\r\n" % rcpt).encode("latin-1"))
        elif verb == "QUIT":
            conn.sendall(b"221 2.0.0 bye\r\n")
            return
        elif verb == "DATA":
            conn.sendall(b"554 5.5.1 no valid recipients\r\n")
        else:
            conn.sendall(b"250 2.0.0 ok\r\n")


def main(argv):
    deadline = time.time() + (float(argv[2]) if len(argv) > 2 else 300)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    with open(argv[1] + ".tmp", "w") as fp:
        fp.write("%d\n" % s.getsockname()[1])
    import os
    os.rename(argv[1] + ".tmp", argv[1])
    while time.time() < deadline:
        s.settimeout(max(0.1, min(1.0, deadline - time.time())))
        try:
            conn, _ = s.accept()
        except socket.timeout:
            continue
        try:
            serve(conn)
        except (OSError, EOFError):
            pass
        finally:
            conn.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
