/* SPDX-License-Identifier: MIT */
/*
 * What the control socket (and anything else on the event loop) may do
 * to a VM.  Every function here runs on the event-loop thread only: the
 * API thread reaches them through ev_call() (event_loop.h), never
 * directly.  Each returns 0 or -errno:
 *   -EBUSY  refused in this state (see vm_ctl_allowed())
 *   other   a host failure, already logged
 */
#ifndef VMM_VM_CTL_H
#define VMM_VM_CTL_H

#include <stdbool.h>

struct vm;

enum vm_state {
	VM_STATE_CREATED,	/* configured (or empty, waiting for vm.create/vm.boot) */
	VM_STATE_RUNNING,
	VM_STATE_PAUSED,	/* every vCPU parked, block I/O drained */
	VM_STATE_SHUTDOWN,	/* exit requested; the process is ending */
};

enum vm_ctl_op {
	VM_CTL_BOOT,
	VM_CTL_PAUSE,
	VM_CTL_RESUME,
	VM_CTL_POWER_BUTTON,	/* ACPI power-button event to the guest */
	VM_CTL_REBOOT,		/* ask the guest to reboot (or restart it: --on-reboot) */
	VM_CTL_RESET,		/* hard reset: boot state again, same process */
	VM_CTL_QUIT,		/* destroy: end the process now */
	VM_CTL_SNAPSHOT,	/* the state issue: needs VM_STATE_PAUSED */
};

const char *vm_state_name(enum vm_state s);	/* "created", "running", ... */
/* Pure: whether op is allowed in state s (the state machine; unit-tested). */
bool vm_ctl_allowed(enum vm_state s, enum vm_ctl_op op);

enum vm_state vm_get_state(const struct vm *vm);
/* Returns once every vCPU is out of KVM_RUN and parked, and no block I/O is in flight. */
int vm_pause(struct vm *vm);
int vm_resume(struct vm *vm);
int vm_power_button(struct vm *vm);
int vm_reboot(struct vm *vm);
int vm_reset(struct vm *vm);
/* Ends the VM with VMM_EXIT_QUIT (exitcode.h). */
int vm_quit(struct vm *vm);

/*
 * Events: "booted", "paused", "resumed", "powerdown-requested", "reboot",
 * "reset", "shutdown" (reason: vm.h's exit reason text; status: the exit
 * status), "panic".  The runtime calls vm_emit_event() where the state
 * changes; it calls vm->event_cb if one is set (the control socket turns
 * them into JSON lines with a monotonic timestamp).  reason may be NULL.
 */
void vm_emit_event(struct vm *vm, const char *event, const char *reason, int status);

#endif
