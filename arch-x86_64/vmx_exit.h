/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KEEL_ARCH_VMX_EXIT_H
#define KEEL_ARCH_VMX_EXIT_H

#include "arch-x86_64/vcpu.h"

/* Dispatches the current VM exit through the exit table, counting it. */
void vmx_handle_exit(struct vcpu *v);

#endif
