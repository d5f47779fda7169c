/* SPDX-License-Identifier: MIT */
/*
 * The VM's life, for main(): init (the exit eventfd and signals on main's
 * event loop, before any VM exists), create (KVM, memory, devices, boot),
 * run (vCPUs and the event loop until the VM ends), destroy, fini.  All
 * failures are reported on stderr before these return.
 *
 * An "empty" vmm (no --kernel: the control socket's vm.create / vm.boot):
 * main() does ev_loop_init(&loop); vm_init(&vm, &loop); (the socket
 * registers on &loop), then runs ev_loop_once() until vm.boot_requested or
 * vm_exit_pending().  The socket's handlers, on the loop thread:
 *   vm.create: vm_create(vm, cfg) (cfg must outlive the VM; state stays
 *              VM_STATE_CREATED; vm->booted says it worked);
 *   vm.boot:   if vm_ctl_allowed(state, VM_CTL_BOOT) and vm->booted,
 *              vm->boot_requested = true (main() then calls vm_run());
 *   vmm.shutdown / quit: vm_quit(vm), which works in every state but shutdown.
 */
#ifndef VMM_VM_RUNTIME_H
#define VMM_VM_RUNTIME_H

#include "console.h"
#include "vm.h"

struct ev_loop;

/* Zeroes vm, ties it to loop (which main owns).  0 or -errno. */
int vm_init(struct vm *vm, struct ev_loop *loop);
/* Undoes vm_init (after vm_destroy). */
void vm_fini(struct vm *vm);
/* True once an exit was requested (a signal, vm_quit) and handled. */
bool vm_exit_pending(const struct vm *vm);

/* After vm_init: 0 or -errno; on failure the VM is already torn down. */
int vm_create(struct vm *vm, const struct vm_config *cfg);
/* Starts the vCPUs and runs vm->loop until the VM ends; returns the exit status. */
int vm_run(struct vm *vm, struct console_term *term);
void vm_destroy(struct vm *vm);

/* ---- inside the runtime ---- */

/*
 * vm.c: tear the VM down and build it again from vm->cfg, as at the first
 * boot, keeping the disk images open (flushed) and the console.  The vCPU
 * threads must be stopped.  0 or -errno (the VM is then unusable).
 */
int vm_rebuild(struct vm *vm);

/*
 * vm_devices.c: every device, into vm->devices; imgs: disks kept open, nets:
 * network backends kept open (VMM_MAX_NICS), or NULL.
 */
struct blk_image;
struct vnet_keep;
int vm_devices_create(struct vm *vm, struct blk_image **imgs, struct vnet_keep *nets);
/* Takes each disk's image (I/O stopped, flushed) out of its device, in --disk order. */
void vm_devices_take_images(struct vm *vm, struct blk_image **imgs);
/* Takes each card's backend and vhost-net (I/O stopped) out of it, in --net order. */
void vm_devices_take_nets(struct vm *vm, struct vnet_keep *nets);

/* vm_loop.c */
int vm_loop_init(struct vm *vm);
void vm_loop_fini(struct vm *vm);
int vm_vcpus_start(struct vm *vm);
void vm_vcpus_stop(struct vm *vm);
int vm_halt_timer_arm(struct vm *vm, bool on);
void vm_stdin_attach(struct vm *vm);

/* vm_ctl.c: the loop tells the state machine */
void vm_ctl_started(struct vm *vm);		/* the vCPUs run: "booted" */
void vm_ctl_exit_requested(struct vm *vm);	/* vm_request_exit() was called */

/* vm_irq.c */
int vm_irq_routing_init(struct vm *vm);
/* 1 if the guest has masked this IOAPIC pin (no driver listens), 0 if not, or -errno. */
int vm_irq_pin_masked(struct vm *vm, unsigned int gsi);

#endif
