#!/usr/bin/env bash
# The guest migrated between two keel machines under continuous I/O. Two
# Bochs machines (boot_pair: an e1000 each on one bxhub, one disk image
# shared through hard links) boot migrate-source-emu.iso and
# migrate-target-emu.iso. The source's guest writes its journal (4 KiB
# O_DIRECT writes, every one verified at the end) on the shared IDE disk,
# served by iblock in either companion; the target's guest is held dropped
# (start = "wait"). The target cuts the first transfer (its keelctl receive
# killed at its first progress line), and the second comes through its
# flip-relay, which flips a byte 3 MB in: nothing may start there, both
# sides must say why, and the source's guest must go on. The third try,
# pre-copy, sends RAM in rounds while the guest writes, then must start the
# guest on the target with the source's ring bases and drop it on the
# source; the journal, finished on the target, must find no write lost or
# corrupt. Both keels halt by themselves.
# emulators: 2
. "$(dirname "$0")/lib.bash"

t0=$(date +%s)
TIMEOUT=${BOCHS_TIMEOUT:-2400} boot_pair source "$BUILD/migrate-source-emu.iso" \
	target "$BUILD/migrate-target-emu.iso" corei7_skylake_x 2
echo "# both machines ran for $(($(date +%s) - t0)) s of wall time"
g='^\[guest\] \[ *[0-9.]+\] keel-payload: guest'
c='^\[companion\] \[ *[0-9.]+\] keeld:'
k='^\[companion\] \[ *[0-9.]+\] keelctl:'
o='^\[companion\] \[ *[0-9.]+\]'
p='^\[companion\] \[ *[0-9.]+\] keel-payload: companion:'
ioerr='^\[guest\] \[ *[0-9.]+\] (.*I/O error, dev |Buffer I/O error|.*critical (target|medium) error|.*BAD_TARGET)'

on source
expect_halted "source: keel halts by itself"
expect "source: the companion's e1000 at 10.0.0.1" "$p eth0 10\\.0\\.0\\.1/24, MAC b0:c4:20:00:00:01"
expect "source: the target's companion answers ping" "$p peer 10\\.0\\.0\\.2 answers ping"
expect "source: the guest's disk is the shared IDE disk, through iblock" \
	"$o keeld: LIO target naa\\.5001405abcdef001 ready: iblock /dev/sda"
expect_order "source: the cut transfer fails, the source says so and its guest goes on" \
	"$p migrate try 1 to 10\\.0\\.0\\.2:7000" \
	'^handoff: guest paused' \
	"$c request [0-9]+: handoff stop, bases" \
	"$k write 10\\.0\\.0\\.2:7000: .*(reset|[Bb]roken pipe)" \
	"$c request [0-9]+: handoff start, bases" \
	"$c vhost: set_endpoint wwpn=naa\\.5001405abcdef001" \
	'^handoff: guest resumed' \
	"$k the guest goes on" \
	"$p migrate try 1 failed"
expect_none_between "source: the guest is not dropped by the failed try" \
	"$p migrate try 1 to" "$p migrate try 1 failed" '^handoff: guest dropped'
expect_order "source: the corrupted transfer is refused by the target, which says why; the guest goes on" \
	"$p migrate try 2 to 10\\.0\\.0\\.2:7001" \
	'^handoff: guest paused' \
	"$k write 10\\.0\\.0\\.2:7001: .*(reset|[Bb]roken pipe)" \
	"$k the guest goes on" \
	"$k 10\\.0\\.0\\.2:7001 refused the stream: receive: section [0-9]+ \\(type 16\\): payload crc32c 0x[0-9a-f]+, expected 0x[0-9a-f]+" \
	"$p migrate try 2 failed"
expect_none_between "source: the guest is not dropped by the refused try" \
	"$p migrate try 2 to" "$p migrate try 2 failed" '^handoff: guest dropped'
# keelctl's lines reach the console through a pipe, behind keel.ko's own
expect_order "source: the third try, pre-copy: rounds while the guest runs, then the last pages and the state; the guest dropped here" \
	"$p migrate try 3 to 10\\.0\\.0\\.2:7000 --precopy" \
	"$o keel: guest dirty log: 65536 pages" \
	"$o keel: guest dirty log: [0-9]+ pages" \
	"$o keel: guest pause: keel answered 0" \
	"$o keel: guest handoff stop: keel answered [0-9]+" \
	"$o keel: guest dirty log: [0-9]+ pages" \
	"$o keel: guest state get: [0-9]+ bytes" \
	"$o keel: guest drop: keel answered 0"
expect_none_between "source: the guest runs through the live rounds" \
	"$o keel: guest dirty log: 65536 pages" "$o keel: guest dirty log: " '^handoff: guest paused'
expect_order "source: keelctl reports the rounds, then the migration: downtime and total time" \
	"$p migrate try 3 to 10\\.0\\.0\\.2:7000 --precopy" \
	"$k round 0: 65536 pages dirty, [0-9.]+ MiB sent" \
	"$k round 1: [0-9]+ pages dirty" \
	"$o migrated [0-9]+ bytes \\(256 MiB RAM, [0-9]+ bytes state\\) in [0-9.]+ s to 10\\.0\\.0\\.2:7000, downtime [0-9.]+ s, total [0-9.]+ s, [1-9][0-9]* pre-copy rounds" \
	"$p the guest runs on 10\\.0\\.0\\.2: stopping keeld"
expect_order "source: keel pauses, captures and drops the guest" \
	"$p migrate try 3 to" \
	'^handoff: guest paused' \
	'^handoff: state captured: [0-9]+ bytes' \
	'^handoff: guest dropped'
expect "source: keel lets the dropped guest go at the companion's power-off" \
	'^keel: guest stopped: dropped'
expect "source: the companion powers off" '^keel: companion stopped: powered off'
expect_not "source: no I/O error in the guest" "$ioerr"
expect_guest_quiet_after "source: the guest's kernel saw nothing wrong across the tries" \
	'keel-payload: companion: migrate try 1 to'
expect_not "source: keel refused nothing" '^handoff: refused'
expect "source: keel halts after both" '^keel: halted: all partitions stopped'

on target
expect_halted "target: keel halts by itself"
expect "target: the guest waits, dropped, for a state" \
	'^handoff: the guest waits, dropped, for a state to load \(start = "wait"\)'
expect "target: the companion's e1000 at 10.0.0.2" "$p eth0 10\\.0\\.0\\.2/24, MAC b0:c4:20:00:00:02"
expect "target: the guest's disk is the shared IDE disk, through iblock" \
	"$o keeld: LIO target naa\\.5001405abcdef001 ready: iblock /dev/sda"
expect_order "target: the first transfer is cut mid-stream" \
	"$p receive 1 on port 7000, to be cut" \
	"$k receiving: [0-9]+ of 256 MiB" \
	"$p receive 1 cut \\(keelctl killed\\) after: keelctl: receiving: "
expect_none_between "target: nothing loaded or started from the cut transfer" \
	"$p receive 1 on port 7000" "$p receive 2 on port 7000, through" \
	'^handoff: (state loaded|guest resumed)|^disk: request [0-9]+: start'
expect_order "target: the second transfer, a byte flipped on the way, is refused at its crc32c" \
	"$p receive 2 on port 7000, through flip-relay on 7001" \
	"^\\[companion\\] .*flip-relay: byte 3000000 flipped" \
	"$k receive: section [0-9]+ \\(type 16\\): payload crc32c 0x[0-9a-f]+, expected 0x[0-9a-f]+" \
	"$p receive 2 ended \\(exit 1\\)"
expect_none_between "target: nothing loaded or started from the corrupted transfer" \
	"$p receive 2 on port 7000" "$p receive 3 on port 7000" \
	'^handoff: (state loaded|guest resumed)|^disk: request [0-9]+: start'
expect_order "target: the third transfer loads the state, starts the disk with the source's bases, resumes" \
	"$p receive 3 on port 7000" \
	'^handoff: guest dropped' \
	'^handoff: state loaded: vcpu at rip' \
	"$c request [0-9]+: handoff start, bases" \
	"$c vhost: set_vring_base q=2 base=[0-9]+" \
	"$c vhost: set_endpoint wwpn=naa\\.5001405abcdef001" \
	'^handoff: guest resumed' \
	"$o received [0-9]+ bytes \\(256 MiB RAM, [0-9]+ bytes state\\) in [0-9.]+ s; the guest runs"
expect "target: the guest's journal: nothing lost, nothing corrupt" \
	"$g journal: diskcheck: journal /dev/sda: [1-9][0-9]* writes over [0-9]+ blocks in [0-9.]+ s; verified: 0 lost, 0 corrupt, 0 I/O errors"
expect "target: the guest's workload passed" "$g io: PASS"
expect_not "target: no I/O error in the guest" "$ioerr"
expect_not "target: the guest's kernel saw nothing wrong" "$GUEST_WRONG"
expect_not "target: keel refused nothing" '^handoff: refused'
expect "target: the guest powers off" '^keel: guest stopped: powered off'
expect "target: every device request answered" \
	'^stats: disk: companion requests acked [1-9][0-9]*, failed 0, stale 0'
expect "target: keel halts after both" '^keel: halted: all partitions stopped'

# the figures, for the log
on source
grep -hE "$o migrated |$k (sending|round|.*reset|.*refused|.*the guest goes on)" "$LOG" | sed 's/^/# source: /'
on target
grep -hE "$o received |$g journal: " "$LOG" | sed 's/^/# target: /'
