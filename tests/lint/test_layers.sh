#!/bin/sh
# test_layers.sh - the include rule of the source layout (README, "Source
# layout"): util/ includes nothing of the project's outside util/, core/
# only util/ and core/, a program folder only util/, core/ and itself.
# Every project include names its folder.  Prints "N passed, M failed".
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/lib/assert.sh

# allowed DIR : the folders DIR's files may include from.
allowed() {
	case "$1" in
	util) echo "util" ;;
	core) echo "util core" ;;
	*) echo "util core $1" ;;
	esac
}

for dir in src/*/; do
	d=$(basename "$dir")
	ok=$(allowed "$d")
	bad=$(grep -Hn '^#include "' "$dir"*.[ch] 2>/dev/null | while IFS= read -r line; do
		inc=$(printf '%s\n' "$line" | sed 's/.*#include "\([^"]*\)".*/\1/')
		case "$inc" in
		*/*) ;;
		*) echo "$line (no folder)"; continue ;;
		esac
		top=${inc%%/*}
		case " $ok " in
		*" $top "*) ;;
		*) echo "$line" ;;
		esac
	done)
	if [ -z "$bad" ]; then t_ok; else t_fail "src/$d includes across the layers: $bad"; fi
done
# Nothing left at the top of src/: every file has its layer.
n=$(find src -maxdepth 1 -type f | wc -l)
t_eq "$n" 0 "files directly in src/"
t_done
