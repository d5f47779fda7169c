// SPDX-License-Identifier: MIT
/* Guest pages in a migration stream (mig_pages.h). */
#include <errno.h>
#include <string.h>

#include "mem/guest_mem.h"
#include "mig_pages.h"

const struct state_section_desc mig_pages_desc = {
	STATE_SEC_MIG_PAGES, "mig-pages", 1, MIG_PAGES_SECTION_MAX,
};

int mig_pages_parse(struct state_reader *r, const struct guest_mem *gm, uint64_t *pages)
{
	uint32_t n, i;
	uint64_t w, gpa;
	void *p;

	if (state_get_u32(r, &n))
		return r->error;
	if (!n || n > MIG_PAGES_MAX)
		return state_reader_fail(r, "%u pages, 1 to %u allowed", n, MIG_PAGES_MAX);
	for (i = 0; i < n; i++) {
		if (state_get_u64(r, &w))
			return r->error;
		gpa = w & ~(uint64_t)(MIG_PAGE_SIZE - 1);
		if ((w & (MIG_PAGE_SIZE - 1)) > MIG_PAGE_ZERO)
			return state_reader_fail(r, "page %u: unknown kind %u", i,
						 (unsigned int)(w & (MIG_PAGE_SIZE - 1)));
		p = gm_ptr(gm, gpa, MIG_PAGE_SIZE);
		if (!p)
			return state_reader_fail(r, "page %u at 0x%llx is not guest RAM", i,
						 (unsigned long long)gpa);
		if (w & MIG_PAGE_ZERO)
			memset(p, 0, MIG_PAGE_SIZE);
		else if (state_get_bytes(r, p, MIG_PAGE_SIZE))
			return r->error;
	}
	*pages += n;
	return state_section_done(r);
}
