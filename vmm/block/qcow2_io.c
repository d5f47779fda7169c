// SPDX-License-Identifier: MIT
/*
 * qcow2 data paths: read (allocated, zero, compressed, backing), write (in
 * place or allocating, ordered data -> refcount -> L2), write_zeroes,
 * discard, flush, and map() for the async fast path.  One mutex per image.
 *
 * map() hands the io_uring engine a host range it reads or writes without
 * the lock.  Such a range stays "mapped" until unmap(); a data cluster that
 * a discard or a rewrite frees meanwhile is held, not freed, until its last
 * mapping goes.  Otherwise the pool could hand it to another guest cluster
 * and the write still in flight would land in that cluster's data.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/engine.h"
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
static int cur_hostio(struct iovcur *c, struct qcow2 *q, uint64_t host, size_t n, bool write)
{
	if (write)
		qcow2_trace(q, QCOW2_IO_DATA, host, n);
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
		r = write ? pwritev(q->fd, v, cnt, (off_t)host) :
			    preadv(q->fd, v, cnt, (off_t)host);
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
		return ret < 0 ? ret : cur_hostio(c, q, host + in, n, false);
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

/*
 * The one walk over the clusters of [off, off+len) that read, write,
 * write_zeroes and discard share: fn gets each cluster's L2 entry and the
 * piece [off, off+*n) of it (at most the rest of that cluster); it may grow
 * *n, up to left, to take the following clusters in one go.  Runs under the
 * image lock and stops at the first error.
 */
typedef int (*piece_fn)(struct qcow2 *q, uint64_t e, uint64_t off, uint64_t left,
			uint64_t *n, void *arg);

static int walk_clusters(struct qcow2 *q, uint64_t off, uint64_t len, piece_fn fn, void *arg)
{
	uint64_t cs = q->cluster_size, e, n;
	int ret = 0;

	pthread_mutex_lock(&q->lock);
	while (len) {
		n = cs - (off & (cs - 1));
		if (n > len)
			n = len;
		ret = qcow2_get_l2_entry(q, off, &e);
		if (ret == 0)
			ret = fn(q, e, off, len, &n, arg);
		if (ret < 0)
			break;
		off += n;
		len -= n;
	}
	pthread_mutex_unlock(&q->lock);
	return ret;
}

static bool is_plain_data(const struct qcow2 *q, uint64_t e)
{
	return (e & QCOW2_OFFSET_MASK) && !(e & QCOW2_OFLAG_COMPRESSED) && !is_zero_entry(q, e);
}

static int read_piece(struct qcow2 *q, uint64_t e, uint64_t off, uint64_t left, uint64_t *n,
		      void *arg)
{
	uint64_t cs = q->cluster_size, host = e & QCOW2_OFFSET_MASK, e2;
	int ret;

	if (!is_plain_data(q, e))
		return read_chunk(q, e, off, *n, arg);
	/* coalesce following clusters stored right after this one */
	while (*n < left && *n < (8u << 20) && qcow2_get_l2_entry(q, off + *n, &e2) == 0 &&
	       is_plain_data(q, e2) &&
	       (e2 & QCOW2_OFFSET_MASK) == host + ((off + *n - (off & ~(cs - 1))) & ~(cs - 1)))
		*n = *n + cs < left ? *n + cs : left;
	ret = check_host(q, host);
	return ret < 0 ? ret : cur_hostio(arg, q, host + (off & (cs - 1)), *n, false);
}

static int do_preadv(struct blk_image *img, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct iovcur c = { iov, iovcnt, 0, 0 };
	uint64_t len = iov_total(iov, iovcnt);
	int ret = check_range(img, off, len);

	return ret < 0 ? ret : walk_clusters(qcow2_of(img), off, len, read_piece, &c);
}

/* An entry whose cluster reads as zeros without touching the file. */
static bool reads_as_zero(const struct qcow2 *q, uint64_t e)
{
	return is_zero_entry(q, e) ||
	       (!(e & QCOW2_OFFSET_MASK) && !(e & QCOW2_OFLAG_COMPRESSED) && !q->backing);
}

/* Lock held.  Is any byte of host cluster c mapped for I/O in flight? */
static bool cluster_mapped(const struct qcow2 *q, uint64_t c)
{
	for (size_t i = 0; i < q->nmapped; i++)
		if (c < q->mapped[i].host + q->mapped[i].len && q->mapped[i].host < c + q->cluster_size)
			return true;
	return false;
}

/* Lock held.  Frees the held clusters no mapping covers any more. */
static void release_held(struct qcow2 *q)
{
	size_t i = 0;

	while (i < q->nheld) {
		if (cluster_mapped(q, q->held[i])) {
			i++;
			continue;
		}
		qcow2_free_bytes(q, q->held[i], q->cluster_size);
		q->held[i] = q->held[--q->nheld];
	}
}

/* Frees what an L2 entry pointed to, after the entry was replaced. */
static void free_entry(struct qcow2 *q, uint64_t e)
{
	uint64_t host = e & QCOW2_OFFSET_MASK;

	if (e & QCOW2_OFLAG_COMPRESSED) {
		qcow2_free_compressed(q, e);	/* never mapped */
		return;
	}
	if (!host)
		return;
	if (cluster_mapped(q, host)) {
		if (q->nheld == q->held_cap) {
			size_t cap = q->held_cap ? q->held_cap * 2 : 16;
			uint64_t *h = realloc(q->held, cap * sizeof(*h));

			if (!h) {
				/* leaked (qemu-img check: a leak), never reused under a write */
				log_warn("%s: qcow2 cluster at 0x%llx leaked (out of memory)",
					 q->img.path, (unsigned long long)host);
				return;
			}
			q->held = h;
			q->held_cap = cap;
		}
		q->held[q->nheld++] = host;
		return;
	}
	qcow2_free_bytes(q, host, q->cluster_size);
}

void qcow2_release_mappings(struct qcow2 *q)
{
	q->nmapped = 0;
	release_held(q);
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
	ret = qcow2_pwrite(q, QCOW2_IO_DATA, q->wbuf, cs, host);
	if (ret < 0) {
		qcow2_free_bytes(q, host, cs);
		return ret;
	}
	/*
	 * If a lost data write would show more than zeros where the guest did
	 * not write (old contents merged in, or a reused cluster's old data),
	 * the entry waits for a sync (qcow2_commit).  A fresh cluster past the
	 * old end of file reads as zeros, so its entry is written at once.
	 */
	ret = qcow2_set_l2_entry(q, voff, host | QCOW2_OFLAG_COPIED,
				 reused || (n < cs && !reads_as_zero(q, e)));
	if (ret < 0) {
		qcow2_free_bytes(q, host, cs);
		return ret;
	}
	free_entry(q, e);
	return 0;
}

static bool in_place(const struct qcow2 *q, uint64_t e)
{
	return is_plain_data(q, e) && (e & QCOW2_OFLAG_COPIED);
}

/* An entry a whole-cluster write replaces without freeing or reading anything. */
static bool unallocated(uint64_t e)
{
	return !(e & QCOW2_OFFSET_MASK) && !(e & QCOW2_OFLAG_COMPRESSED);
}

/*
 * A write of whole unallocated clusters (a new image written in order, as
 * convert does): as many as the pool holds contiguous and fresh, up to the
 * end of the L2 table, take one data write straight from the caller's
 * buffers and one write of their L2 entries.  Their refcounts were raised
 * and synced by the pool, and fresh clusters past the old end of the file
 * read as zeros until then, so the entries are written at once, after the
 * data (docs/qcow2.md, "Crash consistency").  *n = 0: not taken here.
 */
static int alloc_run_write(struct qcow2 *q, uint64_t off, uint64_t left, uint64_t *n,
			   struct iovcur *src)
{
	uint64_t cs = q->cluster_size, per = 1ull << q->l2_bits, idx, max, k, host, got, e;
	int ret;

	idx = (off >> q->h.cluster_bits) & (per - 1);
	max = left >> q->h.cluster_bits;
	if (max > per - idx)
		max = per - idx;
	for (k = 1; k < max; k++) {
		ret = qcow2_get_l2_entry(q, off + k * cs, &e);
		if (ret < 0)
			return ret;
		if (!unallocated(e))
			break;
	}
	ret = qcow2_ensure_l2(q, off);	/* before the data, which then stays contiguous */
	if (ret == 0)
		ret = qcow2_alloc_contig(q, k, &host, &got);
	if (ret < 0 || !got) {
		*n = 0;
		return ret;
	}
	ret = cur_hostio(src, q, host, got * cs, true);
	if (ret == 0)
		ret = qcow2_set_l2_run(q, off, host, got);
	if (ret < 0) {
		qcow2_free_bytes(q, host, got * cs);
		return ret;
	}
	*n = got * cs;
	return 0;
}

static int write_piece(struct qcow2 *q, uint64_t e, uint64_t off, uint64_t left, uint64_t *n,
		       void *arg)
{
	int ret;

	if (!(off & (q->cluster_size - 1)) && left >= 2ull * q->cluster_size &&
	    unallocated(e)) {
		ret = alloc_run_write(q, off, left, n, arg);
		if (ret < 0 || *n)
			return ret;
		*n = q->cluster_size;
	}
	if (!in_place(q, e))
		return alloc_write(q, e, off, *n, arg);
	ret = check_host(q, e & QCOW2_OFFSET_MASK);
	return ret < 0 ? ret : cur_hostio(arg, q, (e & QCOW2_OFFSET_MASK) +
					  (off & (q->cluster_size - 1)), *n, true);
}

static int do_pwritev(struct blk_image *img, const struct iovec *iov, int iovcnt, uint64_t off)
{
	struct iovcur c = { iov, iovcnt, 0, 0 };
	uint64_t len = iov_total(iov, iovcnt);
	int ret;

	if (img->readonly)
		return -EROFS;
	ret = check_range(img, off, len);
	return ret < 0 ? ret : walk_clusters(qcow2_of(img), off, len, write_piece, &c);
}

/*
 * cache=none (O_DIRECT): offsets and lengths must be aligned (the guest is
 * told the block size); a guest buffer that is not goes through one aligned
 * bounce buffer, as raw does.
 */
static int dio_rw(struct blk_image *img, const struct iovec *iov, int iovcnt, uint64_t off,
		  bool write)
{
	uint64_t len = iov_total(iov, iovcnt);
	struct iovec one;
	int ret;

	if (img->align <= 1 || blk_iov_aligned(iov, (unsigned int)iovcnt, img->align)) {
		if (off % img->align || len % img->align)
			return -EINVAL;
		return write ? do_pwritev(img, iov, iovcnt, off) : do_preadv(img, iov, iovcnt, off);
	}
	if (off % img->align || len % img->align || iovcnt < 0 || iovcnt > BLK_IOV_MAX ||
	    check_range(img, off, len) < 0)
		return -EINVAL;
	one.iov_len = len;
	one.iov_base = blk_bounce_alloc(len, img->align);
	if (!one.iov_base)
		return -ENOMEM;
	if (write) {
		blk_iov_to_buf(iov, (unsigned int)iovcnt, one.iov_base, len);
		ret = do_pwritev(img, &one, 1, off);
	} else {
		ret = do_preadv(img, &one, 1, off);
		if (ret == 0)
			blk_buf_to_iov(one.iov_base, len, iov, (unsigned int)iovcnt);
	}
	free(one.iov_base);
	return ret;
}

static int qcow2_preadv(struct blk_image *img, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return dio_rw(img, iov, iovcnt, off, false);
}

static int qcow2_pwritev(struct blk_image *img, const struct iovec *iov, int iovcnt, uint64_t off)
{
	return dio_rw(img, iov, iovcnt, off, true);
}

/* write_zeroes (must read back zero) vs discard (advisory), one cluster piece. */
static int zero_piece(struct qcow2 *q, uint64_t e, uint64_t off, uint64_t left, uint64_t *n,
		      void *arg)
{
	static const uint8_t zeros[4096] __attribute__((aligned(4096)));
	uint64_t cs = q->cluster_size, ne, host;
	bool discard = *(bool *)arg;
	/* the last cluster of an image whose size is not cluster aligned is whole too */
	bool whole = !(off & (cs - 1)) && (*n == cs || off + *n == q->img.size);
	int ret = 0;

	if (whole && (q->h.version >= 3 || !q->backing)) {
		ne = q->backing ? QCOW2_OFLAG_ZERO : 0;
		if (q->h.version >= 3 && !q->backing && !(e & QCOW2_OFFSET_MASK) &&
		    !(e & QCOW2_OFLAG_COMPRESSED))
			ne = e;		/* already reads as zeros */
		if (ne == e)
			return 0;
		ret = qcow2_set_l2_entry(q, off, ne, false);
		if (ret == 0)
			free_entry(q, e);
		return ret;
	}
	if (discard || is_zero_entry(q, e) || (!e && !q->backing))
		return 0;
	if (!in_place(q, e))
		return alloc_write(q, e, off, *n, NULL);
	host = (e & QCOW2_OFFSET_MASK) + (off & (cs - 1));
	for (uint64_t d = 0; d < *n && ret == 0; d += sizeof(zeros)) {
		size_t k = *n - d < sizeof(zeros) ? *n - d : sizeof(zeros);

		ret = qcow2_pwrite(q, QCOW2_IO_DATA, zeros, k, host + d);
	}
	return ret;
}

static int zero_range(struct blk_image *img, uint64_t off, uint64_t len, bool discard)
{
	int ret;

	if (img->readonly)
		return -EROFS;
	ret = check_range(img, off, len);
	if (ret < 0)
		return ret;
	if (!discard && (off % img->align || len % img->align))
		return -EINVAL;		/* O_DIRECT: as for writes */
	return walk_clusters(qcow2_of(img), off, len, zero_piece, &discard);
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
	if (img->readonly || img->cache == DISK_CACHE_UNSAFE)
		return 0;
	return qcow2_flush_image(qcow2_of(img));
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
		if (qcow2_get_l2_entry(q, v, &e) < 0 || !is_plain_data(q, e) ||
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
	if (ret == 0 && q->nmapped == q->mapped_cap) {
		size_t cap = q->mapped_cap ? q->mapped_cap * 2 : 64;
		struct qcow2_mapping *m = realloc(q->mapped, cap * sizeof(*m));

		if (m) {
			q->mapped = m;
			q->mapped_cap = cap;
		} else {
			ret = -ENOENT;		/* the slow path needs no tracking */
		}
	}
	if (ret == 0) {
		/* whole clusters, as unmap() computes them from the same range */
		q->mapped[q->nmapped].host = first;
		q->mapped[q->nmapped].len = ((off + len + cs - 1) & ~(uint64_t)(cs - 1)) -
					    (off & ~(uint64_t)(cs - 1));
		q->nmapped++;
	}
	pthread_mutex_unlock(&q->lock);
	if (ret == 0) {
		*fd = q->fd;
		*host_off = first + (off & (cs - 1));
	}
	return ret;
}

static void qcow2_unmap(struct blk_image *img, uint64_t host_off, uint64_t len)
{
	struct qcow2 *q = qcow2_of(img);
	uint64_t cs = q->cluster_size, host = host_off & ~(uint64_t)(cs - 1);
	uint64_t span = ((host_off + len + cs - 1) & ~(uint64_t)(cs - 1)) - host;

	pthread_mutex_lock(&q->lock);
	for (size_t i = 0; i < q->nmapped; i++) {
		if (q->mapped[i].host == host && q->mapped[i].len == span) {
			q->mapped[i] = q->mapped[--q->nmapped];
			break;
		}
	}
	if (q->nheld)
		release_held(q);
	pthread_mutex_unlock(&q->lock);
}


const struct blk_image_ops qcow2_ops = {
	.preadv = qcow2_preadv,
	.pwritev = qcow2_pwritev,
	.flush = qcow2_flush,
	.discard = qcow2_discard,
	.write_zeroes = qcow2_write_zeroes,
	.map = qcow2_map,
	.block_status = qcow2_block_status,
	.unmap = qcow2_unmap,
	.close = qcow2_close_image,
};
