// SPDX-License-Identifier: MIT
/*
 * The user-mode backend: libslirp on its own thread.
 *
 * The device sees a backend like a tap: one fd carrying a 12-byte
 * virtio_net_hdr_v1 and a frame per message (one end of a SOCK_SEQPACKET
 * socketpair).  The slirp thread owns the other end: frames from the guest
 * go to slirp_input(), frames from slirp (send_packet) are written back
 * with a zero header.  No offloads are offered, so the guest checksums
 * everything itself and sends no GSO frames.  The thread runs slirp's own
 * poll loop (its sockets, its timers, our socket and a stop eventfd); slirp
 * is touched by no other thread.  It runs under its own seccomp list
 * (SANDBOX_NET_USER: Internet sockets, no files but read-only opens for
 * /etc/resolv.conf), applied before it handles the first frame.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <slirp/libslirp.h>

#include "log.h"
#include "net/net.h"
#include "sandbox/sandbox.h"

#define SLIRP_MAX_TIMERS	16
#define SLIRP_MAX_POLL		256
#define SLIRP_FRAME_MAX		(NET_HDR_LEN + 65536)

struct slirp_timer {
	bool used, armed;
	int64_t expire_ms;
	SlirpTimerCb cb;
	void *cb_opaque;
};

struct slirp_be {
	struct net_backend be;		/* first: be.priv points back to us */
	Slirp *slirp;
	int sock;			/* our end of the socketpair */
	int stop_fd;
	int ready_fd;			/* the thread says: 1 filtered and running, 2 failed */
	pthread_t thread;
	bool running;
	struct slirp_timer timers[SLIRP_MAX_TIMERS];
	struct pollfd pfd[SLIRP_MAX_POLL];
	unsigned int npfd;
	uint8_t buf[SLIRP_FRAME_MAX];
	uint64_t drops;
};

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static ssize_t cb_send(const void *buf, size_t len, void *opaque)
{
	struct slirp_be *s = opaque;
	static const uint8_t hdr[NET_HDR_LEN];
	struct iovec iov[2] = {
		{ .iov_base = (void *)hdr, .iov_len = NET_HDR_LEN },
		{ .iov_base = (void *)buf, .iov_len = len },
	};

	/* the device reads at its pace; a full socket drops, as a wire would */
	if (writev(s->sock, iov, 2) < 0)
		s->drops++;
	return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
	log_debug("slirp: guest error: %s", msg);
}

static int64_t cb_clock(void *opaque)
{
	return now_ns();
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
	struct slirp_be *s = opaque;
	unsigned int i;

	for (i = 0; i < SLIRP_MAX_TIMERS; i++) {
		if (!s->timers[i].used) {
			s->timers[i] = (struct slirp_timer){ .used = true, .cb = cb,
							     .cb_opaque = cb_opaque };
			return &s->timers[i];
		}
	}
	log_err("slirp: out of timers");
	return NULL;
}

static void cb_timer_free(void *timer, void *opaque)
{
	if (timer)
		((struct slirp_timer *)timer)->used = false;
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	struct slirp_timer *t = timer;

	if (!t)
		return;
	t->expire_ms = expire_ms;
	t->armed = true;
}

static void cb_poll_fd(int fd, void *opaque)
{
}

static void cb_notify(void *opaque)
{
}

static const SlirpCb slirp_cbs = {
	.send_packet = cb_send,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock,
	.timer_new = cb_timer_new,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_poll_fd,
	.unregister_poll_fd = cb_poll_fd,
	.notify = cb_notify,
};

static int add_poll(int fd, int events, void *opaque)
{
	struct slirp_be *s = opaque;
	struct pollfd *p;

	if (s->npfd == SLIRP_MAX_POLL)
		return -1;
	p = &s->pfd[s->npfd];
	p->fd = fd;
	p->events = (short)(((events & SLIRP_POLL_IN) ? POLLIN : 0) |
			    ((events & SLIRP_POLL_OUT) ? POLLOUT : 0) |
			    ((events & SLIRP_POLL_PRI) ? POLLPRI : 0));
	p->revents = 0;
	return (int)s->npfd++;
}

static int get_revents(int idx, void *opaque)
{
	struct slirp_be *s = opaque;
	short r;

	if (idx < 0 || (unsigned int)idx >= s->npfd)
		return 0;
	r = s->pfd[idx].revents;
	return ((r & POLLIN) ? SLIRP_POLL_IN : 0) | ((r & POLLOUT) ? SLIRP_POLL_OUT : 0) |
	       ((r & POLLPRI) ? SLIRP_POLL_PRI : 0) | ((r & POLLERR) ? SLIRP_POLL_ERR : 0) |
	       ((r & POLLHUP) ? SLIRP_POLL_HUP : 0);
}

/* Runs due timers; returns ms until the next one (or max). */
static uint32_t run_timers(struct slirp_be *s, uint32_t max)
{
	int64_t now = now_ns() / 1000000;
	uint32_t next = max;
	unsigned int i;

	for (i = 0; i < SLIRP_MAX_TIMERS; i++) {
		struct slirp_timer *t = &s->timers[i];

		if (!t->used || !t->armed)
			continue;
		if (t->expire_ms <= now) {
			t->armed = false;
			t->cb(t->cb_opaque);
		} else if (t->expire_ms - now < next) {
			next = (uint32_t)(t->expire_ms - now);
		}
	}
	return next;
}

static void from_guest(struct slirp_be *s)
{
	ssize_t n;
	int k;

	for (k = 0; k < 256; k++) {
		n = read(s->sock, s->buf, sizeof(s->buf));
		if (n < 0)
			return;
		if (n > NET_HDR_LEN)
			slirp_input(s->slirp, s->buf + NET_HDR_LEN, (int)(n - NET_HDR_LEN));
	}
}

static void *slirp_thread(void *arg)
{
	struct slirp_be *s = arg;
	uint64_t ready = 1;
	uint32_t timeout;
	int n;

	/*
	 * The guest drives what slirp does with host sockets: this thread
	 * gets its own narrow list (docs/sandbox.md), before the first frame.
	 */
	if (sandbox_apply(SANDBOX_NET_USER))
		ready = 2;
	if (write(s->ready_fd, &ready, sizeof(ready)) != sizeof(ready) || ready != 1)
		return NULL;
	for (;;) {
		timeout = 1000;
		s->npfd = 0;
		add_poll(s->stop_fd, SLIRP_POLL_IN, s);
		add_poll(s->sock, SLIRP_POLL_IN, s);
		slirp_pollfds_fill(s->slirp, &timeout, add_poll, s);
		timeout = run_timers(s, timeout);
		n = poll(s->pfd, s->npfd, (int)timeout);
		if (n < 0 && errno != EINTR) {
			log_err("slirp: poll: %s", strerror(errno));
			break;
		}
		if (n > 0 && (s->pfd[0].revents & POLLIN))
			break;
		if (n > 0 && (s->pfd[1].revents & POLLIN))
			from_guest(s);
		slirp_pollfds_poll(s->slirp, n < 0, get_revents, s);
		run_timers(s, 0);
	}
	return NULL;
}

static unsigned int slirp_offloads(struct net_backend *be)
{
	return 0;
}

static void slirp_close(struct net_backend *be)
{
	struct slirp_be *s = be->priv;
	uint64_t one = 1;

	if (s->running) {
		if (write(s->stop_fd, &one, sizeof(one)) != sizeof(one))
			log_err("slirp: cannot stop its thread");
		pthread_join(s->thread, NULL);
	}
	if (s->slirp)
		slirp_cleanup(s->slirp);
	if (s->sock >= 0)
		close(s->sock);
	if (s->stop_fd >= 0)
		close(s->stop_fd);
	if (s->ready_fd >= 0)
		close(s->ready_fd);
	if (be->fd[0] >= 0)
		close(be->fd[0]);
	be->fd[0] = -1;
}

static const struct net_backend_ops slirp_ops = {
	.name = "user",
	.offloads = slirp_offloads,
	.close = slirp_close,
};

int slirp_backend_open(const struct net_opts *o, struct net_backend **out, char *err,
		       size_t errlen)
{
	SlirpConfig cfg = { .version = 1 };
	struct slirp_be *s;
	struct in_addr guest = { 0 };
	uint64_t ready = 0;
	int sv[2], ret, sz = 1 << 20;
	unsigned int i;

	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "--net user: out of memory");
		return -ENOMEM;
	}
	s->be.ops = &slirp_ops;
	s->be.priv = s;
	s->be.nr_queues = 1;
	s->sock = s->stop_fd = s->ready_fd = -1;
	for (i = 0; i < NET_MAX_QUEUES; i++)
		s->be.fd[i] = -1;
	snprintf(s->be.ifname, sizeof(s->be.ifname), "user");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv)) {
		ret = -errno;
		snprintf(err, errlen, "--net user: socketpair: %s", strerror(-ret));
		goto err;
	}
	s->be.fd[0] = sv[0];
	s->sock = sv[1];
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	s->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	s->ready_fd = eventfd(0, EFD_CLOEXEC);
	if (s->stop_fd < 0 || s->ready_fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "--net user: eventfd: %s", strerror(-ret));
		goto err;
	}
	/* QEMU's defaults: 10.0.2.0/24, host 10.0.2.2, DNS 10.0.2.3, DHCP from .15 */
	cfg.restricted = o->restrict_net;
	cfg.in_enabled = true;
	inet_pton(AF_INET, "10.0.2.0", &cfg.vnetwork);
	inet_pton(AF_INET, "255.255.255.0", &cfg.vnetmask);
	inet_pton(AF_INET, "10.0.2.2", &cfg.vhost);
	inet_pton(AF_INET, "10.0.2.15", &cfg.vdhcp_start);
	inet_pton(AF_INET, "10.0.2.3", &cfg.vnameserver);
	cfg.vhostname = "vmm";
	cfg.if_mtu = 1500;
	cfg.if_mru = 1500;
	s->slirp = slirp_new(&cfg, &slirp_cbs, s);
	if (!s->slirp) {
		snprintf(err, errlen, "--net user: libslirp refused its configuration");
		ret = -EINVAL;
		goto err;
	}
	for (i = 0; i < o->nr_fwd; i++) {
		const struct net_hostfwd *f = &o->fwd[i];
		struct in_addr host = { .s_addr = f->host_addr };
		char a[INET_ADDRSTRLEN];

		if (slirp_add_hostfwd(s->slirp, f->udp, host, f->host_port, guest,
				      f->guest_port)) {
			inet_ntop(AF_INET, &host, a, sizeof(a));
			snprintf(err, errlen, "--net user: hostfwd %s:%s:%u: cannot listen there "
				 "(port in use or not allowed)", f->udp ? "udp" : "tcp", a,
				 f->host_port);
			ret = -EADDRINUSE;
			goto err;
		}
	}
	ret = -pthread_create(&s->thread, NULL, slirp_thread, s);
	if (ret) {
		snprintf(err, errlen, "--net user: cannot start its thread: %s", strerror(-ret));
		goto err;
	}
	s->running = true;
	if (read(s->ready_fd, &ready, sizeof(ready)) != sizeof(ready) || ready != 1) {
		/* sandbox_apply() logged why; the thread has ended */
		snprintf(err, errlen, "--net user: cannot apply the seccomp filter of the slirp "
			 "thread (run with --seccomp off on a kernel without seccomp)");
		ret = -EPERM;
		goto err;
	}
	*out = &s->be;
	return 0;
err:
	slirp_close(&s->be);
	free(s);
	return ret;
}
