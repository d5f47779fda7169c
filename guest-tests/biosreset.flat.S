/* SPDX-License-Identifier: MIT */
/*
 * biosreset: "reboot through the BIOS" as Linux's machine_real_restart
 * does: print SUCCESS, then far-jump to the reset vector F000:FFF0.  vmm
 * has no BIOS; its reset-vector stub (firmware/reset.S) must reset the VM,
 * so vmm exits 0.  Without the stub the guest runs zeroes forever and the
 * harness's timeout fails the case.
 */
#define COM1	0x3f8
	.code16
	.text
	.globl	_start
_start:
	cli
	xor	%ax, %ax
	mov	%ax, %ds
	mov	$msg, %si
1:	lodsb
	test	%al, %al
	jz	2f
	mov	$COM1, %dx
	out	%al, (%dx)
	jmp	1b
2:	ljmp	$0xf000, $0xfff0
msg:	.asciz	"biosreset: jumping to F000:FFF0\nSUCCESS\n"
