#!/usr/bin/env bash
# Boots keel in an emulator, shows its serial console and returns when keel
# halts (it writes to the emulators' exit ports when given exit=emulator) or
# when the time limit runs out.
#
#   emu-run.sh EMU IMAGE OUTDIR [MODEL] [CPUS] [MODULE NAME]...
#
# EMU:    bochs      Bochs with VT-x (MODEL: a Bochs CPU model)
#         qemu       QEMU TCG, BIOS (no VT-x: keel says so and stops)
#         qemu-uefi  QEMU TCG with OVMF
#         kvm        QEMU with KVM (an Intel host with nested VMX)
# IMAGE:  a GRUB .iso, or keel.elf for QEMU's Multiboot1 loader, then
#         followed by MODULE NAME pairs (file and the name keel knows it by).
# The console goes to OUTDIR/serial.log and to stdout. TIMEOUT (seconds)
# bounds the run; QUIET=1 keeps stdout silent; DISK names a raw disk image
# the machine gets as its IDE disk (the companion's). NET=socket:PORT (Bochs
# only) gives the machine an e1000 NIC (MAC: NET_MAC, default
# b0:c4:20:00:00:01) on Bochs' eth_socket module: it receives on UDP port
# PORT of 127.0.0.1 and sends to PORT+1, which is what bxhub -base=B gives
# its ports: B, B+2, ... (tests/system/lib.bash's boot_pair). TIME0 (Bochs
# only): the machine's clock at power-on, seconds since 1970 (default: the
# host's local time). Exit status: 0 when keel halted on its own, 1
# otherwise.
set -euo pipefail

emu=$1 image=$2 out=$3 model=${4:-corei7_skylake_x} cpus=${5:-2}
shift $(($# < 5 ? $# : 5))
timeout=${TIMEOUT:-300}
mem=${MEM_MB:-1024}
mkdir -p "$out"
log="$out/serial.log"
: >"$log"
case ${NET:-} in
'' | socket:[1-9]*) ;;
*) echo "emu-run: NET=$NET: expected socket:PORT" >&2; exit 2 ;;
esac

# a flat image with 16 heads and 63 sectors per track
bochs_disk() {
	[ -n "${DISK:-}" ] || return 0
	local size cyl
	size=$(stat -c %s "$DISK")
	cyl=$((size / (16 * 63 * 512)))
	echo "ata0-slave: type=disk, path=$(realpath "$DISK"), mode=flat, cylinders=$cyl, heads=16, spt=63"
}

# an e1000 on a bxhub port
bochs_net() {
	[ -n "${NET:-}" ] || return 0
	echo "e1000: enabled=1, mac=${NET_MAC:-b0:c4:20:00:00:01}, ethmod=socket, ethdev=${NET#socket:}"
}

bochs_cmd() {
	cat >"$out/bochsrc" <<RC
megs: $mem
romimage: file=/usr/share/bochs/BIOS-bochs-latest
vgaromimage: file=/usr/share/vgabios/vgabios.bin
ata0-master: type=cdrom, path=$(realpath "$image"), status=inserted
$(bochs_disk)
$(bochs_net)
boot: cdrom
display_library: rfb, options="timeout=0"
cpu: model=$model, count=$cpus, ips=50000000, reset_on_triple_fault=0, ignore_bad_msrs=1
clock: sync=none, time0=${TIME0:-local}
com1: enabled=1, mode=file, dev=$(realpath "$log")
log: $(realpath -m "$out/bochs.log")
panic: action=fatal
error: action=report
info: action=report
debug: action=ignore
speaker: enabled=0
sound: waveoutdrv=dummy, waveindrv=dummy, midioutdrv=dummy
RC
	printf 'c\nquit\n' >"$out/bochs.rc"
	cmd=(bochs-bin -q -f "$out/bochsrc" -rc "$out/bochs.rc")
}

qemu_cmd() {
	cmd=(qemu-system-x86_64 -M pc -m "$mem" -smp "$cpus" -display none
		-no-reboot -serial "file:$log" -monitor none
		-device isa-debug-exit,iobase=0xf4,iosize=1)
	case $emu in
	kvm) cmd+=(-enable-kvm -cpu host,+vmx) ;;
	*) cmd+=(-cpu max) ;;
	esac
	if [ "$emu" = qemu-uefi ]; then
		cp /usr/share/OVMF/OVMF_VARS_4M.fd "$out/ovmf-vars.fd"
		cmd+=(-drive if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd
			-drive "if=pflash,format=raw,file=$out/ovmf-vars.fd")
	fi
	[ -n "${DISK:-}" ] && cmd+=(-drive "file=$DISK,format=raw,if=ide,index=1")
	case $image in
	*.iso) cmd+=(-cdrom "$image" -boot d) ;;
	*)
		local mods=""
		while [ $# -ge 2 ]; do
			mods+="${mods:+,}$1 $2"
			shift 2
		done
		cmd+=(-kernel "$image" -append "exit=emulator")
		[ -n "$mods" ] && cmd+=(-initrd "$mods")
		;;
	esac
}

case $emu in
bochs) bochs_cmd ;;
qemu | qemu-uefi | kvm) qemu_cmd "$@" ;;
*) echo "emu-run: unknown EMU '$emu' (bochs, qemu, qemu-uefi, kvm)" >&2; exit 2 ;;
esac

echo "emu-run: $emu: ${cmd[*]}" >"$out/command"
tailpid=
if [ "${QUIET:-0}" != 1 ]; then
	tail -n +1 -F "$log" 2>/dev/null &
	tailpid=$!
fi
start=$(date +%s)
rc=0
timeout --kill-after=5 "$timeout" "${cmd[@]}" </dev/null >"$out/emulator.out" 2>&1 || rc=$?
sleep 0.3
[ -z "$tailpid" ] || kill "$tailpid" 2>/dev/null || true
secs=$(($(date +%s) - start))

if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
	echo "emu-run: $emu: no halt within ${timeout} s (console: $log)" >&2
	exit 1
fi
if grep -q "^keel: halted:" "$log"; then
	echo "emu-run: $emu: keel halted after ${secs} s (console: $log)"
	exit 0
fi
echo "emu-run: $emu: the emulator ended (status $rc) without keel halting; see $out/emulator.out" >&2
exit 1
