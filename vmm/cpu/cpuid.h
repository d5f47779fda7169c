/* SPDX-License-Identifier: MIT */
#ifndef VMM_CPUID_H
#define VMM_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>

/*
 * Rewrites the host-derived entries of cpuid (KVM_GET_SUPPORTED_CPUID's)
 * for vCPU apic_id of ncpus: APIC ID, logical count and HTT, cache and
 * extended topology (one thread per core), AMD core counts, the hypervisor
 * bit, and the TSC-deadline bit when tsc_deadline (KVM_CAP_TSC_DEADLINE_TIMER).
 */
void x86_cpuid_patch(struct kvm_cpuid2 *cpuid, unsigned int apic_id, unsigned int ncpus,
		     bool tsc_deadline);

#endif
