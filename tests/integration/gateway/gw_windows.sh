#!/usr/bin/env bash
# Maintenance windows: the vendor is reachable only inside a window; a window closes on time
# through its kernel timeout even with modgated stopped, and a restart does not bring it back;
# open windows survive restarts and reloads; callers are authorised by the kernel's view of
# their groups (supplementary ones too); closing cuts live sessions; open latency is measured.
#   usage: gw_windows.sh MODGATED MODGATECTL   (root)
set -euo pipefail
MODGATED=$(realpath "$1") MODGATECTL=$(realpath "$2")
. "$(dirname "$0")/gw_lib.sh"

group="mgw$$"
groupadd "$group"
trap 'groupdel "$group" 2>/dev/null || true' EXIT
gid=$(getent group "$group" | cut -d: -f3)

lab_up modgate
sed "s/^cut_sessions = true.*/cut_sessions = true\ngroup = \"$group\"/" "$GW_TOP/policy/examples/pet-ct-win7.toml" >"$LAB_DIR/windows.toml"
grep -q "^group = \"$group\"" "$LAB_DIR/windows.toml"
gw_policy "$LAB_DIR/windows.toml"
gw_start
vendor_tls() { labnet scan tls --timeout 2 --sni remote.vendor.example --ca "$LAB_TLS_CA" "$LAB_VENDOR_IP" 443 >/dev/null 2>&1; }
window_elements() { n gw nft list set inet modgate window_tcp | grep -c ' timeout ' || true; }
as_user() { # as_user GROUPS cmd...: nobody, with the given supplementary groups ("" for none)
  local groups=$1; shift
  if [ -n "$groups" ]; then setpriv --reuid=65534 --regid=65534 --groups="$groups" "$@"
  else setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; fi
}

mark=$(gw_lines)
not "outside a window the vendor's TLS endpoint is unreachable" vendor_tls
ok "... and the attempt is a drop event" gw_wait_event "event=drop rule=flow dir=out .*dst=$LAB_VENDOR_IP .*dport=443" 3 "$mark"

# Authorisation: the caller's supplementary group, as the kernel reports it.
set +e
as_user "" "$MODGATECTL" --socket "$GW_SOCK" window open pet-ct-1 vendor-remote --for 10m --reason "CHG-1" 2>"$LAB_DIR/refused.err"
rc=$?
set -e
ok "a caller outside the group is refused (exit 4)" test "$rc" -eq 4
ok "... with a refusal event naming the caller" gw_wait_event "event=window_refused .*uid=65534" 3 "$mark"
ok "... and nothing opened" test "$(window_elements)" -eq 0
ok "a caller anyone may ask for the list" as_user "" "$MODGATECTL" --socket "$GW_SOCK" window list
ok "a caller in the group only as a supplementary group may open" \
  as_user "$gid" "$MODGATECTL" --socket "$GW_SOCK" window open pet-ct-1 vendor-remote --for 10m --reason "CHG-1234 detector firmware"
ok "... the open is an audit event with uid, reason, modality, vendor and time" \
  gw_wait_event "event=window_open modality=pet-ct-1 vendor=vendor-remote cause=manual at=[0-9T:-]+Z .*uid=65534 user=nobody reason=\"CHG-1234 detector firmware\"" 3 "$mark"
ok "inside the window the vendor's TLS endpoint is reachable" vendor_tls
ok "the kernel element carries the remaining time (timeout 10m)" sh -c "ip netns exec $(lab_ns gw) nft list set inet modgate window_tcp | grep -q 'timeout 10m expires 9m5[0-9]s'"

# Refusals with clear errors.
set +e
gw_ctl window open pet-ct-1 vendor-remote --for 5h --reason x 2>"$LAB_DIR/over.err"; over=$?
gw_ctl window open pet-ct-1 nobody --for 1h --reason x 2>"$LAB_DIR/unknown.err"; unknown=$?
gw_ctl window open pet-ct-1 vendor-remote --for 1h 2>"$LAB_DIR/noreason.err"; noreason=$?
set -e
ok "a duration over max_duration is refused (exit 1)" test "$over" -eq 1 && grep -q "over max_duration 4h" "$LAB_DIR/over.err"
ok "an unknown vendor is refused (exit 1)" test "$unknown" -eq 1 && grep -q "unknown vendor 'nobody'" "$LAB_DIR/unknown.err"
ok "a missing reason is refused (exit 1)" test "$noreason" -eq 1 && grep -q "reason is required" "$LAB_DIR/noreason.err"

# An open window survives a reload and a restart.
mark=$(gw_lines); gw_reload; gw_wait_event "event=reload_applied" 5 "$mark"
ok "the window survives a reload" sh -c "'$MODGATECTL' --socket '$GW_SOCK' window list | grep -q 'pet-ct-1/vendor-remote .*open'"
ok "... and still lets the vendor in" vendor_tls
gw_stop; gw_start
ok "the window survives a restart" sh -c "'$MODGATECTL' --socket '$GW_SOCK' window list | grep -q 'open .*by nobody: CHG-1234'"
ok "... its element is still in the kernel" test "$(window_elements)" -eq 1
ok "... and the vendor still gets in" vendor_tls
mark=$(gw_lines)
n gw nft flush ruleset
gw_wait_event "event=ruleset_reapplied" 2 "$mark"
ok "after someone flushes the ruleset the open window's element is put back" test "$(window_elements)" -eq 1
ok "... and the vendor still gets in" vendor_tls

# Closing cuts live sessions (cut_sessions = true).
n scan bash -c "exec 3<>/dev/tcp/$LAB_VENDOR_IP/443; sleep 20" >/dev/null 2>&1 &
held=$!
lab_wait_until 5 eval "n gw ss -tn state established | grep -q '$LAB_VENDOR_IP:443'"
mark=$(gw_lines)
ok "closing by hand works" gw_ctl window close pet-ct-1 vendor-remote --reason "done"
ok "... cuts the live vendor session" gw_wait_event "event=flow_closed .*allow=pet-ct-1->vendor-remote:window .*reason=\"maintenance window closed\"" 3 "$mark"
ok "... removes the kernel element" test "$(window_elements)" -eq 0
not "... and the vendor is unreachable again" vendor_tls
kill "$held" 2>/dev/null || true

# A 5-second window expires by its kernel timeout with modgated stopped, and stays closed.
gw_ctl window open pet-ct-1 vendor-remote --for 5s --reason "short test"
opened=$(_lab_now_us)
gw_stop
ok "with modgated stopped the 5-second window's element stays in the kernel" test "$(window_elements)" -eq 1
lab_wait_until 10 eval '[ "$(window_elements)" -eq 0 ]'
gone_ms=$(( ($(_lab_now_us) - opened) / 1000 ))
ok "its kernel element is gone on time (${gone_ms} ms after opening)" test "$gone_ms" -ge 4000 -a "$gone_ms" -le 6500
not "... and the vendor is unreachable with modgated still stopped" vendor_tls
mark=$(gw_lines)
gw_start
ok "a restart does not bring it back" test "$(window_elements)" -eq 0
ok "... and says so" gw_wait_event "event=window_restore .*outcome=ended" 3 "$mark"
not "... the vendor stays unreachable" vendor_tls

# Latency of window open through the control socket (open, then close, 20 times).
lat=()
for i in $(seq 1 20); do
  t0=$(_lab_now_us)
  gw_ctl window open pet-ct-1 vendor-remote --for 10m --reason "latency $i" >/dev/null
  lat+=($(( $(_lab_now_us) - t0 )))
  gw_ctl window close pet-ct-1 vendor-remote --reason "latency $i" >/dev/null
done
median=$(printf '%s\n' "${lat[@]}" | sort -n | sed -n 10p)
echo "window open latency through the control socket: median ${median} us over 20 (max $(printf '%s\n' "${lat[@]}" | sort -n | tail -1) us)"
ok "window open answers in well under a second (median ${median} us)" test "$median" -lt 500000

# A scheduled slot running now: the window opens by itself at start, until the slot's end; a
# manual close holds it shut for the rest of the slot, across a restart.
gw_stop
now_min=$((10#$(date -u +%H) * 60 + 10#$(date -u +%M)))
hhmm() { printf '%02d:%02d' $(( ($1 + 1440) % 1440 / 60 )) $(( ($1 + 1440) % 60 )); }
slot="daily $(hhmm $((now_min - 1)))-$(hhmm $((now_min + 3)))"
sed -e "s/^schedule = .*/schedule = [\"$slot\"]/" -e 's|^timezone = .*|timezone = "UTC"|' "$LAB_DIR/windows.toml" >"$GW_POLICY"
grep -q "^schedule = \[\"$slot\"\]" "$GW_POLICY"
mark=$(gw_lines)
gw_start
ok "a slot running now ($slot UTC) opens the window at start" \
  gw_wait_event "event=window_open modality=pet-ct-1 vendor=vendor-remote cause=schedule" 3 "$mark"
ok "... its kernel element ends with the slot (under 4 minutes left)" \
  sh -c "ip netns exec $(lab_ns gw) nft list set inet modgate window_tcp | grep -Eq 'expires [0-3]m[0-9]+s'"
ok "... and the vendor is reachable" vendor_tls
gw_ctl window close pet-ct-1 vendor-remote --reason "not today" >/dev/null
ok "a manual close during the slot holds it shut" sh -c "'$MODGATECTL' --socket '$GW_SOCK' window list | grep -q 'held closed by root'"
mark=$(gw_lines)
gw_stop; gw_start
ok "after a restart the slot stays closed" test "$(window_elements)" -eq 0
ok "... because the hold was restored" gw_wait_event "event=window_restore .*record=hold outcome=restored" 3 "$mark"
not "... and the vendor stays unreachable" vendor_tls
gw_stop
gw_done
