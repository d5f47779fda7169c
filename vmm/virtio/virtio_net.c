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
#include "net/tap_stats.h"
#include "net/vhost.h"
#include "vm.h"
#include "virtio_net.h"
#include "virtio_pci.h"

#define PCI_CLASS_NETWORK_ETHERNET	0x020000

/* ---- helpers for the data path ---- */

void vnet_stat_add(struct vnet_stats *s, uint64_t packets, uint64_t bytes, uint64_t drops)
{
	__atomic_add_fetch(&s->packets, packets, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->bytes, bytes, __ATOMIC_RELAXED);
	__atomic_add_fetch(&s->drops, drops, __ATOMIC_RELAXED);
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

static void copy_stats(struct vnet_stats *d, const struct vnet_stats *s)
{
	d->packets = __atomic_load_n(&s->packets, __ATOMIC_RELAXED);
	d->bytes = __atomic_load_n(&s->bytes, __ATOMIC_RELAXED);
	d->drops = __atomic_load_n(&s->drops, __ATOMIC_RELAXED);
}

int virtio_net_stats(struct virtio_net *n, unsigned int q, struct vnet_stats *rx,
		     struct vnet_stats *tx)
{
	struct tap_counters c;
	int ret;

	if (q >= n->nr_pairs)
		return -EINVAL;
	if (!n->vhost && !n->tap_stats) {
		copy_stats(rx, &n->pairs[q].rx_stats);
		copy_stats(tx, &n->pairs[q].tx_stats);
		return 0;
	}
	/* vhost-net: the kernel moved the frames; the interface counted them */
	if (!n->tap_stats)
		return -ENODATA;
	memset(rx, 0, sizeof(*rx));
	memset(tx, 0, sizeof(*tx));
	if (q)
		return 0;
	ret = tap_stats_read(n->tap_stats, &c);
	if (ret)
		return ret;
	*rx = (struct vnet_stats){ c.rx_packets, c.rx_bytes, c.rx_drops };
	*tx = (struct vnet_stats){ c.tx_packets, c.tx_bytes, c.tx_drops };
	return 0;
}

/* vhost-net: open the tap's counters now, before the seccomp filters. */
static void open_tap_stats(struct virtio_net *n, const char *ifname)
{
	struct tap_stats *s = calloc(1, sizeof(*s));
	int ret;

	if (!s)
		return;
	ret = tap_stats_open(s, "/sys/class/net", ifname);
	if (ret) {
		log_warn("virtio-net %s: cannot read the tap's counters in "
			 "/sys/class/net/%s/statistics (%s): with vhost-net the card's "
			 "packet counters stay unavailable", n->name, ifname, strerror(-ret));
		free(s);
		return;
	}
	n->tap_stats = s;
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
	vhost_net_close(n->vhost);
	if (n->tap_stats)
		tap_stats_close(n->tap_stats);
	free(n->tap_stats);
	net_backend_close(n->be);
	pthread_mutex_destroy(&n->cfg_lock);
	free(n);
}

/* Opens the backend of o and, unless vhost=off or user networking, vhost-net. */
static int open_backend(const struct net_opts *o, unsigned int index, struct vnet_keep *k,
			char *err, size_t errlen)
{
	char why[256];
	int ret;

	if (o->kind == NET_USER)
		ret = slirp_backend_open(o, &k->be, err, errlen);
	else
		ret = tap_backend_open(o, &k->be, err, errlen);
	if (ret)
		return ret;
	if (o->kind == NET_USER || o->vhost == NET_VHOST_OFF)
		return 0;
	ret = vhost_net_open(o->queues, &k->vhost, why, sizeof(why));
	if (ret && o->vhost == NET_VHOST_ON) {
		snprintf(err, errlen, "--net %s: vhost=on: %s", k->be->ifname, why);
		net_backend_close(k->be);
		k->be = NULL;
		return ret;
	}
	if (ret)
		log_warn("virtio-net eth%u: vhost-net unavailable (%s): userspace backend",
			 index, why);
	return 0;
}

int virtio_net_create(struct vm *vm, const struct net_opts *o, unsigned int index,
		      struct virtio_pci_dev **out, char *err, size_t errlen)
{
	struct vnet_keep k = { NULL, NULL };

	return virtio_net_create_with(vm, o, index, &k, out, err, errlen);
}

int virtio_net_create_with(struct vm *vm, const struct net_opts *o, unsigned int index,
			   struct vnet_keep *k, struct virtio_pci_dev **out, char *err,
			   size_t errlen)
{
	struct virtio_pci_dev *t;
	struct net_backend *be;
	struct vhost_net *vhost;
	struct virtio_net *n;
	uint8_t mac[6];
	char id[600];
	int ret;

	if (!k->be) {
		vhost_net_close(k->vhost);
		k->vhost = NULL;
		ret = open_backend(o, index, k, err, errlen);
		if (ret)
			return ret;
	}
	be = k->be;
	vhost = k->vhost;
	k->be = NULL;
	k->vhost = NULL;
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
		vhost_net_close(vhost);
		net_backend_close(be);
		return ret;
	}
	n->vhost = vhost;
	if (vhost)
		open_tap_stats(n, be->ifname);
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
		 n->vhost ? "vhost-net" : "userspace backend", t->pci.slot);
	*out = t;
	return 0;
err_pci:
	virtio_pci_destroy(t);
err_net:
	virtio_net_free(n);
	return ret;
}

void virtio_net_take_backend(struct virtio_pci_dev *d, struct vnet_keep *k)
{
	struct virtio_net *n = d->dev;

	vnet_unbind(n);		/* threads joined, vhost detached, offloads cleared */
	k->be = n->be;
	k->vhost = n->vhost;
	n->be = NULL;
	n->vhost = NULL;
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
