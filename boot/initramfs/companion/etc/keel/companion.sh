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
# keel.test=handoff: three local handoffs of the guest under its I/O:
# keelctl save (pause, stop the device, capture), drop, restore.
# keel.test=bench: once the guest has stopped, make bench's runs on a
# loopback LUN (tcm_loop) of the same LIO backstore, here in the companion.
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

test=
for arg in $(cat /proc/cmdline); do
	case $arg in keel.test=*) test=${arg#keel.test=} ;; esac
done

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
if [ "$test" = handoff ]; then
	/sbin/keeld serve 2>&1 | to_kmsg &
	i=0
	while [ "$(kicks)" -lt 1000 ] 2>/dev/null && [ $i -lt 600 ]; do
		sleep 1
		i=$((i + 1))
	done
	state=/var/lib/keel/guest.state
	for round in 1 2 3; do
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
