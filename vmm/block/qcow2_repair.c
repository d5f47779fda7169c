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
#include <sys/stat.h>
#include <unistd.h>

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

		if (!off || k->rb_bad[idx])
			continue;
		if (qcow2_pread(q, k->tbuf, k->cs, off) < 0)
			return -EIO;
		for (uint64_t i = 0; i < rbe; i++) {
			uint64_t rc1 = ck_rb_get(q, k->tbuf, i), rc2;

			/*
			 * Past the end of the file nothing is referenced: a refcount
			 * there is a crash's allocation leftover, which qemu-img
			 * neither reports nor clears.  -r leaks clears it.
			 */
			if (first + i >= k->n) {
				if (rc1 && (fix & QCOW2_FIX_LEAKS)) {
					ck_rb_set(q, k->tbuf, i, 0);
					changed = true;
				}
				continue;
			}
			rc2 = k->exp[first + i];

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

/* The end of the furthest compressed cluster in l2 that starts in the file. */
static void compressed_end(struct ck *k, const uint8_t *l2, uint64_t *end)
{
	uint32_t x = 62 - (k->cb - 8);

	for (uint64_t j = 0; j < k->cs / 8; j++) {
		uint64_t e = qcow2_be64(l2 + j * 8), off, len;

		if (!(e & QCOW2_OFLAG_COMPRESSED))
			continue;
		off = e & ((1ull << x) - 1);
		len = (((e >> x) & ((1ull << (k->cb - 8)) - 1)) + 1) * 512 - (off & 511);
		if (off < k->fsize && off + len > *end)
			*end = off + len;
	}
}

static int l1_compressed_end(struct ck *k, uint64_t l1_off, uint64_t n, uint64_t *end)
{
	uint8_t *raw;
	int ret = 0;

	if (!n || n * 8 > QCOW2_MAX_L1_BYTES || (l1_off & (k->cs - 1)) || l1_off >= k->fsize)
		return 0;
	raw = malloc(n * 8);
	if (!raw)
		return -ENOMEM;
	if (qcow2_pread(k->q, raw, n * 8, l1_off) < 0)
		goto out;
	for (uint64_t i = 0; i < n; i++) {
		uint64_t l2 = qcow2_be64(raw + i * 8) & QCOW2_OFFSET_MASK;

		if (!l2 || (l2 & (k->cs - 1)) || l2 >= k->fsize)
			continue;
		if (qcow2_pread(k->q, k->tbuf, k->cs, l2) < 0)
			break;
		compressed_end(k, k->tbuf, end);
	}
out:
	free(raw);
	return ret;
}

int ck_grow_compressed(struct ck *k)
{
	struct qcow2 *q = k->q;
	uint64_t end = 0, off = q->h.snapshots_offset, grown;
	struct stat st;
	int ret;

	if (fstat(q->fd, &st) < 0)
		return -errno;
	k->fsize = (uint64_t)st.st_size;
	ret = l1_compressed_end(k, q->h.l1_table_offset, q->h.l1_size, &end);
	for (uint32_t i = 0; ret == 0 && i < q->h.nb_snapshots && i < CK_MAX_SNAPSHOTS; i++) {
		uint8_t h[40];

		if (off - q->h.snapshots_offset > CK_MAX_SNAPSHOTS_SIZE ||
		    qcow2_pread(q, h, 40, off) < 0)
			break;
		ret = l1_compressed_end(k, qcow2_be64(h), qcow2_be32(h + 8), &end);
		off = (off + 40 + qcow2_be32(h + 36) + (qcow2_be32(h + 12) >> 16) +
		       (qcow2_be32(h + 12) & 0xffff) + 7) & ~7ull;
	}
	if (ret < 0 || end <= k->fsize)
		return ret;
	grown = (end + k->cs - 1) & ~(k->cs - 1);
	ck_msg(k, "Repairing compressed cluster data reaches past the end of the file "
	       "(to 0x%" PRIx64 "): file grown to 0x%" PRIx64 "\n", end, grown);
	if (ftruncate(q->fd, (off_t)grown) < 0)
		return -errno;
	/* a reference one cluster or more past the end was a corruption */
	if (end - k->fsize >= k->cs)
		k->r->errors_fixed++;
	k->fsize = grown;
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

/* Appends n bytes at *len to *buf (grown as needed). */
static int put(uint8_t **buf, size_t *len, size_t *cap, const void *p, size_t n)
{
	if (*len + n > *cap) {
		size_t c = *cap ? *cap : 4096;
		uint8_t *b;

		while (c < *len + n)
			c *= 2;
		b = realloc(*buf, c);
		if (!b)
			return -ENOMEM;
		*buf = b;
		*cap = c;
	}
	if (p)
		memcpy(*buf + *len, p, n);
	else
		memset(*buf + *len, 0, n);
	*len += n;
	return 0;
}

/* Reads the table; builds the repaired one in *out (*need: there is one). */
static int build_snapshots(struct ck *k, uint8_t **out, size_t *outlen, uint32_t *kept,
			   bool *need)
{
	struct qcow2 *q = k->q;
	uint64_t off = q->h.snapshots_offset, start = off;
	uint8_t h[40], x[CK_MAX_SNAPSHOT_EXTRA], *buf = NULL, *s = NULL;
	size_t len = 0, cap = 0;
	uint32_t fixed = 0, i;
	int ret = 0;

	for (i = 0; i < q->h.nb_snapshots && i < CK_MAX_SNAPSHOTS; i++) {
		uint32_t extra, nextra, ids, names;

		if (off - start > CK_MAX_SNAPSHOTS_SIZE || qcow2_pread(q, h, 40, off) < 0)
			break;
		extra = qcow2_be32(h + 36);
		ids = qcow2_be32(h + 12) >> 16;
		names = qcow2_be32(h + 12) & 0xffff;
		if (extra > CK_MAX_SNAPSHOT_EXTRA) {
			ck_msg(k, "Repairing snapshot table entry %u: discarding it and the %u "
			       "after it (%u bytes of extra data)\n", i,
			       q->h.nb_snapshots - i - 1, extra);
			fixed += q->h.nb_snapshots - i;
			break;
		}
		memset(x, 0, sizeof(x));
		nextra = extra;
		if (extra < 16) {
			ck_msg(k, "Repairing snapshot table entry %u is incomplete\n", i);
			fixed++;
			nextra = 24;
		}
		s = realloc(s, (size_t)ids + names + 1);
		if (!s || qcow2_pread(q, x, extra, off + 40) < 0 ||
		    qcow2_pread(q, s, (size_t)ids + names, off + 40 + extra) < 0) {
			ret = s ? -EIO : -ENOMEM;
			goto fail;
		}
		if (extra < 16) {
			qcow2_put64(x, qcow2_be32(h + 32));	/* vm_state_size_large */
			qcow2_put64(x + 8, q->h.size);		/* disk_size */
			qcow2_put64(x + 16, UINT64_MAX);	/* icount: unknown */
		}
		qcow2_put32(h + 36, nextra);
		ret = put(&buf, &len, &cap, h, 40);
		if (ret == 0)
			ret = put(&buf, &len, &cap, x, nextra);
		if (ret == 0)
			ret = put(&buf, &len, &cap, s, (size_t)ids + names);
		if (ret == 0)
			ret = put(&buf, &len, &cap, NULL, (8 - len % 8) % 8);
		if (ret < 0)
			goto fail;
		off = (off + 40 + extra + ids + names + 7) & ~7ull;
	}
	free(s);
	if (!fixed) {
		free(buf);
		return 0;
	}
	k->r->errors_fixed += fixed;
	*need = true;
	*out = buf;
	*outlen = len;
	*kept = i < q->h.nb_snapshots ? i : q->h.nb_snapshots;
	return 0;
fail:
	free(s);
	free(buf);
	return ret;
}

int ck_fix_snapshots(struct ck *k)
{
	struct qcow2 *q = k->q;
	uint8_t *buf = NULL, hb[12];
	size_t len = 0;
	uint32_t kept = 0;
	bool need = false;
	struct stat st;
	uint64_t at;
	int ret;

	if (q->h.version < 3 || !q->h.nb_snapshots)
		return 0;
	ret = build_snapshots(k, &buf, &len, &kept, &need);
	if (ret < 0 || !need)
		return ret;
	if (fstat(q->fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	/* past the end and past any reference the counting could accept */
	at = (((uint64_t)st.st_size + k->cs - 1) >> k->cb) + 1;
	for (unsigned int i = 0; i < q->pool_n; i++)
		if ((q->pool[i] >> 1) + 1 > at)
			at = (q->pool[i] >> 1) + 1;
	at <<= k->cb;
	if (kept && len) {
		size_t padded = (len + k->cs - 1) & ~(size_t)(k->cs - 1);
		uint8_t *b = realloc(buf, padded);

		if (!b) {
			ret = -ENOMEM;
			goto out;
		}
		buf = b;
		memset(buf + len, 0, padded - len);
		ret = qcow2_pwrite(q, QCOW2_IO_HEADER, buf, padded, at);
		if (ret == 0)
			ret = qcow2_sync(q);	/* the table before the header names it */
		if (ret < 0)
			goto out;
	}
	qcow2_put32(hb, kept);
	qcow2_put64(hb + 4, kept ? at : 0);
	ret = qcow2_pwrite(q, QCOW2_IO_HEADER, hb, 12, 60);
	if (ret == 0)
		ret = qcow2_sync(q);
	if (ret < 0)
		goto out;
	q->h.nb_snapshots = kept;
	q->h.snapshots_offset = kept ? at : 0;
out:
	free(buf);
	return ret;
}
