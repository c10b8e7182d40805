# shellcheck shell=bash
# What tests assert with: the gateway's port state, the management network's leak counters,
# packet captures, nmap runs and their summaries, and a simulated quarantine to calibrate scans.
# Sourced by lab.sh.

# lab_gw_ports_state: "br0=UP gs0=UP gh0=UP" (admin state as ip reports it)
lab_gw_ports_state() {
  local out="" d
  for d in br0 gs0 gh0; do
    if ip -n "$LAB_NS_GW" link show "$d" 2>/dev/null | grep -q '<[^>]*\bUP\b'; then
      out+="$d=UP "
    else
      out+="$d=DOWN "
    fi
  done
  echo "${out% }"
}

# lab_mgmt_leaks: counters of frames that reached the management router's port, e.g.
# "clinical_ip=0 clinical_arp=0 scanner_mac=0 ipv6=3 frames=12"
lab_mgmt_leaks() {
  n mgmt nft list counters table netdev modgate_lab_leak |
    awk '$1 == "counter" { name = $2 } $1 == "packets" { printf "%s%s=%s", sep, name, $2; sep = " " } END { print "" }'
}

# lab_mgmt_leak_total: clinical frames (clinical source/destination IP, clinical ARP, the
# scanner's MAC) seen on the management network since lab_up or lab_mgmt_reset; 0 = no leak.
lab_mgmt_leak_total() {
  lab_mgmt_leaks | tr ' ' '\n' | awk -F= '$1 ~ /^(clinical_ip|clinical_arp|scanner_mac)$/ { s += $2 } END { print s + 0 }'
}

lab_mgmt_reset() { n mgmt nft reset counters table netdev modgate_lab_leak >/dev/null; }

# lab_capture_start NAME ROLE IFACE [tcpdump filter...]: record a pcap until lab_capture_stop.
lab_capture_start() {
  local name=$1 role=$2 ifc=$3
  shift 3
  _lab_spawn "cap-$name" "$role" "" tcpdump -Z root -U --immediate-mode -n -i "$ifc" -w "$LAB_DIR/cap/$name.pcap" "$@" || return 1
  lab_wait_log "$LAB_DIR/log/cap-$name.log" "listening on" 10 || { lab_log "tcpdump $name did not start"; return 1; }
}

# lab_capture_stop NAME: stop the capture; prints the pcap path.
lab_capture_stop() {
  lab_stop "cap-$1"
  printf '%s\n' "$LAB_DIR/cap/$1.pcap"
}

# lab_capture_count NAME [filter...]: packets in a stopped capture (optionally filtered).
lab_capture_count() {
  local name=$1
  shift
  tcpdump -n -r "$LAB_DIR/cap/$name.pcap" "$@" 2>/dev/null | wc -l
}

# lab_static_neigh ROLE IP MAC [DEV]: a permanent neighbour entry (an attacker that already
# knows the scanner's MAC gets its frames to the bridge even when ARP is filtered).
lab_static_neigh() {
  n "$1" ip neigh replace "$2" lladdr "$3" dev "${4:-eth0}" nud permanent
}

# lab_nmap ROLE XML nmap-args...: run nmap on a lab host, XML to XML, text to XML.txt.
lab_nmap() {
  local role=$1 xml=$2
  shift 2
  n "$role" nmap -oX "$xml" "$@" >"$xml.txt" 2>&1 || { lab_log "nmap failed:"; cat "$xml.txt" >&2; return 1; }
}

# lab_scan_summary XML [--host IP] [--proto tcp|udp] [--ports STATE | --count STATE]: see labnet.py.
lab_scan_summary() { "$LAB_PY" "$LAB_LIB/labnet.py" scan-summary "$@"; }

# lab_sim_quarantine on|off (control mode only): a stand-in for modgate's fail-closed bridge
# (forward policy drop; only ARP between scanner and router), to calibrate scans without the
# daemon. Never used in modgate mode: the gateway namespace then belongs to modgated.
lab_sim_quarantine() {
  [[ $LAB_MODE == control ]] || { lab_log "lab_sim_quarantine is for control mode only"; return 2; }
  if [[ $1 == off ]]; then
    n gw nft delete table bridge modgate_lab_sim 2>/dev/null || true
    return 0
  fi
  n gw nft -f - <<EOF
table bridge modgate_lab_sim {
  chain forward {
    type filter hook forward priority 0; policy drop;
    iifname "gs0" arp saddr ip $LAB_SCANNER_IP arp daddr ip $LAB_ROUTER_IP accept
    iifname "gh0" arp saddr ip $LAB_ROUTER_IP arp daddr ip $LAB_SCANNER_IP accept
    counter
  }
}
EOF
}
