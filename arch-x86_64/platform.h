/* SPDX-License-Identifier: GPL-2.0 */
/* Leaving an emulator: Bochs' shutdown port and QEMU's isa-debug-exit. */
#ifndef KEEL_ARCH_PLATFORM_H
#define KEEL_ARCH_PLATFORM_H

#define QEMU_DEBUG_EXIT_PORT 0xF4

/* Ends the emulator run; returns only on a machine that has neither
 * device. Only called when keel was told it runs in an emulator. */
void platform_emulator_exit(void);

#endif
