#!/usr/bin/env bash
# Associations the PACS opens back to the scanner, through modgated: a C-MOVE whose C-STORE
# sub-operations dcmqrscp sends to the scanner's own SCP (files identical, an inbound event), and
# a storage commitment round trip with Orthanc 1.10: N-ACTION from the scanner (stgcmt.py), the
# N-EVENT-REPORT on a new association Orthanc opens to the scanner's AE, naming every stored
# instance as committed and a never-stored one as failed.
#   usage: gw_dicom_retrieve.sh MODGATED MODGATECTL   (root)
set -euo pipefail
MODGATED=$(realpath "$1") MODGATECTL=$(realpath "$2")
. "$(dirname "$0")/gw_lib.sh"

LAB_SERVICES="scanner-scp pacs dns" LAB_PACS=dcmqrscp lab_up modgate
gw_policy "$GW_TOP/policy/examples/pet-ct-win7.toml"
gw_start
last_assoc() { tail -n +"$(($1 + 1))" "$GW_LOG" | grep "event=association " | grep -- "$2" | tail -n 1; }
has() { local t=$1; shift; local r; for r in "$@"; do grep -Eq -- "$r" <<<"$t" || return 1; done; }
scu() { n scan env TCP_NODELAY=1 "$@"; }
pacs=("$LAB_PACS_IP" 104)

# ---- C-MOVE: dcmqrscp sends the study back to the scanner's own SCP -----------------------
"$LAB_PY" "$LAB_LIB/make_dicom.py" -q -o "$LAB_DIR/study" -m mix -n 6 -s 256K --seed 21
"$LAB_PY" "$LAB_LIB/make_dicom.py" -q -o "$LAB_DIR/other" -m CT -n 2 -s 64K -p 1 --seed 22
ok "store a study of 3 PET + 3 CT, and another study, in dcmqrscp" \
  scu storescu -to 10 -aet PETCT1 -aec PACS_MAIN "${pacs[@]}" "$LAB_DIR"/study/*.dcm "$LAB_DIR"/other/*.dcm
study=$(dcmdump +P StudyInstanceUID "$LAB_DIR/study/CT0002.dcm" | sed -n 's/.*\[\(.*\)\].*/\1/p')
ok "the scanner's store is empty before the retrieve" test -z "$(ls -A "$LAB_SCANNER_STORE")"
mark=$(gw_lines)
set +e
out=$(scu movescu -v -to 10 -S -aet PETCT1 -aec PACS_MAIN -aem PETCT1 \
  -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$study" "${pacs[@]}" 2>&1)
rc=$?
set -e
ok "movescu (destination PETCT1) succeeds" test $rc -eq 0
ok "... with a final Success after 6 sub-operations" grep -q "Received Final Move Response (Success)" <<<"$out"
ok "the study arrived in the scanner's own store identical" \
  "$LAB_PY" "$LAB_LIB/dcmcompare.py" "$LAB_DIR/study" "$LAB_SCANNER_STORE"
ok "... and nothing else" test "$(find "$LAB_SCANNER_STORE" -type f | wc -l)" -eq 6
ok "the scanner's SCP saw the PACS's own address" grep -q "Association Received: $LAB_PACS_IP" "$(lab_service_log scanner-scp)"
gw_wait_event "event=association .*dir=in " 5 "$mark" || true
gw_wait_event "event=association .*c_move=1 " 5 "$mark" || true
ok "inbound event: PACS_MAIN -> PETCT1, 6 C-STORE, released" has "$(last_assoc "$mark" "dir=in ")" \
  "allow=pacs->pet-ct-1:dicom " "src=$LAB_PACS_IP:" "dst=$LAB_SCANNER_IP:104 " "calling_ae=PACS_MAIN " \
  "called_ae=PETCT1 " " c_store=6 " "end=released$"
ok "outbound event: one C-MOVE, released" has "$(last_assoc "$mark" "dir=out ")" "calling_ae=PETCT1 " \
  "called_ae=PACS_MAIN " " c_move=1 " "end=released$"

# A move to a destination the policy does not name: refused by the proxy (0xA801).
mark=$(gw_lines)
set +e
out=$(scu movescu -v -to 10 -S -aet PETCT1 -aec PACS_MAIN -aem EVIL_AE \
  -k QueryRetrieveLevel=STUDY -k StudyInstanceUID="$study" "${pacs[@]}" 2>&1)
set -e
grep "Final Move Response" <<<"$out" | sed 's/^/     /' || true
ok "C-MOVE to an AE title the policy does not name gets 0xA801" grep -q "Received Final Move Response (Refused: MoveDestinationUnknown)" <<<"$out"
gw_wait_event "event=association .*c_move_refused=1" 5 "$mark" || true
ok "... counted as refused in its event" has "$(last_assoc "$mark" "dir=out ")" " c_move=0 c_move_refused=1 "

# ---- storage commitment with Orthanc 1.10 --------------------------------------------------
# The lab's Orthanc knows petct1 in DicomModalities in the short form, where every Allow* flag,
# AllowStorageCommitment (= AllowNAction + AllowEventReport) included, defaults to true; that
# entry is also where Orthanc finds the AE's address for the report association.
lab_restart pacs orthanc
"$LAB_PY" "$LAB_LIB/make_dicom.py" -q -o "$LAB_DIR/commit" -m mix -n 4 -s 128K --seed 23
ok "store 4 instances in Orthanc" scu storescu -to 10 -aet PETCT1 -aec PACS_MAIN "${pacs[@]}" "$LAB_DIR"/commit/*.dcm
lab_stop scanner-scp
mark=$(gw_lines)
set +e
out=$(n scan "$LAB_PY" "$LAB_LIB/stgcmt.py" --host "$LAB_PACS_IP" --port 104 --calling PETCT1 --called PACS_MAIN \
  --listen 104 --missing 1 --timeout 20 "$LAB_DIR/commit" 2>&1)
rc=$?
set -e
echo "$out" | sed 's/^/     /'
ok "stgcmt.py: N-ACTION answered with success" grep -q "^n_action status=0x0000 .* requested=5$" <<<"$out"
ok "the report came on a new association from the PACS's address to PETCT1" \
  grep -q "^report_association peer=$LAB_PACS_IP calling=PACS_MAIN called=PETCT1 " <<<"$out"
committed=$(sed -n 's/^committed //p' <<<"$out" | sort)
stored=$(for f in "$LAB_DIR"/commit/*.dcm; do dcmdump +P SOPInstanceUID "$f" | sed -n 's/.*\[\(.*\)\].*/\1/p'; done | sort)
ok "every stored instance is reported committed, and only those" test -n "$stored" -a "$committed" = "$stored"
ok "the never-stored instance is reported failed (0x0112, no such object instance)" \
  test "$(grep -c '^failed .* reason=0x0112$' <<<"$out")" -eq 1
ok "event type 2 (some failed), transaction matched, report released" \
  grep -q "^report event_type=2 transaction_match=yes committed=4 failed=1 release=ok$" <<<"$out"
ok "stgcmt.py exits 0" test $rc -eq 0
gw_wait_event "event=association .*n_event_report=" 5 "$mark" || true
ok "outbound event: one N-ACTION, released" has "$(last_assoc "$mark" "dir=out ")" " n_action=1 " "end=released$"
ok "inbound event: PACS_MAIN -> PETCT1, one N-EVENT-REPORT, released" has "$(last_assoc "$mark" "dir=in ")" \
  "allow=pacs->pet-ct-1:dicom " "src=$LAB_PACS_IP:" "calling_ae=PACS_MAIN " "called_ae=PETCT1 " \
  " n_event_report=1 " "end=released$"
ok "Orthanc logged the report to PETCT1 (4 successes, 1 failures)" \
  grep -q 'Reporting modality "PETCT1" about storage commitment transaction: .* (4 successes, 1 failures)' "$(lab_service_log pacs)"

ok "every DICOM flow had exactly one association event" test \
  "$(gw_count_events 'event=association ')" -eq "$(gw_count_events 'event=flow_opened .*service=dicom')"
ok "modgated is still running" gw_alive
gw_stop
gw_done
