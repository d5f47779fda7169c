/* SPDX-License-Identifier: MIT */
/* Helpers shared by the qcow2 unit tests: temp files, synthetic images, patterns. */
#ifndef VMM_QCOW2_HELPER_H
#define VMM_QCOW2_HELPER_H

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"

static char qcow2_tmp_dir[64];

static inline void rm_tmp_dir(void)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", qcow2_tmp_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", qcow2_tmp_dir);
}

/* A path in a per-process temporary directory, removed at exit. */
static inline void tmp_path(char *buf, size_t len, const char *name)
{
	char *dir = qcow2_tmp_dir;

	if (!dir[0]) {
		snprintf(dir, sizeof(qcow2_tmp_dir), "/tmp/vmm-qcow2-ut.XXXXXX");
		cr_assert_not_null(mkdtemp(dir));
		atexit(rm_tmp_dir);
	}
	snprintf(buf, len, "%s/%s", dir, name);
}

static inline void make_qcow2(const char *path, uint64_t size, uint32_t cs, int version,
			      const char *backing, const char *bfmt)
{
	struct qcow2_create_opts o = { .size = size, .cluster_size = cs, .version = version,
				       .backing = backing, .backing_fmt = bfmt };
	char err[256];

	cr_assert_eq(qcow2_create(path, &o, err, sizeof(err)), 0, "%s", err);
}

static inline struct blk_image *open_q(const char *path, bool ro)
{
	struct blk_image *img = NULL;
	char err[512];
	int ret = qcow2_format()->open(path, ro, DISK_CACHE_WRITEBACK, &img, err, sizeof(err));

	cr_assert_eq(ret, 0, "open %s: %s", path, err);
	return img;
}

/* Tries to open; returns the error text (static buffer) or NULL on success. */
static inline const char *open_err(const char *path)
{
	static char err[512];
	struct blk_image *img = NULL;

	err[0] = 0;
	if (qcow2_format()->open(path, true, DISK_CACHE_WRITEBACK, &img, err, sizeof(err)) == 0) {
		img->ops->close(img);
		return NULL;
	}
	return err;
}

static inline void poke(const char *path, uint64_t off, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, p, n, (off_t)off), (ssize_t)n);
	close(fd);
}

static inline void poke64(const char *path, uint64_t off, uint64_t v)
{
	uint8_t b[8];

	qcow2_put64(b, v);
	poke(path, off, b, 8);
}

static inline void poke32(const char *path, uint64_t off, uint32_t v)
{
	uint8_t b[4];

	qcow2_put32(b, v);
	poke(path, off, b, 4);
}

static inline void fill(uint8_t *p, size_t n, uint32_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)((i * 131 + seed * 7919 + (i >> 9)) & 0xff);
}

static inline int wr(struct blk_image *img, const void *buf, size_t n, uint64_t off)
{
	struct iovec v = { (void *)buf, n };

	return img->ops->pwritev(img, &v, 1, off);
}

static inline int rd(struct blk_image *img, void *buf, size_t n, uint64_t off)
{
	struct iovec v = { buf, n };

	return img->ops->preadv(img, &v, 1, off);
}

static inline void assert_clean(struct blk_image *img)
{
	struct qcow2_check_result r;
	char err[256];

	cr_assert_eq(qcow2_check(img, QCOW2_CHECK_QUIET, &r, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(r.corruptions, 0, "corruptions %llu", (unsigned long long)r.corruptions);
	cr_assert_eq(r.leaks, 0, "leaks %llu", (unsigned long long)r.leaks);
}

/* A file at path holding exactly the len bytes of buf (e.g. a raw backing file). */
static inline void write_file(const char *path, const void *buf, size_t len)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);

	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(write(fd, buf, len), (ssize_t)len);
	close(fd);
}

/* Closes img and reopens path read-only: it reads back as ref and is clean. */
static inline void assert_reopened(struct blk_image *img, const char *path, uint8_t *got,
				   const uint8_t *ref, size_t size, uint32_t cs)
{
	img->ops->close(img);
	img = open_q(path, true);
	memset(got, 0, size);
	cr_assert_eq(rd(img, got, size, 0), 0);
	cr_assert_eq(memcmp(got, ref, size), 0, "read-back after reopen, cs %u", cs);
	assert_clean(img);
	img->ops->close(img);
}

#endif
