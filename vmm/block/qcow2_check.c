// SPDX-License-Identifier: MIT
/*
 * qcow2 consistency check, as qemu-img check does it (block/qcow2-refcount.c
 * in QEMU defines the verdicts; the wording of the lines follows it): count
 * the references the metadata makes to every cluster (header, active L1 and
 * its L2 tables, snapshot tables, refcount table and blocks), compare them
 * with the stored refcounts, then check OFLAG_COPIED against the refcounts.
 * Stored lower than counted is a corruption, higher a leak.  References
 * that reach one cluster or more past the end of the file are corruptions
 * and are not counted; refcounts of clusters past the end are not compared.
 *
 * Repairs (qcow2_repair.c) follow qemu-img check -r: leaks and raised
 * refcounts are written into the existing refcount blocks when the refcount
 * structure is sound; a missing refcount or a broken refcount table or
 * block means a new structure is built past the end of the file.  Nothing
 * is written where the counts do not show it is safe.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/qcow2_ck.h"

#define CK_MAX_CLUSTERS	(1ull << 26)	/* the count arrays stay below 400 MiB */

void ck_msg(struct ck *k, const char *fmt, ...)
{
	va_list ap;

	if (k->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
}

uint64_t ck_rc_max(const struct qcow2 *q)
{
	return q->refcount_bits == 64 ? UINT64_MAX : (1ull << q->refcount_bits) - 1;
}

uint64_t ck_rb_get(const struct qcow2 *q, const uint8_t *blk, uint64_t i)
{
	return qcow2_rb_get(q, blk, i);
}

void ck_rb_set(const struct qcow2 *q, uint8_t *blk, uint64_t i, uint64_t v)
{
	size_t off, len;

	qcow2_rb_set(q, blk, i, v, &off, &len);
}

/* The stored refcount: 0 where no usable refcount block covers the cluster. */
int ck_refcount(struct ck *k, uint64_t cluster, uint64_t *rc)
{
	struct qcow2 *q = k->q;
	uint64_t idx = cluster >> q->rb_bits, off;
	ssize_t got;

	*rc = 0;
	if (idx >= q->rt_entries || k->rb_bad[idx])
		return 0;
	off = q->rt[idx] & CK_RT_MASK;
	if (!off)
		return 0;
	if (k->rbuf_idx != idx) {
		k->rbuf_idx = UINT64_MAX;
		got = qcow2_pread(q, k->rbuf, k->cs, off);
		if (got < 0)
			return (int)got;
		k->rbuf_idx = idx;
	}
	*rc = ck_rb_get(q, k->rbuf, cluster & ((1ull << q->rb_bits) - 1));
	return 0;
}

/* Counts a reference to [off, off+len); false if it lies past the end of the file. */
static bool inc(struct ck *k, uint64_t off, uint64_t len, uint8_t kind)
{
	uint64_t max = ck_rc_max(k->q) < UINT32_MAX ? ck_rc_max(k->q) : UINT32_MAX;

	if (!len)
		return true;
	if (off > UINT64_MAX - len ||
	    (off + len > k->fsize && off + len - k->fsize >= k->cs)) {
		ck_msg(k, "ERROR: counting reference for region exceeding the end of the file "
		       "by one cluster or more: offset 0x%" PRIx64 " size 0x%" PRIx64 "\n", off, len);
		k->r->corruptions++;
		return false;
	}
	for (uint64_t c = off >> k->cb; c <= (off + len - 1) >> k->cb; c++) {
		if (c >= k->n)
			k->n = c + 1;		/* at most nb + 1 */
		if (k->exp[c] >= max) {
			ck_msg(k, "ERROR: overflow cluster offset=0x%" PRIx64 "\n", c << k->cb);
			k->r->corruptions++;
			continue;
		}
		k->exp[c]++;
		k->kind[c] |= kind;
	}
	return true;
}

static int zfix_add(struct ck *k, uint64_t where)
{
	if (k->nzfix == k->zfix_cap) {
		size_t cap = k->zfix_cap ? 2 * k->zfix_cap : 16;
		uint64_t *z = realloc(k->zfix, cap * sizeof(*z));

		if (!z)
			return -ENOMEM;
		k->zfix = z;
		k->zfix_cap = cap;
	}
	k->zfix[k->nzfix++] = where;
	return 0;
}

static int ref_l2(struct ck *k, uint64_t l2, bool active, int fix)
{
	struct qcow2 *q = k->q;
	struct qcow2_check_result *r = k->r;
	uint32_t x = 62 - (k->cb - 8);
	uint64_t next = 0;

	for (uint64_t j = 0; j < k->cs / 8; j++) {
		uint64_t e = qcow2_be64(k->tbuf + j * 8), off;

		if (e & QCOW2_OFLAG_COMPRESSED) {
			uint64_t coff = e & ((1ull << x) - 1);
			uint64_t ns = ((e >> x) & ((1ull << (k->cb - 8)) - 1)) + 1;

			if (e & QCOW2_OFLAG_COPIED) {
				ck_msg(k, "ERROR: cluster %" PRIu64 ": copied flag must never be set "
				       "for compressed clusters\n",
				       (uint64_t)((e & ~QCOW2_OFLAG_COPIED) >> k->cb));
				r->corruptions++;
			}
			inc(k, coff & ~511ull, ns * 512, CK_DATA);
			if (active) {
				r->allocated++;
				r->compressed++;
				r->fragmented++;
			}
			continue;
		}
		if (e & CK_L2_RESERVED) {
			ck_msg(k, "ERROR found l2 entry with reserved bits set: %" PRIx64 "\n", e);
			r->corruptions++;
		}
		off = e & QCOW2_OFFSET_MASK;
		if (!off)
			continue;
		if (off & (k->cs - 1)) {
			if (e & QCOW2_OFLAG_ZERO) {
				ck_msg(k, "%s offset=%" PRIx64 ": Preallocated cluster is not properly "
				       "aligned; L2 entry corrupted.\n",
				       fix & QCOW2_FIX_ERRORS ? "Repairing" : "ERROR", off);
				/* only in an L2 table that is where it should be */
				if ((fix & QCOW2_FIX_ERRORS) && !(l2 & (k->cs - 1))) {
					if (zfix_add(k, l2 + j * 8) < 0)
						return -ENOMEM;
					continue;
				}
				r->corruptions++;
			} else {
				ck_msg(k, "ERROR offset=%" PRIx64 ": Data cluster is not properly "
				       "aligned; L2 entry corrupted.\n", off);
				r->corruptions++;
			}
		}
		if (active) {
			r->allocated++;
			if (next && off != next)
				r->fragmented++;
			next = off + k->cs;
		}
		inc(k, off, k->cs, CK_DATA);
	}
	(void)q;
	return 0;
}

static int ref_l1(struct ck *k, uint64_t l1_off, uint64_t l1_size, bool active, int fix)
{
	struct qcow2 *q = k->q;
	uint64_t *l1 = q->l1;
	uint8_t *raw = NULL;
	ssize_t got;
	int ret = 0;

	inc(k, l1_off, l1_size * 8, CK_L1);
	if (!active && l1_size) {
		raw = malloc(l1_size * 8);
		if (!raw)
			return -ENOMEM;
		got = qcow2_pread(q, raw, l1_size * 8, l1_off);
		if (got < 0) {
			ck_msg(k, "ERROR: I/O error in check_refcounts_l1\n");
			k->r->check_errors++;
			goto out;
		}
	}
	for (uint64_t i = 0; i < l1_size; i++) {
		uint64_t e = raw ? qcow2_be64(raw + i * 8) : l1[i], l2;

		if (!e)
			continue;
		if (e & CK_L1_RESERVED) {
			ck_msg(k, "ERROR found L1 entry with reserved bits set: %" PRIx64 "\n", e);
			k->r->corruptions++;
		}
		l2 = e & QCOW2_OFFSET_MASK;
		if (!l2)
			continue;
		inc(k, l2, k->cs, CK_L2);
		if (l2 & (k->cs - 1)) {
			ck_msg(k, "ERROR l2_offset=%" PRIx64 ": Table is not cluster aligned; "
			       "L1 entry corrupted\n", l2);
			k->r->corruptions++;
		}
		got = qcow2_pread(q, k->tbuf, k->cs, l2);
		if (got < 0) {
			ck_msg(k, "ERROR: I/O error in check_refcounts_l2\n");
			k->r->check_errors++;
			continue;
		}
		ret = ref_l2(k, l2, active, fix);
		if (ret < 0)
			break;
	}
out:
	free(raw);
	return ret;
}

static int ref_snapshots(struct ck *k, int fix)
{
	struct qcow2 *q = k->q;
	uint64_t off = q->h.snapshots_offset, start = off;
	int ret;

	if (q->h.nb_snapshots > CK_MAX_SNAPSHOTS) {
		ck_msg(k, "ERROR snapshot table: %u snapshots, more than %u\n",
		       q->h.nb_snapshots, CK_MAX_SNAPSHOTS);
		k->r->check_errors++;
		return 0;
	}
	for (uint32_t i = 0; i < q->h.nb_snapshots; i++) {
		uint8_t h[40];
		uint64_t sl1, sl1n;
		uint32_t extra, ids, names;

		if (off - start > CK_MAX_SNAPSHOTS_SIZE) {
			ck_msg(k, "ERROR snapshot table is too big\n");
			k->r->check_errors++;
			return 0;
		}

		if (qcow2_pread(q, h, 40, off) < 0) {	/* past the end: zeros */
			ck_msg(k, "ERROR: cannot read snapshot table entry %u\n", i);
			k->r->check_errors++;
			return 0;
		}
		sl1 = qcow2_be64(h);
		sl1n = qcow2_be32(h + 8);
		ids = qcow2_be32(h + 12) >> 16;
		names = qcow2_be32(h + 12) & 0xffff;
		extra = qcow2_be32(h + 36);
		if (extra > CK_MAX_SNAPSHOT_EXTRA) {
			ck_msg(k, "ERROR failed to read the snapshot table: Too much extra "
			       "metadata in snapshot table entry %u\n", i);
			k->r->check_errors++;
			return 0;
		}
		if (q->h.version >= 3 && extra < 16) {	/* v3: vm_state_size_large, disk_size */
			ck_msg(k, "ERROR snapshot table entry %u is incomplete\n", i);
			k->r->corruptions++;
		}
		if (sl1n * 8 > QCOW2_MAX_L1_BYTES || (sl1 & (k->cs - 1))) {
			ck_msg(k, "ERROR snapshot %u: L1 table at 0x%" PRIx64 " (%" PRIu64
			       " entries) is invalid; snapshot table entry corrupted\n", i, sl1, sl1n);
			k->r->corruptions++;
		} else {
			ret = ref_l1(k, sl1, sl1n, false, fix);
			if (ret < 0)
				return ret;
		}
		off += 40 + (uint64_t)extra + ids + names;
		off = (off + 7) & ~7ull;
	}
	inc(k, start, off - start, CK_SNAP);
	return 0;
}

static int ref_refblocks(struct ck *k)
{
	struct qcow2 *q = k->q;

	for (uint64_t i = 0; i < q->rt_entries; i++) {
		uint64_t e = q->rt[i], off = e & CK_RT_MASK, c = off >> k->cb;

		k->rb_bad[i] = 0;
		if (e & CK_RT_RESERVED) {	/* still read, at the offset without them */
			ck_msg(k, "ERROR refcount table entry %" PRIu64 " has reserved bits set\n", i);
			k->r->corruptions++;
			k->rebuild = true;
			continue;
		}
		if (!off)
			continue;
		if (off & (k->cs - 1)) {
			ck_msg(k, "ERROR refcount block %" PRIu64 " is not cluster aligned; "
			       "refcount table entry corrupted\n", i);
			k->r->corruptions++;
			k->rebuild = true;
			k->rb_bad[i] = 1;
			continue;
		}
		if (c >= k->nb) {
			ck_msg(k, "ERROR refcount block %" PRIu64 " is outside image\n", i);
			k->r->corruptions++;
			k->rebuild = true;
			k->rb_bad[i] = 1;
			continue;
		}
		inc(k, off, k->cs, CK_RB);
		if (k->exp[c] != 1) {
			ck_msg(k, "ERROR refcount block %" PRIu64 " refcount=%" PRIu32 "\n", i,
			       k->exp[c]);
			k->r->corruptions++;
			k->rebuild = true;
		}
	}
	return 0;
}

/*
 * Counts every reference from scratch (the file may have grown since the
 * last call).  no_refs: leave the refcount table and blocks out (for a
 * rebuild, which replaces them).
 */
static int calculate(struct ck *k, int fix, bool no_refs)
{
	struct qcow2 *q = k->q;
	struct stat st;
	uint32_t *exp;
	uint8_t *kind, *bad;
	uint64_t top;
	int ret;

	if (fstat(q->fd, &st) < 0)
		return -errno;
	k->fsize = (uint64_t)st.st_size;
	k->nb = (k->fsize + k->cs - 1) >> k->cb;
	top = k->nb;
	for (unsigned int i = 0; i < q->pool_n; i++)	/* may lie past the end */
		if ((q->pool[i] >> 1) + 1 > top)
			top = (q->pool[i] >> 1) + 1;
	if (top > CK_MAX_CLUSTERS)
		return -EFBIG;
	exp = realloc(k->exp, (top + 2) * sizeof(*exp));
	if (exp)
		k->exp = exp;
	kind = realloc(k->kind, top + 2);
	if (kind)
		k->kind = kind;
	bad = realloc(k->rb_bad, q->rt_entries + 1);
	if (bad)
		k->rb_bad = bad;
	if (!exp || !kind || !bad)
		return -ENOMEM;
	memset(k->exp, 0, (top + 2) * sizeof(*exp));
	memset(k->kind, 0, top + 2);
	memset(k->rb_bad, 0, q->rt_entries + 1);
	k->n = k->nb;
	k->rbuf_idx = UINT64_MAX;
	k->rebuild = false;
	k->r->allocated = k->r->fragmented = k->r->compressed = 0;

	inc(k, 0, k->cs, CK_HDR);
	ret = ref_l1(k, q->h.l1_table_offset, q->h.l1_size, true, fix);
	if (ret == 0 && q->h.nb_snapshots)
		ret = ref_snapshots(k, fix);
	if (ret < 0)
		return ret;
	for (unsigned int i = 0; i < q->pool_n; i++) {	/* taken by this open image */
		uint64_t c = q->pool[i] >> 1;

		k->exp[c]++;
		k->kind[c] |= CK_POOL;
		if (c >= k->n)
			k->n = c + 1;
	}
	if (no_refs)
		return 0;
	inc(k, q->h.refcount_table_offset, q->rt_entries * 8, CK_RT);
	return ref_refblocks(k);
}

int ck_calculate(struct ck *k, int fix)
{
	return calculate(k, fix, true);
}

/* Stored against counted refcounts; fix: which mismatches get counted as fixed. */
static int compare(struct ck *k, int fix, uint64_t *highest)
{
	struct qcow2_check_result *r = k->r;

	*highest = 0;
	for (uint64_t c = 0; c < k->n; c++) {
		uint64_t rc1, rc2 = k->exp[c];
		uint64_t *fixed = NULL;
		int ret = ck_refcount(k, c, &rc1);

		if (ret < 0) {
			ck_msg(k, "Can't get refcount for cluster %" PRIu64 ": %s\n", c,
			       strerror(-ret));
			r->check_errors++;
			continue;
		}
		if (rc1 || rc2)
			*highest = c;
		if (rc1 == rc2)
			continue;
		if (rc1 == 0)
			k->rebuild = true;
		else if (rc1 > rc2 && (fix & QCOW2_FIX_LEAKS))
			fixed = &r->leaks_fixed;
		else if (rc1 < rc2 && (fix & QCOW2_FIX_ERRORS))
			fixed = &r->errors_fixed;
		ck_msg(k, "%s cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64 "\n",
		       fixed ? "Repairing" : rc1 < rc2 ? "ERROR" : "Leaked", c, rc1, rc2);
		if (fixed)
			(*fixed)++;
		else if (rc1 < rc2)
			r->corruptions++;
		else
			r->leaks++;
	}
	return 0;
}

/* The image's own caches may hold what a repair rewrote. */
void ck_forget_caches(struct qcow2 *q)
{
	struct qcow2_cache *c[2] = { &q->l2c, &q->rbc };

	for (int i = 0; i < 2; i++) {
		if (!c[i]->e)
			continue;
		for (unsigned int j = 0; j < c[i]->nsets * c[i]->ways; j++)
			if (!c[i]->e[j].dirty)
				c[i]->e[j].offset = 0;
	}
}

static int run(struct ck *k, int fix)
{
	struct qcow2_check_result *r = k->r, pre, old;
	uint64_t highest = 0;
	int ret;

	if (fix & QCOW2_FIX_ERRORS) {
		ret = ck_grow_compressed(k);
		if (ret == 0)
			ret = ck_fix_snapshots(k);
		if (ret < 0)
			return ret;
	}
	ret = calculate(k, fix, false);
	if (ret < 0)
		return ret;
	if (fix & QCOW2_FIX_ERRORS) {
		ret = ck_apply_zfix(k);
		if (ret < 0)
			return ret;
	}
	pre = *r;
	compare(k, 0, &highest);
	if (k->rebuild && (fix & QCOW2_FIX_ERRORS)) {
		old = *r;
		ck_msg(k, "Rebuilding refcount structure\n");
		ret = ck_rebuild(k);
		if (ret < 0) {
			r->check_errors++;
			return ret;
		}
		r->corruptions = 0;
		r->leaks = 0;
		ret = calculate(k, 0, false);
		if (ret < 0)
			return ret;
		compare(k, 0, &highest);
		if (r->corruptions < old.corruptions)
			r->errors_fixed += old.corruptions - r->corruptions;
		if (r->leaks < old.leaks)
			r->leaks_fixed += old.leaks - r->leaks;
	} else if (fix) {
		if (k->rebuild) {
			ck_msg(k, "ERROR need to rebuild refcount structures\n");
			r->check_errors++;
			return 0;
		}
		if (r->leaks || r->corruptions) {
			*r = pre;
			compare(k, fix, &highest);
		}
		ret = ck_fix_in_place(k, fix);	/* also clears refcounts past the end */
		if (ret < 0)
			return ret;
	}
	ret = ck_oflag_copied(k, fix);
	if (ret < 0)
		return ret;
	r->image_end_offset = (highest + 1) << k->cb;
	if (fix && !r->check_errors && !r->corruptions)
		ret = ck_mark_clean(k);
	return ret;
}

int qcow2_check(struct blk_image *img, int flags, struct qcow2_check_result *r,
		char *err, size_t errlen)
{
	struct qcow2 *q = qcow2_of(img);
	struct ck k = { .q = q, .r = r, .flags = flags, .quiet = flags & QCOW2_CHECK_QUIET };
	int fix = img->readonly ? 0 : flags & (QCOW2_FIX_LEAKS | QCOW2_FIX_ERRORS);
	int ret = 0;

	memset(r, 0, sizeof(*r));
	if (strcmp(img->format_name, "qcow2")) {
		snprintf(err, errlen, "%s: not a qcow2 image", img->path);
		return -EINVAL;
	}
	k.cb = q->h.cluster_bits;
	k.cs = q->cluster_size;
	r->total = (q->h.size + k.cs - 1) >> k.cb;
	pthread_mutex_lock(&q->lock);
	/* the file must hold what memory holds: deferred entries and decreases */
	if (!img->readonly) {
		ret = qcow2_commit(q, false, false);
		if (ret < 0)
			goto out;
	}
	k.tbuf = qcow2_alloc_aligned(k.cs);
	k.rbuf = qcow2_alloc_aligned(k.cs);
	if (!k.tbuf || !k.rbuf) {
		ret = -ENOMEM;
		goto out;
	}
	ret = run(&k, fix);
	if (fix) {
		int s = qcow2_sync(q);

		if (ret == 0)
			ret = s;
		ck_forget_caches(q);
		q->free_hint = 1;
	}
out:
	pthread_mutex_unlock(&q->lock);
	free(k.exp);
	free(k.kind);
	free(k.rb_bad);
	free(k.zfix);
	free(k.tbuf);
	free(k.rbuf);
	if (ret < 0)
		snprintf(err, errlen, "%s: check failed: %s", img->path, strerror(-ret));
	return ret;
}
