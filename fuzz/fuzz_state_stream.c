// SPDX-License-Identifier: MIT
/*
 * Arbitrary bytes as a state file / migration stream: the reader must
 * refuse or accept them with no crash, leak, or read past a section; an
 * accepted stream must end with its END marker.  Each known section is
 * parsed as a migrating destination would: strings, integers, a blob.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct state_section_desc known[] = {
	{ STATE_SEC_CONFIG, "config", 1, 65536 },
	{ STATE_SEC_MEMORY, "memory", 1, 4096 },
	{ STATE_SEC_VCPU_REGS, "vcpu-regs", 1, 4 + 18 * 8 },
	{ STATE_SEC_VCPU_LAPIC, "vcpu-lapic", 1, 4 + 1024 },
	{ STATE_SEC_VCPU_MSRS, "vcpu-msrs", 2, 4 + 4 + 1024 * 12 },
};

static void parse_section(struct state_reader *r)
{
	char s[256];
	uint8_t blob[1024];
	uint64_t v64;
	uint32_t v32, n, i;
	uint16_t v16;
	uint8_t v8;

	switch (r->type) {
	case STATE_SEC_CONFIG:
		state_get_string(r, s, sizeof(s) - 1);
		state_get_u8(r, &v8);
		state_get_u16(r, &v16);
		break;
	case STATE_SEC_MEMORY:
		if (state_get_u32(r, &n) < 0)
			return;
		for (i = 0; i < n && !r->error; i++) {
			state_get_u64(r, &v64);
			state_get_u64(r, &v64);
		}
		state_get_string(r, s, 200);
		break;
	case STATE_SEC_VCPU_LAPIC:
		state_get_u32(r, &v32);
		state_get_bytes(r, blob, sizeof(blob));
		break;
	case STATE_SEC_VCPU_MSRS:
		state_get_u32(r, &v32);
		if (state_get_u32(r, &n) < 0)
			return;
		if (n > 1024) {
			state_reader_fail(r, "%u MSRs", n);
			return;
		}
		for (i = 0; i < n && !r->error; i++) {
			state_get_u32(r, &v32);
			state_get_u64(r, &v64);
		}
		break;
	default:
		while (state_remaining(r) >= 8 && !state_get_u64(r, &v64))
			;
		break;
	}
	state_section_done(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_membuf m = { .data = (uint8_t *)data, .len = size };
	struct state_reader r;
	struct state_header h;
	int ret;

	state_reader_init(&r, "fuzz stream", state_mem_read, &m, known,
			  sizeof(known) / sizeof(known[0]));
	ret = state_read_header(&r, &h);
	while (!ret && (ret = state_next_section(&r)) == 1) {
		if (r.len > r.desc->max_len || r.pos != 0)
			abort();
		parse_section(&r);
		ret = r.error;
	}
	if (ret == 0 && (!r.done || r.error))
		abort();
	if (ret < 0 && (!r.error || !strstr(r.err, "fuzz stream: ")))
		abort();
	state_reader_free(&r);
	return 0;
}
