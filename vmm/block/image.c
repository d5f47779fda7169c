// SPDX-License-Identifier: MIT
/*
 * Opening a disk image: clear errors before boot, format probing, and the
 * OFD lock that stops two VMs (or a VM and vmm-img) writing one image.
 *
 * blk_image_open() returns a thin wrapper around the format's image: the
 * wrapper owns the lock (on its own open file description, so the format's
 * fds stay untouched), checks every request against the disk size and
 * read-only mode, then forwards it to the format.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/engine.h"
#include "log.h"

#define BLK_PROBE_BYTES	512

struct blk_locked {
	struct blk_image img;		/* what callers see */
	struct blk_image *inner;	/* the format's image */
	int lock_fd;
};

static struct blk_image *inner_of(struct blk_image *img)
{
	return ((struct blk_locked *)((char *)img - offsetof(struct blk_locked, img)))->inner;
}

int blk_file_open(const char *path, bool readonly, enum disk_cache cache,
		  int *fd, uint64_t *size, char *err, size_t errlen)
{
	int flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	struct stat st;
	int ret;

	if (cache == DISK_CACHE_NONE)
		flags |= O_DIRECT;
	if (cache == DISK_CACHE_WRITETHROUGH)
		flags |= O_DSYNC;
	*fd = open(path, flags);
	if (*fd < 0) {
		ret = -errno;
		if (ret == -EACCES || ret == -EROFS || ret == -EPERM)
			snprintf(err, errlen, "cannot open disk image %s %s: %s%s", path,
				 readonly ? "read-only" : "read-write", strerror(-ret),
				 readonly ? " (check its permissions)" :
				 " (use readonly=on, or fix its permissions)");
		else if (ret == -EISDIR)
			snprintf(err, errlen, "disk image %s is a directory, not a file", path);
		else if (ret == -EINVAL && (flags & O_DIRECT))
			snprintf(err, errlen, "cannot open disk image %s with cache=none: the "
				 "filesystem does not support O_DIRECT (use cache=writeback)", path);
		else
			snprintf(err, errlen, "cannot open disk image %s: %s", path, strerror(-ret));
		return ret;
	}
	if (fstat(*fd, &st)) {
		ret = -errno;
		snprintf(err, errlen, "cannot stat disk image %s: %s", path, strerror(-ret));
		goto err_close;
	}
	if (S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "disk image %s is a directory, not a file", path);
		ret = -EISDIR;
		goto err_close;
	}
	if (S_ISREG(st.st_mode)) {
		*size = (uint64_t)st.st_size;
	} else if (S_ISBLK(st.st_mode)) {
		if (ioctl(*fd, BLKGETSIZE64, size)) {
			ret = -errno;
			snprintf(err, errlen, "cannot get the size of block device %s: %s",
				 path, strerror(-ret));
			goto err_close;
		}
	} else {
		snprintf(err, errlen, "disk image %s is neither a regular file nor a block device",
			 path);
		ret = -EINVAL;
		goto err_close;
	}
	return 0;
err_close:
	close(*fd);
	*fd = -1;
	return ret;
}

/*
 * O_DIRECT wants buffer, offset and length aligned to the device's logical
 * block size.  Try a 512-byte read into a buffer that is 512- but not
 * 4096-aligned; if the kernel refuses, the device needs 4096.
 */
int blk_file_dio_align(int fd, const char *path, unsigned int *align,
		       char *err, size_t errlen)
{
	static const unsigned int sizes[] = { 512, 4096 };
	uint8_t *buf;
	unsigned int i;
	int ret = -EINVAL;

	buf = blk_bounce_alloc(2 * 4096, 4096);
	if (!buf) {
		snprintf(err, errlen, "disk image %s: out of memory", path);
		return -ENOMEM;
	}
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		ssize_t r = pread(fd, buf + (sizes[i] == 4096 ? 0 : 4096 - sizes[i]),
				  sizes[i], 0);

		if (r >= 0) {
			*align = sizes[i];
			ret = 0;
			break;
		}
		ret = -errno;
		if (ret != -EINVAL)
			break;
	}
	if (ret)
		snprintf(err, errlen, "cache=none: O_DIRECT reads of disk image %s fail: %s "
			 "(use cache=writeback)", path, strerror(-ret));
	free(buf);
	return ret;
}

/* ---- the wrapper's ops: check, then forward to the format ---- */

static int locked_rw_check(struct blk_image *img, const struct iovec *iov, int iovcnt,
			   uint64_t off, bool write)
{
	uint64_t len;

	if (iovcnt < 0 || iovcnt > BLK_IOV_MAX ||
	    blk_iov_len(iov, (unsigned int)iovcnt, &len) || blk_range_check(img, off, len))
		return -EINVAL;
	if (write && img->readonly)
		return -EROFS;
	return 0;
}

static int locked_preadv(struct blk_image *img, const struct iovec *iov, int iovcnt,
			 uint64_t off)
{
	struct blk_image *in = inner_of(img);
	int ret = locked_rw_check(img, iov, iovcnt, off, false);

	return ret ? ret : in->ops->preadv(in, iov, iovcnt, off);
}

static int locked_pwritev(struct blk_image *img, const struct iovec *iov, int iovcnt,
			  uint64_t off)
{
	struct blk_image *in = inner_of(img);
	int ret = locked_rw_check(img, iov, iovcnt, off, true);

	return ret ? ret : in->ops->pwritev(in, iov, iovcnt, off);
}

static int locked_flush(struct blk_image *img)
{
	struct blk_image *in = inner_of(img);

	if (img->cache == DISK_CACHE_UNSAFE)
		return 0;	/* unsafe: FLUSH is a no-op, for every format */
	return in->ops->flush ? in->ops->flush(in) : 0;
}

static int locked_discard(struct blk_image *img, uint64_t off, uint64_t len)
{
	struct blk_image *in = inner_of(img);

	if (blk_range_check(img, off, len))
		return -EINVAL;
	if (img->readonly)
		return -EROFS;
	return in->ops->discard ? in->ops->discard(in, off, len) : 0;
}

static int locked_write_zeroes(struct blk_image *img, uint64_t off, uint64_t len)
{
	struct blk_image *in = inner_of(img);

	if (blk_range_check(img, off, len))
		return -EINVAL;
	if (img->readonly)
		return -EROFS;
	return in->ops->write_zeroes ? in->ops->write_zeroes(in, off, len) : -EOPNOTSUPP;
}

static int locked_map(struct blk_image *img, uint64_t off, uint64_t len, bool write,
		      int *fd, uint64_t *host_off)
{
	struct blk_image *in = inner_of(img);

	if (blk_range_check(img, off, len))
		return -EINVAL;
	if (write && img->readonly)
		return -EROFS;
	return in->ops->map ? in->ops->map(in, off, len, write, fd, host_off) : -ENOENT;
}

static int locked_block_status(struct blk_image *img, uint64_t off, uint64_t len,
			       uint64_t *pnum)
{
	return blk_block_status(inner_of(img), off, len, pnum);
}

static void locked_close(struct blk_image *img)
{
	struct blk_locked *l = (struct blk_locked *)((char *)img -
						      offsetof(struct blk_locked, img));

	if (l->inner->ops->close)
		l->inner->ops->close(l->inner);
	if (l->lock_fd >= 0)
		close(l->lock_fd);	/* drops the OFD lock */
	free(l);
}

static const struct blk_image_ops locked_ops = {
	.preadv = locked_preadv,
	.pwritev = locked_pwritev,
	.flush = locked_flush,
	.discard = locked_discard,
	.write_zeroes = locked_write_zeroes,
	.map = locked_map,
	.block_status = locked_block_status,
	.close = locked_close,
};

/* ---- open ---- */

/* Shared (read) lock when readonly, exclusive (write) lock otherwise, on the whole file. */
static int blk_lock(int fd, const char *path, bool readonly, char *err, size_t errlen)
{
	struct flock fl = {
		.l_type = readonly ? F_RDLCK : F_WRLCK,
		.l_whence = SEEK_SET,
		.l_start = 0,
		.l_len = 0,
	};

	if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
		return 0;
	if (errno == EAGAIN || errno == EACCES) {
		snprintf(err, errlen, "disk image %s is in use by another process (locked); "
			 "stop the other user first, or open it readonly=on everywhere "
			 "(read-only users share the image)", path);
		return -EBUSY;
	}
	/* e.g. a filesystem without locks: carry on, but say so */
	log_warn("disk image %s: cannot lock it (%s); nothing stops another process from "
		 "writing it at the same time", path, strerror(errno));
	return 0;
}

/*
 * Formats vmm does not read but must not mistake for raw: a guest handed
 * their metadata read-write could corrupt them, or read what it should not.
 */
static const struct blk_magic {
	const char *name;
	unsigned int off, len;
	const char *magic;
} blk_foreign[] = {
	{ "vmdk", 0, 4, "KDMV" },
	{ "vmdk (descriptor file)", 0, 21, "# Disk DescriptorFile" },
	{ "vdi", 64, 4, "\x7f\x10\xda\xbe" },
	{ "vhdx", 0, 8, "vhdxfile" },
	{ "vpc (vhd)", 0, 8, "conectix" },
	{ "qed", 0, 4, "QED\0" },
	{ "luks", 0, 6, "LUKS\xba\xbe" },
	{ "parallels", 0, 16, "WithoutFreeSpace" },
	{ "parallels", 0, 16, "WithouFreSpacExt" },
	{ "bochs", 0, 22, "Bochs Virtual HD Image" },
};

static bool has_qcow_magic(const uint8_t *buf, size_t len)
{
	return len >= 4 && buf[0] == 'Q' && buf[1] == 'F' && buf[2] == 'I' && buf[3] == 0xfb;
}

int blk_probe_file(const char *path, enum disk_format *fmt, bool *guessed,
		   char *err, size_t errlen)
{
	uint8_t buf[BLK_PROBE_BYTES];
	size_t got = 0;
	int fd, ret = 0;

	*guessed = false;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open disk image %s: %s", path, strerror(-ret));
		return ret;
	}
	while (got < sizeof(buf)) {
		ssize_t n = pread(fd, buf + got, sizeof(buf) - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			ret = -errno;
			snprintf(err, errlen, "cannot read disk image %s to find its format: %s",
				 path, strerror(-ret));
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (has_qcow_magic(buf, got)) {
		uint32_t v = got >= 8 ? (uint32_t)buf[4] << 24 | (uint32_t)buf[5] << 16 |
					(uint32_t)buf[6] << 8 | buf[7] : 0;

		/* never raw: the header's own checks name what is wrong with it */
		if (v == 1) {
			snprintf(err, errlen, "disk image %s is a qcow version 1 image, which is "
				 "not supported (convert it: qemu-img convert -O qcow2)", path);
			ret = -ENOTSUP;
		} else if (!&blk_format_qcow2) {
			snprintf(err, errlen, "disk image %s is qcow2, but this build has no qcow2 "
				 "support", path);
			ret = -ENOTSUP;
		} else {
			*fmt = DISK_FORMAT_QCOW2;
		}
		goto out;
	}
	for (size_t i = 0; i < sizeof(blk_foreign) / sizeof(blk_foreign[0]); i++) {
		const struct blk_magic *m = &blk_foreign[i];

		if (got >= m->off + m->len && !memcmp(buf + m->off, m->magic, m->len)) {
			snprintf(err, errlen, "disk image %s is a %s image, which is not supported "
				 "(convert it to qcow2 or raw with qemu-img convert)", path, m->name);
			ret = -ENOTSUP;
			goto out;
		}
	}
	*fmt = DISK_FORMAT_RAW;
	*guessed = true;
out:
	close(fd);
	return ret;
}

static int blk_pick_format(enum disk_format id, const char *path,
			   const struct blk_format **fmt, char *err, size_t errlen)
{
	switch (id) {
	case DISK_FORMAT_RAW:
		*fmt = &blk_format_raw;
		return 0;
	case DISK_FORMAT_QCOW2:
		if (!&blk_format_qcow2) {
			snprintf(err, errlen, "disk image %s: format qcow2 is not supported by "
				 "this build", path);
			return -ENOTSUP;
		}
		*fmt = &blk_format_qcow2;
		return 0;
	case DISK_FORMAT_AUTO:
		break;
	}
	snprintf(err, errlen, "disk image %s: unknown format %d (formats: raw, qcow2)",
		 path, (int)id);
	return -EINVAL;
}

int blk_image_open(const char *path, enum disk_format fmt, bool readonly,
		   enum disk_cache cache, struct blk_image **out, char *err, size_t errlen)
{
	const struct blk_format *format = NULL;
	struct blk_locked *l;
	struct blk_image *inner;
	uint64_t size;
	int lock_fd, ret;

	if (errlen)
		err[0] = '\0';
	if (fmt != DISK_FORMAT_AUTO) {
		ret = blk_pick_format(fmt, path, &format, err, errlen);
		if (ret)
			return ret;
	}
	if ((unsigned int)cache > DISK_CACHE_UNSAFE) {
		snprintf(err, errlen, "disk image %s: unknown cache mode %d", path, (int)cache);
		return -EINVAL;
	}
	/* our own open file description: it carries the lock and reads the probe */
	ret = blk_file_open(path, readonly, DISK_CACHE_WRITEBACK, &lock_fd, &size, err, errlen);
	if (ret)
		return ret;
	ret = blk_lock(lock_fd, path, readonly, err, errlen);
	if (ret)
		goto err_lock;
	if (!format) {
		enum disk_format id;
		bool guessed;

		ret = blk_probe_file(path, &id, &guessed, err, errlen);
		if (ret == 0)
			ret = blk_pick_format(id, path, &format, err, errlen);
		if (ret)
			goto err_lock;
		if (guessed)
			log_warn("disk image %s: no format given, probed as raw; probing is unsafe "
				 "for an untrusted raw image (its guest can write a qcow2 header "
				 "into it): add format=raw to turn probing off", path);
	}
	ret = format->open(path, readonly, cache, &inner, err, errlen);
	if (ret)
		goto err_lock;
	l = calloc(1, sizeof(*l));
	if (!l) {
		snprintf(err, errlen, "disk image %s: out of memory", path);
		ret = -ENOMEM;
		goto err_inner;
	}
	l->img = *inner;
	l->img.ops = &locked_ops;
	l->inner = inner;
	l->lock_fd = lock_fd;
	*out = &l->img;
	log_debug("disk image %s: %s, %llu bytes%s, cache mode %d", path, inner->format_name,
		  (unsigned long long)inner->size, readonly ? ", read-only" : "", (int)cache);
	return 0;
err_inner:
	inner->ops->close(inner);
err_lock:
	close(lock_fd);
	return ret;
}

int blk_image_open_opts(const struct disk_opts *o, struct blk_image **out,
			char *err, size_t errlen)
{
	if (!o->snapshot || o->readonly)
		return blk_image_open(o->path, o->format, o->readonly, o->cache, out, err, errlen);
	if (!blk_snapshot_open) {
		if (errlen)
			snprintf(err, errlen, "disk image %s: snapshot=on needs qcow2 support, "
				 "which this build lacks", o->path);
		return -ENOTSUP;
	}
	return blk_snapshot_open(o->path, o->format, o->cache, out, err, errlen);
}

int blk_image_stat(const struct blk_image *img, struct stat *st)
{
	const struct blk_locked *l;

	if (img->ops != &locked_ops)
		return stat(img->path, st) ? -errno : 0;
	l = (const struct blk_locked *)((const char *)img - offsetof(struct blk_locked, img));
	return fstat(l->lock_fd, st) ? -errno : 0;
}

void blk_image_close(struct blk_image *img)
{
	if (img && img->ops->close)
		img->ops->close(img);
}
