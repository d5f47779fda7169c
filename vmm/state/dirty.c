// SPDX-License-Identifier: MIT
/*
 * Dirty-page bitmaps: see dirty.h.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>

#include <sys/ioctl.h>

#include "dirty.h"

uint64_t *dirty_alloc(uint64_t size)
{
	uint64_t words = dirty_words(size);

	return calloc(words ? words : 1, sizeof(uint64_t));
}

void dirty_mark(uint64_t *bits, uint64_t region_size, uint64_t off, uint64_t len)
{
	uint64_t first, last, end;

	if (!bits || !len || off >= region_size)
		return;
	end = len > region_size - off ? region_size : off + len;
	first = off >> DIRTY_PAGE_SHIFT;
	last = (end - 1) >> DIRTY_PAGE_SHIFT;
	while (first <= last) {
		uint64_t w = first / 64, b = first % 64;
		uint64_t n = last - first + 1;
		uint64_t mask;

		if (n > 64 - b)
			n = 64 - b;
		mask = (n == 64 ? ~0ULL : ((1ULL << n) - 1)) << b;
		__atomic_fetch_or(&bits[w], mask, __ATOMIC_RELAXED);
		first += n;
	}
}

static uint64_t tail_mask(uint64_t nr_pages, uint64_t w)
{
	uint64_t rem = nr_pages - w * 64;

	return rem >= 64 ? ~0ULL : (1ULL << rem) - 1;
}

uint64_t dirty_merge(uint64_t *out, const uint64_t *kvm, uint64_t *vmm, uint64_t nr_pages)
{
	uint64_t words = (nr_pages + 63) / 64, w, v, count = 0;

	for (w = 0; w < words; w++) {
		v = kvm ? kvm[w] : 0;
		if (vmm)
			v |= __atomic_exchange_n(&vmm[w], 0, __ATOMIC_ACQ_REL);
		v &= tail_mask(nr_pages, w);
		out[w] = v;
		count += __builtin_popcountll(v);
	}
	return count;
}

bool dirty_next(const uint64_t *bits, uint64_t nr_pages, uint64_t *page)
{
	uint64_t p = *page, w, v;

	while (p < nr_pages) {
		w = p / 64;
		v = bits[w] & tail_mask(nr_pages, w) & (~0ULL << (p % 64));
		if (v) {
			*page = w * 64 + __builtin_ctzll(v);
			return true;
		}
		p = (w + 1) * 64;
	}
	return false;
}

uint64_t dirty_count(const uint64_t *bits, uint64_t nr_pages)
{
	uint64_t words = (nr_pages + 63) / 64, w, count = 0;

	for (w = 0; w < words; w++)
		count += __builtin_popcountll(bits[w] & tail_mask(nr_pages, w));
	return count;
}

int dirty_kvm_fetch(int vm_fd, uint32_t slot, uint64_t *bits)
{
	struct kvm_dirty_log log = { .slot = slot, .dirty_bitmap = bits };

	return ioctl(vm_fd, KVM_GET_DIRTY_LOG, &log) < 0 ? -errno : 0;
}
