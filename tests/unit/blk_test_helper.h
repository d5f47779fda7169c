/* SPDX-License-Identifier: MIT */
/*
 * Shared by the block-layer unit tests: a temp image file, and opening a
 * queue on a given engine (skipping, with the reason, where io_uring is
 * unavailable).  Header-only, static inline, like vq_helper.h.
 */
#ifndef VMM_BLK_TEST_HELPER_H
#define VMM_BLK_TEST_HELPER_H

#include <criterion/criterion.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"

static char path[64] __attribute__((unused));
static char err[1024] __attribute__((unused));

/* A fresh sparse file of size bytes at path. */
static inline void make_file(uint64_t size)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/vmm-test-blk-XXXXXX");
	fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

/* Suite .fini: removes the file make_file made. */
static inline void cleanup(void)
{
	if (path[0])
		unlink(path);
	path[0] = '\0';
}

/* Skips the calling test, with the reason, if this kernel has no io_uring. */
static inline void need_io_uring(void)
{
	struct io_uring ring;
	int ret = io_uring_queue_init(8, &ring, 0);

	if (ret)
		cr_skip_test("io_uring is unavailable here (io_uring_queue_init: %s); "
			     "the io_uring engine was NOT tested", strerror(-ret));
	io_uring_queue_exit(&ring);
}

/* A 64-deep queue on exactly the engine asked for. */
static inline struct blk_queue *open_queue(struct blk_image *img, enum blk_engine_kind kind)
{
	struct blk_queue *q = NULL;

	if (kind == BLK_ENGINE_IO_URING)
		need_io_uring();
	cr_assert_eq(blk_queue_create(img, kind, 64, &q), 0);
	cr_assert_str_eq(blk_queue_engine_name(q),
			 kind == BLK_ENGINE_IO_URING ? "io_uring" : "threads");
	return q;
}

#endif
