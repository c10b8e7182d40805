#!/usr/bin/env bash
# Events as an operator and a SIEM see them: `modgatectl events --follow` shows an SMB attempt's
# drop as it happens; events, status and window list in JSON parse back; a C-STORE completes
# while one file sink is stalled (a FIFO nobody reads), the other sinks get every event, and the
# event loop's longest stall stays bounded. (A sink that overflows its queue, its drop counter
# and its summary event are shown by unit.gateway.)
#   usage: gw_events.sh MODGATED MODGATECTL   (root)
set -euo pipefail
MODGATED=$(realpath "$1") MODGATECTL=$(realpath "$2")
. "$(dirname "$0")/gw_lib.sh"

lab_up modgate
gw_policy "$GW_TOP/policy/examples/pet-ct-win7.toml"
# A file sink that stalls: a FIFO whose reader holds it open with a one-page buffer and reads
# nothing until told to (then copies what it reads to fifo.out).
fifo="$LAB_DIR/stalled.fifo"
mkfifo "$fifo"
/usr/bin/python3 - "$fifo" "$LAB_DIR/drain" "$LAB_DIR/fifo.out" <<'EOF3' &
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
fcntl.fcntl(fd, 1031, 4096)  # F_SETPIPE_SZ: one page, full after a few lines
while not os.path.exists(sys.argv[2]):
    time.sleep(0.1)
with open(sys.argv[3], "ab", buffering=0) as out:
    while True:
        out.write(os.read(fd, 65536))
EOF3
holder=$!
copy="$LAB_DIR/copy.log"
cat >>"$GW_POLICY" <<EOF2

[logging]
level = "info"

[[logging.sink]]
type = "file"
path = "$fifo"

[[logging.sink]]
type = "file"
path = "$copy"
EOF2
gw_start

follow="$LAB_DIR/follow.log"
gw_ctl events --follow >"$follow" 2>&1 &
follower=$!
lab_wait_until 5 grep -q "event=started" "$follow" || true
ok "events --follow starts with the recent events" grep -q "event=started" "$follow"
not "SMB scanner -> file server fails" tcp_open scan "$LAB_FILES_IP" 445
ok "events --follow shows the SMB attempt's drop as it happens" \
  lab_wait_until 3 grep -Eq "event=drop rule=flow dir=out .*dst=$LAB_FILES_IP .*dport=445" "$follow"
kill "$follower" 2>/dev/null || true

# Events enough to fill the stalled sink's one-page pipe (three per C-ECHO); its writer blocks,
# the gateway goes on.
for i in $(seq 1 10); do n scan env TCP_NODELAY=1 echoscu -to 5 -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104 || true; done
"$LAB_PY" "$LAB_LIB/make_dicom.py" -q -o "$LAB_DIR/in" -n 6 -s 512K --seed 7
ok "C-STORE completes while a sink is stalled" \
  n scan env TCP_NODELAY=1 timeout 60 storescu -to 10 -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104 "$LAB_DIR"/in/*.dcm
ok "every dataset arrived identical" "$LAB_PY" "$LAB_LIB/dcmcompare.py" "$LAB_DIR/in" "$LAB_PACS_STORE"
ok "the other file sink got the association" gw_wait_event "event=association .*c_store=6" 5 0
ok "... and so did the copy" lab_wait_until 5 grep -q "event=association .*c_store=6" "$copy"

status="$LAB_DIR/status.json"
gw_ctl status --json >"$status"
check_json() { /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)" "$@"; }
ok "status --json parses and counts the store" check_json "$status" "d['dimse']['forwarded']['c_store'] == 6 and d['proxy']['accepted'] >= 1"
ok "status has the kernel's count of the SMB drop" check_json "$status" "d['drops_available'] and d['drops']['flow:out'] >= 1"
ok "the stalled sink is behind the others" check_json "$status" "d['sinks']['file:$fifo']['written'] < d['sinks']['file:$copy']['written']"
ok "no sink lost anything yet" check_json "$status" "all(k['dropped'] == 0 for k in d['sinks'].values())"
/usr/bin/python3 -c "import json,sys; print('     sinks:', json.load(open(sys.argv[1]))['sinks'])" "$status"
lag=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['loop_max_lag_ms'])" "$status")
echo "     event loop late by at most ${lag} ms while a sink was stalled"
ok "the event loop never stalled for a second" test "$lag" -lt 1000

# Drain the FIFO: the stalled sink catches up with everything it had queued.
touch "$LAB_DIR/drain"
ok "the stalled sink catches up once its reader reads" lab_wait_until 10 grep -q "event=association .*c_store=6" "$LAB_DIR/fifo.out"
kill "$holder" 2>/dev/null || true

events_json="$LAB_DIR/events.json"
gw_ctl events --json --kind association >"$events_json"
ok "events --json is one JSON object per line, filtered by kind" /usr/bin/python3 -c "
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert rows and all(r['event']=='association' for r in rows), rows
assert any(r['dimse_counts'].get('c_store')==6 for r in rows)" "$events_json"
ok "events --modality keeps the scanner's events" sh -c "'$MODGATECTL' --socket '$GW_SOCK' events --modality pet-ct-1 | grep -q 'dst=$LAB_FILES_IP'"
rc=0; gw_ctl events --kind nonsense >/dev/null 2>&1 || rc=$?
ok "an unknown kind is refused (exit 1)" test "$rc" -eq 1
windows_json="$LAB_DIR/windows.json"
gw_ctl window list --json >"$windows_json"
ok "window list --json parses" /usr/bin/python3 -c "
import json,sys
w=json.load(open(sys.argv[1]))
assert w and all({'modality','vendor','open'} <= set(x) for x in w), w" "$windows_json"
gw_stop
gw_done
