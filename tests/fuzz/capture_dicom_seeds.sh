#!/usr/bin/env bash
# Records real DCMTK associations (echo, store, find, get, move) through capture_dicom.py as
# dicom_decoder seeds named dcmtk-*, most flagged for the permissive policy (flags 5).
# Needs dcmtk and /usr/bin/python3; no root.
#   tests/fuzz/capture_dicom_seeds.sh [OUTPUT_DIR]   (default: tests/fuzz/corpus/dicom)
# Images are synthetic (dump2dcm); the AE titles match the fuzz target's policy: PETCT1 calls
# PACS_MAIN.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/corpus/dicom}
work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
relay=47101 qr=47102 dest=47103

wait_listen() {  # port
  for _ in $(seq 100); do ss -ltn "sport = :$1" | grep -q LISTEN && return 0; sleep 0.05; done
  echo "nothing listens on $1" >&2; return 1
}

image() {  # sop-class-keyword modality instance-number file
  {
    echo "(0008,0016) UI =$1"
    echo "(0008,0018) UI [1.2.826.0.1.3680043.9.7433.1.$3]"
    echo "(0008,0020) DA [20240101]"
    echo "(0008,0060) CS [$2]"
    echo "(0010,0010) PN [Synthetic^Phantom]"
    echo "(0010,0020) LO [PHANTOM1]"
    echo "(0020,000d) UI [1.2.826.0.1.3680043.9.7433.2.1]"
    echo "(0020,000e) UI [1.2.826.0.1.3680043.9.7433.3.$3]"
    echo "(0020,0013) IS [$3]"
    echo "(0028,0002) US 1"
    echo "(0028,0004) CS [MONOCHROME2]"
    echo "(0028,0010) US 48"
    echo "(0028,0011) US 48"
    echo "(0028,0100) US 16"
    echo "(0028,0101) US 12"
    echo "(0028,0102) US 11"
    echo "(0028,0103) US 0"
    printf '(7fe0,0010) OW '
    /usr/bin/python3 -c 'print("\\".join("%04x" % (i * 37 % 4096) for i in range(48 * 48)))'
  } >"$work/$4.txt"
  dump2dcm --write-xfer-little --line 65536 "$work/$4.txt" "$work/$4"
}

tolerate() { "$@" || true; }  # for a command whose refusal is the point

capture() {  # name flags -- command...
  local name=$1 flags=$2; shift 3
  /usr/bin/python3 "$here/capture_dicom.py" "$relay" "$qr" "$out/dcmtk-$name" "$flags" &
  local relay_pid=$!
  wait_listen "$relay"
  if ! "$@" >"$work/$name.log" 2>&1; then
    echo "capture $name: command failed" >&2
    cat "$work/$name.log" >&2
    kill "$relay_pid" 2>/dev/null || true
    wait "$relay_pid" 2>/dev/null || true
    rm -f "$out/dcmtk-$name"
    return 1
  fi
  wait "$relay_pid"
  echo "captured dcmtk-$name ($(stat -c %s "$out/dcmtk-$name") bytes)"
}

mkdir -p "$work/db" "$work/dest" "$work/get"
image CTImageStorage CT 1 ct.dcm
image PositronEmissionTomographyImageStorage PT 2 pet.dcm
cat >"$work/qr.cfg" <<CFG
NetworkTCPPort  = $qr
MaxPDUSize      = 16384
MaxAssociations = 16
HostTable BEGIN
PETCT1 = (PETCT1, 127.0.0.1, $dest)
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
PACS_MAIN $work/db RW (100, 64mb) ANY
AETable END
CFG
dcmqrscp -c "$work/qr.cfg" >"$work/qr.log" 2>&1 & pids+=($!)
storescp -aet PETCT1 --output-directory "$work/dest" "$dest" >"$work/dest.log" 2>&1 & pids+=($!)
wait_listen "$qr"
wait_listen "$dest"

ae=(-aet PETCT1 -aec PACS_MAIN)
capture echo 5 -- echoscu "${ae[@]}" 127.0.0.1 "$relay"
capture store-all-contexts 5 -- storescu "${ae[@]}" --max-pdu 4096 127.0.0.1 "$relay" "$work/ct.dcm" "$work/pet.dcm"
capture store-required-identity 0 -- storescu "${ae[@]}" -R --user modality --password secret \
  --propose-lossless 127.0.0.1 "$relay" "$work/ct.dcm"
study=(-k QueryRetrieveLevel=STUDY -k StudyInstanceUID=1.2.826.0.1.3680043.9.7433.2.1)
capture find 5 -- findscu "${ae[@]}" -S "${study[@]}" -k PatientID 127.0.0.1 "$relay"
capture get 5 -- getscu "${ae[@]}" -S "${study[@]}" --output-directory "$work/get" 127.0.0.1 "$relay"
capture move 5 -- movescu "${ae[@]}" -S -aem PETCT1 "${study[@]}" 127.0.0.1 "$relay"
capture move-unknown-destination 5 -- tolerate movescu "${ae[@]}" -S -aem ELSEWHERE "${study[@]}" 127.0.0.1 "$relay"
