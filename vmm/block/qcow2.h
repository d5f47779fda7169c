/* SPDX-License-Identifier: MIT */
/*
 * qcow2 (versions 2 and 3) internals, shared by vmm/block/qcow2_*.c and
 * vmm-img.  Layout per QEMU's docs/interop/qcow2.txt: big-endian header,
 * two-level L1/L2 mapping, refcount table -> refcount blocks.
 *
 * Metadata is written through, except L2 entries that depend on data not
 * yet durable (copy-on-write, reused clusters, compressed clusters): those
 * tables stay dirty in the cache until qcow2_commit(), which syncs first.
 * Refcount increases are durable before anything points at the cluster
 * (the pool); decreases wait until the dropped reference is durable
 * (q->frees, applied by qcow2_commit after a sync).  A small
 * set-associative cache keeps L2 tables and refcount blocks in memory.
 * One mutex per image serialises metadata access.
 */
#ifndef VMM_BLOCK_QCOW2_H
#define VMM_BLOCK_QCOW2_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#include "block/block.h"

#define QCOW2_MAGIC		0x514649fbu	/* "QFI\xfb" */
#define QCOW2_MIN_CLUSTER_BITS	9
#define QCOW2_MAX_CLUSTER_BITS	21
#define QCOW2_MAX_BACKING_DEPTH	32
#define QCOW2_MAX_L1_BYTES	(32u << 20)
#define QCOW2_MAX_RT_BYTES	(8u << 20)
#define QCOW2_MAX_SIZE		(1ull << 55)	/* virtual size limit, bytes */

#define QCOW2_INCOMPAT_DIRTY	(1ull << 0)
#define QCOW2_INCOMPAT_CORRUPT	(1ull << 1)
#define QCOW2_INCOMPAT_DATA_FILE (1ull << 2)
#define QCOW2_INCOMPAT_COMPRESSION (1ull << 3)
#define QCOW2_INCOMPAT_EXTL2	(1ull << 4)
#define QCOW2_COMPAT_LAZY_REFCOUNTS (1ull << 0)

#define QCOW2_EXT_END		0x00000000u
#define QCOW2_EXT_BACKING_FMT	0xe2792acau
#define QCOW2_EXT_FEATURES	0x6803f857u
#define QCOW2_EXT_DATA_FILE	0x44415441u
#define QCOW2_EXT_CRYPTO	0x0537be77u

#define QCOW2_OFLAG_COPIED	(1ull << 63)
#define QCOW2_OFLAG_COMPRESSED	(1ull << 62)
#define QCOW2_OFLAG_ZERO	(1ull << 0)
#define QCOW2_OFFSET_MASK	0x00fffffffffffe00ull

#define QCOW2_COMPRESS_ZLIB	0
#define QCOW2_COMPRESS_ZSTD	1

/* Parsed header (host byte order). */
struct qcow2_header {
	uint32_t version;
	uint64_t backing_file_offset;
	uint32_t backing_file_size;
	uint32_t cluster_bits;
	uint64_t size;
	uint32_t crypt_method;
	uint32_t l1_size;
	uint64_t l1_table_offset;
	uint64_t refcount_table_offset;
	uint32_t refcount_table_clusters;
	uint32_t nb_snapshots;
	uint64_t snapshots_offset;
	uint64_t incompat;
	uint64_t compat;
	uint64_t autoclear;
	uint32_t refcount_order;
	uint32_t header_length;
	uint8_t compression_type;
	char backing_file[1024];
	char backing_fmt[32];
};

/* What a write to the image file holds: the ordering rules and the test hook. */
enum qcow2_io_kind {
	QCOW2_IO_DATA,		/* guest data, compressed clusters */
	QCOW2_IO_L1,
	QCOW2_IO_L2,
	QCOW2_IO_REFTABLE,
	QCOW2_IO_REFBLOCK,
	QCOW2_IO_HEADER,
	QCOW2_IO_SYNC,		/* fdatasync (off, len 0) */
};

/* One cached table (L2 table or refcount block), keyed by host offset. */
struct qcow2_cache_entry {
	uint64_t offset;	/* 0: empty */
	uint64_t lru;
	uint8_t *data;		/* one cluster, aligned for O_DIRECT */
	bool dirty;		/* L2 only: changed, not yet written (see qcow2_commit) */
	uint32_t dlo, dhi;	/* the changed bytes, when dirty */
};

struct qcow2_cache {
	struct qcow2_cache_entry *e;
	unsigned int nsets, ways;
	unsigned int ndirty;
	uint64_t tick;
};

struct qcow2 {
	struct blk_image img;
	int fd;
	pthread_mutex_t lock;
	struct qcow2_header h;
	uint32_t cluster_size;
	uint32_t l2_bits;		/* entries per L2 table = 1 << l2_bits */
	uint32_t refcount_bits;
	uint32_t rb_bits;		/* refcounts per block = 1 << rb_bits */
	uint64_t *l1;			/* host order */
	uint64_t *rt;			/* refcount table, host order */
	uint64_t rt_entries;
	struct qcow2_cache l2c, rbc;
	uint64_t free_hint;		/* first cluster index worth searching */
	uint64_t pool[64];		/* cluster << 1 | may-hold-old-data: refcount 1, unused */
	unsigned int pool_n;
	uint64_t cbytes_off;		/* compressed packing cursor (host byte), 0 none */
	uint64_t *frees;		/* clusters whose refcount drops at the next commit */
	size_t nfrees, frees_cap;
	uint64_t frees_done;		/* decreases applied so far */
	unsigned int align;		/* O_DIRECT alignment of file I/O, 1 if buffered */
	struct blk_image *backing;
	/* test hook: every write and sync of the image file, in order */
	void (*trace)(void *arg, enum qcow2_io_kind kind, uint64_t off, uint64_t len);
	void *trace_arg;
	uint8_t *zbuf;			/* 2 clusters: compressed bytes */
	uint8_t *cbuf;			/* 1 cluster: decompressed cluster */
	uint8_t *wbuf;			/* 1 cluster: allocating-write buffer */
	void *zctx;			/* zstd decompression context */
	/*
	 * In-flight tracking (qcow2_io.c): host cluster ranges map() handed to
	 * the async engine and not yet released by unmap(), and data clusters
	 * freed (discard, rewrite) while mapped.  Those are freed only when
	 * the last mapping on them goes, so a write in flight can never land
	 * in a cluster already reused for other data.
	 */
	struct qcow2_mapping { uint64_t host, len; } *mapped;
	size_t nmapped, mapped_cap;
	uint64_t *held;			/* host offsets of held clusters */
	size_t nheld, held_cap;
};

/* qcow2_io.c: at close, with no I/O in flight: forget mappings, free held clusters (lock held) */
void qcow2_release_mappings(struct qcow2 *q);

/* qcow2_header.c */
bool qcow2_probe(const uint8_t *buf, size_t len);
/*
 * Parses and validates the header.  tolerant (check's open): table offsets
 * of 0, tables past the end of the file or overlapping each other pass.
 */
int qcow2_read_header(int fd, const char *name, struct qcow2_header *h,
		      uint64_t file_size, bool tolerant, char *err, size_t errlen);
int qcow2_write_header_fields(struct qcow2 *q);
/* qcow2_refcount.c: entry i of a refcount block (refcount_bits wide); the
 * setter returns the byte range it touched in *boff and *blen. */
uint64_t qcow2_rb_get(const struct qcow2 *q, const uint8_t *blk, uint64_t i);
void qcow2_rb_set(const struct qcow2 *q, uint8_t *blk, uint64_t i, uint64_t v,
		  size_t *boff, size_t *blen);
int qcow2_chain_check(const char *path, char *err, size_t errlen);
/* One internal snapshot's table entry (what info shows). */
struct qcow2_snapshot {
	uint64_t l1_table_offset;
	uint32_t l1_size;
	uint32_t date_sec, date_nsec;
	uint64_t vm_clock_nsec;
	uint64_t vm_state_size;
	uint64_t icount;		/* UINT64_MAX: not recorded */
	char id[64];			/* truncated to fit, NUL-terminated */
	char name[256];
};
#define QCOW2_SNAPSHOT_FIXED	40u		/* entry bytes before the extra data */
#define QCOW2_SNAPSHOT_MAX	(40u + 1024u + 2u * 65535u + 7u)	/* largest valid entry */
#define QCOW2_MAX_SNAPSHOTS	65536u
/*
 * Parses the snapshot table entry at buf (len bytes readable): 0 with
 * *used = its 8-byte aligned length, or -EINVAL if it does not fit in len
 * or its extra data is over 1024 bytes.
 */
int qcow2_snapshot_parse(const uint8_t *buf, size_t len, struct qcow2_snapshot *s,
			 size_t *used);
void qcow2_backing_path(const char *image, const char *backing, char *out, size_t outlen);
/* Opens a backing file read-only (raw or qcow2, probed unless fmt given). */
int qcow2_open_any(const char *path, const char *fmt, bool readonly,
		   enum disk_cache cache, struct blk_image **out, char *err, size_t errlen);

/* qcow2_meta.c: file I/O (aligned for O_DIRECT), syncs, ordering */
/* Reads len bytes at off (zeros past end of file); returns bytes in the file or -errno. */
ssize_t qcow2_pread(struct qcow2 *q, void *buf, size_t len, uint64_t off);
/* Writes all of buf; with O_DIRECT an unaligned range is read-modify-written. */
int qcow2_pwrite(struct qcow2 *q, enum qcow2_io_kind kind, const void *buf, size_t len,
		 uint64_t off);
/* Writes bytes [boff, boff+blen) of a cached one-cluster table, widened to q->align. */
int qcow2_table_write(struct qcow2 *q, enum qcow2_io_kind kind, const uint8_t *tbl,
		      uint64_t tbl_off, size_t boff, size_t blen);
/* Writes entry idx of an in-memory table of n entries (L1, refcount table). */
int qcow2_entry_write(struct qcow2 *q, enum qcow2_io_kind kind, const uint64_t *t,
		      uint64_t n, uint64_t tbl_off, uint64_t idx);
int qcow2_sync(struct qcow2 *q);
/* Lowers the refcounts of [off, off+len) once the dropped reference is durable. */
void qcow2_free_bytes(struct qcow2 *q, uint64_t off, uint64_t len);
/*
 * Writes the dirty L2 tables (after a sync, unless synced says one just
 * happened with nothing written since), then applies the deferred refcount
 * decreases (after another sync).  durable: that second sync happens even
 * with no decreases pending, so everything written before the decreases is
 * on disk (the decreases themselves are not synced).
 */
int qcow2_commit(struct qcow2 *q, bool synced, bool durable);
/* FLUSH: commit, then everything written so far is durable.  Takes the lock. */
int qcow2_flush_image(struct qcow2 *q);
void *qcow2_alloc_aligned(size_t len);
/*
 * Whole-buffer pread/pwrite on a file descriptor, retrying EINTR and short
 * transfers.  The read zero-fills what lies past EOF (*got: bytes read);
 * a write that makes no progress is -EIO.  0 or -errno.
 */
int qcow2_fd_pread(int fd, uint8_t *buf, size_t len, uint64_t off, size_t *got);
int qcow2_fd_pwrite(int fd, const uint8_t *buf, size_t len, uint64_t off);

static inline void qcow2_trace(struct qcow2 *q, enum qcow2_io_kind kind, uint64_t off,
			       uint64_t len)
{
	if (q->trace)
		q->trace(q->trace_arg, kind, off, len);
}

/* qcow2_cache.c */
int qcow2_cache_init(struct qcow2_cache *c, unsigned int entries, uint32_t cluster_size);
void qcow2_cache_free(struct qcow2_cache *c);
/* Returns the table at host offset off (read from fd on a miss), or NULL. */
uint8_t *qcow2_cache_get(struct qcow2 *q, struct qcow2_cache *c, uint64_t off, bool fresh, int *ret);
void qcow2_cache_drop(struct qcow2_cache *c, uint64_t off);
struct qcow2_cache_entry *qcow2_cache_find(struct qcow2 *q, struct qcow2_cache *c, uint64_t off);
/* Bytes [boff, boff+blen) of the table changed and wait for qcow2_commit. */
void qcow2_cache_mark_dirty(struct qcow2_cache *c, struct qcow2_cache_entry *en,
			    uint32_t boff, uint32_t blen);

/* qcow2_refcount.c */
int qcow2_get_refcount(struct qcow2 *q, uint64_t cluster, uint64_t *rc);
int qcow2_update_refcount(struct qcow2 *q, uint64_t cluster, int64_t delta);
int qcow2_alloc_cluster(struct qcow2 *q, uint64_t *host_off, bool *reused);
int qcow2_alloc_run(struct qcow2 *q, uint64_t n, uint64_t *host_off);
/*
 * Up to max contiguous clusters from the head of the pool, refcounts
 * durable, none that may hold old data (fresh past the old end of file);
 * *got 0 when the head of the pool is a reused cluster.
 */
int qcow2_alloc_contig(struct qcow2 *q, uint64_t max, uint64_t *host_off, uint64_t *got);
int qcow2_release_pool(struct qcow2 *q);

/* qcow2_cluster.c */
int qcow2_get_l2_entry(struct qcow2 *q, uint64_t voff, uint64_t *entry);
/* deferred: the entry points at data not yet durable; written by qcow2_commit */
int qcow2_set_l2_entry(struct qcow2 *q, uint64_t voff, uint64_t entry, bool deferred);
int qcow2_ensure_l2(struct qcow2 *q, uint64_t voff);
/*
 * Points the n entries from voff (one L2 table) at the clusters from host
 * (OFLAG_COPIED), in one table write; their data is written already.
 */
int qcow2_set_l2_run(struct qcow2 *q, uint64_t voff, uint64_t host, uint64_t n);
int qcow2_grow_l1(struct qcow2 *q, uint64_t new_l1_size);

/* qcow2_compress.c */
int qcow2_decompress(struct qcow2 *q, uint64_t entry, uint8_t *out);
void qcow2_free_compressed(struct qcow2 *q, uint64_t entry);
/* Deflates one cluster; returns compressed length or 0 if it does not shrink. */
size_t qcow2_deflate(const uint8_t *in, size_t len, uint8_t *out, size_t outlen);
int qcow2_write_compressed(struct blk_image *img, uint64_t voff, const uint8_t *buf);

/* qcow2_io.c */
extern const struct blk_image_ops qcow2_ops;

/* qcow2_status.c: the block_status op (see blk_block_status) */
int qcow2_block_status(struct blk_image *img, uint64_t off, uint64_t len, uint64_t *pnum);

/* qcow2_open.c */
const struct blk_format *qcow2_format(void);
void qcow2_close_image(struct blk_image *img);

/* qcow2_create.c */
struct qcow2_create_opts {
	uint64_t size;
	uint32_t cluster_size;		/* 0: 64 KiB */
	int version;			/* 0: 3 */
	const char *backing;		/* as written in the header */
	const char *backing_fmt;	/* NULL: none */
};
int qcow2_create(const char *path, const struct qcow2_create_opts *o, char *err, size_t errlen);
int qcow2_create_fd(int fd, const char *path, const struct qcow2_create_opts *o,
		    char *err, size_t errlen);
int qcow2_resize(struct blk_image *img, uint64_t new_size, char *err, size_t errlen);

/* qcow2_open.c: check's tolerant open (see qcow2_check.c) */
/*
 * Opens an image for check: the header must parse, but tables may point
 * past the end of the file or at each other (read as zeros / counted by the
 * checker), a corrupt-marked image and internal snapshots are allowed even
 * read-write, and no backing file is opened.  Only qcow2_check (and close)
 * may use the result.
 */
int qcow2_open_check(const char *path, bool readonly, struct blk_image **out,
		     char *err, size_t errlen);

/* qcow2_check.c, qcow2_repair.c: qemu-img compatible check and repair */
#define QCOW2_FIX_LEAKS		1	/* lower refcounts above the references */
#define QCOW2_FIX_ERRORS	2	/* raise refcounts, rebuild them, fix OFLAG_COPIED */
#define QCOW2_CHECK_QUIET	4	/* no per-cluster lines on stderr */
struct qcow2_check_result {
	uint64_t corruptions, leaks, check_errors;
	uint64_t leaks_fixed, errors_fixed;	/* errors_fixed: qemu's corruptions-fixed */
	uint64_t allocated, fragmented, compressed, total;
	uint64_t image_end_offset;
	bool rebuilt;				/* a new refcount structure was written */
};
/*
 * Counts the references to every cluster from the metadata and compares
 * them with the refcounts, then checks OFLAG_COPIED, as qemu-img check does
 * (same counts and exit-code meaning).  With QCOW2_FIX_*, repairs in place
 * what it validated, or writes a new refcount structure past the end of the
 * file; clears the corrupt and dirty bits when nothing is left to fix.
 * Returns 0 (the counts say what was found) or -errno if it could not check.
 */
int qcow2_check(struct blk_image *img, int flags, struct qcow2_check_result *r,
		char *err, size_t errlen);

static inline struct qcow2 *qcow2_of(struct blk_image *img) { return img->priv; }

static inline uint64_t qcow2_be64(const uint8_t *p)
{
	return ((uint64_t)p[0] << 56) | ((uint64_t)p[1] << 48) | ((uint64_t)p[2] << 40) |
	       ((uint64_t)p[3] << 32) | ((uint64_t)p[4] << 24) | ((uint64_t)p[5] << 16) |
	       ((uint64_t)p[6] << 8) | p[7];
}

static inline uint32_t qcow2_be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void qcow2_put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

static inline void qcow2_put32(uint8_t *p, uint32_t v)
{
	for (int i = 3; i >= 0; i--, v >>= 8)
		p[i] = v & 0xff;
}

#endif
