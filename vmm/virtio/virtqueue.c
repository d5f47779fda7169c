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
#include <stdio.h>
#include <string.h>

#include <linux/virtio_ring.h>

#include "state/stream.h"
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

/*
 * Live migration: marks the device-writable buffers of the chain at head
 * dirty (docs/snapshot.md, "dirty").  The chain is walked again from the
 * ring, with the same bounds as virtq_pop (a loop or a bad index ends the
 * walk); a guest that rewrote a chain it handed to the device only makes
 * us mark the wrong pages of its own memory.  Whole buffers are marked, not
 * just the bytes reported written: the status byte of a block request sits
 * at the end of its chain.
 */
static void mark_chain(struct virtq *vq, uint16_t head)
{
	const struct vring_desc *table = vq->desc;
	struct vring_desc d;
	unsigned int i = head, n = vq->size, count = 0;
	bool indirect = false;

	if (!table || head >= vq->size)
		return;
	for (;;) {
		if (++count > n)
			return;
		read_desc(table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (indirect || count != 1 || !vq->indirect || !d.len ||
			    d.len % sizeof(struct vring_desc) ||
			    d.len / sizeof(struct vring_desc) > vq->size)
				return;
			table = gm_ptr(vq->mem, d.addr, d.len);
			if (!table)
				return;
			n = d.len / sizeof(struct vring_desc);
			indirect = true;
			i = 0;
			count = 0;
			continue;
		}
		if ((d.flags & VRING_DESC_F_WRITE) && d.len)
			gm_mark_dirty(vq->mem, d.addr, d.len);
		if (!(d.flags & VRING_DESC_F_NEXT) || d.next >= n)
			return;
		i = d.next;
	}
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

	if (gm_dirty_logging(vq->mem))
		mark_chain(vq, head);	/* before the driver may see (and reuse) it */
	memcpy(u, &val, sizeof(val));
	if (head < vq->size)
		vq->in_flight[head / 64] &= ~(1ULL << (head % 64));
	vq->used_idx++;
	store16_release(&vq->used->idx, vq->used_idx);
	/* the element, the index (and the flags and avail_event beside them) */
	gm_mark_dirty(vq->mem, vq->used_gpa, virtq_used_bytes(vq->size));
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
	if (vq->event_idx) {
		store16(&vq->used->ring[vq->size], vq->last_avail_idx);	/* avail_event */
		gm_mark_dirty(vq->mem, vq->used_gpa + virtq_used_bytes(vq->size) - 2, 2);
	} else {
		store16(&vq->used->flags, 0);
		gm_mark_dirty(vq->mem, vq->used_gpa, 2);
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return load16(&vq->avail->idx) != vq->last_avail_idx;
}

void virtq_disable_notify(struct virtq *vq)
{
	if (!vq->used || vq->event_idx)
		return;
	store16(&vq->used->flags, VRING_USED_F_NO_NOTIFY);
	gm_mark_dirty(vq->mem, vq->used_gpa, 2);
}

bool virtq_idle(const struct virtq *vq)
{
	unsigned int i;

	for (i = 0; i < VIRTQ_MAX_SIZE / 64; i++)
		if (vq->in_flight[i])
			return false;
	return true;
}

int virtq_save(const struct virtq *vq, struct state_writer *w)
{
	if (!vq->broken && !virtq_idle(vq)) {
		/* the device's pause must have completed every popped chain (a
		 * broken queue never completes its: it waits for a reset) */
		if (!w->error) {
			w->error = -EBUSY;
			snprintf(w->err, sizeof(w->err),
				 "%s: a virtqueue still has requests in flight (the device was not drained)",
				 w->what);
		}
		return -EBUSY;
	}
	state_put_u16(w, vq->size);
	state_put_u8(w, vq->ready);
	state_put_u64(w, vq->desc_gpa);
	state_put_u64(w, vq->avail_gpa);
	state_put_u64(w, vq->used_gpa);
	state_put_u16(w, vq->last_avail_idx);
	state_put_u16(w, vq->used_idx);
	state_put_u16(w, vq->signalled_used);
	state_put_u8(w, vq->signalled_valid);
	state_put_u8(w, vq->broken);
	return w->error;
}

static int get_bool(struct state_reader *r, bool *v, const char *what, unsigned int q)
{
	uint8_t b;
	int ret = state_get_u8(r, &b);

	if (ret)
		return ret;
	if (b > 1)
		return state_reader_fail(r, "queue %u: %s %u is not 0 or 1", q, what, b);
	*v = b;
	return 0;
}

int virtq_restore(struct virtq *vq, struct state_reader *r, unsigned int q,
		  unsigned int max_size)
{
	struct virtq v;
	int ret;

	memset(&v, 0, sizeof(v));
	v.mem = vq->mem;
	ret = state_get_u16(r, &v.size);
	if (!ret)
		ret = get_bool(r, &v.ready, "ready", q);
	if (!ret)
		ret = state_get_u64(r, &v.desc_gpa);
	if (!ret)
		ret = state_get_u64(r, &v.avail_gpa);
	if (!ret)
		ret = state_get_u64(r, &v.used_gpa);
	if (!ret)
		ret = state_get_u16(r, &v.last_avail_idx);
	if (!ret)
		ret = state_get_u16(r, &v.used_idx);
	if (!ret)
		ret = state_get_u16(r, &v.signalled_used);
	if (!ret)
		ret = get_bool(r, &v.signalled_valid, "signalled_valid", q);
	if (!ret)
		ret = get_bool(r, &v.broken, "broken", q);
	if (ret)
		return ret;
	if (!v.size || v.size > max_size || (v.size & (v.size - 1)))
		return state_reader_fail(r, "queue %u: size %u (a power of two up to %u)", q,
					 v.size, max_size);
	if (v.ready) {
		ret = virtq_map(&v);
		if (ret)
			return state_reader_fail(r, "queue %u: ring (desc 0x%llx avail 0x%llx used 0x%llx, size %u) %s",
						 q, (unsigned long long)v.desc_gpa,
						 (unsigned long long)v.avail_gpa,
						 (unsigned long long)v.used_gpa, v.size,
						 ret == -EFAULT ? "is outside guest RAM" : "is misaligned");
	}
	*vq = v;
	return 0;
}
