#!/usr/bin/env bash
# make bench: one Bochs run of the bench appliance (tests/bench/bench.dts,
# keel's console stamps on), then the figures keel's own counters give:
# TSC from keel's entry to each partition's init, idle exits per second,
# keel's cycles per exit by reason, and the storage figures: 4 KiB random
# I/O on the guest's virtio-scsi disk and, in the companion, on a loopback
# LUN of the same LIO backstore (IOPS, their ratio, exits per I/O). Under
# Bochs the TSC counts emulated instructions, so the exit and cycle figures
# repeat from run to run; IOPS are in emulated time.
#   tests/bench/run.sh BUILD ISO [MODEL]
set -euo pipefail

build=$1 iso=$2 model=${3:-corei7_skylake_x}
out=$build/bench
start=$(date +%s)
QUIET=1 TIMEOUT=${TIMEOUT:-900} tools/emu-run.sh bochs "$iso" "$out" "$model" 2 >"$out.run" 2>&1 ||
	{ cat "$out.run"; echo "bench: the run failed; console: $out/serial.log" >&2; exit 1; }
wall=$(($(date +%s) - start))
log=$out/console.txt
tr -d '\r' <"$out/serial.log" >"$log"

khz=$(sed -n 's/^cpu: TSC \([0-9]*\) kHz$/\1/p' "$log")
[ -n "$khz" ] || { echo "bench: no TSC frequency in $log" >&2; exit 1; }

# stamp PART REGEX FIELD: the cycles (FIELD=1) or exits (FIELD=2) on the
# first stamped line of PART matching REGEX
stamp() {
	sed -n "s/^\[$1 @\([0-9]*\) #\([0-9]*\)\] .*$2.*/\\$3/p" "$log" | head -n 1
}

echo "bench: Bochs $model, 2 CPUs, TSC $khz kHz (Bochs' TSC counts emulated instructions), wall time $wall s"
for p in companion guest; do
	init=$(stamp "$p" "keel-payload: $p init reached" 1)
	c0=$(stamp "$p" "idle mark 0" 1) e0=$(stamp "$p" "idle mark 0" 2)
	c1=$(stamp "$p" "idle mark 1" 1) e1=$(stamp "$p" "idle mark 1" 2)
	c2=$(stamp "$p" "idle mark 2" 1) e2=$(stamp "$p" "idle mark 2" 2)
	for v in init c0 c1 c2; do
		[ -n "${!v}" ] || { echo "bench: $p: no stamped line for $v in $log" >&2; exit 1; }
	done
	# the second period is twice the first: their difference is pure idle
	awk -v p="$p" -v init="$init" -v khz="$khz" -v c0="$c0" -v e0="$e0" \
		-v c1="$c1" -v e1="$e1" -v c2="$c2" -v e2="$e2" 'BEGIN {
		printf "bench: %s: keel entry to init %d TSC cycles (%.2f s emulated)\n", p, init, init / (khz * 1000)
		rate = ((e2 - e1) - (e1 - e0)) / (((c2 - c1) - (c1 - c0)) / (khz * 1000))
		printf "bench: %s: idle exits per second %.1f\n", p, rate
	}'
done
grep -E '^stats: (guest|companion):   (CPUID|IO_INSTRUCTION|EPT_VIOLATION) ' "$log" |
	awk '{ name = $3 == "EPT_VIOLATION" ? "EPT_VIOLATION (MMIO)" : $3
	       printf "bench: %s keel cycles per %s exit: %s (%s exits)\n", $2, name, substr($8, 2), $4 }'
grep -E '^stats: (guest|companion): [0-9]+ exits' "$log" | sed 's/^stats:/bench:/'

# storage: each role's bench marks (exit counts), its iobench results
io_figures() {
	local p=$1
	sed -n "s/^\[$p @[0-9]* #\([0-9]*\)\] .*keel-payload: $p bench mark$/\1/p" "$log" >"$out.$p.marks"
	sed -n "s/^\[$p @[0-9]* #[0-9]*\] .*keel-payload: $p bench: iobench: [^ ]* \([a-z]*\) qd \([0-9]*\): \([0-9]*\) I\/Os in [0-9.]* s: \([0-9]*\) IOPS, \([0-9.]*\) ms.*/\1 \2 \3 \4 \5/p" "$log" >"$out.$p.runs"
	[ "$(wc -l <"$out.$p.marks")" -eq 10 ] && [ "$(wc -l <"$out.$p.runs")" -eq 4 ] ||
		{ echo "bench: $p: expected 10 bench marks and 4 iobench results in $log" >&2; exit 1; }
}
io_figures guest
io_figures companion
paste -d' ' "$out.guest.runs" "$out.companion.runs" | awk -v gm="$(tr '\n' ' ' <"$out.guest.marks")" '
	BEGIN { split(gm, m, " "); cost = m[2] - m[1] }
	{
		exits = m[4 + 2 * (NR - 1)] - m[3 + 2 * (NR - 1)] - cost
		printf "bench: %-5s qd %-2s: guest %6d IOPS (%.2f ms), companion %6d IOPS (%.2f ms), guest/companion %.2f, guest exits per I/O %.2f\n",
			$1, $2, $4, $5, $9, $10, $4 / $9, exits / $3
	}'
exits_per() { grep -E "^stats: guest:   $1 " "$log" | awk '{ print substr($8, 2) }' || true; }
echo "bench: keel cycles per guest MMIO exit (virtio notify and registers): $(exits_per EPT_VIOLATION)"
raised=$(sed -n 's/^stats: disk: [0-9]* kicks, \([0-9]*\) completions raised.*/\1/p' "$log")
ext=$(grep -E '^stats: guest:   EXTERNAL_INTERRUPT ' "$log" | awk '{ print $3 }' || true)
echo "bench: completions: ${raised:-?} raised by the companion, each an IPI to the guest CPU; guest exits they caused: ${ext:-0} (external-interrupt exiting is off)"
grep -E '^stats: disk: ' "$log" | sed 's/^stats:/bench:/'
