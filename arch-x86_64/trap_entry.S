/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Exception entry stubs: each pushes a dummy error code where the CPU pushes
 * none, then its vector, and joins trap_common, which saves every general
 * register into a struct trap_frame and calls trap_handler().
 */
	.text

.macro TRAP_NOERR vec
	.align 16
	push	$0
	push	$\vec
	jmp	trap_common
.endm

.macro TRAP_ERR vec
	.align 16
	push	$\vec
	jmp	trap_common
.endm

	.align 16
	.global trap_stubs
trap_stubs:
	TRAP_NOERR 0
	TRAP_NOERR 1
	TRAP_NOERR 2
	TRAP_NOERR 3
	TRAP_NOERR 4
	TRAP_NOERR 5
	TRAP_NOERR 6
	TRAP_NOERR 7
	TRAP_ERR 8
	TRAP_NOERR 9
	TRAP_ERR 10
	TRAP_ERR 11
	TRAP_ERR 12
	TRAP_ERR 13
	TRAP_ERR 14
	TRAP_NOERR 15
	TRAP_NOERR 16
	TRAP_ERR 17
	TRAP_NOERR 18
	TRAP_NOERR 19
	TRAP_NOERR 20
	TRAP_ERR 21
	TRAP_NOERR 22
	TRAP_NOERR 23
	TRAP_NOERR 24
	TRAP_NOERR 25
	TRAP_NOERR 26
	TRAP_NOERR 27
	TRAP_NOERR 28
	TRAP_ERR 29
	TRAP_ERR 30
	TRAP_NOERR 31

trap_common:
	push	%rax
	push	%rbx
	push	%rcx
	push	%rdx
	push	%rsi
	push	%rdi
	push	%rbp
	push	%r8
	push	%r9
	push	%r10
	push	%r11
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	mov	%rsp, %rdi
	/* align for the C call; the frame pointer chain stays intact */
	mov	%rsp, %rbx
	and	$-16, %rsp
	call	trap_handler
	mov	%rbx, %rsp
	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%r11
	pop	%r10
	pop	%r9
	pop	%r8
	pop	%rbp
	pop	%rdi
	pop	%rsi
	pop	%rdx
	pop	%rcx
	pop	%rbx
	pop	%rax
	add	$16, %rsp
	iretq
