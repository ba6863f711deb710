// SPDX-License-Identifier: GPL-2.0
#include <stdio.h>

#include "arch-x86_64/cpu.h"
#include "arch-x86_64/platform.h"
#include "runtime/halt.h"

static bool emulator_exit;

void halt_set_emulator_exit(bool on)
{
	emulator_exit = on;
}

_Noreturn void keel_halt(const char *reason)
{
	printf("keel: halted: %s\n", reason);
	if (emulator_exit)
		platform_emulator_exit();
	cpu_halt_forever();
}
