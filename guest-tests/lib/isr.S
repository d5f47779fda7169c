/* SPDX-License-Identifier: MIT */
/* Interrupt entry stubs for vectors 0-63: a uniform frame, then irq_dispatch(). */

	.altmacro
	.text
	.code32

	.section .rodata
	.align 4
	.globl isr_stubs
isr_stubs:
	.text

.macro STUB vec
isr_\vec:
	.if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17)
	.else
	push	$0			/* no error code */
	.endif
	push	$\vec
	jmp	isr_common
	.pushsection .rodata
	.long	isr_\vec
	.popsection
.endm

	.set i, 0
	.rept 64
	STUB %i
	.set i, i + 1
	.endr

/*
 * Return with popf + lret instead of iret: the PVM /dev/kvm on the dev hosts
 * runs every instruction through KVM's emulator, which implements IRET only
 * in real mode.  Same privilege level, so the two are equivalent here; an
 * interrupt that comes between popf and lret just nests on this stack.
 */
isr_common:
	pusha
	push	%esp			/* struct irq_frame * */
	call	irq_dispatch
	add	$4, %esp
	/* EIP, CS, EFLAGS (at 40, 44, 48 after pusha) -> EFLAGS, EIP, CS */
	mov	40(%esp), %eax
	mov	44(%esp), %ebx
	mov	48(%esp), %ecx
	mov	%ecx, 40(%esp)
	mov	%eax, 44(%esp)
	mov	%ebx, 48(%esp)
	popa
	add	$8, %esp		/* vector, error code */
	popf
	lret
