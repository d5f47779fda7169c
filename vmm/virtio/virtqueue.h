/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueues (virtio 1.x, 2.7), device side, with the guest treated
 * as hostile: every index is range-checked, chains are bounded by the queue
 * size (which also catches loops), indirect tables are checked the same
 * way, a head the device still holds cannot be made available again, and
 * every ring and buffer is reached through gm_ptr().
 *
 * One virtq is used by one thread at a time: the transport while the device
 * is stopped, the device's I/O thread while it runs.
 */
#ifndef VMM_VIRTQUEUE_H
#define VMM_VIRTQUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "mem/guest_mem.h"

#define VIRTQ_MAX_SIZE	32768

struct state_writer;
struct state_reader;
struct vring_desc;
struct vring_avail;
struct vring_used;

struct virtq {
	/* configured by the transport */
	const struct guest_mem *mem;
	uint16_t size;			/* power of two, 1..VIRTQ_MAX_SIZE */
	bool ready;			/* queue_enable written 1 and addresses valid */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;			/* VIRTIO_RING_F_INDIRECT_DESC negotiated */

	/* host views, set by virtq_map() */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;

	/* device state */
	uint16_t last_avail_idx;
	uint16_t used_idx;
	uint16_t signalled_used;
	bool signalled_valid;
	bool broken;			/* ring corruption seen: stop using it */
	/* heads popped and not yet pushed: a head offered again while the
	 * device owns it would let two requests share (and complete) one chain */
	uint64_t in_flight[VIRTQ_MAX_SIZE / 64];
};

/*
 * One popped chain.  iov[0..nr_out) are device-readable, then
 * iov[nr_out..nr_out+nr_in) device-writable.  Zero-length descriptors are
 * dropped.  The caller provides iov[max].
 */
struct virtq_elem {
	uint16_t head;
	unsigned int nr_out, nr_in;
	uint64_t out_len, in_len;	/* total bytes */
	unsigned int max;
	struct iovec *iov;
};

/* Byte sizes of the three areas for a queue of n entries (with event fields). */
uint64_t virtq_desc_bytes(unsigned int n);
uint64_t virtq_avail_bytes(unsigned int n);
uint64_t virtq_used_bytes(unsigned int n);

/* Clears device state; keeps mem. */
void virtq_reset(struct virtq *vq);

/*
 * Checks size and the three areas (alignment, inside one guest RAM region)
 * and sets the host views.  0, -EINVAL (size/alignment) or -EFAULT.
 */
int virtq_map(struct virtq *vq);

/*
 * Takes the next available chain.  1: *e filled; 0: nothing available;
 * -EIO: the ring or this chain is corrupt (avail index jumped more than
 * size, head/next out of range, loop or chain longer than the queue,
 * buffer outside guest RAM, readable after writable, bad indirect table,
 * more buffers than e->max, head still in flight: popped and not yet
 * pushed).  After -EIO the queue is marked broken.
 */
int virtq_pop(struct virtq *vq, struct virtq_elem *e);

/*
 * Gives back the most recently popped chain, which must be `head` and not
 * yet pushed (the device found no use for it, e.g. rx without room for the
 * frame): last_avail_idx goes back by one and the head is no longer in
 * flight, so the next virtq_pop() takes that ring slot again.  Several
 * chains are given back in the reverse order of their pops.  0, or -EINVAL
 * (nothing popped to give back, or head not in flight: a device bug; the
 * queue is left as it was).
 */
int virtq_unpop(struct virtq *vq, uint16_t head);

/*
 * Puts (head, len) in the used ring and publishes the new used index; the
 * head is no longer in flight.  With vmm's dirty log on (live migration),
 * marks the used ring and the chain's device-writable buffers dirty.
 */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);

/* After pushes: does the driver want an interrupt now?  Updates the tracking. */
bool virtq_need_interrupt(struct virtq *vq);

/*
 * Before sleeping: ask the driver for notifications (avail_event or clear
 * NO_NOTIFY).  Returns true if buffers arrived meanwhile (process again).
 */
bool virtq_enable_notify(struct virtq *vq);
/* While processing: tell the driver kicks are not needed (no-op with EVENT_IDX). */
void virtq_disable_notify(struct virtq *vq);

/* No head popped and not yet pushed. */
bool virtq_idle(const struct virtq *vq);

/*
 * State (docs/devices.md, "Device state"): size, ready, the three ring
 * addresses, last_avail_idx, used_idx, the interrupt-suppression tracking
 * and the broken flag.  Save refuses (-EBUSY, message in w) a queue with a
 * head in flight: the device must be drained (paused) first (a broken
 * queue is saved as is: it does nothing more until the driver resets it).  Restore
 * checks everything (size a power of two up to max_size, a ready queue's
 * rings inside guest RAM through gm_ptr(), flags 0/1) and sets *vq only
 * when all is good: 0 or -errno with r's message naming queue q.  vq->mem
 * must be set; event_idx/indirect come from the features at activation.
 */
int virtq_save(const struct virtq *vq, struct state_writer *w);
int virtq_restore(struct virtq *vq, struct state_reader *r, unsigned int q,
		  unsigned int max_size);

/* The spec's vring_need_event(), exposed for tests. */
bool virtq_need_event(uint16_t event_idx, uint16_t new_idx, uint16_t old_idx);

#endif
