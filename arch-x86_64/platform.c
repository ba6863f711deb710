// SPDX-License-Identifier: GPL-2.0
#include "arch-x86_64/platform.h"
#include "arch-x86_64/cpu.h"

#define BOCHS_SHUTDOWN_PORT 0x8900

void platform_emulator_exit(void)
{
	static const char shutdown[] = "Shutdown";

	for (const char *p = shutdown; *p; p++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*p);
	outb(QEMU_DEBUG_EXIT_PORT, 0);
}
