// SPDX-License-Identifier: MIT
/* Legacy devices: i8042, debug-exit, pvpanic, ACPI sleep, 0xcf9, port 0x80, sweep. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "devices/legacy.h"
#include "exitcode.h"
#include "fake_vm.h"
#include "mem/layout.h"

static struct vm vm;

static void setup(void)
{
	cr_assert_eq(fake_vm_init(&vm, 64ULL << 20), 0);
	cr_assert_eq(legacy_devices_create(&vm), 0);
	cr_assert_not_null(vm.legacy);
}

static void teardown(void)
{
	legacy_devices_destroy(&vm);
	cr_assert_null(vm.legacy);
	fake_vm_destroy(&vm);
}

static uint8_t in8(uint16_t port)
{
	uint8_t v = 0;

	cr_assert_eq(bus_access(&vm.pio_bus, port, &v, 1, false), 0, "port %#x", port);
	return v;
}

static void out8(uint16_t port, uint8_t v)
{
	cr_assert_eq(bus_access(&vm.pio_bus, port, &v, 1, true), 0, "port %#x", port);
}

static void outn(uint16_t port, uint32_t v, unsigned int len)
{
	cr_assert_eq(bus_access(&vm.pio_bus, port, &v, len, true), 0, "port %#x", port);
}

static void clear_exit(void)
{
	fake_vm.exit_requested = false;
	vm.exit_requested = false;
}

static void assert_exit(enum vm_exit_reason reason, int status)
{
	cr_assert(fake_vm.exit_requested, "expected an exit request");
	cr_assert_eq(fake_vm.exit_reason, reason);
	cr_assert_eq(fake_vm.exit_status, status);
	clear_exit();
}

TestSuite(legacy, .init = setup, .fini = teardown);

/* ---- i8042 ---- */

static uint8_t kbd_read_response(void)
{
	cr_assert(in8(PORT_I8042_CMD) & 0x01, "output buffer should be full");
	return in8(PORT_I8042_DATA);
}

Test(legacy, i8042_self_test_and_interface_test)
{
	out8(PORT_I8042_CMD, 0xaa);
	cr_assert_eq(kbd_read_response(), 0x55);
	cr_assert_eq(in8(PORT_I8042_CMD) & 0x01, 0, "buffer empty after the read");
	cr_assert(in8(PORT_I8042_CMD) & 0x04, "system flag after self-test");
	cr_assert(in8(PORT_I8042_CMD) & 0x08, "last write was a command");
	out8(PORT_I8042_CMD, 0xab);
	cr_assert_eq(kbd_read_response(), 0x00);
	cr_assert_eq(in8(PORT_I8042_CMD) & 0x02, 0, "input buffer never busy");
	cr_assert(!fake_vm.exit_requested);
}

Test(legacy, i8042_command_byte_read_write_and_enable_bits)
{
	out8(PORT_I8042_CMD, 0x60);
	out8(PORT_I8042_DATA, 0x47);
	cr_assert_eq(in8(PORT_I8042_CMD) & 0x08, 0, "last write was data");
	out8(PORT_I8042_CMD, 0x20);
	cr_assert_eq(kbd_read_response(), 0x47);
	out8(PORT_I8042_CMD, 0xad);
	out8(PORT_I8042_CMD, 0x20);
	cr_assert_eq(kbd_read_response(), 0x57, "keyboard disabled bit 4");
	out8(PORT_I8042_CMD, 0xae);
	out8(PORT_I8042_CMD, 0x20);
	cr_assert_eq(kbd_read_response(), 0x47);
}

Test(legacy, i8042_aux_loopback_sets_aux_obf)
{
	out8(PORT_I8042_CMD, 0xd3);
	out8(PORT_I8042_DATA, 0x5a);
	cr_assert_eq(in8(PORT_I8042_CMD) & 0x21, 0x21);
	cr_assert_eq(in8(PORT_I8042_DATA), 0x5a);
}

Test(legacy, i8042_keyboard_writes_get_no_answer)
{
	out8(PORT_I8042_DATA, 0xff);	/* keyboard reset: nobody there */
	cr_assert_eq(in8(PORT_I8042_CMD) & 0x01, 0);
	cr_assert(!fake_vm.exit_requested);
}

Test(legacy, i8042_pulse_reset_requests_reset)
{
	out8(PORT_I8042_CMD, 0xfe);
	assert_exit(VM_EXIT_RESET, VMM_EXIT_OK);
	out8(PORT_I8042_CMD, 0xf0);
	assert_exit(VM_EXIT_RESET, VMM_EXIT_OK);
	out8(PORT_I8042_CMD, 0xff);	/* pulse nothing */
	out8(PORT_I8042_CMD, 0xf1);	/* bit 0 set: not the reset line */
	cr_assert(!fake_vm.exit_requested);
	out8(PORT_I8042_CMD, 0xd1);	/* output port write with reset bit low */
	out8(PORT_I8042_DATA, 0xdf);	/* A20 on, reset high: nothing */
	cr_assert(!fake_vm.exit_requested);
	out8(PORT_I8042_CMD, 0xd1);
	out8(PORT_I8042_DATA, 0xde);
	assert_exit(VM_EXIT_RESET, VMM_EXIT_OK);
}

/* ---- debug-exit ---- */

Test(legacy, debug_exit_codes)
{
	out8(PORT_DEBUG_EXIT, 0);
	assert_exit(VM_EXIT_DEBUG, 1);
	out8(PORT_DEBUG_EXIT, 1);
	assert_exit(VM_EXIT_DEBUG, 3);
	out8(PORT_DEBUG_EXIT, 0x7f);
	assert_exit(VM_EXIT_DEBUG, 0xff);
	outn(PORT_DEBUG_EXIT, 0x10002, 4);	/* wide value: truncated status */
	assert_exit(VM_EXIT_DEBUG, 5);
	outn(PORT_DEBUG_EXIT + 2, 0x21, 2);
	assert_exit(VM_EXIT_DEBUG, 0x43);
	cr_assert_eq(in8(PORT_DEBUG_EXIT), 0);
	cr_assert(!fake_vm.exit_requested, "reads do not exit");
}

/* ---- pvpanic ---- */

Test(legacy, pvpanic_events_and_panic)
{
	cr_assert_eq(in8(PORT_PVPANIC), 0x03);
	out8(PORT_PVPANIC, 0x02);		/* crash loaded: log only */
	cr_assert(!fake_vm.exit_requested);
	out8(PORT_PVPANIC, 0x00);
	cr_assert(!fake_vm.exit_requested);
	out8(PORT_PVPANIC, 0x01);
	assert_exit(VM_EXIT_PANIC, VMM_EXIT_PANIC);
}

/* ---- ACPI sleep, reset, POST ---- */

Test(legacy, acpi_s5_powers_off)
{
	out8(PORT_ACPI_SLEEP, 0x20 | (5 << 2));
	assert_exit(VM_EXIT_POWEROFF, VMM_EXIT_OK);
}

Test(legacy, acpi_other_sleep_types_do_not_exit_and_wake_at_once)
{
	unsigned int typ;

	for (typ = 0; typ < 8; typ++) {
		if (typ == 5)
			continue;
		out8(PORT_ACPI_SLEEP + 1, 0x80);	/* clear WAK_STS */
		cr_assert_eq(in8(PORT_ACPI_SLEEP + 1) & 0x80, 0);
		out8(PORT_ACPI_SLEEP, (uint8_t)(0x20 | typ << 2));
		cr_assert(!fake_vm.exit_requested, "SLP_TYP %u must not exit", typ);
		cr_assert_eq(in8(PORT_ACPI_SLEEP + 1) & 0x80, 0x80, "WAK_STS");
	}
	out8(PORT_ACPI_SLEEP, 5 << 2);		/* S5 without SLP_EN */
	cr_assert(!fake_vm.exit_requested);
	cr_assert_eq(in8(PORT_ACPI_SLEEP) & 0x20, 0, "SLP_EN reads 0");
}

Test(legacy, reset_control_0xcf9)
{
	out8(PORT_RESET, 0x02);
	cr_assert(!fake_vm.exit_requested);
	out8(PORT_RESET, 0x06);
	assert_exit(VM_EXIT_RESET, VMM_EXIT_OK);
	cr_assert_eq(in8(PORT_RESET), 0);
}

Test(legacy, post_port_is_a_sink)
{
	out8(PORT_POST, 0x55);
	cr_assert_eq(in8(PORT_POST), 0);
	cr_assert(!fake_vm.exit_requested);
}

/* A PCI host bridge that already owns 0xcf8-0xcff keeps it. */
static void dummy_rw(void *o, uint64_t off, void *d, unsigned int len)
{
	memset(d, 0, len);
}

static void dummy_w(void *o, uint64_t off, const void *d, unsigned int len)
{
}

static const struct bus_dev_ops dummy_ops = { .read = dummy_rw, .write = dummy_w };

Test(legacy, cf9_left_to_pci_bridge_when_taken)
{
	struct vm v2;
	int owner;

	cr_assert_eq(fake_vm_init(&v2, 0), 0);
	cr_assert_eq(bus_register(&v2.pio_bus, 0xcf8, 8, &dummy_ops, &owner, "pci"), 0);
	cr_assert_eq(legacy_devices_create(&v2), 0);
	cr_assert_str_eq(bus_name_at(&v2.pio_bus, PORT_RESET), "pci");
	legacy_devices_destroy(&v2);
	cr_assert_str_eq(bus_name_at(&v2.pio_bus, PORT_RESET), "pci");
	cr_assert_null(bus_name_at(&v2.pio_bus, PORT_RTC));
	fake_vm_destroy(&v2);
}

Test(legacy, destroy_unregisters_everything)
{
	legacy_devices_destroy(&vm);
	cr_assert_null(bus_name_at(&vm.pio_bus, PORT_I8042_DATA));
	cr_assert_null(bus_name_at(&vm.pio_bus, PORT_I8042_CMD));
	cr_assert_null(bus_name_at(&vm.pio_bus, PORT_RTC));
	cr_assert_null(bus_name_at(&vm.pio_bus, PORT_POST));
	cr_assert_null(bus_name_at(&vm.pio_bus, PORT_DEBUG_EXIT));
	cr_assert_null(bus_name_at(&vm.pio_bus, PORT_ACPI_SLEEP));
	cr_assert_null(bus_name_at(&vm.pio_bus, PORT_PVPANIC));
	cr_assert_null(bus_name_at(&vm.pio_bus, PORT_FW_CFG));
	cr_assert_null(bus_name_at(&vm.pio_bus, PORT_RESET));
	cr_assert_eq(legacy_devices_create(&vm), 0, "can be created again");
}

Test(legacy, create_fails_cleanly_on_conflict)
{
	struct vm v2;
	int owner;

	cr_assert_eq(fake_vm_init(&v2, 0), 0);
	cr_assert_eq(bus_register(&v2.pio_bus, PORT_PVPANIC, 1, &dummy_ops, &owner, "x"), 0);
	cr_assert_eq(legacy_devices_create(&v2), -EEXIST);
	cr_assert_null(v2.legacy);
	cr_assert_null(bus_name_at(&v2.pio_bus, PORT_RTC), "unwound");
	cr_assert_null(bus_name_at(&v2.pio_bus, PORT_DEBUG_EXIT), "unwound");
	fake_vm_destroy(&v2);
}

/* ---- every legacy port survives hostile accesses ---- */

Test(legacy, hostile_sweep_all_ports_offsets_widths)
{
	static const struct { uint16_t base, len; } ranges[] = {
		{ PORT_I8042_DATA, 1 }, { PORT_I8042_CMD, 1 }, { PORT_RTC, 2 },
		{ PORT_POST, 1 }, { PORT_DEBUG_EXIT, 4 }, { PORT_ACPI_SLEEP, 2 },
		{ PORT_PVPANIC, 1 }, { PORT_FW_CFG, 2 }, { PORT_RESET, 1 },
	};
	static const unsigned int widths[] = { 1, 2, 4, 8 };
	unsigned int r, off, w, iter;
	uint64_t v;

	srand(42);
	for (iter = 0; iter < 300; iter++) {
		for (r = 0; r < sizeof(ranges) / sizeof(ranges[0]); r++) {
			for (off = 0; off < ranges[r].len; off++) {
				for (w = 0; w < 4; w++) {
					v = (uint64_t)rand() << 32 | (uint64_t)rand();
					bus_access(&vm.pio_bus, ranges[r].base + off, &v, widths[w], true);
					bus_access(&vm.pio_bus, ranges[r].base + off, &v, widths[w], false);
					clear_exit();
				}
			}
		}
	}
	/* the devices still work */
	while (in8(PORT_I8042_CMD) & 0x01)
		in8(PORT_I8042_DATA);
	out8(PORT_I8042_CMD, 0xaa);
	cr_assert_eq(kbd_read_response(), 0x55);
	out8(PORT_DEBUG_EXIT, 2);
	assert_exit(VM_EXIT_DEBUG, 5);
}
