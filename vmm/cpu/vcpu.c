// SPDX-License-Identifier: MIT
/*
 * The vCPU thread: KVM_RUN, then dispatch the exit.  Port and MMIO exits go
 * to the buses; everything that ends the VM becomes vm_request_exit().
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "exitcode.h"
#include "log.h"
#include "sandbox/sandbox.h"
#include "vcpu.h"
#include "vm.h"

int vcpu_create(struct vm *vm, unsigned int id, struct vcpu *vcpu)
{
	void *run;
	int fd;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->id = id;
	vcpu->kvm_stats_fd = -1;
	fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (fd < 0) {
		int err = -errno;

		log_err("cannot create vCPU %u: %s", id, strerror(errno));
		vcpu->fd = -1;
		return err;
	}
	run = mmap(NULL, (size_t)vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (run == MAP_FAILED) {
		int err = -errno;

		log_err("cannot map vCPU %u's run area: %s", id, strerror(errno));
		close(fd);
		vcpu->fd = -1;
		return err;
	}
	vcpu->fd = fd;
	vcpu->run = run;
	return 0;
}

void vcpu_destroy(struct vcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, (size_t)vcpu->vm->vcpu_mmap_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	if (vcpu->kvm_stats_fd >= 0)
		close(vcpu->kvm_stats_fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
	vcpu->kvm_stats_fd = -1;
}

static void vcpu_handle_io(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;
	bool is_write = run->io.direction == KVM_EXIT_IO_OUT;
	uint32_t i;

	exit_stats_io(vcpu, run->io.port);
	for (i = 0; i < run->io.count; i++) {
		if (bus_access(&vcpu->vm->pio_bus, run->io.port, data, run->io.size, is_write) &&
		    log_get_level() >= LOG_DEBUG)
			log_debug("vCPU %u: unhandled port %s 0x%x size %u", vcpu->id,
				  is_write ? "write" : "read", run->io.port, run->io.size);
		data += run->io.size;
	}
}

static void vcpu_handle_mmio(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	unsigned int len = run->mmio.len;

	exit_stats_mmio(vcpu, run->mmio.phys_addr);
	if (len > sizeof(run->mmio.data))
		len = sizeof(run->mmio.data);
	if (bus_access(&vcpu->vm->mmio_bus, run->mmio.phys_addr, run->mmio.data, len,
		       run->mmio.is_write))
		log_debug("vCPU %u: unhandled MMIO %s 0x%llx len %u", vcpu->id,
			  run->mmio.is_write ? "write" : "read",
			  (unsigned long long)run->mmio.phys_addr, len);
}

static enum vcpu_exit_kind exit_kind(uint32_t reason)
{
	switch (reason) {
	case KVM_EXIT_IO: return VCPU_EXIT_IO;
	case KVM_EXIT_MMIO: return VCPU_EXIT_MMIO;
	case KVM_EXIT_HLT: return VCPU_EXIT_HLT;
	case KVM_EXIT_INTR: return VCPU_EXIT_INTR;
	case KVM_EXIT_SYSTEM_EVENT: return VCPU_EXIT_SYSTEM;
	default: return VCPU_EXIT_OTHER;
	}
}

/* Returns true while the vCPU should keep running. */
static bool vcpu_handle_exit(struct vcpu *vcpu)
{
	struct kvm_run *run = vcpu->run;
	struct vm *vm = vcpu->vm;
	char why[128];

	vcpu_count_exit(vcpu, exit_kind(run->exit_reason));
	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		vcpu_handle_io(vcpu);
		return true;
	case KVM_EXIT_MMIO:
		vcpu_handle_mmio(vcpu);
		return true;
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_HLT:
		/* only without an in-kernel LAPIC; keep waiting for interrupts */
		return true;
	case KVM_EXIT_SHUTDOWN:
		vcpu_crash_report(vcpu, "triple fault (KVM_EXIT_SHUTDOWN)");
		vm_request_exit(vm, VM_EXIT_TRIPLE_FAULT, VMM_EXIT_TRIPLE_FAULT);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			vm_request_exit(vm, VM_EXIT_POWEROFF, VMM_EXIT_OK);
			return false;
		case KVM_SYSTEM_EVENT_RESET:
			vm_request_exit(vm, VM_EXIT_RESET, VMM_EXIT_OK);
			return false;
		case KVM_SYSTEM_EVENT_CRASH:
			vm_request_exit(vm, VM_EXIT_PANIC, VMM_EXIT_PANIC);
			return false;
		}
		snprintf(why, sizeof(why), "unknown system event %u", run->system_event.type);
		break;
	case KVM_EXIT_INTERNAL_ERROR:
		snprintf(why, sizeof(why), "KVM internal error, suberror %u%s",
			 run->internal.suberror,
			 run->internal.suberror == KVM_INTERNAL_ERROR_EMULATION ?
			 " (instruction emulation failed)" : "");
		break;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "VM entry failed, hardware reason 0x%llx",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
		break;
	default:
		snprintf(why, sizeof(why), "unhandled VM exit, reason %u", run->exit_reason);
		break;
	}
	vcpu_crash_report(vcpu, why);
	vm_request_exit(vm, VM_EXIT_INTERNAL, VMM_EXIT_INTERNAL);
	return false;
}

/*
 * vm_pause(): park until resumed (or the VM stops).  KVM_KVMCLOCK_CTRL
 * tells the guest that the host stopped this vCPU, so its soft-lockup
 * watchdog does not bark at the gap after resume; a guest without kvmclock
 * makes it fail with EINVAL, which is fine.
 */
static void vcpu_park(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	/*
	 * An exit handled just before the pause (an IN, an MMIO read) completes
	 * only on the next KVM_RUN: with immediate_exit set KVM finishes it and
	 * returns EINTR at once, so a snapshot of a parked vCPU is never half
	 * an instruction (api.rst, KVM_RUN / immediate_exit).
	 */
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_RELEASE);
	if (ioctl(vcpu->fd, KVM_RUN, 0) == 0)
		log_debug("vCPU %u: KVM_RUN with immediate_exit returned an exit", vcpu->id);
	__atomic_store_n(&vcpu->run->immediate_exit, 0, __ATOMIC_RELEASE);
	if (ioctl(vcpu->fd, KVM_KVMCLOCK_CTRL, 0) < 0 && errno != EINVAL)
		log_debug("vCPU %u: KVM_KVMCLOCK_CTRL: %s", vcpu->id, strerror(errno));
	pthread_mutex_lock(&vm->pause_lock);
	vm->nr_parked++;
	pthread_cond_broadcast(&vm->pause_cond);
	while (vm->pause_requested && !__atomic_load_n(&vm->exit_requested, __ATOMIC_ACQUIRE))
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->nr_parked--;
	pthread_mutex_unlock(&vm->pause_lock);
}

static void vcpu_thread_end(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;

	pthread_mutex_lock(&vm->pause_lock);
	vm->nr_alive--;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *vcpu = arg;
	struct vm *vm = vcpu->vm;
	char name[16];
	sigset_t set;

	snprintf(name, sizeof(name), "vcpu%u", vcpu->id);
	pthread_setname_np(pthread_self(), name);
	/* only the kick signal reaches this thread; it interrupts KVM_RUN */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);

	exit_stats_init(vcpu);
	vcpu_kvm_stats_open(vcpu);
	/* every host resource is held: from here on only the vCPU's syscalls */
	if (sandbox_apply_kvm(SANDBOX_VCPU, vm->vm_fd, vcpu->fd)) {
		vm_request_exit(vm, VM_EXIT_HOST, VMM_EXIT_HOST);
		return NULL;
	}
	log_debug("vCPU %u: entering the guest", vcpu->id);
	for (;;) {
		if (__atomic_load_n(&vm->exit_requested, __ATOMIC_ACQUIRE))
			break;
		if (__atomic_load_n(&vm->pause_requested, __ATOMIC_ACQUIRE)) {
			vcpu_park(vcpu);
			continue;
		}
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				vcpu_count_exit(vcpu, VCPU_EXIT_KICK);
				vcpu->run->immediate_exit = 0;
				vcpu_answer_probe(vcpu);
				continue;
			}
			log_err("vCPU %u: KVM_RUN failed: %s", vcpu->id, strerror(errno));
			vm_request_exit(vm, VM_EXIT_INTERNAL, VMM_EXIT_INTERNAL);
			break;
		}
		if (!vcpu_handle_exit(vcpu))
			break;
	}
	exit_stats_report(vcpu);
	vcpu_thread_end(vcpu);
	return NULL;
}

int vcpu_start(struct vcpu *vcpu)
{
	struct vm *vm = vcpu->vm;
	int ret;

	pthread_mutex_lock(&vm->pause_lock);
	vm->nr_alive++;
	pthread_mutex_unlock(&vm->pause_lock);
	ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (ret) {
		vcpu_thread_end(vcpu);
		log_err("cannot start vCPU %u thread: %s", vcpu->id, strerror(ret));
		return -ret;
	}
	vcpu->thread_started = true;
	return 0;
}

void vcpu_kick(struct vcpu *vcpu)
{
	if (!vcpu->thread_started)
		return;
	__atomic_store_n(&vcpu->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(vcpu->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *vcpu)
{
	if (!vcpu->thread_started)
		return;
	pthread_join(vcpu->thread, NULL);
	vcpu->thread_started = false;
}
