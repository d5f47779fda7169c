// SPDX-License-Identifier: MIT
/*
 * Arbitrary device sections fed to each device's restore, as a restoring
 * vmm would after the stream's framing and CRC checked out: the first byte
 * picks the device (UART, legacy devices, GED, pc-testdev, PCI bus, a
 * virtio-pci transport with a stand-in device, virtio-blk, virtio-net on
 * user networking), the rest is the section payload.  Restore must refuse
 * or accept it with no crash, hang, leak or out-of-bounds access; an
 * accepted state must save again, and a restored virtio device is reset
 * (its I/O threads stopped) before the next input.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_pci.h>

#include "devices/ged.h"
#include "devices/legacy.h"
#include "devices/pci.h"
#include "devices/testdev.h"
#include "devices/uart.h"
#include "fake_vm.h"
#include "log.h"
#include "mem/layout.h"
#include "state/stream.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_net_state.h"
#include "virtio/virtio_pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM	(1ULL << 20)

/* Long-lived: a VM with a PCI bus, a disk and a network card (slow to make). */
static struct vm vm;
static struct virtio_pci_dev *blk, *net, *dummy;
static bool ready;

static unsigned int d_nq(void *dev) { return 3; }
static uint64_t d_features(void *dev) { return 1ULL << 5; }
static unsigned int d_cfg_size(void *dev) { return 4; }
static void d_cfg_read(void *dev, unsigned int off, void *p, unsigned int len)
{
	memset(p, 0, len);
}
static int d_activate(void *dev, struct virtio_pci_dev *t, uint64_t f, struct virtq *vqs,
		      unsigned int nr)
{
	return 0;
}
static void d_reset(void *dev) { }

static const struct virtio_dev_ops dummy_ops = {
	.name = "fuzz-dummy", .device_id = 2, .pci_class = 0x018000, .queue_max_size = 128,
	.num_queues = d_nq, .features = d_features, .config_size = d_cfg_size,
	.config_read = d_cfg_read, .activate = d_activate, .reset = d_reset,
};

static int setup(void)
{
	struct disk_opts o;
	struct net_opts no = { .kind = NET_USER, .queues = 1 };
	char path[] = "/tmp/vmm-fuzz-devstate-XXXXXX", err[256];
	int fd, ret;

	log_set_level(LOG_ERR);
	if (fake_vm_init(&vm, RAM) || pci_bus_create(&vm))
		return -1;
	fd = mkstemp(path);
	if (fd < 0)
		return -1;
	ret = ftruncate(fd, 1 << 20);
	close(fd);
	memset(&o, 0, sizeof(o));
	snprintf(o.path, sizeof(o.path), "%s", path);
	o.format = DISK_FORMAT_RAW;
	o.num_queues = 2;
	if (!ret)
		ret = virtio_blk_create(&vm, &o, &blk, err, sizeof(err));
	unlink(path);
	if (ret || virtio_net_create(&vm, &no, 0, &net, err, sizeof(err)) ||
	    virtio_pci_create(&vm, &dummy_ops, NULL, &dummy) || pci_dev_register(&vm, &dummy->pci))
		return -1;
	return 0;
}

static int restore_one(unsigned int which, struct state_reader *r)
{
	switch (which) {
	case 0: return uart_restore(vm.com1, r);
	case 1: return legacy_devices_restore(&vm, r);
	case 2: return ged_restore(vm.ged, r);
	case 3: return testdev_restore(vm.testdev, r);
	case 4: return pci_bus_restore(&vm, r);
	case 5: return virtio_pci_restore(dummy, NULL, NULL, r);
	case 6: return virtio_blk_restore(blk, r);
	default: return virtio_net_restore(net, r);
	}
}

static int save_one(unsigned int which, struct state_writer *w)
{
	switch (which) {
	case 0: return uart_save(vm.com1, w);
	case 1: return legacy_devices_save(&vm, w);
	case 2: return ged_save(vm.ged, w);
	case 3: return testdev_save(vm.testdev, w);
	case 4: return pci_bus_save(&vm, w);
	case 5: return virtio_pci_save(dummy, NULL, w);
	case 6: return virtio_blk_pause(blk) ?: virtio_blk_save(blk, w);
	default: virtio_net_stop(net->dev); return virtio_net_save(net, w);
	}
}

/* A status write of 0, as the guest's driver would: threads stop, queues reset. */
static void reset_virtio(struct virtio_pci_dev *t)
{
	uint8_t zero = 0;

	if (t)
		t->pci.bars[VPCI_BAR].ops->write(t, VIRTIO_PCI_COMMON_STATUS, &zero, 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct state_section_desc d = { STATE_SEC_DEVICE_FIRST, "device", 1, DEVICE_STATE_MAX };
	struct state_membuf in = { 0 }, out = { 0 };
	struct state_writer w;
	struct state_reader r;
	struct state_header h;
	unsigned int which;
	int ret;

	if (!ready) {
		if (setup())
			abort();
		ready = true;
	}
	if (!size)
		return 0;
	which = data[0] % 8;
	memset(vm.mem.regions[0].hva, 0, RAM);
	if (uart_create(&vm.port, PORT_COM1, GSI_COM1, -1, &vm.com1) ||
	    legacy_devices_create(&vm) || ged_create(&vm.port, &vm.ged) ||
	    testdev_create(&vm.port, &vm.testdev))
		abort();

	/* frame the payload as one device section */
	state_writer_init(&w, "fuzz", state_mem_write, &in);
	state_write_header(&w, 0);
	state_begin(&w, STATE_SEC_DEVICE_FIRST, 1, STATE_SECF_REQUIRED);
	state_put_bytes(&w, data + 1, size - 1);
	if (state_end(&w) || state_write_end(&w))
		abort();
	state_writer_free(&w);

	state_reader_init(&r, "fuzz", state_mem_read, &in, &d, 1);
	if (state_read_header(&r, &h) || state_next_section(&r) != 1)
		abort();
	ret = restore_one(which, &r);
	if (!ret)
		ret = state_section_done(&r);
	if (ret && !r.error)
		__builtin_trap();		/* a refusal always says why */
	state_reader_free(&r);
	if (!ret) {
		/* what was accepted can be saved again */
		state_writer_init(&w, "fuzz", state_mem_write, &out);
		state_begin(&w, STATE_SEC_DEVICE_FIRST, 1, 0);
		if (save_one(which, &w) || state_end(&w))
			__builtin_trap();
		state_writer_free(&w);
		state_membuf_free(&out);
	}
	state_membuf_free(&in);
	reset_virtio(blk);
	reset_virtio(net);
	reset_virtio(dummy);
	testdev_destroy(vm.testdev);
	vm.testdev = NULL;
	ged_destroy(vm.ged);
	vm.ged = NULL;
	legacy_devices_destroy(&vm);
	uart_destroy(vm.com1);
	vm.com1 = NULL;
	return 0;
}
