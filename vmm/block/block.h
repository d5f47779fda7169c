/* SPDX-License-Identifier: MIT */
/*
 * The block layer: image FORMATS (raw, qcow2) apart from I/O ENGINES
 * (io_uring, thread pool), as in Cloud Hypervisor's formats x engines.
 *
 *   struct blk_image  synchronous, thread-safe access to one image's virtual
 *                     disk (what vmm-img and the slow path use); formats
 *                     implement struct blk_image_ops.
 *   struct blk_queue  asynchronous submit/complete for one virtqueue, with
 *                     an eventfd that becomes readable when requests finish.
 *                     Reads/writes the format can map() to a host file go
 *                     straight to the engine; the rest run the image ops on
 *                     the engine's worker thread(s).
 *
 * Durability contract: a BLK_OP_FLUSH completes only after every write that
 * COMPLETED before the flush was submitted is durable (data and metadata),
 * unless the cache mode is unsafe.
 */
#ifndef VMM_BLOCK_H
#define VMM_BLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#define BLK_PATH_MAX	4096
#define BLK_SERIAL_MAX	20		/* VIRTIO_BLK_ID_BYTES */

enum disk_format {
	DISK_FORMAT_AUTO = 0,	/* probe the header (unsafe for untrusted raw images) */
	DISK_FORMAT_RAW,
	DISK_FORMAT_QCOW2,
};

enum disk_cache {
	DISK_CACHE_WRITEBACK = 0,	/* default: page cache, fdatasync on FLUSH */
	DISK_CACHE_NONE,		/* O_DIRECT, fdatasync on FLUSH */
	DISK_CACHE_WRITETHROUGH,	/* O_DSYNC */
	DISK_CACHE_UNSAFE,		/* FLUSH ignored */
};

enum blk_engine_kind {
	BLK_ENGINE_AUTO = 0,	/* io_uring if it works here, else threads */
	BLK_ENGINE_IO_URING,
	BLK_ENGINE_THREADS,
};

/* One --disk option, parsed. */
struct disk_opts {
	char path[BLK_PATH_MAX];
	enum disk_format format;
	enum disk_cache cache;
	enum blk_engine_kind engine;
	bool readonly;
	bool snapshot;			/* writes go to a temporary overlay */
	char serial[BLK_SERIAL_MAX + 1];
	unsigned int num_queues;	/* 0: one per vCPU */
};

/*
 * Parses "path=FILE[,format=raw|qcow2][,readonly=on|off][,cache=...]
 * [,serial=S][,snapshot=on|off][,num-queues=N][,engine=auto|io_uring|threads]".
 * On error returns -EINVAL and writes one line naming the key and value to err.
 */
int disk_opts_parse(const char *arg, struct disk_opts *out, char *err, size_t errlen);
/*
 * Refuses two of the n disks naming one file (symlinks and hard links
 * count) unless both only read it: -EINVAL and one line in err.
 */
int disk_opts_check_distinct(const struct disk_opts *d, unsigned int n, char *err,
			     size_t errlen);

/* ---- synchronous image access ---- */

struct blk_image;

struct blk_image_ops {
	/* Each returns 0 when the whole range was done, or -errno. Thread-safe. */
	int (*preadv)(struct blk_image *img, const struct iovec *iov, int iovcnt, uint64_t off);
	int (*pwritev)(struct blk_image *img, const struct iovec *iov, int iovcnt, uint64_t off);
	int (*flush)(struct blk_image *img);
	int (*discard)(struct blk_image *img, uint64_t off, uint64_t len);
	int (*write_zeroes)(struct blk_image *img, uint64_t off, uint64_t len);
	/*
	 * Optional fast path: if all of [off, off+len) is stored contiguously
	 * in one host file and (for write) may be written in place, set *fd
	 * and *host_off and return 0; else -ENOENT.  NULL: never mappable.
	 */
	int (*map)(struct blk_image *img, uint64_t off, uint64_t len, bool write,
		   int *fd, uint64_t *host_off);
	/* Optional: see blk_block_status(); NULL: everything is data. */
	int (*block_status)(struct blk_image *img, uint64_t off, uint64_t len, uint64_t *pnum);
	/*
	 * With map: the I/O on [host_off, host_off+len) that map() returned
	 * has completed.  Until then the format must not reuse that host
	 * range (qcow2: a discard racing the write).  NULL: nothing to do.
	 */
	void (*unmap)(struct blk_image *img, uint64_t host_off, uint64_t len);
	void (*close)(struct blk_image *img);
};

struct blk_image {
	const struct blk_image_ops *ops;
	const char *format_name;	/* "raw", "qcow2" */
	char path[BLK_PATH_MAX];
	uint64_t size;			/* virtual disk size, bytes */
	bool readonly;
	enum disk_cache cache;
	unsigned int block_size;	/* logical block size the guest is told */
	unsigned int align;		/* buffer/offset alignment I/O needs (O_DIRECT), 1 if none */
	void *priv;			/* the format's state */
};

/* A format: how to recognise and open it. */
struct blk_format {
	const char *name;
	enum disk_format id;
	/* true if the first bytes of a file (len >= 512 where the file is that big) are this format */
	bool (*probe)(const uint8_t *buf, size_t len);
	/* Open path as this format; fills *out. One clear line in err on failure. */
	int (*open)(const char *path, bool readonly, enum disk_cache cache,
		    struct blk_image **out, char *err, size_t errlen);
};

extern const struct blk_format blk_format_raw;
/* Defined by vmm/block/qcow2*.c; weak so the layer builds without it. */
extern const struct blk_format blk_format_qcow2 __attribute__((weak));

/*
 * Opens an image: format from fmt, or probed when DISK_FORMAT_AUTO.  Takes
 * the OFD lock (shared when readonly, exclusive otherwise) and refuses a
 * locked image with a clear error.  Backing files are opened by the format.
 */
int blk_image_open(const char *path, enum disk_format fmt, bool readonly,
		   enum disk_cache cache, struct blk_image **out, char *err, size_t errlen);
/* Opens according to a --disk option (handles snapshot=on). */
int blk_image_open_opts(const struct disk_opts *o, struct blk_image **out,
			char *err, size_t errlen);
void blk_image_close(struct blk_image *img);
/* The file behind an open image (st_dev/st_ino say which file it is). 0 or -errno. */
struct stat;
int blk_image_stat(const struct blk_image *img, struct stat *st);
/*
 * Finds path's format from its first bytes: qcow2; raw when it looks like
 * nothing known (*guessed set: the caller should warn); an error naming what
 * was found for a qcow v1 image or a known format vmm does not read.
 */
int blk_probe_file(const char *path, enum disk_format *fmt, bool *guessed,
		   char *err, size_t errlen);

/*
 * Allocation status (block_status.c), what convert uses to skip what it
 * need not read.  Returns the status of the run [off, off + *pnum) at the
 * start of [off, off + len), 0 < *pnum <= len, looking through the backing
 * chain: BLK_STATUS_DATA (stored in a file: read it; the bytes may still be
 * zeros) or BLK_STATUS_ZERO (reads as zeros without reading), ORed with
 * BLK_STATUS_ALLOCATED when this image itself (not a backing file) decides
 * the contents.  -EINVAL for a range outside the disk or len 0, or -errno.
 */
#define BLK_STATUS_DATA		1u
#define BLK_STATUS_ZERO		2u
#define BLK_STATUS_ALLOCATED	4u
int blk_block_status(struct blk_image *img, uint64_t off, uint64_t len, uint64_t *pnum);

/*
 * snapshot=on: creates a temporary qcow2 overlay on top of base_path (opened
 * read-only as base_fmt), unlinked once open, and opens it read-write in *out.
 * Implemented by the qcow2 code; weak so the layer builds without it.
 */
int blk_snapshot_open(const char *base_path, enum disk_format base_fmt,
		      enum disk_cache cache, struct blk_image **out,
		      char *err, size_t errlen) __attribute__((weak));

/* ---- asynchronous queue ---- */

enum blk_op {
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,
	BLK_OP_DISCARD,
	BLK_OP_WRITE_ZEROES,
};

struct blk_req {
	enum blk_op op;
	uint64_t offset;		/* bytes */
	uint64_t len;			/* DISCARD / WRITE_ZEROES length in bytes */
	const struct iovec *iov;	/* READ / WRITE buffers (caller keeps them alive) */
	unsigned int iovcnt;
	void *cookie;			/* caller's */
	int result;			/* set on completion: 0 or -errno */
	/* engine-private */
	struct blk_req *next;
	void *priv;
};

struct blk_queue;

int blk_queue_create(struct blk_image *img, enum blk_engine_kind engine,
		     unsigned int depth, struct blk_queue **out);
void blk_queue_destroy(struct blk_queue *q);	/* waits for in-flight requests */
/* Which engine a queue ended up on: "io_uring" or "threads". */
const char *blk_queue_engine_name(const struct blk_queue *q);
/* Queues a request; 0 or -errno (then it will not complete). */
int blk_queue_submit(struct blk_queue *q, struct blk_req *req);
/*
 * Between plug and unplug, submitted requests are only queued; unplug
 * starts them together (io_uring: one io_uring_enter for a whole batch of
 * virtqueue requests instead of one per request).  I/O thread only; a
 * plugged queue must be unplugged before it can make progress.
 */
void blk_queue_plug(struct blk_queue *q);
void blk_queue_unplug(struct blk_queue *q);
/* Readable (EFD_NONBLOCK eventfd) when completions are waiting. */
int blk_queue_eventfd(const struct blk_queue *q);
/* Takes up to max finished requests; returns how many. Clears the eventfd. */
unsigned int blk_queue_reap(struct blk_queue *q, struct blk_req **done, unsigned int max);

#endif
