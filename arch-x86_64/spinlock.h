/* SPDX-License-Identifier: GPL-2.0 */
#ifndef KEEL_ARCH_SPINLOCK_H
#define KEEL_ARCH_SPINLOCK_H

#include "arch-x86_64/cpu.h"

struct spinlock {
	volatile int locked;
};

static inline void spin_lock(struct spinlock *l)
{
	while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
		while (__atomic_load_n(&l->locked, __ATOMIC_RELAXED))
			cpu_relax();
}

static inline void spin_unlock(struct spinlock *l)
{
	__atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

#endif
