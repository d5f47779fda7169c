// SPDX-License-Identifier: MIT
/*
 * virtio-blk state: the transport's (virtio_pci_state.c), then the disk's
 * geometry as the guest saw it, which the restoring device must match.
 * The device must be paused (virtio_blk_pause): every request the guest
 * submitted has completed, so nothing in flight is saved.
 *
 * Device part, version 1: u64 capacity (sectors), u8 read-only,
 * u32 queues.
 */
#include <errno.h>

#include "log.h"
#include "state/stream.h"
#include "virtio_blk.h"
#include "virtio_pci.h"

static int blk_save(void *dev, struct state_writer *w)
{
	struct virtio_blk *blk = dev;

	state_put_u64(w, blk->capacity);
	state_put_u8(w, blk->readonly);
	state_put_u32(w, blk->nr_queues);
	return w->error;
}

static int blk_restore(void *dev, struct state_reader *r, void *ctx)
{
	struct virtio_blk *blk = dev;
	uint64_t capacity;
	uint32_t nq;
	uint8_t ro;
	int ret;

	ret = state_get_u64(r, &capacity);
	if (!ret)
		ret = state_get_u8(r, &ro);
	if (!ret)
		ret = state_get_u32(r, &nq);
	if (ret)
		return ret;
	if (capacity != blk->capacity)
		return state_reader_fail(r, "virtio-blk %s: the guest saw %llu sectors, the image has %llu now (resized?)",
					 blk->img ? blk->img->path : "?",
					 (unsigned long long)capacity,
					 (unsigned long long)blk->capacity);
	if (ro != blk->readonly || nq != blk->nr_queues)
		return state_reader_fail(r, "virtio-blk %s: saved %s with %u queue(s), here %s with %u",
					 blk->img ? blk->img->path : "?",
					 ro ? "read-only" : "read-write", nq,
					 blk->readonly ? "read-only" : "read-write", blk->nr_queues);
	return 0;
}

static const struct virtio_dev_state blk_state = {
	.save = blk_save,
	.restore = blk_restore,
};

int virtio_blk_save(struct virtio_pci_dev *d, struct state_writer *w)
{
	struct virtio_blk *blk = d->dev;
	unsigned int i;

	for (i = 0; blk->queues && i < blk->nr_queues; i++) {
		if (blk->queues[i].running || blk->queues[i].inflight) {
			log_err("virtio-blk %s: queue %u is %s: pause the VM before saving it",
				blk->img ? blk->img->path : "?", i,
				blk->queues[i].running ? "running" : "not drained");
			return -EBUSY;
		}
	}
	return virtio_pci_save(d, &blk_state, w);
}

int virtio_blk_restore(struct virtio_pci_dev *d, struct state_reader *r)
{
	return virtio_pci_restore(d, &blk_state, NULL, r);
}
