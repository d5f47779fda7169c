/* SPDX-License-Identifier: MIT */
/*
 * modes: a raw binary for vmm --flat, entered in real mode at 0000:7C00.
 * Prints in real mode, switches to 32-bit protected mode, prints, builds an
 * identity map of the first 2 MiB and enters 64-bit long mode, prints,
 * checks each mode really is on (CR0.PE, EFER.LMA), then "SUCCESS" and
 * debug-exit 0 (status 1).  It fits in one sector with a boot signature,
 * so a PC BIOS can boot it from a disk image too.
 */
#define COM1		0x3f8
#define PML4		0x1000
#define PDPT		0x2000
#define PD		0x3000
#define MSR_EFER	0xc0000080

/* print the NUL-terminated string at (e/r)si to COM1, any mode */
.macro PRINT_BODY
1:	lodsb
	test	%al, %al
	jz	3f
	mov	%al, %ah
	mov	$COM1 + 5, %dx
2:	in	(%dx), %al
	test	$0x20, %al
	jz	2b
	mov	$COM1, %dx
	mov	%ah, %al
	out	%al, (%dx)
	jmp	1b
3:	ret
.endm

	.text
	.code16
	.globl _start
_start:
	cli
	cld
	xor	%ax, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	$0x7c00, %sp
	ljmp	$0, $real16
real16:
	mov	$msg_real, %si
	call	print16
	smsw	%ax
	test	$1, %al
	jnz	fail16
	lgdtl	gdt_desc
	mov	%cr0, %eax
	or	$1, %eax
	mov	%eax, %cr0
	ljmpl	$0x08, $prot32

fail16:
	mov	$msg_fail, %si
	call	print16
	mov	$1, %al
	out	%al, $0xf4
	hlt

print16:
	PRINT_BODY

	.code32
prot32:
	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$0x7c00, %esp
	mov	%cr0, %eax
	test	$1, %al
	jz	fail32
	mov	$msg_prot, %esi
	call	print32

	/* identity-map 0-2 MiB with one large page */
	mov	$PML4, %edi
	mov	$3 * 1024, %ecx
	xor	%eax, %eax
	rep stosl
	movl	$PDPT | 3, PML4
	movl	$PD | 3, PDPT
	movl	$0x83, PD		/* present, writable, 2 MiB page at 0 */
	mov	%cr4, %eax
	or	$0x20, %eax		/* PAE */
	mov	%eax, %cr4
	mov	$PML4, %eax
	mov	%eax, %cr3
	mov	$MSR_EFER, %ecx
	rdmsr
	or	$0x100, %eax		/* LME */
	wrmsr
	mov	%cr0, %eax
	or	$0x80000000, %eax	/* PG */
	mov	%eax, %cr0
	ljmp	$0x18, $long64

fail32:
	mov	$msg_fail, %esi
	call	print32
	mov	$1, %al
	out	%al, $0xf4
	hlt

print32:
	PRINT_BODY

	.code64
long64:
	mov	$MSR_EFER, %ecx
	rdmsr
	test	$0x400, %eax		/* LMA */
	jz	fail64
	movabs	$0x123456789a, %rax	/* a 64-bit register really holds 64 bits */
	shr	$32, %rax
	cmp	$0x12, %rax
	jne	fail64
	lea	msg_long(%rip), %rsi
	call	print64
	lea	msg_ok(%rip), %rsi
	call	print64
	xor	%eax, %eax
	out	%al, $0xf4		/* debug-exit 0: status 1 */
	hlt
fail64:
	lea	msg_fail(%rip), %rsi
	call	print64
	mov	$1, %al
	out	%al, $0xf4
	hlt

print64:
	PRINT_BODY

	.align 8
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff	/* 0x08: code 32 */
	.quad	0x00cf92000000ffff	/* 0x10: data */
	.quad	0x00af9a000000ffff	/* 0x18: code 64 */
gdt_desc:
	.word	gdt_desc - gdt - 1
	.long	gdt

msg_real:	.asciz "real mode\n"
msg_prot:	.asciz "protected mode\n"
msg_long:	.asciz "long mode\n"
msg_ok:		.asciz "SUCCESS\n"
msg_fail:	.asciz "FAIL: mode\n"

	.org	510
	.word	0xaa55
