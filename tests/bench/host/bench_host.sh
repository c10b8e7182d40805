#!/usr/bin/env bash
# Host set-up benchmark: each run in a fresh network namespace holding the gateway's links.
#
#   [ ns: br0 (bridge) <- gs0, gh0 (veth, peers gs1, gh1)   mg0 (veth, management; this kernel has no dummy) ]
#
# usage: bench_host.sh BUILD_DIR [RUNS]   (needs root)
set -euo pipefail
build=$1
runs=${2:-3}
bin="$build/tests/bench/host/bench_host"
if [ "$(id -u)" != 0 ]; then echo "bench_host.sh: needs root (network namespaces)" >&2; exit 77; fi

ns=""
cleanup() { [ -z "$ns" ] || ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
n() { ip -n "$ns" "$@"; }

fresh_ns() {
    cleanup
    ns="mgbench-host-$$-$1"
    ip netns add "$ns"
    n link set lo up
    n link add br0 type bridge
    n link add gs0 type veth peer name gs1
    n link add gh0 type veth peer name gh1
    n link set gs0 master br0
    n link set gh0 master br0
    n link add mg0 type veth peer name mg1
    n link set mg0 up
}

for i in $(seq "$runs"); do
    echo "-- run $i"
    fresh_ns "s$i"; ip netns exec "$ns" "$bin" small
    fresh_ns "l$i"; ip netns exec "$ns" "$bin"
done
