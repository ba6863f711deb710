#!/usr/bin/env bash
# The guest's disk workload (tests/guest-io/) in the guest's own kernel,
# under QEMU TCG, without keel: build/guest-io.cpio finds its virtio-scsi
# disk, and every step of /etc/keel/guest.sh passes (pattern, fs, sum,
# rebind). Then the host checks the disk image as the companion will check
# its backstore: its md5 is the one the guest printed, and it holds the
# pattern of the seed the guest printed.
#
# QEMU's virtio-scsi-pci is made modern-only (1af4:1048), the device keel
# models; its scsi-hd says vendor QEMU where keel's LIO target says LIO-ORG.
. "$(dirname "$0")/lib.bash"

TIMEOUT=${TIMEOUT:-180}
INITRD=${INITRD:-$BUILD/guest-io.cpio}
DISKCHECK=${DISKCHECK:-$BUILD/diskcheck}
SECTORS=131072 # 64 MiB, the default appliance's guest disk

for f in "$PAYLOAD/vmlinux" "$INITRD" "$DISKCHECK"; do
	if [ ! -f "$f" ]; then
		not_ok "inputs present" "no $f: run make $BUILD/guest-io.cpio"
		exit 1
	fi
done

disk=$LOGDIR/disk.img
rm -f "$disk"
truncate -s $((SECTORS * 512)) "$disk"
start=$SECONDS
timeout "$TIMEOUT" qemu-system-x86_64 -m 256M -smp 1 -nographic -no-reboot \
	-kernel "$PAYLOAD/vmlinux" -initrd "$INITRD" \
	-append "console=ttyS0 keel.role=guest" \
	-device virtio-scsi-pci,id=scsi0,disable-legacy=on,disable-modern=off \
	-drive "file=$disk,if=none,id=d0,format=raw" \
	-device scsi-hd,drive=d0,bus=scsi0.0 \
	</dev/null >"$LOGDIR/serial.log" 2>"$LOGDIR/emu-run.out"
BOOT_STATUS=$?
echo "# QEMU ran $((SECONDS - start)) s"
LOG=$LOGDIR/serial.log.txt
tr -d '\r' <"$LOGDIR/serial.log" >"$LOG"

case $BOOT_STATUS in
0) ok "qemu: the guest kernel powers off by itself" ;;
124) not_ok "qemu: the guest kernel powers off by itself" "timed out after $TIMEOUT s" ;;
*) not_ok "qemu: the guest kernel powers off by itself" \
	"qemu exited $BOOT_STATUS: $(tail -n 2 "$LOGDIR/emu-run.out")" ;;
esac

M='\] keel-payload: guest'
PASS=' I/O errors, [0-9.]+ s( \([0-9.]+ MiB/s\))?: PASS$'
expect "guest io: init reached" "$M init reached, kernel 6\\."
expect "guest io: the virtio-scsi disk, its size and vendor" \
	"$M disk sda: $SECTORS sectors \\(64 MiB\\), vendor QEMU, model QEMU HARDDISK, on virtio[0-9]+, "
seed=$(sed -n 's/.* keel-payload: guest disk sda: .*, seed \([0-9]*\)$/\1/p' "$LOG")
D="diskcheck: (write|verify) /dev/sda seed [0-9]+"
expect_order "guest io: pattern: written at 64K, verified at 4K and 1M, rewritten at 1M, verified at 64K" \
	"$M pattern: diskcheck: write /dev/sda seed $seed bs 65536: $((SECTORS * 512)) bytes, 0$PASS" \
	"$M pattern: diskcheck: verify /dev/sda seed $seed bs 4096: $((SECTORS * 512)) bytes, 0 bad sectors, 0$PASS" \
	"$M pattern: diskcheck: verify /dev/sda seed $seed bs 1048576: $((SECTORS * 512)) bytes, 0 bad sectors, 0$PASS" \
	"$M pattern: diskcheck: write /dev/sda seed $((seed + 1)) bs 1048576: .*$PASS" \
	"$M pattern: diskcheck: verify /dev/sda seed $((seed + 1)) bs 65536: .*, 0 bad sectors, 0$PASS" \
	"$M pattern: PASS "
expect_not "guest io: pattern: no failed diskcheck pass" "$M [a-z]+: $D .*: FAIL"
expect_order "guest io: fs: ext4 files survive a remount" \
	"$M fs: diskcheck: write /mnt/disk/pattern1 .*$PASS" \
	"$M fs: 4 files verified \\(4 of 4 sha256 sums right after a remount; mke2fs 1\\." \
	"$M fs: PASS "
expect "guest io: sum: the last pattern's checksum" "$M disk md5 [0-9a-f]{32} seed [0-9]+ bytes $((SECTORS * 512))$"
expect_order "guest io: rebind: unbind with reads in flight, bind, verify" \
	"$M rebind: virtio[0-9]+ unbound with reads running" \
	"$M rebind: the background verify ended \\(exit 1\\) after [0-9]+ whole passes: diskcheck: /dev/sda: (read|short read|open)" \
	"$M rebind: virtio[0-9]+ bound again, sda back after " \
	"$M rebind: diskcheck: verify /dev/sda .*, 0 bad sectors, 0$PASS" \
	"$M rebind: PASS "
expect "guest io: every step passes" "$M io: PASS \\([0-9.]+ s\\)$"
expect "guest io: the role script ends well" '\] keel-payload: /etc/keel/guest\.sh exited 0$'
expect_not "guest io: no oops, BUG or warning" '(BUG:|Oops|WARNING:|Call Trace|general protection)'

# what the companion does with its backstore once the guest stopped
read -r sum sum_seed <<<"$(sed -n 's/.* keel-payload: guest disk md5 \([0-9a-f]*\) seed \([0-9]*\) .*/\1 \2/p' "$LOG")"
image_sum=$(md5sum "$disk" | cut -d' ' -f1)
if [ -n "$sum" ] && [ "$sum" = "$image_sum" ]; then
	ok "host: the disk image's md5 is the guest's"
else
	not_ok "host: the disk image's md5 is the guest's" "guest ${sum:-(none)}, image $image_sum"
fi
if [ -n "$sum_seed" ] && "$DISKCHECK" verify "$disk" "$sum_seed" 1M >"$LOGDIR/host-verify.log" 2>&1; then
	ok "host: the disk image holds the pattern of the guest's last seed"
else
	not_ok "host: the disk image holds the pattern of the guest's last seed" \
		"$(tail -n 1 "$LOGDIR/host-verify.log" 2>/dev/null)"
fi
rm -f "$disk"
