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
for r in 1 2 3; do
	expect_order "handoff $r: pause, handoff stop, capture, drop, load, start with the saved bases, resume" \
		"keel-payload: companion: handoff $r at" \
		'^handoff: guest paused' \
		'^disk: request [0-9]+: handoff stop' \
		"$c request [0-9]+: handoff stop, bases" \
		'^handoff: state captured: [0-9]+ bytes' \
		'^handoff: guest dropped' \
		'^handoff: state loaded' \
		"$c request [0-9]+: start.*" \
		"$c vhost: set_vring_base q=2 base=" \
		"$c vhost: set_endpoint wwpn=" \
		'^handoff: guest resumed'
done
n=$(grep -c '^handoff: guest resumed' "$LOG")
if [ "$n" -eq 3 ]; then ok "handoff: three handoffs, three resumes"
else not_ok "handoff: three handoffs, three resumes" "$n resumes"; fi
expect_not "handoff: keel refused nothing" '^handoff: refused'
expect "handoff: every pattern pass verified" "$g pattern: PASS"
expect_not "handoff: no I/O error, no target error in the guest" \
	'^\[guest\] \[ *[0-9.]+\] (.*I/O error, dev |Buffer I/O error|.*critical (target|medium) error|.*BAD_TARGET)'
expect_not "handoff: the guest's kernel saw nothing wrong" \
	'^\[guest\] \[ *[0-9.]+\] .*(BUG|Oops|WARNING|stall|soft lockup|hung_task|timed out|abort)'
gsum=$(sed -n 's/.*keel-payload: guest disk md5 \([0-9a-f]*\) .*/\1/p' "$LOG")
csum=$(sed -n 's/.*keel-payload: companion backstore md5 \([0-9a-f]*\)$/\1/p' "$LOG")
if [ -n "$gsum" ] && [ "$gsum" = "$csum" ]; then
	ok "handoff: the companion's backstore has the guest's checksum"
else
	not_ok "handoff: the companion's backstore has the guest's checksum" "guest ${gsum:-none}, companion ${csum:-none}"
fi
expect "handoff: the guest's workload passed" "$g io: PASS"
