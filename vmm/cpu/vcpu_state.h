/* SPDX-License-Identifier: MIT */
/*
 * One vCPU's whole KVM state, read and written with ioctls in the order
 * KVM needs (vcpu_state.c).  The bytes are state/vcpu_saved.[ch]'s.
 *
 * UNTESTED ON KVM so far: written against Documentation/virt/kvm/api.rst
 * and the order Firecracker and QEMU use; nothing calls it yet (the
 * snapshot/restore integration is the next step, docs/snapshot.md).
 */
#ifndef VMM_CPU_VCPU_STATE_H
#define VMM_CPU_VCPU_STATE_H

#include "state/vcpu_saved.h"

struct vcpu;

/*
 * The MSRs to save: KVM_GET_MSR_INDEX_LIST (on /dev/kvm) filtered to
 * those KVM_GET_MSRS on this vCPU accepts.  *out is malloc()ed with
 * nmsrs set and indices filled; 0 or -errno (logged).
 */
int vcpu_state_msr_list(struct vcpu *vcpu, struct kvm_msrs **out);

/*
 * Reads everything into s (s->index = vcpu->id).  The vCPU must be out
 * of KVM_RUN and stay out (vm_pause()).  Order: MP_STATE first (reading
 * it makes KVM accept pending INIT/SIPI, which changes LAPIC state),
 * REGS, SREGS, XSAVE (KVM_GET_XSAVE2 sized by KVM_CAP_XSAVE2, else
 * KVM_GET_XSAVE), XCRS, DEBUGREGS, LAPIC, MSRs, VCPU_EVENTS, CPUID.
 */
int vcpu_state_get(struct vcpu *vcpu, struct vcpu_saved *s);

/*
 * Writes s into a freshly created vCPU that has not run: CPUID first,
 * TSC frequency, MP_STATE, REGS, SREGS (APIC base before the LAPIC),
 * XSAVE, XCRS, DEBUGREGS, LAPIC, MSRs (TSC first, TSC_DEADLINE last, a
 * zero deadline fixed up: vcpu_saved_fix_msrs, applied to s), then
 * VCPU_EVENTS.  Every part must be present (vcpu_saved_complete).
 */
int vcpu_state_set(struct vcpu *vcpu, struct vcpu_saved *s);

#endif
