// SPDX-License-Identifier: MIT
/*
 * qcow2 guest -> host mapping: L1 table (in memory) -> L2 tables (cached),
 * L2 table allocation, and L1 growth.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "block/qcow2.h"
#include "log.h"

static int l2_table(struct qcow2 *q, uint64_t voff, bool alloc, uint8_t **tbl, uint64_t *l2_off)
{
	uint64_t l1_idx = voff >> (q->h.cluster_bits + q->l2_bits), l1e, off;
	int ret = -EIO;
	bool reused;

	*tbl = NULL;
	if (l1_idx >= q->h.l1_size)
		return alloc ? -EINVAL : 0;
	l1e = q->l1[l1_idx];
	off = l1e & QCOW2_OFFSET_MASK;
	if (off) {
		if (off & (q->cluster_size - 1)) {
			log_err("%s: qcow2 L2 table offset 0x%llx is not cluster aligned",
				q->img.path, (unsigned long long)off);
			return -EIO;
		}
		if (alloc && !(l1e & QCOW2_OFLAG_COPIED)) {
			log_err("%s: qcow2 shared L2 tables (internal snapshots) cannot be written",
				q->img.path);
			return -ENOTSUP;
		}
		*tbl = qcow2_cache_get(q, &q->l2c, off, false, &ret);
		*l2_off = off;
		return *tbl ? 0 : ret;
	}
	if (!alloc)
		return 0;
	ret = qcow2_alloc_cluster(q, &off, &reused);
	if (ret < 0)
		return ret;
	*tbl = qcow2_cache_get(q, &q->l2c, off, true, &ret);
	if (!*tbl)
		return ret;
	ret = qcow2_table_write(q, QCOW2_IO_L2, *tbl, off, 0, q->cluster_size);
	/* the zeroed table must be durable before the L1 entry if the cluster held data */
	if (ret == 0 && reused)
		ret = qcow2_sync(q);
	if (ret < 0)
		goto err;
	q->l1[l1_idx] = off | QCOW2_OFLAG_COPIED;
	ret = qcow2_entry_write(q, QCOW2_IO_L1, q->l1, q->h.l1_size, q->h.l1_table_offset, l1_idx);
	if (ret < 0) {
		q->l1[l1_idx] = l1e;
		goto err;
	}
	*l2_off = off;
	return 0;
err:
	qcow2_cache_drop(&q->l2c, off);
	*tbl = NULL;
	return ret;
}

int qcow2_get_l2_entry(struct qcow2 *q, uint64_t voff, uint64_t *entry)
{
	uint8_t *tbl;
	uint64_t l2_off;
	int ret = l2_table(q, voff, false, &tbl, &l2_off);

	*entry = 0;
	if (ret < 0 || !tbl)
		return ret;
	*entry = qcow2_be64(tbl + ((voff >> q->h.cluster_bits) & ((1ull << q->l2_bits) - 1)) * 8);
	return 0;
}

/* Allocates the L2 table for voff if missing (before its data, for locality). */
int qcow2_ensure_l2(struct qcow2 *q, uint64_t voff)
{
	uint8_t *tbl;
	uint64_t l2_off;

	return l2_table(q, voff, true, &tbl, &l2_off);
}

int qcow2_set_l2_entry(struct qcow2 *q, uint64_t voff, uint64_t entry, bool deferred)
{
	uint8_t *tbl;
	uint64_t l2_off, idx = (voff >> q->h.cluster_bits) & ((1ull << q->l2_bits) - 1);
	struct qcow2_cache_entry *en;
	int ret = l2_table(q, voff, true, &tbl, &l2_off);

	if (ret < 0)
		return ret;
	qcow2_put64(tbl + idx * 8, entry);
	/*
	 * A dirty table is written whole by qcow2_commit; writing one entry
	 * through now could carry (with O_DIRECT blocks) dirty neighbours early.
	 */
	en = qcow2_cache_find(q, &q->l2c, l2_off);
	if (en && ((deferred && q->img.cache != DISK_CACHE_UNSAFE) || en->dirty)) {
		qcow2_cache_mark_dirty(&q->l2c, en, (uint32_t)idx * 8, 8);
		return 0;
	}
	ret = qcow2_table_write(q, QCOW2_IO_L2, tbl, l2_off, idx * 8, 8);
	if (ret < 0)
		qcow2_cache_drop(&q->l2c, l2_off);
	return ret;
}

int qcow2_set_l2_run(struct qcow2 *q, uint64_t voff, uint64_t host, uint64_t n)
{
	uint8_t *tbl;
	uint64_t l2_off, idx = (voff >> q->h.cluster_bits) & ((1ull << q->l2_bits) - 1);
	struct qcow2_cache_entry *en;
	int ret;

	if (!n || idx + n > (1ull << q->l2_bits))
		return -EINVAL;
	ret = l2_table(q, voff, true, &tbl, &l2_off);
	if (ret < 0)
		return ret;
	for (uint64_t i = 0; i < n; i++)
		qcow2_put64(tbl + (idx + i) * 8, (host + (i << q->h.cluster_bits)) |
			    QCOW2_OFLAG_COPIED);
	en = qcow2_cache_find(q, &q->l2c, l2_off);
	if (en && en->dirty) {		/* as qcow2_set_l2_entry: written whole later */
		qcow2_cache_mark_dirty(&q->l2c, en, (uint32_t)(idx * 8), (uint32_t)(n * 8));
		return 0;
	}
	ret = qcow2_table_write(q, QCOW2_IO_L2, tbl, l2_off, idx * 8, n * 8);
	if (ret < 0)
		qcow2_cache_drop(&q->l2c, l2_off);
	return ret;
}

int qcow2_grow_l1(struct qcow2 *q, uint64_t new_l1_size)
{
	uint64_t cs = q->cluster_size, bytes = new_l1_size * 8, nc = (bytes + cs - 1) / cs;
	uint64_t off, old_off = q->h.l1_table_offset, old_bytes = (uint64_t)q->h.l1_size * 8;
	uint64_t *nl1;
	uint8_t *buf;
	int ret;

	if (new_l1_size <= q->h.l1_size)
		return 0;
	if (bytes > QCOW2_MAX_L1_BYTES)
		return -EFBIG;
	nl1 = calloc(new_l1_size, 8);
	buf = qcow2_alloc_aligned(nc * cs);
	if (!nl1 || !buf) {
		ret = -ENOMEM;
		goto out;
	}
	memset(buf, 0, nc * cs);
	memcpy(nl1, q->l1, old_bytes);
	for (uint64_t i = 0; i < new_l1_size; i++)
		qcow2_put64(buf + i * 8, nl1[i]);
	ret = qcow2_alloc_run(q, nc, &off);
	if (ret < 0)
		goto out;
	ret = qcow2_pwrite(q, QCOW2_IO_L1, buf, nc * cs, off);
	if (ret == 0)
		ret = qcow2_sync(q);
	if (ret < 0)
		goto out;
	q->h.l1_size = (uint32_t)new_l1_size;
	q->h.l1_table_offset = off;
	ret = qcow2_write_header_fields(q);
	if (ret == 0)
		ret = qcow2_sync(q);
	if (ret < 0)
		goto out;
	free(q->l1);
	q->l1 = nl1;
	nl1 = NULL;
	if (old_bytes)
		qcow2_free_bytes(q, old_off, old_bytes);
out:
	free(nl1);
	free(buf);
	return ret;
}
