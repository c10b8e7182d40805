#!/usr/bin/env bash
# Builds modgate's Debian package and runs every test: unit, golden and lint (inside the package
# build), lintian, fuzz (bounded), the root-only kernel and network-namespace lab tests, the unit
# tests and some lab tests again under AddressSanitizer and UBSan, then the appliance image built
# with the package and booted under qemu. Installs what is missing first. Run as root on Debian 12.
# Prints the wall time of each phase.
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
deb_version=$(dpkg-parsechangelog -S Version)
deb_arch=$(dpkg --print-architecture)
deb="$top/build-deb/modgate_${deb_version}_$deb_arch.deb"

# The main build is the Debian package's: dpkg-buildpackage configures and compiles build/ with
# Debian's hardening flags and runs the tests that need no root (unit, golden, lint) inside the
# package build; every later test runs on those same binaries. The test run keeps line tables
# only (-g1: backtraces still name files and lines) and turns warnings into errors.
build_package() {
  local out="$top/build-deb" f
  mkdir -p "$out"
  rm -f "$out"/*.deb "$out"/*.buildinfo "$out"/*.changes
  if ! DEB_BUILD_OPTIONS="parallel=$jobs" DEB_CXXFLAGS_APPEND="-g1 -Werror" \
       dpkg-buildpackage -b -uc -us >"$out/build.log" 2>&1; then
    grep -E "error|FAILED|Failed" "$out/build.log" | tail -40 >&2
    echo "run-all: the package build failed; see $out/build.log" >&2
    return 1
  fi
  # dpkg-buildpackage writes next to the source tree; the results are kept inside it.
  for f in "modgate_${deb_version}_$deb_arch.deb" "modgate-dbgsym_${deb_version}_$deb_arch.deb" \
           "modgate_${deb_version}_$deb_arch.buildinfo" "modgate_${deb_version}_$deb_arch.changes"; do
    mv "../$f" "$out/"
  done
  grep -E "tests passed|tests failed" "$out/build.log" | sed 's/^/run-all: package build: /'
  ls -l "$deb"
}
lint_package() { lintian --fail-on error,warning --info "$deb"; }
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
# The appliance image with the package just built, the boot test's policy and observer, and a
# key made for this run; one image and one boot serve every check in the VM.
build_image() {
  [ -f "$top/build-image/lab-key" ] ||
    ssh-keygen -q -t ed25519 -N "" -C modgate-boot-test -f "$top/build-image/lab-key"
  "$top/image/build.sh" --out "$top/build-image" --deb "$deb" --policy "$top/tests/image/lab-policy.toml" \
    --overlay "$top/tests/image/overlay" --authorized-keys "$top/build-image/lab-key.pub"
}

phase package build_package
[ $status -eq 0 ] || { echo "run-all: FAILED (package build)" >&2; exit 1; }
phase lintian lint_package
phase build-fuzz build_fuzz
phase build-asan build_asan

phase root ctest --test-dir build --output-on-failure -L root
# The fuzzers run one at a time on one CPU for a fixed time each; the image build (mostly
# downloads, unpacking and compression) runs beside them on the other.
mkdir -p "$top/build-image"
build_image >"$top/build-image/build.log" 2>&1 &
image_pid=$!
image_started=$(date +%s)
phase fuzz ctest --test-dir build-fuzz --output-on-failure
wait_image() {
  local rc=0
  wait "$image_pid" || rc=$?
  echo "run-all: the image build took $(($(date +%s) - image_started)) s, beside the fuzz phase"
  tail -n 2 "$top/build-image/build.log"
  [ $rc -eq 0 ] || { tail -n 30 "$top/build-image/build.log" >&2; return 1; }
}
phase image wait_image
phase asan-unit ctest --test-dir build-asan --output-on-failure -R '^unit\.' -j"$jobs"
phase asan-lab ctest --test-dir build-asan --output-on-failure -R '^gateway\.(flows|failclosed|windows|vendors|events)$'
phase vm "$top/tests/image/boot_test.sh" "$top/build-image/modgate.img" "$deb" "$top/build-image/lab-key"
echo "run-all: total $(($(date +%s) - started)) s"
if [ $status -ne 0 ]; then echo "run-all: FAILED" >&2; else echo "run-all: all tests passed"; fi
exit $status
