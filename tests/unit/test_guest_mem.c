// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>

#include <sys/mman.h>

#include "mem/guest_mem.h"
#include "mem/ram.h"

static uint8_t low[4096], high[4096];

static void setup2(struct guest_mem *gm)
{
	memset(gm, 0, sizeof(*gm));
	cr_assert_eq(gm_add_region(gm, 0, sizeof(low), low), 0);
	cr_assert_eq(gm_add_region(gm, 0x100000000ULL, sizeof(high), high), 0);
}

Test(guest_mem, bounds)
{
	struct guest_mem gm;

	setup2(&gm);
	cr_assert_eq(gm.ram_size, 8192);
	cr_assert_eq(gm_ptr(&gm, 0, 4096), low);
	cr_assert_eq(gm_ptr(&gm, 4095, 1), low + 4095);
	cr_assert_null(gm_ptr(&gm, 4095, 2));
	cr_assert_null(gm_ptr(&gm, 4096, 1));
	cr_assert_eq(gm_ptr(&gm, 0x100000000ULL + 10, 10), high + 10);
	cr_assert_null(gm_ptr(&gm, 0x100000000ULL - 1, 2));	/* straddles the hole */
	cr_assert_null(gm_ptr(&gm, 0x80000000ULL, 1));
	cr_assert_eq(gm_end(&gm), 0x100001000ULL);
}

Test(guest_mem, overflow)
{
	struct guest_mem gm;

	setup2(&gm);
	cr_assert_null(gm_ptr(&gm, 16, UINT64_MAX));
	cr_assert_null(gm_ptr(&gm, UINT64_MAX, 2));
	cr_assert_null(gm_ptr(&gm, UINT64_MAX - 4, 16));
	cr_assert_null(gm_ptr(&gm, 0x100000000ULL, UINT64_MAX - 0xfffffffeULL));
}

Test(guest_mem, copy)
{
	struct guest_mem gm;
	char buf[8] = "abcdefg";

	setup2(&gm);
	cr_assert_eq(gm_write(&gm, 100, buf, 8), 0);
	memset(buf, 0, sizeof(buf));
	cr_assert_eq(gm_read(&gm, 100, buf, 8), 0);
	cr_assert_str_eq(buf, "abcdefg");
	cr_assert_eq(gm_write(&gm, 4090, buf, 8), -EFAULT);
	cr_assert_eq(gm_read(&gm, 4090, buf, 8), -EFAULT);
}

Test(guest_mem, refuses_overlap)
{
	struct guest_mem gm;
	static uint8_t other[100];

	setup2(&gm);
	cr_assert_eq(gm_add_region(&gm, 4000, 100, other), -EINVAL);
	cr_assert_eq(gm_add_region(&gm, UINT64_MAX - 10, 100, other), -EINVAL);
	cr_assert_eq(gm_add_region(&gm, 8192, 0, other), -EINVAL);
	cr_assert_eq(gm_add_region(&gm, 8192, 100, other), 0);
}

/* Guest RAM is 2 MiB aligned (KVM huge nested pages), usable, and the
 * alignment slack around it is given back. */
Test(guest_mem, ram_map_is_2m_aligned)
{
	static const uint64_t sizes[] = { 4096, 3 << 20, (64 << 20) + 4096 };
	unsigned char vec;
	unsigned int i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		uint8_t *p = ram_map(sizes[i]);

		cr_assert_neq(p, MAP_FAILED);
		cr_assert_eq((uintptr_t)p % RAM_ALIGN, 0, "%p is not 2 MiB aligned", (void *)p);
		p[0] = 1;
		p[sizes[i] - 1] = 2;
		/* mincore() fails with ENOMEM on unmapped pages: the slack is gone
		 * unless something else took that address since */
		if (mincore(p + ((sizes[i] + 4095) & ~4095ULL), 4096, &vec) == 0)
			cr_log_warn("the page after RAM is mapped (another mapping?)");
		cr_assert_eq(munmap(p, sizes[i]), 0);
	}
	cr_assert_eq(ram_map(0), MAP_FAILED);
}
