#!/usr/bin/env bash
# Measures how fast hangdoc reads a large goroutine dump, against `wc -l` on the same file.
#
#   scripts/bench-large.sh [N]     (N goroutines, default 1000000)
#
# Builds hangdoc in release mode and the dump generator (scenarios/bench), writes the dump to
# bench-data/ (reused when present), warms the page cache, then runs `wc -l` and the parse
# in turn for ROUNDS rounds (default 5) and reports the median wall time (shell clock), the
# peak RSS (/usr/bin/time -v) and the median per-round ratio.
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

ROUNDS="${ROUNDS:-5}"

run() { # command...: prints "wall_seconds peak_rss_kb"; wall from the shell's clock in µs
    local log start end
    log=$(mktemp)
    start=$EPOCHREALTIME
    /usr/bin/time -v "$@" >/dev/null 2>"$log"
    end=$EPOCHREALTIME
    awk -v s="$start" -v e="$end" -F': ' \
        '/Maximum resident set size/ {printf "%.4f %d\n", e - s, $2}' "$log"
    rm -f "$log"
}

echo "dump: $DUMP ($(du -mL "$DUMP" | cut -f1) MB, $N goroutines), $ROUNDS rounds"
# Rounds alternate the two commands, so that both see the same machine; each round's
# ratio compares the two runs of that round.
for _ in $(seq "$ROUNDS"); do
    echo "wc $(run wc -l "$DUMP")"
    echo "hd $(run "${PARSE[@]}")"
done | awk '
    $1 == "wc" { wc[++n] = $2; wcm = $3 > wcm ? $3 : wcm }
    $1 == "hd" { hd[n] = $2; r[n] = $2 / wc[n]; hdm = $3 > hdm ? $3 : hdm }
    function median(a, k,   i, j, t, b) {
        for (i = 1; i <= k; i++) b[i] = a[i]
        for (i = 2; i <= k; i++) for (j = i; j > 1 && b[j-1] > b[j]; j--) { t = b[j]; b[j] = b[j-1]; b[j-1] = t }
        return k % 2 ? b[(k+1)/2] : (b[k/2] + b[k/2+1]) / 2
    }
    function list(a, k,   i, s) { for (i = 1; i <= k; i++) s = s sprintf(" %.3f", a[i]); return s }
    END {
        printf "wc -l      : median %.3f s wall, %.1f MB peak RSS  (runs:%s)\n", median(wc, n), wcm / 1024, list(wc, n)
        printf "hangdoc    : median %.3f s wall, %.1f MB peak RSS  (runs:%s)\n", median(hd, n), hdm / 1024, list(hd, n)
        printf "ratio      : median %.2fx wc -l, per round%s (target <= 2x)\n", median(r, n), list(r, n)
    }'
"${PARSE[@]}" | head -c 400; echo
