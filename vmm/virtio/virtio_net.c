// SPDX-License-Identifier: MIT
/*
 * virtio-net device: features from the backend, config space, the ops
 * table the transport drives, one I/O thread per queue pair.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <linux/if_tun.h>

#include "log.h"
#include "vm.h"
#include "virtio_net.h"
#include "virtio_pci.h"

#define PCI_CLASS_NETWORK_ETHERNET	0x020000

enum ev_tag { TAG_STOP, TAG_RX, TAG_TX, TAG_FD, TAG_CTRL };

/* ---- helpers for the data path ---- */

void vnet_stat_add(struct vnet_stats *s, uint64_t packets, uint64_t bytes, uint64_t drops)
{
	__atomic_add_fetch(&s->packets, packets, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->bytes, bytes, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->drops, drops, __ATOMIC_RELAXED);
}

void vnet_unpop(struct virtq *vq, unsigned int k)
{
	vq->last_avail_idx = (uint16_t)(vq->last_avail_idx - k);
}

void vnet_ring_broken(struct virtio_net *n, struct virtq *vq)
{
	vq->broken = true;
	log_warn("virtio-net %s: the driver broke a virtqueue; device needs a reset", n->name);
	if (n->t)
		virtio_pci_set_needs_reset(n->t);
}

void vnet_notify(struct virtio_net *n, struct virtq *vq, unsigned int qidx)
{
	if (!virtq_need_interrupt(vq))
		return;
	__atomic_add_fetch(&n->irqs, 1, __ATOMIC_RELAXED);
	if (n->t)
		virtio_pci_queue_irq(n->t, qidx);
}

unsigned int vnet_tun_offloads(uint64_t f)
{
	unsigned int t = 0;

	if (!(f & (1ULL << VIRTIO_NET_F_GUEST_CSUM)))
		return 0;	/* every offload needs the checksum one */
	t |= TUN_F_CSUM;
	if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO4))
		t |= TUN_F_TSO4;
	if (f & (1ULL << VIRTIO_NET_F_GUEST_TSO6))
		t |= TUN_F_TSO6;
	if ((f & (1ULL << VIRTIO_NET_F_GUEST_ECN)) && (t & (TUN_F_TSO4 | TUN_F_TSO6)))
		t |= TUN_F_TSO_ECN;
	if (f & (1ULL << VIRTIO_NET_F_GUEST_UFO))
		t |= TUN_F_UFO;
	return t;
}

/* ---- ops ---- */

static unsigned int net_num_queues(void *dev)
{
	return 2 * ((struct virtio_net *)dev)->nr_pairs + 1;
}

static uint64_t net_features(void *dev)
{
	return ((struct virtio_net *)dev)->offered;
}

static unsigned int net_config_size(void *dev)
{
	return VNET_CONFIG_SIZE;
}

static void net_config_read(void *dev, unsigned int off, void *data, unsigned int len)
{
	struct virtio_net *n = dev;

	pthread_mutex_lock(&n->cfg_lock);
	memcpy(data, (const uint8_t *)&n->cfg + off, len);
	pthread_mutex_unlock(&n->cfg_lock);
}

/* The MAC is read-only in virtio 1.x (no CTRL_MAC_ADDR): writes are ignored. */
static void net_config_write(void *dev, unsigned int off, const void *data, unsigned int len)
{
}


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

/*
 * The guest has too few rx buffers: ask for a kick when it adds any beyond
 * those already there.  (virtq_enable_notify() asks for a kick past
 * last_avail_idx, which the guest passed long ago when buffers were given
 * back unused.)  Returns true if buffers arrived meanwhile.
 */
static bool rx_arm(struct virtq *vq)
{
	uint16_t idx;

	if (!vq->avail || vq->broken)
		return false;
	idx = le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE));
	if (vq->event_idx)
		__atomic_store_n((uint16_t *)&vq->used->ring[vq->size], htole16(idx),
				 __ATOMIC_RELAXED);
	else
		__atomic_store_n(&vq->used->flags, 0, __ATOMIC_RELAXED);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return le16toh(__atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE)) != idx;
}

static enum vnet_result run_rx(struct vnet_pair *p)
{
	enum vnet_result r = vnet_rx_process(p);

	if (r == VNET_WAIT) {
		/* no (or too few) buffers: stop reading the backend until the guest kicks */
		if (rx_arm(p->rx))
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
	bool rx_more = p->rx != NULL, tx_more = p->tx != NULL, ctrl_more = p->index == 0;
	/* a detached pair's tap queue reads EBADFD: it only runs once attached */
	struct epoll_event ev[8];
	int i, k;

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
		if (fd_events(p))
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
	if (!ret)
		ret = fd_events(p);
	if (!ret && p->rx)
		ret = ep_add(p->epfd, virtio_pci_kick_fd(n->t, 2 * p->index), EPOLLIN, TAG_RX);
	if (!ret && p->tx)
		ret = ep_add(p->epfd, virtio_pci_kick_fd(n->t, 2 * p->index + 1), EPOLLIN, TAG_TX);
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

	for (i = 0; i < n->nr_pairs; i++)
		pair_stop(&n->pairs[i]);
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

/* ---- activate / reset ---- */

static void pair_free_bufs(struct vnet_pair *p)
{
	free(p->rx_iov);
	free(p->rx_chains);
	free(p->tx_iov);
	p->rx_iov = NULL;
	p->rx_chains = NULL;
	p->tx_iov = NULL;
}

void vnet_unbind(struct virtio_net *n)
{
	unsigned int i;

	virtio_net_stop(n);
	for (i = 0; i < n->nr_pairs; i++) {
		struct vnet_pair *p = &n->pairs[i];

		pair_free_bufs(p);
		p->rx = p->tx = NULL;
		p->rx_waiting = p->tx_blocked = false;
	}
	n->ctrl = NULL;
	if (n->active && n->be->ops->set_offload)
		n->be->ops->set_offload(n->be, 0);
	n->active = false;
	n->acked = 0;
	n->curr_pairs = 1;
	pthread_mutex_lock(&n->cfg_lock);
	n->cfg.status &= htole16(~VIRTIO_NET_S_ANNOUNCE);
	pthread_mutex_unlock(&n->cfg_lock);
}

int vnet_bind(struct virtio_net *n, uint64_t features, struct virtq *vqs, unsigned int nr)
{
	unsigned int i, tun;
	int ret;

	if (nr != 2 * n->nr_pairs + 1)
		return -EINVAL;
	n->acked = features;
	n->curr_pairs = 1;
	for (i = 0; i < n->nr_pairs; i++) {
		struct vnet_pair *p = &n->pairs[i];

		p->rx = vqs[2 * i].ready ? &vqs[2 * i] : NULL;
		p->tx = vqs[2 * i + 1].ready ? &vqs[2 * i + 1] : NULL;
		p->rx_iov = calloc(VNET_RX_IOV, sizeof(*p->rx_iov));
		p->rx_chains = calloc(VNET_RX_IOV, sizeof(*p->rx_chains));
		p->tx_iov = calloc(VNET_TX_IOV, sizeof(*p->tx_iov));
		if (!p->rx_iov || !p->rx_chains || !p->tx_iov) {
			ret = -ENOMEM;
			goto err;
		}
		/* until VIRTIO_NET_CTRL_MQ says otherwise only pair 0 is used (5.1.6.5.5) */
		if (n->be->ops->queue_enable) {
			ret = n->be->ops->queue_enable(n->be, i, i == 0);
			if (ret)
				goto err;
		}
	}
	if ((features & (1ULL << VIRTIO_NET_F_CTRL_VQ)) && vqs[2 * n->nr_pairs].ready)
		n->ctrl = &vqs[2 * n->nr_pairs];
	tun = vnet_tun_offloads(features);
	if (n->be->ops->set_offload) {
		ret = n->be->ops->set_offload(n->be, tun);
		if (ret) {
			log_err("virtio-net %s: cannot set the tap's offloads to 0x%x: %s", n->name,
				tun, strerror(-ret));
			goto err;
		}
	}
	n->active = true;
	return 0;
err:
	vnet_unbind(n);
	return ret;
}

static void net_reset(void *dev)
{
	vnet_unbind(dev);
}

static int net_activate(void *dev, struct virtio_pci_dev *t, uint64_t features,
			struct virtq *vqs, unsigned int nr)
{
	struct virtio_net *n = dev;
	int ret;

	ret = vnet_bind(n, features, vqs, nr);
	if (ret)
		return ret;
	ret = virtio_net_start(n);
	if (ret)
		vnet_unbind(n);
	return ret;
}

static const struct virtio_dev_ops virtio_net_ops = {
	.name = "virtio-net",
	.device_id = VIRTIO_ID_NET_DEV,
	.pci_class = PCI_CLASS_NETWORK_ETHERNET,
	.queue_max_size = VNET_QUEUE_MAX_SIZE,
	.num_queues = net_num_queues,
	.features = net_features,
	.config_size = net_config_size,
	.config_read = net_config_read,
	.config_write = net_config_write,
	.activate = net_activate,
	.reset = net_reset,
};

void virtio_net_announce(struct virtio_net *n)
{
	if (!n->active || !vnet_has(n, VIRTIO_NET_F_GUEST_ANNOUNCE))
		return;
	pthread_mutex_lock(&n->cfg_lock);
	n->cfg.status |= htole16(VIRTIO_NET_S_ANNOUNCE);
	pthread_mutex_unlock(&n->cfg_lock);
	if (n->t)
		virtio_pci_config_irq(n->t);
}

int virtio_net_stats(struct virtio_net *n, unsigned int q, struct vnet_stats *rx,
		     struct vnet_stats *tx)
{
	const struct vnet_stats *s[2];
	struct vnet_stats *d[2] = { rx, tx };
	int i;

	if (q >= n->nr_pairs)
		return -EINVAL;
	s[0] = &n->pairs[q].rx_stats;
	s[1] = &n->pairs[q].tx_stats;
	for (i = 0; i < 2; i++) {
		d[i]->packets = __atomic_load_n(&s[i]->packets, __ATOMIC_RELAXED);
		d[i]->bytes = __atomic_load_n(&s[i]->bytes, __ATOMIC_RELAXED);
		d[i]->drops = __atomic_load_n(&s[i]->drops, __ATOMIC_RELAXED);
	}
	return 0;
}

/* What the device offers: ring/control features always, offloads as the backend allows. */
static uint64_t offer(const struct net_backend *be)
{
	unsigned int tun = be->ops->offloads ? be->ops->offloads((struct net_backend *)be) : 0;
	uint64_t f = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS) |
		     (1ULL << VIRTIO_NET_F_MRG_RXBUF) | (1ULL << VIRTIO_NET_F_CTRL_VQ) |
		     (1ULL << VIRTIO_NET_F_CTRL_RX) | (1ULL << VIRTIO_NET_F_MQ) |
		     (1ULL << VIRTIO_NET_F_GUEST_ANNOUNCE);

	if (!(tun & TUN_F_CSUM))
		return f;
	/* a vnet-header tap takes partial checksums and GSO frames from us */
	f |= (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM);
	if (tun & TUN_F_TSO4)
		f |= (1ULL << VIRTIO_NET_F_GUEST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO4);
	if (tun & TUN_F_TSO6)
		f |= (1ULL << VIRTIO_NET_F_GUEST_TSO6) | (1ULL << VIRTIO_NET_F_HOST_TSO6);
	if ((tun & TUN_F_TSO_ECN) && (tun & (TUN_F_TSO4 | TUN_F_TSO6)))
		f |= (1ULL << VIRTIO_NET_F_GUEST_ECN) | (1ULL << VIRTIO_NET_F_HOST_ECN);
	if (tun & TUN_F_UFO)
		f |= (1ULL << VIRTIO_NET_F_GUEST_UFO) | (1ULL << VIRTIO_NET_F_HOST_UFO);
	return f;
}

int virtio_net_new(struct vm *vm, struct net_backend *be, const uint8_t mac[6],
		   unsigned int pairs, struct virtio_net **out)
{
	struct virtio_net *n;
	unsigned int i;

	if (!pairs || pairs > NET_MAX_QUEUES || pairs > be->nr_queues)
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->vm = vm;
	n->be = be;
	n->nr_pairs = pairs;
	n->curr_pairs = 1;
	snprintf(n->name, sizeof(n->name), "%s", be->ifname[0] ? be->ifname : be->ops->name);
	pthread_mutex_init(&n->cfg_lock, NULL);
	memcpy(n->cfg.mac, mac, 6);
	n->cfg.status = htole16(VIRTIO_NET_S_LINK_UP);
	n->cfg.max_virtqueue_pairs = htole16((uint16_t)pairs);
	n->cfg.mtu = htole16(1500);
	n->offered = offer(be);
	for (i = 0; i < pairs; i++) {
		n->pairs[i].n = n;
		n->pairs[i].index = i;
		n->pairs[i].fd = be->fd[i];
		n->pairs[i].epfd = n->pairs[i].stop_fd = -1;
	}
	*out = n;
	return 0;
}

void virtio_net_free(struct virtio_net *n)
{
	if (!n)
		return;
	vnet_unbind(n);
	net_backend_close(n->be);
	pthread_mutex_destroy(&n->cfg_lock);
	free(n);
}

int virtio_net_create(struct vm *vm, const struct net_opts *o, unsigned int index,
		      struct virtio_pci_dev **out, char *err, size_t errlen)
{
	struct virtio_pci_dev *t;
	struct net_backend *be = NULL;
	struct virtio_net *n;
	uint8_t mac[6];
	char id[600];
	int ret;

	if (o->kind != NET_USER && o->vhost == NET_VHOST_ON) {
		snprintf(err, errlen, "--net %s: vhost=on: the vhost-net backend is not built "
			 "into this vmm yet; use vhost=auto or vhost=off", o->ifname);
		return -ENOTSUP;
	}
	if (o->kind == NET_USER)
		ret = slirp_backend_open(o, &be, err, errlen);
	else
		ret = tap_backend_open(o, &be, err, errlen);
	if (ret)
		return ret;
	if (o->mac_set) {
		memcpy(mac, o->mac, 6);
	} else {
		snprintf(id, sizeof(id), "%s|%s", vm->cfg && vm->cfg->kernel ? vm->cfg->kernel : "",
			 be->ifname);
		net_default_mac(mac, id, index);
	}
	ret = virtio_net_new(vm, be, mac, o->queues, &n);
	if (ret) {
		snprintf(err, errlen, "--net %s: %s", be->ifname, strerror(-ret));
		net_backend_close(be);
		return ret;
	}
	ret = virtio_pci_create(vm, &virtio_net_ops, n, &t);
	if (ret) {
		snprintf(err, errlen, "--net %s: cannot create virtio-pci device: %s", n->name,
			 strerror(-ret));
		goto err_net;
	}
	n->t = t;
	ret = pci_dev_register(vm, &t->pci);
	if (ret) {
		snprintf(err, errlen, "--net %s: cannot put virtio-net on the PCI bus: %s",
			 n->name, strerror(-ret));
		goto err_pci;
	}
	log_info("virtio-net eth%u: %s %s, %02x:%02x:%02x:%02x:%02x:%02x, %u queue pair(s), "
		 "%s, slot %u", index, o->kind == NET_USER ? "user networking" : "tap", n->name,
		 mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], n->nr_pairs,
		 o->kind == NET_USER ? "libslirp 10.0.2.0/24" :
		 o->vhost == NET_VHOST_AUTO ? "userspace backend (vhost-net not built in)" :
		 "userspace backend", t->pci.slot);
	*out = t;
	return 0;
err_pci:
	virtio_pci_destroy(t);
err_net:
	virtio_net_free(n);
	return ret;
}

void virtio_net_destroy(struct virtio_pci_dev *d)
{
	struct virtio_net *n;

	if (!d)
		return;
	n = d->dev;
	virtio_pci_destroy(d);
	virtio_net_free(n);
}
