# Helpers shared by the build scripts that fetch Debian packages
# (boot/payloads.sh, tools/build-kmod.sh). Source it after setting TOOL,
# the prefix of every line the script prints, and WORK, a scratch folder.
# shellcheck shell=bash

say() { printf '%s: %s\n' "$TOOL" "$*"; }
die() {
	printf '%s: error: %s\n' "$TOOL" "$*" >&2
	exit 1
}
trap 'die "command failed (line $LINENO): $BASH_COMMAND"' ERR

is_root() { [[ $(id -u) == 0 ]]; }
have() { command -v "$1" >/dev/null 2>&1; }
sha256() { sha256sum "$1" | cut -d' ' -f1; }

APT_UPDATED=no
apt_update_once() {
	[[ $APT_UPDATED == yes ]] && return 0
	is_root || return 1
	say "apt: apt-get update (package lists missing or stale)"
	apt-get update -qq >/dev/null || die "apt-get update failed"
	APT_UPDATED=yes
}

# record_field RECORDS PKG FIELD: FIELD of PKG in apt-cache show output.
record_field() {
	awk -v p="$2" -v f="$3: " 'BEGIN { RS = ""; FS = "\n" } {
		pkg = ""; val = ""
		for (i = 1; i <= NF; i++) {
			if (index($i, "Package: ") == 1) pkg = substr($i, 10)
			if (index($i, f) == 1) val = substr($i, length(f) + 1)
		}
		if (pkg == p && val != "") { print val; exit }
	}' <<<"$1"
}

# apt_field PKG FIELD: FIELD of PKG's candidate version, empty if unknown.
apt_field() {
	record_field "$(apt-cache show --no-all-versions "$1" 2>/dev/null || true)" "$1" "$2"
}

# install_pkgs PKG...: apt-get install as root, else name the command.
install_pkgs() {
	(($# > 0)) || return 0
	is_root || die "missing packages; run as root: apt-get install -y --no-install-recommends $*"
	say "tools: apt-get install -y --no-install-recommends $*"
	[[ -n $(apt_field "$1" Version) ]] || apt_update_once
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" \
		>"$WORK/apt.log" 2>&1 || die "apt-get install $* failed: $(tail -n 5 "$WORK/apt.log")"
}
