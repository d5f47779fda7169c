/* SPDX-License-Identifier: MIT */
/*
 * The VM's life, for main(): create (KVM, memory, devices, boot), run (the
 * main event loop until an exit request), destroy.  All failures are
 * reported on stderr before these return.
 */
#ifndef VMM_VM_RUNTIME_H
#define VMM_VM_RUNTIME_H

#include "console.h"
#include "vm.h"

/* 0 or -errno; on failure the VM is already torn down. */
int vm_create(struct vm *vm, const struct vm_config *cfg);
/* Starts the vCPUs and runs the event loop; returns the process exit status. */
int vm_run(struct vm *vm, struct console_term *term);
void vm_destroy(struct vm *vm);

/* vm_irq.c */
int vm_irq_routing_init(struct vm *vm);

#endif
