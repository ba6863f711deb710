#!/usr/bin/env bash
# Bad states, then three local handoffs of the guest under its I/O. The
# companion's keelctl saves the guest and tries to restore it from a
# truncated copy of its state, from one with a byte flipped and from one
# with another machine's TSC frequency (stream-edit, its crc32c values
# right): each refused, nothing changed, and the guest resumes. Then, three
# times, keelctl saves the guest (pause, handoff stop of its disk, capture,
# RAM), drops it (keel clears its vCPU, local APIC, device and RAM) and
# restores it from the file, each time while the guest's pattern passes
# run. The guest must not notice beyond the pauses: every pattern
# verified, no I/O error, its disk's checksum in the companion's backstore.
. "$(dirname "$0")/lib.bash"

TIMEOUT=${BOCHS_TIMEOUT:-1200} boot bochs "$BUILD/handoff-emu.iso" corei7_skylake_x 2
g='^\[guest\] \[ *[0-9.]+\] keel-payload: guest'
c='^\[companion\] \[ *[0-9.]+\] keeld:'

expect_halted "handoff: keel halts by itself"
p='^\[companion\] \[ *[0-9.]+\] keel-payload: companion:'
k='^\[companion\] \[ *[0-9.]+\] keelctl:'
full=$LOG
LOG=$LOGDIR/bad-states.txt
sed -n '/keel-payload: companion: bad states at/,/keel-payload: companion: handoff 1 at/p' "$full" >"$LOG"
expect_order "bad states: the guest saved, a truncated copy refused by keelctl, nothing changed" \
	'^handoff: guest paused' \
	'^handoff: state captured: [0-9]+ bytes' \
	"$p restore truncated" \
	"$k restore /var/lib/keel/bad\\.state: stream ends at byte [0-9]+, .*; nothing changed"
expect_order "bad states: a flipped byte refused by keelctl (crc32c), nothing changed" \
	"$p restore corrupt" \
	"$k restore /var/lib/keel/bad\\.state: section [0-9]+.*crc32c 0x[0-9a-f]+, expected 0x[0-9a-f]+.*; nothing changed"
expect_order "bad states: another machine's TSC refused by keel's check, nothing changed" \
	"^\\[companion\\] .*stream-edit: /var/lib/keel/bad\\.state: COMPAT tsc_khz=1000000" \
	"$p restore incompatible" \
	"^handoff: refused: the stream's TSC frequency differs from this machine's" \
	"$k restore /var/lib/keel/bad\\.state: keel refuses its state .*; nothing changed"
expect_none_between "bad states: nothing dropped or loaded" \
	"$p restore truncated" "$p resume" '^handoff: (guest dropped|state loaded)'
expect_order "bad states: the guest resumes, its disk started again from the bases" \
	"$p resume" \
	"^disk: request [0-9]+: start 3 queues, .*from the handoff's ring bases" \
	'^handoff: guest resumed' \
	"^\\[companion\\] \\[ *[0-9.]+\\] guest resumed"
n=$(grep -c '^handoff: refused' "$LOG")
if [ "$n" -eq 1 ]; then ok "bad states: keel refused one state (the incompatible)"
else not_ok "bad states: keel refused one state (the incompatible)" "$n refusals"; fi
LOG=$full
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
n=$(sed -n '/keel-payload: companion: handoff 1 at/,$p' "$LOG" | grep -c '^handoff: guest resumed')
if [ "$n" -eq 3 ]; then ok "handoff: three handoffs, three resumes"
else not_ok "handoff: three handoffs, three resumes" "$n resumes"; fi
n=$(grep -c '^handoff: refused' "$LOG")
if [ "$n" -eq 1 ]; then ok "handoff: keel refused nothing but the incompatible state"
else not_ok "handoff: keel refused nothing but the incompatible state" "$n refusals"; fi
expect "handoff: every pattern pass verified" "$g pattern: PASS"
expect_not "handoff: no I/O error, no target error in the guest" \
	'^\[guest\] \[ *[0-9.]+\] (.*I/O error, dev |Buffer I/O error|.*critical (target|medium) error|.*BAD_TARGET)'
expect_guest_quiet_after "handoff: the guest's kernel saw nothing wrong across the handoffs" \
	'keel-payload: companion: bad states at'
expect_same_checksum handoff
expect "handoff: the guest's workload passed" "$g io: PASS"
