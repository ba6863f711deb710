#!/usr/bin/env bash
# Makes sure the Debian packages keel's build and tests need are installed.
# As root it installs what is missing with apt-get; otherwise it prints the
# exact command and fails.
set -euo pipefail

PACKAGES=(
	build-essential binutils xz-utils cpio
	newlib-source libfdt-dev device-tree-compiler libcmocka-dev acpica-tools
	grub-common grub-pc-bin grub-efi-amd64-bin xorriso mtools
	bochs bochsbios vgabios qemu-system-x86 ovmf
	busybox-static kmod
	clang-14 libclang-rt-14-dev
	gcc-12 libelf1 libssl3
)

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: run as root: apt-get update && $cmd" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends ${missing[*]}
