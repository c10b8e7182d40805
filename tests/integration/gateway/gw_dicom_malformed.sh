#!/usr/bin/env bash
# Malformed and out-of-order DICOM UL traffic from the scanner (dulprobe.py, raw sockets): every
# case is answered with an A-ABORT, an A-ASSOCIATE-RJ or a close within ARTIM (3 s here), never
# a hang, and the proxy never connects upstream for a bad A-ASSOCIATE-RQ: a recording listener
# standing in for the PACS gets no connection and a capture on the PACS's port sees no packet.
# A positive control shows both oracles do see a valid association. Then, inside established
# associations with the real PACS, a broken PDU aborts both legs at once and none of its bytes
# reach the PACS (the PDUs on the wire, from a capture), while the good PDUs before it do.
#   usage: gw_dicom_malformed.sh MODGATED MODGATECTL   (root)
set -euo pipefail
MODGATED=$(realpath "$1") MODGATECTL=$(realpath "$2")
. "$(dirname "$0")/gw_lib.sh"

artim=3
LAB_SERVICES="scanner-scp pacs" lab_up modgate
cat "$GW_TOP/policy/examples/pet-ct-win7.toml" - >"$LAB_DIR/artim.toml" <<EOF2

[gateway.dicom]
artim = "${artim}s"
EOF2
gw_policy "$LAB_DIR/artim.toml"
gw_start
probe() { n scan "$LAB_PY" "$LAB_LIB/dulprobe.py" malformed "$@" --host "$LAB_PACS_IP" --port 104 --wait $((artim + 7)); }

# The PACS is replaced by a recording listener, and its port is captured.
lab_stop pacs
_lab_net recorder recorder
_lab_spawn recorder pacs "tcp:104" "${_LAB_NET[@]}" --tcp 104
lab_wait_ready 10 recorder
rec_log=$(lab_service_log recorder)
rec_accepts() { grep -c "event=tcp_accept" "$rec_log" || true; }
lab_capture_start upstream pacs eth0 tcp port 104

# answer_ok LINE MAX_SECONDS: an A-ABORT, an RJ or a close, within MAX_SECONDS, connection closed.
answer_ok() {
  local line=$1 max=$2 answer elapsed closed
  answer=$(sed -n 's/.* answer=\([a-z]*\).*/\1/p' <<<"$line")
  elapsed=$(sed -n 's/.* elapsed=\([0-9.]*\).*/\1/p' <<<"$line")
  closed=$(sed -n 's/.* closed=\([a-z]*\).*/\1/p' <<<"$line")
  [[ $answer =~ ^(abort|rj|close|reset)$ ]] && [ "$closed" = yes ] &&
    awk -v e="$elapsed" -v m="$max" 'BEGIN { exit !(e != "" && e + 0 <= m + 0) }'
}
# between LINE LO HI: elapsed within [LO, HI] (the ARTIM cases close on the timer, not before)
elapsed_between() {
  awk -v e="$(sed -n 's/.* elapsed=\([0-9.]*\).*/\1/p' <<<"$1")" -v lo="$2" -v hi="$3" \
    'BEGIN { exit !(e != "" && e + 0 >= lo + 0 && e + 0 <= hi + 0) }'
}

# The answer each case gets (PS3.8 9.3.8: A-ABORT source 2, reason 1 unrecognized PDU, 2
# unexpected PDU, 5 unexpected parameter, 6 invalid parameter value; 9.3.4: RJ 1/2/2 protocol
# version not supported). The brief of these tests is "abort, RJ or close in time"; the exact
# answer is asserted separately so a change of mapping shows up by name.
declare -A expect=(
  [oversize-rq]="abort source=2 reason=6" [oversize-max]="abort source=2 reason=6"
  [rq-too-short]="abort source=2 reason=6" [item-longer-than-pdu]="abort source=2 reason=6"
  [subitem-longer-than-item]="abort source=2 reason=6" [even-pc-id]="abort source=2 reason=6"
  [duplicate-pc-id]="abort source=2 reason=6" [uid-not-numeric]="abort source=2 reason=6"
  [two-app-contexts]="abort source=2 reason=5" [ae-control-calling]="abort source=2 reason=6"
  [ae-control-called]="abort source=2 reason=6" [ae-blank-calling]="abort source=2 reason=6"
  [bad-protocol-version]="rj result=1 source=2 reason=2" [unknown-pdu-type]="abort source=2 reason=1"
  [unknown-pdu-type-ff]="abort source=2 reason=1" [pdata-before-rq]="abort source=2 reason=2"
  [release-before-rq]="abort source=2 reason=2" [truncated-then-silence]="close"
  [header-only-then-silence]="close" [silence]="close"
)
immediate="oversize-rq oversize-max rq-too-short item-longer-than-pdu subitem-longer-than-item even-pc-id
  duplicate-pc-id uid-not-numeric two-app-contexts ae-control-calling ae-control-called ae-blank-calling
  bad-protocol-version unknown-pdu-type unknown-pdu-type-ff pdata-before-rq release-before-rq"
on_timer="truncated-then-silence header-only-then-silence silence"
ncases=0
for c in $immediate $on_timer; do
  ncases=$((ncases + 1))
  mark=$(gw_lines)
  line=$(probe "$c")
  echo "     $line"
  if [[ " $on_timer " == *" $c "* ]]; then
    ok "$c: closed on the ARTIM timer (${artim} s), not before" elapsed_between "$line" $((artim - 1)) $((artim + 2))
    ok "$c: answered with A-ABORT, RJ or a close" answer_ok "$line" $((artim + 2))
  else
    ok "$c: answered with A-ABORT, RJ or a close at once (< 1 s)" answer_ok "$line" 1
  fi
  ok "$c: the answer is: ${expect[$c]}" grep -q "answer=${expect[$c]} " <<<"$line"
  ok "$c: the recording PACS got no connection" test "$(rec_accepts)" -eq 0
  ok "$c: one association event, not released" gw_wait_event "event=association .*end=(aborted|rejected|timeout|closed)" 3 "$mark"
  gw_wait_event "event=association " 3 "$mark" && tail -n +"$((mark + 1))" "$GW_LOG" | grep "event=association " | sed 's/.*\(end=.*\)/     \1/'
done
ok "every case left exactly one association event" test "$(gw_count_events 'event=association ')" -eq "$ncases"
not "no association was ever released" grep -q "event=association .*end=released" "$GW_LOG"
ok "modgated is still running" gw_alive
lab_capture_stop upstream >/dev/null
ok "the capture on the PACS's port saw no packet at all" test "$(lab_capture_count upstream)" -eq 0
ok "the recorder received no byte" test -z "$(grep 'event=tcp_close' "$rec_log" | grep -v ' rx=0 ')"

# Positive control: a valid association does reach the recorder, and the capture sees it (the
# recorder's banner is no DICOM, so the proxy then aborts it).
lab_capture_start control pacs eth0 tcp port 104
not "control: echoscu against the recorder fails (its banner is not DICOM)" \
  n scan env TCP_NODELAY=1 echoscu -to 5 -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104
ok "control: the recorder got the scanner's connection" lab_wait_until 3 grep -q "event=tcp_accept .*peer=$LAB_SCANNER_IP:" "$rec_log"
ok "control: ... and the A-ASSOCIATE-RQ's bytes" lab_wait_until 3 grep -Eq "event=tcp_close .*peer=$LAB_SCANNER_IP:[0-9]+ rx=[1-9]" "$rec_log"
lab_capture_stop control >/dev/null
ok "control: the capture saw that connection" test "$(lab_capture_count control)" -gt 0

# Inside an established association (the real PACS again): a broken PDU aborts both legs, and
# nothing of it reaches the PACS. The oracle is the wire: the PDUs the proxy's upstream leg (the
# scanner's address, transparent) carried to the PACS, from a capture on the PACS's port.
lab_stop recorder
lab_start pacs
established="established-pdv-longer-than-pdu established-unaccepted-context established-pdata-over-max
  established-rq-again established-abort-after-data"
lab_capture_start est pacs eth0 tcp port 104
for c in $established; do
  mark=$(gw_lines)
  line=$(probe "$c")
  echo "     $line"
  ok "$c: the scanner gets an A-ABORT at once" grep -q "answer=abort source=2 " <<<"$line"
  ok "$c: ... within a second, then a close" answer_ok "$line" 1
  ok "$c: the event says aborted with a reason" gw_wait_event "event=association .*end=aborted reason=" 3 "$mark"
done
sleep 0.2  # the last A-ABORT's segment into the capture
lab_capture_stop est >/dev/null
mapfile -t wire < <("$LAB_PY" "$LAB_LIB/pcapdul.py" "$LAB_DIR/cap/est.pcap" --from "$LAB_SCANNER_IP" --to "$LAB_PACS_IP:104")
i=0
for c in $established; do
  echo "     to the PACS: ${wire[$i]:-nothing}"
  if [ "$c" = established-abort-after-data ]; then
    # what was judged good before the broken PDU still goes out, in order, then the A-ABORT
    ok "$c: the PACS got the RQ, the three C-ECHO, then one A-ABORT, nothing else" \
      grep -Eq '^A-ASSOCIATE-RQ P-DATA-TF P-DATA-TF P-DATA-TF A-ABORT\(2,[0-9]+\)$' <<<"${wire[$i]:-}"
  else
    ok "$c: the PACS got the RQ, then one A-ABORT, nothing of the broken PDU" \
      grep -Eq '^A-ASSOCIATE-RQ A-ABORT\(2,[0-9]+\)$' <<<"${wire[$i]:-}"
  fi
  i=$((i + 1))
done
ok "one upstream connection per case" test "${#wire[@]}" -eq "$(wc -w <<<"$established")"
ok "after all that, a valid C-ECHO still passes" n scan env TCP_NODELAY=1 echoscu -to 5 -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104
ok "modgated is still running" gw_alive
gw_stop
gw_done
