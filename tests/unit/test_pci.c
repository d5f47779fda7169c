// SPDX-License-Identifier: MIT
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>
#include <string.h>

#include "devices/pci.h"
#include "fake_vm.h"
#include "mem/layout.h"

static struct vm vm;

static void cfg_addr(unsigned int slot, unsigned int reg)
{
	uint32_t a = 0x80000000u | slot << 11 | (reg & 0xfc);

	bus_access(&vm.pio_bus, PORT_PCI_CONF_ADDR, &a, 4, true);
}

static uint32_t cfg_read(unsigned int slot, unsigned int reg, unsigned int len)
{
	uint32_t v = 0;

	cfg_addr(slot, reg);
	bus_access(&vm.pio_bus, PORT_PCI_CONF_DATA + (reg & 3), &v, len, false);
	return len == 4 ? v : v & ((1u << (8 * len)) - 1);
}

static void cfg_write(unsigned int slot, unsigned int reg, uint32_t v, unsigned int len)
{
	cfg_addr(slot, reg);
	bus_access(&vm.pio_bus, PORT_PCI_CONF_DATA + (reg & 3), &v, len, true);
}

static unsigned int bar_reads;
static void bar_read(void *opaque, uint64_t off, void *data, unsigned int len)
{
	bar_reads++;
	memset(data, 0xab, len);
}
static const struct bus_dev_ops bar_ops = { .read = bar_read };

static void setup(void)
{
	cr_assert_eq(fake_vm_init(&vm, 0), 0);
	cr_assert_eq(pci_bus_create(&vm), 0);
}

static void teardown(void)
{
	pci_bus_destroy(&vm);
	fake_vm_destroy(&vm);
}

TestSuite(pci, .init = setup, .fini = teardown);

Test(pci, host_bridge_and_empty_slots)
{
	cr_assert_eq(cfg_read(0, 0, 2), 0x1b36);
	cr_assert_eq(cfg_read(0, 0x0a, 2), 0x0600);	/* class: host bridge */
	cr_assert_eq(cfg_read(5, 0, 4), 0xffffffff);
	/* function 1 and bus 1 do not exist */
	{
		uint32_t a = 0x80000100u, v = 0;

		bus_access(&vm.pio_bus, PORT_PCI_CONF_ADDR, &a, 4, true);
		bus_access(&vm.pio_bus, PORT_PCI_CONF_DATA, &v, 4, false);
		cr_assert_eq(v, 0xffffffff);
		a = 0x80010000u;
		bus_access(&vm.pio_bus, PORT_PCI_CONF_ADDR, &a, 4, true);
		bus_access(&vm.pio_bus, PORT_PCI_CONF_DATA, &v, 4, false);
		cr_assert_eq(v, 0xffffffff);
	}
	/* the address register reads back */
	{
		uint32_t a = 0x80001808u, v = 0;

		bus_access(&vm.pio_bus, PORT_PCI_CONF_ADDR, &a, 4, true);
		bus_access(&vm.pio_bus, PORT_PCI_CONF_ADDR, &v, 4, false);
		cr_assert_eq(v, a);
	}
}

Test(pci, bar_sizing_mapping_and_moving)
{
	static struct pci_dev dev;
	uint32_t lo, hi;
	uint8_t b;

	pci_dev_init(&dev, 0x1af4, 0x1042, 0x018000, 0x1af4, 2);
	dev.name = "test";
	pci_set_bar(&dev, 4, 0x4000, true, &bar_ops, &dev);
	cr_assert_eq(pci_dev_register(&vm, &dev), 0);
	cr_assert_eq(dev.slot, 1);
	cr_assert_eq(cfg_read(1, 0x3c, 1), GSI_PCI_BASE + 1);
	cr_assert_eq(cfg_read(1, 0x3d, 1), 1);

	lo = cfg_read(1, 0x20, 4);
	hi = cfg_read(1, 0x24, 4);
	cr_assert_eq(lo & 0xf, 0x4, "64-bit memory BAR type");
	cr_assert_geq(lo & ~0xfu, LAYOUT_PCI_MMIO_START);
	cr_assert_eq(hi, 0);
	/* not mapped until memory decoding is on */
	cr_assert_eq(bus_access(&vm.mmio_bus, lo & ~0xfu, &b, 1, false), -ENOENT);
	cfg_write(1, 0x04, 0x0006, 2);
	cr_assert_eq(bus_access(&vm.mmio_bus, (lo & ~0xfu) + 0x10, &b, 1, false), 0);
	cr_assert_eq(b, 0xab);

	/* sizing: write all ones, read the size mask, restore */
	cfg_write(1, 0x04, 0, 2);
	cfg_write(1, 0x20, 0xffffffff, 4);
	cr_assert_eq(cfg_read(1, 0x20, 4), 0xffffc004);
	cfg_write(1, 0x24, 0xffffffff, 4);
	cr_assert_eq(cfg_read(1, 0x24, 4), 0xffffffff);
	/* move it */
	cfg_write(1, 0x20, 0xd0000000, 4);
	cfg_write(1, 0x24, 0, 4);
	cfg_write(1, 0x04, 0x0002, 2);
	cr_assert_eq(bus_access(&vm.mmio_bus, 0xd0000000, &b, 1, false), 0);
	cr_assert_eq(bus_access(&vm.mmio_bus, lo & ~0xfu, &b, 1, false), -ENOENT);
	/* a BAR moved onto RAM addresses is not mapped */
	cfg_write(1, 0x20, 0x00100000, 4);
	cr_assert_eq(bus_access(&vm.mmio_bus, 0x00100000, &b, 1, false), -ENOENT);
}

Test(pci, capabilities_chain)
{
	static struct pci_dev dev;
	uint8_t cap1[4] = { 0x11, 0, 0, 0 }, cap2[16] = { 0x09, 0, 16 };
	int o1, o2;

	pci_dev_init(&dev, 0x1af4, 0x1042, 0x018000, 0x1af4, 2);
	o1 = pci_add_cap(&dev, cap1, sizeof(cap1));
	o2 = pci_add_cap(&dev, cap2, sizeof(cap2));
	cr_assert_eq(o1, 0x40);
	cr_assert_eq(o2, 0x44);
	cr_assert_eq(pci_dev_register(&vm, &dev), 0);
	cr_assert(cfg_read(1, 0x06, 2) & 0x10);
	cr_assert_eq(cfg_read(1, 0x34, 1), 0x40);
	cr_assert_eq(cfg_read(1, 0x41, 1), 0x44);
	cr_assert_eq(cfg_read(1, 0x45, 1), 0);
	/* capabilities are read-only unless the device opens wmask bits */
	cfg_write(1, 0x40, 0xffffffff, 4);
	cr_assert_eq(cfg_read(1, 0x40, 1), 0x11);
	/* vendor ID is read-only */
	cfg_write(1, 0x00, 0, 2);
	cr_assert_eq(cfg_read(1, 0x00, 2), 0x1af4);
}

Test(pci, reset_port_cf9)
{
	uint8_t v = 0x02;

	bus_access(&vm.pio_bus, PORT_RESET, &v, 1, true);
	cr_assert(!fake_vm.exit_requested);
	v = 0x06;
	bus_access(&vm.pio_bus, PORT_RESET, &v, 1, true);
	cr_assert(fake_vm.exit_requested);
	cr_assert_eq(fake_vm.exit_reason, VM_EXIT_RESET);
	cr_assert_eq(fake_vm.exit_status, 0);
}

Test(pci, hostile_accesses)
{
	unsigned int off, len;
	uint64_t v;

	for (off = 0; off < 8; off++)
		for (len = 1; len <= 8; len *= 2) {
			v = 0xffffffffffffffffULL;
			bus_access(&vm.pio_bus, PORT_PCI_CONF_ADDR + off, &v, len, true);
			bus_access(&vm.pio_bus, PORT_PCI_CONF_ADDR + off, &v, len, false);
		}
	cr_assert_eq(cfg_read(0, 0, 2), 0x1b36);
}

static unsigned int hook_off, hook_len, hook_calls;
static void read_hook(struct pci_dev *dev, unsigned int off, unsigned int len)
{
	hook_calls++;
	hook_off = off;
	hook_len = len;
	dev->cfg[0x48] = 0x5a;		/* the device refreshes a byte before the read */
}
static const struct pci_dev_ops hook_ops = { .config_read = read_hook };

Test(pci, config_read_hook)
{
	static struct pci_dev dev;

	pci_dev_init(&dev, 0x1af4, 0x1042, 0x018000, 0x1af4, 2);
	dev.ops = &hook_ops;
	cr_assert_eq(pci_dev_register(&vm, &dev), 0);
	cr_assert_eq(cfg_read(1, 0x48, 1), 0x5a);
	cr_assert_eq(hook_off, 0x48);
	cr_assert_eq(hook_len, 1);
	cr_assert_eq(cfg_read(1, 0x4a, 2), 0);
	cr_assert_eq(hook_off, 0x4a);
	cr_assert_eq(hook_len, 2);
	cr_assert_eq(hook_calls, 2);
}

Test(pci, bar_access_bounds)
{
	static struct pci_dev dev;
	uint64_t v = 0;

	pci_dev_init(&dev, 0x1af4, 0x1042, 0x018000, 0x1af4, 2);
	pci_set_bar(&dev, 4, 0x4000, true, &bar_ops, &dev);
	bar_reads = 0;
	cr_assert_eq(pci_bar_access(&dev, 4, 0, &v, 4, false), 0);
	cr_assert_eq(v, 0xabababab);
	cr_assert_eq(pci_bar_access(&dev, 4, 0x3ff8, &v, 8, false), 0);
	cr_assert_eq(bar_reads, 2);
	/* no such BAR, the upper half of a 64-bit BAR, past the end, odd sizes */
	cr_assert_eq(pci_bar_access(&dev, 0, 0, &v, 4, false), -EINVAL);
	cr_assert_eq(pci_bar_access(&dev, 5, 0, &v, 4, false), -EINVAL);
	cr_assert_eq(pci_bar_access(&dev, 6, 0, &v, 4, false), -EINVAL);
	cr_assert_eq(pci_bar_access(&dev, 4, 0x3ffd, &v, 4, false), -EINVAL);
	cr_assert_eq(pci_bar_access(&dev, 4, 0x4000, &v, 1, false), -EINVAL);
	cr_assert_eq(pci_bar_access(&dev, 4, ~0ULL, &v, 1, false), -EINVAL);
	cr_assert_eq(pci_bar_access(&dev, 4, 0, &v, 3, false), -EINVAL);
	cr_assert_eq(pci_bar_access(&dev, 4, 0, &v, 0, false), -EINVAL);
	/* bar_ops has no write: refused, not called */
	cr_assert_eq(pci_bar_access(&dev, 4, 0, &v, 4, true), -EINVAL);
	cr_assert_eq(bar_reads, 2);
}

/*
 * A config-write hook that takes long (a virtio reset through the config
 * window drains the disk) must not hold up config accesses to other
 * devices: the bus lock is not held across device hooks.
 */
static sem_t slow_entered, slow_release;
static bool slow_timed_out;

static void slow_config_write(struct pci_dev *dev, unsigned int off, unsigned int len)
{
	struct timespec ts;

	sem_post(&slow_entered);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 3;
	if (sem_timedwait(&slow_release, &ts))
		slow_timed_out = true;
}
static const struct pci_dev_ops slow_ops = { .config_write = slow_config_write };

static void *slow_writer(void *arg)
{
	uint32_t v = 0x12345678;

	/* the address register is latched at the data access: set and write in one go */
	cfg_write(1, 0x40, v, 4);
	return NULL;
}

Test(pci, slow_hook_does_not_stall_other_devices, .timeout = 20)
{
	static struct pci_dev slow, other;
	pthread_t th;

	sem_init(&slow_entered, 0, 0);
	sem_init(&slow_release, 0, 0);
	pci_dev_init(&slow, 0x1af4, 0x1042, 0x018000, 0x1af4, 2);
	slow.ops = &slow_ops;
	pci_dev_init(&other, 0x1af4, 0x1041, 0x020000, 0x1af4, 1);
	cr_assert_eq(pci_dev_register(&vm, &slow), 0);
	cr_assert_eq(pci_dev_register(&vm, &other), 0);
	cr_assert_eq(pthread_create(&th, NULL, slow_writer, NULL), 0);
	sem_wait(&slow_entered);
	/* another vCPU reads another device's ID while the hook is busy */
	cr_assert_eq(cfg_read(2, 0, 2), 0x1af4);
	cr_assert_eq(cfg_read(2, 2, 2), 0x1041);
	sem_post(&slow_release);
	pthread_join(th, NULL);
	cr_assert_not(slow_timed_out, "config access to another device waited for the hook");
}
