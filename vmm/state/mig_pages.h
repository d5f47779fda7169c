/* SPDX-License-Identifier: MIT */
/*
 * Guest pages in a migration stream (STATE_SEC_MIG_PAGES, version 1):
 *   u32 n (1 to MIG_PAGES_MAX), then n entries:
 *     u64 gpa | kind   gpa page-aligned; kind (the low 12 bits): 0 = data,
 *                      1 = a zero page (no bytes follow)
 *     4096 bytes       the page, for kind 0
 * Every gpa must be a whole page of the destination's RAM (gm_ptr).
 * Pure; fuzzed (fuzz/fuzz_mig_stream.c).
 */
#ifndef VMM_STATE_MIG_PAGES_H
#define VMM_STATE_MIG_PAGES_H

#include <stdint.h>

#include "stream.h"

struct guest_mem;

#define MIG_PAGES_MAX		256
#define MIG_PAGE_SIZE		4096u
#define MIG_PAGE_ZERO		1u
#define MIG_PAGES_SECTION_MAX	(4 + MIG_PAGES_MAX * (8 + MIG_PAGE_SIZE))

extern const struct state_section_desc mig_pages_desc;

/* Parses r's current pages section into gm and ends it; *pages += the count. */
int mig_pages_parse(struct state_reader *r, const struct guest_mem *gm, uint64_t *pages);

#endif
