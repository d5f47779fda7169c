// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "event_loop.h"

struct counter {
	struct ev_loop *el;
	int fd;
	int calls;
	bool delete_other;
	int other_fd;
};

static void on_ready(void *opaque, int fd, uint32_t events)
{
	struct counter *c = opaque;
	uint64_t v;

	cr_assert(events & EPOLLIN);
	cr_assert_eq(fd, c->fd);
	cr_assert_eq(read(fd, &v, sizeof(v)), (ssize_t)sizeof(v));
	c->calls++;
	if (c->delete_other)
		cr_assert_eq(ev_del(c->el, c->other_fd), 0);
}

static void kick(int fd)
{
	uint64_t one = 1;

	cr_assert_eq(write(fd, &one, sizeof(one)), (ssize_t)sizeof(one));
}

Test(event_loop, dispatches_registered_fds)
{
	struct ev_loop el;
	struct counter a = { .el = &el }, b = { .el = &el };

	cr_assert_eq(ev_loop_init(&el), 0);
	a.fd = eventfd(0, EFD_NONBLOCK);
	b.fd = eventfd(0, EFD_NONBLOCK);
	cr_assert_eq(ev_add(&el, a.fd, EPOLLIN, on_ready, &a), 0);
	cr_assert_eq(ev_add(&el, a.fd, EPOLLIN, on_ready, &a), -EEXIST);
	cr_assert_eq(ev_add(&el, b.fd, EPOLLIN, on_ready, &b), 0);
	cr_assert_eq(ev_loop_once(&el, 0), 0);
	kick(a.fd);
	cr_assert_eq(ev_loop_once(&el, 1000), 1);
	cr_assert_eq(a.calls, 1);
	cr_assert_eq(b.calls, 0);
	/* mod to no events: stays registered, not called */
	kick(b.fd);
	cr_assert_eq(ev_mod(&el, b.fd, 0), 0);
	cr_assert_eq(ev_loop_once(&el, 0), 0);
	cr_assert_eq(ev_mod(&el, b.fd, EPOLLIN), 0);
	cr_assert_eq(ev_loop_once(&el, 1000), 1);
	cr_assert_eq(b.calls, 1);
	cr_assert_eq(ev_del(&el, a.fd), 0);
	cr_assert_eq(ev_del(&el, a.fd), -ENOENT);
	cr_assert_eq(ev_mod(&el, a.fd, EPOLLIN), -ENOENT);
	kick(a.fd);
	cr_assert_eq(ev_loop_once(&el, 0), 0);
	ev_loop_fini(&el);
	close(a.fd);
	close(b.fd);
}

Test(event_loop, deleted_in_same_batch_is_not_called)
{
	struct ev_loop el;
	struct counter a = { .el = &el }, b = { .el = &el };

	cr_assert_eq(ev_loop_init(&el), 0);
	a.fd = eventfd(0, EFD_NONBLOCK);
	b.fd = eventfd(0, EFD_NONBLOCK);
	a.delete_other = true, a.other_fd = b.fd;
	b.delete_other = true, b.other_fd = a.fd;
	cr_assert_eq(ev_add(&el, a.fd, EPOLLIN, on_ready, &a), 0);
	cr_assert_eq(ev_add(&el, b.fd, EPOLLIN, on_ready, &b), 0);
	kick(a.fd);
	kick(b.fd);
	/* whichever runs first deletes the other: exactly one call */
	cr_assert_eq(ev_loop_once(&el, 1000), 1);
	cr_assert_eq(a.calls + b.calls, 1);
	ev_loop_fini(&el);
	close(a.fd);
	close(b.fd);
}

static void bump(void *arg)
{
	(*(int *)arg)++;
}

struct caller {
	struct ev_loop *el;
	int value;
	int ret;
};

static void *call_from_thread(void *p)
{
	struct caller *c = p;

	c->ret = ev_call(c->el, bump, &c->value);
	return NULL;
}

Test(event_loop, post_and_call_run_on_the_loop)
{
	struct ev_loop el;
	struct caller c = { .el = &el };
	pthread_t t;
	int posted = 0, i;

	cr_assert_eq(ev_loop_init(&el), 0);
	cr_assert_eq(ev_post(&el, bump, &posted), 0);
	cr_assert_eq(ev_post(&el, bump, &posted), 0);
	cr_assert_eq(ev_loop_once(&el, 1000), 2);
	cr_assert_eq(posted, 2);
	/* on the loop thread, ev_call runs at once */
	cr_assert_eq(ev_call(&el, bump, &posted), 0);
	cr_assert_eq(posted, 3);
	pthread_create(&t, NULL, call_from_thread, &c);
	for (i = 0; i < 100 && !__atomic_load_n(&c.value, __ATOMIC_ACQUIRE); i++)
		ev_loop_once(&el, 50);
	pthread_join(t, NULL);
	cr_assert_eq(c.value, 1);
	cr_assert_eq(c.ret, 0);
	ev_loop_fini(&el);
}

Test(event_loop, call_cancelled_by_teardown)
{
	struct ev_loop el;
	struct caller c = { .el = &el };
	pthread_t t;

	cr_assert_eq(ev_loop_init(&el), 0);
	ev_loop_once(&el, 0);	/* this thread owns the loop */
	pthread_create(&t, NULL, call_from_thread, &c);
	while (!__atomic_load_n(&el.work_head, __ATOMIC_ACQUIRE))
		usleep(1000);
	ev_loop_fini(&el);
	pthread_join(t, NULL);
	cr_assert_eq(c.ret, -ECANCELED);
	cr_assert_eq(c.value, 0);
}

static void never(void *arg)
{
	*(int *)arg = 1;
}

/* after teardown began, a post is refused: it must not touch the closed eventfd */
Test(event_loop, post_after_teardown_refused)
{
	struct ev_loop el;
	int ran = 0;

	cr_assert_eq(ev_loop_init(&el), 0);
	ev_loop_fini(&el);
	cr_assert_eq(ev_post(&el, never, &ran), -ESHUTDOWN);
	cr_assert_eq(ev_call(&el, never, &ran), -ESHUTDOWN);
	cr_assert_eq(ran, 0);
}
