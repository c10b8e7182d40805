# shellcheck shell=bash
# Helpers for modgated's lab tests: run the daemon in the lab's gateway namespace, talk to it,
# wait for its events, and count assertions. Source after setting MODGATED and MODGATECTL (the
# test scripts take them as $1 and $2).
GW_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../../lab/lab.sh
. "$GW_LIB/../../lab/lab.sh"
GW_TOP=$(cd "$GW_LIB/../../.." && pwd)

: "${MODGATED:?set MODGATED to the modgated binary}"
: "${MODGATECTL:?set MODGATECTL to the modgatectl binary}"
[ "$(id -u)" -eq 0 ] || { echo "must run as root (network namespaces)" >&2; exit 1; }

gw_pass=0 gw_fail=0
# ok DESCRIPTION cmd...: an assertion that the command succeeds.
ok() {
  local what=$1; shift
  if "$@"; then gw_pass=$((gw_pass + 1)); echo "ok   $what"
  else gw_fail=$((gw_fail + 1)); echo "FAIL $what"; fi
}
# not DESCRIPTION cmd...: an assertion that the command fails.
not() {
  local what=$1; shift
  if "$@"; then gw_fail=$((gw_fail + 1)); echo "FAIL $what"
  else gw_pass=$((gw_pass + 1)); echo "ok   $what"; fi
}
gw_done() {
  # A sanitizer build of modgated reports memory errors, undefined behaviour and leaks here.
  if [ -n "$GW_LOG" ] && grep -qE "(Address|Leak|UndefinedBehavior)Sanitizer|runtime error:" "$GW_LOG"; then
    gw_fail=$((gw_fail + 1)); echo "FAIL modgated reported a sanitizer error (see $GW_LOG)"
  fi
  # A proxy process killed by its seccomp filter means a system call missing from its allow-list
  # (unless the test provoked it: gw_privsep.sh sets GW_PROBES=1).
  if [ -n "$GW_LOG" ] && [ -z "${GW_PROBES:-}" ] && grep -qE "event=proxy_(exited .*signal=SIGSYS|failed)" "$GW_LOG"; then
    gw_fail=$((gw_fail + 1)); echo "FAIL the proxy process was killed by its filter or failed (see $GW_LOG)"
  fi
  echo "$gw_pass passed, $gw_fail failed"
  [ "$gw_fail" -eq 0 ] && [ "$gw_pass" -gt 0 ]
}

GW_LOG=  GW_PID=  GW_POLICY=  GW_SOCK=
# gw_policy FILE: the policy the daemon runs (copied, so tests may edit it and reload).
gw_policy() { GW_POLICY="$LAB_DIR/policy.toml"; cp "$1" "$GW_POLICY"; }

# gw_start: start modgated in the gateway namespace and wait until it has raised the ports.
gw_start() {
  GW_LOG="$LAB_DIR/log/modgated.log" GW_SOCK="$LAB_DIR/control.sock"
  chmod 755 "$LAB_DIR"  # anyone may ask for status; the daemon checks who may change state
  : "${GW_POLICY:=$LAB_DIR/policy.toml}"
  touch "$GW_LOG"
  local mark; mark=$(gw_lines)
  # `ip netns exec` execs into modgated, so $! is the daemon itself (signals reach it directly).
  ip netns exec "$(lab_ns gw)" "$MODGATED" --policy "$GW_POLICY" --control-socket "$GW_SOCK" \
    --state-dir "$LAB_DIR/state" >>"$GW_LOG" 2>&1 &
  GW_PID=$!
  disown "$GW_PID" 2>/dev/null || true
  gw_wait_event "event=started" 10 "$mark" || { echo "modgated did not start:"; tail -20 "$GW_LOG"; return 1; }
  lab_wait_gw_up 10
}
gw_lines() { [ -f "${GW_LOG:-/nonexistent}" ] && wc -l <"$GW_LOG" || echo 0; }
gw_alive() { [ -n "$GW_PID" ] && kill -0 "$GW_PID" 2>/dev/null; }
gw_stop() { # gw_stop [SIGNAL]
  [ -n "$GW_PID" ] || return 0
  kill -"${1:-TERM}" "$GW_PID" 2>/dev/null || true
  lab_wait_until 10 eval '! kill -0 '"$GW_PID"' 2>/dev/null'
  GW_PID=
}
gw_ctl() { "$MODGATECTL" --socket "$GW_SOCK" "$@"; }
gw_reload() { kill -HUP "$GW_PID"; }

# gw_wait_event REGEX [SECONDS] [FROM_LINE]: wait for an event line after line FROM_LINE.
gw_wait_event() { lab_wait_until "${2:-5}" _gw_has_event "$1" "${3:-0}"; }
# (grep reads to the end: with -q it would stop at the first match, and tail, killed by SIGPIPE
# on a long log, would fail the pipeline under pipefail.)
_gw_has_event() { tail -n +"$(($2 + 1))" "$GW_LOG" | grep -E -- "$1" >/dev/null; }
# gw_count_events REGEX [FROM_LINE]
gw_count_events() { tail -n +"$((${2:-0} + 1))" "$GW_LOG" | grep -Ec -- "$1" || true; }

# gw_listing: modgate's tables as the kernel holds them, canonical (no counter values, no expiry).
gw_listing() {
  { n gw nft list table bridge modgate; n gw nft list table inet modgate; n gw nft list table arp modgate; } \
    2>&1 | "$GW_TOP/tests/lib/nftcanon.py" -
}

# tcp_open ROLE HOST PORT: a TCP connection from ROLE succeeds within a second.
tcp_open() { labnet "$1" tcp --timeout 1 "$2" "$3" >/dev/null 2>&1; }
