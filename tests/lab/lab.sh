# shellcheck shell=bash
# modgate's network-namespace lab for integration tests and the demo: source this file, then
# `lab_up control|modgate`; `n ROLE cmd...` runs a command on a lab host; an EXIT trap tears
# everything down. Needs root, iproute2, nftables, dcmtk, dnsmasq, openssl, /usr/bin/python3.
# This file: addresses, helpers, topology, up/down; services.sh and checks.sh hold the rest.
#
#                 mgmt  eth0 10.99.0.1/24 (+10.99.0.53 DNS)      management router / SIEM:
#                   |   syslog 514 udp+tcp, SNTP 123, DNS; ip_forward=0, no route to the clinical
#                   |   nets; netdev ingress counters record every clinical frame that arrives
#                   |
#                   | mg0 10.99.0.5/24, default via 10.99.0.1
#      +------------+------------ gw ---------------+
#      |              br0 (no address)              |   control: ports up, no rules (a dumb
#      |    gs0 modality port     gh0 network port  |   switch); modgate: br0, gs0, gh0 DOWN,
#      +------+-----------------------------+-------+   no sysctls, no rules: modgated's job
#             |                             |
#        eth0 |                             | lg0
#   scan  10.20.30.40/24               lan  sw0  clinical access switch (bridge)
#   00:16:3e:12:34:56                       |  la0 ------------- eth0  atk  10.20.30.66/24
#   Windows 7 PET/CT, TTL 128              lr0
#   default via 10.20.30.1                  |
#   tcp 80 135 139 445 3389 3465       eth0 10.20.30.1/24
#   udp 137 138 161 1900                rtr  ip_forward=1, rp_filter=1 (strict)
#   DICOM SCP PETCT1 :104               srv0 10.20.1.1/24 (bridge)       vn0 203.0.113.1/24
#                                        |     |      |      |               |
#                                      sp0   sr0    si0    sf0          eth0 |
#                                        |     |      |      |         vendor 203.0.113.10
#                                      pacs  ris   infra   files        TLS 443 remote.vendor.example
#                                      .5    .6     .53    .45          tcp 22, 8443
#                               PACS_MAIN   RIS   DNS 53   tcp 445
#                                  :104    :104   SNTP 123
#
# Host interfaces carry fixed MACs 02:00:<IPv4 in hex> (the scanner keeps its vendor MAC).
# Namespaces are "${LAB_ID}-ROLE" with LAB_ID=mg$$ (a suffix is added if that is taken).
# Services run as disowned children of the sourcing shell, so a bare `wait` does not block.

LAB_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_PY=/usr/bin/python3                 # Debian's python: pydicom lives there
LAB_ROLES="scan gw mgmt lan atk rtr pacs ris infra files vendor"
LAB_SERVICES_DEFAULT="scanner-ports scanner-scp pacs ris dns ntp files vendor siem mgmt-dns"

# ---- addresses (fixed; exported so child scripts see them) --------------------------------
export LAB_LIB LAB_PY
export LAB_SCANNER_IP=10.20.30.40 LAB_SCANNER_MAC=00:16:3e:12:34:56 LAB_SCANNER_NET=10.20.30.0/24
export LAB_SCANNER_AET=PETCT1 LAB_SCANNER_DICOM_PORT=104
export LAB_SCANNER_TCP_PORTS="80 135 139 445 3389 3465" LAB_SCANNER_UDP_PORTS="137 138 161 1900"
export LAB_ROUTER_IP=10.20.30.1 LAB_ROUTER_MAC=02:00:0a:14:1e:01
export LAB_ROUTER_SRV_IP=10.20.1.1 LAB_ROUTER_SRV_MAC=02:00:0a:14:01:01
export LAB_ROUTER_VENDOR_IP=203.0.113.1 LAB_ROUTER_VENDOR_MAC=02:00:cb:00:71:01
export LAB_ATTACKER_IP=10.20.30.66 LAB_ATTACKER_MAC=02:00:0a:14:1e:42
export LAB_SERVER_NET=10.20.1.0/24
export LAB_PACS_IP=10.20.1.5 LAB_PACS_MAC=02:00:0a:14:01:05 LAB_PACS_AET=PACS_MAIN
export LAB_PACS_PORT=104 LAB_PACS_HTTP_PORT=8042
export LAB_RIS_IP=10.20.1.6 LAB_RIS_MAC=02:00:0a:14:01:06 LAB_RIS_AET=RIS LAB_RIS_PORT=104
export LAB_INFRA_IP=10.20.1.53 LAB_INFRA_MAC=02:00:0a:14:01:35
export LAB_DNS_IP=10.20.1.53 LAB_NTP_IP=10.20.1.53
export LAB_FILES_IP=10.20.1.45 LAB_FILES_MAC=02:00:0a:14:01:2d LAB_FILES_PORT=445
export LAB_VENDOR_IP=203.0.113.10 LAB_VENDOR_MAC=02:00:cb:00:71:0a LAB_VENDOR_NET=203.0.113.0/24
export LAB_VENDOR_NAME=remote.vendor.example LAB_VENDOR_TLS_PORT=443 LAB_VENDOR_TCP_PORTS="22 8443"
export LAB_MGMT_IP=10.99.0.1 LAB_MGMT_MAC=02:00:0a:63:00:01 LAB_MGMT_NET=10.99.0.0/24
export LAB_MGMT_DNS_IP=10.99.0.53 LAB_SIEM_PORT=514
export LAB_GW_MGMT_IP=10.99.0.5 LAB_GW_MGMT_MAC=02:00:0a:63:00:05
export LAB_GW_BRIDGE=br0 LAB_GW_MODALITY_PORT=gs0 LAB_GW_NETWORK_PORT=gh0 LAB_GW_MGMT_IF=mg0
export LAB_CLINICAL_NETS="10.20.0.0/16 203.0.113.0/24"
export LAB_TCP_NODELAY=${LAB_TCP_NODELAY:-1}   # DCMTK servers; 0 leaves Nagle on
# nmap options for full scans, calibrated by tests/integration/lab_control.sh. A -p- scan of a
# host behind a bridge that drops everything takes ~14 s with them (nmap's defaults: over 5
# minutes), and they find exactly the control lab's open ports. The rate is capped as well as
# floored: at --min-rate 20000 alone, two labs scanning at once on 2 cores lost most replies
# and reported open ports as filtered. Scan a canary with known ports in the same run (e.g.
# $LAB_FILES_IP: 445 open, all else closed) to show no replies were lost. --send-ip lets the
# kernel resolve the MAC: with nmap's own ARP an unanswered target counts as down even with
# -Pn, and the scan silently reports no ports at all.
export LAB_NMAP_FAST="-n -Pn --send-ip -T5 --max-retries 1 --min-rate 10000 --max-rate 10000"

# ---- small helpers ----------------------------------------------------------------------

lab_log() { printf 'lab: %s\n' "$*" >&2; }

_lab_now_us() { local t=${EPOCHREALTIME/./}; echo "$((10#$t))"; }

# lab_ns ROLE: the namespace name of a lab host (scan gw mgmt lan atk rtr pacs ris infra files vendor)
lab_ns() {
  local v="LAB_NS_${1^^}"
  if [[ -z "${!v:-}" ]]; then
    lab_log "unknown lab role '$1' (roles: $LAB_ROLES), or the lab is not up"
    return 2
  fi
  printf '%s\n' "${!v}"
}

# n ROLE cmd...: run a command on a lab host.
n() {
  local ns
  ns=$(lab_ns "$1") || return 2
  shift
  ip netns exec "$ns" "$@"
}

# labnet ROLE SUBCOMMAND...: the lab's python clients (dns, sntp, tcp, udp, tls) on a lab host.
labnet() {
  local role=$1
  shift
  n "$role" "$LAB_PY" "$LAB_LIB/labnet.py" "$@"
}

# _lab_us SECONDS: "2" or "0.25" -> microseconds
_lab_us() {
  local int=${1%%.*} frac=""
  [[ $1 == *.* ]] && frac=${1#*.}
  frac="${frac}000000"
  echo $((10#${int:-0} * 1000000 + 10#${frac:0:6}))
}

# lab_wait_until SECONDS cmd...: poll a command (every 20 ms) until it succeeds or time runs out.
lab_wait_until() {
  local deadline=$(($(_lab_now_us) + $(_lab_us "$1")))
  shift
  while true; do
    "$@" && return 0
    (($(_lab_now_us) < deadline)) || return 1
    sleep 0.02
  done
}

# lab_listening ROLE PROTO:PORT...: true if every socket listens (PROTO tcp or udp).
lab_listening() {
  local v="LAB_NS_${1^^}" have want
  [[ -n ${!v:-} ]] || { lab_ns "$1"; return 2; }
  shift
  # one ss per poll, matched in the shell: polling loops must not fork per port
  have=$'\n'$(ss -N "${!v}" -Hlntu 2>/dev/null | awk '{ n = split($5, a, ":"); print $1 ":" a[n] }')$'\n'
  for want in "$@"; do
    [[ $have == *$'\n'"$want"$'\n'* ]] || return 1
  done
}

# lab_wait_listen ROLE PROTO PORT [SECONDS]: wait for a listening socket (default 10 s).
lab_wait_listen() {
  lab_wait_until "${4:-10}" lab_listening "$1" "$2:$3" && return 0
  lab_log "timeout: nothing listens on $2/$3 in $1"
  return 1
}

# lab_wait_log FILE REGEX [SECONDS]: wait until a log line matches (extended regex).
lab_wait_log() {
  lab_wait_until "${3:-10}" grep -qsE -- "$2" "$1"
}

# lab_bridge_forwarding ROLE PORT...: true if every bridge port is in state forwarding. Carrier
# changes reach the bridge through linkwatch, up to a second after `link set up`.
lab_bridge_forwarding() {
  local ns have p
  ns=$(lab_ns "$1") || return 2
  shift
  have=$(bridge -n "$ns" link show 2>/dev/null)
  for p in "$@"; do
    grep -qE "^[0-9]+: $p(@[^:]*)?: .* state forwarding" <<<"$have" || return 1
  done
}

# lab_wait_forwarding [SECONDS]: wait until the bridge ports of the lab's switches forward, and
# gw's and lan's lg0 too once gw's ports are up (modgate mode: after modgated raised them).
lab_wait_forwarding() {
  local t=${1:-5} lanports=(la0 lr0) gwup=0
  if _lab_gw_all_up; then gwup=1; lanports+=(lg0); fi
  if lab_wait_until "$t" lab_bridge_forwarding lan "${lanports[@]}" &&
    lab_wait_until "$t" lab_bridge_forwarding rtr sp0 sr0 si0 sf0 &&
    { ((gwup == 0)) || lab_wait_until "$t" lab_bridge_forwarding gw gs0 gh0; }; then
    return 0
  fi
  lab_log "bridge ports not forwarding after ${t}s"
  return 1
}

_lab_gw_all_up() { [[ $(lab_gw_ports_state) == "br0=UP gs0=UP gh0=UP" ]]; }

# lab_wait_gw_up [SECONDS]: modgate mode: wait until modgated has raised br0, gs0 and gh0 and the
# ports forward (default 10 s).
lab_wait_gw_up() {
  local t=${1:-10}
  lab_wait_until "$t" _lab_gw_all_up || { lab_log "gateway ports still $(lab_gw_ports_state)"; return 1; }
  lab_wait_forwarding "$t"
}

_lab_alive() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat%% *} != Z ]]
}

# shellcheck source=services.sh
. "$LAB_LIB/services.sh"
# shellcheck source=checks.sh
. "$LAB_LIB/checks.sh"

# ---- topology -------------------------------------------------------------------------

_lab_ip() {  # ROLE: run an `ip -batch` from stdin in that namespace
  local ns
  ns=$(lab_ns "$1") || return 2
  ip -n "$ns" -batch - || { lab_log "ip -batch failed in $1 ($ns)"; return 1; }
}

_lab_host() {  # ROLE IP/LEN GATEWAY [EXTRA_IP/LEN]: a single-homed host on eth0
  _lab_ip "$1" <<EOF
link set lo up
addr add $2 dev eth0
${4:+addr add $4 dev eth0}
link set eth0 up
${3:+route add default via $3 dev eth0}
EOF
}

_lab_resolver() {  # ROLE NAMESERVER: per-namespace resolv.conf and hosts (ip netns exec mounts them)
  local ns d
  ns=$(lab_ns "$1") || return 2
  d="/etc/netns/$ns"
  mkdir -p "$d" || return 1
  printf 'nameserver %s\noptions timeout:1 attempts:2\n' "$2" >"$d/resolv.conf"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' >"$d/hosts"
}

_lab_names() {
  local base=${LAB_ID:-mg$$} id r suffix=""
  for suffix in "" a b c d e f g h; do
    id=$base$suffix
    for r in $LAB_ROLES; do
      [[ -e /run/netns/$id-$r ]] && continue 2
    done
    break
  done
  [[ -e /run/netns/$id-gw ]] && { lab_log "no free lab id near $base"; return 1; }
  export LAB_ID=$id
  for r in $LAB_ROLES; do export "LAB_NS_${r^^}=$id-$r"; done
}

_lab_leak_counters() {  # netdev ingress counters in mgmt: any clinical frame that arrives
  local nets=${LAB_CLINICAL_NETS// /, }
  n mgmt nft -f - <<EOF
table netdev modgate_lab_leak {
  counter clinical_ip {}
  counter clinical_arp {}
  counter scanner_mac {}
  counter ipv6 {}
  counter frames {}
  chain ingress {
    type filter hook ingress device "eth0" priority 0; policy accept;
    counter name "frames"
    ether saddr $LAB_SCANNER_MAC counter name "scanner_mac"
    ether type ip ip saddr { $nets } counter name "clinical_ip"
    ether type ip ip daddr { $nets } counter name "clinical_ip"
    ether type arp arp saddr ip { $nets } counter name "clinical_arp"
    ether type arp arp daddr ip { $nets } counter name "clinical_arp"
    ether type ip6 counter name "ipv6"
  }
}
EOF
}

_lab_topology() {
  local mode=$1 r
  for r in $LAB_ROLES; do
    # recorded before it exists: a signal between the two steps must not leak a namespace
    lab_ns "$r" >>"$LAB_DIR/namespaces"
    ip netns add "$(lab_ns "$r")" || { lab_log "cannot create namespace $(lab_ns "$r")"; return 1; }
  done
  # Links are created inside the namespaces (never in the caller's), peers moved at creation.
  _lab_ip gw <<EOF || return 1
link add gs0 type veth peer name eth0 address $LAB_SCANNER_MAC netns $LAB_NS_SCAN
link add gh0 type veth peer name lg0 netns $LAB_NS_LAN
link add mg0 address $LAB_GW_MGMT_MAC type veth peer name eth0 address $LAB_MGMT_MAC netns $LAB_NS_MGMT
link add br0 type bridge
link set gs0 master br0
link set gh0 master br0
link set lo up
addr add $LAB_GW_MGMT_IP/24 dev mg0
link set mg0 up
route add default via $LAB_MGMT_IP dev mg0
EOF
  _lab_ip lan <<EOF || return 1
link add la0 type veth peer name eth0 address $LAB_ATTACKER_MAC netns $LAB_NS_ATK
link add lr0 type veth peer name eth0 address $LAB_ROUTER_MAC netns $LAB_NS_RTR
link add sw0 type bridge
link set lg0 master sw0
link set la0 master sw0
link set lr0 master sw0
link set lo up
link set lg0 up
link set la0 up
link set lr0 up
link set sw0 up
EOF
  _lab_ip rtr <<EOF || return 1
link add sp0 type veth peer name eth0 address $LAB_PACS_MAC netns $LAB_NS_PACS
link add sr0 type veth peer name eth0 address $LAB_RIS_MAC netns $LAB_NS_RIS
link add si0 type veth peer name eth0 address $LAB_INFRA_MAC netns $LAB_NS_INFRA
link add sf0 type veth peer name eth0 address $LAB_FILES_MAC netns $LAB_NS_FILES
link add vn0 address $LAB_ROUTER_VENDOR_MAC type veth peer name eth0 address $LAB_VENDOR_MAC netns $LAB_NS_VENDOR
link add srv0 address $LAB_ROUTER_SRV_MAC type bridge
link set sp0 master srv0
link set sr0 master srv0
link set si0 master srv0
link set sf0 master srv0
link set lo up
addr add $LAB_ROUTER_IP/24 dev eth0
addr add $LAB_ROUTER_SRV_IP/24 dev srv0
addr add $LAB_ROUTER_VENDOR_IP/24 dev vn0
link set eth0 up
link set sp0 up
link set sr0 up
link set si0 up
link set sf0 up
link set srv0 up
link set vn0 up
EOF
  n rtr sysctl -q -w net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=1 \
    net.ipv4.conf.default.rp_filter=1 net.ipv4.conf.eth0.rp_filter=1 \
    net.ipv4.conf.srv0.rp_filter=1 net.ipv4.conf.vn0.rp_filter=1 || return 1
  # The hosts are independent of each other: configure them in parallel.
  local pids=() p rc=0
  _lab_host scan "$LAB_SCANNER_IP/24" "$LAB_ROUTER_IP" & pids+=($!)
  _lab_host atk "$LAB_ATTACKER_IP/24" "$LAB_ROUTER_IP" & pids+=($!)
  _lab_host mgmt "$LAB_MGMT_IP/24" "" "$LAB_MGMT_DNS_IP/24" & pids+=($!)
  _lab_host pacs "$LAB_PACS_IP/24" "$LAB_ROUTER_SRV_IP" & pids+=($!)
  _lab_host ris "$LAB_RIS_IP/24" "$LAB_ROUTER_SRV_IP" & pids+=($!)
  _lab_host infra "$LAB_INFRA_IP/24" "$LAB_ROUTER_SRV_IP" & pids+=($!)
  _lab_host files "$LAB_FILES_IP/24" "$LAB_ROUTER_SRV_IP" & pids+=($!)
  _lab_host vendor "$LAB_VENDOR_IP/24" "$LAB_ROUTER_VENDOR_IP" & pids+=($!)
  # Windows 7's initial TTL, so a scan of the lab looks like a scan of the real console.
  n scan sysctl -q -w net.ipv4.ip_default_ttl=128 & pids+=($!)
  # The management router routes nothing: no forwarding, no route to the clinical nets.
  n mgmt sysctl -q -w net.ipv4.ip_forward=0 & pids+=($!)
  for p in "${pids[@]}"; do wait "$p" || rc=1; done
  ((rc == 0)) || return 1
  _lab_leak_counters || return 1
  for r in scan atk lan rtr pacs ris infra files vendor; do _lab_resolver "$r" "$LAB_DNS_IP" || return 1; done
  for r in gw mgmt; do _lab_resolver "$r" "$LAB_MGMT_DNS_IP" || return 1; done
  if [[ $mode == control ]]; then
    # A dumb switch: no address, no IPv6 of its own, ports up, no rules.
    n gw sysctl -q -w net.ipv6.conf.br0.disable_ipv6=1 net.ipv6.conf.gs0.disable_ipv6=1 \
      net.ipv6.conf.gh0.disable_ipv6=1 || return 1
    _lab_ip gw <<EOF || return 1
link set br0 up
link set gs0 up
link set gh0 up
EOF
  fi
}

# ---- up / down ------------------------------------------------------------------------

# lab_up [control|modgate]: build the lab and start $LAB_SERVICES (default: all). Installs an
# EXIT trap that runs lab_down after any EXIT trap set before (LAB_NO_TRAP=1: none).
lab_up() {
  local mode=${1:-control} t0 s
  [[ $mode == control || $mode == modgate ]] || { lab_log "usage: lab_up [control|modgate]"; return 2; }
  [[ $(id -u) == 0 ]] || { lab_log "the lab needs root"; return 1; }
  if [[ -n ${LAB_DIR:-} && -e ${LAB_DIR}/namespaces ]]; then
    lab_log "a lab is already up ($LAB_ID); lab_down first"
    return 1
  fi
  t0=$(_lab_now_us)
  _lab_names || return 1
  export LAB_MODE=$mode
  LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/modgate-lab.$LAB_ID.XXXXXX") || return 1
  export LAB_DIR
  export LAB_SCANNER_STORE="$LAB_DIR/scanner/store" LAB_TLS_CA="$LAB_DIR/tls/ca.pem"
  mkdir -p "$LAB_DIR/log" "$LAB_DIR/run" "$LAB_DIR/cap" || return 1
  : >"$LAB_DIR/namespaces"
  # owner pid and its start time: lab_reap_stale removes labs whose owner died (SIGKILL)
  echo "$$ $(_lab_starttime $$)" >"$LAB_DIR/owner"
  [[ ${LAB_NO_TRAP:-0} == 1 ]] || _lab_install_trap

  local services=${LAB_SERVICES-$LAB_SERVICES_DEFAULT} material=() p rc=0
  # Files the services need are made while the topology is built, then every service starts
  # at once and one loop waits for all of them.
  if [[ " $services " == *" vendor "* ]]; then _lab_tls_material & material+=($!); fi
  if [[ " $services " == *" ris "* ]]; then _lab_worklist & material+=($!); fi
  _lab_topology "$mode" || { lab_log "topology set-up failed"; rc=1; }
  for p in "${material[@]+"${material[@]}"}"; do wait "$p" || rc=1; done
  ((rc == 0)) || { lab_down; return 1; }
  for s in $services; do
    "_lab_svc_${s//-/_}" || { lab_log "cannot start $s"; lab_down; return 1; }
  done
  # shellcheck disable=SC2086
  lab_wait_ready 30 $services || { lab_down; return 1; }
  lab_wait_forwarding 5 || { lab_down; return 1; }
  local dt=$(($(_lab_now_us) - t0))
  printf -v LAB_UP_SECONDS '%d.%03d' $((dt / 1000000)) $((dt / 1000 % 1000))
  export LAB_UP_SECONDS
  lab_log "up: $LAB_ID mode=$mode in ${LAB_UP_SECONDS}s, logs in $LAB_DIR/log"
}

_lab_install_trap() {
  local prev="" words=()
  if [[ -n $(trap -p EXIT) ]]; then
    eval "words=($(trap -p EXIT))"  # trap -- 'COMMAND' EXIT
    prev=${words[2]}
  fi
  [[ $prev == *_lab_on_exit* ]] && return 0
  # shellcheck disable=SC2064
  trap "_lab_exit_status=\$?; ${prev:+$prev;} _lab_on_exit" EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP
}

_lab_on_exit() {
  local rc=${_lab_exit_status:-0}
  if ((rc != 0)) && [[ -n ${LAB_DIR:-} && -d ${LAB_DIR}/log && ${LAB_QUIET_FAIL:-0} != 1 ]]; then
    lab_log "exit status $rc: last lines of the service logs ($LAB_DIR/log):"
    local f
    for f in "$LAB_DIR"/log/*.log; do
      [[ -s $f ]] || continue
      echo "  --- ${f##*/}" >&2
      tail -n 8 "$f" | sed 's/^/    /' >&2
    done
  fi
  lab_down
}

# lab_down: stop every process in the lab's namespaces, delete them and the run directory
# (kept with LAB_KEEP=1). Idempotent; safe after a partial set-up.
lab_down() {
  local - ns pids=() p deadline
  set +e
  [[ -n ${LAB_DIR:-} ]] || return 0
  local nslist=()
  if [[ -f $LAB_DIR/namespaces ]]; then
    mapfile -t nslist <"$LAB_DIR/namespaces"
  elif [[ -n ${LAB_ID:-} ]]; then
    # The run directory is gone (deleted from outside): the namespaces still carry the lab's id.
    mapfile -t nslist < <(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^${LAB_ID}-[a-z]+$")
  fi
  for ns in "${nslist[@]}"; do
    [[ -e /run/netns/$ns ]] || continue
    for p in $(ip netns pids "$ns" 2>/dev/null); do
      [[ $p == "$$" || $p == "$BASHPID" ]] && continue
      pids+=("$p")
    done
  done
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null
    deadline=$(($(_lab_now_us) + 3000000))
    while (($(_lab_now_us) < deadline)); do
      local alive=0
      for p in "${pids[@]}"; do _lab_alive "$p" && { alive=1; break; }; done
      ((alive)) || break
      sleep 0.02
    done
    for p in "${pids[@]}"; do _lab_alive "$p" && kill -KILL "$p" 2>/dev/null; done
  fi
  for ns in "${nslist[@]}"; do
    [[ -e /run/netns/$ns ]] && ip netns del "$ns"
    [[ -n $ns && -d /etc/netns/$ns ]] && rm -rf "/etc/netns/$ns"
  done
  rmdir /etc/netns 2>/dev/null
  if [[ ${LAB_KEEP:-0} == 1 && -d $LAB_DIR ]]; then
    rm -f "$LAB_DIR/namespaces"
    lab_log "kept $LAB_DIR"
  else
    rm -rf "$LAB_DIR"
  fi
  unset LAB_DIR
  return 0
}

_lab_starttime() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  echo "${20}"  # field 22 of /proc/PID/stat; the first two fields were cut off above
}

# lab_reap_stale: tear down labs left behind by a shell that was killed (SIGKILL skips the EXIT
# trap). Only run directories whose owner process is gone are touched.
lab_reap_stale() {
  local d pid start
  for d in "${TMPDIR:-/tmp}"/modgate-lab.*/; do
    [[ -f $d/owner ]] || continue
    read -r pid start <"$d/owner"
    [[ -n $pid && $(_lab_starttime "$pid") == "$start" ]] && continue
    lab_log "reaping stale lab ${d%/}"
    (LAB_DIR=${d%/} LAB_KEEP=0 lab_down)
  done
}
