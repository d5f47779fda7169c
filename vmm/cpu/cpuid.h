/* SPDX-License-Identifier: MIT */
#ifndef VMM_CPUID_H
#define VMM_CPUID_H

#include <linux/kvm.h>
#include <stdbool.h>

/* features for x86_cpuid_patch */
#define X86_CPUID_TSC_DEADLINE	(1u << 0)	/* KVM_CAP_TSC_DEADLINE_TIMER */
#define X86_CPUID_INVTSC	(1u << 1)	/* KVM keeps a stable master clock */

/* CPUID 0x40000001 EAX: the kvmclock bits (KVM_GET_SUPPORTED_CPUID's, kept) */
#define KVM_CPUID_FEATURES		0x40000001
#define KVM_FEATURE_CLOCKSOURCE_BIT	(1u << 0)	/* MSR 0x11/0x12 */
#define KVM_FEATURE_CLOCKSOURCE2_BIT	(1u << 3)	/* MSR 0x4b564d00/01 */
#define KVM_FEATURE_CLOCKSOURCE_STABLE	(1u << 24)	/* PVCLOCK_TSC_STABLE_BIT is meaningful */
#define CPUID_INVTSC_EDX		(1u << 8)	/* 0x80000007 EDX: invariant TSC */

/*
 * Rewrites the host-derived entries of cpuid (KVM_GET_SUPPORTED_CPUID's)
 * for vCPU apic_id of ncpus: APIC ID, logical count and HTT, cache and
 * extended topology (one thread per core), AMD core counts, the hypervisor
 * bit, the TSC-deadline bit when features has X86_CPUID_TSC_DEADLINE, and
 * the invariant-TSC bit only when it has X86_CPUID_INVTSC (see x86.c,
 * x86_clock_init).  The kvmclock bits of leaf 0x40000001 are kept as KVM
 * offers them: CLOCKSOURCE, CLOCKSOURCE2 and CLOCKSOURCE_STABLE_BIT (KVM
 * sets PVCLOCK_TSC_STABLE_BIT in a vCPU's pvclock only while its master
 * clock runs, so offering the bit is always true to the guest).
 */
void x86_cpuid_patch(struct kvm_cpuid2 *cpuid, unsigned int apic_id, unsigned int ncpus,
		     unsigned int features);

#endif
