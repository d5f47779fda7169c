// SPDX-License-Identifier: MIT
/*
 * struct blk_queue: one virtqueue's asynchronous window onto an image.
 *
 * The queue belongs to one I/O thread, which submits and reaps; engines
 * finish requests on any thread and put them on the done list (under a
 * mutex), then write the eventfd.  The queue itself keeps FLUSH in order:
 * a FLUSH waits until every write, discard, write-zeroes and flush submitted
 * before it has completed, and requests submitted while a FLUSH waits queue
 * up behind it in order.  So when the FLUSH runs (fdatasync plus the
 * format's metadata), everything written before it is in the file.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "block/engine.h"
#include "log.h"

#define BLK_DEFAULT_DEPTH	128
#define BLK_MAX_DEPTH		4096

struct blk_queue {
	struct blk_image *img;
	const struct blk_engine_ops *engine;
	void *engine_priv;
	int efd;

	pthread_mutex_t lock;		/* guards the done list */
	struct blk_req *done_head, *done_tail;

	/* I/O thread only */
	struct blk_req *held_head, *held_tail;	/* waiting behind a FLUSH */
	unsigned int inflight;		/* handed to the engine, not yet reaped */
	unsigned int writes_inflight;	/* of those, the ones a FLUSH waits for */
};

static bool blk_op_orders(enum blk_op op)
{
	return op != BLK_OP_READ;
}

static void eventfd_kick(int efd)
{
	uint64_t one = 1;
	ssize_t r;

	do {
		r = write(efd, &one, sizeof(one));
	} while (r < 0 && errno == EINTR);
	/* EAGAIN: the counter is saturated, which is readable anyway */
}

void blk_queue_complete(struct blk_queue *q, struct blk_req *req, int result, bool wake)
{
	req->result = result;
	req->next = NULL;
	pthread_mutex_lock(&q->lock);
	if (q->done_tail)
		q->done_tail->next = req;
	else
		q->done_head = req;
	q->done_tail = req;
	pthread_mutex_unlock(&q->lock);
	if (wake)
		eventfd_kick(q->efd);
}

static int blk_req_check(const struct blk_queue *q, const struct blk_req *req)
{
	const struct blk_image *img = q->img;
	uint64_t len;

	switch (req->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		if (req->iovcnt > BLK_IOV_MAX || (req->iovcnt && !req->iov) ||
		    blk_iov_len(req->iov, req->iovcnt, &len) ||
		    blk_range_check(img, req->offset, len))
			return -EINVAL;
		if (req->op == BLK_OP_WRITE && img->readonly)
			return -EROFS;
		return 0;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		if (blk_range_check(img, req->offset, req->len))
			return -EINVAL;
		return img->readonly ? -EROFS : 0;
	case BLK_OP_FLUSH:
		return 0;
	}
	return -EINVAL;
}

static int blk_dispatch(struct blk_queue *q, struct blk_req *req)
{
	int ret;

	q->inflight++;
	if (blk_op_orders(req->op))
		q->writes_inflight++;
	ret = q->engine->submit(q->engine_priv, req);
	if (ret) {
		q->inflight--;
		if (blk_op_orders(req->op))
			q->writes_inflight--;
	}
	return ret;
}

/* Starts held requests, in order, up to a FLUSH that still has to wait. */
static void blk_dispatch_held(struct blk_queue *q)
{
	struct blk_req *req;
	int ret;

	while ((req = q->held_head)) {
		if (req->op == BLK_OP_FLUSH && q->writes_inflight)
			break;
		q->held_head = req->next;
		if (!q->held_head)
			q->held_tail = NULL;
		req->next = NULL;
		ret = blk_dispatch(q, req);
		if (ret) {
			/* it was accepted by submit, so it must complete: with the error */
			q->inflight++;
			if (blk_op_orders(req->op))
				q->writes_inflight++;
			blk_queue_complete(q, req, ret, true);
		}
	}
}

int blk_queue_submit(struct blk_queue *q, struct blk_req *req)
{
	int ret = blk_req_check(q, req);

	if (ret)
		return ret;
	req->result = 0;
	req->next = NULL;
	req->priv = NULL;
	if (q->held_head || (req->op == BLK_OP_FLUSH && q->writes_inflight)) {
		if (q->held_tail)
			q->held_tail->next = req;
		else
			q->held_head = req;
		q->held_tail = req;
		return 0;
	}
	return blk_dispatch(q, req);
}

void blk_queue_plug(struct blk_queue *q)
{
	if (q->engine->plug)
		q->engine->plug(q->engine_priv, true);
}

void blk_queue_unplug(struct blk_queue *q)
{
	if (q->engine->plug)
		q->engine->plug(q->engine_priv, false);
}

unsigned int blk_queue_reap(struct blk_queue *q, struct blk_req **done, unsigned int max)
{
	struct blk_req *req;
	unsigned int n = 0;
	bool more;
	uint64_t v;

	/* clear first: a completion after this point makes it readable again */
	if (read(q->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("blk: reading the completion eventfd: %s", strerror(errno));
	if (q->engine->poll)
		q->engine->poll(q->engine_priv);
	pthread_mutex_lock(&q->lock);
	while (n < max && (req = q->done_head)) {
		q->done_head = req->next;
		if (!q->done_head)
			q->done_tail = NULL;
		req->next = NULL;
		done[n++] = req;
	}
	more = q->done_head != NULL;
	pthread_mutex_unlock(&q->lock);
	for (unsigned int i = 0; i < n; i++) {
		q->inflight--;
		if (blk_op_orders(done[i]->op))
			q->writes_inflight--;
	}
	if (q->held_head)
		blk_dispatch_held(q);
	if (more)
		eventfd_kick(q->efd);	/* the caller took fewer than were ready */
	return n;
}

int blk_queue_eventfd(const struct blk_queue *q)
{
	return q->efd;
}

const char *blk_queue_engine_name(const struct blk_queue *q)
{
	return q->engine->name;
}

static int blk_queue_start_engine(struct blk_queue *q, enum blk_engine_kind kind,
				  unsigned int depth)
{
	int ret;

	if (kind == BLK_ENGINE_AUTO || kind == BLK_ENGINE_IO_URING) {
		ret = blk_engine_uring.init(q, q->img, depth, &q->engine_priv);
		if (!ret) {
			q->engine = &blk_engine_uring;
			return 0;
		}
		if (kind == BLK_ENGINE_IO_URING) {
			log_err("disk %s: engine=io_uring asked for, but io_uring does not work "
				"here: %s (use engine=threads or auto)", q->img->path,
				strerror(-ret));
			return ret;
		}
		log_info("disk %s: io_uring unavailable (%s); using the thread pool",
			 q->img->path, strerror(-ret));
	} else if (kind != BLK_ENGINE_THREADS) {
		log_err("disk %s: unknown engine %d", q->img->path, (int)kind);
		return -EINVAL;
	}
	ret = blk_engine_threads.init(q, q->img, depth, &q->engine_priv);
	if (ret) {
		log_err("disk %s: cannot start the I/O thread pool: %s", q->img->path,
			strerror(-ret));
		return ret;
	}
	q->engine = &blk_engine_threads;
	return 0;
}

int blk_queue_create(struct blk_image *img, enum blk_engine_kind engine,
		     unsigned int depth, struct blk_queue **out)
{
	struct blk_queue *q;
	int ret;

	if (!depth)
		depth = BLK_DEFAULT_DEPTH;
	if (depth > BLK_MAX_DEPTH)
		depth = BLK_MAX_DEPTH;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->img = img;
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0) {
		ret = -errno;
		goto err_free;
	}
	ret = pthread_mutex_init(&q->lock, NULL);
	if (ret) {
		ret = -ret;
		goto err_efd;
	}
	ret = blk_queue_start_engine(q, engine, depth);
	if (ret)
		goto err_mutex;
	log_info("disk %s: %s engine, queue depth %u", img->path, q->engine->name, depth);
	*out = q;
	return 0;
err_mutex:
	pthread_mutex_destroy(&q->lock);
err_efd:
	close(q->efd);
err_free:
	free(q);
	return ret;
}

void blk_queue_destroy(struct blk_queue *q)
{
	struct blk_req *done[64];
	struct pollfd pfd;

	if (!q)
		return;
	/* finish everything in flight or held; the caller loses the completions */
	while (q->inflight || q->held_head) {
		pfd.fd = q->efd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (poll(&pfd, 1, 1000) == 0)
			log_debug("disk %s: waiting for %u requests to finish", q->img->path,
				  q->inflight);
		blk_queue_reap(q, done, 64);
	}
	q->engine->fini(q->engine_priv);
	pthread_mutex_destroy(&q->lock);
	close(q->efd);
	free(q);
}
