/* SPDX-License-Identifier: MIT */
/*
 * The reset vector (F000:FFF0, guest-physical 0xffff0): vmm has no BIOS,
 * but a guest that "reboots through the BIOS" jumps here -- Linux does,
 * for instance, on hardware-reduced ACPI without EFI (reboot_type EFI ->
 * BIOS).  Real firmware would reset the machine; so do we, through the
 * reset control register, which vmm turns into a clean exit (status 0).
 * Assembled at build time, copied into guest memory by vmm/boot/firmware.c.
 */
	.code16
	.text
	.globl	reset_vector
reset_vector:
	movw	$0xcf9, %dx	/* PORT_RESET */
	movb	$0x06, %al	/* system reset + reset CPU */
	outb	%al, %dx
1:	cli
	hlt
	jmp	1b
