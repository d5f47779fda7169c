// SPDX-License-Identifier: MIT
/*
 * qcow2 check and repair (qcow2_check.c, qcow2_repair.c) through the API:
 * the tolerant open, where a repair writes (a hook records every write), a
 * rebuilt refcount structure, OFLAG_COPIED, the corrupt bit, and the dirty
 * image repaired at open.  The verdicts against qemu-img are
 * tests/img/t_check.sh's.
 */
#include <sys/stat.h>

#include "qcow2_helper.h"

#define CS	4096
#define SIZE	(1u << 20)

struct wlog {
	uint64_t fsize;			/* the file's size before the repair */
	int n, bad;
	char what[256];
};

static void hook(void *arg, enum qcow2_io_kind kind, uint64_t off, uint64_t len)
{
	struct wlog *w = arg;

	if (kind == QCOW2_IO_SYNC)
		return;
	w->n++;
	/* a rebuild writes past the end of the file, then the header */
	if (off >= w->fsize || (kind == QCOW2_IO_HEADER && off == 0))
		return;
	if (!w->bad)
		snprintf(w->what, sizeof(w->what), "kind %d at 0x%llx len %llu", (int)kind,
			 (unsigned long long)off, (unsigned long long)len);
	w->bad++;
}

static uint64_t file_size(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	return (uint64_t)st.st_size;
}

static uint64_t peek64(const char *path, uint64_t off)
{
	uint8_t b[8];
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, b, 8, (off_t)off), 8);
	close(fd);
	return qcow2_be64(b);
}

/* An image with 3 data clusters; ref gets what the guest sees. */
static void make_image(const char *path, uint8_t *ref)
{
	struct blk_image *img;

	make_qcow2(path, SIZE, CS, 3, NULL, NULL);
	img = open_q(path, false);
	memset(ref, 0, SIZE);
	fill(ref, 3 * CS, 1);
	cr_assert_eq(wr(img, ref, 3 * CS, 0), 0);
	img->ops->close(img);
}

static struct blk_image *open_check(const char *path, bool ro)
{
	struct blk_image *img = NULL;
	char err[512];

	cr_assert_eq(qcow2_open_check(path, ro, &img, err, sizeof(err)), 0, "%s", err);
	return img;
}

static void check(const char *path, int flags, struct qcow2_check_result *r, struct wlog *w)
{
	struct blk_image *img = open_check(path, !(flags & (QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS)));
	char err[512];

	if (w) {
		qcow2_of(img)->trace = hook;
		qcow2_of(img)->trace_arg = w;
	}
	cr_assert_eq(qcow2_check(img, flags | QCOW2_CHECK_QUIET, r, err, sizeof(err)), 0, "%s", err);
	img->ops->close(img);
}

static void assert_data(const char *path, const uint8_t *ref)
{
	static uint8_t got[SIZE];

	assert_reopened(open_q(path, true), path, got, ref, SIZE, CS);
}

/* The bug: a zeroed refcount-table entry; repair wrote refcounts over the table. */
Test(qcow2_check, zeroed_reftable_entry_rebuilt_past_eof)
{
	static uint8_t ref[SIZE];
	struct qcow2_check_result r;
	struct wlog w = { 0 };
	char p[256];
	uint64_t rt;

	tmp_path(p, sizeof(p), "rtzero.qcow2");
	make_image(p, ref);
	rt = peek64(p, 48);
	poke64(p, rt, 0);
	check(p, 0, &r, NULL);
	cr_assert_gt(r.corruptions, 0);
	w.fsize = file_size(p);
	check(p, QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS, &r, &w);
	cr_assert(r.rebuilt);
	cr_assert_eq(w.bad, 0, "repair wrote inside the old file: %s", w.what);
	cr_assert_eq(r.corruptions + r.leaks + r.check_errors, 0);
	cr_assert_geq(peek64(p, 48), w.fsize, "new refcount table past the old end");
	assert_data(p, ref);
}

/* A shared data cluster: refcount raised to 2, OFLAG_COPIED cleared; clean after. */
Test(qcow2_check, shared_cluster_and_oflag_copied)
{
	static uint8_t ref[SIZE];
	struct qcow2_check_result r;
	char p[256];
	uint64_t l1, l2, e0;

	tmp_path(p, sizeof(p), "shared.qcow2");
	make_image(p, ref);
	l1 = peek64(p, 40);
	l2 = peek64(p, l1) & QCOW2_OFFSET_MASK;
	e0 = peek64(p, l2);
	poke64(p, l2 + 8, e0);		/* guest cluster 1 now maps to cluster 0's data */
	memcpy(ref + CS, ref, CS);
	check(p, 0, &r, NULL);
	cr_assert_eq(r.corruptions, 1, "refcount 1 < 2: %llu", (unsigned long long)r.corruptions);
	cr_assert_eq(r.leaks, 1);
	check(p, QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS, &r, NULL);
	cr_assert(!r.rebuilt);
	check(p, 0, &r, NULL);
	cr_assert_eq(r.corruptions + r.leaks, 0);
	cr_assert_eq(peek64(p, l2) & QCOW2_OFLAG_COPIED, 0);
	assert_data(p, ref);
}

/* An L1 entry past the end of the file is a finding, not an open error. */
Test(qcow2_check, l1_entry_past_eof_is_corruption)
{
	static uint8_t ref[SIZE];
	struct qcow2_check_result r;
	char p[256];

	tmp_path(p, sizeof(p), "l1eof.qcow2");
	make_image(p, ref);
	poke64(p, peek64(p, 40), QCOW2_OFLAG_COPIED | (1ull << 30));
	cr_assert_not_null(open_err(p), "the strict open refuses it");
	check(p, 0, &r, NULL);
	cr_assert_eq(r.corruptions, 2);		/* past EOF, and OFLAG_COPIED */
	cr_assert_eq(r.leaks, 4);		/* the old L2 table and 3 data clusters */
	cr_assert_eq(r.check_errors, 0);
}

/* The corrupt bit goes once a repair leaves the image clean. */
Test(qcow2_check, corrupt_bit_cleared)
{
	static uint8_t ref[SIZE];
	struct qcow2_check_result r;
	char p[256];
	uint64_t l1;

	tmp_path(p, sizeof(p), "corrupt.qcow2");
	make_image(p, ref);
	l1 = peek64(p, 40);
	poke64(p, l1, peek64(p, l1) & ~QCOW2_OFLAG_COPIED);
	poke64(p, 72, QCOW2_INCOMPAT_CORRUPT);
	check(p, QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS, &r, NULL);
	cr_assert_eq(r.errors_fixed, 1);
	cr_assert_eq(peek64(p, 72) & QCOW2_INCOMPAT_CORRUPT, 0);
	cr_assert_neq(peek64(p, l1) & QCOW2_OFLAG_COPIED, 0);
	assert_data(p, ref);
}

/* A dirty image is repaired at open; a broken refcount table entry included. */
Test(qcow2_check, dirty_open_rebuilds)
{
	static uint8_t ref[SIZE];
	struct blk_image *img;
	char p[256];

	tmp_path(p, sizeof(p), "dirty.qcow2");
	make_image(p, ref);
	poke64(p, peek64(p, 48), 0);
	poke64(p, 72, QCOW2_INCOMPAT_DIRTY);
	img = open_q(p, false);
	img->ops->close(img);
	assert_data(p, ref);
}

/* A check of an image open for writing counts the clusters it has taken. */
Test(qcow2_check, open_image_with_pool_is_clean)
{
	static uint8_t ref[SIZE];
	struct blk_image *img;
	char p[256];

	tmp_path(p, sizeof(p), "pool.qcow2");
	make_image(p, ref);
	img = open_q(p, false);
	cr_assert_eq(wr(img, ref, CS, 8 * CS), 0);
	cr_assert_gt(qcow2_of(img)->pool_n, 0);
	assert_clean(img);
	img->ops->close(img);
}
