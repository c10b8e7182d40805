#!/usr/bin/env bash
# Fail closed: the ports stay down until the first apply; killing modgated (-9) leaves the
# ruleset in force, so the attacker still finds nothing and nothing is proxied; `nft flush
# ruleset` and `nft delete table` while modgated runs are undone within a second and logged; a
# restart restores service without taking the ports down.
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
gw_done
