/* SPDX-License-Identifier: MIT */
/*
 * The event loop: any part of vmm registers an fd with a callback, and
 * any thread can post work to run on the loop's thread (queue + eventfd,
 * shared/STYLE.md pattern 7).  Device state is only ever touched from the
 * loop thread or a vCPU thread; the control socket's thread and I/O
 * threads never call into devices directly, they ev_post()/ev_call().
 *
 * Callbacks run on the loop thread, one at a time.  A callback may add or
 * delete any registration, its own included; a deleted registration is
 * never called again, even later in the same batch.
 */
#ifndef VMM_EVENT_LOOP_H
#define VMM_EVENT_LOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct ev_handler;
struct ev_work;

/* events: EPOLLIN / EPOLLOUT / EPOLLERR / EPOLLHUP bits as epoll reports them */
typedef void (*ev_cb)(void *opaque, int fd, uint32_t events);
typedef void (*ev_work_fn)(void *arg);

struct ev_loop {
	int epfd;
	int post_evt;			/* eventfd: posted work is waiting */
	pthread_t owner;		/* the first thread to run ev_loop_once */
	bool owner_set;
	bool closed;		/* ev_loop_fini() ran: posts are refused (under lock) */
	struct ev_handler *handlers;	/* live registrations */
	struct ev_handler *graveyard;	/* deleted during a batch; freed after it */
	pthread_mutex_t lock;		/* guards the work queue */
	struct ev_work *work_head, *work_tail;
};

int ev_loop_init(struct ev_loop *el);
/* Frees registrations (fds are the owners'); posted work not yet run is
 * dropped, and any ev_call() waiting on it returns -ECANCELED. */
void ev_loop_fini(struct ev_loop *el);

/* Registers fd for events (EPOLLIN etc.).  -EEXIST if fd is registered. */
int ev_add(struct ev_loop *el, int fd, uint32_t events, ev_cb cb, void *opaque);
/* Changes the events a registered fd waits for (0: none, stays registered). */
int ev_mod(struct ev_loop *el, int fd, uint32_t events);
/* Removes fd; -ENOENT if not registered.  Call before closing fd. */
int ev_del(struct ev_loop *el, int fd);

/*
 * Waits up to timeout_ms (-1: forever) and dispatches what is ready and
 * every piece of posted work.  Returns the number of callbacks and works
 * run (0 on timeout or EINTR), or -errno.
 */
int ev_loop_once(struct ev_loop *el, int timeout_ms);

/*
 * Any thread: run fn(arg) on the loop thread soon.  0, -ENOMEM, or
 * -ESHUTDOWN once ev_loop_fini() has begun (then fn never runs).
 */
int ev_post(struct ev_loop *el, ev_work_fn fn, void *arg);
/*
 * Any thread: run fn(arg) on the loop thread and wait until it has run.
 * On the loop thread itself, runs fn at once.  0, -ECANCELED if the
 * loop was torn down while it waited, -ESHUTDOWN if it already was.
 */
int ev_call(struct ev_loop *el, ev_work_fn fn, void *arg);

#endif
