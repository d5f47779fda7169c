// SPDX-License-Identifier: MIT
/*
 * qcow2 file I/O and write ordering.
 *
 * I/O: every metadata read and write goes through here, so that with
 * cache=none (O_DIRECT) buffers, offsets and lengths are aligned to q->align:
 * tables are cluster-sized and cluster-aligned (the cluster size is at least
 * the alignment, checked at open), so a table write only widens its byte
 * range to whole blocks of the cached table; anything else (header fields,
 * compressed clusters) is read-modify-written through an aligned buffer.
 *
 * Ordering, for power loss as well as kill -9 (QEMU's qcow2 does the same
 * with cache dependencies):
 *  - a refcount increase is durable before any L1/L2/refcount-table entry
 *    points at the cluster (the pool in qcow2_refcount.c syncs once a batch);
 *  - an L2 entry pointing at data that must survive (a copy-on-write merge,
 *    a reused cluster, a compressed cluster) is not written through: its
 *    table stays dirty and qcow2_commit() writes it after a sync;
 *  - a refcount decrease is deferred (q->frees) until a sync after the
 *    entry that dropped the reference was written.
 * qcow2_commit() runs when the pool refills (right after its sync), when a
 * dirty table leaves the cache, on flush, check and close, so a burst of
 * allocating writes costs one sync per pool batch, not one per write.
 * cache=unsafe: no syncs, nothing deferred.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "log.h"

#define QCOW2_IO_ALIGN	4096	/* buffers are aligned to the largest O_DIRECT block */

void *qcow2_alloc_aligned(size_t len)
{
	void *p;

	if (posix_memalign(&p, QCOW2_IO_ALIGN, len ? len : QCOW2_IO_ALIGN))
		return NULL;
	return p;
}

int qcow2_fd_pread(int fd, uint8_t *buf, size_t len, uint64_t off, size_t *got)
{
	*got = 0;
	while (*got < len) {
		ssize_t n = pread(fd, buf + *got, len - *got, (off_t)(off + *got));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		*got += (size_t)n;
	}
	if (*got < len)
		memset(buf + *got, 0, len - *got);
	return 0;
}

int qcow2_fd_pwrite(int fd, const uint8_t *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, (off_t)off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf += n;
		off += (uint64_t)n;
		len -= (size_t)n;
	}
	return 0;
}

static bool is_aligned(const struct qcow2 *q, const void *buf, size_t len, uint64_t off)
{
	return !((uintptr_t)buf % q->align) && !(len % q->align) && !(off % q->align);
}

ssize_t qcow2_pread(struct qcow2 *q, void *buf, size_t len, uint64_t off)
{
	uint64_t start = off & ~(uint64_t)(q->align - 1);
	size_t span, got;
	uint8_t *b;
	int ret;

	if (is_aligned(q, buf, len, off)) {
		ret = qcow2_fd_pread(q->fd, buf, len, off, &got);
		return ret < 0 ? ret : (ssize_t)got;
	}
	span = (off + len - start + q->align - 1) & ~(size_t)(q->align - 1);
	b = qcow2_alloc_aligned(span);
	if (!b)
		return -ENOMEM;
	ret = qcow2_fd_pread(q->fd, b, span, start, &got);
	if (ret == 0)
		memcpy(buf, b + (off - start), len);
	free(b);
	if (ret < 0)
		return ret;
	got = got > off - start ? got - (off - start) : 0;
	return (ssize_t)(got < len ? got : len);
}

int qcow2_pwrite(struct qcow2 *q, enum qcow2_io_kind kind, const void *buf, size_t len,
		 uint64_t off)
{
	uint64_t start = off & ~(uint64_t)(q->align - 1);
	size_t span, got;
	uint8_t *b;
	int ret;

	qcow2_trace(q, kind, off, len);
	if (is_aligned(q, buf, len, off))
		return qcow2_fd_pwrite(q->fd, buf, len, off);
	span = (off + len - start + q->align - 1) & ~(size_t)(q->align - 1);
	b = qcow2_alloc_aligned(span);
	if (!b)
		return -ENOMEM;
	ret = qcow2_fd_pread(q->fd, b, span, start, &got);
	if (ret == 0) {
		memcpy(b + (off - start), buf, len);
		/* do not extend the file past what the caller asked for */
		if (got < span && off + len > start + got)
			got = (size_t)(off + len - start);
		ret = qcow2_fd_pwrite(q->fd, b, (got + q->align - 1) & ~(size_t)(q->align - 1), start);
	}
	free(b);
	return ret;
}

int qcow2_table_write(struct qcow2 *q, enum qcow2_io_kind kind, const uint8_t *tbl,
		      uint64_t tbl_off, size_t boff, size_t blen)
{
	size_t a = q->align, s = boff & ~(a - 1), e = (boff + blen + a - 1) & ~(a - 1);

	return qcow2_pwrite(q, kind, tbl + s, e - s, tbl_off + s);
}

int qcow2_entry_write(struct qcow2 *q, enum qcow2_io_kind kind, const uint64_t *t,
		      uint64_t n, uint64_t tbl_off, uint64_t idx)
{
	uint64_t per = q->align / 8 ? q->align / 8 : 1, first = idx & ~(per - 1);
	uint8_t *b = qcow2_alloc_aligned(per * 8);
	int ret;

	if (!b)
		return -ENOMEM;
	/* the table fills whole clusters: entries past n in the block are zero */
	for (uint64_t i = 0; i < per; i++)
		qcow2_put64(b + i * 8, first + i < n ? t[first + i] : 0);
	ret = qcow2_pwrite(q, kind, b, per * 8, tbl_off + first * 8);
	free(b);
	return ret;
}

int qcow2_sync(struct qcow2 *q)
{
	if (q->img.cache == DISK_CACHE_UNSAFE)
		return 0;
	qcow2_trace(q, QCOW2_IO_SYNC, 0, 0);
	return fdatasync(q->fd) < 0 ? -errno : 0;
}

static void apply_frees(struct qcow2 *q, size_t n)
{
	if (!n)
		return;
	for (size_t i = 0; i < n; i++)
		if (qcow2_update_refcount(q, q->frees[i], -1) < 0)
			log_warn("%s: qcow2 cluster %llu leaked", q->img.path,
				 (unsigned long long)q->frees[i]);
	memmove(q->frees, q->frees + n, (q->nfrees - n) * sizeof(*q->frees));
	q->nfrees -= n;
	q->frees_done += n;
}

void qcow2_free_bytes(struct qcow2 *q, uint64_t off, uint64_t len)
{
	uint64_t first, last;

	if (!len)
		return;
	first = off >> q->h.cluster_bits;
	last = (off + len - 1) >> q->h.cluster_bits;
	for (uint64_t c = first; c <= last; c++) {
		if (q->nfrees == q->frees_cap) {
			size_t cap = q->frees_cap ? q->frees_cap * 2 : 64;
			uint64_t *f = realloc(q->frees, cap * sizeof(*f));

			if (!f) {
				log_warn("%s: qcow2 cluster %llu leaked (out of memory)",
					 q->img.path, (unsigned long long)c);
				continue;
			}
			q->frees = f;
			q->frees_cap = cap;
		}
		q->frees[q->nfrees++] = c;
	}
	if (q->img.cache == DISK_CACHE_UNSAFE)
		apply_frees(q, q->nfrees);
}

/* Writes every dirty L2 table; the caller has synced what they point at. */
static int write_dirty(struct qcow2 *q)
{
	struct qcow2_cache *c = &q->l2c;
	int ret;

	for (unsigned int i = 0; i < c->nsets * c->ways && c->ndirty; i++) {
		struct qcow2_cache_entry *en = &c->e[i];

		if (!en->dirty)
			continue;
		ret = qcow2_table_write(q, QCOW2_IO_L2, en->data, en->offset, en->dlo,
					en->dhi - en->dlo);
		if (ret < 0)
			return ret;
		en->dirty = false;
		c->ndirty--;
	}
	return 0;
}

int qcow2_commit(struct qcow2 *q, bool synced, bool durable)
{
	int ret;

	if (q->l2c.ndirty) {
		if (!synced) {
			ret = qcow2_sync(q);	/* data and refcounts before the entries */
			if (ret < 0)
				return ret;
		}
		ret = write_dirty(q);
		if (ret < 0)
			return ret;
		synced = false;
	}
	if (q->nfrees || durable) {
		if (!synced) {
			ret = qcow2_sync(q);	/* dropped references before the refcounts */
			if (ret < 0)
				return ret;
		}
		apply_frees(q, q->nfrees);
	}
	return 0;
}

/*
 * flush: as qcow2_commit(q, false, true), but the final fdatasync runs
 * without the image lock, so that the fast path and other requests go on.
 */
int qcow2_flush_image(struct qcow2 *q)
{
	uint64_t target;
	int ret = 0;

	pthread_mutex_lock(&q->lock);
	if (q->l2c.ndirty) {
		ret = qcow2_sync(q);
		if (ret == 0)
			ret = write_dirty(q);
	}
	target = q->frees_done + q->nfrees;
	pthread_mutex_unlock(&q->lock);
	if (ret == 0)
		ret = qcow2_sync(q);
	if (ret < 0)
		return ret;
	pthread_mutex_lock(&q->lock);
	/* only the decreases queued before that sync; a commit meanwhile took some */
	if (target > q->frees_done)
		apply_frees(q, (size_t)(target - q->frees_done) < q->nfrees ?
			    (size_t)(target - q->frees_done) : q->nfrees);
	pthread_mutex_unlock(&q->lock);
	return 0;
}
