// SPDX-License-Identifier: MIT
/*
 * qcow2 refcounts and cluster allocation.
 *
 * Crash-safety rule: a refcount is raised (and synced) before anything on
 * disk references the cluster, and lowered only after the reference is gone
 * for good (qcow2_free_bytes defers it past a sync, see qcow2_meta.c), so
 * the on-disk refcount is never below the on-disk references.  Clusters
 * are taken in batches (the pool): one fdatasync per batch; unused ones are
 * given back on close (a crash leaks them, which check -r leaks repairs).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "log.h"

uint64_t qcow2_rb_get(const struct qcow2 *q, const uint8_t *blk, uint64_t i)
{
	uint32_t w = q->refcount_bits;
	uint64_t v = 0;

	if (w < 8)
		return (blk[i * w / 8] >> (i * w % 8)) & ((1u << w) - 1);
	for (uint32_t b = 0; b < w / 8; b++)
		v = (v << 8) | blk[i * (w / 8) + b];
	return v;
}

/* Sets entry i; returns the byte range touched in *boff and *blen. */
void qcow2_rb_set(const struct qcow2 *q, uint8_t *blk, uint64_t i, uint64_t v,
		  size_t *boff, size_t *blen)
{
	uint32_t w = q->refcount_bits;

	if (w < 8) {
		uint8_t mask = (uint8_t)(((1u << w) - 1) << (i * w % 8));

		blk[i * w / 8] = (uint8_t)((blk[i * w / 8] & ~mask) | ((v << (i * w % 8)) & mask));
		*boff = i * w / 8;
		*blen = 1;
		return;
	}
	for (int b = (int)(w / 8) - 1; b >= 0; b--, v >>= 8)
		blk[i * (w / 8) + (uint64_t)b] = v & 0xff;
	*boff = i * (w / 8);
	*blen = w / 8;
}

static uint64_t rc_max(const struct qcow2 *q)
{
	return q->refcount_bits == 64 ? UINT64_MAX : (1ull << q->refcount_bits) - 1;
}

int qcow2_get_refcount(struct qcow2 *q, uint64_t cluster, uint64_t *rc)
{
	uint64_t idx = cluster >> q->rb_bits;
	uint8_t *blk;
	int ret = -EIO;

	*rc = 0;
	if (idx >= q->rt_entries || !(q->rt[idx] & QCOW2_OFFSET_MASK))
		return 0;
	blk = qcow2_cache_get(q, &q->rbc, q->rt[idx] & QCOW2_OFFSET_MASK, false, &ret);
	if (!blk)
		return ret;
	*rc = qcow2_rb_get(q, blk, cluster & ((1ull << q->rb_bits) - 1));
	return 0;
}

static uint64_t end_cluster(struct qcow2 *q)
{
	struct stat st;
	uint64_t e = 0;

	if (fstat(q->fd, &st) == 0)
		e = ((uint64_t)st.st_size + q->cluster_size - 1) >> q->h.cluster_bits;
	for (unsigned int i = 0; i < q->pool_n; i++)
		if ((q->pool[i] >> 1) + 1 > e)
			e = (q->pool[i] >> 1) + 1;
	return e;
}

/* Grows the refcount table so that index min_idx exists. */
static int grow_table(struct qcow2 *q, uint64_t min_idx, uint64_t avoid)
{
	uint64_t cs = q->cluster_size, e = end_cluster(q), new_n, tc, nb = 0, end;
	uint64_t *missing = NULL, nmiss = 0, *nt = NULL;
	uint8_t *blocks = NULL;
	uint64_t old_off = q->h.refcount_table_offset, old_clusters = q->h.refcount_table_clusters;
	int ret;

	if (e <= avoid)		/* the cluster being allocated stays free for its caller */
		e = avoid + 1;
	new_n = q->rt_entries * 2;
	if (new_n <= min_idx)
		new_n = min_idx + 1;
	for (;;) {
		tc = (new_n * 8 + cs - 1) / cs;
		new_n = tc * cs / 8;
		end = e + tc + nb;
		if (((end - 1) >> q->rb_bits) >= new_n) {
			new_n = ((end - 1) >> q->rb_bits) + 1;
			continue;
		}
		nmiss = 0;
		for (uint64_t r = e >> q->rb_bits; r <= (end - 1) >> q->rb_bits; r++)
			if (r >= q->rt_entries || !q->rt[r])
				nmiss++;
		if (nmiss == nb)
			break;
		nb = nmiss;
	}
	if (tc * cs > QCOW2_MAX_RT_BYTES) {
		log_err("%s: qcow2 refcount table would exceed %u bytes", q->img.path,
			QCOW2_MAX_RT_BYTES);
		return -EFBIG;
	}
	missing = calloc(nb + 1, sizeof(*missing));
	nt = calloc(new_n, sizeof(*nt));
	blocks = qcow2_alloc_aligned((nb + 1) * cs);
	if (!missing || !nt || !blocks) {
		ret = -ENOMEM;
		goto out;
	}
	memset(blocks, 0, (nb + 1) * cs);
	nmiss = 0;
	for (uint64_t r = e >> q->rb_bits; r <= (end - 1) >> q->rb_bits; r++)
		if (r >= q->rt_entries || !q->rt[r])
			missing[nmiss++] = r;
	memcpy(nt, q->rt, q->rt_entries * 8);
	for (uint64_t k = 0; k < nb; k++)
		nt[missing[k]] = (e + tc + k) * cs;
	/* refcounts for the new table and blocks: existing blocks first */
	for (uint64_t c = e; c < end; c++) {
		uint64_t r = c >> q->rb_bits, k;
		size_t bo, bl;

		for (k = 0; k < nb && missing[k] != r; k++)
			;
		if (k == nb) {
			ret = qcow2_update_refcount(q, c, 1);
			if (ret < 0)
				goto out;
			continue;
		}
		qcow2_rb_set(q, blocks + k * cs, c & ((1ull << q->rb_bits) - 1), 1, &bo, &bl);
	}
	for (uint64_t k = 0; k < nb; k++) {
		ret = qcow2_pwrite(q, QCOW2_IO_REFBLOCK, blocks + k * cs, cs, (e + tc + k) * cs);
		if (ret < 0)
			goto out;
	}
	{
		uint8_t *tb = qcow2_alloc_aligned(tc * cs);

		if (!tb) {
			ret = -ENOMEM;
			goto out;
		}
		memset(tb, 0, tc * cs);
		for (uint64_t i = 0; i < new_n; i++)
			qcow2_put64(tb + i * 8, nt[i]);
		ret = qcow2_pwrite(q, QCOW2_IO_REFTABLE, tb, tc * cs, e * cs);
		free(tb);
		if (ret < 0)
			goto out;
	}
	ret = qcow2_sync(q);
	if (ret < 0)
		goto out;
	q->h.refcount_table_offset = e * cs;
	q->h.refcount_table_clusters = (uint32_t)tc;
	ret = qcow2_write_header_fields(q);
	if (ret < 0)
		goto out;
	ret = qcow2_sync(q);
	if (ret < 0)
		goto out;
	free(q->rt);
	q->rt = nt;
	q->rt_entries = new_n;
	nt = NULL;
	qcow2_free_bytes(q, old_off, old_clusters * cs);
out:
	free(missing);
	free(nt);
	free(blocks);
	return ret;
}

/* Makes sure the refcount block covering cluster exists. */
static int ensure_block(struct qcow2 *q, uint64_t cluster)
{
	uint64_t idx = cluster >> q->rb_bits, b, cs = q->cluster_size;
	uint8_t *blk;
	size_t bo, bl;
	int ret = 0;

	if (idx >= q->rt_entries) {
		ret = grow_table(q, idx, cluster);
		if (ret < 0)
			return ret;
	}
	if (q->rt[idx])
		return 0;
	/* no block: every cluster in the range is free; put it at the start */
	b = idx << q->rb_bits;
	if (b == cluster)
		b++;
	blk = qcow2_cache_get(q, &q->rbc, b * cs, true, &ret);
	if (!blk)
		return ret;
	qcow2_rb_set(q, blk, b & ((1ull << q->rb_bits) - 1), 1, &bo, &bl);
	ret = qcow2_table_write(q, QCOW2_IO_REFBLOCK, blk, b * cs, 0, cs);
	if (ret == 0)
		ret = qcow2_sync(q);	/* the block before the table entry naming it */
	if (ret < 0) {
		qcow2_cache_drop(&q->rbc, b * cs);
		return ret;
	}
	q->rt[idx] = b * cs;
	ret = qcow2_entry_write(q, QCOW2_IO_REFTABLE, q->rt, q->rt_entries,
				q->h.refcount_table_offset, idx);
	if (ret < 0)
		q->rt[idx] = 0;
	return ret;
}

int qcow2_update_refcount(struct qcow2 *q, uint64_t cluster, int64_t delta)
{
	uint64_t idx, old, nv, i;
	uint8_t *blk;
	size_t bo, bl;
	int ret = -EIO;

	if (delta > 0) {
		ret = ensure_block(q, cluster);
		if (ret < 0)
			return ret;
	}
	idx = cluster >> q->rb_bits;
	if (idx >= q->rt_entries || !q->rt[idx]) {
		log_err("%s: qcow2 refcount of cluster %llu would drop below zero",
			q->img.path, (unsigned long long)cluster);
		return -EIO;
	}
	blk = qcow2_cache_get(q, &q->rbc, q->rt[idx] & QCOW2_OFFSET_MASK, false, &ret);
	if (!blk)
		return ret;
	i = cluster & ((1ull << q->rb_bits) - 1);
	old = qcow2_rb_get(q, blk, i);
	if (delta < 0 && old < (uint64_t)-delta) {
		log_err("%s: qcow2 refcount of cluster %llu would drop below zero",
			q->img.path, (unsigned long long)cluster);
		return -EIO;
	}
	if (delta > 0 && rc_max(q) - old < (uint64_t)delta) {
		log_err("%s: qcow2 refcount of cluster %llu would overflow",
			q->img.path, (unsigned long long)cluster);
		return -ERANGE;
	}
	nv = old + (uint64_t)delta;
	qcow2_rb_set(q, blk, i, nv, &bo, &bl);
	ret = qcow2_table_write(q, QCOW2_IO_REFBLOCK, blk, q->rt[idx] & QCOW2_OFFSET_MASK, bo, bl);
	if (ret < 0) {
		qcow2_cache_drop(&q->rbc, q->rt[idx] & QCOW2_OFFSET_MASK);
		return ret;
	}
	if (nv == 0 && cluster < q->free_hint)
		q->free_hint = cluster;
	return 0;
}

/*
 * Writes the refcounts refill_pool set in the cached block at blk_off
 * (bytes [*lo, *hi)) in one write; *hi = 0 when nothing is pending.
 */
static int flush_raised(struct qcow2 *q, uint64_t blk_off, size_t *lo, size_t *hi)
{
	uint8_t *blk;
	int ret = -EIO;

	if (!*hi)
		return 0;
	blk = qcow2_cache_get(q, &q->rbc, blk_off, false, &ret);
	if (blk)
		ret = qcow2_table_write(q, QCOW2_IO_REFBLOCK, blk, blk_off, *lo, *hi - *lo);
	if (ret < 0)
		qcow2_cache_drop(&q->rbc, blk_off);
	*lo = *hi = 0;
	return ret;
}

/*
 * Takes a batch of free clusters into the pool: their refcounts are raised
 * in the cached refcount block and written once per block (not once per
 * cluster), then synced.  Nothing touches another refcount block while one
 * has changes pending (a block is left only after its write), so the cache
 * cannot drop them.  cache=unsafe (convert) takes bigger batches.
 */
static int refill_pool(struct qcow2 *q)
{
	uint64_t want = (1u << 20) >> q->h.cluster_bits, c, rc, fc, pidx = UINT64_MAX;
	uint64_t poff = 0, max = sizeof(q->pool) / sizeof(q->pool[0]);
	unsigned int start = q->pool_n;
	size_t lo = 0, hi = 0, bo, bl;
	struct stat st;
	uint8_t *blk;
	int ret = 0, r;

	if (want < 16)
		want = 16;
	if (want > max || q->img.cache == DISK_CACHE_UNSAFE)
		want = max;
	if (fstat(q->fd, &st) < 0)
		return -errno;
	fc = ((uint64_t)st.st_size + q->cluster_size - 1) >> q->h.cluster_bits;
	for (c = q->free_hint; q->pool_n < want; c++) {
		uint64_t idx = c >> q->rb_bits;

		if (c == 0)
			continue;
		if (c >= (1ull << (56 - q->h.cluster_bits))) {
			ret = -ENOSPC;
			break;
		}
		if (idx != pidx) {	/* leaving the block: write what it holds first */
			ret = flush_raised(q, poff, &lo, &hi);
			if (ret < 0) {
				q->pool_n = start;	/* leaked, never handed out */
				break;
			}
			pidx = UINT64_MAX;
		}
		ret = qcow2_get_refcount(q, c, &rc);
		if (ret < 0)
			break;
		if (rc)
			continue;
		ret = ensure_block(q, c);	/* may write a new block (synced) */
		if (ret < 0)
			break;
		poff = q->rt[idx] & QCOW2_OFFSET_MASK;
		blk = qcow2_cache_get(q, &q->rbc, poff, false, &ret);
		if (!blk)
			break;
		qcow2_rb_set(q, blk, c & ((1ull << q->rb_bits) - 1), 1, &bo, &bl);
		if (!hi || bo < lo)
			lo = bo;
		if (bo + bl > hi)
			hi = bo + bl;
		pidx = idx;
		q->pool[q->pool_n++] = (c << 1) | (c < fc ? 1 : 0);
	}
	r = flush_raised(q, poff, &lo, &hi);
	if (ret == 0)
		ret = r;
	if (r < 0)		/* not on disk: these clusters cannot be handed out */
		q->pool_n = start;
	q->free_hint = c;
	if (ret < 0)
		return ret;
	ret = qcow2_sync(q);
	/* the sync also covers what dirty L2 tables point at: write them now */
	return ret < 0 ? ret : qcow2_commit(q, true, false);
}

/* One cluster with refcount 1 already durable. reused: may hold old data. */
int qcow2_alloc_cluster(struct qcow2 *q, uint64_t *host_off, bool *reused)
{
	int ret;

	if (!q->pool_n) {
		ret = refill_pool(q);
		if (ret < 0)
			return ret;
	}
	*host_off = (q->pool[0] >> 1) << q->h.cluster_bits;
	*reused = q->pool[0] & 1;
	memmove(q->pool, q->pool + 1, (q->pool_n - 1) * sizeof(q->pool[0]));
	q->pool_n--;
	return 0;
}

int qcow2_alloc_contig(struct qcow2 *q, uint64_t max, uint64_t *host_off, uint64_t *got)
{
	uint64_t first, k;
	int ret;

	*got = 0;
	if (!q->pool_n) {
		ret = refill_pool(q);
		if (ret < 0)
			return ret;
	}
	first = q->pool[0] >> 1;
	for (k = 0; k < max && k < q->pool_n; k++)
		if (q->pool[k] != (first + k) << 1)	/* contiguous, not reused */
			break;
	if (!k)
		return 0;
	*host_off = first << q->h.cluster_bits;
	*got = k;
	memmove(q->pool, q->pool + k, (q->pool_n - k) * sizeof(q->pool[0]));
	q->pool_n -= (unsigned int)k;
	return 0;
}

/*
 * Refcount blocks for every range a run of n clusters from *e (the end of
 * the file) covers, placed together in front of the run; *e moves past
 * them.  Left to ensure_block, each block would sit at the start of its
 * own range, inside the run, and no run longer than one range (255
 * clusters of 512 bytes) could ever be contiguous.
 */
static int reserve_blocks(struct qcow2 *q, uint64_t *e, uint64_t n)
{
	uint64_t cs = q->cluster_size, mask = (1ull << q->rb_bits) - 1, m = 0, first, last, k;
	uint64_t *idx = NULL, rc;
	uint8_t *bufs = NULL;
	size_t bo, bl;
	int ret;

	for (;;) {			/* m blocks, then the run: which ranges lack a block? */
		uint64_t miss = 0;

		first = *e >> q->rb_bits;
		last = (*e + m + n - 1) >> q->rb_bits;
		if (last >= q->rt_entries) {
			ret = grow_table(q, last, 0);
			if (ret < 0)
				return ret;
			*e = end_cluster(q);
			continue;
		}
		for (uint64_t r = first; r <= last; r++)
			miss += !q->rt[r];
		if (miss == m)
			break;
		m = miss;
	}
	if (!m)
		return 0;
	for (k = 0; k < m; k++) {	/* clusters past the end may still hold a refcount */
		ret = qcow2_get_refcount(q, *e + k, &rc);
		if (ret < 0 || rc)
			return ret;	/* the caller's slow path copes */
	}
	idx = calloc(m, sizeof(*idx));
	bufs = qcow2_alloc_aligned(m * cs);
	if (!idx || !bufs) {
		ret = -ENOMEM;
		goto out;
	}
	memset(bufs, 0, m * cs);
	k = 0;
	for (uint64_t r = first; r <= last; r++)
		if (!q->rt[r])
			idx[k++] = r;
	/* each new block counts the new blocks in its range; older blocks first */
	for (uint64_t j = 0; j < m; j++) {
		uint64_t p = *e + j;

		for (k = 0; k < m && idx[k] != p >> q->rb_bits; k++)
			;
		if (k < m) {
			qcow2_rb_set(q, bufs + k * cs, p & mask, 1, &bo, &bl);
		} else {
			ret = qcow2_update_refcount(q, p, 1);
			if (ret < 0)
				goto out;
		}
	}
	for (k = 0; k < m; k++) {
		qcow2_cache_drop(&q->rbc, (*e + k) * cs);
		ret = qcow2_pwrite(q, QCOW2_IO_REFBLOCK, bufs + k * cs, cs, (*e + k) * cs);
		if (ret < 0)
			goto out;
	}
	ret = qcow2_sync(q);		/* the blocks before the table entries naming them */
	for (k = 0; k < m && ret == 0; k++) {
		q->rt[idx[k]] = (*e + k) * cs;
		ret = qcow2_entry_write(q, QCOW2_IO_REFTABLE, q->rt, q->rt_entries,
					q->h.refcount_table_offset, idx[k]);
		if (ret < 0)
			q->rt[idx[k]] = 0;
	}
	if (ret == 0)
		*e += m;
out:
	free(idx);
	free(bufs);
	return ret;
}

/* n contiguous clusters past the end of the file, refcounts set and synced. */
int qcow2_alloc_run(struct qcow2 *q, uint64_t n, uint64_t *host_off)
{
	uint64_t e = end_cluster(q), c, rc;
	int ret;

	if (n > 1) {
		ret = reserve_blocks(q, &e, n);
		if (ret < 0)
			return ret;
	}

	for (int tries = 0; tries < 4096; tries++) {
		bool ok = true;

		for (c = e; c < e + n && ok; c++) {
			uint64_t idx = c >> q->rb_bits;

			if (idx >= q->rt_entries || !q->rt[idx]) {
				ret = ensure_block(q, c);
				if (ret < 0)
					return ret;
				ok = false;
				break;
			}
			ret = qcow2_get_refcount(q, c, &rc);
			if (ret < 0)
				return ret;
			if (rc) {
				e = c + 1;
				ok = false;
			}
		}
		if (!ok) {
			if (end_cluster(q) > e)
				e = end_cluster(q);
			continue;
		}
		for (c = e; c < e + n; c++) {
			ret = qcow2_update_refcount(q, c, 1);
			if (ret < 0)
				return ret;
		}
		*host_off = e << q->h.cluster_bits;
		return qcow2_sync(q);
	}
	return -EIO;
}

int qcow2_release_pool(struct qcow2 *q)
{
	int ret = 0;

	while (q->pool_n) {
		int r = qcow2_update_refcount(q, q->pool[--q->pool_n] >> 1, -1);

		if (r < 0)
			ret = r;
	}
	return ret;
}
