#!/usr/bin/env bash
# modgate demo: builds modgate, starts the network-namespace lab (a Windows 7 PET/CT behind the
# gateway's bridge, a PACS behind a router, an attacker on the scanner's subnet), runs modgated
# with policy/examples/pet-ct-win7.toml, and shows a DICOM store passing, an attack blocked,
# a vendor window, and the events each produced. Ctrl-C (or the end, when not interactive)
# tears everything down.
#   usage: tests/lab/demo.sh [--no-wait]     (root, Debian 12)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
wait_at_end=1
[ "${1:-}" = "--no-wait" ] && wait_at_end=0
[ -t 0 ] || wait_at_end=0
[ "$(id -u)" -eq 0 ] || { echo "demo: run as root (it builds network namespaces)" >&2; exit 1; }

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
show_events() { # show_events FROM_LINE REGEX: the event lines since FROM_LINE matching REGEX
  tail -n +"$(($1 + 1))" "$GW_LOG" | grep -E -- "$2" | sed 's/^/   /' | cut -c1-220 || true
}

say "Installing dependencies and building (first run takes a few minutes)"
"$top/tests/install-deps.sh"
cmake -S "$top" -B "$top/build" -G Ninja >/dev/null
cmake --build "$top/build" -j"$(nproc)" --target modgated modgatectl | tail -1
export MODGATED="$top/build/gateway/modgated" MODGATECTL="$top/build/gateway/modgatectl"
# shellcheck source=../integration/gateway/gw_lib.sh
. "$top/tests/integration/gateway/gw_lib.sh"

say "Building the lab: scanner, gateway, clinical switch, router, PACS, RIS, DNS/NTP, files, vendor, attacker"
lab_up modgate
gw_policy "$top/policy/examples/pet-ct-win7.toml"
echo "   policy: policy/examples/pet-ct-win7.toml ($("$MODGATECTL" check "$GW_POLICY" | tail -1))"
echo "   the bridge ports are down until the ruleset is in the kernel: $(lab_gw_ports_state)"
gw_start
echo "   modgated is running; ports now: $(lab_gw_ports_state)"

say "1. The scanner stores 4 PET/CT images to the PACS across the router, through modgate"
mark=$(gw_lines)
"$LAB_PY" "$LAB_LIB/make_dicom.py" -q -o "$LAB_DIR/in" -n 4 -s 512K --seed 1
n scan env TCP_NODELAY=1 storescu -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104 "$LAB_DIR"/in/*.dcm
"$LAB_PY" "$LAB_LIB/dcmcompare.py" "$LAB_DIR/in" "$LAB_PACS_STORE" && echo "   all 4 images arrived identical"
grep -q "Association Received: $LAB_SCANNER_IP" "$(lab_service_log pacs)" &&
  echo "   the PACS saw the scanner's own address $LAB_SCANNER_IP (transparent proxy)"
show_events "$mark" "event=association"

say "2. An attacker on the scanner's subnet probes the Windows 7 services (80 135 139 445 3389 3465)"
mark=$(gw_lines)
lab_static_neigh atk "$LAB_SCANNER_IP" "$LAB_SCANNER_MAC"
n atk nmap -n -Pn --send-ip -sS --max-retries 1 -p 80,135,139,445,3389,3465 "$LAB_SCANNER_IP" | grep -E "^[0-9]+/tcp|Nmap done" | sed 's/^/   /'
sleep 1  # let the log records of the drops arrive
show_events "$mark" "event=drop rule=flow dir=in"

say "3. The scanner tries SMB to the file server (not in the policy)"
mark=$(gw_lines)
if tcp_open scan "$LAB_FILES_IP" 445; then echo "   UNEXPECTED: it connected"; else echo "   blocked"; fi
show_events "$mark" "event=drop"

say "4. Vendor remote service: closed, then a 10-minute window opened with a reason"
vendor() { labnet scan tls --timeout 2 --sni remote.vendor.example --ca "$LAB_TLS_CA" "$LAB_VENDOR_IP" 443 >/dev/null 2>&1; }
vendor && echo "   UNEXPECTED: reachable" || echo "   outside a window: unreachable"
mark=$(gw_lines)
gw_ctl window open pet-ct-1 vendor-remote --for 10m --reason "CHG-1234 detector firmware" | sed 's/^/   /'
vendor && echo "   inside the window: TLS to remote.vendor.example works" || echo "   UNEXPECTED: unreachable"
gw_ctl window close pet-ct-1 vendor-remote --reason "service done" | sed 's/^/   /'
show_events "$mark" "component=windows"

say "5. A worm on the clinical network: island mode cuts the scanner off in one command"
echo_pacs() { n scan env TCP_NODELAY=1 echoscu -to 2 -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104 >/dev/null 2>&1; }
mark=$(gw_lines)
gw_ctl island on --reason "INC-42 worm on the clinical network" | sed 's/^/   /'
echo_pacs && echo "   UNEXPECTED: the PACS answered" || echo "   island: the scanner reaches nothing, not even the PACS"
gw_ctl island off | sed 's/^/   /'
echo_pacs && echo "   island off: C-ECHO to the PACS works again" || echo "   UNEXPECTED: the PACS does not answer"
show_events "$mark" "event=island"

say "6. modgatectl status"
gw_ctl status | sed 's/^/   /'

say "Where to look next"
cat <<EOF2
   events (logfmt, one line each):  $GW_LOG
   the kernel ruleset:              ip netns exec $(lab_ns gw) nft list ruleset
   the control socket:              $MODGATECTL --socket $GW_SOCK status | window list
   run something on a lab host:     ip netns exec $(lab_ns scan) echoscu -aet PETCT1 -aec PACS_MAIN $LAB_PACS_IP 104
   the policy language:             docs/policy.md;  the lab: tests/lab/README.md
EOF2
if [ "$wait_at_end" -eq 1 ]; then
  say "The lab stays up; new events follow. Ctrl-C tears it down."
  tail -n 0 -f "$GW_LOG" &
  wait
fi
gw_stop
