/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stopping keel. On hardware the CPU halts and the console keeps the last
 * words; with "exit=emulator" on keel's command line the emulator run ends
 * too, so that test runs finish by themselves.
 */
#ifndef KEEL_RUNTIME_HALT_H
#define KEEL_RUNTIME_HALT_H

#include <stdbool.h>

void halt_set_emulator_exit(bool on);
_Noreturn void keel_halt(const char *reason);

#endif
