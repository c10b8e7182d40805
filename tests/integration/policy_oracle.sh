#!/usr/bin/env bash
# Oracle test: every ok golden policy and every example compiles to text that this kernel's
# nftables accepts (`nft -c -f` in a throwaway network namespace), that loads, loads again as a
# reload, and that `nft list ruleset` prints back identically (canonical form).
#   usage: policy_oracle.sh MODGATECTL   (as root)
set -euo pipefail
ctl=$(realpath "$1")
top=$(cd "$(dirname "$0")/../.." && pwd)
canon="$top/tests/lib/nftcanon.py"
[ "$(id -u)" -eq 0 ] || { echo "policy_oracle: must run as root (network namespaces)" >&2; exit 1; }

ns="mgo$$"
tmp=$(mktemp -d)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$tmp"; }
trap cleanup EXIT

fail=0
count=0
for policy in "$top"/tests/golden/policy/ok/*.toml "$top"/policy/examples/*.toml; do
  name=${policy#"$top"/}
  count=$((count + 1))
  ip netns del "$ns" 2>/dev/null || true
  ip netns add "$ns"
  "$ctl" compile "$policy" >"$tmp/rules.nft"
  if ! ip netns exec "$ns" nft -c -f "$tmp/rules.nft" 2>"$tmp/err"; then
    echo "FAIL $name: nft -c rejects the compiled ruleset:"; cat "$tmp/err"; fail=1; continue
  fi
  if [ -n "$(ip netns exec "$ns" nft list ruleset)" ]; then
    echo "FAIL $name: check mode changed the ruleset"; fail=1; continue
  fi
  for pass in load reload; do
    if ! ip netns exec "$ns" nft -f "$tmp/rules.nft" 2>"$tmp/err"; then
      echo "FAIL $name: $pass failed:"; cat "$tmp/err"; fail=1; continue 2
    fi
  done
  ip netns exec "$ns" nft list ruleset >"$tmp/listed.nft"
  if ! diff -u <("$canon" "$tmp/rules.nft") <("$canon" "$tmp/listed.nft") >"$tmp/diff"; then
    echo "FAIL $name: the kernel's listing differs from the compiled text:"; cat "$tmp/diff"; fail=1; continue
  fi
  echo "ok   $name"
done
[ "$count" -gt 0 ] || { echo "no policies found"; exit 1; }
exit $fail
