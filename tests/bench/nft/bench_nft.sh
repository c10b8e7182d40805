#!/bin/bash
# Runs bench_apply as root in a scratch network namespace (removed on exit) and prints its
# ratios. usage: bench_nft.sh BUILD_DIR [RUNS]
set -euo pipefail
build=$1
runs=${2:-7}
[ "$(id -u)" -eq 0 ] || { echo "bench_nft: needs root (network namespaces)" >&2; exit 1; }
ns="mgbench-$$"
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip netns add "$ns"
ip netns exec "$ns" "$build/tests/bench/nft/bench_apply" "$runs"
