#!/usr/bin/env bash
# modgated quarantines the lab's Windows 7 scanner with the example policy: the flows the policy
# names pass through the transparent proxy (DICOM across the router, with the scanner's own
# address; NTP and DNS through the UDP relay), everything else fails and is logged, nothing
# leaks to the management network, and a foreign table in the gateway is left alone.
#   usage: gw_flows.sh MODGATED MODGATECTL   (root)
set -euo pipefail
MODGATED=$(realpath "$1") MODGATECTL=$(realpath "$2")
. "$(dirname "$0")/gw_lib.sh"

lab_up modgate
gw_policy "$GW_TOP/policy/examples/pet-ct-win7.toml"
# A foreign table (someone else's firewall) must survive everything modgated does.
n gw nft -f - <<'EOF2'
table inet hospital_fw {
	chain audit {
		type filter hook input priority 10; policy accept;
		counter
	}
}
EOF2
foreign_before=$(n gw nft list table inet hospital_fw | sed 's/packets [0-9]* bytes [0-9]*//')
ok "ports are down before modgated applies anything" test "$(lab_gw_ports_state)" = "br0=DOWN gs0=DOWN gh0=DOWN"
gw_start
ok "modgated raised the bridge ports after the apply" test "$(lab_gw_ports_state)" = "br0=UP gs0=UP gh0=UP"

# DICOM across the router, through the proxy.
export TCP_NODELAY=1
ok "C-ECHO scanner -> PACS" n scan env TCP_NODELAY=1 echoscu -to 5 -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104
"$LAB_PY" "$LAB_LIB/make_dicom.py" -q -o "$LAB_DIR/in" -n 6 -s 512K --seed 7
ok "C-STORE of 3 PET and 3 CT files" n scan env TCP_NODELAY=1 storescu -to 10 -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104 "$LAB_DIR"/in/*.dcm
ok "every dataset element outside group 0002 arrived identical" "$LAB_PY" "$LAB_LIB/dcmcompare.py" "$LAB_DIR/in" "$LAB_PACS_STORE"
pacs_log=$(lab_service_log pacs)
ok "the PACS saw the scanner's own address" grep -q "Association Received: $LAB_SCANNER_IP" "$pacs_log"
ok "the PACS saw no other address" test -z "$(grep "Association Received: " "$pacs_log" | grep -v "Received: $LAB_SCANNER_IP\$")"
ok "the proxy logged the DICOM flows" test "$(gw_count_events 'event=flow_opened .*allow=pet-ct-1->pacs:dicom')" -ge 2

# UDP relay: NTP and DNS to the infrastructure host.
ok "NTP through the UDP relay" labnet scan sntp --timeout 3 "$LAB_NTP_IP"
ok "DNS through the UDP relay" labnet scan dns --timeout 3 --server "$LAB_DNS_IP" remote.vendor.example
ok "the NTP server saw the scanner's own address" grep -q "$LAB_SCANNER_IP" "$(lab_service_log ntp)"

# Not allowed: SMB to the file server, the vendor outside any window, ping, IPv6.
mark=$(gw_lines)
not "SMB scanner -> file server fails" tcp_open scan "$LAB_FILES_IP" 445
ok "the SMB attempt is a drop event" gw_wait_event "event=drop rule=flow dir=out .*dst=$LAB_FILES_IP .*dport=445" 3 "$mark"
not "vendor TLS outside a window fails" tcp_open scan "$LAB_VENDOR_IP" 443
ok "the vendor attempt is a drop event" gw_wait_event "event=drop rule=flow dir=out .*dst=$LAB_VENDOR_IP .*dport=443" 3 "$mark"
# The attacker already knows the scanner's MAC, so its pings reach the bridge (ARP is filtered).
lab_static_neigh atk "$LAB_SCANNER_IP" "$LAB_SCANNER_MAC"
not "ping scanner -> PACS is dropped" n scan ping -c 1 -W 1 "$LAB_PACS_IP"
ok "the scanner's ping is a drop event" gw_wait_event "event=drop rule=bridge dir=out .*proto=icmp .*dst=$LAB_PACS_IP" 3 "$mark"
not "ping attacker -> scanner is dropped" n atk ping -c 1 -W 1 "$LAB_SCANNER_IP"
ok "the attacker's ping is a drop event" gw_wait_event "event=drop rule=bridge dir=in .*proto=icmp .*dst=$LAB_SCANNER_IP" 3 "$mark"
n scan sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
n atk sysctl -qw net.ipv6.conf.eth0.disable_ipv6=0
scan6=$(n scan ip -6 -o addr show dev eth0 scope link | awk '{print $4}' | cut -d/ -f1)
if [ -n "$scan6" ]; then
  not "IPv6 attacker -> scanner is dropped" n atk ping -6 -c 1 -W 1 "$scan6%eth0"
  ok "IPv6 is a drop event" gw_wait_event "event=drop rule=ipv6 dir=in" 3 "$mark"
fi

# The gateway stays out of band: no clinical frame reached the management network.
ok "nothing leaked to the management network" test "$(lab_mgmt_leak_total)" -eq 0
foreign_after=$(n gw nft list table inet hospital_fw | sed 's/packets [0-9]* bytes [0-9]*//')
ok "the foreign table is untouched" test "$foreign_before" = "$foreign_after"
ok "status answers over the control socket" gw_ctl status
ok "status --json reports the modality" sh -c "'$MODGATECTL' --socket '$GW_SOCK' status --json | grep -q '\"name\":\"pet-ct-1\"'"
gw_stop
gw_done
