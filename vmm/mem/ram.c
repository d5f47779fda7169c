// SPDX-License-Identifier: MIT
/*
 * Host memory for guest RAM.  Mapped 2 MiB aligned: KVM maps a guest huge
 * page only where guest-physical and host-virtual addresses agree modulo
 * 2 MiB, so an unaligned mapping gets 4 KiB nested page tables even when
 * the host backs it with transparent huge pages (in the testhost with THP
 * on, aligning took a Debian boot to init from 5.8 s to 3.9 s).  Then
 * MADV_HUGEPAGE asks for those huge pages.
 */
#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#include "mem/ram.h"

void *ram_map(uint64_t size)
{
	uint8_t *p, *a;

	if (!size || size > SIZE_MAX - RAM_ALIGN)
		return MAP_FAILED;
	p = mmap(NULL, size + RAM_ALIGN, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return MAP_FAILED;
	a = (uint8_t *)(((uintptr_t)p + RAM_ALIGN - 1) & ~(uintptr_t)(RAM_ALIGN - 1));
	if (a > p)
		munmap(p, (size_t)(a - p));
	if (a + size < p + size + RAM_ALIGN)
		munmap(a + size, (size_t)(p + size + RAM_ALIGN - (a + size)));
	madvise(a, size, MADV_HUGEPAGE);	/* a hint: fine if THP is off */
	return a;
}
