#!/usr/bin/env bash
# Three local handoffs of the guest under its I/O: the companion's keelctl
# saves the guest (pause, handoff stop of its disk, capture, RAM), drops it
# (keel clears its vCPU, local APIC, device and RAM) and restores it from
# the file, each time while the guest's pattern passes run. The guest must
# not notice beyond the pauses: every pattern verified, no I/O error, its
# disk's checksum in the companion's backstore.
. "$(dirname "$0")/lib.bash"

TIMEOUT=${BOCHS_TIMEOUT:-1200} boot bochs "$BUILD/handoff-emu.iso" corei7_skylake_x 2
g='^\[guest\] \[ *[0-9.]+\] keel-payload: guest'
c='^\[companion\] \[ *[0-9.]+\] keeld:'

expect_halted "handoff: keel halts by itself"
# each round's lines: from its marker to the next round's (keel's own lines
# are in order; the companion's reach the console a little later)
for r in 1 2 3; do
	full=$LOG
	LOG=$LOGDIR/round$r.txt
	sed -n "/keel-payload: companion: handoff $r at/,/keel-payload: companion: handoff $((r + 1)) at/p" "$full" >"$LOG"
	expect_order "handoff $r: keel pauses, stops the disk, captures, drops, loads, restarts the disk from the bases, resumes" \
		'^handoff: guest paused' \
		'^disk: request [0-9]+: handoff stop' \
		'^disk: request [0-9]+ \(handoff stop\) done by the companion' \
		'^handoff: state captured: [0-9]+ bytes' \
		'^handoff: guest dropped' \
		'^handoff: state checked' \
		'^handoff: state loaded' \
		"^disk: request [0-9]+: start 3 queues, .*from the handoff's ring bases" \
		'^disk: request [0-9]+ \(handoff start\) done by the companion' \
		'^handoff: guest resumed'
	expect_order "handoff $r: keeld detaches kicks, clears the endpoint, answers the bases; then starts from them" \
		"$c vhost: set_vring_kick q=2 fd=-1" \
		"$c vhost: clear_endpoint wwpn=" \
		"$c request [0-9]+: handoff stop, bases q0=[0-9]+ q1=[0-9]+ q2=[1-9][0-9]*" \
		"$c request [0-9]+: handoff start, bases q0=[0-9]+ q1=[0-9]+ q2=[1-9][0-9]*" \
		"$c vhost: set_vring_base q=2 base=[1-9][0-9]*" \
		"$c vhost: set_endpoint wwpn="
	LOG=$full
done
n=$(grep -c '^handoff: guest resumed' "$LOG")
if [ "$n" -eq 3 ]; then ok "handoff: three handoffs, three resumes"
else not_ok "handoff: three handoffs, three resumes" "$n resumes"; fi
expect_not "handoff: keel refused nothing" '^handoff: refused'
expect "handoff: every pattern pass verified" "$g pattern: PASS"
expect_not "handoff: no I/O error, no target error in the guest" \
	'^\[guest\] \[ *[0-9.]+\] (.*I/O error, dev |Buffer I/O error|.*critical (target|medium) error|.*BAD_TARGET)'
# what the guest's kernel says from the first handoff on (its boot has
# warnings of its own)
full=$LOG
LOG=$LOGDIR/after.txt
sed -n '/keel-payload: companion: handoff 1 at/,$p' "$full" >"$LOG"
expect_not "handoff: the guest's kernel saw nothing wrong across the handoffs" \
	'^\[guest\] \[ *[0-9.]+\] .*(BUG:|Oops|WARNING|stall|soft lockup|blocked for more than|timed out|abort|[Cc]locksource)'
LOG=$full
expect_same_checksum handoff
expect "handoff: the guest's workload passed" "$g io: PASS"
