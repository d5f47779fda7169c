// SPDX-License-Identifier: MIT
/*
 * Arbitrary sequences of port accesses against the UART and every legacy
 * device, plus host input into the UART.  Each operation takes 3 input
 * bytes + the value: op (bits 0-1: read / write / host input / destroy+
 * clear the exit request; bits 2-3: width 1/2/4/8), target range, offset;
 * then the value bytes.  Besides no crash or sanitizer report, the UART's
 * IRQ line as the fake recorded it must match IIR and MCR at the end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "devices/legacy.h"
#include "devices/uart.h"
#include "fake_vm.h"
#include "mem/layout.h"

static const struct {
	uint16_t base, len;
} fuzz_ranges[] = {
	{ PORT_COM1, UART_NR_PORTS }, { PORT_I8042_DATA, 1 }, { PORT_I8042_CMD, 1 },
	{ PORT_RTC, 2 }, { PORT_POST, 1 }, { PORT_DEBUG_EXIT, 4 },
	{ PORT_ACPI_SLEEP, 2 }, { PORT_PVPANIC, 1 }, { PORT_FW_CFG, 2 },
	{ PORT_RESET, 1 },
};

#define NR_RANGES (sizeof(fuzz_ranges) / sizeof(fuzz_ranges[0]))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Line up <=> an interrupt pending, OUT2 set, not in loopback. */
static void uart_check_irq(struct vm *vm)
{
	uint8_t mcr, iir;
	int level = fake_vm.irq_level[GSI_COM1];

	bus_access(&vm->pio_bus, PORT_COM1 + 4, &mcr, 1, false);
	bus_access(&vm->pio_bus, PORT_COM1 + 2, &iir, 1, false);
	if (level != (!(iir & 1) && (mcr & 0x18) == 0x08))
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vm vm;
	struct uart *u;
	size_t pos = 0;

	if (fake_vm_init(&vm, 0))
		return 0;
	vm.nr_vcpus = vm.port.nr_vcpus = 2;
	if (uart_create(&vm.port, PORT_COM1, GSI_COM1, -1, &u))
		goto out_vm;
	if (legacy_devices_create(&vm))
		goto out_uart;
	while (pos + 3 <= size) {
		uint8_t op = data[pos], r = data[pos + 1] % NR_RANGES, off = data[pos + 2];
		unsigned int width = 1u << ((op >> 2) & 3);
		uint64_t v = 0;
		uint16_t port;

		pos += 3;
		memcpy(&v, data + pos, size - pos < width ? size - pos : width);
		pos += size - pos < width ? size - pos : width;
		port = (uint16_t)(fuzz_ranges[r].base + off % fuzz_ranges[r].len);
		switch (op & 3) {
		case 0:
			bus_access(&vm.pio_bus, port, &v, width, false);
			break;
		case 1:
			bus_access(&vm.pio_bus, port, &v, width, true);
			break;
		case 2:
			uart_receive(u, (const uint8_t *)&v, width);
			if (!uart_rx_room(u))
				uart_receive(u, (const uint8_t *)&v, 1);
			break;
		case 3:
			fake_vm.exit_requested = false;
			break;
		}
	}
	uart_check_irq(&vm);
	legacy_devices_destroy(&vm);
out_uart:
	uart_destroy(u);
out_vm:
	fake_vm_destroy(&vm);
	return 0;
}
