/* SPDX-License-Identifier: MIT */
/*
 * realmode: a multiboot guest linked at 0x8000, below 1 MiB (realmode.ld),
 * as real-mode test guests written for QEMU are.  vmm must load it there
 * (it writes nothing at 0x8000 for multiboot), and the guest drops from
 * 32-bit protected mode to real mode, checks what real mode means (CR0.PE
 * clear, COM1, an INT through the IVT, segment arithmetic, 16-bit stack)
 * and comes back (realmode_switch.S).
 */
#include "lib.h"

#define RM_PE_CLEAR	(1u << 0)
#define RM_COM1		(1u << 1)
#define RM_INT		(1u << 2)
#define RM_SEGMENT	(1u << 3)
#define RM_STACK16	(1u << 4)
#define RM_ALL		0x1fu

uint32_t rm_call(void);

static const char *const rm_names[] = {
	"CR0.PE clear", "COM1 output", "INT through the IVT",
	"segment base = selector << 4", "16-bit push/pop",
};

void guest_main(void)
{
	uint32_t r, i;

	printf("loaded at 0x%x-0x%x\n", (uint32_t)(uintptr_t)_kernel_start,
	       (uint32_t)(uintptr_t)_kernel_end);
	check((uintptr_t)_kernel_start == 0x8000, "image not at 0x8000");
	check((uintptr_t)guest_main < 0x10000, "code not below 64 KiB");
	printf("protected mode -> real mode\n");
	r = rm_call();
	printf("real mode -> protected mode, checks 0x%x\n", r);
	for (i = 0; i < sizeof(rm_names) / sizeof(rm_names[0]); i++)
		check(r & (1u << i), "real mode: %s failed", rm_names[i]);
	check(r == RM_ALL, "real mode: checks 0x%x, expected 0x%x", r, RM_ALL);
	printf("back in protected mode\n");
	succeed();
}
