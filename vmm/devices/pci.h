/* SPDX-License-Identifier: MIT */
/*
 * PCI: a host bridge at 00:00.0 reached through configuration mechanism #1
 * (ports 0xcf8/0xcfc), and devices on bus 0.
 *
 * A device fills the first 64 bytes of its config space (IDs, class,
 * header type 0), may add capabilities with pci_add_cap(), and declares its
 * memory BARs with pci_set_bar().  vmm plays firmware: it assigns every BAR
 * an address in the PCI MMIO window before boot, and maps it on the MMIO bus
 * while the command register's memory-enable bit is set.  If the guest moves
 * a BAR, the mapping follows.  BAR accesses reach bar_ops with an offset into
 * the BAR.
 */
#ifndef VMM_PCI_H
#define VMM_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus.h"

#define PCI_CFG_SIZE		256
#define PCI_MAX_BARS		6
#define PCI_MAX_SLOTS		32

struct vm;
struct pci_dev;

/*
 * Both hooks run with the device's cfg_lock held (not the bus lock), on the
 * vCPU thread of the access: a hook that takes long (a virtio reset through
 * the config window drains disk I/O) stalls config accesses to this device
 * only, never the address register or other devices.
 */
struct pci_dev_ops {
	/* Optional: after the guest wrote config space at [off, off+len). */
	void (*config_write)(struct pci_dev *dev, unsigned int off, unsigned int len);
	/* Optional: before the guest reads [off, off+len); may refresh dev->cfg there. */
	void (*config_read)(struct pci_dev *dev, unsigned int off, unsigned int len);
};

struct pci_bar {
	uint64_t size;			/* power of two, >= 4096; 0 = unused */
	bool is64;			/* 64-bit memory BAR (uses BAR i+1 too) */
	const struct bus_dev_ops *ops;
	void *opaque;
	uint64_t mapped_at;		/* current MMIO address, 0 when unmapped; written
					 * under cfg_lock, read with __atomic_load_n */
};

struct pci_dev {
	struct vm *vm;
	const struct pci_dev_ops *ops;
	void *opaque;			/* the device's own state */
	const char *name;
	unsigned int slot;		/* device number on bus 0 */
	unsigned int gsi;		/* INTA# line: GSI_PCI_BASE + slot % GSI_PCI_COUNT */
	pthread_mutex_t cfg_lock;	/* cfg, BAR maps, the hooks */
	uint8_t cfg[PCI_CFG_SIZE];	/* config space as the guest sees it */
	uint8_t wmask[PCI_CFG_SIZE];	/* bits the guest may write */
	struct pci_bar bars[PCI_MAX_BARS];
	uint8_t next_cap;		/* where pci_add_cap puts the next capability */
};

/* Creates the host bridge and registers ports 0xcf8-0xcff on vm->pio_bus. */
int pci_bus_create(struct vm *vm);
void pci_bus_destroy(struct vm *vm);

/*
 * Initialises dev (IDs, class) and puts it in the next free slot.  Fill
 * dev->ops/opaque/name, call pci_set_bar()/pci_add_cap(), then
 * pci_dev_register() to assign BARs and make it visible.
 */
void pci_dev_init(struct pci_dev *dev, uint16_t vendor, uint16_t device,
		  uint32_t class_code, uint16_t subsys_vendor, uint16_t subsys_id);
void pci_set_bar(struct pci_dev *dev, unsigned int index, uint64_t size, bool is64,
		 const struct bus_dev_ops *ops, void *opaque);
/* Copies a capability body (cap[0]=ID; cap[1] is filled with the next pointer). Offset or -ENOSPC. */
int pci_add_cap(struct pci_dev *dev, const void *cap, unsigned int len);
int pci_dev_register(struct vm *vm, struct pci_dev *dev);

/*
 * Accesses BAR `bar` at [off, off+len) through its bar_ops, whether or not
 * it is mapped (for config-space windows onto a BAR).  -EINVAL if the BAR
 * does not exist or the range is not inside it; nothing is accessed then.
 */
int pci_bar_access(struct pci_dev *dev, unsigned int bar, uint64_t off, void *data,
		   unsigned int len, bool write);

/*
 * State (docs/devices.md, "Device state").  A function's config space is
 * saved by its owner inside its own section: 256 bytes.  Restore refuses a
 * byte whose read-only bits differ from this device's (another device or
 * configuration), takes the guest-writable bits, and maps the BARs where
 * they now point (as a guest write would: never over RAM or another BAR).
 * The bus section: the address register, each slot's vendor/device ID
 * (must match), the host bridge's config space.  0 or -errno (r says why).
 */
#define PCI_BUS_STATE_VERSION	1
struct state_writer;
struct state_reader;
void pci_dev_save_cfg(struct pci_dev *dev, struct state_writer *w);
int pci_dev_restore_cfg(struct pci_dev *dev, struct state_reader *r);
int pci_bus_save(struct vm *vm, struct state_writer *w);
int pci_bus_restore(struct vm *vm, struct state_reader *r);

/* Raise/lower INTA#. */
void pci_set_irq(struct pci_dev *dev, int level);

#endif
