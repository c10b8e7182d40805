#!/usr/bin/env bash
# Privilege separation's cost: builds modgated as it was just before the proxy moved into its
# own process (the parent of the commit "Privilege separation: ..."), then runs bench_dicom.sh
# with that binary as one more mode in every round, so both are measured in the same run.
#   usage: bench_privsep.sh BUILD_DIR [RUNS]   (root; run by tests/bench/run.sh, not by ctest)
set -euo pipefail
build=$(realpath "${1:?usage: bench_privsep.sh BUILD_DIR [RUNS]}")
top=$(cd "$(dirname "$0")/../../.." && pwd)
commit=$(git -C "$top" log --format=%H -1 --grep='^Privilege separation:')
[ -n "$commit" ] || { echo "bench_privsep: no commit 'Privilege separation:' in the history" >&2; exit 1; }
before=$(git -C "$top" rev-parse "$commit^")
dir="$build/bench-before/${before:0:12}"
if [ ! -x "$dir/build/gateway/modgated" ]; then
  echo "bench_privsep: building modgated at ${before:0:12} (before privilege separation)" >&2
  rm -rf "$dir" && mkdir -p "$dir/src"
  git -C "$top" archive "$before" | tar -x -C "$dir/src"
  cmake -S "$dir/src" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$dir/build" -j"$(nproc)" --target modgated >/dev/null
fi
MODGATED_BEFORE="$dir/build/gateway/modgated" exec "$top/tests/bench/dicom/bench_dicom.sh" "$build" "${2:-5}"
