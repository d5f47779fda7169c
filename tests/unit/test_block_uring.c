// SPDX-License-Identifier: MIT
/*
 * The io_uring engine's short completions.  A fake format maps its disk onto
 * a host file that is shorter than the disk, so READV comes back short; the
 * test grows the file before the engine harvests the completion, and the
 * engine must read the rest (or report -EIO when the rest is not there).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>

#include "blk_test_helper.h"

TestSuite(uring_short, .fini = cleanup);

struct short_fmt {
	struct blk_image img;
	int fd;
	int slow_calls;		/* requests that did not go to the ring */
};

static int short_map(struct blk_image *img, uint64_t off, uint64_t len, bool write,
		     int *fd, uint64_t *host_off)
{
	*fd = ((struct short_fmt *)img)->fd;
	*host_off = off;
	return 0;
}

static int short_preadv(struct blk_image *img, const struct iovec *iov, int cnt, uint64_t off)
{
	((struct short_fmt *)img)->slow_calls++;
	return -EIO;
}

static int short_pwritev(struct blk_image *img, const struct iovec *iov, int cnt, uint64_t off)
{
	((struct short_fmt *)img)->slow_calls++;
	return -EIO;
}

static const struct blk_image_ops short_ops = {
	.preadv = short_preadv,
	.pwritev = short_pwritev,
	.map = short_map,
};

static struct blk_queue *setup(struct short_fmt *f, const uint8_t *data, size_t have)
{
	struct blk_queue *q = NULL;

	need_io_uring();
	snprintf(path, sizeof(path), "/tmp/vmm-test-blku-XXXXXX");
	f->fd = mkstemp(path);
	cr_assert_geq(f->fd, 0);
	cr_assert_eq(pwrite(f->fd, data, have, 0), (ssize_t)have);
	f->slow_calls = 0;
	f->img = (struct blk_image){ .ops = &short_ops, .format_name = "short",
				     .size = 1 << 20, .block_size = 512, .align = 1 };
	cr_assert_eq(blk_queue_create(&f->img, BLK_ENGINE_IO_URING, 8, &q), 0);
	return q;
}

static void wait_readable(struct blk_queue *q)
{
	struct pollfd pfd = { .fd = blk_queue_eventfd(q), .events = POLLIN };

	cr_assert_eq(poll(&pfd, 1, 10000), 1, "no completion");
}

Test(uring_short, short_read_is_resubmitted_for_the_rest)
{
	static uint8_t data[8192], got[8192];
	struct iovec iov[2] = { { got, 3000 }, { got + 3000, 8192 - 3000 } };
	struct blk_req r = { .op = BLK_OP_READ, .offset = 0, .iov = iov, .iovcnt = 2 };
	struct blk_req *done = NULL;
	struct short_fmt f;
	struct blk_queue *q;
	unsigned int n = 0;

	for (unsigned int i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 31 + 5);
	q = setup(&f, data, 5096);		/* the file ends inside the request */
	cr_assert_eq(blk_queue_submit(q, &r), 0);
	wait_readable(q);			/* the short CQE (5096 bytes) is posted */
	cr_assert_eq(pwrite(f.fd, data + 5096, 8192 - 5096, 5096), 8192 - 5096);
	while (!n) {				/* harvest it: the engine asks for the rest */
		n = blk_queue_reap(q, &done, 1);
		if (!n)
			wait_readable(q);
	}
	cr_assert_eq(done, &r);
	cr_assert_eq(r.result, 0);
	cr_assert_arr_eq(got, data, sizeof(data));
	cr_assert_eq(f.slow_calls, 0, "the read did not go through the ring");
	blk_queue_destroy(q);
	close(f.fd);
}

Test(uring_short, end_of_file_inside_the_disk_is_an_io_error)
{
	static uint8_t data[4096], got[8192];
	struct iovec iov = { got, sizeof(got) };
	struct blk_req r = { .op = BLK_OP_READ, .offset = 0, .iov = &iov, .iovcnt = 1 };
	struct blk_req *done = NULL;
	struct short_fmt f;
	struct blk_queue *q;
	unsigned int n = 0;

	memset(data, 0x42, sizeof(data));
	q = setup(&f, data, sizeof(data));
	cr_assert_eq(blk_queue_submit(q, &r), 0);
	while (!n) {
		wait_readable(q);
		n = blk_queue_reap(q, &done, 1);
	}
	cr_assert_eq(done, &r);
	cr_assert_eq(r.result, -EIO);
	cr_assert_eq(f.slow_calls, 0);
	blk_queue_destroy(q);
	close(f.fd);
}

/* Plugged, requests only queue; unplug starts the whole batch at once. */
Test(uring_short, plugged_requests_start_together_at_unplug)
{
	static uint8_t data[4 * 4096], got[4 * 4096];
	struct iovec iov[4];
	struct blk_req r[4], *done[4];
	struct pollfd pfd;
	struct short_fmt f;
	struct blk_queue *q;
	unsigned int n = 0, i;

	for (i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	q = setup(&f, data, sizeof(data));
	blk_queue_plug(q);
	for (i = 0; i < 4; i++) {
		iov[i] = (struct iovec){ got + i * 4096, 4096 };
		r[i] = (struct blk_req){ .op = BLK_OP_READ, .offset = i * 4096, .iov = &iov[i], .iovcnt = 1 };
		cr_assert_eq(blk_queue_submit(q, &r[i]), 0);
	}
	pfd = (struct pollfd){ .fd = blk_queue_eventfd(q), .events = POLLIN };
	cr_assert_eq(poll(&pfd, 1, 200), 0, "a plugged request completed before unplug");
	blk_queue_unplug(q);
	while (n < 4) {
		wait_readable(q);
		n += blk_queue_reap(q, done + n, 4 - n);
	}
	for (i = 0; i < 4; i++)
		cr_assert_eq(r[i].result, 0);
	cr_assert_arr_eq(got, data, sizeof(data));
	cr_assert_eq(f.slow_calls, 0);
	blk_queue_destroy(q);
	close(f.fd);
}
