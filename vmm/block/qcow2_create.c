// SPDX-License-Identifier: MIT
/*
 * Creating qcow2 images (header, refcount table + blocks, empty L1) and
 * growing them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"

/*
 * Writes a new, empty qcow2 image into fd (a file the caller created and
 * locked; its old contents, if any, are replaced).  name is for messages.
 */
int qcow2_create_fd(int fd, const char *path, const struct qcow2_create_opts *o,
		    char *err, size_t errlen)
{
	uint64_t cs = o->cluster_size ? o->cluster_size : 65536, l2e, l1_size, lc, tc = 1, nb = 1, n;
	uint32_t cbits = 0;
	int version = o->version ? o->version : 3, ret = 0;
	size_t hlen = version == 3 ? 112 : 72, p;
	uint8_t *buf = NULL;

	while ((1ull << cbits) < cs)
		cbits++;
	if ((1ull << cbits) != cs || cbits < QCOW2_MIN_CLUSTER_BITS || cbits > QCOW2_MAX_CLUSTER_BITS) {
		snprintf(err, errlen, "%s: cluster size %llu is not a power of two in 512..2M",
			 path, (unsigned long long)cs);
		return -EINVAL;
	}
	if (o->size > QCOW2_MAX_SIZE) {
		snprintf(err, errlen, "%s: size %llu is too large", path, (unsigned long long)o->size);
		return -EINVAL;
	}
	l2e = cs / 8;
	l1_size = (o->size + cs * l2e - 1) / (cs * l2e);
	if (l1_size * 8 > QCOW2_MAX_L1_BYTES) {
		snprintf(err, errlen, "%s: size needs an L1 table over %u bytes; use a larger cluster size",
			 path, QCOW2_MAX_L1_BYTES);
		return -EINVAL;
	}
	lc = (l1_size * 8 + cs - 1) / cs;	/* size 0: no L1 at all, as qemu-img */
	for (;;) {			/* header + table + blocks + L1, self-covering */
		uint64_t rpb = cs * 8 / 16, nb2, tc2;

		n = 1 + tc + nb + lc;
		nb2 = (n + rpb - 1) / rpb;
		tc2 = (nb2 * 8 + cs - 1) / cs;
		if (nb2 == nb && tc2 == tc)
			break;
		nb = nb2;
		tc = tc2;
	}
	buf = calloc(n, cs);
	if (!buf)
		return -ENOMEM;
	qcow2_put32(buf, QCOW2_MAGIC);
	qcow2_put32(buf + 4, (uint32_t)version);
	qcow2_put32(buf + 20, cbits);
	qcow2_put64(buf + 24, o->size);
	qcow2_put32(buf + 36, (uint32_t)l1_size);
	qcow2_put64(buf + 40, lc ? (1 + tc + nb) * cs : 0);
	qcow2_put64(buf + 48, cs);
	qcow2_put32(buf + 56, (uint32_t)tc);
	if (version == 3) {
		qcow2_put32(buf + 96, 4);
		qcow2_put32(buf + 100, (uint32_t)hlen);
	}
	p = hlen;
	if (o->backing && o->backing_fmt && o->backing_fmt[0]) {
		size_t fl = strlen(o->backing_fmt);

		qcow2_put32(buf + p, QCOW2_EXT_BACKING_FMT);
		qcow2_put32(buf + p + 4, (uint32_t)fl);
		memcpy(buf + p + 8, o->backing_fmt, fl);
		p += 8 + ((fl + 7) & ~7ul);
	}
	p += 8;				/* end-of-extensions */
	if (o->backing && o->backing[0]) {
		size_t bl = strlen(o->backing);

		if (bl > 1023 || p + bl > cs) {
			snprintf(err, errlen, "%s: backing file name too long for the header", path);
			ret = -ENAMETOOLONG;
			goto out;
		}
		qcow2_put64(buf + 8, p);
		qcow2_put32(buf + 16, (uint32_t)bl);
		memcpy(buf + p, o->backing, bl);
	}
	for (uint64_t i = 0; i < nb; i++)
		qcow2_put64(buf + cs + i * 8, (1 + tc + i) * cs);
	for (uint64_t c = 0; c < n; c++)	/* 16-bit refcount 1 */
		buf[(1 + tc) * cs + c * 2 + 1] = 1;
	if (pwrite(fd, buf, n * cs, 0) != (ssize_t)(n * cs) || ftruncate(fd, (off_t)(n * cs)) < 0 ||
	    fsync(fd) < 0) {
		ret = errno ? -errno : -EIO;
		snprintf(err, errlen, "%s: write failed: %s", path, strerror(-ret));
	}
out:
	free(buf);
	return ret;
}

/* Creates (or replaces) path: locked before it is truncated, refused if in use. */
int qcow2_create(const char *path, const struct qcow2_create_opts *o, char *err, size_t errlen)
{
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	int fd, ret;

	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY, 0644);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: cannot create: %s", path, strerror(-ret));
		return ret;
	}
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0 && (errno == EAGAIN || errno == EACCES)) {
		snprintf(err, errlen, "%s: in use by another process (locked); not overwritten",
			 path);
		close(fd);
		return -EBUSY;
	}
	ret = qcow2_create_fd(fd, path, o, err, errlen);
	close(fd);
	return ret;
}

int qcow2_resize(struct blk_image *img, uint64_t new_size, char *err, size_t errlen)
{
	struct qcow2 *q = qcow2_of(img);
	uint64_t span, l1;
	int ret;

	if (strcmp(img->format_name, "qcow2")) {
		snprintf(err, errlen, "%s: not a qcow2 image", img->path);
		return -EINVAL;
	}
	if (new_size < img->size) {
		snprintf(err, errlen, "%s: shrinking is not supported", img->path);
		return -ENOTSUP;
	}
	if (new_size > QCOW2_MAX_SIZE) {
		snprintf(err, errlen, "%s: size too large", img->path);
		return -EINVAL;
	}
	pthread_mutex_lock(&q->lock);
	span = (uint64_t)q->cluster_size << q->l2_bits;
	l1 = (new_size + span - 1) / span;
	ret = qcow2_grow_l1(q, l1);
	if (ret == 0) {
		q->h.size = new_size;
		ret = qcow2_write_header_fields(q);
	}
	if (ret == 0)
		ret = qcow2_sync(q);
	if (ret == 0)
		img->size = q->img.size = new_size;
	else if (ret == -EFBIG)
		snprintf(err, errlen, "%s: %llu bytes need an L1 table over %u bytes with %u-byte "
			 "clusters; convert to a larger cluster_size first", img->path,
			 (unsigned long long)new_size, QCOW2_MAX_L1_BYTES, q->cluster_size);
	else
		snprintf(err, errlen, "%s: resize failed: %s", img->path, strerror(-ret));
	pthread_mutex_unlock(&q->lock);
	return ret;
}
