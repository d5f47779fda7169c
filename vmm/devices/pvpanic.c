// SPDX-License-Identifier: MIT
/*
 * pvpanic (QEMU's ISA device, one port): reads return the events we
 * support; a write with PANICKED set stops the VM with VMM_EXIT_PANIC;
 * CRASH_LOADED (the guest is about to kdump) is only logged.  No state.
 */
#include <string.h>

#include "exitcode.h"
#include "legacy.h"
#include "log.h"
#include "mem/layout.h"
#include "vm_port.h"

#define PVPANIC_PANICKED	0x01
#define PVPANIC_CRASH_LOADED	0x02

static void pvpanic_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	memset(data, 0, len);
	*(uint8_t *)data = PVPANIC_PANICKED | PVPANIC_CRASH_LOADED;
}

static void pvpanic_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	uint8_t v = *(const uint8_t *)data;

	if (v & PVPANIC_PANICKED) {
		log_err("guest kernel panicked (pvpanic)");
		port_request_exit(opaque, VM_EXIT_PANIC, VMM_EXIT_PANIC);
	} else if (v & PVPANIC_CRASH_LOADED) {
		log_info("guest crashed and is loading a crash kernel (pvpanic)");
	}
}

static const struct bus_dev_ops pvpanic_ops = {
	.read = pvpanic_read,
	.write = pvpanic_write,
};

int pvpanic_register(const struct vm_port *port)
{
	return bus_register(port->pio_bus, PORT_PVPANIC, 1, &pvpanic_ops, (void *)port, "pvpanic");
}

void pvpanic_unregister(const struct vm_port *port)
{
	bus_unregister(port->pio_bus, PORT_PVPANIC, (void *)port);
}
