/* SPDX-License-Identifier: MIT */
/*
 * virtio-net (virtio 1.x, 5.1) on the virtio-pci transport.
 *
 * Queues: rx0, tx0, rx1, tx1, ..., then the control queue (2 * pairs).
 * Each queue pair has an I/O thread with its own epoll (rx kick, tx kick,
 * the backend fd, a stop eventfd; pair 0 also the control queue's kick)
 * that moves frames between the backend fd and guest buffers with
 * readv/writev straight on the descriptor chains.  Interrupts go through
 * the transport's irqfds.
 *
 * The data path (vnet_rx_process, vnet_tx_process, vnet_ctrl_process)
 * works without PCI and without threads, so unit tests and the fuzzer drive
 * it synchronously with a socketpair standing in for the tap.
 */
#ifndef VMM_VIRTIO_NET_H
#define VMM_VIRTIO_NET_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <linux/virtio_net.h>

#include "net/net.h"
#include "virtqueue.h"

struct vm;
struct virtio_pci_dev;
struct vhost_net;
struct tap_stats;

#define VIRTIO_ID_NET_DEV	1
#define VNET_QUEUE_MAX_SIZE	256
#define VNET_RX_IOV		1024	/* UIO_MAXIOV: one readv */
#define VNET_CHAIN_IOV		64	/* buffers in one rx chain */
#define VNET_TX_IOV		(256 + 1)	/* + our copy of the header */
#define VNET_BUDGET		256	/* frames per queue before looking at the others */
#define VNET_CONFIG_SIZE	12	/* mac, status, max_virtqueue_pairs, mtu */
#define VNET_MIN_FRAME		14	/* an Ethernet header */
#define VNET_RX_FRAME_NOGSO	(1514 + 4)	/* Ethernet + VLAN tag, no GSO */

/* Per queue, written by its I/O thread only; read with relaxed atomics. */
struct vnet_stats {
	uint64_t packets;
	uint64_t bytes;
	uint64_t drops;
};

enum vnet_result {
	VNET_IDLE,	/* nothing more to do until an event */
	VNET_MORE,	/* budget used up: call again */
	VNET_WAIT,	/* rx: guest out of buffers; tx: backend full (wait for POLLOUT) */
	VNET_BROKEN,	/* ring broken: NEEDS_RESET set */
};

struct vnet_rx_chain {
	uint16_t head;
	unsigned int iov;		/* first iovec in rx_iov */
	unsigned int nr;
	uint32_t cap;
};

struct vnet_pair {
	struct virtio_net *n;
	unsigned int index;
	struct virtq *rx, *tx;		/* NULL when the driver did not enable it */
	int fd;				/* backend fd for this pair */
	struct vnet_stats rx_stats, tx_stats;
	bool rx_waiting;		/* no guest buffers: backend fd not polled for input */
	uint16_t rx_avail_seen;		/* avail index the last VNET_WAIT of rx saw */
	bool tx_blocked;		/* backend returned EAGAIN: polled for output */

	struct iovec *rx_iov;		/* VNET_RX_IOV */
	struct vnet_rx_chain *rx_chains;	/* VNET_RX_IOV */
	struct iovec *tx_iov;		/* VNET_TX_IOV */

	/* I/O thread */
	int epfd, stop_fd;
	unsigned int fd_events;		/* what the backend fd is registered for */
	bool fd_registered;		/* in epfd at all (not while detached) */
	pthread_t thread;
	bool running;
};

struct virtio_net {
	struct vm *vm;
	struct virtio_pci_dev *t;	/* NULL when driven without PCI (tests) */
	struct net_backend *be;
	struct vhost_net *vhost;	/* NULL: the userspace backend moves the frames */
	struct tap_stats *tap_stats;	/* vhost: the tap's own counters (NULL: none) */
	char name[32];			/* for messages: "tap0", "fd 5", ... */
	unsigned int nr_pairs;		/* max_virtqueue_pairs */
	unsigned int curr_pairs;	/* as set by VIRTIO_NET_CTRL_MQ */
	uint64_t offered;
	uint64_t acked;
	unsigned int irqs;		/* interrupts wanted (tests count them) */

	pthread_mutex_t cfg_lock;	/* cfg.status */
	struct virtio_net_config cfg;	/* little-endian, as the guest reads it */

	struct virtq *ctrl;		/* NULL if not negotiated/enabled */
	struct vnet_stats ctrl_stats;
	uint8_t rx_mode[6];		/* VIRTIO_NET_CTRL_RX_*: last value set */

	struct vnet_pair pairs[NET_MAX_QUEUES];
	bool active;
};

/* API for the VM: creates card `index` (eth<index>) and puts it on the PCI bus. */
int virtio_net_create(struct vm *vm, const struct net_opts *o, unsigned int index,
		      struct virtio_pci_dev **out, char *err, size_t errlen);
void virtio_net_destroy(struct virtio_pci_dev *d);

/* What a reset (vm_rebuild) keeps of a card: its open backend and vhost-net. */
struct vnet_keep {
	struct net_backend *be;
	struct vhost_net *vhost;	/* NULL: the card used the userspace backend */
};
/*
 * virtio_net_create() on a backend kept from before a reset (k->be; NULL:
 * open it from o as at the first boot).  Takes k's contents, even on
 * failure, and clears k.  A `--net fd=N` tap cannot be opened twice.
 */
int virtio_net_create_with(struct vm *vm, const struct net_opts *o, unsigned int index,
			   struct vnet_keep *k, struct virtio_pci_dev **out, char *err,
			   size_t errlen);
/* Stops the card and takes its backend and vhost-net out of it (destroy closes neither). */
void virtio_net_take_backend(struct virtio_pci_dev *d, struct vnet_keep *k);

/* Without the transport: takes ownership of be (freed by virtio_net_free). */
int virtio_net_new(struct vm *vm, struct net_backend *be, const uint8_t mac[6],
		   unsigned int pairs, struct virtio_net **out);
void virtio_net_free(struct virtio_net *n);

/*
 * Binds the queues (what activate does, without threads): vqs[2i], vqs[2i+1]
 * for pair i, vqs[2 * pairs] the control queue.  Sets the backend's offloads
 * from the accepted features.  0 or -errno.
 */
int vnet_bind(struct virtio_net *n, uint64_t features, struct virtq *vqs, unsigned int nr);
void vnet_unbind(struct virtio_net *n);

/* Quiesce: stop taking work (threads joined, rings untouched after) / resume. */
void virtio_net_stop(struct virtio_net *n);
int virtio_net_start(struct virtio_net *n);

/* Ask the guest to announce itself (GUEST_ANNOUNCE), e.g. after migration. */
void virtio_net_announce(struct virtio_net *n);

/*
 * Counters of pair q (rx, tx: from the guest's side).  The userspace backend
 * counts each queue itself.  With vhost-net the kernel moves the frames:
 * pair 0 then reports the whole card, as the tap interface counted it since
 * the card was created (/sys/class/net/IF/statistics), and the other pairs
 * report 0.  0, -EINVAL if q is out of range, -ENODATA if vhost runs and
 * the tap's counters could not be opened.
 */
int virtio_net_stats(struct virtio_net *n, unsigned int q, struct vnet_stats *rx,
		     struct vnet_stats *tx);

/* The data path (virtio_net_rx.c, _tx.c, _ctrl.c). */
enum vnet_result vnet_rx_process(struct vnet_pair *p);
enum vnet_result vnet_tx_process(struct vnet_pair *p);
enum vnet_result vnet_ctrl_process(struct virtio_net *n);
/*
 * After rx said VNET_WAIT: ask the guest for a kick as soon as it adds a
 * buffer beyond those that rx saw.  True if it already has (process again).
 */
bool vnet_rx_arm(struct vnet_pair *p);

/* Helpers shared by the data path (virtio_net.c). */
void vnet_ring_broken(struct virtio_net *n, struct virtq *vq);
void vnet_notify(struct virtio_net *n, struct virtq *vq, unsigned int qidx);
void vnet_stat_add(struct vnet_stats *s, uint64_t packets, uint64_t bytes, uint64_t drops);
/* TUN_F_* for the offloads the guest accepted to receive. */
unsigned int vnet_tun_offloads(uint64_t features);
/* Maximum frame (without header) the guest can receive with these features. */
uint32_t vnet_rx_max_frame(uint64_t features);

static inline bool vnet_has(const struct virtio_net *n, unsigned int bit)
{
	return n->acked & (1ULL << bit);
}

#endif
