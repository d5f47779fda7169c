/* SPDX-License-Identifier: MIT */
/*
 * AP start-up.  tramp_start..tramp_end is copied below 1 MiB by smp.c and
 * runs in real mode at CS:IP = (vector << 8):0000 after SIPI; it must not
 * depend on where it was linked.  tramp_base is patched with the copy's
 * linear address before the copy is made.
 */
#define MAX_CPUS 16

	.text
	.code16
	.globl tramp_start, tramp_end, tramp_gdt_desc
tramp_start:
	cli
	cld
	mov	%cs, %ax
	mov	%ax, %ds
	/* the GDT descriptor sits inside this page: DS-relative offset */
	lgdtl	(tramp_gdt_desc - tramp_start)
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	/* ljmpl $0x08, $ap_entry32: absolute, so position independent */
	.byte	0x66, 0xea
	.long	ap_entry32
	.word	0x08
	.align 4
tramp_gdt_desc:
	.word	0		/* limit, filled by smp.c */
	.long	0		/* base, filled by smp.c */
tramp_end:

	.code32
ap_entry32:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$1, %eax
	lock xadd %eax, ap_slot		/* eax = this AP's slot */
	cmp	$MAX_CPUS, %eax
	jae	2f			/* more APs than stacks: park */
	mov	%eax, %ebx
	inc	%eax
	shl	$12, %eax
	add	$ap_stacks, %eax
	mov	%eax, %esp
	push	%ebx
	call	ap_main
2:	cli
	hlt
	jmp	2b
