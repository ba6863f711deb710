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
	QUIET=1 tools/emu-run.sh "$emu" "$image" "$LOGDIR" "$@" >"$LOGDIR/emu-run.out" 2>&1
	BOOT_STATUS=$?
	LOG=$LOGDIR/serial.log
	tr -d '\r' <"$LOG" >"$LOG.txt"
	LOG=$LOG.txt
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

expect_halted() {
	if [ "$BOOT_STATUS" -eq 0 ]; then ok "$1"; else not_ok "$1" "$(tail -n 2 "$LOGDIR/emu-run.out")"; fi
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

# the payload modules, as QEMU's Multiboot1 loader takes them
payload_modules() {
	echo "$PAYLOAD/vmlinux companion.vmlinux $PAYLOAD/companion.cpio companion.cpio" \
		"$PAYLOAD/vmlinux guest.vmlinux $PAYLOAD/guest.cpio guest.cpio"
}
