#!/usr/bin/env bash
# Regenerates the aggregated-profile fixtures from main.go with the machine's Go:
# tests/fixtures/debug1/, tests/fixtures/proto/, tests/fixtures/traces/.
# The goroutineleak profile needs Go 1.27, or Go 1.26 with GOEXPERIMENT=goroutineleakprofile.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
fx=$root/tests/fixtures
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ver=$(go env GOVERSION)
ver=${ver#go}; ver=${ver%.*}            # 1.26.8 -> 1.26
exp=""
case "$ver" in 1.26) exp=goroutineleakprofile ;; esac
(cd "$here" && GOEXPERIMENT=$exp go build -trimpath -o "$tmp/agg" .)
"$tmp/agg" "$tmp/out"
mkdir -p "$fx/debug1" "$fx/proto" "$fx/traces"
for p in goroutine goroutineleak; do
  [ -f "$tmp/out/$p.debug1.txt" ] && cp "$tmp/out/$p.debug1.txt" "$fx/debug1/agg-go$ver-$p.txt"
  [ -f "$tmp/out/$p.pb.gz" ] && cp "$tmp/out/$p.pb.gz" "$fx/proto/agg-go$ver-$p.pb.gz"
done
cp "$tmp/out/goroutine-delta.pb.gz" "$fx/proto/agg-go$ver-goroutine-delta.pb.gz"
# -traces prints Time: in the tool's local zone; UTC keeps it parseable.
for p in goroutine goroutineleak goroutine-delta; do
  src=$tmp/out/$p.pb.gz
  [ -f "$src" ] || continue
  TZ=UTC go tool pprof -traces "$tmp/agg" "$src" > "$fx/traces/agg-go$ver-$p.txt"
done
TZ=UTC go tool pprof -traces -lines "$tmp/agg" "$tmp/out/goroutine.pb.gz" > "$fx/traces/agg-go$ver-goroutine-lines.txt"
TZ=UTC go tool pprof -traces -addresses "$tmp/agg" "$tmp/out/goroutine.pb.gz" > "$fx/traces/agg-go$ver-goroutine-addresses.txt"
TZ=UTC go tool pprof -traces -symbolize=none "$tmp/agg" "$tmp/out/goroutine.pb.gz" > "$fx/traces/agg-go$ver-goroutine-rawnames.txt"
echo "fixtures written for go$ver"
