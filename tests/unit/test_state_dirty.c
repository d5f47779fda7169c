// SPDX-License-Identifier: MIT
/*
 * Dirty bitmaps: marking ranges, merging KVM's log with vmm's own, and
 * the guest_mem hook that marks what vmm writes into guest memory.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "mem/guest_mem.h"
#include "state/dirty.h"

#define PAGES 200	/* not a multiple of 64: a partial last word */
#define SIZE ((uint64_t)PAGES * 4096)

Test(dirty, mark_ranges)
{
	uint64_t *b = dirty_alloc(SIZE);

	cr_assert_not_null(b);
	cr_assert_eq(dirty_words(SIZE), 4);
	dirty_mark(b, SIZE, 0, 1);
	dirty_mark(b, SIZE, 4095, 2);		/* straddles pages 0 and 1 */
	dirty_mark(b, SIZE, 10 * 4096, 0);	/* nothing */
	dirty_mark(b, SIZE, 60 * 4096, 10 * 4096);	/* pages 60..69, across a word */
	dirty_mark(b, SIZE, SIZE - 1, 100);	/* clipped to the last page */
	dirty_mark(b, SIZE, SIZE, 4096);	/* past the end: ignored */
	dirty_mark(NULL, SIZE, 0, 4096);	/* no bitmap: no-op */
	cr_assert_eq(b[0], 3ULL | (0xfULL << 60));
	cr_assert_eq(b[1], 0x3f);
	cr_assert_eq(b[3], 1ULL << (199 - 192));
	cr_assert_eq(dirty_count(b, PAGES), 2 + 10 + 1);
	dirty_mark(b, SIZE, 0, SIZE);
	cr_assert_eq(dirty_count(b, PAGES), PAGES);
	cr_assert_eq(b[3], (1ULL << 8) - 1);
	free(b);
}

Test(dirty, merge_and_iterate)
{
	uint64_t kvm[4] = { 0x5, 0, 1ULL << 63, ~0ULL }, vmm[4] = { 0x2, 1ULL << 7, 0, 0 };
	uint64_t out[4], page = 0, seen[16];
	unsigned int n = 0;

	/* kvm's last word has bits past page 199: ignored */
	cr_assert_eq(dirty_merge(out, kvm, vmm, PAGES), 3 + 1 + 1 + 8);
	cr_assert_eq(out[0], 0x7);
	cr_assert_eq(out[1], 1ULL << 7);
	cr_assert_eq(out[3], 0xff);
	cr_assert_eq(vmm[0] | vmm[1] | vmm[2] | vmm[3], 0, "vmm's bitmap not cleared");
	while (dirty_next(out, PAGES, &page)) {
		cr_assert_lt(n, 16);
		seen[n++] = page++;
	}
	cr_assert_eq(n, 13);
	cr_assert_eq(seen[0], 0);
	cr_assert_eq(seen[2], 2);
	cr_assert_eq(seen[3], 64 + 7);
	cr_assert_eq(seen[4], 128 + 63);
	cr_assert_eq(seen[12], 199);
	/* no KVM log: vmm's only */
	vmm[2] = 0x10;
	cr_assert_eq(dirty_merge(out, NULL, vmm, PAGES), 1);
	cr_assert_eq(out[2], 0x10);
	page = 0;
	cr_assert(dirty_next(out, PAGES, &page));
	cr_assert_eq(page, 132);
	page = 133;
	cr_assert_not(dirty_next(out, PAGES, &page));
}

/* A page written only by a device (vmm, through guest_mem) is in the send set. */
Test(dirty, guest_mem_write_marks)
{
	static uint8_t low[64 * 4096], high[8 * 4096];
	struct guest_mem gm;
	uint64_t out[1], page = 0;
	uint32_t v = 0x12345678;

	memset(&gm, 0, sizeof(gm));
	cr_assert_eq(gm_add_region(&gm, 0, sizeof(low), low), 0);
	cr_assert_eq(gm_add_region(&gm, 0x100000000ULL, sizeof(high), high), 0);
	/* no bitmap yet: writes mark nothing and do not crash */
	cr_assert_eq(gm_write(&gm, 4096, &v, sizeof(v)), 0);
	gm.dirty[0] = dirty_alloc(sizeof(low));
	gm.dirty[1] = dirty_alloc(sizeof(high));
	cr_assert_eq(gm_write(&gm, 5 * 4096 + 4094, &v, sizeof(v)), 0);	/* pages 5, 6 */
	cr_assert_eq(gm_write(&gm, 0x100000000ULL + 3 * 4096, &v, 1), 0);
	cr_assert_neq(gm_write(&gm, sizeof(low) - 2, &v, sizeof(v)), 0);	/* out of RAM: no mark */
	cr_assert_eq(gm_read(&gm, 7 * 4096, &v, sizeof(v)), 0);		/* reads never mark */
	gm_mark_dirty(&gm, 63 * 4096, 1);					/* a gm_ptr() writer */
	cr_assert_eq(dirty_merge(out, NULL, gm.dirty[0], 64), 3);
	cr_assert_eq(out[0], (1ULL << 5) | (1ULL << 6) | (1ULL << 63));
	cr_assert_eq(dirty_merge(out, NULL, gm.dirty[1], 8), 1);
	cr_assert(dirty_next(out, 8, &page));
	cr_assert_eq(page, 3);
	free(gm.dirty[0]);
	free(gm.dirty[1]);
}

struct marker {
	uint64_t *bits;
	unsigned int first;
};

static void *mark_thread(void *arg)
{
	struct marker *m = arg;
	unsigned int i;

	for (i = m->first; i < PAGES; i += 2)
		dirty_mark(m->bits, SIZE, (uint64_t)i * 4096, 1);
	return NULL;
}

/* Two threads marking interleaved pages of the same words lose no bit. */
Test(dirty, concurrent_marks)
{
	uint64_t *b = dirty_alloc(SIZE);
	struct marker m0 = { b, 0 }, m1 = { b, 1 };
	pthread_t t0, t1;

	cr_assert_eq(pthread_create(&t0, NULL, mark_thread, &m0), 0);
	cr_assert_eq(pthread_create(&t1, NULL, mark_thread, &m1), 0);
	pthread_join(t0, NULL);
	pthread_join(t1, NULL);
	cr_assert_eq(dirty_count(b, PAGES), PAGES);
	free(b);
}
