// SPDX-License-Identifier: MIT
/*
 * Minimal firmware: the reset-vector stub from firmware/reset.S, placed at
 * F000:FFF0 so that a guest jumping to the BIOS reset vector resets the VM
 * instead of running zeroes forever.
 */
#include <errno.h>

#include "boot/boot.h"
#include "mem/layout.h"

extern unsigned char firmware_reset_bin[];
extern unsigned int firmware_reset_bin_len;

int firmware_install(struct guest_mem *gm)
{
	if (firmware_reset_bin_len > LAYOUT_RESET_VECTOR_MAX)
		return -E2BIG;
	return gm_write(gm, LAYOUT_RESET_VECTOR, firmware_reset_bin, firmware_reset_bin_len);
}
