#!/bin/sh
# test_unsubd.sh - the unsubscribe loop end to end, with the real binaries:
# consent-unsubd on a free loopback port, driven with curl, and
# "consentctl intake" fed messages as Postfix's pipe(8) would, every
# result checked in the store with consentctl.
#
#   one-click: POST urlencoded and multipart records an unsubscribe with
#     source one-click and the client's address (X-Forwarded-For from a
#     trusted proxy); three POSTs make one change and one answer; GET and
#     HEAD change nothing; "all lists" suppresses the address
#   refusals: forged, expired, damaged tokens get one identical 400;
#     oversized bodies, paths and header sets; 404; 405 with Allow; no
#     redirect and no cookie anywhere; the security headers on every page
#   the store missing: 503 with Retry-After, then recovered without a
#     restart; SIGHUP reloads, a broken file keeps the old configuration;
#     SIGTERM exits 0; TLS of its own and IPv6 when the machine has them
#   mailto: the token in the local part, in the Subject (folded, RFC 2047),
#     a repeat, and the exit codes pipe(8) reads: 0, 64, 65, 75, 78
#
# Prints "N passed, M failed" last.  Under a sanitizer build the daemon's
# stderr is checked for reports after it stops.
set -u
LC_ALL=C
export LC_ALL
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) B=$BUILD ;; *) B=$TOP/$BUILD ;; esac
. "$TOP/tests/lib/assert.sh"
UNSUBD=$B/consent-unsubd
CTL=$B/consentctl

if ! command -v curl >/dev/null 2>&1; then
	echo "skipped: curl is missing"
	echo "0 passed, 0 failed"
	exit 0
fi

W=$(mktemp -d)
DPID=			# the daemon running, if any
DLOGS=			# every daemon's stderr, checked at the end
cleanup() {
	if [ -n "$DPID" ]; then
		kill "$DPID" 2>/dev/null
		wait "$DPID" 2>/dev/null
	fi
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM
chmod 755 "$W"		# the unprivileged runs below must get in

# conf FILE KEYFILE [LISTEN [EXTRA]]: a configuration on the scratch store.
conf() {
	cat >"$1" <<EOF
store: { path = "$W/store"; };
unsubscribe: {
	keys = ( { id = 1; file = "$2"; } );
	url = "https://u.example.com/u/%t";
	mailto = "mailto:unsubscribe@example.com?subject=unsubscribe%%20%t";
	listen = "${3:-127.0.0.1:0}";
	trusted_proxies = "127.0.0.1";
	user = "";
	organisation = "Example <News> & Co";
	${4:-}
};
EOF
}

C=$W/u.conf
ctl() { "$CTL" -c "$C" "$@"; }

# start CONF: start the daemon, wait for its port (sets DPID, PORT, URL).
start() {
	n=$(( $(echo "$DLOGS" | wc -w) + 1 ))
	DLOG=$W/d$n.log
	DLOGS="$DLOGS $DLOG"
	"$UNSUBD" -c "$1" -f -d 2>"$DLOG" &
	DPID=$!
	PORT=
	i=0
	while [ $i -lt 100 ] && [ -z "$PORT" ]; do
		PORT=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\).*/\1/p' "$DLOG" 2>/dev/null)
		kill -0 "$DPID" 2>/dev/null || break
		[ -n "$PORT" ] || sleep 0.05
		i=$((i + 1))
	done
	HOSTP=$(sed -n 's/.*listening on \([^ ,]*\).*/\1/p' "$DLOG")
	BASE=http://$HOSTP
	[ -n "$PORT" ] && t_ok || { t_fail "consent-unsubd did not start"; cat "$DLOG" >&2; }
}

# stop: SIGTERM, expect exit 0.
stop() {
	kill -TERM "$DPID"
	wait "$DPID"
	rc=$?
	DPID=
	t_eq "$rc" 0 "consent-unsubd exit status after SIGTERM"
}

# req NAME CURL-ARGS...: one request; the status into $code, the body
# and headers into $W/NAME.body and $W/NAME.hdr.
req() {
	name=$1
	shift
	code=$(curl -s -o "$W/$name.body" -D "$W/$name.hdr" -w '%{http_code}' \
	    --max-time 10 "$@")
}

# hdr NAME FIELD: the value of a response header field.
hdr() {
	tr -d '\r' <"$W/$1.hdr" | sed -n "s/^$2: //Ip" | head -n 1
}

# count_events ADDRESS TEXT: lines of "consentctl show" with TEXT.
count_events() {
	ctl show "$1" 2>/dev/null | grep -c -- "$2"
}

# --- keys, store, tokens
t_run 0 "$CTL" -c /dev/null keygen "$W/k1.key"
t_out 'id = 1; file = "'"$W"'/k1.key"'
t_out "new key in $W/k1.key"
t_eq "$(stat -c %a "$W/k1.key")" 600 "key file mode"
t_run 2 "$CTL" -c /dev/null keygen "$W/k1.key"	# never overwritten
t_err "File exists"
"$CTL" -c /dev/null keygen "$W/k2.key" >/dev/null
conf "$C" "$W/k1.key"
conf "$W/forger.conf" "$W/k2.key"
t_run 0 ctl init
for a in alice bob carol dave erin frank gina hank ivan kim; do
	ctl subscribe "$a@example.com" --list news >/dev/null
done
ctl subscribe carol@example.com --list promo >/dev/null
t_run 0 ctl token alice@example.com --list news
TA=$(cat "$T_OUT")
case $TA in *[!A-Za-z0-9_-]*|"") t_fail "token is not base64url: $TA" ;; *) t_ok ;; esac
t_run 2 ctl token "not an address" --list news
t_run 2 "$CTL" -c /dev/null token alice@example.com
t_err "no unsubscribe.keys"
TB=$(ctl token bob@example.com --list news)
TC=$(ctl token carol@example.com --list news)
TD=$(ctl token dave@example.com --list news)
TF=$(ctl token frank@example.com --list news)
FORGED=$("$CTL" -c "$W/forger.conf" token alice@example.com --list news)
EXPIRED=$(ctl token alice@example.com --list news --at 2020-01-01T00:00:00Z)
c=$(printf %s "$TA" | cut -c21)
[ "$c" = A ] && c=B || c=A
DAMAGED=$(printf %s "$TA" | cut -c1-20)$c$(printf %s "$TA" | cut -c22-)

t_run 0 "$UNSUBD" -c "$C" -n
t_out "configuration OK (1 keys)"
t_run 64 "$UNSUBD" -c "$C" extra
t_run 78 "$UNSUBD" -c "$W/missing.conf" -n
conf "$W/bad.conf" "$W/k1.key" "127.0.0.1:0" 'trusted_proxies = "127.0.0.1 proxy.example";'
sed -i '/trusted_proxies = "127.0.0.1";/d' "$W/bad.conf"
t_run 78 "$UNSUBD" -c "$W/bad.conf" -n
t_err "unsubscribe.trusted_proxies"
t_run 0 "$UNSUBD" -V
t_out "consent-unsubd"

# --- the daemon
start "$C"
U=$BASE/u

# GET and HEAD: a page with the buttons, and no change.
req get -H 'User-Agent: LinkScanner/1.0' "$U/$TA"
t_eq "$code" 200 "GET /u/TOKEN"
grep -q '<form method="post">' "$W/get.body" && t_ok || t_fail "GET page lacks the form"
grep -q 'name="List-Unsubscribe" value="One-Click"' "$W/get.body" && t_ok || t_fail "GET page lacks the one-click field"
grep -q 'name="all" value="1"' "$W/get.body" && t_ok || t_fail "GET page lacks the all-lists choice"
grep -q 'Example &lt;News&gt; &amp; Co' "$W/get.body" && t_ok || t_fail "organisation not escaped"
t_lacks "$W/get.body" '<script|src=|href=' "GET page loads or runs something"
t_eq "$(hdr get Content-Security-Policy | cut -d';' -f1-2)" "default-src 'none'; style-src 'unsafe-inline'" "CSP"
t_eq "$(hdr get X-Content-Type-Options)" nosniff "X-Content-Type-Options"
t_eq "$(hdr get Referrer-Policy)" no-referrer "Referrer-Policy"
t_eq "$(hdr get Cache-Control)" no-store "Cache-Control"
t_eq "$(hdr get Content-Type)" "text/html; charset=utf-8" "Content-Type"
req head -I "$U/$TA"
t_eq "$code" 200 "HEAD /u/TOKEN"
# curl -I writes the response's header where a body would go: that, and
# no page after it.
t_lacks "$W/head.body" '<html' "HEAD sent a body"
t_run 0 ctl check alice@example.com --list news
t_out "allow"
t_eq "$(count_events alice@example.com 'unsubscribed source=')" 0 "events after GET and HEAD"

# POST, urlencoded: recorded once, however many times.
req post1 -X POST -d 'List-Unsubscribe=One-Click' "$U/$TA"
t_eq "$code" 200 "POST urlencoded"
grep -q 'You are unsubscribed' "$W/post1.body" && t_ok || t_fail "POST page"
grep -q '<b>news</b>' "$W/post1.body" && t_ok || t_fail "POST page names the list"
t_run 1 ctl check alice@example.com --list news
t_out "deny (unsubscribed)"
req post2 -X POST -d 'List-Unsubscribe=One-Click' "$U/$TA"
t_eq "$code" 200 "second POST"
req post3 -X POST -d 'List-Unsubscribe=One-Click' "$U/$TA"
t_eq "$code" 200 "third POST"
cmp -s "$W/post1.body" "$W/post2.body" && cmp -s "$W/post1.body" "$W/post3.body" && t_ok || t_fail "repeated POSTs got another answer"
t_eq "$(count_events alice@example.com 'unsubscribed source=one-click ip=127.0.0.1')" 1 "one-click events after 3 POSTs"

# POST, multipart/form-data (curl -F), and a proxy's X-Forwarded-For.
req mp -X POST -F 'List-Unsubscribe=One-Click' "$U/$TB"
t_eq "$code" 200 "POST multipart"
t_run 1 ctl check bob@example.com --list news
t_out "deny (unsubscribed)"
req xff -X POST -H 'X-Forwarded-For: 198.51.100.1, 203.0.113.9' \
    -d 'List-Unsubscribe=One-Click' "$U/$TD"
t_eq "$code" 200 "POST through a proxy"
t_eq "$(count_events dave@example.com 'source=one-click ip=203.0.113.9')" 1 "X-Forwarded-For last entry recorded"

# Every list.
req all -X POST -d 'List-Unsubscribe=One-Click&all=1' "$U/$TC"
t_eq "$code" 200 "POST all=1"
grep -q 'unsubscribed from all lists' "$W/all.body" && t_ok || t_fail "all-lists page"
t_run 0 ctl show carol@example.com
t_out "suppressed: unsubscribed_all (source one-click)"
t_run 1 ctl check carol@example.com --list promo
t_out "deny (unsubscribed_all)"

# Bad tokens: one answer, whatever was wrong.
req bad1 -X POST -d 'List-Unsubscribe=One-Click' "$U/$FORGED"
t_eq "$code" 400 "forged token"
for t in "$EXPIRED" "$DAMAGED" "x" "${TA%?}" "${TA}A" '%2e%2e'; do
	req bad2 -X POST -d 'List-Unsubscribe=One-Click' "$U/$t"
	t_eq "$code" 400 "bad token $t"
	cmp -s "$W/bad1.body" "$W/bad2.body" && t_ok || t_fail "bad token $t: another page"
	req bad3 "$U/$t"
	t_eq "$code" 400 "GET bad token $t"
	cmp -s "$W/bad1.body" "$W/bad3.body" && t_ok || t_fail "GET bad token $t: another page"
done
t_eq "$(count_events alice@example.com 'unsubscribed source=')" 1 "events after bad tokens"

# Bad requests.
req nobody -X POST -d 'List-Unsubscribe=Yes' "$U/$TF"
t_eq "$code" 400 "POST without One-Click"
req plain -X POST -H 'Content-Type: text/plain' -d 'List-Unsubscribe=One-Click' "$U/$TF"
t_eq "$code" 400 "POST text/plain"
t_run 0 ctl check frank@example.com --list news
head -c 5000 /dev/zero | tr '\0' 'a' >"$W/big"
req big -X POST --data-binary @"$W/big" "$U/$TF"
t_eq "$code" 413 "body over 4 KiB"
req bigc -X POST -H 'Transfer-Encoding: chunked' --data-binary @"$W/big" "$U/$TF"
t_eq "$code" 413 "chunked body over 4 KiB"
req longurl "$U/$(head -c 1500 /dev/zero | tr '\0' 'a')"
t_eq "$code" 414 "path over 1 KiB"
set --
i=0
while [ $i -lt 40 ]; do set -- "$@" -H "X-Pad-$i: $i"; i=$((i + 1)); done
req hdrs "$@" "$U/$TF"
t_eq "$code" 431 "more than 32 header fields"
t_run 0 ctl check frank@example.com --list news
req nf "$BASE/"
t_eq "$code" 404 "GET /"
req nf2 "$BASE/u/"
t_eq "$code" 404 "GET /u/"
req nf3 -X POST -d 'List-Unsubscribe=One-Click' "$BASE/x/$TF"
t_eq "$code" 404 "POST elsewhere"
req put -X PUT -d 'List-Unsubscribe=One-Click' "$U/$TF"
t_eq "$code" 405 "PUT"
t_eq "$(hdr put Allow)" "GET, HEAD, POST" "Allow"
req del -X DELETE "$U/$TF"
t_eq "$code" 405 "DELETE"
t_run 0 ctl check frank@example.com --list news
# Never a redirect, never a cookie; the headers on every page.
cat "$W"/*.hdr | tr -d '\r' >"$W/all-headers"
t_lacks "$W/all-headers" '^HTTP/1.1 3|^location:|^set-cookie:' "a redirect or a cookie"
t_eq "$(grep -c '^HTTP/' "$W/all-headers")" "$(ls "$W"/*.hdr | wc -l)" "responses in the header files"
for h in "$W"/*.hdr; do
	n=$(basename "$h" .hdr)
	grep -qi '^HTTP/1.1 414' "$h" && continue	# libmicrohttpd's own
	[ "$(hdr "$n" X-Content-Type-Options)" = nosniff ] && t_ok || t_fail "$n: no X-Content-Type-Options"
done

# Reload: a new organisation; a broken file keeps the old one.
sed -i 's/Example <News> & Co/Reloaded Ltd/' "$C"
kill -HUP "$DPID"
i=0
until grep -q 'reloaded' "$DLOG" || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
req rl "$U/$TF"
grep -q 'Reloaded Ltd' "$W/rl.body" && t_ok || t_fail "SIGHUP did not reload"
cp "$C" "$W/good.conf"
echo 'bogus = 1;' >>"$C"
kill -USR1 "$DPID"
i=0
until grep -q 'reload failed' "$DLOG" || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
grep -q 'reload failed, keeping the old configuration' "$DLOG" && t_ok || t_fail "a broken reload was not refused"
req rl2 -X POST -d 'List-Unsubscribe=One-Click' "$U/$("$CTL" -c "$W/good.conf" token kim@example.com --list news)"
t_eq "$code" 200 "POST after a refused reload"
cp "$W/good.conf" "$C"
stop

# --- the store missing: 503, nothing claimed, then recovered
mv "$W/store" "$W/store.away"
start "$C"
U=$BASE/u
TG=$(ctl token gina@example.com --list news)
req g "$U/$TG"
t_eq "$code" 200 "GET without a store"
req u -X POST -d 'List-Unsubscribe=One-Click' "$U/$TG"
t_eq "$code" 503 "POST without a store"
t_eq "$(hdr u Retry-After)" 120 "Retry-After"
grep -q 'nothing has' "$W/u.body" && t_ok || t_fail "503 page"
t_lacks "$W/u.body" 'unsubscribed' "503 page claims an unsubscribe"
mv "$W/store.away" "$W/store"
i=0
until grep -q 'recovered' "$DLOG" || [ $i -ge 50 ]; do sleep 0.1; i=$((i + 1)); done
req u2 -X POST -d 'List-Unsubscribe=One-Click' "$U/$TG"
t_eq "$code" 200 "POST once the store is back"
t_run 1 ctl check gina@example.com --list news
# --- the store moved away while it runs, a new one put in its place (a
# bootstrap or a restore, the daemon not stopped): a click written into
# the old one would be honoured by no one.  503, and the log says why.
mv "$W/store" "$W/store.old"
cp -a "$W/store.old" "$W/store"
TI=$(ctl token ida@example.com --list news)
t_run 0 ctl subscribe ida@example.com --list news
req m -X POST -d 'List-Unsubscribe=One-Click' "$U/$TI"
t_eq "$code" 503 "POST into a store moved away"
t_lacks "$W/m.body" 'unsubscribed' "503 page claims an unsubscribe"
t_run 0 ctl check ida@example.com --list news	# nothing claimed, nothing lost
grep -q 'not the one at its path any more' "$DLOG" && t_ok || t_fail "no reason logged"
stop
start "$C"
U=$BASE/u
req m2 -X POST -d 'List-Unsubscribe=One-Click' "$U/$TI"
t_eq "$code" 200 "POST after a restart"
t_run 1 ctl check ida@example.com --list news
stop

# --- TLS of its own, and IPv6, where the machine has them
if command -v openssl >/dev/null 2>&1 &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj /CN=localhost -days 2 -keyout "$W/tls.key" -out "$W/tls.crt" \
    >/dev/null 2>&1; then
	conf "$W/tls.conf" "$W/k1.key" "127.0.0.1:0" \
	    "tls_cert = \"$W/tls.crt\"; tls_key = \"$W/tls.key\";"
	start "$W/tls.conf"
	THK=$(ctl token hank@example.com --list news)
	code=$(curl -sk -o "$W/tls.body" -w '%{http_code}' --max-time 10 \
	    -X POST -d 'List-Unsubscribe=One-Click' "https://127.0.0.1:$PORT/u/$THK")
	t_eq "$code" 200 "POST over TLS"
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
	    "http://127.0.0.1:$PORT/u/$THK")
	[ "$code" != 200 ] && t_ok || t_fail "plain HTTP answered on the TLS port"
	stop
	t_run 1 ctl check hank@example.com --list news
else
	echo "skipped: TLS of its own (openssl is missing)"
fi
if grep -q '^0\{31\}1 ' /proc/net/if_inet6 2>/dev/null; then
	conf "$W/v6.conf" "$W/k1.key" "[::1]:0" 'trusted_proxies = "::1";'
	sed -i '/trusted_proxies = "127.0.0.1";/d' "$W/v6.conf"
	start "$W/v6.conf"
	TI=$(ctl token ivan@example.com --list news)
	req v6 -g -X POST -H 'X-Forwarded-For: 2001:db8::7' \
	    -d 'List-Unsubscribe=One-Click' "$BASE/u/$TI"
	t_eq "$code" 200 "POST over IPv6"
	t_eq "$(count_events ivan@example.com 'ip=2001:db8::7')" 1 "IPv6 proxy address recorded"
	stop
else
	echo "skipped: IPv6 (no IPv6 loopback here)"
fi

# Sanitizer reports in any daemon's stderr.
for l in $DLOGS; do
	if [ ! -s "$l" ]; then
		t_fail "no daemon log $l to check"
	elif grep -q 'ERROR: AddressSanitizer\|runtime error:\|LeakSanitizer' "$l"; then
		t_fail "sanitizer report in $l"
		cat "$l" >&2
	else
		t_ok
	fi
done

# --- mailto intake, as pipe(8) runs it
TE=$(ctl token erin@example.com --list news)
# msg HEADER-LINE...: a message into $M (pipelines would lose the counts).
M=$W/m.eml
msg() {
	{
		printf 'From: Erin <erin@example.com>\r\nTo: unsubscribe@example.com\r\n'
		printf '%s\r\n' "$@"
		printf '\r\nplease unsubscribe me\r\n'
	} >"$M"
}
msg 'Subject: unsubscribe'
t_run 0 ctl intake "unsubscribe+$TE@example.com" <"$M"
t_out "erin@example.com unsubscribed from list news (mailto)"
t_eq "$(count_events erin@example.com 'unsubscribed source=mailto')" 1 "mailto event"
t_run 0 ctl intake "<unsubscribe+$TE@example.com>" <"$M"
t_out "already unsubscribed"
t_eq "$(count_events erin@example.com 'unsubscribed source=mailto')" 1 "mailto events after a repeat"
# In the Subject: after "unsubscribe", folded, encoded, or the last word.
for who in ann1 ann2 ann3 ann4; do
	ctl subscribe "$who@example.com" --list news >/dev/null
done
T1=$(ctl token ann1@example.com --list news)
T2=$(ctl token ann2@example.com --list news)
T3=$(ctl token ann3@example.com --list news)
T4=$(ctl token ann4@example.com --list news)
printf 'From ann1@example.com Thu Jan  1 00:00:00 2026\nSubject: unsubscribe %s\n\n' \
    "$T1" >"$M"
t_run 0 ctl intake unsubscribe@example.com <"$M"
t_run 1 ctl check ann1@example.com --list news
msg 'Subject: Re: unsubscribe' " $T2"
t_run 0 ctl intake unsubscribe@example.com <"$M"
t_run 1 ctl check ann2@example.com --list news
msg "Subject: =?UTF-8?Q?unsubscribe_?=" \
    " =?us-ascii?Q?$(printf %s "$T3" | sed 's/_/=5F/g')?="
t_run 0 ctl intake unsubscribe@example.com <"$M"
t_run 1 ctl check ann3@example.com --list news
msg 'X-Long: a' "Subject: Fwd: [news] <$T4>"
t_run 0 ctl intake "unsubscribe+nothing@example.com" <"$M"
t_run 1 ctl check ann4@example.com --list news
# Exit codes: 65 bounces; 75 defers (a store or key problem: the request
# waits in the queue until the operator fixes it); 64 is the operator's.
msg "Subject: unsubscribe $FORGED"
t_run 65 ctl intake unsubscribe@example.com <"$M"
t_err "not valid"
msg "Subject: unsubscribe $EXPIRED"
t_run 65 ctl intake "unsubscribe+$DAMAGED@example.com" <"$M"
t_err "token in the recipient address is not valid"
msg 'Subject: please stop'
t_run 65 ctl intake unsubscribe@example.com <"$M"
t_err "no unsubscribe token"
# The body is not read for a token, and a huge header is cut, not kept.
printf 'Subject: hello\r\n\r\nunsubscribe %s\r\n' "$TF" >"$M"
t_run 65 ctl intake unsubscribe@example.com <"$M"
{
	printf 'X-Junk: '
	head -c 3000000 /dev/zero | tr '\0' 'j'
	printf '\r\nSubject: unsubscribe %s\r\n\r\n' "$TF"
} >"$M"
t_run 65 ctl intake unsubscribe@example.com <"$M"
t_run 0 ctl check frank@example.com --list news
t_run 64 ctl intake </dev/null
t_run 64 ctl intake a b </dev/null
conf "$W/nokeys.conf" "$W/k1.key"
sed -i '/keys = /d' "$W/nokeys.conf"
msg "Subject: unsubscribe $TF"
t_run 75 "$CTL" -c "$W/nokeys.conf" intake unsubscribe@example.com <"$M"
t_err "no unsubscribe.keys"
cp "$W/k1.key" "$W/k3.key"
chmod 644 "$W/k3.key"
conf "$W/openkey.conf" "$W/k3.key"
t_run 75 "$CTL" -c "$W/openkey.conf" intake unsubscribe@example.com <"$M"
t_err "mode 0644"
# A store that cannot be written: deferred (75), so Postfix retries.
cp "$M" "$W/frank.eml"
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null 2>&1; then
	cp "$W/k1.key" "$W/k4.key"
	chown 65534 "$W/k4.key"
	conf "$W/nobody.conf" "$W/k4.key"
	chmod 644 "$W/nobody.conf"
	t_run 75 setpriv --reuid=65534 --regid=65534 --clear-groups \
	    "$CTL" -c "$W/nobody.conf" intake unsubscribe@example.com <"$W/frank.eml"
else
	chmod a-w "$W/store/data.mdb" "$W/store/lock.mdb"
	t_run 75 ctl intake unsubscribe@example.com <"$W/frank.eml"
	chmod u+w "$W/store/data.mdb" "$W/store/lock.mdb"
fi
t_err "Permission denied"
mv "$W/store" "$W/store.away"
t_run 75 ctl intake unsubscribe@example.com <"$W/frank.eml"
mv "$W/store.away" "$W/store"
t_run 0 ctl check frank@example.com --list news
t_run 0 ctl intake unsubscribe@example.com <"$W/frank.eml"
t_run 1 ctl check frank@example.com --list news

# The daemon's log names nobody in plain: the audit trail pseudonymises.
# shellcheck disable=SC2086
cat $DLOGS | grep -E 'unsubscribed from|cannot record' >"$W/unsub-lines"
t_lacks "$W/unsub-lines" '@' "consent-unsubd logged a plain address"
t_done
