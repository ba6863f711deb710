/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Application-processor start code. smp.c copies it to a free page below
 * 1 MiB and patches the parameter block at its end; the SIPI starts the AP
 * in real mode at that page (CS = page >> 4, IP = 0). It goes through 32-bit
 * protected mode into long mode on keel's page tables and jumps to
 * ap_entry64 with RDI = its struct percpu. Every address it uses is
 * relative to the page, found from CS at run time.
 */
#include "arch-x86_64/asm.h"

#define TRAMP_CS32 0x18

	.section .rodata
	.align 16
	.global trampoline_start, trampoline_end, trampoline_params
	.code16
trampoline_start:
	cli
	cld
	mov	%cs, %ax
	mov	%ax, %ds
	movzwl	%ax, %ebx
	shl	$4, %ebx			/* ebx = page base, kept throughout */

	/* patch the page base into the GDT pointer and the far jumps */
	lea	(tramp_gdt - trampoline_start)(%ebx), %eax
	mov	%eax, (tramp_gdtr - trampoline_start + 2)
	lea	(tramp_pm32 - trampoline_start)(%ebx), %eax
	mov	%eax, (tramp_pm32_ptr - trampoline_start)
	lea	(tramp_lm64 - trampoline_start)(%ebx), %eax
	mov	%eax, (tramp_lm64_ptr - trampoline_start)

	lgdtl	(tramp_gdtr - trampoline_start)
	mov	%cr0, %eax
	or	$CR0_PE, %eax
	mov	%eax, %cr0
	ljmpl	*(tramp_pm32_ptr - trampoline_start)

	.code32
tramp_pm32:
	mov	$BOOT_DS, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%cr4, %eax
	or	$CR4_PAE, %eax
	mov	%eax, %cr4
	mov	(tramp_cr3 - trampoline_start)(%ebx), %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$EFER_LME, %eax
	wrmsr
	mov	%cr0, %eax
	and	$~(CR0_CD | CR0_NW), %eax	/* INIT left caches off */
	or	$CR0_PG, %eax
	mov	%eax, %cr0
	ljmp	*(tramp_lm64_ptr - trampoline_start)(%ebx)

	.code64
tramp_lm64:
	mov	tramp_stack(%rip), %rsp
	mov	tramp_percpu(%rip), %rdi
	jmp	*tramp_entry(%rip)

	.align 8
tramp_gdt:
	.quad	0
	.quad	GDT_CODE64		/* BOOT_CS */
	.quad	GDT_DATA		/* BOOT_DS */
	.quad	GDT_CODE32		/* TRAMP_CS32 */
tramp_gdtr:
	.short	tramp_gdtr - tramp_gdt - 1
	.long	0
	.align 4
tramp_pm32_ptr:
	.long	0
	.short	TRAMP_CS32
	.align 4
tramp_lm64_ptr:
	.long	0
	.short	BOOT_CS

	/* filled by smp.c: struct trampoline_params */
	.align 8
trampoline_params:
tramp_cr3:
	.quad	0
tramp_stack:
	.quad	0
tramp_percpu:
	.quad	0
tramp_entry:
	.quad	0
trampoline_end:

	.text
	/* rdi = struct percpu: set the FS base before any C runs */
	.global ap_entry64
ap_entry64:
	mov	%rdi, %rax
	mov	%rdi, %rdx
	shr	$32, %rdx
	mov	$MSR_FS_BASE, %ecx
	wrmsr
	call	ap_main
1:	cli
	hlt
	jmp	1b
