#!/usr/bin/env bash
# QEMU TCG has no VT-x. Loaded by QEMU's own Multiboot1 loader, keel reads its
# configuration, then stops with one clear message saying VT-x is missing.
. "$(dirname "$0")/lib.bash"

# shellcheck disable=SC2046
TIMEOUT=120 boot qemu "$BUILD/keel.elf" - 2 "$BUILD/configs/default.dtb" config.dtb $(payload_modules)

expect_halted "qemu: keel halts by itself"
expect "qemu: banner" '^keel [0-9.]+: static partitioning monitor'
expect "qemu: loaded through Multiboot1" '^boot: Multiboot1 from "qemu'
expect "qemu: RSDP found by scanning the BIOS area" '^acpi: MADT lists 2 enabled CPUs'
expect "qemu: configuration accepted" '^config: guest virtio-scsi:'
expect "qemu: clear no-VT-x error" '^keel: error: vmx: VT-x not available: CPUID.1:ECX.VMX is 0.*QEMU TCG cannot emulate it'
expect "qemu: halts before any partition" '^keel: halted: boot stopped before any partition started'
expect_not "qemu: no CPU started after the error" '^smp: cpu 1 online'
