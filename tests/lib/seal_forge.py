#!/usr/bin/env python3
"""seal_forge.py - an attacker's tools against a sealed audit log, for the
tests: written from the scheme as the README describes it (SHA-256 chain,
crypto_kdf = BLAKE2b with salt and personal, BLAKE2b-256 MAC over the
canonical text), not from the C code, so that it also checks that the
description is exact.

  seal_forge.py cut FILE N            keep the first N lines
  seal_forge.py edit FILE N OLD NEW   replace OLD by NEW in line N, rechain
  seal_forge.py strip FILE            drop every seal line, rechain
  seal_forge.py reseal FILE KEYFILE   with the key taken from the host
                                      (KEYFILE, as it is now), seal every
                                      checkpoint again over the lines as
                                      they are, rechain
  seal_forge.py check FILE VERIFIER   exit 0 if every checkpoint's MAC is
                                      its epoch key's (the scheme, again)
"""
import base64
import datetime
import hashlib
import struct
import sys

TAG = ',"chain":"'


def chain_next(prev, prefix):
    return hashlib.sha256(prev.encode() + prefix.encode()).hexdigest()


def rechain(lines):
    """Every chain value again, from the first line's "prev"."""
    out, prev = [], None
    for line in lines:
        body = line.rstrip("\n")
        cut = body.rfind(TAG)
        prefix = body[:cut]
        if prev is None:
            p = body.find('"prev":"')
            prev = body[p + 8:p + 72]
        prev = chain_next(prev, prefix)
        out.append(prefix + TAG + prev + '"}\n')
    return out


def kdf(key, sub_id):
    return hashlib.blake2b(b"", digest_size=32, key=key,
                           salt=struct.pack("<Q", sub_id) + b"\0" * 8,
                           person=b"cmseal01" + b"\0" * 8).digest()


def evolve(key):
    return kdf(key, 1)


def secs(s):
    return int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=datetime.timezone.utc).timestamp())


def msecs(s):
    d = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000 + d.microsecond // 1000


def field(body, name, quoted=True):
    k = '"%s":' % name
    i = body.index(k) + len(k)
    if quoted:
        return body[i + 1:body.index('"', i + 1)]
    j = i
    while body[j] not in ",}":
        j += 1
    return body[i:j]


def seal_text(p):
    return ("consent-milter audit seal v1\nfile %s\nepoch %d\nthrough %d\n"
            "start %d\nend %d\nsealed %d\nlines %d\nhead %s\nlate %d\n" % (
                p["file"], p["epoch"], p["through"], p["start"], p["end"],
                p["sealed"], p["lines"], p["head"], p["late"]))


def parse_seal(body):
    return {
        "file": field(body, "file"),
        "epoch": int(field(body, "epoch", False)),
        "through": int(field(body, "through", False)),
        "start": secs(field(body, "start")),
        "end": secs(field(body, "end")),
        "sealed": msecs(field(body, "t")),
        "lines": int(field(body, "lines", False)),
        "head": field(body, "head"),
        "late": 1 if field(body, "late", False) == "true" else 0,
        "mac": field(body, "mac"),
    }


def mac(key, p):
    return hashlib.blake2b(seal_text(p).encode(), digest_size=32,
                           key=kdf(key, 2)).hexdigest()


def is_seal(line):
    return line.startswith('{"v":1,"type":"seal",')


def stolen_key(path):
    """The key file's newest slot: (epoch, key)."""
    data = open(path, "rb").read()
    best = None
    for off in (0, 4096):
        slot = data[off:off + 80]
        if slot[:8] != b"CMSEALK1":
            continue
        epoch = struct.unpack(">Q", slot[8:16])[0]
        if best is None or epoch > best[0]:
            best = (epoch, slot[32:64])
    return best


def main(argv):
    cmd, path = argv[1], argv[2]
    lines = open(path).readlines()
    if cmd == "cut":
        lines = lines[:int(argv[3])]
    elif cmd == "edit":
        n = int(argv[3]) - 1
        assert argv[4] in lines[n], "no %r in line %d" % (argv[4], n + 1)
        lines[n] = lines[n].replace(argv[4], argv[5], 1)
        lines = rechain(lines)
    elif cmd == "strip":
        lines = rechain([x for x in lines if not is_seal(x)])
    elif cmd == "reseal":
        _, key = stolen_key(argv[3])
        for i, line in enumerate(lines):
            if not is_seal(line):
                continue
            lines = rechain(lines)
            body = lines[i]
            p = parse_seal(body)
            head = lines[i - 1].rstrip("\n")[-66:-2]
            p["head"], p["lines"] = head, i
            new = mac(key, p)
            body = body.replace('"head":"%s"' % field(body, "head"),
                                '"head":"%s"' % head)
            body = body.replace('"lines":%s' % field(body, "lines", False),
                                '"lines":%d' % i)
            lines[i] = body.replace('"mac":"%s"' % p["mac"],
                                    '"mac":"%s"' % new)
        lines = rechain(lines)
    elif cmd == "check":
        v = open(argv[3]).read().strip().split(":")
        k0 = base64.urlsafe_b64decode(v[3] + "=" * (-len(v[3]) % 4))
        for line in lines:
            if not is_seal(line):
                continue
            p = parse_seal(line)
            k = k0
            for _ in range(p["epoch"]):
                k = evolve(k)
            if mac(k, p) != p["mac"]:
                print("epoch %d: MAC does not verify" % p["epoch"])
                return 1
        print("every checkpoint verifies")
        return 0
    else:
        print(__doc__, file=sys.stderr)
        return 2
    open(path, "w").writelines(lines)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
