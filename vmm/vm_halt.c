// SPDX-License-Identifier: MIT
/*
 * Stopped-guest detection.  With the in-kernel LAPIC, a vCPU that executes
 * HLT with interrupts disabled blocks inside KVM_RUN and never exits to
 * vmm: Linux's "reboot: System halted", a kernel or boot loader that gives
 * up early, a tiny guest's final cli; hlt.  Only an NMI, SMI, INIT or SIPI
 * can wake such a vCPU, and none of vmm's devices sends one; a vCPU still
 * waiting for its SIPI needs another vCPU to send it.  When every vCPU is in
 * one of those states the guest can never run again, and a VMM that keeps
 * waiting hangs its caller (Firecracker issue #1601).
 *
 * Every VM_HALT_PROBE_MS the main loop kicks each vCPU out of KVM_RUN; the
 * vCPU's thread (the one that may issue its ioctls) reads its MP state,
 * RFLAGS and pending events and answers; VM_HALT_PROBES answers in a row of
 * "all stopped" end the VM with VMM_EXIT_HALTED.  A kick costs each vCPU
 * one exit per probe.
 */
#include <sys/ioctl.h>

#include "cpu/vcpu.h"
#include "exitcode.h"
#include "log.h"
#include "vm.h"

#define RFLAGS_IF	(1u << 9)

void vcpu_answer_probe(struct vcpu *vcpu)
{
	unsigned int gen = __atomic_load_n(&vcpu->vm->halt_probe, __ATOMIC_ACQUIRE);
	struct kvm_mp_state mp;
	struct kvm_regs regs;
	struct kvm_vcpu_events ev;
	bool stopped = false;

	if (gen == vcpu->probe_done)
		return;
	if (!ioctl(vcpu->fd, KVM_GET_MP_STATE, &mp)) {
		if (mp.mp_state == KVM_MP_STATE_UNINITIALIZED ||
		    mp.mp_state == KVM_MP_STATE_INIT_RECEIVED)
			stopped = true;		/* an AP nobody started */
		else if (mp.mp_state == KVM_MP_STATE_HALTED &&
			 !ioctl(vcpu->fd, KVM_GET_REGS, &regs) && !(regs.rflags & RFLAGS_IF) &&
			 !ioctl(vcpu->fd, KVM_GET_VCPU_EVENTS, &ev) &&
			 !ev.nmi.pending && !ev.nmi.injected && !ev.smi.pending)
			stopped = true;
	}
	vcpu->stopped = stopped;
	__atomic_store_n(&vcpu->probe_done, gen, __ATOMIC_RELEASE);
}

void vm_halt_tick(struct vm *vm)
{
	unsigned int gen = vm->halt_probe, i, stopped = 0;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		if (__atomic_load_n(&v->probe_done, __ATOMIC_ACQUIRE) == gen && v->stopped)
			stopped++;
	}
	vm->halt_streak = gen && stopped == vm->nr_vcpus ? vm->halt_streak + 1 : 0;
	if (vm->halt_streak >= VM_HALT_PROBES) {
		log_debug("every vCPU halted with interrupts off (or never started) for %d ms",
			  VM_HALT_PROBES * VM_HALT_PROBE_MS);
		vm_request_exit(vm, VM_EXIT_HALTED, VMM_EXIT_HALTED);
		return;
	}
	__atomic_store_n(&vm->halt_probe, gen + 1, __ATOMIC_RELEASE);
	for (i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(&vm->vcpus[i]);
}
