#!/usr/bin/env bash
# Installs modgate's build and test dependencies from Debian 12's archive; quiet and quick when
# everything is already present. Called by both README commands.
set -euo pipefail

build=(cmake ninja-build g++ pkg-config libnftnl-dev libmnl-dev libboost-program-options-dev
       libboost-dev libfmt-dev catch2 libtomlplusplus-dev libsystemd-dev nlohmann-json3-dev
       libhowardhinnant-date-dev libseccomp-dev tzdata)
test=(nftables iproute2 dcmtk orthanc nmap socat tcpdump iperf3 python3 python3-pydicom
      clang libclang-rt-14-dev dnsmasq procps psmisc openssl util-linux iputils-ping)
# The Debian package, and the appliance image booted under qemu.
package=(debhelper dpkg-dev lintian)
image=(mmdebstrap qemu-system-x86 qemu-utils syslinux syslinux-common mtools dosfstools e2fsprogs fdisk
       openssh-client)

# modgated's proxy process runs as a user of its own (the package creates it with sysusers).
ensure_proxy_user() {
  id -u modgate-proxy >/dev/null 2>&1 && return 0
  [ "$(id -u)" -eq 0 ] || { echo "install-deps: user modgate-proxy is missing; run as root" >&2; return 1; }
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin modgate-proxy
}

missing=()
for p in "${build[@]}" "${test[@]}" "${package[@]}" "${image[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
((${#missing[@]})) || { ensure_proxy_user; exit 0; }

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages (${missing[*]}); run as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# Debian's orthanc and dnsmasq packages try to start their services; the tests start their own.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"; chmod +x "$policy"; created_policy=1
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
((created_policy)) && rm -f "$policy"
ensure_proxy_user
