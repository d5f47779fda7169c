// SPDX-License-Identifier: MIT
/*
 * qcow2 header: probe, parse + validate (every malformed field gives one
 * line naming the image and the defect), header extensions, backing-chain
 * loop detection, and opening backing files.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/engine.h"
#include "block/qcow2.h"

#pragma weak blk_image_open

/*
 * The magic alone decides: a version we cannot read (qcow v1, v4) is still
 * not raw, and opening it as qcow2 gives the error that names it.
 */
bool qcow2_probe(const uint8_t *buf, size_t len)
{
	return len >= 4 && qcow2_be32(buf) == QCOW2_MAGIC;
}

static bool range_in_file(uint64_t off, uint64_t len, uint64_t fsize)
{
	return off <= fsize && len <= fsize - off;
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

static int parse_extensions(int fd, const char *name, struct qcow2_header *h,
			    uint64_t start, uint64_t end, char *err, size_t errlen)
{
	uint8_t hdr[8];
	uint64_t off = start;

	while (off + 8 <= end) {
		if (pread(fd, hdr, 8, off) != 8)
			break;
		uint32_t type = qcow2_be32(hdr), len = qcow2_be32(hdr + 4);

		if (type == QCOW2_EXT_END)
			return 0;
		off += 8;
		if (len > end - off) {
			snprintf(err, errlen, "%s: qcow2 header extension 0x%08x at 0x%" PRIx64
				 " (%u bytes) runs past the header area", name, type, off - 8, len);
			return -EINVAL;
		}
		if (type == QCOW2_EXT_BACKING_FMT) {
			if (len >= sizeof(h->backing_fmt)) {
				snprintf(err, errlen, "%s: qcow2 backing format name too long (%u bytes)",
					 name, len);
				return -EINVAL;
			}
			if (pread(fd, h->backing_fmt, len, off) != (ssize_t)len)
				return -EIO;
			h->backing_fmt[len] = 0;
		} else if (type == QCOW2_EXT_DATA_FILE) {
			snprintf(err, errlen, "%s: qcow2 external data files are not supported", name);
			return -ENOTSUP;
		} else if (type == QCOW2_EXT_CRYPTO) {
			snprintf(err, errlen, "%s: encrypted qcow2 images are not supported", name);
			return -ENOTSUP;
		}
		off += ((uint64_t)len + 7) & ~7ull;
	}
	return 0;
}

int qcow2_read_header(int fd, const char *name, struct qcow2_header *h,
		      uint64_t fsize, bool tolerant, char *err, size_t errlen)
{
	uint8_t b[112];
	uint64_t cs, l2_entries, need_l1, ext_end, tsize;

	memset(h, 0, sizeof(*h));
	memset(b, 0, sizeof(b));
	if (fsize < 72 || pread(fd, b, 72, 0) != 72) {
		snprintf(err, errlen, "%s: qcow2 header truncated (file is %" PRIu64 " bytes)",
			 name, fsize);
		return -EINVAL;
	}
	if (qcow2_be32(b) != QCOW2_MAGIC) {
		snprintf(err, errlen, "%s: not a qcow2 image (bad magic)", name);
		return -EINVAL;
	}
	h->version = qcow2_be32(b + 4);
	if (h->version == 1) {
		snprintf(err, errlen, "%s: is a qcow version 1 image, which is not supported "
			 "(convert it: qemu-img convert -O qcow2)", name);
		return -ENOTSUP;
	}
	if (h->version != 2 && h->version != 3) {
		snprintf(err, errlen, "%s: qcow2 version %u is not supported (only 2 and 3)",
			 name, h->version);
		return -ENOTSUP;
	}
	h->backing_file_offset = qcow2_be64(b + 8);
	h->backing_file_size = qcow2_be32(b + 16);
	h->cluster_bits = qcow2_be32(b + 20);
	h->size = qcow2_be64(b + 24);
	h->crypt_method = qcow2_be32(b + 32);
	h->l1_size = qcow2_be32(b + 36);
	h->l1_table_offset = qcow2_be64(b + 40);
	h->refcount_table_offset = qcow2_be64(b + 48);
	h->refcount_table_clusters = qcow2_be32(b + 56);
	h->nb_snapshots = qcow2_be32(b + 60);
	h->snapshots_offset = qcow2_be64(b + 64);
	h->refcount_order = 4;
	h->header_length = 72;
	if (h->version == 3) {
		if (fsize < 104 || pread(fd, b + 72, 32, 72) != 32) {
			snprintf(err, errlen, "%s: qcow2 v3 header truncated", name);
			return -EINVAL;
		}
		h->incompat = qcow2_be64(b + 72);
		h->compat = qcow2_be64(b + 80);
		h->autoclear = qcow2_be64(b + 88);
		h->refcount_order = qcow2_be32(b + 96);
		h->header_length = qcow2_be32(b + 100);
		if (h->header_length < 104 || (h->header_length & 7)) {
			snprintf(err, errlen, "%s: qcow2 header_length %u is invalid", name,
				 h->header_length);
			return -EINVAL;
		}
		if (h->header_length > 104 && fsize > 104 && pread(fd, b + 104, 1, 104) == 1)
			h->compression_type = b[104];
	}
	if (h->cluster_bits < QCOW2_MIN_CLUSTER_BITS || h->cluster_bits > QCOW2_MAX_CLUSTER_BITS) {
		snprintf(err, errlen, "%s: qcow2 cluster_bits %u out of range (9..21)",
			 name, h->cluster_bits);
		return -EINVAL;
	}
	cs = 1ull << h->cluster_bits;
	if (h->header_length > cs) {
		snprintf(err, errlen, "%s: qcow2 header_length %u exceeds the cluster size", name,
			 h->header_length);
		return -EINVAL;
	}
	if (h->incompat & ~0x1full) {
		snprintf(err, errlen, "%s: qcow2 unknown incompatible feature bits 0x%" PRIx64
			 " set; refusing to open", name, (uint64_t)(h->incompat & ~0x1full));
		return -ENOTSUP;
	}
	if (h->incompat & QCOW2_INCOMPAT_EXTL2) {
		snprintf(err, errlen, "%s: qcow2 extended L2 entries (subclusters) are not supported",
			 name);
		return -ENOTSUP;
	}
	if (h->incompat & QCOW2_INCOMPAT_DATA_FILE) {
		snprintf(err, errlen, "%s: qcow2 external data files are not supported", name);
		return -ENOTSUP;
	}
	if (h->incompat & QCOW2_INCOMPAT_COMPRESSION) {
		if (h->header_length <= 104 || h->compression_type > QCOW2_COMPRESS_ZSTD) {
			snprintf(err, errlen, "%s: qcow2 compression type %u is not supported", name,
				 h->compression_type);
			return -ENOTSUP;
		}
	} else if (h->compression_type != QCOW2_COMPRESS_ZLIB) {
		snprintf(err, errlen, "%s: qcow2 compression type %u set without its feature bit",
			 name, h->compression_type);
		return -EINVAL;
	}
	if (h->crypt_method) {
		snprintf(err, errlen, "%s: encrypted qcow2 images are not supported", name);
		return -ENOTSUP;
	}
	if (h->refcount_order > 6 || (h->version == 2 && h->refcount_order != 4)) {
		snprintf(err, errlen, "%s: qcow2 refcount_order %u is invalid", name,
			 h->refcount_order);
		return -EINVAL;
	}
	if (h->size > QCOW2_MAX_SIZE) {
		snprintf(err, errlen, "%s: qcow2 virtual size %" PRIu64 " is absurd", name, h->size);
		return -EINVAL;
	}
	/* qemu reads a virtual size in whole 512-byte sectors, rounded down: so does vmm */
	h->size &= ~511ull;
	l2_entries = cs / 8;
	need_l1 = (h->size + cs * l2_entries - 1) / (cs * l2_entries);
	if (h->l1_size < need_l1 || (uint64_t)h->l1_size * 8 > QCOW2_MAX_L1_BYTES) {
		snprintf(err, errlen, "%s: qcow2 L1 size %u does not fit the virtual size (%"
			 PRIu64 " entries needed)", name, h->l1_size, need_l1);
		return -EINVAL;
	}
	/*
	 * tolerant (check): tables at offset 0, past the end of the file or
	 * overlapping each other are the checker's to report, as qemu-img does
	 */
	tsize = tolerant ? 1ull << 62 : fsize;
	if (h->l1_size && ((h->l1_table_offset & (cs - 1)) ||
			   (!h->l1_table_offset && !tolerant))) {
		snprintf(err, errlen, "%s: qcow2 L1 table offset 0x%" PRIx64 " is not cluster aligned",
			 name, h->l1_table_offset);
		return -EINVAL;
	}
	if (!range_in_file(h->l1_table_offset, (uint64_t)h->l1_size * 8, tsize)) {
		snprintf(err, errlen, "%s: qcow2 L1 table at 0x%" PRIx64 " extends past end of file",
			 name, h->l1_table_offset);
		return -EINVAL;
	}
	if (!h->refcount_table_clusters || (h->refcount_table_offset & (cs - 1)) ||
	    (!h->refcount_table_offset && !tolerant) ||
	    (uint64_t)h->refcount_table_clusters * cs > QCOW2_MAX_RT_BYTES) {
		snprintf(err, errlen, "%s: qcow2 refcount table at 0x%" PRIx64 " (%u clusters) is invalid",
			 name, h->refcount_table_offset, h->refcount_table_clusters);
		return -EINVAL;
	}
	if (!range_in_file(h->refcount_table_offset, (uint64_t)h->refcount_table_clusters * cs,
			   tsize)) {
		snprintf(err, errlen, "%s: qcow2 refcount table at 0x%" PRIx64
			 " extends past end of file", name, h->refcount_table_offset);
		return -EINVAL;
	}
	if (!tolerant && h->l1_size && overlaps(h->l1_table_offset, (uint64_t)h->l1_size * 8,
				   h->refcount_table_offset, (uint64_t)h->refcount_table_clusters * cs)) {
		snprintf(err, errlen, "%s: qcow2 L1 table at 0x%" PRIx64
			 " overlaps the refcount table at 0x%" PRIx64, name, h->l1_table_offset,
			 h->refcount_table_offset);
		return -EINVAL;
	}
	if (h->nb_snapshots && ((h->snapshots_offset & (cs - 1)) ||
				(!h->snapshots_offset && !tolerant) ||
				!range_in_file(h->snapshots_offset, 1, tsize))) {
		snprintf(err, errlen, "%s: qcow2 snapshot table at 0x%" PRIx64 " is invalid",
			 name, h->snapshots_offset);
		return -EINVAL;
	}
	ext_end = cs;
	if (h->backing_file_offset) {
		if (h->backing_file_size == 0 || h->backing_file_size > 1023 ||
		    h->backing_file_offset > cs ||
		    h->backing_file_size > cs - h->backing_file_offset ||
		    h->backing_file_offset < h->header_length ||
		    !range_in_file(h->backing_file_offset, h->backing_file_size, tsize)) {
			snprintf(err, errlen, "%s: qcow2 backing file name at 0x%" PRIx64
				 " (%u bytes) is invalid", name, h->backing_file_offset,
				 h->backing_file_size);
			return -EINVAL;
		}
		if (pread(fd, h->backing_file, h->backing_file_size, h->backing_file_offset) !=
		    (ssize_t)h->backing_file_size)
			return -EIO;
		h->backing_file[h->backing_file_size] = 0;
		if (strlen(h->backing_file) != h->backing_file_size) {
			snprintf(err, errlen, "%s: qcow2 backing file name contains a NUL byte", name);
			return -EINVAL;
		}
		ext_end = h->backing_file_offset;
	}
	if (ext_end > tsize)
		ext_end = tsize;
	return parse_extensions(fd, name, h, h->version == 3 ? h->header_length : 72,
				ext_end, err, errlen);
}

static void copy_str(char *dst, size_t cap, const uint8_t *src, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;

	memcpy(dst, src, n);
	dst[n] = '\0';
	for (size_t i = 0; i < n; i++)	/* a NUL or control byte would cut or garble output */
		if ((unsigned char)dst[i] < 0x20)
			dst[i] = '?';
}

int qcow2_snapshot_parse(const uint8_t *buf, size_t len, struct qcow2_snapshot *s,
			 size_t *used)
{
	uint32_t extra, id_len, name_len;
	uint64_t total;

	if (len < QCOW2_SNAPSHOT_FIXED)
		return -EINVAL;
	memset(s, 0, sizeof(*s));
	s->l1_table_offset = qcow2_be64(buf);
	s->l1_size = qcow2_be32(buf + 8);
	id_len = (uint32_t)buf[12] << 8 | buf[13];
	name_len = (uint32_t)buf[14] << 8 | buf[15];
	s->date_sec = qcow2_be32(buf + 16);
	s->date_nsec = qcow2_be32(buf + 20);
	s->vm_clock_nsec = qcow2_be64(buf + 24);
	s->vm_state_size = qcow2_be32(buf + 32);
	extra = qcow2_be32(buf + 36);
	s->icount = UINT64_MAX;
	if (extra > 1024)
		return -EINVAL;
	total = (QCOW2_SNAPSHOT_FIXED + (uint64_t)extra + id_len + name_len + 7) & ~7ull;
	if (total > len && QCOW2_SNAPSHOT_FIXED + (uint64_t)extra + id_len + name_len > len)
		return -EINVAL;
	if (extra >= 8)
		s->vm_state_size = qcow2_be64(buf + QCOW2_SNAPSHOT_FIXED);
	if (extra >= 24)
		s->icount = qcow2_be64(buf + QCOW2_SNAPSHOT_FIXED + 16);
	copy_str(s->id, sizeof(s->id), buf + QCOW2_SNAPSHOT_FIXED + extra, id_len);
	copy_str(s->name, sizeof(s->name), buf + QCOW2_SNAPSHOT_FIXED + extra + id_len, name_len);
	*used = (size_t)total;
	return 0;
}

/* Writes the mutable header fields (size, L1, refcount table, features). */
int qcow2_write_header_fields(struct qcow2 *q)
{
	uint8_t b[104];
	size_t len = q->h.version == 3 ? 104 : 72;

	if (qcow2_pread(q, b, len, 0) != (ssize_t)len)
		return -EIO;
	qcow2_put64(b + 24, q->h.size);
	qcow2_put32(b + 36, q->h.l1_size);
	qcow2_put64(b + 40, q->h.l1_table_offset);
	qcow2_put64(b + 48, q->h.refcount_table_offset);
	qcow2_put32(b + 56, q->h.refcount_table_clusters);
	if (q->h.version == 3) {
		qcow2_put64(b + 72, q->h.incompat);
		qcow2_put64(b + 80, q->h.compat);
		qcow2_put64(b + 88, q->h.autoclear);
	}
	return qcow2_pwrite(q, QCOW2_IO_HEADER, b, len, 0);
}

void qcow2_backing_path(const char *image, const char *backing, char *out, size_t outlen)
{
	const char *slash = strrchr(image, '/');

	if (backing[0] == '/' || !slash)
		snprintf(out, outlen, "%s", backing);
	else
		snprintf(out, outlen, "%.*s/%s", (int)(slash - image), image, backing);
}

/* Walks the chain by headers alone; refuses loops and absurd depth. */
int qcow2_chain_check(const char *path, char *err, size_t errlen)
{
	struct stat seen[QCOW2_MAX_BACKING_DEPTH + 1];
	char cur[BLK_PATH_MAX], next[BLK_PATH_MAX];
	struct qcow2_header *h = malloc(sizeof(*h));
	int depth, ret = 0;

	if (!h)
		return -ENOMEM;
	snprintf(cur, sizeof(cur), "%s", path);
	for (depth = 0; ; depth++) {
		int fd = open(cur, O_RDONLY | O_CLOEXEC);
		uint8_t m[8];
		struct stat st;

		if (fd < 0)
			break;		/* reported by the real open */
		if (fstat(fd, &st) < 0 || pread(fd, m, 8, 0) != 8 || !qcow2_probe(m, 8)) {
			close(fd);
			break;
		}
		for (int i = 0; i < depth; i++) {
			if (seen[i].st_dev == st.st_dev && seen[i].st_ino == st.st_ino) {
				snprintf(err, errlen, "%s: qcow2 backing chain loops back to %s",
					 path, cur);
				close(fd);
				ret = -ELOOP;
				goto out;
			}
		}
		if (depth >= QCOW2_MAX_BACKING_DEPTH) {
			snprintf(err, errlen, "%s: qcow2 backing chain deeper than %d",
				 path, QCOW2_MAX_BACKING_DEPTH);
			close(fd);
			ret = -ELOOP;
			goto out;
		}
		seen[depth] = st;
		char dummy[256];

		if (qcow2_read_header(fd, cur, h, (uint64_t)st.st_size, false, dummy,
				      sizeof(dummy)) < 0 ||
		    !h->backing_file[0]) {
			close(fd);
			break;
		}
		close(fd);
		qcow2_backing_path(cur, h->backing_file, next, sizeof(next));
		memcpy(cur, next, sizeof(cur));
	}
out:
	free(h);
	return ret;
}

/* ---- a minimal raw reader, used when the block layer's opener is absent ---- */

struct qraw {
	struct blk_image img;
	int fd;
};

static int qraw_preadv(struct blk_image *img, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct qraw *r = img->priv;

	size_t got;
	int ret;

	for (int i = 0; i < iovcnt; i++) {
		/* past EOF reads as zeros */
		ret = qcow2_fd_pread(r->fd, iov[i].iov_base, iov[i].iov_len, off, &got);
		if (ret)
			return ret;
		off += iov[i].iov_len;
	}
	return 0;
}

static int qraw_pwritev(struct blk_image *img, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct qraw *r = img->priv;

	int ret;

	for (int i = 0; i < iovcnt; i++) {
		ret = qcow2_fd_pwrite(r->fd, iov[i].iov_base, iov[i].iov_len, off);
		if (ret)
			return ret;
		off += iov[i].iov_len;
	}
	return 0;
}

static int qraw_flush(struct blk_image *img)
{
	struct qraw *r = img->priv;

	return fdatasync(r->fd) < 0 ? -errno : 0;
}

static int qraw_discard(struct blk_image *img, uint64_t off, uint64_t len)
{
	return 0;
}

static int qraw_write_zeroes(struct blk_image *img, uint64_t off, uint64_t len)
{
	struct qraw *r = img->priv;

	return fallocate(r->fd, FALLOC_FL_ZERO_RANGE, (off_t)off, (off_t)len) < 0 ? -errno : 0;
}

static int qraw_block_status(struct blk_image *img, uint64_t off, uint64_t len, uint64_t *pnum)
{
	return blk_fd_block_status(((struct qraw *)img->priv)->fd, off, len, pnum);
}

static void qraw_close(struct blk_image *img)
{
	struct qraw *r = img->priv;

	close(r->fd);
	free(r);
}

static const struct blk_image_ops qraw_ops = {
	.preadv = qraw_preadv,
	.pwritev = qraw_pwritev,
	.flush = qraw_flush,
	.discard = qraw_discard,
	.write_zeroes = qraw_write_zeroes,
	.block_status = qraw_block_status,
	.close = qraw_close,
};

static int qraw_open(const char *path, bool readonly, struct blk_image **out,
		     char *err, size_t errlen)
{
	struct qraw *r = calloc(1, sizeof(*r));
	struct stat st;

	if (!r)
		return -ENOMEM;
	r->fd = open(path, (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (r->fd < 0 || fstat(r->fd, &st) < 0) {
		int e = errno;

		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
		if (r->fd >= 0)
			close(r->fd);
		free(r);
		return -e;
	}
	r->img.ops = &qraw_ops;
	r->img.format_name = "raw";
	snprintf(r->img.path, sizeof(r->img.path), "%s", path);
	r->img.size = (uint64_t)st.st_size;
	r->img.readonly = readonly;
	r->img.block_size = 512;
	r->img.align = 1;
	r->img.priv = r;
	*out = &r->img;
	return 0;
}

int qcow2_open_any(const char *path, const char *fmt, bool readonly,
		   enum disk_cache cache, struct blk_image **out, char *err, size_t errlen)
{
	enum disk_format f = DISK_FORMAT_AUTO;
	uint8_t m[8] = {0};
	int fd;

	if (fmt && fmt[0]) {
		if (!strcmp(fmt, "raw"))
			f = DISK_FORMAT_RAW;
		else if (!strcmp(fmt, "qcow2"))
			f = DISK_FORMAT_QCOW2;
		else {
			snprintf(err, errlen, "%s: unknown image format '%s'", path, fmt);
			return -EINVAL;
		}
	}
	if (blk_image_open)
		return blk_image_open(path, f, readonly, cache, out, err, errlen);
	if (f == DISK_FORMAT_AUTO) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;

			snprintf(err, errlen, "%s: cannot open: %s", path, strerror(e));
			return -e;
		}
		f = pread(fd, m, 8, 0) == 8 && qcow2_probe(m, 8) ? DISK_FORMAT_QCOW2 : DISK_FORMAT_RAW;
		close(fd);
	}
	if (f == DISK_FORMAT_QCOW2)
		return blk_format_qcow2.open(path, readonly, cache, out, err, errlen);
	return qraw_open(path, readonly, out, err, errlen);
}
