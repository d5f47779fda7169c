// SPDX-License-Identifier: MIT
/*
 * TEMPORARY (branch h/api only): stands in for runtime's vmm/vm_ctl.c so
 * that the control socket builds, links and can be tried before the two
 * branches merge.  State bookkeeping only: pause, resume, power button,
 * reboot and reset answer -ENOSYS; quit ends the VM through
 * vm_request_exit().  vm_ctl_stub_serve() runs the event loop on a
 * thread, because today's vm_run() does not run vm->loop yet.
 * DELETE this file, and the two vm_ctl_stub_* calls in main.c, at merge.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

#include "event_loop.h"
#include "exitcode.h"
#include "vm.h"
#include "vm_ctl.h"

void vm_ctl_stub_serve(struct ev_loop *loop);
void vm_ctl_stub_unserve(void);

static enum vm_state stub_state = VM_STATE_RUNNING;

const char *vm_state_name(enum vm_state s)
{
	static const char *const names[] = { "created", "running", "paused", "shutdown" };

	return (unsigned int)s < 4 ? names[s] : "unknown";
}

bool vm_ctl_allowed(enum vm_state s, enum vm_ctl_op op)
{
	switch (op) {
	case VM_CTL_BOOT: return s == VM_STATE_CREATED;
	case VM_CTL_RESUME: case VM_CTL_SNAPSHOT: return s == VM_STATE_PAUSED;
	case VM_CTL_PAUSE: case VM_CTL_POWER_BUTTON: case VM_CTL_REBOOT:
		return s == VM_STATE_RUNNING;
	case VM_CTL_RESET: return s == VM_STATE_RUNNING || s == VM_STATE_PAUSED;
	case VM_CTL_QUIT: return s != VM_STATE_SHUTDOWN;
	}
	return false;
}

enum vm_state vm_get_state(const struct vm *vm)
{
	return __atomic_load_n(&vm->exit_requested, __ATOMIC_ACQUIRE) ?
	       VM_STATE_SHUTDOWN : stub_state;
}

static int stub_op(struct vm *vm, enum vm_ctl_op op)
{
	return vm_ctl_allowed(vm_get_state(vm), op) ? -ENOSYS : -EBUSY;
}

int vm_pause(struct vm *vm) { return stub_op(vm, VM_CTL_PAUSE); }
int vm_resume(struct vm *vm) { return stub_op(vm, VM_CTL_RESUME); }
int vm_power_button(struct vm *vm) { return stub_op(vm, VM_CTL_POWER_BUTTON); }
int vm_reboot(struct vm *vm) { return stub_op(vm, VM_CTL_REBOOT); }
int vm_reset(struct vm *vm) { return stub_op(vm, VM_CTL_RESET); }

int vm_quit(struct vm *vm)
{
	if (!vm_ctl_allowed(vm_get_state(vm), VM_CTL_QUIT))
		return -EBUSY;
	vm_emit_event(vm, "shutdown", "quit", VMM_EXIT_QUIT);
	vm_request_exit(vm, VM_EXIT_USER, VMM_EXIT_QUIT);
	return 0;
}

void vm_emit_event(struct vm *vm, const char *event, const char *reason, int status)
{
	if (vm->event_cb)
		vm->event_cb(vm->event_opaque, event, reason, status);
}

static struct ev_loop *stub_loop;
static pthread_t stub_thread;
static bool stub_stop;

static void *stub_run(void *arg)
{
	while (!__atomic_load_n(&stub_stop, __ATOMIC_ACQUIRE))
		ev_loop_once(stub_loop, 50);
	return NULL;
}

void vm_ctl_stub_serve(struct ev_loop *loop)
{
	stub_loop = loop;
	stub_stop = false;
	if (pthread_create(&stub_thread, NULL, stub_run, NULL))
		stub_loop = NULL;
}

void vm_ctl_stub_unserve(void)
{
	if (!stub_loop)
		return;
	__atomic_store_n(&stub_stop, true, __ATOMIC_RELEASE);
	pthread_join(stub_thread, NULL);
	stub_loop = NULL;
}
