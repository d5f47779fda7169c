/* SPDX-License-Identifier: MIT */
/*
 * Disks in a state file (STATE_SEC_DISK, version 1), one section each:
 *   u32 index (the --disk order), string path (at most BLK_PATH_MAX - 1),
 *   u32 format (enum disk_format, never AUTO), u64 virtual size in bytes.
 * Disks are not copied into the snapshot: the pause flushed them, and the
 * restore opens the same images.  A restore refuses an image whose
 * virtual size changed (a resized or replaced disk under a running
 * guest); it cannot see writes made after the snapshot (docs/snapshot.md).
 */
#ifndef VMM_STATE_DISK_STATE_H
#define VMM_STATE_DISK_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "block/block.h"
#include "stream.h"

#define DISK_STATE_MAX		16	/* VMM_MAX_DISKS */
#define DISK_SECTION_MAX	(4 + 4 + BLK_PATH_MAX + 4 + 8)

struct disk_state {
	char path[BLK_PATH_MAX];
	enum disk_format format;
	uint64_t size;
};

extern const struct state_section_desc disk_state_desc;

/*
 * The image's format (probed if fmt is AUTO) and virtual size: a raw
 * file's length, a qcow2 header's size field.  Reads the file only (no
 * lock: the running VM holds it).  0 or -errno with err.
 */
int disk_state_probe(const char *path, enum disk_format fmt, struct disk_state *out,
		     char *err, size_t errlen);
int disk_state_write(struct state_writer *w, unsigned int index, const struct disk_state *d);
/* Parses r's current disk section into disks[index] (index < DISK_STATE_MAX, once each). */
int disk_state_parse(struct state_reader *r, struct disk_state *disks, uint32_t *have);

#endif
