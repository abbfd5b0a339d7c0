#!/bin/sh
# make fuzz: runs every libFuzzer target of a clang build for SECONDS each,
# starting from its seed corpus; new inputs go to build-fuzz/corpus/<name>
# (copy interesting ones into tests/fuzz/corpus/<name>/ to keep them).
set -eu
build=${1:-build-fuzz}
seconds=${2:-60}
root=$(cd "$(dirname "$0")/.." && pwd)
status=0
for bin in "$build"/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  seeds="$root/tests/fuzz/corpus/${name#fuzz_}"
  work="$build/corpus/${name#fuzz_}"
  mkdir -p "$work"
  echo "fuzz: $name for ${seconds}s"
  if ! "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        -artifact_prefix="$build/crash-$name-" "$work" "$seeds" >"$build/$name.log" 2>&1; then
    echo "fuzz: $name FAILED, see $build/$name.log and $build/crash-$name-*" >&2
    status=1
  fi
  tail -n 1 "$build/$name.log"
done
exit $status
