/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk (virtio 1.x, 5.2) on the async block layer.
 *
 * One I/O thread per virtqueue waits (epoll) on the queue's kick eventfd and
 * its blk_queue's completion eventfd: requests are parsed and submitted as
 * they arrive, and completed (used ring + interrupt through an irqfd) as the
 * block layer finishes them.  A FLUSH completes only when the block layer
 * says it is durable.
 *
 * The request path (struct vblk_queue) works without the PCI transport and
 * without threads, so unit tests and the fuzzer drive it synchronously.
 */
#ifndef VMM_VIRTIO_BLK_H
#define VMM_VIRTIO_BLK_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/virtio_blk.h>

#include "block/block.h"
#include "virtqueue.h"

struct vm;
struct virtio_pci_dev;

#define VBLK_QUEUE_MAX_SIZE	256
#define VBLK_SEG_MAX		126		/* data segments per request */
#define VBLK_MAX_IOV		(VBLK_SEG_MAX + 2)	/* + header + status */
#define VBLK_MAX_QUEUES		64
#define VBLK_MAX_DISCARD_SECTORS	(1u << 22)	/* 2 GiB per request */

struct vblk_req {
	struct virtq_elem elem;
	struct iovec iov[VBLK_MAX_IOV];
	struct blk_req breq;
	volatile uint8_t *status;	/* last device-writable byte */
	uint32_t written;		/* used length on success */
	bool counted;			/* submitted: its op and bytes count on completion */
	uint64_t bytes;			/* data bytes of a READ or WRITE */
	unsigned int next_free;
};

struct vblk_queue {
	struct virtio_blk *blk;
	unsigned int index;
	struct virtq *vq;
	struct blk_queue *bq;
	struct vblk_req *reqs;		/* vq->size slots */
	unsigned int free_head;		/* free slot list; vq->size = empty */
	unsigned int inflight;

	/* I/O thread */
	int epfd, stop_fd;
	pthread_t thread;
	bool running;
	bool paused;			/* thread stopped by virtio_blk_pause() */
};

/* Per queue (vm.counters): updated with relaxed atomics, read the same way. */
struct vblk_stats {
	uint64_t requests;	/* answered */
	uint64_t read_ops, write_ops, flush_ops;
	uint64_t read_bytes, write_bytes;
	uint64_t errors;	/* answered with IOERR or UNSUPP */
};

struct virtio_blk {
	struct vm *vm;
	struct virtio_pci_dev *t;	/* NULL when driven without PCI (tests) */
	struct blk_image *img;
	enum blk_engine_kind engine;
	bool readonly;
	uint64_t capacity;		/* sectors */
	uint64_t offered;		/* device feature bits */
	uint64_t acked;			/* negotiated (set at activate) */
	unsigned int nr_queues;
	char serial[VIRTIO_BLK_ID_BYTES];
	struct virtio_blk_config cfg;	/* little-endian, as the guest reads it */
	struct vblk_queue *queues;	/* nr_queues, live between activate and reset */
	struct vblk_stats stats[VBLK_MAX_QUEUES];	/* kept over a device reset */
};

/* API for the VM. */
int virtio_blk_create(struct vm *vm, const struct disk_opts *o, struct virtio_pci_dev **out,
		      char *err, size_t errlen);
void virtio_blk_destroy(struct virtio_pci_dev *d);
/* As virtio_blk_create, on an image already open (NULL: open o's); takes img. */
int virtio_blk_create_with(struct vm *vm, const struct disk_opts *o, struct blk_image *img,
			   struct virtio_pci_dev **out, char *err, size_t errlen);
/* Stops the device's I/O, flushes the image and hands it over (vm_reset keeps disks open). */
struct blk_image *virtio_blk_take_image(struct virtio_pci_dev *d);
/* Reports each queue's counters (the device list's counters op, any thread). */
struct vm_counter_sink;
void virtio_blk_counters(struct virtio_pci_dev *d, struct vm_counter_sink *s);
/* vm_pause(): in-flight requests complete, no new ones are taken until resume. 0 or -errno. */
int virtio_blk_pause(struct virtio_pci_dev *d);
void virtio_blk_resume(struct virtio_pci_dev *d);

/*
 * State (virtio_blk_state.c, docs/devices.md "Device state"): the transport,
 * every queue's indices, capacity / read-only / queue count (must match on
 * restore).  Save needs the device paused: -EBUSY if a queue still runs or
 * holds a request.  Restore restarts the queues the driver had running.
 */
#define VIRTIO_BLK_STATE_VERSION	1
struct state_writer;
struct state_reader;
int virtio_blk_save(struct virtio_pci_dev *d, struct state_writer *w);
int virtio_blk_restore(struct virtio_pci_dev *d, struct state_reader *r);

/*
 * Without the PCI transport: opens the image and fills config and features
 * (nr_queues from o->num_queues or vm->nr_vcpus).  0 or -errno.
 */
int virtio_blk_new(struct vm *vm, const struct disk_opts *o, struct virtio_blk **out,
		   char *err, size_t errlen);
void virtio_blk_free(struct virtio_blk *blk);

/* The request path of one queue (vq already mapped and ready). */
int vblk_queue_init(struct vblk_queue *q, struct virtio_blk *blk, unsigned int index,
		    struct virtq *vq);
/* Pops and submits/answers every available request; false if the ring is broken. */
bool vblk_queue_process(struct vblk_queue *q);
/* Completes finished requests; returns how many. */
unsigned int vblk_queue_complete(struct vblk_queue *q);
/* Waits for and completes every in-flight request (tests, fuzzer, reset). */
void vblk_queue_drain(struct vblk_queue *q);
/* Destroys the blk_queue (waiting for in-flight I/O) and frees slots. */
void vblk_queue_fini(struct vblk_queue *q);

#endif
