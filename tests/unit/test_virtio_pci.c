// SPDX-License-Identifier: MIT
/* virtio-pci modern transport: capabilities, status machine, features, queues, MSI-X, INTx. */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "fake_vm.h"
#include "virtio/virtio_pci.h"

#define RAM	(1ULL << 20)
#define NQ	2

struct dummy {
	unsigned int activated, resets;
	uint64_t features;
	unsigned int ready_queues;
};

static unsigned int d_nq(void *dev) { return NQ; }
static uint64_t d_features(void *dev) { return (1ULL << 0) | (1ULL << 5); }
static unsigned int d_cfg_size(void *dev) { return 8; }
static void d_cfg_read(void *dev, unsigned int off, void *data, unsigned int len)
{
	memset(data, 0xa0 + off, len);
}
static int d_activate(void *dev, struct virtio_pci_dev *t, uint64_t f, struct virtq *vqs,
		      unsigned int nr)
{
	struct dummy *d = dev;
	unsigned int i;

	d->activated++;
	d->features = f;
	d->ready_queues = 0;
	for (i = 0; i < nr; i++)
		d->ready_queues += vqs[i].ready;
	return 0;
}
static void d_reset(void *dev) { ((struct dummy *)dev)->resets++; }

static const struct virtio_dev_ops dummy_ops = {
	.name = "dummy", .device_id = 2, .pci_class = 0x018000, .queue_max_size = 64,
	.num_queues = d_nq, .features = d_features, .config_size = d_cfg_size,
	.config_read = d_cfg_read, .activate = d_activate, .reset = d_reset,
};

static struct vm vm;
static struct dummy dummy;
static struct virtio_pci_dev *t;

static void setup(void)
{
	cr_assert_eq(fake_vm_init(&vm, RAM), 0);
	memset(&dummy, 0, sizeof(dummy));
	cr_assert_eq(virtio_pci_create(&vm, &dummy_ops, &dummy, &t), 0);
	t->pci.gsi = 17;
}

static void teardown(void)
{
	virtio_pci_destroy(t);
	cr_assert_eq(fake_vm.irqfds, 0, "irqfds released");
	cr_assert_eq(fake_vm.msi_routes, 0, "MSI routes released");
	cr_assert_eq(fake_vm.ioeventfds, 0, "ioeventfds released");
	fake_vm_destroy(&vm);
}

TestSuite(virtio_pci, .init = setup, .fini = teardown);

static void w(uint64_t off, uint64_t v, unsigned int len)
{
	t->pci.bars[VPCI_BAR].ops->write(t, off, &v, len);
}

static uint64_t r(uint64_t off, unsigned int len)
{
	uint64_t v = 0;

	t->pci.bars[VPCI_BAR].ops->read(t, off, &v, len);
	return v;
}

static uint8_t status(void)
{
	return (uint8_t)r(VIRTIO_PCI_COMMON_STATUS, 1);
}

static void features(uint64_t f)
{
	w(VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	w(VIRTIO_PCI_COMMON_GF, (uint32_t)f, 4);
	w(VIRTIO_PCI_COMMON_GFSELECT, 1, 4);
	w(VIRTIO_PCI_COMMON_GF, f >> 32, 4);
}

static void setup_queue(unsigned int q, uint64_t base)
{
	w(VIRTIO_PCI_COMMON_Q_SELECT, q, 2);
	w(VIRTIO_PCI_COMMON_Q_SIZE, 16, 2);
	w(VIRTIO_PCI_COMMON_Q_DESCLO, base, 4);
	w(VIRTIO_PCI_COMMON_Q_DESCHI, 0, 4);
	w(VIRTIO_PCI_COMMON_Q_AVAILLO, base + 0x100, 8);
	w(VIRTIO_PCI_COMMON_Q_USEDLO, base + 0x200, 4);
	w(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
}

/* ACK, DRIVER, FEATURES_OK with VERSION_1. */
static void negotiate(void)
{
	w(VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	w(VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER, 1);
	features((1ULL << VIRTIO_F_VERSION_1) | 1);
	w(VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	cr_assert_eq(status(), 0x0b);
}

static unsigned int find_vcap(uint8_t type)
{
	unsigned int p = t->pci.cfg[PCI_CAPABILITY_LIST], n = 0;

	while (p && n++ < 48) {
		if (t->pci.cfg[p] == PCI_CAP_ID_VNDR && t->pci.cfg[p + 3] == type)
			return p;
		p = t->pci.cfg[p + 1];
	}
	return 0;
}

Test(virtio_pci, identity_and_capabilities)
{
	unsigned int p;
	uint32_t mult;

	cr_assert_eq(t->pci.cfg[0] | t->pci.cfg[1] << 8, 0x1af4);
	cr_assert_eq(t->pci.cfg[2] | t->pci.cfg[3] << 8, 0x1042);
	cr_assert_eq(t->pci.cfg[PCI_REVISION_ID], 1);
	cr_assert_eq(t->pci.cfg[0x0b], 0x01, "class: mass storage");
	cr_assert_eq(t->pci.cfg[0x2e], 2, "subsystem id");
	cr_assert(t->pci.bars[VPCI_BAR].is64);
	cr_assert_eq(t->pci.bars[VPCI_BAR].size, VPCI_BAR_SIZE);
	for (uint8_t type = 1; type <= 4; type++) {
		p = find_vcap(type);
		cr_assert_neq(p, 0, "capability type %u", type);
		cr_assert_eq(t->pci.cfg[p + 4], VPCI_BAR);
	}
	p = find_vcap(VIRTIO_PCI_CAP_NOTIFY_CFG);
	memcpy(&mult, &t->pci.cfg[p + 16], 4);
	cr_assert_eq(mult, 4);
	cr_assert_eq(t->pci.cfg[t->msix_cap], PCI_CAP_ID_MSIX);
	cr_assert_eq(t->pci.cfg[t->msix_cap + 2], NQ, "table size NQ+1, encoded minus one");
	cr_assert_eq(r(VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	cr_assert_eq(r(VPCI_DEVCFG_OFF + 4, 1), 0xa4);
	cr_assert_eq(r(VPCI_DEVCFG_OFF + 8, 4), 0, "past the device config");
}

Test(virtio_pci, device_features_offered)
{
	w(VIRTIO_PCI_COMMON_DFSELECT, 0, 4);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_DF, 4) & 0x21, 0x21);
	w(VIRTIO_PCI_COMMON_DFSELECT, 1, 4);
	cr_assert(r(VIRTIO_PCI_COMMON_DF, 4) & 1, "VERSION_1");
	w(VIRTIO_PCI_COMMON_DFSELECT, 7, 4);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_DF, 4), 0);
}

Test(virtio_pci, legacy_driver_refused)
{
	w(VIRTIO_PCI_COMMON_STATUS, 1, 1);
	w(VIRTIO_PCI_COMMON_STATUS, 3, 1);
	features(1);				/* no VERSION_1 */
	w(VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	cr_assert_eq(status() & VIRTIO_CONFIG_S_FEATURES_OK, 0);
	w(VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
	cr_assert_eq(dummy.activated, 0, "DRIVER_OK without FEATURES_OK");
	cr_assert_eq(status() & VIRTIO_CONFIG_S_DRIVER_OK, 0);
}

Test(virtio_pci, unoffered_feature_refused)
{
	w(VIRTIO_PCI_COMMON_STATUS, 1, 1);
	w(VIRTIO_PCI_COMMON_STATUS, 3, 1);
	features((1ULL << VIRTIO_F_VERSION_1) | (1ULL << 3));
	w(VIRTIO_PCI_COMMON_STATUS, 0x0b, 1);
	cr_assert_eq(status() & VIRTIO_CONFIG_S_FEATURES_OK, 0);
}

Test(virtio_pci, out_of_order_status_ignored)
{
	w(VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_DRIVER, 1);
	cr_assert_eq(status(), 0, "DRIVER without ACKNOWLEDGE");
	negotiate();
	w(VIRTIO_PCI_COMMON_STATUS, 0x01, 1);
	cr_assert_eq(status(), 0x0b, "bits clear only through reset");
}

Test(virtio_pci, features_locked_after_features_ok)
{
	negotiate();
	features((1ULL << VIRTIO_F_VERSION_1) | (1 << 5));
	w(VIRTIO_PCI_COMMON_GFSELECT, 0, 4);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_GF, 4), 1);
}

Test(virtio_pci, driver_ok_activates_and_reset)
{
	negotiate();
	setup_queue(0, 0x4000);
	w(VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
	cr_assert_eq(status(), 0x0f);
	cr_assert_eq(dummy.activated, 1);
	cr_assert_eq(dummy.ready_queues, 1);
	cr_assert(dummy.features & (1ULL << VIRTIO_F_VERSION_1));
	w(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	cr_assert_eq(status(), 0);
	cr_assert_eq(dummy.resets, 1);
	w(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0, "queues disabled by reset");
	cr_assert_eq(r(VIRTIO_PCI_COMMON_Q_SIZE, 2), 64, "size back to max");
	cr_assert_eq(r(VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0);
}

Test(virtio_pci, ioeventfd_per_ready_queue)
{
	t->pci.bars[VPCI_BAR].mapped_at = 0xc0000000;	/* as if the PCI bus mapped it */
	negotiate();
	setup_queue(0, 0x4000);
	setup_queue(1, 0x5000);
	w(VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
	cr_assert_eq(fake_vm.ioeventfds, 2);
	cr_assert_eq(t->ioevent_addr[1], 0xc0000000 + VPCI_NOTIFY_OFF + 4);
	w(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	cr_assert_eq(fake_vm.ioeventfds, 0);
}

Test(virtio_pci, queue_size_checks)
{
	negotiate();
	w(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	w(VIRTIO_PCI_COMMON_Q_SIZE, 128, 2);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_Q_SIZE, 2), 64, "larger than max refused");
	w(VIRTIO_PCI_COMMON_Q_SIZE, 24, 2);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_Q_SIZE, 2), 64, "not a power of two refused");
	w(VIRTIO_PCI_COMMON_Q_SIZE, 0, 2);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_Q_SIZE, 2), 64);
	w(VIRTIO_PCI_COMMON_Q_SIZE, 32, 2);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_Q_SIZE, 2), 32);
	w(VIRTIO_PCI_COMMON_Q_SELECT, 9, 2);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0, "no such queue");
}

Test(virtio_pci, queue_outside_ram_needs_reset)
{
	negotiate();
	w(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	w(VIRTIO_PCI_COMMON_Q_DESCLO, RAM - 16, 4);
	w(VIRTIO_PCI_COMMON_Q_ENABLE, 1, 2);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_Q_ENABLE, 2), 0);
	cr_assert(status() & VIRTIO_STATUS_NEEDS_RESET);
}

Test(virtio_pci, queue_layout_frozen_when_enabled)
{
	negotiate();
	setup_queue(0, 0x4000);
	w(VIRTIO_PCI_COMMON_Q_DESCLO, 0x8000, 4);
	w(VIRTIO_PCI_COMMON_Q_SIZE, 8, 2);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0x4000);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_Q_SIZE, 2), 16);
}

Test(virtio_pci, notify_write_kicks_eventfd)
{
	struct pollfd p = { .fd = virtio_pci_kick_fd(t, 1), .events = POLLIN };

	cr_assert_eq(poll(&p, 1, 0), 0);
	w(VPCI_NOTIFY_OFF + 4, 1, 2);
	cr_assert_eq(poll(&p, 1, 0), 1);
	w(VPCI_NOTIFY_OFF + 4 * 40, 40, 2);	/* no such queue: ignored */
}

Test(virtio_pci, intx_and_isr)
{
	virtio_pci_queue_irq(t, 0);
	cr_assert_eq(fake_vm.irq_level[17], 1);
	cr_assert_eq(r(VPCI_ISR_OFF, 1), 1);
	cr_assert_eq(fake_vm.irq_level[17], 0, "reading ISR lowers INTx");
	cr_assert_eq(r(VPCI_ISR_OFF, 1), 0, "read clears");
}

Test(virtio_pci, needs_reset_raises_config_irq)
{
	negotiate();
	w(VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
	virtio_pci_set_needs_reset(t);
	cr_assert_eq(status(), 0x4f);
	cr_assert_eq(r(VPCI_ISR_OFF, 1), 2, "config change");
	w(VIRTIO_PCI_COMMON_STATUS, 0, 1);
	cr_assert_eq(status(), 0);
}

static void msix_enable(bool on, bool fmask)
{
	t->pci.cfg[t->msix_cap + 3] = (on ? 0x80 : 0) | (fmask ? 0x40 : 0);
	t->pci.ops->config_write(&t->pci, t->msix_cap + 2, 2);
}

static bool efd_fired(int fd)
{
	uint64_t v;

	return read(fd, &v, sizeof(v)) == sizeof(v);
}

Test(virtio_pci, msix_table_rw)
{
	uint64_t off = VPCI_MSIX_TABLE_OFF + 16;

	cr_assert_eq(r(off + 12, 4), 1, "entries start masked");
	w(off, 0xfee00000, 4);
	w(off + 4, 0, 4);
	w(off + 8, 0x4041, 4);
	cr_assert_eq(r(off, 4), 0xfee00000);
	cr_assert_eq(r(off + 8, 4), 0x4041);
	w(off, 0x00000000fee01000ULL, 8);
	cr_assert_eq(r(off, 8), 0xfee01000);
	w(VPCI_MSIX_TABLE_OFF + 16 * (NQ + 1), 0x1234, 4);	/* past the table */
	cr_assert_eq(r(VPCI_MSIX_TABLE_OFF + 16 * (NQ + 1), 4), 0);
}

Test(virtio_pci, msix_masking_and_pba)
{
	uint64_t e1 = VPCI_MSIX_TABLE_OFF + 16;

	w(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	w(VIRTIO_PCI_COMMON_Q_MSIX, 1, 2);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_Q_MSIX, 2), 1);
	w(e1, 0xfee00000, 4);
	w(e1 + 8, 0x31, 4);
	msix_enable(true, false);
	virtio_pci_queue_irq(t, 0);			/* entry 1 still masked */
	cr_assert_not(efd_fired(t->vec[1].efd));
	cr_assert_eq(r(VPCI_MSIX_PBA_OFF, 4), 2, "pending bit 1");
	cr_assert_eq(fake_vm.irq_level[17], 0, "no INTx with MSI-X on");
	w(e1 + 12, 0, 4);				/* unmask: delivered */
	cr_assert(efd_fired(t->vec[1].efd));
	cr_assert_eq(r(VPCI_MSIX_PBA_OFF, 4), 0);
	cr_assert_eq(fake_vm.msi_routes, 1);
	cr_assert_eq(fake_vm.irqfds, 1);
	virtio_pci_queue_irq(t, 0);
	cr_assert(efd_fired(t->vec[1].efd));
	/* function mask */
	msix_enable(true, true);
	virtio_pci_queue_irq(t, 0);
	cr_assert_not(efd_fired(t->vec[1].efd));
	cr_assert_eq(r(VPCI_MSIX_PBA_OFF, 4), 2);
	msix_enable(true, false);
	cr_assert(efd_fired(t->vec[1].efd));
}

Test(virtio_pci, msix_vector_out_of_range)
{
	w(VIRTIO_PCI_COMMON_MSIX, 99, 2);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	w(VIRTIO_PCI_COMMON_Q_SELECT, 0, 2);
	w(VIRTIO_PCI_COMMON_Q_MSIX, NQ + 1, 2);
	cr_assert_eq(r(VIRTIO_PCI_COMMON_Q_MSIX, 2), VIRTIO_MSI_NO_VECTOR);
	msix_enable(true, false);
	virtio_pci_queue_irq(t, 0);			/* NO_VECTOR: nothing */
	cr_assert_eq(fake_vm.msi_routes, 0);
}

Test(virtio_pci, ioeventfd_follows_bar_move)
{
	t->pci.bars[VPCI_BAR].mapped_at = 0xc0000000;
	negotiate();
	setup_queue(0, 0x4000);
	w(VIRTIO_PCI_COMMON_STATUS, 0x0f, 1);
	cr_assert_eq(t->ioevent_addr[0], 0xc0000000 + VPCI_NOTIFY_OFF);
	t->pci.bars[VPCI_BAR].mapped_at = 0xd0000000;	/* as pci.c does before the hook */
	t->pci.ops->config_write(&t->pci, PCI_BASE_ADDRESS_4, 4);
	cr_assert_eq(t->ioevent_addr[0], 0xd0000000 + VPCI_NOTIFY_OFF);
	cr_assert_eq(fake_vm.ioeventfds, 1);
	t->pci.bars[VPCI_BAR].mapped_at = 0;		/* memory decode off */
	t->pci.ops->config_write(&t->pci, PCI_COMMAND, 2);
	cr_assert_eq(fake_vm.ioeventfds, 0);
}

static unsigned int d_nq_max(void *dev) { return VPCI_MAX_QUEUES; }

static const struct virtio_dev_ops dummy_max_ops = {
	.name = "dummy256", .device_id = 2, .pci_class = 0x018000, .queue_max_size = 64,
	.num_queues = d_nq_max, .features = d_features, .config_size = d_cfg_size,
	.config_read = d_cfg_read, .activate = d_activate, .reset = d_reset,
};

/* 256 queues + the config vector = 257 MSI-X entries: the last one must not read as the PBA. */
Test(virtio_pci, msix_table_of_256_queues_stays_clear_of_pba)
{
	struct virtio_pci_dev *big;
	struct dummy d2 = { 0 };
	uint64_t last = VPCI_MSIX_TABLE_OFF + 16ULL * VPCI_MAX_QUEUES, v;
	uint32_t pba_bar;

	cr_assert_eq(virtio_pci_create(&vm, &dummy_max_ops, &d2, &big), 0);
	cr_assert_eq(big->nr_vectors, VPCI_MAX_QUEUES + 1);
	/* the capability says where the PBA is; it must lie past the whole table */
	memcpy(&pba_bar, &big->pci.cfg[big->msix_cap + 8], 4);
	cr_assert_geq(pba_bar & ~7u, VPCI_MSIX_TABLE_OFF + 16 * big->nr_vectors);

	v = 0;
	big->pci.bars[VPCI_BAR].ops->read(big, last + 12, &v, 4);
	cr_assert_eq(v, 1, "vector 256 starts masked (read 0x%llx)", (unsigned long long)v);
	v = 0xfee01000;
	big->pci.bars[VPCI_BAR].ops->write(big, last, &v, 4);
	v = 0;
	big->pci.bars[VPCI_BAR].ops->read(big, last, &v, 4);
	cr_assert_eq(v, 0xfee01000, "vector 256 address is writable");

	/* config vector 256, masked: its pending bit shows at PBA bit 256 */
	v = VPCI_MAX_QUEUES;
	big->pci.bars[VPCI_BAR].ops->write(big, VIRTIO_PCI_COMMON_MSIX, &v, 2);
	big->pci.cfg[big->msix_cap + 3] = 0x80;
	big->pci.ops->config_write(&big->pci, big->msix_cap + 2, 2);
	virtio_pci_config_irq(big);
	v = 0;
	big->pci.bars[VPCI_BAR].ops->read(big, (pba_bar & ~7u) + VPCI_MAX_QUEUES / 8, &v, 4);
	cr_assert_eq(v, 1, "PBA bit 256 pending");
	virtio_pci_destroy(big);
}
