// SPDX-License-Identifier: MIT
/*
 * blk_queue on a raw image through BOTH engines (io_uring and threads):
 * data checked with pread on the file, O_DIRECT bounce buffers, 32 requests
 * in flight against a model, FLUSH ordering, refused requests (more FLUSH
 * ordering in test_block_flush.c).  Each test
 * runs once per engine; the io_uring copy is skipped, saying why, where
 * io_uring does not work.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <liburing.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "blk_test_helper.h"

#define DISK_SIZE	(4u << 20)

TestSuite(io_uring, .fini = cleanup);
TestSuite(threads, .fini = cleanup);
TestSuite(queue, .fini = cleanup);

static void file_read(uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static struct blk_image *open_img(enum disk_cache cache)
{
	struct blk_image *img = NULL;
	int ret;

	make_file(DISK_SIZE);
	ret = blk_image_open(path, DISK_FORMAT_RAW, false, cache, &img, err, sizeof(err));
	if (ret && cache == DISK_CACHE_NONE && strstr(err, "O_DIRECT"))
		cr_skip_test("no O_DIRECT on /tmp: %s", err);
	cr_assert_eq(ret, 0, "%s", err);
	return img;
}

/* Waits on the eventfd and reaps until n requests finished; order[] gets them. */
static void wait_done(struct blk_queue *q, unsigned int n, struct blk_req **order)
{
	struct blk_req *done[16];
	unsigned int got = 0, k, i;
	struct pollfd pfd = { .fd = blk_queue_eventfd(q), .events = POLLIN };

	while (got < n) {
		cr_assert_eq(poll(&pfd, 1, 10000), 1, "timed out with %u of %u done", got, n);
		k = blk_queue_reap(q, done, 16);
		cr_assert_leq(got + k, n);
		for (i = 0; i < k; i++) {
			if (order)
				order[got] = done[i];
			got++;
		}
	}
}

static void run1(struct blk_queue *q, struct blk_req *r)
{
	struct blk_req *got;

	cr_assert_eq(blk_queue_submit(q, r), 0);
	wait_done(q, 1, &got);
	cr_assert_eq(got, r);
}

static void t_read_write_flush(enum blk_engine_kind kind)
{
	struct blk_image *img = open_img(DISK_CACHE_WRITEBACK);
	struct blk_queue *q = open_queue(img, kind);
	static uint8_t a[4096], b[12288], got[16384];
	struct iovec w[2] = { { a, 4096 }, { b, 12288 } };
	struct iovec rd[2] = { { got, 5000 }, { got + 5000, 16384 - 5000 } };
	struct blk_req r = { .op = BLK_OP_WRITE, .offset = 65536, .iov = w, .iovcnt = 2 };

	memset(a, 0x11, sizeof(a));
	for (unsigned int i = 0; i < sizeof(b); i++)
		b[i] = (uint8_t)i;
	run1(q, &r);
	cr_assert_eq(r.result, 0);
	file_read(65536, got, 16384);
	cr_assert_arr_eq(got, a, 4096);
	cr_assert_arr_eq(got + 4096, b, 12288);

	memset(got, 0, sizeof(got));
	r = (struct blk_req){ .op = BLK_OP_READ, .offset = 65536, .iov = rd, .iovcnt = 2 };
	run1(q, &r);
	cr_assert_eq(r.result, 0);
	cr_assert_arr_eq(got, a, 4096);
	cr_assert_arr_eq(got + 4096, b, 12288);

	r = (struct blk_req){ .op = BLK_OP_FLUSH };
	run1(q, &r);
	cr_assert_eq(r.result, 0);
	blk_queue_destroy(q);
	blk_image_close(img);
}
Test(io_uring, read_write_flush) { t_read_write_flush(BLK_ENGINE_IO_URING); }
Test(threads, read_write_flush) { t_read_write_flush(BLK_ENGINE_THREADS); }

static void t_discard_write_zeroes(enum blk_engine_kind kind)
{
	struct blk_image *img = open_img(DISK_CACHE_WRITEBACK);
	struct blk_queue *q = open_queue(img, kind);
	static uint8_t ones[65536], got[65536];
	struct iovec w = { ones, sizeof(ones) };
	struct blk_req r = { .op = BLK_OP_WRITE, .offset = 0, .iov = &w, .iovcnt = 1 };

	memset(ones, 0xff, sizeof(ones));
	run1(q, &r);
	cr_assert_eq(r.result, 0);
	r = (struct blk_req){ .op = BLK_OP_WRITE_ZEROES, .offset = 4096, .len = 8192 };
	run1(q, &r);
	cr_assert_eq(r.result, 0);
	r = (struct blk_req){ .op = BLK_OP_DISCARD, .offset = 32768, .len = 16384 };
	run1(q, &r);
	cr_assert_eq(r.result, 0);
	file_read(0, got, sizeof(got));
	for (unsigned int i = 0; i < sizeof(got); i++) {
		bool zero = (i >= 4096 && i < 12288) || (i >= 32768 && i < 49152);

		cr_assert_eq(got[i], zero ? 0 : 0xff, "byte %u", i);
	}
	blk_queue_destroy(q);
	blk_image_close(img);
}
Test(io_uring, discard_write_zeroes) { t_discard_write_zeroes(BLK_ENGINE_IO_URING); }
Test(threads, discard_write_zeroes) { t_discard_write_zeroes(BLK_ENGINE_THREADS); }

static void t_cache_none_unaligned(enum blk_engine_kind kind)
{
	struct blk_image *img = open_img(DISK_CACHE_NONE);
	struct blk_queue *q = open_queue(img, kind);
	uint8_t *mem = NULL, *got;
	struct iovec iov[3];
	struct blk_req r;

	cr_assert_eq(posix_memalign((void **)&mem, 4096, 4 * 16384), 0);
	got = mem + 3 * 16384;
	for (int i = 0; i < 16384; i++)
		mem[i + 7] = (uint8_t)(i * 13 + 1);
	/* three pieces at odd addresses and lengths */
	iov[0] = (struct iovec){ mem + 7, 1 };
	iov[1] = (struct iovec){ mem + 8, 4000 };
	iov[2] = (struct iovec){ mem + 4008, 16384 - 4001 };
	r = (struct blk_req){ .op = BLK_OP_WRITE, .offset = 1 << 20, .iov = iov, .iovcnt = 3 };
	run1(q, &r);
	cr_assert_eq(r.result, 0);
	file_read(1 << 20, got, 16384);
	cr_assert_arr_eq(got, mem + 7, 16384);

	memset(mem + 16384, 0, 16384);
	iov[0] = (struct iovec){ mem + 16384 + 3, 16384 };
	r = (struct blk_req){ .op = BLK_OP_READ, .offset = 1 << 20, .iov = iov, .iovcnt = 1 };
	run1(q, &r);
	cr_assert_eq(r.result, 0);
	cr_assert_arr_eq(mem + 16384 + 3, got, 16384);

	/* aligned buffers take the direct path and still land */
	memset(got, 0x77, 16384);
	iov[0] = (struct iovec){ got, 16384 };
	r = (struct blk_req){ .op = BLK_OP_WRITE, .offset = 2 << 20, .iov = iov, .iovcnt = 1 };
	run1(q, &r);
	cr_assert_eq(r.result, 0);
	file_read(2 << 20, mem, 16384);
	cr_assert_arr_eq(mem, got, 16384);
	free(mem);
	blk_queue_destroy(q);
	blk_image_close(img);
}
Test(io_uring, cache_none_unaligned_buffers) { t_cache_none_unaligned(BLK_ENGINE_IO_URING); }
Test(threads, cache_none_unaligned_buffers) { t_cache_none_unaligned(BLK_ENGINE_THREADS); }

/* ---- 32 requests in flight, random non-overlapping ranges, against a model ---- */

#define QD		32
#define ROUNDS		600
#define SECTOR		512
#define MAX_SECTORS	64

struct qd_slot {
	struct blk_req req;
	struct iovec iov[2];
	uint8_t *buf;
	uint64_t off, len;
	bool busy;
};

static bool overlaps(const struct qd_slot *s, uint64_t off, uint64_t len)
{
	for (unsigned int i = 0; i < QD; i++) {
		if (s[i].busy && off < s[i].off + s[i].len && s[i].off < off + len)
			return true;
	}
	return false;
}

static void qd_start(struct blk_queue *q, struct qd_slot *slots, struct qd_slot *s,
		     uint8_t *model, unsigned int *seed)
{
	uint64_t off, len;
	bool write = rand_r(seed) % 3 != 0;
	size_t split;

	do {
		len = (uint64_t)(rand_r(seed) % MAX_SECTORS + 1) * SECTOR;
		off = (uint64_t)(rand_r(seed) % (DISK_SIZE / SECTOR - MAX_SECTORS)) * SECTOR;
	} while (overlaps(slots, off, len));
	s->off = off;
	s->len = len;
	s->busy = true;
	split = (size_t)(rand_r(seed) % len);
	s->iov[0] = (struct iovec){ s->buf, split };
	s->iov[1] = (struct iovec){ s->buf + split, len - split };
	if (write) {
		for (uint64_t i = 0; i < len; i++)
			s->buf[i] = (uint8_t)rand_r(seed);
		memcpy(model + off, s->buf, len);	/* no overlap: the model is exact */
	} else {
		memset(s->buf, 0xee, len);
	}
	s->req = (struct blk_req){ .op = write ? BLK_OP_WRITE : BLK_OP_READ, .offset = off,
				   .iov = s->iov, .iovcnt = 2, .cookie = s };
	cr_assert_eq(blk_queue_submit(q, &s->req), 0);
}

static void t_qd32_random(enum blk_engine_kind kind)
{
	struct blk_image *img = open_img(DISK_CACHE_WRITEBACK);
	struct blk_queue *q = open_queue(img, kind);
	static struct qd_slot slots[QD];
	struct pollfd pfd = { .fd = blk_queue_eventfd(q), .events = POLLIN };
	uint8_t *model = calloc(1, DISK_SIZE), *file = malloc(DISK_SIZE);
	struct blk_req *done[QD];
	unsigned int seed = 1234, started = 0, finished = 0, max_inflight = 0;

	cr_assert(model && file);
	for (unsigned int i = 0; i < QD; i++) {
		slots[i].buf = malloc(MAX_SECTORS * SECTOR);
		slots[i].busy = false;
	}
	for (unsigned int i = 0; i < QD; i++, started++)
		qd_start(q, slots, &slots[i], model, &seed);
	while (finished < ROUNDS) {
		unsigned int k, inflight = started - finished;

		if (inflight > max_inflight)
			max_inflight = inflight;
		cr_assert_eq(poll(&pfd, 1, 10000), 1, "stuck with %u in flight", inflight);
		k = blk_queue_reap(q, done, QD);
		for (unsigned int i = 0; i < k; i++) {
			struct qd_slot *s = done[i]->cookie;

			cr_assert_eq(done[i]->result, 0);
			if (done[i]->op == BLK_OP_READ)
				cr_assert_arr_eq(s->buf, model + s->off, s->len,
						 "read at %llu+%llu differs from the model",
						 (unsigned long long)s->off,
						 (unsigned long long)s->len);
			s->busy = false;
			finished++;
			if (started < ROUNDS) {
				qd_start(q, slots, s, model, &seed);
				started++;
			}
		}
	}
	cr_assert_eq(max_inflight, QD);
	file_read(0, file, DISK_SIZE);
	for (uint64_t off = 0; off < DISK_SIZE; off += SECTOR)
		cr_assert_arr_eq(file + off, model + off, SECTOR, "sector %llu",
				 (unsigned long long)off / SECTOR);
	for (unsigned int i = 0; i < QD; i++)
		free(slots[i].buf);
	free(model);
	free(file);
	blk_queue_destroy(q);
	blk_image_close(img);
}
Test(io_uring, qd32_random_against_model, .timeout = 60) { t_qd32_random(BLK_ENGINE_IO_URING); }
Test(threads, qd32_random_against_model, .timeout = 60) { t_qd32_random(BLK_ENGINE_THREADS); }

/* ---- FLUSH waits for the writes submitted before it ---- */

static void t_flush_after_writes(enum blk_engine_kind kind)
{
	struct blk_image *img = open_img(DISK_CACHE_WRITEBACK);
	struct blk_queue *q = open_queue(img, kind);
	enum { NW = 8, CHUNK = 256 << 10 };
	static struct blk_req w[NW], fl, after;
	static struct iovec iov[NW], iov_after;
	struct blk_req *order[NW + 2];
	uint8_t *buf = malloc(CHUNK), *got = malloc(CHUNK);
	unsigned int flush_pos = 0, after_pos = 0;

	memset(buf, 0x3c, CHUNK);
	for (unsigned int i = 0; i < NW; i++) {
		iov[i] = (struct iovec){ buf, CHUNK };
		w[i] = (struct blk_req){ .op = BLK_OP_WRITE, .offset = (uint64_t)i * CHUNK,
					 .iov = &iov[i], .iovcnt = 1 };
		cr_assert_eq(blk_queue_submit(q, &w[i]), 0);
	}
	fl = (struct blk_req){ .op = BLK_OP_FLUSH };
	cr_assert_eq(blk_queue_submit(q, &fl), 0);
	iov_after = (struct iovec){ buf, 4096 };
	after = (struct blk_req){ .op = BLK_OP_READ, .offset = 0, .iov = &iov_after,
				  .iovcnt = 1 };
	cr_assert_eq(blk_queue_submit(q, &after), 0);
	wait_done(q, NW + 2, order);
	for (unsigned int i = 0; i < NW + 2; i++) {
		cr_assert_eq(order[i]->result, 0);
		if (order[i] == &fl)
			flush_pos = i;
		if (order[i] == &after)
			after_pos = i;
	}
	/* the flush and the read held behind it come after every write */
	cr_assert_geq(flush_pos, NW, "the flush completed before some write (at %u)", flush_pos);
	cr_assert_geq(after_pos, NW, "a read after the flush overtook a write before it");
	for (unsigned int i = 0; i < NW; i++) {
		file_read((uint64_t)i * CHUNK, got, CHUNK);
		cr_assert_arr_eq(got, buf, CHUNK);
	}
	free(buf);
	free(got);
	blk_queue_destroy(q);
	blk_image_close(img);
}
Test(io_uring, flush_after_writes) { t_flush_after_writes(BLK_ENGINE_IO_URING); }
Test(threads, flush_after_writes) { t_flush_after_writes(BLK_ENGINE_THREADS); }

/* ---- requests the queue refuses ---- */

static void t_refused(enum blk_engine_kind kind)
{
	struct blk_image *img = open_img(DISK_CACHE_WRITEBACK);
	struct blk_queue *q = open_queue(img, kind);
	static uint8_t buf[1024];
	struct iovec iov = { buf, sizeof(buf) };
	struct blk_req r;

	r = (struct blk_req){ .op = BLK_OP_READ, .offset = DISK_SIZE - 512, .iov = &iov,
			      .iovcnt = 1 };
	cr_assert_eq(blk_queue_submit(q, &r), -EINVAL);
	r.op = BLK_OP_WRITE;
	cr_assert_eq(blk_queue_submit(q, &r), -EINVAL);
	r.offset = UINT64_MAX - 511;
	cr_assert_eq(blk_queue_submit(q, &r), -EINVAL);
	r = (struct blk_req){ .op = BLK_OP_DISCARD, .offset = 512, .len = UINT64_MAX - 256 };
	cr_assert_eq(blk_queue_submit(q, &r), -EINVAL);
	r = (struct blk_req){ .op = BLK_OP_WRITE_ZEROES, .offset = DISK_SIZE, .len = 512 };
	cr_assert_eq(blk_queue_submit(q, &r), -EINVAL);
	r = (struct blk_req){ .op = (enum blk_op)42 };
	cr_assert_eq(blk_queue_submit(q, &r), -EINVAL);
	r = (struct blk_req){ .op = BLK_OP_READ, .iov = NULL, .iovcnt = 2 };
	cr_assert_eq(blk_queue_submit(q, &r), -EINVAL);
	/* the last sector is fine */
	iov.iov_len = 512;
	r = (struct blk_req){ .op = BLK_OP_READ, .offset = DISK_SIZE - 512, .iov = &iov,
			      .iovcnt = 1 };
	run1(q, &r);
	cr_assert_eq(r.result, 0);
	blk_queue_destroy(q);
	blk_image_close(img);
}
Test(io_uring, refused_requests) { t_refused(BLK_ENGINE_IO_URING); }
Test(threads, refused_requests) { t_refused(BLK_ENGINE_THREADS); }

static void t_readonly(enum blk_engine_kind kind)
{
	struct blk_image *img = NULL;
	struct blk_queue *q;
	static uint8_t buf[512];
	struct iovec iov = { buf, sizeof(buf) };
	struct blk_req r = { .op = BLK_OP_WRITE, .offset = 0, .iov = &iov, .iovcnt = 1 };

	make_file(DISK_SIZE);
	cr_assert_eq(blk_image_open(path, DISK_FORMAT_RAW, true, DISK_CACHE_WRITEBACK, &img,
				    err, sizeof(err)), 0, "%s", err);
	q = open_queue(img, kind);
	cr_assert_eq(blk_queue_submit(q, &r), -EROFS);
	r = (struct blk_req){ .op = BLK_OP_DISCARD, .offset = 0, .len = 512 };
	cr_assert_eq(blk_queue_submit(q, &r), -EROFS);
	r = (struct blk_req){ .op = BLK_OP_FLUSH };
	run1(q, &r);
	cr_assert_eq(r.result, 0);
	blk_queue_destroy(q);
	blk_image_close(img);
}
Test(io_uring, readonly_refuses_writes) { t_readonly(BLK_ENGINE_IO_URING); }
Test(threads, readonly_refuses_writes) { t_readonly(BLK_ENGINE_THREADS); }

/* destroy waits for what is in flight: the data is in the file afterwards */
static void t_destroy_waits(enum blk_engine_kind kind)
{
	struct blk_image *img = open_img(DISK_CACHE_WRITEBACK);
	struct blk_queue *q = open_queue(img, kind);
	enum { N = 16, LEN = 128 << 10 };
	static struct blk_req r[N + 1];
	static struct iovec iov[N];
	uint8_t *buf = malloc(LEN), *got = malloc(LEN);

	memset(buf, 0x9d, LEN);
	for (unsigned int i = 0; i < N; i++) {
		iov[i] = (struct iovec){ buf, LEN };
		r[i] = (struct blk_req){ .op = BLK_OP_WRITE, .offset = (uint64_t)i * LEN,
					 .iov = &iov[i], .iovcnt = 1 };
		cr_assert_eq(blk_queue_submit(q, &r[i]), 0);
	}
	r[N] = (struct blk_req){ .op = BLK_OP_FLUSH };	/* held behind the writes */
	cr_assert_eq(blk_queue_submit(q, &r[N]), 0);
	blk_queue_destroy(q);
	for (unsigned int i = 0; i < N; i++) {
		file_read((uint64_t)i * LEN, got, LEN);
		cr_assert_arr_eq(got, buf, LEN, "write %u lost", i);
	}
	free(buf);
	free(got);
	blk_image_close(img);
}
Test(io_uring, destroy_waits_for_in_flight) { t_destroy_waits(BLK_ENGINE_IO_URING); }
Test(threads, destroy_waits_for_in_flight) { t_destroy_waits(BLK_ENGINE_THREADS); }

/* reap with a small max leaves the eventfd readable for the rest */
static void t_partial_reap(enum blk_engine_kind kind)
{
	struct blk_image *img = open_img(DISK_CACHE_WRITEBACK);
	struct blk_queue *q = open_queue(img, kind);
	enum { N = 8 };
	static struct blk_req r[N];
	static struct iovec iov[N];
	static uint8_t buf[N][512];
	struct pollfd pfd = { .fd = blk_queue_eventfd(q), .events = POLLIN };
	struct blk_req *one;
	unsigned int got = 0;

	for (unsigned int i = 0; i < N; i++) {
		iov[i] = (struct iovec){ buf[i], 512 };
		r[i] = (struct blk_req){ .op = BLK_OP_READ, .offset = i * 512, .iov = &iov[i],
					 .iovcnt = 1 };
		cr_assert_eq(blk_queue_submit(q, &r[i]), 0);
	}
	while (got < N) {
		cr_assert_eq(poll(&pfd, 1, 10000), 1, "eventfd silent with %u left", N - got);
		got += blk_queue_reap(q, &one, 1);
	}
	cr_assert_eq(blk_queue_reap(q, &one, 1), 0);
	blk_queue_destroy(q);
	blk_image_close(img);
}
Test(io_uring, partial_reap_rearms) { t_partial_reap(BLK_ENGINE_IO_URING); }
Test(threads, partial_reap_rearms) { t_partial_reap(BLK_ENGINE_THREADS); }

Test(queue, auto_picks_io_uring_where_it_works)
{
	struct blk_image *img = open_img(DISK_CACHE_WRITEBACK);
	struct blk_queue *q = NULL;
	struct io_uring ring;
	bool have = io_uring_queue_init(8, &ring, 0) == 0;

	if (have)
		io_uring_queue_exit(&ring);
	cr_assert_eq(blk_queue_create(img, BLK_ENGINE_AUTO, 0, &q), 0);
	cr_assert_str_eq(blk_queue_engine_name(q), have ? "io_uring" : "threads");
	blk_queue_destroy(q);
	blk_image_close(img);
}

/* Where io_uring_setup fails (here: a seccomp filter), auto falls back to threads. */
Test(queue, auto_falls_back_to_threads_without_io_uring)
{
	struct sock_filter filter[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = 4, .filter = filter };
	struct blk_image *img = open_img(DISK_CACHE_WRITEBACK);
	static uint8_t buf[4096];
	struct iovec iov = { buf, sizeof(buf) };
	struct blk_req r = { .op = BLK_OP_WRITE, .offset = 8192, .iov = &iov, .iovcnt = 1 };
	struct blk_queue *q = NULL;

	/* criterion runs each test in its own process: the filter stays in it */
	cr_assert_eq(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), 0);
	cr_assert_eq(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), 0);
	cr_assert_eq(blk_queue_create(img, BLK_ENGINE_IO_URING, 16, &q), -ENOSYS);
	cr_assert_eq(blk_queue_create(img, BLK_ENGINE_AUTO, 16, &q), 0);
	cr_assert_str_eq(blk_queue_engine_name(q), "threads");
	memset(buf, 0x61, sizeof(buf));
	run1(q, &r);
	cr_assert_eq(r.result, 0);
	memset(buf, 0, sizeof(buf));
	file_read(8192, buf, sizeof(buf));
	cr_assert_eq(buf[0], 0x61);
	cr_assert_eq(buf[4095], 0x61);
	blk_queue_destroy(q);
	blk_image_close(img);
}
