// SPDX-License-Identifier: MIT
/*
 * isa-debug-exit, as in QEMU: a write of value v (any width, any of the 4
 * ports) stops the VM with exit status (v << 1) | 1, truncated to 8 bits,
 * so a test guest's status is always odd and never one of vmm's own (even)
 * codes.  Reads return 0.  No state, no lock.
 */
#include <string.h>

#include "exitcode.h"
#include "legacy.h"
#include "log.h"
#include "mem/layout.h"
#include "vm_port.h"

#define DEBUG_EXIT_PORTS	4

static void debug_exit_read(void *opaque, uint64_t offset, void *data, unsigned int len)
{
	memset(data, 0, len);
}

static void debug_exit_write(void *opaque, uint64_t offset, const void *data, unsigned int len)
{
	uint64_t v = 0;
	int status;

	memcpy(&v, data, len > sizeof(v) ? sizeof(v) : len);	/* little-endian host */
	status = (int)(((v << 1) | 1) & 0xff);
	log_info("guest wrote %#llx to the debug-exit port: exit status %d",
		 (unsigned long long)v, status);
	port_request_exit(opaque, VM_EXIT_DEBUG, status);
}

static const struct bus_dev_ops debug_exit_ops = {
	.read = debug_exit_read,
	.write = debug_exit_write,
};

int debug_exit_register(const struct vm_port *port)
{
	return bus_register(port->pio_bus, PORT_DEBUG_EXIT, DEBUG_EXIT_PORTS,
			    &debug_exit_ops, (void *)port, "debug-exit");
}

void debug_exit_unregister(const struct vm_port *port)
{
	bus_unregister(port->pio_bus, PORT_DEBUG_EXIT, (void *)port);
}
