#!/usr/bin/env bash
# Privilege separation: the process that parses the modality's bytes runs under a user of its
# own, without CAP_NET_ADMIN, with no_new_privs and a seccomp filter on top of the parent's.
# (modgated-probes, the test binary) it is told to attempt, in turn, an nftables change over
# netlink, a raw and a packet socket, SO_MARK, execve, opening /etc/hostname and ptrace of its
# parent: each kills it (SIGSYS), the parent reports it and restarts it, and the ruleset is
# unchanged. SIGKILL of the proxy during a probe loop from the modality to the PACS's DICOM port
# and to a raw TCP peer: no handshake completes and no connection reaches the peer until it is
# back, within a second; then a C-STORE passes again.
#   usage: gw_privsep.sh MODGATED MODGATECTL   (root)
set -euo pipefail
MODGATED=$(realpath "$1") MODGATECTL=$(realpath "$2")
. "$(dirname "$0")/gw_lib.sh"
GW_PROBES=1  # the probes below kill the proxy on purpose

lab_up modgate
gw_policy "$GW_TOP/policy/examples/pet-ct-win7.toml"
cat >>"$GW_POLICY" <<'EOF2'

[[peer]]
name = "files"
ip = "10.20.1.45"

[[allow]]
modality = "pet-ct-1"
to = "files"
service = "tcp"
ports = [445]
EOF2
gw_start

json_field() { gw_ctl status --json | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
proxy_pid() { json_field "['proxy']['pid']"; }
field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
child=$(proxy_pid)
ok "status names the proxy process" test "$child" -gt 0
ok "... a child of modgated" test "$(awk '$1 == "PPid:" { print $2 }' "/proc/$child/status")" = "$GW_PID"
ok "its uid is not the parent's" test "$(field "$child" Uid)" != "$(field "$GW_PID" Uid)"
ok "... nor root" test "$(field "$child" Uid)" != 0
ok "its gid is not the parent's" test "$(field "$child" Gid)" != "$(field "$GW_PID" Gid)"
cap_eff=$((16#$(field "$child" CapEff)))
ok "CapEff has no CAP_NET_ADMIN" test $((cap_eff & (1 << 12))) -eq 0
ok "... only CAP_NET_RAW and CAP_NET_BIND_SERVICE" test "$cap_eff" -eq $(((1 << 13) | (1 << 10)))
ok "CapBnd has those two alone" test $((16#$(field "$child" CapBnd))) -eq $(((1 << 13) | (1 << 10)))
ok "NoNewPrivs 1" test "$(field "$child" NoNewPrivs)" = 1
ok "Seccomp 2 (filter)" test "$(field "$child" Seccomp)" = 2
ok "more seccomp filters than the parent" test "$(field "$child" Seccomp_filters)" -gt "$(field "$GW_PID" Seccomp_filters)"
ok "its root is an empty directory" test "$(readlink "/proc/$child/root")" = "$LAB_DIR/state/empty"
# Landlock: the ABI the kernel offers (landlock_create_ruleset with the version flag), and the one
# the proxy says it restricted itself with.
abi=$(/usr/bin/python3 -c 'import ctypes; print(max(0, ctypes.CDLL(None, use_errno=True).syscall(444, None, 0, 1)))')
ok "it restricted itself with the kernel's Landlock ABI ($abi)" gw_wait_event "event=proxy_started pid=$child uid=[0-9]+ landlock=$abi " 1
echo "     proxy $child: uid $(field "$child" Uid | cut -f1), CapEff $(field "$child" CapEff), filters $(field "$child" Seccomp_filters)"

# The probes: a control request only test builds answer.
ctl_raw() { # ctl_raw REQUEST-LINE: the reply's first line
  /usr/bin/python3 - "$GW_SOCK" "$1" <<'EOF3'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(sys.argv[2].encode() + b"\n")
print(s.makefile().readline().strip())
EOF3
}
before=$(gw_listing)
for probe in netlink raw packet mark exec open ptrace; do
  old=$(proxy_pid) mark=$(gw_lines)
  ok "probe $probe: ordered" test "$(ctl_raw "cmd=probe name=$probe")" = ok
  ok "probe $probe: the proxy was killed by its filter" gw_wait_event "event=proxy_exited pid=$old signal=SIGSYS" 5 "$mark"
  ok "probe $probe: ... and restarted within a second" gw_wait_event "event=proxy_started pid=[0-9]+ .*landlock=$abi " 2 "$mark"
  ok "probe $probe: the attempt never returned" test "$(gw_count_events "event=proxy_probe" "$mark")" -eq 0
  ok "probe $probe: a new process" test "$(proxy_pid)" != "$old"
done
ok "the ruleset is unchanged after every probe" test "$(gw_listing)" = "$before"
ok "the restarts are counted" test "$(json_field "['proxy']['restarts']")" -ge 7

# SIGKILL during a probe loop. The loop records every attempt (time, target, handshake done);
# the raw peer logs every connection it accepts, with its time.
echo_pacs() { n scan env TCP_NODELAY=1 echoscu -to 3 -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104 >/dev/null 2>&1; }
ok "before: C-ECHO through the proxy" echo_pacs
sleep 1  # let the proxy age past its young-death back-off
probes="$LAB_DIR/probes.log"
n scan /usr/bin/python3 - "$LAB_PACS_IP" "$LAB_FILES_IP" "$probes" <<'EOF3' &
import socket, sys, time
targets = [(sys.argv[1], 104), (sys.argv[2], 445)]
end = time.time() + 4
with open(sys.argv[3], "w", buffering=1) as out:
    while time.time() < end:
        for host, port in targets:
            s = socket.socket()
            s.settimeout(0.2)
            t = time.time()
            try:
                s.connect((host, port))
                ok = 1
            except OSError:
                ok = 0
            s.close()
            out.write(f"{t:.6f} {host}:{port} {ok}\n")
        time.sleep(0.01)
EOF3
loop=$!
sleep 1
child=$(proxy_pid)
t_kill=$EPOCHREALTIME
kill -9 "$child"
# The gap starts when the process has exited (its sockets closed): until then the kernel may
# still complete a handshake on its listener's behalf.
dead() { [ ! -e "/proc/$child/stat" ] || [ "$(awk '{ print $3 }' "/proc/$child/stat" 2>/dev/null)" = Z ]; }
lab_wait_until 1 dead
t_dead=$EPOCHREALTIME
wait "$loop"
report=$(/usr/bin/python3 - "$probes" "$LAB_DIR/log/files.log" "$t_kill" "$t_dead" <<'EOF3'
import re, sys
t_kill, t_dead = float(sys.argv[3]), float(sys.argv[4])
rows = [l.split() for l in open(sys.argv[1])]
after = [(float(t), tgt, ok == "1") for t, tgt, ok in rows if float(t) >= t_dead]
back = min((t for t, _, ok in after if ok), default=None)
if back is None:
    print("never back"); sys.exit(0)
failed = sum(1 for t, _, ok in after if t < back and not ok)
done = sum(1 for t, _, ok in after if t < back and ok)
accepts = [float(m.group(1)) for m in (re.match(r"ts=(\S+) event=tcp_accept", l) for l in open(sys.argv[2])) if m]
reached = sum(1 for t in accepts if t_dead <= t < back)
print(f"gap={back - t_kill:.3f} exit={t_dead - t_kill:.3f} failed={failed} completed={done} reached={reached}")
EOF3
)
echo "     after SIGKILL: $report"
grep -E "event=proxy_(exited|started)" "$GW_LOG" | tail -2 | sed 's/^/     /' 
gap=$(sed -n 's/.*gap=\([0-9.]*\).*/\1/p' <<<"$report")
ok "the proxy is back within a second" /usr/bin/python3 -c "import sys; sys.exit(0 if 0 < float('${gap:-9}') < 1.0 else 1)"
ok "attempts during the gap failed" grep -Eq "failed=[1-9]" <<<"$report"
ok "no handshake completed during the gap" grep -q "completed=0" <<<"$report"
ok "no connection reached the raw peer during the gap" grep -q "reached=0" <<<"$report"
ok "the parent reported the kill" gw_wait_event "event=proxy_exited pid=$child signal=SIGKILL" 2
"$LAB_PY" "$LAB_LIB/make_dicom.py" -q -o "$LAB_DIR/in" -n 3 -s 256K --seed 11
ok "after: C-STORE through the new proxy" \
  n scan env TCP_NODELAY=1 timeout 60 storescu -to 10 -aet PETCT1 -aec PACS_MAIN "$LAB_PACS_IP" 104 "$LAB_DIR"/in/*.dcm
ok "every dataset arrived identical" "$LAB_PY" "$LAB_LIB/dcmcompare.py" "$LAB_DIR/in" "$LAB_PACS_STORE"

last=$(proxy_pid)
gw_stop
ok "stopping modgated stops the proxy" lab_wait_until 3 eval '! kill -0 '"$last"' 2>/dev/null'
gw_done
