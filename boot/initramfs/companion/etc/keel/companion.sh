#!/bin/sh
# The companion's role: it owns the machine's hardware and serves the
# guest's disk. It reports the emulator's IDE disk (size and a checksum of
# its first sector, which the system tests compare with the image they
# gave), loads keel.ko and the vhost-scsi/LIO stack, and runs keeld until
# the guest stops. Then it checksums the backstore keeld served, which the
# tests compare with the checksum the guest printed.
#
# keel.test=keeld-restart (kernel command line): keeld is stopped with
# SIGTERM and started again while the guest's I/O runs.
# keel.test=handoff: the guest saved, then restores from bad copies of its
# state (truncated, a byte flipped, another machine's TSC: stream-edit)
# refused and the guest resumed; then three local handoffs of the guest
# under its I/O: keelctl save (pause, stop the device, capture), drop,
# restore. keel.test=handoff-once: one such handoff.
# keel.test=bench: once the guest has stopped, make bench's runs on a
# loopback LUN (tcm_loop) of the same LIO backstore, here in the companion.
# keel.test=migrate-source: once the guest's I/O runs, hand it to the keel
# at keel.peer: `keelctl migrate PEER:7000` (the target cuts it), PEER:7001
# (the target's flip-relay corrupts it), `keelctl migrate --precopy
# PEER:7000`; keeld stops once the guest runs there, or serves the guest
# here until it stops.
# keel.test=migrate-target: `keelctl receive 7000`; the first transfer is
# cut (that keelctl killed at its first progress line, after about a tenth
# of guest RAM), the second comes through flip-relay (a byte flipped 3 MB
# in), the third is taken; keeld serves the guest here until it stops.
# tests/system/bochs-migrate.sh boots both.
# keel.test=migrate-bench: make bench's four migrations back and forth
# (tests/bench/migrate.sh): keel.bench=a holds the guest first, b waits.
#
# keel.ip=ADDR/PREFIX: the address of the e1000 NIC (eth0), if the machine
# has one; keel.peer=ADDR: the other keel's companion, pinged once the
# address is up.
say() { echo "keel-payload: $*" >/dev/kmsg; }
to_kmsg() { while read -r line; do echo "$line" >/dev/kmsg; done; }

modprobe ata_piix && modprobe sd_mod
i=0
while [ ! -b /dev/sda ] && [ $i -lt 20 ]; do
	sleep 1
	i=$((i + 1))
done
if [ -b /dev/sda ]; then
	sectors=$(cat /sys/block/sda/size)
	sum=$(dd if=/dev/sda bs=512 count=1 2>/dev/null | md5sum | cut -d' ' -f1)
	say "companion disk sda $sectors sectors, sector 0 md5 $sum"
else
	say "companion disk: no /dev/sda"
fi

test='' ip='' peer='' bench=''
for arg in $(cat /proc/cmdline); do
	case $arg in
	keel.test=*) test=${arg#keel.test=} ;;
	keel.ip=*) ip=${arg#keel.ip=} ;;
	keel.peer=*) peer=${arg#keel.peer=} ;;
	keel.bench=*) bench=${arg#keel.bench=} ;;
	esac
done

# the network: eth0 (e1000) at keel.ip
if [ -n "$ip" ]; then
	modprobe e1000 || say "companion: modprobe e1000 failed"
	ip link set lo up
	i=0
	while [ ! -e /sys/class/net/eth0 ] && [ $i -lt 100 ]; do
		usleep 100000
		i=$((i + 1))
	done
	if ip addr add "$ip" dev eth0 && ip link set eth0 up; then
		say "companion: eth0 $ip, MAC $(cat /sys/class/net/eth0/address)"
	else
		say "companion: no eth0 at $ip (network devices: $(ls /sys/class/net | tr '\n' ' '))"
	fi
fi

# wait_peer SECONDS: until keel.peer answers a ping
wait_peer() {
	[ -n "$peer" ] || return 1
	i=0
	while [ $i -lt "$1" ]; do
		if ping -c 1 -W 1 "$peer" >/dev/null 2>&1; then
			say "companion: peer $peer answers ping (after $i s)"
			return 0
		fi
		i=$((i + 1))
	done
	say "companion: peer $peer does not answer ping within $1 s"
	return 1
}

# keel.ko and keeld are appended to this archive by the build
[ -f /lib/modules/keel.ko ] && [ -x /sbin/keeld ] || exit 0
insmod /lib/modules/keel.ko || { say "companion: insmod keel.ko failed"; exit 1; }
# the guest's RAM is soft reserved in this partition's e820: dax_hmem and
# device_dax make it /dev/dax0.0, memory with struct pages that vhost-scsi
# can pin (never kmem: it would take the range as this kernel's own RAM)
for m in target_core_file target_core_iblock vhost_scsi dax_hmem device_dax; do
	modprobe $m || say "companion: modprobe $m failed"
done
mount -t configfs configfs /sys/kernel/config

# kick_count: how many notifies the guest has made so far
kicks() { /sbin/keeld status 2>/dev/null | sed -n 's/^keeld: kick_count //p'; }

if [ "$test" = keeld-restart ]; then
	/sbin/keeld serve 2>&1 | to_kmsg &
	# well into the guest's first pattern pass (at most 10 minutes)
	i=0
	while [ "$(kicks)" -lt 2000 ] 2>/dev/null && [ $i -lt 600 ]; do
		sleep 1
		i=$((i + 1))
	done
	say "companion: stopping keeld (SIGTERM) at $(kicks) kicks"
	killall -TERM keeld
	wait
	say "companion: starting keeld again at $(kicks) kicks"
fi
# the guest's I/O runs: N kicks (at most 10 minutes)
wait_kicks() {
	i=0
	while [ "$(kicks)" -lt "$1" ] 2>/dev/null && [ $i -lt 600 ]; do
		sleep 1
		i=$((i + 1))
	done
}

# keelctl_logged ARGS...: runs keelctl, its lines to the kernel log as they
# come and to /tmp/keelctl.out; sets rc
keelctl_logged() {
	{
		/sbin/keelctl "$@"
		echo $? >/tmp/keelctl.rc
	} 2>&1 | tee /tmp/keelctl.out | to_kmsg
	read -r rc </tmp/keelctl.rc
}

# bad_states STATE BAD: the guest saved to STATE, then restored from bad
# copies of it in BAD, each refused, changing nothing; then it goes on
bad_states() {
	state=$1 bad=$2
	say "companion: bad states at $(kicks) kicks"
	/sbin/keelctl save $state 2>&1 | to_kmsg
	size=$(stat -c %s $state)
	head -c $((size / 2)) $state >$bad
	say "companion: restore truncated ($((size / 2)) of $size bytes)"
	/sbin/keelctl restore $bad 2>&1 | to_kmsg
	cp $state $bad
	at=$((size / 2))
	v=$(dd if=$bad bs=1 skip=$at count=1 2>/dev/null | od -An -tu1 | tr -d ' ')
	printf "\\$(printf %o $((v ^ 1)))" |
		dd of=$bad bs=1 seek=$at count=1 conv=notrunc 2>/dev/null
	say "companion: restore corrupt (byte $at: $v, now $((v ^ 1)))"
	/sbin/keelctl restore $bad 2>&1 | to_kmsg
	/sbin/stream-edit $state $bad tsc_khz=1000000 2>&1 | to_kmsg
	say "companion: restore incompatible (another TSC)"
	/sbin/keelctl restore $bad 2>&1 | to_kmsg
	rm -f $bad $state
	say "companion: resume"
	/sbin/keelctl resume 2>&1 | to_kmsg
	sleep 5
}

# keeld's lines straight into the kernel log (one write a line): in their
# place among keel's, as the migration tests check
if [ "$test" = migrate-source ]; then
	/sbin/keeld serve >/dev/kmsg 2>&1 &
	wait_peer 300
	wait_kicks 200
	# the tries: cut by the target, corrupted on the way (the target's
	# relay on 7001), then pre-copy
	migrated= refused=0 try=1
	for how in 7000 7001 "7000 --precopy"; do
		port=${how%% *} opt=
		[ "$how" = "$port" ] || opt=${how#* }
		while :; do
			say "companion: migrate try $try to $peer:$port${opt:+ $opt} at $(kicks) kicks"
			keelctl_logged migrate $opt "$peer:$port"
			# the target not listening yet: no try
			grep -q 'Connection refused' /tmp/keelctl.out && [ $refused -lt 60 ] ||
				break
			refused=$((refused + 1))
			sleep 2
		done
		if [ "$rc" -eq 0 ]; then
			migrated=yes
			break
		fi
		say "companion: migrate try $try failed (exit $rc), the guest goes on here"
		try=$((try + 1))
		sleep 5
	done
	if [ -n "$migrated" ]; then
		say "companion: the guest runs on $peer: stopping keeld"
		killall -TERM keeld
	else
		say "companion: no migration in $try tries: keeld serves the guest here until it stops"
	fi
	wait
elif [ "$test" = migrate-target ]; then
	/sbin/keeld serve >/dev/kmsg 2>&1 &
	wait_peer 300
	# the first transfer: killed at its first progress line, mid-stream
	say "companion: receive 1 on port 7000, to be cut"
	/sbin/keelctl receive 7000 >/tmp/receive.1 2>&1 &
	pid=$!
	i=0
	while ! grep -q '^keelctl: receiving: ' /tmp/receive.1 && kill -0 $pid 2>/dev/null &&
		[ $i -lt 6000 ]; do
		usleep 100000
		i=$((i + 1))
	done
	kill -KILL $pid 2>/dev/null
	wait $pid
	to_kmsg </tmp/receive.1
	say "companion: receive 1 cut (keelctl killed) after: $(grep -m 1 '^keelctl: receiving: ' /tmp/receive.1)"
	# the second: through a relay that flips a byte 3 MB in (guest RAM)
	say "companion: receive 2 on port 7000, through flip-relay on 7001"
	/sbin/flip-relay 7001 127.0.0.1:7000 3000000 2>&1 | to_kmsg &
	relay=$!
	keelctl_logged receive 7000
	wait $relay
	say "companion: receive 2 ended (exit $rc)"
	received=
	for n in 3 4; do
		say "companion: receive $n on port 7000"
		keelctl_logged receive 7000
		if [ "$rc" -eq 0 ]; then
			received=yes
			break
		fi
		say "companion: receive $n failed (exit $rc)"
	done
	if [ -n "$received" ]; then
		say "companion: the guest runs here: keeld serves it until it stops"
	else
		say "companion: no guest received: stopping keeld"
		killall -TERM keeld
	fi
	wait
elif [ "$test" = migrate-bench ]; then
	# make bench's migrations: the guest goes back and forth, 1 here to
	# the peer, 2 back, ...: stop-and-copy then pre-copy, first while the
	# guest idles, then under its journal's writes. keel.bench=a holds the
	# guest first.
	/sbin/keeld serve >/dev/kmsg 2>&1 &
	wait_peer 300
	refused=0
	for n in 1 2 3 4; do
		case $n in
		1 | 3) opt= how=stop-and-copy ;;
		*) opt=--precopy how=pre-copy ;;
		esac
		load=idle
		[ $n -le 2 ] || load=write
		case $bench$n in
		a1 | a3 | b2 | b4)
			# the guest's I/O as the step wants it: 5 s without a
			# request, or 10 s of them
			if [ $load = idle ]; then
				k0=-1
				while [ "$(kicks)" != "$k0" ]; do
					k0=$(kicks)
					sleep 5
				done
			else
				while k0=$(kicks); sleep 10; [ "$(kicks)" = "$k0" ]; do :; done
			fi
			k0=$(kicks)
			say "companion: bench $n: $how, guest $load, to $peer at $k0 kicks"
			while keelctl_logged migrate $opt "$peer:7000"; [ "$rc" -ne 0 ]; do
				grep -q 'Connection refused' /tmp/keelctl.out && [ $refused -lt 60 ] ||
					break
				refused=$((refused + 1))
				sleep 2
			done
			say "companion: bench $n: exit $rc, $(($(kicks) - k0)) kicks during the transfer"
			;;
		*)
			say "companion: bench $n: receive on port 7000"
			keelctl_logged receive 7000
			say "companion: bench $n: received, exit $rc"
			;;
		esac
		[ "$rc" -eq 0 ] || break
	done
	if [ "$bench" = b ]; then
		say "companion: bench done here: stopping keeld"
		killall -TERM keeld
	fi
	wait
elif [ "$test" = handoff ] || [ "$test" = handoff-once ]; then
	/sbin/keeld serve 2>&1 | to_kmsg &
	i=0
	while [ "$(kicks)" -lt 1000 ] 2>/dev/null && [ $i -lt 600 ]; do
		sleep 1
		i=$((i + 1))
	done
	state=/var/lib/keel/guest.state
	bad=/var/lib/keel/bad.state
	rounds="1 2 3"
	[ "$test" = handoff ] || rounds=1
	[ "$test" = handoff ] && bad_states $state $bad
	for round in $rounds; do
		say "companion: handoff $round at $(kicks) kicks"
		{ /sbin/keelctl save $state && /sbin/keelctl drop &&
			/sbin/keelctl restore $state; } 2>&1 | to_kmsg
		rm -f $state
		sleep 5
	done
	wait
else
	/sbin/keeld serve 2>&1 | to_kmsg
fi
say "companion: keeld exited"

path=$(/sbin/keeld status 2>/dev/null | sed -n 's/^keeld: disk fileio //p')
if [ -n "$path" ] && [ -f "$path" ]; then
	say "companion backstore md5 $(md5sum "$path" | cut -d' ' -f1)"
fi

# the guest's backstore, seen by this kernel through LIO's loopback fabric
if [ "$test" = bench ]; then
	C=/sys/kernel/config/target
	L=$C/loopback/naa.5001405abcdef0aa/tpgt_1
	modprobe tcm_loop && mkdir -p $L/lun/lun_0 &&
		echo naa.5001405abcdef0ab >$L/nexus &&
		ln -s $C/core/fileio_0/disk0 $L/lun/lun_0/port0 ||
		say "companion: loopback LUN not set up"
	i=0 dev=
	while [ -z "$dev" ] && [ $i -lt 30 ]; do
		for b in /sys/block/sd*; do
			v=
			read -r v <"$b/device/vendor" 2>/dev/null
			[ "$v" = LIO-ORG ] && dev=/dev/${b##*/}
		done
		[ -n "$dev" ] || sleep 1
		i=$((i + 1))
	done
	if [ -n "$dev" ]; then
		/sbin/iobench --suite companion "$dev" >/dev/null ||
			say "companion: iobench failed"
	else
		say "companion: no loopback disk of the backstore"
	fi
fi
