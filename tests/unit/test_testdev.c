// SPDX-License-Identifier: MIT
/* pc-testdev: scratch register byte lanes, IRQ lines, scratch memory, bad widths. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/testdev.h"
#include "fake_vm.h"

static struct vm vm;
static struct testdev *td;

static void setup(void)
{
	cr_assert_eq(fake_vm_init(&vm, 16ULL << 20), 0);
	cr_assert_eq(testdev_create(&vm.port, &td), 0);
}

static void teardown(void)
{
	testdev_destroy(td);
	fake_vm_destroy(&vm);
}

static uint32_t in(uint16_t port, unsigned int len)
{
	uint32_t v = 0xdeadbeef;

	cr_assert_eq(bus_access(&vm.pio_bus, port, &v, len, false), 0, "port %#x", port);
	return len == 4 ? v : v & ((1u << (8 * len)) - 1);
}

static void out(uint16_t port, uint32_t v, unsigned int len)
{
	cr_assert_eq(bus_access(&vm.pio_bus, port, &v, len, true), 0, "port %#x", port);
}

TestSuite(testdev, .init = setup, .fini = teardown);

Test(testdev, scratch_register_byte_lanes)
{
	out(0xe0, 0x12345678, 4);
	cr_assert_eq(in(0xe0, 4), 0x12345678);
	cr_assert_eq(in(0xe0, 1), 0x78);
	cr_assert_eq(in(0xe3, 1), 0x12);
	cr_assert_eq(in(0xe2, 2), 0x1234);
	cr_assert_eq(in(0xe1, 2), 0x3456);
	out(0xe2, 0xabcd, 2);
	cr_assert_eq(in(0xe0, 4), 0xabcd5678);
	/* 0xe8-0xeb: the same register, byte by byte */
	cr_assert_eq(in(0xe8, 4), 0xabcd5678);
	out(0xe9, 0x00, 1);
	cr_assert_eq(in(0xe0, 4), 0xabcd0078);
	out(0xe8, 0xcafef00d, 4);
	cr_assert_eq(in(0xe0, 4), 0xcafef00d);
	/* straddling the end of the register is refused by the bus, state kept */
	{
		uint32_t v = 0;

		cr_assert_eq(bus_access(&vm.pio_bus, 0xe2, &v, 4, true), -EINVAL);
	}
	cr_assert_eq(in(0xe0, 4), 0xcafef00d);
}

Test(testdev, irq_lines)
{
	unsigned int n;

	for (n = 0; n < TESTDEV_IRQ_LINES; n++) {
		out(0x2000 + n, 1, 1);
		cr_assert_eq(fake_vm.irq_level[n], 1, "GSI %u raised", n);
		cr_assert_eq(fake_vm.irq_raises[n], 1);
		out(0x2000 + n, 0x80, 1);	/* any non-zero value is "high" */
		cr_assert_eq(fake_vm.irq_level[n], 1);
		out(0x2000 + n, 0, 1);
		cr_assert_eq(fake_vm.irq_level[n], 0, "GSI %u lowered", n);
		cr_assert_eq(in(0x2000 + n, 1), 0);
	}
	/* only byte writes count (QEMU: valid.max_access_size 1) */
	out(0x200a, 0x0101, 2);
	cr_assert_eq(fake_vm.irq_level[10], 0);
	cr_assert_eq(fake_vm.irq_level[11], 0);
	/* nothing past line 23 */
	{
		uint8_t v = 1;

		cr_assert_eq(bus_access(&vm.pio_bus, 0x2018, &v, 1, true), -ENOENT);
	}
}

Test(testdev, flush_port_is_harmless)
{
	out(0xe4, 0x00100000, 4);
	out(0xe4, 0xffffffff, 4);	/* outside guest RAM */
	out(0xe5, 1, 1);
	cr_assert_eq(in(0xe4, 4), 0);
}

Test(testdev, iomem)
{
	uint64_t v = 0x0123456789abcdefULL, r = 0;
	uint8_t b = 0;

	cr_assert_eq(bus_access(&vm.mmio_bus, TESTDEV_IOMEM + 0x100, &v, 8, true), 0);
	cr_assert_eq(bus_access(&vm.mmio_bus, TESTDEV_IOMEM + 0x100, &r, 8, false), 0);
	cr_assert_eq(r, v);
	cr_assert_eq(bus_access(&vm.mmio_bus, TESTDEV_IOMEM + 0x101, &b, 1, false), 0);
	cr_assert_eq(b, 0xcd);
	b = 0x5a;
	cr_assert_eq(bus_access(&vm.mmio_bus, TESTDEV_IOMEM + 0xffff, &b, 1, true), 0);
	b = 0;
	cr_assert_eq(bus_access(&vm.mmio_bus, TESTDEV_IOMEM + 0xffff, &b, 1, false), 0);
	cr_assert_eq(b, 0x5a);
	cr_assert_eq(bus_access(&vm.mmio_bus, TESTDEV_IOMEM + 0xfffc, &r, 8, false), -EINVAL);
	cr_assert_eq(bus_access(&vm.mmio_bus, TESTDEV_IOMEM + 0x10000, &b, 1, false), -ENOENT);
}

Test(testdev, two_devices_conflict)
{
	struct testdev *second = NULL;

	cr_assert_eq(testdev_create(&vm.port, &second), -EEXIST);
	cr_assert_null(second);
	/* the first one still answers */
	out(0xe0, 7, 4);
	cr_assert_eq(in(0xe0, 4), 7);
}
