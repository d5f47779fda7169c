// SPDX-License-Identifier: MIT
/*
 * qcow2 block status: walks the L1 table (a missing L2 table is a whole
 * unallocated span) and the L2 entries, and asks the backing file about
 * unallocated clusters.  Compressed and plain clusters are data; zero
 * clusters (v3) and unallocated clusters with no backing file read as zeros.
 */
#include "block/qcow2.h"

enum { ST_UNALLOC = 0 };

static unsigned int entry_status(const struct qcow2 *q, uint64_t e)
{
	if (e & QCOW2_OFLAG_COMPRESSED)
		return BLK_STATUS_DATA | BLK_STATUS_ALLOCATED;
	if (q->h.version >= 3 && (e & QCOW2_OFLAG_ZERO))
		return BLK_STATUS_ZERO | BLK_STATUS_ALLOCATED;
	if (e & QCOW2_OFFSET_MASK)
		return BLK_STATUS_DATA | BLK_STATUS_ALLOCATED;
	return ST_UNALLOC;
}

int qcow2_block_status(struct blk_image *img, uint64_t off, uint64_t len, uint64_t *pnum)
{
	struct qcow2 *q = qcow2_of(img);
	uint64_t cs = q->cluster_size, span = cs << q->l2_bits, done = 0, e, n;
	unsigned int st = ST_UNALLOC, s;
	int ret = 0;

	pthread_mutex_lock(&q->lock);
	while (done < len) {
		uint64_t v = off + done, l1_idx = v >> (q->h.cluster_bits + q->l2_bits);

		if (l1_idx >= q->h.l1_size || !(q->l1[l1_idx] & QCOW2_OFFSET_MASK)) {
			e = 0;
			n = span - (v & (span - 1));
		} else {
			ret = qcow2_get_l2_entry(q, v, &e);
			if (ret < 0)
				break;
			n = cs - (v & (cs - 1));
		}
		s = entry_status(q, e);
		if (done && s != st)
			break;
		st = s;
		done += n < len - done ? n : len - done;
	}
	pthread_mutex_unlock(&q->lock);
	if (ret < 0)
		return ret;
	*pnum = done;
	if (st != ST_UNALLOC)
		return (int)st;
	if (!q->backing || off >= q->backing->size)
		return BLK_STATUS_ZERO;
	ret = blk_block_status(q->backing, off,
			       done < q->backing->size - off ? done : q->backing->size - off, pnum);
	return ret < 0 ? ret : ret & ~(int)BLK_STATUS_ALLOCATED;
}
