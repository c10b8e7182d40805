#!/usr/bin/env bash
# Island mode in one command: during a running C-STORE, `modgatectl island on --reason` cuts it
# within a second; from then on nothing reaches the PACS or the vendor (its window open) from the
# modality and the attacker finds nothing on the modality; a reload and a restart keep island;
# `island off` restores the workload and the window, still inside its time. A caller outside the admin group is refused (exit 4) with an event; `island off` is
# refused while the policy itself says island.
#   usage: gw_island.sh MODGATED MODGATECTL   (root)
set -euo pipefail
MODGATED=$(realpath "$1") MODGATECTL=$(realpath "$2")
. "$(dirname "$0")/gw_lib.sh"

lab_up modgate
gw_policy "$GW_TOP/policy/examples/pet-ct-win7.toml"
lab_static_neigh atk "$LAB_SCANNER_IP" "$LAB_SCANNER_MAC"
gw_start
echo_pacs() { n scan env TCP_NODELAY=1 echoscu -to 3 -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104 >/dev/null 2>&1; }
mode() { gw_ctl status --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)['policy']['mode'])"; }
listeners=$(tr ' ' ',' <<<"$LAB_SCANNER_TCP_PORTS")
scan_open_count() { # the modality's listeners that read open from the attacker
  lab_nmap atk "$LAB_DIR/scan-$1.xml" -n -Pn --send-ip -sS --max-retries 1 -p "$listeners" "$LAB_SCANNER_IP"
  lab_scan_summary "$LAB_DIR/scan-$1.xml" --count open
}
ok "before: C-ECHO to the PACS" echo_pacs
vendor() { labnet scan tls --timeout 2 --sni remote.vendor.example --ca "$LAB_TLS_CA" "$LAB_VENDOR_IP" 443 >/dev/null 2>&1; }
ok "a vendor window opened before island" gw_ctl window open pet-ct-1 vendor-remote --for 10m --reason "CHG-7"
ok "... lets the vendor session through" lab_wait_until 5 vendor

# A non-admin caller: refused, and the refusal is an event.
mark=$(gw_lines)
set +e
setpriv --reuid=nobody --regid=nogroup --clear-groups "$MODGATECTL" --socket "$GW_SOCK" island on --reason "no" 2>/dev/null
rc=$?
set -e
ok "a caller outside the admin group is refused (exit 4)" test "$rc" -eq 4
ok "... with an event" gw_wait_event "event=control_refused action=\"island on\" uid=65534" 2 "$mark"
ok "... and island is still off" test "$(mode)" = enforce

# A long C-STORE running through the proxy, then island on.
"$LAB_PY" "$LAB_LIB/make_dicom.py" -q -o "$LAB_DIR/in" -n 10 -s 512K --seed 3
mark=$(gw_lines)
# (10 files sent 400 times in one association: several seconds, far longer than the test needs)
n scan env TCP_NODELAY=1 storescu -to 30 --repeat 400 -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104 "$LAB_DIR"/in/*.dcm \
  >"$LAB_DIR/store.log" 2>&1 &
store=$!
ok "the C-STORE is running" gw_wait_event "event=flow_opened .*dst=$LAB_PACS_IP:104" 10 "$mark"
sleep 0.3
mark=$(gw_lines)
t0=$EPOCHREALTIME
ok "island on" gw_ctl island on --reason "INC-42 worm on the clinical network"
# The proxy ends the association at once (the modality's side of it can no longer hear anything:
# island drops its frames too, so storescu ends on its own when it notices).
ok "... the running C-STORE is cut within a second (A-ABORT)" gw_wait_event "event=flow_closed .*dst=$LAB_PACS_IP:104 .*end=(cut|aborted) reason=\"island mode\"" 1 "$mark"
t1=$EPOCHREALTIME
echo "     association cut $(/usr/bin/python3 -c "print(f'{($t1 - $t0) * 1000:.0f}')") ms after the command (at most; polled)"
# storescu itself hears nothing more (its frames are dropped) and would sit in TCP retransmits.
kill "$store" 2>/dev/null || true
wait "$store" 2>/dev/null || true
ok "island_on is audited with who and why" \
  gw_wait_event "event=island_on cause=manual uid=0 user=root reason=\"INC-42 worm on the clinical network\"" 2 "$mark"
ok "sessions_cut says island" gw_wait_event "event=sessions_cut sessions=[1-9][0-9]* reason=\"island mode\"" 2 "$mark"
ok "status says island, the policy enforce" test "$(mode)" = island
not "the modality reaches nothing" echo_pacs
not "... not even the vendor, whose window is still open" vendor
ok "the attacker finds nothing on the modality" test "$(scan_open_count island)" -eq 0

gw_reload
ok "a reload keeps island" lab_wait_until 5 eval 'test "$(mode)" = island'
not "... the modality still reaches nothing" echo_pacs
gw_stop
mark=$(gw_lines)
gw_start
ok "a restart keeps island" test "$(mode)" = island
ok "... and says so" gw_wait_event "event=island_on cause=restored uid=0 user=root" 2 "$mark"
not "... the modality still reaches nothing" echo_pacs

mark=$(gw_lines)
ok "island off" gw_ctl island off
ok "... audited" gw_wait_event "event=island_off uid=0 user=root" 2 "$mark"
ok "the workload passes again" echo_pacs
ok "the window opened before island works again (still inside its time)" lab_wait_until 5 vendor
ok "... a C-STORE too" n scan env TCP_NODELAY=1 storescu -to 30 -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104 "$(ls "$LAB_DIR"/in/*.dcm | head -n 1)"
ok "status says enforce" test "$(mode)" = enforce

# A policy whose own mode is island: `island off` cannot leave it.
sed -i 's/^mode = "enforce"/mode = "island"/' "$GW_POLICY"
grep -q '^mode = "island"' "$GW_POLICY" || echo 'the example policy has no mode line' >&2
gw_ctl reload >/dev/null
set +e
gw_ctl island off >"$LAB_DIR/off.out" 2>&1
rc=$?
set -e
ok "island off is refused while the policy says island (exit 1)" test "$rc" -eq 1
ok "... saying why" grep -q 'the policy itself says mode = "island"' "$LAB_DIR/off.out"
gw_stop
gw_done
