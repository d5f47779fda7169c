/* SPDX-License-Identifier: MIT */
/*
 * virtio-pci, modern transport only (virtio 1.x, 4.1): vendor 0x1af4,
 * device 0x1040 + id, revision 1.  Everything lives in 64-bit memory BAR 4:
 *
 *   0x0000  common config        0x3000  notify (4 bytes per queue)
 *   0x1000  ISR (read clears)    0x4000  MSI-X table (up to 512 entries)
 *   0x2000  device config        0x6000  MSI-X PBA
 *
 * A VIRTIO_PCI_CAP_PCI_CFG capability gives a window onto the BAR through
 * config space (for firmware that cannot reach a 64-bit BAR).
 *
 * Vector 0 .. nr_queues-1 are meant for the queues and nr_queues for config
 * changes, but the driver chooses.  Each vector has an eventfd bound to a
 * KVM MSI route with an irqfd, so an I/O thread interrupts the guest with one
 * write().  Each queue has a kick eventfd that KVM signals on notify writes
 * (ioeventfd); notify writes that still reach the MMIO handler signal it too.
 */
#ifndef VMM_VIRTIO_PCI_H
#define VMM_VIRTIO_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/pci.h"
#include "virtio.h"
#include "virtqueue.h"

#define VPCI_BAR		4
#define VPCI_BAR_SIZE		0x8000
#define VPCI_COMMON_OFF		0x0000
#define VPCI_COMMON_LEN		0x40	/* 1.2 layout incl. queue_notify_data, queue_reset (read 0) */
#define VPCI_ISR_OFF		0x1000
#define VPCI_DEVCFG_OFF		0x2000
#define VPCI_DEVCFG_LEN		0x1000
#define VPCI_NOTIFY_OFF		0x3000
#define VPCI_NOTIFY_MULT	4
#define VPCI_MSIX_TABLE_OFF	0x4000
#define VPCI_MSIX_TABLE_LEN	0x2000	/* 16 bytes per vector */
#define VPCI_MSIX_PBA_OFF	0x6000
#define VPCI_MAX_QUEUES		256	/* 0x1000 / VPCI_NOTIFY_MULT; vectors = queues + 1 */

/* 256 queues need 257 vectors: the table must not run into the PBA */
_Static_assert((VPCI_MAX_QUEUES + 1) * 16 <= VPCI_MSIX_TABLE_LEN &&
	       VPCI_MSIX_TABLE_OFF + VPCI_MSIX_TABLE_LEN <= VPCI_MSIX_PBA_OFF &&
	       VPCI_MSIX_PBA_OFF + (VPCI_MAX_QUEUES + 1 + 63) / 64 * 8 <= VPCI_BAR_SIZE,
	       "virtio-pci BAR layout: MSI-X table, PBA");

struct vpci_vector {
	uint32_t addr_lo, addr_hi, data, ctrl;	/* MSI-X table entry */
	int efd;				/* irqfd eventfd */
	int gsi;				/* KVM route, -1 until first use */
	bool pending;				/* PBA bit */
};

struct virtio_pci_dev {
	struct pci_dev pci;		/* first: pci_dev.opaque is us anyway */
	struct vm *vm;
	const struct virtio_dev_ops *ops;
	void *dev;

	pthread_mutex_t lock;		/* common config, status changes */
	uint8_t status;			/* atomic: I/O threads set NEEDS_RESET */
	bool active;			/* device activated (DRIVER_OK accepted) */
	uint32_t dfselect, gfselect;
	uint64_t offered;		/* device features | transport features */
	uint64_t features;		/* what the driver wrote */
	uint16_t queue_sel;
	uint16_t config_vector;
	uint8_t config_generation;

	unsigned int nr_queues;
	struct virtq *vqs;
	uint16_t *queue_vector;
	int *kick_fd;			/* one eventfd per queue */
	uint64_t *ioevent_addr;		/* where it is registered, 0 if not */

	pthread_mutex_t irq_lock;	/* ISR, MSI-X table, PBA */
	uint8_t isr;
	unsigned int nr_vectors;
	struct vpci_vector *vec;
	unsigned int msix_cap;		/* offset of the MSI-X capability */
	uint8_t msix_ctrl;		/* irq_lock: copy of its enable/mask byte */
	unsigned int cfg_cap;		/* offset of VIRTIO_PCI_CAP_PCI_CFG */
};

/*
 * Builds the PCI function for a device (does not put it on the bus: call
 * pci_dev_register(vm, &t->pci) after).  0 or -errno.
 */
int virtio_pci_create(struct vm *vm, const struct virtio_dev_ops *ops, void *dev,
		      struct virtio_pci_dev **out);
/* Resets the device (stopping its threads) and frees everything. */
void virtio_pci_destroy(struct virtio_pci_dev *t);

/* For devices, from any thread. */
int virtio_pci_kick_fd(const struct virtio_pci_dev *t, unsigned int q);
/* Interrupt for queue q (MSI-X vector or INTx + ISR bit 0). */
void virtio_pci_queue_irq(struct virtio_pci_dev *t, unsigned int q);
/* Config-change interrupt (MSI-X config vector or INTx + ISR bit 1). */
void virtio_pci_config_irq(struct virtio_pci_dev *t);
/* A queue is broken: set NEEDS_RESET and raise a config interrupt. */
void virtio_pci_set_needs_reset(struct virtio_pci_dev *t);

/* Current status byte (for tests and logs). */
uint8_t virtio_pci_status(struct virtio_pci_dev *t);

/*
 * State (docs/devices.md, "Device state"): the transport (status,
 * features, selectors, every queue and its vector, ISR, the MSI-X table and
 * PBA, then the function's PCI config space), followed by what the device
 * itself saves.  Save needs the device paused (no request in flight: a
 * queue with one is refused, -EBUSY).  Restore, into a device created from
 * the same configuration: every value is checked first (ranges, feature
 * bits against what this device offers, queue rings through the guest
 * memory accessor), then applied; ds->restore reads the device's part;
 * then, if the driver had the device running, it is activated again as a
 * DRIVER_OK write would (ioeventfds, I/O threads), carrying on from the
 * saved ring indices, and ds->restored runs.  Guest memory must already be
 * restored.  MSI routes and irqfds come back on first use.  0 or -errno,
 * the reader saying which field was wrong.
 */
#define VPCI_STATE_VERSION	1
struct state_writer;
struct state_reader;
/* Any op may be NULL; ctx is virtio_pci_restore()'s, for the device's own use. */
struct virtio_dev_state {
	int (*save)(void *dev, struct state_writer *w);
	/* reads and applies the device's part, before activation */
	int (*restore)(void *dev, struct state_reader *r, void *ctx);
	/* after activation, when the driver had the device running */
	int (*restored)(void *dev, void *ctx);
};
int virtio_pci_save(struct virtio_pci_dev *t, const struct virtio_dev_state *ds,
		    struct state_writer *w);
int virtio_pci_restore(struct virtio_pci_dev *t, const struct virtio_dev_state *ds, void *ctx,
		       struct state_reader *r);

/* Transport-internal (virtio_pci.c), lock held: back to power-on; DRIVER_OK's activation. */
void vpci_reset(struct virtio_pci_dev *t);
int vpci_activate(struct virtio_pci_dev *t);

/* Transport-internal (virtio_pci_irq.c): vectors, MSI-X table, PBA, ISR. */
int vpci_irq_init(struct virtio_pci_dev *t);
void vpci_irq_cleanup(struct virtio_pci_dev *t);
void vpci_irq_reset(struct virtio_pci_dev *t);
void vpci_msix_read(struct virtio_pci_dev *t, uint64_t off, void *data, unsigned int len);
void vpci_msix_write(struct virtio_pci_dev *t, uint64_t off, const void *data, unsigned int len);
void vpci_msix_control_changed(struct virtio_pci_dev *t);
uint8_t vpci_isr_read(struct virtio_pci_dev *t);

#endif
