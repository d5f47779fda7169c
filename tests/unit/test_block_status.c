// SPDX-License-Identifier: MIT
/*
 * blk_block_status(): raw (SEEK_DATA/SEEK_HOLE) and qcow2 (L1/L2 walk,
 * zero clusters, compressed clusters, qcow2 and raw backing files).
 */
#include "qcow2_helper.h"

#define KiB	1024ull
#define MiB	(1024ull * 1024)
#define CS	(64 * KiB)
#define DATA	BLK_STATUS_DATA
#define ZERO	BLK_STATUS_ZERO
#define ALLOC	BLK_STATUS_ALLOCATED

static struct blk_image *open_img(const char *path, enum disk_format f, bool ro)
{
	struct blk_image *img = NULL;
	char err[512];

	cr_assert_eq(blk_image_open(path, f, ro, DISK_CACHE_WRITEBACK, &img, err, sizeof(err)),
		     0, "open %s: %s", path, err);
	return img;
}

static void put(struct blk_image *img, uint64_t off, uint64_t len, int byte)
{
	uint8_t *b = malloc(len);
	struct iovec v = { b, len };

	cr_assert_not_null(b);
	memset(b, byte, len);
	cr_assert_eq(img->ops->pwritev(img, &v, 1, off), 0);
	free(b);
}

/* The status of the run at off (looking at the rest of the disk) is st, pnum long. */
static void expect(struct blk_image *img, uint64_t off, int st, uint64_t pnum)
{
	uint64_t n = 0;
	int ret = blk_block_status(img, off, img->size - off, &n);

	cr_assert_eq(ret, st, "at %llu: status %d, want %d", (unsigned long long)off, ret, st);
	cr_assert_eq(n, pnum, "at %llu: run of %llu, want %llu", (unsigned long long)off,
		     (unsigned long long)n, (unsigned long long)pnum);
}

static void make_raw(const char *p, uint64_t size)
{
	int fd = open(p, O_RDWR | O_CREAT | O_TRUNC, 0644);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)size), 0);
	close(fd);
}

Test(block_status, raw_holes_and_data)
{
	struct blk_image *img;
	uint64_t n;
	char p[256];

	tmp_path(p, sizeof(p), "s.raw");
	make_raw(p, 16 * MiB);
	img = open_img(p, DISK_FORMAT_RAW, false);
	put(img, 4 * MiB, CS, 0x5a);
	cr_assert_eq(img->ops->flush(img), 0);
	expect(img, 0, ZERO | ALLOC, 4 * MiB);
	expect(img, 4 * MiB, DATA | ALLOC, CS);
	expect(img, 4 * MiB + 4096, DATA | ALLOC, CS - 4096);
	expect(img, 4 * MiB + CS, ZERO | ALLOC, 12 * MiB - CS);
	/* the run never passes len */
	cr_assert_eq(blk_block_status(img, 0, MiB, &n), ZERO | ALLOC);
	cr_assert_eq(n, MiB);
	cr_assert_eq(blk_block_status(img, 4 * MiB, 4096, &n), DATA | ALLOC);
	cr_assert_eq(n, 4096);
	/* outside the disk */
	cr_assert_eq(blk_block_status(img, 0, 0, &n), -EINVAL);
	cr_assert_eq(blk_block_status(img, 16 * MiB, 1, &n), -EINVAL);
	cr_assert_eq(blk_block_status(img, 8 * MiB, 9 * MiB, &n), -EINVAL);
	blk_image_close(img);
}

Test(block_status, raw_all_data)
{
	struct blk_image *img;
	char p[256];

	tmp_path(p, sizeof(p), "full.raw");
	make_raw(p, MiB);
	img = open_img(p, DISK_FORMAT_RAW, false);
	put(img, 0, MiB, 1);
	expect(img, 0, DATA | ALLOC, MiB);
	blk_image_close(img);
}

Test(block_status, qcow2_empty_is_one_zero_run)
{
	struct blk_image *img;
	char p[256];

	/* 64 GiB, no data: one answer from the L1 table alone */
	tmp_path(p, sizeof(p), "big.qcow2");
	make_qcow2(p, 64ull << 30, 0, 3, NULL, NULL);
	img = open_img(p, DISK_FORMAT_QCOW2, true);
	expect(img, 0, ZERO, 64ull << 30);
	expect(img, 12345ull << 20, ZERO, (64ull << 30) - (12345ull << 20));
	blk_image_close(img);
}

Test(block_status, qcow2_data_runs)
{
	struct blk_image *img;
	uint64_t n;
	char p[256];

	tmp_path(p, sizeof(p), "d.qcow2");
	make_qcow2(p, 8 * MiB, CS, 3, NULL, NULL);
	img = open_img(p, DISK_FORMAT_QCOW2, false);
	put(img, 2 * CS, 2 * CS, 0x11);	/* clusters 2, 3 */
	put(img, 6 * MiB, 100, 0x22);		/* part of one cluster */
	expect(img, 0, ZERO, 2 * CS);
	expect(img, 2 * CS, DATA | ALLOC, 2 * CS);
	expect(img, 2 * CS + 100, DATA | ALLOC, 2 * CS - 100);
	expect(img, 4 * CS, ZERO, 6 * MiB - 4 * CS);
	expect(img, 6 * MiB, DATA | ALLOC, CS);
	expect(img, 6 * MiB + CS, ZERO, 2 * MiB - CS);
	cr_assert_eq(blk_block_status(img, 2 * CS, CS + 1, &n), DATA | ALLOC);
	cr_assert_eq(n, CS + 1);
	blk_image_close(img);
}

Test(block_status, qcow2_zero_and_compressed_clusters)
{
	struct blk_image *base, *top;
	char pb[256], pt[256];
	uint8_t *c = qcow2_alloc_aligned(CS);

	tmp_path(pb, sizeof(pb), "zb.qcow2");
	tmp_path(pt, sizeof(pt), "zt.qcow2");
	make_qcow2(pb, 4 * MiB, CS, 3, NULL, NULL);
	base = open_img(pb, DISK_FORMAT_QCOW2, false);
	put(base, 0, 8 * CS, 0x33);
	blk_image_close(base);
	make_qcow2(pt, 4 * MiB, CS, 3, pb, "qcow2");
	top = open_img(pt, DISK_FORMAT_QCOW2, false);
	/* with a backing file, write_zeroes of whole clusters leaves zero clusters */
	cr_assert_eq(top->ops->write_zeroes(top, 2 * CS, 2 * CS), 0);
	memset(c, 0x44, CS);
	cr_assert_eq(qcow2_write_compressed(top, 5 * CS, c), 0);
	put(top, 6 * CS, CS, 0x55);
	expect(top, 0, DATA, 2 * CS);			/* from the backing file */
	expect(top, 2 * CS, ZERO | ALLOC, 2 * CS);	/* zero clusters hide the backing data */
	expect(top, 4 * CS, DATA, CS);
	expect(top, 5 * CS, DATA | ALLOC, 2 * CS);	/* compressed, then plain */
	expect(top, 7 * CS, DATA, CS);
	expect(top, 8 * CS, ZERO, 4 * MiB - 8 * CS);	/* nothing anywhere */
	blk_image_close(top);
	free(c);
}

Test(block_status, qcow2_backing_shorter_and_raw)
{
	struct blk_image *top;
	char pb[256], pt[256];
	int fd;

	/* a raw backing file of 1 MiB, data in its second 64 KiB only */
	tmp_path(pb, sizeof(pb), "rb.raw");
	tmp_path(pt, sizeof(pt), "rt.qcow2");
	make_raw(pb, MiB);
	fd = open(pb, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, "x", 1, (off_t)CS), 1);
	close(fd);
	make_qcow2(pt, 8 * MiB, CS, 3, pb, "raw");
	top = open_img(pt, DISK_FORMAT_QCOW2, true);
	expect(top, 0, ZERO, CS);			/* a hole in the raw backing file */
	expect(top, CS, DATA, 4096);			/* one file system block of data */
	expect(top, CS + 4096, ZERO, MiB - CS - 4096);
	expect(top, MiB, ZERO, 7 * MiB);		/* past the backing file's end */
	blk_image_close(top);
}

Test(block_status, qcow2_v2_has_no_zero_flag)
{
	struct blk_image *img;
	struct qcow2 *q;
	uint64_t l2;
	uint8_t e[8];
	char p[256];

	tmp_path(p, sizeof(p), "v2.qcow2");
	make_qcow2(p, MiB, CS, 2, NULL, NULL);
	img = open_img(p, DISK_FORMAT_QCOW2, false);
	put(img, 0, CS, 0x66);
	q = qcow2_of(img);
	cr_assert_eq(img->ops->flush(img), 0);
	/* bit 0 of a v2 entry is no zero flag: the cluster is still data */
	l2 = q->l1[0] & QCOW2_OFFSET_MASK;
	cr_assert_eq(pread(q->fd, e, 8, (off_t)l2), 8);
	e[7] |= 1;
	blk_image_close(img);
	poke(p, l2, e, 8);
	img = open_img(p, DISK_FORMAT_QCOW2, true);
	expect(img, 0, DATA | ALLOC, CS);
	expect(img, CS, ZERO, MiB - CS);
	blk_image_close(img);
}
