// SPDX-License-Identifier: MIT
/*
 * virtio-blk device: features and config space from the image, the ops
 * table the transport drives, and one I/O thread per active queue.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "devices/devlist.h"
#include "log.h"
#include "sandbox/sandbox.h"
#include "vm.h"
#include "virtio_blk.h"
#include "virtio_pci.h"

#define PCI_CLASS_STORAGE_OTHER	0x018000

static unsigned int blk_num_queues(void *dev)
{
	return ((struct virtio_blk *)dev)->nr_queues;
}

static uint64_t blk_features(void *dev)
{
	return ((struct virtio_blk *)dev)->offered;
}

static unsigned int blk_config_size(void *dev)
{
	return sizeof(struct virtio_blk_config);
}

static void blk_config_read(void *dev, unsigned int off, void *data, unsigned int len)
{
	struct virtio_blk *blk = dev;

	memcpy(data, (const uint8_t *)&blk->cfg + off, len);
}

/* Nothing in the config is writable (no CONFIG_WCE): writes are ignored. */
static void blk_config_write(void *dev, unsigned int off, const void *data, unsigned int len)
{
}

static void *io_thread(void *arg)
{
	struct vblk_queue *q = arg;
	int kick = virtio_pci_kick_fd(q->blk->t, q->index);
	int done = blk_queue_eventfd(q->bq);
	struct epoll_event ev[3];
	uint64_t v;
	int i, n;

	/* on failure (logged) it still runs under its creator's (vCPU) filter */
	sandbox_apply(SANDBOX_BLOCK_IO);
	/* buffers may have been queued before DRIVER_OK */
	vblk_queue_process(q);
	for (;;) {
		bool kicked = false, completed = false;

		n = epoll_wait(q->epfd, ev, 3, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_err("virtio-blk: queue %u: epoll_wait: %s", q->index, strerror(errno));
			break;
		}
		for (i = 0; i < n; i++) {
			if (ev[i].data.fd == q->stop_fd)
				return NULL;
			if (ev[i].data.fd == kick) {
				if (read(kick, &v, sizeof(v)) < 0 && errno != EAGAIN)
					log_debug("virtio-blk: kick read: %s", strerror(errno));
				kicked = true;
			}
			if (ev[i].data.fd == done)
				completed = true;
		}
		if (completed)
			vblk_queue_complete(q);
		/* completions free slots that a full queue may be waiting for */
		if (kicked || completed)
			vblk_queue_process(q);
	}
	return NULL;
}

static int ep_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int queue_start(struct vblk_queue *q)
{
	int ret;

	q->epfd = epoll_create1(EPOLL_CLOEXEC);
	q->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (q->epfd < 0 || q->stop_fd < 0)
		return -errno;
	ret = ep_add(q->epfd, q->stop_fd);
	if (!ret)
		ret = ep_add(q->epfd, virtio_pci_kick_fd(q->blk->t, q->index));
	if (!ret)
		ret = ep_add(q->epfd, blk_queue_eventfd(q->bq));
	if (ret)
		return ret;
	ret = -pthread_create(&q->thread, NULL, io_thread, q);
	if (ret)
		return ret;
	q->running = true;
	return 0;
}

static void queue_stop(struct vblk_queue *q)
{
	uint64_t one = 1;

	if (q->running) {
		if (write(q->stop_fd, &one, sizeof(one)) != sizeof(one))
			log_err("virtio-blk: queue %u: cannot stop I/O thread", q->index);
		pthread_join(q->thread, NULL);
		q->running = false;
	}
	/*
	 * blk_queue_destroy() waits for in-flight I/O, so nothing reaches guest
	 * memory after a reset; those requests are not put in the used ring.
	 */
	vblk_queue_fini(q);
	if (q->epfd >= 0)
		close(q->epfd);
	if (q->stop_fd >= 0)
		close(q->stop_fd);
	q->epfd = q->stop_fd = -1;
}

static void blk_reset(void *dev)
{
	struct virtio_blk *blk = dev;
	unsigned int i;

	if (!blk->queues)
		return;
	for (i = 0; i < blk->nr_queues; i++)
		if (blk->queues[i].vq)
			queue_stop(&blk->queues[i]);
	free(blk->queues);
	blk->queues = NULL;
	blk->acked = 0;
}

static int blk_activate(void *dev, struct virtio_pci_dev *t, uint64_t features,
			struct virtq *vqs, unsigned int nr)
{
	struct virtio_blk *blk = dev;
	unsigned int i;
	int ret;

	blk->acked = features;
	blk->queues = calloc(nr, sizeof(*blk->queues));
	if (!blk->queues)
		return -ENOMEM;
	for (i = 0; i < nr; i++) {
		struct vblk_queue *q = &blk->queues[i];

		if (!vqs[i].ready)
			continue;
		ret = vblk_queue_init(q, blk, i, &vqs[i]);
		if (!ret)
			ret = queue_start(q);
		if (ret) {
			log_err("virtio-blk %s: queue %u: cannot start: %s", blk->img->path, i,
				strerror(-ret));
			if (!q->vq)
				q->vq = &vqs[i];
			blk_reset(blk);
			return ret;
		}
	}
	return 0;
}

static const struct virtio_dev_ops virtio_blk_ops = {
	.name = "virtio-blk",
	.device_id = VIRTIO_ID_BLOCK_DEV,
	.pci_class = PCI_CLASS_STORAGE_OTHER,
	.queue_max_size = VBLK_QUEUE_MAX_SIZE,
	.num_queues = blk_num_queues,
	.features = blk_features,
	.config_size = blk_config_size,
	.config_read = blk_config_read,
	.config_write = blk_config_write,
	.activate = blk_activate,
	.reset = blk_reset,
};

static unsigned int ilog2u(unsigned int v)
{
	unsigned int r = 0;

	while (v >>= 1)
		r++;
	return r;
}

static void fill_config(struct virtio_blk *blk)
{
	struct virtio_blk_config *c = &blk->cfg;
	unsigned int bs = blk->img->block_size >= 512 ? blk->img->block_size : 512;
	unsigned int phys = blk->img->align > bs ? blk->img->align : bs;

	memset(c, 0, sizeof(*c));
	c->capacity = htole64(blk->capacity);
	c->seg_max = htole32(VBLK_SEG_MAX);
	c->blk_size = htole32(bs);
	c->physical_block_exp = (uint8_t)ilog2u(phys / bs);
	c->min_io_size = htole16(1);
	c->num_queues = htole16((uint16_t)blk->nr_queues);
	c->max_discard_sectors = htole32(VBLK_MAX_DISCARD_SECTORS);
	c->max_discard_seg = htole32(1);
	c->discard_sector_alignment = htole32(bs >> 9);
	c->max_write_zeroes_sectors = htole32(VBLK_MAX_DISCARD_SECTORS);
	c->max_write_zeroes_seg = htole32(1);
	c->write_zeroes_may_unmap = 0;

	blk->offered = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_BLK_SIZE) |
		       (1ULL << VIRTIO_BLK_F_FLUSH) | (1ULL << VIRTIO_BLK_F_TOPOLOGY) |
		       (1ULL << VIRTIO_BLK_F_MQ);
	if (blk->readonly)
		blk->offered |= 1ULL << VIRTIO_BLK_F_RO;
	else
		blk->offered |= (1ULL << VIRTIO_BLK_F_DISCARD) |
				(1ULL << VIRTIO_BLK_F_WRITE_ZEROES);
}

/* img: an image already open (vm_reset keeps them), or NULL: open o->path. */
static int blk_new(struct vm *vm, const struct disk_opts *o, struct blk_image *img,
		   struct virtio_blk **out, char *err, size_t errlen)
{
	struct virtio_blk *blk;
	unsigned int nq;
	int ret = 0;

	nq = o->num_queues ? o->num_queues : vm->nr_vcpus;
	if (!nq)
		nq = 1;
	if (nq > VBLK_MAX_QUEUES) {
		snprintf(err, errlen, "%s: num-queues=%u: at most %u", o->path, nq,
			 VBLK_MAX_QUEUES);
		return -EINVAL;
	}
	blk = calloc(1, sizeof(*blk));
	if (!blk) {
		snprintf(err, errlen, "%s: out of memory", o->path);
		return -ENOMEM;
	}
	if (img)
		blk->img = img;
	else
		ret = blk_image_open_opts(o, &blk->img, err, errlen);
	if (ret) {
		free(blk);
		return ret;
	}
	blk->vm = vm;
	blk->engine = o->engine;
	blk->readonly = o->readonly || blk->img->readonly;
	blk->capacity = blk->img->size >> 9;
	blk->nr_queues = nq;
	memcpy(blk->serial, o->serial, strnlen(o->serial, VIRTIO_BLK_ID_BYTES));
	fill_config(blk);
	*out = blk;
	return 0;
}

int virtio_blk_new(struct vm *vm, const struct disk_opts *o, struct virtio_blk **out,
		   char *err, size_t errlen)
{
	return blk_new(vm, o, NULL, out, err, errlen);
}

void virtio_blk_free(struct virtio_blk *blk)
{
	if (!blk)
		return;
	blk_reset(blk);
	if (blk->img)
		blk_image_close(blk->img);
	free(blk);
}

int virtio_blk_create(struct vm *vm, const struct disk_opts *o, struct virtio_pci_dev **out,
		      char *err, size_t errlen)
{
	return virtio_blk_create_with(vm, o, NULL, out, err, errlen);
}

int virtio_blk_create_with(struct vm *vm, const struct disk_opts *o, struct blk_image *img,
			   struct virtio_pci_dev **out, char *err, size_t errlen)
{
	struct virtio_pci_dev *t;
	struct virtio_blk *blk;
	int ret;

	ret = blk_new(vm, o, img, &blk, err, errlen);
	if (ret) {
		if (img)
			blk_image_close(img);
		return ret;
	}
	ret = virtio_pci_create(vm, &virtio_blk_ops, blk, &t);
	if (ret) {
		snprintf(err, errlen, "%s: cannot create virtio-pci device: %s", o->path,
			 strerror(-ret));
		goto err_blk;
	}
	blk->t = t;
	ret = pci_dev_register(vm, &t->pci);
	if (ret) {
		snprintf(err, errlen, "%s: cannot put virtio-blk on the PCI bus: %s", o->path,
			 strerror(-ret));
		goto err_pci;
	}
	log_info("virtio-blk %s: %llu sectors, %u queue(s)%s, slot %u", o->path,
		 (unsigned long long)blk->capacity, blk->nr_queues,
		 blk->readonly ? ", read-only" : "", t->pci.slot);
	*out = t;
	return 0;
err_pci:
	virtio_pci_destroy(t);
err_blk:
	virtio_blk_free(blk);
	return ret;
}

void virtio_blk_destroy(struct virtio_pci_dev *d)
{
	struct virtio_blk *blk;

	if (!d)
		return;
	blk = d->dev;
	virtio_pci_destroy(d);
	virtio_blk_free(blk);
}

struct blk_image *virtio_blk_take_image(struct virtio_pci_dev *d)
{
	struct virtio_blk *blk = d->dev;
	struct blk_image *img = blk->img;
	int ret;

	blk_reset(blk);		/* I/O threads stopped, nothing in flight */
	if (img && !img->readonly && img->ops->flush) {
		ret = img->ops->flush(img);
		if (ret)
			log_warn("virtio-blk %s: flush before reset failed: %s", img->path,
				 strerror(-ret));
	}
	blk->img = NULL;
	return img;
}

/*
 * Pause: each queue's I/O thread ends, and what the guest had submitted
 * completes (used ring, interrupt) before we return; kicks that arrive
 * later wait in the eventfd.  Resume starts the threads again; they look
 * at the avail ring first.
 */
int virtio_blk_pause(struct virtio_pci_dev *d)
{
	struct virtio_blk *blk = d->dev;
	uint64_t one = 1;
	unsigned int i;

	if (!blk->queues)
		return 0;
	for (i = 0; i < blk->nr_queues; i++) {
		struct vblk_queue *q = &blk->queues[i];

		if (!q->vq || !q->running)
			continue;
		if (write(q->stop_fd, &one, sizeof(one)) != sizeof(one))
			return -errno;
		pthread_join(q->thread, NULL);
		q->running = false;
		q->paused = true;
		vblk_queue_drain(q);
	}
	return 0;
}

void virtio_blk_resume(struct virtio_pci_dev *d)
{
	struct virtio_blk *blk = d->dev;
	unsigned int i;
	uint64_t v;
	int ret;

	if (!blk->queues)
		return;
	for (i = 0; i < blk->nr_queues; i++) {
		struct vblk_queue *q = &blk->queues[i];

		if (!q->paused)
			continue;
		q->paused = false;
		if (read(q->stop_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			log_debug("virtio-blk: stop_fd read: %s", strerror(errno));
		ret = pthread_create(&q->thread, NULL, io_thread, q);
		if (ret) {
			log_err("virtio-blk %s: queue %u: cannot restart its I/O thread: %s",
				blk->img->path, i, strerror(ret));
			virtio_pci_set_needs_reset(blk->t);
			continue;
		}
		q->running = true;
	}
}

void virtio_blk_counters(struct virtio_pci_dev *d, struct vm_counter_sink *s)
{
	struct virtio_blk *blk = d->dev;
	unsigned int i;

	for (i = 0; i < blk->nr_queues; i++) {
		const struct vblk_stats *st = &blk->stats[i];
		const struct { const char *name; const uint64_t *v; } c[] = {
			{ "requests", &st->requests },
			{ "read_ops", &st->read_ops },
			{ "write_ops", &st->write_ops },
			{ "flush_ops", &st->flush_ops },
			{ "read_bytes", &st->read_bytes },
			{ "write_bytes", &st->write_bytes },
			{ "errors", &st->errors },
		};
		unsigned int k;

		for (k = 0; k < sizeof(c) / sizeof(c[0]); k++)
			vm_counter_put(s, (int)i, c[k].name, __atomic_load_n(c[k].v, __ATOMIC_RELAXED));
	}
}
