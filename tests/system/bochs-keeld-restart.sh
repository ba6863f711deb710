#!/usr/bin/env bash
# keeld stopped (SIGTERM) and started again in the companion while the
# guest's pattern passes run: the first keeld stops vhost-scsi (kicks
# detached, endpoint cleared) without answering keel, the second takes the
# rings up again at their used index, and the guest's I/O goes on with
# every byte verified and no error.
. "$(dirname "$0")/lib.bash"

TIMEOUT=${BOCHS_TIMEOUT:-900} boot bochs "$BUILD/keeld-restart-emu.iso" corei7_skylake_x 2
g='^\[guest\] \[ *[0-9.]+\] keel-payload: guest'
c='^\[companion\] \[ *[0-9.]+\] keeld:'
p='^\[companion\] \[ *[0-9.]+\] keel-payload: companion:'

expect_halted "restart: keel halts by itself"
expect "restart: the guest sees its disk" "$g disk sda: 131072 sectors"
expect_order "restart: keeld serves, is stopped, stops vhost, is started, serves again" \
	"$c vhost: set_endpoint wwpn=naa\\.5001405abcdef001" \
	"$p stopping keeld \\(SIGTERM\\) at [0-9]+ kicks" \
	"$c vhost: clear_endpoint wwpn=naa\\.5001405abcdef001" \
	"$c terminated \\(signal 15\\)" \
	"$p starting keeld again" \
	"$c request 1: start" \
	"$c vhost: set_endpoint wwpn=naa\\.5001405abcdef001" \
	"$g pattern: PASS"
expect "restart: the second keeld takes the request queue up where it was" \
	"$c vhost: set_vring_base q=2 base=[1-9][0-9]*$"
# the guest never saw a reset until its power-off: both keelds answered
# the same start request
expect_order "restart: both keelds answered the guest's one start, the guest saw no reset" \
	'^disk: request 1 \(start\) done by the companion' \
	'^disk: request 1 \(start\) done by the companion' \
	'^\[guest\] .* keel-payload: guest io: PASS' \
	'^disk: guest reset the device: request 2: stop'
n=$(grep -c '^disk: guest reset the device' "$LOG")
if [ "$n" -eq 1 ]; then ok "restart: one reset, at the guest's power-off"
else not_ok "restart: one reset, at the guest's power-off" "$n resets"; fi
expect "restart: every request answered" '^stats: disk: companion requests acked 3, failed 0, stale 0'
expect "restart: every pattern pass verified" "$g pattern: PASS"
expect_not "restart: no I/O error, no target error in the guest" \
	'^\[guest\] \[ *[0-9.]+\] (.*I/O error, dev |Buffer I/O error|.*critical (target|medium) error|.*BAD_TARGET)'
expect_same_checksum restart
expect "restart: the guest's workload passed" "$g io: PASS"
