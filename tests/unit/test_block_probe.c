// SPDX-License-Identifier: MIT
/*
 * Format probing never calls a file raw when its first bytes name a known
 * format: a qcow2 magic with a version vmm cannot read, a qcow v1 image, a
 * qcow2 header that does not parse, or a foreign format are errors naming
 * what was found.  Also: creating over a locked image is refused before the
 * file is truncated, and an empty (size 0) qcow2 has no L1 cluster to leak.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "qcow2_helper.h"

static void put(const char *path, uint64_t off, const void *b, size_t len)
{
	int fd = open(path, O_WRONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, b, len, (off_t)off), (ssize_t)len);
	close(fd);
}

/* blk_image_open with probing must fail, and its error must contain want. */
static void probe_refused(const char *path, const char *want)
{
	struct blk_image *img = NULL;
	char err[512] = "";
	enum disk_format f = DISK_FORMAT_AUTO;
	bool guessed = true;

	cr_assert_lt(blk_image_open(path, DISK_FORMAT_AUTO, true, DISK_CACHE_WRITEBACK, &img,
				    err, sizeof(err)), 0, "%s was opened as %s", path,
		     img ? img->format_name : "?");
	cr_assert_null(img);
	cr_assert_not_null(strstr(err, want), "error '%s' lacks '%s'", err, want);
	/* the probe alone says the same, and never "raw" */
	if (blk_probe_file(path, &f, &guessed, err, sizeof(err)) == 0)
		cr_assert_eq(f, DISK_FORMAT_QCOW2);
	else
		cr_assert_not_null(strstr(err, want), "probe error '%s' lacks '%s'", err, want);
}

Test(block_probe, qcow2_versions_never_raw)
{
	char p[128];
	uint8_t v[4] = { 0, 0, 0, 4 };

	tmp_path(p, sizeof(p), "v4.qcow2");
	make_qcow2(p, 1 << 20, 0, 3, NULL, NULL);
	put(p, 4, v, 4);
	probe_refused(p, "version 4");
	v[3] = 1;
	put(p, 4, v, 4);
	probe_refused(p, "qcow version 1");
	v[3] = 0;
	put(p, 4, v, 4);
	probe_refused(p, "version 0");
}

Test(block_probe, broken_qcow2_header_never_raw)
{
	char p[128];
	uint8_t cb[4] = { 0, 0, 0, 48 };

	tmp_path(p, sizeof(p), "bad.qcow2");
	make_qcow2(p, 1 << 20, 0, 3, NULL, NULL);
	put(p, 20, cb, 4);
	probe_refused(p, "cluster_bits 48");
	cr_assert_eq(truncate(p, 40), 0);	/* magic, then nothing that parses */
	probe_refused(p, "truncated");
}

Test(block_probe, foreign_formats_named)
{
	static const struct { const char *name; unsigned int off; const char *magic; } f[] = {
		{ "vmdk", 0, "KDMV" }, { "vhdx", 0, "vhdxfile" }, { "vpc", 0, "conectix" },
		{ "qed", 0, "QED" }, { "vdi", 64, "\x7f\x10\xda\xbe" },
		{ "luks", 0, "LUKS\xba\xbe" },
	};
	char p[128];

	tmp_path(p, sizeof(p), "foreign.img");
	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
		int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		cr_assert_geq(fd, 0);
		cr_assert_eq(ftruncate(fd, 1 << 20), 0);
		close(fd);
		put(p, f[i].off, f[i].magic, strlen(f[i].magic) + (f[i].name[0] == 'q'));
		probe_refused(p, f[i].name);
	}
}

Test(block_probe, plain_data_is_raw_with_a_warning_flag)
{
	char p[128];
	enum disk_format f = DISK_FORMAT_AUTO;
	bool guessed = false;
	char err[256];
	int fd;

	tmp_path(p, sizeof(p), "plain.raw");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
	put(p, 0, "QFI", 3);	/* not the whole magic */
	cr_assert_eq(blk_probe_file(p, &f, &guessed, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(f, DISK_FORMAT_RAW);
	cr_assert(guessed);
}

Test(block_probe, create_over_a_locked_image_leaves_it_alone)
{
	struct blk_image *img;
	char p[128], err[256];
	struct qcow2_create_opts o = { .size = 4 << 20 };
	struct stat before, after;

	tmp_path(p, sizeof(p), "busy.qcow2");
	make_qcow2(p, 1 << 20, 0, 3, NULL, NULL);
	cr_assert_eq(blk_image_open(p, DISK_FORMAT_QCOW2, true, DISK_CACHE_WRITEBACK, &img,
				    err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(stat(p, &before), 0);
	cr_assert_eq(qcow2_create(p, &o, err, sizeof(err)), -EBUSY);
	cr_assert_not_null(strstr(err, "in use"), "%s", err);
	cr_assert_eq(stat(p, &after), 0);
	cr_assert_eq(after.st_size, before.st_size, "truncated before the lock was taken");
	blk_image_close(img);
}

Test(block_probe, empty_qcow2_has_no_l1_cluster)
{
	struct blk_image *img;
	char p[128], err[256];
	struct stat st;

	tmp_path(p, sizeof(p), "zero.qcow2");
	make_qcow2(p, 0, 0, 3, NULL, NULL);
	cr_assert_eq(stat(p, &st), 0);
	cr_assert_eq(st.st_size, 3 * 65536, "header, refcount table and block only");
	img = open_q(p, false);
	cr_assert_eq(img->size, 0);
	cr_assert_eq(qcow2_resize(img, 1 << 20, err, sizeof(err)), 0, "%s", err);
	img->ops->close(img);
}
