// SPDX-License-Identifier: MIT
/*
 * qcow2 write ordering for power loss: a hook records every write and sync
 * of the image file, and the tests check that a sync separates each write
 * from the writes that depend on it (refcount up -> L2 entry, COW data ->
 * L2 entry, L2 entry removed -> refcount down), with one sync per batch,
 * not per write, and none at all with cache=unsafe.
 */
#include "qcow2_helper.h"

#define MAX_EV 65536

struct ev {
	enum qcow2_io_kind kind;
	uint64_t off, len;
};

struct rec {
	struct ev ev[MAX_EV];
	int n;
};

static struct rec R;

static void hook(void *arg, enum qcow2_io_kind kind, uint64_t off, uint64_t len)
{
	struct rec *r = arg;

	cr_assert_lt(r->n, MAX_EV);
	r->ev[r->n++] = (struct ev){ kind, off, len };
}

static struct blk_image *open_cache(const char *path, enum disk_cache cache)
{
	struct blk_image *img = NULL;
	char err[512];
	int ret = qcow2_format()->open(path, false, cache, &img, err, sizeof(err));

	cr_assert_eq(ret, 0, "open %s: %s", path, err);
	R.n = 0;
	qcow2_of(img)->trace = hook;
	qcow2_of(img)->trace_arg = &R;
	return img;
}

/* First event of kind at index >= from whose range covers byte off; -1 if none. */
static int find(enum qcow2_io_kind kind, uint64_t off, int from)
{
	for (int i = from; i < R.n; i++)
		if (R.ev[i].kind == kind && R.ev[i].off <= off && off < R.ev[i].off + R.ev[i].len)
			return i;
	return -1;
}

static int count(enum qcow2_io_kind kind, int from, int to)
{
	int n = 0;

	for (int i = from; i < to; i++)
		n += R.ev[i].kind == kind;
	return n;
}

static bool sync_between(int a, int b)
{
	return a >= 0 && b > a && count(QCOW2_IO_SYNC, a + 1, b) > 0;
}

static uint64_t l2_entry_off(struct qcow2 *q, uint64_t voff)
{
	uint64_t l1 = q->l1[voff >> (q->h.cluster_bits + q->l2_bits)] & QCOW2_OFFSET_MASK;

	cr_assert_neq(l1, 0);
	return l1 + ((voff >> q->h.cluster_bits) & ((1ull << q->l2_bits) - 1)) * 8;
}

/* Byte of the refcount (16-bit) of the cluster at host offset host. */
static uint64_t refcount_off(struct qcow2 *q, uint64_t host)
{
	uint64_t c = host >> q->h.cluster_bits;

	cr_assert_eq(q->refcount_bits, 16);
	return (q->rt[c >> q->rb_bits] & QCOW2_OFFSET_MASK) + (c & ((1ull << q->rb_bits) - 1)) * 2;
}

static uint64_t host_of(struct blk_image *img, uint64_t voff)
{
	uint64_t e;

	cr_assert_eq(qcow2_get_l2_entry(qcow2_of(img), voff, &e), 0);
	cr_assert_neq(e & QCOW2_OFFSET_MASK, 0);
	return e & QCOW2_OFFSET_MASK;
}

static uint64_t refcount(struct blk_image *img, uint64_t host)
{
	uint64_t rc;

	cr_assert_eq(qcow2_get_refcount(qcow2_of(img), host >> qcow2_of(img)->h.cluster_bits, &rc), 0);
	return rc;
}

Test(qcow2_order, refcount_durable_before_l2_entry_one_sync_per_batch)
{
	char p[256];
	struct blk_image *img;
	struct qcow2 *q;
	uint8_t buf[4096];

	tmp_path(p, sizeof(p), "ord-alloc.qcow2");
	make_qcow2(p, 64 << 20, 65536, 3, NULL, NULL);
	img = open_cache(p, DISK_CACHE_WRITEBACK);
	q = qcow2_of(img);
	for (int i = 0; i < 64; i++) {
		uint64_t voff = (uint64_t)i * 65536 + 512, host;
		int rc_w, l2_w;

		fill(buf, sizeof(buf), (uint32_t)i);
		cr_assert_eq(wr(img, buf, sizeof(buf), voff), 0);
		host = host_of(img, voff);
		rc_w = find(QCOW2_IO_REFBLOCK, refcount_off(q, host), 0);
		l2_w = find(QCOW2_IO_L2, l2_entry_off(q, voff), rc_w + 1);
		cr_assert_geq(rc_w, 0, "refcount of cluster %d never written", i);
		cr_assert_geq(l2_w, 0, "L2 entry of a fresh cluster is written through");
		cr_assert(sync_between(rc_w, l2_w),
			  "no sync between refcount write (#%d) and L2 entry (#%d), write %d",
			  rc_w, l2_w, i);
	}
	/* pool batches of 16 clusters: 4 syncs (+1 for the L2 table's batch) */
	cr_assert_leq(count(QCOW2_IO_SYNC, 0, R.n), 6, "%d syncs for 64 allocating writes",
		      count(QCOW2_IO_SYNC, 0, R.n));
	img->ops->close(img);
}

/*
 * A write of many whole unallocated clusters (convert writing a new image):
 * per pool batch one data write, one L2 write and one refcount write, not
 * one of each per cluster; and each cluster's refcount synced before its L2
 * entry, its data written before it.
 */
Test(qcow2_order, run_write_batches_metadata_keeps_order)
{
	const size_t len = 4 << 20;
	char p[256];
	struct blk_image *img;
	struct qcow2 *q;
	uint8_t *buf = malloc(len), *got = malloc(len);

	cr_assert(buf && got);
	tmp_path(p, sizeof(p), "ord-run.qcow2");
	make_qcow2(p, 64 << 20, 65536, 3, NULL, NULL);
	img = open_cache(p, DISK_CACHE_WRITEBACK);
	q = qcow2_of(img);
	fill(buf, len, 7);
	cr_assert_eq(wr(img, buf, len, 1 << 20), 0);
	for (uint64_t v = 1 << 20; v < (1 << 20) + len; v += 65536) {
		uint64_t host = host_of(img, v);
		int rc_w = find(QCOW2_IO_REFBLOCK, refcount_off(q, host), 0);
		int d = find(QCOW2_IO_DATA, host, 0);
		int l2_w = find(QCOW2_IO_L2, l2_entry_off(q, v), d + 1);

		cr_assert_geq(d, 0, "data of 0x%llx never written", (unsigned long long)v);
		cr_assert_geq(l2_w, 0, "L2 entry of 0x%llx not written after its data",
			      (unsigned long long)v);
		cr_assert(sync_between(rc_w, l2_w), "refcount of 0x%llx not synced before its "
			  "L2 entry", (unsigned long long)v);
	}
	/* 64 clusters in pool batches of 16: 4 of each (+ the L2 table's batch) */
	cr_assert_leq(count(QCOW2_IO_DATA, 0, R.n), 6, "%d data writes",
		      count(QCOW2_IO_DATA, 0, R.n));
	cr_assert_leq(count(QCOW2_IO_L2, 0, R.n), 7, "%d L2 writes", count(QCOW2_IO_L2, 0, R.n));
	cr_assert_leq(count(QCOW2_IO_REFBLOCK, 0, R.n), 6, "%d refcount writes",
		      count(QCOW2_IO_REFBLOCK, 0, R.n));
	cr_assert_eq(rd(img, got, len, 1 << 20), 0);
	cr_assert_eq(memcmp(got, buf, len), 0);
	/* a second write over allocated clusters goes in place */
	fill(buf, len, 8);
	cr_assert_eq(wr(img, buf, len, 1 << 20), 0);
	img->ops->close(img);
	img = open_q(p, true);
	cr_assert_eq(rd(img, got, len, 1 << 20), 0);
	cr_assert_eq(memcmp(got, buf, len), 0);
	assert_clean(img);
	img->ops->close(img);
	free(buf);
	free(got);
}

Test(qcow2_order, cow_data_durable_before_l2_entry)
{
	char base[256], p[256];
	struct blk_image *img;
	struct qcow2 *q;
	uint8_t *b = malloc(1 << 20), buf[4096], got[65536];
	uint64_t host;
	int d, l2_w;

	tmp_path(base, sizeof(base), "ord-base.raw");
	tmp_path(p, sizeof(p), "ord-cow.qcow2");
	fill(b, 1 << 20, 77);
	write_file(base, b, 1 << 20);
	make_qcow2(p, 1 << 20, 65536, 3, base, "raw");
	img = open_cache(p, DISK_CACHE_WRITEBACK);
	q = qcow2_of(img);
	fill(buf, sizeof(buf), 5);
	for (int i = 0; i < 8; i++)	/* partial clusters: old contents merged in */
		cr_assert_eq(wr(img, buf, sizeof(buf), (uint64_t)i * 65536 + 8192), 0);
	/* the guest reads its write before any flush */
	cr_assert_eq(rd(img, got, 4096, 8192), 0);
	cr_assert_eq(memcmp(got, buf, 4096), 0);
	cr_assert_eq(img->ops->flush(img), 0);
	for (int i = 0; i < 8; i++) {
		uint64_t voff = (uint64_t)i * 65536 + 8192;

		host = host_of(img, voff);
		d = find(QCOW2_IO_DATA, host + 8192, 0);
		l2_w = find(QCOW2_IO_L2, l2_entry_off(q, voff), d + 1);
		cr_assert_geq(d, 0);
		/* before the data only the new (zeroed) table itself may be written */
		cr_assert(sync_between(d, l2_w), "COW data (#%d) not synced before its L2 entry (#%d)",
			  d, l2_w);
		cr_assert(sync_between(l2_w, R.n), "flush left the L2 entry not durable");
	}
	/* 8 COW writes are not 8 syncs */
	cr_assert_leq(count(QCOW2_IO_SYNC, 0, R.n), 4);
	img->ops->close(img);
	img = open_q(p, true);
	cr_assert_eq(rd(img, got, sizeof(got), 65536), 0);
	cr_assert_eq(memcmp(got, b + 65536, 8192), 0, "backing data before the write lost");
	cr_assert_eq(memcmp(got + 8192, buf, 4096), 0);
	cr_assert_eq(memcmp(got + 12288, b + 65536 + 12288, 65536 - 12288), 0);
	assert_clean(img);
	img->ops->close(img);
	free(b);
}

Test(qcow2_order, refcount_lowered_after_l2_removal_is_durable)
{
	char p[256];
	struct blk_image *img;
	struct qcow2 *q;
	uint8_t *buf = malloc(65536), got[4096];
	uint64_t host[4];
	int start, l2_w, rc_w, s;

	tmp_path(p, sizeof(p), "ord-free.qcow2");
	make_qcow2(p, 8 << 20, 65536, 3, NULL, NULL);
	img = open_cache(p, DISK_CACHE_WRITEBACK);
	q = qcow2_of(img);
	for (int i = 0; i < 4; i++) {
		fill(buf, 65536, (uint32_t)i);
		cr_assert_eq(wr(img, buf, 65536, (uint64_t)i * 65536), 0);
		host[i] = host_of(img, (uint64_t)i * 65536);
	}
	cr_assert_eq(img->ops->flush(img), 0);
	start = R.n;
	cr_assert_eq(img->ops->discard(img, 0, 4 * 65536), 0);
	/* still referenced on disk until a sync: the refcount stays up */
	for (int i = 0; i < 4; i++)
		cr_assert_eq(refcount(img, host[i]), 1);
	cr_assert_eq(count(QCOW2_IO_REFBLOCK, start, R.n), 0, "refcount lowered before a sync");
	cr_assert_eq(img->ops->flush(img), 0);
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(refcount(img, host[i]), 0);
		l2_w = find(QCOW2_IO_L2, l2_entry_off(q, (uint64_t)i * 65536), start);
		rc_w = find(QCOW2_IO_REFBLOCK, refcount_off(q, host[i]), start);
		cr_assert(sync_between(l2_w, rc_w), "refcount write (#%d) not after a sync that "
			  "follows the L2 removal (#%d)", rc_w, l2_w);
	}
	/* the freed clusters are reused; their entries wait for a sync, not each write */
	s = R.n;
	for (int i = 0; i < 16; i++) {
		fill(buf, 4096, 100 + (uint32_t)i);
		cr_assert_eq(wr(img, buf, 4096, (uint64_t)i * 65536), 0);
	}
	cr_assert_leq(count(QCOW2_IO_SYNC, s, R.n), 3, "%d syncs for 16 writes",
		      count(QCOW2_IO_SYNC, s, R.n));
	cr_assert_eq(img->ops->flush(img), 0);
	for (int i = 0; i < 16; i++) {
		uint64_t h = host_of(img, (uint64_t)i * 65536);
		int d = find(QCOW2_IO_DATA, h, s);

		l2_w = find(QCOW2_IO_L2, l2_entry_off(q, (uint64_t)i * 65536), d + 1);
		for (int k = 0; k < 4; k++)
			if (h == host[k])
				cr_assert(sync_between(d, l2_w), "reused cluster's data (#%d) not "
					  "synced before its L2 entry (#%d)", d, l2_w);
	}
	img->ops->close(img);
	img = open_q(p, true);
	for (int i = 0; i < 16; i++) {
		fill(buf, 4096, 100 + (uint32_t)i);
		cr_assert_eq(rd(img, got, 4096, (uint64_t)i * 65536), 0);
		cr_assert_eq(memcmp(got, buf, 4096), 0, "cluster %d", i);
	}
	assert_clean(img);
	img->ops->close(img);
	free(buf);
}

Test(qcow2_order, unsafe_never_syncs_and_defers_nothing)
{
	char base[256], p[256];
	struct blk_image *img;
	uint8_t buf[4096];
	int fd;

	tmp_path(base, sizeof(base), "ord-ubase.raw");
	tmp_path(p, sizeof(p), "ord-unsafe.qcow2");
	fd = open(base, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	make_qcow2(p, 1 << 20, 65536, 3, base, "raw");
	img = open_cache(p, DISK_CACHE_UNSAFE);
	fill(buf, sizeof(buf), 1);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(wr(img, buf, sizeof(buf), (uint64_t)i * 65536 + 512), 0);
	cr_assert_eq(img->ops->discard(img, 0, 65536), 0);
	cr_assert_eq(qcow2_of(img)->l2c.ndirty, 0);
	cr_assert_eq(qcow2_of(img)->nfrees, 0);
	cr_assert_eq(img->ops->flush(img), 0);
	img->ops->close(img);
	cr_assert_eq(count(QCOW2_IO_SYNC, 0, R.n), 0);
	img = open_q(p, true);
	assert_clean(img);
	img->ops->close(img);
}
