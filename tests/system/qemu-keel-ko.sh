#!/usr/bin/env bash
# keel.ko in the companion's own kernel, under QEMU TCG, without keel: the
# module loads, refuses a channel device whose ABI version it does not speak,
# checks a version 2 device's shared window, refuses a device without MSI
# (releasing what it claimed) and unloads.
#
# The initramfs is the companion's (build/payload/companion.cpio) with a
# second archive appended: keel.ko and a test /etc/keel/companion.sh, which
# replaces the companion's role script. The kernel unpacks both archives in
# turn, later files replacing earlier ones.
#
# QEMU has no keel channel device. Its ivshmem-plain device stands in: BAR0
# is a small register window whose word 0 (IntrMask) reads back what was
# written, so it can play an ABI version register, and BAR2 is plain memory
# like keel's shared window. The script binds it to keel.ko through the
# driver's new_id file (keel.ko's own ID table names only 4b45:0001), with
# the word at 0 and at 1 (both refused), then at 2 with a version 2 window:
# keel.ko accepts both and then refuses the device, because ivshmem-plain
# has no MSI capability (ivshmem-doorbell has MSI-X, not MSI, and needs an
# ivshmem-server). Binding, /dev/keel and the interrupt path need keel.
. "$(dirname "$0")/lib.bash"

KO=${KO:-$BUILD/kmod/keel.ko}
TIMEOUT=${TIMEOUT:-120}

for f in "$KO" "$PAYLOAD/vmlinux" "$PAYLOAD/companion.cpio" "$PAYLOAD/kernel.env"; do
	if [ ! -f "$f" ]; then
		not_ok "inputs present" "no $f: run make kmod (it builds the payloads too)"
		exit 1
	fi
done
KERNEL_VERSION=$(sed -n 's/^KERNEL_VERSION=//p' "$PAYLOAD/kernel.env")

# the appended archive
overlay=$LOGDIR/overlay
rm -rf "$overlay"
mkdir -p "$overlay/etc/keel" "$overlay/lib/modules/$KERNEL_VERSION/extra"
cp "$KO" "$overlay/lib/modules/$KERNEL_VERSION/extra/keel.ko"
cat >"$overlay/etc/keel/companion.sh" <<'EOF'
#!/bin/sh
# Written by tests/system/qemu-keel-ko.sh: loads, binds, unloads keel.ko.
say() { echo "keel-ko-test: $*" >/dev/kmsg; }
drv=/sys/bus/pci/drivers/keel
bound() { if [ -e "$drv/$dev" ]; then echo bound; else echo "not bound"; fi; }
# what a refused probe left behind: its BARs claimed, /dev/keel
leftovers() {
	l=
	grep -q ' : keel$' /proc/iomem && l="$l BARs claimed"
	[ -e /dev/keel ] && l="$l /dev/keel"
	echo "${l:- none}"
}

if insmod "/lib/modules/$(uname -r)/extra/keel.ko"; then say "insmod ok"; else say "insmod failed"; fi
grep '^keel ' /proc/modules >/dev/null || say "/proc/modules has no keel"
lsmod | grep '^keel ' | while read -r l; do say "lsmod: $l"; done

dev=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1af4:0x1110 ] && dev=${d##*/}
done
if [ -n "$dev" ]; then
	# new_id probes matching devices at once: word 0 reads 0
	echo "1af4 1110" >"$drv/new_id"
	say "version 0: $(bound)"
	bar0=$(head -n 1 "/sys/bus/pci/devices/$dev/resource" | cut -d' ' -f1)
	bar2=$(sed -n 3p "/sys/bus/pci/devices/$dev/resource" | cut -d' ' -f1)
	devmem "$bar0" 32 1
	echo "$dev" >"$drv/bind" 2>/dev/null
	say "version 1: $(bound)"
	devmem "$bar0" 32 2
	# the shared window: magic "KEEL", ABI version 2
	devmem "$bar2" 32 0x4C45454B
	devmem $((bar2 + 4)) 32 2
	echo "$dev" >"$drv/bind" 2>/dev/null
	say "version 2: $(bound); left behind:$(leftovers)"
else
	say "no ivshmem-plain device"
fi

if rmmod keel; then say "rmmod ok"; else say "rmmod failed"; fi
if grep '^keel ' /proc/modules >/dev/null; then say "after rmmod: keel listed"; else say "after rmmod: keel gone"; fi
dmesg | grep '\] keel: ' | while read -r l; do say "dmesg: ${l#*\] }"; done
EOF
chmod 0755 "$overlay/etc/keel/companion.sh"
initrd=$LOGDIR/companion-keel-ko.cpio
{
	cat "$PAYLOAD/companion.cpio"
	(cd "$overlay" && find . | sort | cpio -o -H newc -R 0:0 --reproducible --quiet)
} >"$initrd"

timeout "$TIMEOUT" qemu-system-x86_64 -m 512 -smp 1 -nographic -no-reboot \
	-kernel "$PAYLOAD/vmlinux" -initrd "$initrd" \
	-append "console=ttyS0 keel.role=companion" \
	-object memory-backend-ram,id=shm,size=1M,share=on \
	-device ivshmem-plain,memdev=shm \
	</dev/null >"$LOGDIR/serial.log" 2>"$LOGDIR/emu-run.out"
BOOT_STATUS=$?
LOG=$LOGDIR/serial.log.txt
tr -d '\r' <"$LOGDIR/serial.log" >"$LOG"

case $BOOT_STATUS in
0) ok "qemu: the companion kernel powers off by itself" ;;
124) not_ok "qemu: the companion kernel powers off by itself" "timed out after $TIMEOUT s" ;;
*) not_ok "qemu: the companion kernel powers off by itself" \
	"qemu exited $BOOT_STATUS: $(tail -n 2 "$LOGDIR/emu-run.out")" ;;
esac
kv=${KERNEL_VERSION//./\\.}
expect "keel.ko: the companion's kernel $KERNEL_VERSION reaches init" \
	"keel-payload: companion init reached, kernel $kv,"
expect "keel.ko: insmod succeeds" 'keel-ko-test: insmod ok$'
expect "keel.ko: init says it waits for the channel device" \
	"\] keel: module loaded, waiting for keel's channel device$"
expect "keel.ko: lsmod lists keel" 'keel-ko-test: lsmod: keel +[0-9]+ +0$'
expect_order "keel.ko: ABI version 0 refused, device left unbound" \
	'\] keel: channel ABI version 0, device ' \
	'\] keel: [0-9a-f:.]+: channel ABI version 0 is not supported \(this module speaks version 2\); not binding$' \
	'keel-ko-test: version 0: not bound$'
expect_order "keel.ko: ABI version 1 refused, device left unbound" \
	'\] keel: channel ABI version 1, device ' \
	'\] keel: [0-9a-f:.]+: channel ABI version 1 is not supported \(this module speaks version 2\); not binding$' \
	'keel-ko-test: version 1: not bound$'
expect_order "keel.ko: ABI version 2 and its shared window accepted" \
	'\] keel: channel ABI version 2, device [0-9a-f:.]+, BAR0 \[mem ' \
	'\] keel: [0-9a-f:.]+: guest disk: 0 request queue\(s\) of 0, '
expect_order "keel.ko: a device without MSI refused, nothing left behind" \
	'\] keel: [0-9a-f:.]+: guest disk: ' \
	'\] keel: [0-9a-f:.]+: no MSI: keel cannot signal kicks \(-[0-9]+\); not binding$' \
	'keel-ko-test: version 2: not bound; left behind: none$'
expect_not "keel.ko: no refused device counts as bound" '\] keel: .*channel device (bound|released)'
expect_order "keel.ko: rmmod unloads" \
	'\] keel: module unloaded$' \
	'keel-ko-test: rmmod ok$'
expect "keel.ko: gone from /proc/modules after rmmod" 'keel-ko-test: after rmmod: keel gone$'
expect "keel.ko: its lines are in the kernel log (dmesg)" \
	"keel-ko-test: dmesg: keel: module loaded, waiting for keel's channel device$"
expect_not "keel.ko: no oops, BUG or warning" '(BUG:|Oops|WARNING:|Call Trace|general protection)'
expect "keel.ko: the role script finished" 'keel-payload: /etc/keel/companion\.sh exited 0$'
