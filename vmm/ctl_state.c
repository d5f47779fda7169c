// SPDX-License-Identifier: MIT
/*
 * The VM state machine of vm_ctl.h, pure so that it is unit-tested
 * (tests/unit/test_vm_ctl.c); vmm/vm_ctl.c carries the operations out.
 *
 *   created  --boot-->  running  <--pause/resume-->  paused
 *   running, paused  --reset-->  the same state, booted again
 *   any but shutdown  --quit (or the guest's own exit)-->  shutdown
 */
#include "vm_ctl.h"

static const char *const state_names[] = {
	[VM_STATE_CREATED] = "created",
	[VM_STATE_RUNNING] = "running",
	[VM_STATE_PAUSED] = "paused",
	[VM_STATE_SHUTDOWN] = "shutdown",
};

const char *vm_state_name(enum vm_state s)
{
	if ((unsigned int)s >= sizeof(state_names) / sizeof(state_names[0]))
		return "unknown";
	return state_names[s];
}

bool vm_ctl_allowed(enum vm_state s, enum vm_ctl_op op)
{
	switch (s) {
	case VM_STATE_CREATED:
		return op == VM_CTL_BOOT || op == VM_CTL_QUIT;
	case VM_STATE_RUNNING:
		return op == VM_CTL_PAUSE || op == VM_CTL_POWER_BUTTON || op == VM_CTL_REBOOT ||
		       op == VM_CTL_RESET || op == VM_CTL_QUIT;
	case VM_STATE_PAUSED:
		return op == VM_CTL_RESUME || op == VM_CTL_RESET || op == VM_CTL_QUIT ||
		       op == VM_CTL_SNAPSHOT;
	case VM_STATE_SHUTDOWN:
		return false;
	}
	return false;
}
