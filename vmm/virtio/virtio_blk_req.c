// SPDX-License-Identifier: MIT
/*
 * virtio-blk request path for one virtqueue: parse a chain (header, data,
 * status byte, in any descriptor layout), check it against the disk, submit
 * it to the block layer, and complete it into the used ring.
 */
#include <endian.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "virtio_blk.h"
#include "virtio_pci.h"

#define SECTOR_SHIFT	9
#define REAP_BATCH	64

int vblk_queue_init(struct vblk_queue *q, struct virtio_blk *blk, unsigned int index,
		    struct virtq *vq)
{
	unsigned int i;
	int ret;

	memset(q, 0, sizeof(*q));
	q->blk = blk;
	q->index = index;
	q->vq = vq;
	q->epfd = q->stop_fd = -1;
	q->reqs = calloc(vq->size, sizeof(*q->reqs));
	if (!q->reqs) {
		ret = -ENOMEM;
		goto err;
	}
	for (i = 0; i < vq->size; i++) {
		q->reqs[i].next_free = i + 1;
		q->reqs[i].elem.iov = q->reqs[i].iov;
		q->reqs[i].elem.max = VBLK_MAX_IOV;
	}
	q->free_head = 0;
	ret = blk_queue_create(blk->img, blk->engine, vq->size, &q->bq);
	if (ret)
		goto err;
	return 0;
err:
	free(q->reqs);
	q->reqs = NULL;
	return ret;
}

void vblk_queue_fini(struct vblk_queue *q)
{
	if (q->bq)
		blk_queue_destroy(q->bq);
	q->bq = NULL;
	free(q->reqs);
	q->reqs = NULL;
	q->inflight = 0;
}

static void ring_broken(struct vblk_queue *q)
{
	q->vq->broken = true;
	if (q->blk->t)
		virtio_pci_set_needs_reset(q->blk->t);
}

static void stat_add(uint64_t *c, uint64_t n)
{
	__atomic_add_fetch(c, n, __ATOMIC_RELAXED);
}

/* vm.counters: one answered request */
static void req_count(struct vblk_queue *q, struct vblk_req *r, uint8_t st)
{
	struct vblk_stats *s = &q->blk->stats[q->index];

	stat_add(&s->requests, 1);
	if (st != VIRTIO_BLK_S_OK) {
		stat_add(&s->errors, 1);
		return;
	}
	if (!r->counted)
		return;
	switch (r->breq.op) {
	case BLK_OP_READ:
		stat_add(&s->read_ops, 1);
		stat_add(&s->read_bytes, r->bytes);
		break;
	case BLK_OP_WRITE:
		stat_add(&s->write_ops, 1);
		stat_add(&s->write_bytes, r->bytes);
		break;
	case BLK_OP_FLUSH:
		stat_add(&s->flush_ops, 1);
		break;
	default:
		break;
	}
}

/* Returns the request to the guest with status st and frees its slot. */
static void req_finish(struct vblk_queue *q, struct vblk_req *r, uint8_t st, uint32_t len)
{
	uint16_t head = r->elem.head;

	if (r->status)
		req_count(q, r, st);

	if (r->status)
		*r->status = st;
	if (!q->vq->broken)
		virtq_push(q->vq, head, len);
	r->next_free = q->free_head;
	q->free_head = (unsigned int)(r - q->reqs);
	q->inflight--;
}

/* Removes len bytes from the front of iov[0..*cnt); iov is edited in place. */
static struct iovec *iov_pull(struct iovec *iov, unsigned int *cnt, size_t len)
{
	while (*cnt && len) {
		size_t n = iov->iov_len < len ? iov->iov_len : len;

		iov->iov_base = (uint8_t *)iov->iov_base + n;
		iov->iov_len -= n;
		len -= n;
		if (!iov->iov_len) {
			iov++;
			(*cnt)--;
		}
	}
	return iov;
}

static void iov_copy_from(const struct iovec *iov, unsigned int cnt, void *dst, size_t len)
{
	uint8_t *d = dst;
	unsigned int i;

	for (i = 0; i < cnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(d, iov[i].iov_base, n);
		d += n;
		len -= n;
	}
}

static size_t iov_copy_to(const struct iovec *iov, unsigned int cnt, const void *src, size_t len)
{
	const uint8_t *s = src;
	size_t done = 0;
	unsigned int i;

	for (i = 0; i < cnt && len; i++) {
		size_t n = iov[i].iov_len < len ? iov[i].iov_len : len;

		memcpy(iov[i].iov_base, s + done, n);
		done += n;
		len -= n;
	}
	return done;
}

/* [sector, sector + bytes/512) inside the disk, bytes a multiple of 512? */
static bool range_ok(const struct virtio_blk *blk, uint64_t sector, uint64_t bytes)
{
	uint64_t n = bytes >> SECTOR_SHIFT;

	if (bytes & ((1u << SECTOR_SHIFT) - 1))
		return false;
	return sector <= blk->capacity && n <= blk->capacity - sector;
}

/* DISCARD / WRITE_ZEROES payload: exactly one segment. */
static uint8_t parse_range(struct vblk_req *r, const struct virtio_blk *blk, uint32_t type,
			   const struct iovec *out, unsigned int nout, uint64_t out_len)
{
	struct virtio_blk_discard_write_zeroes seg;
	uint64_t sector;
	uint32_t nsec, flags;

	if (blk->readonly)
		return VIRTIO_BLK_S_IOERR;
	if (out_len != sizeof(seg))
		return VIRTIO_BLK_S_IOERR;	/* max_*_seg is 1 */
	iov_copy_from(out, nout, &seg, sizeof(seg));
	sector = le64toh(seg.sector);
	nsec = le32toh(seg.num_sectors);
	flags = le32toh(seg.flags);
	if (type == VIRTIO_BLK_T_DISCARD ? flags != 0 :
	    (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
		return VIRTIO_BLK_S_UNSUPP;
	if (nsec > VBLK_MAX_DISCARD_SECTORS || !range_ok(blk, sector, (uint64_t)nsec << SECTOR_SHIFT))
		return VIRTIO_BLK_S_IOERR;
	r->breq.op = type == VIRTIO_BLK_T_DISCARD ? BLK_OP_DISCARD : BLK_OP_WRITE_ZEROES;
	r->breq.offset = sector << SECTOR_SHIFT;
	r->breq.len = (uint64_t)nsec << SECTOR_SHIFT;
	return VIRTIO_BLK_S_OK;
}

/*
 * Parses r into r->breq.  Returns VIRTIO_BLK_S_OK when breq is ready to
 * submit, 0xff when the request is already answered (GET_ID: *done_len
 * set), else the error status to answer with.
 */
static uint8_t req_parse(struct vblk_queue *q, struct vblk_req *r, uint32_t *done_len)
{
	const struct virtio_blk *blk = q->blk;
	struct virtq_elem *e = &r->elem;
	struct virtio_blk_outhdr hdr;
	struct iovec *out = e->iov, *in = e->iov + e->nr_out, *last;
	unsigned int nout = e->nr_out, nin = e->nr_in;
	uint64_t out_len = e->out_len, in_len = e->in_len - 1;
	uint64_t sector;
	uint32_t type;

	/* status byte: the last device-writable byte (caller checked in_len >= 1) */
	last = &in[nin - 1];
	last->iov_len--;
	r->status = (uint8_t *)last->iov_base + last->iov_len;
	if (!last->iov_len)
		nin--;
	if (in_len >= UINT32_MAX || out_len >= UINT32_MAX)
		return VIRTIO_BLK_S_IOERR;	/* used.len is 32 bits */
	if (out_len < sizeof(hdr))
		return VIRTIO_BLK_S_IOERR;
	iov_copy_from(out, nout, &hdr, sizeof(hdr));
	out = iov_pull(out, &nout, sizeof(hdr));
	out_len -= sizeof(hdr);
	type = le32toh(hdr.type);
	sector = le64toh(hdr.sector);
	memset(&r->breq, 0, sizeof(r->breq));
	r->breq.cookie = r;
	r->written = 1;

	switch (type) {
	case VIRTIO_BLK_T_IN:
		if (out_len || !range_ok(blk, sector, in_len))
			return VIRTIO_BLK_S_IOERR;
		r->breq.op = BLK_OP_READ;
		r->breq.offset = sector << SECTOR_SHIFT;
		r->breq.iov = in;
		r->breq.iovcnt = nin;
		r->written = (uint32_t)in_len + 1;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_OUT:
		if (blk->readonly || in_len || !range_ok(blk, sector, out_len))
			return VIRTIO_BLK_S_IOERR;
		r->breq.op = BLK_OP_WRITE;
		r->breq.offset = sector << SECTOR_SHIFT;
		r->breq.iov = out;
		r->breq.iovcnt = nout;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_FLUSH:
		if (out_len || in_len)
			return VIRTIO_BLK_S_IOERR;
		r->breq.op = BLK_OP_FLUSH;
		return VIRTIO_BLK_S_OK;
	case VIRTIO_BLK_T_GET_ID:
		if (out_len)
			return VIRTIO_BLK_S_IOERR;
		*done_len = (uint32_t)iov_copy_to(in, nin, blk->serial,
						  in_len < VIRTIO_BLK_ID_BYTES ?
						  in_len : VIRTIO_BLK_ID_BYTES) + 1;
		return 0xff;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if (in_len)
			return VIRTIO_BLK_S_IOERR;
		return parse_range(r, blk, type, out, nout, out_len);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* Handles one popped chain.  Returns false if the ring is broken. */
static bool req_start(struct vblk_queue *q, struct vblk_req *r)
{
	uint32_t done_len = 1;
	unsigned int i;
	uint8_t st;
	int ret;

	/* virtq_pop() refuses a head that is still in flight */
	q->inflight++;
	r->status = NULL;
	r->counted = false;
	if (!r->elem.nr_in) {
		/* nowhere to put a status: return it unanswered */
		req_finish(q, r, 0, 0);
		return true;
	}
	st = req_parse(q, r, &done_len);
	if (st == 0xff) {
		req_finish(q, r, VIRTIO_BLK_S_OK, done_len);
		return true;
	}
	if (st != VIRTIO_BLK_S_OK) {
		req_finish(q, r, st, 1);
		return true;
	}
	r->counted = true;
	for (r->bytes = 0, i = 0; i < r->breq.iovcnt && r->breq.iov; i++)
		r->bytes += r->breq.iov[i].iov_len;
	ret = blk_queue_submit(q->bq, &r->breq);
	if (ret) {
		log_debug("virtio-blk: queue %u: submit failed: %s", q->index, strerror(-ret));
		req_finish(q, r, VIRTIO_BLK_S_IOERR, 1);
	}
	return true;
}

static void maybe_interrupt(struct vblk_queue *q)
{
	if (!q->vq->broken && virtq_need_interrupt(q->vq) && q->blk->t)
		virtio_pci_queue_irq(q->blk->t, q->index);
}

/*
 * A guest can alias its rings so that our own used-ring/flag writes make
 * new buffers "available" forever.  Bound the work done per call; when the
 * budget runs out, kick ourselves so the I/O thread comes back after
 * looking at completions and the stop request.
 */
static void requeue(struct vblk_queue *q)
{
	uint64_t one = 1;
	int fd;

	if (!q->blk->t)
		return;
	fd = virtio_pci_kick_fd(q->blk->t, q->index);
	if (fd >= 0 && write(fd, &one, sizeof(one)) != sizeof(one))
		log_debug("virtio-blk: queue %u: self-kick failed", q->index);
}

static bool process_ring(struct vblk_queue *q)
{
	struct virtq *vq = q->vq;
	uint16_t used_before = vq->used_idx;
	unsigned int budget = 2u * vq->size + 4;
	struct vblk_req *r;
	int ret;

	if (vq->broken)
		return false;
	do {
		if (!budget--) {
			requeue(q);
			break;
		}
		virtq_disable_notify(vq);
		while (q->free_head < vq->size && budget) {
			unsigned int slot = q->free_head;

			r = &q->reqs[slot];
			ret = virtq_pop(vq, &r->elem);
			if (ret == 0)
				break;
			if (ret < 0) {
				ring_broken(q);
				return false;
			}
			budget--;
			q->free_head = r->next_free;	/* req_finish() gives it back */
			if (!req_start(q, r)) {
				r->next_free = q->free_head;
				q->free_head = slot;
				ring_broken(q);
				return false;
			}
		}
		if (q->free_head >= vq->size)
			break;	/* all slots busy: completions will call us again */
	} while (virtq_enable_notify(vq));
	if (vq->used_idx != used_before)
		maybe_interrupt(q);
	return true;
}

/* Everything one notification made available starts with one submission. */
bool vblk_queue_process(struct vblk_queue *q)
{
	bool ret;

	blk_queue_plug(q->bq);
	ret = process_ring(q);
	blk_queue_unplug(q->bq);
	return ret;
}

unsigned int vblk_queue_complete(struct vblk_queue *q)
{
	struct blk_req *done[REAP_BATCH];
	unsigned int n, i, total = 0;

	do {
		n = blk_queue_reap(q->bq, done, REAP_BATCH);
		for (i = 0; i < n; i++) {
			struct vblk_req *r = done[i]->cookie;

			req_finish(q, r, done[i]->result ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK,
				   done[i]->result ? 1 : r->written);
		}
		total += n;
	} while (n == REAP_BATCH);
	if (total)
		maybe_interrupt(q);
	return total;
}

void vblk_queue_drain(struct vblk_queue *q)
{
	struct pollfd p = { .fd = blk_queue_eventfd(q->bq), .events = POLLIN };

	while (q->inflight) {
		if (poll(&p, 1, 1000) < 0 && errno != EINTR)
			break;
		vblk_queue_complete(q);
	}
}
