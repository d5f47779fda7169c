// SPDX-License-Identifier: MIT
/*
 * The thread-pool engine: N workers take requests from a FIFO and run them
 * through the image ops (preadv, pwritev, flush, ...).  It works wherever
 * threads do, for every format; the io_uring engine also uses a small pool
 * for the requests the kernel cannot do directly.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

#include "block/engine.h"
#include "log.h"
#include "sandbox/sandbox.h"

#define BLK_POOL_THREADS	4

struct blk_pool {
	struct blk_queue *q;
	struct blk_image *img;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct blk_req *head, *tail;	/* waiting for a worker */
	bool stop;
	unsigned int nthreads;
	pthread_t threads[];
};

int blk_req_run(struct blk_image *img, struct blk_req *req)
{
	switch (req->op) {
	case BLK_OP_READ:
		return img->ops->preadv(img, req->iov, (int)req->iovcnt, req->offset);
	case BLK_OP_WRITE:
		return img->ops->pwritev(img, req->iov, (int)req->iovcnt, req->offset);
	case BLK_OP_FLUSH:
		return img->ops->flush ? img->ops->flush(img) : 0;
	case BLK_OP_DISCARD:
		return img->ops->discard ? img->ops->discard(img, req->offset, req->len) : 0;
	case BLK_OP_WRITE_ZEROES:
		return img->ops->write_zeroes ?
		       img->ops->write_zeroes(img, req->offset, req->len) : -EOPNOTSUPP;
	}
	return -EINVAL;
}

static void *blk_pool_worker(void *arg)
{
	struct blk_pool *pool = arg;
	struct blk_req *req;

	/* named from inside: naming another thread opens /proc, which the
	 * creator's seccomp filter forbids */
	pthread_setname_np(pthread_self(), "vmm-blk");
	/* on failure (logged) it still runs under its creator's filter */
	sandbox_apply(SANDBOX_BLOCK_IO);
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		while (!pool->head && !pool->stop)
			pthread_cond_wait(&pool->cond, &pool->lock);
		req = pool->head;
		if (!req)
			break;	/* stopping, nothing left */
		pool->head = req->next;
		if (!pool->head)
			pool->tail = NULL;
		pthread_mutex_unlock(&pool->lock);
		blk_queue_complete(pool->q, req, blk_req_run(pool->img, req), true);
		pthread_mutex_lock(&pool->lock);
	}
	pthread_mutex_unlock(&pool->lock);
	return NULL;
}

void blk_pool_submit(struct blk_pool *pool, struct blk_req *req)
{
	req->next = NULL;
	pthread_mutex_lock(&pool->lock);
	if (pool->tail)
		pool->tail->next = req;
	else
		pool->head = req;
	pool->tail = req;
	pthread_cond_signal(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
}

static void blk_pool_stop(struct blk_pool *pool, unsigned int started)
{
	unsigned int i;

	pthread_mutex_lock(&pool->lock);
	pool->stop = true;
	pthread_cond_broadcast(&pool->cond);
	pthread_mutex_unlock(&pool->lock);
	for (i = 0; i < started; i++)
		pthread_join(pool->threads[i], NULL);
}

int blk_pool_create(struct blk_queue *q, struct blk_image *img, unsigned int nthreads,
		    struct blk_pool **out)
{
	sigset_t all, old;
	struct blk_pool *pool;
	unsigned int i;
	int ret;

	pool = calloc(1, sizeof(*pool) + nthreads * sizeof(pool->threads[0]));
	if (!pool)
		return -ENOMEM;
	pool->q = q;
	pool->img = img;
	pool->nthreads = nthreads;
	ret = -pthread_mutex_init(&pool->lock, NULL);
	if (ret)
		goto err_free;
	ret = -pthread_cond_init(&pool->cond, NULL);
	if (ret)
		goto err_mutex;
	/* workers take no signals: those are for the vCPU and main threads */
	sigfillset(&all);
	/* a blocked SIGSYS makes the kernel kill us silently on a seccomp trap */
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < nthreads; i++) {
		ret = -pthread_create(&pool->threads[i], NULL, blk_pool_worker, pool);
		if (ret)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (ret)
		goto err_threads;
	*out = pool;
	return 0;
err_threads:
	blk_pool_stop(pool, i);
	pthread_cond_destroy(&pool->cond);
err_mutex:
	pthread_mutex_destroy(&pool->lock);
err_free:
	free(pool);
	return ret;
}

void blk_pool_destroy(struct blk_pool *pool)
{
	if (!pool)
		return;
	blk_pool_stop(pool, pool->nthreads);
	pthread_cond_destroy(&pool->cond);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

/* ---- the engine ---- */

static int threads_init(struct blk_queue *q, struct blk_image *img, unsigned int depth,
			void **priv)
{
	unsigned int n = depth < BLK_POOL_THREADS ? depth : BLK_POOL_THREADS;

	return blk_pool_create(q, img, n ? n : 1, (struct blk_pool **)priv);
}

static void threads_fini(void *priv)
{
	blk_pool_destroy(priv);
}

static int threads_submit(void *priv, struct blk_req *req)
{
	blk_pool_submit(priv, req);
	return 0;
}

const struct blk_engine_ops blk_engine_threads = {
	.name = "threads",
	.init = threads_init,
	.fini = threads_fini,
	.submit = threads_submit,
	.poll = NULL,
};
