/* SPDX-License-Identifier: MIT */
/*
 * Can this host run a saved guest?  The guest's CPUID (the vcpu-cpuid
 * section) is restored as it was, and KVM_SET_CPUID2 accepts feature bits
 * the host lacks: the guest would then meet #UD or corrupt state on its
 * next AVX-512 instruction.  So before anything runs, every feature bit
 * the guest saw must be one this host's KVM gives a vCPU, apart from the
 * bits vmm sets itself.
 */
#ifndef VMM_STATE_CPU_COMPAT_H
#define VMM_STATE_CPU_COMPAT_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * 0, or -EOPNOTSUPP with msg naming the first leaf/register and the
 * missing bits.  tsc_deadline: the host has KVM_CAP_TSC_DEADLINE_TIMER
 * (that bit is not in KVM_GET_SUPPORTED_CPUID).
 *
 * host: what a fresh vCPU here really gets, i.e. KVM_GET_CPUID2 on a new
 * vCPU after vmm's normal KVM_SET_CPUID2 (vcpu_init_x86), not
 * KVM_GET_SUPPORTED_CPUID alone: PVM (this project's test machine)
 * reports a narrow supported set and widens it on KVM_SET_CPUID2, so a
 * guest's own CPUID is not a subset of the supported one there.
 */
int cpu_compat_check(const struct kvm_cpuid2 *saved, const struct kvm_cpuid2 *host,
		     bool tsc_deadline, char *msg, size_t len);

#endif
