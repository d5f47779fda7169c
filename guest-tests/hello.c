/* SPDX-License-Identifier: MIT */
/* hello: the smallest guest; greets on COM1 and leaves through debug-exit 0. */
#include "lib.h"

void guest_main(void)
{
	printf("Hello from a vmm test guest (%s)\n", boot_cmdline);
	succeed();
}
