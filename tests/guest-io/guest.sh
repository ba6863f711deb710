#!/bin/sh
# shellcheck shell=dash
# The guest's role (/etc/keel/guest.sh in build/guest-io.cpio): exercise its
# virtio-scsi disk and prove the data. Every result is a "keel-payload:
# guest ..." line in the kernel log; the last one is
#   keel-payload: guest io: PASS        or
#   keel-payload: guest io: FAIL (<step>[,<step>...])
#
# Kernel command line:
#   keel.io=STEP,...  the steps, in that order (default pattern,fs,sum,rebind;
#                     none: do nothing)
#     pattern  diskcheck: write at 64 KiB, verify at 4 KiB and 1 MiB, write a
#              second seed at 1 MiB, verify at 64 KiB
#     fs       mkfs.ext4, files, sha256sum, remount, check them
#     sum      write a last seed over the disk and print its md5, which
#              the companion (or the host) compares with the backstore
#     rebind   unbind virtio_scsi with reads in flight, bind it again,
#              verify the disk
#     bench    make bench's 4 KiB random I/O runs (tests/bench/iobench.c)
#     journal  diskcheck journal: 4 KiB O_DIRECT writes at random blocks for
#              keel.io.seconds of running time, then every block written
#              read back: none lost, none corrupt (the guest may be handed
#              to another keel meanwhile)
#     idle     no I/O for keel.io.idle seconds of running time (default 60)
#   keel.seed=N       first seed, decimal below 10^18 (default: random); the
#                     steps use N, N+1, ...
#   keel.io.timeout=S after S seconds, print "guest io: FAIL (timeout ...)"
#                     and power off, whatever still runs (default: no limit)
#   keel.io.seconds=S the journal step's running time (default 60)
#   keel.io.idle=S    the idle step's (default 60)
# See tests/guest-io/README.md.

say() { echo "keel-payload: guest $*" >/dev/kmsg; }

# /proc/uptime in hundredths of a second
now_cs() {
	local up rest
	read -r up rest </proc/uptime
	echo "${up%.*}${up#*.}" | sed 's/^0*//; s/^$/0/'
}
secs() { printf '%d.%02d' $(($1 / 100)) $(($1 % 100)); }

failed=
fail() {
	say "$step: FAIL: $*"
	case ,$failed, in *,$step,*) ;; *) failed=${failed:+$failed,}$step ;; esac
}

# dc ARGS...: runs diskcheck; every line it prints becomes a marker
dc() {
	local out rc
	out=$(diskcheck "$@" 2>&1)
	rc=$?
	echo "$out" | while IFS= read -r line; do say "$step: $line"; done
	if [ $rc -ne 0 ]; then
		case $1 in
		journal) fail "diskcheck $1 seed $3 seconds $4 exited $rc" ;;
		*) fail "diskcheck $1 seed $3 bs $4 exited $rc" ;;
		esac
	fi
	return $rc
}

# the SCSI disk on a virtio device: prints "sdX virtioN", or nothing
find_disk() {
	local b path
	for b in /sys/block/sd*; do
		[ -e "$b" ] || continue
		path=$(readlink -f "$b")
		case $path in
		*/virtio[0-9]*/host*)
			path=${path%%/host*}
			echo "${b##*/} ${path##*/}"
			return 0
			;;
		esac
	done
}

# wait_disk SECONDS: sets DISK (sdX) and VDEV (virtioN) once a disk and its
# /dev node are there
wait_disk() {
	local i=0 found
	DISK='' VDEV=''
	while [ $i -lt $(($1 * 10)) ]; do
		found=$(find_disk)
		if [ -n "$found" ]; then
			# shellcheck disable=SC2086 # two words
			set -- $found
			if [ -b "/dev/$1" ]; then
				DISK=$1 VDEV=$2
				return 0
			fi
		fi
		usleep 100000
		i=$((i + 1))
	done
	return 1
}

# --- the disk (always) -------------------------------------------------
steps=pattern,fs,sum,rebind
seed=
limit=
seconds=60
idle=60
read -r cmdline </proc/cmdline
set -f
for arg in $cmdline; do
	case $arg in
	keel.io=*) steps=${arg#keel.io=} ;;
	keel.seed=*) seed=${arg#keel.seed=} ;;
	keel.io.timeout=*) limit=${arg#keel.io.timeout=} ;;
	keel.io.seconds=*) seconds=${arg#keel.io.seconds=} ;;
	keel.io.idle=*) idle=${arg#keel.io.idle=} ;;
	esac
done
set +f
if [ "$steps" = none ]; then
	say "io: skipped (keel.io=none)"
	exit 0
fi
# decimal, below 10^18 (sh arithmetic is signed 64-bit, and reads a
# leading 0 as octal)
seed=$(echo "$seed" | sed 's/^0*\([0-9]\)/\1/')
case $seed in
'' | *[!0-9]* | ???????????????????*) seed=$(od -An -tu4 -N4 /dev/urandom | tr -d ' ') ;;
esac
# the first free seed: each pattern a step writes gets its own
next_seed() { SEED=$seed; seed=$((seed + 1)); }

# a disk that stops answering leaves readers in uninterruptible sleep:
# only a power-off ends that
watchdog=
case $limit in
'' | *[!0-9]*) ;;
*)
	(
		sleep "$limit"
		say "io: FAIL (timeout after $limit s in step $(cat /tmp/io.step))"
		sync &
		sleep 1
		poweroff -f
	) &
	watchdog=$!
	;;
esac

step=disk
echo "$step" >/tmp/io.step
t0=$(now_cs)
for m in virtio_pci virtio_scsi sd_mod; do
	modprobe "$m" || fail "modprobe $m failed"
done
# virtio_pci binds its devices as it loads: a virtio-scsi device (type 8)
# is on the bus now, or never
vscsi=
for d in /sys/bus/virtio/devices/*; do
	[ -e "$d/device" ] && [ "$(cat "$d/device")" = 0x0008 ] && vscsi=${d##*/}
done
if [ -z "$vscsi" ]; then
	fail "no virtio-scsi device (virtio devices:$(for d in /sys/bus/virtio/devices/*; do [ -e "$d" ] && printf ' %s' "${d##*/}"; done))"
elif ! wait_disk 60; then
	fail "no disk on $vscsi after 60 s"
fi
if [ -n "$failed" ]; then
	[ -n "$watchdog" ] && kill "$watchdog"
	say "io: FAIL ($failed)"
	exit 1
fi
sectors=$(cat "/sys/block/$DISK/size")
read -r vendor <"/sys/block/$DISK/device/vendor"
read -r model <"/sys/block/$DISK/device/model"
say "disk $DISK: $sectors sectors ($((sectors / 2048)) MiB), vendor $vendor, model $model, on $VDEV, after $(secs $(($(now_cs) - t0))) s; steps $steps, seed $seed"
dev=/dev/$DISK
# the seed the whole disk holds, if a step wrote one
disk_seed=

# --- steps -------------------------------------------------------------
step_pattern() {
	next_seed
	local a=$SEED
	next_seed
	local b=$SEED
	disk_seed=
	dc write "$dev" "$a" 65536 &&
		dc verify "$dev" "$a" 4096 &&
		dc verify "$dev" "$a" 1048576 &&
		dc write "$dev" "$b" 1048576 &&
		dc verify "$dev" "$b" 65536 &&
		disk_seed=$b
}

step_fs() {
	local mnt=/mnt/disk v n out s1 s4
	next_seed
	s1=$SEED
	next_seed
	s4=$SEED
	disk_seed=
	v=$(mkfs.ext4 -V 2>&1 | head -n 1)
	case $v in
	mke2fs\ 1.*) ;;
	*) fail "mkfs.ext4 is not e2fsprogs' mke2fs: $v"; return ;;
	esac
	# everything written now (no lazy init thread writing later), and no
	# discard: the same I/O on every run
	if ! out=$(mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0,nodiscard "$dev" 2>&1); then
		fail "mkfs.ext4 $dev: $out"
		return
	fi
	# the crc32c that ext4 and jbd2 ask the crypto API for: the generic
	# one always loads, crc32c-intel only with SSE4.2
	modprobe crc32c_generic
	modprobe crc32c-intel 2>/dev/null
	modprobe ext4 || { fail "modprobe ext4 failed"; return; }
	mkdir -p "$mnt"
	if ! out=$(mount -t ext4 "$dev" "$mnt" 2>&1); then
		fail "mount $dev: $out"
		return
	fi
	# two pattern files through O_DIRECT, two from /dev/urandom through the
	# page cache (one of no whole block)
	if ! { dc write "$mnt/pattern1" "$s1" 65536 1M &&
		dc write "$mnt/pattern4" "$s4" 1048576 4M &&
		dd if=/dev/urandom of="$mnt/random2" bs=4096 count=512 conv=fsync 2>/dev/null &&
		dd if=/dev/urandom of="$mnt/random-odd" bs=12345 count=1 conv=fsync 2>/dev/null; }; then
		fail "writing the files failed"
	fi
	(cd "$mnt" && sha256sum pattern1 pattern4 random2 random-odd) >/tmp/fs.sha256
	sync
	umount "$mnt" || fail "umount failed"
	# the second mount reads everything back from the disk
	echo 3 >/proc/sys/vm/drop_caches
	if ! out=$(mount -t ext4 "$dev" "$mnt" 2>&1); then
		fail "second mount $dev: $out"
		return
	fi
	out=$(cd "$mnt" && sha256sum -c /tmp/fs.sha256 2>&1) ||
		fail "sha256sum -c: $(echo "$out" | tr '\n' ' ')"
	n=$(echo "$out" | grep -c ': OK$')
	# and the pattern files, byte for byte
	dc verify "$mnt/pattern1" "$s1" 4096
	dc verify "$mnt/pattern4" "$s4" 65536
	umount "$mnt" || fail "final umount failed"
	say "fs: $n files verified ($n of $(wc -l </tmp/fs.sha256) sha256 sums right after a remount; $v)"
}

step_sum() {
	local sum
	next_seed
	disk_seed=
	dc write "$dev" "$SEED" 1048576 || return
	disk_seed=$SEED
	# read the disk, not what the page cache may keep of it
	blockdev --flushbufs "$dev"
	echo 3 >/proc/sys/vm/drop_caches
	# md5: a data checksum, not a signature; under Bochs it takes half the
	# time sha256 takes over the whole disk
	sum=$(md5sum "$dev" | cut -d' ' -f1)
	say "disk md5 $sum seed $SEED bytes $((sectors * 512))"
}

# reads in flight: /sys/block/X/stat's reads completed, or nothing
reads_done() { [ -e "/sys/block/$1/stat" ] && awk '{ print $1 }' "/sys/block/$1/stat"; }

step_rebind() {
	local drv=/sys/bus/virtio/drivers/virtio_scsi vdev=$VDEV bg r0 r i=0 inflight rc passes tb
	if [ -z "$disk_seed" ]; then
		next_seed
		dc write "$dev" "$SEED" 1048576 || return
		disk_seed=$SEED
	fi
	# verify passes in a loop until one fails (the unbind makes it)
	rm -f /tmp/rebind.log /tmp/rebind.rc
	(
		n=0 rc=0
		while [ $n -lt 100 ]; do
			diskcheck verify "$dev" "$disk_seed" 65536 >>/tmp/rebind.log 2>&1 || {
				rc=$?
				break
			}
			n=$((n + 1))
		done
		echo "$rc $n" >/tmp/rebind.rc
	) &
	bg=$!
	# (running: no /tmp/rebind.rc yet; a finished child may linger as a
	# zombie that kill -0 still finds)
	# unbind once the reads flow
	r0=$(reads_done "$DISK")
	while [ $i -lt 300 ]; do
		r=$(reads_done "$DISK")
		[ -n "$r" ] && [ $((r - r0)) -ge 32 ] && break
		usleep 100000
		i=$((i + 1))
	done
	inflight=$(tr -s ' ' <"/sys/block/$DISK/inflight" 2>/dev/null | sed 's/^ //')
	if [ -f /tmp/rebind.rc ]; then
		fail "the background verify ended before the unbind: $(tail -n 1 /tmp/rebind.log)"
		return
	fi
	echo "$vdev" >"$drv/unbind" || { fail "unbind $vdev failed"; return; }
	[ -e "/sys/block/$DISK" ] && fail "$DISK still there after unbinding $vdev"
	say "rebind: $vdev unbound with reads running ($((r - r0)) done, in flight then: $inflight)"
	# the reads in flight must end (with an error), not hang
	i=0
	while [ ! -f /tmp/rebind.rc ] && [ $i -lt 600 ]; do
		usleep 100000
		i=$((i + 1))
	done
	if [ -f /tmp/rebind.rc ]; then
		wait "$bg"
		read -r rc passes </tmp/rebind.rc
		say "rebind: the background verify ended (exit $rc) after $passes whole passes: $(grep -m 1 -E ': (read|open|short)' /tmp/rebind.log || tail -n 1 /tmp/rebind.log)"
	else
		fail "the background verify still runs 60 s after the unbind"
		kill -9 "$bg"
	fi
	# an error is expected; wrong data is not
	grep -q 'FAIL (bad sectors' /tmp/rebind.log &&
		fail "the background verify read wrong data: $(grep -m 1 'first mismatch' /tmp/rebind.log)"
	echo "$vdev" >"$drv/bind" || { fail "bind $vdev failed"; return; }
	tb=$(now_cs)
	if ! wait_disk 60; then
		fail "no disk after binding $vdev again"
		return
	fi
	dev=/dev/$DISK
	say "rebind: $vdev bound again, $DISK back after $(secs $(($(now_cs) - tb))) s"
	dc verify "$dev" "$disk_seed" 65536
}

# the journal: writes that must all survive whatever happens to the guest
# meanwhile (a handoff to another keel), verified at the end
step_journal() {
	next_seed
	disk_seed=
	case $seconds in
	'' | *[!0-9]* | 0) fail "keel.io.seconds=$seconds: a number of seconds"; return ;;
	esac
	dc journal "$dev" "$SEED" "$seconds"
}

# make bench: iobench's four runs, marked in the kernel log (the disk's
# content is lost)
step_bench() {
	iobench --suite guest "$dev" >/dev/null || fail "iobench exited $?"
	disk_seed=
}

set -f
for step in $(echo "$steps" | tr ',' ' '); do
	set +f
	echo "$step" >/tmp/io.step
	t=$(now_cs)
	nfailed=$failed
	case $step in
	pattern) step_pattern ;;
	fs) step_fs ;;
	sum) step_sum ;;
	rebind) step_rebind ;;
	bench) step_bench ;;
	journal) step_journal ;;
	idle) sleep "$idle" ;;
	*)
		fail "unknown step (keel.io= takes pattern,fs,sum,rebind,bench,journal,idle or none)"
		continue
		;;
	esac
	if [ "$failed" = "$nfailed" ]; then
		say "$step: PASS ($(secs $(($(now_cs) - t))) s)"
	else
		say "$step: FAIL ($(secs $(($(now_cs) - t))) s)"
	fi
done
set +f

[ -n "$watchdog" ] && kill "$watchdog"
if [ -n "$failed" ]; then
	say "io: FAIL ($failed)"
	exit 1
fi
say "io: PASS ($(secs $(($(now_cs) - t0))) s)"
