// SPDX-License-Identifier: MIT
/*
 * The guest memory map, one function for every boot protocol (boot_params
 * e820_table, multiboot mmap, PVH memmap).  It is computed from the RAM
 * regions actually mapped, so the guest is told the truth:
 *   [0, EBDA)            usable
 *   [EBDA, 1 MiB)        reserved (EBDA, VGA hole, ACPI tables, MP table)
 *   [1 MiB, low end)     usable
 *   [4 GiB, ...)         usable when RAM exceeds 3 GiB
 * The 3-4 GiB hole (PCI MMIO, IOAPIC, LAPIC) is a gap, as in Firecracker:
 * Linux picks its PCI window from the largest gap.
 */
#include "boot/loader.h"
#include "mem/layout.h"

static unsigned int e820_add(struct boot_e820 *out, unsigned int n, unsigned int max,
			     uint64_t start, uint64_t end, uint32_t type)
{
	if (start >= end || n >= max)
		return n;
	out[n++] = (struct boot_e820){ start, end - start, type };
	return n;
}

unsigned int boot_e820(const struct guest_mem *gm, struct boot_e820 *out, unsigned int max)
{
	static const struct { uint64_t start, end; uint32_t type; } zones[] = {
		{ 0, LAYOUT_EBDA_START, E820_RAM },
		{ LAYOUT_EBDA_START, LAYOUT_HIGH_RAM, E820_RESERVED },
		{ LAYOUT_HIGH_RAM, UINT64_MAX, E820_RAM },
	};
	unsigned int i, j, n = 0, m;

	for (i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->regions[i];
		uint64_t rend = r->gpa + r->size;

		for (j = 0; j < sizeof(zones) / sizeof(zones[0]); j++) {
			uint64_t s = r->gpa > zones[j].start ? r->gpa : zones[j].start;
			uint64_t e = rend < zones[j].end ? rend : zones[j].end;

			n = e820_add(out, n, max, s, e, zones[j].type);
		}
	}
	/* insertion sort by address, then merge touching entries of one type */
	for (i = 1; i < n; i++) {
		struct boot_e820 t = out[i];

		for (j = i; j > 0 && out[j - 1].addr > t.addr; j--)
			out[j] = out[j - 1];
		out[j] = t;
	}
	for (i = 0, m = 0; i < n; i++) {
		if (m && out[m - 1].type == out[i].type &&
		    out[m - 1].addr + out[m - 1].size == out[i].addr) {
			out[m - 1].size += out[i].size;
			continue;
		}
		out[m++] = out[i];
	}
	return m;
}

uint64_t boot_low_ram_end(const struct guest_mem *gm)
{
	unsigned int i;

	for (i = 0; i < gm->nr_regions; i++) {
		const struct gm_region *r = &gm->regions[i];
		uint64_t end = r->gpa + r->size;

		if (r->gpa <= LAYOUT_HIGH_RAM && LAYOUT_HIGH_RAM < end)
			return end < LAYOUT_MMIO_HOLE_START ? end : LAYOUT_MMIO_HOLE_START;
	}
	return 0;
}
