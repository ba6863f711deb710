#!/usr/bin/env bash
# boot/payloads.sh OUTDIR CACHEDIR
#
# Builds the partition payloads that keel boots: Debian 12's current amd64
# kernel as an uncompressed vmlinux ELF (booted through its PVH entry) and
# as the original bzImage, the few modules each role needs, and one
# initramfs per role (companion.cpio, guest.cpio). Everything comes from
# Debian's archive through apt; nothing is hard-coded to a kernel version.
# See boot/PAYLOADS.md.
#
# Outputs (OUTDIR): vmlinux vmlinuz kernel.env modules/<role>/<ver>/
#                   companion.cpio guest.cpio
# Cache (CACHEDIR): the downloaded kernel .deb
#
# Re-running with nothing changed only asks apt-cache for the current version
# and compares two stamp files (.kernel.stamp, .cpio.stamp) in OUTDIR.
set -Eeuo pipefail

# Modules each role's archive carries; their dependencies are added.
# The companion: the machine's IDE disk, vhost-scsi backed by files/block
# devices, device-dax for shared memory, the e1000 NIC (Bochs' and QEMU's
# default) that carries a migration to another keel.
readonly COMPANION_MODULES=(ata_piix sd_mod vhost_scsi target_core_mod
	target_core_file target_core_iblock configfs dax_hmem device_dax tcm_loop
	e1000)
# The guest: its virtio-scsi-pci disk and ext4 on it (tests/guest-io/).
# Debian builds all of them as modules; crc32c_generic is ext4's checksum
# on CPUs without SSE4.2 (ext4's soft dependency adds crc32c-intel).
readonly GUEST_MODULES=(virtio_pci virtio_scsi sd_mod ext4 crc32c_generic)
readonly ROLES=(companion guest)

# role_modules ROLE: the module list of ROLE, one a line.
role_modules() {
	case $1 in
	companion) printf '%s\n' "${COMPANION_MODULES[@]}" ;;
	guest) printf '%s\n' "${GUEST_MODULES[@]}" ;;
	*) die "no module list for role $1" ;;
	esac
}
readonly META_PKG=linux-image-amd64 META_HEADERS=linux-headers-amd64
# Fixed mtime for every archive member: reproducible archives.
readonly EPOCH=${SOURCE_DATE_EPOCH:-0}

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
readonly INIT_SRC=$HERE/initramfs/init
readonly SELF=$HERE/payloads.sh

# depmod and modprobe live in /sbin, which a non-root PATH may lack.
export PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C
umask 022

TOOL=payloads
# shellcheck source=../tools/apt.bash
. "$(dirname "${BASH_SOURCE[0]}")/../tools/apt.bash"

usage() {
	printf 'usage: %s OUTDIR CACHEDIR\n' "${0##*/}" >&2
	exit 2
}

# Apparent size: xz writes vmlinux sparse, so du alone would under-report.
human() { du -h --apparent-size "$1" | cut -f1; }

# first_dep DEPENDS PREFIX: "NAME VERSION" of the first dependency whose
# name starts with PREFIX followed by a digit; VERSION is its "(= X)" pin.
first_dep() {
	tr ',|' '\n' <<<"$1" | awk -v p="^$2[0-9]" '$1 ~ p {
		v = ""; if ($2 == "(=") { v = $3; sub(/\)$/, "", v) }
		print $1, v; exit }'
}

# Static busybox: the initramfs has no libc.
find_busybox() {
	local bb
	for bb in /bin/busybox /usr/bin/busybox; do
		if [[ -x $bb ]] && ! readelf -lW "$bb" 2>/dev/null | grep -q 'program interpreter'; then
			printf '%s\n' "$bb"
			return 0
		fi
	done
	return 1
}

# Step: tools. Installs missing ones as root, else names the command.
ensure_tools() {
	local -a missing=()
	local t
	for t in apt-get apt-cache dpkg-deb; do have "$t" || die "needs $t (Debian's apt and dpkg)"; done
	have xz || missing+=(xz-utils)
	have readelf || missing+=(binutils)
	have cpio || missing+=(cpio)
	have depmod && have modprobe || missing+=(kmod)
	# Without readelf, busybox cannot be judged yet: binutils comes first.
	if have readelf && ! find_busybox >/dev/null; then missing+=(busybox-static); fi
	install_pkgs "${missing[@]}"
	if ! find_busybox >/dev/null; then install_pkgs busybox-static; fi
	BUSYBOX=$(find_busybox) || die "no static busybox at /bin/busybox"
	# --reproducible (GNU cpio >= 2.12) zeroes device numbers and renumbers inodes.
	cpio --help 2>&1 | grep -q -- '--reproducible' ||
		die "cpio lacks --reproducible (need GNU cpio >= 2.12)"
	say "tools: ok (static busybox $BUSYBOX)"
}

# Step: resolve. Sets KERNEL_PKG KERNEL_VERSION DEB_VERSION HEADERS_PKG.
# One apt-cache call for both metapackages: each call costs ~0.5 s here.
resolve_kernel() {
	local recs dep pin hpkg hpin
	recs=$(apt-cache show --no-all-versions "$META_PKG" "$META_HEADERS" 2>/dev/null || true)
	if [[ -z $(record_field "$recs" "$META_PKG" Depends) ]]; then
		apt_update_once || die "apt-cache knows no $META_PKG; run: apt-get update"
		recs=$(apt-cache show --no-all-versions "$META_PKG" "$META_HEADERS" 2>/dev/null || true)
	fi
	dep=$(record_field "$recs" "$META_PKG" Depends)
	# "linux-image-6.1.0-NN-amd64 (= 6.1.x-y)": the versioned image.
	read -r KERNEL_PKG pin <<<"$(first_dep "$dep" linux-image-)" || true
	[[ -n ${KERNEL_PKG:-} ]] || die "no versioned image in $META_PKG's Depends: '$dep'"
	KERNEL_VERSION=${KERNEL_PKG#linux-image-}
	DEB_VERSION=${pin:-$(apt_field "$KERNEL_PKG" Version)}
	[[ -n $DEB_VERSION ]] || die "apt-cache has no candidate for $KERNEL_PKG"
	# Headers of the same ABI; linux-headers-amd64 normally names them.
	HEADERS_PKG=linux-headers-$KERNEL_VERSION
	read -r hpkg hpin <<<"$(first_dep "$(record_field "$recs" "$META_HEADERS" Depends)" linux-headers-)" || true
	if [[ ${hpkg:-} != "$HEADERS_PKG" || -z ${hpin:-} ]]; then
		hpin=$(apt_field "$HEADERS_PKG" Version)
		[[ -n $hpin ]] || die "apt-cache has no $HEADERS_PKG (needed for out-of-tree modules)"
	fi
	[[ $hpin == "$DEB_VERSION" ]] ||
		say "resolve: warning: $HEADERS_PKG is $hpin, image is $DEB_VERSION (same ABI)"
	local v
	# kernel.env is sourced by shell and make: keep values plain.
	for v in "$KERNEL_PKG" "$KERNEL_VERSION" "$DEB_VERSION" "$HEADERS_PKG"; do
		[[ $v =~ ^[A-Za-z0-9.+:~_-]+$ ]] || die "unexpected characters in '$v'"
	done
	say "resolve: $KERNEL_PKG $DEB_VERSION (uname -r $KERNEL_VERSION), headers $HEADERS_PKG"
}

# Step: download. Sets DEB to the verified .deb in CACHEDIR.
fetch_deb() {
	local want file
	want=$(apt_field "$KERNEL_PKG" SHA256)
	file=${KERNEL_PKG}_${DEB_VERSION//:/%3a}_amd64.deb
	DEB=$CACHEDIR/$file
	if [[ -f $DEB ]] && [[ -z $want || $(sha256 "$DEB") == "$want" ]]; then
		say "download: cached $file"
		return 0
	fi
	rm -f "$DEB"
	local -a opts=(-qq)
	# As root apt would drop to _apt, which cannot write CACHEDIR, and warn.
	is_root && opts+=(-o APT::Sandbox::User=root)
	(cd "$CACHEDIR" && apt-get download "${opts[@]}" "$KERNEL_PKG=$DEB_VERSION") ||
		die "apt-get download $KERNEL_PKG=$DEB_VERSION failed"
	[[ -f $DEB ]] || die "apt-get download did not produce $DEB"
	[[ -z $want || $(sha256 "$DEB") == "$want" ]] || die "$DEB: SHA256 mismatch"
	# Older kernels' images only take room: this script is their only user.
	find "$CACHEDIR" -maxdepth 1 -name 'linux-image-*_amd64.deb' ! -name "$file" -delete
	say "download: $file ($(human "$DEB"))"
}

# Step: extract. Sets PKGROOT, VMLINUZ, MODDIR.
extract_deb() {
	PKGROOT=$WORK/pkg
	dpkg-deb -x "$DEB" "$PKGROOT" || die "dpkg-deb -x $DEB failed"
	VMLINUZ=$PKGROOT/boot/vmlinuz-$KERNEL_VERSION
	[[ -f $VMLINUZ ]] || die "$KERNEL_PKG has no boot/vmlinuz-$KERNEL_VERSION"
	# depmod -b wants BASE/lib/modules; future packages may use /usr/lib.
	if [[ ! -d $PKGROOT/lib/modules && -d $PKGROOT/usr/lib/modules ]]; then
		ln -s usr/lib "$PKGROOT/lib"
	fi
	MODDIR=$PKGROOT/lib/modules/$KERNEL_VERSION
	[[ -d $MODDIR ]] || die "$KERNEL_PKG has no lib/modules/$KERNEL_VERSION"
	say "extract: $(basename "$VMLINUZ") and lib/modules/$KERNEL_VERSION"
}

# le_uint FILE OFFSET BYTES: little-endian unsigned integer (host is x86).
le_uint() {
	od -An -v -t "u$3" -j "$2" -N "$3" "$1" | tr -d ' '
}

# The kernel build appends its relocation table after the ELF image in the
# compressed payload; cut the file at the real end of the ELF.
trim_elf() {
	local f=$1 size end shoff shnum shentsize type off filesz
	size=$(stat -c %s "$f")
	shoff=$(le_uint "$f" 40 8)
	shentsize=$(le_uint "$f" 58 2)
	shnum=$(le_uint "$f" 60 2)
	end=$((shoff + shnum * shentsize))
	while read -r type off _ _ filesz _; do
		[[ $type =~ ^[A-Z_]+$ && $off == 0x* ]] || continue
		if ((off + filesz > end)); then end=$((off + filesz)); fi
	done < <(readelf -lW "$f" | sed -n '/^ *Type /,/^$/p')
	((end > 0 && end <= size)) || die "$f: cannot find the end of the ELF image"
	if ((end < size)); then truncate -s "$end" "$f"; fi
}

# try_payload IMAGE MAGIC_PCRE DECOMPRESSOR... : decompress from each place
# the magic occurs until the output is an ELF file; writes $WORK/vmlinux.
try_payload() {
	local img=$1 magic=$2 off
	shift 2
	have "$1" || return 1
	# Only the first matches: a short magic can also occur by chance.
	for off in $(grep -obUaP "$magic" "$img" | cut -d: -f1 | head -n 8); do
		# Decompressors exit non-zero on trailing data; judge by the output.
		tail -c +$((off + 1)) "$img" | "$@" >"$WORK/vmlinux" 2>/dev/null || true
		if [[ $(head -c 4 "$WORK/vmlinux" | od -An -t x1 | tr -d ' ') == 7f454c46 ]]; then
			PAYLOAD="$1 at offset $off"
			return 0
		fi
	done
	return 1
}

# Step: vmlinux. Sets PVH_ENTRY.
make_vmlinux() {
	# Debian uses XZ; the rest is in case it ever changes compressor.
	try_payload "$VMLINUZ" '\xFD7zXZ\x00' xz -dc --single-stream ||
		try_payload "$VMLINUZ" '\x28\xB5\x2F\xFD' zstd -dc ||
		try_payload "$VMLINUZ" '\x1F\x8B\x08' gzip -dc ||
		try_payload "$VMLINUZ" '\x02\x21\x4C\x18' lz4 -dc ||
		try_payload "$VMLINUZ" '\x89\x4C\x5A' lzop -dc ||
		try_payload "$VMLINUZ" 'BZh' bzip2 -dc ||
		try_payload "$VMLINUZ" '\x5D\x00\x00\x00' xz -dc --format=lzma ||
		die "no decompressible ELF payload found in $(basename "$VMLINUZ")"
	local elf=$WORK/vmlinux hdr
	hdr=$(readelf -hW "$elf") || die "vmlinux: readelf -h failed"
	if ! grep -Eq 'Class: +ELF64' <<<"$hdr" ||
		! grep -Eq 'Machine: +Advanced Micro Devices X86-64' <<<"$hdr"; then
		die "vmlinux: not an x86-64 ELF64 file"
	fi
	trim_elf "$elf"
	# XEN_ELFNOTE_PHYS32_ENTRY (18): the PVH entry point. binutils 2.40
	# prints it as an unknown Xen note; newer ones may name it.
	# The description (its low 4 bytes, little-endian) is the entry address;
	# it is on the note's line or, in some binutils, on the next one.
	PVH_ENTRY=$(readelf -nW "$elf" | awk '
		function entry(s) {
			sub(/.*description data: */, "", s); split(s, b, " ")
			return "0x" b[4] b[3] b[2] b[1] }
		$1 == "Xen" && /\(0x00000012\)|PHYS32_ENTRY/ {
			if (/description data:/) { print entry($0); exit }
			hit = 1; next }
		hit && /description data:/ { print entry($0); exit }
		{ hit = 0 }')
	[[ $PVH_ENTRY =~ ^0x[0-9a-f]{8}$ ]] ||
		die "vmlinux has no Xen PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY, type 18)"
	mv -f "$WORK/vmlinux" "$OUTDIR/vmlinux"
	cp -f "$VMLINUZ" "$OUTDIR/vmlinuz.tmp"
	mv -f "$OUTDIR/vmlinuz.tmp" "$OUTDIR/vmlinuz"
	say "vmlinux: $(human "$OUTDIR/vmlinux") ELF from $PAYLOAD, PVH entry $PVH_ENTRY"
}

# decompress_ko FILE: turn FILE.ko.{xz,zst,gz} into FILE.ko for busybox.
decompress_ko() {
	local f=$1
	case $f in
	*.ko) ;;
	*.ko.xz) xz -dc "$f" >"${f%.xz}" || die "xz -d $f failed" ;;
	*.ko.zst) zstd -qdc "$f" >"${f%.zst}" || die "zstd -d $f failed" ;;
	*.ko.gz) gzip -dc "$f" >"${f%.gz}" || die "gzip -d $f failed" ;;
	*) die "unexpected module file $f" ;;
	esac
	[[ $f == *.ko ]] || rm -f "$f"
}

# Step: modules. Copies each role's modules and their dependencies (from
# the package's own depmod data) into OUTDIR/modules/<role>/<ver>/.
make_modules() {
	local role
	# Debian ships no modules.dep: dpkg's postinst makes it. Make it here.
	depmod -b "$PKGROOT" "$KERNEL_VERSION" || die "depmod on the package failed"
	rm -rf "$OUTDIR/modules.tmp"
	mkdir -p "$OUTDIR/modules.tmp"
	for role in "${ROLES[@]}"; do make_role_modules "$role"; done
	rm -rf "$OUTDIR/modules"
	mv "$OUTDIR/modules.tmp" "$OUTDIR/modules"
}

# make_role_modules ROLE: ROLE's modules into OUTDIR/modules.tmp/ROLE/<ver>/.
make_role_modules() {
	local role=$1 stage=$WORK/mods-$1 mod line path rel n=0 builtin=() mods=()
	local smod=$stage/lib/modules/$KERNEL_VERSION
	mapfile -t mods < <(role_modules "$role")
	mkdir -p "$smod"
	declare -A seen=()
	for mod in "${mods[@]}"; do
		# -C /dev/null: the build host's modprobe.d must not leak in.
		modprobe -C /dev/null -d "$PKGROOT" -S "$KERNEL_VERSION" --show-depends "$mod" \
			>"$WORK/deps" 2>"$WORK/modprobe.err" ||
			die "module $mod not in $KERNEL_PKG: $(cat "$WORK/modprobe.err")"
		while read -r line path; do
			case $line in
			builtin) builtin+=("$path") ;;
			insmod)
				rel=${path#"$MODDIR"/}
				[[ -n ${seen[$rel]:-} ]] && continue
				seen[$rel]=1
				mkdir -p "$smod/$(dirname "$rel")"
				cp "$path" "$smod/$rel"
				decompress_ko "$smod/$rel"
				n=$((n + 1))
				;;
			esac
		done <"$WORK/deps"
	done
	cp "$MODDIR"/modules.builtin "$MODDIR"/modules.builtin.modinfo "$smod/" 2>/dev/null || true
	# modules.order, limited to what is kept (depmod orders aliases by it).
	sed -E 's/\.ko\.(xz|zst|gz)$/.ko/' "$MODDIR/modules.order" |
		while read -r rel; do [[ -f $smod/$rel ]] && printf '%s\n' "$rel"; done >"$smod/modules.order" || true
	depmod -b "$stage" "$KERNEL_VERSION" || die "depmod on the kept modules failed"
	for mod in "${mods[@]}"; do
		modprobe -C /dev/null -d "$stage" -S "$KERNEL_VERSION" --show-depends "$mod" >/dev/null 2>&1 ||
			die "module $mod does not resolve in $role's kept set"
	done
	mkdir -p "$OUTDIR/modules.tmp/$role"
	mv "$smod" "$OUTDIR/modules.tmp/$role/"
	say "modules: $role: $n modules ($(du -sh --apparent-size "$OUTDIR/modules.tmp/$role" | cut -f1))${builtin[*]:+, built in: ${builtin[*]}}"
}

write_env() {
	cat >"$OUTDIR/kernel.env.tmp" <<-EOF
		# Written by boot/payloads.sh: the kernel in vmlinux, vmlinuz and modules/.
		KERNEL_PKG=$KERNEL_PKG
		KERNEL_VERSION=$KERNEL_VERSION
		HEADERS_PKG=$HEADERS_PKG
		DEB_VERSION=$DEB_VERSION
		PVH_ENTRY=$PVH_ENTRY
	EOF
	mv -f "$OUTDIR/kernel.env.tmp" "$OUTDIR/kernel.env"
}

# The kernel half (vmlinux, vmlinuz, modules, kernel.env) depends only on
# the package version, the module lists and this script.
kernel_key() {
	printf '%s\n' "$KERNEL_PKG=$DEB_VERSION" "${COMPANION_MODULES[*]}" "${GUEST_MODULES[*]}" \
		"$(sha256 "$SELF")"
}

kernel_outputs_present() {
	local role
	[[ -f $OUTDIR/vmlinux && -f $OUTDIR/vmlinuz && -f $OUTDIR/kernel.env ]] || return 1
	for role in "${ROLES[@]}"; do
		[[ -f $OUTDIR/modules/$role/$KERNEL_VERSION/modules.dep ]] || return 1
	done
}

build_kernel() {
	local key
	key=$(kernel_key)
	if kernel_outputs_present && [[ -f $OUTDIR/.kernel.stamp && $(<"$OUTDIR/.kernel.stamp") == "$key" ]]; then
		say "kernel: up to date ($KERNEL_PKG $DEB_VERSION)"
		return 0
	fi
	rm -f "$OUTDIR/.kernel.stamp" "$OUTDIR/.cpio.stamp"
	fetch_deb
	extract_deb
	make_vmlinux
	make_modules
	write_env
	rm -rf "$PKGROOT"
	printf '%s\n' "$key" >"$OUTDIR/.kernel.stamp"
}

# overlay_dir ROLE: optional tree mirrored into ROLE's archive root, e.g.
# boot/initramfs/companion/etc/keel/companion.sh.
overlay_dir() { printf '%s\n' "$HERE/initramfs/$1"; }

# Everything the archives are made of, hashed.
cpio_key() {
	local role dir
	{
		cat "$OUTDIR/.kernel.stamp"
		sha256 "$INIT_SRC"
		sha256 "$BUSYBOX"
		for role in "${ROLES[@]}"; do
			dir=$(overlay_dir "$role")
			[[ -d $dir ]] || continue
			printf 'overlay %s\n' "$role"
			(cd "$dir" && find . -printf '%p %m %y %l\n' | sort &&
				find . -type f -print0 | sort -z | xargs -0r sha256sum)
		done
	} | sha256sum | cut -d' ' -f1
}

# make_root ROLE DIR: lay out the initramfs tree of ROLE in DIR.
make_root() {
	local role=$1 root=$2 applet overlay
	mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,dev,proc,sys,tmp,mnt,etc/keel,lib/modules,root,run}
	chmod 1777 "$root/tmp"
	install -m 0755 "$BUSYBOX" "$root/bin/busybox"
	# One symlink per applet, at the path busybox itself names (bin/sh, ...).
	for applet in $("$root/bin/busybox" --list-full); do
		[[ -e $root/$applet || -L $root/$applet ]] && continue
		mkdir -p "$root/$(dirname "$applet")"
		ln -s /bin/busybox "$root/$applet"
	done
	install -m 0755 "$INIT_SRC" "$root/init"
	# The kernel's built-in initramfs already has /dev/console; this copy
	# only matters to a kernel built without it. mknod needs root.
	is_root && mknod -m 0600 "$root/dev/console" c 5 1
	cp -a "$OUTDIR/modules/$role/." "$root/lib/modules/"
	overlay=$(overlay_dir "$role")
	if [[ -d $overlay ]]; then
		cp -a "$overlay/." "$root/"
	fi
	return 0
}

# Step: cpio ROLE.
make_cpio() {
	local role=$1 root=$WORK/root-$1 out=$OUTDIR/$1.cpio
	rm -rf "$root"
	make_root "$role" "$root"
	find "$root" -exec touch -h -d "@$EPOCH" {} +
	# Sorted names, owner 0:0, fixed mtime, --reproducible: same bytes
	# from the same inputs. Uncompressed: fastest to unpack under Bochs.
	(cd "$root" && find . | sort | cpio -o -H newc -R 0:0 --reproducible --quiet) >"$out.tmp" ||
		die "cpio for $role failed"
	mv -f "$out.tmp" "$out"
	rm -rf "$root"
	say "cpio: $role.cpio $(human "$out")"
}

build_cpios() {
	local key role
	key=$(cpio_key)
	local present=yes
	for role in "${ROLES[@]}"; do [[ -f $OUTDIR/$role.cpio ]] || present=no; done
	if [[ $present == yes && -f $OUTDIR/.cpio.stamp && $(<"$OUTDIR/.cpio.stamp") == "$key" ]]; then
		say "cpio: up to date (${ROLES[*]})"
		return 0
	fi
	rm -f "$OUTDIR/.cpio.stamp"
	for role in "${ROLES[@]}"; do make_cpio "$role"; done
	printf '%s\n' "$key" >"$OUTDIR/.cpio.stamp"
}

main() {
	(($# == 2)) || usage
	[[ -f $INIT_SRC ]] || die "missing $INIT_SRC"
	mkdir -p "$1" "$2"
	OUTDIR=$(cd "$1" && pwd)
	CACHEDIR=$(cd "$2" && pwd)
	# Two builds into one OUTDIR (say, a parallel make) take turns.
	exec 9>"$OUTDIR/.lock"
	flock 9
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/keel-payloads.XXXXXX")
	trap 'rm -rf "$WORK"' EXIT
	ensure_tools
	resolve_kernel
	build_kernel
	build_cpios
	say "done: $OUTDIR"
}

main "$@"
