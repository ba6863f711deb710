/* SPDX-License-Identifier: GPL-2.0 */
/* Constants shared by assembly and C (plain hex: a shifted int would
 * sign-extend in C and GAS takes no 'u' suffix). */
#ifndef KEEL_ARCH_ASM_H
#define KEEL_ARCH_ASM_H

#define PTE_P 0x1
#define PTE_W 0x2
#define PTE_PWT 0x8
#define PTE_PCD 0x10
#define PTE_PS 0x80

#define CR0_PE 0x1
#define CR0_MP 0x2
#define CR0_EM 0x4
#define CR0_NE 0x20
#define CR0_WP 0x10000
#define CR0_NW 0x20000000
#define CR0_CD 0x40000000
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define CR4_OSFXSR 0x200
#define CR4_OSXMMEXCPT 0x400
#define CR4_VMXE 0x2000

#define MSR_EFER 0xC0000080
#define EFER_LME 0x100
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
