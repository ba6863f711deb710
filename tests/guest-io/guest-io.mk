# The guest's disk workload (tests/guest-io/README.md): diskcheck, and the
# guest's initramfs with it, mke2fs and the role script appended. Included
# at the end of the Makefile.

DISKCHECK_SRCS := tests/guest-io/diskcheck.c tests/guest-io/diskio.c

# static: the guest's busybox initramfs has no libc
$(BUILD)/diskcheck: $(DISKCHECK_SRCS) tests/guest-io/diskio.h | deps
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -static -o $@ $(DISKCHECK_SRCS)

# the guest's initramfs with the workload appended (the kernel unpacks
# concatenated archives in order, later files replacing earlier ones)
$(BUILD)/guest-io.cpio: $(PAYLOAD)/kernel.env $(BUILD)/diskcheck $(BUILD)/iobench \
		tests/guest-io/guest.sh tests/guest-io/mkcpio.sh tools/apt.bash
	tests/guest-io/mkcpio.sh $@.tail $(BUILD)/diskcheck $(BUILD)/iobench
	cat $(PAYLOAD)/guest.cpio $@.tail >$@.tmp
	rm -f $@.tail
	mv $@.tmp $@

# the unit test links the pattern and the passes (tests/unit/test_diskcheck.c)
unit_srcs_diskcheck := tests/guest-io/diskio.c

# tests/system/qemu-guest-io.sh boots the guest kernel with it under QEMU
SYSTEM_IMAGES += $(BUILD)/guest-io.cpio $(BUILD)/diskcheck
