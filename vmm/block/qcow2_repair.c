// SPDX-License-Identifier: MIT
/*
 * qcow2 repairs for check -r leaks|all (the counting is qcow2_check.c's).
 *
 * A write goes only where the counts show it is safe: a refcount block is
 * rewritten in place only if it is referenced once, by the refcount table
 * alone; an L1 or L2 table only if nothing but tables of its kind and data
 * clusters point into it.  A refcount structure that cannot be fixed in
 * place (a refcount table entry broken or past the end of the file, a block
 * shared with other metadata, a referenced cluster without a refcount) is
 * replaced: new blocks and a new table are written past the end of
 * everything the metadata references, synced, and only then does the header
 * point at them.  The old structure becomes free space.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "block/qcow2_ck.h"

/* [off, off+len) is inside the file and only structures in allowed use it. */
static bool can_write(struct ck *k, uint64_t off, uint64_t len, uint8_t allowed)
{
	if (!len || off > UINT64_MAX - len || off + len > (k->nb << k->cb))
		return false;
	for (uint64_t c = off >> k->cb; c <= (off + len - 1) >> k->cb; c++)
		if (k->kind[c] & ~allowed)
			return false;
	return true;
}

int ck_apply_zfix(struct ck *k)
{
	uint8_t e[8];
	int ret;

	for (size_t i = 0; i < k->nzfix; i++) {
		uint64_t at = k->zfix[i];

		if (!can_write(k, at & ~(k->cs - 1), k->cs, CK_L2 | CK_DATA)) {
			ck_msg(k, "ERROR L2 table at 0x%" PRIx64 " overlaps other metadata; "
			       "entry not repaired\n", at & ~(k->cs - 1));
			k->r->corruptions++;
			continue;
		}
		qcow2_put64(e, QCOW2_OFLAG_ZERO);
		ret = qcow2_pwrite(k->q, QCOW2_IO_L2, e, 8, at);
		if (ret < 0)
			return ret;
		k->r->errors_fixed++;
	}
	k->nzfix = 0;
	return 0;
}

int ck_fix_in_place(struct ck *k, int fix)
{
	struct qcow2 *q = k->q;
	uint64_t rbe = 1ull << q->rb_bits, max = ck_rc_max(q);
	int ret;

	for (uint64_t idx = 0; idx < q->rt_entries; idx++) {
		uint64_t off = q->rt[idx] & CK_RT_MASK, first = idx << q->rb_bits;
		bool changed = false;

		if (!off || k->rb_bad[idx] || first >= k->n)
			continue;
		if (qcow2_pread(q, k->tbuf, k->cs, off) < 0)
			return -EIO;
		for (uint64_t i = 0; i < rbe && first + i < k->n; i++) {
			uint64_t rc1 = ck_rb_get(q, k->tbuf, i), rc2 = k->exp[first + i];

			if (rc1 == rc2 || rc1 == 0 || rc2 > max)
				continue;
			if ((rc1 > rc2 && (fix & QCOW2_FIX_LEAKS)) ||
			    (rc1 < rc2 && (fix & QCOW2_FIX_ERRORS))) {
				ck_rb_set(q, k->tbuf, i, rc2);
				changed = true;
			}
		}
		if (!changed)
			continue;
		if (!can_write(k, off, k->cs, CK_RB) || k->exp[off >> k->cb] != 1) {
			ck_msg(k, "ERROR refcount block %" PRIu64 " overlaps other metadata; "
			       "not repaired\n", idx);
			k->r->check_errors++;
			continue;
		}
		ret = qcow2_pwrite(q, QCOW2_IO_REFBLOCK, k->tbuf, k->cs, off);
		if (ret < 0)
			return ret;
	}
	k->rbuf_idx = UINT64_MAX;
	return qcow2_sync(q);
}

static int write_blocks(struct ck *k, uint64_t e, uint64_t nrb, uint64_t nrt, uint64_t *rt)
{
	struct qcow2 *q = k->q;
	uint64_t rbe = 1ull << q->rb_bits, total = e + nrb + nrt, max = ck_rc_max(q);
	int ret;

	for (uint64_t b = 0; b < nrb; b++) {
		memset(k->tbuf, 0, k->cs);
		for (uint64_t i = 0; i < rbe; i++) {
			uint64_t c = b * rbe + i, v = 0;

			if (c < k->n)
				v = k->exp[c];
			else if (c >= e && c < total)
				v = 1;
			ck_rb_set(q, k->tbuf, i, v > max ? max : v);
		}
		ret = qcow2_pwrite(q, QCOW2_IO_REFBLOCK, k->tbuf, k->cs, (e + b) << k->cb);
		if (ret < 0)
			return ret;
		rt[b] = (e + b) << k->cb;
	}
	return 0;
}

int ck_rebuild(struct ck *k)
{
	struct qcow2 *q = k->q;
	struct qcow2_check_result save = *k->r;
	uint64_t rbe = 1ull << q->rb_bits, e, nrb = 1, nrt = 1, *rt = NULL;
	uint8_t *tb = NULL;
	bool quiet = k->quiet;
	int ret;

	/* the references without the old structure, which the new one replaces */
	k->quiet = true;
	ret = ck_calculate(k, 0);
	*k->r = save;
	k->quiet = quiet;
	if (ret < 0)
		return ret;
	e = k->n;		/* past the file and everything referenced */
	for (;;) {
		uint64_t total = e + nrb + nrt;
		uint64_t b = (total + rbe - 1) / rbe, t = (b * 8 + k->cs - 1) / k->cs;

		if (b == nrb && t == nrt)
			break;
		nrb = b;
		nrt = t;
	}
	if (nrt * k->cs > QCOW2_MAX_RT_BYTES) {
		ck_msg(k, "ERROR the new refcount table would exceed %u bytes\n",
		       QCOW2_MAX_RT_BYTES);
		return -EFBIG;
	}
	rt = calloc(nrt * k->cs / 8 + 1, sizeof(*rt));
	tb = qcow2_alloc_aligned(nrt * k->cs);
	if (!rt || !tb) {
		ret = -ENOMEM;
		goto out;
	}
	ret = write_blocks(k, e, nrb, nrt, rt);
	if (ret < 0)
		goto out;
	memset(tb, 0, nrt * k->cs);
	for (uint64_t i = 0; i < nrb; i++)
		qcow2_put64(tb + i * 8, rt[i]);
	ret = qcow2_pwrite(q, QCOW2_IO_REFTABLE, tb, nrt * k->cs, (e + nrb) << k->cb);
	if (ret == 0)
		ret = qcow2_sync(q);	/* the new structure before the header names it */
	if (ret < 0)
		goto out;
	q->h.refcount_table_offset = (e + nrb) << k->cb;
	q->h.refcount_table_clusters = (uint32_t)nrt;
	ret = qcow2_write_header_fields(q);
	if (ret == 0)
		ret = qcow2_sync(q);
	if (ret < 0)
		goto out;
	free(q->rt);
	q->rt = rt;
	q->rt_entries = nrt * k->cs / 8;
	rt = NULL;
	k->rbuf_idx = UINT64_MAX;
	k->r->rebuilt = true;
out:
	free(rt);
	free(tb);
	return ret;
}

int ck_oflag_copied(struct ck *k, int fix)
{
	struct qcow2 *q = k->q;
	bool fixing = fix & QCOW2_FIX_ERRORS;
	uint64_t rc;
	uint8_t b[8];
	int ret;

	for (uint64_t i = 0; i < q->h.l1_size; i++) {
		uint64_t e = q->l1[i], l2 = e & QCOW2_OFFSET_MASK;
		bool dirty = false, l2_ok;

		if (!l2 || ck_refcount(k, l2 >> k->cb, &rc) < 0)
			continue;
		if ((rc == 1) != !!(e & QCOW2_OFLAG_COPIED)) {
			bool ok = fixing && can_write(k, q->h.l1_table_offset, q->h.l1_size * 8,
						      CK_L1 | CK_DATA);

			ck_msg(k, "%s OFLAG_COPIED L2 cluster: l1_index=%" PRIu64 " l1_entry=%"
			       PRIx64 " refcount=%" PRIu64 "\n", ok ? "Repairing" : "ERROR", i, e, rc);
			if (ok) {
				e = rc == 1 ? e | QCOW2_OFLAG_COPIED : e & ~QCOW2_OFLAG_COPIED;
				qcow2_put64(b, e);
				ret = qcow2_pwrite(q, QCOW2_IO_L1, b, 8, q->h.l1_table_offset + i * 8);
				if (ret < 0) {
					k->r->check_errors++;
					return ret;
				}
				q->l1[i] = e;
				k->r->errors_fixed++;
			} else {
				k->r->corruptions++;
			}
		}
		if (qcow2_pread(q, k->tbuf, k->cs, l2) < 0) {
			ck_msg(k, "ERROR: Could not read L2 table\n");
			k->r->check_errors++;
			return -EIO;
		}
		l2_ok = fixing && !(l2 & (k->cs - 1)) && can_write(k, l2, k->cs, CK_L2 | CK_DATA);
		for (uint64_t j = 0; j < k->cs / 8; j++) {
			uint64_t d = qcow2_be64(k->tbuf + j * 8), off = d & QCOW2_OFFSET_MASK;

			if ((d & QCOW2_OFLAG_COMPRESSED) || !off ||
			    ck_refcount(k, off >> k->cb, &rc) < 0)
				continue;
			if ((rc == 1) == !!(d & QCOW2_OFLAG_COPIED))
				continue;
			ck_msg(k, "%s OFLAG_COPIED data cluster: l2_entry=%" PRIx64 " refcount=%"
			       PRIu64 "\n", l2_ok ? "Repairing" : "ERROR", d, rc);
			if (l2_ok) {
				d = rc == 1 ? d | QCOW2_OFLAG_COPIED : d & ~QCOW2_OFLAG_COPIED;
				qcow2_put64(k->tbuf + j * 8, d);
				dirty = true;
				k->r->errors_fixed++;
			} else {
				k->r->corruptions++;
			}
		}
		if (dirty) {
			ret = qcow2_pwrite(q, QCOW2_IO_L2, k->tbuf, k->cs, l2);
			if (ret < 0) {
				k->r->check_errors++;
				return ret;
			}
		}
	}
	return 0;
}

int ck_mark_clean(struct ck *k)
{
	struct qcow2 *q = k->q;
	uint64_t clear = QCOW2_INCOMPAT_CORRUPT;

	/* with lazy refcounts an image open read-write keeps its dirty bit */
	if (!(q->h.compat & QCOW2_COMPAT_LAZY_REFCOUNTS))
		clear |= QCOW2_INCOMPAT_DIRTY;
	if (q->h.version != 3 || !(q->h.incompat & clear))
		return 0;
	q->h.incompat &= ~clear;
	return qcow2_write_header_fields(q);
}
