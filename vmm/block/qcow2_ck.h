/* SPDX-License-Identifier: MIT */
/*
 * Internals shared by the qcow2 checker (qcow2_check.c) and its repairs
 * (qcow2_repair.c).  The checker counts, for every cluster of the file, the
 * references the metadata makes to it (exp) and what kind of structure
 * made them (kind); repairs write only where those say it is safe.
 */
#ifndef VMM_BLOCK_QCOW2_CK_H
#define VMM_BLOCK_QCOW2_CK_H

#include <stdbool.h>
#include <stdint.h>

#include "block/qcow2.h"

/* who references a cluster (bits of ck.kind[]) */
#define CK_HDR		0x01
#define CK_L1		0x02
#define CK_L2		0x04
#define CK_DATA		0x08
#define CK_RT		0x10
#define CK_RB		0x20
#define CK_SNAP		0x40
#define CK_POOL		0x80	/* taken by the open image, not yet used */

#define CK_L1_RESERVED	0x7f000000000001ffull
#define CK_L2_RESERVED	0x3f000000000001feull
#define CK_RT_RESERVED	0x00000000000001ffull
#define CK_RT_MASK	0xfffffffffffffe00ull

/* QEMU's limits on the snapshot table */
#define CK_MAX_SNAPSHOTS	65536u
#define CK_MAX_SNAPSHOTS_SIZE	(64ull << 20)
#define CK_MAX_SNAPSHOT_EXTRA	1024u

struct ck {
	struct qcow2 *q;
	struct qcow2_check_result *r;
	int flags;
	bool quiet;
	uint32_t cb;		/* cluster_bits */
	uint64_t cs;		/* cluster size */
	uint64_t fsize;		/* file size, bytes */
	uint64_t nb;		/* clusters in the file (the last may be partial) */
	uint64_t n;		/* clusters counted: nb, or nb + 1 (references into the
				 * cluster just past a partial last one) */
	uint32_t *exp;		/* references counted, [nb + 2] */
	uint8_t *kind;		/* CK_* of who referenced the cluster, [nb + 2] */
	uint8_t *rb_bad;	/* [rt_entries]: refblock pointer not usable */
	bool rebuild;		/* the refcount structure must be rebuilt */
	uint64_t *zfix;		/* L2 entries (host offsets) to turn into plain zero */
	size_t nzfix, zfix_cap;
	uint8_t *tbuf;		/* one cluster */
	uint8_t *rbuf;		/* one cluster: the refblock last read */
	uint64_t rbuf_idx;	/* its refcount-table index, UINT64_MAX: none */
};

/* qcow2_check.c */
void ck_msg(struct ck *k, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ck_refcount(struct ck *k, uint64_t cluster, uint64_t *rc);
uint64_t ck_rb_get(const struct qcow2 *q, const uint8_t *blk, uint64_t i);
void ck_rb_set(const struct qcow2 *q, uint8_t *blk, uint64_t i, uint64_t v);
uint64_t ck_rc_max(const struct qcow2 *q);
int ck_calculate(struct ck *k, int fix);
void ck_forget_caches(struct qcow2 *q);

/* qcow2_repair.c */
/* Turns the misaligned preallocated-zero L2 entries noted in zfix into plain zero. */
int ck_apply_zfix(struct ck *k);
/* Writes the refcounts exp says into the existing (validated) refblocks. */
int ck_fix_in_place(struct ck *k, int fix);
/* Writes a new refcount table and blocks past the end of the file. */
int ck_rebuild(struct ck *k);
/* Checks (and with QCOW2_FIX_ERRORS fixes) OFLAG_COPIED of the active tables. */
int ck_oflag_copied(struct ck *k, int fix);
/*
 * -r all: a snapshot table with incomplete v3 entries (less than 16 bytes of
 * extra data) or too much extra data is written anew past the end of the
 * file (incomplete entries completed, the entry with too much extra data and
 * those after it dropped), then the header names it.  Runs before counting.
 */
int ck_fix_snapshots(struct ck *k);
/*
 * -r all: a compressed cluster that starts in the file and reaches past its
 * end (its data reads as zeros there, as qemu reads it) is kept readable:
 * the file grows over it (zeros) before anything is counted or written past
 * the end, so no rebuild or new snapshot table lands on its data.
 */
int ck_grow_compressed(struct ck *k);
/* Clears the corrupt and dirty bits. */
int ck_mark_clean(struct ck *k);

#endif
