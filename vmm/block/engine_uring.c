// SPDX-License-Identifier: MIT
/*
 * The io_uring engine.  A READ or WRITE whose range the format can map() to
 * one host file goes to the kernel as IORING_OP_READV/WRITEV; its completion
 * lands in the CQ ring, whose registered eventfd is the queue's, and the I/O
 * thread harvests it in poll().  A short completion is resubmitted for the
 * rest.  Everything else (reads/writes the format must do itself, FLUSH,
 * DISCARD, WRITE_ZEROES) runs the image ops on a small thread pool, so FLUSH
 * always includes the format's metadata.
 *
 * With cache=none (O_DIRECT), a request whose guest buffers are not aligned
 * to img->align is copied through one aligned bounce buffer.
 */
#include <errno.h>
#include <liburing.h>
#include <stdlib.h>
#include <string.h>

#include "block/engine.h"
#include "log.h"

#define URING_POOL_THREADS	2

struct uring_slot {
	struct blk_req *req;
	int fd;
	bool write;
	uint64_t host_off;
	uint64_t len;			/* bytes in the request */
	uint64_t done;			/* bytes completed so far */
	const struct iovec *iov;	/* the request's buffers, or &one */
	unsigned int iovcnt;
	struct iovec one;		/* the bounce buffer */
	void *bounce;
	struct iovec *rest;		/* the remainder after a short completion */
	int next_free;
};

struct uring {
	struct io_uring ring;
	struct blk_queue *q;
	struct blk_image *img;
	struct blk_pool *pool;
	struct uring_slot *slots;
	int free_head;			/* -1: all slots busy */
	bool plugged;			/* SQEs wait for uring_plug(false) */
};

static unsigned int pow2_at_least(unsigned int n)
{
	unsigned int p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static int uring_init(struct blk_queue *q, struct blk_image *img, unsigned int depth,
		      void **priv)
{
	struct io_uring_probe *probe;
	struct uring *u;
	unsigned int i;
	int ret;

	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->q = q;
	u->img = img;
	u->slots = calloc(depth, sizeof(*u->slots));
	if (!u->slots) {
		ret = -ENOMEM;
		goto err_free;
	}
	for (i = 0; i < depth; i++)
		u->slots[i].next_free = i + 1 < depth ? (int)i + 1 : -1;
	u->free_head = 0;
	ret = io_uring_queue_init(pow2_at_least(depth), &u->ring, 0);
	if (ret)
		goto err_slots;
	probe = io_uring_get_probe_ring(&u->ring);
	if (probe) {
		if (!io_uring_opcode_supported(probe, IORING_OP_READV) ||
		    !io_uring_opcode_supported(probe, IORING_OP_WRITEV))
			ret = -EOPNOTSUPP;
		io_uring_free_probe(probe);
		if (ret)
			goto err_ring;
	}
	ret = io_uring_register_eventfd(&u->ring, blk_queue_eventfd(q));
	if (ret)
		goto err_ring;
	ret = blk_pool_create(q, img, URING_POOL_THREADS, &u->pool);
	if (ret)
		goto err_ring;
	*priv = u;
	return 0;
err_ring:
	io_uring_queue_exit(&u->ring);
err_slots:
	free(u->slots);
err_free:
	free(u);
	return ret;
}

static void uring_fini(void *priv)
{
	struct uring *u = priv;

	blk_pool_destroy(u->pool);
	io_uring_queue_exit(&u->ring);
	free(u->slots);
	free(u);
}

static int uring_slot_index(const struct uring *u, const struct uring_slot *s)
{
	return (int)(s - u->slots);
}

static void uring_slot_free(struct uring *u, struct uring_slot *s)
{
	/* every slot holds a mapping: the format may reuse that host range now */
	if (u->img->ops->unmap)
		u->img->ops->unmap(u->img, s->host_off, s->len);
	free(s->bounce);
	free(s->rest);
	s->bounce = NULL;
	s->rest = NULL;
	s->req = NULL;
	s->next_free = u->free_head;
	u->free_head = uring_slot_index(u, s);
}

/* Queues the part of the slot's request not yet done. */
static int uring_queue_rest(struct uring *u, struct uring_slot *s)
{
	const struct iovec *iov = s->iov;
	unsigned int cnt = s->iovcnt;
	struct io_uring_sqe *sqe;
	int ret;

	if (s->done) {
		if (!s->rest) {
			s->rest = malloc(s->iovcnt * sizeof(*s->rest));
			if (!s->rest)
				return -ENOMEM;
		}
		cnt = blk_iov_skip(s->iov, s->iovcnt, s->done, s->rest);
		iov = s->rest;
	}
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {
		io_uring_submit(&u->ring);
		sqe = io_uring_get_sqe(&u->ring);
		if (!sqe)
			return -EBUSY;
	}
	if (s->write)
		io_uring_prep_writev(sqe, s->fd, iov, cnt, s->host_off + s->done);
	else
		io_uring_prep_readv(sqe, s->fd, iov, cnt, s->host_off + s->done);
	io_uring_sqe_set_data(sqe, s);
	if (u->plugged)
		return 0;	/* uring_plug(false) submits the batch */
	do {
		ret = io_uring_submit(&u->ring);
	} while (ret == -EINTR);
	/* -EAGAIN/-EBUSY: the SQE stays in the ring; poll() submits it again */
	if (ret < 0 && ret != -EAGAIN && ret != -EBUSY)
		log_warn("disk %s: io_uring_submit: %s", u->img->path, strerror(-ret));
	return 0;
}

static void uring_finish(struct uring *u, struct uring_slot *s, int result)
{
	struct blk_req *req = s->req;

	if (!result && s->bounce && !s->write)
		blk_buf_to_iov(s->bounce, s->len, req->iov, req->iovcnt);
	uring_slot_free(u, s);
	blk_queue_complete(u->q, req, result, false);
}

static int uring_submit(void *priv, struct blk_req *req)
{
	struct uring *u = priv;
	struct blk_image *img = u->img;
	bool write = req->op == BLK_OP_WRITE;
	struct uring_slot *s;
	uint64_t len, host_off;
	int fd, ret;

	if ((req->op != BLK_OP_READ && !write) || u->free_head < 0 ||
	    blk_iov_len(req->iov, req->iovcnt, &len) || !len ||
	    !img->ops->map || img->ops->map(img, req->offset, len, write, &fd, &host_off))
		goto slow;
	if (img->align > 1 && (host_off % img->align || len % img->align)) {
		if (img->ops->unmap)
			img->ops->unmap(img, host_off, len);
		goto slow;
	}
	s = &u->slots[u->free_head];
	u->free_head = s->next_free;
	s->req = req;
	s->fd = fd;
	s->write = write;
	s->host_off = host_off;
	s->len = len;
	s->done = 0;
	s->iov = req->iov;
	s->iovcnt = req->iovcnt;
	if (img->align > 1 && !blk_iov_aligned(req->iov, req->iovcnt, img->align)) {
		s->bounce = blk_bounce_alloc(len, img->align);
		if (!s->bounce) {
			uring_slot_free(u, s);
			return -ENOMEM;
		}
		if (write)
			blk_iov_to_buf(req->iov, req->iovcnt, s->bounce, len);
		s->one.iov_base = s->bounce;
		s->one.iov_len = len;
		s->iov = &s->one;
		s->iovcnt = 1;
	}
	ret = uring_queue_rest(u, s);
	if (ret)
		uring_slot_free(u, s);
	return ret;
slow:
	blk_pool_submit(u->pool, req);
	return 0;
}

static void uring_cqe(struct uring *u, struct uring_slot *s, int res)
{
	int ret;

	if (res == -EAGAIN || res == -EINTR) {
		ret = uring_queue_rest(u, s);
		if (ret)
			uring_finish(u, s, ret);
		return;
	}
	if (res < 0) {
		uring_finish(u, s, res);
		return;
	}
	if (res == 0) {
		uring_finish(u, s, -EIO);	/* the size is fixed: no EOF inside it */
		return;
	}
	s->done += (uint64_t)res;
	if (s->done >= s->len) {
		uring_finish(u, s, 0);
		return;
	}
	ret = uring_queue_rest(u, s);	/* short: go on from where it stopped */
	if (ret)
		uring_finish(u, s, ret);
}

static void uring_plug(void *priv, bool on)
{
	struct uring *u = priv;
	int ret;

	u->plugged = on;
	if (on || !io_uring_sq_ready(&u->ring))
		return;
	do {
		ret = io_uring_submit(&u->ring);
	} while (ret == -EINTR);
	/* -EAGAIN/-EBUSY: the SQEs stay in the ring; poll() submits them again */
	if (ret < 0 && ret != -EAGAIN && ret != -EBUSY)
		log_warn("disk %s: io_uring_submit: %s", u->img->path, strerror(-ret));
}

static void uring_poll(void *priv)
{
	struct uring *u = priv;
	struct io_uring_cqe *cqe;

	if (io_uring_sq_ready(&u->ring))
		io_uring_submit(&u->ring);
	while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		struct uring_slot *s = io_uring_cqe_get_data(cqe);
		int res = cqe->res;

		io_uring_cqe_seen(&u->ring, cqe);
		uring_cqe(u, s, res);
	}
}

const struct blk_engine_ops blk_engine_uring = {
	.name = "io_uring",
	.init = uring_init,
	.fini = uring_fini,
	.submit = uring_submit,
	.poll = uring_poll,
	.plug = uring_plug,
};
