// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for qcow2_snapshot_parse (vmm-img info's snapshot list):
 * the input is a snapshot table, parsed entry by entry as info does.  Must
 * never read past the input, crash or loop, and every name it returns is a
 * terminated string without control bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a copy of exactly size bytes: ASan catches a read past the end */
	uint8_t *buf = malloc(size ? size : 1);
	struct qcow2_snapshot s;
	size_t off = 0, used;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	for (unsigned int n = 0; n < QCOW2_MAX_SNAPSHOTS && off < size; n++) {
		if (qcow2_snapshot_parse(buf + off, size - off, &s, &used) < 0)
			break;
		if (used < QCOW2_SNAPSHOT_FIXED || strlen(s.id) >= sizeof(s.id) ||
		    strlen(s.name) >= sizeof(s.name))
			abort();
		for (const char *p = s.name; *p; p++)
			if ((unsigned char)*p < 0x20)
				abort();
		off += used;
	}
	free(buf);
	return 0;
}
