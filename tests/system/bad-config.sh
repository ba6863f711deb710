#!/usr/bin/env bash
# A broken configuration halts keel with one message naming the node and the
# property, before VT-x is touched or any CPU or partition starts.
. "$(dirname "$0")/lib.bash"

check_bad() {
	local name=$1 dtb=$2 want=$3
	LOGDIR=$LOGDIR/$name
	mkdir -p "$LOGDIR"
	# shellcheck disable=SC2046
	TIMEOUT=120 boot qemu "$BUILD/keel.elf" - 2 "$dtb" config.dtb $(payload_modules)
	expect_halted "$name: keel halts by itself"
	expect "$name: error names node and property" "^keel: error: $want"
	expect "$name: halts before any partition" '^keel: halted: boot stopped before any partition started'
	expect_not "$name: VT-x and CPUs untouched" '^(vmx:|smp: cpu 1)'
	LOGDIR=${LOGDIR%/*}
}

out=$BUILD/system/bad-config
mkdir -p "$out"
dtc -q -I dts -O dtb -o "$out/too-big.dtb" tests/system/configs/guest-memory-too-big.dts
dtc -q -I dts -O dtb -o "$out/no-module.dtb" tests/system/configs/unknown-kernel-module.dts
yes "not a device tree" | head -c 4096 >"$out/garbage.dtb"

check_bad too-big "$out/too-big.dtb" "config: /guest: property 'memory': .*exceed"
check_bad no-module "$out/no-module.dtb" "config: /companion: property 'kernel': .*missing.vmlinux"
check_bad garbage "$out/garbage.dtb" "config: not a valid DTB"
