// SPDX-License-Identifier: MIT
/*
 * Event loop with fd registration and a posted-work queue (event_loop.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "event_loop.h"

struct ev_handler {
	int fd;
	bool dead;
	ev_cb cb;
	void *opaque;
	struct ev_handler *next;
};

struct ev_work {
	ev_work_fn fn;
	void *arg;
	struct ev_work *next;
	/* ev_call: the caller waits on done */
	bool sync;
	bool done;
	bool cancelled;
	pthread_cond_t cond;
};

int ev_loop_init(struct ev_loop *el)
{
	struct epoll_event ev = { .events = EPOLLIN };

	memset(el, 0, sizeof(*el));
	el->post_evt = -1;
	el->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (el->epfd < 0)
		return -errno;
	el->post_evt = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (el->post_evt < 0)
		goto err;
	ev.data.ptr = NULL;	/* NULL marks the post eventfd */
	if (epoll_ctl(el->epfd, EPOLL_CTL_ADD, el->post_evt, &ev))
		goto err;
	pthread_mutex_init(&el->lock, NULL);
	return 0;
err:
	{
		int ret = -errno;

		if (el->post_evt >= 0)
			close(el->post_evt);
		close(el->epfd);
		el->epfd = el->post_evt = -1;
		return ret;
	}
}

static void free_list(struct ev_handler *h)
{
	while (h) {
		struct ev_handler *next = h->next;

		free(h);
		h = next;
	}
}

void ev_loop_fini(struct ev_loop *el)
{
	struct ev_work *w, *next;

	if (el->epfd < 0)
		return;
	pthread_mutex_lock(&el->lock);
	el->closed = true;	/* no enqueue() writes post_evt after this */
	for (w = el->work_head; w; w = next) {
		next = w->next;
		if (w->sync) {
			w->cancelled = true;
			pthread_cond_signal(&w->cond);
		} else {
			free(w);
		}
	}
	el->work_head = el->work_tail = NULL;
	pthread_mutex_unlock(&el->lock);
	free_list(el->handlers);
	free_list(el->graveyard);
	el->handlers = el->graveyard = NULL;
	close(el->post_evt);
	close(el->epfd);
	el->epfd = el->post_evt = -1;
	/* el->lock stays valid: a cancelled ev_call() still takes it */
}

static struct ev_handler *find(struct ev_loop *el, int fd, struct ev_handler ***link)
{
	struct ev_handler **pp;

	for (pp = &el->handlers; *pp; pp = &(*pp)->next) {
		if ((*pp)->fd == fd) {
			if (link)
				*link = pp;
			return *pp;
		}
	}
	return NULL;
}

int ev_add(struct ev_loop *el, int fd, uint32_t events, ev_cb cb, void *opaque)
{
	struct epoll_event ev = { .events = events };
	struct ev_handler *h;

	if (fd < 0 || !cb)
		return -EINVAL;
	if (find(el, fd, NULL))
		return -EEXIST;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fd = fd;
	h->cb = cb;
	h->opaque = opaque;
	ev.data.ptr = h;
	if (epoll_ctl(el->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		int ret = -errno;

		free(h);
		return ret;
	}
	h->next = el->handlers;
	el->handlers = h;
	return 0;
}

int ev_mod(struct ev_loop *el, int fd, uint32_t events)
{
	struct ev_handler *h = find(el, fd, NULL);
	struct epoll_event ev = { .events = events };

	if (!h)
		return -ENOENT;
	ev.data.ptr = h;
	return epoll_ctl(el->epfd, EPOLL_CTL_MOD, fd, &ev) ? -errno : 0;
}

int ev_del(struct ev_loop *el, int fd)
{
	struct ev_handler **link, *h = find(el, fd, &link);

	if (!h)
		return -ENOENT;
	/* the fd may already be closed by a careless owner: that is fine */
	epoll_ctl(el->epfd, EPOLL_CTL_DEL, fd, NULL);
	*link = h->next;
	h->dead = true;
	h->next = el->graveyard;	/* an event for it may sit in this batch */
	el->graveyard = h;
	return 0;
}

static int run_work(struct ev_loop *el)
{
	struct ev_work *list, *w, *next;
	uint64_t v;
	int n = 0;

	if (read(el->post_evt, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	pthread_mutex_lock(&el->lock);
	list = el->work_head;
	el->work_head = el->work_tail = NULL;
	pthread_mutex_unlock(&el->lock);
	for (w = list; w; w = next) {
		next = w->next;
		w->fn(w->arg);
		n++;
		if (w->sync) {
			pthread_mutex_lock(&el->lock);
			w->done = true;
			pthread_cond_signal(&w->cond);
			pthread_mutex_unlock(&el->lock);
		} else {
			free(w);
		}
	}
	return n;
}

int ev_loop_once(struct ev_loop *el, int timeout_ms)
{
	struct epoll_event evs[16];
	int i, n, ran = 0;

	if (!__atomic_load_n(&el->owner_set, __ATOMIC_ACQUIRE)) {
		el->owner = pthread_self();
		__atomic_store_n(&el->owner_set, true, __ATOMIC_RELEASE);
	}
	n = epoll_wait(el->epfd, evs, 16, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		struct ev_handler *h = evs[i].data.ptr;

		if (!h) {
			ran += run_work(el);
			continue;
		}
		if (h->dead)
			continue;
		h->cb(h->opaque, h->fd, evs[i].events);
		ran++;
	}
	free_list(el->graveyard);
	el->graveyard = NULL;
	return ran;
}

static int enqueue(struct ev_loop *el, struct ev_work *w)
{
	uint64_t one = 1;
	ssize_t r;

	pthread_mutex_lock(&el->lock);
	if (el->closed) {
		pthread_mutex_unlock(&el->lock);
		return -ESHUTDOWN;
	}
	if (el->work_tail)
		el->work_tail->next = w;
	else
		el->work_head = w;
	el->work_tail = w;
	/* under the lock: ev_loop_fini() cannot close post_evt in between */
	r = write(el->post_evt, &one, sizeof(one));
	pthread_mutex_unlock(&el->lock);
	(void)r;	/* EAGAIN: the counter is saturated, the loop wakes anyway */
	return 0;
}

int ev_post(struct ev_loop *el, ev_work_fn fn, void *arg)
{
	struct ev_work *w = calloc(1, sizeof(*w));
	int ret;

	if (!w)
		return -ENOMEM;
	w->fn = fn;
	w->arg = arg;
	ret = enqueue(el, w);
	if (ret)
		free(w);
	return ret;
}

int ev_call(struct ev_loop *el, ev_work_fn fn, void *arg)
{
	struct ev_work w = { .fn = fn, .arg = arg, .sync = true };
	int ret = 0;

	if (__atomic_load_n(&el->owner_set, __ATOMIC_ACQUIRE) &&
	    pthread_equal(el->owner, pthread_self())) {
		fn(arg);
		return 0;
	}
	pthread_cond_init(&w.cond, NULL);
	ret = enqueue(el, &w);
	if (ret) {
		pthread_cond_destroy(&w.cond);
		return ret;
	}
	pthread_mutex_lock(&el->lock);
	while (!w.done && !w.cancelled)
		pthread_cond_wait(&w.cond, &el->lock);
	if (w.cancelled)
		ret = -ECANCELED;
	pthread_mutex_unlock(&el->lock);
	pthread_cond_destroy(&w.cond);
	return ret;
}
