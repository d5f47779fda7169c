/* SPDX-License-Identifier: MIT */
/*
 * What a virtio device (blk, ...) gives a virtio transport (PCI): a const
 * ops table.  The transport owns the status state machine, feature
 * negotiation, queue configuration and interrupts; the device only says
 * what it offers and what to do when the driver is ready (activate) or gone
 * (reset).
 *
 * Constants and ring layouts come from the Linux UAPI headers, which follow
 * the virtio 1.x specification.
 */
#ifndef VMM_VIRTIO_H
#define VMM_VIRTIO_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#define VIRTIO_PCI_VENDOR	0x1af4
#define VIRTIO_PCI_DEVICE_BASE	0x1040	/* modern: 0x1040 + virtio device id */
#define VIRTIO_ID_BLOCK_DEV	2

#define VIRTIO_STATUS_NEEDS_RESET	0x40

#define VIRTIO_MSI_NO_VECTOR	0xffff

struct virtq;
struct virtio_pci_dev;

struct virtio_dev_ops {
	const char *name;
	uint16_t device_id;		/* virtio device id (2 = block) */
	uint32_t pci_class;		/* PCI class code, e.g. 0x018000 */
	uint16_t queue_max_size;	/* power of two */
	/* Number of virtqueues this instance has (fixed after create). */
	unsigned int (*num_queues)(void *dev);
	/* Feature bits offered (the transport adds VERSION_1 and ring features). */
	uint64_t (*features)(void *dev);
	/* Bytes of device-specific config space. */
	unsigned int (*config_size)(void *dev);
	/* Device config access, [off, off+len) already checked against config_size. */
	void (*config_read)(void *dev, unsigned int off, void *data, unsigned int len);
	void (*config_write)(void *dev, unsigned int off, const void *data, unsigned int len);
	/*
	 * DRIVER_OK: start using the queues (vqs[i] for i < num_queues; those
	 * the driver did not enable have ready == false).  0 or -errno (the
	 * transport then sets NEEDS_RESET).
	 */
	int (*activate)(void *dev, struct virtio_pci_dev *t, uint64_t features,
			struct virtq *vqs, unsigned int nr);
	/* Stop every thread, drain in-flight requests; no guest access after. */
	void (*reset)(void *dev);
};

#endif
