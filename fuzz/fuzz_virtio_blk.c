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
 *
 * With bit 7 of byte 0 set the input instead drives the virtio-pci
 * transport registers (fuzz_transport): 8-byte records of PCI config space
 * (through ports 0xcf8/0xcfc, so the VIRTIO_PCI_CAP_PCI_CFG window too) and
 * BAR reads/writes, against a device without threads.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "devices/pci.h"
#include "fake_vm.h"
#include "log.h"
#include "mem/layout.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_pci.h"

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

/* The transport's device: no threads, so every input runs the same way. */
static unsigned int t_nq(void *dev) { return 2; }
static uint64_t t_features(void *dev) { return 1ULL << 5; }
static unsigned int t_cfg_size(void *dev) { return 16; }
static void t_cfg_read(void *dev, unsigned int off, void *data, unsigned int len)
{
	memset(data, (int)off, len);
}
static int t_activate(void *dev, struct virtio_pci_dev *t, uint64_t f, struct virtq *vqs,
		      unsigned int nr)
{
	return 0;
}
static void t_reset(void *dev) { }

static const struct virtio_dev_ops transport_ops = {
	.name = "fuzz", .device_id = 2, .pci_class = 0x018000, .queue_max_size = 64,
	.num_queues = t_nq, .features = t_features, .config_size = t_cfg_size,
	.config_read = t_cfg_read, .activate = t_activate, .reset = t_reset,
};

/*
 * Records of 8 bytes: op (bit 0 write, bit 1 BAR instead of config space),
 * offset (2 bytes LE; config space mod 256, BAR mod its size), log2 length
 * (mod 4: 1..8 bytes; config space at most 4), value (4 bytes LE).
 */
static void fuzz_transport(const uint8_t *data, size_t size)
{
	struct virtio_pci_dev *t;
	size_t i;

	if (pci_bus_create(&vm))
		return;
	if (virtio_pci_create(&vm, &transport_ops, NULL, &t))
		goto out_bus;
	if (pci_dev_register(&vm, &t->pci))
		goto out_dev;
	for (i = 0; i + 8 <= size; i += 8) {
		const uint8_t *r = &data[i];
		unsigned int off = r[1] | r[2] << 8, len = 1u << (r[3] % 4);
		uint64_t v = (uint64_t)r[4] | (uint64_t)r[5] << 8 | (uint64_t)r[6] << 16 |
			     (uint64_t)r[7] << 24;
		bool write = r[0] & 1;

		if (r[0] & 2) {
			off %= VPCI_BAR_SIZE;
			if (off + len > VPCI_BAR_SIZE)
				continue;
			if (write)
				t->pci.bars[VPCI_BAR].ops->write(t, off, &v, len);
			else
				t->pci.bars[VPCI_BAR].ops->read(t, off, &v, len);
		} else {
			uint32_t a = 0x80000000u | t->pci.slot << 11 | (off & 0xfc);

			if (len > 4)
				len = 4;
			off &= 0xff;
			if ((off & 3) + len > 4)
				continue;
			bus_access(&vm.pio_bus, PORT_PCI_CONF_ADDR, &a, 4, true);
			bus_access(&vm.pio_bus, PORT_PCI_CONF_DATA + (off & 3), &v, len, write);
		}
	}
out_dev:
	virtio_pci_destroy(t);
out_bus:
	pci_bus_destroy(&vm);
	/* BARs the guest mapped stay on the MMIO bus: start the next input clean */
	bus_destroy(&vm.mmio_bus);
	if (bus_init(&vm.mmio_bus, "mmio"))
		abort();
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
	vm.mem.nr_regions = 0;
	if (gm_add_region(&vm.mem, 0, RAM_SIZE, ram))
		goto out;
	if (data[0] & 0x80) {
		fuzz_transport(data + 1, size - 1);
		goto out;
	}
	memcpy(ram, data + 8, size - 8 < RAM_SIZE ? size - 8 : RAM_SIZE);

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
