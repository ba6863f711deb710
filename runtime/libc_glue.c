// SPDX-License-Identifier: GPL-2.0
/*
 * What newlib and the stack protector need from the platform. keel has no
 * heap: sbrk always fails, so a stray malloc() returns NULL instead of
 * taking memory nobody accounted for.
 */
#include <errno.h>
#include <stdint.h>

#include "runtime/halt.h"

void *sbrk(intptr_t increment);
_Noreturn void __stack_chk_fail(void);

void *sbrk(intptr_t increment)
{
	(void)increment;
	errno = ENOMEM;
	return (void *)-1;
}

_Noreturn void __stack_chk_fail(void)
{
	keel_halt("stack smashing detected (canary at %fs:0x28 changed)");
}
