/* SPDX-License-Identifier: MIT */
/*
 * Test helpers for virtio-net: several split rings at chosen guest
 * addresses (the driver's side), and a fake backend on a socketpair that
 * records the offloads and queue attachments the device asked for.
 * Header-only so it is not linked into every unit test.
 */
#ifndef VMM_VNET_HELPER_H
#define VMM_VNET_HELPER_H

#include <endian.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_ring.h>

#include "net/net.h"
#include "vm.h"
#include "virtio/virtqueue.h"

/* desc at base, avail at base + 0x1000, used at base + 0x2000 (size <= 256) */
struct ring {
	const struct guest_mem *mem;
	uint64_t base;
	uint16_t size;
	uint16_t avail_idx;
};

static inline void ring_desc(struct ring *r, unsigned int i, uint64_t addr, uint32_t len,
			     uint16_t flags, uint16_t next)
{
	struct vring_desc d = {
		.addr = htole64(addr), .len = htole32(len),
		.flags = htole16(flags), .next = htole16(next),
	};

	gm_write(r->mem, r->base + 16ULL * i, &d, sizeof(d));
}

static inline void ring_publish(struct ring *r, uint16_t head)
{
	uint16_t v = htole16(head);

	gm_write(r->mem, r->base + 0x1000 + 4 + 2ULL * (r->avail_idx % r->size), &v, 2);
	r->avail_idx++;
	v = htole16(r->avail_idx);
	gm_write(r->mem, r->base + 0x1000 + 2, &v, 2);
}

static inline uint16_t ring_used_idx(struct ring *r)
{
	uint16_t v = 0;

	gm_read(r->mem, r->base + 0x2000 + 2, &v, 2);
	return le16toh(v);
}

static inline struct vring_used_elem ring_used(struct ring *r, uint16_t i)
{
	struct vring_used_elem e;

	gm_read(r->mem, r->base + 0x2000 + 4 + 8ULL * (i % r->size), &e, sizeof(e));
	e.id = le32toh(e.id);
	e.len = le32toh(e.len);
	return e;
}

static inline int ring_setup(struct ring *r, const struct guest_mem *mem, struct virtq *vq,
			     uint64_t base, uint16_t size)
{
	r->mem = mem;
	r->base = base;
	r->size = size;
	r->avail_idx = 0;
	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->size = size;
	vq->desc_gpa = base;
	vq->avail_gpa = base + 0x1000;
	vq->used_gpa = base + 0x2000;
	vq->ready = true;
	return virtq_map(vq);
}

/* ---- fake backend ---- */

struct fake_be {
	unsigned int offload_mask;
	int last_offload;		/* -1: never set */
	unsigned int offload_calls;
	bool attached[NET_MAX_QUEUES];
	int peer[NET_MAX_QUEUES];	/* the "wire" side of each socketpair */
};

static inline unsigned int fake_offloads(struct net_backend *be)
{
	return ((struct fake_be *)be->priv)->offload_mask;
}

static inline int fake_set_offload(struct net_backend *be, unsigned int flags)
{
	struct fake_be *f = be->priv;

	f->last_offload = (int)flags;
	f->offload_calls++;
	return 0;
}

static inline int fake_queue_enable(struct net_backend *be, unsigned int q, bool on)
{
	((struct fake_be *)be->priv)->attached[q] = on;
	return 0;
}

static inline void fake_close(struct net_backend *be)
{
	struct fake_be *f = be->priv;
	unsigned int i;

	for (i = 0; i < be->nr_queues; i++) {
		close(be->fd[i]);
		close(f->peer[i]);
	}
}

static const struct net_backend_ops fake_be_ops = {
	.name = "fake",
	.offloads = fake_offloads,
	.set_offload = fake_set_offload,
	.queue_enable = fake_queue_enable,
	.close = fake_close,
};

/* A backend of nq SOCK_SEQPACKET pairs (frames keep their boundaries), device side nonblocking. */
static inline struct net_backend *fake_be_new(struct fake_be *f, unsigned int nq,
					      unsigned int offload_mask)
{
	struct net_backend *be = calloc(1, sizeof(*be));
	unsigned int i;
	int sv[2];

	if (!be)
		return NULL;
	memset(f, 0, sizeof(*f));
	f->offload_mask = offload_mask;
	f->last_offload = -1;
	be->ops = &fake_be_ops;
	be->priv = f;
	be->nr_queues = nq;
	for (i = 0; i < nq; i++) {
		if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) {
			free(be);
			return NULL;
		}
		fcntl(sv[0], F_SETFL, O_NONBLOCK);
		fcntl(sv[1], F_SETFL, O_NONBLOCK);
		be->fd[i] = sv[0];
		f->peer[i] = sv[1];
	}
	strcpy(be->ifname, "fake0");
	return be;
}

#endif
