#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ from tests/fixtures/**, so
# fuzzing starts from real inputs. The protobuf target gets the profiles gunzipped, since
# its parser sees them after the reading path has unwrapped gzip. The traceback target,
# the generic entry point, and the wrapped target get every fixture.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
fx=$here/../tests/fixtures
seed() { # target dir-glob...
  local t=$1; shift
  mkdir -p "$here/corpus/$t"
  for d in "$@"; do
    [ -d "$fx/$d" ] || continue
    find "$fx/$d" -type f ! -name '*.md' -size -1024k -exec cp {} "$here/corpus/$t/" \;
  done
}
seed debug1 debug1
seed traces traces
seed traceback .
seed sockets sockets
seed diagnose .
seed wrapped .
mkdir -p "$here/corpus/proto"
if [ -d "$fx/proto" ]; then
  for f in "$fx"/proto/*.pb.gz; do
    [ -f "$f" ] && gzip -dc "$f" > "$here/corpus/proto/$(basename "$f" .gz)"
  done
fi
for t in debug1 traces traceback sockets proto wrapped; do
  echo "$t: $(ls "$here/corpus/$t" | wc -l) seeds"
done
