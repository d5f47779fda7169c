/* SPDX-License-Identifier: MIT */
/*
 * The VM as a platform device sees it: a narrow handle instead of struct vm.
 * Through it a device registers on the buses, reads and writes guest memory
 * (through the checked accessor, mem/guest_mem.h), raises interrupts and
 * asks for power-off, reset or another exit -- and nothing else: device code
 * includes this header, not vm.h, so it cannot reach the runtime's state.
 * struct vm embeds one (vm->port); unit tests get it from fake_vm_init().
 */
#ifndef VMM_VM_PORT_H
#define VMM_VM_PORT_H

#include "devices/bus.h"
#include "mem/guest_mem.h"

struct vm;

enum vm_exit_reason {
	VM_EXIT_POWEROFF,	/* ACPI S5 */
	VM_EXIT_RESET,		/* i8042 / 0xcf9 / ACPI reset */
	VM_EXIT_DEBUG,		/* debug-exit port: status (v << 1) | 1 */
	VM_EXIT_PANIC,		/* pvpanic */
	VM_EXIT_TRIPLE_FAULT,	/* KVM_EXIT_SHUTDOWN */
	VM_EXIT_INTERNAL,	/* KVM internal error, failed entry, unhandled exit */
	VM_EXIT_HOST,		/* host-side failure while running */
	VM_EXIT_USER,		/* Ctrl-A x */
	VM_EXIT_SIGNAL,		/* SIGINT / SIGTERM / SIGHUP */
	VM_EXIT_HALTED,		/* every vCPU stopped for good (vm_halt.c) */
	VM_EXIT_QUIT,		/* vm_quit(): the control socket's quit (virsh destroy) */
	VM_EXIT_POWERDOWN_TIMEOUT,	/* the guest ignored the power button; quit */
};

struct vm_port {
	struct vm *vm;			/* opaque: only handed back to the calls below */
	struct bus *pio_bus;
	struct bus *mmio_bus;
	struct guest_mem *mem;
	unsigned int nr_vcpus;
};

/*
 * Ask the VM to stop with this reason.  status is the process exit status
 * (see exitcode.h).  Safe from any thread, any number of times: the first
 * call wins.  Returns immediately; vCPUs are stopped by the main loop.
 * (The control socket's powerdown timeout: vm_request_exit(vm,
 * VM_EXIT_POWERDOWN_TIMEOUT, VMM_EXIT_POWERDOWN_TIMEOUT); vm_quit() is
 * VM_EXIT_QUIT, VMM_EXIT_QUIT.)
 */
void vm_request_exit(struct vm *vm, enum vm_exit_reason reason, int status);

/* Raise (level 1) or lower (0) a GSI on the in-kernel irqchip. 0 or -errno. */
int vm_irq_line(struct vm *vm, unsigned int gsi, int level);

static inline void port_request_exit(const struct vm_port *p, enum vm_exit_reason reason,
				     int status)
{
	vm_request_exit(p->vm, reason, status);
}

static inline int port_irq_line(const struct vm_port *p, unsigned int gsi, int level)
{
	return vm_irq_line(p->vm, gsi, level);
}

#endif
