// SPDX-License-Identifier: MIT
/* qcow2 read/write paths on synthetic images: round trips, allocation,
 * refcount growth, backing files, zero and compressed clusters, map, snapshot. */
#include <pthread.h>
#include <sys/stat.h>

#include "qcow2_helper.h"

static void round_trip(uint32_t cs, int version)
{
	char p[256], name[64];
	struct blk_image *img;
	uint64_t size = 8 << 20;
	uint8_t *ref = calloc(1, size), *got = malloc(size), *buf = malloc(200000);
	uint64_t s = 88172645463325252ull;

	snprintf(name, sizeof(name), "rt-%u-%d.qcow2", cs, version);
	tmp_path(p, sizeof(p), name);
	make_qcow2(p, size, cs, version, NULL, NULL);
	img = open_q(p, false);
	for (int i = 0; i < 300; i++) {
		uint64_t off, len;

		s ^= s << 13; s ^= s >> 7; s ^= s << 17;
		off = s % size;
		len = 1 + (s >> 32) % 150000;
		if (off + len > size)
			len = size - off;
		fill(buf, len, (uint32_t)i);
		cr_assert_eq(wr(img, buf, len, off), 0);
		memcpy(ref + off, buf, len);
	}
	cr_assert_eq(rd(img, got, size, 0), 0);
	cr_assert_eq(memcmp(got, ref, size), 0, "read-back before reopen, cs %u", cs);
	assert_clean(img);
	assert_reopened(img, p, got, ref, size, cs);
	free(ref);
	free(got);
	free(buf);
}

Test(qcow2_io, round_trip_512) { round_trip(512, 3); }
Test(qcow2_io, round_trip_4k) { round_trip(4096, 3); }
Test(qcow2_io, round_trip_64k) { round_trip(65536, 3); }
Test(qcow2_io, round_trip_2m) { round_trip(2 << 20, 3); }
Test(qcow2_io, round_trip_v2) { round_trip(65536, 2); }

Test(qcow2_io, out_of_range_and_readonly)
{
	char p[256];
	struct blk_image *img;
	uint8_t b[512] = { 0 };

	tmp_path(p, sizeof(p), "range.qcow2");
	make_qcow2(p, 1 << 20, 65536, 3, NULL, NULL);
	img = open_q(p, true);
	cr_assert_eq(rd(img, b, 512, (1 << 20) - 256), -EINVAL);
	cr_assert_eq(wr(img, b, 512, 0), -EROFS);
	img->ops->close(img);
}

Test(qcow2_io, refcount_table_grows)
{
	char p[256];
	struct blk_image *img;
	uint64_t size = 24 << 20, old;
	uint8_t *buf = malloc(1 << 20), *got = malloc(1 << 20);

	tmp_path(p, sizeof(p), "grow.qcow2");
	make_qcow2(p, size, 512, 3, NULL, NULL);
	img = open_q(p, false);
	old = qcow2_of(img)->rt_entries;
	for (uint64_t off = 0; off < size; off += 1 << 20) {
		fill(buf, 1 << 20, (uint32_t)(off >> 20));
		cr_assert_eq(wr(img, buf, 1 << 20, off), 0);
	}
	cr_assert_gt(qcow2_of(img)->rt_entries, old, "refcount table did not grow");
	assert_clean(img);
	img->ops->close(img);
	img = open_q(p, true);
	for (uint64_t off = 0; off < size; off += 1 << 20) {
		fill(buf, 1 << 20, (uint32_t)(off >> 20));
		cr_assert_eq(rd(img, got, 1 << 20, off), 0);
		cr_assert_eq(memcmp(buf, got, 1 << 20), 0, "at %llu", (unsigned long long)off);
	}
	img->ops->close(img);
	free(buf);
	free(got);
}

Test(qcow2_io, backing_reads_and_cow)
{
	char raw[256], mid[256], top[256];
	struct blk_image *img;
	uint8_t *b = malloc(3 << 20), *got = malloc(4 << 20), w[100];

	tmp_path(raw, sizeof(raw), "base.raw");
	tmp_path(mid, sizeof(mid), "mid.qcow2");
	tmp_path(top, sizeof(top), "top.qcow2");
	fill(b, 3 << 20, 5);
	write_file(raw, b, 3 << 20);
	make_qcow2(mid, 4 << 20, 65536, 3, "base.raw", "raw");
	img = open_q(mid, false);
	memset(w, 0xee, sizeof(w));
	cr_assert_eq(wr(img, w, sizeof(w), 70000), 0);	/* partial cluster: COW */
	memcpy(b + 70000, w, sizeof(w));
	img->ops->close(img);
	make_qcow2(top, 4 << 20, 4096, 3, "mid.qcow2", "qcow2");	/* depth 2 */
	img = open_q(top, false);
	cr_assert_eq(rd(img, got, 4 << 20, 0), 0);
	cr_assert_eq(memcmp(got, b, 3 << 20), 0, "backing data");
	for (int i = 3 << 20; i < 4 << 20; i++)	/* past the raw backing's end */
		cr_assert_eq(got[i], 0);
	cr_assert_eq(img->ops->write_zeroes(img, 0, 8192), 0);	/* zero flag over backing */
	cr_assert_eq(rd(img, got, 8192, 0), 0);
	for (int i = 0; i < 8192; i++)
		cr_assert_eq(got[i], 0);
	cr_assert_eq(img->ops->discard(img, 4096 * 10, 4096), 0);
	cr_assert_eq(rd(img, got, 4096, 4096 * 2), 0);
	cr_assert_eq(memcmp(got, b + 8192, 4096), 0, "untouched cluster still from backing");
	assert_clean(img);
	img->ops->close(img);
	free(b);
	free(got);
}

Test(qcow2_io, zero_clusters_free_space)
{
	char p[256];
	struct blk_image *img;
	uint8_t *b = malloc(1 << 20);
	uint64_t rc;

	tmp_path(p, sizeof(p), "zero.qcow2");
	make_qcow2(p, 4 << 20, 65536, 3, NULL, NULL);
	img = open_q(p, false);
	fill(b, 1 << 20, 9);
	cr_assert_eq(wr(img, b, 1 << 20, 0), 0);
	cr_assert_eq(img->ops->write_zeroes(img, 65536, 3 * 65536 + 100), 0);
	cr_assert_eq(rd(img, b, 1 << 20, 0), 0);
	for (int i = 65536; i < 4 * 65536 + 100; i++)
		cr_assert_eq(b[i], 0, "byte %d", i);
	cr_assert_neq(b[4 * 65536 + 100], 0);
	{
		uint64_t e;
		struct qcow2 *q = qcow2_of(img);

		pthread_mutex_lock(&q->lock);
		cr_assert_eq(qcow2_get_l2_entry(q, 65536, &e), 0);
		cr_assert_eq(e & QCOW2_OFFSET_MASK, 0, "whole zeroed cluster deallocated");
		cr_assert_eq(qcow2_get_refcount(q, 1, &rc), 0);
		pthread_mutex_unlock(&q->lock);
	}
	assert_clean(img);
	img->ops->close(img);
	free(b);
}

Test(qcow2_io, compressed_write_and_read)
{
	char p[256];
	struct blk_image *img;
	uint8_t *b = calloc(1, 65536), *got = malloc(65536);

	tmp_path(p, sizeof(p), "comp.qcow2");
	make_qcow2(p, 1 << 20, 65536, 3, NULL, NULL);
	img = open_q(p, false);
	for (int c = 0; c < 8; c++) {
		memset(b, 'a' + c, 65536);
		snprintf((char *)b + 100, 50, "cluster %d", c);
		cr_assert_eq(qcow2_write_compressed(img, (uint64_t)c * 65536, b), 0);
	}
	/* several compressed clusters share one host cluster */
	{
		uint64_t e0, e1;
		struct qcow2 *q = qcow2_of(img);

		cr_assert_eq(qcow2_get_l2_entry(q, 0, &e0), 0);
		cr_assert_eq(qcow2_get_l2_entry(q, 65536, &e1), 0);
		cr_assert(e0 & QCOW2_OFLAG_COMPRESSED);
		cr_assert(e1 & QCOW2_OFLAG_COMPRESSED);
	}
	for (int c = 0; c < 8; c++) {
		memset(b, 'a' + c, 65536);
		snprintf((char *)b + 100, 50, "cluster %d", c);
		cr_assert_eq(rd(img, got, 65536, (uint64_t)c * 65536), 0);
		cr_assert_eq(memcmp(got, b, 65536), 0, "cluster %d", c);
	}
	assert_clean(img);
	/* overwrite part of a compressed cluster: decompress, merge, allocate */
	memset(b, 'Z', 10);
	cr_assert_eq(wr(img, b, 10, 65536 + 5), 0);
	cr_assert_eq(rd(img, got, 65536, 65536), 0);
	cr_assert_eq(got[4], 'b');
	cr_assert_eq(got[5], 'Z');
	cr_assert_eq(got[15], 'b');
	assert_clean(img);
	img->ops->close(img);
	free(b);
	free(got);
}

Test(qcow2_io, map_fast_path)
{
	char p[256];
	struct blk_image *img;
	uint8_t b[8192], got[8192];
	uint64_t host;
	int fd;

	tmp_path(p, sizeof(p), "map.qcow2");
	make_qcow2(p, 1 << 20, 4096, 3, NULL, NULL);
	img = open_q(p, false);
	cr_assert_eq(img->ops->map(img, 0, 4096, false, &fd, &host), -ENOENT);
	fill(b, sizeof(b), 3);
	cr_assert_eq(wr(img, b, sizeof(b), 8192), 0);
	cr_assert_eq(img->ops->map(img, 8192 + 100, 8000, true, &fd, &host), 0);
	cr_assert_eq(pread(fd, got, 8000, (off_t)host), 8000);
	cr_assert_eq(memcmp(got, b + 100, 8000), 0);
	cr_assert_eq(img->ops->map(img, 8192, 12288, false, &fd, &host), -ENOENT);
	img->ops->close(img);
}

Test(qcow2_io, snapshot_overlay_leaves_base)
{
	char raw[256];
	struct blk_image *img;
	uint8_t b[4096], got[4096];
	char err[256];
	int fd;

	tmp_path(raw, sizeof(raw), "snapbase.raw");
	fill(b, sizeof(b), 1);
	fd = open(raw, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_eq(write(fd, b, sizeof(b)), 4096);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	cr_assert_eq(blk_snapshot_open(raw, DISK_FORMAT_RAW, DISK_CACHE_WRITEBACK, &img,
				       err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(img->size, 1 << 20);
	cr_assert_eq(rd(img, got, 4096, 0), 0);
	cr_assert_eq(memcmp(got, b, 4096), 0);
	memset(got, 0x55, sizeof(got));
	cr_assert_eq(wr(img, got, 4096, 0), 0);
	cr_assert_eq(rd(img, b, 4096, 0), 0);
	cr_assert_eq(b[0], 0x55);
	img->ops->close(img);
	fd = open(raw, O_RDONLY);
	cr_assert_eq(read(fd, got, 4096), 4096);
	close(fd);
	fill(b, sizeof(b), 1);
	cr_assert_eq(memcmp(got, b, 4096), 0, "base untouched");
}

struct thr { struct blk_image *img; int id; };

static void *writer(void *arg)
{
	struct thr *t = arg;
	uint8_t b[6000];

	for (int i = 0; i < 64; i++) {
		fill(b, sizeof(b), (uint32_t)(t->id * 1000 + i));
		if (wr(t->img, b, sizeof(b), ((uint64_t)t->id * 64 + i) * 8192) < 0)
			return (void *)1;
	}
	return NULL;
}

Test(qcow2_io, concurrent_writers)
{
	char p[256];
	struct blk_image *img;
	pthread_t th[4];
	struct thr t[4];
	uint8_t b[6000], got[6000];

	tmp_path(p, sizeof(p), "thr.qcow2");
	make_qcow2(p, 4 << 20, 4096, 3, NULL, NULL);
	img = open_q(p, false);
	for (int i = 0; i < 4; i++) {
		t[i] = (struct thr){ img, i };
		pthread_create(&th[i], NULL, writer, &t[i]);
	}
	for (int i = 0; i < 4; i++) {
		void *r;

		pthread_join(th[i], &r);
		cr_assert_null(r);
	}
	for (int id = 0; id < 4; id++)
		for (int i = 0; i < 64; i++) {
			fill(b, sizeof(b), (uint32_t)(id * 1000 + i));
			cr_assert_eq(rd(img, got, sizeof(got), ((uint64_t)id * 64 + i) * 8192), 0);
			cr_assert_eq(memcmp(b, got, sizeof(b)), 0);
		}
	assert_clean(img);
	img->ops->close(img);
}

Test(qcow2_io, resize_grows_l1)
{
	char p[256], err[256];
	struct blk_image *img;
	uint8_t b[512];

	tmp_path(p, sizeof(p), "resize.qcow2");
	make_qcow2(p, 1 << 20, 512, 3, NULL, NULL);
	img = open_q(p, false);
	cr_assert_eq(qcow2_resize(img, 64 << 20, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(img->size, 64 << 20);
	fill(b, sizeof(b), 4);
	cr_assert_eq(wr(img, b, sizeof(b), (64 << 20) - 512), 0);
	assert_clean(img);
	img->ops->close(img);
	img = open_q(p, true);
	cr_assert_eq(img->size, 64 << 20);
	img->ops->close(img);
}
