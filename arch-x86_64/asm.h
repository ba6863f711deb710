/* SPDX-License-Identifier: GPL-2.0 */
/* Constants shared by assembly and C. */
#ifndef KEEL_ARCH_ASM_H
#define KEEL_ARCH_ASM_H

#define PTE_P (1 << 0)
#define PTE_W (1 << 1)
#define PTE_PWT (1 << 3)
#define PTE_PCD (1 << 4)
#define PTE_PS (1 << 7)

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_NE (1 << 5)
#define CR0_WP (1 << 16)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define CR4_VMXE (1 << 13)

#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define MSR_FS_BASE 0xC0000100
#define MSR_GS_BASE 0xC0000101

/* flat descriptors: 64-bit code, 32-bit code, data */
#define GDT_CODE64 0x00AF9A000000FFFF
#define GDT_CODE32 0x00CF9A000000FFFF
#define GDT_DATA 0x00CF92000000FFFF

#define BOOT_CS 0x08
#define BOOT_DS 0x10

#define BOOT_STACK_SIZE 16384
#define PERCPU_CANARY 0x28
#define VCPU_LAUNCHED 152 /* offsetof(struct vcpu, launched) */

#endif
