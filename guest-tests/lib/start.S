/* SPDX-License-Identifier: MIT */
/*
 * Multiboot v1 entry: eax = 0x2BADB002, ebx = multiboot info, 32-bit
 * protected mode, paging off, no valid stack or GDT promised.
 */
#define MB_HEADER_MAGIC	0x1BADB002
#define MB_HEADER_FLAGS	0x00000003	/* page-align modules, want memory info */

	.section .multiboot, "a"
	.align 4
	.long MB_HEADER_MAGIC
	.long MB_HEADER_FLAGS
	.long -(MB_HEADER_MAGIC + MB_HEADER_FLAGS)

	.text
	.code32
	.globl _start
_start:
	cli
	cld
	mov	%eax, %esi
	mov	%ebx, %ebp
	/* clear .bss (the stack lives there too; nothing is on it yet) */
	mov	$__bss_start, %edi
	mov	$__bss_end, %ecx
	sub	%edi, %ecx
	xor	%eax, %eax
	rep stosb
	lgdt	gdt_desc
	ljmp	$0x08, $1f
1:	mov	$0x10, %ax
	mov	%ax, %ds
	mov	%ax, %es
	mov	%ax, %ss
	mov	%ax, %fs
	mov	%ax, %gs
	mov	$boot_stack_top, %esp
	push	%ebp			/* mbi */
	push	%esi			/* magic */
	call	lib_start
2:	cli
	hlt
	jmp	2b

	.data
	.align 16
	.globl gdt, gdt_desc
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: code, flat 4 GiB, 32-bit */
	.quad 0x00cf92000000ffff	/* 0x10: data, flat 4 GiB */
gdt_end:
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.bss
	.align 16
	.skip 16384
boot_stack_top:
