#!/usr/bin/python3
"""syslog_sink.py - a syslog(3) socket for one private daemon.

  syslog_sink.py SOCKET FILE

Binds a unix datagram socket at SOCKET (mode 0666) and appends each
message it receives to FILE, one line each, as it arrived ("<22>Dec  1
23:55:52 sendmail[29002]: ...").  tests/lib/sendmail.sh mounts SOCKET on
/dev/log inside the private Sendmail's mount namespace: Sendmail logs
only through syslog, and these machines run no syslog daemon.  Runs
until killed.
"""
import os
import socket
import sys


def main(argv):
    path, out = argv[1], argv[2]
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(path)
    os.chmod(path, 0o666)
    with open(out, "ab", buffering=0) as f:
        while True:
            data = s.recv(65536)
            f.write(data.rstrip(b"\0\r\n") + b"\n")


if __name__ == "__main__":
    main(sys.argv)
