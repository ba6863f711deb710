# keel: build, image, run and test. `make help` lists the targets.

BUILD ?= build
EMU ?= bochs
MODEL ?= corei7_skylake_x
CPUS ?= 2
CONFIG ?= configs/default.dts

NEWLIB := $(BUILD)/newlib/x86_64-elf
LIBFDT := /usr/lib/x86_64-linux-gnu/libfdt.a
LIBGCC = $(shell $(CC) -print-libgcc-file-name)
PAYLOAD := $(BUILD)/payload

CC := gcc
KCFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only \
	-mcmodel=small -fstack-protector-strong -fno-omit-frame-pointer \
	-fno-asynchronous-unwind-tables -isystem $(NEWLIB)/include -I.
KASFLAGS := -D__ASSEMBLY__ -I.
KLDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack --no-warn-rwx-segments -T linker.ld

KSRCS := $(wildcard boot/*.S arch-x86_64/*.S arch-x86_64/*.c runtime/*.c virtio/*.c)
KOBJS := $(patsubst %,$(BUILD)/k/%.o,$(KSRCS)) $(BUILD)/k/gen/guest_dsdt.c.o
DSDT_C := $(BUILD)/gen/guest_dsdt.c

HOSTCFLAGS := -std=c11 -O1 -g -Wall -Wextra -Werror -I. \
	-fsanitize=address,undefined -fno-omit-frame-pointer

# unit test -> the keel sources it exercises
UNIT_TESTS := config multiboot memmap page_alloc acpi vmx_caps cmdline \
	decoder e820 uart_emul ioapic_emul pci_cfg linux_boot acpi_build \
	guest_walk keeld_lio keeld_vhost keeld_serve virtio_pci virtio_scsi disk \
	diskcheck keelctl handoff_stream
unit_srcs_config := runtime/config.c
unit_srcs_multiboot := runtime/multiboot.c
unit_srcs_memmap := runtime/memmap.c
unit_srcs_page_alloc := runtime/page_alloc.c
unit_srcs_acpi := runtime/acpi.c
unit_srcs_vmx_caps := arch-x86_64/vmx_caps.c
unit_srcs_cmdline := runtime/cmdline.c
unit_srcs_decoder := arch-x86_64/decoder.c
unit_srcs_e820 := runtime/e820.c
unit_srcs_guest_walk := arch-x86_64/guest_walk.c
unit_srcs_keeld_lio := vhost/keeld/lio.c
unit_srcs_virtio_pci := virtio/virtio_pci.c virtio/virtio_scsi.c arch-x86_64/pci_cfg.c
unit_srcs_virtio_scsi := $(unit_srcs_virtio_pci)
unit_srcs_disk := runtime/disk.c runtime/channel.c $(unit_srcs_virtio_pci)
unit_srcs_keeld_vhost := vhost/keeld/vhost.c
unit_srcs_keeld_serve := vhost/keeld/serve.c vhost/keeld/vhost.c vhost/keeld/dax.c vhost/keeld/snapshot.c
unit_srcs_keelctl := $(filter-out vhost/keelctl/main.c,$(wildcard vhost/keelctl/*.c)) \
	vhost/keeld/snapshot.c runtime/handoff_stream.c runtime/crc32c.c
unit_srcs_uart_emul := arch-x86_64/uart_emul.c
unit_srcs_ioapic_emul := arch-x86_64/ioapic_emul.c
unit_srcs_pci_cfg := arch-x86_64/pci_cfg.c
unit_srcs_linux_boot := runtime/linux_boot.c
unit_srcs_acpi_build := runtime/acpi_build.c runtime/acpi.c $(DSDT_C)
unit_srcs_handoff_stream := runtime/handoff_stream.c runtime/crc32c.c
unit_libs_config := -lfdt
UNIT_BINS := $(patsubst %,$(BUILD)/unit/test_%,$(UNIT_TESTS))
UNIT_DTS := $(shell find tests/unit/configs -name '*.dts' 2>/dev/null)
UNIT_DTBS := $(patsubst tests/unit/configs/%.dts,$(BUILD)/unit/configs/%.dtb,$(UNIT_DTS))

ISO_MODULES := config.dtb companion.vmlinux companion.cpio guest.vmlinux guest.cpio

.SECONDEXPANSION:
.PHONY: all keel image run check unit system bench bench-io bench-migrate deps payloads kmod clean distclean help
.DELETE_ON_ERROR:

all: keel image

help:
	@echo "make run      boot the default appliance in an emulator (EMU=bochs|qemu|kvm)"
	@echo "make check    unit tests on the host, then system tests in emulators"
	@echo "make image    build/keel.iso: hybrid BIOS/UEFI GRUB image, dd-able to a disk"
	@echo "make unit     unit tests only;  make system: system tests only"
	@echo "make keel     build/keel.elf only"
	@echo "make fuzz     the libFuzzer targets for FUZZ_SECONDS (default 60) each"
	@echo "make bench    the figures: I/O and exits (bench-io), migration downtime (bench-migrate)"

deps:
	@tools/deps.sh

$(NEWLIB)/lib/libc.a: | deps
	tools/build-newlib.sh $(BUILD)/newlib

keel: $(BUILD)/keel.elf

$(BUILD)/k/%.c.o: %.c $(NEWLIB)/lib/libc.a
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

# the guest's DSDT: ASL compiled by iasl into a C array
$(DSDT_C): runtime/guest_dsdt.asl | deps
	@mkdir -p $(dir $@)
	iasl -vs -vi -p $(BUILD)/gen/guest_dsdt -tc $< >$(BUILD)/gen/iasl.log 2>&1 || { cat $(BUILD)/gen/iasl.log; exit 1; }
	{ echo '#include <stddef.h>'; \
	  sed -e 's/^unsigned char guest_dsdt_aml_code/const unsigned char guest_dsdt_aml_code/' $(BUILD)/gen/guest_dsdt.hex; \
	  echo 'const size_t guest_dsdt_aml_len = sizeof(guest_dsdt_aml_code);'; } >$@

$(BUILD)/k/gen/%.c.o: $(BUILD)/gen/%.c $(NEWLIB)/lib/libc.a
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/k/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(KASFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/keel.elf: $(KOBJS) linker.ld $(NEWLIB)/lib/libc.a
	ld $(KLDFLAGS) -o $@ $(KOBJS) --start-group $(LIBFDT) $(NEWLIB)/lib/libc.a $(LIBGCC) --end-group
	@# keel must never clobber a partition's SSE/AVX state. The one use allowed
	@# is newlib's varargs prologue spilling xmm0-7, which runs only when the
	@# caller passed vector arguments (AL != 0): keel's code never does.
	@if objdump -d $@ | grep -E '%[xyz]mm[0-9]' | grep -vE 'movaps +%xmm[0-7],0x[0-9a-f]+\(%rsp\)$$' | grep -q .; then \
		echo "keel.elf uses SSE registers:"; objdump -d $@ | grep -E '%[xyz]mm[0-9]' | grep -vE 'movaps +%xmm[0-7],0x[0-9a-f]+\(%rsp\)$$' | head; rm -f $@; exit 1; fi

$(BUILD)/%.dtb: %.dts
	@mkdir -p $(dir $@)
	dtc -q -I dts -O dtb -d $@.d -o $@ $<

payloads: $(PAYLOAD)/kernel.env

$(PAYLOAD)/kernel.env: boot/payloads.sh $(shell find boot/initramfs -type f) | deps
	boot/payloads.sh $(PAYLOAD) $(BUILD)/cache
	@# the script leaves unchanged outputs alone: mark the payloads renewed
	@# so that what is built from them (initramfs, images) follows
	touch $@

# keeld, the companion's daemon: static, so that busybox's initramfs runs it
KEELD_SRCS := vhost/keeld/main.c vhost/keeld/lio.c vhost/keeld/vhost.c vhost/keeld/serve.c \
	vhost/keeld/dax.c vhost/keeld/snapshot.c
$(BUILD)/keeld: $(KEELD_SRCS) $(wildcard vhost/keeld/*.h) vhost/keel_abi.h vhost/keel_dev.h | deps
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -static -I. -o $@ $(KEELD_SRCS)

# keelctl, the guest's pause, save, restore and migrate (vhost/keelctl/);
# static like keeld
KEELCTL_SRCS := $(wildcard vhost/keelctl/*.c) vhost/keeld/dax.c \
	vhost/keeld/snapshot.c runtime/handoff_stream.c runtime/crc32c.c
$(BUILD)/keelctl: $(KEELCTL_SRCS) $(wildcard vhost/keelctl/*.h vhost/keeld/*.h) \
		vhost/keel_abi.h vhost/keel_dev.h vhost/keel_state.h \
		runtime/handoff_stream.h runtime/crc32c.h | deps
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -static -I. -o $@ $(KEELCTL_SRCS)

# iobench, make bench's 4 KiB random I/O at a queue depth, run in both
# partitions (tests/bench/iobench.c); static like keeld
$(BUILD)/iobench: tests/bench/iobench.c | deps
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -static -o $@ $<

# the handoff tests' tools in the companion (tests/tools/): a relay that
# corrupts a byte, a stream with another machine's COMPAT
$(BUILD)/flip-relay: tests/tools/flip-relay.c | deps
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -static -o $@ $<
$(BUILD)/stream-edit: tests/tools/stream-edit.c runtime/crc32c.c runtime/crc32c.h \
		runtime/handoff_stream.h vhost/keel_state.h | deps
	$(CC) -std=gnu11 -O2 -g -Wall -Wextra -Werror -static -I. -o $@ $(filter %.c,$^)

COMPANION_TOOLS := $(BUILD)/keeld $(BUILD)/keelctl $(BUILD)/iobench \
	$(BUILD)/flip-relay $(BUILD)/stream-edit

# The companion's initramfs with keel.ko, keeld and the tools appended (the
# kernel unpacks concatenated archives in order)
$(BUILD)/companion-keel.cpio: $(PAYLOAD)/kernel.env $(BUILD)/kmod/keel.ko $(COMPANION_TOOLS)
	rm -rf $@.d && mkdir -p $@.d/lib/modules $@.d/sbin
	cp $(BUILD)/kmod/keel.ko $@.d/lib/modules/keel.ko
	cp $(COMPANION_TOOLS) $@.d/sbin/
	(cd $@.d && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0 --reproducible) >$@.tmp
	cat $(PAYLOAD)/companion.cpio $@.tmp >$@
	rm -rf $@.d $@.tmp

# The partitions' payloads as FILE:NAME pairs (NAME: what configs refer to).
PAYLOAD_MODULES := $(PAYLOAD)/vmlinux:companion.vmlinux \
	$(BUILD)/companion-keel.cpio:companion.cpio \
	$(PAYLOAD)/vmlinux:guest.vmlinux $(BUILD)/guest-io.cpio:guest.cpio

# $(call iso,OUTPUT,KEEL_CMDLINE,CONFIG_DTB,MODULES): a hybrid BIOS/UEFI
# GRUB image holding keel, the configuration and the FILE:NAME modules.
define iso
	rm -rf $@.d && mkdir -p $@.d/boot/grub
	cp $(BUILD)/keel.elf $@.d/boot/keel.elf
	cp $(3) $@.d/boot/config.dtb
	for m in $(4); do cp -u $${m%%:*} $@.d/boot/; done
	{ echo "	module2 /boot/config.dtb config.dtb"; \
	  for m in $(4); do f=$${m%%:*}; \
	    echo "	module2 /boot/$${f##*/} $${m##*:}"; done; } >$@.modules
	sed -e 's|@KEEL_CMDLINE@|$(2)|' -e '/@MODULES@/{r $@.modules' -e 'd}' \
		boot/grub.cfg.in >$@.d/boot/grub/grub.cfg
	rm -f $@.modules
	grub-mkrescue -o $@ $@.d >$@.log 2>&1 || { cat $@.log; exit 1; }
	rm -rf $@.d
endef

ISO_DEPS := $(BUILD)/keel.elf $(BUILD)/$(CONFIG:.dts=.dtb) $(PAYLOAD)/kernel.env \
	$(BUILD)/companion-keel.cpio $(BUILD)/guest-io.cpio boot/grub.cfg.in

image: $(BUILD)/keel.iso
$(BUILD)/keel.iso: $(ISO_DEPS)
	$(call iso,$@,,$(BUILD)/$(CONFIG:.dts=.dtb),$(PAYLOAD_MODULES))

# the same image, told to end the emulator run when keel halts
$(BUILD)/keel-emu.iso: $(ISO_DEPS)
	$(call iso,$@,exit=emulator,$(BUILD)/$(CONFIG:.dts=.dtb),$(PAYLOAD_MODULES))

# make bench: the bench appliance with keel's console stamps
$(BUILD)/bench-emu.iso: $(ISO_DEPS) $(BUILD)/tests/bench/bench.dtb
	$(call iso,$@,exit=emulator stamps=on,$(BUILD)/tests/bench/bench.dtb,$(PAYLOAD_MODULES))

bench: bench-io bench-migrate
bench-io: $(BUILD)/bench-emu.iso $(BUILD)/disk.img
	DISK=$(BUILD)/disk.img tests/bench/run.sh $(BUILD) $(BUILD)/bench-emu.iso $(MODEL)

# make bench's migrations: the guest handed back and forth between two
# Bochs machines, stop-and-copy and pre-copy, idle and under writes
$(BUILD)/bench-migrate-a-emu.iso: $(ISO_DEPS) $(BUILD)/tests/bench/migrate-a.dtb
	$(call iso,$@,exit=emulator,$(BUILD)/tests/bench/migrate-a.dtb,$(PAYLOAD_MODULES))
$(BUILD)/bench-migrate-b-emu.iso: $(ISO_DEPS) $(BUILD)/tests/bench/migrate-b.dtb
	$(call iso,$@,exit=emulator,$(BUILD)/tests/bench/migrate-b.dtb,$(PAYLOAD_MODULES))
bench-migrate: $(BUILD)/bench-migrate-a-emu.iso $(BUILD)/bench-migrate-b-emu.iso $(BUILD)/disk.img
	tests/bench/migrate.sh $(BUILD) $(MODEL)

# the machine's disk, which the companion owns: 16 heads x 63 sectors x 130
# cylinders (a geometry Bochs takes for a flat image), a label in sector 0
DISK_BYTES := 67092480
$(BUILD)/disk.img:
	@mkdir -p $(dir $@)
	truncate -s $(DISK_BYTES) $@.tmp
	printf 'keel disk\n' | dd of=$@.tmp conv=notrunc status=none
	mv $@.tmp $@

run: $(BUILD)/keel-emu.iso $(BUILD)/disk.img
	DISK=$(BUILD)/disk.img tools/emu-run.sh $(EMU) $(BUILD)/keel-emu.iso $(BUILD)/run $(MODEL) $(CPUS)

$(BUILD)/unit/test_%: tests/unit/test_%.c $$(unit_srcs_$$*) | deps
	@mkdir -p $(dir $@)
	$(CC) $(HOSTCFLAGS) -o $@ $(filter %.c,$^) -lcmocka $(unit_libs_$*)

$(BUILD)/unit/configs/%.dtb: tests/unit/configs/%.dts
	@mkdir -p $(dir $@)
	dtc -q -I dts -O dtb -d $@.d -o $@ $<

unit: $(UNIT_BINS) $(UNIT_DTBS)
	tests/run.sh unit $(BUILD)

# the older-CPU test boots the companion from Debian's bzImage
BZ_DTB := $(BUILD)/tests/system/configs/bzimage-companion.dtb
$(BUILD)/bzimage-emu.iso: $(ISO_DEPS) $(BZ_DTB)
	$(call iso,$@,exit=emulator,$(BZ_DTB),$(PAYLOAD)/vmlinuz:companion.bzImage \
		$(filter-out %:companion.vmlinux,$(PAYLOAD_MODULES)))

# keeld stopped and started again under the guest's I/O
RESTART_DTB := $(BUILD)/tests/system/configs/keeld-restart.dtb
$(BUILD)/keeld-restart-emu.iso: $(ISO_DEPS) $(RESTART_DTB)
	$(call iso,$@,exit=emulator,$(RESTART_DTB),$(PAYLOAD_MODULES))

# three local handoffs of the guest under I/O
HANDOFF_DTB := $(BUILD)/tests/system/configs/handoff.dtb
$(BUILD)/handoff-emu.iso: $(ISO_DEPS) $(HANDOFF_DTB)
	$(call iso,$@,exit=emulator,$(HANDOFF_DTB),$(PAYLOAD_MODULES))

# the guest migrated between two keel machines under its journal
MIGRATE_SOURCE_DTB := $(BUILD)/tests/system/configs/migrate-source.dtb
MIGRATE_TARGET_DTB := $(BUILD)/tests/system/configs/migrate-target.dtb
$(BUILD)/migrate-source-emu.iso: $(ISO_DEPS) $(MIGRATE_SOURCE_DTB)
	$(call iso,$@,exit=emulator,$(MIGRATE_SOURCE_DTB),$(PAYLOAD_MODULES))
$(BUILD)/migrate-target-emu.iso: $(ISO_DEPS) $(MIGRATE_TARGET_DTB)
	$(call iso,$@,exit=emulator,$(MIGRATE_TARGET_DTB),$(PAYLOAD_MODULES))

# images the system tests boot (tests/guest/guest.mk adds the probe's)
SYSTEM_IMAGES := $(BUILD)/keel-emu.iso $(BUILD)/bzimage-emu.iso \
	$(BUILD)/keeld-restart-emu.iso $(BUILD)/handoff-emu.iso \
	$(BUILD)/migrate-source-emu.iso $(BUILD)/migrate-target-emu.iso

# keel.ko, against the payload kernel's Debian headers (vhost/kmod/README.md);
# tests/system/qemu-keel-ko.sh loads it in the companion's kernel
kmod: $(BUILD)/kmod/keel.ko
$(BUILD)/kmod/keel.ko: tools/build-kmod.sh tools/apt.bash $(PAYLOAD)/kernel.env vhost/keel_abi.h vhost/keel_dev.h vhost/keel_state.h $(wildcard vhost/kmod/*) | deps
	tools/build-kmod.sh $(PAYLOAD) $(BUILD)/kmod $(BUILD)/cache
SYSTEM_IMAGES += $(BUILD)/kmod/keel.ko

system: $$(SYSTEM_IMAGES) $(BUILD)/keel.elf $(BUILD)/disk.img
	tests/run.sh system $(BUILD)

check: $(UNIT_BINS) $(UNIT_DTBS) $$(SYSTEM_IMAGES) $(BUILD)/keel.elf $(BUILD)/disk.img
	tests/run.sh all $(BUILD)

clean:
	rm -rf $(BUILD)/k $(BUILD)/gen $(BUILD)/unit $(BUILD)/guest $(BUILD)/tests \
		$(BUILD)/*.elf $(BUILD)/*.iso $(BUILD)/configs $(BUILD)/run \
		$(BUILD)/system $(BUILD)/bench $(BUILD)/bench-migrate $(BUILD)/test-logs \
		$(BUILD)/kmod $(BUILD)/companion-keel.cpio $(BUILD)/diskcheck $(BUILD)/guest-io.cpio \
		$(COMPANION_TOOLS)

distclean:
	rm -rf $(BUILD)

-include $(KOBJS:.o=.d) $(UNIT_DTBS:=.d) $(BUILD)/$(CONFIG:.dts=.dtb).d

# probe guests (bare-metal programs run as the guest by the isolation tests)
-include tests/guest/guest.mk
# the guest's disk workload: diskcheck, build/guest-io.cpio
-include tests/guest-io/guest-io.mk
# libFuzzer targets: make fuzz, make fuzz-corpus
-include tests/fuzz/fuzz.mk
