#!/usr/bin/env bash
# DICOM through modgated's inspecting proxy with the real dcmtk tools: C-ECHO and C-STORE arrive
# intact with one audit event per association; the RIS worklist answers through it; wrong AE
# titles are rejected with the right reason before the PACS is contacted; a SOP class the policy
# does not list is refused while the allowed ones on the same association arrive; a DIMSE the
# policy does not list is answered 0x0124 by the proxy and the association goes on; with the
# smallest max_pdu the policy allows, a store still arrives intact; a store with both dcmtk ends
# left with Nagle on does not stall on delayed ACKs.
#   usage: gw_dicom.sh MODGATED MODGATECTL   (root)
set -euo pipefail
MODGATED=$(realpath "$1") MODGATECTL=$(realpath "$2")
. "$(dirname "$0")/gw_lib.sh"

# dns: dcmtk's UID generator looks up the host name; without an answer, each generated UID
# (findscu -X writes one per response) waits for the resolver's timeouts.
LAB_SERVICES="scanner-scp pacs ris dns" lab_up modgate
gw_policy "$GW_TOP/policy/examples/pet-ct-win7.toml"
gw_start
pacs_log=$(lab_service_log pacs)
pacs_assocs() { grep -c "Association Received: " "$pacs_log" || true; }
# last_assoc FROM_LINE: the last association event after a line of the daemon's log
last_assoc() { tail -n +"$(($1 + 1))" "$GW_LOG" | grep "event=association " | tail -n 1; }
# has TEXT REGEX...: every extended regex matches TEXT
has() { local t=$1; shift; local r; for r in "$@"; do grep -Eq -- "$r" <<<"$t" || return 1; done; }
scu() { n scan env TCP_NODELAY=1 "$@"; }
pacs=("$LAB_PACS_IP" 104)

# ---- C-ECHO, C-STORE: data intact, one event per association -----------------------------
mark=$(gw_lines)
ok "C-ECHO scanner -> PACS" scu echoscu -to 5 -aet PETCT1 -aec PACS_MAIN "${pacs[@]}"
gw_wait_event "event=association " 3 "$mark" || true
ev=$(last_assoc "$mark")
ok "the echo's event: AE titles, one C-ECHO, released" has "$ev" "dir=out " "calling_ae=PETCT1 " \
  "called_ae=PACS_MAIN " "contexts_accepted=1 " " c_echo=1 " "bytes_from_initiator=[1-9]" "end=released$"

"$LAB_PY" "$LAB_LIB/make_dicom.py" -q -o "$LAB_DIR/pet" -m PT -n 3 -s 512K --seed 11
"$LAB_PY" "$LAB_LIB/make_dicom.py" -q -o "$LAB_DIR/ct" -m CT -n 3 -s 512K --seed 12
mkdir -p "$LAB_DIR/in" && cp "$LAB_DIR"/pet/*.dcm "$LAB_DIR"/ct/*.dcm "$LAB_DIR/in/"
in_bytes=$(cat "$LAB_DIR"/in/*.dcm | wc -c)
mark=$(gw_lines)
ok "C-STORE of 3 PET and 3 CT files (0.5 MB each)" scu storescu -to 10 -aet PETCT1 -aec PACS_MAIN "${pacs[@]}" "$LAB_DIR"/in/*.dcm
ok "every dataset element outside group 0002 arrived identical" "$LAB_PY" "$LAB_LIB/dcmcompare.py" "$LAB_DIR/in" "$LAB_PACS_STORE"
gw_wait_event "event=association " 3 "$mark" || true
ev=$(last_assoc "$mark")
ok "one association event for the store" test "$(gw_count_events 'event=association ' "$mark")" -eq 1
ok "... AE titles, 6 C-STORE, released" has "$ev" "calling_ae=PETCT1 " "called_ae=PACS_MAIN " " c_store=6 " "end=released$"
from_init=$(sed -n 's/.* bytes_from_initiator=\([0-9]*\).*/\1/p' <<<"$ev")
ok "... bytes from the scanner ($from_init) cover the 6 files ($in_bytes bytes)" test "${from_init:-0}" -ge $((in_bytes - 6 * 1024))
ok "... and stay within 1% of them plus the association overhead" test "${from_init:-0}" -le $((in_bytes + in_bytes / 100 + 65536))
ok "every DICOM flow so far has exactly one association event" test \
  "$(gw_count_events 'event=association ')" -eq "$(gw_count_events 'event=flow_opened .*service=dicom')"

# ---- worklist ------------------------------------------------------------------------------
mark=$(gw_lines)
mkdir -p "$LAB_DIR/wl"
ok "C-FIND against the RIS worklist" scu findscu -to 5 -W -X -od "$LAB_DIR/wl" -aet PETCT1 -aec RIS \
  -k PatientName -k "ScheduledProcedureStepSequence[0].ScheduledStationAETitle=PETCT1" "$LAB_RIS_IP" 104
names=$(for f in "$LAB_DIR"/wl/rsp*.dcm; do dcmdump +P PatientName "$f"; done 2>/dev/null | sed -n 's/.*\[\(.*\)\].*/\1/p' | sort | tr '\n' ' ')
ok "the three worklist items came back (${names% })" test "$names" = "TEST^PATIENT^1 TEST^PATIENT^2 TEST^PATIENT^3 "
gw_wait_event "event=association .*called_ae=RIS " 3 "$mark" || true
ok "the worklist event: one C-FIND to RIS, released" has "$(last_assoc "$mark")" "allow=pet-ct-1->ris:dicom " \
  "called_ae=RIS " " c_find=1 " "end=released$"

# ---- wrong AE titles: rejected by the proxy, the PACS never sees them ------------------------
before=$(pacs_assocs)
ok "control: the PACS's log counts the associations it saw so far ($before)" test "$before" -ge 2
for which in calling called; do
  if [ $which = calling ]; then args=(-aet WRONG -aec PACS_MAIN); else args=(-aet PETCT1 -aec WRONG); fi
  mark=$(gw_lines)
  set +e; out=$(scu echoscu -to 5 "${args[@]}" "${pacs[@]}" 2>&1); rc=$?; set -e
  ok "wrong $which AE: echoscu fails" test $rc -ne 0
  ok "... reporting '$which AE title not recognized'" grep -qi "Rejected Permanent, Source: Service User" <<<"$out"
  ok "... with that reason" grep -qi "Reason: $which AE Title Not Recognized" <<<"$out"
  gw_wait_event "event=association " 3 "$mark" || true
  ok "... the event says rejected, with the reason" has "$(last_assoc "$mark")" "end=rejected reason=\"$which AE title \\\\\"WRONG\\\\\" not recognized\""
done
ok "the PACS saw no association for either" test "$(pacs_assocs)" -eq "$before"

# ---- a SOP class the policy does not list, next to allowed ones ---------------------------
mkdir -p "$LAB_DIR/mr" "$LAB_DIR/ct2"
"$LAB_PY" "$LAB_LIB/make_dicom.py" -q -o "$LAB_DIR/ct2" -m CT -n 2 -s 64K --seed 13
"$LAB_PY" - "$LAB_DIR/ct2/CT0001.dcm" "$LAB_DIR/mr/MR0001.dcm" <<'EOF2'
import sys
from pydicom import dcmread
from pydicom.uid import generate_uid
ds = dcmread(sys.argv[1])
ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"  # MR Image Storage
ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid(prefix="1.2.826.0.1.3680043.8.498.", entropy_srcs=["mr"])
ds.Modality = "MR"
ds.save_as(sys.argv[2], write_like_original=False)
EOF2
mr_uid=$(dcmdump +P SOPInstanceUID "$LAB_DIR/mr/MR0001.dcm" | sed -n 's/.*\[\(.*\)\].*/\1/p')
mark=$(gw_lines)
set +e
out=$(scu storescu -to 10 -R -nh -aet PETCT1 -aec PACS_MAIN "${pacs[@]}" \
  "$LAB_DIR/ct2/CT0001.dcm" "$LAB_DIR/mr/MR0001.dcm" "$LAB_DIR/ct2/CT0002.dcm" 2>&1)
set -e
ok "storescu reports no presentation context for the MR file" grep -q "No presentation context for: (MR) 1.2.840.10008.5.1.4.1.1.4" <<<"$out"
ok "the CT files before and after it arrived identical" "$LAB_PY" "$LAB_LIB/dcmcompare.py" --allow-extra "$LAB_DIR/ct2" "$LAB_PACS_STORE"
not "the MR file did not reach the PACS" grep -rqF "$mr_uid" "$LAB_PACS_STORE"
gw_wait_event "event=association " 3 "$mark" || true
ev=$(last_assoc "$mark")
# storescu -R proposes each SOP class twice (the file's transfer syntax, and Implicit VR LE)
ok "the event counts the 2 MR contexts the policy rejected, and the 2 stores" has "$ev" "contexts_proposed=4 " \
  "contexts_accepted=2 " "contexts_rejected_policy=2 " "contexts_rejected_acceptor=0 " " c_store=2 " "end=released$"

# ---- a DIMSE request the policy does not list: 0x0124 from the proxy, the association goes on --
# Policy variant: the scanner may no longer C-FIND at the PACS (Study Root stays listed, so the
# context is accepted and the request itself is what the proxy refuses).
sed '/^to = "pacs"/,/^dimse/ s/^dimse = .*/dimse = ["C-ECHO", "C-STORE", "N-ACTION", "C-MOVE"]/' \
  "$GW_TOP/policy/examples/pet-ct-win7.toml" >"$LAB_DIR/nofind.toml"
ok "the policy variant differs from the example only in that dimse list" test \
  "$(diff "$GW_TOP/policy/examples/pet-ct-win7.toml" "$LAB_DIR/nofind.toml" | grep -c '^[<>]')" -eq 2
lab_restart pacs dcmqrscp
pacs_log=$(lab_service_log pacs)
finds() { grep -ci "find" "$pacs_log" || true; }
# Control, with the example policy: an allowed C-FIND reaches dcmqrscp and shows in its log.
ok "control: with C-FIND allowed, findscu at the PACS succeeds" \
  scu findscu -to 5 -S -aet PETCT1 -aec PACS_MAIN -k QueryRetrieveLevel=STUDY -k StudyInstanceUID "${pacs[@]}"
ok "control: ... and the PACS's log shows the C-FIND" test "$(finds)" -gt 0
finds_before=$(finds)
cp "$LAB_DIR/nofind.toml" "$GW_POLICY"
mark=$(gw_lines)
gw_reload
ok "the variant is in force" gw_wait_event "event=reload_applied" 5 "$mark"
mark=$(gw_lines)
set +e
out=$(n scan "$LAB_PY" "$LAB_LIB/dulprobe.py" dimse --host "$LAB_PACS_IP" --calling PETCT1 --called PACS_MAIN \
  find echo "store:$LAB_DIR/ct2/CT0001.dcm" "pipelined:$LAB_DIR/ct2/CT0002.dcm" find echo 2>&1)
set -e
echo "$out" | sed 's/^/     /'
ok "C-FIND is answered 0x0124 (refused: not authorized)" test "$(grep -c '^op=find status=0x0124$' <<<"$out")" -eq 2
ok "C-ECHO on the same association still succeeds, before and after" test "$(grep -c '^op=echo status=0x0000$' <<<"$out")" -eq 2
ok "so does a C-STORE" grep -q '^op=store status=0x0000$' <<<"$out"
ok "a C-STORE and a C-FIND sent in one write: the store passes, the find is refused" \
  grep -q '^op=pipelined store=0x0000 find=0x0124$' <<<"$out"
ok "and the association is released normally" grep -q '^release=ok$' <<<"$out"
gw_wait_event "event=association " 3 "$mark" || true
ok "the event counts 3 refused C-FIND, 2 C-ECHO, 2 C-STORE" has "$(last_assoc "$mark")" " c_store=2 " \
  " c_find=0 c_find_refused=3 " " c_echo=2 " "end=released$"
set +e; out=$(scu findscu -v -to 5 -S -aet PETCT1 -aec PACS_MAIN -k QueryRetrieveLevel=STUDY -k StudyInstanceUID "${pacs[@]}" 2>&1); set -e
# dcmtk knows 0x0124 (PS3.7 C.5.4, refused: not authorized) only as "Unknown Status" for C-FIND
ok "dcmtk's findscu gets the refusal status 0x0124" grep -q "Received Final Find Response (Unknown Status: 0x124)" <<<"$out"
ok "the PACS never saw any of the refused C-FIND" test "$(finds)" -eq "$finds_before"

# ---- the smallest maximum PDU the policy allows: many small PDUs per read, all intact -------
sed '/^to = "pacs"/,/^sop_classes/ s/^sop_classes = .*/&\nmax_pdu = 4096/' \
  "$GW_TOP/policy/examples/pet-ct-win7.toml" >"$GW_POLICY"
mark=$(gw_lines)
gw_reload
ok "policy variant with max_pdu = 4096 towards the PACS is in force" gw_wait_event "event=reload_applied" 5 "$mark"
lab_restart pacs storescp
set +e
out=$(scu storescu -v -to 10 -aet PETCT1 -aec PACS_MAIN "${pacs[@]}" "$LAB_DIR"/in/*.dcm 2>&1); rc=$?
set -e
ok "C-STORE of the 6 files with 4 KiB PDUs" test $rc -eq 0
grep "Association Accepted" <<<"$out" | sed "s/^/     /" || true
ok "... the proxy told storescu a maximum of 4096 (dcmtk: Max Send PDV 4096 - 12)" grep -q "Association Accepted (Max Send PDV: 4084)" <<<"$out"
ok "... and they arrived identical" "$LAB_PY" "$LAB_LIB/dcmcompare.py" --allow-extra "$LAB_DIR/in" "$LAB_PACS_STORE"

# ---- Nagle at both dcmtk ends: no delayed-ACK stall per file -------------------------------
cp "$GW_TOP/policy/examples/pet-ct-win7.toml" "$GW_POLICY"
mark=$(gw_lines)
gw_reload
gw_wait_event "event=reload_applied" 5 "$mark" || true
LAB_TCP_NODELAY=0 lab_restart pacs storescp
ok "the PACS runs with Nagle on (no TCP_NODELAY in its environment)" \
  grep -qz "TCP_NODELAY=0" "/proc/$(<"$LAB_DIR/run/pacs.pid")/environ"
"$LAB_PY" "$LAB_LIB/make_dicom.py" -q -o "$LAB_DIR/nagle" -m CT -n 20 -s 512K --seed 14
t0=$(_lab_now_us)
ok "C-STORE of 20 x 0.5 MB, both ends with Debian's default (Nagle on)" \
  n scan env -u TCP_NODELAY storescu -to 10 -aet PETCT1 -aec PACS_MAIN "${pacs[@]}" "$LAB_DIR"/nagle/*.dcm
ms=$((($(_lab_now_us) - t0) / 1000))
echo "     20 files with Nagle on at both ends through modgate: ${ms} ms (a 40 ms stall per file would be >= 800 ms)"
ok "... took ${ms} ms, well under 20 x 40 ms (bound 400 ms)" test "$ms" -lt 400
ok "... and arrived identical" "$LAB_PY" "$LAB_LIB/dcmcompare.py" --allow-extra "$LAB_DIR/nagle" "$LAB_PACS_STORE"

ok "every DICOM flow of the run had exactly one association event" test \
  "$(gw_count_events 'event=association ')" -eq "$(gw_count_events 'event=flow_opened .*service=dicom')"
ok "nothing leaked to the management network" test "$(lab_mgmt_leak_total)" -eq 0
ok "modgated is still running" gw_alive
gw_stop
gw_done
