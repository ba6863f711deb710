#!/usr/bin/env bash
# An older VT-x (corei7_sandy_bridge_2600k: no EPT A/D bits, no PML, no
# x2APIC): keel detects it and both partitions still run. The companion
# boots from Debian's bzImage through the 64-bit boot protocol here.
. "$(dirname "$0")/lib.bash"

boot_partitions corei7_sandy_bridge_2600k "$BUILD/bzimage-emu.iso"
expect "sandy bridge: VT-x summary without A/D and PML" \
	'^vmx: EPT yes .*unrestricted guest yes, VPID yes, EPT A/D no, PML no'
expect "sandy bridge: no x2APIC, so the xAPIC page is trapped" \
	'^guest: no x2APIC on this CPU: xAPIC page read-only, writes trapped'
expect "bzImage: the companion's kernel through the 64-bit boot protocol" \
	'^companion: companion\.bzImage bzImage at 0x1000000-0x[0-9a-f]+, entry 0x1000200'
expect_disk_io "sandy bridge"
