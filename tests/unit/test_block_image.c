// SPDX-License-Identifier: MIT
/*
 * blk_image_open: the errors a user sees before boot, OFD locking, and the
 * raw format's synchronous ops checked against the file with pread.
 * (EACCES is not tested: the tests run as root, which ignores permissions.)
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blk_test_helper.h"

static void file_read(uint64_t off, void *buf, size_t len)
{
	int fd = open(path, O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static void file_write(uint64_t off, const void *buf, size_t len)
{
	int fd = open(path, O_WRONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, buf, len, (off_t)off), (ssize_t)len);
	close(fd);
}

static struct blk_image *open_ok(enum disk_format fmt, bool ro, enum disk_cache cache)
{
	struct blk_image *img = NULL;
	int ret = blk_image_open(path, fmt, ro, cache, &img, err, sizeof(err));

	cr_assert_eq(ret, 0, "open %s: %d %s", path, ret, err);
	return img;
}

TestSuite(block_image, .fini = cleanup);

Test(block_image, missing_file)
{
	struct blk_image *img = NULL;

	cr_assert_eq(blk_image_open("/tmp/vmm-no-such-image.img", DISK_FORMAT_RAW, false,
				    DISK_CACHE_WRITEBACK, &img, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "cannot open disk image /tmp/vmm-no-such-image.img: "
			 "No such file or directory");
	cr_assert_null(img);
}

Test(block_image, directory)
{
	struct blk_image *img = NULL;

	cr_assert_eq(blk_image_open("/tmp", DISK_FORMAT_RAW, false, DISK_CACHE_WRITEBACK,
				    &img, err, sizeof(err)), -EISDIR);
	cr_assert_str_eq(err, "disk image /tmp is a directory, not a file");
	cr_assert_eq(blk_image_open("/tmp", DISK_FORMAT_AUTO, true, DISK_CACHE_WRITEBACK,
				    &img, err, sizeof(err)), -EISDIR);
	cr_assert_str_eq(err, "disk image /tmp is a directory, not a file");
}

Test(block_image, empty_file)
{
	struct blk_image *img = NULL;
	char want[256];

	make_file(0);
	cr_assert_eq(blk_image_open(path, DISK_FORMAT_RAW, false, DISK_CACHE_WRITEBACK,
				    &img, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "disk image %s is empty (0 bytes); give it a size first, "
		 "e.g. truncate -s 1G %s", path, path);
	cr_assert_str_eq(err, want);
}

Test(block_image, size_not_a_multiple_of_512)
{
	struct blk_image *img = NULL;
	char want[256];

	make_file(1000);
	cr_assert_eq(blk_image_open(path, DISK_FORMAT_AUTO, false, DISK_CACHE_WRITEBACK,
				    &img, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "raw disk image %s is 1000 bytes, not a multiple of 512; "
		 "resize it, e.g. truncate -s 1K %s", path, path);
	cr_assert_str_eq(err, want);
}

Test(block_image, unknown_format)
{
	struct blk_image *img = NULL;
	char want[256];

	make_file(4096);
	cr_assert_eq(blk_image_open(path, (enum disk_format)7, false, DISK_CACHE_WRITEBACK,
				    &img, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "disk image %s: unknown format 7 (formats: raw, qcow2)",
		 path);
	cr_assert_str_eq(err, want);
}

Test(block_image, probes_raw_and_fills_fields)
{
	struct blk_image *img;

	make_file(1 << 20);
	img = open_ok(DISK_FORMAT_AUTO, false, DISK_CACHE_WRITEBACK);
	cr_assert_str_eq(img->format_name, "raw");
	cr_assert_str_eq(img->path, path);
	cr_assert_eq(img->size, 1 << 20);
	cr_assert_eq(img->block_size, 512);
	cr_assert_eq(img->align, 1);
	cr_assert_eq(img->readonly, false);
	blk_image_close(img);
}

Test(block_image, second_writer_is_refused)
{
	struct blk_image *a, *b = NULL;
	char want[512];

	make_file(1 << 20);
	a = open_ok(DISK_FORMAT_RAW, false, DISK_CACHE_WRITEBACK);
	cr_assert_eq(blk_image_open(path, DISK_FORMAT_RAW, false, DISK_CACHE_WRITEBACK,
				    &b, err, sizeof(err)), -EBUSY);
	snprintf(want, sizeof(want), "disk image %s is in use by another process (locked); "
		 "stop the other user first, or open it readonly=on everywhere "
		 "(read-only users share the image)", path);
	cr_assert_str_eq(err, want);
	/* a reader conflicts with the writer too */
	cr_assert_eq(blk_image_open(path, DISK_FORMAT_RAW, true, DISK_CACHE_WRITEBACK,
				    &b, err, sizeof(err)), -EBUSY);
	cr_assert_str_eq(err, want);
	blk_image_close(a);
	/* closing drops the lock */
	b = open_ok(DISK_FORMAT_RAW, false, DISK_CACHE_WRITEBACK);
	blk_image_close(b);
}

Test(block_image, readers_share_but_exclude_a_writer)
{
	struct blk_image *a, *b, *c = NULL;

	make_file(1 << 20);
	a = open_ok(DISK_FORMAT_RAW, true, DISK_CACHE_WRITEBACK);
	b = open_ok(DISK_FORMAT_RAW, true, DISK_CACHE_WRITEBACK);
	cr_assert(a->readonly && b->readonly);
	cr_assert_eq(blk_image_open(path, DISK_FORMAT_RAW, false, DISK_CACHE_WRITEBACK,
				    &c, err, sizeof(err)), -EBUSY);
	cr_assert(strstr(err, "is in use by another process (locked)"), "%s", err);
	blk_image_close(a);
	cr_assert_eq(blk_image_open(path, DISK_FORMAT_RAW, false, DISK_CACHE_WRITEBACK,
				    &c, err, sizeof(err)), -EBUSY);
	blk_image_close(b);
	c = open_ok(DISK_FORMAT_RAW, false, DISK_CACHE_WRITEBACK);
	blk_image_close(c);
}

Test(block_image, readonly_refuses_writes)
{
	struct blk_image *img;
	uint8_t buf[512] = { 1 };
	struct iovec iov = { buf, sizeof(buf) };
	uint64_t off;
	int fd;

	make_file(1 << 20);
	img = open_ok(DISK_FORMAT_RAW, true, DISK_CACHE_WRITEBACK);
	cr_assert_eq(img->ops->pwritev(img, &iov, 1, 0), -EROFS);
	cr_assert_eq(img->ops->discard(img, 0, 512), -EROFS);
	cr_assert_eq(img->ops->write_zeroes(img, 0, 512), -EROFS);
	cr_assert_eq(img->ops->preadv(img, &iov, 1, 0), 0);
	cr_assert_eq(img->ops->flush(img), 0);
	blk_image_close(img);
	/* and the file was opened O_RDONLY: a write through its fd fails */
	img = open_ok(DISK_FORMAT_RAW, true, DISK_CACHE_WRITEBACK);
	cr_assert_eq(img->ops->map(img, 0, 512, false, &fd, &off), 0);
	cr_assert_eq(fcntl(fd, F_GETFL) & O_ACCMODE, O_RDONLY);
	cr_assert_eq(img->ops->map(img, 0, 512, true, &fd, &off), -EROFS);
	blk_image_close(img);
}

Test(block_image, raw_sync_ops)
{
	struct blk_image *img;
	static uint8_t a[8192], b[8192], got[16384];
	struct iovec iov[2] = { { a, 1000 }, { b, 7192 } };
	int fd;

	make_file(1 << 20);
	memset(a, 0xa5, sizeof(a));
	memset(b, 0x5b, sizeof(b));
	img = open_ok(DISK_FORMAT_RAW, false, DISK_CACHE_WRITEBACK);
	cr_assert_eq(img->ops->pwritev(img, iov, 2, 4096), 0);
	cr_assert_eq(img->ops->flush(img), 0);
	file_read(4096, got, 8192);
	cr_assert_arr_eq(got, a, 1000);
	cr_assert_arr_eq(got + 1000, b, 7192);
	/* read back through the image into other buffers */
	memset(got, 0, sizeof(got));
	{
		struct iovec r[3] = { { got, 512 }, { got + 4096, 3584 }, { got + 8192, 4096 } };

		cr_assert_eq(img->ops->preadv(img, r, 3, 4096), 0);
		cr_assert_arr_eq(got, a, 512);
		cr_assert_arr_eq(got + 4096, a + 512, 488);
		cr_assert_arr_eq(got + 4096 + 488, b, 3584 - 488);
	}
	/* write_zeroes then discard: both read back as zeroes */
	cr_assert_eq(img->ops->write_zeroes(img, 4096, 4096), 0);
	file_read(4096, got, 8192);
	for (int i = 0; i < 4096; i++)
		cr_assert_eq(got[i], 0, "byte %d", i);
	cr_assert_eq(got[4096], 0x5b);
	cr_assert_eq(img->ops->discard(img, 8192, 4096), 0);
	file_read(8192, got, 4096);
	for (int i = 0; i < 4096; i++)
		cr_assert_eq(got[i], 0, "byte %d", i);
	/* the file keeps its size */
	fd = open(path, O_RDONLY);
	cr_assert_eq(lseek(fd, 0, SEEK_END), 1 << 20);
	close(fd);
	blk_image_close(img);
}

Test(block_image, out_of_range)
{
	struct blk_image *img;
	uint8_t buf[1024];
	struct iovec iov = { buf, sizeof(buf) };
	int fd, host;
	uint64_t off;

	make_file(1 << 20);
	img = open_ok(DISK_FORMAT_RAW, false, DISK_CACHE_WRITEBACK);
	cr_assert_eq(img->ops->preadv(img, &iov, 1, (1 << 20) - 512), -EINVAL);
	cr_assert_eq(img->ops->pwritev(img, &iov, 1, (1 << 20) - 512), -EINVAL);
	cr_assert_eq(img->ops->preadv(img, &iov, 1, UINT64_MAX - 100), -EINVAL);
	cr_assert_eq(img->ops->discard(img, 1 << 20, 512), -EINVAL);
	cr_assert_eq(img->ops->write_zeroes(img, 512, UINT64_MAX), -EINVAL);
	cr_assert_eq(img->ops->map(img, UINT64_MAX - 10, 20, false, &host, &off), -EINVAL);
	cr_assert_eq(img->ops->preadv(img, &iov, 1, (1 << 20) - 1024), 0);
	cr_assert_eq(img->ops->map(img, 4096, 512, true, &host, &off), 0);
	cr_assert_eq(off, 4096);
	cr_assert_geq(host, 0);
	blk_image_close(img);
	/* nothing was written past the end */
	fd = open(path, O_RDONLY);
	cr_assert_eq(lseek(fd, 0, SEEK_END), 1 << 20);
	close(fd);
}

Test(block_image, cache_none_bounces_unaligned_buffers)
{
	struct blk_image *img = NULL;
	uint8_t *mem = NULL, *got;
	struct iovec iov[2];
	int ret;

	make_file(1 << 20);
	ret = blk_image_open(path, DISK_FORMAT_RAW, false, DISK_CACHE_NONE, &img, err,
			     sizeof(err));
	if (ret == -EINVAL && strstr(err, "O_DIRECT"))
		cr_skip_test("/tmp does not support O_DIRECT: %s", err);
	cr_assert_eq(ret, 0, "%s", err);
	cr_assert(img->align == 512 || img->align == 4096, "align %u", img->align);
	cr_assert_eq(img->block_size, img->align > 512 ? img->align : 512);
	cr_assert_eq(posix_memalign((void **)&mem, 4096, 3 * 8192), 0);
	got = mem + 2 * 8192;
	for (int i = 0; i < 8192; i++)
		mem[i] = (uint8_t)(i * 7 + 3);
	/* buffers at odd addresses with odd lengths: the kernel would refuse them */
	memmove(mem + 1, mem, 8192);
	iov[0].iov_base = mem + 1;
	iov[0].iov_len = 100;
	iov[1].iov_base = mem + 101;
	iov[1].iov_len = 8192 - 100;
	cr_assert_eq(img->ops->pwritev(img, iov, 2, 8192), 0);
	file_read(8192, got, 8192);
	cr_assert_arr_eq(got, mem + 1, 8192);
	/* and read back into unaligned buffers */
	file_write(16384, mem + 1, 8192);
	memset(mem, 0, 2 * 8192);
	iov[0].iov_base = mem + 3;
	iov[1].iov_base = mem + 103;
	cr_assert_eq(img->ops->preadv(img, iov, 2, 16384), 0);
	cr_assert_arr_eq(mem + 3, got, 8192);
	/* an offset the device cannot take is refused, not half done */
	iov[0].iov_len = 512;
	cr_assert_eq(img->ops->preadv(img, iov, 1, 100), -EINVAL);
	free(mem);
	blk_image_close(img);
}

Test(block_image, snapshot_without_qcow2_or_with)
{
	struct disk_opts o;
	struct blk_image *img = NULL;
	int ret;

	make_file(1 << 20);
	cr_assert_eq(disk_opts_parse("path=x,snapshot=on,format=raw", &o, err, sizeof(err)), 0);
	snprintf(o.path, sizeof(o.path), "%s", path);
	ret = blk_image_open_opts(&o, &img, err, sizeof(err));
	if (!blk_snapshot_open) {
		char want[256];

		cr_assert_eq(ret, -ENOTSUP);
		snprintf(want, sizeof(want), "disk image %s: snapshot=on needs qcow2 support, "
			 "which this build lacks", path);
		cr_assert_str_eq(err, want);
	} else {
		cr_assert_eq(ret, 0, "%s", err);
		cr_assert_eq(img->readonly, false);
		cr_assert_eq(img->size, 1 << 20);
		blk_image_close(img);
	}
}

Test(block_image, open_opts_plain)
{
	struct disk_opts o;
	struct blk_image *img = NULL;

	make_file(1 << 20);
	cr_assert_eq(disk_opts_parse("path=x,format=raw,readonly=on,cache=unsafe", &o, err,
				     sizeof(err)), 0);
	snprintf(o.path, sizeof(o.path), "%s", path);
	cr_assert_eq(blk_image_open_opts(&o, &img, err, sizeof(err)), 0, "%s", err);
	cr_assert(img->readonly);
	cr_assert_eq(img->cache, DISK_CACHE_UNSAFE);
	blk_image_close(img);
}
