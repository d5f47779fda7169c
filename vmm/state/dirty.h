/* SPDX-License-Identifier: MIT */
/*
 * Dirty-page bitmaps for live migration.  One bit per 4 KiB guest page,
 * bit n of word n / 64 (KVM_GET_DIRTY_LOG's layout on x86-64, where an
 * unsigned long is a u64), per RAM region (= per KVM memory slot).
 *
 * Two sources feed a pre-copy round:
 *   - KVM's log of pages the guest's vCPUs wrote (KVM_GET_DIRTY_LOG on the
 *     region's slot, fetched and cleared by KVM);
 *   - vmm's own log of pages that vmm itself wrote into guest memory
 *     (virtqueue used rings, block reads, ...): KVM never sees those
 *     writes.  Every write goes through guest_mem (gm_write, or a
 *     gm_ptr() caller that then calls gm_mark_dirty()), which sets bits
 *     here with dirty_mark() when the region's dirty pointer is set.
 * dirty_merge() ORs both into the round's send set and clears vmm's
 * bitmap word by word atomically, so a page marked during the merge is
 * either in this round or the next, never lost.
 */
#ifndef VMM_STATE_DIRTY_H
#define VMM_STATE_DIRTY_H

#include <stdbool.h>
#include <stdint.h>

#define DIRTY_PAGE_SHIFT	12
#define DIRTY_PAGE_SIZE		(1ULL << DIRTY_PAGE_SHIFT)

/* u64 words for a region of size bytes */
static inline uint64_t dirty_words(uint64_t size)
{
	uint64_t pages = (size + DIRTY_PAGE_SIZE - 1) >> DIRTY_PAGE_SHIFT;

	return (pages + 63) / 64;
}

/* A zeroed bitmap for size bytes, or NULL; free() it. */
uint64_t *dirty_alloc(uint64_t size);

/*
 * Marks the pages of [off, off+len) of a region of region_size bytes:
 * thread-safe (atomic OR), len 0 marks nothing, bytes past the region are
 * ignored (callers pass ranges gm_ptr() already checked).
 */
void dirty_mark(uint64_t *bits, uint64_t region_size, uint64_t off, uint64_t len);

/*
 * out = kvm | vmm for nr_pages pages, clearing vmm (atomically per word).
 * kvm may be NULL (no KVM log: vmm's writes only).  Bits past nr_pages in
 * the last word are ignored and left clear in out.  Returns how many pages
 * are set in out.
 */
uint64_t dirty_merge(uint64_t *out, const uint64_t *kvm, uint64_t *vmm, uint64_t nr_pages);

/* Next set page >= *page, into *page; false when there is none. */
bool dirty_next(const uint64_t *bits, uint64_t nr_pages, uint64_t *page);

/*
 * KVM_GET_DIRTY_LOG: KVM's log of guest writes to memory slot `slot`
 * since the last call, into bits (dirty_words(slot size) words; the slot
 * must have KVM_MEM_LOG_DIRTY_PAGES).  0 or -errno.
 */
int dirty_kvm_fetch(int vm_fd, uint32_t slot, uint64_t *bits);

/* Pages set in bits. */
uint64_t dirty_count(const uint64_t *bits, uint64_t nr_pages);

#endif
