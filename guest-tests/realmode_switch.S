/* SPDX-License-Identifier: MIT */
/*
 * rm_call: from 32-bit protected mode down to real mode and back, as a
 * real-mode test guest does.  Via a 16-bit code segment, CR0.PE off and a
 * far jump to segment 0 (the image lies below 64 KiB), with the IVT at 0 as
 * the IDT; then rm_checks runs in real mode and the way back is CR0.PE on
 * and a far jump to the 32-bit code selector.  Returns rm_checks' bit mask.
 */
#define COM1		0x3f8
#define RM_VECTOR	0x40

	.text
	.code32
	.globl rm_call
rm_call:
	push	%ebp
	push	%ebx
	push	%esi
	push	%edi
	pushf
	cli
	sidt	saved_idt
	sgdt	saved_gdt
	lgdt	rm_gdt_desc
	ljmp	$0x18, $1f			/* 16-bit code, base 0, limit 64 KiB */
	.code16
1:	mov	$0x20, %ax			/* 16-bit data */
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	%cr0, %eax
	and	$~1, %eax
	mov	%eax, %cr0
	ljmp	$0, $2f
2:	xor	%ax, %ax			/* real mode: segment 0 */
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	lidt	rm_ivt_desc
	call	rm_checks
	mov	%ax, rm_result
	cli
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmpl	$0x08, $3f
	.code32
3:	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	lgdt	saved_gdt
	lidt	saved_idt
	popf
	pop	%edi
	pop	%esi
	pop	%ebx
	pop	%ebp
	movzwl	rm_result, %eax
	ret

/* Real mode.  Returns in %ax a bit per check that passed (see realmode.c). */
	.code16
rm_checks:
	xor	%bx, %bx
	/* bit 0: CR0.PE is clear */
	smsw	%ax
	test	$1, %ax
	jnz	1f
	or	$1, %bx
1:	/* bit 1: COM1 works from real mode */
	mov	$rm_msg, %si
2:	mov	(%si), %cl
	test	%cl, %cl
	jz	4f
	mov	$COM1 + 5, %dx
3:	in	%dx, %al
	test	$0x20, %al
	jz	3b
	mov	$COM1, %dx
	mov	%cl, %al
	out	%al, %dx
	inc	%si
	jmp	2b
4:	or	$2, %bx
	/* bit 2: a software interrupt through the real-mode IVT */
	movw	$rm_isr, RM_VECTOR * 4
	movw	$0, RM_VECTOR * 4 + 2
	movw	$0, rm_flag
	int	$RM_VECTOR
	cmpw	$0x1234, rm_flag
	jne	5f
	or	$4, %bx
5:	/* bit 3: segment base = selector << 4 (0x0800:x is 0x8000 + x) */
	mov	$0x0800, %ax
	mov	%ax, %es
	mov	$rm_pattern - 0x8000, %di
	mov	%es:(%di), %ax
	cmp	rm_pattern, %ax
	jne	6f
	cmp	$0x5aa5, %ax
	jne	6f
	or	$8, %bx
6:	xor	%ax, %ax
	mov	%ax, %es
	/* bit 4: push and pop are 16 bits wide */
	mov	%sp, %cx
	push	%ax
	sub	%sp, %cx
	pop	%ax
	cmp	$2, %cx
	jne	7f
	or	$16, %bx
7:	mov	%bx, %ax
	ret

rm_isr:
	movw	$0x1234, %cs:rm_flag
	iret

	.data
	.align 8
rm_gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: code, flat 4 GiB, 32-bit */
	.quad 0x00cf92000000ffff	/* 0x10: data, flat 4 GiB */
	.quad 0x00009a000000ffff	/* 0x18: code, 64 KiB, 16-bit */
	.quad 0x000092000000ffff	/* 0x20: data, 64 KiB, 16-bit */
rm_gdt_end:
rm_gdt_desc:
	.word rm_gdt_end - rm_gdt - 1
	.long rm_gdt
rm_ivt_desc:
	.word 0x3ff
	.long 0
saved_gdt:
	.word 0
	.long 0
saved_idt:
	.word 0
	.long 0
rm_result:
	.word 0
rm_flag:
	.word 0
rm_pattern:
	.word 0x5aa5
rm_msg:
	.asciz "real mode: COM1 from 16-bit code\n"
