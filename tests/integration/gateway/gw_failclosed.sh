#!/usr/bin/env bash
# Fail closed: the ports stay down until the first apply; the boot-time ruleset is default deny
# before any policy was applied and the last applied policy after; a start that races the
# network configuration waits; killing modgated (-9) leaves the ruleset in force, so the
# attacker still finds nothing and nothing is proxied; `nft flush ruleset` and `nft delete table`
# while modgated runs are undone within a second and logged; a restart restores service without
# taking the ports down; SIGTERM takes the ports down, so a flush while stopped opens nothing.
#   usage: gw_failclosed.sh MODGATED MODGATECTL   (root)
set -euo pipefail
MODGATED=$(realpath "$1") MODGATECTL=$(realpath "$2")
. "$(dirname "$0")/gw_lib.sh"

lab_up modgate
gw_policy "$GW_TOP/policy/examples/pet-ct-win7.toml"
lab_static_neigh atk "$LAB_SCANNER_IP" "$LAB_SCANNER_MAC"
echo_pacs() { n scan env TCP_NODELAY=1 echoscu -to 3 -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104 >/dev/null 2>&1; }
listeners=$(tr ' ' ',' <<<"$LAB_SCANNER_TCP_PORTS")
scan_open_count() { # ports of the scanner's listeners that read open
  lab_nmap atk "$LAB_DIR/scan-$1.xml" -n -Pn --send-ip -sS --max-retries 1 -p "$listeners" "$LAB_SCANNER_IP"
  lab_scan_summary "$LAB_DIR/scan-$1.xml" --count open
}

# A bad policy: modgated refuses to start and never raises the ports.
printf '[gateway]\nmodality_port = "gs0"\n' >"$LAB_DIR/bad.toml"
set +e
n gw "$MODGATED" --policy "$LAB_DIR/bad.toml" --control-socket "$LAB_DIR/bad.sock" --state-dir "$LAB_DIR/bad" \
  >"$LAB_DIR/bad.out" 2>&1
rc=$?
set -e
ok "an invalid policy: modgated exits 1" test "$rc" -eq 1
ok "... printing the located error" grep -q "bad.toml:1:1: error: \[gateway\]: missing required key 'network_port'" "$LAB_DIR/bad.out"
ok "... and the ports stay down" test "$(lab_gw_ports_state)" = "br0=DOWN gs0=DOWN gh0=DOWN"
set +e
n gw "$MODGATED" --check --policy "$GW_POLICY" >"$LAB_DIR/check.out" 2>&1; rc=$?
set -e
ok "--check says policy OK and touches nothing" test "$rc" -eq 0 -a -z "$(n gw nft list ruleset)"
ok "... and the ports stay down" test "$(lab_gw_ports_state)" = "br0=DOWN gs0=DOWN gh0=DOWN"

# The boot-time ruleset with nothing applied before: default deny on every bridge. Even with the
# ports up (a network configuration that raised them), nothing crosses.
ok "--boot-ruleset with no saved policy loads default deny" \
  n gw "$MODGATED" --boot-ruleset --state-dir "$LAB_DIR/fresh-state"
ok "... a bridge table whose forward chain drops everything" \
  eval 'n gw nft list table bridge modgate | grep -q "hook forward priority filter; policy drop;"'
n gw ip link set br0 up; n gw ip link set gs0 up; n gw ip link set gh0 up
ok "... with the ports up, the attacker finds none of the scanner's listeners open" test "$(scan_open_count boot)" -eq 0

# A start that races the network configuration (a port not yet enslaved) waits for it.
n gw ip link set gh0 nomaster
( sleep 2; n gw ip link set gh0 master br0 ) &
mark=$(gw_lines)
gw_start
wait
ok "a start with a port not yet in the bridge waited for it" gw_wait_event "event=waiting_for_interfaces" 1 "$mark"
ok "... then replaced the boot-time table in one apply and started" gw_wait_event "event=started" 1 "$mark"
gw_stop

gw_start
ok "with modgated running the scanner reaches the PACS" echo_pacs
before=$(gw_listing)

# kill -9: no cleanup runs, the kernel keeps the rules.
gw_stop KILL
ok "after kill -9 the ruleset is still in the kernel" test "$(gw_listing)" = "$before"
ok "... the ports are still up" test "$(lab_gw_ports_state)" = "br0=UP gs0=UP gh0=UP"
ok "... the attacker finds none of the scanner's listeners open" test "$(scan_open_count killed)" -eq 0
not "... and without the proxy nothing is relayed, not even allowed DICOM" echo_pacs

# Restart: service is back; the ports never went down (the rules were in place).
mark=$(gw_lines)
gw_start
ok "a restart restores service" echo_pacs
not "the restart did not take the ports down" grep -q "event=ports_down" <(tail -n +"$((mark + 1))" "$GW_LOG")

# Someone flushes the whole ruleset (e.g. Debian's nftables.service) or deletes our table.
for how in "flush ruleset" "delete table bridge modgate" "delete table inet modgate"; do
  mark=$(gw_lines)
  n gw nft $how
  start=$(_lab_now_us)
  ok "'nft $how' is undone within a second" gw_wait_event "event=ruleset_reapplied" 1 "$mark"
  took=$(( ($(_lab_now_us) - start) / 1000 ))
  ok "... with an alarm event (${took} ms)" gw_wait_event "event=ruleset_tampered level=critical|level=critical component=daemon event=ruleset_tampered" 1 "$mark"
  ok "... and the listing is back as it was" test "$(gw_listing)" = "$before"
done
ok "after the tampering the scanner still reaches the PACS" echo_pacs
ok "and the attacker still finds nothing open" test "$(scan_open_count after)" -eq 0
gw_stop
ok "SIGTERM also leaves the ruleset in force" test "$(gw_listing)" = "$before"
ok "... and takes the ports down" test "$(lab_gw_ports_state)" = "br0=UP gs0=DOWN gh0=DOWN"
n gw nft flush ruleset
ok "while it is stopped, a flush of the whole ruleset opens nothing" test "$(scan_open_count stopped)" -eq 0
ok "--boot-ruleset puts back exactly the last applied policy's ruleset" \
  n gw "$MODGATED" --boot-ruleset --state-dir "$LAB_DIR/state"
ok "... (the listing is the one modgated had applied)" test "$(gw_listing)" = "$before"
gw_done
