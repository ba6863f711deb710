#!/usr/bin/env bash
# tools/build-kmod.sh PAYLOADDIR OUTDIR CACHEDIR
#
# Builds keel.ko (vhost/kmod/) against the headers of the companion's
# kernel, the one boot/payloads.sh put in PAYLOADDIR (its kernel.env names
# it). The Debian header packages are fetched with apt-get download and
# unpacked into CACHEDIR with dpkg-deb: nothing is installed on this
# machine. See vhost/kmod/README.md.
#
# Outputs (OUTDIR): keel.ko (debug info stripped, as Debian ships modules),
#                   src/ (the kbuild tree: unstripped keel.ko, build.log)
# Cache (CACHEDIR): kmod/debs/*.deb, kmod/<headers package>/ (the unpacked
#                   packages: usr/src/linux-headers-<ver>, usr/lib/linux-kbuild-X)
#
# Re-running with nothing changed compares one stamp (OUTDIR/.kmod.stamp,
# keyed on the kernel, the headers, the compiler, this script and the
# module's sources) and asks apt nothing.
set -Eeuo pipefail

declare -A SHA=()
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
readonly HERE
readonly SRC=$HERE/../vhost/kmod SELF=$HERE/build-kmod.sh

export PATH=$PATH:/usr/sbin:/sbin
export LC_ALL=C
umask 022

TOOL=kmod
# shellcheck source=apt.bash
. "$(dirname "${BASH_SOURCE[0]}")/apt.bash"

usage() {
	printf 'usage: %s PAYLOADDIR OUTDIR CACHEDIR\n' "${0##*/}" >&2
	exit 2
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }


# apt_show PKG[=VER]: apt-cache's record of PKG (the candidate, or VER).
apt_show() { apt-cache show --no-all-versions "$1" 2>/dev/null || true; }

# field RECORD NAME: one field of one apt-cache record.
field() { awk -v f="$2: " 'index($0, f) == 1 { print substr($0, length(f) + 1); exit }' <<<"$1"; }

# dep_names DEPENDS: the package names of a Depends field, one a line
# (versions and alternatives dropped: Debian's kernel packages use neither
# alternatives nor virtual packages here).
dep_names() { tr ',|' '\n' <<<"$1" | awk 'NF { print $1 }'; }

# Step: tools that every run needs.
ensure_tools() {
	local t
	local -a missing=()
	for t in apt-get apt-cache dpkg-deb dpkg-query flock; do
		have "$t" || die "needs $t (Debian's apt, dpkg and util-linux)"
	done
	have make || missing+=(make)
	have strip || missing+=(binutils)
	have modinfo || missing+=(kmod)
	install_pkgs "${missing[@]}"
	say "tools: ok"
}

# Step: env. Reads KERNEL_VERSION HEADERS_PKG DEB_VERSION from kernel.env
# without sourcing it; payloads.sh writes plain NAME=value lines.
read_env() {
	local env=$PAYLOADDIR/kernel.env name value
	[[ -f $env ]] || die "no $env: build the payloads first (make payloads)"
	KERNEL_VERSION='' HEADERS_PKG='' DEB_VERSION=''
	while IFS='=' read -r name value; do
		case $name in
		KERNEL_VERSION | HEADERS_PKG | DEB_VERSION)
			[[ $value =~ ^[A-Za-z0-9.+:~_-]+$ ]] || die "$env: unexpected value '$value' of $name"
			printf -v "$name" '%s' "$value"
			;;
		esac
	done <"$env"
	[[ -n $KERNEL_VERSION && -n $HEADERS_PKG && -n $DEB_VERSION ]] ||
		die "$env lacks KERNEL_VERSION, HEADERS_PKG or DEB_VERSION"
	HTREE=$CACHEDIR/kmod/$HEADERS_PKG
	HDIR=$HTREE/usr/src/$HEADERS_PKG
	say "env: kernel $KERNEL_VERSION ($DEB_VERSION), headers $HEADERS_PKG"
}

# dep_pin DEPENDS NAME: X if DEPENDS has "NAME (= X)".
dep_pin() {
	tr ',|' '\n' <<<"$1" | awk -v n="$2" '$1 == n && $2 == "(=" { v = $3; sub(/\)$/, "", v); print v; exit }'
}

# Step: resolve. Sets PKGS (pkg=version: the headers and what they need to
# build out-of-tree modules), SHA (their SHA256 by package) and HOST_PKGS
# (what must be installed on this machine). Two apt-cache calls: each
# costs about 0.5 s here.
resolve() {
	local rec recs ver deps dep name pin
	local -a names
	rec=$(apt_show "$HEADERS_PKG=$DEB_VERSION")
	if [[ -z $rec ]]; then
		apt_update_once || true
		rec=$(apt_show "$HEADERS_PKG=$DEB_VERSION")
	fi
	if [[ -z $rec ]]; then
		# Same ABI name, another upload: the module still fits the kernel.
		rec=$(apt_show "$HEADERS_PKG")
		[[ -n $rec ]] || die "apt knows no $HEADERS_PKG$(is_root || printf '; run as root: apt-get update')"
		say "resolve: warning: no $HEADERS_PKG $DEB_VERSION, using $(field "$rec" Version) (same ABI)"
	fi
	ver=$(field "$rec" Version)
	PKGS=("$HEADERS_PKG=$ver")
	SHA=([$HEADERS_PKG]=$(field "$rec" SHA256))
	HOST_PKGS=()
	deps=$(field "$rec" Depends)
	mapfile -t names < <(dep_names "$deps")
	((${#names[@]} > 0)) || die "$HEADERS_PKG has no Depends"
	recs=$(apt-cache show --no-all-versions "${names[@]}" 2>/dev/null || true)
	# linux-headers-<abi>-common, linux-kbuild-<major.minor>,
	# linux-compiler-gcc-<N>-x86 (a metapackage: its Depends is the compiler).
	for name in "${names[@]}"; do
		rec=$recs
		pin=$(dep_pin "$deps" "$name")
		if [[ -n $pin && $(record_field "$recs" "$name" Version) != "$pin" ]]; then
			rec=$(apt_show "$name=$pin")
		fi
		ver=$(record_field "$rec" "$name" Version)
		[[ -n $ver ]] || die "apt knows no $name${pin:+ $pin} (a dependency of $HEADERS_PKG)"
		dep=$(record_field "$rec" "$name" Depends)
		case $name in
		linux-headers-* | linux-kbuild-*)
			PKGS+=("$name=$ver")
			SHA[$name]=$(record_field "$rec" "$name" SHA256)
			# linux-kbuild's programs need their shared libraries here.
			[[ -z $dep ]] || mapfile -t -O "${#HOST_PKGS[@]}" HOST_PKGS < <(dep_names "$dep")
			;;
		linux-compiler-*)
			[[ -n $dep ]] || die "$name names no compiler"
			mapfile -t -O "${#HOST_PKGS[@]}" HOST_PKGS < <(dep_names "$dep")
			;;
		*) die "unexpected dependency $name of $HEADERS_PKG: review tools/build-kmod.sh" ;;
		esac
	done
	[[ " ${PKGS[*]}" == *" linux-kbuild-"* ]] || die "$HEADERS_PKG depends on no linux-kbuild-*: '$deps'"
	say "resolve: ${PKGS[*]}; host needs ${HOST_PKGS[*]}"
}

# Step: host packages the unpacked tree needs to run (compiler, libraries).
ensure_host_pkgs() {
	local p
	local -a missing=()
	for p in "${HOST_PKGS[@]}"; do installed "$p" || missing+=("$p"); done
	install_pkgs "${missing[@]}"
}

# Step: download. Verified .debs in CACHEDIR/kmod/debs; other versions of
# the same packages are deleted.
fetch_debs() {
	local debs=$CACHEDIR/kmod/debs spec pkg ver want file
	local -a opts=(-qq) keep=()
	# As root apt would drop to _apt, which cannot write CACHEDIR, and warn.
	is_root && opts+=(-o APT::Sandbox::User=root)
	mkdir -p "$debs"
	DEBS=()
	for spec in "${PKGS[@]}"; do
		pkg=${spec%%=*} ver=${spec#*=}
		want=${SHA[$pkg]:-}
		file=$(cd "$debs" && compgen -G "${pkg}_${ver//:/%3a}_*.deb" | head -n 1) || true
		if [[ -n $file && ( -z $want || $(sha256 "$debs/$file") == "$want" ) ]]; then
			say "download: cached $file"
		else
			[[ -z $file ]] || rm -f "${debs:?}/$file"
			(cd "$debs" && apt-get download "${opts[@]}" "$spec") || die "apt-get download $spec failed"
			file=$(cd "$debs" && compgen -G "${pkg}_${ver//:/%3a}_*.deb" | head -n 1) ||
				die "apt-get download $spec left no .deb in $debs"
			[[ -z $want || $(sha256 "$debs/$file") == "$want" ]] || die "$file: SHA256 mismatch"
			say "download: $file ($(du -h "$debs/$file" | cut -f1))"
		fi
		DEBS+=("$debs/$file")
		keep+=("$file")
	done
	# Older kernels' header packages only take room.
	for file in "$debs"/*.deb; do
		[[ -e $file ]] || continue
		[[ " ${keep[*]} " == *" ${file##*/} "* ]] || rm -f "$file"
	done
}

# Step: extract. Unpacks the .debs into HTREE and makes the tree work where
# it is: the arch Makefile includes the common one by absolute path, and
# lib/modules/<ver>/build points to /usr/src; both become relative.
extract_headers() {
	local tmp=$HTREE.tmp deb common mk
	rm -rf "$tmp"
	mkdir -p "$tmp"
	for deb in "${DEBS[@]}"; do
		dpkg-deb -x "$deb" "$tmp" || die "dpkg-deb -x $deb failed"
	done
	rm -rf "$tmp/usr/share/doc"
	mk=$tmp/usr/src/$HEADERS_PKG/Makefile
	[[ -f $mk ]] || die "$HEADERS_PKG has no usr/src/$HEADERS_PKG/Makefile"
	common=$(sed -n 's|^include /usr/src/\([^/]*\)/Makefile$|\1|p' "$mk")
	[[ -n $common && -f $tmp/usr/src/$common/Makefile ]] ||
		die "usr/src/$HEADERS_PKG/Makefile: expected 'include /usr/src/<common>/Makefile', got: $(head -n 1 "$mk")"
	# make -C runs in this directory: a relative include keeps the tree movable.
	sed -i "s|^include /usr/src/$common/Makefile\$|include ../$common/Makefile|" "$mk"
	if [[ -d $tmp/lib/modules/$KERNEL_VERSION ]]; then
		ln -sfn "../../../usr/src/$HEADERS_PKG" "$tmp/lib/modules/$KERNEL_VERSION/build"
		ln -sfn "../../../usr/src/$common" "$tmp/lib/modules/$KERNEL_VERSION/source"
	fi
	[[ -f $tmp/usr/src/$HEADERS_PKG/.config && -f $tmp/usr/src/$HEADERS_PKG/Module.symvers ]] ||
		die "$HEADERS_PKG lacks .config or Module.symvers"
	[[ -x $tmp/usr/src/$HEADERS_PKG/scripts/mod/modpost ]] ||
		die "usr/src/$HEADERS_PKG/scripts/mod/modpost missing: linux-kbuild not unpacked?"
	printf '%s\n' "for $DEB_VERSION" "packages: ${PKGS[*]}" "host: ${HOST_PKGS[*]}" >"$tmp/.complete"
	rm -rf "$HTREE"
	mv "$tmp" "$HTREE"
	# Other kernels' trees only take room.
	find "$CACHEDIR/kmod" -mindepth 1 -maxdepth 1 -type d -name 'linux-headers-*' \
		! -name "$HEADERS_PKG" -exec rm -rf {} +
	say "extract: $HEADERS_PKG and ${common}, $(du -sh "$HTREE" | cut -f1) in $HTREE"
}

headers() {
	local host
	if [[ -f $HTREE/.complete && $(head -n 1 "$HTREE/.complete") == "for $DEB_VERSION" ]]; then
		host=$(sed -n 's/^host: //p' "$HTREE/.complete")
		read -r -a HOST_PKGS <<<"$host"
		ensure_host_pkgs
		say "headers: cached $HTREE"
		return 0
	fi
	resolve
	ensure_host_pkgs
	fetch_debs
	extract_headers
}

# Step: compiler. The kernel's .config names the compiler it was built
# with; the headers' Makefile calls the same command (gcc-12 on Debian 12).
check_compiler() {
	local cfg=$HDIR/.config text cc major host
	text=$(sed -n 's/^CONFIG_CC_VERSION_TEXT="\(.*\)"$/\1/p' "$cfg")
	major=$(sed -n 's/^CONFIG_GCC_VERSION=\([0-9]*\)[0-9][0-9][0-9][0-9]$/\1/p' "$cfg")
	[[ -n $text && -n $major ]] || die "$cfg: the kernel was not built with gcc (CONFIG_CC_VERSION_TEXT '$text')"
	cc=${text%% *}
	grep -Eq "^CC = .*\)${cc}\$" "$HDIR/.kernelvariables" ||
		die "$HDIR/.kernelvariables does not call $cc: $(grep '^CC' "$HDIR/.kernelvariables")"
	have "$cc" || install_pkgs "$cc"
	host=$("$cc" --version | head -n 1)
	[[ $host =~ \ $major\.[0-9]+\.[0-9]+$ ]] ||
		die "the kernel was built with gcc $major ($text); the host's $cc is: $host"
	if [[ $host == "$text" ]]; then
		say "compiler: $host (the kernel's own)"
	else
		say "compiler: $host; the kernel's: $text (same major version)"
	fi
	CC_TEXT=$host
}

# The module's source files: what kbuild reads, not what it writes. Its
# own files, the channel ABI header it shares with keel, the /dev/keel
# header it shares with keeld and the handoff's state header.
sources() {
	(cd "$SRC" && find . -maxdepth 1 -type f \( -name Kbuild -o -name Makefile -o -name '*.[ch]' \) |
		sed 's|^\./||' | sort)
	echo ../keel_abi.h
	echo ../keel_dev.h
	echo ../keel_state.h
}

build_key() {
	local f
	printf '%s\n' "$KERNEL_VERSION $DEB_VERSION" "$(cat "$HTREE/.complete")" "$CC_TEXT" "$(sha256 "$SELF")"
	for f in $(sources); do printf '%s %s\n' "$(sha256 "$SRC/$f")" "$f"; done
}

# Step: build. A fresh copy of the sources in OUTDIR/src, so that kbuild's
# outputs stay out of the work tree; a build takes seconds.
build_module() {
	local key bdir=$OUTDIR/src ko vermagic alias f
	key=$(build_key)
	if [[ -f $OUTDIR/keel.ko && -f $OUTDIR/.kmod.stamp && $(<"$OUTDIR/.kmod.stamp") == "$key" ]]; then
		# make compares mtimes with every file in vhost/kmod/.
		touch "$OUTDIR/keel.ko"
		say "build: up to date ($OUTDIR/keel.ko)"
		return 0
	fi
	rm -f "$OUTDIR/.kmod.stamp" "$OUTDIR/keel.ko"
	rm -rf "$bdir"
	mkdir -p "$bdir"
	for f in $(sources); do cp "$SRC/$f" "$bdir/"; done
	[[ -f $bdir/Kbuild ]] || die "no $SRC/Kbuild"
	if ! make -C "$HDIR" M="$bdir" -j"$(nproc)" modules >"$OUTDIR/build.log" 2>&1; then
		tail -n 30 "$OUTDIR/build.log" >&2
		die "make -C $HDIR M=$bdir modules failed (whole log: $OUTDIR/build.log)"
	fi
	mv "$OUTDIR/build.log" "$bdir/build.log"
	ko=$bdir/keel.ko
	[[ -f $ko ]] || die "kbuild made no keel.ko (see $bdir/build.log)"
	vermagic=$(modinfo -F vermagic "$ko")
	vermagic=${vermagic% }
	[[ $vermagic == "$KERNEL_VERSION "* ]] || die "keel.ko vermagic '$vermagic' is not for $KERNEL_VERSION"
	alias=$(modinfo -F alias "$ko")
	[[ $alias == pci:v00004B45d00000001* ]] || die "keel.ko has no PCI alias for 4b45:0001 (got '$alias')"
	# As Debian's own modules: debug info stripped (300 kB -> 15 kB).
	strip --strip-debug -o "$OUTDIR/keel.ko.tmp" "$ko"
	mv -f "$OUTDIR/keel.ko.tmp" "$OUTDIR/keel.ko"
	printf '%s\n' "$key" >"$OUTDIR/.kmod.stamp"
	say "build: keel.ko $(du -h --apparent-size "$OUTDIR/keel.ko" | cut -f1), vermagic $vermagic"
}

main() {
	(($# == 3)) || usage
	[[ -d $1 ]] || die "no payload directory $1"
	mkdir -p "$2" "$3/kmod"
	PAYLOADDIR=$(cd "$1" && pwd)
	OUTDIR=$(cd "$2" && pwd)
	CACHEDIR=$(cd "$3" && pwd)
	# Two builds sharing OUTDIR or the cache take turns.
	exec 8>"$OUTDIR/.lock" 9>"$CACHEDIR/kmod/.lock"
	flock 8
	flock 9
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/keel-kmod.XXXXXX")
	trap 'rm -rf "$WORK"' EXIT
	ensure_tools
	read_env
	headers
	check_compiler
	build_module
	say "done: $OUTDIR/keel.ko"
}

main "$@"
