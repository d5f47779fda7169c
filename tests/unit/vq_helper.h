/* SPDX-License-Identifier: MIT */
/*
 * Test helpers playing the virtio driver on synthetic guest memory:
 * lay out a split ring and publish descriptor chains.  Header-only so it
 * is not linked into every unit test.
 */
#ifndef VMM_VQ_HELPER_H
#define VMM_VQ_HELPER_H

#include <endian.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "vm.h"
#include "virtio/virtqueue.h"

#define VQH_DESC	0x1000ULL
#define VQH_AVAIL	0x2000ULL
#define VQH_USED	0x3000ULL
#define VQH_BUF		0x10000ULL

struct vqh {
	struct vm *vm;
	uint16_t size;
	uint16_t avail_idx;
};

static inline void vqh_desc(struct vqh *h, unsigned int i, uint64_t addr, uint32_t len,
			    uint16_t flags, uint16_t next)
{
	struct vring_desc d = {
		.addr = htole64(addr), .len = htole32(len),
		.flags = htole16(flags), .next = htole16(next),
	};

	gm_write(&h->vm->mem, VQH_DESC + 16ULL * i, &d, sizeof(d));
}

/* A descriptor in an arbitrary table (indirect). */
static inline void vqh_desc_at(struct vqh *h, uint64_t table, unsigned int i, uint64_t addr,
			       uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = {
		.addr = htole64(addr), .len = htole32(len),
		.flags = htole16(flags), .next = htole16(next),
	};

	gm_write(&h->vm->mem, table + 16ULL * i, &d, sizeof(d));
}

static inline void vqh_set_avail_idx(struct vqh *h, uint16_t idx)
{
	/* a driver publishes avail->idx with a release store; a device thread may be reading */
	uint16_t *p = gm_ptr(&h->vm->mem, VQH_AVAIL + 2, 2);

	if (p)
		__atomic_store_n(p, htole16(idx), __ATOMIC_RELEASE);
}

static inline void vqh_publish(struct vqh *h, uint16_t head)
{
	uint16_t v = htole16(head);

	gm_write(&h->vm->mem, VQH_AVAIL + 4 + 2ULL * (h->avail_idx % h->size), &v, 2);
	h->avail_idx++;
	vqh_set_avail_idx(h, h->avail_idx);
}

static inline uint16_t vqh_used_idx(struct vqh *h)
{
	/* the device publishes used->idx with a release store, maybe from its thread */
	uint16_t *p = gm_ptr(&h->vm->mem, VQH_USED + 2, 2);

	return p ? le16toh(__atomic_load_n(p, __ATOMIC_ACQUIRE)) : 0;
}

static inline struct vring_used_elem vqh_used_elem(struct vqh *h, uint16_t i)
{
	struct vring_used_elem e;

	gm_read(&h->vm->mem, VQH_USED + 4 + 8ULL * (i % h->size), &e, sizeof(e));
	e.id = le32toh(e.id);
	e.len = le32toh(e.len);
	return e;
}

/* Configures vq for the layout above. */
static inline int vqh_setup(struct vqh *h, struct vm *vm, struct virtq *vq, uint16_t size)
{
	h->vm = vm;
	h->size = size;
	h->avail_idx = 0;
	memset(vq, 0, sizeof(*vq));
	vq->mem = &vm->mem;
	vq->size = size;
	vq->desc_gpa = VQH_DESC;
	vq->avail_gpa = VQH_AVAIL;
	vq->used_gpa = VQH_USED;
	vq->ready = true;
	return virtq_map(vq);
}

#endif
