/* SPDX-License-Identifier: MIT */
/*
 * Inside the block layer: what queue.c, the engines and the formats share.
 * Not for device code (that uses block.h only).
 *
 * A struct blk_queue (queue.c) validates requests, keeps FLUSH ordered after
 * earlier writes, and collects completions on a list behind an eventfd.  It
 * hands each request to one engine:
 *   io_uring  (engine_uring.c)   reads/writes the format can map() go to the
 *                                kernel; everything else to a small pool.
 *   threads   (engine_threads.c) a pool of workers running the image ops.
 */
#ifndef VMM_BLOCK_ENGINE_H
#define VMM_BLOCK_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "block/block.h"

#define BLK_IOV_MAX	1024	/* UIO_MAXIOV: the most iovecs one request may carry */

struct blk_engine_ops {
	const char *name;
	/* Sets *priv; -errno if this engine cannot run here. */
	int (*init)(struct blk_queue *q, struct blk_image *img, unsigned int depth, void **priv);
	/* Called only when nothing is in flight. */
	void (*fini)(void *priv);
	/* Starts one validated request; it completes via blk_queue_complete(). */
	int (*submit)(void *priv, struct blk_req *req);
	/* I/O thread: move finished work to blk_queue_complete(). May be NULL. */
	void (*poll)(void *priv);
	/*
	 * May be NULL.  on: hold submissions made from now on; off: start
	 * everything held with one system call (blk_queue_plug()).
	 */
	void (*plug)(void *priv, bool on);
};

extern const struct blk_engine_ops blk_engine_uring;
extern const struct blk_engine_ops blk_engine_threads;

/*
 * queue.c: an engine reports a finished request.  From any thread; wake is
 * false only on the queue's I/O thread inside poll(), where the caller is
 * already reaping and the eventfd need not fire again.
 */
void blk_queue_complete(struct blk_queue *q, struct blk_req *req, int result, bool wake);

/* engine_threads.c: a pool of workers running requests through the image ops. */
struct blk_pool;
int blk_pool_create(struct blk_queue *q, struct blk_image *img, unsigned int nthreads,
		    struct blk_pool **out);
void blk_pool_submit(struct blk_pool *pool, struct blk_req *req);
void blk_pool_destroy(struct blk_pool *pool);	/* nothing may be queued */
/* Runs one request synchronously through img->ops: 0 or -errno. */
int blk_req_run(struct blk_image *img, struct blk_req *req);

/* bounce.c: iovec helpers and aligned bounce buffers for O_DIRECT. */
int blk_iov_len(const struct iovec *iov, unsigned int cnt, uint64_t *len);
bool blk_iov_aligned(const struct iovec *iov, unsigned int cnt, unsigned int align);
void *blk_bounce_alloc(size_t len, unsigned int align);
void blk_iov_to_buf(const struct iovec *iov, unsigned int cnt, void *buf, size_t len);
void blk_buf_to_iov(const void *buf, size_t len, const struct iovec *iov, unsigned int cnt);
/* Copies iov[] minus its first skip bytes into out[] (room for cnt); returns the count. */
unsigned int blk_iov_skip(const struct iovec *iov, unsigned int cnt, size_t skip,
			  struct iovec *out);
/* 0 if [off, off+len) lies inside img (no overflow), else -EINVAL. */
int blk_range_check(const struct blk_image *img, uint64_t off, uint64_t len);

/*
 * block_status.c: the status of [off, off+len) of a file read as a raw
 * disk (SEEK_DATA/SEEK_HOLE), as the block_status op returns it.
 */
int blk_fd_block_status(int fd, uint64_t off, uint64_t len, uint64_t *pnum);

/*
 * image.c: open a disk image file with the flags its cache mode needs
 * (O_RDONLY or O_RDWR, O_DIRECT for none, O_DSYNC for writethrough) and
 * find its size; refuses directories and other non-files with one clear
 * line in err.  Formats (raw, qcow2) open their files with it.
 */
int blk_file_open(const char *path, bool readonly, enum disk_cache cache,
		  int *fd, uint64_t *size, char *err, size_t errlen);
/* The alignment O_DIRECT needs on fd (512 or 4096), found by trying reads. */
int blk_file_dio_align(int fd, const char *path, unsigned int *align,
		       char *err, size_t errlen);

#endif
