#!/usr/bin/env bash
# The GRUB image boots under Bochs (VT-x with EPT, 2 CPUs): banner, effective
# configuration, every CPU online, the VT-x summary, then keel halts.
. "$(dirname "$0")/lib.bash"

TIMEOUT=${BOCHS_TIMEOUT:-300} boot bochs "$BUILD/keel-emu.iso" corei7_skylake_x 2

expect_halted "bochs: keel halts by itself"
expect "bochs: banner" '^keel [0-9.]+: static partitioning monitor'
expect "bochs: loaded by GRUB through Multiboot2" '^boot: Multiboot2 from "GRUB'
for m in config.dtb companion.vmlinux companion.cpio guest.vmlinux guest.cpio; do
	expect "bochs: module $m" "^boot: module $m "
done
expect "bochs: keel's image is carved out of free memory" '^memory: .* keel image$'
expect "bochs: ACPI MADT lists both CPUs" '^acpi: MADT lists 2 enabled CPUs'
expect "bochs: effective config, keel" '^config: version 1, keel pool 64 MiB'
expect "bochs: effective config, companion" '^config: companion: cpus 0, kernel companion.vmlinux'
expect "bochs: effective config, guest" '^config: guest: cpus 1, memory 256 MiB'
expect "bochs: effective config, disk" '^config: guest virtio-scsi: 1 request queue'
expect "bochs: VT-x summary" '^vmx: EPT yes .*unrestricted guest yes, VPID yes, EPT A/D yes, PML yes, preemption timer yes'
expect "bochs: cpu 1 online with VMX" '^smp: cpu 1 online \(APIC ID [0-9]+\), VMX enabled'
expect "bochs: every CPU online" '^smp: 2 of 2 CPUs online'
expect_order "bochs: config before VT-x before CPUs" '^config: version' '^vmx: EPT' '^smp: 2 of 2'
expect_not "bochs: no error" '^keel: (error|fatal)'
expect "bochs: halts after the checks" '^keel: halted: boot checks complete'
