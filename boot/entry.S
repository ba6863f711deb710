/* SPDX-License-Identifier: GPL-2.0 */
/*
 * keel's first instructions: the Multiboot1 and Multiboot2 headers, the
 * 32-bit entry both loaders jump to, the switch to long mode with the first
 * 4 GiB identity-mapped by 2 MiB pages, and the jump to keel_main().
 */
#include "arch-x86_64/asm.h"

#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS ((1 << 0) | (1 << 1) | (1 << 16)) /* align, mmap, a.out kludge */
#define MB2_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0

	.section .multiboot, "a"
	.align 4
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long mb1_header		/* header_addr */
	.long __image_start		/* load_addr */
	.long __data_end		/* load_end_addr */
	.long __image_end		/* bss_end_addr */
	.long entry32			/* entry_addr */

	.align 8
mb2_header:
	.long MB2_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	/* module alignment tag: page-align modules */
	.short 6, 0
	.long 8
	/* end tag */
	.short 0, 0
	.long 8
mb2_header_end:

	.section .text.entry, "ax"
	.code32
	.global entry32
entry32:
	cli
	cld
	mov	%eax, %edi		/* loader magic, kept for keel_main */
	mov	%ebx, %esi		/* loader info structure */
	mov	$boot_stack_top, %esp

	/* long mode present? CPUID 0x80000001:EDX bit 29 */
	mov	$0x80000000, %eax
	cpuid
	cmp	$0x80000001, %eax
	jb	no_long_mode
	mov	$0x80000001, %eax
	cpuid
	bt	$29, %edx
	jnc	no_long_mode

	/* PML4[0] -> PDPT, PDPT[0..3] -> PD0..3, 2048 x 2 MiB identity pages */
	mov	$boot_pdpt, %eax
	or	$(PTE_P | PTE_W), %eax
	mov	%eax, boot_pml4

	xor	%ecx, %ecx
1:	mov	%ecx, %eax
	shl	$12, %eax
	add	$boot_pd, %eax
	or	$(PTE_P | PTE_W), %eax
	mov	%eax, boot_pdpt(, %ecx, 8)
	inc	%ecx
	cmp	$4, %ecx
	jne	1b

	xor	%ecx, %ecx
2:	mov	%ecx, %eax
	shl	$21, %eax
	or	$(PTE_P | PTE_W | PTE_PS), %eax
	/* the top 32 MiB (LAPIC, IOAPIC, firmware flash) stay uncached */
	cmp	$(2048 - 16), %ecx
	jb	3f
	or	$(PTE_PWT | PTE_PCD), %eax
3:	mov	%eax, boot_pd(, %ecx, 8)
	inc	%ecx
	cmp	$2048, %ecx
	jne	2b

	mov	$boot_pml4, %eax
	mov	%eax, %cr3
	mov	%cr4, %eax
	or	$(CR4_PAE), %eax
	mov	%eax, %cr4
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$(EFER_LME), %eax
	wrmsr
	/* caches on: firmware (Bochs' BIOS) may leave CD and NW set, and VM
	 * entry never changes them, so a partition would inherit them */
	mov	%cr0, %eax
	and	$~(CR0_CD | CR0_NW), %eax
	or	$(CR0_PG | CR0_PE), %eax
	mov	%eax, %cr0

	lgdt	boot_gdtr
	ljmp	$BOOT_CS, $entry64

no_long_mode:
	mov	$no_lm_msg, %ebx
1:	movb	(%ebx), %al
	test	%al, %al
	jz	2f
	mov	$0x3F8, %dx
	outb	%al, %dx
	inc	%ebx
	jmp	1b
2:	hlt
	jmp	2b

	.code64
entry64:
	mov	$BOOT_DS, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	xor	%eax, %eax
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$boot_stack_top, %rsp

	/* FS base = CPU 0's per-CPU area, whose stack canary gcc reads at %fs:0x28 */
	mov	$percpu, %rbx
	mov	%rbx, (%rbx)		/* percpu[0].self */
	mov	%rbx, %rax
	mov	%rbx, %rdx
	shr	$32, %rdx
	mov	$MSR_FS_BASE, %ecx
	wrmsr
	rdtsc
	shl	$32, %rdx
	or	%rdx, %rax
	rol	$17, %rax
	xor	%rbx, %rax
	mov	%rax, PERCPU_CANARY(%rbx)

	/* edi = magic, esi = info (zero-extended by the 32-bit moves above) */
	mov	%edi, %edi
	mov	%esi, %esi
	call	keel_main
1:	cli
	hlt
	jmp	1b

	.section .rodata
no_lm_msg:
	.asciz	"keel: fatal: this CPU has no 64-bit long mode\r\n"

	.align 8
boot_gdt:
	.quad	0
	.quad	GDT_CODE64		/* BOOT_CS 0x08 */
	.quad	GDT_DATA		/* BOOT_DS 0x10 */
boot_gdt_end:
boot_gdtr:
	.short	boot_gdt_end - boot_gdt - 1
	.quad	boot_gdt

	.section .bss.page_aligned, "aw", @nobits
	.align 4096
	.global boot_pml4
boot_pml4:
	.skip	4096
boot_pdpt:
	.skip	4096
boot_pd:
	.skip	4 * 4096
boot_stack:
	.skip	BOOT_STACK_SIZE
	.global boot_stack_top
boot_stack_top:
