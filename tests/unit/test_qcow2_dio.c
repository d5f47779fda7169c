// SPDX-License-Identifier: MIT
/*
 * qcow2 with cache=none: the image file is O_DIRECT, metadata I/O is
 * aligned, unaligned guest buffers are bounced, unaligned offsets refused,
 * and a filesystem without O_DIRECT gives one clear line.  Runs in /var/tmp
 * (tmp_path's /tmp may be a tmpfs); skipped where /var/tmp has no O_DIRECT.
 * Also qcow2 through blk_image_open() + blk_queue, with either cache mode.
 */
#include <sys/stat.h>

#include "block/engine.h"
#include "qcow2_helper.h"

static char dio_dir[64];

static void rm_dio_dir(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dio_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dio_dir);
}

/* A path under /var/tmp, or skips the test if O_DIRECT does not work there. */
static void dio_path(char *buf, size_t len, const char *name)
{
	char probe[128];
	int fd;

	if (!dio_dir[0]) {
		snprintf(dio_dir, sizeof(dio_dir), "/var/tmp/vmm-qcow2-dio.XXXXXX");
		cr_assert_not_null(mkdtemp(dio_dir));
		atexit(rm_dio_dir);
	}
	snprintf(probe, sizeof(probe), "%s/probe", dio_dir);
	fd = open(probe, O_CREAT | O_RDWR | O_DIRECT, 0644);
	if (fd < 0)
		cr_skip_test("/var/tmp does not support O_DIRECT (%s)", strerror(errno));
	close(fd);
	snprintf(buf, len, "%s/%s", dio_dir, name);
}

static struct blk_image *open_none(const char *path)
{
	struct blk_image *img = NULL;
	char err[512];
	int ret = qcow2_format()->open(path, false, DISK_CACHE_NONE, &img, err, sizeof(err));

	cr_assert_eq(ret, 0, "open %s: %s", path, err);
	return img;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void dio_round_trip(uint32_t cs, bool with_backing)
{
	char p[256], base[256], name[64];
	uint64_t size = 8 << 20, s = 0x9e3779b97f4a7c15ull;
	uint8_t *ref = calloc(1, size), *got = malloc(size), *mem = malloc(300000);
	struct blk_image *img;
	unsigned int a;

	snprintf(name, sizeof(name), "dio-%u-%d.qcow2", cs, with_backing);
	dio_path(p, sizeof(p), name);
	if (with_backing) {
		dio_path(base, sizeof(base), "dio-base.raw");
		fill(ref, size, 3);
		write_file(base, ref, size);
	}
	make_qcow2(p, size, cs, 3, with_backing ? base : NULL, with_backing ? "raw" : NULL);
	img = open_none(p);
	cr_assert(fcntl(qcow2_of(img)->fd, F_GETFL) & O_DIRECT, "cache=none without O_DIRECT");
	a = img->align;
	cr_assert(a == 512 || a == 4096, "align %u", a);
	cr_assert_eq(img->block_size, a > 512 ? a : 512);
	for (int i = 0; i < 200; i++) {
		uint64_t off = rnd(&s) % size & ~(uint64_t)(a - 1);
		uint64_t len = (1 + rnd(&s) % 64) * a, k = rnd(&s) % 4;
		uint8_t *buf = mem + (k == 0 ? 0 : 1);	/* aligned by malloc, or not */

		if (off + len > size)
			len = size - off;
		if (k == 3) {
			cr_assert_eq(img->ops->write_zeroes(img, off, len), 0);
			memset(ref + off, 0, len);
			continue;
		}
		fill(buf, len, (uint32_t)i);
		cr_assert_eq(wr(img, buf, len, off), 0, "write %llu+%llu",
			     (unsigned long long)off, (unsigned long long)len);
		memcpy(ref + off, buf, len);
		if (i % 50 == 49)
			cr_assert_eq(img->ops->flush(img), 0);
	}
	cr_assert_eq(rd(img, got, size, 0), 0);
	cr_assert_eq(memcmp(got, ref, size), 0, "read-back with cache=none, cs %u", cs);
	cr_assert_eq(rd(img, mem + 1, 3 * a, a), 0);	/* unaligned buffer: bounced */
	cr_assert_eq(memcmp(mem + 1, ref + a, 3 * a), 0);
	assert_clean(img);
	assert_reopened(img, p, got, ref, size, cs);
	free(ref);
	free(got);
	free(mem);
}

Test(qcow2_dio, round_trip_64k) { dio_round_trip(65536, false); }
Test(qcow2_dio, round_trip_4k_backing) { dio_round_trip(4096, true); }
Test(qcow2_dio, round_trip_2m_backing) { dio_round_trip(2 << 20, true); }

Test(qcow2_dio, grows_tables_and_resizes)
{
	char p[256], err[256];
	struct blk_image *img;
	uint8_t *buf = blk_bounce_alloc(4096, 4096), got[4096];

	dio_path(p, sizeof(p), "dio-grow.qcow2");
	make_qcow2(p, 1 << 20, 4096, 3, NULL, NULL);
	img = open_none(p);
	/* far apart clusters: new L2 tables, refcount blocks, refcount-table growth */
	cr_assert_eq(qcow2_resize(img, 4ull << 30, err, sizeof(err)), 0, "%s", err);
	for (uint64_t i = 0; i < 40; i++) {
		fill(buf, 4096, (uint32_t)i);
		cr_assert_eq(wr(img, buf, 4096, i * (97ull << 20)), 0);
	}
	assert_clean(img);
	img->ops->close(img);
	img = open_q(p, true);
	for (uint64_t i = 0; i < 40; i++) {
		fill(buf, 4096, (uint32_t)i);
		cr_assert_eq(rd(img, got, 4096, i * (97ull << 20)), 0);
		cr_assert_eq(memcmp(got, buf, 4096), 0, "cluster %llu", (unsigned long long)i);
	}
	assert_clean(img);
	img->ops->close(img);
	free(buf);
}

Test(qcow2_dio, unaligned_offset_refused)
{
	char p[256];
	struct blk_image *img;
	uint8_t buf[4096] = { 0 };

	dio_path(p, sizeof(p), "dio-unal.qcow2");
	make_qcow2(p, 1 << 20, 65536, 3, NULL, NULL);
	img = open_none(p);
	cr_assert_eq(wr(img, buf, 4096, 100), -EINVAL);
	cr_assert_eq(wr(img, buf, 100, 0), -EINVAL);
	cr_assert_eq(rd(img, buf, 4096, 100), -EINVAL);
	cr_assert_eq(img->ops->write_zeroes(img, 100, 512), -EINVAL);
	img->ops->close(img);
}

static void queue_io(struct blk_queue *bq, enum blk_op op, void *buf, size_t n, uint64_t off)
{
	struct iovec v = { buf, n };
	struct blk_req r = { .op = op, .offset = off, .len = n, .iov = &v, .iovcnt = 1 }, *done;

	cr_assert_eq(blk_queue_submit(bq, &r), 0);
	for (int i = 0; i < 5000; i++) {
		if (blk_queue_reap(bq, &done, 1) == 1) {
			cr_assert_eq(done, &r);
			cr_assert_eq(r.result, 0, "op %d: %d", op, r.result);
			return;
		}
		usleep(1000);
	}
	cr_assert_fail("request did not complete");
}

/*
 * Through blk_image_open() + blk_queue: allocating writes on the slow path,
 * in-place writes and reads via map(); with cache=none from unaligned
 * buffers (bounced by the image and by the io_uring engine).
 */
static void queue_round_trip(const char *p, enum disk_cache cache, size_t mis)
{
	char err[256];
	struct blk_image *img;
	struct blk_queue *bq;
	uint8_t *mb = malloc((1 << 20) + 1), *mg = malloc((1 << 20) + 1);
	uint8_t *b = mb + mis, *got = mg + mis;

	make_qcow2(p, 8 << 20, 65536, 3, NULL, NULL);
	cr_assert_eq(blk_image_open(p, DISK_FORMAT_QCOW2, false, cache, &img, err, sizeof(err)),
		     0, "%s", err);
	cr_assert_eq(img->align > 1, cache == DISK_CACHE_NONE);
	cr_assert_eq(blk_queue_create(img, BLK_ENGINE_AUTO, 8, &bq), 0);
	fill(b, 1 << 20, 77);
	queue_io(bq, BLK_OP_WRITE, b, 1 << 20, 3 << 20);	/* allocating */
	queue_io(bq, BLK_OP_WRITE, b + 4096, 4096, 3 << 20);	/* in place (map) */
	memcpy(b, b + 4096, 4096);
	queue_io(bq, BLK_OP_FLUSH, NULL, 0, 0);
	memset(got, 0, 1 << 20);
	queue_io(bq, BLK_OP_READ, got, 1 << 20, 3 << 20);	/* map fast path */
	cr_assert_eq(memcmp(got, b, 1 << 20), 0);
	queue_io(bq, BLK_OP_READ, got, 4096, 0);			/* unallocated: slow path */
	for (int i = 0; i < 4096; i++)
		cr_assert_eq(got[i], 0);
	blk_queue_destroy(bq);
	blk_image_close(img);
	img = open_q(p, true);
	assert_clean(img);
	img->ops->close(img);
	free(mb);
	free(mg);
}

Test(qcow2_queue, writeback)
{
	char p[256];

	tmp_path(p, sizeof(p), "queue.qcow2");
	queue_round_trip(p, DISK_CACHE_WRITEBACK, 0);
}

Test(qcow2_queue, cache_none_unaligned_buffers)
{
	char p[256];

	dio_path(p, sizeof(p), "queue-dio.qcow2");
	queue_round_trip(p, DISK_CACHE_NONE, 1);
}

Test(qcow2_dio, no_odirect_filesystem_one_line)
{
	const char *dir = "/dev/shm";
	char p[256], err[512];
	struct blk_image *img = NULL;
	int fd, ret;

	snprintf(p, sizeof(p), "%s/vmm-qcow2-dio-%d.qcow2", dir, (int)getpid());
	fd = open(p, O_CREAT | O_RDWR | O_DIRECT, 0644);
	if (fd >= 0) {
		close(fd);
		unlink(p);
		cr_skip_test("%s supports O_DIRECT on this kernel: the refusal is not testable", dir);
	}
	make_qcow2(p, 1 << 20, 65536, 3, NULL, NULL);
	ret = qcow2_format()->open(p, false, DISK_CACHE_NONE, &img, err, sizeof(err));
	unlink(p);
	cr_assert_eq(ret, -EINVAL);
	cr_assert_not_null(strstr(err, "with cache=none: the filesystem does not support O_DIRECT "
				  "(use cache=writeback)"), "%s", err);
	cr_assert_null(strchr(err, '\n'));
}
