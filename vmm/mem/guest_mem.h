/* SPDX-License-Identifier: MIT */
/*
 * Guest physical memory: a short list of regions, each a host mapping.
 *
 * gm_ptr() is THE checked accessor: every guest address the VMM touches
 * (descriptors, buffers, boot structures) goes through it.  It returns a host
 * pointer only when [gpa, gpa+len) lies wholly inside one region, with
 * overflow checked; otherwise NULL.  Never do pointer arithmetic on a
 * returned pointer beyond len.
 *
 * The same structure works without KVM: unit tests and fuzzers add a
 * malloc()ed buffer as a region (gm_add_region) and run device code on it.
 */
#ifndef VMM_GUEST_MEM_H
#define VMM_GUEST_MEM_H

#include <stddef.h>
#include <stdint.h>

#define GM_MAX_REGIONS 8

struct gm_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct gm_region regions[GM_MAX_REGIONS];
	unsigned int nr_regions;
	uint64_t ram_size;	/* total guest RAM in bytes (sum of regions) */
	/*
	 * Live migration (state/dirty.h): NULL, or one bit per page of
	 * regions[i], set by gm_write()/gm_mark_dirty() when vmm writes it.
	 */
	uint64_t *dirty[GM_MAX_REGIONS];
};

/* Adds [gpa, gpa+size) backed by hva.  -EINVAL on overlap/overflow, -ENOSPC when full. */
int gm_add_region(struct guest_mem *gm, uint64_t gpa, uint64_t size, void *hva);

/* Host pointer for [gpa, gpa+len), or NULL if any byte is outside guest RAM. len may be 0. */
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Copy helpers built on gm_ptr: 0 or -EFAULT. */
int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, size_t len);
int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, size_t len);

/*
 * Marks [gpa, gpa+len) written by vmm, for live migration: a no-op unless
 * the region has a dirty bitmap.  gm_write() calls it; code that writes
 * through a gm_ptr() pointer must call it after the write.
 */
void gm_mark_dirty(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/*
 * Is vmm's dirty log on for any region?  Cheap (a few pointer loads): write
 * paths that would need work to find what they wrote (a virtqueue chain's
 * writable buffers) test it first and do nothing while migration is off.
 */
static inline int gm_dirty_logging(const struct guest_mem *gm)
{
	unsigned int i;

	for (i = 0; i < gm->nr_regions && i < GM_MAX_REGIONS; i++)
		if (__atomic_load_n(&gm->dirty[i], __ATOMIC_RELAXED))
			return 1;
	return 0;
}

/* Highest guest-physical address + 1 of any RAM region. */
uint64_t gm_end(const struct guest_mem *gm);

#endif
