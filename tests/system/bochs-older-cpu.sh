#!/usr/bin/env bash
# An older VT-x (corei7_sandy_bridge_2600k: no EPT A/D bits, no PML, no
# x2APIC): keel detects it and both partitions still run. The companion
# boots from Debian's bzImage through the 64-bit boot protocol here, and
# once the guest's I/O runs it hands the guest off to itself (keelctl
# save, drop, restore): its local APIC, in xAPIC mode, goes with it.
. "$(dirname "$0")/lib.bash"

boot_partitions corei7_sandy_bridge_2600k "$BUILD/bzimage-emu.iso"
expect "sandy bridge: VT-x summary without A/D and PML" \
	'^vmx: EPT yes .*unrestricted guest yes, VPID yes, EPT A/D no, PML no'
expect "sandy bridge: no x2APIC, so the xAPIC page is trapped" \
	'^guest: no x2APIC on this CPU: xAPIC page read-only, writes trapped'
expect "bzImage: the companion's kernel through the 64-bit boot protocol" \
	'^companion: companion\.bzImage bzImage at 0x1000000-0x[0-9a-f]+, entry 0x1000200'
expect_disk_io "sandy bridge"
expect_order "sandy bridge: the guest handed off with its local APIC in xAPIC mode" \
	'^\[companion\] \[ *[0-9.]+\] keel-payload: companion: handoff 1 at' \
	'^handoff: guest paused' \
	'^handoff: state captured: [0-9]+ bytes, .*, local APIC in xAPIC mode' \
	'^handoff: guest dropped' \
	'^handoff: state checked' \
	'^handoff: state loaded' \
	'^handoff: guest resumed' \
	'^\[companion\] \[ *[0-9.]+\] restored [0-9]+ bytes \(256 MiB RAM, [0-9]+ bytes state\) in [0-9.]+ s; the guest runs'
expect_not "sandy bridge: keel refused nothing" '^handoff: refused'
expect_guest_quiet_after "sandy bridge: the guest's kernel saw nothing wrong after the handoff" \
	'keel-payload: companion: handoff 1 at'
