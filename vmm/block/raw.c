// SPDX-License-Identifier: MIT
/*
 * The raw format: the virtual disk is the file (or block device), byte for
 * byte.  Every request is checked against the size fixed at open, so a short
 * read or write can only be an I/O error, never end-of-file.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/engine.h"
#include "log.h"

#define RAW_ZERO_CHUNK	(1u << 20)

struct raw {
	int fd;
};

static int raw_fd(const struct blk_image *img)
{
	return ((const struct raw *)img->priv)->fd;
}

/* preadv/pwritev until all len bytes are done. */
static int raw_full_io(int fd, const struct iovec *iov, unsigned int cnt, uint64_t off,
		       uint64_t len, bool write)
{
	const struct iovec *cur = iov;
	struct iovec *rest = NULL;
	unsigned int n = cnt;
	uint64_t done = 0;
	int ret = 0;

	while (done < len) {
		ssize_t r = write ? pwritev(fd, cur, (int)n, (off_t)(off + done))
				  : preadv(fd, cur, (int)n, (off_t)(off + done));

		if (r < 0) {
			if (errno == EINTR)
				continue;
			ret = -errno;
			break;
		}
		if (r == 0) {
			ret = -EIO;	/* the size is fixed: EOF here is an I/O error */
			break;
		}
		done += (uint64_t)r;
		if (done < len) {
			if (!rest) {
				rest = malloc(cnt * sizeof(*rest));
				if (!rest) {
					ret = -ENOMEM;
					break;
				}
			}
			n = blk_iov_skip(iov, cnt, done, rest);
			cur = rest;
		}
	}
	free(rest);
	return ret;
}

static int raw_rw(struct blk_image *img, const struct iovec *iov, int iovcnt, uint64_t off,
		  bool write)
{
	unsigned int cnt = (unsigned int)iovcnt;
	struct iovec one;
	uint64_t len;
	void *bounce;
	int ret;

	if (iovcnt < 0 || cnt > BLK_IOV_MAX || blk_iov_len(iov, cnt, &len) ||
	    blk_range_check(img, off, len))
		return -EINVAL;
	if (write && img->readonly)
		return -EROFS;
	if (img->align <= 1 || blk_iov_aligned(iov, cnt, img->align))
		return raw_full_io(raw_fd(img), iov, cnt, off, len, write);
	/* O_DIRECT with a guest buffer the kernel will not take: bounce */
	if (off % img->align || len % img->align)
		return -EINVAL;
	bounce = blk_bounce_alloc(len, img->align);
	if (!bounce)
		return -ENOMEM;
	one.iov_base = bounce;
	one.iov_len = len;
	if (write)
		blk_iov_to_buf(iov, cnt, bounce, len);
	ret = raw_full_io(raw_fd(img), &one, 1, off, len, write);
	if (!ret && !write)
		blk_buf_to_iov(bounce, len, iov, cnt);
	free(bounce);
	return ret;
}

static int raw_preadv(struct blk_image *img, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return raw_rw(img, iov, iovcnt, off, false);
}

static int raw_pwritev(struct blk_image *img, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return raw_rw(img, iov, iovcnt, off, true);
}

static int raw_flush(struct blk_image *img)
{
	if (img->cache == DISK_CACHE_UNSAFE || img->readonly)
		return 0;
	return fdatasync(raw_fd(img)) ? -errno : 0;
}

static int raw_discard(struct blk_image *img, uint64_t off, uint64_t len)
{
	if (blk_range_check(img, off, len))
		return -EINVAL;
	if (img->readonly)
		return -EROFS;
	if (!len)
		return 0;
	if (fallocate(raw_fd(img), FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
		      (off_t)off, (off_t)len) == 0)
		return 0;
	/* discard is a hint: a filesystem that cannot punch holes keeps the data */
	if (errno == EOPNOTSUPP || errno == ENOSYS)
		return 0;
	return -errno;
}

static int raw_write_zero_buf(struct blk_image *img, uint64_t off, uint64_t len)
{
	unsigned int align = img->align > 1 ? img->align : 512;
	size_t chunk = RAW_ZERO_CHUNK;
	struct iovec one;
	void *zero;
	int ret = 0;

	zero = blk_bounce_alloc(chunk, align);
	if (!zero)
		return -ENOMEM;
	memset(zero, 0, chunk);
	while (len && !ret) {
		one.iov_base = zero;
		one.iov_len = len < chunk ? len : chunk;
		ret = raw_full_io(raw_fd(img), &one, 1, off, one.iov_len, true);
		off += one.iov_len;
		len -= one.iov_len;
	}
	free(zero);
	return ret;
}

static int raw_write_zeroes(struct blk_image *img, uint64_t off, uint64_t len)
{
	int fd = raw_fd(img);

	if (blk_range_check(img, off, len))
		return -EINVAL;
	if (img->readonly)
		return -EROFS;
	if (!len)
		return 0;
	if (fallocate(fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
		return -errno;
	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len) == 0)
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
		return -errno;
	if (img->align > 1 && (off % img->align || len % img->align))
		return -EINVAL;
	return raw_write_zero_buf(img, off, len);
}

static int raw_map(struct blk_image *img, uint64_t off, uint64_t len, bool write,
		   int *fd, uint64_t *host_off)
{
	if (blk_range_check(img, off, len))
		return -EINVAL;
	if (write && img->readonly)
		return -EROFS;
	*fd = raw_fd(img);
	*host_off = off;
	return 0;
}

static int raw_block_status(struct blk_image *img, uint64_t off, uint64_t len, uint64_t *pnum)
{
	return blk_fd_block_status(raw_fd(img), off, len, pnum);
}

static void raw_close(struct blk_image *img)
{
	struct raw *r = img->priv;

	close(r->fd);
	free(r);
	free(img);
}

static const struct blk_image_ops raw_ops = {
	.preadv = raw_preadv,
	.pwritev = raw_pwritev,
	.flush = raw_flush,
	.discard = raw_discard,
	.write_zeroes = raw_write_zeroes,
	.map = raw_map,
	.block_status = raw_block_status,
	.close = raw_close,
};

static bool raw_probe(const uint8_t *buf, size_t len)
{
	return true;	/* anything is a raw image: the format of last resort */
}

static int raw_open(const char *path, bool readonly, enum disk_cache cache,
		    struct blk_image **out, char *err, size_t errlen)
{
	struct blk_image *img = NULL;
	struct raw *r = NULL;
	uint64_t size;
	int fd, ret;

	ret = blk_file_open(path, readonly, cache, &fd, &size, err, errlen);
	if (ret)
		return ret;
	if (size == 0) {
		snprintf(err, errlen, "disk image %s is empty (0 bytes); give it a size first, "
			 "e.g. truncate -s 1G %s", path, path);
		ret = -EINVAL;
		goto err_fd;
	}
	if (size % 512) {
		snprintf(err, errlen, "raw disk image %s is %llu bytes, not a multiple of 512; "
			 "resize it, e.g. truncate -s %lluK %s", path, (unsigned long long)size,
			 (unsigned long long)(size + 1023) / 1024, path);
		ret = -EINVAL;
		goto err_fd;
	}
	img = calloc(1, sizeof(*img));
	r = calloc(1, sizeof(*r));
	if (!img || !r) {
		snprintf(err, errlen, "disk image %s: out of memory", path);
		ret = -ENOMEM;
		goto err_free;
	}
	r->fd = fd;
	img->ops = &raw_ops;
	img->format_name = "raw";
	snprintf(img->path, sizeof(img->path), "%s", path);
	img->size = size;
	img->readonly = readonly;
	img->cache = cache;
	img->align = 1;
	if (cache == DISK_CACHE_NONE) {
		ret = blk_file_dio_align(fd, path, &img->align, err, errlen);
		if (ret)
			goto err_free;
	}
	img->block_size = img->align > 512 ? img->align : 512;
	img->priv = r;
	*out = img;
	return 0;
err_free:
	free(r);
	free(img);
err_fd:
	close(fd);
	return ret;
}

const struct blk_format blk_format_raw = {
	.name = "raw",
	.id = DISK_FORMAT_RAW,
	.probe = raw_probe,
	.open = raw_open,
};
