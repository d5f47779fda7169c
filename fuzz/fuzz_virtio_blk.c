// SPDX-License-Identifier: MIT
/*
 * The guest as the attacker of virtio-blk: the input becomes guest RAM and
 * a queue layout, and the request path (virtqueue walk, request parsing,
 * block layer, completion) runs against a small temp image until nothing
 * is in flight.
 *
 * Input: byte 0 flags (bit 0 EVENT_IDX, bit 1 INDIRECT, bit 2 read-only
 * disk), byte 1 log2 queue size (mod 9), bytes 2..7 desc/avail/used page
 * numbers (mod 16), then guest RAM (64 KiB, rest zero).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_vm.h"
#include "log.h"
#include "virtio/virtio_blk.h"

#define RAM_SIZE	(64 * 1024)
#define IMG_SIZE	(64 * 1024)

struct fuzz_disk {
	char path[64];
	struct virtio_blk *blk;
};

static struct fuzz_disk disks[2];	/* [0] read-write, [1] read-only */
static struct vm vm;

static int open_disk(struct fuzz_disk *d, bool readonly)
{
	struct disk_opts o;
	char err[256];
	int fd;

	snprintf(d->path, sizeof(d->path), "/tmp/vmm-fuzz-vblk-XXXXXX");
	fd = mkstemp(d->path);
	if (fd < 0 || ftruncate(fd, IMG_SIZE))
		return -1;
	close(fd);
	memset(&o, 0, sizeof(o));
	snprintf(o.path, sizeof(o.path), "%s", d->path);
	o.format = DISK_FORMAT_RAW;
	o.readonly = readonly;
	o.engine = BLK_ENGINE_THREADS;
	snprintf(o.serial, sizeof(o.serial), "fuzz");
	if (virtio_blk_new(&vm, &o, &d->blk, err, sizeof(err))) {
		fprintf(stderr, "fuzz_virtio_blk: %s\n", err);
		return -1;
	}
	unlink(d->path);
	return 0;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_set_level(LOG_ERR);
	if (fake_vm_init(&vm, 0))
		abort();
	if (open_disk(&disks[0], false) || open_disk(&disks[1], true))
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vblk_queue q;
	struct virtq vq;
	struct virtio_blk *blk;
	uint8_t *ram;
	unsigned int round;

	if (size < 8)
		return 0;
	ram = calloc(1, RAM_SIZE);
	if (!ram)
		return 0;
	memcpy(ram, data + 8, size - 8 < RAM_SIZE ? size - 8 : RAM_SIZE);
	vm.mem.nr_regions = 0;
	if (gm_add_region(&vm.mem, 0, RAM_SIZE, ram))
		goto out;

	blk = disks[(data[0] >> 2) & 1].blk;
	memset(&vq, 0, sizeof(vq));
	vq.mem = &vm.mem;
	vq.size = (uint16_t)(1u << (data[1] % 9));
	vq.desc_gpa = (uint64_t)(data[2] % 16) * 4096 + (data[3] & 0xf0);
	vq.avail_gpa = (uint64_t)(data[4] % 16) * 4096 + (data[5] & 0xfe);
	vq.used_gpa = (uint64_t)(data[6] % 16) * 4096 + (data[7] & 0xfc);
	vq.event_idx = data[0] & 1;
	vq.indirect = data[0] & 2;
	vq.ready = true;
	if (virtq_map(&vq))
		goto out;
	if (vblk_queue_init(&q, blk, 0, &vq))
		goto out;
	/* used ring may overlap everything: keep going while requests complete */
	for (round = 0; round < 4; round++) {
		if (!vblk_queue_process(&q))
			break;
		vblk_queue_drain(&q);
	}
	vblk_queue_drain(&q);
	vblk_queue_fini(&q);
out:
	vm.mem.nr_regions = 0;
	free(ram);
	return 0;
}
