// SPDX-License-Identifier: MIT
/*
 * The VM control operations of vm_ctl.h, on the event-loop thread.
 *
 * pause: vCPUs are asked to park (vcpu.c), kicked out of KVM_RUN, and we
 *   wait until every live vCPU thread sits on vm->pause_cond; then every
 *   device quiesces (virtio-blk completes what is in flight and stops taking
 *   requests) and the stopped-guest probe timer is disarmed.  Nothing of the
 *   VM uses CPU while paused.
 * reset: the vCPU threads end, the whole VM is torn down and built again
 *   from the configuration as at the first boot (KVM VM, irqchip, PIT,
 *   memory, devices, firmware tables, kernel, initrd, vCPUs), keeping the
 *   disk images open (flushed) and the console; then the vCPUs start again.
 * reboot: asks the guest, as libvirt's ACPI reboot does: the power button
 *   is pressed and the guest's power-off that follows counts as a reboot
 *   (--on-reboot decides: exit or restart).  A guest that has not unmasked
 *   the button's interrupt cannot be asked, and is reset at once (per
 *   --on-reboot).
 */
#include <errno.h>
#include <string.h>

#include "cpu/vcpu.h"
#include "devices/ged.h"
#include "exitcode.h"
#include "log.h"
#include "mem/layout.h"
#include "vm.h"
#include "vm_ctl.h"
#include "vm_runtime.h"

enum vm_state vm_get_state(const struct vm *vm)
{
	return vm->state;
}

void vm_emit_event(struct vm *vm, const char *event, const char *reason, int status)
{
	log_debug("event %s%s%s", event, reason ? ": " : "", reason ? reason : "");
	if (vm->event_cb)
		vm->event_cb(vm->event_opaque, event, reason, status);
}

static void end(struct vm *vm)
{
	vm->state = VM_STATE_SHUTDOWN;
	vm->run_done = true;
	if (vm->exit_reason == VM_EXIT_PANIC)
		vm_emit_event(vm, "panic", vm_exit_reason_name(vm->exit_reason), vm->exit_status);
	vm_emit_event(vm, "shutdown", vm_exit_reason_name(vm->exit_reason), vm->exit_status);
}

static void vcpus_unpark(struct vm *vm)
{
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_requested = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

/* exit_requested is set (by us or the guest) and the vCPUs may be stopped. */
static int restart(struct vm *vm, const char *event)
{
	int ret;

	vm_vcpus_stop(vm);
	ret = vm_rebuild(vm);
	if (ret) {
		vm->exit_reason = VM_EXIT_HOST;
		vm->exit_status = VMM_EXIT_HOST;
		end(vm);
		return ret;
	}
	vm->reboot_pending = false;
	vm_stdin_attach(vm);
	pthread_mutex_lock(&vm->exit_lock);
	__atomic_store_n(&vm->exit_requested, false, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->exit_lock);
	vm_emit_event(vm, event, NULL, 0);
	log_info("%s: booting again", event);
	ret = vm_vcpus_start(vm);
	if (ret) {
		vm_request_exit(vm, VM_EXIT_HOST, VMM_EXIT_HOST);
		return ret;
	}
	if (vm->state != VM_STATE_PAUSED)	/* a paused VM stays paused, at its reset vector */
		vm_emit_event(vm, "booted", NULL, 0);
	return 0;
}

void vm_ctl_started(struct vm *vm)
{
	if (vm->state == VM_STATE_CREATED)
		vm->state = VM_STATE_RUNNING;
	vm_emit_event(vm, "booted", NULL, 0);
}

void vm_ctl_exit_requested(struct vm *vm)
{
	if (vm->state == VM_STATE_SHUTDOWN)
		return;
	if (vm->exit_reason == VM_EXIT_POWEROFF && vm->reboot_pending) {
		log_info("guest powered off after vm_reboot(): a reboot");
		vm->exit_reason = VM_EXIT_RESET;
	}
	if (vm->exit_reason == VM_EXIT_RESET && vm->booted && vm->cfg &&
	    vm->cfg->on_reboot == ON_REBOOT_RESTART) {
		restart(vm, "reboot");
		return;
	}
	end(vm);
}

int vm_pause(struct vm *vm)
{
	unsigned int i;
	int ret = 0;

	if (!vm_ctl_allowed(vm->state, VM_CTL_PAUSE))
		return -EBUSY;
	pthread_mutex_lock(&vm->pause_lock);
	__atomic_store_n(&vm->pause_requested, true, __ATOMIC_SEQ_CST);
	pthread_mutex_unlock(&vm->pause_lock);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
	pthread_mutex_lock(&vm->pause_lock);
	while (vm->nr_parked < vm->nr_alive &&
	       !__atomic_load_n(&vm->exit_requested, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	pthread_mutex_unlock(&vm->pause_lock);
	if (__atomic_load_n(&vm->exit_requested, __ATOMIC_ACQUIRE)) {
		vcpus_unpark(vm);
		return -EBUSY;		/* the VM is ending */
	}
	ret = vm_devices_pause(&vm->devices);
	if (ret) {
		vcpus_unpark(vm);
		return ret;
	}
	vm_halt_timer_arm(vm, false);
	vm->state = VM_STATE_PAUSED;
	log_info("VM paused");
	vm_emit_event(vm, "paused", NULL, 0);
	return 0;
}

int vm_resume(struct vm *vm)
{
	if (!vm_ctl_allowed(vm->state, VM_CTL_RESUME))
		return -EBUSY;
	vm_devices_resume(&vm->devices);
	vm_halt_timer_arm(vm, true);
	vm->state = VM_STATE_RUNNING;
	vcpus_unpark(vm);
	log_info("VM resumed");
	vm_emit_event(vm, "resumed", NULL, 0);
	return 0;
}

int vm_power_button(struct vm *vm)
{
	int ret;

	if (!vm_ctl_allowed(vm->state, VM_CTL_POWER_BUTTON))
		return -EBUSY;
	ret = ged_raise(vm->ged, GED_EVT_POWER_BUTTON);
	if (ret)
		return ret;
	log_info("ACPI power button pressed");
	vm_emit_event(vm, "powerdown-requested", NULL, 0);
	return 0;
}

/* Stops the vCPUs for a reset ordered from here; -EBUSY if the VM is already ending. */
static int claim_exit(struct vm *vm)
{
	int ret = 0;

	pthread_mutex_lock(&vm->exit_lock);
	if (vm->exit_requested)
		ret = -EBUSY;
	else
		__atomic_store_n(&vm->exit_requested, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vm->exit_lock);
	return ret;
}

int vm_reset(struct vm *vm)
{
	int ret;

	if (!vm_ctl_allowed(vm->state, VM_CTL_RESET))
		return -EBUSY;
	ret = claim_exit(vm);
	if (ret)
		return ret;
	log_info("VM reset");
	return restart(vm, "reset");
}

int vm_reboot(struct vm *vm)
{
	int masked, ret;

	if (!vm_ctl_allowed(vm->state, VM_CTL_REBOOT))
		return -EBUSY;
	masked = vm_irq_pin_masked(vm, GSI_GED);
	if (masked == 0) {
		ret = ged_raise(vm->ged, GED_EVT_POWER_BUTTON);
		if (ret)
			return ret;
		vm->reboot_pending = true;
		log_info("reboot: ACPI power button pressed; the guest's power-off will reboot");
		vm_emit_event(vm, "powerdown-requested", "reboot", 0);
		return 0;
	}
	/* no ACPI button driver listens: reboot it ourselves, as --on-reboot says */
	log_info("reboot: the guest does not listen to the ACPI power button; resetting");
	if (vm->cfg->on_reboot == ON_REBOOT_RESTART) {
		ret = claim_exit(vm);
		return ret ? ret : restart(vm, "reboot");
	}
	vm_request_exit(vm, VM_EXIT_RESET, VMM_EXIT_OK);
	return 0;
}

int vm_quit(struct vm *vm)
{
	if (!vm_ctl_allowed(vm->state, VM_CTL_QUIT))
		return -EBUSY;
	vm_request_exit(vm, VM_EXIT_QUIT, VMM_EXIT_QUIT);
	return 0;
}
