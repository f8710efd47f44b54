#!/usr/bin/python3
"""smtp_send.py - one SMTP transaction with the message on stdin.

  smtp_send.py PORT FROM RCPT... <MESSAGE

FROM and each RCPT go between <> after MAIL FROM: and RCPT TO: ("" is
the null sender).  The message is sent as it is (LF or CRLF, dots
stuffed), DATA only when a recipient was accepted.  Prints "MAIL <reply>",
"RCPT <rcpt> <reply>" and "DATA <reply>" (the reply to the end of the
data), as smtp_raw.py does.  Exits 0 when the conversation ran.
"""
import socket
import sys


def reply(f):
    while True:
        line = f.readline()
        if not line:
            raise EOFError("connection closed")
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        if len(line) < 4 or line[3] != "-":
            return line


def main(argv):
    port, sender, rcpts = int(argv[1]), argv[2], argv[3:]
    lines = sys.stdin.buffer.read().replace(b"\r\n", b"\n").split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    f = s.makefile("rb")

    def cmd(text):
        s.sendall(text.encode("utf-8", "surrogateescape") + b"\r\n")
        return reply(f)

    reply(f)
    cmd("EHLO client.example.org")
    print("MAIL " + cmd("MAIL FROM:<%s>" % sender))
    ok = 0
    for r in rcpts:
        got = cmd("RCPT TO:<%s>" % r)
        print("RCPT <%s> %s" % (r, got))
        ok += got.startswith("250")
    if ok:
        got = cmd("DATA")
        if got.startswith("354"):
            s.sendall(b"".join((b"." + l if l.startswith(b".") else l) +
                               b"\r\n" for l in lines) + b".\r\n")
            got = reply(f)
        print("DATA " + got)
    cmd("QUIT")
    s.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, EOFError, IndexError, ValueError) as e:
        print("smtp_send.py: %s" % e, file=sys.stderr)
        sys.exit(1)
