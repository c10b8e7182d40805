#!/usr/bin/env bash
# Builds modgate and runs every test: unit, golden, lint, fuzz (bounded), and the root-only
# kernel and network-namespace lab tests, then the unit tests and some lab tests again under
# AddressSanitizer and UBSan. Installs what is missing first. Run as root on Debian 12. Prints
# the wall time of each phase.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "$(id -u)" -eq 0 ] || { echo "run-all: run as root (the lab tests use network namespaces)" >&2; exit 1; }

status=0
started=$(date +%s)
# phase NAME COMMAND...: runs it, prints how long it took; a failure marks the run failed.
phase() {
  local name=$1 t0 rc=0
  shift
  t0=$(date +%s)
  "$@" || rc=$?
  echo "run-all: phase $name: $(($(date +%s) - t0)) s$([ $rc -eq 0 ] || echo ", FAILED")"
  [ $rc -eq 0 ] || status=1
  return 0
}
jobs=$(nproc)
unit_targets=(modgated modgatectl unit_policy unit_dicom unit_nft unit_gateway unit_windows unit_vendors
              unit_host unit_daemon)

phase deps "$top/tests/install-deps.sh"
# The test builds keep line tables only (-g1): backtraces and sanitizer reports still name files
# and lines, and the compiler spends a third less time writing debug information.
build_main() {
  cmake -S . -B build -G Ninja -DMODGATE_WERROR=ON -DMODGATE_TEST_PROBES=ON \
        -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" >/dev/null && cmake --build build -j"$jobs"
}
# The pure parsers are also built with clang 14 for libFuzzer.
build_fuzz() {
  cmake -S . -B build-fuzz -G Ninja -DMODGATE_FUZZ=ON -DMODGATE_WERROR=ON \
        -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
    cmake --build build-fuzz -j"$jobs"
}
# The sanitizer build is a debug build (-Og, assertions on): the sanitizers check every access
# at any optimisation level, and -Og compiles in less than half the time of -O2.
build_asan() {
  cmake -S . -B build-asan -G Ninja -DMODGATE_SANITIZE=ON -DMODGATE_WERROR=ON \
        -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-Og -g1" >/dev/null &&
    cmake --build build-asan -j"$jobs" --target "${unit_targets[@]}"
}
phase build build_main
[ $status -eq 0 ] || { echo "run-all: FAILED (build)" >&2; exit 1; }
phase build-fuzz build_fuzz
phase build-asan build_asan

phase unit ctest --test-dir build --output-on-failure -LE root -j"$jobs"
phase root ctest --test-dir build --output-on-failure -L root
phase fuzz ctest --test-dir build-fuzz --output-on-failure
phase asan-unit ctest --test-dir build-asan --output-on-failure -R '^unit\.' -j"$jobs"
phase asan-lab ctest --test-dir build-asan --output-on-failure -R '^gateway\.(flows|failclosed|windows|vendors|events)$'
echo "run-all: total $(($(date +%s) - started)) s"
if [ $status -ne 0 ]; then echo "run-all: FAILED" >&2; else echo "run-all: all tests passed"; fi
exit $status
