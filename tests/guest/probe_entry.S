/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The probe's entry and its CPU tables. keel starts the guest at the PVH
 * entry in 32-bit protected mode, paging off, EBX = the physical address of
 * struct hvm_start_info. The 32-bit part only switches to long mode with
 * tables assembled here: a GDT, and 1:1 page tables for the first 4 GiB in
 * 2 MiB pages (RAM, the refused addresses the probe tries, the I/O APIC and
 * xAPIC pages). Then probe_main(start_info) in C.
 *
 * Also here: the 256 exception and interrupt stubs (probe.c's trap() does
 * the work) and the final triple fault.
 */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define CR0_PE 0x00000001
#define CR0_PG 0x80000000
#define CR4_PAE (1 << 5)
#define SEL_CODE64 0x08
#define SEL_DATA 0x10
#define PTE_P_RW 0x003
#define PDE_2M 0x083		/* present, writable, 2 MiB page */
#define PDE_2M_UC 0x09b		/* ... and uncached (PCD, PWT) */
#define STACK_SIZE 16384

	.section .note.pvh, "a"
	.balign 4
	.long 4			/* name size: "Xen\0" */
	.long 4			/* descriptor size */
	.long XEN_ELFNOTE_PHYS32_ENTRY
	.asciz "Xen"
	.long pvh_start

	.section .text.entry, "ax"
	.code32
	.globl pvh_start
pvh_start:
	cld
	/* what keel handed over, for probe.c to check */
	mov %cr0, %eax
	mov %eax, entry_cr0
	mov $MSR_EFER, %ecx
	rdmsr
	mov %eax, entry_efer

	lgdt gdt_desc
	mov %cr4, %eax
	or $CR4_PAE, %eax
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $EFER_LME, %eax
	wrmsr
	/* PG | PE, NE left as it is: the path Linux's PVH entry takes */
	mov %cr0, %eax
	or $(CR0_PG | CR0_PE), %eax
	mov %eax, %cr0
	ljmp $SEL_CODE64, $start64

	.code64
start64:
	mov $SEL_DATA, %eax
	movl %eax, %ds
	movl %eax, %es
	movl %eax, %ss
	movl %eax, %fs
	movl %eax, %gs
	lea stack_top(%rip), %rsp
	mov %ebx, %edi		/* zero-extends: the upper half is undefined */
	call probe_main
1:	jmp 1b

/*
 * One 16-byte stub per vector: a dummy error code where the CPU pushes none,
 * the vector, then the common path. probe.c builds the IDT from
 * trap_stubs + 16 * vector.
 */
	.text
	.balign 16
	.globl trap_stubs
trap_stubs:
	.set vec, 0
	.rept 256
	.balign 16
	.if !(vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 || vec == 30)
	pushq $0
	.endif
	pushq $vec
	jmp trap_common
	.set vec, vec + 1
	.endr

/* struct trap_frame in probe.c: these registers, vector, error, CPU frame */
trap_common:
	push %rax
	push %rbx
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %rbp
	push %r8
	push %r9
	push %r10
	push %r11
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, %rdi		/* 16-byte aligned: the CPU aligned its frame */
	cld
	call trap
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rbp
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rbx
	pop %rax
	add $16, %rsp		/* vector, error code */
	iretq

/*
 * The probe's last act: with an empty IDT, #UD cannot be delivered (#GP),
 * nor can the #GP (#DF), nor the #DF: the CPU shuts down, and keel must stop
 * the guest. probe_triple_fault_insn is the instruction keel should report.
 */
	.globl probe_triple_fault, probe_triple_fault_insn
probe_triple_fault:
	cli
	lidt no_idt(%rip)
probe_triple_fault_insn:
	ud2
	jmp probe_triple_fault_insn

	.section .rodata
	.balign 8
no_idt:
	.word 0
	.quad 0

	.section .data.pagetables, "aw"
	.balign 4096
pml4:
	.quad pdpt + PTE_P_RW
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + PTE_P_RW
	.quad pd + 0x1000 + PTE_P_RW
	.quad pd + 0x2000 + PTE_P_RW
	.quad pd + 0x3000 + PTE_P_RW
	.fill 508, 8, 0		/* 4 GiB and up: not present (the #PF probe) */
pd:
	/* 0-3 GiB write-back; 3-4 GiB, where MMIO lives, uncached */
	.set addr, 0
	.rept 4 * 512
	.if addr >= 0xC0000000
	.quad addr + PDE_2M_UC
	.else
	.quad addr + PDE_2M
	.endif
	.set addr, addr + 0x200000
	.endr

	.data
	.balign 8
gdt:
	.quad 0
	.quad 0x00af9b000000ffff	/* SEL_CODE64: 64-bit code, accessed */
	.quad 0x00cf93000000ffff	/* SEL_DATA: flat data, accessed */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.globl entry_cr0, entry_efer
	.balign 4
entry_cr0:
	.long 0
entry_efer:
	.long 0

	.bss
	.balign 16
stack:
	.skip STACK_SIZE
stack_top:

	.section .note.GNU-stack, "", @progbits
