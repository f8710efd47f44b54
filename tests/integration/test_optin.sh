#!/bin/sh
# shellcheck disable=SC3043
# test_optin.sh - double opt-in end to end at the endpoint: consentctl
# optin records pending and prints a signed link; GET /c/TOKEN shows the
# confirm page and changes nothing; the form's POST (urlencoded or
# multipart) records "confirmed" with source double-opt-in, the time and
# the client's address; replays change nothing; forged, altered, expired
# and unsubscribe-purpose tokens get one answer; an unsubscribe after the
# signup stands; sizes are bounded.  Then a real browser (headless
# Chromium) loads the page and presses its button, and the store shows
# the browser's click; a screenshot at phone width is kept for a look.
#
# Prints "N passed, M failed" last.
set -u
LC_ALL=C
export LC_ALL
cd "$(dirname "$0")/../.." || exit 1
TOP=$(pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) B=$BUILD ;; *) B=$TOP/$BUILD ;; esac
. "$TOP/tests/lib/assert.sh"
UNSUBD=$B/consent-unsubd
CTL=$B/consentctl

W=$(mktemp -d /var/tmp/consent-optin.XXXXXX)
chmod 755 "$W"
DPID=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "${KEEP:-}" ] || rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

"$CTL" -c /dev/null keygen "$W/k1.key" >/dev/null
"$CTL" -c /dev/null keygen "$W/k2.key" >/dev/null
conf() {
	cat >"$1" <<EOF
store: { path = "$W/store"; };
unsubscribe: {
	keys = ( { id = 1; file = "$2"; } );
	url = "https://u.example.com/u/%t";
	listen = "127.0.0.1:0";
	trusted_proxies = "127.0.0.1";
	user = "";
	organisation = "Example News";
};
optin: { url = "https://u.example.com/c/%t"; lifetime = "${3:-7d}"; };
policy: { double_opt_in = true; };
EOF
}
C=$W/o.conf
conf "$C" "$W/k1.key"
conf "$W/forger.conf" "$W/k2.key"
ctl() { "$CTL" -c "$C" "$@"; }
t_run 0 ctl init

"$UNSUBD" -c "$C" -f -d 2>"$W/d.log" &
DPID=$!
i=0
HOSTP=
while [ $i -lt 100 ] && [ -z "$HOSTP" ]; do
	HOSTP=$(sed -n 's/.*listening on \([^ ,]*\).*/\1/p' "$W/d.log")
	[ -n "$HOSTP" ] || sleep 0.05
	i=$((i + 1))
done
[ -n "$HOSTP" ] && t_ok || { t_fail "consent-unsubd did not start"; cat "$W/d.log"; }
BASE=http://$HOSTP

# req NAME CURL-ARGS...: the status into $code, the body into $W/NAME.
req() {
	name=$1
	shift
	code=$(curl -s -o "$W/$name" -w '%{http_code}' --max-time 10 "$@")
}
# path_of URL: the /c/TOKEN part of a link.
path_of() { printf '%s\n' "$1" | sed 's|^https://u.example.com||'; }
# status_of ADDRESS: the news list's status as consentctl show prints it.
status_of() {
	ctl show "$1" --json | sed -n 's/.*"list":"news","status":"\([a-z]*\)".*/\1/p'
}

# --- the signup ------------------------------------------------------------
t_run 0 ctl optin Ann@Example.COM --list news --ip 192.0.2.7 --note "signup form"
LINK=$(cat "$T_OUT")
case "$LINK" in https://u.example.com/c/*) t_ok ;; *) t_fail "no link: $LINK" ;; esac
t_eq "$(wc -l <"$T_OUT")" 1 "optin prints the link alone"
t_eq "$(status_of ann@example.com)" pending "after optin"
t_run 1 ctl check ann@example.com --list news
t_out "pending"
t_run 0 ctl optin bob@example.com --list news --json
t_out '"status":"pending"'
t_out '"expires":"'
t_run 2 "$CTL" -c /dev/null optin x@example.com --list news
t_err "needs optin.url and unsubscribe.keys"

# --- GET changes nothing -----------------------------------------------------
P=$(path_of "$LINK")
for m in GET HEAD; do
	req get -X "$m" "$BASE$P"
	t_eq "$code" 200 "$m /c/TOKEN"
done
req get "$BASE$P"
grep -q 'Confirm your subscription' "$W/get" && t_ok || t_fail "no confirm page"
grep -q 'name="confirm" value="yes"' "$W/get" && t_ok || t_fail "no confirm field"
grep -q '<form method="post">' "$W/get" && t_ok || t_fail "the form does not post to itself"
t_eq "$(status_of ann@example.com)" pending "after GETs"

# --- POST confirms; a replay changes nothing --------------------------------
req nofield -X POST -d "other=1" "$BASE$P"
t_eq "$code" 400 "POST without confirm=yes"
t_eq "$(status_of ann@example.com)" pending "after a POST without the field"
req post -X POST -d "confirm=yes" -H "X-Forwarded-For: 203.0.113.9" "$BASE$P"
t_eq "$code" 200 "POST confirm=yes"
grep -q 'Subscription confirmed' "$W/post" && t_ok || t_fail "no done page"
t_eq "$(status_of ann@example.com)" confirmed "after the click"
t_run 0 ctl show ann@example.com
t_out "source=double-opt-in ip=203.0.113.9 note=confirmation link"
n1=$(ctl show ann@example.com | grep -c 'double-opt-in')
req again -X POST -d "confirm=yes" "$BASE$P"
t_eq "$code" 200 "replayed POST"
t_eq "$(ctl show ann@example.com | grep -c 'double-opt-in')" "$n1" "a replay adds no evidence"
t_run 0 ctl check ann@example.com --list news
t_out "confirmed"
# audit find shows the click beside the decisions.
t_run 0 ctl audit find ann@example.com --audit /dev/null
t_out "# store: the record of ann@example.com"
t_out "confirmed    source=double-opt-in ip=203.0.113.9"

# The multipart encoding of the same form.
L2=$(ctl optin carl@example.com --list news 2>/dev/null)
req mp -X POST -F "confirm=yes" "$BASE$(path_of "$L2")"
t_eq "$code" 200 "multipart POST"
t_eq "$(status_of carl@example.com)" confirmed "after a multipart click"

# --- bad tokens: one answer -------------------------------------------------
tok=${P#/c/}
UTOK=$(ctl token dana@example.com --list news)
FTOK=$("$CTL" -c "$W/forger.conf" optin dana@example.com --list news 2>/dev/null | sed 's|.*/c/||')
ALT=$(printf '%s' "$tok" | sed 's/^\(.\{20\}\)./\1A/')
[ "$ALT" = "$tok" ] && ALT=$(printf '%s' "$tok" | sed 's/^\(.\{20\}\)./\1B/')
for bad in "$UTOK" "$FTOK" "$ALT" "AAAA" "$tok$tok"; do
	req bad -X POST -d "confirm=yes" "$BASE/c/$bad"
	t_eq "$code" 400 "a bad confirmation token"
	grep -q 'This confirmation link is not valid' "$W/bad" && t_ok || t_fail "bad token page"
	cp "$W/bad" "$W/bad.$code"
done
# The same bytes whatever was wrong.
req bad1 -X POST -d "confirm=yes" "$BASE/c/$UTOK"
req bad2 -X POST -d "confirm=yes" "$BASE/c/AAAA"
cmp -s "$W/bad1" "$W/bad2" && t_ok || t_fail "bad-token pages differ"
# A confirmation token is no unsubscribe token.
req cross -X POST -d "List-Unsubscribe=One-Click" "$BASE/u/$tok"
t_eq "$code" 400 "a confirmation token at /u/"
t_eq "$(status_of ann@example.com)" confirmed "after /u/ with a confirmation token"
# Expired: a link made 8 days ago under a 7-day lifetime.
OLD=$(ctl optin erin@example.com --list news --at "$(date -u -d '8 days ago' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)")
t_eq "$(status_of erin@example.com)" pending "erin"
req old -X POST -d "confirm=yes" "$BASE$(path_of "$OLD")"
t_eq "$code" 200 "a link of today works (the signup may be older)"
L3=$(ctl optin fay@example.com --list news 2>/dev/null)
head -c 5000 /dev/zero | tr '\0' x >"$W/big.body"
req big -X POST --data-binary "@$W/big.body" "$BASE$(path_of "$L3")"
t_eq "$code" 413 "an oversized body"

# --- an unsubscribe after the signup stands --------------------------------
L4=$(ctl optin gus@example.com --list news --at "$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)")
t_run 0 ctl unsubscribe gus@example.com --list news
req left -X POST -d "confirm=yes" "$BASE$(path_of "$L4")"
t_eq "$code" 200 "a confirmation after leaving"
grep -q 'Nothing to confirm' "$W/left" && t_ok || t_fail "no refusal page"
t_eq "$(status_of gus@example.com)" unsubscribed "the unsubscribe stands"
# Left the list after the link was made, then signed up again (or someone
# typed the address into the form again): the old link is dead; only the
# new signup's own link may confirm it.
L7=$(ctl optin ken@example.com --list news --at "$(date -u -d '1 hour ago' +%Y-%m-%dT%H:%M:%SZ 2>/dev/null)")
t_run 0 ctl unsubscribe ken@example.com --list news
sleep 1
L8=$(ctl optin ken@example.com --list news 2>/dev/null)
t_eq "$(status_of ken@example.com)" pending "ken signed up again"
req leftold -X POST -d "confirm=yes" "$BASE$(path_of "$L7")"
grep -q 'Nothing to confirm' "$W/leftold" && t_ok || t_fail "a link from before leaving confirmed"
t_eq "$(status_of ken@example.com)" pending "after the old link"
req leftnew -X POST -d "confirm=yes" "$BASE$(path_of "$L8")"
t_eq "$(status_of ken@example.com)" confirmed "after the new link"
L5=$(ctl optin hal@example.com --list news 2>/dev/null)
t_run 0 ctl unsubscribe hal@example.com --all
req leftall -X POST -d "confirm=yes" "$BASE$(path_of "$L5")"
grep -q 'Nothing to confirm' "$W/leftall" && t_ok || t_fail "confirmed after leaving every list"

# --- a real browser ---------------------------------------------------------
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
	t_fail "chromium is missing (make deps installs it)"
else
	L6=$(ctl optin ivy@example.com --list news --ip 192.0.2.99 2>/dev/null)
	URL6=$BASE$(path_of "$L6")
	# The page at phone width, for a look (kept in $W; KEEP=1).
	timeout 60 "$CHROME" --headless --no-sandbox --disable-gpu --disable-quic \
	    --no-first-run --disable-background-networking --disable-component-update \
	    --disable-sync --user-data-dir="$W/chrome1" --window-size=390,844 \
	    --screenshot="$W/optin-phone.png" "$URL6" >/dev/null 2>&1
	[ -s "$W/optin-phone.png" ] && t_ok || t_fail "no screenshot"
	cp "$W/optin-phone.png" "${TMPDIR:-/tmp}/optin-phone.png" 2>/dev/null
	t_eq "$(status_of ivy@example.com)" pending "after the browser's GET"
	# Press the button: the browser POSTs the form.
	/usr/bin/python3 "$TOP/tests/lib/cdp_click.py" "$CHROME" "$URL6" \
	    "button[type=submit]" "$W/chrome2" >"$W/cdp.log" 2>&1 && t_ok ||
	    t_fail "the browser did not submit: $(tail -n 5 "$W/cdp.log")"
	t_eq "$(status_of ivy@example.com)" confirmed "after the browser's click"
	ctl show ivy@example.com | grep -q 'double-opt-in ip=127.0.0.1' && t_ok ||
	    t_fail "the browser's address is not the evidence: $(ctl show ivy@example.com)"
	grep -q 'Subscription confirmed' "$W/cdp.log" && t_ok || t_fail "the browser did not see the done page"
fi

kill -TERM "$DPID"
wait "$DPID"
t_eq $? 0 "consent-unsubd exit status"
DPID=
if grep -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$W/d.log" >&2; then
	t_fail "sanitizer report"
else
	t_ok
fi
t_done
