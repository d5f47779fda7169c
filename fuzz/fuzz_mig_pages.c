// SPDX-License-Identifier: MIT
/*
 * Arbitrary bytes as the page part of a migration stream: after the
 * header, sections whose pages section (mig_pages_parse) writes into a
 * two-region guest of 64 KiB at 0 and 16 KiB at 1 MiB, the others framed
 * and skipped, as the destination's reader does (vm_migrate_recv.c).
 * No crash, no write outside the guest buffers (ASan), no leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mem/guest_mem.h"
#include "state/mig_pages.h"
#include "state/state_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t low[64 << 10], high[16 << 10];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_section_desc known[STATE_FILE_KNOWN_MAX + 1];
	struct state_membuf m = { .data = (uint8_t *)data, .len = size };
	struct state_reader r;
	struct state_header h;
	struct guest_mem gm;
	uint64_t pages = 0;
	size_t n;
	int ret;

	memset(&gm, 0, sizeof(gm));
	gm_add_region(&gm, 0, sizeof(low), low);
	gm_add_region(&gm, 1 << 20, sizeof(high), high);
	n = state_file_known(known, STATE_FILE_KNOWN_MAX);
	known[n++] = mig_pages_desc;
	state_reader_init(&r, "migration stream", state_mem_read, &m, known, n);
	ret = state_read_header(&r, &h);
	while (!ret && (ret = state_next_section(&r)) == 1)
		ret = r.type == STATE_SEC_MIG_PAGES ? mig_pages_parse(&r, &gm, &pages) :
						      state_skip_section(&r);
	state_reader_free(&r);
	return 0;
}
