#!/usr/bin/env bash
# The default appliance under Bochs (corei7_skylake_x: EPT A/D, PML): keel
# boots, both Debian kernels run side by side to init, keel reports.
. "$(dirname "$0")/lib.bash"

boot_partitions corei7_skylake_x
expect "skylake: loads every module" '^boot: module guest.cpio '
expect "skylake: VT-x summary" '^vmx: EPT yes .*unrestricted guest yes, VPID yes, EPT A/D yes, PML yes, preemption timer yes'
expect "skylake: cpu 1 online with VMX" '^smp: cpu 1 online \(APIC ID [0-9]+\), VMX enabled'
expect "skylake: guest keeps x2APIC (passthrough, ICR filtered)" '^\[guest\] \[ *[0-9.]+\] x2apic: enabled by BIOS'
expect_disk_io skylake
