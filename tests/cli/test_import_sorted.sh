#!/bin/sh
# test_import_sorted.sh - the sorted import gives exactly the store the
# row-by-row import gives (CONSENTCTL_IMPORT_ROWWISE=1, kept for this
# comparison) on the same files, compared through consentctl export: the
# sample exports, a file with many duplicates merged in the order of the
# file, the same file sorted in memory and in many spilled runs, imports
# into a populated store, bad rows, a dry run, erased addresses and an
# address with too many lists.  Same summaries, same messages.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILD=${BUILD:-build}
case "$BUILD" in /*) B=$BUILD ;; *) B=$TOP/$BUILD ;; esac
. "$TOP/tests/lib/assert.sh"
CTL="${CTL_BIN:-$B/consentctl}"
D="$TOP/tests/data"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
: >"$W/empty.conf"
# Undated changes are dated at the import: today's times are masked.
TODAY=$(date -u +%Y-%m-%d)

# run STORE MODE ARGS...: consentctl on STORE, the row-by-row way if MODE
# is "rows"; stdout and stderr into $W/STORE.out and .err, exit status in
# $W/STORE.rc.
run() {
	r_s=$1
	r_mode=$2
	shift 2
	if [ "$r_mode" = rows ]; then
		CONSENTCTL_IMPORT_ROWWISE=1 "$CTL" -c "$W/empty.conf" \
		    -s "$W/$r_s" "$@" >"$W/$r_s.out" 2>"$W/$r_s.err"
	else
		"$CTL" -c "$W/empty.conf" -s "$W/$r_s" "$@" >"$W/$r_s.out" \
		    2>"$W/$r_s.err"
	fi
	echo $? >"$W/$r_s.rc"
}

# both WHAT ARGS...: the same import into store "sorted" and store "rows";
# the same exit status, output and messages.
both() {
	b_what=$1
	shift
	run sorted sorted "$@"
	run rows rows "$@"
	if cmp -s "$W/sorted.rc" "$W/rows.rc" &&
	    cmp -s "$W/sorted.out" "$W/rows.out" &&
	    cmp -s "$W/sorted.err" "$W/rows.err"; then
		t_ok "$b_what: same exit status ($(cat "$W/sorted.rc")) and output"
	else
		t_fail "$b_what: the two imports said different things"
		for f in rc out err; do
			diff "$W/rows.$f" "$W/sorted.$f" | head -10 >&2
		done
	fi
}

# same WHAT: the two stores export the same records, byte for byte.
same() {
	for s in sorted rows; do
		"$CTL" -c "$W/empty.conf" -s "$W/$s" export --format jsonl |
		    sed "s/\"${TODAY}T[0-9:]*Z\"/\"NOW\"/g" >"$W/$s.export" ||
		    t_fail "export of $s"
	done
	if [ -s "$W/rows.export" ] && cmp -s "$W/sorted.export" "$W/rows.export"; then
		t_ok "$1: the same store ($(wc -l <"$W/rows.export") records)"
	else
		t_fail "$1: the stores differ"
		diff "$W/rows.export" "$W/sorted.export" | head -10 >&2
	fi
}

fresh() {
	rm -rf "$W/sorted" "$W/rows"
	run sorted sorted init
	run rows rows init
}

# gen SEED N KEYS: N rows over KEYS addresses, in no order, with case
# variants of one address, several lists, every status, equal and
# missing times, sources, IPs and notes.
gen() {
	awk -v seed="$1" -v n="$2" -v keys="$3" 'BEGIN {
		split("subscribed unsubscribed pending confirmed hard_bounce manual complaint unsubscribed_all", st, " ")
		split("default news promo", li, " ")
		split("form api admin import", so, " ")
		print "email,status,list,timestamp,source,ip,note"
		x = seed
		for (i = 0; i < n; i++) {
			k = r(keys); s = st[1 + r(8)]; l = li[1 + r(3)]; d = r(40)
			t = d < 4 ? "" : sprintf("2024-%02d-%02dT%02d:00:00Z", 1 + d % 12, 1 + d % 28, d % 3)
			y = r(65536)
			dom = y % 5 == 0 ? "Example.COM" : "example.com"
			ip = y % 7 == 0 ? "192.0.2." (y % 250) : ""
			note = y % 11 == 0 ? "row " i : ""
			printf "u%05d@%s,%s,%s,%s,%s,%s,%s\n", k, dom, s, l, t, so[1 + y % 4], ip, note
		}
	}
	# r(M) - the next number below M, from the high bits of an LCG.
	function r(m) {
		x = (x * 69069 + 1) % 4294967296
		return int(x / 65536) % m
	}'
}

# --- the sample exports, one after another into the same store
fresh
for f in generic.csv generic_semicolon.csv bom_crlf.csv klaviyo_profiles.csv \
    mailchimp_subscribed.csv mailchimp_unsubscribed.csv mailchimp_cleaned.csv; do
	both "$f" import "$D/$f"
done
same "the sample exports"
both "generic.csv again" import "$D/generic.csv"
same "the sample exports, generic.csv twice"

# --- duplicates in one file, in memory and in many spilled runs
gen 7 60000 9000 >"$W/dups.csv"
fresh
both "60,000 rows over 9,000 addresses" import "$W/dups.csv"
same "duplicates merged in the order of the file"
rm -rf "$W/sorted"
run sorted sorted init
run sorted sorted import --memory 1 "$W/dups.csv"
t_eq "$(cat "$W/sorted.rc")" 0 "import --memory 1"
same "the same file through spilled runs"
# Nothing is left beside the store: the spill file was unlinked.
t_eq "$(ls -A "$W/sorted" | tr '\n' ' ')" "data.mdb lock.mdb " "the store directory after the import"

# --- into a populated store: changes to most addresses, new ones too
gen 11 40000 12000 >"$W/more.csv"
both "40,000 rows into the populated store" import --memory 1 "$W/more.csv"
same "a merge into a populated store"
both "the same file again" import "$W/more.csv"
# (Rows of one address that disagree may change it again: both ways alike.)
same "a file imported twice"

# --- bad rows: all or nothing, and --skip-bad
{ head -n 2000 "$W/more.csv"; echo "not an address,subscribed,,,,,"
  echo "u1@example.com,subscribed,,2024-01-01,teleport,,"
  tail -n 3000 "$W/more.csv"; } >"$W/bad.csv"
both "a file with bad rows" import "$W/bad.csv"
t_eq "$(cat "$W/sorted.rc")" 2 "exit status of a file with bad rows"
same "a file with bad rows changes nothing"
both "--skip-bad" import --skip-bad --memory 1 "$W/bad.csv"
t_eq "$(cat "$W/sorted.rc")" 3 "exit status of --skip-bad"
same "--skip-bad imports the good rows"
gen 13 5000 20000 >"$W/dry.csv"
both "--dry-run" import --dry-run "$W/dry.csv"
same "--dry-run changes nothing"

# --- erased addresses take nothing; too many lists is a bad row
for s in sorted rows; do
	"$CTL" -c "$W/empty.conf" -s "$W/$s" subject erase u00042@example.com \
	    >/dev/null 2>&1 || t_fail "erase in $s"
done
awk 'BEGIN { print "email,status,list,timestamp"
	print "u00042@example.com,subscribed,news,2024-02-01"
	for (i = 0; i < 300; i++)
		printf "many@example.com,subscribed,l%03d,2024-02-01\n", i
	print "U00042@example.com,confirmed,news,2024-02-02"
	print "many@example.com,unsubscribed,l000,2024-03-01" }' >"$W/lists.csv"
both "an erased address and 300 lists for one" import --skip-bad "$W/lists.csv"
t_check "erased rows are named" grep -q "2 rows (the first on line 2)" "$W/sorted.err"
t_check "a 257th list is a bad row" grep -q "too many lists" "$W/sorted.err"
same "erased addresses and too many lists"
# The first row of an address is the one that fails: its stored record stays.
printf 'email,status,list,timestamp\nmany@example.com,subscribed,zzz,2024-04-01\nmany@example.com,unsubscribed,l001,2024-04-02\n' >"$W/first.csv"
both "a failing first row" import --skip-bad "$W/first.csv"
same "a failing first row undone alone"

# --- the option and the setting
run sorted sorted import --memory 0 "$W/first.csv"
t_eq "$(cat "$W/sorted.rc")" 2 "--memory 0 refused"
t_check "--memory 0 says why" grep -q 'bad --memory "0"' "$W/sorted.err"
run sorted sorted import --memory lots "$W/first.csv"
t_eq "$(cat "$W/sorted.rc")" 2 "--memory lots refused"
printf 'import: { memory_mb = 0; };\n' >"$W/bad.conf"
"$CTL" -c "$W/bad.conf" -s "$W/sorted" import "$W/first.csv" >/dev/null 2>"$W/conf.err"
t_eq "$?" 2 "import.memory_mb = 0 refused"
t_check "import.memory_mb = 0 names the key" grep -q "import.memory_mb" "$W/conf.err"
t_done
