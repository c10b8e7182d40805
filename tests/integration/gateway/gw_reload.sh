#!/usr/bin/env bash
# Reloads: 20 SIGHUPs alternating between two valid policies while one long C-STORE association
# runs through the proxy. After each, the flow only the new policy allows works and the flow it
# removed fails; the transfer completes intact. A broken policy is refused with its location and
# changes nothing.
#   usage: gw_reload.sh MODGATED MODGATECTL   (root)
set -euo pipefail
MODGATED=$(realpath "$1") MODGATECTL=$(realpath "$2")
. "$(dirname "$0")/gw_lib.sh"

lab_up modgate
base="$GW_TOP/policy/examples/pet-ct-win7.toml"
cat "$base" - >"$LAB_DIR/a.toml" <<'EOF2'

[[peer]]
name = "files"
ip = "10.20.1.45"

[[allow]]
modality = "pet-ct-1"
to = "files"
service = "tcp"
ports = [445]
EOF2
cat "$base" - >"$LAB_DIR/b.toml" <<'EOF2'

[[peer]]
name = "vendor-ssh"
ip = "203.0.113.10"

[[allow]]
modality = "pet-ct-1"
to = "vendor-ssh"
service = "tcp"
ports = [22]
EOF2
gw_policy "$LAB_DIR/a.toml"
gw_start
ok "policy A: SMB to the file server works" tcp_open scan "$LAB_FILES_IP" 445
not "policy A: the vendor's ssh fails" tcp_open scan "$LAB_VENDOR_IP" 22

# A PACS that sleeps a second after each stored file keeps one association open for the whole
# reload sequence.
lab_stop pacs
mkdir -p "$LAB_DIR/slow-pacs"
n pacs storescp -lc "$LAB_LIB/dcmtk-log.cfg" -dhl --sleep-after 1 -aet PACS_MAIN -od "$LAB_DIR/slow-pacs" 104 >"$LAB_DIR/log/slow-pacs.log" 2>&1 &
lab_wait_listen pacs tcp 104
"$LAB_PY" "$LAB_LIB/make_dicom.py" -q -o "$LAB_DIR/in" -n 40 -s 256K --seed 11
n scan env TCP_NODELAY=1 storescu -to 30 -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104 "$LAB_DIR"/in/*.dcm \
  >"$LAB_DIR/log/storescu.log" 2>&1 &
store_pid=$!
lab_wait_until 5 eval 'ls "$LAB_DIR/slow-pacs" | grep -q .'

ok_reloads=0
for i in $(seq 1 20); do
  if ((i % 2)); then next=b allowed=("$LAB_VENDOR_IP" 22) removed=("$LAB_FILES_IP" 445)
  else next=a allowed=("$LAB_FILES_IP" 445) removed=("$LAB_VENDOR_IP" 22); fi
  cp "$LAB_DIR/$next.toml" "$GW_POLICY"
  mark=$(gw_lines)
  gw_reload
  if gw_wait_event "event=reload_applied" 5 "$mark" && tcp_open scan "${allowed[@]}" && ! tcp_open scan "${removed[@]}"; then
    ok_reloads=$((ok_reloads + 1))
  else
    echo "reload $i to policy $next: allowed ${allowed[*]} / removed ${removed[*]} not as expected"
  fi
done
ok "20 reloads: after each, the new flow works and the removed one fails ($ok_reloads/20)" test "$ok_reloads" -eq 20
ok "the C-STORE association was still running after the last reload" kill -0 "$store_pid"
ok "the long C-STORE completes" wait "$store_pid"
ok "all 40 files arrived identical" "$LAB_PY" "$LAB_LIB/dcmcompare.py" "$LAB_DIR/in" "$LAB_DIR/slow-pacs"
ok "it was one association through all reloads" test "$(grep -c 'Association Received: ' "$LAB_DIR/log/slow-pacs.log")" -eq 1

# A broken policy: refused with its location, the running ruleset and proxies unchanged.
before=$(gw_listing)
printf '[gateway]\nmodality_port = "gs0"\nnetwork_port = "gh0"\n\n[[modality]]\nname = "x"\nip = "10.1.1.1/33"\n' >"$GW_POLICY"
mark=$(gw_lines)
gw_reload
ok "a broken policy on SIGHUP is refused with its location" \
  gw_wait_event "event=reload_rejected .*line=7 col=6 error=\"modality 'x': '10.1.1.1/33' is not an address" 5 "$mark"
ok "the listing is unchanged" test "$(gw_listing)" = "$before"
ok "the flows of the running policy still work" tcp_open scan "$LAB_FILES_IP" 445
set +e
gw_ctl reload >"$LAB_DIR/ctl-reload.out" 2>&1; rc=$?
set -e
ok "modgatectl reload of the broken policy exits 1" test "$rc" -eq 1
ok "... and prints the located errors" grep -q "policy.toml:7:6: error" "$LAB_DIR/ctl-reload.out"
cp "$LAB_DIR/b.toml" "$GW_POLICY"
ok "modgatectl reload of a good policy exits 0" gw_ctl reload
ok "... and it is in force" tcp_open scan "$LAB_VENDOR_IP" 22
gw_stop
gw_done
