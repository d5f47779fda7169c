// SPDX-License-Identifier: MIT
/*
 * PCI host bridge with configuration mechanism #1, bus 0 only.
 *
 * vmm acts as firmware: pci_dev_register() assigns each BAR an address in
 * the PCI MMIO window; the BAR is on the MMIO bus only while the device's
 * command register enables memory decoding.  The guest may move BARs; the
 * mapping follows every config write.
 *
 * Locking: the bus lock covers only the address register and the slot
 * table; a device's config space, BAR maps and hooks are under its own
 * cfg_lock (taken after the bus lock is dropped; cfg_lock may be held
 * while taking nothing but the device's own locks and the MMIO bus).
 *
 * Port 0xcf9 (reset control) sits inside the 0xcf8-0xcff range on PC
 * chipsets; the host bridge owns the whole range and forwards byte writes
 * at 0xcf9 with bit 2 set to a VM reset, as the PIIX/ICH chipsets do.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "exitcode.h"
#include "log.h"
#include "mem/layout.h"
#include "pci.h"
#include "state/stream.h"
#include "vm.h"

#define PCI_COMMAND		0x04
#define PCI_COMMAND_MEMORY	0x0002
#define PCI_STATUS		0x06
#define PCI_STATUS_CAP_LIST	0x0010
#define PCI_BAR0		0x10
#define PCI_CAP_PTR		0x34
#define PCI_INTERRUPT_LINE	0x3c
#define PCI_INTERRUPT_PIN	0x3d
#define PCI_CAP_START		0x40

struct pci_bus {
	struct vm *vm;
	pthread_mutex_t lock;		/* config address register, slots */
	uint32_t config_address;
	struct pci_dev *slots[PCI_MAX_SLOTS];
	struct pci_dev host_bridge;
	uint64_t next_mmio;		/* BAR allocator */
};

static inline uint16_t cfg_get16(const struct pci_dev *dev, unsigned int off)
{
	return (uint16_t)(dev->cfg[off] | dev->cfg[off + 1] << 8);
}

static inline uint32_t cfg_get32(const struct pci_dev *dev, unsigned int off)
{
	return (uint32_t)dev->cfg[off] | (uint32_t)dev->cfg[off + 1] << 8 |
	       (uint32_t)dev->cfg[off + 2] << 16 | (uint32_t)dev->cfg[off + 3] << 24;
}

static inline void cfg_put(uint8_t *p, unsigned int off, uint64_t v, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

void pci_dev_init(struct pci_dev *dev, uint16_t vendor, uint16_t device,
		  uint32_t class_code, uint16_t subsys_vendor, uint16_t subsys_id)
{
	memset(dev, 0, sizeof(*dev));
	pthread_mutex_init(&dev->cfg_lock, NULL);
	cfg_put(dev->cfg, 0x00, vendor, 2);
	cfg_put(dev->cfg, 0x02, device, 2);
	cfg_put(dev->cfg, 0x08, class_code << 8, 4);	/* revision 0, prog-if, sub, class */
	cfg_put(dev->cfg, 0x2c, subsys_vendor, 2);
	cfg_put(dev->cfg, 0x2e, subsys_id, 2);
	dev->cfg[0x0e] = 0;				/* header type 0, single function */
	/* command: I/O, memory, bus master, parity, SERR, INTx disable */
	cfg_put(dev->wmask, PCI_COMMAND, 0x0547, 2);
	dev->wmask[0x0c] = 0xff;			/* cache line size */
	dev->wmask[0x0d] = 0xff;			/* latency timer */
	dev->wmask[PCI_INTERRUPT_LINE] = 0xff;
	dev->next_cap = PCI_CAP_START;
}

void pci_set_bar(struct pci_dev *dev, unsigned int index, uint64_t size, bool is64,
		 const struct bus_dev_ops *ops, void *opaque)
{
	struct pci_bar *bar;
	uint64_t mask;

	if (index >= PCI_MAX_BARS || (is64 && index + 1 >= PCI_MAX_BARS) ||
	    size < 4096 || (size & (size - 1)))
		return;
	bar = &dev->bars[index];
	bar->size = size;
	bar->is64 = is64;
	bar->ops = ops;
	bar->opaque = opaque;
	mask = ~(size - 1);
	cfg_put(dev->cfg, PCI_BAR0 + 4 * index, is64 ? 0x4 : 0x0, 4);
	cfg_put(dev->wmask, PCI_BAR0 + 4 * index, (uint32_t)mask & ~0xfu, 4);
	if (is64)
		cfg_put(dev->wmask, PCI_BAR0 + 4 * (index + 1), (uint32_t)(mask >> 32), 4);
}

int pci_add_cap(struct pci_dev *dev, const void *cap, unsigned int len)
{
	unsigned int off = dev->next_cap, p;

	if (len < 2 || off + len > PCI_CFG_SIZE)
		return -ENOSPC;
	memcpy(&dev->cfg[off], cap, len);
	dev->cfg[off + 1] = 0;
	/* append to the end of the list */
	if (!dev->cfg[PCI_CAP_PTR]) {
		dev->cfg[PCI_CAP_PTR] = (uint8_t)off;
	} else {
		for (p = dev->cfg[PCI_CAP_PTR]; dev->cfg[p + 1]; p = dev->cfg[p + 1])
			;
		dev->cfg[p + 1] = (uint8_t)off;
	}
	cfg_put(dev->cfg, PCI_STATUS, cfg_get16(dev, PCI_STATUS) | PCI_STATUS_CAP_LIST, 2);
	dev->next_cap = (uint8_t)((off + len + 3) & ~3u);
	return (int)off;
}

static uint64_t bar_address(const struct pci_dev *dev, unsigned int i)
{
	uint64_t addr = cfg_get32(dev, PCI_BAR0 + 4 * i) & ~0xfULL;

	if (dev->bars[i].is64)
		addr |= (uint64_t)cfg_get32(dev, PCI_BAR0 + 4 * (i + 1)) << 32;
	return addr;
}

/* Caller holds dev->cfg_lock. Brings the MMIO bus in line with config space. */
static void pci_update_bars(struct pci_bus *pb, struct pci_dev *dev)
{
	bool enabled = cfg_get16(dev, PCI_COMMAND) & PCI_COMMAND_MEMORY;
	unsigned int i;

	for (i = 0; i < PCI_MAX_BARS; i++) {
		struct pci_bar *bar = &dev->bars[i];
		uint64_t want = 0;
		int ret;

		if (!bar->size)
			continue;
		if (enabled) {
			want = bar_address(dev, i);
			/* an address that overflows or sits on RAM/firmware is not mapped */
			if (want + bar->size < want || want < LAYOUT_MMIO_HOLE_START)
				want = 0;
		}
		if (want == bar->mapped_at)
			continue;
		if (bar->mapped_at)
			bus_unregister(&pb->vm->mmio_bus, bar->mapped_at, bar->opaque);
		__atomic_store_n(&bar->mapped_at, 0, __ATOMIC_RELEASE);
		if (!want)
			continue;
		ret = bus_register(&pb->vm->mmio_bus, want, bar->size, bar->ops,
				   bar->opaque, dev->name);
		if (ret) {
			log_warn("pci %s: BAR%u at 0x%llx overlaps another device; left unmapped",
				 dev->name, i, (unsigned long long)want);
			continue;
		}
		__atomic_store_n(&bar->mapped_at, want, __ATOMIC_RELEASE);
	}
}

static void pci_cfg_write(struct pci_bus *pb, struct pci_dev *dev, unsigned int off,
			  uint32_t val, unsigned int len)
{
	unsigned int i;

	for (i = 0; i < len; i++) {
		uint8_t m = dev->wmask[off + i];
		uint8_t b = (uint8_t)(val >> (8 * i));

		dev->cfg[off + i] = (uint8_t)((dev->cfg[off + i] & ~m) | (b & m));
	}
	if (off < PCI_BAR0 + 4 * PCI_MAX_BARS && off + len > PCI_COMMAND)
		pci_update_bars(pb, dev);
	if (dev->ops && dev->ops->config_write)
		dev->ops->config_write(dev, off, len);
}

static struct pci_dev *pci_target(struct pci_bus *pb, unsigned int *reg)
{
	uint32_t a = pb->config_address;
	unsigned int bus = (a >> 16) & 0xff, slot = (a >> 11) & 0x1f, fn = (a >> 8) & 7;

	if (!(a & 0x80000000u) || bus || fn)
		return NULL;
	*reg = a & 0xfc;
	return pb->slots[slot];
}

/* Bus lock: latches the address register and finds the target (slots never go away). */
static struct pci_dev *pci_latch_target(struct pci_bus *pb, unsigned int *reg)
{
	struct pci_dev *dev;

	pthread_mutex_lock(&pb->lock);
	dev = pci_target(pb, reg);
	pthread_mutex_unlock(&pb->lock);
	return dev;
}

static void pci_conf_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	struct pci_bus *pb = opaque;
	struct pci_dev *dev;
	unsigned int reg, i;
	uint64_t v = ~0ULL;

	if (offset == 0 && len == 4) {
		pthread_mutex_lock(&pb->lock);
		v = pb->config_address;
		pthread_mutex_unlock(&pb->lock);
	} else if (offset >= 4 && offset + len <= 8) {
		dev = pci_latch_target(pb, &reg);
		if (dev) {
			pthread_mutex_lock(&dev->cfg_lock);
			if (dev->ops && dev->ops->config_read)
				dev->ops->config_read(dev, reg + (unsigned int)offset - 4, len);
			v = 0;
			for (i = 0; i < len; i++)
				v |= (uint64_t)dev->cfg[reg + offset - 4 + i] << (8 * i);
			pthread_mutex_unlock(&dev->cfg_lock);
		}
	} else if (offset == 1 && len == 1) {
		v = 0;	/* reset control register reads 0 */
	}
	memcpy(data, &v, len);
}

static void pci_conf_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	struct pci_bus *pb = opaque;
	struct pci_dev *dev;
	uint32_t v = 0;
	unsigned int reg;

	memcpy(&v, data, len > 4 ? 4 : len);
	if (offset == 1 && len == 1) {
		if (v & 0x04) {
			log_info("guest reset through port 0xcf9");
			vm_request_exit(pb->vm, VM_EXIT_RESET, VMM_EXIT_OK);
		}
		return;
	}
	if (offset == 0 && len == 4) {
		pthread_mutex_lock(&pb->lock);
		pb->config_address = v;
		pthread_mutex_unlock(&pb->lock);
	} else if (offset >= 4 && offset + len <= 8) {
		dev = pci_latch_target(pb, &reg);
		if (dev) {
			pthread_mutex_lock(&dev->cfg_lock);
			pci_cfg_write(pb, dev, reg + (unsigned int)offset - 4, v, len);
			pthread_mutex_unlock(&dev->cfg_lock);
		}
	}
}

static const struct bus_dev_ops pci_conf_ops = {
	.read = pci_conf_read,
	.write = pci_conf_write,
};

int pci_bus_create(struct vm *vm)
{
	struct pci_bus *pb;
	int ret;

	pb = calloc(1, sizeof(*pb));
	if (!pb)
		return -ENOMEM;
	pb->vm = vm;
	pb->next_mmio = LAYOUT_PCI_MMIO_START;
	pthread_mutex_init(&pb->lock, NULL);
	/* 00:00.0 host bridge (Red Hat QEMU PCIe host bridge IDs, class 0600) */
	pci_dev_init(&pb->host_bridge, 0x1b36, 0x0008, 0x060000, 0x1af4, 0x1100);
	pb->host_bridge.name = "host-bridge";
	pb->host_bridge.vm = vm;
	pb->slots[0] = &pb->host_bridge;
	ret = bus_register(&vm->pio_bus, PORT_PCI_CONF_ADDR, 8, &pci_conf_ops, pb, "pci-conf");
	if (ret)
		goto err_free;
	vm->pci = pb;
	return 0;

err_free:
	pthread_mutex_destroy(&pb->lock);
	free(pb);
	return ret;
}

void pci_bus_destroy(struct vm *vm)
{
	struct pci_bus *pb = vm->pci;

	if (!pb)
		return;
	bus_unregister(&vm->pio_bus, PORT_PCI_CONF_ADDR, pb);
	pthread_mutex_destroy(&pb->lock);
	free(pb);
	vm->pci = NULL;
}

int pci_dev_register(struct vm *vm, struct pci_dev *dev)
{
	struct pci_bus *pb = vm->pci;
	unsigned int slot, i;
	int ret = -ENOSPC;

	if (!pb)
		return -ENODEV;
	pthread_mutex_lock(&pb->lock);
	for (slot = 1; slot < PCI_MAX_SLOTS && pb->slots[slot]; slot++)
		;
	if (slot == PCI_MAX_SLOTS)
		goto out;
	/* assign BARs, largest alignment first is not needed: each is aligned to its size */
	for (i = 0; i < PCI_MAX_BARS; i++) {
		struct pci_bar *bar = &dev->bars[i];
		uint64_t addr;

		if (!bar->size)
			continue;
		addr = (pb->next_mmio + bar->size - 1) & ~(bar->size - 1);
		if (addr + bar->size > LAYOUT_PCI_MMIO_END) {
			ret = -ENOSPC;
			goto out;
		}
		pb->next_mmio = addr + bar->size;
		cfg_put(dev->cfg, PCI_BAR0 + 4 * i,
			(cfg_get32(dev, PCI_BAR0 + 4 * i) & 0xf) | (uint32_t)addr, 4);
		if (bar->is64)
			cfg_put(dev->cfg, PCI_BAR0 + 4 * (i + 1), addr >> 32, 4);
	}
	dev->vm = vm;
	dev->slot = slot;
	dev->gsi = GSI_PCI_BASE + slot % GSI_PCI_COUNT;
	dev->cfg[PCI_INTERRUPT_LINE] = (uint8_t)dev->gsi;
	dev->cfg[PCI_INTERRUPT_PIN] = 1;	/* INTA# */
	pthread_mutex_lock(&dev->cfg_lock);
	pci_update_bars(pb, dev);
	pthread_mutex_unlock(&dev->cfg_lock);
	pb->slots[slot] = dev;	/* visible to the guest only now */
	ret = 0;
out:
	pthread_mutex_unlock(&pb->lock);
	return ret;
}

int pci_bar_access(struct pci_dev *dev, unsigned int bar, uint64_t off, void *data,
		   unsigned int len, bool write)
{
	const struct pci_bar *b;

	if (bar >= PCI_MAX_BARS)
		return -EINVAL;
	b = &dev->bars[bar];
	if ((len != 1 && len != 2 && len != 4 && len != 8) || !b->ops ||
	    b->size < len || off > b->size - len)
		return -EINVAL;
	if (write) {
		if (!b->ops->write)
			return -EINVAL;
		b->ops->write(b->opaque, off, data, len);
	} else {
		if (!b->ops->read)
			return -EINVAL;
		b->ops->read(b->opaque, off, data, len);
	}
	return 0;
}

void pci_set_irq(struct pci_dev *dev, int level)
{
	if (dev->vm)
		vm_irq_line(dev->vm, dev->gsi, level);
}

/* ---- state (docs/devices.md, "Device state") ---- */

void pci_dev_save_cfg(struct pci_dev *dev, struct state_writer *w)
{
	pthread_mutex_lock(&dev->cfg_lock);
	state_put_bytes(w, dev->cfg, PCI_CFG_SIZE);
	pthread_mutex_unlock(&dev->cfg_lock);
}

int pci_dev_restore_cfg(struct pci_dev *dev, struct state_reader *r)
{
	uint8_t saved[PCI_CFG_SIZE];
	unsigned int i;
	int ret;

	ret = state_get_bytes(r, saved, sizeof(saved));
	if (ret)
		return ret;
	/* what the guest cannot write must be what this vmm built: same device, same config */
	for (i = 0; i < PCI_CFG_SIZE; i++)
		if ((saved[i] ^ dev->cfg[i]) & ~dev->wmask[i])
			return state_reader_fail(r, "pci %s: config byte 0x%02x is 0x%02x, this device has 0x%02x there (a different device or configuration?)",
						 dev->name, i, saved[i], dev->cfg[i]);
	pthread_mutex_lock(&dev->cfg_lock);
	for (i = 0; i < PCI_CFG_SIZE; i++)
		dev->cfg[i] = (uint8_t)((dev->cfg[i] & ~dev->wmask[i]) | (saved[i] & dev->wmask[i]));
	/* BARs follow, checked as a guest write would be (outside RAM, no overlap) */
	if (dev->vm && dev->vm->pci)
		pci_update_bars(dev->vm->pci, dev);
	pthread_mutex_unlock(&dev->cfg_lock);
	return 0;
}

int pci_bus_save(struct vm *vm, struct state_writer *w)
{
	struct pci_bus *pb = vm->pci;
	unsigned int slot;

	pthread_mutex_lock(&pb->lock);
	state_put_u32(w, pb->config_address);
	for (slot = 0; slot < PCI_MAX_SLOTS; slot++)
		state_put_u32(w, pb->slots[slot] ? cfg_get32(pb->slots[slot], 0) : 0);
	pthread_mutex_unlock(&pb->lock);
	pci_dev_save_cfg(&pb->host_bridge, w);
	return w->error;
}

int pci_bus_restore(struct vm *vm, struct state_reader *r)
{
	struct pci_bus *pb = vm->pci;
	uint32_t addr, id, here;
	unsigned int slot;
	int ret;

	ret = state_get_u32(r, &addr);
	if (ret)
		return ret;
	for (slot = 0; slot < PCI_MAX_SLOTS; slot++) {
		ret = state_get_u32(r, &id);
		if (ret)
			return ret;
		here = pb->slots[slot] ? cfg_get32(pb->slots[slot], 0) : 0;
		if (id != here)
			return state_reader_fail(r, "pci slot %u held %04x:%04x, here %04x:%04x (a different configuration?)",
						 slot, id & 0xffff, id >> 16, here & 0xffff, here >> 16);
	}
	ret = pci_dev_restore_cfg(&pb->host_bridge, r);
	if (ret)
		return ret;
	/* any address value is one the guest could have written */
	pthread_mutex_lock(&pb->lock);
	pb->config_address = addr;
	pthread_mutex_unlock(&pb->lock);
	return 0;
}
