// SPDX-License-Identifier: MIT
/*
 * The VM state machine (vmm/ctl_state.c): which control operation is
 * allowed in which state, the whole table, and the state names.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "vm_ctl.h"

#define NSTATES	4
#define NOPS	8

/* rows: created, running, paused, shutdown; columns: the ops in enum order */
static const bool expect[NSTATES][NOPS] = {
	/*              boot   pause  resume button reboot reset  quit   snapshot */
	[VM_STATE_CREATED]  = { true,  false, false, false, false, false, true,  false },
	[VM_STATE_RUNNING]  = { false, true,  false, true,  true,  true,  true,  false },
	[VM_STATE_PAUSED]   = { false, false, true,  false, false, true,  true,  true  },
	[VM_STATE_SHUTDOWN] = { false, false, false, false, false, false, false, false },
};

Test(vm_ctl, enum_order_matches_table)
{
	cr_assert_eq(VM_CTL_BOOT, 0);
	cr_assert_eq(VM_CTL_PAUSE, 1);
	cr_assert_eq(VM_CTL_RESUME, 2);
	cr_assert_eq(VM_CTL_POWER_BUTTON, 3);
	cr_assert_eq(VM_CTL_REBOOT, 4);
	cr_assert_eq(VM_CTL_RESET, 5);
	cr_assert_eq(VM_CTL_QUIT, 6);
	cr_assert_eq(VM_CTL_SNAPSHOT, 7);
}

Test(vm_ctl, allowed_table)
{
	unsigned int s, op;

	for (s = 0; s < NSTATES; s++)
		for (op = 0; op < NOPS; op++)
			cr_expect_eq(vm_ctl_allowed((enum vm_state)s, (enum vm_ctl_op)op),
				     expect[s][op], "state %s op %u: expected %s",
				     vm_state_name((enum vm_state)s), op,
				     expect[s][op] ? "allowed" : "refused");
}

Test(vm_ctl, resume_while_running_and_pause_while_paused_refused)
{
	cr_assert_not(vm_ctl_allowed(VM_STATE_RUNNING, VM_CTL_RESUME));
	cr_assert_not(vm_ctl_allowed(VM_STATE_PAUSED, VM_CTL_PAUSE));
	cr_assert_not(vm_ctl_allowed(VM_STATE_SHUTDOWN, VM_CTL_QUIT));
	cr_assert_not(vm_ctl_allowed(VM_STATE_RUNNING, VM_CTL_SNAPSHOT));
}

Test(vm_ctl, out_of_range_is_refused)
{
	cr_assert_not(vm_ctl_allowed((enum vm_state)17, VM_CTL_QUIT));
	cr_assert_str_eq(vm_state_name((enum vm_state)17), "unknown");
}

Test(vm_ctl, state_names)
{
	cr_assert_str_eq(vm_state_name(VM_STATE_CREATED), "created");
	cr_assert_str_eq(vm_state_name(VM_STATE_RUNNING), "running");
	cr_assert_str_eq(vm_state_name(VM_STATE_PAUSED), "paused");
	cr_assert_str_eq(vm_state_name(VM_STATE_SHUTDOWN), "shutdown");
}
