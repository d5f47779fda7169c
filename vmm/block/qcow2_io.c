// SPDX-License-Identifier: MIT
/*
 * qcow2 data paths: read (allocated, zero, compressed, backing), write (in
 * place or allocating, ordered data -> refcount -> L2), write_zeroes,
 * discard, flush, and map() for the async fast path.  One mutex per image.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "log.h"

/* A cursor over the caller's iovec. */
struct iovcur {
	const struct iovec *iov;
	int cnt, i;
	size_t off;
};

static void cur_advance(struct iovcur *c, size_t n)
{
	while (n && c->i < c->cnt) {
		size_t left = c->iov[c->i].iov_len - c->off, k = n < left ? n : left;

		c->off += k;
		n -= k;
		if (c->off == c->iov[c->i].iov_len) {
			c->i++;
			c->off = 0;
		}
	}
}

/* Copies n bytes between buf and the cursor (to_iov: buf -> iov); buf NULL: zeros. */
static void cur_copy(struct iovcur *c, uint8_t *buf, size_t n, bool to_iov)
{
	while (n && c->i < c->cnt) {
		uint8_t *p = (uint8_t *)c->iov[c->i].iov_base + c->off;
		size_t left = c->iov[c->i].iov_len - c->off, k = n < left ? n : left;

		if (to_iov)
			buf ? memcpy(p, buf, k) : memset(p, 0, k);
		else
			memcpy(buf, p, k);
		if (buf)
			buf += k;
		cur_advance(c, k);
		n -= k;
	}
}

/* preadv/pwritev of n bytes at host offset through the cursor. */
static int cur_hostio(struct iovcur *c, int fd, uint64_t host, size_t n, bool write)
{
	while (n) {
		struct iovec v[64];
		struct iovcur t = *c;
		size_t tot = 0;
		int cnt = 0;
		ssize_t r;

		while (tot < n && t.i < t.cnt && cnt < 64) {
			size_t left = t.iov[t.i].iov_len - t.off, k = n - tot < left ? n - tot : left;

			v[cnt].iov_base = (uint8_t *)t.iov[t.i].iov_base + t.off;
			v[cnt++].iov_len = k;
			tot += k;
			cur_advance(&t, k);
		}
		if (!tot)
			return -EINVAL;
		r = write ? pwritev(fd, v, cnt, (off_t)host) : preadv(fd, v, cnt, (off_t)host);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0) {
			if (write)
				return -EIO;
			cur_copy(c, NULL, n, true);	/* short file: zeros */
			return 0;
		}
		cur_advance(c, (size_t)r);
		host += (uint64_t)r;
		n -= (size_t)r;
	}
	return 0;
}

static bool is_zero_entry(const struct qcow2 *q, uint64_t e)
{
	return q->h.version >= 3 && !(e & QCOW2_OFLAG_COMPRESSED) && (e & QCOW2_OFLAG_ZERO);
}

static int check_host(struct qcow2 *q, uint64_t host)
{
	if (host & (q->cluster_size - 1)) {
		log_err("%s: qcow2 data cluster offset 0x%llx is not cluster aligned",
			q->img.path, (unsigned long long)host);
		return -EIO;
	}
	return 0;
}

/* Reads [voff, voff+n) of one cluster, n <= cluster, into the cursor. */
static int read_chunk(struct qcow2 *q, uint64_t e, uint64_t voff, size_t n, struct iovcur *c)
{
	uint64_t in = voff & (q->cluster_size - 1), host = e & QCOW2_OFFSET_MASK;
	int ret;

	if (e & QCOW2_OFLAG_COMPRESSED) {
		ret = qcow2_decompress(q, e, q->cbuf);
		if (ret == 0)
			cur_copy(c, q->cbuf + in, n, true);
		return ret;
	}
	if (is_zero_entry(q, e)) {
		cur_copy(c, NULL, n, true);
		return 0;
	}
	if (host) {
		ret = check_host(q, host);
		return ret < 0 ? ret : cur_hostio(c, q->fd, host + in, n, false);
	}
	if (q->backing && voff < q->backing->size) {
		size_t k = q->backing->size - voff < n ? q->backing->size - voff : n;
		struct iovec v[64];
		struct iovcur t = *c;
		size_t tot = 0;
		int cnt = 0;

		while (tot < k && t.i < t.cnt && cnt < 64) {
			size_t left = t.iov[t.i].iov_len - t.off, m = k - tot < left ? k - tot : left;

			v[cnt].iov_base = (uint8_t *)t.iov[t.i].iov_base + t.off;
			v[cnt++].iov_len = m;
			tot += m;
			cur_advance(&t, m);
		}
		if (tot == k) {
			ret = q->backing->ops->preadv(q->backing, v, cnt, voff);
			if (ret < 0)
				return ret;
			cur_advance(c, k);
		} else {	/* very fragmented iovec: bounce */
			struct iovec b = { q->cbuf, k };

			ret = q->backing->ops->preadv(q->backing, &b, 1, voff);
			if (ret < 0)
				return ret;
			cur_copy(c, q->cbuf, k, true);
		}
		n -= k;
	}
	cur_copy(c, NULL, n, true);
	return 0;
}

static int check_range(struct blk_image *img, uint64_t off, uint64_t len)
{
	if (off > img->size || len > img->size - off)
		return -EINVAL;
	return 0;
}

static size_t iov_total(const struct iovec *iov, int cnt)
{
	size_t t = 0;

	for (int i = 0; i < cnt; i++)
		t += iov[i].iov_len;
	return t;
}

static int qcow2_preadv(struct blk_image *img, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct qcow2 *q = qcow2_of(img);
	struct iovcur c = { iov, iovcnt, 0, 0 };
	uint64_t len = iov_total(iov, iovcnt), cs = q->cluster_size;
	int ret;

	ret = check_range(img, off, len);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&q->lock);
	while (len) {
		uint64_t e, n = cs - (off & (cs - 1));

		if (n > len)
			n = len;
		ret = qcow2_get_l2_entry(q, off, &e);
		if (ret < 0)
			break;
		/* coalesce following clusters stored right after this one */
		if ((e & QCOW2_OFFSET_MASK) && !(e & QCOW2_OFLAG_COMPRESSED) && !is_zero_entry(q, e)) {
			uint64_t e2;

			while (n < len && n < (8u << 20) &&
			       qcow2_get_l2_entry(q, off + n, &e2) == 0 &&
			       !(e2 & QCOW2_OFLAG_COMPRESSED) && !is_zero_entry(q, e2) &&
			       (e2 & QCOW2_OFFSET_MASK) ==
			       (e & QCOW2_OFFSET_MASK) + ((off + n - (off & ~(cs - 1))) & ~(cs - 1)))
				n = n + cs < len ? n + cs : len;
			ret = check_host(q, e & QCOW2_OFFSET_MASK);
			if (ret == 0)
				ret = cur_hostio(&c, q->fd, (e & QCOW2_OFFSET_MASK) + (off & (cs - 1)),
						 n, false);
		} else {
			ret = read_chunk(q, e, off, n, &c);
		}
		if (ret < 0)
			break;
		off += n;
		len -= n;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

/* Frees what an L2 entry pointed to, after the entry was replaced. */
static void free_entry(struct qcow2 *q, uint64_t e)
{
	if (e & QCOW2_OFLAG_COMPRESSED)
		qcow2_free_compressed(q, e);
	else if (e & QCOW2_OFFSET_MASK)
		qcow2_free_bytes(q, e & QCOW2_OFFSET_MASK, q->cluster_size);
}

/* Allocating write of one cluster: old contents + the new bytes (src NULL: zeros). */
static int alloc_write(struct qcow2 *q, uint64_t e, uint64_t voff, size_t n, struct iovcur *src)
{
	uint64_t cs = q->cluster_size, base = voff & ~(cs - 1), host;
	struct iovec v = { q->wbuf, cs };
	struct iovcur wc = { &v, 1, 0, 0 };
	bool reused;
	int ret;

	ret = qcow2_ensure_l2(q, voff);
	if (ret < 0)
		return ret;
	if (n < cs) {
		ret = read_chunk(q, e, base, cs, &wc);
		if (ret < 0)
			return ret;
	}
	if (src)
		cur_copy(src, q->wbuf + (voff - base), n, false);
	else
		memset(q->wbuf + (voff - base), 0, n);
	ret = qcow2_alloc_cluster(q, &host, &reused);
	if (ret < 0)
		return ret;
	if (pwrite(q->fd, q->wbuf, cs, (off_t)host) != (ssize_t)cs) {
		ret = errno ? -errno : -EIO;
		qcow2_free_bytes(q, host, cs);
		return ret;
	}
	if (reused) {
		ret = qcow2_sync(q);
		if (ret < 0)
			return ret;
	}
	ret = qcow2_set_l2_entry(q, voff, host | QCOW2_OFLAG_COPIED);
	if (ret < 0) {
		qcow2_free_bytes(q, host, cs);
		return ret;
	}
	free_entry(q, e);
	return 0;
}

static bool in_place(const struct qcow2 *q, uint64_t e)
{
	return (e & QCOW2_OFFSET_MASK) && (e & QCOW2_OFLAG_COPIED) &&
	       !(e & QCOW2_OFLAG_COMPRESSED) && !is_zero_entry(q, e);
}

static int qcow2_pwritev(struct blk_image *img, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct qcow2 *q = qcow2_of(img);
	struct iovcur c = { iov, iovcnt, 0, 0 };
	uint64_t len = iov_total(iov, iovcnt), cs = q->cluster_size;
	int ret;

	if (img->readonly)
		return -EROFS;
	ret = check_range(img, off, len);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&q->lock);
	while (len) {
		uint64_t e, n = cs - (off & (cs - 1));

		if (n > len)
			n = len;
		ret = qcow2_get_l2_entry(q, off, &e);
		if (ret < 0)
			break;
		if (in_place(q, e)) {
			ret = check_host(q, e & QCOW2_OFFSET_MASK);
			if (ret == 0)
				ret = cur_hostio(&c, q->fd, (e & QCOW2_OFFSET_MASK) + (off & (cs - 1)),
						 n, true);
		} else {
			ret = alloc_write(q, e, off, n, &c);
		}
		if (ret < 0)
			break;
		off += n;
		len -= n;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

/* zeroes: write_zeroes (must read back zero) vs discard (advisory). */
static int zero_range(struct blk_image *img, uint64_t off, uint64_t len, bool discard)
{
	struct qcow2 *q = qcow2_of(img);
	uint64_t cs = q->cluster_size;
	int ret;

	if (img->readonly)
		return -EROFS;
	ret = check_range(img, off, len);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&q->lock);
	while (len) {
		uint64_t e, ne, n = cs - (off & (cs - 1));
		bool whole;

		if (n > len)
			n = len;
		/* the last cluster of an image whose size is not cluster aligned */
		whole = !(off & (cs - 1)) && (n == cs || off + n == img->size);
		ret = qcow2_get_l2_entry(q, off, &e);
		if (ret < 0)
			break;
		if (whole && (q->h.version >= 3 || !q->backing)) {
			ne = q->backing ? QCOW2_OFLAG_ZERO : 0;
			if (q->h.version >= 3 && !q->backing && !(e & QCOW2_OFFSET_MASK) &&
			    !(e & QCOW2_OFLAG_COMPRESSED))
				ne = e;		/* already reads as zeros */
			if (ne != e) {
				ret = qcow2_set_l2_entry(q, off, ne);
				if (ret < 0)
					break;
				free_entry(q, e);
			}
		} else if (!discard) {
			if (is_zero_entry(q, e) || (!e && !q->backing)) {
				ret = 0;
			} else if (in_place(q, e)) {
				static const uint8_t zeros[4096];
				uint64_t host = (e & QCOW2_OFFSET_MASK) + (off & (cs - 1));

				for (uint64_t d = 0; d < n && ret == 0; d += sizeof(zeros)) {
					size_t k = n - d < sizeof(zeros) ? n - d : sizeof(zeros);

					if (pwrite(q->fd, zeros, k, (off_t)(host + d)) != (ssize_t)k)
						ret = errno ? -errno : -EIO;
				}
			} else {
				ret = alloc_write(q, e, off, n, NULL);
			}
			if (ret < 0)
				break;
		}
		off += n;
		len -= n;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static int qcow2_write_zeroes(struct blk_image *img, uint64_t off, uint64_t len)
{
	return zero_range(img, off, len, false);
}

static int qcow2_discard(struct blk_image *img, uint64_t off, uint64_t len)
{
	return zero_range(img, off, len, true);
}

static int qcow2_flush(struct blk_image *img)
{
	struct qcow2 *q = qcow2_of(img);

	if (img->readonly || img->cache == DISK_CACHE_UNSAFE)
		return 0;
	return fdatasync(q->fd) < 0 ? -errno : 0;
}

static int qcow2_map(struct blk_image *img, uint64_t off, uint64_t len, bool write,
		     int *fd, uint64_t *host_off)
{
	struct qcow2 *q = qcow2_of(img);
	uint64_t cs = q->cluster_size, first = 0, e;
	int ret = 0;

	if (!len || check_range(img, off, len) < 0 || (write && img->readonly))
		return -ENOENT;
	pthread_mutex_lock(&q->lock);
	for (uint64_t v = off & ~(cs - 1); v < off + len; v += cs) {
		if (qcow2_get_l2_entry(q, v, &e) < 0 || !(e & QCOW2_OFFSET_MASK) ||
		    (e & QCOW2_OFLAG_COMPRESSED) || is_zero_entry(q, e) ||
		    (write && !(e & QCOW2_OFLAG_COPIED)) ||
		    ((e & QCOW2_OFFSET_MASK) & (cs - 1))) {
			ret = -ENOENT;
			break;
		}
		if (v == (off & ~(cs - 1)))
			first = e & QCOW2_OFFSET_MASK;
		else if ((e & QCOW2_OFFSET_MASK) != first + (v - (off & ~(cs - 1)))) {
			ret = -ENOENT;
			break;
		}
	}
	pthread_mutex_unlock(&q->lock);
	if (ret == 0) {
		*fd = q->fd;
		*host_off = first + (off & (cs - 1));
	}
	return ret;
}


const struct blk_image_ops qcow2_ops = {
	.preadv = qcow2_preadv,
	.pwritev = qcow2_pwritev,
	.flush = qcow2_flush,
	.discard = qcow2_discard,
	.write_zeroes = qcow2_write_zeroes,
	.map = qcow2_map,
	.close = qcow2_close_image,
};
