#!/usr/bin/env bash
# modgatectl's kernel commands in a throwaway namespace: apply --check changes nothing, apply
# loads exactly what compile prints, diff reports nothing after an apply and the differences
# after a policy change, show lists the tables with counters, and the exit codes follow the
# contracts (1 invalid policy, 3 daemon unreachable, 4 not authorised).
#   usage: modgatectl_kernel.sh MODGATECTL   (root)
set -euo pipefail
ctl=$(realpath "$1")
top=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "must run as root" >&2; exit 1; }
ns="mgctl$$"
tmp=$(mktemp -d)
trap 'ip netns del "$ns" 2>/dev/null || true; rm -rf "$tmp"' EXIT
ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
pass=0 fail=0
ok() { local w=$1; shift; if "$@"; then pass=$((pass+1)); echo "ok   $w"; else fail=$((fail+1)); echo "FAIL $w"; fi; }
rc_of() { set +e; "$@" >"$tmp/out" 2>"$tmp/err"; echo $? >"$tmp/rc"; set -e; cat "$tmp/rc"; }

pet="$top/policy/examples/pet-ct-win7.toml" xray="$top/policy/examples/xray-room.toml"
ok "apply of an invalid policy exits 1" test "$(rc_of in_ns "$ctl" apply "$top/tests/golden/policy/fail/five-mistakes.toml")" -eq 1
ok "... with the located errors" grep -q "five-mistakes.toml:5:8: error" "$tmp/err"
ok "apply --check of a valid policy exits 0" test "$(rc_of in_ns "$ctl" apply --check "$pet")" -eq 0
ok "... and commits nothing" test -z "$(in_ns nft list ruleset)"
ok "apply exits 0" test "$(rc_of in_ns "$ctl" apply "$pet")" -eq 0
"$ctl" compile "$pet" >"$tmp/compiled.nft"
in_ns nft list ruleset >"$tmp/listed.nft"
ok "the kernel holds exactly what compile prints" diff <("$top/tests/lib/nftcanon.py" "$tmp/compiled.nft") <("$top/tests/lib/nftcanon.py" "$tmp/listed.nft")
ok "diff right after apply reports no changes" test "$(in_ns "$ctl" diff "$pet")" = "no changes"
in_ns "$ctl" diff "$xray" >"$tmp/diff"
ok "diff against another policy lists the new modality's elements" grep -q "+ set stations element: 00:1a:4b:10:20:31 . 10.40.2.31" "$tmp/diff"
ok "... and the old one's as removed" grep -q -- "- set stations element: 00:16:3e:12:34:56 . 10.20.30.40" "$tmp/diff"
ok "diff changed nothing" diff <("$top/tests/lib/nftcanon.py" "$tmp/listed.nft") <(in_ns nft list ruleset | "$top/tests/lib/nftcanon.py" -)
in_ns "$ctl" show >"$tmp/show"
ok "show lists modgate's tables with counters" grep -q "counter packets 0 bytes 0 limit rate 10/second" "$tmp/show"
ok "apply without CAP_NET_ADMIN exits 4" \
  test "$(rc_of in_ns setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all "$ctl" apply "$pet")" -eq 4
ok "status without a daemon exits 3" test "$(rc_of "$ctl" --socket "$tmp/none.sock" status)" -eq 3
ok "... saying the daemon is unreachable" grep -q "cannot reach modgated" "$tmp/err"
ok "an unknown command exits 2" test "$(rc_of "$ctl" frobnicate)" -eq 2
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
