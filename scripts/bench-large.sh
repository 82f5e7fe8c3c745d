#!/usr/bin/env bash
# Measures how fast hangdoc reads a large goroutine dump, against `wc -l` on the same file.
#
#   scripts/bench-large.sh [N]     (N goroutines, default 1000000)
#
# Builds hangdoc in release mode and the dump generator (scenarios/bench), writes the dump to
# bench-data/ (reused when present), warms the page cache, then reports wall time and peak
# RSS of `wc -l` and of the parse, each measured with /usr/bin/time -v.
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
DATA=bench-data
DUMP="$DATA/goroutines-$N.txt"
mkdir -p "$DATA"

cargo build --release --quiet --example parse --bin hangdoc
if [ ! -s "$DUMP" ]; then
    (cd scenarios/bench && go build -trimpath -o "../../$DATA/bench-gen" .)
    "$DATA/bench-gen" -n "$N" -o "$DUMP.tmp"
    mv "$DUMP.tmp" "$DUMP"
fi

# The `stacks` command when it exists, else the parse-only example.
if ./target/release/hangdoc --help 2>/dev/null | grep -qE "^ +stacks( |$)"; then
    PARSE=(./target/release/hangdoc stacks "$DUMP" --format json)
else
    PARSE=(./target/release/examples/parse "$DUMP")
fi

cat "$DUMP" >/dev/null   # warm the page cache
cat "$DUMP" >/dev/null

measure() { # label, command...: prints "label: wall s, peak RSS MB"
    local label=$1; shift
    local log
    log=$(mktemp)
    /usr/bin/time -v "$@" >/dev/null 2>"$log"
    local wall rss
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,t,":"); s=0; for(i=1;i<=n;i++) s=s*60+t[i]; print s}' "$log")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$log")
    echo "$label: ${wall}s wall, ${rss} MB peak RSS"
    rm -f "$log"
    echo "$wall" >"$DATA/.last-wall"
}

echo "dump: $DUMP ($(du -mL "$DUMP" | cut -f1) MB, $N goroutines)"
measure "wc -l      " wc -l "$DUMP"
WC=$(cat "$DATA/.last-wall")
measure "hangdoc    " "${PARSE[@]}"
HD=$(cat "$DATA/.last-wall")
awk -v a="$HD" -v b="$WC" 'BEGIN { if (b > 0) printf "ratio      : %.2fx wc -l (target <= 2x)\n", a / b }'
"${PARSE[@]}" | head -c 400; echo
