#!/usr/bin/env bash
# Vendor hosts by name and TLS SNI: modgated resolves the vendor's name through the management
# DNS server (never the bridge), only a ClientHello whose server name matches the vendor's
# patterns reaches the vendor (a mismatch and a missing name are refused before anything goes
# upstream), and with DNS unreachable the last good addresses are kept, also across a restart.
#   usage: gw_vendors.sh MODGATED MODGATECTL   (root)
set -euo pipefail
MODGATED=$(realpath "$1") MODGATECTL=$(realpath "$2")
. "$(dirname "$0")/gw_lib.sh"

lab_up modgate
# The vendor only by name: its address can come from nowhere but DNS.
sed -e 's/^hosts = \["remote.vendor.example", "203.0.113.10"\]/hosts = ["update.vendor.example"]/' \
    -e 's/^tls_sni = .*/tls_sni = ["*.vendor.example"]/' \
    -e 's/^cut_sessions = true.*/cut_sessions = true\ninbound_ports = [3389]/' \
    "$GW_TOP/policy/examples/pet-ct-win7.toml" >"$LAB_DIR/vendors.toml"
grep -q '^hosts = \["update.vendor.example"\]' "$LAB_DIR/vendors.toml"
gw_policy "$LAB_DIR/vendors.toml"
gw_start
tls() { labnet scan tls --timeout 3 --sni "$1" --ca "$LAB_TLS_CA" "$LAB_VENDOR_IP" 443 >/dev/null 2>&1; }
vendor_log=$(lab_service_log vendor)

ok "the vendor's name was resolved to its address" \
  gw_wait_event "event=vendor_resolved name=update.vendor.example addresses=$LAB_VENDOR_IP" 5
ok "... through the management DNS server, asked from the management address" \
  grep -q "query\[A\] update.vendor.example from $LAB_GW_MGMT_IP" "$(lab_service_log mgmt-dns)"
not "outside a window the vendor cannot reach the scanner's inbound port 3389" tcp_open vendor "$LAB_SCANNER_IP" 3389
gw_ctl window open pet-ct-1 vendor-remote --for 10m --reason "CHG-77 remote service" >/dev/null
scanner_log=$(lab_service_log scanner-ports)
smark=$(wc -l <"$scanner_log")
ok "inside the window the vendor reaches the scanner's 3389 (inbound_ports)" tcp_open vendor "$LAB_SCANNER_IP" 3389
ok "... and the scanner saw the vendor's own address" \
  sh -c "tail -n +$((smark + 1)) '$scanner_log' | grep -q 'local=$LAB_SCANNER_IP:3389 peer=$LAB_VENDOR_IP:'"
not "... but not any other port of the scanner (445)" tcp_open vendor "$LAB_SCANNER_IP" 445
ok "the window's kernel element carries the resolved address" \
  sh -c "ip netns exec $(lab_ns gw) nft list set inet modgate window_tcp | grep -q '$LAB_SCANNER_IP . $LAB_VENDOR_IP . 443'"

vmark=$(wc -l <"$vendor_log") mark=$(gw_lines)
ok "the right server name passes (remote.vendor.example matches *.vendor.example)" tls remote.vendor.example
not "a mismatching server name is refused" tls evil.example.org
ok "... with an event naming it" gw_wait_event "event=tls_refused .*reason=\"server name not allowed\" sni=evil.example.org" 3 "$mark"
not "the bare domain does not match *.vendor.example" tls vendor.example
set +e
echo | n scan timeout 5 openssl s_client -noservername -connect "$LAB_VENDOR_IP:443" >"$LAB_DIR/nosni.out" 2>&1
set -e
ok "a ClientHello without a server name is refused with a TLS alert" grep -q "unrecognized name" "$LAB_DIR/nosni.out"
ok "... and an event" gw_wait_event "event=tls_refused .*reason=\"ClientHello without a server name\"" 3 "$mark"
ok "the vendor saw exactly the one allowed handshake" \
  test "$(tail -n +"$((vmark + 1))" "$vendor_log" | grep -c 'event=tls_accept')" -eq 1
ok "... carrying the allowed name" sh -c "tail -n +$((vmark + 1)) '$vendor_log' | grep 'event=tls_accept' | grep -q 'sni=remote.vendor.example'"
ok "the vendor saw no other connection at all" \
  test -z "$(tail -n +"$((vmark + 1))" "$vendor_log" | grep -E 'event=(tcp_accept|tls_fail)' || true)"

# DNS unreachable: the last good addresses stay, and a restart still has them.
lab_stop mgmt-dns
gw_stop
mark=$(gw_lines)
gw_start
ok "with DNS down the resolution failure is an event that keeps the last good address" \
  gw_wait_event "event=vendor_resolve_failed name=update.vendor.example .*kept=$LAB_VENDOR_IP" 8 "$mark"
ok "the window survived the restart and still reaches the vendor by its remembered address" tls remote.vendor.example
ok "the start was not held up by DNS" grep -q "event=started" <(tail -n +"$((mark + 1))" "$GW_LOG")
ok "nothing leaked to the management network" test "$(lab_mgmt_leak_total)" -eq 0
gw_stop
gw_done
