// SPDX-License-Identifier: MIT
/*
 * Split virtqueue, device side.  See virtqueue.h.
 *
 * Ordering: the driver writes descriptors and ring entries, then avail->idx
 * (release).  We load avail->idx with acquire before reading the ring and
 * descriptors.  We write the used element, then used->idx with release, and
 * a full fence separates that store from reading used_event / avail flags
 * (and avail_event stores from re-reading avail->idx).
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "virtqueue.h"

uint64_t virtq_desc_bytes(unsigned int n)
{
	return 16ULL * n;
}

uint64_t virtq_avail_bytes(unsigned int n)
{
	return 6 + 2ULL * n;		/* flags, idx, ring[n], used_event */
}

uint64_t virtq_used_bytes(unsigned int n)
{
	return 6 + 8ULL * n;		/* flags, idx, ring[n], avail_event */
}

void virtq_reset(struct virtq *vq)
{
	const struct guest_mem *mem = vq->mem;

	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
}

int virtq_map(struct virtq *vq)
{
	unsigned int n = vq->size;

	if (!n || n > VIRTQ_MAX_SIZE || (n & (n - 1)))
		return -EINVAL;
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return -EINVAL;
	vq->desc = gm_ptr(vq->mem, vq->desc_gpa, virtq_desc_bytes(n));
	vq->avail = gm_ptr(vq->mem, vq->avail_gpa, virtq_avail_bytes(n));
	vq->used = gm_ptr(vq->mem, vq->used_gpa, virtq_used_bytes(n));
	if (!vq->desc || !vq->avail || !vq->used) {
		vq->desc = NULL;
		vq->avail = NULL;
		vq->used = NULL;
		return -EFAULT;
	}
	return 0;
}

static uint16_t load16_acquire(const void *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE));
}

static uint16_t load16(const void *p)
{
	return le16toh(__atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED));
}

static void store16(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELAXED);
}

static void store16_release(void *p, uint16_t v)
{
	__atomic_store_n((uint16_t *)p, htole16(v), __ATOMIC_RELEASE);
}

/* Copies one descriptor once (no re-reading guest memory later). */
static void read_desc(const struct vring_desc *table, unsigned int i, struct vring_desc *d)
{
	memcpy(d, &table[i], sizeof(*d));
	d->addr = le64toh(d->addr);
	d->len = le32toh(d->len);
	d->flags = le16toh(d->flags);
	d->next = le16toh(d->next);
}

/* Adds one buffer to e.  0 or -EIO. */
static int elem_add(struct virtq *vq, struct virtq_elem *e, const struct vring_desc *d)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	void *p;

	if (!writable && e->nr_in)
		return -EIO;			/* readable after writable */
	if (!d->len)
		return 0;
	p = gm_ptr(vq->mem, d->addr, d->len);
	if (!p)
		return -EIO;
	if (e->nr_out + e->nr_in >= e->max)
		return -EIO;
	e->iov[e->nr_out + e->nr_in].iov_base = p;
	e->iov[e->nr_out + e->nr_in].iov_len = d->len;
	if (writable) {
		e->nr_in++;
		e->in_len += d->len;
	} else {
		e->nr_out++;
		e->out_len += d->len;
	}
	return 0;
}

/* Walks an indirect table given by descriptor d.  0 or -EIO. */
static int walk_indirect(struct virtq *vq, struct virtq_elem *e, const struct vring_desc *d)
{
	const struct vring_desc *table;
	struct vring_desc cur;
	unsigned int n, i, count = 0;
	int ret;

	if (!vq->indirect || (d->flags & VRING_DESC_F_NEXT))
		return -EIO;
	if (!d->len || d->len % sizeof(struct vring_desc))
		return -EIO;
	n = d->len / sizeof(struct vring_desc);
	if (n > vq->size)
		return -EIO;
	table = gm_ptr(vq->mem, d->addr, d->len);
	if (!table)
		return -EIO;
	i = 0;
	for (;;) {
		if (++count > n)
			return -EIO;		/* loop */
		read_desc(table, i, &cur);
		if (cur.flags & VRING_DESC_F_INDIRECT)
			return -EIO;		/* nested */
		ret = elem_add(vq, e, &cur);
		if (ret)
			return ret;
		if (!(cur.flags & VRING_DESC_F_NEXT))
			return 0;
		if (cur.next >= n)
			return -EIO;
		i = cur.next;
	}
}

static int walk_chain(struct virtq *vq, struct virtq_elem *e, uint16_t head)
{
	struct vring_desc cur;
	unsigned int i = head, count = 0;
	int ret;

	for (;;) {
		if (++count > vq->size)
			return -EIO;		/* loop or chain longer than the queue */
		read_desc(vq->desc, i, &cur);
		if (cur.flags & VRING_DESC_F_INDIRECT) {
			/* the only descriptor of its chain */
			if (count != 1)
				return -EIO;
			return walk_indirect(vq, e, &cur);
		}
		ret = elem_add(vq, e, &cur);
		if (ret)
			return ret;
		if (!(cur.flags & VRING_DESC_F_NEXT))
			return 0;
		if (cur.next >= vq->size)
			return -EIO;
		i = cur.next;
	}
}

static bool head_in_flight(const struct virtq *vq, uint16_t head)
{
	return vq->in_flight[head / 64] & (1ULL << (head % 64));
}

int virtq_pop(struct virtq *vq, struct virtq_elem *e)
{
	uint16_t avail_idx, head;
	int ret;

	if (vq->broken || !vq->ready || !vq->avail)
		return -EIO;
	avail_idx = load16_acquire(&vq->avail->idx);
	if ((uint16_t)(avail_idx - vq->last_avail_idx) > vq->size)
		goto broken;
	if (avail_idx == vq->last_avail_idx)
		return 0;
	head = load16(&vq->avail->ring[vq->last_avail_idx & (vq->size - 1)]);
	if (head >= vq->size || head_in_flight(vq, head))
		goto broken;
	vq->last_avail_idx++;
	e->head = head;
	e->nr_out = e->nr_in = 0;
	e->out_len = e->in_len = 0;
	ret = walk_chain(vq, e, head);
	if (ret)
		goto broken;
	vq->in_flight[head / 64] |= 1ULL << (head % 64);
	return 1;
broken:
	vq->broken = true;
	return -EIO;
}

int virtq_unpop(struct virtq *vq, uint16_t head)
{
	/*
	 * Only chains popped since the last push can be given back: the
	 * in-flight bit is what says head was popped and not completed.
	 * The ring slot is re-read on the next pop (the guest may have
	 * rewritten it meanwhile; that pop checks it like any other).
	 */
	if (head >= vq->size || !head_in_flight(vq, head))
		return -EINVAL;
	vq->in_flight[head / 64] &= ~(1ULL << (head % 64));
	vq->last_avail_idx--;
	return 0;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *u = &vq->used->ring[vq->used_idx & (vq->size - 1)];
	struct vring_used_elem val = { .id = htole32(head), .len = htole32(len) };

	memcpy(u, &val, sizeof(val));
	if (head < vq->size)
		vq->in_flight[head / 64] &= ~(1ULL << (head % 64));
	vq->used_idx++;
	store16_release(&vq->used->idx, vq->used_idx);
}

bool virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx)
{
	return (uint16_t)(new_idx - event_idx - 1) < (uint16_t)(new_idx - old_idx);
}

bool virtq_need_interrupt(struct virtq *vq)
{
	uint16_t old = vq->signalled_used, new = vq->used_idx;
	bool valid = vq->signalled_valid;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vq->signalled_used = new;
	vq->signalled_valid = true;
	if (!vq->event_idx)
		return !(load16(&vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	/* used_event lives at avail->ring[size] */
	return virtq_need_event(load16(&vq->avail->ring[vq->size]), new, old);
}

bool virtq_enable_notify(struct virtq *vq)
{
	if (!vq->avail || vq->broken)
		return false;
	if (vq->event_idx)
		store16(&vq->used->ring[vq->size], vq->last_avail_idx);	/* avail_event */
	else
		store16(&vq->used->flags, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(&vq->avail->idx) != vq->last_avail_idx;
}

void virtq_disable_notify(struct virtq *vq)
{
	if (!vq->used || vq->event_idx)
		return;
	store16(&vq->used->flags, VRING_USED_F_NO_NOTIFY);
}
