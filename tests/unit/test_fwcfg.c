// SPDX-License-Identifier: MIT
/* fw_cfg traditional I/O interface. */
#include <criterion/criterion.h>
#include <string.h>

#include "devices/legacy.h"
#include "fake_vm.h"
#include "mem/layout.h"

static struct vm vm;

static void setup(void)
{
	cr_assert_eq(fake_vm_init(&vm, 32ULL << 20), 0);
	vm.nr_vcpus = vm.port.nr_vcpus = 3;
	cr_assert_eq(legacy_devices_create(&vm), 0);
}

static void teardown(void)
{
	legacy_devices_destroy(&vm);
	fake_vm_destroy(&vm);
}

TestSuite(fwcfg, .init = setup, .fini = teardown);

static void select_key(uint16_t key)
{
	cr_assert_eq(bus_access(&vm.pio_bus, PORT_FW_CFG, &key, 2, true), 0);
}

static void read_data(void *buf, size_t len)
{
	uint8_t *p = buf;
	size_t i;

	for (i = 0; i < len; i++)
		cr_assert_eq(bus_access(&vm.pio_bus, PORT_FW_CFG + 1, &p[i], 1, false), 0);
}

static uint64_t read_le(unsigned int n)
{
	uint8_t b[8] = { 0 };
	uint64_t v = 0;

	read_data(b, n);
	while (n--)
		v = v << 8 | b[n];
	return v;
}

Test(fwcfg, signature)
{
	char sig[5] = { 0 };

	select_key(0x0000);
	read_data(sig, 4);
	cr_assert_str_eq(sig, "QEMU");
	cr_assert_eq(read_le(4), 0, "past the end reads 0");
	select_key(0x0000);		/* reselect rewinds */
	read_data(sig, 4);
	cr_assert_str_eq(sig, "QEMU");
}

Test(fwcfg, id_traditional_no_dma)
{
	select_key(0x0001);
	cr_assert_eq(read_le(4), 1);
}

Test(fwcfg, ram_size_and_cpus)
{
	select_key(0x0003);
	cr_assert_eq(read_le(8), 32ULL << 20);
	select_key(0x0005);
	cr_assert_eq(read_le(2), 3);
	select_key(0x000f);
	cr_assert_eq(read_le(2), 3);
}

Test(fwcfg, empty_file_dir_and_unknown_keys)
{
	uint8_t b[8];

	select_key(0x0019);
	memset(b, 0xee, sizeof(b));
	read_data(b, 4);
	cr_assert_eq(b[0] | b[1] | b[2] | b[3], 0);
	select_key(0x1234);
	read_data(b, 8);
	cr_assert_eq(b[0] | b[1] | b[7], 0);
	select_key(0x8000);
	cr_assert_eq(read_le(4), 0);
}

Test(fwcfg, data_and_byte_selector_writes_ignored)
{
	uint8_t v = 0x05;
	char sig[5] = { 0 };

	select_key(0x0000);
	cr_assert_eq(bus_access(&vm.pio_bus, PORT_FW_CFG + 1, &v, 1, true), 0);
	cr_assert_eq(bus_access(&vm.pio_bus, PORT_FW_CFG, &v, 1, true), 0);
	read_data(sig, 4);
	cr_assert_str_eq(sig, "QEMU");
}
