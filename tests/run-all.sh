#!/usr/bin/env bash
# Builds modgate and runs every test: unit, golden, fuzz (bounded), and the root-only kernel and
# network-namespace lab tests. Installs what is missing first. Run as root on Debian 12.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "$(id -u)" -eq 0 ] || { echo "run-all: run as root (the lab tests use network namespaces)" >&2; exit 1; }
"$top/tests/install-deps.sh"

jobs=$(nproc)
cmake -S . -B build -G Ninja -DMODGATE_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
# The pure parsers are also built with clang 14 for libFuzzer.
cmake -S . -B build-fuzz -G Ninja -DMODGATE_FUZZ=ON -DMODGATE_WERROR=ON \
      -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$jobs"

# The unit tests and the daemon once more with AddressSanitizer and UBSan.
cmake -S . -B build-asan -G Ninja -DMODGATE_SANITIZE=ON -DMODGATE_WERROR=ON >/dev/null
cmake --build build-asan -j"$jobs" --target modgated modgatectl unit_policy unit_dicom unit_nft unit_gateway \
      unit_windows unit_vendors

status=0
ctest --test-dir build --output-on-failure -LE root -j"$jobs" || status=1
ctest --test-dir build --output-on-failure -L root || status=1
ctest --test-dir build-fuzz --output-on-failure || status=1
ctest --test-dir build-asan --output-on-failure -LE root -j"$jobs" || status=1
ctest --test-dir build-asan --output-on-failure -R '^gateway\.(flows|failclosed|windows|vendors)$' || status=1
if [ $status -ne 0 ]; then echo "run-all: FAILED" >&2; else echo "run-all: all tests passed"; fi
exit $status
