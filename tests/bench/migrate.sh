#!/usr/bin/env bash
# make bench's migrations: two Bochs machines (lib.bash's boot_pair: an
# e1000 each, linked by bxhub, one shared disk image) boot
# bench-migrate-a-emu.iso and bench-migrate-b-emu.iso, and their
# companions hand the 256 MiB guest back and forth four times
# (keel.test=migrate-bench): stop-and-copy and pre-copy while the guest
# idles, then the same two under its journal's 4 KiB O_DIRECT writes. The
# figures are the senders' keelctl reports, in emulated time; the guest's
# journal, verified at the end, must have lost nothing.
#   tests/bench/migrate.sh BUILD [MODEL]
set -uo pipefail
BUILD=$1
model=${2:-corei7_skylake_x}
LOGDIR=$BUILD/bench-migrate
. tests/system/lib.bash

die() { echo "bench: $*" >&2; exit 1; }

# each machine's console lines with the host's time: Bochs' clocks are
# each machine's own (emulated instructions, idle time skipped), the link
# between them runs in host time
stamp() {
	local line
	tail -s 0.2 -n +1 -F "$LOGDIR/$1/serial.log" 2>/dev/null | while IFS= read -r line; do
		printf '%s %s\n' "$EPOCHREALTIME" "${line%$'\r'}"
	done >"$LOGDIR/$1.stamped"
}
mkdir -p "$LOGDIR"
rm -rf "$LOGDIR/a" "$LOGDIR/b"
stamp a &
stamper_a=$!
stamp b &
stamper_b=$!
disown -a
start=$(date +%s)
TIMEOUT=${TIMEOUT:-3600} boot_pair a "$BUILD/bench-migrate-a-emu.iso" \
	b "$BUILD/bench-migrate-b-emu.iso" "$model" 2
wall=$(($(date +%s) - start))
sleep 1
pkill -PIPE -P "$stamper_a"; pkill -PIPE -P "$stamper_b"
sleep 1
for m in a b; do
	[ "${PAIR_STATUS[$m]}" -eq 0 ] ||
		die "machine $m did not halt by itself: $(tail -n 2 "${PAIR_OUT[$m]}"); console: ${PAIR_LOG[$m]}"
done
echo "bench: migration: Bochs $model, 2 machines of 2 CPUs linked by bxhub, wall time $wall s; each sender's clock is its emulated one, host: wall time between its console lines"

p='^\[companion\] \[ *[0-9.]+\] keel-payload: companion: bench'
o='^\[companion\] \[ *[0-9.]+\] '
for n in 1 2 3 4; do
	case $n in 1 | 3) from=a ;; *) from=b ;; esac
	log=${PAIR_LOG[$from]}
	head=$(grep -E "$p $n: .* to " "$log" | sed -E "s/$p $n: //")
	end=$(grep -E "$p $n: exit " "$log" | sed -E "s/$p $n: //")
	report=$(grep -E "${o}migrated " "$log" | sed -n "$(((n + 1) / 2))p" | sed -E "s/${o}//")
	[ -n "$head" ] && [ -n "$end" ] || die "migration $n: no bench lines on $from (${PAIR_LOG[$from]})"
	case $end in "exit 0, "*) ;; *) die "migration $n failed on $from: $end" ;; esac
	[ -n "$report" ] || die "migration $n: no keelctl report on $from"
	how=${head%%,*}
	load=$(echo "$head" | sed -E 's/^[^,]*, guest ([a-z]+),.*/\1/')
	kicks=$(echo "$end" | sed -E 's/.*, ([0-9]+) kicks during the transfer/\1/')
	[ "$load" = idle ] && [ "$kicks" -ne 0 ] &&
		die "migration $n: the guest was to idle, yet made $kicks disk requests"
	[ "$load" = write ] && [ "$kicks" -eq 0 ] &&
		die "migration $n: the guest was to write, yet made no disk request"
	# host time from the sender's bench line and its pause to the
	# receiver's resume: each machine's first or second of each, as it
	# sends or takes the guest for the first or second time (keel's lines
	# may come before the companion's of the same moment)
	to=$([ "$from" = a ] && echo b || echo a)
	t0=$(grep -E " ${p#^} $n: .* to " "$LOGDIR/$from.stamped" | head -n 1 | cut -d' ' -f1)
	tp=$(grep -E '^[0-9.]+ handoff: guest paused' "$LOGDIR/$from.stamped" | sed -n "$(((n + 1) / 2))p" | cut -d' ' -f1)
	tq=$(grep -E '^[0-9.]+ handoff: guest resumed' "$LOGDIR/$to.stamped" | sed -n "$(((n + 1) / 2))p" | cut -d' ' -f1)
	[ -n "$t0" ] && [ -n "$tp" ] && [ -n "$tq" ] ||
		die "migration $n: no host-stamped start, pause or resume (in $LOGDIR/$from.stamped, $LOGDIR/$to.stamped)"
	echo "$report" | awk -v n="$n" -v from="$from" -v to="$to" -v how="$how" -v load="$load" -v kicks="$kicks" \
		-v wdown="$(awk -v a="$tq" -v b="$tp" 'BEGIN { print a - b }')" \
		-v wtotal="$(awk -v a="$tq" -v b="$t0" 'BEGIN { print a - b }')" '{
		for (i = 1; i <= NF; i++) {
			if ($i == "downtime") down = $(i + 1)
			if ($i == "total") total = $(i + 1)
			if ($i == "pre-copy") rounds = $(i - 1)
			if ($i == "sent") sent = $(i - 2)
		}
		printf "bench: migration %d (%s to %s): %-13s guest %-5s: sender clock: downtime %6.2f s, total %6.2f s; host: downtime %6.2f s, total %6.2f s; %d pre-copy rounds, %5.1f MiB sent, %d disk requests meanwhile\n",
			n, from, to, how ",", load, down, total, wdown, wtotal, rounds, sent / 1048576, kicks
	}'
done
verdict=$(grep -E '^\[guest\] \[ *[0-9.]+\] keel-payload: guest journal: diskcheck: journal .*verified: ' "${PAIR_LOG[a]}" | sed -E 's/.*diskcheck: //')
echo "bench: the guest's journal after the four: ${verdict:-none}"
case $verdict in *"verified: 0 lost, 0 corrupt, 0 I/O errors"*) ;; *) die "the journal lost or corrupted writes (${PAIR_LOG[a]})" ;; esac
