#!/bin/sh
# hostile_input.sh - hostile files for consentctl, run by tests/soak/soak.sh
# while the filter reads the same store under load: CSVs that must be
# refused whole (import is all or nothing), and intake messages (the
# mailto: unsubscribe transport) with no token, forged ones, binary junk
# and header bombs.  Each must end with an exit status the tool documents
# (never a signal), and what the store says of everyone they name must not change.
#
# Environment (from soak.sh): W (scratch dir, with u.conf), CTL, S, PY.
# Prints one line per case ("ok NAME" or "FAIL NAME: why"); exits 1 if
# any failed.
set -u
H=$W/hostile
mkdir -p "$H"
fail=0

# stats : what the store says of everyone the hostile files name (the
# store's counts would move: consent-unsubd takes one-click POSTs meanwhile).
stats() {
	local a
	for a in in0 in1 in2 in3 in4 in5 in6 in7 in8 in9 in10 in11 in12 \
	    never0 never1 never2 never3 never4 never5 never399; do
		printf '%s: ' "$a"
		"$CTL" -c "$W/u.conf" -s "$S" check "$a@example.com" --list news 2>&1
	done
}

# case_rc NAME WANT-ERE RC : RC matches WANT (e.g. "^2$"), and is no signal.
case_rc() {
	if [ "$3" -ge 128 ]; then
		echo "FAIL $1: exit $3 (a signal)"
		fail=1
	elif ! echo "$3" | grep -qE "$2"; then
		echo "FAIL $1: exit $3, wanted $2"
		fail=1
	else
		echo "ok $1 (exit $3)"
	fi
}

before=$(stats)
[ -n "$before" ] || { echo "FAIL stats: none"; exit 1; }

# --- CSVs: each has a bad row, so nothing of it may be imported --------------
"$PY" - "$H" <<'EOF'
import os, sys
d = sys.argv[1]
bad = "not-an-address,subscribed,news\n"
def w(name, data):
    with open(os.path.join(d, name + ".csv"), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("utf-8", "surrogateescape"))
hdr = "email,status,list,timestamp\n"
# A row that would change what the soak expects, and a bad row after it.
w("flip", hdr + "in1@example.com,unsubscribed,news,2030-01-01T00:00:00Z\n"
  "never1@example.com,confirmed,news,2030-01-01T00:00:00Z\n" + bad)
w("nul", hdr + "in2@example.com,unsubscribed,news\n" + "a\0b@example.com,subscribed,news\n")
w("longline", hdr + "in3@example.com,unsubscribed,news\n" + "x" * (1 << 20) + "@example.com,subscribed,news\n")
w("longcell", hdr + "in3@example.com,unsubscribed,news,2030-01-01T00:00:00Z,src,1.2.3.4," + "n" * (1 << 20) + "\n" + bad)
w("quote", hdr + 'in4@example.com,unsubscribed,news\n"never2@example.com,confirmed,news\n' + "y\n" * 1000)
w("utf8", hdr + "in5@example.com,unsubscribed,news\n" + "\xff\xfe@example.com,subscribed,news\n".encode("latin-1").decode("latin-1"))
w("formula", hdr + "in6@example.com,unsubscribed,news\n=HYPERLINK(\"http://x\"),subscribed,news\n")
w("columns", "email," + ",".join("c%d" % i for i in range(5000)) + "\nin7@example.com" + ",x" * 5000 + "\n" + bad)
w("status", hdr + "in8@example.com,unsubscribed,news\nnever3@example.com,owned,news\n")
w("list", hdr + "in9@example.com,unsubscribed,news\nnever4@example.com,subscribed," + "l" * 5000 + "\n")
w("time", hdr + "in10@example.com,unsubscribed,news\nnever5@example.com,subscribed,news,99999-99-99\n")
w("crlfmix", hdr.replace("\n", "\r\n") + "in11@example.com,unsubscribed,news\r" + bad)
w("bom_only", b"\xef\xbb\xbf")
w("header_only", "email\n" + "in12@example.com,unsubscribed\n" + bad)
w("noemail", "name,status\nx,subscribed\n")
w("binary", os.urandom(1 << 16))
w("manyrows", hdr + "".join("never%d@example.com,confirmed,news\n" % (i % 400) for i in range(20000)) + bad)
EOF
for f in "$H"/*.csv; do
	n=$(basename "$f" .csv)
	"$CTL" -c "$W/u.conf" -s "$S" import "$f" >"$H/$n.out" 2>&1
	case_rc "import $n.csv refused whole" '^2$' $?
done

# --- intake messages -------------------------------------------------------
"$PY" - "$H" <<'EOF'
import base64, os, sys
d = sys.argv[1]
def w(name, data):
    with open(os.path.join(d, name + ".eml"), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
tok = lambda: base64.urlsafe_b64encode(os.urandom(90)).decode().rstrip("=")
w("forged", "From: a@example.com\nSubject: unsubscribe %s\n\nbye\n" % tok())
w("notoken", "From: a@example.com\nSubject: please stop\n\nbye\n")
w("empty", "")
w("binary", os.urandom(1 << 16))
w("longline", "Subject: " + "u" * (2 << 20) + "\n\nx\n")
w("manyheaders", "".join("X-H%d: %d\n" % (i, i) for i in range(20000)) + "\nx\n")
w("manysubjects", "".join("Subject: unsubscribe %s\n" % tok() for i in range(1000)) + "\nx\n")
w("folded", "Subject: unsubscribe\n" + "".join(" %s\n" % tok()[:8] for i in range(5000)) + "\nx\n")
w("nul", "Subject: unsubscribe \0%s\n\nx\n" % tok())
w("hugebody", "Subject: x\n\n" + "b" * (2 << 20) + "\n")
EOF
for f in "$H"/*.eml; do
	n=$(basename "$f" .eml)
	"$CTL" -c "$W/u.conf" -s "$S" intake "unsubscribe@example.com" <"$f" >"$H/$n.iout" 2>&1
	case_rc "intake $n (no token in the recipient)" '^(0|6[4-9]|7[0-8])$' $?
	"$CTL" -c "$W/u.conf" -s "$S" intake "unsubscribe+$("$PY" -c 'import base64,os; print(base64.urlsafe_b64encode(os.urandom(90)).decode().rstrip("="))')@example.com" \
		<"$f" >"$H/$n.iout2" 2>&1
	case_rc "intake $n (a forged token in the recipient)" '^(0|6[4-9]|7[0-8])$' $?
done

after=$(stats)
if [ "$before" = "$after" ]; then
	echo "ok the store says the same of everyone they name"
else
	echo "FAIL the store changed: $before -> $after"
	fail=1
fi
exit $fail
