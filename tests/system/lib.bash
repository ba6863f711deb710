# Helpers for system tests: each test boots keel in an emulator and checks
# its serial console. Results are TAP lines ("ok - ..." / "not ok - ...").
# shellcheck shell=bash
set -uo pipefail

BUILD=${BUILD:-build}
LOGDIR=${LOGDIR:-$BUILD/system/$(basename "$0" .sh)}
PAYLOAD=$BUILD/payload
mkdir -p "$LOGDIR"

# boot EMU IMAGE [MODEL CPUS [MODULE NAME]...]: runs one emulator, quietly
boot() {
	local emu=$1 image=$2
	shift 2
	# each run its own copy: an emulator locks its disk image
	cp --sparse=always "$BUILD/disk.img" "$LOGDIR/disk.img"
	DISK=$LOGDIR/disk.img QUIET=1 tools/emu-run.sh "$emu" "$image" "$LOGDIR" "$@" >"$LOGDIR/emu-run.out" 2>&1
	BOOT_STATUS=$?
	EMU_OUT=$LOGDIR/emu-run.out
	LOG=$LOGDIR/serial.log
	tr -d '\r' <"$LOG" >"$LOG.txt"
	LOG=$LOG.txt
}

# a base for bxhub's UDP ports: 4 free ones (B to B+3) on 127.0.0.1
free_udp_base() {
	local base used
	used=$(ss -Hunl 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n] }')
	for _ in $(seq 1 50); do
		base=$((40000 + (RANDOM % 5000) * 4))
		if ! grep -qxE "$base|$((base + 1))|$((base + 2))|$((base + 3))" <<<"$used"; then
			echo "$base"
			return 0
		fi
	done
	return 1
}

# boot_pair NAME_A IMAGE_A NAME_B IMAGE_B [MODEL CPUS]: two Bochs machines
# at once, each in LOGDIR/NAME with its own console, linked by bxhub (an
# e1000 each on Bochs' eth_socket module: A at port B with MAC
# b0:c4:20:00:00:01, B at B+2 with ...:02; bxhub -ports=2 -base=B receives
# on B+1 and B+3 and forwards between them) and sharing one disk: a copy of
# the build's, hard-linked into both folders (Bochs locks an image by its
# path; flat images are read and written through, so each machine reads
# what the other wrote). Both start at one fixed time (TIME0): two
# machines that boot the same images (configurations of one size) then
# run instruction for instruction alike up to keel's TSC calibration and
# measure the same TSC frequency, which a handoff between them requires.
# Both bounded by TIMEOUT, both waited for. Then "on NAME" makes the
# expect helpers look at NAME's console.
declare -A PAIR_LOG PAIR_STATUS PAIR_OUT
boot_pair() {
	local na=$1 ia=$2 nb=$3 ib=$4 model=${5:-corei7_skylake_x} cpus=${6:-2}
	local base hub pa pb n time0
	base=$(free_udp_base) || { echo "boot_pair: no free UDP ports for bxhub" >&2; return 1; }
	cp --sparse=always "$BUILD/disk.img" "$LOGDIR/disk.img"
	for n in "$na" "$nb"; do
		rm -rf "${LOGDIR:?}/$n"
		mkdir -p "$LOGDIR/$n"
		ln "$LOGDIR/disk.img" "$LOGDIR/$n/disk.img"
	done
	bxhub -ports=2 -base="$base" -loglev=1 -logfile="$LOGDIR/bxhub.log" >"$LOGDIR/bxhub.out" 2>&1 &
	hub=$!
	sleep 0.5
	time0=${TIME0:-1735689600} # 2025-01-01 00:00 UTC
	TIME0=$time0 NET=socket:$base NET_MAC=b0:c4:20:00:00:01 DISK=$LOGDIR/$na/disk.img QUIET=1 \
		tools/emu-run.sh bochs "$ia" "$LOGDIR/$na" "$model" "$cpus" >"$LOGDIR/$na/emu-run.out" 2>&1 &
	pa=$!
	TIME0=$time0 NET=socket:$((base + 2)) NET_MAC=b0:c4:20:00:00:02 DISK=$LOGDIR/$nb/disk.img QUIET=1 \
		tools/emu-run.sh bochs "$ib" "$LOGDIR/$nb" "$model" "$cpus" >"$LOGDIR/$nb/emu-run.out" 2>&1 &
	pb=$!
	wait "$pa"
	PAIR_STATUS[$na]=$?
	wait "$pb"
	PAIR_STATUS[$nb]=$?
	kill "$hub" 2>/dev/null
	wait "$hub" 2>/dev/null
	for n in "$na" "$nb"; do
		tr -d '\r' <"$LOGDIR/$n/serial.log" >"$LOGDIR/$n/serial.log.txt"
		PAIR_LOG[$n]=$LOGDIR/$n/serial.log.txt
		PAIR_OUT[$n]=$LOGDIR/$n/emu-run.out
	done
}

# on NAME: the expect helpers check machine NAME of boot_pair
on() {
	LOG=${PAIR_LOG[$1]}
	BOOT_STATUS=${PAIR_STATUS[$1]}
	EMU_OUT=${PAIR_OUT[$1]}
}

ok() { echo "ok - $1"; }
not_ok() { echo "not ok - $1"; [ -n "${2:-}" ] && echo "#   $2"; return 0; }

# expect DESCRIPTION EXTENDED-REGEX: a console line matches
expect() {
	if grep -qE -- "$2" "$LOG"; then ok "$1"; else not_ok "$1" "no line matches /$2/ in $LOG"; fi
}

# expect_not DESCRIPTION EXTENDED-REGEX: no console line matches
expect_not() {
	local hit
	hit=$(grep -m1 -E -- "$2" "$LOG")
	if [ -z "$hit" ]; then ok "$1"; else not_ok "$1" "unexpected: $hit"; fi
}

# expect_none_between DESCRIPTION START END REGEX: no line matches REGEX
# between the first line matching START and the next matching END (both
# must be there)
expect_none_between() {
	local desc=$1 a b hit
	a=$(grep -nE -m1 -- "$2" "$LOG" | cut -d: -f1)
	if [ -z "$a" ]; then not_ok "$desc" "no line matches /$2/ in $LOG"; return; fi
	b=$(tail -n +$((a + 1)) "$LOG" | grep -nE -m1 -- "$3" | cut -d: -f1)
	if [ -z "$b" ]; then not_ok "$desc" "no line matches /$3/ after line $a"; return; fi
	hit=$(sed -n "$((a + 1)),$((a + b - 1))p" "$LOG" | grep -m1 -E -- "$4")
	if [ -z "$hit" ]; then ok "$desc"; else not_ok "$desc" "unexpected: $hit"; fi
}

# expect_guest_quiet_after DESCRIPTION MARKER: from the first line matching
# MARKER on, the guest's kernel reports nothing wrong (its boot has
# warnings of its own, so only what follows MARKER counts)
GUEST_WRONG='^\[guest\] \[ *[0-9.]+\] .*(BUG:|Oops|WARNING|stall|soft lockup|blocked for more than|timed out|abort|[Cc]locksource)'
expect_guest_quiet_after() {
	local full=$LOG
	LOG=$LOG.after
	sed -n "/$2/,\$p" "$full" >"$LOG"
	expect_not "$1" "$GUEST_WRONG"
	LOG=$full
}

expect_halted() {
	if [ "$BOOT_STATUS" -eq 0 ]; then ok "$1"; else not_ok "$1" "$(tail -n 2 "${EMU_OUT:-$LOGDIR/emu-run.out}")"; fi
}

# expect_order DESCRIPTION REGEX...: lines matching each regex appear in order
expect_order() {
	local desc=$1 line=0 n
	shift
	for re in "$@"; do
		n=$(tail -n +$((line + 1)) "$LOG" | grep -nE -m1 -- "$re" | cut -d: -f1)
		if [ -z "$n" ]; then not_ok "$desc" "/$re/ missing after line $line"; return; fi
		line=$((line + n))
	done
	ok "$desc"
}

# expect_same_checksum PREFIX: the md5 the guest printed of its whole disk
# is the md5 the companion printed of its backstore afterwards
expect_same_checksum() {
	local gsum csum
	gsum=$(sed -n 's/.*keel-payload: guest disk md5 \([0-9a-f]*\) .*/\1/p' "$LOG")
	csum=$(sed -n 's/.*keel-payload: companion backstore md5 \([0-9a-f]*\)$/\1/p' "$LOG")
	if [ -n "$gsum" ] && [ "$gsum" = "$csum" ]; then
		ok "$1: the companion's backstore has the guest's checksum"
	else
		not_ok "$1: the companion's backstore has the guest's checksum" "guest ${gsum:-none}, companion ${csum:-none}"
	fi
}

# expect_disk_io MODEL: the guest's virtio-scsi disk, served by vhost-scsi
# in the companion, carried the guest's workload (tests/guest-io/guest.sh)
# with every byte verified, and the backstore the companion holds
# afterwards has the checksum the guest computed over its disk.
expect_disk_io() {
	local m=$1 g='^\[guest\] \[ *[0-9.]+\] keel-payload: guest' c='^\[companion\] \[ *[0-9.]+\] keeld:'
	expect "$m: keel shows the guest a virtio-scsi device" \
		'^guest: virtio-scsi at 00:01\.0 \(1af4:1048\), 1 request queue\(s\) of 128'
	expect "$m: guest sees sda, 64 MiB, vendor LIO-ORG" \
		"$g disk sda: 131072 sectors \\(64 MiB\\), vendor LIO-ORG, model FILEIO, on virtio"
	expect "$m: keeld maps guest RAM through device-dax" "$c guest RAM 0x[0-9a-f]+-0x[0-9a-f]+: /dev/dax0\\.0"
	expect "$m: pattern written at 64 KiB, verified at 4 KiB" \
		"$g pattern: diskcheck: verify /dev/sda seed [0-9]+ bs 4096: 67108864 bytes, 0 bad sectors, 0 I/O errors"
	expect "$m: pattern written at 1 MiB, verified at 64 KiB" \
		"$g pattern: diskcheck: verify /dev/sda seed [0-9]+ bs 65536: 67108864 bytes, 0 bad sectors, 0 I/O errors"
	expect "$m: every pattern pass verified" "$g pattern: PASS"
	expect "$m: ext4 files verified after a remount" "$g fs: 4 files verified"
	expect_same_checksum "$m"
	# keel's lines and the guest's (keel prints both) are in order; keeld's
	# reach the console later, through a pipe, and are checked apart
	expect_order "$m: rebind: the guest's reset stops the device, its probe starts it" \
		'^disk: guest reset the device: request [0-9]+: stop' \
		'^disk: request [0-9]+ \(stop\) done by the companion' \
		"$g rebind: virtio0 unbound" \
		"^disk: the guest's driver is ready" \
		'^disk: request [0-9]+: start 3 queues' \
		'^disk: request [0-9]+ \(start\) done by the companion' \
		"$g rebind: virtio0 bound again" "$g rebind: .*PASS"
	expect_order "$m: rebind: keeld clears the endpoint, then sets it again" \
		"$c request [0-9]+: stop\$" "$c vhost: clear_endpoint wwpn=" \
		"$c request [0-9]+: start, 3 queues" "$c vhost: set_endpoint wwpn="
	expect "$m: data verified after the rebind" "$g rebind: PASS"
	# the unbind itself takes sda away: reads queued behind it end with
	# "device offline error", never with an error from the target
	expect_not "$m: no I/O error, no target error in the guest" \
		'^\[guest\] \[ *[0-9.]+\] (.*I/O error, dev |Buffer I/O error|.*critical (target|medium) error|.*BAD_TARGET)'
	expect_not "$m: no vhost or keeld step failed" "$c .*(failed|error)"
	expect "$m: the whole workload passed" "$g io: PASS"
	expect "$m: completions reach the guest as interrupts, none dropped" \
		'^stats: disk: [1-9][0-9]* kicks, ([1-9][0-9]*) completions raised \(0 refused\), \1 MSI-X delivered, 0 pending, 0 lost, 0 dropped, 0 IPIs failed'
	expect_not "$m: completions cost the guest no exit" '^stats: guest: +EXTERNAL_INTERRUPT'
	expect "$m: every device request answered" '^stats: disk: companion requests acked [1-9][0-9]*, failed 0, stale 0'
}

# the payload modules, as QEMU's Multiboot1 loader takes them
payload_modules() {
	echo "$PAYLOAD/vmlinux companion.vmlinux $PAYLOAD/companion.cpio companion.cpio" \
		"$PAYLOAD/vmlinux guest.vmlinux $PAYLOAD/guest.cpio guest.cpio"
}

# boot_partitions MODEL [IMAGE]: boots the default appliance (or IMAGE)
# under Bochs with MODEL and checks what every model must show: keel's
# boot, both Debian kernels reaching init side by side, each seeing only its
# CPU and memory, and keel's report after both powered off.
boot_partitions() {
	local model=$1
	TIMEOUT=${BOCHS_TIMEOUT:-900} boot bochs "${2:-$BUILD/keel-emu.iso}" "$model" 2

	expect_halted "$model: keel halts by itself"
	expect "$model: banner" '^keel [0-9.]+: static partitioning monitor'
	expect "$model: loaded by GRUB through Multiboot2" '^boot: Multiboot2 from "GRUB'
	expect "$model: effective config" '^config: guest: cpus 1, memory 256 MiB'
	expect "$model: every CPU online" '^smp: 2 of 2 CPUs online'
	expect_order "$model: config before VT-x before CPUs before partitions" \
		'^config: version' '^vmx: EPT yes' '^smp: 2 of 2' '^keel: companion starts on cpu 0'
	expect "$model: guest started on CPU 1" '^keel: guest starts on cpu 1'
	expect "$model: guest kernel through PVH" '^guest: guest.vmlinux PVH vmlinux at 0x1000000'
	expect "$model: guest reaches init" '^\[guest\] \[ *[0-9.]+\] keel-payload: guest init reached, kernel 6\.1\.'
	expect "$model: companion reaches init" '^\[companion\] \[ *[0-9.]+\] keel-payload: companion init reached'
	expect "$model: guest sees one CPU" '^\[guest\] \[ *[0-9.]+\] smp: Brought up 1 node, 1 CPU$'
	expect "$model: companion sees one CPU" '^\[companion\] \[ *[0-9.]+\] smp: Brought up 1 node, 1 CPU$'
	expect "$model: guest's RAM is its 256 MiB window" \
		'^\[guest\] \[ *[0-9.]+\] BIOS-e820: \[mem 0x0000000000100000-0x000000000fffffff\] usable'
	expect_not "$model: guest sees no RAM past its window" \
		'^\[guest\] \[ *[0-9.]+\] BIOS-e820: \[mem 0x00000000[1-9a-f][0-9a-f]{7}-.*usable'
	expect "$model: guest told it runs on a hypervisor" '^\[guest\] \[ *[0-9.]+\] Hypervisor detected: KVM'
	local window
	window=$(sed -n 's/^guest: memory \(0x[0-9a-f]*\)-\(0x[0-9a-f]*\) .*/\1 \2/p' "$LOG")
	if [ -n "$window" ]; then
		set -- $window
		local lo hi
		lo=$(printf '%016x' "$1") hi=$(printf '%016x' $(($2 - 1)))
		expect "$model: guest window soft reserved in the companion" \
			"^\\[companion\\] \\[ *[0-9.]+\\] BIOS-e820: \\[mem 0x$lo-0x$hi\\] soft reserved"
		expect "$model: keel.ko reads the guest's disk and RAM from the shared window" \
			"^\\[companion\\] \\[ *[0-9.]+\\] keel: [0-9a-f:.]+: guest disk: 1 request queue\\(s\\) of 128, wwpn naa\\.5001405abcdef001, fileio /var/lib/keel/disk0\\.img; guest RAM at $1, 256 MiB"
	else
		not_ok "$model: guest window soft reserved in the companion" "no 'guest: memory' line"
		not_ok "$model: keel.ko reads the guest's disk and RAM from the shared window" "no 'guest: memory' line"
	fi
	local disk_sum
	disk_sum=$(dd if="$BUILD/disk.img" bs=512 count=1 2>/dev/null | md5sum | cut -d' ' -f1)
	expect "$model: companion drives the machine's IDE disk" \
		"^\\[companion\\] \\[ *[0-9.]+\\] keel-payload: companion disk sda 131040 sectors, sector 0 md5 $disk_sum"
	expect "$model: keel adds its channel device to the companion's bus" \
		"^companion: keel's channel device at 00:[0-9a-f]{2}\\.0 \\(4b45:0001\\)"
	expect "$model: keel.ko binds the channel device and reads its ABI version" \
		'^\[companion\] \[ *[0-9.]+\] keel: channel ABI version 2, device 0000:00:[0-9a-f]{2}\.0'
	expect "$model: keeld builds the guest disk's LIO target from keel's configuration" \
		'^\[companion\] \[ *[0-9.]+\] keeld: LIO target naa\.5001405abcdef001 ready: fileio /var/lib/keel/disk0\.img$'
	expect "$model: guest powers off" '^keel: guest stopped: powered off'
	expect "$model: companion powers off" '^keel: companion stopped: powered off'
	expect "$model: exit stats for the guest" '^stats: guest: [0-9]+ exits, [0-9]+ keel cycles'
	expect "$model: exit stats for the companion" '^stats: companion: [0-9]+ exits'
	expect_not "$model: no partition failed" '^keel: (guest|companion) stopped: (unexpected|triple|VM entry)'
	expect_not "$model: no keel error" '^keel: (error|fatal)'
	expect "$model: keel halts after both" '^keel: halted: all partitions stopped'
}
