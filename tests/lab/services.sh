# shellcheck shell=bash
# The lab's services: starting them in their namespaces, waiting until they listen, stopping
# them. Sourced by lab.sh; every function expects a lab that is up.

# _lab_spawn NAME ROLE "PROTO:PORT..." cmd...: start a service in its own session, logging to
# $LAB_DIR/log/NAME.log; its readiness is the listed sockets.
_lab_spawn() {
  local - name=$1 role=$2 ready=$3 ns pid
  shift 3
  set +m  # with job control on, the job would lead its group and setsid would fork
  ns=$(lab_ns "$role") || return 2
  if [[ -s "$LAB_DIR/run/$name.pid" ]] && _lab_alive "$(<"$LAB_DIR/run/$name.pid")"; then
    lab_log "service $name is already running"
    return 1
  fi
  ip netns exec "$ns" setsid env TCP_NODELAY="$LAB_TCP_NODELAY" "$@" \
    >>"$LAB_DIR/log/$name.log" 2>&1 </dev/null &
  pid=$!
  disown "$pid"
  echo "$pid" >"$LAB_DIR/run/$name.pid"
  echo "$role $ready" >"$LAB_DIR/run/$name.ready"
}

_lab_service_ready() {
  local name=$1 pid role ready
  pid=$(<"$LAB_DIR/run/$name.pid")
  if ! _lab_alive "$pid"; then
    lab_log "service $name (pid $pid) exited during start-up; its log:"
    tail -n 20 "$LAB_DIR/log/$name.log" | sed 's/^/    /' >&2
    return 2
  fi
  read -r role ready <"$LAB_DIR/run/$name.ready"
  # shellcheck disable=SC2086
  lab_listening "$role" $ready
}

# lab_wait_ready [SECONDS] NAME...: wait for services together; fail fast if one dies.
lab_wait_ready() {
  local timeout=10
  [[ ${1:-} =~ ^[0-9.]+$ ]] && { timeout=$1; shift; }
  local deadline=$(($(_lab_now_us) + $(_lab_us "$timeout"))) pending=("$@") left s rc
  while ((${#pending[@]})); do
    left=()
    for s in "${pending[@]}"; do
      rc=0
      _lab_service_ready "$s" || rc=$?
      ((rc == 2)) && return 1
      ((rc == 0)) || left+=("$s")
    done
    pending=("${left[@]+"${left[@]}"}")
    ((${#pending[@]})) || break
    if (($(_lab_now_us) >= deadline)); then
      lab_log "timeout after ${timeout}s waiting for: ${pending[*]}"
      for s in "${pending[@]}"; do
        lab_log "  $s expects: $(<"$LAB_DIR/run/$s.ready")"
        tail -n 5 "$LAB_DIR/log/$s.log" | sed 's/^/    /' >&2
      done
      return 1
    fi
    sleep 0.02
  done
}

# lab_start NAME [ARG]: start a service and wait until it listens. Names: scanner-ports
# scanner-scp pacs [storescp|dcmqrscp|orthanc] ris dns ntp files vendor siem mgmt-dns.
lab_start() {
  local name=$1
  shift
  declare -F "_lab_svc_${name//-/_}" >/dev/null || { lab_log "unknown service '$name'"; return 2; }
  "_lab_svc_${name//-/_}" "$@" || return 1
  lab_wait_ready 30 "$name"
}

# lab_stop NAME: stop a service (its whole session: forked children too).
lab_stop() {
  local name=$1 pidf="$LAB_DIR/run/$1.pid" pid role ready ns
  [[ -s $pidf ]] || return 0
  pid=$(<"$pidf")
  read -r role ready <"$LAB_DIR/run/$name.ready"
  ns=$(lab_ns "$role") || return 2
  rm -f "$pidf"
  _lab_alive "$pid" || return 0
  # a pid can be reused: signal it only while it still lives in the service's namespace
  [[ $(ip netns identify "$pid" 2>/dev/null) == "$ns" ]] || return 0
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  lab_wait_until 5 _lab_not_alive "$pid" && return 0
  kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  lab_wait_until 2 _lab_not_alive "$pid"
}
_lab_not_alive() { ! _lab_alive "$1"; }

lab_restart() { lab_stop "$1"; lab_start "$@"; }

# lab_service_log NAME: path of a service's log.
lab_service_log() { printf '%s\n' "$LAB_DIR/log/$1.log"; }

# _lab_net NAME SERVICE: sets _LAB_NET to a labnet.py server command line logging to SERVICE.log
_lab_net() { _LAB_NET=("$LAB_PY" "$LAB_LIB/labnet.py" serve --name "$1" --log "$LAB_DIR/log/$2.log"); }

_lab_svc_scanner_ports() {
  local t u p ready=""
  t=${LAB_SCANNER_TCP_PORTS// /,}
  u=${LAB_SCANNER_UDP_PORTS// /,}
  for p in $LAB_SCANNER_TCP_PORTS; do ready+="tcp:$p "; done
  for p in $LAB_SCANNER_UDP_PORTS; do ready+="udp:$p "; done
  _lab_net scanner scanner-ports
  _lab_spawn scanner-ports scan "$ready" "${_LAB_NET[@]}" --tcp "$t" --udp "$u"
}

_lab_svc_scanner_scp() {
  mkdir -p "$LAB_SCANNER_STORE"
  # dcmtk-log.cfg: INFO plus the peer address of every association ("Association Received: IP")
  _lab_spawn scanner-scp scan "tcp:$LAB_SCANNER_DICOM_PORT" \
    storescp -lc "$LAB_LIB/dcmtk-log.cfg" -dhl --fork -aet "$LAB_SCANNER_AET" -od "$LAB_SCANNER_STORE" "$LAB_SCANNER_DICOM_PORT"
}

# pacs [storescp|dcmqrscp|orthanc]: default $LAB_PACS (storescp). Sets LAB_PACS_KIND and
# LAB_PACS_STORE (where received instances land as DICOM files).
_lab_svc_pacs() {
  local kind=${1:-${LAB_PACS:-storescp}} d="$LAB_DIR/pacs"
  export LAB_PACS_KIND=$kind
  case $kind in
    storescp)
      export LAB_PACS_STORE="$d/storescp"
      mkdir -p "$LAB_PACS_STORE"
      _lab_spawn pacs pacs "tcp:$LAB_PACS_PORT" \
        storescp -lc "$LAB_LIB/dcmtk-log.cfg" -dhl --fork -aet "$LAB_PACS_AET" -od "$LAB_PACS_STORE" "$LAB_PACS_PORT" ;;
    dcmqrscp)
      export LAB_PACS_STORE="$d/dcmqrscp/PACS_MAIN"
      mkdir -p "$LAB_PACS_STORE"
      cat >"$d/dcmqrscp/dcmqrscp.cfg" <<EOF
NetworkTCPPort  = $LAB_PACS_PORT
MaxPDUSize      = 16384
MaxAssociations = 16
HostTable BEGIN
petct1 = ($LAB_SCANNER_AET, $LAB_SCANNER_IP, $LAB_SCANNER_DICOM_PORT)
HostTable END
VendorTable BEGIN
VendorTable END
AETable BEGIN
$LAB_PACS_AET $LAB_PACS_STORE RW (200, 1024mb) ANY
AETable END
EOF
      _lab_spawn pacs pacs "tcp:$LAB_PACS_PORT" \
        dcmqrscp -lc "$LAB_LIB/dcmtk-log.cfg" -dhl -c "$d/dcmqrscp/dcmqrscp.cfg" "$LAB_PACS_PORT" ;;
    orthanc)
      export LAB_PACS_STORE="$d/orthanc/storage"
      mkdir -p "$LAB_PACS_STORE" "$d/orthanc/index"
      cat >"$d/orthanc/orthanc.json" <<EOF
{
  "Name": "modgate-lab-pacs",
  "StorageDirectory": "$LAB_PACS_STORE",
  "IndexDirectory": "$d/orthanc/index",
  "StorageCompression": false,
  "Plugins": [],
  "DicomServerEnabled": true,
  "DicomAet": "$LAB_PACS_AET",
  "DicomPort": $LAB_PACS_PORT,
  "DicomCheckCalledAet": true,
  "DicomAlwaysAllowEcho": true,
  "DicomAlwaysAllowStore": true,
  "DicomModalities": { "petct1": [ "$LAB_SCANNER_AET", "$LAB_SCANNER_IP", $LAB_SCANNER_DICOM_PORT ] },
  "HttpServerEnabled": true,
  "HttpPort": $LAB_PACS_HTTP_PORT,
  "RemoteAccessAllowed": true,
  "AuthenticationEnabled": false,
  "SaveJobs": false
}
EOF
      _lab_spawn pacs pacs "tcp:$LAB_PACS_PORT tcp:$LAB_PACS_HTTP_PORT" \
        Orthanc --verbose "$d/orthanc/orthanc.json" ;;
    *) lab_log "unknown PACS kind '$kind' (storescp, dcmqrscp, orthanc)"; return 2 ;;
  esac
}

# Worklist: three scheduled procedures for PETCT1, today, synthetic patients.
_lab_worklist() {
  local db="$LAB_DIR/ris/db/$LAB_RIS_AET" i mod today
  mkdir -p "$db"
  : >"$db/lockfile"
  today=$(date +%Y%m%d)
  for i in 1 2 3; do
    mod=PT
    ((i == 2)) && mod=CT
    cat >"$db/wl$i.dump" <<EOF
(0008,0005) CS [ISO_IR 100]
(0008,0050) SH [WL$i]
(0010,0010) PN [TEST^PATIENT^$i]
(0010,0020) LO [WLTEST$i]
(0010,0030) DA [19700101]
(0010,0040) CS [O]
(0020,000d) UI [1.2.826.0.1.3680043.8.498.777.$i]
(0032,1060) LO [SYNTHETIC $mod EXAM]
(0040,0100) SQ
(fffe,e000) -
(0008,0060) CS [$mod]
(0040,0001) AE [$LAB_SCANNER_AET]
(0040,0002) DA [$today]
(0040,0003) TM [0${i}0000]
(0040,0007) LO [SYNTHETIC $mod]
(0040,0009) SH [SPS$i]
(fffe,e00d) -
(fffe,e0dd) -
(0040,1001) SH [RP$i]
EOF
    dump2dcm -q "$db/wl$i.dump" "$db/wl$i.wl" || return 1
  done
}

_lab_svc_ris() {
  [[ -f "$LAB_DIR/ris/db/$LAB_RIS_AET/wl1.wl" ]] || _lab_worklist || return 1
  # the called AE title picks the worklist directory: RIS answers as AE "RIS"
  _lab_spawn ris ris "tcp:$LAB_RIS_PORT" \
    wlmscpfs -lc "$LAB_LIB/dcmtk-log.cfg" -dhl -dfp "$LAB_DIR/ris/db" "$LAB_RIS_PORT"
}

_lab_dnsmasq() {  # NAME ROLE ADDRESS
  _lab_spawn "$1" "$2" "udp:53 tcp:53" \
    dnsmasq -k -C /dev/null --no-resolv --no-hosts --no-poll --bind-interfaces \
      --listen-address="$3" --log-facility=- --log-queries --pid-file= --bogus-priv \
      --local=/vendor.example/ --local=/hospital.example/ \
      --host-record="$LAB_VENDOR_NAME,$LAB_VENDOR_IP" \
      --host-record="update.vendor.example,$LAB_VENDOR_IP" \
      --host-record="vendor.example,$LAB_VENDOR_IP" \
      --host-record="petct1.hospital.example,$LAB_SCANNER_IP" \
      --host-record="pacs.hospital.example,$LAB_PACS_IP" \
      --host-record="ris.hospital.example,$LAB_RIS_IP" \
      --host-record="ntp.hospital.example,$LAB_NTP_IP" \
      --host-record="files.hospital.example,$LAB_FILES_IP"
}
_lab_svc_dns() { _lab_dnsmasq dns infra "$LAB_DNS_IP"; }
_lab_svc_mgmt_dns() { _lab_dnsmasq mgmt-dns mgmt "$LAB_MGMT_DNS_IP"; }

_lab_svc_ntp() {
  _lab_net infra-ntp ntp
  _lab_spawn ntp infra "udp:123" "${_LAB_NET[@]}" --bind "$LAB_NTP_IP" --sntp 123
}

_lab_svc_files() {
  _lab_net files files
  _lab_spawn files files "tcp:$LAB_FILES_PORT" "${_LAB_NET[@]}" --tcp "$LAB_FILES_PORT"
}

_lab_tls_material() {
  local d="$LAB_DIR/tls"
  [[ -s $d/vendor.pem ]] && return 0
  mkdir -p "$d"
  printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' \
    "$LAB_VENDOR_NAME" >"$d/vendor.ext"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=modgate lab vendor CA" -keyout "$d/ca.key" -out "$d/ca.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>"$d/openssl.log" &&
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -subj "/CN=$LAB_VENDOR_NAME" -keyout "$d/vendor.key" -out "$d/vendor.csr" 2>>"$d/openssl.log" &&
  openssl x509 -req -in "$d/vendor.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -set_serial 2 \
    -days 30 -extfile "$d/vendor.ext" -out "$d/vendor.pem" 2>>"$d/openssl.log" || {
    lab_log "openssl failed:"; cat "$d/openssl.log" >&2; return 1; }
}

_lab_svc_vendor() {
  local p ready="tcp:$LAB_VENDOR_TLS_PORT"
  _lab_tls_material || return 1
  for p in $LAB_VENDOR_TCP_PORTS; do ready+=" tcp:$p"; done
  _lab_net vendor vendor
  _lab_spawn vendor vendor "$ready" "${_LAB_NET[@]}" --tls "$LAB_VENDOR_TLS_PORT" \
    --cert "$LAB_DIR/tls/vendor.pem" --key "$LAB_DIR/tls/vendor.key" --tcp "${LAB_VENDOR_TCP_PORTS// /,}"
}

_lab_svc_siem() {
  _lab_net siem siem
  _lab_spawn siem mgmt "udp:$LAB_SIEM_PORT tcp:$LAB_SIEM_PORT udp:123" "${_LAB_NET[@]}" \
    --bind "$LAB_MGMT_IP" --syslog "$LAB_SIEM_PORT" --sntp 123
}
