// SPDX-License-Identifier: MIT
/* qcow2 header parsing and every malformed-image error, on synthetic images. */
#include "qcow2_helper.h"

Test(qcow2, probe)
{
	uint8_t b[8] = { 'Q', 'F', 'I', 0xfb, 0, 0, 0, 3 };

	cr_assert(qcow2_probe(b, 8));
	/* the magic alone decides: a version vmm cannot read is still never raw */
	b[7] = 9;
	cr_assert(qcow2_probe(b, 8));
	cr_assert(qcow2_probe(b, 4));
	cr_assert_not(qcow2_probe(b, 3));
	b[3] = 0xfa;
	cr_assert_not(qcow2_probe(b, 8));
}

Test(qcow2, create_and_parse_header)
{
	char p[256];
	struct blk_image *img;
	struct qcow2 *q;

	tmp_path(p, sizeof(p), "hdr.qcow2");
	make_qcow2(p, 10ull << 30, 4096, 3, NULL, NULL);
	img = open_q(p, true);
	q = qcow2_of(img);
	cr_assert_eq(img->size, 10ull << 30);
	cr_assert_eq(q->cluster_size, 4096);
	cr_assert_eq(q->h.version, 3);
	cr_assert_eq(q->refcount_bits, 16);
	cr_assert_eq(q->h.l1_size, (10ull << 30) / (4096ull * 512));
	cr_assert_str_eq(img->format_name, "qcow2");
	assert_clean(img);
	img->ops->close(img);
}

Test(qcow2, v2_header)
{
	char p[256];
	struct blk_image *img;

	tmp_path(p, sizeof(p), "v2.qcow2");
	make_qcow2(p, 1 << 20, 0, 2, NULL, NULL);
	img = open_q(p, true);
	cr_assert_eq(qcow2_of(img)->h.version, 2);
	cr_assert_eq(qcow2_of(img)->h.header_length, 72);
	img->ops->close(img);
}

/* Makes a fresh 1 MiB image, applies one defect, expects an error naming it. */
static void expect_defect(const char *name, void (*apply)(const char *), const char *want)
{
	char p[256];
	const char *e;

	tmp_path(p, sizeof(p), name);
	make_qcow2(p, 1 << 20, 65536, 3, NULL, NULL);
	apply(p);
	e = open_err(p);
	cr_assert_not_null(e, "%s: opened despite the defect", name);
	cr_assert_not_null(strstr(e, p), "error does not name the image: %s", e);
	cr_assert_not_null(strstr(e, want), "error '%s' does not mention '%s'", e, want);
}

static void d_truncate(const char *p) { cr_assert_eq(truncate(p, 40), 0); }
static void d_l1eof(const char *p) { poke64(p, 40, 0x40000000); }
static void d_rteof(const char *p) { poke64(p, 48, 0x40000000); }
static void d_overlap(const char *p) { poke64(p, 40, 65536); }
static void d_cbits(const char *p) { poke32(p, 20, 31); }
static void d_cbits_small(const char *p) { poke32(p, 20, 8); }
static void d_size(const char *p) { poke64(p, 24, UINT64_MAX); }
static void d_incompat(const char *p) { poke64(p, 72, 1ull << 9); }
static void d_extl2(const char *p) { poke64(p, 72, 1ull << 4); }
static void d_datafile(const char *p) { poke64(p, 72, 1ull << 2); }
static void d_rorder(const char *p) { poke32(p, 96, 7); }
static void d_hdrlen(const char *p) { poke32(p, 100, 50); }
static void d_crypt(const char *p) { poke32(p, 32, 1); }
static void d_l1unaligned(const char *p) { poke64(p, 40, 65536 * 3 + 8); }
static void d_l1small(const char *p) { poke64(p, 24, 1ull << 40); }
static void d_backing_name(const char *p) { poke64(p, 8, 1ull << 40); poke32(p, 16, 10); }
static void d_l2eof(const char *p) { poke64(p, 3 * 65536, 0x8000000100000000ull); }
static void d_rbeof(const char *p) { poke64(p, 65536, 0x100000000ull); }
static void d_magic(const char *p) { poke32(p, 0, 0x12345678); }

Test(qcow2_malformed, truncated) { expect_defect("t1", d_truncate, "truncated"); }
Test(qcow2_malformed, l1_past_eof) { expect_defect("t2", d_l1eof, "L1 table at 0x40000000 extends past end of file"); }
Test(qcow2_malformed, rt_past_eof) { expect_defect("t3", d_rteof, "refcount table at 0x40000000 extends past end of file"); }
Test(qcow2_malformed, overlapping_tables) { expect_defect("t4", d_overlap, "overlaps the refcount table"); }
Test(qcow2_malformed, cluster_bits_big) { expect_defect("t5", d_cbits, "cluster_bits 31"); }
Test(qcow2_malformed, cluster_bits_small) { expect_defect("t6", d_cbits_small, "cluster_bits 8"); }
Test(qcow2_malformed, absurd_size) { expect_defect("t7", d_size, "virtual size"); }
Test(qcow2_malformed, unknown_incompat) { expect_defect("t8", d_incompat, "unknown incompatible feature bits 0x200"); }
Test(qcow2_malformed, extended_l2) { expect_defect("t9", d_extl2, "extended L2"); }
Test(qcow2_malformed, data_file) { expect_defect("t10", d_datafile, "external data file"); }
Test(qcow2_malformed, refcount_order) { expect_defect("t11", d_rorder, "refcount_order 7"); }
Test(qcow2_malformed, header_length) { expect_defect("t12", d_hdrlen, "header_length"); }
Test(qcow2_malformed, encrypted) { expect_defect("t13", d_crypt, "encrypted"); }
Test(qcow2_malformed, l1_unaligned) { expect_defect("t14", d_l1unaligned, "not cluster aligned"); }
Test(qcow2_malformed, l1_too_small) { expect_defect("t15", d_l1small, "L1 size"); }
Test(qcow2_malformed, backing_name) { expect_defect("t16", d_backing_name, "backing file name"); }
Test(qcow2_malformed, l2_past_eof) { expect_defect("t17", d_l2eof, "L2 table at 0x100000000"); }
Test(qcow2_malformed, refblock_past_eof) { expect_defect("t18", d_rbeof, "refcount block at 0x100000000"); }
Test(qcow2_malformed, bad_magic) { expect_defect("t19", d_magic, "bad magic"); }

Test(qcow2_malformed, backing_self)
{
	char p[256];
	const char *e;

	tmp_path(p, sizeof(p), "self.qcow2");
	make_qcow2(p, 1 << 20, 65536, 3, "self.qcow2", "qcow2");
	e = open_err(p);
	cr_assert_not_null(e);
	cr_assert_not_null(strstr(e, "loops"), "%s", e);
}

Test(qcow2_malformed, backing_loop)
{
	char a[256], b[256];
	const char *e;

	tmp_path(a, sizeof(a), "loop-a.qcow2");
	tmp_path(b, sizeof(b), "loop-b.qcow2");
	make_qcow2(a, 1 << 20, 65536, 3, "loop-b.qcow2", "qcow2");
	make_qcow2(b, 1 << 20, 65536, 3, "loop-a.qcow2", "qcow2");
	e = open_err(a);
	cr_assert_not_null(e);
	cr_assert_not_null(strstr(e, "loops"), "%s", e);
}

Test(qcow2_malformed, readonly_when_corrupt_bit)
{
	char p[256], err[256];
	struct blk_image *img;

	tmp_path(p, sizeof(p), "corrupt.qcow2");
	make_qcow2(p, 1 << 20, 65536, 3, NULL, NULL);
	poke64(p, 72, 1ull << 1);
	cr_assert_neq(qcow2_format()->open(p, false, DISK_CACHE_WRITEBACK, &img, err, sizeof(err)), 0);
	cr_assert_not_null(strstr(err, "corrupt"), "%s", err);
	img = open_q(p, true);
	img->ops->close(img);
}

Test(qcow2, refcount_overflow_refused)
{
	char p[256];
	struct blk_image *img;
	struct qcow2 *q;

	tmp_path(p, sizeof(p), "ovf.qcow2");
	make_qcow2(p, 1 << 20, 65536, 3, NULL, NULL);
	img = open_q(p, false);
	q = qcow2_of(img);
	pthread_mutex_lock(&q->lock);
	cr_assert_eq(qcow2_update_refcount(q, 0, 65534), 0);
	cr_assert_eq(qcow2_update_refcount(q, 0, 1), -ERANGE);
	cr_assert_eq(qcow2_update_refcount(q, 0, -65534), 0);
	cr_assert_eq(qcow2_update_refcount(q, 50, -1), -EIO);
	pthread_mutex_unlock(&q->lock);
	assert_clean(img);
	img->ops->close(img);
}

static bool cached(const struct qcow2_cache *c, uint64_t off)
{
	for (unsigned int i = 0; i < c->nsets * c->ways; i++)
		if (c->e[i].offset == off)
			return true;
	return false;
}

Test(qcow2, l2_cache_hits_and_evicts)
{
	char p[256];
	struct blk_image *img;
	struct qcow2 *q;
	struct qcow2_cache c;
	uint8_t *a;
	int ret = 0;

	tmp_path(p, sizeof(p), "cache.qcow2");
	make_qcow2(p, 1 << 20, 4096, 3, NULL, NULL);
	img = open_q(p, true);
	q = qcow2_of(img);
	cr_assert_eq(qcow2_cache_init(&c, 4, q->cluster_size), 0);
	cr_assert_eq(c.nsets * c.ways, 4);
	a = qcow2_cache_get(q, &c, 4096, false, &ret);	/* the refcount table */
	cr_assert_not_null(a);
	cr_assert_eq(qcow2_be64(a), 2 * 4096, "read from disk");
	cr_assert_eq(qcow2_cache_get(q, &c, 4096, false, &ret), a, "hit");
	for (uint64_t i = 2; i <= 4; i++)
		cr_assert_not_null(qcow2_cache_get(q, &c, i * 4096, true, &ret));
	cr_assert_eq(qcow2_cache_get(q, &c, 4096, false, &ret), a);	/* touch */
	cr_assert_not_null(qcow2_cache_get(q, &c, 5 * 4096, true, &ret));
	cr_assert(cached(&c, 4096));
	cr_assert_not(cached(&c, 2 * 4096), "LRU entry evicted");
	qcow2_cache_drop(&c, 5 * 4096);
	cr_assert_not(cached(&c, 5 * 4096));
	qcow2_cache_free(&c);
	img->ops->close(img);
}
