#!/usr/bin/env bash
# The same GRUB image boots on UEFI firmware (QEMU with OVMF): GRUB's EFI
# loader starts keel through Multiboot2 and keel comes up to its checks.
. "$(dirname "$0")/lib.bash"

TIMEOUT=240 boot qemu-uefi "$BUILD/keel-emu.iso" - 2

expect_halted "uefi: keel halts by itself"
expect "uefi: banner" '^keel [0-9.]+: static partitioning monitor'
expect "uefi: loaded by GRUB through Multiboot2" '^boot: Multiboot2 from "GRUB'
expect "uefi: ACPI found through the loader's RSDP" '^acpi: MADT lists 2 enabled CPUs'
expect "uefi: configuration accepted" '^config: guest virtio-scsi:'
expect "uefi: clear no-VT-x error" '^keel: error: vmx: VT-x not available'
