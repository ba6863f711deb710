#!/usr/bin/env bash
# tests/guest-io/mkcpio.sh OUT DISKCHECK IOBENCH
#
# Writes OUT: the newc archive that the build appends to the guest's
# initramfs (build/payload/guest.cpio) to make build/guest-io.cpio. It holds
#   /sbin/diskcheck            DISKCHECK (static)
#   /sbin/iobench              IOBENCH (static, tests/bench/iobench.c)
#   /sbin/mke2fs, /sbin/mkfs.ext4 -> mke2fs
#                              this machine's e2fsprogs mke2fs, replacing
#                              busybox's ext2-only applet of the same path
#   /lib/..., /lib64/...       the shared libraries and the loader it needs
#                              (found with ldd), at the paths ldd names
#   /etc/mke2fs.conf           e2fsprogs' defaults, if this machine has them
#   /etc/mtab -> /proc/mounts  where mke2fs looks for mounted file systems
#   /etc/keel/guest.sh         the guest's role script (guest.sh here)
# The guest kernel is Debian 12's, and so is this machine: mke2fs and its
# libraries need nothing newer than the guest runs. Installs e2fsprogs if
# mke2fs is missing (as root; otherwise it names the apt-get command).
# Reproducible like boot/payloads.sh's archives: sorted names, owners 0:0,
# mtimes SOURCE_DATE_EPOCH (default 0).
set -Eeuo pipefail

export PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C
umask 022

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
TOOL=guest-io
# shellcheck source=../../tools/apt.bash
. "$HERE/../../tools/apt.bash"

(($# == 3)) || { printf 'usage: %s OUT DISKCHECK IOBENCH\n' "${0##*/}" >&2; exit 2; }
OUT=$1 DISKCHECK=$2 IOBENCH=$3
for tool in "$DISKCHECK" "$IOBENCH"; do
	[[ -x $tool ]] || die "no $tool"
	readelf -lW "$tool" | grep -q 'program interpreter' && die "$tool is not static"
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/keel-guest-io.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
have cpio || install_pkgs cpio
have mke2fs || install_pkgs e2fsprogs
MKE2FS=$(command -v mke2fs)
MKE2FS=$(readlink -f "$MKE2FS")

root=$WORK/root
mkdir -p "$root"/{sbin,etc/keel}
install -m 0755 "$DISKCHECK" "$root/sbin/diskcheck"
install -m 0755 "$IOBENCH" "$root/sbin/iobench"
install -m 0755 "$MKE2FS" "$root/sbin/mke2fs"
ln -s mke2fs "$root/sbin/mkfs.ext4"
install -m 0755 "$HERE/guest.sh" "$root/etc/keel/guest.sh"
ln -s /proc/mounts "$root/etc/mtab"
if [[ -f /etc/mke2fs.conf ]]; then install -m 0644 /etc/mke2fs.conf "$root/etc/mke2fs.conf"; fi

# "libX.so.N => /lib/x86_64-linux-gnu/libX.so.N (0x...)", and the loader as
# "/lib64/ld-linux-x86-64.so.2 (0x...)"; linux-vdso has no file
libs=$(ldd "$MKE2FS" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
[[ -n $libs ]] || die "ldd names no library for $MKE2FS"
grep -q '/ld-linux' <<<"$libs" || die "ldd names no loader for $MKE2FS"
n=0
while read -r lib; do
	mkdir -p "$root/$(dirname "$lib")"
	# the file itself, not the symlink ldd may name
	install -m 0755 "$(readlink -f "$lib")" "$root/$lib"
	n=$((n + 1))
done <<<"$libs"

find "$root" -exec touch -h -d "@${SOURCE_DATE_EPOCH:-0}" {} +
(cd "$root" && find . | sort | cpio -o -H newc -R 0:0 --reproducible --quiet) >"$OUT.tmp" ||
	die "cpio failed"
mv -f "$OUT.tmp" "$OUT"
say "$(basename "$OUT"): diskcheck, iobench, $("$MKE2FS" -V 2>&1 | head -n 1) with $n libraries, guest.sh ($(du -h --apparent-size "$OUT" | cut -f1))"
