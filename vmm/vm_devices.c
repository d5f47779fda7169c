// SPDX-License-Identifier: MIT
/*
 * The VM's devices: created in a fixed order into the device list
 * (devices/devlist.h) with their lifecycle ops, so pause, resume and
 * teardown walk one list instead of named fields.
 */
#include <errno.h>
#include <string.h>

#include "block/block.h"
#include "devices/ged.h"
#include "devices/legacy.h"
#include "devices/pci.h"
#include "devices/testdev.h"
#include "devices/uart.h"
#include "log.h"
#include "mem/layout.h"
#include "virtio/virtio_blk.h"
#include "virtio/virtio_net.h"
#include "virtio/virtio_net_state.h"
#include "virtio/virtio_pci.h"
#include "vm.h"
#include "vm_runtime.h"

static void uart_dev_destroy(void *opaque)
{
	struct vm *vm = opaque;

	uart_destroy(vm->com1);
	vm->com1 = NULL;
}

static int uart_dev_save(void *opaque, struct state_writer *w)
{
	return uart_save(((struct vm *)opaque)->com1, w);
}

static int uart_dev_restore(void *opaque, struct state_reader *r)
{
	return uart_restore(((struct vm *)opaque)->com1, r);
}

static const struct vm_dev_ops uart_dev_ops = { .destroy = uart_dev_destroy,
	.save = uart_dev_save, .restore = uart_dev_restore, .state_version = UART_STATE_VERSION,
};

static void pci_dev_destroy(void *opaque)
{
	pci_bus_destroy(opaque);
}

static int pci_dev_save(void *opaque, struct state_writer *w)
{
	return pci_bus_save(opaque, w);
}

static int pci_dev_restore(void *opaque, struct state_reader *r)
{
	return pci_bus_restore(opaque, r);
}

static const struct vm_dev_ops pci_bus_dev_ops = { .destroy = pci_dev_destroy,
	.save = pci_dev_save, .restore = pci_dev_restore, .state_version = PCI_BUS_STATE_VERSION,
};

static void legacy_dev_destroy(void *opaque)
{
	legacy_devices_destroy(opaque);
}

static int legacy_dev_save(void *opaque, struct state_writer *w)
{
	return legacy_devices_save(opaque, w);
}

static int legacy_dev_restore(void *opaque, struct state_reader *r)
{
	return legacy_devices_restore(opaque, r);
}

static const struct vm_dev_ops legacy_dev_ops = { .destroy = legacy_dev_destroy,
	.save = legacy_dev_save, .restore = legacy_dev_restore,
	.state_version = LEGACY_STATE_VERSION,
};

static void ged_dev_destroy(void *opaque)
{
	struct vm *vm = opaque;

	ged_destroy(vm->ged);
	vm->ged = NULL;
}

static int ged_dev_save(void *opaque, struct state_writer *w)
{
	return ged_save(((struct vm *)opaque)->ged, w);
}

static int ged_dev_restore(void *opaque, struct state_reader *r)
{
	return ged_restore(((struct vm *)opaque)->ged, r);
}

static const struct vm_dev_ops ged_dev_ops = { .destroy = ged_dev_destroy,
	.save = ged_dev_save, .restore = ged_dev_restore, .state_version = GED_STATE_VERSION,
};

static void testdev_dev_destroy(void *opaque)
{
	struct vm *vm = opaque;

	testdev_destroy(vm->testdev);
	vm->testdev = NULL;
}

static int testdev_dev_save(void *opaque, struct state_writer *w)
{
	return testdev_save(((struct vm *)opaque)->testdev, w);
}

static int testdev_dev_restore(void *opaque, struct state_reader *r)
{
	return testdev_restore(((struct vm *)opaque)->testdev, r);
}

static const struct vm_dev_ops testdev_dev_ops = { .destroy = testdev_dev_destroy,
	.save = testdev_dev_save, .restore = testdev_dev_restore,
	.state_version = TESTDEV_STATE_VERSION,
};

static int blk_dev_pause(void *opaque)
{
	return virtio_blk_pause(opaque);
}

static void blk_dev_resume(void *opaque)
{
	virtio_blk_resume(opaque);
}

static void blk_dev_destroy(void *opaque)
{
	virtio_blk_destroy(opaque);
}

static int blk_dev_save(void *opaque, struct state_writer *w)
{
	return virtio_blk_save(opaque, w);
}

static int blk_dev_restore(void *opaque, struct state_reader *r)
{
	return virtio_blk_restore(opaque, r);
}

static void blk_dev_counters(void *opaque, struct vm_counter_sink *s)
{
	virtio_blk_counters(opaque, s);
}

static const struct vm_dev_ops blk_dev_ops = {
	.pause = blk_dev_pause,
	.resume = blk_dev_resume,
	.destroy = blk_dev_destroy,
	.save = blk_dev_save,
	.restore = blk_dev_restore,
	.state_version = VIRTIO_BLK_STATE_VERSION,
	.counters = blk_dev_counters,
};

/* pause: the I/O threads stop (vhost's rings taken back); resume starts them */
static int net_dev_pause(void *opaque)
{
	struct virtio_pci_dev *t = opaque;

	virtio_net_stop(t->dev);
	return 0;
}

static void net_dev_resume(void *opaque)
{
	struct virtio_pci_dev *t = opaque;

	if (virtio_net_start(t->dev))
		log_err("virtio-net: cannot restart its I/O after the pause; the device is stalled");
}

static void net_dev_destroy(void *opaque)
{
	virtio_net_destroy(opaque);
}

static int net_dev_save(void *opaque, struct state_writer *w)
{
	return virtio_net_save(opaque, w);
}

static int net_dev_restore(void *opaque, struct state_reader *r)
{
	return virtio_net_restore(opaque, r);
}

/* vm.counters: per queue pair, and the control queue's commands */
static void net_dev_counters(void *opaque, struct vm_counter_sink *s)
{
	struct virtio_pci_dev *t = opaque;
	struct virtio_net *n = t->dev;
	struct vnet_stats rx, tx;
	unsigned int q;

	for (q = 0; virtio_net_stats(n, q, &rx, &tx) == 0; q++) {
		vm_counter_put(s, (int)q, "rx_packets", rx.packets);
		vm_counter_put(s, (int)q, "rx_bytes", rx.bytes);
		vm_counter_put(s, (int)q, "rx_drops", rx.drops);
		vm_counter_put(s, (int)q, "tx_packets", tx.packets);
		vm_counter_put(s, (int)q, "tx_bytes", tx.bytes);
		vm_counter_put(s, (int)q, "tx_drops", tx.drops);
	}
	vm_counter_put(s, -1, "ctrl_commands",
		       __atomic_load_n(&n->ctrl_stats.packets, __ATOMIC_RELAXED));
	vm_counter_put(s, -1, "ctrl_errors",
		       __atomic_load_n(&n->ctrl_stats.drops, __ATOMIC_RELAXED));
}

static const struct vm_dev_ops net_dev_ops = {
	.pause = net_dev_pause,
	.resume = net_dev_resume,
	.destroy = net_dev_destroy,
	.save = net_dev_save,
	.restore = net_dev_restore,
	.state_version = VIRTIO_NET_STATE_VERSION,
	.counters = net_dev_counters,
};

/* Adds a created device; if the list is full, destroys it. */
static int add(struct vm *vm, const char *name, const struct vm_dev_ops *ops, void *opaque)
{
	int ret = vm_devices_add(&vm->devices, name, ops, opaque);

	if (ret) {
		log_err("cannot add %s: more than %d devices", name, VM_MAX_DEVICES);
		ops->destroy(opaque);
	}
	return ret;
}

int vm_devices_create(struct vm *vm, struct blk_image **imgs, struct vnet_keep *nets)
{
	const struct vm_config *cfg = vm->cfg;
	struct virtio_pci_dev *d;
	char err[512];
	unsigned int i;
	int ret;

	ret = uart_create(&vm->port, PORT_COM1, GSI_COM1, vm->console_out_fd, &vm->com1);
	if (ret) {
		log_err("cannot create the serial console: %s", strerror(-ret));
		return ret;
	}
	ret = add(vm, "serial", &uart_dev_ops, vm);
	if (ret)
		return ret;
	/* the PCI host bridge first: it owns 0xcf8-0xcff, reset port 0xcf9 included */
	ret = pci_bus_create(vm);
	if (ret) {
		log_err("cannot create the PCI bus: %s", strerror(-ret));
		return ret;
	}
	ret = add(vm, "pci", &pci_bus_dev_ops, vm);
	if (ret)
		return ret;
	ret = legacy_devices_create(vm);
	if (ret) {
		log_err("cannot create the legacy devices: %s", strerror(-ret));
		return ret;
	}
	ret = add(vm, "legacy", &legacy_dev_ops, vm);
	if (ret)
		return ret;
	ret = ged_create(&vm->port, &vm->ged);
	if (ret) {
		log_err("cannot create the ACPI generic event device: %s", strerror(-ret));
		return ret;
	}
	ret = add(vm, "acpi-ged", &ged_dev_ops, vm);
	if (ret)
		return ret;
	if (cfg->testdev) {
		ret = testdev_create(&vm->port, &vm->testdev);
		if (ret)
			return ret;
		ret = add(vm, "pc-testdev", &testdev_dev_ops, vm);
		if (ret)
			return ret;
	}
	ret = disk_opts_check_distinct(cfg->disks, cfg->nr_disks, err, sizeof(err));
	if (ret) {
		log_err("%s", err);
		return ret;
	}
	for (i = 0; i < cfg->nr_disks; i++) {
		err[0] = '\0';
		ret = virtio_blk_create_with(vm, &cfg->disks[i], imgs ? imgs[i] : NULL, &d,
					     err, sizeof(err));
		if (imgs)
			imgs[i] = NULL;		/* taken, even on failure */
		if (ret) {
			log_err("%s", err[0] ? err : strerror(-ret));
			return ret;
		}
		ret = add(vm, "virtio-blk", &blk_dev_ops, d);
		if (ret)
			return ret;
	}
	for (i = 0; i < cfg->nr_nets; i++) {
		struct vnet_keep none = { NULL, NULL };

		err[0] = '\0';
		ret = virtio_net_create_with(vm, &cfg->nets[i], i, nets ? &nets[i] : &none, &d,
					     err, sizeof(err));
		if (ret) {
			log_err("%s", err[0] ? err : strerror(-ret));
			return ret;
		}
		ret = add(vm, "virtio-net", &net_dev_ops, d);
		if (ret)
			return ret;
	}
	return 0;
}

void vm_devices_take_images(struct vm *vm, struct blk_image **imgs)
{
	unsigned int from = 0, n = 0;
	struct vm_dev *d;

	while ((d = vm_devices_find(&vm->devices, &blk_dev_ops, &from)) && n < VMM_MAX_DISKS)
		imgs[n++] = virtio_blk_take_image(d->opaque);
}

void vm_devices_take_nets(struct vm *vm, struct vnet_keep *nets)
{
	unsigned int from = 0, n = 0;
	struct vm_dev *d;

	while ((d = vm_devices_find(&vm->devices, &net_dev_ops, &from)) && n < VMM_MAX_NICS)
		virtio_net_take_backend(d->opaque, &nets[n++]);
}
