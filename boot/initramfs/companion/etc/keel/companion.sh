#!/bin/sh
# The companion's role: it owns the machine's hardware. It loads the disk
# drivers and reports the emulator's disk (size and a checksum of its first
# sector), which the system tests compare with the image they gave.
modprobe ata_piix && modprobe sd_mod
i=0
while [ ! -b /dev/sda ] && [ $i -lt 20 ]; do
	sleep 1
	i=$((i + 1))
done
if [ -b /dev/sda ]; then
	sectors=$(cat /sys/block/sda/size)
	sum=$(dd if=/dev/sda bs=512 count=1 2>/dev/null | md5sum | cut -d' ' -f1)
	echo "keel-payload: companion disk sda $sectors sectors, sector 0 md5 $sum" >/dev/kmsg
else
	echo "keel-payload: companion disk: no /dev/sda" >/dev/kmsg
fi

# keel's module and keeld, appended to this archive by the build: keel.ko
# binds keel's channel device, keeld builds the guest disk's LIO target
if [ -f /lib/modules/keel.ko ]; then
	insmod /lib/modules/keel.ko ||
		echo "keel-payload: companion: insmod keel.ko failed" >/dev/kmsg
fi
if [ -x /sbin/keeld ]; then
	modprobe target_core_file && modprobe target_core_iblock &&
		modprobe vhost_scsi
	mount -t configfs configfs /sys/kernel/config
	/sbin/keeld setup 2>&1 | while read -r line; do
		echo "$line" >/dev/kmsg
	done
fi
