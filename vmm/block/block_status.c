// SPDX-License-Identifier: MIT
/*
 * Allocation status of a virtual disk range: the format's block_status op
 * (raw: SEEK_DATA/SEEK_HOLE; qcow2: its L1/L2 tables and backing chain)
 * behind one checked entry point.
 */
#include <errno.h>
#include <unistd.h>

#include "block/engine.h"

/* SEEK_DATA/SEEK_HOLE; a file system or device without them: all data. */
int blk_fd_block_status(int fd, uint64_t off, uint64_t len, uint64_t *pnum)
{
	const int alloc = BLK_STATUS_ALLOCATED;
	off_t d, h;

	*pnum = len;
	d = lseek(fd, (off_t)off, SEEK_DATA);
	if (d < 0)	/* ENXIO: no data from off to the end of the file */
		return errno == ENXIO ? BLK_STATUS_ZERO | alloc : BLK_STATUS_DATA | alloc;
	if ((uint64_t)d > off) {
		if ((uint64_t)d - off < len)
			*pnum = (uint64_t)d - off;
		return BLK_STATUS_ZERO | alloc;
	}
	h = lseek(fd, (off_t)off, SEEK_HOLE);
	if (h > (off_t)off && (uint64_t)h - off < len)
		*pnum = (uint64_t)h - off;
	return BLK_STATUS_DATA | alloc;
}

int blk_block_status(struct blk_image *img, uint64_t off, uint64_t len, uint64_t *pnum)
{
	int ret;

	*pnum = 0;
	if (!len || off > img->size || len > img->size - off)
		return -EINVAL;
	if (!img->ops->block_status) {
		*pnum = len;
		return BLK_STATUS_DATA | BLK_STATUS_ALLOCATED;
	}
	ret = img->ops->block_status(img, off, len, pnum);
	if (ret < 0)
		return ret;
	/* a format that reports nothing or too much would stall or overrun its caller */
	if (!*pnum || *pnum > len)
		return -EIO;
	return ret;
}
