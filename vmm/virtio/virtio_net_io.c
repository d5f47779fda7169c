// SPDX-License-Identifier: MIT
/*
 * virtio-net I/O threads: one per queue pair, each with its own epoll
 * (rx kick, tx kick, the backend fd, a stop eventfd; pair 0 also the
 * control queue).  With vhost-net the kernel moves the frames and the
 * thread only relays vhost's interrupts and serves the control queue.
 * virtio_net_stop()/virtio_net_start() quiesce and resume them.
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "net/vhost.h"
#include "sandbox/sandbox.h"
#include "vm.h"
#include "virtio_net.h"
#include "virtio_pci.h"

enum ev_tag { TAG_STOP, TAG_RX, TAG_TX, TAG_FD, TAG_CTRL, TAG_RX_CALL, TAG_TX_CALL };

/*
 * (Re)registers the backend fd for what the pair waits for.  A pair the
 * driver does not use (index >= curr_pairs) is not polled at all: a
 * detached tap queue reports EPOLLERR whatever the event mask.
 */
static int fd_events(struct vnet_pair *p)
{
	bool attached = p->index < __atomic_load_n(&p->n->curr_pairs, __ATOMIC_RELAXED);
	unsigned int want = (p->rx && !p->rx_waiting ? EPOLLIN : 0) |
			    (p->tx_blocked ? EPOLLOUT : 0);
	struct epoll_event ev = { .events = want, .data.u32 = TAG_FD };

	if (!attached) {
		if (p->fd_registered && epoll_ctl(p->epfd, EPOLL_CTL_DEL, p->fd, NULL))
			return -errno;
		p->fd_registered = false;
		return 0;
	}
	if (!p->fd_registered) {
		if (epoll_ctl(p->epfd, EPOLL_CTL_ADD, p->fd, &ev))
			return -errno;
		p->fd_registered = true;
	} else if (want != p->fd_events) {
		if (epoll_ctl(p->epfd, EPOLL_CTL_MOD, p->fd, &ev))
			return -errno;
	}
	p->fd_events = want;
	return 0;
}

static enum vnet_result run_rx(struct vnet_pair *p)
{
	enum vnet_result r = vnet_rx_process(p);

	if (r == VNET_WAIT) {
		/* no (or too few) buffers: stop reading the backend until the guest kicks */
		if (vnet_rx_arm(p))
			r = VNET_MORE;
		else
			p->rx_waiting = true;
	} else if (r == VNET_IDLE) {
		/* buffers left: the backend's readiness drives us, not kicks */
		virtq_disable_notify(p->rx);
	}
	return r;
}

static enum vnet_result run_tx(struct vnet_pair *p)
{
	enum vnet_result r;

	virtq_disable_notify(p->tx);
	r = vnet_tx_process(p);
	p->tx_blocked = r == VNET_WAIT;
	if (r == VNET_IDLE && virtq_enable_notify(p->tx))
		r = VNET_MORE;
	return r;
}

static enum vnet_result run_ctrl(struct virtio_net *n)
{
	enum vnet_result r;

	virtq_disable_notify(n->ctrl);
	r = vnet_ctrl_process(n);
	/* with EVENT_IDX the driver kicks only past avail_event: move it */
	if (r == VNET_IDLE && virtq_enable_notify(n->ctrl))
		r = VNET_MORE;
	return r;
}

static void drain(int fd)
{
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_debug("virtio-net: eventfd read: %s", strerror(errno));
}

static void *io_thread(void *arg)
{
	struct vnet_pair *p = arg;
	struct virtio_net *n = p->n;
	bool vhost = n->vhost != NULL;
	bool rx_more = p->rx && !vhost, tx_more = p->tx && !vhost, ctrl_more = p->index == 0;
	/* a detached pair's tap queue reads EBADFD: it only runs once attached */
	struct epoll_event ev[8];
	int i, k;

	/* on failure (logged) it runs under its creator's filter */
	sandbox_apply_kvm(SANDBOX_NET_IO, n->vm ? n->vm->vm_fd : -1, -1);
	for (;;) {
		bool more = rx_more || tx_more || ctrl_more;

		k = epoll_wait(p->epfd, ev, 8, more ? 0 : -1);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			log_err("virtio-net %s: pair %u: epoll_wait: %s", n->name, p->index,
				strerror(errno));
			break;
		}
		for (i = 0; i < k; i++) {
			switch (ev[i].data.u32) {
			case TAG_STOP:
				return NULL;
			case TAG_RX:
				drain(virtio_pci_kick_fd(n->t, 2 * p->index));
				p->rx_waiting = false;
				rx_more = true;
				break;
			case TAG_TX:
				drain(virtio_pci_kick_fd(n->t, 2 * p->index + 1));
				tx_more = true;
				break;
			case TAG_CTRL:
				drain(virtio_pci_kick_fd(n->t, 2 * n->nr_pairs));
				ctrl_more = true;
				break;
			case TAG_RX_CALL:	/* vhost wants an interrupt */
				drain(n->vhost->call[p->index][0]);
				virtio_pci_queue_irq(n->t, 2 * p->index);
				break;
			case TAG_TX_CALL:
				drain(n->vhost->call[p->index][1]);
				virtio_pci_queue_irq(n->t, 2 * p->index + 1);
				break;
			case TAG_FD:
				if (ev[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
					rx_more = true;
				if (ev[i].events & EPOLLOUT)
					tx_more = true;
				break;
			}
		}
		if (tx_more && p->tx)
			tx_more = run_tx(p) == VNET_MORE;
		else
			tx_more = false;
		if (rx_more && p->rx && !p->rx_waiting &&
		    p->index < __atomic_load_n(&n->curr_pairs, __ATOMIC_RELAXED))
			rx_more = run_rx(p) == VNET_MORE;
		else
			rx_more = false;
		if (ctrl_more && p->index == 0 && n->ctrl)
			ctrl_more = run_ctrl(n) == VNET_MORE;
		else
			ctrl_more = false;
		if (!vhost && fd_events(p))
			log_err("virtio-net %s: pair %u: cannot poll the backend", n->name,
				p->index);
	}
	return NULL;
}

static int ep_add(int epfd, int fd, unsigned int events, uint32_t tag)
{
	struct epoll_event ev = { .events = events, .data.u32 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void pair_close(struct vnet_pair *p)
{
	if (p->epfd >= 0)
		close(p->epfd);
	if (p->stop_fd >= 0)
		close(p->stop_fd);
	p->epfd = p->stop_fd = -1;
}

static int pair_start(struct vnet_pair *p)
{
	struct virtio_net *n = p->n;
	int ret;

	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	p->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->epfd < 0 || p->stop_fd < 0) {
		ret = -errno;
		goto err;
	}
	p->rx_waiting = false;
	p->fd_events = 0;
	p->fd_registered = false;
	ret = ep_add(p->epfd, p->stop_fd, EPOLLIN, TAG_STOP);
	if (n->vhost) {
		/* the kernel moves the frames; we relay its interrupts */
		if (!ret && p->rx && p->tx) {
			ret = vhost_net_start(n->vhost, p->index, &n->vm->mem, n->acked, p->rx,
					      p->tx, virtio_pci_kick_fd(n->t, 2 * p->index),
					      virtio_pci_kick_fd(n->t, 2 * p->index + 1), p->fd);
			if (!ret)
				ret = ep_add(p->epfd, n->vhost->call[p->index][0], EPOLLIN,
					     TAG_RX_CALL);
			if (!ret)
				ret = ep_add(p->epfd, n->vhost->call[p->index][1], EPOLLIN,
					     TAG_TX_CALL);
		}
	} else {
		if (!ret)
			ret = fd_events(p);
		if (!ret && p->rx)
			ret = ep_add(p->epfd, virtio_pci_kick_fd(n->t, 2 * p->index), EPOLLIN,
				     TAG_RX);
		if (!ret && p->tx)
			ret = ep_add(p->epfd, virtio_pci_kick_fd(n->t, 2 * p->index + 1), EPOLLIN,
				     TAG_TX);
	}
	if (!ret && p->index == 0 && n->ctrl)
		ret = ep_add(p->epfd, virtio_pci_kick_fd(n->t, 2 * n->nr_pairs), EPOLLIN,
			     TAG_CTRL);
	if (ret)
		goto err;
	ret = -pthread_create(&p->thread, NULL, io_thread, p);
	if (ret)
		goto err;
	p->running = true;
	return 0;
err:
	pair_close(p);
	return ret;
}

static void pair_stop(struct vnet_pair *p)
{
	uint64_t one = 1;

	if (p->running) {
		if (write(p->stop_fd, &one, sizeof(one)) != sizeof(one))
			log_err("virtio-net %s: pair %u: cannot stop I/O thread", p->n->name,
				p->index);
		pthread_join(p->thread, NULL);
		p->running = false;
	}
	pair_close(p);
}

void virtio_net_stop(struct virtio_net *n)
{
	unsigned int i;

	for (i = 0; i < n->nr_pairs; i++) {
		pair_stop(&n->pairs[i]);
		if (n->vhost)
			vhost_net_stop(n->vhost, i, n->pairs[i].rx, n->pairs[i].tx);
	}
}

int virtio_net_start(struct virtio_net *n)
{
	unsigned int i;
	int ret;

	if (!n->active || !n->t)
		return 0;
	for (i = 0; i < n->nr_pairs; i++) {
		struct vnet_pair *p = &n->pairs[i];

		if (p->running || (!p->rx && !p->tx && !(i == 0 && n->ctrl)))
			continue;
		ret = pair_start(p);
		if (ret) {
			log_err("virtio-net %s: pair %u: cannot start I/O thread: %s", n->name, i,
				strerror(-ret));
			virtio_net_stop(n);
			return ret;
		}
	}
	return 0;
}

