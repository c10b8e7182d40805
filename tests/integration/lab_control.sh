#!/usr/bin/env bash
# Control run of the lab: with br0 as a plain bridge every flow the modgate tests will restrict
# works, so a later "blocked" or "filtered" means modgate did it, not a broken lab. It also
# calibrates the fast full-port nmap options against a simulated drop-everything bridge.
# Exit 0 pass, 1 fail, 77 only when the kernel lacks a feature the lab needs.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../lab/lab.sh
. "$here/../lab/lab.sh"

# Before lab_up installs its own: a signal during the probes must still end the run.
trap 'exit 130' INT
trap 'exit 143' TERM
t_start=$(_lab_now_us)
checks=0
fail() { echo "FAIL: $*" >&2; exit 1; }
ok() { checks=$((checks + 1)); echo "ok $checks - $*"; }
ms_since() { echo $((($(_lab_now_us) - $1) / 1000)); }
secs() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# ---- prerequisites -------------------------------------------------------------------------
[[ $(id -u) == 0 ]] || fail "needs root (network namespaces)"
for tool in ip ss bridge nft nmap echoscu storescu storescp findscu wlmscpfs dump2dcm dnsmasq openssl tcpdump; do
  command -v "$tool" >/dev/null || fail "missing tool: $tool (tests/install-deps.sh installs it)"
done
"$LAB_PY" -c 'import pydicom' 2>/dev/null || fail "missing python3-pydicom for $LAB_PY"

# Kernel features, probed in a scratch namespace: only their absence is a skip.
probe=mgprobe$$
probe_cleanup() { ip netns del "$probe" 2>/dev/null || true; }
ip netns add "$probe" 2>/dev/null || { echo "SKIP: kernel without network namespaces"; exit 77; }
trap probe_cleanup EXIT
ip -n "$probe" link add p0 type veth peer name p1 2>/dev/null || { echo "SKIP: kernel without veth"; exit 77; }
ip -n "$probe" link add pb0 type bridge 2>/dev/null || { echo "SKIP: kernel without bridge"; exit 77; }
ip netns exec "$probe" nft -f - 2>/dev/null <<'EOF' || { echo "SKIP: kernel without nftables netdev/bridge families"; exit 77; }
table netdev probe {
  chain c {
    type filter hook ingress device "p0" priority 0;
  }
}
table bridge probe {
  chain c {
    type filter hook forward priority 0;
  }
}
EOF
probe_cleanup
trap - EXIT

# ---- up ---------------------------------------------------------------------------------------
lab_up control
up_ms=$(ms_since "$t_start")
[[ $(lab_gw_ports_state) == "br0=UP gs0=UP gh0=UP" ]] || fail "control gateway ports: $(lab_gw_ports_state)"
ok "lab up in control mode in ${LAB_UP_SECONDS}s ($LAB_ID)"

work="$LAB_DIR/work"
mkdir -p "$work"
pacs_log=$(lab_service_log pacs)
scp_log=$(lab_service_log scanner-scp)

# ---- DICOM: scanner -> PACS across the router ---------------------------------------------
"$LAB_PY" "$LAB_LIB/make_dicom.py" -q -o "$work/sent" -n 4 -m mix -s 256k --seed 7
[[ $(find "$work/sent" -name 'PT*.dcm' | wc -l) == 2 && $(find "$work/sent" -name 'CT*.dcm' | wc -l) == 2 ]] ||
  fail "make_dicom.py did not make 2 PET + 2 CT files"

n scan echoscu -aet "$LAB_SCANNER_AET" -aec "$LAB_PACS_AET" "$LAB_PACS_IP" "$LAB_PACS_PORT" ||
  fail "echoscu scanner -> PACS"
ok "C-ECHO scanner -> PACS ($LAB_PACS_IP, via router $LAB_ROUTER_IP)"

n scan storescu -aet "$LAB_SCANNER_AET" -aec "$LAB_PACS_AET" "$LAB_PACS_IP" "$LAB_PACS_PORT" "$work"/sent/*.dcm ||
  fail "storescu scanner -> PACS"
stored=$(find "$LAB_PACS_STORE" -type f | wc -l)
[[ $stored == 4 ]] || fail "PACS stored $stored files, expected 4"
"$LAB_PY" "$LAB_LIB/dcmcompare.py" "$work/sent" "$LAB_PACS_STORE" || fail "PACS copies differ from the sent files"
ok "C-STORE of 2 PET + 2 CT (256 KiB pixels) -> PACS; every element outside group 0002 identical"

# The PACS must see the scanner's own address, and no other (no NAT, no proxy in control).
peers=$(sed -n 's/^D: Association Received: //p' "$pacs_log" | sort | uniq -c | awk '{print $2 "x" $1}' | tr '\n' ' ')
[[ $peers == "${LAB_SCANNER_IP}x2 " ]] || fail "PACS association peers: '${peers}', expected the scanner twice"
ok "PACS saw both associations from $LAB_SCANNER_IP"

# ---- DICOM coming back: PACS -> the scanner's own SCP --------------------------------------
n pacs echoscu -aet "$LAB_PACS_AET" -aec "$LAB_SCANNER_AET" "$LAB_SCANNER_IP" "$LAB_SCANNER_DICOM_PORT" ||
  fail "echoscu PACS -> scanner"
n pacs storescu -aet "$LAB_PACS_AET" -aec "$LAB_SCANNER_AET" "$LAB_SCANNER_IP" "$LAB_SCANNER_DICOM_PORT" "$work/sent/CT0002.dcm" ||
  fail "storescu PACS -> scanner"
back=$(find "$LAB_SCANNER_STORE" -type f)
[[ $(wc -l <<<"$back") == 1 ]] || fail "scanner SCP stored: '$back'"
"$LAB_PY" "$LAB_LIB/dcmcompare.py" -q "$work/sent/CT0002.dcm" "$back" || fail "scanner copy differs"
grep -q "^D: Association Received: $LAB_PACS_IP\$" "$scp_log" || fail "scanner SCP did not log the PACS address"
ok "PACS -> scanner SCP ($LAB_SCANNER_AET): C-ECHO and C-STORE, copy identical, peer $LAB_PACS_IP"

# ---- worklist from the RIS -----------------------------------------------------------------
mkdir -p "$work/wl"
n scan findscu -W -aet "$LAB_SCANNER_AET" -aec "$LAB_RIS_AET" -X -od "$work/wl" \
  -k "ScheduledProcedureStepSequence[0].ScheduledStationAETitle=$LAB_SCANNER_AET" \
  -k "ScheduledProcedureStepSequence[0].Modality" -k PatientName -k PatientID \
  "$LAB_RIS_IP" "$LAB_RIS_PORT" >"$work/wl.log" 2>&1 || { cat "$work/wl.log" >&2; fail "findscu worklist"; }
names=$(for f in "$work"/wl/*; do dcmdump -q +P PatientName "$f"; done | sed 's/.*\[\(.*\)\].*/\1/' | sort | tr '\n' ' ')
[[ $names == "TEST^PATIENT^1 TEST^PATIENT^2 TEST^PATIENT^3 " ]] || fail "worklist answers: '$names'"
ok "modality worklist from RIS: 3 scheduled steps for $LAB_SCANNER_AET"

# ---- DNS, NTP, vendor TLS, file share --------------------------------------------------------
ans=$(labnet scan dns "$LAB_VENDOR_NAME" --server "$LAB_DNS_IP") || fail "DNS query scanner -> $LAB_DNS_IP"
[[ $ans == "$LAB_VENDOR_IP" ]] || fail "DNS answer for $LAB_VENDOR_NAME: '$ans'"
if labnet scan dns nosuch.vendor.example --server "$LAB_DNS_IP" 2>/dev/null; then
  fail "DNS answered a name it should not know"
fi
ans=$(n scan getent ahostsv4 "$LAB_VENDOR_NAME" | awk 'NR == 1 {print $1}')
[[ $ans == "$LAB_VENDOR_IP" ]] || fail "the scanner's resolver (/etc/netns resolv.conf) gave '$ans'"
grep -q "query\[A\] $LAB_VENDOR_NAME from $LAB_SCANNER_IP\$" "$(lab_service_log dns)" || fail "dnsmasq did not log the scanner"
ok "DNS scanner -> $LAB_DNS_IP: $LAB_VENDOR_NAME = $LAB_VENDOR_IP (direct and via the namespace's resolv.conf)"

labnet scan sntp "$LAB_NTP_IP" >"$work/sntp.out" || fail "SNTP scanner -> $LAB_NTP_IP"
grep -q "peer=$LAB_SCANNER_IP:" "$(lab_service_log ntp)" || fail "SNTP server did not log the scanner"
ok "SNTP scanner -> $LAB_NTP_IP answers ($(cat "$work/sntp.out"))"

labnet scan tls "$LAB_VENDOR_IP" "$LAB_VENDOR_TLS_PORT" --sni "$LAB_VENDOR_NAME" --ca "$LAB_TLS_CA" --send hello >"$work/tls.out" ||
  fail "TLS scanner -> vendor"
grep -q "verified=yes san=$LAB_VENDOR_NAME" "$work/tls.out" || fail "TLS: $(cat "$work/tls.out")"
grep -q "event=tls_close .* peer=$LAB_SCANNER_IP:[0-9]* rx=5 .* sni=$LAB_VENDOR_NAME" "$(lab_service_log vendor)" ||
  fail "vendor did not log the scanner's TLS session"
ok "TLS scanner -> $LAB_VENDOR_IP:443, certificate verified for $LAB_VENDOR_NAME, SNI seen by the vendor"

labnet scan tcp "$LAB_FILES_IP" "$LAB_FILES_PORT" --send dose >/dev/null || fail "scanner -> files:445"
ok "TCP scanner -> files $LAB_FILES_IP:445"

# ---- the attacker reaches the scanner ----------------------------------------------------------
labnet atk tcp "$LAB_SCANNER_IP" 445 --send probe >/dev/null || fail "attacker -> scanner:445"
grep -q "event=tcp_close name=scanner local=$LAB_SCANNER_IP:445 peer=$LAB_ATTACKER_IP:[0-9]* rx=5" \
  "$(lab_service_log scanner-ports)" || fail "scanner listener did not record the attacker's 5 bytes"
ok "attacker $LAB_ATTACKER_IP reaches the scanner's SMB port 445 (5 bytes echoed and recorded)"

# ---- nmap from the attacker ----------------------------------------------------------------------
# shellcheck disable=SC2086
expected_open=$(printf '%s\n' $LAB_SCANNER_TCP_PORTS "$LAB_SCANNER_DICOM_PORT" | sort -n | paste -sd,)
n_open=$(tr ',' '\n' <<<"$expected_open" | wc -l)
listed=${LAB_SCANNER_TCP_PORTS// /,}
# shellcheck disable=SC2086
lab_nmap atk "$work/syn.xml" $LAB_NMAP_FAST -sS -p "$listed" "$LAB_SCANNER_IP"
[[ $(lab_scan_summary "$work/syn.xml" --ports open) == "$listed" ]] ||
  fail "SYN scan of $listed: $(lab_scan_summary "$work/syn.xml")"
ok "nmap SYN scan: $listed all open"

t=$(_lab_now_us)
lab_nmap atk "$work/full-default.xml" -n -Pn -sS -p- "$LAB_SCANNER_IP"
full_default_ms=$(ms_since "$t")
[[ $(lab_scan_summary "$work/full-default.xml" --ports open) == "$expected_open" &&
   $(lab_scan_summary "$work/full-default.xml" --count closed) == $((65535 - n_open)) ]] ||
  fail "full scan (nmap defaults): $(lab_scan_summary "$work/full-default.xml")"
ok "nmap -p- (defaults): open $expected_open, $((65535 - n_open)) closed, in $(secs "$full_default_ms")s"

t=$(_lab_now_us)
# shellcheck disable=SC2086
lab_nmap atk "$work/full-fast.xml" $LAB_NMAP_FAST -sS -p- "$LAB_SCANNER_IP"
full_fast_ms=$(ms_since "$t")
[[ $(lab_scan_summary "$work/full-fast.xml") == "$(lab_scan_summary "$work/full-default.xml")" ]] ||
  fail "fast options disagree with defaults: $(lab_scan_summary "$work/full-fast.xml")"
ok "nmap -p- ($LAB_NMAP_FAST): same result as the defaults, in $(secs "$full_fast_ms")s"

udp=${LAB_SCANNER_UDP_PORTS// /,}
t=$(_lab_now_us)
lab_nmap atk "$work/udp.xml" -n -Pn --send-ip -sU -p "$udp" "$LAB_SCANNER_IP"
udp_ms=$(ms_since "$t")
[[ $(lab_scan_summary "$work/udp.xml" --proto udp --ports open) == "$udp" ]] ||
  fail "UDP scan: $(lab_scan_summary "$work/udp.xml" --proto udp)"
ok "nmap UDP scan: $udp open (the listeners answer), in $(secs "$udp_ms")s"

# ---- nothing reached the management network ---------------------------------------------------
[[ $(lab_mgmt_leak_total) == 0 ]] || fail "clinical frames reached the management network: $(lab_mgmt_leaks)"
# ...and the recorder does see a clinical packet when one arrives (spoofed from the gateway).
n gw "$LAB_PY" "$LAB_LIB/labnet.py" spoof --src "$LAB_SCANNER_IP" --dst "$LAB_MGMT_IP" --dport 9
leaked() { [[ $(lab_mgmt_leak_total) != 0 ]]; }
lab_wait_until 2 leaked || fail "leak recorder missed a spoofed clinical packet: $(lab_mgmt_leaks)"
lab_mgmt_reset
[[ $(lab_mgmt_leak_total) == 0 ]] || fail "lab_mgmt_reset did not zero the counters"
ok "management network: no clinical frame during the run; the recorder catches a spoofed one"

# ---- calibration: a bridge that drops everything (stand-in for modgate) -----------------------
lab_sim_quarantine on
if n scan echoscu -to 2 -aet "$LAB_SCANNER_AET" -aec "$LAB_PACS_AET" "$LAB_PACS_IP" "$LAB_PACS_PORT" 2>/dev/null; then
  fail "C-ECHO passed through the simulated quarantine"
fi
# The attacker knows the scanner's MAC (a stale cache, or sniffed): frames reach the bridge.
lab_static_neigh atk "$LAB_SCANNER_IP" "$LAB_SCANNER_MAC"
# The files server is the canary, scanned in the same run: its exact result shows that no reply
# was lost, so "filtered" on the scanner means dropped, not an overloaded scan.
t=$(_lab_now_us)
# shellcheck disable=SC2086
lab_nmap atk "$work/q-full.xml" $LAB_NMAP_FAST -sS -p- "$LAB_SCANNER_IP" "$LAB_FILES_IP"
q_full_ms=$(ms_since "$t")
[[ $(lab_scan_summary "$work/q-full.xml" --host "$LAB_SCANNER_IP" --count filtered) == 65535 ]] ||
  fail "full scan through the dropping bridge: $(lab_scan_summary "$work/q-full.xml" --host "$LAB_SCANNER_IP")"
[[ $(lab_scan_summary "$work/q-full.xml" --host "$LAB_FILES_IP" --ports open) == "$LAB_FILES_PORT" &&
   $(lab_scan_summary "$work/q-full.xml" --host "$LAB_FILES_IP" --count closed) == 65534 ]] ||
  fail "canary $LAB_FILES_IP in the same scan: $(lab_scan_summary "$work/q-full.xml" --host "$LAB_FILES_IP")"
((q_full_ms < 45000)) || fail "full filtered scan took $(secs "$q_full_ms")s (budget 45 s)"
ok "nmap -p- through a drop-everything bridge: 65535 filtered, canary $LAB_FILES_IP exact, in $(secs "$q_full_ms")s"

t=$(_lab_now_us)
lab_nmap atk "$work/q-udp.xml" -n -Pn --send-ip -sU -p "$udp" "$LAB_SCANNER_IP"
q_udp_ms=$(ms_since "$t")
[[ $(lab_scan_summary "$work/q-udp.xml" --proto udp --ports 'open|filtered') == "$udp" ]] ||
  fail "UDP scan through the dropping bridge: $(lab_scan_summary "$work/q-udp.xml" --proto udp)"
ok "nmap UDP through a drop-everything bridge: $udp open|filtered in $(secs "$q_udp_ms")s"

lab_sim_quarantine off
n scan echoscu -aet "$LAB_SCANNER_AET" -aec "$LAB_PACS_AET" "$LAB_PACS_IP" "$LAB_PACS_PORT" ||
  fail "C-ECHO after removing the simulated quarantine"
[[ $(lab_mgmt_leak_total) == 0 ]] || fail "clinical frames reached the management network: $(lab_mgmt_leaks)"
ok "simulated quarantine removed: C-ECHO passes again; still nothing on the management network"

total_ms=$(ms_since "$t_start")
echo "timings: lab_up=${LAB_UP_SECONDS}s (with probes $(secs "$up_ms")s)" \
  "full_default=$(secs "$full_default_ms")s full_fast=$(secs "$full_fast_ms")s udp=$(secs "$udp_ms")s" \
  "quarantine_full_fast=$(secs "$q_full_ms")s quarantine_udp=$(secs "$q_udp_ms")s total=$(secs "$total_ms")s"
echo "PASS: lab_control ($checks checks)"
