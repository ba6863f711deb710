/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Entering and leaving a partition. vmx_enter(vcpu) loads the guest's
 * general registers from vcpu->regs and runs VMLAUNCH or VMRESUME; a VM exit
 * lands on vmx_exit (HOST_RIP) with the stack vmx_enter left (HOST_RSP),
 * stores the guest's registers back and returns 0 from vmx_enter. A failed
 * VM entry returns 1 (the VMCS says why).
 */
#include "arch-x86_64/asm.h"

#define HOST_RSP_FIELD 0x6C14
#define REG(n) (8 * (n))

	.text
	.global vmx_enter, vmx_exit
vmx_enter:
	push	%rbp
	mov	%rsp, %rbp
	push	%rbx
	push	%r12
	push	%r13
	push	%r14
	push	%r15
	push	%rdi
	mov	$HOST_RSP_FIELD, %rax
	vmwrite	%rsp, %rax
	jbe	2f

	movzbl	VCPU_LAUNCHED(%rdi), %eax
	mov	%eax, %ebx		/* flags survive the loads below */
	mov	REG(1)(%rdi), %rcx
	mov	REG(2)(%rdi), %rdx
	mov	REG(5)(%rdi), %rbp
	mov	REG(6)(%rdi), %rsi
	mov	REG(8)(%rdi), %r8
	mov	REG(9)(%rdi), %r9
	mov	REG(10)(%rdi), %r10
	mov	REG(11)(%rdi), %r11
	mov	REG(12)(%rdi), %r12
	mov	REG(13)(%rdi), %r13
	mov	REG(14)(%rdi), %r14
	mov	REG(15)(%rdi), %r15
	mov	REG(0)(%rdi), %rax
	test	%ebx, %ebx
	mov	REG(3)(%rdi), %rbx
	mov	REG(7)(%rdi), %rdi
	jnz	1f
	vmlaunch
	jmp	2f
1:	vmresume
2:	/* VM entry failed: rsp still points at the saved vcpu pointer */
	pop	%rdi
	mov	$1, %eax
	jmp	3f

vmx_exit:
	push	%rax
	mov	8(%rsp), %rax		/* the vcpu */
	mov	%rcx, REG(1)(%rax)
	mov	%rdx, REG(2)(%rax)
	mov	%rbx, REG(3)(%rax)
	mov	%rbp, REG(5)(%rax)
	mov	%rsi, REG(6)(%rax)
	mov	%rdi, REG(7)(%rax)
	mov	%r8, REG(8)(%rax)
	mov	%r9, REG(9)(%rax)
	mov	%r10, REG(10)(%rax)
	mov	%r11, REG(11)(%rax)
	mov	%r12, REG(12)(%rax)
	mov	%r13, REG(13)(%rax)
	mov	%r14, REG(14)(%rax)
	mov	%r15, REG(15)(%rax)
	pop	%rcx
	mov	%rcx, REG(0)(%rax)
	pop	%rdi
	xor	%eax, %eax
3:	pop	%r15
	pop	%r14
	pop	%r13
	pop	%r12
	pop	%rbx
	pop	%rbp
	ret
