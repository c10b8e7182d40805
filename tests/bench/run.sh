#!/usr/bin/env bash
# Runs every benchmark and prints each one's ratio against its baseline, measured in the same
# run. Separate from the test command. Usage: tests/bench/run.sh [NAME...] (as root for the
# kernel and lab benchmarks).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
"$top/tests/install-deps.sh"
cmake -S "$top" -B "$top/build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$top/build" -j"$(nproc)"
want=("$@")
selected() { [ ${#want[@]} -eq 0 ] || [[ " ${want[*]} " == *" $1 "* ]]; }

if selected compile; then
  echo "== compile"; "$top/build/tests/bench/bench_compile"
fi
for script in "$top"/tests/bench/*/bench_*.sh; do
  [ -e "$script" ] || continue
  name=$(basename "$script" .sh); name=${name#bench_}
  selected "$name" || continue
  echo "== $name"; "$script" "$top/build"
done
