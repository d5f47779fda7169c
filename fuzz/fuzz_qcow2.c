// SPDX-License-Identifier: MIT
/*
 * libFuzzer target for the qcow2 parser and data paths: the input is an
 * image file.  Opens it read-only (header, tables, backing chain), reads the
 * start of the disk and some scattered sectors, walks the block status
 * (what it calls zero must read as zeros), runs the consistency check,
 * then opens it read-write and writes, zeroes and discards a little; with
 * cache=unsafe or (last input byte odd) writeback, whose deferred L2 entries
 * and refcount decreases (qcow2_meta.c) run then.
 * Must never crash, hang or leak, whatever the bytes.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Block status over the disk: runs in bounds, and what it calls zero reads as zeros. */
static void status_walk(struct blk_image *img, uint8_t *buf)
{
	uint64_t off = 0, n;

	for (int i = 0; i < 256 && off < img->size; i++, off += n) {
		int st = blk_block_status(img, off, img->size - off, &n);

		if (st < 0)
			return;
		if (!n || n > img->size - off)
			__builtin_trap();
		if (st & BLK_STATUS_ZERO) {
			struct iovec v = { buf, n < 512 ? n : 512 };

			if (img->ops->preadv(img, &v, 1, off) == 0)
				for (size_t k = 0; k < v.iov_len; k++)
					if (buf[k])
						__builtin_trap();
		}
	}
}

static void exercise(const char *path, bool rw, const uint8_t *data, size_t size)
{
	static uint8_t buf[1 << 17];
	struct blk_image *img;
	struct qcow2_check_result r;
	char err[512];
	struct iovec v = { buf, sizeof(buf) };

	enum disk_cache cache = rw && size && (data[size - 1] & 1) ? DISK_CACHE_WRITEBACK :
				DISK_CACHE_UNSAFE;

	if (qcow2_format()->open(path, !rw, cache, &img, err, sizeof(err)) < 0)
		return;
	if (img->size >= sizeof(buf))
		img->ops->preadv(img, &v, 1, 0);
	for (size_t i = 0; i + 8 <= size && i < 64; i += 8) {
		uint64_t off = 0;
		struct iovec s = { buf, 512 };

		memcpy(&off, data + i, 8);
		if (img->size > 512)
			img->ops->preadv(img, &s, 1, (off % (img->size - 512)) & ~511ull);
	}
	status_walk(img, buf);
	if (rw && img->size > 8192) {
		struct iovec w = { buf, 4096 };

		memset(buf, 0xa5, 4096);
		img->ops->pwritev(img, &w, 1, 0);
		img->ops->pwritev(img, &w, 1, (img->size / 2) & ~511ull);
		img->ops->write_zeroes(img, 4096, 4096);
		img->ops->discard(img, 0, img->size < (1 << 20) ? img->size : (1 << 20));
		w.iov_len = 512;
		img->ops->pwritev(img, &w, 1, 1024);	/* partial: COW or a reused cluster */
		img->ops->flush(img);
	}
	qcow2_check(img, rw ? QCOW2_FIX_LEAKS | QCOW2_CHECK_QUIET : QCOW2_CHECK_QUIET, &r,
		    err, sizeof(err));
	img->ops->close(img);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char path[64];
	int fd;

	if (!path[0]) {
		/* tmpfs where there is one: writeback's fdatasync costs nothing there */
		snprintf(path, sizeof(path), "%s/fuzz_qcow2.%d",
			 access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp", (int)getpid());
		log_set_level(LOG_ERR);
	}
	if (size > (1 << 20))
		return 0;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return 0;
	if (write(fd, data, size) != (ssize_t)size) {
		close(fd);
		return 0;
	}
	close(fd);
	exercise(path, false, data, size);
	exercise(path, true, data, size);
	unlink(path);
	return 0;
}
