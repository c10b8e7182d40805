#!/bin/bash
# Runs one netlink-engine test program inside fresh network namespaces, removed on exit.
#
#   [ A: the test program, the engine applies here ]  <-- veth (made by tests that need it) -->
#   [ B: the oracle, `nft -f` of the renderer's text; also the ping peer ]
#
# usage: run_in_netns.sh PROGRAM [ARGS...]   (needs root: fails without it)
set -euo pipefail

prog=$1
shift
# Not being root is a failure of the test command, not a skip: 77 means only that the kernel
# lacks a feature.
if [ "$(id -u)" != 0 ]; then
    echo "run_in_netns.sh: FAIL: needs root (network namespaces, nftables)" >&2
    exit 1
fi

id="mgnft-$$-${RANDOM}"
A="${id}-a"
B="${id}-b"
cleanup() {
    ip netns del "$A" 2>/dev/null || true
    ip netns del "$B" 2>/dev/null || true
}
trap cleanup EXIT

ip netns add "$A"
ip netns add "$B"
ip -n "$A" link set lo up
ip -n "$B" link set lo up

MODGATE_NS_SELF="$A" MODGATE_NS_ORACLE="$B" ip netns exec "$A" "$prog" "$@"
