// SPDX-License-Identifier: MIT
/*
 * FLUSH ordering, deterministically, through both engines: a fake format
 * whose writes block until the test lets them go.  The queue must not let
 * the flush reach the format before the writes submitted before it end.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "blk_test_helper.h"

static void wait_done(struct blk_queue *q, unsigned int n, struct blk_req **order)
{
	struct pollfd pfd = { .fd = blk_queue_eventfd(q), .events = POLLIN };
	unsigned int got = 0;

	while (got < n) {
		cr_assert_eq(poll(&pfd, 1, 10000), 1, "timed out with %u of %u done", got, n);
		got += blk_queue_reap(q, order + got, n - got);
	}
}

struct slow_fmt {
	struct blk_image img;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool release;
	int writes_done, flush_calls, flush_saw;
};

static struct slow_fmt *slow_of(struct blk_image *img)
{
	return (struct slow_fmt *)img;
}

static int slow_pwritev(struct blk_image *img, const struct iovec *iov, int cnt, uint64_t off)
{
	struct slow_fmt *f = slow_of(img);

	pthread_mutex_lock(&f->lock);
	while (!f->release)
		pthread_cond_wait(&f->cond, &f->lock);
	f->writes_done++;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static int slow_preadv(struct blk_image *img, const struct iovec *iov, int cnt, uint64_t off)
{
	return 0;
}

static int slow_flush(struct blk_image *img)
{
	struct slow_fmt *f = slow_of(img);

	pthread_mutex_lock(&f->lock);
	f->flush_calls++;
	f->flush_saw = f->writes_done;
	pthread_mutex_unlock(&f->lock);
	return 0;
}

static const struct blk_image_ops slow_ops = {
	.preadv = slow_preadv,
	.pwritev = slow_pwritev,
	.flush = slow_flush,
};

/* one blocked write: the pools (2 or 4 workers) have a free worker the flush could take */
#define NW 1
static void t_flush_waits_fake(enum blk_engine_kind kind)
{
	static struct slow_fmt f;
	static uint8_t buf[512];
	static struct iovec iov = { buf, sizeof(buf) };
	static struct blk_req w[NW], fl, rd;
	struct blk_req *order[NW + 2];
	struct blk_queue *q;
	unsigned int n;

	memset(&f, 0, sizeof(f));
	pthread_mutex_init(&f.lock, NULL);
	pthread_cond_init(&f.cond, NULL);
	f.img = (struct blk_image){ .ops = &slow_ops, .format_name = "slow", .size = 1 << 20,
				    .block_size = 512, .align = 1 };
	q = open_queue(&f.img, kind);
	for (unsigned int i = 0; i < NW; i++) {
		w[i] = (struct blk_req){ .op = BLK_OP_WRITE, .offset = i * 512, .iov = &iov,
					 .iovcnt = 1 };
		cr_assert_eq(blk_queue_submit(q, &w[i]), 0);
	}
	fl = (struct blk_req){ .op = BLK_OP_FLUSH };
	cr_assert_eq(blk_queue_submit(q, &fl), 0);
	rd = (struct blk_req){ .op = BLK_OP_READ, .offset = 0, .iov = &iov, .iovcnt = 1 };
	cr_assert_eq(blk_queue_submit(q, &rd), 0);
	usleep(50000);
	n = blk_queue_reap(q, order, NW + 2);
	cr_assert_eq(n, 0, "something finished while the writes were blocked");
	pthread_mutex_lock(&f.lock);
	cr_assert_eq(f.flush_calls, 0, "the flush ran before the writes it follows finished");
	f.release = true;
	pthread_cond_broadcast(&f.cond);
	pthread_mutex_unlock(&f.lock);
	wait_done(q, NW + 2, order);
	cr_assert_eq(f.flush_calls, 1);
	cr_assert_eq(f.flush_saw, NW, "the flush saw %d of %d writes done", f.flush_saw, NW);
	blk_queue_destroy(q);
	pthread_cond_destroy(&f.cond);
	pthread_mutex_destroy(&f.lock);
}
Test(io_uring, flush_waits_for_blocked_writes) { t_flush_waits_fake(BLK_ENGINE_IO_URING); }
Test(threads, flush_waits_for_blocked_writes) { t_flush_waits_fake(BLK_ENGINE_THREADS); }
#undef NW
