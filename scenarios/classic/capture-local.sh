#!/usr/bin/env bash
# Captures the classic scenarios' fixtures by the scenario protocol: a shell
# equivalent of scenarios/capture.py for this family, which needs no servers.
#
#   scenarios/classic/capture-local.sh [--out DIR] [NAME...]
#
# For each scenario: build it, start it (own process group), wait for the
# READY line, then write into DIR/NAME/ (default tests/fixtures/scenarios):
# debug2.txt, debug1.txt, goroutine.pb.gz, ss.txt, series/01-03.txt (2 s
# apart) and meta.json, and kill the scenario and everything it started.
# A scenario whose expect.json has "capture": "crash" takes no READY: its
# stderr (the runtime's fatal-error traceback) becomes debug2.txt.
# The classic family needs no servers (redis, PostgreSQL).
set -euo pipefail

family_dir=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$family_dir/../.." && pwd)
out="$repo/tests/fixtures/scenarios"
if [[ ${1:-} == --out ]]; then out=$2; shift 2; fi
names=("$@")
if [[ ${#names[@]} -eq 0 ]]; then
	for d in "$family_dir"/*/expect.json; do names+=("$(basename "$(dirname "$d")")"); done
fi

work=$(mktemp -d)
pgid=""
cleanup() {
	if [[ -n $pgid ]]; then kill -KILL -- "-$pgid" 2>/dev/null || true; fi
	rm -rf "$work"
}
trap cleanup EXIT

fetch() { curl -fsS --max-time 30 "http://$pprof/debug/pprof/goroutine?debug=$1"; }

for name in "${names[@]}"; do
	echo "== $name" >&2
	dest="$out/$name"
	rm -rf "$dest"
	mkdir -p "$dest"
	bin="$work/$name"
	(cd "$family_dir" && go build -trimpath -o "$bin" "./$name")
	command="cd scenarios/classic && go build -trimpath -o $name ./$name && ./$name"
	when=$(date -u +%Y-%m-%dT%H:%M:%SZ)

	if grep -q '"capture": *"crash"' "$family_dir/$name/expect.json"; then
		rc=0
		timeout 60 "$bin" >/dev/null 2>"$dest/debug2.txt" || rc=$?
		echo "   exit status $rc" >&2
	else
		mkdir -p "$dest/series"
		setsid "$bin" >"$work/stdout" 2>"$work/stderr" &
		pid=$!
		pgid=$pid
		ready=""
		for _ in $(seq 1 600); do
			ready=$(grep -m1 '^HANGDOC READY ' "$work/stdout" || true)
			[[ -n $ready ]] && break
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if [[ -z $ready ]]; then
			echo "   no READY line; stderr:" >&2
			cat "$work/stderr" >&2
			exit 1
		fi
		pprof=$(sed -n 's/.* pprof=\([^ ]*\).*/\1/p' <<<"$ready")
		service=$(sed -n 's/.* service=\([^ ]*\).*/\1/p' <<<"$ready")
		fetch 2 >"$dest/debug2.txt"
		fetch 1 >"$dest/debug1.txt"
		fetch 0 >"$dest/goroutine.pb.gz"
		# ss -p names processes as users:(("name",pid=N,fd=M)).
		ports=""
		[[ -n $service ]] && ports=${service##*:}
		ss -tanp | awk -v pid="pid=$pid," -v port="$ports" 'NR == 1 {print; next}
			index($0, pid) {print; next}
			port != "" {
				n = split($4, l, ":"); m = split($5, p, ":")
				if (l[n] == port || p[m] == port) print
			}' >"$dest/ss.txt"
		for i in 1 2 3; do
			fetch 2 >"$dest/series/0$i.txt"
			[[ $i -lt 3 ]] && sleep 2
		done
		kill -KILL -- "-$pgid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		pgid=""
	fi
	go_version=$(go env GOVERSION)
	printf '{\n  "scenario": "%s",\n  "go_version": "%s",\n  "captured_at": "%s",\n  "command": "%s"\n}\n' \
		"$name" "$go_version" "$when" "$command" >"$dest/meta.json"
	ls -la "$dest" >&2
done
