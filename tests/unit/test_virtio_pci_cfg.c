// SPDX-License-Identifier: MIT
/*
 * virtio-pci VIRTIO_PCI_CAP_PCI_CFG: the BAR reached through config space,
 * driven the way a guest does it (ports 0xcf8/0xcfc on the real PCI bus).
 */
#include <criterion/criterion.h>
#include <stddef.h>
#include <unistd.h>

#include <linux/pci_regs.h>
#include <linux/virtio_pci.h>

#include "fake_vm.h"
#include "mem/layout.h"
#include "virtio/virtio_pci.h"

#define NQ	2

static unsigned int d_nq(void *dev) { return NQ; }
static uint64_t d_features(void *dev) { return 1ULL << 0; }
static unsigned int d_cfg_size(void *dev) { return 8; }
static void d_cfg_read(void *dev, unsigned int off, void *data, unsigned int len)
{
	memset(data, 0xa0 + off, len);
}
static int d_activate(void *dev, struct virtio_pci_dev *t, uint64_t f, struct virtq *vqs,
		      unsigned int nr)
{
	return 0;
}
static void d_reset(void *dev) { }

static const struct virtio_dev_ops dummy_ops = {
	.name = "dummy", .device_id = 2, .pci_class = 0x018000, .queue_max_size = 64,
	.num_queues = d_nq, .features = d_features, .config_size = d_cfg_size,
	.config_read = d_cfg_read, .activate = d_activate, .reset = d_reset,
};

static struct vm vm;
static struct virtio_pci_dev *t;
static unsigned int cap;	/* offset of the PCI_CFG capability */

static void cfg_addr(unsigned int reg)
{
	uint32_t a = 0x80000000u | t->pci.slot << 11 | (reg & 0xfc);

	bus_access(&vm.pio_bus, PORT_PCI_CONF_ADDR, &a, 4, true);
}

static uint32_t cfg_read(unsigned int reg, unsigned int len)
{
	uint32_t v = 0;

	cfg_addr(reg);
	bus_access(&vm.pio_bus, PORT_PCI_CONF_DATA + (reg & 3), &v, len, false);
	return len == 4 ? v : v & ((1u << (8 * len)) - 1);
}

static void cfg_write(unsigned int reg, uint32_t v, unsigned int len)
{
	cfg_addr(reg);
	bus_access(&vm.pio_bus, PORT_PCI_CONF_DATA + (reg & 3), &v, len, true);
}

/* Points the window at (bar, off, len). */
static void window(uint8_t bar, uint32_t off, uint32_t len)
{
	cfg_write(cap + offsetof(struct virtio_pci_cap, bar), bar, 1);
	cfg_write(cap + offsetof(struct virtio_pci_cap, offset), off, 4);
	cfg_write(cap + offsetof(struct virtio_pci_cap, length), len, 4);
}

static uint32_t win_read(uint8_t bar, uint32_t off, uint32_t len)
{
	window(bar, off, len);
	return cfg_read(cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data), 4);
}

static void win_write(uint8_t bar, uint32_t off, uint32_t len, uint32_t v)
{
	window(bar, off, len);
	cfg_write(cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data), v, 4);
}

static uint64_t bar_rd(uint64_t off, unsigned int len)
{
	uint64_t v = 0;

	t->pci.bars[VPCI_BAR].ops->read(t, off, &v, len);
	return v;
}

static void bar_wr(uint64_t off, uint64_t v, unsigned int len)
{
	t->pci.bars[VPCI_BAR].ops->write(t, off, &v, len);
}

static unsigned int find_vcap(uint8_t type)
{
	unsigned int p = cfg_read(PCI_CAPABILITY_LIST, 1), n = 0;

	while (p && n++ < 48) {
		if (cfg_read(p, 1) == PCI_CAP_ID_VNDR && cfg_read(p + 3, 1) == type)
			return p;
		p = cfg_read(p + 1, 1);
	}
	return 0;
}

static void setup(void)
{
	cr_assert_eq(fake_vm_init(&vm, 1 << 20), 0);
	cr_assert_eq(pci_bus_create(&vm), 0);
	cr_assert_eq(virtio_pci_create(&vm, &dummy_ops, NULL, &t), 0);
	cr_assert_eq(pci_dev_register(&vm, &t->pci), 0);
	cap = find_vcap(VIRTIO_PCI_CAP_PCI_CFG);
	cr_assert_neq(cap, 0, "VIRTIO_PCI_CAP_PCI_CFG present");
}

static void teardown(void)
{
	pci_bus_destroy(&vm);
	virtio_pci_destroy(t);
	fake_vm_destroy(&vm);
}

TestSuite(virtio_pci_cfg, .init = setup, .fini = teardown);

Test(virtio_pci_cfg, capability_layout)
{
	cr_assert_eq(cfg_read(cap + 2, 1), sizeof(struct virtio_pci_cfg_cap));
	/* the window starts pointing nowhere (length 0) and reads 0 */
	cr_assert_eq(cfg_read(cap + offsetof(struct virtio_pci_cap, length), 4), 0);
	cr_assert_eq(cfg_read(cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data), 4), 0);
	/* bar, offset, length read back as written */
	window(VPCI_BAR, 0x14, 1);
	cr_assert_eq(cfg_read(cap + offsetof(struct virtio_pci_cap, bar), 1), VPCI_BAR);
	cr_assert_eq(cfg_read(cap + offsetof(struct virtio_pci_cap, offset), 4), 0x14);
	cr_assert_eq(cfg_read(cap + offsetof(struct virtio_pci_cap, length), 4), 1);
}

Test(virtio_pci_cfg, common_config_read_equals_mmio)
{
	static const unsigned int lens[] = { 1, 2, 4 };
	unsigned int off, i;

	bar_wr(VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	bar_wr(VIRTIO_PCI_COMMON_Q_SELECT, 1, 2);
	bar_wr(VIRTIO_PCI_COMMON_Q_DESCLO, 0x12345000, 4);
	for (i = 0; i < 3; i++) {
		for (off = 0; off < VPCI_COMMON_LEN; off += lens[i]) {
			uint32_t got = win_read(VPCI_BAR, off, lens[i]);
			uint32_t want = (uint32_t)bar_rd(off, lens[i]);

			cr_assert_eq(got, want, "off 0x%x len %u: window 0x%x, MMIO 0x%x",
				     off, lens[i], got, want);
		}
	}
	cr_assert_eq(win_read(VPCI_BAR, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	cr_assert_eq(win_read(VPCI_BAR, VIRTIO_PCI_COMMON_Q_DESCLO, 4), 0x12345000);
	/* device config too, and a partial (byte) read of pci_cfg_data */
	window(VPCI_BAR, VPCI_DEVCFG_OFF + 2, 2);
	cr_assert_eq(cfg_read(cap + offsetof(struct virtio_pci_cfg_cap, pci_cfg_data) + 1, 1),
		     0xa2);
}

Test(virtio_pci_cfg, write_reaches_device)
{
	uint64_t kicks = 0;

	win_write(VPCI_BAR, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	cr_assert_eq(bar_rd(VIRTIO_PCI_COMMON_STATUS, 1), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	win_write(VPCI_BAR, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
	cr_assert_eq(bar_rd(VIRTIO_PCI_COMMON_Q_SELECT, 2), 1);
	win_write(VPCI_BAR, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
	cr_assert_eq(bar_rd(VIRTIO_PCI_COMMON_GFSELECT, 4), 1);
	/* only cap.length bytes are written: the upper bytes of data are not */
	win_write(VPCI_BAR, VIRTIO_PCI_COMMON_Q_SIZE, 2, 0xffff0010);
	cr_assert_eq(bar_rd(VIRTIO_PCI_COMMON_Q_SIZE, 2), 0x10);
	/* a notify through the window kicks queue 1 */
	win_write(VPCI_BAR, VPCI_NOTIFY_OFF + VPCI_NOTIFY_MULT, 2, 1);
	cr_assert_eq(read(t->kick_fd[1], &kicks, sizeof(kicks)), sizeof(kicks));
	cr_assert_eq(kicks, 1);
}

Test(virtio_pci_cfg, bad_window_is_harmless)
{
	static const struct { uint8_t bar; uint32_t off, len; } bad[] = {
		{ 0, 0, 4 }, { 1, 0, 4 }, { 5, 0, 4 }, { 6, 0, 4 }, { 0xff, 0, 4 },
		{ VPCI_BAR, 0, 0 }, { VPCI_BAR, 0, 3 }, { VPCI_BAR, 0, 8 },
		{ VPCI_BAR, 0, 0xffffffff }, { VPCI_BAR, 0, 0x80000000 },
		{ VPCI_BAR, 0x13, 2 }, { VPCI_BAR, 0x12, 4 },
		{ VPCI_BAR, VPCI_BAR_SIZE, 1 }, { VPCI_BAR, VPCI_BAR_SIZE - 2, 4 },
		{ VPCI_BAR, 0xfffffffc, 4 }, { VPCI_BAR, 0xffffffff, 1 },
	};
	unsigned int i;

	bar_wr(VIRTIO_PCI_COMMON_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE, 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(win_read(bad[i].bar, bad[i].off, bad[i].len), 0, "case %u", i);
		win_write(bad[i].bar, bad[i].off, bad[i].len, 0);
		win_write(bad[i].bar, bad[i].off, bad[i].len, 0xffffffff);
	}
	/* no write landed: status and queue_select are as before */
	cr_assert_eq(bar_rd(VIRTIO_PCI_COMMON_STATUS, 1), VIRTIO_CONFIG_S_ACKNOWLEDGE);
	cr_assert_eq(bar_rd(VIRTIO_PCI_COMMON_Q_SELECT, 2), 0);
	/* the last byte of the BAR is in range */
	cr_assert_eq(win_read(VPCI_BAR, VPCI_BAR_SIZE - 1, 1), 0);
	cr_assert_eq(win_read(VPCI_BAR, VPCI_BAR_SIZE - 4, 4), 0);
}

Test(virtio_pci_cfg, works_while_memory_decode_is_off)
{
	cr_assert_eq(cfg_read(PCI_COMMAND, 2) & PCI_COMMAND_MEMORY, 0);
	cr_assert_eq(t->pci.bars[VPCI_BAR].mapped_at, 0);
	cr_assert_eq(win_read(VPCI_BAR, VIRTIO_PCI_COMMON_NUMQ, 2), NQ);
	/* and with decode on, the window and the mapped BAR agree */
	cfg_write(PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
	cr_assert_neq(t->pci.bars[VPCI_BAR].mapped_at, 0);
	{
		uint32_t v = 0;

		cr_assert_eq(bus_access(&vm.mmio_bus, t->pci.bars[VPCI_BAR].mapped_at +
					VIRTIO_PCI_COMMON_NUMQ, &v, 2, false), 0);
		cr_assert_eq(v, win_read(VPCI_BAR, VIRTIO_PCI_COMMON_NUMQ, 2));
	}
	cfg_write(PCI_COMMAND, 0, 2);
}
