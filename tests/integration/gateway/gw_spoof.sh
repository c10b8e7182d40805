#!/usr/bin/env bash
# Anti-spoofing: from the modality port only the listed modality's MAC with its IP gets in; the
# modality's address never arrives from the network side. Each attempt is a drop event.
#   usage: gw_spoof.sh MODGATED MODGATECTL   (root)
set -euo pipefail
MODGATED=$(realpath "$1") MODGATECTL=$(realpath "$2")
. "$(dirname "$0")/gw_lib.sh"

lab_up modgate
gw_policy "$GW_TOP/policy/examples/pet-ct-win7.toml"
gw_start
ntp_log=$(lab_service_log ntp)

# A legitimate datagram first, so the negative checks below are not vacuous.
ok "the scanner's own NTP request passes" labnet scan sntp --timeout 3 "$LAB_NTP_IP"

mark=$(gw_lines) ntp_mark=$(wc -l <"$ntp_log")
labnet scan spoof --src 10.20.30.99 --dst "$LAB_NTP_IP" --sport 123 --dport 123 --send spoofed-ip
ok "another IP from the modality port is a spoof drop" \
  gw_wait_event "event=drop rule=spoof dir=out in=gs0 proto=udp src=10.20.30.99 dst=$LAB_NTP_IP" 3 "$mark"

# The scanner's IP with another MAC: change the scanner's MAC for one datagram.
n scan ip link set dev eth0 address 02:66:66:66:66:66
n scan ip neigh replace "$LAB_ROUTER_IP" lladdr "$LAB_ROUTER_MAC" dev eth0 nud permanent
labnet scan spoof --src "$LAB_SCANNER_IP" --dst "$LAB_NTP_IP" --sport 123 --dport 123 --send spoofed-mac
ok "the modality's IP with another MAC is a spoof drop" \
  gw_wait_event "event=drop rule=spoof dir=out in=gs0 proto=udp src=$LAB_SCANNER_IP dst=$LAB_NTP_IP" 3 "$mark"
n scan ip link set dev eth0 address "$LAB_SCANNER_MAC"

# The modality's address arriving from the hospital side (an attacker impersonating it).
lab_static_neigh atk "$LAB_SCANNER_IP" "$LAB_SCANNER_MAC"
labnet atk spoof --src "$LAB_SCANNER_IP" --dst "$LAB_SCANNER_IP" --sport 123 --dport 137 --send loop
ok "the modality's address from the network port is a spoof drop" \
  gw_wait_event "event=drop rule=spoof dir=in in=gh0 proto=udp src=$LAB_SCANNER_IP" 3 "$mark"
ok "no spoofed datagram reached the NTP server" \
  test -z "$(tail -n +"$((ntp_mark + 1))" "$ntp_log" | grep -E 'event=sntp_bad|peer=10\.20\.30\.99' || true)"
ok "the scanner still works after the spoof attempts" labnet scan sntp --timeout 3 "$LAB_NTP_IP"
gw_stop
gw_done
