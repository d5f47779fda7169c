// SPDX-License-Identifier: MIT
/*
 * The ACPI Generic Event Device (vmm/devices/ged.c): raising the power
 * button latches bit 0 and pulses GSI_GED; the guest's read returns the
 * bits and clears them; writes change nothing.
 */
#include <criterion/criterion.h>

#include "devices/ged.h"
#include "fake_vm.h"
#include "mem/layout.h"

static struct vm vm;
static struct ged *g;

static void setup(void)
{
	cr_assert_eq(fake_vm_init(&vm, 0), 0);
	cr_assert_eq(ged_create(&vm.port, &g), 0);
}

static void teardown(void)
{
	ged_destroy(g);
	fake_vm_destroy(&vm);
}

TestSuite(ged, .init = setup, .fini = teardown);

static uint8_t rd(void)
{
	uint8_t v = 0xaa;

	cr_assert_eq(bus_access(&vm.pio_bus, PORT_GED, &v, 1, false), 0);
	return v;
}

Test(ged, power_button_pulses_and_read_clears)
{
	uint8_t w = 0xff;

	cr_assert_eq(rd(), 0);
	cr_assert_eq(ged_raise(g, GED_EVT_POWER_BUTTON), 0);
	cr_assert_eq(fake_vm.irq_raises[GSI_GED], 1);
	cr_assert_eq(fake_vm.irq_level[GSI_GED], 0, "edge: the line goes back down");
	cr_assert_eq(bus_access(&vm.pio_bus, PORT_GED, &w, 1, true), 0);
	cr_assert_eq(rd(), GED_EVT_POWER_BUTTON);
	cr_assert_eq(rd(), 0, "reading clears the events");
	cr_assert_eq(ged_raise(g, GED_EVT_POWER_BUTTON), 0);
	cr_assert_eq(fake_vm.irq_raises[GSI_GED], 2);
}

Test(ged, port_is_registered_once)
{
	struct ged *other;

	cr_assert_str_eq(bus_name_at(&vm.pio_bus, PORT_GED), "acpi-ged");
	cr_assert_neq(ged_create(&vm.port, &other), 0, "a second GED on the same port");
}
