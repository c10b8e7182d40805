#!/bin/bash
# Runs one host set-up kernel test inside a fresh network namespace, removed on exit.
#
#   [ ns: lo up   br0 (bridge) <- gs0, gh0 (veth; peers gs1, gh1)   mg0 (management) ]
#
# mg0 is a dummy where the kernel has one, else a veth (the lab kernel has no dummy driver).
# usage: run_host_netns.sh PROGRAM [ARGS...]   (needs root: fails without it)
set -euo pipefail

prog=$1
shift
# Not being root is a failure of the test command, not a skip: 77 means only that the kernel
# lacks a feature.
if [ "$(id -u)" != 0 ]; then
    echo "run_host_netns.sh: FAIL: needs root (network namespaces)" >&2
    exit 1
fi

ns="mghost-$$-${RANDOM}"
cleanup() { ip netns del "$ns" 2>/dev/null || true; }
trap cleanup EXIT
n() { ip -n "$ns" "$@"; }

ip netns add "$ns"
n link set lo up
n link add br0 type bridge || { echo "SKIP: kernel without bridge"; exit 77; }
n link add gs0 type veth peer name gs1 || { echo "SKIP: kernel without veth"; exit 77; }
n link add gh0 type veth peer name gh1
n link set gs0 master br0
n link set gh0 master br0
n link add mg0 type dummy 2>/dev/null || n link add mg0 type veth peer name mg1
n link set mg0 up

MODGATE_NS="$ns" ip netns exec "$ns" "$prog" "$@"
