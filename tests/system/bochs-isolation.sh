#!/usr/bin/env bash
# The probe guest (tests/guest/) runs as keel's guest under Bochs (VT-x with
# EPT, 2 CPUs) beside the companion Linux. Every check the probe makes must
# pass; keel must stop the guest at the probe's final triple fault, count the
# refusals the probe provoked, and the companion must boot to its init
# untouched by what the guest aimed at it (IPIs, NMIs, INIT/SIPI, a reset).
. "$(dirname "$0")/lib.bash"

start=$(date +%s)
TIMEOUT=${BOCHS_TIMEOUT:-600} boot bochs "$BUILD/probe-emu.iso" corei7_skylake_x 2
echo "# Bochs run: $(($(date +%s) - start)) s"

# every check tests/guest/probe.c makes, in its order
PROBES=(
	"boot: entered in 32-bit protected mode, paging off"
	"boot: PVH start info, cmdline, no modules, RSDP"
	"boot: RAM ends at 64 MiB"
	"cpuid: hypervisor bit set"
	"cpuid: VMX hidden"
	"cpuid: MCE, MTRR and MCA hidden"
	"cpuid: KVM signature at 0x40000000"
	"cpuid: KVM features are NOP_IO_DELAY only"
	"cpuid: leaf 0x15 gives the TSC frequency"
	"msr: IA32_FEATURE_CONTROL read raises #GP"
	"msr: IA32_VMX_BASIC read raises #GP"
	"msr: IA32_MTRRCAP read raises #GP"
	"msr: IA32_MC0_CTL read raises #GP"
	"msr: SMBASE 0x9e read raises #GP"
	"msr: nonsense 0x12345678 read raises #GP"
	"msr: IA32_FEATURE_CONTROL and TSC writes raise #GP"
	"msr: IA32_APIC_BASE reads x2APIC mode at 0xfee00000"
	"msr: IA32_APIC_BASE move or x2APIC exit raises #GP"
	"msr: IA32_APIC_BASE rewrite of its value accepted"
	"msr: IA32_MISC_ENABLE reads fast strings"
	"msr: EFER reads long mode"
	"msr: LSTAR write reads back"
	"msr: TSC_AUX write reads back"
	"msr: TSC reads are monotonic"
	"ports: keyboard controller 0x64 reads all ones"
	"ports: CMOS 0x70/0x71 reads all ones"
	"ports: PIT 0x40 reads all ones"
	"ports: PIC 0x20/0x21 reads all ones, ignores writes"
	"ports: reset control 0xcf9 ignores a reset"
	"ports: 0xcf9 reads all ones, not CONFIG_ADDRESS"
	"ports: COM2 0x2f8 reads all ones, ignores writes"
	"ports: 16- and 32-bit reads all ones, 8-bit keeps EAX"
	"ports: string input from a refused port completes"
	"pci: host bridge 00:00.0 is 8086:29c0"
	"pci: host bridge IDs are read-only"
	"pci: 00:01.0 is the virtio-scsi device 1af4:1048"
	"pci: absent device 00:1f.0 reads all ones"
	"virtio: device features 31:0 read 0x30000000"
	"virtio: writes to a read-only register and of a wrong size are refused"
	"mmio: lock add to a refused address raises #GP"
	"mmio: add to an unmapped address raises #GP"
	"memory: the last bytes of RAM hold a pattern"
	"memory: nothing right after the RAM"
	"memory: nothing at RAM end + 1 MiB"
	"memory: nothing at 2 GiB"
	"memory: nothing at 3.5 GiB"
	"memory: the xAPIC page is not mapped"
	"ioapic: version register reads 0x00170011"
	"ioapic: a write to the version register is refused"
	"ioapic: redirection entry 0 holds what is written"
	"mmio: loads at a refused address"
	"mmio: stores at a refused address"
	"mmio: immediate stores at a refused address"
	"mmio: loads in the I/O APIC page"
	"mmio: stores in the I/O APIC page"
	"mmio: immediate stores in the I/O APIC page"
	"ipi: x2APIC software-enabled"
	"ipi: fixed IPI to its own APIC ID arrives"
	"ipi: fixed IPI by the self shorthand arrives"
	"ipi: x2APIC SELF IPI register arrives"
	"ipi: fixed IPI to APIC ID 0 dropped"
	"ipi: INIT to APIC ID 0 dropped"
	"ipi: SIPI to APIC ID 0 dropped"
	"ipi: NMI to APIC ID 0 dropped"
	"ipi: broadcast to all excluding self dropped"
	"ipi: broadcast to all including self dropped"
	"ipi: fixed IPI to the broadcast ID dropped"
	"ipi: NMI to itself dropped"
	"ipi: logical-destination IPI dropped"
	"exceptions: divide error is the guest's"
	"exceptions: #UD is the guest's"
	"exceptions: int3 is the guest's"
	"exceptions: page fault is the guest's"
	"exceptions: non-canonical #GP is the guest's"
)

# a probe name as an extended regex matching just itself
# shellcheck disable=SC2016 # a sed expression, not a shell one
re() { sed -e 's/[][\.*^$(){}+?|/]/\\&/g' <<<"$1"; }

# the number after KEY in "io N, mmio N, msr N, ipi N, device writes N"
count() { sed -nE "s/(^|.*, )$2 ([0-9]+).*/\\2/p" <<<"$1"; }

expect_halted "isolation: keel halts by itself"
expect "isolation: the probe is the guest's kernel" '^guest: probe\.elf PVH vmlinux at 0x1000000-'
expect "isolation: the probe starts" '^\[guest\] probe: keel guest probe starting$'
for p in "${PROBES[@]}"; do
	expect "isolation: $p" "^\[guest\] probe: PASS $(re "$p")\$"
done
# the summary: every check listed above made, no exception the probe did not
# expect (each failed check has its own line above)
summary=$(sed -nE 's/^\[guest\] probe: summary ([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$LOG" | head -n 1)
if [ -n "$summary" ] && [ $((${summary% *} + ${summary#* })) -eq ${#PROBES[@]} ]; then
	ok "isolation: the probe made the ${#PROBES[@]} checks listed here"
else
	not_ok "isolation: the probe made the ${#PROBES[@]} checks listed here" "summary: ${summary:-none} (passed failed)"
fi
expect_not "isolation: no unexpected exception in the probe" '^\[guest\] probe: FAIL unexpected'

# the triple fault: the probe's last act, where keel stops the guest
expect_order "isolation: keel stops the guest at the probe's triple fault" \
	'^\[guest\] probe: summary ' '^\[guest\] probe: triple fault at rip ' \
	'^keel: guest stopped: triple fault$'
want=$(sed -nE 's/^\[guest\] probe: triple fault at rip 0x([0-9a-f]+)$/\1/p' "$LOG" | head -n 1)
got=$(grep -A 3 '^keel: guest stopped: triple fault$' "$LOG" | sed -nE 's/^  rip ([0-9a-f]+) .*/\1/p' | head -n 1)
if [ -n "$want" ] && [ -n "$got" ] && [ $((16#$want)) -eq $((16#$got)) ]; then
	ok "isolation: keel reports the triple fault at the probe's ud2"
else
	not_ok "isolation: keel reports the triple fault at the probe's ud2" "probe: ${want:-none}, keel: ${got:-none}"
fi
after=$(sed -n '/^keel: guest stopped: triple fault$/,$p' "$LOG" | grep -c '^\[guest\] ')
if [ "$after" -eq 0 ]; then ok "isolation: the guest says nothing after its triple fault"
else not_ok "isolation: the guest says nothing after its triple fault" "$after lines"; fi

# keel's exception bitmap is empty and nobody sends CPU 1 an NMI: the
# probe's exceptions must never have left the guest
expect_not "isolation: the guest's exceptions never exit to keel" '^stats: guest: +EXCEPTION_NMI '

# keel injected #GP for what it cannot emulate, and said why
expect "isolation: keel refuses the locked add" \
	'^keel: guest: refused access to 0x4100000 at rip 0x[0-9a-f]+: mmio: LOCK prefix'
expect "isolation: keel refuses the add" \
	'^keel: guest: refused access to 0x80000000 at rip 0x[0-9a-f]+: mmio: unsupported opcode 0x01'

# the companion goes on, untouched
expect_order "isolation: the companion reaches its init after the triple fault" \
	'^keel: guest stopped: triple fault$' \
	'^\[companion\] (\[ *[0-9.]+\] )?keel-payload: companion init reached'
expect "isolation: the companion still drives the machine's disk" \
	'^\[companion\] (\[ *[0-9.]+\] )?keel-payload: companion disk sda [0-9]+ sectors'
expect "isolation: the companion powers off" '^keel: companion stopped: powered off$'
expect_not "isolation: no stray interrupt, NMI or INIT reached the companion" \
	'^\[companion\] .*(spurious APIC interrupt|No irq handler for vector|Stale IRR|NMI received for unknown reason|Dazed and confused)'
n=$(grep -cE '^keel [0-9.]+: static partitioning monitor' "$LOG")
if [ "$n" -eq 1 ]; then ok "isolation: the machine never reset"
else not_ok "isolation: the machine never reset" "keel started $n times"; fi
expect_not "isolation: no keel error" '^keel: (error|fatal)'

# keel counted every refusal the probe provoked
expect "isolation: stats: the guest stopped by its triple fault" '^stats: guest: .*stopped: triple fault$'
provoked=$(sed -nE 's/^\[guest\] probe: provoked (io .*)$/\1/p' "$LOG" | head -n 1)
refused=$(sed -nE 's/^stats: guest: refused (io .*)$/\1/p' "$LOG" | head -n 1)
for k in io mmio "mmio instructions" msr ipi "device writes"; do
	p=$(count "$provoked" "$k")
	r=$(count "$refused" "$k")
	if [ -n "$r" ] && [ "$r" -gt 0 ] && [ "$r" = "$p" ]; then
		ok "isolation: stats: keel counted the guest's refused $k as provoked"
	else
		not_ok "isolation: stats: keel counted the guest's refused $k as provoked" \
			"keel: ${r:-?}, the probe provoked ${p:-?}"
	fi
done
expect "isolation: keel halts once both partitions stopped" '^keel: halted: all partitions stopped'
