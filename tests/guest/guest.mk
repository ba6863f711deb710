# Probe guests: bare-metal programs keel boots as its guest instead of Linux
# (tests/guest/README.md), and the image tests/system/bochs-isolation.sh
# boots. Included at the end of the Makefile.

PROBE_CFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
	-ffreestanding -nostdlib -mno-red-zone -fno-pic -fno-pie \
	-mgeneral-regs-only -fno-stack-protector -mcmodel=small \
	-fno-asynchronous-unwind-tables
PROBE_LDFLAGS := -nostdlib -static -z max-page-size=0x1000 -z noexecstack \
	--no-warn-rwx-segments -T tests/guest/probe.ld
PROBE_OBJS := $(BUILD)/guest/probe_entry.S.o $(BUILD)/guest/probe.c.o
PROBE_DTB := $(BUILD)/tests/system/configs/probe.dtb

$(BUILD)/guest/%.c.o: tests/guest/%.c
	@mkdir -p $(dir $@)
	$(CC) $(PROBE_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/guest/%.S.o: tests/guest/%.S
	@mkdir -p $(dir $@)
	$(CC) -D__ASSEMBLY__ -MMD -MP -c $< -o $@

$(BUILD)/guest/probe.elf: $(PROBE_OBJS) tests/guest/probe.ld
	ld $(PROBE_LDFLAGS) -o $@ $(PROBE_OBJS)

# the companion as usual, the probe as the guest's kernel
$(BUILD)/probe-emu.iso: $(BUILD)/keel.elf $(PAYLOAD)/kernel.env $(BUILD)/companion-keel.cpio boot/grub.cfg.in \
		$(PROBE_DTB) $(BUILD)/guest/probe.elf
	$(call iso,$@,exit=emulator,$(PROBE_DTB),$(PAYLOAD)/vmlinux:companion.vmlinux $(BUILD)/companion-keel.cpio:companion.cpio $(BUILD)/guest/probe.elf:probe.elf)

SYSTEM_IMAGES += $(BUILD)/probe-emu.iso

-include $(PROBE_OBJS:.o=.d) $(PROBE_DTB).d
