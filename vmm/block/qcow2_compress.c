// SPDX-License-Identifier: MIT
/*
 * qcow2 compressed clusters: reading (raw deflate, or zstd when the header's
 * compression_type says so) and writing deflated clusters, packed several to
 * a host cluster (used by vmm-img convert -c).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include "block/qcow2.h"
#include "log.h"

static void compressed_range(const struct qcow2 *q, uint64_t entry, uint64_t *off, uint64_t *len)
{
	uint32_t x = 62 - (q->h.cluster_bits - 8);
	uint64_t nsect;

	*off = entry & ((1ull << x) - 1);
	nsect = ((entry >> x) & ((1ull << (q->h.cluster_bits - 8)) - 1)) + 1;
	*len = nsect * 512 - (*off & 511);
}

int qcow2_decompress(struct qcow2 *q, uint64_t entry, uint8_t *out)
{
	uint64_t off, len;
	ssize_t n;

	compressed_range(q, entry, &off, &len);
	if (len > 2ull * q->cluster_size)
		len = 2ull * q->cluster_size;
	n = qcow2_pread(q, q->zbuf, len, off);
	if (n <= 0) {
		log_err("%s: qcow2 compressed cluster at 0x%llx is past end of file",
			q->img.path, (unsigned long long)off);
		return -EIO;
	}
	/* what lies past the end of the file reads as zeros, as qemu reads it */
	n = (ssize_t)len;
	if (q->h.compression_type == QCOW2_COMPRESS_ZSTD) {
		ZSTD_inBuffer in = { q->zbuf, (size_t)n, 0 };
		ZSTD_outBuffer o = { out, q->cluster_size, 0 };

		if (!q->zctx) {
			q->zctx = ZSTD_createDCtx();
			if (!q->zctx)
				return -ENOMEM;
		}
		ZSTD_DCtx_reset(q->zctx, ZSTD_reset_session_only);
		while (o.pos < o.size) {
			size_t before_in = in.pos, before_out = o.pos;
			size_t r = ZSTD_decompressStream(q->zctx, &o, &in);

			if (ZSTD_isError(r) || (in.pos == before_in && o.pos == before_out))
				goto bad;
		}
		return 0;
	} else {
		z_stream s;
		int r;

		memset(&s, 0, sizeof(s));
		if (inflateInit2(&s, -15) != Z_OK)
			return -ENOMEM;
		s.next_in = q->zbuf;
		s.avail_in = (uInt)n;
		s.next_out = out;
		s.avail_out = q->cluster_size;
		r = inflate(&s, Z_FINISH);
		inflateEnd(&s);
		if ((r == Z_STREAM_END || r == Z_BUF_ERROR) && s.avail_out == 0)
			return 0;
	}
bad:
	log_err("%s: qcow2 compressed cluster at 0x%llx does not decompress",
		q->img.path, (unsigned long long)off);
	return -EIO;
}

size_t qcow2_deflate(const uint8_t *in, size_t len, uint8_t *out, size_t outlen)
{
	z_stream s;
	size_t n = 0;

	memset(&s, 0, sizeof(s));
	if (deflateInit2(&s, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -12, 9, Z_DEFAULT_STRATEGY) != Z_OK)
		return 0;
	s.next_in = (uint8_t *)in;
	s.avail_in = (uInt)len;
	s.next_out = out;
	s.avail_out = (uInt)outlen;
	if (deflate(&s, Z_FINISH) == Z_STREAM_END)
		n = s.total_out;
	deflateEnd(&s);
	return n < len ? n : 0;
}

/* Frees the host clusters a compressed entry occupies. */
void qcow2_free_compressed(struct qcow2 *q, uint64_t entry)
{
	uint64_t off, len;

	compressed_range(q, entry, &off, &len);
	qcow2_free_bytes(q, off, len);
}

int qcow2_write_compressed(struct blk_image *img, uint64_t voff, const uint8_t *buf)
{
	struct qcow2 *q = qcow2_of(img);
	uint64_t cs = q->cluster_size, off, old, x = 62 - (q->h.cluster_bits - 8);
	struct iovec iov = { (void *)buf, cs };
	size_t clen;
	int ret;

	if (voff & (cs - 1) || voff + cs > ((img->size + cs - 1) & ~(cs - 1)))
		return -EINVAL;
	if (q->h.compression_type != QCOW2_COMPRESS_ZLIB)
		return img->ops->pwritev(img, &iov, 1, voff);
	pthread_mutex_lock(&q->lock);
	clen = qcow2_deflate(buf, cs, q->zbuf, 2 * cs);
	if (!clen || clen > cs - 512) {
		pthread_mutex_unlock(&q->lock);
		return img->ops->pwritev(img, &iov, 1, voff);
	}
	ret = qcow2_get_l2_entry(q, voff, &old);
	if (ret < 0)
		goto out;
	if (q->cbytes_off && (q->cbytes_off & (cs - 1)) + clen <= cs) {
		off = q->cbytes_off;
		ret = qcow2_update_refcount(q, off >> q->h.cluster_bits, 1);
	} else {
		ret = qcow2_alloc_run(q, 1, &off);
	}
	if (ret < 0)
		goto out;
	ret = qcow2_pwrite(q, QCOW2_IO_DATA, q->zbuf, clen, off);
	if (ret < 0)
		goto out;
	q->cbytes_off = (off + clen) & (cs - 1) ? off + clen : 0;
	/* the entry waits for a sync: garbage where it points would not decompress */
	ret = qcow2_set_l2_entry(q, voff, QCOW2_OFLAG_COMPRESSED | off |
				 ((((off + clen - 1) >> 9) - (off >> 9)) << x), true);
	if (ret < 0)
		goto out;
	if (old & QCOW2_OFLAG_COMPRESSED)
		qcow2_free_compressed(q, old);
	else if (old & QCOW2_OFFSET_MASK)
		qcow2_free_bytes(q, old & QCOW2_OFFSET_MASK, cs);
out:
	pthread_mutex_unlock(&q->lock);
	return ret;
}
