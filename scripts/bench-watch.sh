#!/usr/bin/env bash
# What `hangdoc watch` costs while nothing hangs: CPU and peak memory of the watcher
# idle-polling N targets (every target is the same healthy Go service, started here from
# scenarios/classic/healthy-http-idle), beside the cost of one `ss -tanp`.
#
#   scripts/bench-watch.sh [SECONDS] [N...]      (defaults: 120 s; 1, 5 and 20 targets)
#
# Builds hangdoc in release mode. CPU is the watcher's utime+stime from /proc/PID/stat plus
# that of the `ss` processes it ran (cutime+cstime), over the wall time; memory is VmHWM.
# Runs once with the socket table (the default for a local target) and once with
# --no-sockets. Stops everything it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${1:-120}"
shift || true
COUNTS=("$@")
[ ${#COUNTS[@]} -gt 0 ] || COUNTS=(1 5 20)

tmp=$(mktemp -d)
svc_pid=""
cleanup() {
    [ -n "$svc_pid" ] && kill "$svc_pid" 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

cargo build --release --quiet --bin hangdoc
(cd scenarios/classic && go build -o "$tmp/svc" ./healthy-http-idle)
HANGDOC_PPROF_ADDR=127.0.0.1:0 "$tmp/svc" >"$tmp/svc.out" 2>"$tmp/svc.err" &
svc_pid=$!
for _ in $(seq 100); do
    grep -q "HANGDOC READY" "$tmp/svc.out" 2>/dev/null && break
    sleep 0.2
done
pprof=$(sed -n 's/.*HANGDOC READY pprof=\([^ ]*\).*/\1/p' "$tmp/svc.out")
[ -n "$pprof" ] || { echo "the service did not start" >&2; cat "$tmp/svc.err" >&2; exit 1; }
tck=$(getconf CLK_TCK)

run() { # N, extra flags...
    local n=$1; shift
    local store="$tmp/store-$n-$#"
    local args=()
    for i in $(seq "$n"); do args+=("t$i=http://$pprof/debug/pprof/"); done
    ./target/release/hangdoc watch --store "$store" -q "$@" "${args[@]}" 2>"$store.log" &
    local pid=$!
    sleep "$SECS"
    local ut st cut cst hwm
    read -r ut st cut cst <<<"$(awk '{print $14, $15, $16, $17}' "/proc/$pid/stat")"
    hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
    kill -TERM "$pid"
    wait "$pid" || true
    awk -v n="$n" -v s="$SECS" -v t="$tck" -v w=$((ut + st)) -v c=$((cut + cst)) -v h="$hwm" -v f="${*:-sockets}" \
        'BEGIN { printf "%3d targets  %-12s watcher %5.2f%% of a core, ss %5.2f%%, peak RSS %5.1f MB\n", n, f, 100*w/t/s, 100*c/t/s, h/1024 }'
}

echo "hangdoc watch, default poll (15 s), ${SECS} s per run, target: healthy-http-idle at $pprof"
for n in "${COUNTS[@]}"; do
    run "$n"
    run "$n" --no-sockets
done
