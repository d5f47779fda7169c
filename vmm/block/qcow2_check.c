// SPDX-License-Identifier: MIT
/*
 * qcow2 consistency check: rebuilds the expected refcount of every cluster
 * from the metadata (header, L1, L2, refcount table + blocks, snapshot
 * table and snapshot L1/L2 tables) and compares with the stored refcounts.
 * Lower than expected: corruption.  Higher: leak (repairable).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/qcow2.h"

struct ck {
	struct qcow2 *q;
	uint32_t *exp;
	uint64_t n;
	struct qcow2_check_result *r;
};

static void ref(struct ck *k, uint64_t off, uint64_t len, const char *what)
{
	if (!len)
		return;
	for (uint64_t c = off >> k->q->h.cluster_bits;
	     c <= (off + len - 1) >> k->q->h.cluster_bits; c++) {
		if (c >= k->n) {
			fprintf(stderr, "ERROR %s at offset 0x%" PRIx64 " is past end of file\n",
				what, c << k->q->h.cluster_bits);
			k->r->corruptions++;
			continue;
		}
		k->exp[c]++;
	}
}

static void ref_l1(struct ck *k, uint64_t l1_off, uint64_t l1_size, bool active)
{
	struct qcow2 *q = k->q;
	uint64_t cs = q->cluster_size, x = 62 - (q->h.cluster_bits - 8);
	uint8_t *t = malloc(cs), *l1 = malloc(l1_size * 8 + 8);

	if (!t || !l1 || (l1_size && qcow2_pread(q, l1, l1_size * 8, l1_off) != (ssize_t)(l1_size * 8))) {
		fprintf(stderr, "ERROR cannot read L1 table at 0x%" PRIx64 "\n", l1_off);
		k->r->corruptions++;
		goto out;
	}
	ref(k, l1_off, l1_size * 8, "L1 table");
	for (uint64_t i = 0; i < l1_size; i++) {
		uint64_t l2 = qcow2_be64(l1 + i * 8) & QCOW2_OFFSET_MASK;

		if (!l2)
			continue;
		ref(k, l2, cs, "L2 table");
		if (qcow2_pread(q, t, cs, l2) != (ssize_t)cs) {
			fprintf(stderr, "ERROR cannot read L2 table at 0x%" PRIx64 "\n", l2);
			k->r->corruptions++;
			continue;
		}
		for (uint64_t j = 0; j < cs / 8; j++) {
			uint64_t e = qcow2_be64(t + j * 8);

			if (e & QCOW2_OFLAG_COMPRESSED) {
				uint64_t off = e & ((1ull << x) - 1);
				uint64_t ns = ((e >> x) & ((1ull << (q->h.cluster_bits - 8)) - 1)) + 1;

				ref(k, off, ns * 512 - (off & 511), "compressed cluster");
				if (active)
					k->r->allocated++;
			} else if (e & QCOW2_OFFSET_MASK) {
				if ((e & QCOW2_OFFSET_MASK) & (cs - 1)) {
					fprintf(stderr, "ERROR data cluster offset 0x%" PRIx64
						" is not cluster aligned\n", (uint64_t)(e & QCOW2_OFFSET_MASK));
					k->r->corruptions++;
					continue;
				}
				ref(k, e & QCOW2_OFFSET_MASK, cs, "data cluster");
				if (active)
					k->r->allocated++;
			}
		}
	}
out:
	free(t);
	free(l1);
}

static void ref_snapshots(struct ck *k)
{
	struct qcow2 *q = k->q;
	uint64_t off = q->h.snapshots_offset, start = off;

	for (uint32_t i = 0; i < q->h.nb_snapshots; i++) {
		uint8_t h[40];

		if (qcow2_pread(q, h, 40, off) != 40) {
			fprintf(stderr, "ERROR snapshot table truncated\n");
			k->r->corruptions++;
			return;
		}
		ref_l1(k, qcow2_be64(h), qcow2_be32(h + 8), false);
		off += 40 + qcow2_be32(h + 36) + qcow2_be32(h + 12) / 65536 +
		       (qcow2_be32(h + 12) & 0xffff);
		off = (off + 7) & ~7ull;
	}
	ref(k, start, off - start, "snapshot table");
}

int qcow2_check(struct blk_image *img, int flags, struct qcow2_check_result *r,
		char *err, size_t errlen)
{
	struct ck k = { qcow2_of(img), NULL, 0, r };
	struct qcow2 *q = k.q;
	bool quiet = flags & QCOW2_CHECK_QUIET;
	struct stat st;
	uint64_t last = 0, cs;
	int ret = 0;

	memset(r, 0, sizeof(*r));
	if (strcmp(img->format_name, "qcow2")) {
		snprintf(err, errlen, "%s: not a qcow2 image", img->path);
		return -EINVAL;
	}
	cs = q->cluster_size;
	pthread_mutex_lock(&q->lock);
	/* the file must hold what memory holds: deferred entries and decreases */
	if (!img->readonly) {
		ret = qcow2_commit(q, false, false);
		if (ret < 0)
			goto out;
	}
	if (fstat(q->fd, &st) < 0) {
		ret = -errno;
		goto out;
	}
	k.n = ((uint64_t)st.st_size + cs - 1) / cs;
	if (k.n > (1ull << 26)) {
		ret = -EFBIG;		/* the expected-refcount array would be too big */
		goto out;
	}
	k.exp = calloc(k.n + 1, sizeof(*k.exp));
	if (!k.exp) {
		ret = -ENOMEM;
		goto out;
	}
	ref(&k, 0, cs, "header");
	ref_l1(&k, q->h.l1_table_offset, q->h.l1_size, true);
	ref(&k, q->h.refcount_table_offset, (uint64_t)q->h.refcount_table_clusters * cs,
	    "refcount table");
	for (uint64_t i = 0; i < q->rt_entries; i++) {
		if (q->rt[i] & QCOW2_OFFSET_MASK) {
			ref(&k, q->rt[i] & QCOW2_OFFSET_MASK, cs, "refcount block");
			last = (i + 1) << q->rb_bits;
		}
	}
	if (q->h.nb_snapshots)
		ref_snapshots(&k);
	for (unsigned int i = 0; i < q->pool_n; i++)	/* taken by this open image */
		if ((q->pool[i] >> 1) < k.n)
			k.exp[q->pool[i] >> 1]++;
	if (last < k.n)
		last = k.n;
	if (last > k.n + 65536)		/* refcounts past EOF: only allocation leftovers */
		last = k.n + 65536;
	r->total = (q->h.size + cs - 1) / cs;
	for (uint64_t c = 0; c < last; c++) {
		uint64_t rc, e = c < k.n ? k.exp[c] : 0;

		for (unsigned int i = 0; c >= k.n && i < q->pool_n; i++)
			e += (q->pool[i] >> 1) == c;

		ret = qcow2_get_refcount(q, c, &rc);
		if (ret < 0)
			goto out;
		if (rc < e && (flags & QCOW2_FIX_ERRORS) && !img->readonly) {
			ret = qcow2_update_refcount(q, c, (int64_t)(e - rc));
			if (ret < 0)
				goto out;
			if (!quiet)
				fprintf(stderr, "Repairing cluster %" PRIu64 " refcount=%" PRIu64
					" reference=%" PRIu64 "\n", c, rc, e);
			r->errors_fixed++;
		} else if (rc < e) {
			fprintf(stderr, "ERROR cluster %" PRIu64 " refcount=%" PRIu64 " reference=%" PRIu64 "\n",
				c, rc, e);
			r->corruptions++;
		} else if (rc > e && (flags & QCOW2_FIX_LEAKS) && !img->readonly) {
			ret = qcow2_update_refcount(q, c, -(int64_t)(rc - e));
			if (ret < 0)
				goto out;
			if (!quiet)
				fprintf(stderr, "Repairing cluster %" PRIu64 " refcount=%" PRIu64
					" reference=%" PRIu64 "\n", c, rc, e);
			r->leaks_fixed++;
		} else if (rc > e) {
			if (!quiet)
				fprintf(stderr, "Leaked cluster %" PRIu64 " refcount=%" PRIu64
					" reference=%" PRIu64 "\n", c, rc, e);
			r->leaks++;
		}
	}
	if (r->leaks_fixed || r->errors_fixed)
		ret = qcow2_sync(q);
out:
	pthread_mutex_unlock(&q->lock);
	free(k.exp);
	if (ret < 0)
		snprintf(err, errlen, "%s: check failed: %s", img->path, strerror(-ret));
	return ret;
}
