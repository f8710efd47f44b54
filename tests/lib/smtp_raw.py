#!/usr/bin/python3
"""smtp_raw.py - one SMTP transaction with RCPT arguments sent exactly as
given (swaks and smtplib rewrite them).  Prints one line per command:
"MAIL 250 ...", "RCPT <arg> 250 ...", "DATA 250 ..." (the reply to the end
of the data), so a test can check each reply.

  smtp_raw.py PORT FROM [--smtputf8] [--header 'Name: value']... -- RCPT...

FROM and each RCPT are sent verbatim after "MAIL FROM:" / "RCPT TO:".
Exits 0 when the conversation ran (whatever the replies), 1 otherwise.
"""
import socket
import sys


def reply(f):
    """Read one SMTP reply; return its last line."""
    while True:
        line = f.readline()
        if not line:
            raise EOFError("connection closed")
        line = line.decode("utf-8", "replace").rstrip("\r\n")
        if len(line) < 4 or line[3] != "-":
            return line


def main(argv):
    port, sender = int(argv[1]), argv[2]
    utf8, headers, rcpts, i = False, [], [], 3
    while i < len(argv):
        a = argv[i]
        if a == "--smtputf8":
            utf8 = True
        elif a == "--header":
            i += 1
            headers.append(argv[i])
        elif a == "--":
            rcpts = argv[i + 1:]
            break
        i += 1
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    f = s.makefile("rb")

    def cmd(text):
        s.sendall(text.encode("utf-8", "surrogateescape") + b"\r\n")
        return reply(f)

    reply(f)
    cmd("EHLO client.example.org")
    print("MAIL " + cmd("MAIL FROM:" + sender + (" SMTPUTF8" if utf8 else "")))
    ok = 0
    for r in rcpts:
        got = cmd("RCPT TO:" + r)
        print("RCPT " + r + " " + got)
        ok += got.startswith("250")
    if ok:
        got = cmd("DATA")
        if got.startswith("354"):
            body = "".join(h + "\r\n" for h in headers)
            body += "Subject: forms\r\nMessage-ID: <forms@example.org>\r\n\r\nhello\r\n."
            got = cmd(body)
        print("DATA " + got)
    cmd("QUIT")
    s.close()
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except (OSError, EOFError, IndexError, ValueError) as e:
        print("smtp_raw.py: %s" % e, file=sys.stderr)
        sys.exit(1)
