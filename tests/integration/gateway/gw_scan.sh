#!/usr/bin/env bash
# An attacker on the scanner's subnet scans it, first through a plain bridge (the control: the
# Windows 7 listeners answer), then through modgated: every one of the 65,535 TCP ports and the
# UDP listeners must read filtered, the attempts on 80, 445, 3389 and 3465 are drop events with
# the right rule and direction, and the kernel counters count what the rate-limited log did not.
#   usage: gw_scan.sh MODGATED MODGATECTL   (root)
set -euo pipefail
MODGATED=$(realpath "$1") MODGATECTL=$(realpath "$2")
. "$(dirname "$0")/gw_lib.sh"

lab_up modgate
gw_policy "$GW_TOP/policy/examples/pet-ct-win7.toml"
# The attacker already knows the scanner's MAC: the scan tests IP filtering, not ARP filtering.
lab_static_neigh atk "$LAB_SCANNER_IP" "$LAB_SCANNER_MAC"
read -r -a fast <<<"$LAB_NMAP_FAST"
tcp_listeners=$(tr ' ' ',' <<<"$LAB_SCANNER_TCP_PORTS")
udp_listeners=$(tr ' ' ',' <<<"$LAB_SCANNER_UDP_PORTS")

# Control: the same hosts through a plain bridge (ports up, no rules, no modgated).
for p in br0 gs0 gh0; do n gw ip link set dev "$p" up; done
lab_wait_until 5 lab_bridge_forwarding gw gs0 gh0
lab_nmap atk "$LAB_DIR/control-tcp.xml" "${fast[@]}" -sS -p- "$LAB_SCANNER_IP"
lab_nmap atk "$LAB_DIR/control-udp.xml" -n -Pn --send-ip -sU -p "$udp_listeners" "$LAB_SCANNER_IP"
open_control=$(lab_scan_summary "$LAB_DIR/control-tcp.xml" --ports open)
for p in $LAB_SCANNER_TCP_PORTS; do
  ok "control: tcp/$p reads open without modgate" grep -qw "$p" <<<"${open_control//,/ }"
done
ok "control: the UDP listeners read open" test "$(lab_scan_summary "$LAB_DIR/control-udp.xml" --proto udp --count open)" -eq 4
for p in gs0 gh0; do n gw ip link set dev "$p" down; done
scanner_log=$(lab_service_log scanner-ports)
ok "control: the scanner's listeners logged the attacker's connections" grep -q "peer=$LAB_ATTACKER_IP:" "$scanner_log"
scanner_mark=$(wc -l <"$scanner_log")

gw_start
mark=$(gw_lines)
lab_nmap atk "$LAB_DIR/tcp.xml" "${fast[@]}" -sS -p- "$LAB_SCANNER_IP" "$LAB_FILES_IP"
filtered=$(lab_scan_summary "$LAB_DIR/tcp.xml" --host "$LAB_SCANNER_IP" --count filtered)
ok "all 65535 TCP ports of the scanner read filtered (got $filtered)" test "$filtered" -eq 65535
ok "canary: the file server (not behind modgate) still reads 445 open in the same scan" \
  test "$(lab_scan_summary "$LAB_DIR/tcp.xml" --host "$LAB_FILES_IP" --ports open)" = "445"
lab_nmap atk "$LAB_DIR/udp.xml" -n -Pn --send-ip -sU --max-retries 1 -p "$udp_listeners" "$LAB_SCANNER_IP"
ok "no UDP listener reads open" test "$(lab_scan_summary "$LAB_DIR/udp.xml" --proto udp --count open)" -eq 0
ok "every UDP listener reads open|filtered (no answer at all)" \
  test "$(lab_scan_summary "$LAB_DIR/udp.xml" --proto udp --count open\|filtered)" -eq 4
ok "the scanner's listeners saw nothing from the attacker through modgate" \
  test -z "$(tail -n +"$((scanner_mark + 1))" "$scanner_log" | grep "peer=$LAB_ATTACKER_IP:" || true)"

# The log is rate-limited (10/s); once the bucket refills, single attempts are each logged.
sleep 2.5  # the limit bucket refills by time; there is no event to wait on
for p in 80 445 3389 3465; do
  m=$(gw_lines)
  not "attacker -> scanner tcp/$p fails" tcp_open atk "$LAB_SCANNER_IP" "$p"
  ok "tcp/$p is a drop event (rule flow, dir in)" \
    gw_wait_event "event=drop rule=flow dir=in .*src=$LAB_ATTACKER_IP dst=$LAB_SCANNER_IP .*dport=$p\\b" 3 "$m"
done
logged=$(gw_count_events "event=drop rule=flow dir=in" "$mark")
counted=$(n gw nft list chain inet modgate drop_flow_in | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
ok "the kernel counted every dropped probe ($counted) though the log was limited ($logged lines)" \
  test "$counted" -ge 65535 -a "$logged" -lt "$counted"
ok "the log was limited to well under a line per probe" test "$logged" -lt 2000
gw_stop
gw_done
