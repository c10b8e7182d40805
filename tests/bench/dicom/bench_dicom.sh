#!/usr/bin/env bash
# DICOM C-STORE through modgate against baselines measured in the same run, in the lab: the
# scanner's storescu (10.20.30.40) sends to a storescp on the PACS host (10.20.1.5:104).
#   direct  the gateway's bridge up with no rules and no modgated: a plain switch
#   socat   direct, plus a plain relay hop: socat on the router (10.20.30.1:11112 -> PACS:104)
#           with TCP_NODELAY on both legs and 64 KiB buffers, a userspace hop like modgate
#   modgate modgated running the example policy: the inspecting DICOM proxy on the bridge
#   tcp     modgated with the PACS flow as a plain tcp allow instead: the same kernel path
#           (divert, tproxy, two TCP legs) and modgated's plain relay, no DICOM inspection;
#           the difference to modgate is what the inspection itself costs
# The modes alternate within each round, so drift hits them alike. Figures (medians of RUNS,
# the best run beside them): one association of 500 files / 262 MB; 200 one-image
# associations each (the median association, ms added by modgate); and the same 500-file store
# with both dcmtk ends left at Debian's default (Nagle on), direct vs modgate. Ratios: modgate /
# direct throughput (target >= 0.9), modgate vs socat (target: faster), added ms per
# association (target < 1), Nagle-on speed-up (target >= 10x).
# With MODGATED_BEFORE set to another modgated binary (bench_privsep.sh builds the one from
# before privilege separation), each round also runs it the same way, and the figures compare
# the two: throughput now / before (target >= 0.95), ms added per association (target < 0.5).
#   usage: bench_dicom.sh BUILD_DIR [RUNS]   (root; run by tests/bench/run.sh, not by ctest)
set -euo pipefail
build=$(realpath "${1:?usage: bench_dicom.sh BUILD_DIR [RUNS]}")
runs=${2:-5}
nagle_runs=$((runs < 3 ? runs : 3))  # a direct Nagle-on run takes ~23 s
MODGATED=$build/gateway/modgated MODGATECTL=$build/gateway/modgatectl
top=$(cd "$(dirname "$0")/../../.." && pwd)
for b in "$MODGATED" "$MODGATECTL"; do [ -x "$b" ] || { echo "bench_dicom: $b not built" >&2; exit 1; }; done
# shellcheck source=../../integration/gateway/gw_lib.sh
. "$top/tests/integration/gateway/gw_lib.sh"

nfiles=500 size=512K assocs=200
data="$build/tests/bench/dicom/data"
# Deterministic inputs (same arguments, same bytes): generated once, kept in the build tree.
if [ "$(find "$data/store" -name '*.dcm' 2>/dev/null | wc -l)" -ne $nfiles ]; then
  rm -rf "$data/store"
  echo "bench_dicom: generating $nfiles files of $size pixel data in $data/store" >&2
  "$LAB_PY" "$top/tests/lab/make_dicom.py" -q -o "$data/store" -m mix -n $nfiles -s $size --seed 500
fi
[ -s "$data/one/CT0001.dcm" ] || "$LAB_PY" "$top/tests/lab/make_dicom.py" -q -o "$data/one" -m CT -n 1 -s 64K --seed 501
files=("$data"/store/*.dcm)
total_bytes=$(cat "${files[@]}" | wc -c)
cat "${files[@]}" "$data/one/CT0001.dcm" >/dev/null  # into the page cache: runs read from memory

others=$(find /run/netns -maxdepth 1 -name 'mg*-gw' 2>/dev/null | wc -l)
LAB_QUIET_FAIL=1 LAB_SERVICES="dns" lab_up control 2>/dev/null
gw_policy "$top/policy/examples/pet-ct-win7.toml"
dicom_policy=$GW_POLICY tcp_policy="$LAB_DIR/tcp-relay.toml"
"$LAB_PY" - "$dicom_policy" "$tcp_policy" <<'EOF2'
import sys
text = open(sys.argv[1]).read()
old = 'to = "pacs"\nservice = "dicom"\n'
head, sep, tail = text.partition(old)
assert sep, "the example policy has no dicom allow to the PACS"
tail = tail.split("\n", 2)[2]  # its dimse and sop_classes lines
open(sys.argv[2], "w").write(head + 'to = "pacs"\nservice = "tcp"\nports = [104]\n' + tail)
EOF2
"$MODGATECTL" check "$tcp_policy" >/dev/null || { echo "bench_dicom: the relay policy variant is invalid" >&2; exit 1; }
# A plain switch as modgated leaves the bridge when it is not running: bridged frames skip the
# IP hooks (br_netfilter is built in and defaults to on in a new namespace).
n gw sysctl -qw net.bridge.bridge-nf-call-iptables=0 net.bridge.bridge-nf-call-ip6tables=0 \
  net.bridge.bridge-nf-call-arptables=0
socat_ip=$LAB_ROUTER_IP socat_port=11112

# storescp on the PACS host receives every dataset but writes none (--ignore): the figures are
# the network path, not the disk. scp_start 1|0: TCP_NODELAY=1 in its environment, or Nagle on.
scp_start() {
  LAB_TCP_NODELAY=$1 _lab_spawn bench-scp pacs "tcp:104" storescp --fork -dhl -aet PACS_MAIN --ignore 104
  lab_wait_ready 10 bench-scp
}
socat_start() {
  _lab_spawn socat rtr "tcp:$socat_port" socat -b 65536 \
    "TCP-LISTEN:$socat_port,bind=$socat_ip,reuseaddr,fork,nodelay" "TCP:$LAB_PACS_IP:104,nodelay"
  lab_wait_ready 10 socat
}
modgate_on() { GW_POLICY=${1:-$dicom_policy}; gw_start >/dev/null; }
# modgated's user+sys, ms: the daemon and its proxy process (children that exited count in
# the parent's cutime/cstime once reaped).
cpu_ms() {
  local p
  for p in "$GW_PID" $(pgrep -P "$GW_PID"); do cat "/proc/$p/stat"; done 2>/dev/null |
    awk -v hz="$(getconf CLK_TCK)" '{ t += $14 + $15 + $16 + $17 } END { print int(t * 1000 / hz) }'
}
modgate_off() {  # stop modgated (its rules stay: fail closed), then remove them: a plain switch again
  gw_stop
  local family
  for family in bridge inet arp; do n gw nft delete table "$family" modgate 2>/dev/null || true; done
  lab_wait_forwarding 5
}

# store_ms NODELAY HOST PORT FILE...: wall time of one storescu association (all files), ms
store_ms() {
  local nd=$1 host=$2 port=$3 t0 envs=(env -u TCP_NODELAY)
  shift 3
  [ "$nd" = 1 ] && envs=(env TCP_NODELAY=1)
  t0=$(_lab_now_us)
  n scan "${envs[@]}" storescu -to 60 -aet PETCT1 -aec PACS_MAIN "$host" "$port" "$@" ||
    { echo "bench_dicom: storescu to $host:$port failed" >&2; return 1; }
  echo $((($(_lab_now_us) - t0) / 1000))
}
# assoc_us HOST PORT: the median of $assocs one-image associations (storescu, one 64 KiB CT
# image each), in microseconds; one shell in the scanner's namespace runs and times them all.
assoc_us() {
  # shellcheck disable=SC2016  # expanded by the inner shell
  n scan env TCP_NODELAY=1 bash -c 'for ((i = 0; i < $1; i++)); do
      t0=${EPOCHREALTIME/./}
      storescu -to 10 -aet PETCT1 -aec PACS_MAIN "$2" "$3" "$4" || exit 1
      t1=${EPOCHREALTIME/./}
      echo $((10#$t1 - 10#$t0))
    done' _ "$assocs" "$1" "$2" "$data/one/CT0001.dcm" >"$LAB_DIR/assoc.txt" ||
    { echo "bench_dicom: an association to $1:$2 failed" >&2; return 1; }
  local each
  mapfile -t each <"$LAB_DIR/assoc.txt"
  median "${each[@]}"
}
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
best() { printf '%s\n' "$@" | sort -n | head -n 1; }
mbps() { awk -v b="$total_bytes" -v ms="$1" 'BEGIN { printf "%.0f", b / 1e6 / (ms / 1000) }'; }
ms3() { awk -v v="$1" 'BEGIN { printf "%.2f", v / 1000 }'; }

echo "bench_dicom: storescu -> storescp --ignore (received, not written); $nfiles files, $(awk -v b="$total_bytes" 'BEGIN { printf "%.1f", b / 1e6 }') MB in one association"
echo "bench_dicom: TCP_NODELAY=1 in both dcmtk ends' environment unless 'Nagle on'; $runs rounds (Nagle: $nagle_runs), medians [best]; $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
((others == 0)) || echo "bench_dicom: WARNING: $others other lab(s) running on this machine: figures are noisy"

direct=() socat=() modgate=() tcp=() a_direct=() a_modgate=() cpu=() cpu_tcp=() before=() a_before=()
# before_round: the store and the associations through MODGATED_BEFORE, when it is set.
before_round() {
  [ -n "${MODGATED_BEFORE:-}" ] || return 0
  local now=$MODGATED
  MODGATED=$MODGATED_BEFORE
  modgate_on
  before+=("$(store_ms 1 "$LAB_PACS_IP" 104 "${files[@]}")")
  a_before+=("$(assoc_us "$LAB_PACS_IP" 104)")
  modgate_off
  MODGATED=$now
  echo "  round $r, before: store ${before[-1]} ms, association $(ms3 "${a_before[-1]}") ms"
}
scp_start 1
socat_start
for ((r = 1; r <= runs; r++)); do
  direct+=("$(store_ms 1 "$LAB_PACS_IP" 104 "${files[@]}")")
  socat+=("$(store_ms 1 "$socat_ip" "$socat_port" "${files[@]}")")
  a_direct+=("$(assoc_us "$LAB_PACS_IP" 104)")
  modgate_on
  c0=$(cpu_ms)
  modgate+=("$(store_ms 1 "$LAB_PACS_IP" 104 "${files[@]}")")
  cpu+=($(($(cpu_ms) - c0)))
  a_modgate+=("$(assoc_us "$LAB_PACS_IP" 104)")
  modgate_off
  modgate_on "$tcp_policy"
  c0=$(cpu_ms)
  tcp+=("$(store_ms 1 "$LAB_PACS_IP" 104 "${files[@]}")")
  cpu_tcp+=($(($(cpu_ms) - c0)))
  modgate_off
  before_round
  echo "  round $r: store direct ${direct[-1]} ms, socat ${socat[-1]} ms, modgate ${modgate[-1]} ms" \
    "(modgated CPU ${cpu[-1]} ms), plain relay ${tcp[-1]} ms (CPU ${cpu_tcp[-1]} ms);" \
    "association direct $(ms3 "${a_direct[-1]}") ms, modgate $(ms3 "${a_modgate[-1]}") ms"
done

# Nagle on at both ends (Debian's default): direct, a delayed-ACK stall of ~40 ms per file.
lab_stop bench-scp
scp_start 0
n_direct=() n_modgate=()
for ((r = 1; r <= nagle_runs; r++)); do
  n_direct+=("$(store_ms 0 "$LAB_PACS_IP" 104 "${files[@]}")")
  modgate_on
  n_modgate+=("$(store_ms 0 "$LAB_PACS_IP" 104 "${files[@]}")")
  modgate_off
  echo "  Nagle on, round $r: direct ${n_direct[-1]} ms, modgate ${n_modgate[-1]} ms"
done

md=$(median "${direct[@]}") ms=$(median "${socat[@]}") mm=$(median "${modgate[@]}") mr=$(median "${tcp[@]}")
ad=$(median "${a_direct[@]}") am=$(median "${a_modgate[@]}")
nd=$(median "${n_direct[@]}") nm=$(median "${n_modgate[@]}")
row() { printf '  %-50s %8s ms %6s MB/s   [best %s ms]\n' "$1" "$2" "$(mbps "$2")" "$3"; }
row "direct (bridge, no rules)" "$md" "$(best "${direct[@]}")"
row "socat hop on the router (nodelay, -b 65536)" "$ms" "$(best "${socat[@]}")"
row "modgate (DICOM proxy, example policy)" "$mm" "$(best "${modgate[@]}")"
row "modgated plain TCP relay, same path (no inspection)" "$mr" "$(best "${tcp[@]}")"
printf '  %-50s %8s ms (DICOM proxy), %s ms (plain relay), per store\n' "modgated CPU, user+sys" \
  "$(median "${cpu[@]}")" "$(median "${cpu_tcp[@]}")"
printf '  %-50s %8s ms   [best %s ms]\n' "one association, 1 image of 64 KiB: direct" "$(ms3 "$ad")" "$(ms3 "$(best "${a_direct[@]}")")"
printf '  %-50s %8s ms   [best %s ms]\n' "one association, 1 image of 64 KiB: modgate" "$(ms3 "$am")" "$(ms3 "$(best "${a_modgate[@]}")")"
row "Nagle on at both ends: direct" "$nd" "$(best "${n_direct[@]}")"
row "Nagle on at both ends: modgate" "$nm" "$(best "${n_modgate[@]}")"
verdict() { if awk "BEGIN { exit !($1) }"; then echo "met"; else echo "MISSED"; fi; }
r_thr=$(awk -v d="$md" -v m="$mm" 'BEGIN { printf "%.2f", d / m }')
r_socat=$(awk -v s="$ms" -v m="$mm" 'BEGIN { printf "%.2f", s / m }')
added=$(awk -v d="$ad" -v m="$am" 'BEGIN { printf "%.2f", (m - d) / 1000 }')
r_nagle=$(awk -v d="$nd" -v m="$nm" 'BEGIN { printf "%.1f", d / m }')
echo "ratio modgate/direct throughput: $r_thr (target >= 0.9: $(verdict "$r_thr >= 0.9"))"
echo "ratio modgate/socat throughput: $r_socat (target > 1, modgate faster: $(verdict "$r_socat > 1"))"
echo "(diagnostic) DICOM inspection vs modgated's plain relay on the same path: $(awk -v r="$mr" -v m="$mm" 'BEGIN { printf "%.2f", r / m }') of its throughput"
echo "added per association by modgate: $added ms (target < 1 ms: $(verdict "$added < 1"))"
echo "Nagle on at both ends, modgate speed-up over direct: ${r_nagle}x (target >= 10x: $(verdict "$r_nagle >= 10"))"
if [ -n "${MODGATED_BEFORE:-}" ]; then
  mb=$(median "${before[@]}") ab=$(median "${a_before[@]}")
  row "modgate before privilege separation" "$mb" "$(best "${before[@]}")"
  printf '  %-50s %8s ms   [best %s ms]\n' "one association, 1 image of 64 KiB: before" "$(ms3 "$ab")" "$(ms3 "$(best "${a_before[@]}")")"
  r_sep=$(awk -v b="$mb" -v m="$mm" 'BEGIN { printf "%.2f", b / m }')
  added_sep=$(awk -v b="$ab" -v m="$am" 'BEGIN { printf "%.2f", (m - b) / 1000 }')
  echo "ratio throughput now/before privilege separation: $r_sep (target >= 0.95: $(verdict "$r_sep >= 0.95"))"
  echo "added per association by privilege separation: $added_sep ms (target < 0.5 ms: $(verdict "$added_sep < 0.5"))"
fi
