#!/usr/bin/env bash
# The appliance image under qemu: one boot shared by every VM check, destructive phases last.
# An attacker probes the modality's listeners from before the first instruction of the boot to
# the end; not one probe may be answered. An observer inside the guest but outside modgated (nft
# monitor and ip monitor on a second serial port, stamped with the host's clock) and captures on
# the lab side show that the bridge ports came up only after modgate's ruleset was in the kernel.
#
#   ns mgmt: dnsmasq 10.99.0.1 ──tap── eth0 (management, DHCP, SSH)  ┐
#   ns mod:  PET/CT 10.20.30.40 ──tap── eth1 (modality port)          ├ VM: br0 = eth1 + eth2
#   ns net:  PACS 10.20.30.5,   ──tap── eth2 (network port)           ┘     modgated, modgate-boot
#            attacker 10.20.30.66
#
# usage: boot_test.sh IMAGE DEB SSH_KEY
#   IMAGE   raw image from image/build.sh --policy tests/image/lab-policy.toml
#           --overlay tests/image/overlay --authorized-keys SSH_KEY.pub --deb DEB
#   DEB     the package in the image (repacked here with a higher version for the upgrade phase)
# Environment: BT_KEEP=1 keeps the work directory; BT_BOOT_TIMEOUT (s, default 600).
set -euo pipefail
[ $# -eq 3 ] || { sed -n '2,/^set -euo/p' "$0" | sed '$d' >&2; exit 2; }
image=$(realpath "$1") deb=$(realpath "$2") key=$(realpath "$3")
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "boot_test: run as root" >&2; exit 1; }

p=$$
dir=$(mktemp -d /tmp/modgate-boot.XXXXXX)
pass=0 fail=0
pids=()
guest=10.99.0.5
modality=10.20.30.40 modality_mac=02:00:0a:14:1e:28 pacs=10.20.30.5 attacker=10.20.30.66

ok() {
  local what=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok   $what"; else fail=$((fail + 1)); echo "FAIL $what"; fi
}
not() {
  local what=$1; shift
  if "$@"; then fail=$((fail + 1)); echo "FAIL $what"; else pass=$((pass + 1)); echo "ok   $what"; fi
}
say() { echo "boot_test: $*"; }
now() { date +%s.%N; }
n() { local ns=$1; shift; ip netns exec "bt$p-$ns" "$@"; }
ssh_opts=(-i "$key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
          -o ConnectTimeout=5 -o BatchMode=yes -o ServerAliveInterval=5 -o ServerAliveCountMax=3)
g() { n mgmt ssh "${ssh_opts[@]}" "root@$guest" "$@"; }
to_guest() { n mgmt scp "${ssh_opts[@]}" "$1" "root@$guest:$2" >/dev/null; }
# bg NS COMMAND...: a lab process in a namespace; `ip netns exec` execs it, so the pid is its own.
bg() { local ns=$1; shift; ip netns exec "bt$p-$ns" "$@" & pids+=($!); }

cleanup() {
  local rc=$?
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$dir/qemu.pid" ] && kill "$(cat "$dir/qemu.pid")" 2>/dev/null || true
  sleep 0.5
  for ns in mgmt mod net; do ip netns del "bt$p-$ns" 2>/dev/null || true; done
  if [ "${BT_KEEP:-0}" = 1 ] || [ $rc -ne 0 ] || [ $fail -ne 0 ]; then
    say "work directory kept: $dir (console.log, observer.log, captures)"
  else
    rm -rf "$dir"
  fi
}
trap cleanup EXIT

# qmp COMMAND: one QMP command to the paused or running VM.
qmp() {
  /usr/bin/python3 - "$dir/qmp.sock" "$1" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); f = s.makefile("rw")
f.readline()
for cmd in ("qmp_capabilities", sys.argv[2]):
    f.write(json.dumps({"execute": cmd}) + "\n"); f.flush()
    while "return" not in (r := json.loads(f.readline())) and "error" not in r:
        pass
    if "error" in r: sys.exit(r["error"]["desc"])
PY
}

# ---- the lab, then the VM, paused until the probes and captures run -------------------------
start_vm() {
  qemu-img create -q -f qcow2 -b "$image" -F raw "$dir/disk.qcow2"
  local accel=tcg cpu=max
  if [ -w /dev/kvm ] && grep -qE 'vmx|svm' /proc/cpuinfo; then accel=kvm cpu=host; fi
  say "qemu with $accel"
  qemu-system-x86_64 -machine "pc,accel=$accel" -cpu "$cpu" -smp 2 -m 1024 -display none -S \
    -drive "file=$dir/disk.qcow2,if=virtio,format=qcow2" \
    -netdev "tap,id=n0,ifname=bt${p}t0,script=no,downscript=no" -device "virtio-net-pci,netdev=n0,mac=52:54:00:00:00:10,addr=0x3" \
    -netdev "tap,id=n1,ifname=bt${p}t1,script=no,downscript=no" -device "virtio-net-pci,netdev=n1,mac=52:54:00:00:00:11,addr=0x4" \
    -netdev "tap,id=n2,ifname=bt${p}t2,script=no,downscript=no" -device "virtio-net-pci,netdev=n2,mac=52:54:00:00:00:12,addr=0x5" \
    -serial "file:$dir/console.log" -serial "unix:$dir/observer.sock,server=on,wait=off" \
    -qmp "unix:$dir/qmp.sock,server=on,wait=off" -pidfile "$dir/qemu.pid" -daemonize
}

# wire NS TAP ADDR [MAC]: moves qemu's tap into the namespace as the lab host's interface.
wire() {
  local ns=$1 tap=$2 addr=$3 mac=${4:-}
  ip link set "$tap" netns "bt$p-$ns"
  [ -z "$mac" ] || n "$ns" ip link set "$tap" address "$mac"
  n "$ns" ip addr add "$addr" dev "$tap"
  n "$ns" ip link set "$tap" up
  n "$ns" ip link set lo up
}

setup_lab() {
  for ns in mgmt mod net; do ip netns add "bt$p-$ns"; done
  start_vm
  wire mgmt "bt${p}t0" 10.99.0.1/24
  wire mod "bt${p}t1" "$modality/24" "$modality_mac"
  wire net "bt${p}t2" "$pacs/24"
  n net ip addr add "$attacker/24" dev "bt${p}t2"
  # The attacker knows the modality's MAC (it sniffed or poisoned): no ARP needed to reach it.
  n net ip neigh replace "$modality" lladdr "$modality_mac" dev "bt${p}t2" nud permanent
  bg mgmt dnsmasq --no-daemon --conf-file=/dev/null --port=0 --interface="bt${p}t0" --bind-interfaces \
     --dhcp-range=10.99.0.5,10.99.0.5,255.255.255.0,1h --dhcp-host=52:54:00:00:00:10,$guest \
     --dhcp-leasefile="$dir/leases" --log-facility="$dir/dnsmasq.log"
  # The modality's listeners: what a worm on the clinical network looks for.
  for port in 104 445 3389; do bg mod socat "TCP-LISTEN:$port,bind=$modality,fork,reuseaddr" EXEC:/bin/true; done
  mkdir -p "$dir/pacs" "$dir/send"
  bg net storescp -dhl --fork -aet PACS -od "$dir/pacs" 11112
  # Frames the VM sends out of its bridge ports, with the host's clock.
  bg mod tcpdump -Q in -i "bt${p}t1" -n -U -w "$dir/modality-side.pcap" 2>/dev/null
  bg net tcpdump -Q in -i "bt${p}t2" -n -U -w "$dir/network-side.pcap" 2>/dev/null
  /usr/bin/python3 "$here/observer.py" "$dir/observer.sock" "$dir/observer.log" & pids+=($!)
  # The modality keeps asking for the PACS's address: a bridged frame as soon as the ports are up.
  bg mod ping -n -q -i 0.5 "$pacs" >/dev/null 2>&1
  /usr/bin/python3 "$top/tests/lab/make_dicom.py" -q -o "$dir/send" -n 3 -m mix -s 256k
  sleep 1
}

start_probes() {
  ok "the prober sees an answer where there is one (a closed port on its own host)" \
    n net /usr/bin/python3 "$here/prober.py" --self-test --src "$attacker" --dst "$pacs" --ports 9
  bg net /usr/bin/python3 "$here/prober.py" --src "$attacker" --dst "$modality" --out "$dir/probes.json"
  prober=${pids[-1]}
}

wait_ssh() {
  local deadline=$(( $(date +%s) + ${BT_BOOT_TIMEOUT:-600} ))
  until g true 2>/dev/null; do
    [ "$(date +%s)" -lt "$deadline" ] || { say "no SSH after ${BT_BOOT_TIMEOUT:-600} s"; tail -40 "$dir/console.log"; return 1; }
    sleep 2
  done
}

# ---- checks ----------------------------------------------------------------------------------
# boot_order N: in the Nth boot, the observer saw modgate's inet table go in before either data
# port came up, and the lab saw no frame from the VM's data ports before that moment.
boot_order() {
  local n=$1 start ruleset up first
  start=$(awk -v n="$n" '/observer: start/ { if (++c == n) { print $1; exit } }' "$dir/observer.log")
  [ -n "$start" ] || { echo "  boot $n: the observer never started"; return 1; }
  ruleset=$(awk -v t="$start" '$1 >= t && /table inet modgate/ { print $1; exit }' "$dir/observer.log")
  up=$(awk -v t="$start" '$1 >= t && / eth[12]: <[^>]*[<,]UP[,>]/ { print $1; exit }' "$dir/observer.log")
  first=$( { tcpdump -r "$dir/modality-side.pcap" -tt -n 2>/dev/null; tcpdump -r "$dir/network-side.pcap" -tt -n 2>/dev/null; } |
           awk -v t="$start" '$1 >= t { print $1 }' | sort -n | head -1)
  echo "  boot $n (host clock): observer up $start, ruleset in ${ruleset:-never}, first port up ${up:-never}, first frame out of the bridge ${first:-none}"
  [ -n "$ruleset" ] && [ -n "$up" ] && [ -n "$first" ] || return 1
  awk -v r="$ruleset" -v u="$up" -v f="$first" 'BEGIN { exit !(r <= u && r < f) }'
}

main_pid() { g systemctl show -p MainPID --value modgated; }
# restarted_since PID: modgated is active again under another main process.
restarted_since() {
  local now
  now=$(main_pid)
  [ "$(g systemctl is-active modgated)" = active ] && [ "$now" != 0 ] && [ "$now" != "$1" ]
}
proc_field() { g "awk '/^$2:/ { print \$2 }' /proc/$1/status"; }

check_processes() {
  local parent child
  parent=$(main_pid)
  child=$(g pgrep -P "$parent" -x modgated | head -1)
  echo "  modgated $parent: user $(g ps -o user= -p "$parent"), CapEff $(proc_field "$parent" CapEff)"
  echo "  proxy    $child: user $(g ps -o user= -p "$child"), CapEff $(proc_field "$child" CapEff), Seccomp $(proc_field "$child" Seccomp)"
  ok "modgated runs as user modgate" test "$(g ps -o user= -p "$parent")" = modgate
  # NET_ADMIN NET_BIND_SERVICE NET_RAW SETGID SETPCAP SETUID SYS_CHROOT, as the unit grants.
  ok "... with exactly the unit's capabilities" test "$(proc_field "$parent" CapEff)" = 00000000000435c0
  ok "its proxy process runs as modgate-proxy" test "$(g ps -o user= -p "$child")" = modgate-proxy
  ok "... with only NET_BIND_SERVICE and NET_RAW" test "$(proc_field "$child" CapEff)" = 0000000000002400
  ok "... under a seccomp filter with no_new_privs" test "$(proc_field "$child" Seccomp) $(proc_field "$child" NoNewPrivs)" = "2 1"
  echo "  $(g systemd-analyze security modgated.service --no-pager | tail -1)"
}

# A C-STORE of the test files, compared element by element. Right after the ports come back
# the modality's neighbour entry for the PACS may still be failed ("No route to host"): it
# tries three times, as a modality's send queue would.
dicom_store() {
  local try
  for try in 1 2 3; do
    rm -rf "${dir:?}/pacs/"*
    if n mod env TCP_NODELAY=1 storescu -aet PETCT1 -aec PACS "$pacs" 11112 "$dir/send"/*.dcm; then
      [ "$try" -eq 1 ] || echo "  (the store went through at attempt $try)"
      /usr/bin/python3 "$top/tests/lab/dcmcompare.py" "$dir/send" "$dir/pacs" >/dev/null
      return
    fi
    sleep 2
  done
  return 1
}

# The host's view of modgate's state that networkd could disturb: rules, routes, links, tables.
guest_net_state() {
  g 'ip rule; ip route show table all | grep -v "^local\|^broadcast\|^multicast"; ip -br link
     nft list ruleset | sed -E "s/ # handle [0-9]+//; s/counter packets [0-9]+ bytes [0-9]+/counter/"'
}

requires_devices() {
  local r d
  r=$(g systemctl show -p Requires --value modgated)
  for d in br0 eth1 eth2; do [[ $r == *"sys-subsystem-net-devices-$d.device"* ]] || return 1; done
}

# (grep reads to the end: with -q, ssh could die of SIGPIPE on a long journal and fail the pipeline.)
journal_has() { g journalctl -b -u "$1" -o cat | grep -- "$2" >/dev/null; }

ports_down() { test "$(g ip -br link show eth1 | awk '{print $2}') $(g ip -br link show eth2 | awk '{print $2}')" = "DOWN DOWN"; }

# ---- phases, the destructive ones last -------------------------------------------------------
phase_boot() {
  ok "the VM answers on its management address" wait_ssh
  say "booted in $(( $(date +%s) - boot_started )) s"
  ok "modgated is active under the shipped unit" test "$(g systemctl is-active modgated)" = active
  ok "the generator made it require the devices its policy names" requires_devices
  ok "the data ports came up only after the ruleset was in the kernel (first boot)" boot_order 1
  ok "the boot-time ruleset was default deny (nothing applied before)" journal_has modgate-boot "event=boot_ruleset.*cause=default_deny"
  ok "modules-load.d loaded br_netfilter and sysctl.d turned its hooks off" \
    test "$(g cat /proc/sys/net/bridge/bridge-nf-call-iptables)" = 0
  check_processes
  ok "journald holds modgated's events" journal_has modgated "event=ports_up"
}

phase_dicom() {
  ok "a C-STORE from the modality reaches the PACS through the VM, files identical" dicom_store
}

phase_networkd_restart() {
  guest_net_state >"$dir/net-before"
  g systemctl restart systemd-networkd
  sleep 3
  guest_net_state >"$dir/net-after"
  ok "restarting systemd-networkd changes none of modgate's rules, routes, links or tables" \
    diff -u "$dir/net-before" "$dir/net-after"
}

phase_reload() {
  local hash
  hash=$(g modgatectl status --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["policy"]["hash"])')
  g 'cp /etc/modgate/policy.toml /root/policy.good && echo "[[allow]]" >> /etc/modgate/policy.toml'
  not "systemctl reload with an invalid policy fails" g systemctl reload modgated
  ok "... and the running policy stays in force" test "$(g modgatectl status --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["policy"]["hash"])')" = "$hash"
  g 'cp /root/policy.good /etc/modgate/policy.toml'
  ok "... a valid one reloads" g systemctl reload modgated
}

phase_stop() {
  g systemctl stop modgated
  ok "systemctl stop modgated takes the data ports down" ports_down
  g systemctl restart nftables
  ok "Debian's nftables.service flushed the ruleset (modgate's tables are gone)" \
    test "$(g nft list tables | grep -c modgate)" = 0
  ok "... and still nothing is forwarded: the ports stay down" ports_down
  g systemctl start modgated
  ok "modgated starts again and puts its ruleset back" test "$(g nft list tables | grep -c modgate)" = 3
  ok "... service is back" dicom_store
}

phase_kill() {
  local before restarts
  before=$(main_pid)
  restarts=$(g systemctl show -p NRestarts --value modgated)
  g systemctl kill -s KILL modgated
  local deadline=$(( $(date +%s) + 60 ))
  until [ "$(g systemctl is-active modgated)" = active ] && [ "$(main_pid)" != "$before" ] && [ "$(main_pid)" != 0 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || break
    sleep 1
  done
  ok "after SIGKILL systemd restarted modgated" test "$(g systemctl show -p NRestarts --value modgated)" -gt "$restarts"
  ok "... and it serves again" dicom_store
}

phase_upgrade() {
  local up="$dir/upgrade" version
  rm -rf "$up"
  dpkg-deb -R "$deb" "$up"
  version="$(dpkg-deb -f "$deb" Version)+boottest1"
  sed -i "s/^Version: .*/Version: $version/" "$up/DEBIAN/control"
  dpkg-deb -b -Zgzip "$up" "$dir/modgate-upgrade.deb" >/dev/null
  to_guest "$dir/modgate-upgrade.deb" /root/
  local before
  before=$(main_pid)
  ok "upgrading to $version with dpkg succeeds" g dpkg -i /root/modgate-upgrade.deb
  ok "... the new version is installed" test "$(g dpkg-query -W -f '\${Version}' modgate)" = "$version"
  ok "... and modgated was restarted by it" restarted_since "$before"
  if dicom_store; then ok "... and serves" true; else ok "... and serves" false; show_modgated; fi
}

# What systemd and the journal say about modgated, after a failed check.
show_modgated() {
  g systemctl status modgated --no-pager -n 0 || true
  g journalctl -b -u modgated -o cat -n 25 --no-pager || true
}

phase_reboot() {
  local boot_id
  boot_id=$(g cat /proc/sys/kernel/random/boot_id)
  g systemctl reboot || true
  sleep 10
  boot_started=$(date +%s)
  ok "the VM is back after a reboot" wait_ssh
  ok "... as a new boot" test "$(g cat /proc/sys/kernel/random/boot_id)" != "$boot_id"
  ok "the data ports came up only after the ruleset was in the kernel (reboot)" boot_order 2
  ok "the boot-time ruleset was the last applied policy" journal_has modgate-boot "event=boot_ruleset.*cause=persisted"
  ok "journald kept the first boot's events (persistent)" test "$(g journalctl --list-boots --no-pager | wc -l)" -ge 2
  ok "a C-STORE passes after the reboot" dicom_store
}

finish_probes() {
  kill -TERM "$prober"
  wait "$prober" 2>/dev/null || true
  local probes answered
  probes=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["probes"])' "$dir/probes.json")
  answered=$(/usr/bin/python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["answered"])' "$dir/probes.json")
  say "attacker: $probes probes of the modality's listeners from before boot to the end, $answered answered"
  ok "the attacker made probes throughout" test "$probes" -gt 100
  ok "... and not one was answered" test "$answered" -eq 0
  [ "$answered" -eq 0 ] || cat "$dir/probes.json"
}

started=$(date +%s)
setup_lab
start_probes
boot_started=$(date +%s)
qmp cont
phase_boot
# BT_PHASES: a subset, for working on one phase (default: all, in this order).
if [ $fail -eq 0 ]; then
  for ph in ${BT_PHASES:-dicom networkd_restart reload stop kill upgrade reboot}; do "phase_$ph"; done
fi
finish_probes
say "$pass passed, $fail failed in $(( $(date +%s) - started )) s"
[ $fail -eq 0 ]
