#!/bin/bash
# Builds the modgate appliance: a bootable Debian 12 raw disk image (MBR, syslinux on a FAT
# boot partition, ext4 root) from Debian's packages, the given .debs and image/rootfs/.
set -euo pipefail

usage() {
    cat <<'EOF'
usage: image/build.sh [--deb FILE]... [--policy FILE] [--authorized-keys FILE] [--overlay DIR]
                      [--out DIR] [--cache DIR]
  --deb FILE              a local package to install with its dependencies (e.g. modgate_*.deb)
  --policy FILE           installed as /etc/modgate/policy.toml
  --authorized-keys FILE  installed as /root/.ssh/authorized_keys; without it only the console
  --overlay DIR           a tree copied over the root file system last (a site's own files);
                          repeatable, in order
  --out DIR               where modgate.img is written (default: build-image/ at the repository top)
  --cache DIR             downloaded packages kept between builds (default: /var/cache/modgate-image)
Runs as root. SOURCE_DATE_EPOCH (default: the last commit's time) sets every timestamp.
EOF
}

die() {
    echo "build.sh: $*" >&2
    exit 1
}

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
debs=()
overlays=()
policy=
keys=
out=$top/build-image
cache=/var/cache/modgate-image

while (($#)); do
    case $1 in
    --deb | --policy | --authorized-keys | --overlay | --out | --cache)
        (($# >= 2)) || { usage >&2; exit 2; }
        case $1 in
        --deb) debs+=("$2") ;;
        --policy) policy=$2 ;;
        --authorized-keys) keys=$2 ;;
        --overlay) overlays+=("$2") ;;
        --out) out=$2 ;;
        --cache) cache=$2 ;;
        esac
        shift 2
        ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
    esac
done

((EUID == 0)) || die "run as root (mmdebstrap's root mode; the image's files are owned by root)"
for tool in mmdebstrap sfdisk mkfs.vfat mkfs.ext4 syslinux mcopy flock; do
    command -v "$tool" >/dev/null ||
        die "$tool is missing: apt-get install mmdebstrap fdisk dosfstools e2fsprogs syslinux syslinux-common mtools"
done
mbr=/usr/lib/syslinux/mbr/mbr.bin
[[ -r $mbr ]] || die "$mbr is missing: apt-get install syslinux-common"
for f in "${debs[@]}"; do
    dpkg-deb --info "$f" >/dev/null 2>&1 || die "--deb $f: not a readable Debian package"
done
[[ -z $policy || -r $policy ]] || die "--policy $policy: cannot read it"
[[ -z $keys || -r $keys ]] || die "--authorized-keys $keys: cannot read it"
for d in "${overlays[@]}"; do
    [[ -d $d ]] || die "--overlay $d: not a directory"
done

# One source of time for mmdebstrap, mkfs.ext4 (E2FSPROGS_FAKE_TIME), mtools and the files'
# mtimes, so a rebuild of the same commit gives the same metadata.
if [[ -z ${SOURCE_DATE_EPOCH:-} ]]; then
    SOURCE_DATE_EPOCH=$(git -C "$top" log -1 --format=%ct 2>/dev/null || date +%s)
fi
export SOURCE_DATE_EPOCH

# Fixed identities: the same input gives the same file system metadata. Every box still gets
# its own machine-id and ssh host keys at first boot.
readonly root_uuid=6d6f6467-6174-4500-8000-726f6f746673
readonly root_hash_seed=6d6f6467-6174-4500-8000-686173686564
readonly disk_id=0x6d6f6467
readonly cmdline="root=LABEL=modgate-root ro console=tty0 console=ttyS0,115200 net.ifnames=0"
packages=systemd,systemd-sysv,udev,linux-image-amd64,nftables,iproute2,openssh-server,dbus,kmod
packages+=,netbase,procps,systemd-timesyncd
# networkd hands the DNS servers it learns by DHCP to resolved only; without it the box
# would keep the build machine's resolv.conf.
packages+=,systemd-resolved
# initramfs-tools compresses with zstd when it is there and falls back to slower gzip.
packages+=,zstd

started=$(date +%s%N)
mkdir -p "$out" "$cache"
out=$(cd "$out" && pwd)
cache=$(cd "$cache" && pwd)
# Two builds sharing a cache would swap it under each other.
exec 9>"$cache/.lock"
flock -n 9 || die "another build is using $cache"

work=$(mktemp -d "$out/.work.XXXXXX")
chmod 0755 "$work" # apt downloads as _apt when it can reach the tree
# apt passes a local .deb's path to dpkg inside the chroot unchanged: it must exist at the
# same path on both sides, and the chroot's /tmp is emptied by mmdebstrap at the end.
debdir=$(mktemp -d /tmp/modgate-debs.XXXXXX)
cleanup() {
    # A failed mmdebstrap may leave /proc, /sys or /dev mounted in the tree.
    grep -o " $work/[^ ]*" /proc/mounts | sort -r | xargs -r umount -l 2>/dev/null || true
    rm -rf --one-file-system "$work" "$debdir"
}
trap cleanup EXIT
root=$work/root

include=(--include="$packages")
for f in "${debs[@]}"; do
    cp "$f" "$debdir/"
    include+=(--include="$debdir/$(basename "$f")")
done

# Kernel modules for hardware a wired bridge never has: sound, cameras and tuners, radios,
# InfiniBand, ISDN, data acquisition and sensors. A third of the root, and no radio stack.
no_modules=()
for m in sound drivers/media drivers/net/wireless drivers/bluetooth net/bluetooth net/wireless \
    net/mac80211 drivers/infiniband drivers/isdn drivers/staging drivers/comedi drivers/iio; do
    no_modules+=(--dpkgopt="path-exclude=/lib/modules/*/kernel/$m/*")
done

mkdir -p "$cache/archives" "$cache/lists"
rm -rf "$cache/archives.new" "$cache/lists.new"
q() { printf '%q' "$1"; }
mmdebstrap_started=$(date +%s%N)
# INITRD=No: the kernel's postinst makes no initramfs and the initramfs-tools trigger then
# finds none to update; it is made once below, after the overlay's fstab and settings are in.
INITRD=No mmdebstrap --mode=root --variant=minbase --format=directory \
    "${include[@]}" \
    --aptopt='Acquire::Languages "none"' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-include=/usr/share/doc/modgate/*' \
    "${no_modules[@]}" \
    --skip=essential/unlink \
    --setup-hook="mkdir -p \"\$1\"$(q "$debdir") \"\$1\"/var/cache/apt/archives \"\$1\"/var/lib/apt/lists" \
    --setup-hook="sync-in $(q "$debdir") $(q "$debdir")" \
    --setup-hook="sync-in $(q "$cache/archives") /var/cache/apt/archives" \
    --setup-hook="sync-in $(q "$cache/lists") /var/lib/apt/lists" \
    --customize-hook='chroot "$1" apt-get autoclean --quiet=2' \
    --customize-hook="sync-out /var/cache/apt/archives $(q "$cache/archives.new")" \
    --customize-hook="sync-out /var/lib/apt/lists $(q "$cache/lists.new")" \
    bookworm "$root"
mmdebstrap_ms=$((($(date +%s%N) - mmdebstrap_started) / 1000000))
# The cache becomes what this build used, less the versions the archive no longer has
# (autoclean above): it does not grow with every point release.
for d in archives lists; do
    rm -rf "$cache/$d"
    mv "$cache/$d.new" "$cache/$d"
done

# --- the tree: overlay, first-boot identity, site files ---
# Directories that exist keep their owner and mode (/root stays 0700); a umask at checkout
# time does not make files unreadable in the image.
copy_tree() {
    tar -C "$1" --owner=0 --group=0 --numeric-owner --mode=u+rw,go-w,a+rX -cf - . |
        tar -C "$root" --no-overwrite-dir -xpf -
}
copy_tree "$here/rootfs"

rm -f "$root"/etc/ssh/ssh_host_*
chroot "$root" systemctl enable --quiet systemd-networkd.service systemd-resolved.service
chroot "$root" systemctl set-default --quiet multi-user.target
if [[ -e $root/lib/systemd/system/networking.service ]]; then
    chroot "$root" systemctl mask --quiet networking.service
fi
ln -sfn ../run/systemd/resolve/stub-resolv.conf "$root/etc/resolv.conf"
rm -f "$root/etc/.resolv.conf.systemd-resolved.bak"
install -d "$root/var/log/journal"
find "$root/var/lib/dpkg" "$root/var/cache/debconf" -name '*-old' -delete
# mmdebstrap left /etc/machine-id empty: each box makes its own at first boot and commits it
# once the root is writable. A missing file would also run preset-all, undoing the enables.
[[ -f $root/etc/machine-id && ! -s $root/etc/machine-id ]] || die "/etc/machine-id is not empty"

if [[ -n $policy ]]; then
    group=$(chroot "$root" getent group modgate | cut -d: -f3) || group=
    install -d -m 0750 -o 0 -g "${group:-0}" "$root/etc/modgate"
    install -m 0640 -o 0 -g "${group:-0}" "$policy" "$root/etc/modgate/policy.toml"
fi
if [[ -n $keys ]]; then
    install -d -m 0700 -o 0 -g 0 "$root/root/.ssh"
    install -m 0600 -o 0 -g 0 "$keys" "$root/root/.ssh/authorized_keys"
fi
for d in "${overlays[@]}"; do
    copy_tree "$d"
done

# After the overlays, which may carry initramfs settings too.
kver=$(find "$root/boot" -name 'vmlinuz-*' -printf '%f\n' | sed 's/^vmlinuz-//' | sort -V | tail -n1)
[[ -n $kver ]] || die "no kernel in $root/boot"
MODGATE_IMAGE_BUILD=1 chroot "$root" update-initramfs -c -k "$kver"

find "$root" -xdev -newermt "@$SOURCE_DATE_EPOCH" -print0 |
    xargs -0r touch --no-create --no-dereference --date="@$SOURCE_DATE_EPOCH"

# --- boot partition: kernel, initrd, syslinux, on FAT ---
mkdir "$work/boot"
cp "$root/boot/vmlinuz-$kver" "$work/boot/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$work/boot/initrd.img"
cat >"$work/boot/syslinux.cfg" <<EOF
# modgate: boots at once; the boot loader talks on the serial port too, for boxes without a
# screen. Hold Shift at power-on for a boot prompt.
SERIAL 0 115200
PROMPT 0
TIMEOUT 0
DEFAULT modgate
LABEL modgate
  LINUX /vmlinuz
  INITRD /initrd.img
  APPEND $cmdline
EOF
touch --date="@$SOURCE_DATE_EPOCH" "$work/boot"/*

mib=$((1024 * 1024))
# Twice the files and a little: a kernel update on the box (etc/kernel/postinst.d) writes the
# new pair beside the old before it replaces it.
boot_mib=$((2 * $(du -cb "$work/boot"/* | tail -n1 | cut -f1) / mib + 16))
truncate -s "${boot_mib}M" "$work/boot.fat"
# -h: the partition's first sector, which the FAT boot sector uses to find ldlinux.sys.
# --invariant: a fixed volume id and times.
mkfs.vfat -F 16 -n MODGATEBOOT -h 2048 --invariant "$work/boot.fat" >/dev/null
syslinux --install "$work/boot.fat"
mcopy -i "$work/boot.fat" -m "$work/boot/vmlinuz" "$work/boot/initrd.img" "$work/boot/syslinux.cfg" ::/

# --- root partition: ext4 made from the tree, no mount ---
used_mib=$(du -sx -B1M "$root" | cut -f1)
# The tree, a tenth for file system overhead, and 512 MiB free for the persistent journal,
# state and logs; a multiple of 64 MiB.
root_mib=$(((used_mib + used_mib / 10 + 512 + 63) / 64 * 64))
E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH mkfs.ext4 -q -F -L modgate-root -U "$root_uuid" \
    -E "hash_seed=$root_hash_seed,root_owner=0:0" -d "$root" "$work/root.ext4" "${root_mib}M" >/dev/null
rm -rf --one-file-system "$root" # now, so that the time printed below includes it

# --- the disk: MBR, partition 1 (boot, active) at 1 MiB, partition 2 (root) after it ---
boot_start=2048
root_start=$((boot_start + boot_mib * 2048))
disk_sectors=$((root_start + root_mib * 2048))
truncate -s $((disk_sectors * 512)) "$work/modgate.img"
sfdisk --quiet --no-reread --no-tell-kernel "$work/modgate.img" <<EOF
label: dos
label-id: $disk_id
unit: sectors

start=$boot_start, size=$((boot_mib * 2048)), type=e, bootable
start=$root_start, size=$((root_mib * 2048)), type=83
EOF
dd if="$work/boot.fat" of="$work/modgate.img" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$work/root.ext4" of="$work/modgate.img" bs=1M seek=$((root_start / 2048)) conv=notrunc,sparse status=none
# Only the boot code: the disk signature and partition table that follow stay sfdisk's.
dd if="$mbr" of="$work/modgate.img" bs=440 count=1 conv=notrunc status=none
mv -f "$work/modgate.img" "$out/modgate.img"
rm -f "$work/boot.fat" "$work/root.ext4"

elapsed_ms=$((($(date +%s%N) - started) / 1000000))
size=$(stat -c %s "$out/modgate.img")
alloc=$(du -B1 "$out/modgate.img" | cut -f1)
printf 'modgate.img: %s (%d MiB; %d MiB allocated): boot %d MiB FAT16 (kernel %s), root %d MiB ext4 (%d MiB used)\n' \
    "$out/modgate.img" $((size / mib)) $((alloc / mib)) "$boot_mib" "$kver" "$root_mib" "$used_mib"
printf 'built in %d.%03d s (mmdebstrap %d.%03d s)\n' \
    $((elapsed_ms / 1000)) $((elapsed_ms % 1000)) $((mmdebstrap_ms / 1000)) $((mmdebstrap_ms % 1000))
